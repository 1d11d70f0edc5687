/* A compiled rule set: immutable after construction except for the lazily
 * compiled regexes, which are filled in at most once per rule with an atomic
 * compare-and-swap.  Published to readers through RCU (see context.c). */
#ifndef RD_RULESET_H
#define RD_RULESET_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rd_keyword.h"
#include "rd_mem.h"
#include "rd_rule.h"

/* Per-rule match counters live in the context, keyed by rule id, so they
 * survive reloads. */
struct rd_counter {
	char id[64];
	char family[32];
	_Atomic uint64_t matches;
	struct rd_counter *next;
};

struct rd_counters {
	pthread_mutex_t lock;
	rd_arena arena;
	struct rd_counter *head;
	size_t n;
};

void rd_counters_init(struct rd_counters *c);
void rd_counters_destroy(struct rd_counters *c);
struct rd_counter *rd_counters_get(struct rd_counters *c, const char *id, const char *family);

struct rd_allow_compiled {
	size_t n;
	pcre2_code *codes[]; /* every regex of every allowlist, in order; NULL = broken */
};

enum rd_report_flags {
	RD_REPORTED_COMPILE = 1,
	RD_REPORTED_LIMIT = 2,
	RD_REPORTED_ALLOW = 4,
};

struct rd_rule {
	/* Ordered for size (96 bytes, no padding: the array of the built-in
	 * rules is written on a first write, 11 pages instead of 14 at 120
	 * bytes) and so that what a keyword hit reads is in the first 48. */
	const struct rd_rule_def *def;
	const char *regex;         /* effective regex (pathological prefix removed) */
	/* Two tiers: `code` is compiled for the interpreter on first use;
	 * after RD_JIT_AFTER matches a copy with JIT code is made, `jcode`
	 * (set once, then returned by rd_rule_code).  A process that prints a
	 * few lines then never pays for JIT compiles (~0.1-0.3 ms per rule,
	 * 3/4 of the compile cost, field notes section 8). */
	_Atomic(pcre2_code *) code;
	_Atomic(pcre2_code *) jcode;
	uint32_t prefix_max;       /* window before a keyword hit (unanchored rules) */
	uint8_t disabled;          /* kept in the set (indexes are stable), never run */
	uint8_t anchored;          /* compiled PCRE2_ANCHORED, run at keyword starts */
	uint8_t literal;
	uint8_t single_line;       /* windowed rules: no match in progress can contain '\n' (rd_rule_single_line) */
	_Atomic uint32_t uses;
	_Atomic uint32_t lookbehind; /* PCRE2_INFO_MAXLOOKBEHIND, once compiled */
	/* Leads of a windowed rule that contain none of its keywords: only these
	 * can start a match in progress that the keyword pass cannot see. */
	const char *const *scan_leads;
	uint32_t nscan_leads;
	_Atomic int reported;
	const char *literal_value; /* literal rules: the exact bytes to mask */
	size_t literal_len;
	_Atomic(struct rd_allow_compiled *) allow;
	_Atomic(struct rd_counter *) counter; /* looked up on the first match */
};

/* What bounds the search for a tail rule's match in progress (engine.c,
 * scan_in_progress): byte sets, bit b of word b >> 6. */
struct rd_tail {
	/* copies of the rule's fields: the search after every write reads 8
	 * bytes per tail rule instead of a rule each (a cache line apiece) */
	uint32_t prefix_max;
	uint8_t single_line, disabled;
	_Atomic uint8_t first_known; /* tail_start holds this rule's first bytes */
};

/* The first RD_TAIL_FAST tail rules are searched together, one pass
 * backwards over the end of a write: bit t of tail_consume[b] says that tail
 * rule t can consume byte b, of tail_start[b] that its match can start with
 * b (from the compiled code, PCRE2_INFO_FIRSTBITMAP/FIRSTCODEUNIT: all bits
 * until known, then cleared by whichever thread learns them, so a reader
 * sees a superset at every moment). */
#define RD_TAIL_FAST 64

typedef void (*rd_report_fn)(void *arg, const char *rule_id, const char *event, const char *detail);

/* Rule definitions a set owns: up to 16 rule sources, the built-in rules and
 * the literal rules of secret environment variables. */
#define RD_OWNED_MAX 18

struct rd_ruleset {
	rd_arena arena;
	struct rd_rule_defs *owned[RD_OWNED_MAX];
	size_t nowned;
	size_t nrules;
	struct rd_rule *rules;
	struct rd_kwindex kw;
	/* The index the engine scans: kw, or the prebuilt index itself when
	 * the set is exactly the built-in rules (no copy of its 24 KiB of
	 * filters into kw: 6 page faults in every process). */
	const struct rd_kwindex *kwx;
	const struct rd_allowlist_def *global;
	size_t nglobal;
	_Atomic(struct rd_allow_compiled *) global_allow;
	struct rd_counters *counters;
	uint32_t max_prefix;   /* largest prefix_max */
	/* Windowed rules whose matches have no literal lead: their keyword may
	 * come after the start of the secret (New Relic's ...NRAL), so at the
	 * end of a write the engine asks PCRE2 whether a match is in progress
	 * (rd_engine_scan). */
	uint32_t *tail_rules;
	size_t ntail;
	size_t ntail_multiline; /* tail_rules[0..ntail_multiline) can match a newline */
	struct rd_tail *tail;   /* per tail rule (same order) */
	uint64_t (*tail_bytes)[4]; /* per tail rule: bytes a match in progress can consume (rd_regex_progress_bytes) */
	uint64_t *tail_consume;            /* [256] */
	_Atomic uint64_t *tail_start;      /* [256] */
	/* The other windowed rules have leads ("https://", "-----BEGIN"); an
	 * index of those that contain no keyword of their rule, built on the
	 * first write that ends mid-line, finds the matches that may be in
	 * progress at the end of a write.  Four indexes, each with the window of
	 * its rules (rd_lead_group): rules whose matches never span a newline
	 * are searched from the last newline only, and short leads ("ey", "AP"),
	 * which make a slow filter (2-byte grams at every byte), are kept apart
	 * from long ones so that they do not slow the search of a long window. */
	_Atomic(struct rd_kwindex *) leadix[4];
	uint32_t lead_window[4];
	uint32_t match_limit;
	int use_jit;
	rd_report_fn report;
	void *report_arg;
	pcre2_general_context *gctx;
	pcre2_compile_context *cctx;
};

/* The bytes a match of a rule can start with (rd_code_first_bytes). */
struct rd_first_bytes {
	uint32_t rule;
	uint64_t set[4];
};

/* The bytes a match of code can start with, as PCRE2's start-of-match
 * optimisation knows them (pcre2api, PCRE2_INFO_FIRSTCODETYPE): one code
 * unit (in both cases: the API does not say whether it is caseless) or the
 * start bitmap.  0, or -1 when PCRE2 does not know (any byte may start). */
int rd_code_first_bytes(const pcre2_code *code, uint64_t set[4]);

struct rd_ruleset_input {
	const struct rd_rule_def *const *rules; /* in priority order; later ids override earlier ones */
	size_t nrules;
	const uint8_t *disabled;       /* per rule, or NULL: present but not run */
	/* A prebuilt keyword index of rules[0..nbase) (the built-in rules,
	 * generated at build time), extended for the others; NULL: build one. */
	const struct rd_kwindex *base;
	size_t nbase;
	/* Also prebuilt for the built-in rules: the lead indexes of exactly
	 * rules[0..nbase) (used when there are no others; NULL entries: no
	 * leads in that group), and the first bytes of the tail rules. */
	const struct rd_kwindex *const *base_leads;
	int base_leads_known;
	const struct rd_first_bytes *base_first;
	size_t nbase_first;
	/* Also from redact-rulec, when rules[] begins with the built-in rules
	 * (the only RD_RULE_PLANNED ones), for those that are tail rules when
	 * enabled: the bytes a match in progress can consume
	 * (rd_regex_progress_bytes), sorted by rule. */
	const struct rd_first_bytes *base_progress;
	size_t nbase_progress;
	/* rules[0..nunique) have distinct ids (the built-in rules: redact-rulec
	 * checked them); a set of no others needs no search for overridden ids. */
	size_t nunique;
	const struct rd_allowlist_def *const *global;
	size_t nglobal;
	struct rd_rule_defs *owned[RD_OWNED_MAX]; /* definitions the set takes ownership of */
	size_t nowned;
	struct rd_counters *counters;
	uint32_t match_limit;
	int no_jit; /* interpreter only (REDACT_JIT=0) */
	rd_report_fn report;
	void *report_arg;
};

/* Builds a set; on success takes ownership of in->owned.  On failure the
 * caller keeps them.  err receives a message naming the rule. */
int rd_ruleset_build(struct rd_ruleset **out, const struct rd_ruleset_input *in, char *err, size_t errsize);

/* How a rule is run: anchored at keyword hits (prefix 0) or in a window of
 * *prefix bytes before them; with the regex to compile (a pathological lazy
 * prefix removed).  Used by the build and by redact-rulec, which stores the
 * result for the built-in rules. */
const char *rd_rule_plan(rd_arena *a, const struct rd_rule_def *d, int *anchored, uint32_t *prefix);
/* redact-rulec's plan of a windowed built-in rule also says which of its
 * leads contain none of its keywords (rd_ruleset.c, uncovered_leads): they
 * come first in rd_rule_def.leads, and their number is in the flags. */
#define RD_RULE_SCAN_LEADS_KNOWN (1u << 15)
#define RD_RULE_SCAN_LEADS_SHIFT 16
/* Reorders leads[0..n) (stably) so that those that contain none of the
 * rule's keywords come first; returns how many they are. */
size_t rd_rule_uncovered_first(const char **leads, size_t n, const struct rd_rule_def *d);
/* 1 when no match in progress of a windowed rule, before its keyword, can
 * contain a newline (rd_regex_progress_bytes). */
int rd_rule_single_line(const char *regex, const struct rd_rule_def *d);
void rd_ruleset_free(struct rd_ruleset *rs);
/* Around fork (context.c's atfork handlers): no JIT compile or free in
 * progress, so PCRE2's allocator lock is free in the child (ruleset.c). */
void rd_jit_fork_prepare(void);
void rd_jit_fork_parent(void);
void rd_jit_fork_child(void);

/* Compiles every rule and allowlist now (reloads and rule checks do this
 * off the hot path so that a broken file never replaces a working set). */
int rd_ruleset_compile_all(struct rd_ruleset *rs, char *err, size_t errsize);

/* The compiled regex of a rule, compiling it on first use; NULL if it does
 * not compile (reported once). */
pcre2_code *rd_rule_code(struct rd_ruleset *rs, struct rd_rule *r);
struct rd_allow_compiled *rd_rule_allow(struct rd_ruleset *rs, struct rd_rule *r);
struct rd_allow_compiled *rd_ruleset_global_allow(struct rd_ruleset *rs);

/* Lead groups: RD_LEADS_MULTILINE | RD_LEADS_SHORT bits. */
enum { RD_LEADS_MULTILINE = 1, RD_LEADS_SHORT = 2, RD_LEAD_GROUPS = 4 };
int rd_lead_group(const struct rd_rule *r);
/* The index of the leads of one group (NULL if there are none or no memory). */
struct rd_kwindex *rd_ruleset_leads(struct rd_ruleset *rs, int group);

/* The rule's match counter (created on first use; NULL without counters). */
struct rd_counter *rd_rule_counter(struct rd_ruleset *rs, struct rd_rule *r);

/* Reports an event for a rule once per rule set (flag from rd_report_flags). */
void rd_rule_report_once(struct rd_ruleset *rs, struct rd_rule *r, int flag, const char *event, const char *detail);

#define RD_CODE_BROKEN ((pcre2_code *)1)
/* Interpreted matches of a rule before it is JIT-compiled. */
#define RD_JIT_AFTER 32
#define RD_ALLOW_BROKEN ((struct rd_allow_compiled *)1)

#endif
