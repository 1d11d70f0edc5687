/* One Jupyter message: is it output, redact its content, sign it again.
 *
 * Output is what the kernel publishes as stream, execute_result,
 * display_data, update_display_data and error (IOPub), plus execute_reply
 * with status "error" (shell), which carries the traceback too (field notes
 * section 7).  Everything else -- execute_input (the user's code), status,
 * comms, replies without errors -- is sent as it came.
 *
 * The content is redacted token by token (json_text.c); the header,
 * parent header and metadata are unchanged, and the signature is the HMAC of
 * the four frames as jupyter_client computes it (Session.sign: the frames
 * concatenated, no separators).
 *
 * Before the first re-signed message goes out, the kernel's own signature
 * of the original is checked with the key we read: if it does not verify,
 * the file was not this kernel's, nothing is changed from then on, and one
 * audit event says so (a wrong signature would make every client drop the
 * output: field notes section 7).
 *
 * Stream messages of one socket and stream name (stdout, stderr) are one
 * text: each keeps an rd_stream whose context carries the end of the
 * previous message (json_text.c, redact_text).  At most JR_STREAMS
 * streams are kept (the least recently used is dropped); each is flushed
 * with every message, so nothing is ever held back. */
#include "jr.h"
#include "rd_hooks.h"

#include <pthread.h>
#include <string.h>

#define JR_STREAMS 16

struct stream_slot {
	void *sock;
	char name[32];
	struct rd_stream st;
	uint64_t used;
};

RD_LARGE_BSS static struct stream_slot slots[JR_STREAMS];
static uint64_t use_clock;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int key_checked; /* 0 not yet, 1 verified, -1 did not verify: redaction off */
static _Atomic unsigned char reported[JR_WHY_MAX_];

static const char *const why_text[JR_WHY_MAX_] = {
	[JR_WHY_NO_CONNECTION] = "a process sends Jupyter output but has no connection file after -f: outputs are not redacted",
	[JR_WHY_UNREADABLE] = "the kernel's connection file cannot be read or has no key: outputs are not redacted",
	[JR_WHY_SCHEME] = "the connection file's signature_scheme is not supported: outputs are not redacted",
	[JR_WHY_NO_CRYPTO] = "libcrypto (OpenSSL) could not be loaded to sign messages: outputs are not redacted",
	[JR_WHY_BAD_SIGNATURE] = "the kernel's messages do not verify with the connection file's key: outputs are not redacted",
	[JR_WHY_NOT_JSON] = "a message content is not JSON the library can read: that message is not redacted",
	[JR_WHY_NO_LIBZMQ] = "the real libzmq send functions could not be found",
	[JR_WHY_STATIC_LIBZMQ] = "this kernel sent no message through libzmq's exported send functions (libzmq linked "
				 "statically into pyzmq?): outputs were not redacted",
	[JR_WHY_NOMEM] = "out of memory while redacting a message: that message is not redacted",
	[JR_WHY_SEND_FAILED] = "libzmq failed to send the rest of a message the library had held",
	[JR_WHY_READY] = "kernel output is redacted and re-signed",
};

void jr_audit_once(int reason, const char *action, const char *detail)
{
	if (reason < 0 || reason >= JR_WHY_MAX_ || atomic_exchange(&reported[reason], 1))
		return;
	if (!rd_ctx)
		return;
	struct rd_audit_event ev = {
		.event = "jupyter",
		.channel = "jupyter",
		.action = action,
		.offset = -1,
		.length = -1,
		.detail = detail ? detail : why_text[reason],
	};
	rd_audit(&rd_ctx->cfg, &ev);
}

static const char *const output_types[] = {"stream", "execute_result", "display_data", "update_display_data",
					   "error", "execute_reply", NULL};

/* Index in output_types, or -1. */
static int msg_type(const uint8_t *header, size_t n)
{
	struct jr_token t;
	if (jr_json_get(header, n, "msg_type", &t) != 1)
		return -1;
	for (int i = 0; output_types[i]; i++)
		if (jr_token_is(header, &t, output_types[i]))
			return i;
	return -1;
}

int jr_header_may_redact(const uint8_t *header, size_t n)
{
	return msg_type(header, n) >= 0;
}

static int is_object(const struct iovec *v)
{
	const uint8_t *p = v->iov_base;
	for (size_t i = 0; i < v->iov_len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return p[i] == '{';
	return 0;
}

static struct rd_stream *stream_for(void *sock, const uint8_t *name, size_t len)
{
	struct stream_slot *free_slot = NULL, *lru = &slots[0];
	if (len >= sizeof(slots[0].name))
		len = sizeof(slots[0].name) - 1;
	for (int i = 0; i < JR_STREAMS; i++) {
		struct stream_slot *s = &slots[i];
		if (s->sock == sock && s->sock && strlen(s->name) == len && !memcmp(s->name, name, len)) {
			s->used = ++use_clock;
			return &s->st;
		}
		if (!s->sock && !free_slot)
			free_slot = s;
		if (s->used < lru->used)
			lru = s;
	}
	struct stream_slot *s = free_slot ? free_slot : lru;
	rd_stream_destroy(&s->st);
	rd_stream_init(&s->st);
	s->sock = sock;
	memcpy(s->name, name, len);
	s->name[len] = 0;
	s->used = ++use_clock;
	return &s->st;
}

void jr_message_forget(void *sock)
{
	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < JR_STREAMS; i++) {
		if (slots[i].sock == sock) {
			rd_stream_destroy(&slots[i].st);
			rd_stream_init(&slots[i].st);
			slots[i].sock = NULL;
			slots[i].used = 0;
		}
	}
	pthread_mutex_unlock(&slots_lock);
}

static int sign(const struct jr_conn *c, const struct jr_frames *f, const struct iovec *content, char *hex, size_t size)
{
	struct iovec parts[4] = {f->header, f->parent, f->metadata, *content};
	return jr_hmac_hex(c->scheme + 5, c->key, c->key_len, parts, 4, hex, size);
}

/* The original signature verifies with our key (checked once). */
static int key_verified(const struct jr_conn *c, const struct jr_frames *f)
{
	int k = atomic_load(&key_checked);
	if (k)
		return k > 0;
	int ok;
	if (!c->key_len) {
		ok = f->sig.iov_len == 0;
	} else {
		char hex[260];
		int n = sign(c, f, &f->content, hex, sizeof(hex));
		ok = n > 0 && (size_t)n == f->sig.iov_len && !memcmp(hex, f->sig.iov_base, (size_t)n);
	}
	atomic_store(&key_checked, ok ? 1 : -1);
	jr_audit_once(ok ? JR_WHY_READY : JR_WHY_BAD_SIGNATURE, ok ? "ok" : "unredacted", NULL);
	return ok;
}

static const char *state_why(int state, int *reason)
{
	switch (state) {
	case JR_CONN_NONE: *reason = JR_WHY_NO_CONNECTION; break;
	case JR_CONN_SCHEME: *reason = JR_WHY_SCHEME; break;
	case JR_CONN_NO_CRYPTO: *reason = JR_WHY_NO_CRYPTO; break;
	default: *reason = JR_WHY_UNREADABLE; break;
	}
	return why_text[*reason];
}

/* A fork while another thread redacts a stream message must not leave the
 * child with the lock taken (a forked kernel child prints too). */
static void lock_slots(void)
{
	pthread_mutex_lock(&slots_lock);
}

static void unlock_slots(void)
{
	pthread_mutex_unlock(&slots_lock);
}

__attribute__((constructor)) static void jr_message_init(void)
{
	pthread_atfork(lock_slots, unlock_slots, unlock_slots);
}

int jr_message_process(void *sock, const struct jr_frames *f, struct jr_buf *new_content, char *new_sig,
		       size_t *new_sig_len)
{
	const uint8_t *content = f->content.iov_base;
	size_t clen = f->content.iov_len;
	int type = msg_type(f->header.iov_base, f->header.iov_len);
	if (type < 0)
		return 0;
	if (!strcmp(output_types[type], "execute_reply")) {
		struct jr_token t;
		if (jr_json_get(content, clen, "status", &t) != 1 || !jr_token_is(content, &t, "error"))
			return 0;
	}
	const struct jr_conn *c = jr_connection();
	if (c->state != JR_CONN_OK) {
		int reason;
		state_why(c->state, &reason);
		jr_audit_once(reason, "unredacted", NULL);
		return 0;
	}
	if (atomic_load(&key_checked) < 0)
		return 0;
	if (!is_object(&f->content)) {
		jr_audit_once(JR_WHY_NOT_JSON, "unredacted", NULL);
		return 0;
	}
	rd_context_ensure_reloader(rd_ctx);
	int rc;
	if (!strcmp(output_types[type], "stream")) {
		struct jr_token name;
		if (jr_json_get(content, clen, "name", &name) != 1)
			name.start = name.end = 0;
		pthread_mutex_lock(&slots_lock);
		struct rd_stream *st = stream_for(sock, content + name.start, name.end - name.start);
		rc = jr_redact_json(content, clen, "text", st, new_content);
		pthread_mutex_unlock(&slots_lock);
	} else {
		rc = jr_redact_json(content, clen, NULL, NULL, new_content);
	}
	if (rc <= 0) {
		if (rc < 0)
			jr_audit_once(rc == REDACT_ERROR_NOMEM ? JR_WHY_NOMEM : JR_WHY_NOT_JSON, "unredacted", NULL);
		return 0;
	}
	if (!key_verified(c, f))
		return 0;
	if (!c->key_len) {
		*new_sig_len = 0;
		new_sig[0] = 0;
		return 1;
	}
	struct iovec nc = {new_content->p, new_content->len};
	int n = sign(c, f, &nc, new_sig, 260);
	if (n < 0) {
		jr_audit_once(JR_WHY_NO_CRYPTO, "unredacted", "signing a redacted message failed: sent unchanged");
		return 0;
	}
	*new_sig_len = (size_t)n;
	return 1;
}
