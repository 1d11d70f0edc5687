/* Jupyter support: redacting kernel output inside the kernel process.
 *
 * Kernel output travels as signed ZMQ messages (field notes section 7):
 *   [idents..., "<IDS|MSG>", signature, header, parent_header, metadata,
 *    content, buffers...]
 * Changing bytes at send(2) breaks the HMAC and makes servers drop output,
 * so the library works one level up, at the libzmq send API, where whole
 * frames are available: it redacts the content of output messages and signs
 * them again with the key from the kernel's connection file.
 *
 *   zmq_hooks.c   the exported zmq_* send functions, the real ones, and the
 *                 per-socket frame state machine (lib/jupyter/zmq_hooks.def)
 *   message.c     one message: which types, redaction of the content,
 *                 signature check and re-signing, per-stream context
 *   connection.c  is this process a kernel: argv -f, the connection file
 *   hmac.c        HMAC with OpenSSL's libcrypto, loaded with dlopen
 *   json_text.c   string tokens of JSON text: lexing, unescaping, escaping
 *
 * Nothing here calls malloc: buffers come from rd_mem like the rest of the
 * interposition layer. */
#ifndef RD_JUPYTER_H
#define RD_JUPYTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rd_stream;

/* ---- growable byte buffers (json_text.c) ---- */
struct jr_buf {
	uint8_t *p;
	size_t len, cap;
};
int jr_buf_reserve(struct jr_buf *b, size_t need);
int jr_buf_put(struct jr_buf *b, const void *p, size_t n);
void jr_buf_free(struct jr_buf *b);

/* ---- JSON string tokens (json_text.c) ---- */
struct jr_token {
	size_t start, end; /* the string's raw bytes, between the quotes */
	int depth;         /* nesting of objects/arrays around it: 1 = member of the top-level object */
	int is_key;        /* an object member name (followed by ':') */
	int has_escape;    /* contains a backslash */
};
struct jr_lexer {
	const uint8_t *p;
	size_t n, pos;
	int depth;
};
void jr_lex_init(struct jr_lexer *lx, const uint8_t *p, size_t n);
/* The next string token: 1, 0 at the end, -1 if the text is not JSON we can
 * handle (an unterminated string, unbalanced brackets). */
int jr_lex_next(struct jr_lexer *lx, struct jr_token *t);
/* The string value of member `key` of the top-level object: 1 (raw token in
 * *val), 0 if absent or not a string, -1 malformed. */
int jr_json_get(const uint8_t *p, size_t n, const char *key, struct jr_token *val);
/* 1 if the raw token equals the plain ASCII string s (no escapes). */
int jr_token_is(const uint8_t *p, const struct jr_token *t, const char *s);
/* Decodes a raw JSON string body into UTF-8 (appended to out).  A lone
 * surrogate \uD800-\uDFFF becomes its 3-byte (CESU) form, which jr_escape
 * turns back into the same escape.  -1 on an invalid escape. */
int jr_unescape(const uint8_t *p, size_t n, struct jr_buf *out);
/* Encodes text as a JSON string body the way Python's json.dumps does with
 * ensure_ascii=False (what jupyter_client sends): \" \\ \b \f \n \r \t,
 * \u00XX for other control characters, everything else as is. */
int jr_escape(const uint8_t *p, size_t n, struct jr_buf *out);

/* Redacts every string token of the JSON text json[0..n).  The value of
 * top-level member `stream_key` (if not NULL) is redacted through `st`.
 * Returns 1 with the new JSON in out when something changed, 0 when not,
 * negative on error (malformed JSON: REDACT_ERROR_INVALID). */
int jr_redact_json(const uint8_t *json, size_t n, const char *stream_key, struct rd_stream *st, struct jr_buf *out);

/* ---- connection file (connection.c) ---- */
enum jr_conn_state {
	JR_CONN_UNKNOWN = 0,
	JR_CONN_OK,          /* a kernel with a usable key */
	JR_CONN_NONE,        /* no -f in argv: not a kernel we can sign for */
	JR_CONN_UNREADABLE,  /* -f names a file we cannot read or parse */
	JR_CONN_SCHEME,      /* signature_scheme not supported */
	JR_CONN_NO_CRYPTO,   /* libcrypto could not be loaded */
};
struct jr_conn {
	int state;
	uint8_t key[1024];
	size_t key_len;
	char scheme[64];   /* e.g. "hmac-sha256" */
	char path[4096];
};
/* The process's connection info, loaded on first use (and retried while the
 * file is unreadable: ipykernel may still be writing it). */
const struct jr_conn *jr_connection(void);
/* 1 if argv named a connection file (this looks like a kernel). */
int jr_has_connection_arg(void);

/* ---- HMAC (hmac.c) ---- */
/* Loads libcrypto (RTLD_NOLOAD first: a Python kernel has it already) and
 * checks that the digest exists.  0 or -1 (*why: a static message). */
int jr_hmac_setup(const char *digest, const char **why);
/* Hex HMAC of the concatenated parts, as jupyter_client's Session.sign;
 * returns the number of hex characters written to hex (>= 2 * 64 + 1 bytes), or -1. */
int jr_hmac_hex(const char *digest, const uint8_t *key, size_t key_len, const struct iovec *parts, int nparts,
		char *hex, size_t hex_size);

/* ---- messages (message.c) ---- */
struct jr_frames {
	struct iovec sig, header, parent, metadata, content;
};
/* Decides about one complete message (its first five frames after the
 * delimiter).  Returns 1 when the content was redacted: new_content and
 * new_sig hold the replacement frames; 0 to send the message unchanged. */
int jr_message_process(void *sock, const struct jr_frames *f, struct jr_buf *new_content, char *new_sig,
		       size_t *new_sig_len);
/* Forgets the streams of a socket being closed. */
void jr_message_forget(void *sock);
/* 1 if the header names a message type whose content is output. */
int jr_header_may_redact(const uint8_t *header, size_t n);
/* One audit event per reason and process (event "jupyter"). */
void jr_audit_once(int reason, const char *action, const char *detail);
enum {
	JR_WHY_NO_CONNECTION,
	JR_WHY_UNREADABLE,
	JR_WHY_SCHEME,
	JR_WHY_NO_CRYPTO,
	JR_WHY_BAD_SIGNATURE,
	JR_WHY_NOT_JSON,
	JR_WHY_NO_LIBZMQ,
	JR_WHY_STATIC_LIBZMQ,
	JR_WHY_NOMEM,
	JR_WHY_SEND_FAILED,
	JR_WHY_READY,
	JR_WHY_MAX_
};

#endif
