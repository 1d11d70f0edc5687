/* String tokens of JSON text: find them, decode them, redact them, encode
 * them again.
 *
 * Why a lexer is enough (no JSON parser, no re-serialisation): in JSON a
 * double quote can only appear as the delimiter of a string token or
 * escaped inside one, so tracking "inside a string / after a backslash"
 * finds every string token exactly, and everything outside the tokens --
 * structure, numbers, literals, whitespace -- is copied byte for byte.  A
 * token is replaced by a valid encoding of the redacted text, so the
 * document keeps its structure and every unchanged token keeps its exact
 * bytes; a message without a secret is not re-encoded at all.  Object
 * member names are tokens too and are redacted like values (a secret can be
 * a key of application/json data); the names Jupyter itself uses never
 * match a rule.  Bracket depth is tracked only to know which member of the
 * top-level object a token is (stream "text", execute_reply "status").
 *
 * Secrets are matched on the decoded text, so one escaped by JSON (\", \\,
 * \n, \uXXXX) is still found; the replacement is encoded the way
 * jupyter_client encodes (json.dumps with ensure_ascii=False). */
#include "../rd_hex.h"
#include "jr.h"
#include "rd_hooks.h"

#include <pthread.h>
#include <string.h>

/* ---- buffers ---- */

int jr_buf_reserve(struct jr_buf *b, size_t need)
{
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *p = rd_mem_realloc(b->p, cap);
	if (!p)
		return REDACT_ERROR_NOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int jr_buf_put(struct jr_buf *b, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (jr_buf_reserve(b, b->len + n))
		return REDACT_ERROR_NOMEM;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void jr_buf_free(struct jr_buf *b)
{
	rd_mem_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- lexing ---- */

void jr_lex_init(struct jr_lexer *lx, const uint8_t *p, size_t n)
{
	lx->p = p;
	lx->n = n;
	lx->pos = 0;
	lx->depth = 0;
}

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int jr_lex_next(struct jr_lexer *lx, struct jr_token *t)
{
	const uint8_t *p = lx->p;
	size_t i = lx->pos, n = lx->n;
	for (; i < n; i++) {
		uint8_t c = p[i];
		if (c == '{' || c == '[') {
			lx->depth++;
		} else if (c == '}' || c == ']') {
			if (--lx->depth < 0)
				return -1;
		} else if (c == '"') {
			break;
		}
	}
	if (i >= n) {
		lx->pos = n;
		return lx->depth == 0 ? 0 : -1;
	}
	size_t start = i + 1, q = start;
	/* The closing quote is the first one preceded by an even number of
	 * backslashes. */
	for (;;) {
		const uint8_t *e = memchr(p + q, '"', n - q);
		if (!e)
			return -1;
		size_t at = (size_t)(e - p), k = at;
		while (k > start && p[k - 1] == '\\')
			k--;
		if (((at - k) & 1) == 0) {
			q = at;
			break;
		}
		q = at + 1;
	}
	t->start = start;
	t->end = q;
	t->depth = lx->depth;
	t->has_escape = memchr(p + start, '\\', q - start) != NULL;
	size_t j = q + 1;
	while (j < n && is_ws(p[j]))
		j++;
	t->is_key = j < n && p[j] == ':';
	lx->pos = q + 1;
	return 1;
}

int jr_token_is(const uint8_t *p, const struct jr_token *t, const char *s)
{
	size_t l = strlen(s);
	return t->end - t->start == l && !memcmp(p + t->start, s, l);
}

/* 1 if only whitespace and one ':' lie between a key token and the value
 * token that follows it. */
static int value_of(const uint8_t *p, const struct jr_token *key, const struct jr_token *val)
{
	int colon = 0;
	for (size_t i = key->end + 1; i + 1 < val->start; i++) {
		if (p[i] == ':' && !colon)
			colon = 1;
		else if (!is_ws(p[i]))
			return 0;
	}
	return colon;
}

int jr_json_get(const uint8_t *p, size_t n, const char *key, struct jr_token *val)
{
	struct jr_lexer lx;
	struct jr_token t, prev = {0};
	int have_key = 0, r;
	jr_lex_init(&lx, p, n);
	while ((r = jr_lex_next(&lx, &t)) == 1) {
		if (have_key && !t.is_key && t.depth == 1 && value_of(p, &prev, &t)) {
			*val = t;
			return 1;
		}
		have_key = t.is_key && t.depth == 1 && jr_token_is(p, &t, key);
		prev = t;
	}
	return r < 0 ? -1 : 0;
}

/* ---- decoding and encoding ---- */


static int hex4(const uint8_t *p, size_t left, uint32_t *v)
{
	if (left < 4)
		return -1;
	uint32_t x = 0;
	for (int i = 0; i < 4; i++) {
		int h = rd_hexval((unsigned char)p[i]);
		if (h < 0)
			return -1;
		x = x << 4 | (uint32_t)h;
	}
	*v = x;
	return 0;
}

static size_t utf8_put(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

int jr_unescape(const uint8_t *p, size_t n, struct jr_buf *out)
{
	/* Decoded text is never longer than its encoding. */
	if (jr_buf_reserve(out, out->len + n + 1))
		return REDACT_ERROR_NOMEM;
	uint8_t *o = out->p + out->len;
	size_t i = 0;
	while (i < n) {
		const uint8_t *bs = memchr(p + i, '\\', n - i);
		size_t run = bs ? (size_t)(bs - p) - i : n - i;
		memcpy(o, p + i, run);
		o += run;
		i += run;
		if (!bs)
			break;
		if (i + 1 >= n)
			return REDACT_ERROR_INVALID;
		uint8_t c = p[i + 1];
		i += 2;
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t u, lo;
			if (hex4(p + i, n - i, &u))
				return REDACT_ERROR_INVALID;
			i += 4;
			if (u >= 0xd800 && u <= 0xdbff && i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u' &&
			    !hex4(p + i + 2, n - i - 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			/* A lone surrogate gets its 3-byte form (ED A0..BF xx), which
			 * valid UTF-8 never contains: jr_escape turns it back. */
			o += utf8_put(o, u);
			break;
		}
		default:
			return REDACT_ERROR_INVALID;
		}
	}
	out->len = (size_t)(o - out->p);
	return 0;
}

/* Bytes that need an escape, or a look (0xED: a lone surrogate's form). */
static const uint8_t special[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0xed] = 1,
};

/* 1 if p[i..] is the 3-byte form of a lone surrogate (see jr_unescape). */
static int lone_surrogate(const uint8_t *p, size_t i, size_t n)
{
	return i + 2 < n && p[i + 1] >= 0xa0 && p[i + 1] <= 0xbf && (p[i + 2] & 0xc0) == 0x80;
}

static size_t escaped_size(const uint8_t *p, size_t n)
{
	size_t size = n;
	for (size_t i = 0; i < n; i++) {
		if (__builtin_expect(!special[p[i]], 1))
			continue;
		uint8_t c = p[i];
		if (c == 0xed) {
			if (lone_surrogate(p, i, n)) {
				size += 3; /* 3 bytes become \uXXXX */
				i += 2;
			}
		} else if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
			size += 1;
		} else {
			size += 5;
		}
	}
	return size;
}

int jr_escape(const uint8_t *p, size_t n, struct jr_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	if (jr_buf_reserve(out, out->len + escaped_size(p, n) + 1))
		return REDACT_ERROR_NOMEM;
	uint8_t *o = out->p + out->len;
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && !special[p[run]])
			run++;
		memcpy(o, p + i, run - i);
		o += run - i;
		i = run;
		if (i >= n)
			break;
		uint8_t c = p[i];
		if (c == 0xed) {
			if (lone_surrogate(p, i, n)) {
				uint32_t u = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f);
				*o++ = '\\';
				*o++ = 'u';
				*o++ = (uint8_t)hex[u >> 12];
				*o++ = (uint8_t)hex[(u >> 8) & 15];
				*o++ = (uint8_t)hex[(u >> 4) & 15];
				*o++ = (uint8_t)hex[u & 15];
				i += 3;
			} else {
				*o++ = c;
				i++;
			}
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = (uint8_t)hex[c >> 4];
			*o++ = (uint8_t)hex[c & 15];
		}
		i++;
	}
	out->len = (size_t)(o - out->p);
	return 0;
}

/* ---- redaction ---- */

/* Long texts are fed in parts (the stream carries what is undecided across
 * them): the engine's offsets are 32-bit, and the stream's buffer and the
 * scratch output stay small and warm instead of growing to the size of the
 * largest output (measured: 10 MB messages went ~30% faster than in one
 * part). */
#define JR_PART (1u << 20)
#define JR_BLOCK_PART (64u << 20)

/* Where a text's redacted output goes.  As long as it equals the input
 * nothing is copied (the common case: no secret).  At the first difference
 * the new document is started: the JSON before this token that is not in
 * `out` yet, then the text so far, escaped, and from then on every output
 * chunk, escaped, straight into `out`. */
struct emit {
	const uint8_t *text;
	size_t n, pos;
	int changed;
	struct jr_buf *out;
	const uint8_t *json;   /* the document, and where `out` stops in it */
	size_t copied, token_start;
};

static int emit(struct emit *e, const uint8_t *p, size_t len)
{
	if (!e->changed) {
		if (len <= e->n - e->pos && (p == e->text + e->pos || !memcmp(p, e->text + e->pos, len))) {
			e->pos += len;
			return 0;
		}
		e->changed = 1;
		if (jr_buf_put(e->out, e->json + e->copied, e->token_start - e->copied) ||
		    jr_escape(e->text, e->pos, e->out))
			return REDACT_ERROR_NOMEM;
	}
	return jr_escape(p, len, e->out);
}

static int feed(struct rd_stream *st, const uint8_t *data, size_t n, int final, struct emit *e)
{
	struct rd_scratch *sc = rd_scratch_acquire();
	if (!sc)
		return REDACT_ERROR_NOMEM;
	struct rd_out o;
	int rc = rd_stream_process(rd_ctx, st, sc, data, n, final, "jupyter", &o);
	if (!rc) {
		rc = emit(e, o.data, o.len);
		rd_stream_commit(st, sc, rc ? 0 : o.len, NULL, NULL);
	}
	rd_scratch_release(sc);
	return rc;
}

/* A text is fed as a stream that ends with it (final), so the rules see it
 * whole.  For a stream message the per-stream rd_stream is continued: its
 * context holds the end of the previous message's text, so the rest of a
 * secret that a flush of ipykernel's OutStream cut in two is still found
 * (its first part went out with the earlier message, exactly as bytes
 * released by REDACT_HOLDBACK_MS do on a descriptor: stream.c). */
static int redact_text(struct rd_stream *st, struct emit *e)
{
	struct rd_stream fresh;
	int own = st == NULL;
	if (own) {
		rd_stream_init(&fresh);
		st = &fresh;
	}
	size_t done = 0, n = e->n;
	/* In block mode a notice replaces the part that held a secret: one part
	 * (up to the engine's limit) so that it replaces the whole text. */
	size_t max = rd_ctx->cfg.mode == RD_MODE_BLOCK ? JR_BLOCK_PART : JR_PART;
	int rc = 0;
	do {
		size_t part = n - done < max ? n - done : max;
		rc = feed(st, e->text + done, part, own && done + part == n, e);
		done += part;
	} while (!rc && done < n);
	if (!rc && !own)
		rc = feed(st, (const uint8_t *)"", 0, 1, e);
	if (own)
		rd_stream_destroy(&fresh);
	if (!rc && !e->changed && e->pos != n) {
		/* A shorter output that is a prefix of the text: a change too. */
		e->changed = 1;
		if (jr_buf_put(e->out, e->json + e->copied, e->token_start - e->copied) ||
		    jr_escape(e->text, e->pos, e->out))
			rc = REDACT_ERROR_NOMEM;
	}
	return rc;
}

/* Decoding buffers are kept per thread (warm pages: a fresh mapping for
 * every message costs a page fault per 4 KB), up to JR_KEEP bytes. */
#define JR_KEEP (8u << 20)
static __thread struct jr_buf tls_plain;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

/* Runs in the exiting thread: its own buffers go with it. */
static void tls_free(void *unused)
{
	(void)unused;
	jr_buf_free(&tls_plain);
}

static void tls_make_key(void)
{
	pthread_key_create(&tls_key, tls_free);
}

static void tls_register(void)
{
	pthread_once(&tls_once, tls_make_key);
	if (!pthread_getspecific(tls_key))
		pthread_setspecific(tls_key, &tls_plain);
}

static void trim(struct jr_buf *b)
{
	if (b->cap > JR_KEEP)
		jr_buf_free(b);
	b->len = 0;
}

/* Values that are base64 of binary data, not text (image/png, image/jpeg,
 * application/pdf...): a rule matching by chance would only corrupt them.
 * SVG is text and is redacted. */
static int binary_mime(const uint8_t *p, const struct jr_token *key)
{
	size_t n = key->end - key->start;
	const char *k = (const char *)p + key->start;
	if (n > 6 && !memcmp(k, "image/", 6))
		return !(n == 13 && !memcmp(k, "image/svg+xml", 13));
	return n == 15 && !memcmp(k, "application/pdf", 15);
}

int jr_redact_json(const uint8_t *json, size_t n, const char *stream_key, struct rd_stream *st, struct jr_buf *out)
{
	struct jr_lexer lx;
	struct jr_token t, prev = {0};
	struct jr_buf *plain = &tls_plain;
	size_t copied = 0;
	int any = 0, r, rc = 0, prev_is_stream_key = 0;
	out->len = 0;
	tls_register();
	jr_lex_init(&lx, json, n);
	while ((r = jr_lex_next(&lx, &t)) == 1) {
		int is_value = !t.is_key && prev.is_key && value_of(json, &prev, &t);
		int streamed = st && prev_is_stream_key && is_value && t.depth == 1;
		int binary = is_value && binary_mime(json, &prev);
		prev_is_stream_key = stream_key && t.is_key && t.depth == 1 && jr_token_is(json, &t, stream_key);
		prev = t;
		if (binary)
			continue;
		const uint8_t *text = json + t.start;
		size_t len = t.end - t.start;
		if (t.has_escape) {
			plain->len = 0;
			rc = jr_unescape(text, len, plain);
			if (rc)
				break;
			text = plain->p;
			len = plain->len;
		}
		struct emit e = {text, len, 0, 0, out, json, copied, t.start};
		rc = redact_text(streamed ? st : NULL, &e);
		if (rc)
			break;
		if (!e.changed)
			continue;
		any = 1;
		copied = t.end;
	}
	if (!rc && r < 0)
		rc = REDACT_ERROR_INVALID;
	if (!rc && any)
		rc = jr_buf_put(out, json + copied, n - copied);
	trim(plain);
	if (rc)
		return rc;
	return any;
}
