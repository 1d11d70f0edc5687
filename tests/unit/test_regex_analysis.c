/* Keyword anchoring analysis, the pathological-prefix rewrite, and the
 * analysis of which bytes a match can consume. */
#include "test_util.h"
#include "rd_rule.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct anchor_case {
	const char *regex;
	const char *keywords[4];
	int expect;
};

static const struct anchor_case cases[] = {
	{"ghp_[A-Za-z0-9]{36}", {"ghp_"}, 1},
	{"\\b(?:ghp|gho|ghu)_[A-Za-z0-9]{36}\\b", {"ghp_", "gho_", "ghu_"}, 1},
	{"(?i)aws_?secret_?access", {"aws_secret", "awssecret"}, 1},
	{"\\b((?:AKIA|ASIA)[A-Z2-7]{16})\\b", {"akia", "asia"}, 1},
	{"(?:A3T[A-Z0-9]|AKIA)[A-Z2-7]{16}", {"a3t", "akia"}, 1},
	{"(?<name>sk-ant-)api03", {"sk-ant"}, 1},
	{"(?<![a-z])xoxb-[0-9]+", {"xoxb"}, 1},
	{"-----BEGIN[ A-Z]{0,20}PRIVATE KEY-----", {"-----begin"}, 1},
	{"\\x60token\\x60", {"`tok"}, 1},
	{"(?=abcd)abcdef", {"abcd"}, 1},
	{"^\\bPASSWORD\\s*=", {"password"}, 1},
	{"(?i:secret)_(?:key|token)", {"secret_"}, 1},
	{"abc+def", {"abc"}, 1},         /* "abc" then stop */
	{"(?i)api[_-]?key", {"apikey", "api_key", "api-key"}, 1},
	{"[Aa]KIA[0-9]", {"akia"}, 1},
	{"sk[_-]live", {"sk_live", "sk-live"}, 1},
	{"ab(?:cd)+", {"abcd"}, 1},      /* group with + happens at least once */
	/* not provable */
	{"[a-z]+token", {"token"}, 0},
	{"(?:ab)?token", {"token"}, 0},
	{"a*token", {"token"}, 0},
	{"(?x) token", {"token"}, 0},
	{"tok|other", {"tok"}, 0},
	{"tokx?y", {"tokx"}, 0},
	{".token", {"token"}, 0},
	{"\\wtoken", {"token"}, 0},
	{"(?i)[\\w.-]{0,50}?(?:adafruit)", {"adafruit"}, 0},
	{"abc", {"abcd"}, 0},
	{"api[_-]?key", {"api_key"}, 0},     /* "apikey" and "api-key" are not keywords */
	{"[a-z]key", {"akey"}, 0},           /* a range */
	{"[^x]key", {"akey"}, 0},
	{"", {"abcd"}, 0},
};

static void test_starts_with_keyword(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;
		while (n < 4 && cases[i].keywords[n])
			n++;
		int got = rd_regex_starts_with_keyword(cases[i].regex, cases[i].keywords, n);
		if (got != cases[i].expect) {
			print_error("case %zu: /%s/ expected %d got %d\n", i, cases[i].regex, cases[i].expect, got);
			fail();
		}
	}
}

static void test_strip_lazy_prefix(void **state)
{
	(void)state;
	rd_arena a;
	rd_arena_init(&a);
	char *r = rd_regex_strip_lazy_prefix(&a, "(?i)[\\w.-]{0,50}?(?i:[\\w.-]{0,50}?(?:adafruit))x");
	assert_non_null(r);
	assert_string_equal(r, "(?i)(?i:(?:adafruit))x");
	r = rd_regex_strip_lazy_prefix(&a, "[\\w.-]{0,50}?abc");
	assert_string_equal(r, "abc");
	assert_null(rd_regex_strip_lazy_prefix(&a, "abc[\\w.-]{0,50}?"));
	assert_null(rd_regex_strip_lazy_prefix(&a, "[\\w.-]{0,50}abc")); /* greedy: not stripped */
	rd_arena_destroy(&a);
}

/* After the rewrite a gitleaks-style rule becomes keyword-anchored. */
static void test_stripped_rule_is_anchored(void **state)
{
	(void)state;
	const char *yaml = "family: t\nrules:\n  - id: ada\n    description: d\n"
			   "    regex: '(?i)[\\w.-]{0,50}?(?:adafruit)(?:[ \\t\\w.-]{0,20})[\\s''\"]{0,3}(?:=|:)[\\s''\"]{0,5}"
			   "([a-z0-9_-]{32})(?:[\\s;]|$)'\n    keywords: [adafruit]\n";
	redact_context *ctx = ctx_yaml(yaml, NULL);
	assert_redacts(ctx, "my_adafruit_key = 0123456789abcdef0123456789abcdef\n",
		       "my_adafruit_key = ********************************\n");
	redact_context_free(ctx);
}

/* Whether a match can contain a newline: a wrong "no" would let the end of
 * a multi-line secret out, so every doubtful construct must answer "yes". */
struct newline_case {
	const char *regex;
	int may_match_newline;
};

static const struct newline_case newline_cases[] = {
	{"ghp_[A-Za-z0-9]{36}", 0},
	{"(?i)api[_-]?key.{0,20}", 0},              /* '.' is not a newline */
	{"\\bAKIA[A-Z2-7]{16}\\b", 0},
	{"[^\\s'\"]{8,}", 0},                      /* \s is negated away */
	{"\\d+\\w*\\h\\S\\V\\N", 0},
	{"[[:alnum:]_-]+", 0},
	{"\\x41\\x{42}\\cA\\.", 0},
	{"(?i:secret)\\s*=", 1},                     /* \s holds '\n' */
	{"a\\nb", 1},
	{"a\\x0ab", 1},
	{"a\\x{a}b", 1},
	{"a\\012b", 1},                              /* octal: not decided */
	{"a\\o{12}b", 1},
	{"a\\N{U+000A}b", 1},
	{"a\\Rb", 1},
	{"[^a-z]", 1},                                 /* a negated class holds '\n' */
	{"[\\s\\S]", 1},
	{"[\\x00-\\x7f]", 1},                        /* a range across '\n' */
	{"[\\t-\\r]", 1},
	{"[[:space:]]", 1},
	{"[[:^alpha:]]", 1},
	{"\\W", 1},
	{"\\D", 1},
	{"\\H", 1},
	{"\\p{L}", 1},                               /* property classes: not decided */
	{"(?s)a.b", 1},                                /* dot-all */
	{"(?is:a.b)", 1},
	{"(?x)a b", 1},                                /* extended: not analysed */
	{"(*CR)a.b", 1},                               /* newline convention verbs */
	{"a\\Q\n\\Eb", 1},
	{"a\\", 1},                                  /* trailing backslash */
	{"[a-z", 1},                                   /* unterminated class */
	{"a(?#comment \\n)b", 0},
	{"(?i-s)a.b", 0},
	{"(?=x)\\Kab$", 0},
	{"[]a]", 0},
	{"[^]\\n]", 0},                               /* a negated class holding '\n' */
	{"([\"'])[^\"'\\n]+\\1", 0},                   /* a back reference */
	{"a\\12b", 1},                                /* octal or a reference: not decided */
	{"(?<![^\\s=])AKC[0-9]+", 0},                  /* a lookbehind is never past the match */
	{"(?<=\\s(?:a|\\)))x", 0},
	{"AKC[0-9]+(?=\\s|$)", 1},                     /* a lookahead is */
	{"(?<!\\s", 1},                                /* unclosed */
};

static void test_may_match_newline(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(newline_cases) / sizeof(newline_cases[0]); i++) {
		int got = rd_regex_may_match_newline(newline_cases[i].regex);
		if (got != newline_cases[i].may_match_newline)
			fail_msg("rd_regex_may_match_newline(\"%s\") = %d, want %d", newline_cases[i].regex, got,
				 newline_cases[i].may_match_newline);
	}
}

/* Which bytes a match can consume: exact answers for a few regexes, then a
 * property check against PCRE2 itself: no byte of any match (nor of a
 * hard-partial match) may be outside the set. */
struct bytes_case {
	const char *regex;
	const char *in, *out; /* bytes that must be in / must not be in the set */
};

static const struct bytes_case bytes_cases[] = {
	{"\\b([0-9a-f]{32}-us\\d{1,2})\\b", "0123456789abcdefABCDEF-uUsS", "gG_ .:\n\"="},
	{"\\b([A-Za-z0-9]{42}-NRMA)\\b", "azAZ09-", "_ .:\n"},
	{"(?<![A-Za-z0-9_-])([A-Za-z0-9_~.]{3}[7-9]Q~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])", "aZ09_~.-", " :\n=/"},
	{"(?<!x y)\\d{8,10}:AA[\\w-]{33}", "09:aA_-", " "}, /* a lookbehind consumes nothing */
	{"[^\\s\"']{8,}", "azAZ09=/", " \t\n\"'"},
	{"a.b", "ab\x01\xff", "\n"},
	{"(?s)a.b", "\n", ""},
	{"(?i)foo\\Qbar\\E", "fFoObBaArR", "x"},
	{"[[:xdigit:]]+(?=[[:space:]])", "09afAF \t\n", "gG_"},
	{"\\x41\\x{42}\\cA", "aAbB\x01", "c"},
	{"[^a-zA-Z]+", "09 \n_", "aAzZ"},
	{"[^a-z]+", "AZ", ""},             /* [^a-z] takes capitals */
	{"\\p{L}+", "\x01\xff", ""},      /* not decided: every byte */
};

static int in_set(const uint64_t set[4], unsigned char c)
{
	return (int)((set[c >> 6] >> (c & 63)) & 1);
}

static void test_match_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bytes_cases) / sizeof(bytes_cases[0]); i++) {
		uint64_t set[4];
		(void)rd_regex_match_bytes(bytes_cases[i].regex, set);
		for (const char *c = bytes_cases[i].in; *c; c++)
			if (!in_set(set, (unsigned char)*c))
				fail_msg("\"%s\": byte 0x%02x should be in the set", bytes_cases[i].regex, (unsigned char)*c);
		for (const char *c = bytes_cases[i].out; *c; c++)
			if (in_set(set, (unsigned char)*c))
				fail_msg("\"%s\": byte 0x%02x should not be in the set", bytes_cases[i].regex,
					 (unsigned char)*c);
	}
	/* Property: matches and hard-partial matches of random text only
	 * consume bytes of the set. */
	static const char *const regexes[] = {
		"\\b([0-9a-f]{4}-us\\d{1,2})\\b", "(?i)key[ =:]+([\\w.-]{3,})", "([\"'])([^\"'\\n]{2,9})\\1 *==",
		"[[:alpha:]]{2}\\d(?=[^a-z])", "(?<![0-9])\\d{2,3}:A[A-Z_-]{2}", "x[^\\s]{1,4}\\b", "\\Qa.b\\E[.]+",
	};
	static const char alphabet[] = "ab09-_:= \n\"'.KkEeYyuUsSAxX\t/";
	uint64_t rng = 12345;
	for (size_t r = 0; r < sizeof(regexes) / sizeof(regexes[0]); r++) {
		uint64_t set[4];
		assert_int_equal(rd_regex_match_bytes(regexes[r], set), 0);
		int err;
		PCRE2_SIZE eoff;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)regexes[r], PCRE2_ZERO_TERMINATED, 0, &err, &eoff, NULL);
		assert_non_null(code);
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
		int found = 0;
		for (int round = 0; round < 4000; round++) {
			char text[24];
			size_t n = 1 + round % 23;
			for (size_t k = 0; k < n; k++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				text[k] = alphabet[(rng >> 33) % (sizeof(alphabet) - 1)];
			}
			for (size_t start = 0; start < n; start++) {
				int rc = pcre2_match(code, (PCRE2_SPTR)text, n, start, PCRE2_PARTIAL_HARD, md, NULL);
				if (rc < 0 && rc != PCRE2_ERROR_PARTIAL)
					continue;
				PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
				/* a partial match reaches the end; its ovector[0] is
				 * where it started */
				size_t end = rc == PCRE2_ERROR_PARTIAL ? n : ov[1];
				found++;
				for (size_t k = ov[0]; k < end; k++)
					if (!in_set(set, (unsigned char)text[k]))
						fail_msg("\"%s\" consumed byte 0x%02x outside its set", regexes[r],
							 (unsigned char)text[k]);
			}
		}
		if (!found)
			fail_msg("\"%s\": no match in the random texts, the check proved nothing", regexes[r]);
		pcre2_match_data_free(md);
		pcre2_code_free(code);
	}
}

/* Matches in progress before their keyword: a branch's trailing lookahead
 * is left out only when the text before it holds a keyword. */
static void test_progress_bytes(void **state)
{
	(void)state;
	uint64_t set[4];
	const char *kw1[] = {"my.salesforce.com"};
	assert_int_equal(rd_regex_progress_bytes("(?:\")([A-Za-z0-9-]{1,62}\\.my\\.salesforce\\.com)(?=[\\s\\S]{0,300}?\\b3MVG9)|"
						 "(//[A-Za-z0-9-]{1,62}\\.my\\.salesforce\\.com)(?=[\\s\\S]{0,300}?x)",
						 kw1, 1, set),
			 0);
	assert_false(in_set(set, '\n'));
	assert_false(in_set(set, ' '));
	assert_true(in_set(set, '"') && in_set(set, '/') && in_set(set, 'Q') && in_set(set, '-'));
	/* the keyword only in the lookahead: the lookahead's bytes count */
	const char *kw2[] = {"3mvg9"};
	assert_int_equal(rd_regex_progress_bytes("([a-z]{4})(?=[\\s\\S]{0,30}?3MVG9)", kw2, 1, set), 0);
	assert_true(in_set(set, '\n'));
	/* a lookahead that is not at the end of its branch counts */
	const char *kw3[] = {"abc"};
	assert_int_equal(rd_regex_progress_bytes("abc(?=\\s)x", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));
	/* and one whose group is quantified is no plain assertion */
	assert_int_equal(rd_regex_progress_bytes("abc(?=\\s)?", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));
	assert_int_equal(rd_regex_progress_bytes("abc(?=\\s)", kw3, 1, set), 0);
	assert_false(in_set(set, '\n'));
	/* every path before the lookahead must consume a keyword */
	assert_int_equal(rd_regex_progress_bytes("(?:foo|abc)(?=\\s)", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));  /* "foo" does not */
	assert_int_equal(rd_regex_progress_bytes("ab?c(?=\\s)", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));  /* "ac" does not */
	assert_int_equal(rd_regex_progress_bytes("ab+c(?=\\s)", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));  /* "abbc" does not */
	assert_int_equal(rd_regex_progress_bytes("x(?:abc|(?:q|r)abc)(?=\\s)", kw3, 1, set), 0);
	assert_false(in_set(set, '\n')); /* both alternatives do */
	assert_int_equal(rd_regex_progress_bytes("x(?:q|r)?(a(?:b)c)+(?=\\s)", kw3, 1, set), 0);
	assert_false(in_set(set, '\n')); /* a repeated group consumes it at least once */
	assert_int_equal(rd_regex_progress_bytes("x(?:abc)?(?=\\s)", kw3, 1, set), 0);
	assert_true(in_set(set, '\n'));  /* an optional group does not */
	const char *kw4[] = {"documents.azure.com", "cosmos.azure.com"};
	assert_int_equal(rd_regex_progress_bytes("//[a-z]{3}\\.(?:documents|(?:table|mongo)\\.cosmos)\\.azure\\.com"
						 "(?=[\\s\\S]{0,9}k)", kw4, 2, set), 0);
	assert_true(in_set(set, '\n'));  /* the keyword is split by the group: not proven */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_with_keyword),
		cmocka_unit_test(test_strip_lazy_prefix),
		cmocka_unit_test(test_stripped_rule_is_anchored),
		cmocka_unit_test(test_may_match_newline),
		cmocka_unit_test(test_match_bytes),
		cmocka_unit_test(test_progress_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
