/* The matching engine: keyword pass, then each rule's regex where its
 * keywords occur, then secret selection, entropy and allowlists.  Works on
 * one contiguous buffer; streams (stream.c) feed it and decide what to hold
 * back.  Never allocates except to grow per-thread scratch (rd_mem, so it is
 * safe in signal handlers). */
#ifndef RD_ENGINE_H
#define RD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "rd_ruleset.h"

struct rd_span {
	uint32_t start, end; /* secret bytes [start, end) in the buffer */
	uint32_t rule;       /* index in the rule set */
};

/* Per-thread working memory for the engine. */
struct rd_scratch {
	pcre2_general_context *gctx;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *jit_stack;
	uint32_t match_limit;
	PCRE2_SIZE offset_limit; /* what sc->mc holds now */
	struct rd_kw_hit *hits;
	size_t hits_cap;
	struct rd_span *spans;
	size_t nspans, spans_cap;
	/* per-rule state for one scan, valid when stamp == gen */
	uint32_t *stamp, *last_end, *searched, *flags;
	size_t rules_cap;
	uint32_t gen;
	/* output and concatenation buffers */
	uint8_t *out;
	size_t out_cap;
	int busy;
	int temporary; /* made for a re-entrant call, freed on release */
};

/* Runs a rule's regex: pcre2_jit_match when code is the rule's JIT tier (it
 * skips the option checks of pcre2_match, ~40% of a failing anchored
 * evaluation),
 * with the match context's offset limit set only when it changes. */
static inline int rd_match(const struct rd_rule *r, const pcre2_code *code, const uint8_t *buf, size_t len,
			   size_t start, uint32_t opts, struct rd_scratch *sc, PCRE2_SIZE offset_limit)
{
	if (sc->offset_limit != offset_limit) {
		pcre2_set_offset_limit(sc->mc, offset_limit);
		sc->offset_limit = offset_limit;
	}
	if (code == atomic_load_explicit(&r->jcode, memory_order_relaxed))
		return pcre2_jit_match(code, buf, len, start, opts, sc->md, sc->mc);
	return pcre2_match(code, buf, len, start, opts, sc->md, sc->mc);
}

/* The calling thread's scratch, or a temporary one if the thread's is in use
 * (a signal handler interrupted a hook).  NULL only if mmap fails. */
struct rd_scratch *rd_scratch_acquire(void);
void rd_scratch_release(struct rd_scratch *sc);
/* Appends a span to sc->spans (0, or REDACT_ERROR_NOMEM). */
int rd_span_push(struct rd_scratch *sc, struct rd_span span);
/* Makes sure sc->out holds n bytes. */
int rd_scratch_out(struct rd_scratch *sc, size_t n);

struct rd_scan_result {
	size_t hold;          /* partial mode: first byte that could still belong to a secret (len if none) */
	uint32_t hold_rule;   /* rule of the partial match that set hold (UINT32_MAX: keyword prefix) */
	int need_context;     /* a match may depend on bytes before buf (see rd_engine_scan) */
};

enum rd_scan_flags {
	RD_SCAN_PARTIAL = 1,   /* more data may follow: report partial matches at the end */
	RD_SCAN_NO_BEFORE = 2, /* buf[0] is not the start of the text: set need_context and stop
				  when a match attempt would look before it */
};

/* Finds secrets in buf[0..len) whose keyword occurs at or after `from`.
 * Spans go to sc->spans[0..sc->nspans), sorted by start.  Returns 0 or a
 * negative REDACT_ERROR_*.  len must be below 2^31. */
int rd_engine_scan(struct rd_ruleset *rs, struct rd_scratch *sc, const uint8_t *buf, size_t len, size_t from,
		   unsigned flags, struct rd_scan_result *res);

/* Shannon entropy in bits per byte. */
double rd_entropy(const uint8_t *p, size_t n);

/* 1 if p[0..n) is what a mask produces (all '*', or "[REDACTED:...]"), so
 * that redacting output twice never finds a secret in a mask. */
int rd_is_mask_text(const uint8_t *p, size_t n);

#endif
