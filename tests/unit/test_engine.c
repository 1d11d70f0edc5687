/* Data-driven engine cases: data/engine/cases.txt holds blocks
 *   === name
 *   input lines
 *   --- expect
 *   expected lines
 * run against data/engine/rules.yaml, as one buffer, as a stream of lines,
 * and with masking in label style where the expectation is derived. */
#include "test_util.h"
#include "rd_context.h"

struct tcase {
	char name[128];
	char *input, *expect;
};

static int parse_cases(const char *text, struct tcase *out, int max)
{
	int n = 0;
	const char *p = text;
	while ((p = strstr(p, "=== ")) && n < max) {
		const char *nl = strchr(p, '\n');
		snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)(nl - p - 4), p + 4);
		const char *in = nl + 1;
		const char *sep = strstr(in, "--- expect\n");
		const char *exp = sep + strlen("--- expect\n");
		const char *next = strstr(exp, "\n=== ");
		size_t inlen = (size_t)(sep - in), explen = next ? (size_t)(next - exp) : strlen(exp);
		/* the newline before a separator belongs to the separator */
		if (inlen && in[inlen - 1] == '\n')
			inlen--;
		if (!next && explen && exp[explen - 1] == '\n')
			explen--;
		out[n].input = strndup(in, inlen);
		out[n].expect = strndup(exp, explen);
		n++;
		p = next ? next + 1 : exp + explen;
	}
	return n;
}

static redact_context *engine_ctx(const char *k, const char *v)
{
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", TEST_DATA_DIR "/engine/rules.yaml"), 0);
	if (k)
		assert_int_equal(redact_config_set(cfg, k, v), 0);
	redact_context *ctx;
	int rc = redact_context_create(&ctx, cfg);
	if (rc) {
		char msg[512];
		redact_context_error(NULL, msg, sizeof(msg));
		print_error("%s\n", msg);
	}
	assert_int_equal(rc, 0);
	redact_config_free(cfg);
	return ctx;
}

static void test_cases(void **state)
{
	(void)state;
	char *text = read_file(TEST_DATA_DIR "/engine/cases.txt", NULL);
	assert_non_null(text);
	struct tcase cases[128];
	int n = parse_cases(text, cases, 128);
	assert_true(n >= 20);
	redact_context *ctx = engine_ctx(NULL, NULL);
	int failures = 0;
	for (int i = 0; i < n; i++) {
		char *out = redact_str(ctx, cases[i].input, NULL);
		if (strcmp(out, cases[i].expect)) {
			print_error("case '%s':\n  input:    %s\n  expected: %s\n  got:      %s\n", cases[i].name,
				    cases[i].input, cases[i].expect, out);
			failures++;
		}
		/* the same text through a stream, one line per write */
		redact_stream *s;
		struct collect c = {0};
		assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
		const char *p = cases[i].input;
		while (*p) {
			size_t l = strcspn(p, "\n");
			if (p[l] == '\n')
				l++;
			assert_true(redact_stream_write(s, p, l) >= 0);
			p += l;
		}
		assert_true(redact_stream_flush(s) >= 0);
		if (strcmp(c.p ? c.p : "", cases[i].expect)) {
			print_error("case '%s' (stream of lines): got %s\n", cases[i].name, c.p ? c.p : "");
			failures++;
		}
		redact_stream_free(s);
		free(c.p);
		free(out);
	}
	assert_int_equal(failures, 0);
	redact_context_free(ctx);
	for (int i = 0; i < n; i++) {
		free(cases[i].input);
		free(cases[i].expect);
	}
	free(text);
}

static void test_binary_and_empty(void **state)
{
	(void)state;
	redact_context *ctx = engine_ctx(NULL, NULL);
	char bin[300];
	for (int i = 0; i < 300; i++)
		bin[i] = (char)(i * 7);
	memcpy(bin + 100, "tok_0123456789abcdef", 20);
	bin[99] = ' ';
	bin[120] = 0;
	char *out;
	size_t len;
	assert_int_equal(redact_buffer(ctx, bin, sizeof(bin), &out, &len), 1);
	assert_int_equal(len, sizeof(bin));
	for (int i = 0; i < 300; i++) {
		if (i >= 100 && i < 120)
			assert_int_equal(out[i], '*');
		else
			assert_int_equal((unsigned char)out[i], (unsigned char)bin[i]);
	}
	redact_free(out);
	assert_int_equal(redact_buffer(ctx, "", 0, &out, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	redact_free(out);
	redact_context_free(ctx);
}

/* A rule that exhausts the match limit is reported once and skipped; the
 * other rules still redact the write. */
static void test_match_limit(void **state)
{
	(void)state;
	const char *yaml = "family: t\nrules:\n"
			   "  - id: slow\n    description: d\n    regex: 'slow_(a|aa)+b'\n    keywords: [slow_]\n"
			   "  - id: tok\n    description: d\n    regex: 'tok_[a-z0-9]{16}'\n    keywords: [tok_]\n";
	/* Built lazily (preloaded-library path), so the load-time cost probe
	 * does not refuse it: this tests the run-time guard. */
	char *path = write_tmp("slow.yaml", yaml);
	char *log = malloc(600);
	snprintf(log, 600, "%s/limit-audit.log", tmpdir());
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_MATCH_LIMIT", "1000"), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_AUDIT_LOG", log), 0);
	redact_context *ctx;
	assert_int_equal(rd_context_create_lazy_from_config(&ctx, cfg), 0);
	char input[200];
	snprintf(input, sizeof(input), "slow_%s tok_0123456789abcdef",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	char *out = redact_str(ctx, input, NULL);
	assert_non_null(strstr(out, "********************"));
	free(out);
	out = redact_str(ctx, input, NULL);
	free(out);
	size_t len;
	char *text = read_file(log, &len);
	assert_non_null(text);
	/* reported exactly once */
	const char *first = strstr(text, "\"rule_limit\"");
	assert_non_null(first);
	assert_null(strstr(first + 1, "\"rule_limit\""));
	assert_non_null(strstr(text, "\"rule\":\"slow\""));
	free(text);
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(path);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_binary_and_empty),
		cmocka_unit_test(test_match_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
