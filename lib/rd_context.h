/* The context: configuration, the RCU-published rule set, counters, audit
 * target and the reloader.  `struct redact_context` is the public opaque
 * type; the preloaded library uses one process-wide instance. */
#ifndef RD_CONTEXT_H
#define RD_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rd_config.h"
#include "redact.h"
#include "rd_engine.h"
#include "rd_ruleset.h"

struct redact_context {
	_Atomic(struct rd_ruleset *) current; /* RCU-protected */
	pthread_mutex_t reload_lock;          /* one reload at a time; held across fork */
	struct rd_counters counters;
	/* rule sources (REDACT_PATTERNS) and their last seen signature */
	int builtin_included;
	int has_external;
	uint64_t sources_signature;
	/* reloader thread */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	pthread_t reloader;
	int reloader_running;
	int stopping;
	unsigned reloader_fork_gen;
	int lazy_reloader; /* preloaded context: start on first use, not at create */
	/* messages */
	pthread_mutex_t error_lock;
	char last_error[1024];
	_Atomic int config_reported;
	struct redact_context *next; /* all contexts, for fork handling */
	/* Last: most of its text is empty and its pages are never written
	 * (rd_config_copy). */
	struct rd_config cfg;
};

/* Sets up a context in place: *cx is all zero but for cx->cfg, which holds
 * its settings.  The preloaded library keeps its one context in static
 * storage (hooks/init.c) and reads the settings straight into it: no
 * allocation and no copy at process start.  On failure nothing is to be
 * undone but what cx->cfg holds. */
int rd_context_init(struct redact_context *cx, int lazy_reloader, char *err, size_t errsize);
/* Creates a context from a configuration (which it copies). */
int rd_context_create(struct redact_context **out, const struct rd_config *cfg, int lazy_reloader, char *err,
		      size_t errsize);
/* A context around a prebuilt rule set (tools and tests); it takes
 * ownership of rs and has no rule sources to reload. */
int rd_context_create_with(struct redact_context **out, const struct rd_config *cfg, struct rd_ruleset *rs);
void rd_context_destroy(struct redact_context *cx);
int rd_context_create_lazy_from_config(struct redact_context **out, const redact_config *cfg);
int rd_context_reload(struct redact_context *cx, int only_if_changed);
/* Starts the reloader thread if the context needs one and it is not running
 * (after fork the child has none).  Cheap when nothing is to be done. */
void rd_context_ensure_reloader(struct redact_context *cx);
void rd_context_set_error(struct redact_context *cx, const char *msg);

/* Read side: rd_context_read_lock(); rs = rd_context_rules(cx); ...;
 * rd_context_read_unlock().  Never call the real write inside. */
void rd_context_read_lock(void);
void rd_context_read_unlock(void);
struct rd_ruleset *rd_context_rules(struct redact_context *cx);
/* Builds the rule set of a lazily created context (the preloaded library)
 * on first use.  Call outside the read lock. */
int rd_context_ensure_rules(struct redact_context *cx);

/* ---- audit (audit.c) ---- */
struct rd_audit_event {
	const char *event;   /* "detection", "reload", "config", "rule_error", "rule_limit", ... */
	const char *rule;    /* rule id or NULL */
	const char *channel; /* "stdout", "stderr", "tty", "socket", "jupyter", "api", "input", ... */
	const char *action;  /* "masked", "blocked", "logged", "ok", "failed", ... */
	int64_t offset;      /* -1: none */
	int64_t length;      /* -1: none */
	const char *detail;  /* free text without secrets (file:line of a rule error), or NULL */
};
void rd_audit(const struct rd_config *cfg, const struct rd_audit_event *ev);
/* Message for the library's own problems: audit log, and stderr only under
 * REDACT_DEBUG. */
void rd_diag(const struct rd_config *cfg, const char *event, const char *detail);

/* ---- streams (stream.c) ---- */
#define RD_MAX_CARRY 16

/* What rd_stream_process decided, applied by rd_stream_commit once the
 * caller knows how much of the output actually went out. */
struct rd_stage {
	int active;
	int in_place;          /* fast path: the data was not copied, src is the caller's */
	const uint8_t *src;
	size_t n;              /* input length */
	size_t emit_from;      /* output covers buffer bytes [emit_from, hold) */
	size_t hold;
	size_t total;
	size_t old_pend;       /* pending bytes before this call (already accepted) */
	int final;
	int length_preserving; /* output byte i is buffer byte emit_from + i */
	size_t out_len;
};

struct rd_stream {
	uint8_t *buf;
	size_t cap;
	size_t ctx_len;  /* already emitted bytes kept as context */
	size_t pend_len; /* held-back bytes after the context */
	size_t rescan;   /* keyword scan of the next write starts here (<= ctx_len) */
	struct rd_span carry[RD_MAX_CARRY]; /* masks decided for held-back bytes */
	size_t ncarry;
	const void *carry_rs; /* rule set the carried rule indexes refer to */
	int length_preserving; /* stars, and block mode masks instead (in-place API) */
	/* A match that outgrew REDACT_HOLDBACK_MAX: its start is gone, so its
	 * head is kept and matched against the new data (see stream.c). */
	int forced;
	uint32_t forced_rule;
	size_t forced_head_len;
	uint8_t forced_head[1024];
	uint64_t offset; /* stream offset of buf[ctx_len] */
	struct rd_stage stage;
	/* The first bytes of context and pending live here, so a one-shot
	 * redaction or a quiet stream never maps memory (rd_mem is mmap). */
	uint8_t small[384];
};

struct rd_out {
	const uint8_t *data; /* output to write: the caller's data or scratch memory */
	size_t len;
	int secrets;         /* secrets whose first byte is in this output */
};

void rd_stream_init(struct rd_stream *st);
void rd_stream_destroy(struct rd_stream *st);
/* Redacts data[0..n) as the continuation of the stream; final=1 also decides
 * and releases everything held back.  The output stays valid until the
 * scratch is released.  The decision is staged: call rd_stream_commit with
 * the number of output bytes that were written (out->len when all were),
 * before releasing the scratch.  Returns 0 or a negative REDACT_ERROR_*. */
int rd_stream_process(struct redact_context *cx, struct rd_stream *st, struct rd_scratch *sc, const uint8_t *data,
		      size_t n, int final, const char *channel, struct rd_out *out);
/* Applies the staged decision.  When only `written` < out->len output bytes
 * went out, the stream keeps what was accepted earlier and drops the
 * unwritten part of this call's input (the caller reports a short write and
 * the program writes the rest again); masks already decided for those bytes
 * are kept for them.  Returns how many of this call's input bytes were
 * consumed.  Output of a style that changes lengths (labels, block notices)
 * cannot be cut this way: for it, `owed` receives the unwritten output,
 * which must be written before anything else. */
size_t rd_stream_commit(struct rd_stream *st, struct rd_scratch *sc, size_t written, const uint8_t **owed,
			size_t *owed_len);

/* ---- rendering (mask.c) ---- */
size_t rd_render_size(const struct rd_ruleset *rs, int mode, int style, const struct rd_span *spans, size_t n,
		      size_t from, size_t to);
size_t rd_render(const struct rd_ruleset *rs, int mode, int style, const uint8_t *buf, size_t from, size_t to,
		 const struct rd_span *spans, size_t n, uint8_t *out);

/* ---- built-in rules (generated: builtin_rules.c, read by builtin.c) ---- */
/* The generated tables hold no pointer: strings are offsets into
 * rd_builtin_text, string lists are runs of rd_builtin_lists (offsets into
 * the text).  A pointer in static data of a shared object is a relocation,
 * and the dynamic loader writes every relocated page at load time: with
 * ~470 rules that was ~30 copy-on-write page faults (~0.3 ms here) in every
 * process, printing or not.  The rules become rd_rule_defs on a first
 * write (rd_builtin_defs). */
#define RD_BUILTIN_NONE UINT32_MAX /* a string or list that is not there */
struct rd_builtin_allow {
	uint32_t description;
	int32_t target, condition_and;
	uint32_t regexes, nregexes;     /* run of rd_builtin_lists */
	uint32_t stopwords, nstopwords; /* run of rd_builtin_lists */
};
struct rd_builtin_rule {
	uint32_t id, description, family, regex, file; /* offsets into rd_builtin_text */
	uint32_t keywords, nkeywords;                  /* run of rd_builtin_lists */
	uint32_t leads, nleads;                        /* run of rd_builtin_lists */
	uint32_t allowlists, nallowlists;              /* run of rd_builtin_allows */
	int32_t secret_group, prefix_max, line;
	uint32_t flags;
	double entropy;
};
extern const char rd_builtin_text[];
extern const uint32_t rd_builtin_lists[];
extern const size_t rd_builtin_nlists;
extern const struct rd_builtin_allow rd_builtin_allows[]; /* the global ones first */
extern const struct rd_builtin_rule rd_builtin_rules[];
extern const size_t rd_builtin_nrules;
extern const size_t rd_builtin_nglobal;
/* The prebuilt keyword index of the built-in rules (which = 0), and their
 * lead indexes (which = 1 + group, rd_ruleset_leads, opt-in rules left out),
 * filled in on first call from read-only tables; NULL: none (build at run
 * time, or no leads in the group).  The lead indexes and the first bytes of
 * the tail rules are used when the set is exactly the built-in rules and
 * rd_builtin_leadix_known. */
const struct rd_kwindex *rd_builtin_index(int which);
extern const int rd_builtin_leadix_known;
extern const struct rd_first_bytes rd_builtin_first[];
extern const size_t rd_builtin_nfirst;
/* The bytes a match in progress of each built-in rule that is a tail rule
 * when enabled can consume (rd_regex_progress_bytes), sorted by rule. */
extern const struct rd_first_bytes rd_builtin_progress[];
extern const size_t rd_builtin_nprogress;
/* Appends the built-in rules and global allowlists to d (builtin.c).
 * Returns 0 or REDACT_ERROR_NOMEM. */
int rd_builtin_defs(struct rd_rule_defs *d);

#endif
