/* Helpers shared by the unit tests: contexts from inline YAML, redaction
 * into strings, temporary files.  Header-only so every test stays one file. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "redact.h"

/* A private temporary directory per test process. */
static inline const char *tmpdir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/redact-test-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

static inline char *write_tmp(const char *name, const char *text)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/%s", tmpdir(), name);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0); /* atomic replacement, as reloads expect */
	return path;
}

static inline char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 >= cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* A context whose rules are the given YAML text (replacing the built-in
 * set), with optional KEY, VALUE, ... settings, NULL-terminated. */
static inline redact_context *ctx_yaml(const char *yaml, ...)
{
	static int counter;
	char name[64];
	snprintf(name, sizeof(name), "rules-%d.yaml", counter++);
	char *path = write_tmp(name, yaml);
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	/* Hermetic: the runner's own *_TOKEN variables must not add rules. */
	assert_int_equal(redact_config_set(cfg, "REDACT_ENV_NAMES", ""), 0);
	va_list ap;
	va_start(ap, yaml);
	const char *k;
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		assert_int_equal(redact_config_set(cfg, k, v), 0);
	}
	va_end(ap);
	redact_context *ctx = NULL;
	int rc = redact_context_create(&ctx, cfg);
	if (rc) {
		char msg[1024];
		redact_context_error(NULL, msg, sizeof(msg));
		fprintf(stderr, "context: %s\n", msg);
	}
	assert_int_equal(rc, 0);
	redact_config_free(cfg);
	free(path);
	return ctx;
}

/* Redacts a NUL-terminated string; returns a malloc'd result. */
static inline char *redact_str(redact_context *ctx, const char *in, int *secrets)
{
	char *out;
	size_t len;
	int rc = redact_buffer(ctx, in, strlen(in), &out, &len);
	assert_true(rc >= 0);
	if (secrets)
		*secrets = rc;
	char *copy = malloc(len + 1);
	memcpy(copy, out, len);
	copy[len] = 0;
	redact_free(out);
	return copy;
}

#define assert_redacts(ctx, in, expected)                      \
	do {                                                    \
		char *out_ = redact_str((ctx), (in), NULL);     \
		assert_string_equal(out_, (expected));          \
		free(out_);                                     \
	} while (0)

/* Output collected from a stream. */
struct collect {
	char *p;
	size_t len, cap;
	int calls;
};

static inline int collect_cb(void *ud, const char *data, size_t len)
{
	struct collect *c = ud;
	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->p = realloc(c->p, c->cap);
	}
	memcpy(c->p + c->len, data, len);
	c->len += len;
	c->p[c->len] = 0;
	c->calls++;
	return 0;
}

/* A rule file used by several tests. */
#define TEST_RULES                                                                          \
	"family: test\n"                                                                    \
	"rules:\n"                                                                          \
	"  - id: tok\n"                                                                     \
	"    description: test token\n"                                                     \
	"    regex: '\\btok_[a-z0-9]{16}\\b'\n"                                             \
	"    keywords: [tok_]\n"                                                            \
	"  - id: kv-secret\n"                                                               \
	"    description: secret assignment, only the value is masked\n"                    \
	"    regex: '(?i)secret_value\\s*=\\s*(\\w{8,})'\n"                                  \
	"    keywords: [secret_value]\n"                                                    \
	"  - id: pem\n"                                                                     \
	"    description: multi-line block\n"                                               \
	"    regex: '-----BEGIN TEST KEY-----[\\s\\S]*?-----END TEST KEY-----'\n"           \
	"    keywords: [-----begin test]\n"                                                 \
	"    secret_group: 0\n"

#endif
