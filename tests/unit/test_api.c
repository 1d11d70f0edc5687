/* The public API's contracts: argument checks, error codes and messages,
 * counters, streams, threads. */
#include "test_util.h"

#include <pthread.h>

static void test_strerror_and_version(void **state)
{
	(void)state;
	for (int c = REDACT_ERROR_MAX_; c <= 0; c++) {
		const char *s = redact_strerror(c);
		assert_non_null(s);
		assert_true(strlen(s) > 3);
		assert_string_not_equal(s, "unknown error code");
	}
	assert_non_null(strstr(redact_strerror(-1000), "unknown"));
	assert_string_equal(redact_version(), "1.0.0");
}

static void test_invalid_arguments(void **state)
{
	(void)state;
	char *out;
	size_t len;
	assert_int_equal(redact_context_create(NULL, NULL), REDACT_ERROR_INVALID);
	assert_int_equal(redact_buffer(NULL, "x", 1, &out, &len), REDACT_ERROR_INVALID);
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	assert_int_equal(redact_buffer(ctx, NULL, 1, &out, &len), REDACT_ERROR_INVALID);
	assert_int_equal(redact_buffer(ctx, "x", 1, NULL, &len), REDACT_ERROR_INVALID);
	assert_int_equal(redact_buffer_inplace(ctx, NULL, 3), REDACT_ERROR_INVALID);
	assert_int_equal(redact_stream_create(ctx, NULL, NULL, NULL), REDACT_ERROR_INVALID);
	assert_int_equal(redact_stream_write(NULL, "x", 1), REDACT_ERROR_INVALID);
	assert_int_equal(redact_stream_flush(NULL), REDACT_ERROR_INVALID);
	assert_int_equal(redact_reload(NULL), REDACT_ERROR_INVALID);
	assert_int_equal(redact_rule_count(NULL), REDACT_ERROR_INVALID);
	redact_rule_info info;
	assert_int_equal(redact_rule_get(ctx, 999, &info), REDACT_ERROR_NOT_FOUND);
	uint64_t c;
	assert_int_equal(redact_rule_matches(ctx, "no-such-rule", &c), REDACT_ERROR_NOT_FOUND);
	redact_context_free(ctx);
	redact_context_free(NULL);
	redact_stream_free(NULL);
	redact_config_free(NULL);
	redact_free(NULL);
}

static void test_rules_and_counters(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	assert_int_equal(redact_rule_count(ctx), 3);
	redact_rule_info info;
	assert_int_equal(redact_rule_get(ctx, 0, &info), 0);
	assert_string_equal(info.id, "tok");
	assert_string_equal(info.family, "test");
	assert_int_equal(info.matches, 0);
	for (int i = 0; i < 5; i++) {
		char *o = redact_str(ctx, "tok_0123456789abcdef secret_value=hunter2hunter2", NULL);
		free(o);
	}
	uint64_t n;
	assert_int_equal(redact_rule_matches(ctx, "tok", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(redact_rule_matches(ctx, "kv-secret", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(redact_rule_get(ctx, 0, &info), 0);
	assert_int_equal(info.matches, 5);
	/* counters survive a reload */
	assert_int_equal(redact_reload(ctx), 0);
	assert_int_equal(redact_rule_matches(ctx, "tok", &n), 0);
	assert_int_equal(n, 5);
	redact_context_free(ctx);
}

static void test_context_error_message(void **state)
{
	(void)state;
	char *path = write_tmp("broken-api.yaml", "family: x\nrules:\n  - id: b\n    description: d\n"
						      "    regex: '(unclosed'\n    keywords: [abcd]\n");
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	redact_context *ctx = NULL;
	assert_int_equal(redact_context_create(&ctx, cfg), REDACT_ERROR_RULES);
	assert_null(ctx);
	char msg[512];
	assert_true(redact_context_error(NULL, msg, sizeof(msg)) > 0);
	assert_non_null(strstr(msg, "broken-api.yaml:3: rule 'b': regex does not compile at offset 9"));
	redact_config_free(cfg);
	free(path);
}

/* Many threads on one context: each gets the right answer. */
static redact_context *shared;
static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		char *out;
		size_t len;
		if (redact_buffer(shared, "a tok_0123456789abcdef b", 24, &out, &len) != 1)
			return (void *)1;
		int ok = !strcmp(out, "a ******************** b");
		redact_free(out);
		if (!ok)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	shared = ctx_yaml(TEST_RULES, NULL);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	uint64_t n;
	assert_int_equal(redact_rule_matches(shared, "tok", &n), 0);
	assert_int_equal(n, 8000);
	redact_context_free(shared);
}

static void test_large_buffer(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	size_t n = 8u << 20;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	for (size_t at = 1000; at + 40 < n; at += 1000003) {
		big[at - 1] = ' ';
		memcpy(big + at, "tok_0123456789abcdef ", 21);
	}
	char *out;
	size_t len;
	int rc = redact_buffer(ctx, big, n, &out, &len);
	assert_int_equal(rc, 9);
	assert_int_equal(len, n);
	for (size_t at = 1000; at + 40 < n; at += 1000003)
		assert_int_equal(memcmp(out + at, "********************", 20), 0);
	redact_free(out);
	free(big);
	redact_context_free(ctx);
}

/* The built-in set: the opt-in private-ip family is off by default (and left
 * out of the prebuilt keyword index), on when enabled by family name. */
static redact_context *builtin_ctx(const char *enable)
{
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_ENV_NAMES", ""), 0);
	if (enable)
		assert_int_equal(redact_config_set(cfg, "REDACT_RULES_ENABLE", enable), 0);
	redact_context *ctx = NULL;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	redact_config_free(cfg);
	return ctx;
}

static void test_opt_in_family(void **state)
{
	(void)state;
	const char *line = "MASTER_ADDR=10.42.7.19 token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5 torch==2.1.0\n";
	redact_context *off = builtin_ctx(NULL);
	assert_redacts(off, line,
		       "MASTER_ADDR=10.42.7.19 token **************************************** torch==2.1.0\n");
	redact_context_free(off);
	redact_context *on = builtin_ctx("private-ip");
	assert_redacts(on, line,
		       "MASTER_ADDR=********** token **************************************** torch==2.1.0\n");
	redact_context_free(on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_and_version), cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_rules_and_counters),   cmocka_unit_test(test_context_error_message),
		cmocka_unit_test(test_threads),              cmocka_unit_test(test_large_buffer),
		cmocka_unit_test(test_opt_in_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
