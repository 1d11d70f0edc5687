/* Internals shared by the interposition layer (lib/hooks/).
 *
 * Every hook has the same shape (after LTTng-UST's wrappers):
 *   1. make sure the real symbol is resolved (real.c),
 *   2. take the fast path to the real function unless the library is ready,
 *      this thread is not already inside the library, and the target is a
 *      sink (session.c decides, cached per fd),
 *   3. save errno, do the work (sink.c for descriptors, file.c for FILEs),
 *      make the real call, restore errno on success too (PCRE2 and malloc
 *      change it; field notes section 3).
 * Nothing on these paths calls malloc: memory comes from rd_mem (mmap). */
#ifndef RD_HOOKS_H
#define RD_HOOKS_H

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wchar.h>

#include "rd_context.h"

#define RD_EXPORT __attribute__((visibility("default")))

#include "rd_startup.h"

#include "glibc_undeclared.h"
/* and two that only the library calls */
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __vswprintf_chk(wchar_t *s, size_t maxlen, int flag, size_t slen, const wchar_t *fmt, va_list ap);

/* ---- real symbols (real.c), one field per entry of hooks.def ---- */
struct rd_real_table {
#define RD_HOOK(ret, name, params, kind, ...) ret(*name) params;
#include "hooks.def"
#undef RD_HOOK
};
extern struct rd_real_table rd_real;
/* Resolves the functions the library calls while it holds a FILE or sink
 * lock (write, fwrite_unlocked, ...): looking one up there could wait for
 * the loader's lock held by a thread that waits for ours. */
void rd_real_resolve_core(void);
/* Resolves one real symbol with dlsym(RTLD_NEXT) into *slot; lock-free
 * (whoever gets there writes the same value). */
void rd_real_resolve_one(void **slot, const char *name);
#define RD_REAL(name)                                                                               \
	(__builtin_expect(rd_real.name != NULL, 1)                                                  \
		 ? rd_real.name                                                                     \
		 : (rd_real_resolve_one((void **)&rd_real.name, #name), rd_real.name))

/* ---- global state (init.c) ---- */
enum { RD_UNINIT = 0, RD_INITIALIZING, RD_READY, RD_OFF };
extern _Atomic int rd_state;
extern __thread int rd_depth __attribute__((tls_model("initial-exec")));
extern struct redact_context *rd_ctx;
void rd_hooks_init(void);

/* True when a hook should work: the library is ready and this thread is not
 * already inside it (a hook called from our own code, or from a signal
 * handler that interrupted a hook, takes the plain path: see sink.c for how
 * nested writes to a sink are still redacted). */
static inline int rd_ready(void)
{
	int s = atomic_load_explicit(&rd_state, memory_order_acquire);
	if (__builtin_expect(s == RD_READY, 1))
		return 1;
	if (s == RD_UNINIT) {
		rd_hooks_init();
		return atomic_load_explicit(&rd_state, memory_order_acquire) == RD_READY;
	}
	return 0;
}

/* ---- session and descriptor classes (session.c) ---- */
enum rd_fd_class {
	RD_FD_UNKNOWN = 0,
	RD_FD_PLAIN,  /* not redacted */
	RD_FD_SINK,   /* redacted through sink `sink` */
	RD_FD_DGRAM,  /* a selected datagram socket: each message redacted alone */
};

struct rd_fdinfo {
	uint8_t cls;
	uint8_t input;  /* a terminal or the session's original stdin */
	uint8_t sink;   /* index into rd_sinks */
	uint8_t chan;   /* audit channel: enum rd_channel */
};

enum rd_channel { RD_CHAN_FD = 0, RD_CHAN_STDOUT, RD_CHAN_STDERR, RD_CHAN_TTY, RD_CHAN_SOCKET };

/* Classifies fd (cached; descriptors >= RD_FD_CACHE are classified each time). */
struct rd_fdinfo rd_fd_info(int fd);
void rd_fd_forget(int fd);
void rd_fd_forget_range(unsigned int first, unsigned int last);
void rd_fd_forget_all(void);
int rd_session_init(const struct rd_config *cfg);
/* Policy for a datagram destination (sendto with an address). */
int rd_socket_addr_selected(const struct sockaddr *sa, socklen_t len);
/* ALLOWLIST_PATHS: 1 if this process is exempt. */
int rd_process_allowlisted(const struct rd_config *cfg);
const char *rd_channel_name(struct rd_fdinfo fi);

#define RD_FD_CACHE 4096

/* ---- sinks (sink.c) ---- */
#define RD_MAX_SINKS 64
struct rd_sink {
	dev_t dev;
	ino_t ino;
	int used;
	int is_pipe;
	pthread_mutex_t lock;
	struct rd_stream st;
	uint8_t *owed;
	size_t owed_len, owed_cap;
	int last_fd;
	_Atomic uint64_t pending_since; /* CLOCK_MONOTONIC ns; 0: nothing held */
	/* The FILE whose held bytes this stream took over at a flush
	 * (rd_sink_adopt), while nothing else has been written since. */
	_Atomic(const void *) owner;
};
extern struct rd_sink rd_sinks[RD_MAX_SINKS];
int rd_sink_find_or_add(dev_t dev, ino_t ino, int is_pipe);

/* How a descriptor call writes: write/pwrite/send... with the caller's
 * extra arguments.  Returns like write(2). */
typedef ssize_t (*rd_write_fn)(int fd, const void *buf, size_t n, void *arg);

/* Redacts data[0..n) for sink s and writes it to fd with wr.  Returns what
 * write(2) would: n, a short count, or -1 with errno. */
ssize_t rd_sink_write(int fd, struct rd_fdinfo fi, const void *data, size_t n, rd_write_fn wr, void *arg);
/* Redacts one self-contained message (a datagram, a positioned write, a
 * nested write from a signal handler): no hold-back, no state. */
ssize_t rd_oneshot_write(int fd, const void *data, size_t n, rd_write_fn wr, void *arg, const char *channel,
			 int length_preserving);
/* Releases everything held back, for every sink and every FILE: at exit
 * and before a read of input that would wait. */
void rd_release_all(void);
/* Releases what the sinks hold (descriptor output, and FILE output the
 * program flushed), not what FILE streams hold: before fork, exec, spawn,
 * system, popen, pclose and _exit.  A FILE's held bytes belong with its
 * buffer, which fork copies unflushed and exec, spawn and _exit leave
 * unflushed too; releasing them there cut a secret in two (fork: the
 * child printing the second half after the buffered first half). */
void rd_release_sinks(void);
/* Before close/dup2 of fd: releases what the sink fd refers to holds,
 * unless the sink stays reachable through fd 0, 1, 2 or `also` (the
 * descriptor dup2 copies; -1 for none). */
void rd_release_fd(int fd, int also);
/* Same for a sink by index, whatever this thread is doing (caller holds no
 * sink lock). */
void rd_sink_release(int sink, int fd, int wait);
/* A FILE on sink `sink` (through fd) was flushed by the program while its
 * stream `st` held bytes back: the sink's stream takes them over (see
 * sink.c).  rd_sink_return gives them back to that FILE if nothing else was
 * written since (1), else leaves them (0).  Callers hold the FILE lock. */
void rd_sink_adopt(int sink, int fd, struct rd_stream *st, const void *owner);
int rd_sink_return(int sink, struct rd_stream *st, const void *owner);
/* Cheap test: is anything held back anywhere? */
extern _Atomic int rd_held;
/* A hold that started at `since` (CLOCK_MONOTONIC ns) is due at since +
 * REDACT_HOLDBACK_MS: starts the flusher thread, or wakes it if it would
 * sleep past that. */
void rd_flusher_kick(uint64_t since);
void rd_hooks_atfork_install(void);

/* ---- FILE streams (file.c) ---- */
/* Writes bytes as the FILE would, redacted if the FILE writes to a sink.
 * Returns the number of bytes accepted (n, or less with the FILE's error
 * flag set).  Locking: the caller holds the FILE lock. */
size_t rd_file_put(FILE *f, const char *data, size_t n);
/* Same for wide characters. */
size_t rd_file_putw(FILE *f, const wchar_t *data, size_t n);
/* 1 if writes to f must go through rd_file_put. */
int rd_file_is_sink(FILE *f);
/* Inline putc_unlocked bytes in the FILE buffer are taken back and
 * redacted (called from __overflow and fflush hooks). */
void rd_file_absorb(FILE *f);
/* Could the destructor find anything to take back from f: an entry, or bytes
 * in its buffer (put by inline putc_unlocked that no hook saw)? */
int rd_file_may_hold(FILE *f);
/* Releases what is held for f into its buffer (fclose, freopen, exit). */
void rd_file_release(FILE *f, int forget);
/* Around the program's own fflush of f (caller holds the FILE lock):
 * before, bytes a direct write() left held on the same sink go out ahead
 * of the buffer; after, what f's stream holds moves to the sink's stream. */
void rd_file_before_flush(FILE *f);
void rd_file_flushed(FILE *f);
/* The same for fflush(NULL): every FILE we know. */
void rd_file_before_flush_all(void);
void rd_file_flushed_all(void);
void rd_file_release_all(int forget);
/* Flusher support: the earliest deadline of a FILE's held bytes (0: none),
 * and releasing those older than `limit` ns (skips FILEs that are busy). */
uint64_t rd_file_next_deadline(uint64_t limit);
void rd_file_fork_prepare(void);
void rd_file_fork_parent(void);
void rd_file_fork_child(void);
void rd_file_release_due(uint64_t limit);

/* ---- input (hooks_input.c) ---- */
void rd_input_scan(int fd, const void *data, size_t n);
/* Before a read of input (stdin as the session started, or a terminal):
 * releases everything held if the read would wait.  want: bytes the stdio
 * call needs from the FILE's buffer ((size_t)-1: a line). */
void rd_before_input(int fd);
void rd_before_input_file(FILE *f, size_t want);

/* Keeps errno across our work; restore on every return path. */
#define RD_SAVE_ERRNO int rd_saved_errno_ = errno
#define RD_RESTORE_ERRNO (errno = rd_saved_errno_)

#endif
