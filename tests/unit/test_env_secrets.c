/* Secrets taken from the environment: exact values and their encoded forms
 * are masked, also when split across writes; names, lengths and paths
 * select what counts; the audit log names the variable, never the value. */
#include "test_util.h"

#define VALUE "hunter2!Secret"

static redact_context *env_ctx(const char *names, const char *extra_key, const char *extra_val)
{
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	char *rules = write_tmp("none.yaml", "family: none\nrules: []\n");
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", rules), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_ENV_NAMES", names), 0);
	if (extra_key)
		assert_int_equal(redact_config_set(cfg, extra_key, extra_val), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	redact_config_free(cfg);
	free(rules);
	return ctx;
}

static void test_forms(void **state)
{
	(void)state;
	setenv("MY_DB_PASSWORD", VALUE, 1);
	redact_context *ctx = env_ctx("*_PASSWORD", NULL, NULL);
	assert_redacts(ctx, "plain " VALUE " here", "plain ************** here");
	assert_redacts(ctx, "url hunter2%21Secret", "url ****************");
	assert_redacts(ctx, "json \"hunter2!Secret\"", "json \"**************\"");
	/* base64 at the three alignments, standard and URL alphabets (computed
	 * with Python's base64 module) */
	assert_redacts(ctx, "aHVudGVyMiFTZWNyZXR6eg==", "******************R6eg==");
	assert_redacts(ctx, "YWh1bnRlcjIhU2VjcmV0eno=", "YW******************eno=");
	assert_redacts(ctx, "YWJodW50ZXIyIVNlY3JldHp6", "YWJ******************Hp6");
	assert_redacts(ctx, "aHVudGVyMiFTZWNyZXQ_Pg==", "******************Q_Pg==");
	/* case matters for a literal */
	assert_redacts(ctx, "HUNTER2!SECRET", "HUNTER2!SECRET");
	redact_context_free(ctx);
	unsetenv("MY_DB_PASSWORD");
}

static void test_split_writes(void **state)
{
	(void)state;
	setenv("APP_TOKEN", VALUE, 1);
	redact_context *ctx = env_ctx("*_TOKEN", NULL, NULL);
	const char *text = "token is " VALUE "\n";
	size_t n = strlen(text);
	for (size_t cut = 0; cut <= n; cut++) {
		struct collect c = {0};
		redact_stream *s;
		assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
		redact_stream_write(s, text, cut);
		redact_stream_write(s, text + cut, n - cut);
		redact_stream_flush(s);
		assert_string_equal(c.p, "token is **************\n");
		redact_stream_free(s);
		free(c.p);
	}
	redact_context_free(ctx);
	unsetenv("APP_TOKEN");
}

static void test_selection(void **state)
{
	(void)state;
	setenv("SHORT_TOKEN", "abc12", 1);            /* below the minimum length */
	setenv("CERT_PASSWORD", "/run/secrets/cert", 1); /* a path */
	setenv("PORT_TOKEN", "123456789", 1);         /* only digits */
	setenv("UNRELATED", VALUE, 1);                /* name not selected */
	redact_context *ctx = env_ctx("*_TOKEN,*_PASSWORD", NULL, NULL);
	assert_int_equal(redact_rule_count(ctx), 0);
	assert_redacts(ctx, "abc12 /run/secrets/cert 123456789 " VALUE, "abc12 /run/secrets/cert 123456789 " VALUE);
	redact_context_free(ctx);
	/* the minimum length is a setting */
	redact_context *c2 = env_ctx("SHORT_TOKEN", "REDACT_ENV_MIN_LEN", "5");
	assert_redacts(c2, "x abc12 y", "x ***** y");
	redact_context_free(c2);
	/* the family can be disabled */
	setenv("X_SECRET", VALUE, 1);
	redact_context *c3 = env_ctx("*_SECRET", "REDACT_RULES_DISABLE", "env");
	assert_redacts(c3, VALUE, VALUE);
	redact_context_free(c3);
	unsetenv("SHORT_TOKEN");
	unsetenv("CERT_PASSWORD");
	unsetenv("PORT_TOKEN");
	unsetenv("UNRELATED");
	unsetenv("X_SECRET");
}

static void test_audit_names_variable_only(void **state)
{
	(void)state;
	setenv("HF_TOKEN", "hf_QwErTyUiOpAsDfGhJkLzXcVbNm123456", 1);
	char log[600];
	snprintf(log, sizeof(log), "%s/env-audit.log", tmpdir());
	unlink(log);
	redact_context *ctx = env_ctx("HF_TOKEN", "REDACT_AUDIT_LOG", log);
	char *out = redact_str(ctx, "using hf_QwErTyUiOpAsDfGhJkLzXcVbNm123456 now", NULL);
	assert_string_equal(out, "using *********************************** now");
	free(out);
	char *text = read_file(log, NULL);
	assert_non_null(strstr(text, "\"rule\":\"env-hf-token\""));
	assert_null(strstr(text, "QwErTy"));
	free(text);
	redact_context_free(ctx);
	unsetenv("HF_TOKEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_split_writes),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_audit_names_variable_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
