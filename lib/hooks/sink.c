/* Sinks: where redacted descriptor writes go.
 *
 * One stream per sink (not per descriptor): stdout and stderr that share a
 * pipe, and the copies ipykernel and shells make with dup, all feed one
 * stream in the order the program wrote, so the interleaving of what comes
 * out is the program's.
 *
 * What a write returns is what the kernel gave: the redacted output is
 * written, and on a short write the stream keeps only the part of this
 * call's input that went out (rd_stream_commit), so the program's retry
 * neither loses nor doubles a byte.  Bytes held back (a possible secret at
 * the end of a write) are released by the next write, by the flusher thread
 * after REDACT_HOLDBACK_MS, before a read of stdin, and before close, dup2,
 * fork, exec, spawn and exit.
 *
 * Locks: one mutex per sink.  A hook entered again on the same thread (a
 * signal handler that writes while a write is in progress, or our own
 * code) never waits for it: it redacts its data alone (rd_oneshot_write).
 * Fork: every sink lock is taken around fork after the held bytes were
 * released, so the child inherits consistent streams and neither process
 * writes them twice. */
#include "rd_hooks.h"

#include <poll.h>
#include <sys/prctl.h>
#include <string.h>
#include <time.h>

RD_LARGE_BSS struct rd_sink rd_sinks[RD_MAX_SINKS];
static pthread_mutex_t sinks_add_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int rd_held;

/* Larger writes are redacted and written in parts of this size: the
 * stream and output buffers grow to the part, not to the write (one
 * 100 MB write kept ~100 MB of buffers in the process).  128 KiB is what
 * coreutils write at a time, so `cat` is not split further. */
#define RD_PART (128u << 10)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sinks are only ever added, in order: rd_sinks[0..nsinks) are in use.
 * Loops stop there, so a process that writes to two sinks touches two
 * entries (~700 bytes each), not 64 (a page fault per 4 KiB in every
 * process start). */
static _Atomic int nsinks;

int rd_sink_find_or_add(dev_t dev, ino_t ino, int is_pipe)
{
	int n = atomic_load_explicit(&nsinks, memory_order_acquire);
	for (int i = 0; i < n; i++)
		if (rd_sinks[i].dev == dev && rd_sinks[i].ino == ino)
			return i;
	/* Signals are blocked while the lock is held.  This runs from a hook
	 * before it counts itself in rd_depth (classifying the descriptor),
	 * so a handler that writes to a descriptor not yet classified -- the
	 * process's first write, interrupted by its own timer -- would wait
	 * for this lock forever on the same thread (tests/interpose signal,
	 * seen under load).  Only the first write to each sink gets here. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&sinks_add_lock);
	n = atomic_load_explicit(&nsinks, memory_order_relaxed);
	int idx = -1;
	for (int i = 0; i < n && idx < 0; i++)
		if (rd_sinks[i].dev == dev && rd_sinks[i].ino == ino)
			idx = i;
	if (idx < 0 && n < RD_MAX_SINKS) {
		struct rd_sink *s = &rd_sinks[n];
		s->dev = dev;
		s->ino = ino;
		s->is_pipe = is_pipe;
		pthread_mutex_init(&s->lock, NULL);
		rd_stream_init(&s->st);
		s->last_fd = -1;
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		atomic_store_explicit(&nsinks, n + 1, memory_order_release);
		idx = n;
	}
	pthread_mutex_unlock(&sinks_add_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return idx;
}

/* Writes until done, the first error, or -- once at least `min` bytes are
 * out -- the first short write (the stream takes back what did not go).
 * A short write is how the kernel reports a blocking write interrupted by
 * a signal after some bytes went out (write(2)): writing on would block
 * again and hide the interruption from the program, which then hangs in
 * write() instead of seeing the partial count (an alarm() timeout around
 * a write to a stuck pipe).  `min` covers output that precedes the
 * caller's own bytes (held bytes of earlier writes): a call must not
 * return before one of its bytes is out, or it would report 0. */
static size_t write_out(int fd, const uint8_t *p, size_t n, rd_write_fn wr, void *arg, int *err, size_t min)
{
	size_t w = 0;
	*err = 0;
	while (w < n) {
		ssize_t r = wr(fd, p + w, n - w, arg);
		if (r > 0) {
			w += (size_t)r;
			if (w < n && w >= min)
				break;
			continue;
		}
		*err = r < 0 ? errno : EIO;
		break;
	}
	return w;
}

static void note_pending(struct rd_sink *s)
{
	uint64_t since = atomic_load(&s->pending_since);
	if (s->st.pend_len || s->owed_len || s->st.forced) {
		if (!since) {
			uint64_t t = now_ns();
			atomic_store(&s->pending_since, t);
			atomic_fetch_add(&rd_held, 1);
			rd_flusher_kick(t);
		}
	} else if (since) {
		atomic_store(&s->pending_since, 0);
		atomic_fetch_sub(&rd_held, 1);
	}
}

static int keep_owed(struct rd_sink *s, const uint8_t *p, size_t n)
{
	if (s->owed_len + n > s->owed_cap) {
		size_t cap = s->owed_cap ? s->owed_cap : 256;
		while (cap < s->owed_len + n)
			cap *= 2;
		uint8_t *q = rd_mem_realloc(s->owed, cap);
		if (!q)
			return -1;
		s->owed = q;
		s->owed_cap = cap;
	}
	memcpy(s->owed + s->owed_len, p, n);
	s->owed_len += n;
	return 0;
}

/* Output owed from an earlier short write of a label or notice goes first. */
static int pay_owed(struct rd_sink *s, int fd, rd_write_fn wr, void *arg, int *err)
{
	if (!s->owed_len)
		return 0;
	size_t w = write_out(fd, s->owed, s->owed_len, wr, arg, err, s->owed_len);
	memmove(s->owed, s->owed + w, s->owed_len - w);
	s->owed_len -= w;
	return s->owed_len ? -1 : 0;
}

static void release_locked(struct rd_sink *s, int fd, int wait);

/* Runs data through the sink's stream and writes the output.  Caller holds
 * the sink lock.  Returns the number of input bytes consumed, or -1. */
static ssize_t stream_write_locked(struct rd_sink *s, int fd, const char *channel, const uint8_t *data, size_t n,
				   int final, rd_write_fn wr, void *arg, int *err)
{
	*err = 0;
	if (pay_owed(s, fd, wr, arg, err))
		return -1;
	size_t done = 0;
	do {
		size_t part = n - done < RD_PART ? n - done : RD_PART;
		int last = done + part == n;
		struct rd_scratch *sc = rd_scratch_acquire();
		if (!sc) {
			*err = ENOMEM;
			return done ? (ssize_t)done : -1;
		}
		struct rd_out out;
		int rc = rd_stream_process(rd_ctx, &s->st, sc, data + done, part, final && last, channel, &out);
		if (rc) {
			rd_scratch_release(sc);
			*err = ENOMEM;
			return done ? (ssize_t)done : -1;
		}
		/* A release (no new data) writes everything; a write must get one
		 * of its own bytes out: with length-preserving output they follow
		 * the old held bytes one for one, otherwise the whole input counts
		 * as consumed as soon as anything went (the rest is owed). */
		const struct rd_stage *sg = &s->st.stage;
		size_t min = !part ? out.len
			     : sg->length_preserving ? (sg->old_pend < out.len ? sg->old_pend + 1 : out.len)
						     : 1;
		size_t w = out.len ? write_out(fd, out.data, out.len, wr, arg, err, min) : 0;
		const uint8_t *owed;
		size_t owed_len;
		size_t consumed = rd_stream_commit(&s->st, sc, w, &owed, &owed_len);
		if (owed_len && keep_owed(s, owed, owed_len) == 0)
			*err = 0; /* a label or notice cut short: owed, the input is consumed */
		rd_scratch_release(sc);
		if (w < out.len && !owed_len) {
			done += consumed;
			return done ? (ssize_t)done : -1;
		}
		done += part;
	} while (done < n);
	return (ssize_t)done;
}

/* ---- FILE streams flushed by the program ----
 * glibc writes a FILE's buffer with an internal __write we never see, so a
 * FILE's output is redacted on its way into the buffer, by the FILE's own
 * stream (file.c), and bytes that could start a secret stay in that stream.
 * When the program flushes the FILE (fflush, or any put on an unbuffered
 * FILE such as stderr), those bytes would be on the descriptor without the
 * library: ahead of whatever is written next through the descriptor or
 * another FILE on it, and visible before the program goes on to wait for
 * input.  Left in the FILE's stream they were neither: `printf("x"); fflush;
 * write(1, "y")` came out as "yx", and bash's `printf "Password: "; read`
 * on a terminal showed the prompt only after the input.  So the sink's
 * stream takes them over, with their match state, as if write() had
 * written them: the next write on the sink continues them (a secret cut
 * between printf and write is still found), and every release of held
 * descriptor output (flusher, input, close, dup2, fork, exec, exit) covers
 * them.  If the same FILE writes next, it gets them back (rd_sink_return),
 * so `echo -n a; echo b` split by bash's fflush calls is still one
 * stream. */
/* Streams change hands whole (buffer, held bytes, match state).  The one
 * handed back in exchange holds nothing, but its context is the tail of
 * other output: stale where it goes, and a rescan of it masked bytes of the
 * next write as the remainder of a "secret" that was never printed. */
static void swap_streams(struct rd_stream *a, struct rd_stream *b)
{
	/* A stream's first bytes live inside it (st->small, buf points there):
	 * the copy carries them, the pointer must follow, or each stream would
	 * read the other's inline buffer (held bytes came out as NULs). */
	int a_inline = a->buf == a->small, b_inline = b->buf == b->small;
	struct rd_stream t = *a;
	*a = *b;
	*b = t;
	if (b_inline)
		a->buf = a->small;
	if (a_inline)
		b->buf = b->small;
	b->ctx_len = 0;
	b->rescan = 0;
	b->ncarry = 0;
}

void rd_sink_adopt(int sink, int fd, struct rd_stream *st, const void *owner)
{
	struct rd_sink *s = &rd_sinks[sink];
	rd_depth++;
	pthread_mutex_lock(&s->lock);
	/* What the sink already holds was written earlier: it goes first. */
	if (s->st.pend_len || s->owed_len || s->st.forced)
		release_locked(s, -1, 1);
	if (!s->st.pend_len && !s->st.forced) {
		swap_streams(&s->st, st);
		s->last_fd = fd;
		atomic_store(&s->owner, owner);
	}
	note_pending(s);
	pthread_mutex_unlock(&s->lock);
	rd_depth--;
}

int rd_sink_return(int sink, struct rd_stream *st, const void *owner)
{
	struct rd_sink *s = &rd_sinks[sink];
	if (atomic_load(&s->owner) != owner)
		return 0;
	int back = 0;
	rd_depth++;
	pthread_mutex_lock(&s->lock);
	if (atomic_load(&s->owner) == owner && !st->pend_len && !st->forced && !s->owed_len) {
		swap_streams(st, &s->st);
		atomic_store(&s->owner, NULL);
		back = 1;
	}
	note_pending(s);
	pthread_mutex_unlock(&s->lock);
	rd_depth--;
	return back;
}

ssize_t rd_sink_write(int fd, struct rd_fdinfo fi, const void *data, size_t n, rd_write_fn wr, void *arg)
{
	const char *channel = rd_channel_name(fi);
	if (fi.cls != RD_FD_SINK || rd_depth > 0)
		return rd_oneshot_write(fd, data, n, wr, arg, channel, 0);
	struct rd_sink *s = &rd_sinks[fi.sink];
	RD_SAVE_ERRNO;
	rd_depth++;
	rd_context_ensure_reloader(rd_ctx);
	pthread_mutex_lock(&s->lock);
	s->last_fd = fd;
	atomic_store(&s->owner, NULL); /* held bytes adopted from a FILE now continue here */
	int err;
	ssize_t r = stream_write_locked(s, fd, channel, data, n, 0, wr, arg, &err);
	note_pending(s);
	pthread_mutex_unlock(&s->lock);
	rd_depth--;
	if (r < 0)
		errno = err;
	else
		RD_RESTORE_ERRNO;
	return r;
}

ssize_t rd_oneshot_write(int fd, const void *data, size_t n, rd_write_fn wr, void *arg, const char *channel,
			 int length_preserving)
{
	RD_SAVE_ERRNO;
	rd_depth++;
	struct rd_stream st;
	rd_stream_init(&st);
	st.length_preserving = length_preserving;
	size_t done = 0;
	ssize_t result = (ssize_t)n;
	int err = 0;
	while (done < n || n == 0) {
		size_t part = n - done < RD_PART ? n - done : RD_PART;
		struct rd_scratch *sc = rd_scratch_acquire();
		struct rd_out out;
		if (!sc || rd_stream_process(rd_ctx, &st, sc, (const uint8_t *)data + done, part, 1, channel, &out)) {
			rd_scratch_release(sc);
			err = ENOMEM;
			result = done ? (ssize_t)done : -1;
			break;
		}
		/* Length-preserving output maps back to the input: a short write
		 * returns its count.  Other output has nowhere to keep the rest. */
		size_t w = out.len ? write_out(fd, out.data, out.len, wr, arg, &err,
					       st.stage.length_preserving ? 1 : out.len)
				   : 0;
		size_t consumed = rd_stream_commit(&st, sc, w, NULL, NULL);
		rd_scratch_release(sc);
		if (w < out.len) {
			/* Length-changing output cut short: report what went, in input terms
			 * when we can, else as all-or-nothing. */
			done += st.stage.length_preserving ? consumed : (w ? part : 0);
			result = done ? (ssize_t)done : -1;
			break;
		}
		done += part;
		if (n == 0)
			break;
	}
	rd_stream_destroy(&st);
	rd_depth--;
	if (result < 0)
		errno = err;
	else
		RD_RESTORE_ERRNO;
	return result;
}

/* ---- releasing held bytes ---- */

static ssize_t plain_write(int fd, const void *buf, size_t n, void *arg)
{
	(void)arg;
	return RD_REAL(write)(fd, buf, n);
}

/* The descriptor through which a sink's held bytes can go: the last one
 * used, if it still refers to the sink. */
static int sink_fd(struct rd_sink *s)
{
	struct stat st;
	int fd = s->last_fd;
	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	uint64_t dev = S_ISCHR(st.st_mode) ? 0 : (uint64_t)st.st_dev;
	uint64_t ino = S_ISCHR(st.st_mode) ? (uint64_t)st.st_rdev : (uint64_t)st.st_ino;
	return (dev == (uint64_t)s->dev && ino == (uint64_t)s->ino) ? fd : -1;
}

/* Decides and writes what the sink holds.  wait: block until written even
 * on a non-blocking descriptor (exit, exec). */
static void release_locked(struct rd_sink *s, int fd, int wait)
{
	if (!s->st.pend_len && !s->owed_len && !s->st.forced)
		return;
	if (fd < 0)
		fd = sink_fd(s);
	if (fd < 0)
		return;
	int err;
	for (int tries = 0; tries < 100; tries++) {
		stream_write_locked(s, fd, rd_channel_name(rd_fd_info(fd)), (const uint8_t *)"", 0, 1, plain_write, NULL,
				    &err);
		if (!s->st.pend_len && !s->owed_len)
			break;
		if (!wait || (err != EAGAIN && err != EINTR))
			break;
		struct pollfd p = {fd, POLLOUT, 0};
		poll(&p, 1, 10);
	}
	if (!s->st.pend_len && !s->st.forced)
		atomic_store(&s->owner, NULL);
	note_pending(s);
}

static void release_sink(struct rd_sink *s, int fd, int wait)
{
	rd_depth++;
	pthread_mutex_lock(&s->lock);
	release_locked(s, fd, wait);
	pthread_mutex_unlock(&s->lock);
	rd_depth--;
}

void rd_sink_release(int sink, int fd, int wait)
{
	if (sink >= 0 && sink < RD_MAX_SINKS && rd_sinks[sink].used)
		release_sink(&rd_sinks[sink], fd, wait);
}

RD_STARTUP void rd_release_sinks(void)
{
	if (atomic_load_explicit(&rd_state, memory_order_acquire) != RD_READY || rd_depth > 0)
		return;
	if (!atomic_load(&rd_held))
		return;
	for (int i = 0, n = atomic_load(&nsinks); i < n; i++)
		if (atomic_load(&rd_sinks[i].pending_since))
			release_sink(&rd_sinks[i], -1, 1);
}

RD_STARTUP void rd_release_all(void)
{
	if (atomic_load_explicit(&rd_state, memory_order_acquire) != RD_READY || rd_depth > 0)
		return;
	rd_file_release_all(0);
	rd_release_sinks();
}

static int refers_to(int fd, const struct rd_sink *s)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return 0;
	uint64_t dev = S_ISCHR(st.st_mode) ? 0 : (uint64_t)st.st_dev;
	uint64_t ino = S_ISCHR(st.st_mode) ? (uint64_t)st.st_rdev : (uint64_t)st.st_ino;
	return dev == (uint64_t)s->dev && ino == (uint64_t)s->ino;
}

/* A descriptor going away (close, or replaced by dup2) is not the sink
 * going away.  Shells redirect a command with dup2 on fd 1 and undo it
 * after; releasing the sink's held bytes there cut bash's
 * `echo -n "$a" >&2; echo -n "$b" >&2` (and every loop printing with 2>&1)
 * into two streams, and a secret split between them came out whole.  So
 * when fd 0, 1, 2 or the descriptor dup2 copies still refers to the sink,
 * the bytes stay held and are released through that one. */
void rd_release_fd(int fd, int also)
{
	if (atomic_load_explicit(&rd_state, memory_order_acquire) != RD_READY || rd_depth > 0)
		return;
	if (!atomic_load(&rd_held))
		return;
	struct rd_fdinfo fi = rd_fd_info(fd);
	if (fi.cls != RD_FD_SINK || !atomic_load(&rd_sinks[fi.sink].pending_since))
		return;
	struct rd_sink *s = &rd_sinks[fi.sink];
	const int others[] = {1, 2, 0, also};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		int o = others[i];
		if (o == fd || !refers_to(o, s))
			continue;
		rd_depth++;
		pthread_mutex_lock(&s->lock);
		if (s->last_fd == fd || s->last_fd < 0)
			s->last_fd = o;
		pthread_mutex_unlock(&s->lock);
		rd_depth--;
		return;
	}
	release_sink(s, fd, 1);
}

/* ---- the flusher thread ----
 * Started on the first hold-back (never at process start), it releases what
 * has been held longer than REDACT_HOLDBACK_MS.  It blocks every signal so
 * it never runs the program's handlers. */

static pthread_mutex_t flusher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flusher_cond;
static int flusher_running; /* cleared in a forked child (child()) */
/* When the flusher wakes next on its own (ns), 0: not before a signal.  A
 * new hold is due later than every hold before it, so a flusher already
 * waiting for an earlier deadline needs no signal (a signal per hold was a
 * futex wake and a switch to the flusher for every line printed in
 * pieces).  Under flusher_lock. */
static uint64_t flusher_wakes_at;

static void *flusher_main(void *arg)
{
	(void)arg;
	rd_depth = 0;
	/* Named here: pthread_setname_np from the creating thread opens
	 * /proc/self/task/TID/comm (~0.1 ms on the first write). */
	prctl(PR_SET_NAME, "redact-flush");
	uint64_t limit = (uint64_t)rd_ctx->cfg.holdback_ms * 1000000ull;
	pthread_mutex_lock(&flusher_lock);
	for (;;) {
		uint64_t now = now_ns(), next = 0;
		int due = 0;
		for (int i = 0, n = atomic_load(&nsinks); i < n; i++) {
			uint64_t since = atomic_load(&rd_sinks[i].pending_since);
			if (!since)
				continue;
			if (now - since >= limit)
				due = 1;
			else if (!next || since + limit < next)
				next = since + limit;
		}
		uint64_t fnext = rd_file_next_deadline(limit);
		if (fnext && fnext <= now)
			due = 1;
		else if (fnext && (!next || fnext < next))
			next = fnext;
		if (due) {
			pthread_mutex_unlock(&flusher_lock);
			for (int i = 0, n = atomic_load(&nsinks); i < n; i++) {
				struct rd_sink *s = &rd_sinks[i];
				uint64_t since = atomic_load(&s->pending_since);
				if (!since || now_ns() - since < limit)
					continue;
				if (pthread_mutex_trylock(&s->lock) == 0) {
					rd_depth++;
					release_locked(s, -1, 0);
					rd_depth--;
					pthread_mutex_unlock(&s->lock);
				}
			}
			rd_file_release_due(limit);
			pthread_mutex_lock(&flusher_lock);
			/* A sink that was busy is tried again shortly. */
			next = now_ns() + 5000000;
		}
		flusher_wakes_at = next;
		if (!next) {
			pthread_cond_wait(&flusher_cond, &flusher_lock);
		} else {
			struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
			pthread_cond_timedwait(&flusher_cond, &flusher_lock, &ts);
		}
		flusher_wakes_at = 0;
	}
	return NULL;
}

void rd_flusher_kick(uint64_t since)
{
	uint64_t due = since + (uint64_t)rd_ctx->cfg.holdback_ms * 1000000ull;
	pthread_mutex_lock(&flusher_lock);
	if (!flusher_running) {
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&flusher_cond, &ca);
		pthread_condattr_destroy(&ca);
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_t t;
		if (pthread_create(&t, &attr, flusher_main, NULL) == 0)
			flusher_running = 1;
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	} else if (!flusher_wakes_at || flusher_wakes_at > due) {
		pthread_cond_signal(&flusher_cond);
	}
	pthread_mutex_unlock(&flusher_lock);
}

/* ---- fork ----
 * Every lock another thread could hold at fork time is taken before it, so
 * the child inherits consistent streams and tables, and let go after it.
 * Things this gets right that a plain "lock every used sink" did not:
 *  - parent() unlocks exactly the sinks prepare() locked.  A sink another
 *    thread created meanwhile (its first write raced the fork) is `used` in
 *    parent() but was never locked by us: unlocking it released that
 *    thread's lock, a second writer entered the same stream, and output
 *    came out garbled and unmasked (seen with threads starting to print
 *    while the main thread forked: tests/interpose fork-threads).
 *  - no sink is left out: one created after the scan (before we hold
 *    sinks_add_lock) is locked on the next round, so in the child every
 *    used sink's stream is whole and its lock ours.
 *  - the order is the one other paths use: a sink lock, then
 *    sinks_add_lock (classifying a descriptor inside release_locked), the
 *    FILE table's lock, and flusher_lock last (note_pending kicks the
 *    flusher with a sink lock held).  context.c's handlers (contexts and
 *    reload locks, jit_fork_lock, urcu) run after these: pthread_atfork
 *    runs prepare handlers in reverse order of registration, and the
 *    context's are registered first (rd_context_init, then
 *    rd_hooks_atfork_install).  A thread compiling a rule holds a sink
 *    lock and then jit_fork_lock, so that one must come last.
 *  - the state is per thread: a fork from inside a hook (a signal handler,
 *    rd_depth > 0) locks nothing, and its parent() must not unlock what
 *    another thread's fork, in progress at the same time, locked.
 * In the child, the only thread left, the locks are initialised afresh. */

_Static_assert(RD_MAX_SINKS <= 64, "fork_locked is a 64-bit mask");
static __thread uint64_t fork_locked __attribute__((tls_model("initial-exec")));
static __thread int fork_prepared __attribute__((tls_model("initial-exec")));
/* The signal mask prepare() found, for parent() and child() to restore.
 * Not per thread (128 more bytes of static TLS): it is written and read
 * only with every sink lock held, so by one forking thread at a time. */
static sigset_t fork_sigmask;

static void prepare(void)
{
	if (atomic_load(&rd_state) != RD_READY)
		return;
	/* Held bytes go out once, from the parent, before the fork.  Only the
	 * descriptor-level ones: what a FILE holds is part of its buffer, which
	 * the child inherits unflushed (rd_release_sinks). */
	rd_release_sinks();
	if (rd_depth > 0)
		return; /* fork from inside a hook (a handler): locks may be ours */
	/* From here to parent() or child() this thread holds every sink lock:
	 * a signal handler that wrote to a sink meanwhile would wait for one
	 * of them forever.  Its signals wait instead. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	uint64_t locked = 0;
	for (;;) {
		for (int i = 0, n = atomic_load(&nsinks); i < n; i++)
			if (!(locked & (1ull << i))) {
				pthread_mutex_lock(&rd_sinks[i].lock);
				locked |= 1ull << i;
			}
		pthread_mutex_lock(&sinks_add_lock);
		/* Sinks are only ever added, at most RD_MAX_SINKS: this ends. */
		int missed = 0;
		for (int i = 0, n = atomic_load(&nsinks); i < n; i++)
			if (!(locked & (1ull << i)))
				missed = 1;
		if (!missed)
			break;
		pthread_mutex_unlock(&sinks_add_lock);
	}
	rd_file_fork_prepare();
	pthread_mutex_lock(&flusher_lock);
	fork_locked = locked;
	fork_prepared = 1;
	fork_sigmask = old;
}

static void parent(void)
{
	if (!fork_prepared)
		return;
	uint64_t locked = fork_locked;
	sigset_t old = fork_sigmask;
	fork_prepared = 0;
	fork_locked = 0;
	pthread_mutex_unlock(&flusher_lock);
	rd_file_fork_parent();
	pthread_mutex_unlock(&sinks_add_lock);
	for (int i = RD_MAX_SINKS - 1; i >= 0; i--)
		if (locked & (1ull << i))
			pthread_mutex_unlock(&rd_sinks[i].lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void child(void)
{
	/* The flusher thread is not in the child, however the fork came about
	 * (also from inside a hook, when prepare() took no lock). */
	flusher_running = 0;
	flusher_wakes_at = 0;
	if (!fork_prepared)
		return;
	uint64_t locked = fork_locked;
	fork_prepared = 0;
	fork_locked = 0;
	for (int i = 0; i < RD_MAX_SINKS; i++)
		if (locked & (1ull << i))
			pthread_mutex_init(&rd_sinks[i].lock, NULL);
	pthread_mutex_init(&sinks_add_lock, NULL);
	rd_file_fork_child();
	pthread_mutex_init(&flusher_lock, NULL);
	pthread_sigmask(SIG_SETMASK, &fork_sigmask, NULL);
}

RD_STARTUP void rd_hooks_atfork_install(void)
{
	pthread_atfork(prepare, parent, child);
}
