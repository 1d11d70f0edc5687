/* Rule loader: every file in data/loader/good loads with the stated number
 * of rules; every file in data/loader/bad is refused with a message that
 * names the file, the line and the rule, and says what is wrong (stated in
 * the file's header comments: "# error:", "# line:", "# rule:"). */
#include "test_util.h"
#include "rd_context.h"
#include "rd_rule.h"
#include "rd_ruleset.h"

#include <dirent.h>

static void header(const char *text, const char *key, char *out, size_t size)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "# %s: ", key);
	out[0] = 0;
	const char *p = strstr(text, pat);
	if (!p)
		return;
	p += strlen(pat);
	size_t n = strcspn(p, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

static int list_dir(const char *dir, char names[][256], int max)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml") && e->d_name[0] != '.')
			snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static void test_bad_files(void **state)
{
	(void)state;
	char names[64][256];
	int n = list_dir(TEST_DATA_DIR "/loader/bad", names, 64);
	assert_true(n >= 20);
	for (int i = 0; i < n; i++) {
		char path[600];
		snprintf(path, sizeof(path), TEST_DATA_DIR "/loader/bad/%.200s", names[i]);
		char *text = read_file(path, NULL);
		char want_err[256], want_line[32], want_rule[64];
		header(text, "error", want_err, sizeof(want_err));
		header(text, "line", want_line, sizeof(want_line));
		header(text, "rule", want_rule, sizeof(want_rule));
		assert_true(want_err[0] && want_line[0]);

		redact_config *cfg;
		assert_int_equal(redact_config_create(&cfg), 0);
		assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
		redact_context *ctx = NULL;
		int rc = redact_context_create(&ctx, cfg);
		redact_config_free(cfg);
		char msg[1024];
		redact_context_error(NULL, msg, sizeof(msg));
		char where[700];
		snprintf(where, sizeof(where), "%s:%s: ", path, want_line);
		if (rc != REDACT_ERROR_RULES || !strstr(msg, where) || !strstr(msg, want_err)) {
			print_error("%s: rc=%d message: %s\n  expected '%s' and '%s'\n", names[i], rc, msg, where,
				    want_err);
			fail();
		}
		if (want_rule[0]) {
			char r[128];
			snprintf(r, sizeof(r), "rule '%s': ", want_rule);
			if (!strstr(msg, r)) {
				print_error("%s: message does not name rule %s: %s\n", names[i], want_rule, msg);
				fail();
			}
		}
		assert_null(ctx);
		free(text);
	}
}

static void test_good_files(void **state)
{
	(void)state;
	char names[64][256];
	int n = list_dir(TEST_DATA_DIR "/loader/good", names, 64);
	assert_true(n >= 3);
	for (int i = 0; i < n; i++) {
		char path[600];
		snprintf(path, sizeof(path), TEST_DATA_DIR "/loader/good/%.200s", names[i]);
		char *text = read_file(path, NULL);
		char want[32];
		header(text, "rules", want, sizeof(want));
		struct rd_rule_defs d;
		rd_rule_defs_init(&d);
		char err[512] = "";
		int rc = rd_rules_load_path(&d, path, err, sizeof(err));
		if (rc)
			print_error("%s: %s\n", names[i], err);
		assert_int_equal(rc, 0);
		assert_int_equal(rd_rules_validate(&d, err, sizeof(err)), 0);
		assert_int_equal(d.nrules, atoi(want));
		rd_rule_defs_destroy(&d);
		free(text);
	}
}

static void test_verbatim_values(void **state)
{
	(void)state;
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	char err[512];
	assert_int_equal(rd_rules_load_path(&d, TEST_DATA_DIR "/loader/good/verbatim-regex.yaml", err, sizeof(err)), 0);
	assert_int_equal(d.nrules, 3);
	/* '' is a quote, backslashes stay */
	assert_string_equal(d.rules[0].regex, "(?i)\\bkey_[a-z]{4}\\b['\"]");
	assert_int_equal(d.rules[0].secret_group, 0);
	assert_true(d.rules[0].entropy > 1.49 && d.rules[0].entropy < 1.51);
	assert_string_equal(d.rules[0].family, "good");
	assert_int_equal(d.rules[0].nmask_examples, 1);
	/* block scalar keeps \n as the two characters backslash-n */
	assert_string_equal(d.rules[1].regex, "-----BEGIN X-----\\n[\\s\\S]*?\\n-----END X-----");
	assert_int_equal(d.rules[1].prefix_max, 0);
	assert_int_equal(d.rules[1].nallowlists, 2);
	assert_int_equal(d.rules[1].allowlists[0].target, RD_TARGET_MATCH);
	assert_int_equal(d.rules[1].allowlists[1].condition_and, 1);
	assert_string_equal(d.rules[1].mask_examples[0].secret, "-----BEGIN X-----\nabc\n-----END X-----");
	assert_int_equal(d.rules[2].nkeywords, 1);
	assert_string_equal(d.rules[2].keywords[0], "zzzz");
	assert_int_equal(d.rules[2].secret_group, RD_GROUP_AUTO);
	assert_int_equal(d.rules[2].prefix_max, RD_PREFIX_AUTO);
	rd_rule_defs_destroy(&d);
}

static void test_directory_order_and_hidden(void **state)
{
	(void)state;
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	char err[512];
	/* .hidden.yaml is broken: it must be skipped (Kubernetes ..data entries
	 * are hidden names too); README.txt is not a rule file. */
	assert_int_equal(rd_rules_load_path(&d, TEST_DATA_DIR "/loader/dir", err, sizeof(err)), 0);
	assert_int_equal(d.nrules, 2);
	assert_string_equal(d.rules[0].id, "first-rule");
	assert_string_equal(d.rules[1].id, "second-rule");
	rd_rule_defs_destroy(&d);
}

static void test_missing_source(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", "/nonexistent/rules.yaml"), 0);
	redact_context *ctx = NULL;
	assert_int_equal(redact_context_create(&ctx, cfg), REDACT_ERROR_IO);
	char msg[512];
	redact_context_error(NULL, msg, sizeof(msg));
	assert_non_null(strstr(msg, "/nonexistent/rules.yaml"));
	redact_config_free(cfg);
}

static void test_opt_in_family(void **state)
{
	(void)state;
	const char *yaml = "family: optin\ndefault: off\nrules:\n  - id: o\n    description: d\n"
			   "    regex: 'optin[0-9]{4}'\n    keywords: [optin]\n";
	redact_context *off = ctx_yaml(yaml, NULL);
	assert_redacts(off, "optin1234", "optin1234");
	redact_context_free(off);
	redact_context *on = ctx_yaml(yaml, "REDACT_RULES_ENABLE", "optin", NULL);
	assert_redacts(on, "optin1234", "*********");
	redact_context_free(on);
	redact_context *byid = ctx_yaml(yaml, "REDACT_RULES_ENABLE", "o", NULL);
	assert_redacts(byid, "optin1234", "*********");
	redact_context_free(byid);
}

static void test_disable_family_and_id(void **state)
{
	(void)state;
	redact_context *a = ctx_yaml(TEST_RULES, "REDACT_RULES_DISABLE", "test", NULL);
	assert_redacts(a, "tok_0123456789abcdef", "tok_0123456789abcdef");
	redact_context_free(a);
	redact_context *b = ctx_yaml(TEST_RULES, "REDACT_RULES_DISABLE", "tok", NULL);
	assert_redacts(b, "tok_0123456789abcdef secret_value=abcdefgh12",
		       "tok_0123456789abcdef secret_value=**********");
	redact_context_free(b);
	/* an enabled id beats its disabled family */
	redact_context *c = ctx_yaml(TEST_RULES, "REDACT_RULES_DISABLE", "test", "REDACT_RULES_ENABLE", "tok", NULL);
	assert_redacts(c, "tok_0123456789abcdef secret_value=abcdefgh12",
		       "******************** secret_value=abcdefgh12");
	redact_context_free(c);
}

static void test_builtin_rules_present(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	assert_true(redact_rule_count(ctx) > 0);
	/* +path adds to the built-in set instead of replacing it */
	char *path = write_tmp("extra.yaml", TEST_RULES);
	char plus[600];
	snprintf(plus, sizeof(plus), "+%s", path);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", plus), 0);
	redact_context *both;
	assert_int_equal(redact_context_create(&both, cfg), 0);
	assert_int_equal(redact_rule_count(both), redact_rule_count(ctx) + 3);
	redact_context_free(both);
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(path);
}

/* A "+path" rule with the id of a built-in rule replaces it (the built-in
 * one is disabled), also now that a set of the built-in rules alone skips
 * the search for repeated ids. */
static void test_builtin_rule_overridden(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	redact_rule_info info;
	assert_int_equal(redact_rule_get(ctx, 0, &info), 0);
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "family: test\nrules:\n  - id: %s\n    description: override\n"
		 "    regex: '\\bovr_[a-z0-9]{16}\\b'\n    keywords: [ovr_]\n",
		 info.id);
	char *path = write_tmp("override.yaml", yaml);
	char plus[600];
	snprintf(plus, sizeof(plus), "+%s", path);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", plus), 0);
	redact_context *both;
	assert_int_equal(redact_context_create(&both, cfg), 0);
	assert_int_equal(redact_rule_count(both), redact_rule_count(ctx));
	assert_redacts(both, "ovr_0123456789abcdef x", "******************** x");
	redact_context_free(both);
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(path);
}

/* What redact-rulec stored for the first build of every process (the leads
 * no keyword covers, first and counted in the flags; the progress bytes of
 * the tail rules) is what the build would derive from the rules. */
static void test_builtin_plan_matches_analysis(void **state)
{
	(void)state;
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	assert_int_equal(rd_builtin_defs(&d), 0);
	assert_int_equal(d.nrules, rd_builtin_nrules);
	size_t ntail = 0;
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		if (!(r->flags & RD_RULE_PLANNED) || (r->flags & RD_RULE_LITERAL))
			continue;
		if (r->nleads) {
			assert_true(r->flags & RD_RULE_SCAN_LEADS_KNOWN);
			const char **v = calloc(r->nleads, sizeof(*v));
			memcpy(v, r->leads, r->nleads * sizeof(*v));
			size_t n = rd_rule_uncovered_first(v, r->nleads, r);
			assert_int_equal(n, r->flags >> RD_RULE_SCAN_LEADS_SHIFT);
			for (size_t k = 0; k < r->nleads; k++)
				assert_string_equal(v[k], r->leads[k]); /* already in that order */
			free(v);
		} else if (r->prefix_max != 0) {
			/* a windowed rule without leads: a tail rule, whose bytes are stored */
			const struct rd_first_bytes *p = NULL;
			for (size_t k = 0; k < rd_builtin_nprogress && !p; k++)
				if (rd_builtin_progress[k].rule == i)
					p = &rd_builtin_progress[k];
			assert_non_null(p);
			uint64_t set[4];
			(void)rd_regex_progress_bytes(r->regex, r->keywords, r->nkeywords, set);
			assert_memory_equal(set, p->set, sizeof(set));
			ntail++;
		}
	}
	assert_int_equal(ntail, rd_builtin_nprogress);
	for (size_t k = 1; k < rd_builtin_nprogress; k++)
		assert_true(rd_builtin_progress[k - 1].rule < rd_builtin_progress[k].rule); /* sorted: searched */
	rd_rule_defs_destroy(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_good_files),
		cmocka_unit_test(test_verbatim_values),
		cmocka_unit_test(test_directory_order_and_hidden),
		cmocka_unit_test(test_missing_source),
		cmocka_unit_test(test_opt_in_family),
		cmocka_unit_test(test_disable_family_and_id),
		cmocka_unit_test(test_builtin_rules_present),
		cmocka_unit_test(test_builtin_plan_matches_analysis),
		cmocka_unit_test(test_builtin_rule_overridden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
