/* Mask styles (stars, label), modes (mask, block, log_only), the in-place
 * API, and idempotence: redacting output again finds nothing. */
#include "test_util.h"

static void test_stars_keep_length(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	const char *in = "a tok_0123456789abcdef b secret_value=hunter2hunter2 c\n";
	char *out = redact_str(ctx, in, NULL);
	assert_int_equal(strlen(out), strlen(in));
	assert_string_equal(out, "a ******************** b secret_value=************** c\n");
	free(out);
	redact_context_free(ctx);
}

static void test_label(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_MASK", "label", NULL);
	int n;
	char *out = redact_str(ctx, "a tok_0123456789abcdef b secret_value=hunter2hunter2 c\n", &n);
	assert_int_equal(n, 2);
	assert_string_equal(out, "a [REDACTED:tok] b secret_value=[REDACTED:kv-secret] c\n");
	/* a label is never matched again */
	int n2;
	char *again = redact_str(ctx, out, &n2);
	assert_int_equal(n2, 0);
	assert_string_equal(again, out);
	free(again);
	free(out);
	redact_context_free(ctx);
}

static void test_label_merges_adjacent(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_MASK", "label", NULL);
	/* two spans touching: one label */
	char *out = redact_str(ctx, "secret_value=tok_0123456789abcdef\n", NULL);
	assert_string_equal(out, "secret_value=[REDACTED:kv-secret]\n");
	free(out);
	redact_context_free(ctx);
}

static void test_block(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_MODE", "block", NULL);
	int n;
	char *out = redact_str(ctx, "line with tok_0123456789abcdef inside\n", &n);
	assert_int_equal(n, 1);
	assert_string_equal(out, "[libredact: output withheld: it contained a secret (tok)]\n");
	free(out);
	out = redact_str(ctx, "nothing here\n", &n);
	assert_int_equal(n, 0);
	assert_string_equal(out, "nothing here\n");
	free(out);
	/* in a stream only the write that contains the secret is withheld */
	struct collect c = {0};
	redact_stream *s;
	assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
	assert_int_equal(redact_stream_write(s, "first line\n", 11), 0);
	assert_int_equal(redact_stream_write(s, "tok_0123456789abcdef\n", 21), 1);
	assert_int_equal(redact_stream_write(s, "last line\n", 10), 0);
	assert_int_equal(redact_stream_flush(s), 0);
	assert_string_equal(c.p, "first line\n[libredact: output withheld: it contained a secret (tok)]\nlast line\n");
	redact_stream_free(s);
	free(c.p);
	redact_context_free(ctx);
}

static void test_log_only(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_MODE", "log_only", NULL);
	int n;
	const char *in = "tok_0123456789abcdef\n";
	char *out = redact_str(ctx, in, &n);
	assert_int_equal(n, 1); /* detected */
	assert_string_equal(out, in); /* not changed */
	uint64_t count = 0;
	assert_int_equal(redact_rule_matches(ctx, "tok", &count), 0);
	assert_int_equal(count, 1);
	free(out);
	redact_context_free(ctx);
}

static void test_inplace(void **state)
{
	(void)state;
	redact_context *label = ctx_yaml(TEST_RULES, "REDACT_MASK", "label", NULL);
	char buf[] = "x tok_0123456789abcdef y";
	assert_int_equal(redact_buffer_inplace(label, buf, strlen(buf)), 1);
	assert_string_equal(buf, "x ******************** y"); /* stars whatever the style */
	redact_context_free(label);
	redact_context *block = ctx_yaml(TEST_RULES, "REDACT_MODE", "block", NULL);
	char buf2[] = "x tok_0123456789abcdef y";
	assert_int_equal(redact_buffer_inplace(block, buf2, strlen(buf2)), 1);
	assert_string_equal(buf2, "************************");
	char buf3[] = "nothing";
	assert_int_equal(redact_buffer_inplace(block, buf3, strlen(buf3)), 0);
	assert_string_equal(buf3, "nothing");
	redact_context_free(block);
}

static void test_idempotent_builtin(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	for (int style = 0; style < 2; style++) {
		assert_int_equal(redact_config_set(cfg, "REDACT_MASK", style ? "label" : "stars"), 0);
		redact_context *ctx;
		assert_int_equal(redact_context_create(&ctx, cfg), 0);
		const char *in = "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7XPA\nDB_PASSWORD=Tr0ub4dor&3xyz\n"
				 "GITHUB_TOKEN=ghp_R1f3kP0aXb9cZ8Lm2Qw7Er5Ty6Ui4Op3As1D\n";
		int n1, n2;
		char *once = redact_str(ctx, in, &n1);
		char *twice = redact_str(ctx, once, &n2);
		assert_true(n1 >= 3);
		assert_int_equal(n2, 0);
		assert_string_equal(once, twice);
		free(once);
		free(twice);
		redact_context_free(ctx);
	}
	redact_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stars_keep_length), cmocka_unit_test(test_label),
		cmocka_unit_test(test_label_merges_adjacent), cmocka_unit_test(test_block),
		cmocka_unit_test(test_log_only), cmocka_unit_test(test_inplace),
		cmocka_unit_test(test_idempotent_builtin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
