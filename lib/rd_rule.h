/* The rule model: what one rule file can say, independent of how it is
 * compiled.  It is a superset of gitleaks' rule fields (id, description,
 * regex, secretGroup, entropy, keywords, allowlists with regexes, stopwords,
 * regexTarget and condition) plus what a stream redactor needs (family,
 * prefix_max, literal rules for values taken from the environment) and the
 * examples a rule file carries for its tests. */
#ifndef RD_RULE_H
#define RD_RULE_H

#include <stddef.h>
#include <stdint.h>
#include "rd_mem.h"

enum rd_target {
	RD_TARGET_SECRET = 0, /* the secret (capture group) only */
	RD_TARGET_MATCH,      /* the whole regex match */
	RD_TARGET_LINE,       /* the line(s) containing the match */
};

struct rd_allowlist_def {
	const char *description;
	int target;            /* enum rd_target */
	int condition_and;     /* 1: regexes AND stopwords must both hit */
	const char *const *regexes;
	size_t nregexes;
	const char *const *stopwords;
	size_t nstopwords;
};

struct rd_example_def {
	const char *text;
	const char *secret; /* NULL: only "something is masked"; else exactly this substring */
	int line;           /* source line, for test messages */
};

/* Secret group value meaning "first non-empty capture group, else the whole
 * match" (gitleaks' behaviour when secretGroup is unset). */
#define RD_GROUP_AUTO (-1)
/* prefix_max value meaning "derive it from the regex" (see rd_regex_analyze). */
#define RD_PREFIX_AUTO (-1)

enum rd_rule_flags {
	RD_RULE_LITERAL = 1 << 0,  /* no regex: the keyword itself, case-sensitive, is the secret */
	RD_RULE_OPT_IN = 1 << 1,   /* family disabled unless enabled explicitly */
	/* Set by redact-rulec only (the built-in rules), so that the rule set
	 * built in every process on its first write skips the regex analysis:
	 * `regex` is the effective one, prefix_max 0 means anchored and any
	 * other value is the window, `leads` are rd_regex_literal_leads of a
	 * windowed rule, and RD_RULE_SINGLE_LINE says that no match of a
	 * windowed rule contains a newline. */
	RD_RULE_PLANNED = 1 << 2,
	RD_RULE_SINGLE_LINE = 1 << 3,
};

struct rd_rule_def {
	const char *id;
	const char *description;
	const char *family;
	const char *regex;        /* PCRE2 syntax, verbatim; NULL for literal rules */
	const char *const *keywords;
	size_t nkeywords;
	int secret_group;         /* >= 0, or RD_GROUP_AUTO */
	double entropy;           /* minimum Shannon entropy of the secret, 0 = none */
	int prefix_max;           /* max bytes a match starts before a keyword, or RD_PREFIX_AUTO */
	unsigned flags;
	const struct rd_allowlist_def *allowlists;
	size_t nallowlists;
	const struct rd_example_def *mask_examples;
	size_t nmask_examples;
	const struct rd_example_def *keep_examples;
	size_t nkeep_examples;
	const char *const *leads; /* RD_RULE_PLANNED: literal leads of a windowed rule */
	size_t nleads;
	const char *file;         /* source location, for messages */
	int line;
};

/* A list of rule definitions plus the global allowlists, as read from rule
 * sources.  All memory lives in the arena. */
struct rd_rule_defs {
	rd_arena arena;
	struct rd_rule_def *rules;
	size_t nrules, caprules;
	struct rd_allowlist_def *global_allowlists;
	size_t nglobal, capglobal;
};

void rd_rule_defs_init(struct rd_rule_defs *d);
void rd_rule_defs_destroy(struct rd_rule_defs *d);
struct rd_rule_def *rd_rule_defs_add(struct rd_rule_defs *d);
struct rd_allowlist_def *rd_rule_defs_add_global(struct rd_rule_defs *d);

/* Load a rule source (a file, or a directory whose .yaml/.yml files are
 * read in name order) and append its rules.  On error returns a negative
 * REDACT_ERROR_* code and writes "file:line: rule 'id': what" into err. */
int rd_rules_load_path(struct rd_rule_defs *d, const char *path, char *err, size_t errsize);
/* Same, from a string (tests, the config API). */
int rd_rules_load_string(struct rd_rule_defs *d, const char *name, const char *text, size_t len,
			 char *err, size_t errsize);

/* Literal rules for the values of environment variables named by
 * REDACT_ENV_NAMES (env_secrets.c). */
struct rd_config;
int rd_env_secret_rules(struct rd_rule_defs *d, const struct rd_config *cfg);

/* Checks that need no compilation: unique ids, keywords present and long
 * enough, values in range.  Compilation checks happen in rd_ruleset. */
int rd_rules_validate(const struct rd_rule_defs *d, char *err, size_t errsize);

/* Regex analysis used for keyword anchoring: returns 1 when every match of
 * the regex provably begins with one of the keywords (so the regex can be run
 * anchored at keyword hits), else 0. */
int rd_regex_starts_with_keyword(const char *regex, const char *const *keywords, size_t nkeywords);

/* The literal strings every match of the regex begins with (its "leads",
 * e.g. "-----BEGIN"), each at least 2 bytes; 0 when there is no such set.
 * A stream holds back the end of a write that could be the start of a lead
 * of a rule whose keyword comes later in its match, so the part of a secret
 * before its keyword is never released before the keyword is seen. */
size_t rd_regex_literal_leads(rd_arena *a, const char *regex, const char ***out);

/* Rewrites the pathological leading lazy prefix found in public rule sets
 * (field notes section 6): "[\w.-]{0,50}?" at the start of a regex, possibly
 * doubled inside "(?i:...)", only moves the start of the match (captures are
 * unchanged under leftmost-first matching) and costs ~50x per offset.
 * Returns the rewritten regex allocated in the arena, or NULL when there is
 * nothing to strip. */
char *rd_regex_strip_lazy_prefix(rd_arena *a, const char *regex);

/* The bytes a match of the regex can consume (lookaheads included,
 * lookbehinds not), decided from its text for code compiled without
 * PCRE2_DOTALL, UTF or UCP, with LF newlines: set[b >> 6] bit (b & 63).
 * A superset: returns 0 when the regex was understood, -1 (and every byte)
 * when it uses a construct the analysis does not handle. */
int rd_regex_match_bytes(const char *regex, uint64_t set[4]);

/* 0 when no match of the regex can contain a newline; 1 when one may, or
 * when the regex is not understood. */
int rd_regex_may_match_newline(const char *regex);

/* The bytes a match can consume before one of its keywords arrives: like
 * rd_regex_match_bytes, but a top-level branch's trailing lookaheads are left
 * out when the branch text before them holds a keyword (see regex_bytes.c).
 * What the search for matches in progress at the end of a write uses. */
int rd_regex_progress_bytes(const char *regex, const char *const *keywords, size_t nkeywords, uint64_t set[4]);

#endif
