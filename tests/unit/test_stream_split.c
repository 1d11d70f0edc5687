/* Streams: every secret of the test set is masked when its text is split
 * into two writes at every byte offset, and when written one byte at a
 * time; output equals the one-shot redaction.  Also the hold-back bound and
 * what is held back. */
#include "test_util.h"
#include "rd_rule.h"

/* Texts with secrets for the test rules and for the built-in rules. */
static const char *const test_texts[] = {
	"id tok_0123456789abcdef end\n",
	"secret_value = hunter2hunter2 and more\n",
	"x\n-----BEGIN TEST KEY-----\nAAAA\nBBBB\n-----END TEST KEY-----\ny\n",
	"aab tok_aabaabaabaabaabb tok_0000000000000000\n", /* repeating prefixes */
};

static const char *const builtin_texts[] = {
	"aws_access_key_id = AKIAQYLPMN5HFIQR7XPA\n",
	"export AWS_SECRET_ACCESS_KEY=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\n",
	"GITHUB_TOKEN=ghp_R1f3kP0aXb9cZ8Lm2Qw7Er5Ty6Ui4Op3As1D\n",
	"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\n",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Zq3v5Yk8n9hQx2mJ7pL4sT6wR1cV8bN3fG5hK9jD2aE7uI0\noP4lM6nB8vC1xZ3qW5eR7tY9uI2oP4aS6dF8gH0jK2lL4zX6cV8bN0mQ1wE3rT5y\n-----END RSA PRIVATE KEY-----\n",
	"DB_PASSWORD=Tr0ub4dor&3xyz\n",
	/* kubectl get secret -o yaml: the data comes before the kind */
	"apiVersion: v1\ndata:\n  api-key: c2stbGl2ZS1hYmNkZWYwMTIzNDU2Nzg5\n  user: YWRtaW5pc3RyYXRvcg==\n"
	"kind: Secret\nmetadata:\n  name: creds\ntype: Opaque\n",
};

static char *one_shot(redact_context *ctx, const char *text)
{
	return redact_str(ctx, text, NULL);
}

/* The length of the next write of p: one line (as line-buffered stdio
 * writes), or one byte. */
static size_t line_len(const char *p)
{
	const char *e = strchr(p, '\n');
	return e ? (size_t)(e - p) + 1 : strlen(p);
}

static size_t one_byte(const char *p)
{
	(void)p;
	return 1;
}

/* The text written in the writes next() cuts comes out as expect. */
static void check_chunked(redact_context *ctx, const char *text, const char *expect, const char *what,
			  size_t (*next)(const char *))
{
	struct collect c = {0};
	redact_stream *s;
	assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
	for (const char *p = text; *p;) {
		size_t l = next(p);
		assert_true(redact_stream_write(s, p, l) >= 0);
		p += l;
	}
	assert_true(redact_stream_flush(s) >= 0);
	if (!c.p || strcmp(c.p, expect)) {
		print_error("%s %s\n  expected %s\n  got      %s\n", what, text, expect, c.p ? c.p : "(null)");
		fail();
	}
	redact_stream_free(s);
	free(c.p);
}

static void check_splits(redact_context *ctx, const char *text)
{
	char *expect = one_shot(ctx, text);
	assert_string_not_equal(expect, text); /* the text does contain a secret */
	size_t n = strlen(text);
	for (size_t cut = 0; cut <= n; cut++) {
		struct collect c = {0};
		redact_stream *s;
		assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
		assert_true(redact_stream_write(s, text, cut) >= 0);
		assert_true(redact_stream_write(s, text + cut, n - cut) >= 0);
		assert_true(redact_stream_flush(s) >= 0);
		assert_int_equal(redact_stream_pending(s), 0);
		if (!c.p || strcmp(c.p, expect)) {
			print_error("split at %zu of %s\n  expected %s\n  got      %s\n", cut, text, expect,
				    c.p ? c.p : "(null)");
			fail();
		}
		redact_stream_free(s);
		free(c.p);
	}
	check_chunked(ctx, text, expect, "linewise", line_len);
	check_chunked(ctx, text, expect, "bytewise", one_byte);
	free(expect);
}

static void test_split_test_rules(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	for (size_t i = 0; i < sizeof(test_texts) / sizeof(test_texts[0]); i++)
		check_splits(ctx, test_texts[i]);
	redact_context_free(ctx);
	redact_context *lab = ctx_yaml(TEST_RULES, "REDACT_MASK", "label", NULL);
	for (size_t i = 0; i < sizeof(test_texts) / sizeof(test_texts[0]); i++)
		check_splits(lab, test_texts[i]);
	redact_context_free(lab);
}

static void test_split_builtin_rules(void **state)
{
	(void)state;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	for (size_t i = 0; i < sizeof(builtin_texts) / sizeof(builtin_texts[0]); i++)
		check_splits(ctx, builtin_texts[i]);
	redact_context_free(ctx);
	redact_config_free(cfg);
}

/* Rules whose keyword comes after the start of the secret: a token that
 * ends in its marker, with no literal lead (the engine asks PCRE2 whether a
 * match is in progress at the end of a write), and one with a lead
 * ("https://") whose keyword is further in. */
#define LATE_KEYWORD_RULES                                                                          \
	"family: late\nrules:\n"                                                                   \
	"  - id: suffix-marked\n    description: d\n    regex: '\\b([a-f0-9]{24}XKEY)\\b'\n"      \
	"    keywords: [xkey]\n    prefix_max: 30\n"                                                \
	"  - id: hooked-url\n    description: d\n"                                                  \
	"    regex: 'https://hooks\\.example\\.org/[A-Za-z0-9]{20}'\n    keywords: [example.org/]\n" \
	"    prefix_max: 20\n    secret_group: 0\n"

static void test_split_late_keywords(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(LATE_KEYWORD_RULES, NULL);
	check_splits(ctx, "id 0123456789abcdef01234567XKEY end\n");
	check_splits(ctx, "url https://hooks.example.org/AbCdEfGhIjKlMnOpQrSt end\n");
	/* a prompt-like write without a newline: released by the flush */
	check_splits(ctx, "id 0123456789abcdef01234567XKEY");
	redact_context_free(ctx);
}

/* Split-safety is a property every shipped rule must have: each 'mask'
 * example of patterns/ comes out the same when written in two parts cut at
 * any byte, or one byte at a time. */
static void test_split_every_shipped_example(void **state)
{
	(void)state;
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	char err[512];
	assert_int_equal(rd_rules_load_path(&d, PATTERNS_DIR, err, sizeof(err)), 0);
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	/* every family, opt-in ones included */
	char families[4096] = "";
	for (size_t i = 0; i < d.nrules; i++)
		if (d.rules[i].family && !strstr(families, d.rules[i].family) &&
		    strlen(families) + strlen(d.rules[i].family) + 2 < sizeof(families)) {
			strcat(families, d.rules[i].family);
			strcat(families, ",");
		}
	assert_int_equal(redact_config_set(cfg, "REDACT_RULES_ENABLE", families), 0);
	redact_context *ctx;
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	size_t n = 0;
	for (size_t i = 0; i < d.nrules; i++)
		for (size_t e = 0; e < d.rules[i].nmask_examples; e++, n++)
			check_splits(ctx, d.rules[i].mask_examples[e].text);
	print_message("%zu examples of %zu rules split at every offset\n", n, d.nrules);
	redact_context_free(ctx);
	redact_config_free(cfg);
	rd_rule_defs_destroy(&d);
}

/* Only what could still become a secret is held back. */
static void test_what_is_held(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	struct collect c = {0};
	redact_stream *s;
	assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
	assert_int_equal(redact_stream_write(s, "plain line\n", 11), 0);
	assert_int_equal(redact_stream_pending(s), 0);
	assert_string_equal(c.p, "plain line\n");
	assert_int_equal(redact_stream_write(s, "now to", 6), 0); /* "to" could start "tok_" */
	assert_int_equal(redact_stream_pending(s), 2);
	assert_int_equal(redact_stream_write(s, "day\n", 4), 0);
	assert_int_equal(redact_stream_pending(s), 0);
	assert_int_equal(redact_stream_write(s, "x tok_0123", 10), 0); /* partial match */
	assert_int_equal(redact_stream_pending(s), 8);
	assert_int_equal(redact_stream_flush(s), 0); /* no match at the end: released as is */
	assert_int_equal(redact_stream_pending(s), 0);
	assert_string_equal(c.p, "plain line\nnow today\nx tok_0123");
	redact_stream_free(s);
	free(c.p);
	redact_context_free(ctx);
}

/* A match in progress longer than REDACT_HOLDBACK_MAX is released masked. */
static void test_holdback_bound(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, "REDACT_HOLDBACK_MAX", "256", NULL);
	struct collect c = {0};
	redact_stream *s;
	assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
	assert_int_equal(redact_stream_write(s, "-----BEGIN TEST KEY-----\n", 25), 0);
	char body[1000];
	memset(body, 'A', sizeof(body));
	assert_true(redact_stream_write(s, body, sizeof(body)) >= 0);
	assert_true(redact_stream_pending(s) <= 256);
	assert_true(c.len >= 1025 - 256);
	for (size_t i = 0; i < c.len; i++)
		assert_int_equal(c.p[i], '*'); /* nothing of the unfinished block leaks */
	assert_true(redact_stream_write(s, "\n-----END TEST KEY-----\nafter\n", 30) >= 0);
	assert_true(redact_stream_flush(s) >= 0);
	assert_int_equal(c.len, 1055);
	assert_string_equal(c.p + c.len - 7, "\nafter\n");
	for (size_t i = 0; i < c.len - 7; i++)
		assert_int_equal(c.p[i], '*');
	redact_stream_free(s);
	free(c.p);
	redact_context_free(ctx);
}

/* A secret whose first part went out on a flush (timeout) still gets its
 * remaining part masked when it arrives. */
static void test_after_flush(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	struct collect c = {0};
	redact_stream *s;
	assert_int_equal(redact_stream_create(ctx, collect_cb, &c, &s), 0);
	assert_int_equal(redact_stream_write(s, "secret_value=", 13), 0);
	assert_int_equal(redact_stream_flush(s), 0);
	assert_int_equal(redact_stream_write(s, "hunter2hunter2\n", 15), 1);
	assert_int_equal(redact_stream_flush(s), 0);
	assert_string_equal(c.p, "secret_value=**************\n");
	redact_stream_free(s);
	free(c.p);
	redact_context_free(ctx);
}

static void test_output_error(void **state)
{
	(void)state;
	redact_context *ctx = ctx_yaml(TEST_RULES, NULL);
	redact_stream *s;
	int fail_cb(void *ud, const char *d, size_t l);
	assert_int_equal(redact_stream_create(ctx, fail_cb, NULL, &s), 0);
	assert_int_equal(redact_stream_write(s, "hello\n", 6), REDACT_ERROR_OUTPUT);
	redact_stream_free(s);
	redact_context_free(ctx);
}

int fail_cb(void *ud, const char *d, size_t l)
{
	(void)ud;
	(void)d;
	(void)l;
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_test_rules), cmocka_unit_test(test_split_builtin_rules),
		cmocka_unit_test(test_split_every_shipped_example),
		cmocka_unit_test(test_split_late_keywords),
		cmocka_unit_test(test_what_is_held),     cmocka_unit_test(test_holdback_bound),
		cmocka_unit_test(test_after_flush),      cmocka_unit_test(test_output_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
