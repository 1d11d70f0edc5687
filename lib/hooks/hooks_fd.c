/* Descriptor-level output: write, writev, the positioned writes, and the
 * socket sends.  Python, perl, cat to a pipe and C++ after
 * sync_with_stdio(false) print through these (field notes section 1). */
#include "rd_hooks.h"

#include <string.h>

static ssize_t via_write(int fd, const void *b, size_t n, void *arg)
{
	(void)arg;
	return RD_REAL(write)(fd, b, n);
}

RD_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (!rd_ready())
		return RD_REAL(write)(fd, buf, n);
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (__builtin_expect(fi.cls == RD_FD_PLAIN, 1))
		return RD_REAL(write)(fd, buf, n);
	return rd_sink_write(fd, fi, buf, n, via_write, NULL);
}

/* Gathers an iovec into one buffer; the redacted result goes out with a
 * single write(2), which is what writev guarantees too. */
static uint8_t *gather(const struct iovec *iov, int cnt, size_t *total, uint8_t *stack, size_t stack_size)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	*total = n;
	uint8_t *buf = n <= stack_size ? stack : rd_mem_alloc(n);
	if (!buf)
		return NULL;
	size_t o = 0;
	for (int i = 0; i < cnt; i++) {
		memcpy(buf + o, iov[i].iov_base, iov[i].iov_len);
		o += iov[i].iov_len;
	}
	return buf;
}

RD_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (!rd_ready() || cnt <= 0)
		return RD_REAL(writev)(fd, iov, cnt);
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (fi.cls == RD_FD_PLAIN)
		return RD_REAL(writev)(fd, iov, cnt);
	uint8_t stack[4096];
	size_t total;
	uint8_t *buf = gather(iov, cnt, &total, stack, sizeof(stack));
	if (!buf)
		return RD_REAL(writev)(fd, iov, cnt);
	ssize_t r = rd_sink_write(fd, fi, buf, total, via_write, NULL);
	if (buf != stack)
		rd_mem_free(buf);
	return r;
}

/* ---- positioned writes: each is redacted alone (offsets are not a
 * stream) and keeps its length, so the file layout is unchanged ---- */

struct pos {
	off64_t off;
	int flags;
	int v2;
};

static ssize_t via_pwrite(int fd, const void *b, size_t n, void *arg)
{
	struct pos *p = arg;
	ssize_t r;
	if (p->v2) {
		struct iovec v = {(void *)b, n};
		r = RD_REAL(pwritev64v2)(fd, &v, 1, p->off, p->flags);
	} else {
		r = RD_REAL(pwrite64)(fd, b, n, p->off);
	}
	if (r > 0 && p->off >= 0)
		p->off += r;
	return r;
}

static ssize_t positioned(int fd, const struct iovec *iov, int cnt, off64_t off, int flags, int v2)
{
	uint8_t stack[4096];
	size_t total;
	uint8_t *buf = gather(iov, cnt, &total, stack, sizeof(stack));
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	struct pos p = {off, flags, v2};
	ssize_t r = rd_oneshot_write(fd, buf, total, via_pwrite, &p, rd_channel_name(rd_fd_info(fd)), 1);
	if (buf != stack)
		rd_mem_free(buf);
	return r;
}

static int positioned_sink(int fd)
{
	return rd_ready() && rd_fd_info(fd).cls != RD_FD_PLAIN;
}

RD_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!positioned_sink(fd))
		return RD_REAL(pwrite)(fd, buf, n, off);
	struct iovec v = {(void *)buf, n};
	return positioned(fd, &v, 1, off, 0, 0);
}

RD_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	if (!positioned_sink(fd))
		return RD_REAL(pwrite64)(fd, buf, n, off);
	struct iovec v = {(void *)buf, n};
	return positioned(fd, &v, 1, off, 0, 0);
}

RD_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!positioned_sink(fd) || cnt <= 0)
		return RD_REAL(pwritev)(fd, iov, cnt, off);
	return positioned(fd, iov, cnt, off, 0, 0);
}

RD_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	if (!positioned_sink(fd) || cnt <= 0)
		return RD_REAL(pwritev64)(fd, iov, cnt, off);
	return positioned(fd, iov, cnt, off, 0, 0);
}

RD_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (!positioned_sink(fd) || cnt <= 0)
		return RD_REAL(pwritev2)(fd, iov, cnt, off, flags);
	if (off == -1 && !flags) /* the current position: a plain writev */
		return writev(fd, iov, cnt);
	return positioned(fd, iov, cnt, off, flags, 1);
}

RD_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
	if (!positioned_sink(fd) || cnt <= 0)
		return RD_REAL(pwritev64v2)(fd, iov, cnt, off, flags);
	if (off == -1 && !flags)
		return writev(fd, iov, cnt);
	return positioned(fd, iov, cnt, off, flags, 1);
}

/* ---- sockets: REDACT_SOCKETS selects which (session.c) ----
 * Stream sockets are redacted as streams; datagrams one message at a time,
 * so message boundaries stay. */

struct sendargs {
	int flags;
	const struct sockaddr *to;
	socklen_t tolen;
	const struct msghdr *msg; /* sendmsg: name and control data kept */
};

static ssize_t via_send(int fd, const void *b, size_t n, void *arg)
{
	struct sendargs *a = arg;
	if (a->msg) {
		struct msghdr m = *a->msg;
		struct iovec v = {(void *)b, n};
		m.msg_iov = &v;
		m.msg_iovlen = 1;
		ssize_t r = RD_REAL(sendmsg)(fd, &m, a->flags);
		/* Ancillary data (SCM_RIGHTS) goes with the first part only. */
		if (r > 0) {
			a->msg = NULL;
			a->to = m.msg_name;
			a->tolen = m.msg_namelen;
		}
		return r;
	}
	if (a->to)
		return RD_REAL(sendto)(fd, b, n, a->flags, a->to, a->tolen);
	return RD_REAL(send)(fd, b, n, a->flags);
}

/* The class of a socket for this send: a destination address given with
 * the call decides for unconnected datagram sockets. */
static struct rd_fdinfo send_class(int fd, const struct sockaddr *to, socklen_t tolen)
{
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (fi.cls == RD_FD_PLAIN && to && rd_socket_addr_selected(to, tolen)) {
		fi.cls = RD_FD_DGRAM;
		fi.chan = RD_CHAN_SOCKET;
	}
	return fi;
}

RD_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (!rd_ready())
		return RD_REAL(send)(fd, buf, n, flags);
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (fi.cls == RD_FD_PLAIN)
		return RD_REAL(send)(fd, buf, n, flags);
	struct sendargs a = {flags, NULL, 0, NULL};
	return rd_sink_write(fd, fi, buf, n, via_send, &a);
}

RD_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen)
{
	if (!rd_ready())
		return RD_REAL(sendto)(fd, buf, n, flags, to, tolen);
	struct rd_fdinfo fi = send_class(fd, to, tolen);
	if (fi.cls == RD_FD_PLAIN)
		return RD_REAL(sendto)(fd, buf, n, flags, to, tolen);
	struct sendargs a = {flags, to, tolen, NULL};
	return rd_sink_write(fd, fi, buf, n, via_send, &a);
}

RD_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!rd_ready() || !msg)
		return RD_REAL(sendmsg)(fd, msg, flags);
	struct rd_fdinfo fi = send_class(fd, msg->msg_name, msg->msg_namelen);
	if (fi.cls == RD_FD_PLAIN || msg->msg_iovlen > INT32_MAX)
		return RD_REAL(sendmsg)(fd, msg, flags);
	uint8_t stack[4096];
	size_t total;
	uint8_t *buf = gather(msg->msg_iov, (int)msg->msg_iovlen, &total, stack, sizeof(stack));
	if (!buf)
		return RD_REAL(sendmsg)(fd, msg, flags);
	struct sendargs a = {flags, NULL, 0, msg};
	ssize_t r = rd_sink_write(fd, fi, buf, total, via_send, &a);
	if (buf != stack)
		rd_mem_free(buf);
	return r;
}

RD_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	if (!rd_ready() || !vec)
		return RD_REAL(sendmmsg)(fd, vec, vlen, flags);
	struct rd_fdinfo fi = send_class(fd, vec[0].msg_hdr.msg_name, vec[0].msg_hdr.msg_namelen);
	if (fi.cls == RD_FD_PLAIN)
		return RD_REAL(sendmmsg)(fd, vec, vlen, flags);
	/* One message at a time through sendmsg's path. */
	unsigned int i;
	for (i = 0; i < vlen; i++) {
		ssize_t r = sendmsg(fd, &vec[i].msg_hdr, flags);
		if (r < 0)
			return i ? (int)i : -1;
		vec[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}
