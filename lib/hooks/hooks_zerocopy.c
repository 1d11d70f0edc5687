/* Zero-copy calls move data without it ever passing through user memory, so
 * nothing could be redacted.  When the destination is a sink they are
 * emulated with read, redact, write: sendfile, splice, tee, vmsplice and
 * copy_file_range.  (copy_file_range used to fail with EXDEV so that
 * callers fall back to read/write, as coreutils' cat does -- field notes
 * section 1 -- but a program without a fallback then printed nothing.)
 *
 * Like the kernel, an emulated call returns once it has moved something
 * and the input has nothing ready: from a pipe or a socket it reads once
 * (a second read would wait for the writer, where the real call returns
 * what was there). */

#include "rd_hooks.h"

#include <string.h>

#define CHUNK (64 * 1024)

static ssize_t via_write(int fd, const void *b, size_t n, void *arg)
{
	(void)arg;
	return RD_REAL(write)(fd, b, n);
}

static int sink_out(int fd, struct rd_fdinfo *fi)
{
	if (!rd_ready())
		return 0;
	*fi = rd_fd_info(fd);
	return fi->cls != RD_FD_PLAIN;
}

/* pwrite at *arg, advancing it: a destination offset (splice,
 * copy_file_range) is a positioned write, redacted alone with its length
 * kept, as pwrite's hook does. */
static ssize_t via_pwrite_at(int fd, const void *b, size_t n, void *arg)
{
	off64_t *at = arg;
	ssize_t r = RD_REAL(pwrite64)(fd, b, n, *at);
	if (r > 0)
		*at += r;
	return r;
}

/* Copies up to n bytes from in (at *off when off is given, else from its
 * position) to the sink behind out (at *outoff when given, else at its
 * position).  What was read but not written is given back to a seekable
 * input. */
static ssize_t copy_through(int out, struct rd_fdinfo fi, int in, off64_t *off, size_t n, off64_t *outoff)
{
	struct stat ist;
	int once = fstat(in, &ist) != 0 || !(S_ISREG(ist.st_mode) || S_ISBLK(ist.st_mode));
	uint8_t *buf = rd_mem_alloc(CHUNK);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	size_t done = 0;
	ssize_t result = 0;
	while (done < n) {
		size_t want = n - done < CHUNK ? n - done : CHUNK;
		ssize_t r = off ? pread64(in, buf, want, *off) : RD_REAL(read)(in, buf, want);
		if (r < 0) {
			result = done ? (ssize_t)done : -1;
			goto out;
		}
		if (r == 0)
			break;
		ssize_t w = outoff ? rd_oneshot_write(out, buf, (size_t)r, via_pwrite_at, outoff, rd_channel_name(fi), 1)
				   : rd_sink_write(out, fi, buf, (size_t)r, via_write, NULL);
		if (w < 0) {
			if (!off && lseek(in, -r, SEEK_CUR) < 0) {
				/* a pipe: the bytes are gone either way */
			}
			result = done ? (ssize_t)done : -1;
			goto out;
		}
		if (off)
			*off += w;
		else if (w < r)
			lseek(in, w - r, SEEK_CUR);
		done += (size_t)w;
		if (w < r || once)
			break;
	}
	result = (ssize_t)done;
out:
	rd_mem_free(buf);
	return result;
}

RD_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	struct rd_fdinfo fi;
	if (!sink_out(out, &fi))
		return RD_REAL(sendfile)(out, in, off, n);
	off64_t o = off ? *off : 0;
	ssize_t r = copy_through(out, fi, in, off ? &o : NULL, n, NULL);
	if (off)
		*off = o;
	return r;
}

RD_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	struct rd_fdinfo fi;
	if (!sink_out(out, &fi))
		return RD_REAL(sendfile64)(out, in, off, n);
	return copy_through(out, fi, in, off, n, NULL);
}

/* With an output offset (a regular file that is a sink) the data went out
 * unredacted before: positioned writes are redacted too. */
RD_EXPORT ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t n, unsigned int flags)
{
	struct rd_fdinfo fi;
	if (!sink_out(out, &fi))
		return RD_REAL(splice)(in, inoff, out, outoff, n, flags);
	return copy_through(out, fi, in, inoff, n, outoff);
}

/* tee duplicates pipe data without consuming it: tee into a private pipe,
 * read that, redact, write. */
RD_EXPORT ssize_t tee(int in, int out, size_t n, unsigned int flags)
{
	struct rd_fdinfo fi;
	if (!sink_out(out, &fi))
		return RD_REAL(tee)(in, out, n, flags);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	ssize_t t = RD_REAL(tee)(in, p[1], n, flags);
	ssize_t r = t;
	if (t > 0) {
		RD_REAL(close)(p[1]);
		p[1] = -1;
		r = copy_through(out, fi, p[0], NULL, (size_t)t, NULL);
	}
	RD_REAL(close)(p[0]);
	if (p[1] >= 0)
		RD_REAL(close)(p[1]);
	return r;
}

RD_EXPORT ssize_t vmsplice(int fd, const struct iovec *iov, size_t cnt, unsigned int flags)
{
	struct rd_fdinfo fi;
	if (!sink_out(fd, &fi) || cnt > INT32_MAX)
		return RD_REAL(vmsplice)(fd, iov, cnt, flags);
	return writev(fd, iov, (int)cnt);
}

/* Emulated for what the kernel would copy (regular files, no flags);
 * anything else gets the real call and its error. */
RD_EXPORT ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t n, unsigned int flags)
{
	struct rd_fdinfo fi;
	struct stat st;
	if (!sink_out(out, &fi) || flags || fstat(in, &st) != 0 || !S_ISREG(st.st_mode))
		return RD_REAL(copy_file_range)(in, inoff, out, outoff, n, flags);
	return copy_through(out, fi, in, inoff, n, outoff);
}
