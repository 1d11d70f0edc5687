/* The public API (include/redact.h): thin wrappers over the context, the
 * engine and streams.  This is ordinary library code called from the
 * program, so it may use malloc for what it returns to the caller. */
#include "redact.h"
#include "rd_context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RD_EXPORT __attribute__((visibility("default")))

RD_EXPORT const char *redact_strerror(int code)
{
	switch (code) {
	case REDACT_OK: return "success";
	case REDACT_ERROR_NOMEM: return "out of memory";
	case REDACT_ERROR_INVALID: return "invalid argument";
	case REDACT_ERROR_RULES: return "a rule source is malformed or does not compile";
	case REDACT_ERROR_IO: return "a file or directory could not be read";
	case REDACT_ERROR_CONFIG: return "unknown setting or invalid value";
	case REDACT_ERROR_NOT_FOUND: return "no such rule or index";
	case REDACT_ERROR_OUTPUT: return "the output callback failed";
	}
	return code > 0 ? "not an error code (a count)" : "unknown error code";
}

RD_EXPORT const char *redact_version(void)
{
#define STR2(x) #x
#define STR(x) STR2(x)
	return STR(REDACT_VERSION_MAJOR) "." STR(REDACT_VERSION_MINOR) "." STR(REDACT_VERSION_PATCH);
}

/* ---- config ---- */

struct redact_config {
	struct rd_config c;
};

RD_EXPORT int redact_config_create(redact_config **out)
{
	if (!out)
		return REDACT_ERROR_INVALID;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return REDACT_ERROR_NOMEM;
	rd_config_defaults(&(*out)->c);
	return 0;
}

RD_EXPORT void redact_config_free(redact_config *cfg)
{
	free(cfg);
}

RD_EXPORT int redact_config_set(redact_config *cfg, const char *key, const char *value)
{
	if (!cfg || !key || !value)
		return REDACT_ERROR_INVALID;
	struct rd_config before = cfg->c;
	int rc = rd_config_set(&cfg->c, key, value, "redact_config_set");
	if (rc) {
		/* keep the message, drop nothing else */
		before.nerrors = cfg->c.nerrors;
		memcpy(before.errors, cfg->c.errors, sizeof(before.errors));
		cfg->c = before;
	}
	return rc;
}

RD_EXPORT int redact_config_load_env(redact_config *cfg)
{
	if (!cfg)
		return REDACT_ERROR_INVALID;
	return rd_config_load_env(&cfg->c);
}

RD_EXPORT int redact_config_load_file(redact_config *cfg, const char *path)
{
	if (!cfg || !path)
		return REDACT_ERROR_INVALID;
	return rd_config_load_file(&cfg->c, path);
}

RD_EXPORT size_t redact_config_error(const redact_config *cfg, char *buf, size_t size)
{
	if (!cfg || !cfg->c.nerrors)
		return 0;
	int last = cfg->c.nerrors < 4 ? cfg->c.nerrors - 1 : 3;
	int n = snprintf(buf, size, "%s", cfg->c.errors[last]);
	return n > 0 ? (size_t)n : 0;
}

/* ---- context ---- */

static pthread_mutex_t create_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char create_error[1024];

RD_EXPORT int redact_context_create(redact_context **out, const redact_config *cfg)
{
	if (!out)
		return REDACT_ERROR_INVALID;
	struct rd_config *c = malloc(sizeof(*c));
	if (!c)
		return REDACT_ERROR_NOMEM;
	if (cfg) {
		*c = cfg->c;
		c->nerrors = 0; /* already reported to the caller by redact_config_* */
	} else {
		rd_config_defaults(c);
		rd_config_load_file(c, rd_config_file_path());
		rd_config_load_env(c);
	}
	char err[1024] = "";
	int rc = rd_context_create(out, c, 0, err, sizeof(err));
	free(c);
	if (rc) {
		pthread_mutex_lock(&create_error_lock);
		snprintf(create_error, sizeof(create_error), "%s", err[0] ? err : redact_strerror(rc));
		pthread_mutex_unlock(&create_error_lock);
	}
	return rc;
}

/* The preloaded library's way (rules compiled lazily, reloader started on
 * first use, built-in fallback on a broken source), for tools and tests. */
int rd_context_create_lazy_from_config(redact_context **out, const redact_config *cfg)
{
	char err[1024] = "";
	return rd_context_create(out, &cfg->c, 1, err, sizeof(err));
}

RD_EXPORT void redact_context_free(redact_context *ctx)
{
	rd_context_destroy(ctx);
}

RD_EXPORT size_t redact_context_error(const redact_context *ctx, char *buf, size_t size)
{
	int n;
	if (!ctx) {
		pthread_mutex_lock(&create_error_lock);
		n = snprintf(buf, size, "%s", create_error);
		pthread_mutex_unlock(&create_error_lock);
	} else {
		redact_context *cx = (redact_context *)ctx;
		pthread_mutex_lock(&cx->error_lock);
		n = snprintf(buf, size, "%s", cx->last_error);
		pthread_mutex_unlock(&cx->error_lock);
	}
	return n > 0 ? (size_t)n : 0;
}

RD_EXPORT int redact_reload(redact_context *ctx)
{
	if (!ctx)
		return REDACT_ERROR_INVALID;
	rd_context_ensure_reloader(ctx);
	return rd_context_reload(ctx, 0);
}

/* ---- streams ---- */

/* The engine works on 32-bit offsets; the API feeds larger inputs in parts. */
#define API_PART (256u << 20)

struct redact_stream {
	redact_context *ctx;
	struct rd_stream st;
	redact_output_fn output;
	void *userdata;
};

/* Runs data through a stream, handing every output chunk to fn. */
static int run(redact_context *ctx, struct rd_stream *st, const uint8_t *data, size_t n, int final,
	       redact_output_fn fn, void *ud)
{
	int secrets = 0;
	size_t done = 0;
	do {
		size_t part = n - done < API_PART ? n - done : API_PART;
		int last = done + part == n;
		struct rd_scratch *sc = rd_scratch_acquire();
		if (!sc)
			return REDACT_ERROR_NOMEM;
		struct rd_out out;
		int rc = rd_stream_process(ctx, st, sc, data + done, part, final && last, "api", &out);
		if (!rc) {
			int failed = out.len && fn(ud, (const char *)out.data, out.len);
			rd_stream_commit(st, sc, failed ? 0 : out.len, NULL, NULL);
			if (failed)
				rc = REDACT_ERROR_OUTPUT;
		}
		rd_scratch_release(sc);
		if (rc)
			return rc;
		secrets += out.secrets;
		done += part;
	} while (done < n);
	return secrets;
}

RD_EXPORT int redact_stream_create(redact_context *ctx, redact_output_fn output, void *userdata, redact_stream **out)
{
	if (!ctx || !output || !out)
		return REDACT_ERROR_INVALID;
	redact_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return REDACT_ERROR_NOMEM;
	s->ctx = ctx;
	rd_stream_init(&s->st);
	s->output = output;
	s->userdata = userdata;
	*out = s;
	return 0;
}

RD_EXPORT int redact_stream_write(redact_stream *s, const void *data, size_t len)
{
	if (!s || (!data && len))
		return REDACT_ERROR_INVALID;
	rd_context_ensure_reloader(s->ctx);
	if (!len)
		return 0;
	return run(s->ctx, &s->st, data, len, 0, s->output, s->userdata);
}

RD_EXPORT int redact_stream_flush(redact_stream *s)
{
	if (!s)
		return REDACT_ERROR_INVALID;
	return run(s->ctx, &s->st, (const uint8_t *)"", 0, 1, s->output, s->userdata);
}

RD_EXPORT size_t redact_stream_pending(const redact_stream *s)
{
	return s ? s->st.pend_len : 0;
}

RD_EXPORT void redact_stream_free(redact_stream *s)
{
	if (!s)
		return;
	rd_stream_destroy(&s->st);
	free(s);
}

/* ---- buffers ---- */

struct growbuf {
	char *p;
	size_t len, cap;
};

static int append(void *ud, const char *data, size_t len)
{
	struct growbuf *g = ud;
	if (g->len + len + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 256;
		while (cap < g->len + len + 1)
			cap *= 2;
		char *p = realloc(g->p, cap);
		if (!p)
			return -1;
		g->p = p;
		g->cap = cap;
	}
	memcpy(g->p + g->len, data, len);
	g->len += len;
	return 0;
}

RD_EXPORT int redact_buffer(redact_context *ctx, const void *in, size_t in_len, char **out, size_t *out_len)
{
	if (!ctx || (!in && in_len) || !out || !out_len)
		return REDACT_ERROR_INVALID;
	rd_context_ensure_reloader(ctx);
	struct rd_stream st;
	rd_stream_init(&st);
	struct growbuf g = {0};
	int rc = append(&g, "", 0) ? REDACT_ERROR_NOMEM : 0;
	if (!rc)
		rc = run(ctx, &st, in ? in : "", in_len, 1, append, &g);
	rd_stream_destroy(&st);
	if (rc < 0) {
		free(g.p);
		return rc == REDACT_ERROR_OUTPUT ? REDACT_ERROR_NOMEM : rc;
	}
	g.p[g.len] = 0;
	*out = g.p;
	*out_len = g.len;
	return rc;
}

struct inplace {
	char *dst;
	size_t off;
};

static int copy_back(void *ud, const char *data, size_t len)
{
	struct inplace *ip = ud;
	memcpy(ip->dst + ip->off, data, len);
	ip->off += len;
	return 0;
}

RD_EXPORT int redact_buffer_inplace(redact_context *ctx, void *buf, size_t len)
{
	if (!ctx || (!buf && len))
		return REDACT_ERROR_INVALID;
	if (!len)
		return 0;
	rd_context_ensure_reloader(ctx);
	struct rd_stream st;
	rd_stream_init(&st);
	st.length_preserving = 1; /* stars whatever REDACT_MASK says */
	struct inplace ip = {buf, 0};
	/* Output never overtakes input: the render of buf[a..b) is copied back
	 * to [a..b) only after those bytes were copied into the stream. */
	int rc = run(ctx, &st, buf, len, 1, copy_back, &ip);
	rd_stream_destroy(&st);
	if (rc > 0 && ctx->cfg.mode == RD_MODE_BLOCK)
		memset(buf, '*', len);
	return rc;
}

RD_EXPORT void redact_free(void *p)
{
	free(p);
}

/* ---- rules and counters ---- */

/* Rules that run: a set keeps disabled rules in place (built-in rule
 * indexes are fixed by the prebuilt keyword index). */
static size_t enabled_rules(const struct rd_ruleset *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->nrules; i++)
		n += !rs->rules[i].disabled;
	return n;
}

static uint64_t counter_value(redact_context *ctx, const char *id)
{
	uint64_t v = 0;
	pthread_mutex_lock(&ctx->counters.lock);
	for (struct rd_counter *c = ctx->counters.head; c; c = c->next)
		if (!strcmp(c->id, id)) {
			v = atomic_load(&c->matches);
			break;
		}
	pthread_mutex_unlock(&ctx->counters.lock);
	return v;
}

RD_EXPORT int redact_rule_count(redact_context *ctx)
{
	if (!ctx)
		return REDACT_ERROR_INVALID;
	int rc = rd_context_ensure_rules(ctx);
	if (rc)
		return rc;
	rd_context_read_lock();
	struct rd_ruleset *rs = rd_context_rules(ctx);
	int n = rs ? (int)enabled_rules(rs) : 0;
	rd_context_read_unlock();
	return n;
}

RD_EXPORT int redact_rule_get(redact_context *ctx, size_t index, redact_rule_info *info)
{
	if (!ctx || !info)
		return REDACT_ERROR_INVALID;
	int rc = rd_context_ensure_rules(ctx);
	if (rc)
		return rc;
	rc = REDACT_ERROR_NOT_FOUND;
	rd_context_read_lock();
	struct rd_ruleset *rs = rd_context_rules(ctx);
	for (size_t i = 0, k = 0; rs && i < rs->nrules; i++) {
		const struct rd_rule *r = &rs->rules[i];
		if (r->disabled || k++ != index)
			continue;
		memset(info, 0, sizeof(*info));
		snprintf(info->id, sizeof(info->id), "%s", r->def->id);
		snprintf(info->family, sizeof(info->family), "%s", r->def->family ? r->def->family : "");
		rc = 0;
		break;
	}
	rd_context_read_unlock();
	if (!rc)
		info->matches = counter_value(ctx, info->id);
	return rc;
}

RD_EXPORT int redact_rule_matches(redact_context *ctx, const char *rule_id, uint64_t *count)
{
	if (!ctx || !rule_id || !count)
		return REDACT_ERROR_INVALID;
	int rc = REDACT_ERROR_NOT_FOUND;
	pthread_mutex_lock(&ctx->counters.lock);
	for (struct rd_counter *c = ctx->counters.head; c; c = c->next) {
		if (!strcmp(c->id, rule_id)) {
			*count = atomic_load(&c->matches);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ctx->counters.lock);
	return rc;
}
