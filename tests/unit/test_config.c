/* Settings: defaults, environment, config file (the environment wins),
 * invalid values reported and their defaults kept. */
#include "test_util.h"
#include "rd_config.h"

static void test_defaults(void **state)
{
	(void)state;
	struct rd_config c;
	rd_config_defaults(&c);
	assert_int_equal(c.mode, RD_MODE_MASK);
	assert_int_equal(c.mask, RD_MASK_STARS);
	assert_int_equal(c.update_interval, 3600);
	assert_int_equal(c.scan_input, 0);
	assert_int_equal(c.holdback_ms, 100);
	assert_int_equal(c.holdback_max, 16384);
	assert_string_equal(c.patterns, "");
	assert_string_equal(c.allowlist_paths, "");
	assert_int_equal(c.nerrors, 0);
}

static void test_values(void **state)
{
	(void)state;
	struct rd_config c;
	rd_config_defaults(&c);
	assert_int_equal(rd_config_set(&c, "REDACT_MODE", "block", "t"), 0);
	assert_int_equal(c.mode, RD_MODE_BLOCK);
	assert_int_equal(rd_config_set(&c, "REDACT_MODE", "LOG_ONLY", "t"), 0);
	assert_int_equal(c.mode, RD_MODE_LOG_ONLY);
	assert_int_equal(rd_config_set(&c, "REDACT_MASK", "label", "t"), 0);
	assert_int_equal(c.mask, RD_MASK_LABEL);
	assert_int_equal(rd_config_set(&c, "PATTERN_UPDATE_INTERVAL", "0", "t"), 0);
	assert_int_equal(c.update_interval, 0);
	assert_int_equal(rd_config_set(&c, "SCAN_INPUT", "yes", "t"), 0);
	assert_int_equal(c.scan_input, 1);
	assert_int_equal(rd_config_set(&c, "SCAN_INPUT", "off", "t"), 0);
	assert_int_equal(c.scan_input, 0);
	assert_int_equal(rd_config_set(&c, "ALLOWLIST_PATHS", "/opt/trusted:/srv", "t"), 0);
	assert_string_equal(c.allowlist_paths, "/opt/trusted:/srv");
	assert_int_equal(c.nerrors, 0);
}

static void test_invalid_values(void **state)
{
	(void)state;
	struct rd_config c;
	rd_config_defaults(&c);
	assert_int_equal(rd_config_set(&c, "REDACT_MODE", "shred", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(c.mode, RD_MODE_MASK);
	assert_int_equal(rd_config_set(&c, "PATTERN_UPDATE_INTERVAL", "-5", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(rd_config_set(&c, "PATTERN_UPDATE_INTERVAL", "12abc", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(rd_config_set(&c, "PATTERN_UPDATE_INTERVAL", "99999999999", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(c.update_interval, 3600);
	assert_int_equal(rd_config_set(&c, "REDACT_HOLDBACK_MAX", "10", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(rd_config_set(&c, "NO_SUCH_SETTING", "1", "env"), REDACT_ERROR_CONFIG);
	assert_int_equal(c.nerrors, 6);
	assert_non_null(strstr(c.errors[0], "invalid value for REDACT_MODE: 'shred' (default kept)"));
	assert_non_null(strstr(c.errors[3], "PATTERN_UPDATE_INTERVAL"));
}

static void test_env_and_file(void **state)
{
	(void)state;
	char *file = write_tmp("libredact.conf", "# comment\n\nREDACT_MODE = block\nREDACT_MASK=label\n"
						    "PATTERN_UPDATE_INTERVAL=60\nBROKEN LINE\nREDACT_MODE_TYPO=1\n");
	struct rd_config c;
	rd_config_defaults(&c);
	assert_int_equal(rd_config_load_file(&c, file), 2); /* two bad lines */
	assert_int_equal(c.mode, RD_MODE_BLOCK);
	assert_int_equal(c.mask, RD_MASK_LABEL);
	assert_int_equal(c.update_interval, 60);
	assert_non_null(strstr(c.errors[0], ":6: expected KEY=VALUE"));
	assert_non_null(strstr(c.errors[1], ":7: unknown setting 'REDACT_MODE_TYPO'"));
	/* the environment wins */
	setenv("REDACT_MODE", "log_only", 1);
	setenv("PATTERN_UPDATE_INTERVAL", "bogus", 1);
	assert_int_equal(rd_config_load_env(&c), 1);
	assert_int_equal(c.mode, RD_MODE_LOG_ONLY);
	assert_int_equal(c.update_interval, 60); /* invalid env value: previous value kept */
	unsetenv("REDACT_MODE");
	unsetenv("PATTERN_UPDATE_INTERVAL");
	assert_int_equal(rd_config_load_file(&c, "/nonexistent/libredact.conf"), REDACT_ERROR_IO);
	/* REDACT_CONFIG names the file */
	setenv("REDACT_CONFIG", file, 1);
	assert_string_equal(rd_config_file_path(), file);
	unsetenv("REDACT_CONFIG");
	assert_string_equal(rd_config_file_path(), "/etc/libredact.conf");
	free(file);
}

static void test_public_config_api(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_MODE", "nope"), REDACT_ERROR_CONFIG);
	char msg[256];
	assert_true(redact_config_error(cfg, msg, sizeof(msg)) > 0);
	assert_non_null(strstr(msg, "REDACT_MODE"));
	assert_int_equal(redact_config_set(cfg, NULL, "x"), REDACT_ERROR_INVALID);
	/* an invalid value leaves the context working with the default */
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	redact_context_free(ctx);
	redact_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_values), cmocka_unit_test(test_invalid_values),
		cmocka_unit_test(test_env_and_file), cmocka_unit_test(test_public_config_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
