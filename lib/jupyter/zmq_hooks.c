/* The libzmq send API, interposed: zmq_msg_send, zmq_sendmsg, zmq_send,
 * zmq_send_const, and zmq_close (lib/jupyter/zmq_hooks.def).
 *
 * Finding the real functions: pyzmq loads libzmq.so.5 RTLD_LOCAL, so
 * dlsym(RTLD_NEXT) does not see it, but dlopen(RTLD_NOLOAD) of its name does
 * (field notes section 7).  A wheel that bundles libzmq under another name
 * (pyzmq.libs/libzmq-HASH.so) is found by walking the loaded objects for one
 * that exports zmq_msg_send.  A libzmq linked statically into the extension
 * never calls these functions at all; connection.c/the destructor below
 * reports that case.  Within libzmq, zmq_sendmsg calls zmq_msg_send through
 * the PLT, which binds to us: every hook therefore forwards to the real
 * zmq_msg_send / zmq_send / zmq_send_const, never to zmq_sendmsg.
 *
 * Frames: pyzmq sends each frame with its own call, ZMQ_SNDMORE on all but
 * the last.  A Jupyter message is
 *   [idents..., "<IDS|MSG>", signature, header, parent, metadata, content, buffers...]
 * Per socket a small state machine passes the idents and the delimiter
 * straight to libzmq (so EAGAIN under ZMQ_DONTWAIT for a full queue is
 * reported on the call that caused it, as without the library), holds
 * signature, header, parent and metadata (moved out of the caller's
 * zmq_msg_t, which is left empty exactly as a successful send leaves it, and
 * the call returns the frame's size), and at the content frame decides
 * (message.c), replaces signature and content if the content was redacted,
 * and sends the held frames and the content.  libzmq accepts the later
 * parts of a message whose first part it took without blocking (its queue
 * limit counts whole messages), so holding them changes no caller-visible
 * result; if a held frame still fails to go out, the content call fails
 * with libzmq's errno and the caller keeps its content frame.  A message
 * whose header is not an output type is released at the header frame.
 * Buffers frames after the content pass straight through.
 *
 * Re-entrancy: libzmq may call back into Python (pyzmq's zero-copy free
 * function sends on its own socket) from inside a real send: a hook entered
 * while this thread is in the library (rd_depth) forwards directly. */
#include "jr.h"
#include "rd_hooks.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

typedef struct zmq_msg_t {
	unsigned char _[64];
} __attribute__((aligned(sizeof(void *)))) zmq_msg_t;

#define ZMQ_DONTWAIT 1
#define ZMQ_SNDMORE 2

#define RD_ZMQ_HOOK(ret, name, params, args) RD_EXPORT ret name params;
#include "zmq_hooks.def"
#undef RD_ZMQ_HOOK

static struct {
	int (*msg_send)(zmq_msg_t *, void *, int);
	int (*send)(void *, const void *, size_t, int);
	int (*send_const)(void *, const void *, size_t, int);
	int (*close)(void *);
	int (*msg_init)(zmq_msg_t *);
	int (*msg_init_size)(zmq_msg_t *, size_t);
	int (*msg_init_data)(zmq_msg_t *, void *, size_t, void (*)(void *, void *), void *);
	void *(*msg_data)(zmq_msg_t *);
	size_t (*msg_size)(const zmq_msg_t *);
	int (*msg_close)(zmq_msg_t *);
	int (*msg_move)(zmq_msg_t *, zmq_msg_t *);
} real;
static _Atomic int resolved; /* 1 found, -1 not found */
static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int seen_call;

/* ---- finding libzmq ---- */

struct names {
	char buf[16384];
	size_t used;
	const char *list[256];
	int n;
};

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct names *nm = arg;
	const char *name = info->dlpi_name;
	size_t l = name ? strlen(name) : 0;
	if (!l || nm->n >= 256 || nm->used + l + 1 > sizeof(nm->buf))
		return 0;
	memcpy(nm->buf + nm->used, name, l + 1);
	nm->list[nm->n++] = nm->buf + nm->used;
	nm->used += l + 1;
	return 0;
}

/* A handle whose zmq_msg_send is not ours. */
static void *handle_with_zmq(void *h)
{
	void *s = h ? dlsym(h, "zmq_msg_send") : NULL;
	return s && s != (void *)zmq_msg_send ? h : NULL;
}

static void *find_libzmq(void)
{
	void *s = dlsym(RTLD_NEXT, "zmq_msg_send");
	if (s && s != (void *)zmq_msg_send)
		return RTLD_NEXT;
	static const char *const sonames[] = {"libzmq.so.5", "libzmq.so", NULL};
	for (int i = 0; sonames[i]; i++) {
		void *h = handle_with_zmq(dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD));
		if (h)
			return h;
	}
	/* Names are collected first: dlopen inside dl_iterate_phdr's callback
	 * would run under the loader's lock. */
	RD_LARGE_BSS static struct names nm;
	nm.used = 0;
	nm.n = 0;
	dl_iterate_phdr(collect, &nm);
	for (int i = 0; i < nm.n; i++) {
		if (!strstr(nm.list[i], "zmq"))
			continue;
		void *h = dlopen(nm.list[i], RTLD_LAZY | RTLD_NOLOAD);
		if (handle_with_zmq(h))
			return h;
		if (h)
			dlclose(h);
	}
	return NULL;
}

static int resolve(void)
{
	int r = atomic_load_explicit(&resolved, memory_order_acquire);
	if (__builtin_expect(r != 0, 1))
		return r > 0;
	pthread_mutex_lock(&resolve_lock);
	if (!atomic_load(&resolved)) {
		void *h = find_libzmq();
		if (h) {
			*(void **)&real.msg_send = dlsym(h, "zmq_msg_send");
			*(void **)&real.send = dlsym(h, "zmq_send");
			*(void **)&real.send_const = dlsym(h, "zmq_send_const");
			*(void **)&real.close = dlsym(h, "zmq_close");
			*(void **)&real.msg_init = dlsym(h, "zmq_msg_init");
			*(void **)&real.msg_init_size = dlsym(h, "zmq_msg_init_size");
			*(void **)&real.msg_init_data = dlsym(h, "zmq_msg_init_data");
			*(void **)&real.msg_data = dlsym(h, "zmq_msg_data");
			*(void **)&real.msg_size = dlsym(h, "zmq_msg_size");
			*(void **)&real.msg_close = dlsym(h, "zmq_msg_close");
			*(void **)&real.msg_move = dlsym(h, "zmq_msg_move");
		}
		int ok = real.msg_send && real.send && real.send_const && real.close && real.msg_init && real.msg_init_size &&
			 real.msg_init_data &&
			 real.msg_data && real.msg_size && real.msg_close && real.msg_move;
		atomic_store_explicit(&resolved, ok ? 1 : -1, memory_order_release);
		if (!ok && atomic_load(&rd_state) == RD_READY)
			jr_audit_once(JR_WHY_NO_LIBZMQ, "failed", NULL);
	}
	pthread_mutex_unlock(&resolve_lock);
	return atomic_load(&resolved) > 0;
}

/* ---- what a call brought ---- */

enum { IN_MSG, IN_BUF, IN_CONST };

struct frame_in {
	int kind;
	zmq_msg_t *msg;  /* IN_MSG: the caller's */
	const void *buf; /* IN_BUF, IN_CONST */
	size_t len;
	int flags;
};

static const void *in_data(struct frame_in *in)
{
	return in->kind == IN_MSG ? real.msg_data(in->msg) : in->buf;
}

static size_t in_size(struct frame_in *in)
{
	return in->kind == IN_MSG ? real.msg_size(in->msg) : in->len;
}

static int size_result(size_t n)
{
	return n < INT_MAX ? (int)n : INT_MAX;
}

/* Forwards the call unchanged. */
static int pass(void *s, struct frame_in *in)
{
	switch (in->kind) {
	case IN_MSG:
		return real.msg_send(in->msg, s, in->flags);
	case IN_BUF:
		return real.send(s, in->buf, in->len, in->flags);
	default:
		return real.send_const(s, in->buf, in->len, in->flags);
	}
}

/* Takes the frame into dst as a successful send would (the caller's
 * message is left empty).  Returns the frame size, or -1. */
static int take(struct frame_in *in, zmq_msg_t *dst)
{
	size_t n = in_size(in);
	if (in->kind == IN_MSG) {
		if (real.msg_init(dst) || real.msg_move(dst, in->msg))
			return -1;
		return size_result(n);
	}
	if (real.msg_init_size(dst, n))
		return -1;
	memcpy(real.msg_data(dst), in->buf, n);
	return size_result(n);
}

/* ---- per-socket state ---- */

enum { PH_IDLE = 0, PH_COLLECT, PH_REST };
#define JR_SOCKETS 64
#define HELD 4 /* signature, header, parent header, metadata */

struct sockstate {
	void *sock;
	int phase;
	int busy;
	int n;
	zmq_msg_t held[HELD];
	int held_flags[HELD];
	uint64_t used;
};

RD_LARGE_BSS static struct sockstate socks[JR_SOCKETS];
static pthread_mutex_t socks_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t socks_clock;

/* The socket's state, marked busy; NULL if the table is full of sockets in
 * the middle of a message (the call is then forwarded untouched). */
static struct sockstate *acquire(void *s)
{
	struct sockstate *hit = NULL, *spare = NULL;
	pthread_mutex_lock(&socks_lock);
	for (int i = 0; i < JR_SOCKETS && !hit; i++) {
		struct sockstate *e = &socks[i];
		if (e->sock == s)
			hit = e;
		else if (!e->busy && e->phase == PH_IDLE && (!spare || e->used < spare->used))
			spare = e;
	}
	if (!hit && spare) {
		hit = spare;
		hit->sock = s;
		hit->phase = PH_IDLE;
		hit->n = 0;
	}
	if (hit && hit->busy)
		hit = NULL; /* two threads on one socket: not ours to order */
	if (hit) {
		hit->busy = 1;
		hit->used = ++socks_clock;
	}
	pthread_mutex_unlock(&socks_lock);
	return hit;
}

static void release(struct sockstate *e)
{
	pthread_mutex_lock(&socks_lock);
	e->busy = 0;
	pthread_mutex_unlock(&socks_lock);
}

/* Sends the held frames.  0, or -1 with errno (the rest are dropped). */
static int send_held(struct sockstate *e, void *s)
{
	for (int i = 0; i < e->n; i++) {
		int r, tries = 0;
		/* Later parts of a message are not refused for a full queue; a
		 * signal may still interrupt, so EINTR is retried. */
		do
			r = real.msg_send(&e->held[i], s, e->held_flags[i] & ~ZMQ_DONTWAIT);
		while (r < 0 && errno == EINTR && ++tries < 100);
		if (r < 0) {
			int err = errno;
			for (int j = i; j < e->n; j++)
				real.msg_close(&e->held[j]);
			e->n = 0;
			jr_audit_once(JR_WHY_SEND_FAILED, "failed", NULL);
			errno = err;
			return -1;
		}
	}
	e->n = 0;
	return 0;
}

static int is_delimiter(struct frame_in *in)
{
	return in_size(in) == 9 && !memcmp(in_data(in), "<IDS|MSG>", 9);
}

/* libzmq frees a redacted content frame (ours, from rd_mem) when sent. */
static void free_content(void *data, void *hint)
{
	(void)hint;
	rd_mem_free(data);
}

/* The content frame: decide, then send everything. */
static int finish(struct sockstate *e, void *s, struct frame_in *in)
{
	struct jr_frames f;
	struct iovec *v[HELD] = {&f.sig, &f.header, &f.parent, &f.metadata};
	for (int i = 0; i < HELD; i++) {
		v[i]->iov_base = real.msg_data(&e->held[i]);
		v[i]->iov_len = real.msg_size(&e->held[i]);
	}
	f.content.iov_base = (void *)in_data(in);
	f.content.iov_len = in_size(in);
	struct jr_buf content = {0};
	char sig[260];
	size_t sig_len = 0;
	int redacted = jr_message_process(s, &f, &content, sig, &sig_len) == 1;
	zmq_msg_t new_content;
	if (redacted) {
		zmq_msg_t new_sig;
		if (real.msg_init_size(&new_sig, sig_len) == 0) {
			if (real.msg_init_data(&new_content, content.p, content.len, free_content, NULL) == 0) {
				content.p = NULL; /* libzmq's now */
				memcpy(real.msg_data(&new_sig), sig, sig_len);
				real.msg_close(&e->held[0]);
				e->held[0] = new_sig;
			} else {
				real.msg_close(&new_sig);
				redacted = 0;
			}
		} else {
			redacted = 0;
		}
		if (!redacted)
			jr_audit_once(JR_WHY_NOMEM, "unredacted", NULL);
	}
	jr_buf_free(&content);
	int size = size_result(in_size(in));
	if (send_held(e, s) < 0) {
		if (redacted) {
			int err = errno;
			real.msg_close(&new_content);
			errno = err;
		}
		return -1;
	}
	if (!redacted)
		return pass(s, in);
	int r = real.msg_send(&new_content, s, in->flags);
	if (r < 0) {
		int err = errno;
		real.msg_close(&new_content);
		errno = err;
		return -1;
	}
	if (in->kind == IN_MSG) {
		/* Sent: the caller's message is left empty, as libzmq leaves it. */
		real.msg_close(in->msg);
		real.msg_init(in->msg);
	}
	return size;
}

/* One frame through the socket's state machine.  Caller holds e. */
static int on_frame(struct sockstate *e, void *s, struct frame_in *in)
{
	int more = (in->flags & ZMQ_SNDMORE) != 0, r;
	switch (e->phase) {
	case PH_IDLE: {
		/* Idents and the delimiter go straight out.  The delimiter test is
		 * made first: a sent zmq_msg_t is empty afterwards. */
		int delim = more && is_delimiter(in);
		r = pass(s, in);
		if (r >= 0 && delim) {
			e->phase = PH_COLLECT;
			e->n = 0;
		}
		return r;
	}
	case PH_REST:
		r = pass(s, in);
		if (r >= 0 && !more)
			e->phase = PH_IDLE;
		return r;
	default: /* PH_COLLECT */
		break;
	}
	if (e->n == HELD) {
		r = finish(e, s, in);
		e->phase = more && r >= 0 ? PH_REST : PH_IDLE;
		return r;
	}
	if (!more) {
		/* A message that ends before its content: not Jupyter's. */
		r = send_held(e, s);
		if (r == 0)
			r = pass(s, in);
		e->phase = PH_IDLE;
		return r;
	}
	r = take(in, &e->held[e->n]);
	if (r < 0) {
		r = send_held(e, s);
		if (r == 0)
			r = pass(s, in);
		e->phase = r >= 0 ? PH_REST : PH_IDLE;
		return r;
	}
	e->held_flags[e->n] = in->flags;
	e->n++;
	if (e->n == 2 && !jr_header_may_redact(real.msg_data(&e->held[1]), real.msg_size(&e->held[1]))) {
		/* Not output: release it now and pass the rest. */
		int size = r;
		r = send_held(e, s);
		e->phase = r == 0 ? PH_REST : PH_IDLE;
		if (r == 0)
			r = size;
	}
	return r;
}

static int dispatch(void *s, struct frame_in *in)
{
	if (!resolve()) {
		errno = ENOSYS;
		return -1;
	}
	if (!atomic_load_explicit(&seen_call, memory_order_relaxed))
		atomic_store(&seen_call, 1);
	if (!rd_ready() || rd_depth > 0)
		return pass(s, in);
	RD_SAVE_ERRNO;
	rd_depth++;
	int r;
	struct sockstate *e = acquire(s);
	if (!e) {
		r = pass(s, in);
	} else {
		r = on_frame(e, s, in);
		release(e);
	}
	int err = errno;
	rd_depth--;
	if (r < 0)
		errno = err;
	else
		RD_RESTORE_ERRNO;
	return r;
}

RD_EXPORT int zmq_msg_send(zmq_msg_t *msg, void *s, int flags)
{
	struct frame_in in = {IN_MSG, msg, NULL, 0, flags};
	return dispatch(s, &in);
}

RD_EXPORT int zmq_sendmsg(void *s, zmq_msg_t *msg, int flags)
{
	struct frame_in in = {IN_MSG, msg, NULL, 0, flags};
	return dispatch(s, &in);
}

RD_EXPORT int zmq_send(void *s, const void *buf, size_t len, int flags)
{
	struct frame_in in = {IN_BUF, NULL, buf, len, flags};
	return dispatch(s, &in);
}

RD_EXPORT int zmq_send_const(void *s, const void *buf, size_t len, int flags)
{
	struct frame_in in = {IN_CONST, NULL, buf, len, flags};
	return dispatch(s, &in);
}

/* A closed socket's address may be reused by the next one: what was kept
 * for it goes (frames held from a message the program abandoned half-sent
 * are freed, as libzmq discards the message). */
RD_EXPORT int zmq_close(void *s)
{
	if (!resolve()) {
		errno = ENOSYS;
		return -1;
	}
	if (rd_ready() && rd_depth == 0 && s) {
		rd_depth++;
		pthread_mutex_lock(&socks_lock);
		for (int i = 0; i < JR_SOCKETS; i++) {
			struct sockstate *e = &socks[i];
			if (e->sock != s || e->busy)
				continue;
			for (int j = 0; j < e->n; j++)
				real.msg_close(&e->held[j]);
			e->n = 0;
			e->phase = PH_IDLE;
			e->sock = NULL;
		}
		pthread_mutex_unlock(&socks_lock);
		jr_message_forget(s);
		rd_depth--;
	}
	return real.close(s);
}

/* ---- fork and exit ---- */

static void before_fork(void)
{
	pthread_mutex_lock(&socks_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&socks_lock);
}

/* The child has only the forking thread, and must not use its parent's
 * sockets (libzmq forbids it): their states are forgotten, and held frames
 * are left to the parent, which sends them. */
static void after_fork_child(void)
{
	for (int i = 0; i < JR_SOCKETS; i++) {
		socks[i].sock = NULL;
		socks[i].busy = 0;
		socks[i].phase = PH_IDLE;
		socks[i].n = 0;
	}
	pthread_mutex_unlock(&socks_lock);
}

__attribute__((constructor)) static void jr_zmq_init(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* A kernel (a connection file after -f that reads as one) whose messages
 * never came through these functions has libzmq linked in statically, or
 * bound without the dynamic linker: nothing could be redacted.  Reported
 * at exit, the only point where the absence is known. */
__attribute__((destructor)) static void jr_zmq_fini(void)
{
	if (atomic_load(&rd_state) != RD_READY || rd_depth || atomic_load(&seen_call) || !jr_has_connection_arg())
		return;
	if (jr_connection()->state == JR_CONN_OK)
		jr_audit_once(JR_WHY_STATIC_LIBZMQ, "unredacted", NULL);
}
