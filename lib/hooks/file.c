/* FILE streams that write to a sink.
 *
 * glibc's stdio flushes through an internal __write that an interposed
 * write() never sees (field notes section 1), so stdio output is redacted
 * before it enters the FILE buffer: every stdio output hook hands its bytes
 * to rd_file_put, which runs them through the FILE's own stream and puts the
 * redacted result into the buffer with the real fwrite_unlocked.  From then
 * on glibc buffers and flushes as usual -- line buffering, full buffering,
 * the final flush at exit -- and only redacted bytes are ever in the buffer.
 *
 * putc_unlocked and putchar_unlocked are inline macros that store straight
 * into the buffer (_IO_write_ptr, a public field of glibc's struct _IO_FILE)
 * and call __overflow only when it is full.  Those bytes are found at the
 * next hook on the FILE (__overflow, fflush, any output call, exit): they
 * are what lies after the point where our last put ended, and they are
 * taken out of the buffer and put again, redacted, in order.
 *
 * Held-back bytes (a possible secret at the end of a call) stay in the
 * FILE's stream; they are released into the buffer by the next call, the
 * flusher thread, before stdin is read, and at fclose/freopen/exit/fork/
 * exec. */
#include "rd_hooks.h"

#include <limits.h>
#include <string.h>
#include <time.h>

/* glibc libio flags (libio.h, not installed). */
#define RD_IO_UNBUFFERED 0x0002
#define RD_IO_LINE_BUF 0x0200
#define RD_IO_CURRENTLY_PUTTING 0x0800

#define RD_MAX_FILES 32
#define SIGLEN 16

struct rd_file {
	int fd;
	int sink;                /* -1: a datagram-like target, redact each put alone */
	struct rd_fdinfo fi;
	struct rd_stream st;
	char *our_base, *our_end; /* where our last put left the buffer */
	uint8_t sig[SIGLEN];
	size_t siglen;
	_Atomic uint64_t pending_since;
	mbstate_t back;          /* multibyte -> wide for wide-oriented FILEs */
	uint8_t left[MB_LEN_MAX];
	size_t nleft;
};

RD_LARGE_BSS static struct rd_file files[RD_MAX_FILES];
/* The FILE of each entry (NULL: free), apart from the entries: a lookup,
 * made on every stdio call, reads 512 bytes instead of a field in each of
 * 64 entries of ~700 bytes (11 pages, faulted in by the first call of every
 * process). */
static _Atomic(FILE *) file_fp[RD_MAX_FILES];
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct rd_file *lookup(FILE *f)
{
	for (int i = 0; i < RD_MAX_FILES; i++)
		if (atomic_load_explicit(&file_fp[i], memory_order_acquire) == f)
			return &files[i];
	return NULL;
}

static struct rd_file *add(FILE *f, int fd, struct rd_fdinfo fi)
{
	struct rd_file *e = NULL;
	pthread_mutex_lock(&files_lock);
	e = lookup(f);
	for (int i = 0; !e && i < RD_MAX_FILES; i++) {
		if (!atomic_load(&file_fp[i])) {
			e = &files[i];
			rd_stream_init(&e->st);
			e->fd = fd;
			e->fi = fi;
			e->sink = fi.cls == RD_FD_SINK ? fi.sink : -1;
			e->our_base = e->our_end = NULL;
			e->siglen = 0;
			e->nleft = 0;
			memset(&e->back, 0, sizeof(e->back));
			atomic_store(&e->pending_since, 0);
			atomic_store_explicit(&file_fp[e - files], f, memory_order_release);
		}
	}
	pthread_mutex_unlock(&files_lock);
	return e;
}

/* fork: the table's lock is held across it (sink.c explains the order). */
void rd_file_fork_prepare(void)
{
	pthread_mutex_lock(&files_lock);
}

void rd_file_fork_parent(void)
{
	pthread_mutex_unlock(&files_lock);
}

void rd_file_fork_child(void)
{
	pthread_mutex_init(&files_lock, NULL);
}

static void drop(struct rd_file *e)
{
	pthread_mutex_lock(&files_lock);
	if (atomic_load(&e->pending_since)) {
		atomic_store(&e->pending_since, 0);
		atomic_fetch_sub(&rd_held, 1);
	}
	rd_stream_destroy(&e->st);
	atomic_store_explicit(&file_fp[e - files], NULL, memory_order_release);
	pthread_mutex_unlock(&files_lock);
}

static void release_locked(struct rd_file *e, FILE *f);

/* The entry still describes where f writes: the same descriptor, and that
 * descriptor still the same sink.  The class of a descriptor is cached and
 * forgotten when it is closed or replaced (dup2, dup3, close, fclose...);
 * an entry must follow, or output redirected away from a sink would still
 * be redacted: bash runs `echo "$x" > app.cfg` as dup2(file, 1) and the
 * stdout FILE it registered while fd 1 was the terminal, and the file
 * received masked bytes. */
static int still_valid(const struct rd_file *e, int fd, struct rd_fdinfo fi)
{
	if (fd != e->fd || fi.cls != e->fi.cls)
		return 0;
	return fi.cls != RD_FD_SINK || fi.sink == e->sink;
}

int rd_file_is_sink(FILE *f)
{
	if (!f)
		return 0;
	int fd = fileno(f);
	struct rd_file *e = lookup(f);
	if (e) {
		struct rd_fdinfo fi = fd >= 0 ? rd_fd_info(fd) : (struct rd_fdinfo){RD_FD_PLAIN, 0, 0, 0};
		if (still_valid(e, fd, fi))
			return 1;
		/* Redirected: what the stream still holds was put before, into this
		 * FILE, so it goes into the buffer (glibc writes that to wherever the
		 * descriptor points at the next flush), and the entry is dropped.
		 * The FILE lock is recursive; the caller is about to take it anyway. */
		flockfile(f);
		if (lookup(f) == e) {
			rd_depth++;
			release_locked(e, f);
			drop(e);
			rd_depth--;
		}
		funlockfile(f);
	}
	if (fd < 0)
		return 0; /* memory and cookie streams */
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (fi.cls != RD_FD_SINK && fi.cls != RD_FD_DGRAM)
		return 0;
	return add(f, fd, fi) != NULL;
}

static void mark_ours(struct rd_file *e, FILE *f)
{
	e->our_base = f->_IO_write_base;
	e->our_end = f->_IO_write_ptr;
	e->siglen = 0;
	if (e->our_base && e->our_end > e->our_base) {
		size_t n = (size_t)(e->our_end - e->our_base);
		e->siglen = n < SIGLEN ? n : SIGLEN;
		memcpy(e->sig, e->our_end - e->siglen, e->siglen);
	}
}

static void note_pending(struct rd_file *e)
{
	uint64_t since = atomic_load(&e->pending_since);
	if (e->st.pend_len || e->st.forced) {
		if (!since) {
			uint64_t t = now_ns();
			atomic_store(&e->pending_since, t);
			atomic_fetch_add(&rd_held, 1);
			rd_flusher_kick(t);
		}
	} else if (since) {
		atomic_store(&e->pending_since, 0);
		atomic_fetch_sub(&rd_held, 1);
	}
}

/* Back from multibyte to wide characters for a wide-oriented FILE; bytes of
 * an incomplete character wait for the next call. */
static size_t put_wide_bytes(struct rd_file *e, FILE *f, const uint8_t *p, size_t n)
{
	uint8_t stack[4096];
	size_t total = e->nleft + n;
	uint8_t *buf = total <= sizeof(stack) ? stack : rd_mem_alloc(total);
	if (!buf)
		return 0;
	memcpy(buf, e->left, e->nleft);
	memcpy(buf + e->nleft, p, n);
	size_t i = 0, ok = n;
	while (i < total) {
		wchar_t wc;
		size_t r = mbrtowc(&wc, (const char *)buf + i, total - i, &e->back);
		if (r == (size_t)-2) /* incomplete: keep for the next call */
			break;
		if (r == (size_t)-1) { /* not a character in this locale: pass the byte */
			memset(&e->back, 0, sizeof(e->back));
			wc = (wchar_t)buf[i];
			r = 1;
		}
		if (r == 0)
			r = 1;
		if (RD_REAL(fputwc_unlocked)(wc, f) == WEOF) {
			ok = i > e->nleft ? i - e->nleft : 0;
			i = total;
			break;
		}
		i += r;
	}
	e->nleft = total - i <= sizeof(e->left) ? total - i : 0;
	memcpy(e->left, buf + i, e->nleft);
	if (buf != stack)
		rd_mem_free(buf);
	return ok;
}

/* Puts redacted bytes into the FILE buffer. */
static size_t put_real(struct rd_file *e, FILE *f, const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	/* If glibc is about to write the buffer to the descriptor, bytes that a
	 * direct write() left held on the same sink go first, so the order on
	 * the descriptor is the program's. */
	if (e->sink >= 0 && atomic_load(&rd_sinks[e->sink].pending_since) &&
	    ((f->_flags & (RD_IO_UNBUFFERED | RD_IO_LINE_BUF)) || !f->_IO_buf_base ||
	     (size_t)(f->_IO_buf_end - f->_IO_write_ptr) < n))
		rd_sink_release(e->sink, e->fd, 1);
	if (f->_mode > 0)
		return put_wide_bytes(e, f, p, n);
	return RD_REAL(fwrite_unlocked)(p, 1, n, f);
}

/* Runs bytes through the FILE's stream and into the buffer.  Returns the
 * number of input bytes accepted. */
static size_t put_locked(struct rd_file *e, FILE *f, const uint8_t *data, size_t n, int final)
{
	const char *channel = rd_channel_name(e->fi);
	if (e->sink < 0) {
		/* datagram-like target: each put is one message */
		struct rd_stream st;
		rd_stream_init(&st);
		struct rd_scratch *sc = rd_scratch_acquire();
		struct rd_out out;
		size_t r = 0;
		if (sc && !rd_stream_process(rd_ctx, &st, sc, data, n, 1, channel, &out)) {
			size_t w = put_real(e, f, out.data, out.len);
			rd_stream_commit(&st, sc, w, NULL, NULL);
			r = w == out.len ? n : 0;
		}
		rd_scratch_release(sc);
		rd_stream_destroy(&st);
		mark_ours(e, f);
		return r;
	}
	size_t done = 0;
	do {
		size_t part = n - done < (64u << 20) ? n - done : (64u << 20);
		struct rd_scratch *sc = rd_scratch_acquire();
		struct rd_out out;
		if (!sc || rd_stream_process(rd_ctx, &e->st, sc, data + done, part, final && done + part == n, channel,
					     &out)) {
			rd_scratch_release(sc);
			break;
		}
		size_t w = put_real(e, f, out.data, out.len);
		size_t consumed = rd_stream_commit(&e->st, sc, w, NULL, NULL);
		rd_scratch_release(sc);
		if (w < out.len) {
			done += consumed;
			break;
		}
		done += part;
	} while (done < n);
	mark_ours(e, f);
	note_pending(e);
	return done;
}

static void absorb_locked(struct rd_file *e, FILE *f)
{
	if (f->_mode > 0 || !(f->_flags & RD_IO_CURRENTLY_PUTTING))
		return;
	char *base = f->_IO_write_base, *ptr = f->_IO_write_ptr;
	if (!base || ptr <= base) {
		mark_ours(e, f);
		return;
	}
	if (base == e->our_base && ptr == e->our_end)
		return; /* nothing new: the common case */
	/* Our last put ended at our_end; if those bytes are still there, what
	 * follows is new.  Otherwise glibc flushed in between (a read of stdin
	 * flushes line-buffered output) and all of the buffer is new. */
	char *from = base;
	if (base == e->our_base && e->our_end && ptr > e->our_end && e->our_end >= base + e->siglen &&
	    !memcmp(e->our_end - e->siglen, e->sig, e->siglen))
		from = e->our_end;
	size_t n = (size_t)(ptr - from);
	uint8_t stack[4096];
	uint8_t *copy = n <= sizeof(stack) ? stack : rd_mem_alloc(n);
	if (!copy)
		return;
	memcpy(copy, from, n);
	f->_IO_write_ptr = from;
	mark_ours(e, f);
	put_locked(e, f, copy, n, 0);
	if (copy != stack)
		rd_mem_free(copy);
}

/* Bytes this FILE held back went to the sink's stream at a flush
 * (rd_file_flushed); if nothing was written on the sink since, they come
 * back, so the FILE's next output continues them. */
static void take_back(struct rd_file *e)
{
	FILE *f = atomic_load(&file_fp[e - files]);
	if (e->sink >= 0 && atomic_load(&rd_sinks[e->sink].owner) == f && rd_sink_return(e->sink, &e->st, f))
		note_pending(e);
}

/* After a put on an unbuffered FILE (stderr) glibc has written everything:
 * that is a flush, and held bytes move to the sink as for fflush. */
static void after_put(struct rd_file *e, FILE *f)
{
	if ((f->_flags & RD_IO_UNBUFFERED) && e->sink >= 0 && (e->st.pend_len || e->st.forced)) {
		rd_sink_adopt(e->sink, e->fd, &e->st, f);
		note_pending(e);
	}
}

size_t rd_file_put(FILE *f, const char *data, size_t n)
{
	struct rd_file *e = lookup(f);
	if (!e)
		return RD_REAL(fwrite_unlocked)(data, 1, n, f);
	rd_depth++;
	take_back(e);
	absorb_locked(e, f);
	size_t r = put_locked(e, f, (const uint8_t *)data, n, 0);
	after_put(e, f);
	rd_depth--;
	return r;
}

size_t rd_file_putw(FILE *f, const wchar_t *data, size_t n)
{
	struct rd_file *e = lookup(f);
	if (!e) {
		size_t i = 0;
		while (i < n && RD_REAL(fputwc_unlocked)(data[i], f) != WEOF)
			i++;
		return i;
	}
	/* To multibyte in the locale, redact, back to wide (put_wide_bytes). */
	uint8_t stack[4096];
	size_t cap = n * MB_CUR_MAX + 1;
	uint8_t *mb = cap <= sizeof(stack) ? stack : rd_mem_alloc(cap);
	if (!mb)
		return 0;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t r = wcrtomb((char *)mb + len, data[i], &st);
		if (r == (size_t)-1) {
			/* Not representable: glibc would fail the same way. */
			if (mb != stack)
				rd_mem_free(mb);
			errno = EILSEQ;
			return 0;
		}
		len += r;
	}
	rd_depth++;
	take_back(e);
	size_t r = put_locked(e, f, mb, len, 0);
	after_put(e, f);
	rd_depth--;
	if (mb != stack)
		rd_mem_free(mb);
	return r == len ? n : 0;
}

RD_STARTUP int rd_file_may_hold(FILE *f)
{
	return lookup(f) != NULL || f->_IO_write_ptr > f->_IO_write_base;
}

void rd_file_absorb(FILE *f)
{
	struct rd_file *e = lookup(f);
	if (!e)
		return;
	rd_depth++;
	if (f->_IO_write_ptr != e->our_end)
		take_back(e); /* inline putc_unlocked bytes continue what it held */
	absorb_locked(e, f);
	rd_depth--;
}

void rd_file_before_flush(FILE *f)
{
	struct rd_file *e = lookup(f);
	if (!e || e->sink < 0 || !atomic_load(&rd_sinks[e->sink].pending_since) ||
	    atomic_load(&rd_sinks[e->sink].owner) == f || f->_IO_write_ptr <= f->_IO_write_base)
		return;
	/* The buffer goes to the descriptor now: bytes held from write() calls
	 * (or adopted from another FILE) were written before it. */
	rd_sink_release(e->sink, e->fd, 1);
}

void rd_file_flushed(FILE *f)
{
	struct rd_file *e = lookup(f);
	if (!e || e->sink < 0 || !(e->st.pend_len || e->st.forced))
		return;
	rd_depth++;
	rd_sink_adopt(e->sink, e->fd, &e->st, f);
	note_pending(e);
	rd_depth--;
}

void rd_file_before_flush_all(void)
{
	for (int i = 0; i < RD_MAX_FILES; i++) {
		FILE *f = atomic_load(&file_fp[i]);
		if (!f)
			continue;
		flockfile(f); /* as glibc's fflush(NULL) does, FILE by FILE */
		if (atomic_load(&file_fp[i]) == f)
			rd_file_before_flush(f);
		funlockfile(f);
	}
}

void rd_file_flushed_all(void)
{
	for (int i = 0; i < RD_MAX_FILES; i++) {
		FILE *f = atomic_load(&file_fp[i]);
		if (!f)
			continue;
		flockfile(f);
		if (atomic_load(&file_fp[i]) == f)
			rd_file_flushed(f);
		funlockfile(f);
	}
}

static void release_locked(struct rd_file *e, FILE *f)
{
	absorb_locked(e, f);
	if (e->st.pend_len || e->st.forced)
		put_locked(e, f, (const uint8_t *)"", 0, 1);
	note_pending(e);
}

void rd_file_release(FILE *f, int forget)
{
	struct rd_file *e = lookup(f);
	if (!e)
		return;
	rd_depth++;
	release_locked(e, f);
	if (forget)
		drop(e);
	rd_depth--;
}

/* At exit, fork, exec and before a read of stdin.  ftrylockfile: a FILE
 * another thread holds (blocked writing to a full pipe) is left alone
 * rather than risk waiting forever -- glibc's own exit flush does not lock
 * either. */
RD_STARTUP void rd_file_release_all(int forget)
{
	rd_depth++;
	for (int i = 0; i < RD_MAX_FILES; i++) {
		FILE *f = atomic_load(&file_fp[i]);
		if (!f)
			continue;
		if (ftrylockfile(f) == 0) {
			if (atomic_load(&file_fp[i]) == f) {
				release_locked(&files[i], f);
				if (forget)
					drop(&files[i]);
			}
			funlockfile(f);
		}
	}
	rd_depth--;
}

uint64_t rd_file_next_deadline(uint64_t limit)
{
	uint64_t next = 0;
	for (int i = 0; i < RD_MAX_FILES; i++) {
		uint64_t since = atomic_load(&files[i].pending_since);
		if (since && (!next || since + limit < next))
			next = since + limit;
	}
	return next;
}

void rd_file_release_due(uint64_t limit)
{
	uint64_t now = now_ns();
	rd_depth++;
	for (int i = 0; i < RD_MAX_FILES; i++) {
		uint64_t since = atomic_load(&files[i].pending_since);
		FILE *f = atomic_load(&file_fp[i]);
		if (!f || !since || now - since < limit)
			continue;
		if (ftrylockfile(f) == 0) {
			/* Into the buffer only: bytes the program flushed are no longer
			 * here (rd_file_flushed), and the others would not be visible
			 * without the library either (a line-buffered FILE writes at a
			 * newline, a fully buffered one when full or flushed). */
			if (atomic_load(&file_fp[i]) == f)
				release_locked(&files[i], f);
			funlockfile(f);
		}
	}
	rd_depth--;
}
