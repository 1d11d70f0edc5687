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
	const struct rd_rule_def *def;
	const char *regex;         /* effective regex (pathological prefix removed) */
	uint8_t anchored;          /* compiled PCRE2_ANCHORED, run at keyword starts */
	uint8_t literal;
	uint32_t prefix_max;       /* window before a keyword hit (unanchored rules) */
	const char *literal_value; /* literal rules: the exact bytes to mask */
	size_t literal_len;
	_Atomic(pcre2_code *) code;
	_Atomic(struct rd_allow_compiled *) allow;
	_Atomic int reported;
	struct rd_counter *counter;
};

typedef void (*rd_report_fn)(void *arg, const char *rule_id, const char *event, const char *detail);

struct rd_ruleset {
	rd_arena arena;
	struct rd_rule_defs *owned[16];
	size_t nowned;
	size_t nrules;
	struct rd_rule *rules;
	struct rd_kwindex kw;
	const struct rd_allowlist_def *global;
	size_t nglobal;
	_Atomic(struct rd_allow_compiled *) global_allow;
	uint32_t max_prefix;   /* largest prefix_max */
	uint32_t match_limit;
	int use_jit;
	rd_report_fn report;
	void *report_arg;
	pcre2_general_context *gctx;
	pcre2_compile_context *cctx;
};

struct rd_ruleset_input {
	const struct rd_rule_def *const *rules; /* in priority order; later ids override earlier ones */
	size_t nrules;
	const struct rd_allowlist_def *const *global;
	size_t nglobal;
	struct rd_rule_defs *owned[16]; /* definitions the set takes ownership of */
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

/* Reports an event for a rule once per rule set (flag from rd_report_flags). */
void rd_rule_report_once(struct rd_ruleset *rs, struct rd_rule *r, int flag, const char *event, const char *detail);

#define RD_CODE_BROKEN ((pcre2_code *)1)
#define RD_ALLOW_BROKEN ((struct rd_allow_compiled *)1)

#endif
