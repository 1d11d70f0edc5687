#include "rd_ruleset.h"
#include "rd_startup.h"
#include "rd_sort.h"
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RD_HAVE_VALGRIND_H 1
#endif
#endif

/* rs->leadix[g] when group g has no leads */
#define RD_LEADIX_NONE ((struct rd_kwindex *)1)

/* Memcheck only: it reports reads of JIT stack frames as uninitialised.
 * Callgrind runs JIT code fine, and profiles must show what runs natively.
 * Valgrind's tools announce themselves in LD_PRELOAD (vgpreload_<tool>). */
static int rd_running_on_valgrind(void)
{
#ifdef RD_HAVE_VALGRIND_H
	if (!RUNNING_ON_VALGRIND)
		return 0;
	const char *pre = getenv("LD_PRELOAD");
	return pre && strstr(pre, "vgpreload_memcheck");
#else
	return 0;
#endif
}

/* ---- JIT and fork ----
 * PCRE2's JIT allocates and frees executable memory under a mutex of its
 * own (sljit's allocator lock, static inside libpcre2).  A fork while
 * another thread JIT-compiles leaves that mutex locked in the child, whose
 * first lazy compile then waits forever: seen as a child that hung in its
 * first write() (pcre2_jit_compile) after fork() from a program whose other
 * threads were printing.  Compiling and freeing code hold jit_fork_lock
 * shared, and fork holds it exclusively (context.c's atfork handlers), so
 * fork waits for compiles in progress and none starts until it is done.
 * A fork from inside a compile (a signal handler) skips the lock rather
 * than wait for itself; other threads may then be compiling, as without
 * this lock.  jit_busy counts the nesting on this thread (a handler that
 * compiles while the interrupted code compiles takes no second read lock:
 * POSIX does not promise one while a writer waits).  jit_fork_held needs no
 * more than a plain variable: context.c's contexts_lock serialises the
 * atfork handlers that set and read it. */
static pthread_rwlock_t jit_fork_lock = PTHREAD_RWLOCK_INITIALIZER;
static __thread int jit_busy __attribute__((tls_model("initial-exec")));
static int jit_fork_held;

static void jit_enter(void)
{
	if (!jit_busy++)
		pthread_rwlock_rdlock(&jit_fork_lock);
}

static void jit_leave(void)
{
	if (!--jit_busy)
		pthread_rwlock_unlock(&jit_fork_lock);
}

void rd_jit_fork_prepare(void)
{
	jit_fork_held = !jit_busy && pthread_rwlock_wrlock(&jit_fork_lock) == 0;
}

void rd_jit_fork_parent(void)
{
	if (jit_fork_held)
		pthread_rwlock_unlock(&jit_fork_lock);
	jit_fork_held = 0;
}

void rd_jit_fork_child(void)
{
	/* The only thread: start over with a free lock.  If this thread forked
	 * from inside a compile (a signal handler), that compile goes on when
	 * the handler returns and its jit_leave unlocks: it holds the lock
	 * again here, or that unlock would be of a lock nobody holds. */
	pthread_rwlock_init(&jit_fork_lock, NULL);
	if (jit_busy)
		pthread_rwlock_rdlock(&jit_fork_lock);
	jit_fork_held = 0;
}

static void code_free(pcre2_code *c)
{
	jit_enter();
	pcre2_code_free(c);
	jit_leave();
}

/* ---- counters ---- */

RD_STARTUP void rd_counters_init(struct rd_counters *c)
{
	pthread_mutex_init(&c->lock, NULL);
	rd_arena_init(&c->arena);
	c->head = NULL;
	c->n = 0;
}

void rd_counters_destroy(struct rd_counters *c)
{
	rd_arena_destroy(&c->arena);
	pthread_mutex_destroy(&c->lock);
}

/* Set while this thread holds a counters lock: a signal handler whose
 * write matches a rule then skips counting that match instead of waiting
 * for the lock its own thread holds. */
static __thread int counters_busy __attribute__((tls_model("initial-exec")));

struct rd_counter *rd_counters_get(struct rd_counters *c, const char *id, const char *family)
{
	if (counters_busy)
		return NULL;
	counters_busy = 1;
	pthread_mutex_lock(&c->lock);
	struct rd_counter *e;
	for (e = c->head; e; e = e->next)
		if (!strcmp(e->id, id))
			break;
	if (!e && (e = rd_arena_alloc(&c->arena, sizeof(*e)))) {
		snprintf(e->id, sizeof(e->id), "%s", id);
		snprintf(e->family, sizeof(e->family), "%s", family ? family : "");
		atomic_init(&e->matches, 0);
		e->next = c->head;
		c->head = e;
		c->n++;
	}
	pthread_mutex_unlock(&c->lock);
	counters_busy = 0;
	return e;
}

/* ---- building ---- */

/* Window before a keyword hit for rules whose match may start earlier than
 * the keyword: trufflehog and the probe in field notes section 8 use the
 * same order of magnitude. */
#define RD_DEFAULT_PREFIX 256

struct idslot {
	const char *id;
	size_t index;
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int rd_rule_single_line(const char *regex, const struct rd_rule_def *d)
{
	uint64_t set[4];
	return rd_regex_progress_bytes(regex, d->keywords, d->nkeywords, set) == 0 && !((set[0] >> '\n') & 1);
}

const char *rd_rule_plan(rd_arena *a, const struct rd_rule_def *d, int *anchored, uint32_t *prefix)
{
	char *stripped = rd_regex_strip_lazy_prefix(a, d->regex);
	const char *regex = stripped ? stripped : d->regex;
	*anchored = 0;
	*prefix = 0;
	if (d->prefix_max == 0 ||
	    (d->prefix_max == RD_PREFIX_AUTO && rd_regex_starts_with_keyword(regex, d->keywords, d->nkeywords)))
		*anchored = 1;
	else
		*prefix = d->prefix_max == RD_PREFIX_AUTO ? RD_DEFAULT_PREFIX : (uint32_t)d->prefix_max;
	return regex;
}

struct rd_counter *rd_rule_counter(struct rd_ruleset *rs, struct rd_rule *r)
{
	struct rd_counter *c = atomic_load_explicit(&r->counter, memory_order_acquire);
	if (c || !rs->counters)
		return c;
	c = rd_counters_get(rs->counters, r->def->id, r->def->family);
	atomic_store_explicit(&r->counter, c, memory_order_release);
	return c;
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(hay), m = strlen(needle);
	for (size_t i = 0; m && i + m <= n; i++)
		if (!strncasecmp(hay + i, needle, m))
			return 1;
	return 0;
}

/* The leads of a windowed rule that contain none of its keywords.  A match
 * that begins with a lead holding a keyword is seen by the keyword pass, which
 * asks PCRE2 for a partial match at the end of a write (and a keyword cut by
 * the end of the write is held back as a keyword prefix); only the other
 * leads need their own search.  Returns nonzero when out of memory. */
static int lead_covered(const char *lead, const struct rd_rule_def *d)
{
	for (size_t j = 0; j < d->nkeywords; j++)
		if (contains_ci(lead, d->keywords[j]))
			return 1;
	return 0;
}

static int uncovered_leads(rd_arena *a, struct rd_rule *r, const struct rd_rule_def *d, const char *const *leads,
			   size_t nleads)
{
	unsigned f = d->flags;
	if ((f & RD_RULE_PLANNED) && (f & RD_RULE_SCAN_LEADS_KNOWN) && leads == d->leads) {
		/* redact-rulec put them first */
		r->scan_leads = d->leads;
		r->nscan_leads = f >> RD_RULE_SCAN_LEADS_SHIFT;
		return 0;
	}
	const char **v = rd_arena_alloc(a, (nleads + 1) * sizeof(*v));
	if (!v)
		return -1;
	for (size_t k = 0; k < nleads; k++)
		if (!lead_covered(leads[k], d))
			v[r->nscan_leads++] = leads[k];
	r->scan_leads = v;
	return 0;
}

size_t rd_rule_uncovered_first(const char **leads, size_t n, const struct rd_rule_def *d)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (lead_covered(leads[i], d))
			continue;
		/* move leads[i] to k, the covered ones between shift up */
		const char *l = leads[i];
		memmove(leads + k + 1, leads + k, (i - k) * sizeof(*leads));
		leads[k++] = l;
	}
	return k;
}

/* The entry of rule i in v[0..n) (sorted by rule), or NULL. */
static const struct rd_first_bytes *find_rule(const struct rd_first_bytes *v, size_t n, uint32_t i)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].rule < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].rule == i ? &v[lo] : NULL;
}

/* How many leads a rule holds back (rd_kw_source.nholds). */
static size_t nholds_of(const struct rd_kw_source *src, const struct rd_rule *r, size_t i)
{
	if (r->literal || r->anchored)
		return 0;
	return (r->def->flags & RD_RULE_PLANNED) ? r->def->nleads : src[i].nholds;
}

/* The keyword sources of every rule, for an index built at run time (src
 * holds the leads of the rules analysed by rd_ruleset_build already).  Not
 * written otherwise: a set of the built-in rules alone uses their prebuilt
 * index, and src's pages then stay untouched. */
static void fill_sources(struct rd_kw_source *src, const struct rd_ruleset *rs, const struct rd_ruleset_input *in)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rd_rule *r = &rs->rules[i];
		const struct rd_rule_def *d = r->def;
		src[i].keywords = d->keywords;
		src[i].nkeywords = (in->disabled && in->disabled[i]) ? 0 : d->nkeywords;
		if ((d->flags & RD_RULE_PLANNED) && !r->literal && !r->anchored) {
			src[i].holds = d->leads;
			src[i].nholds = d->nleads;
		}
	}
}

int rd_ruleset_build(struct rd_ruleset **out, const struct rd_ruleset_input *in, char *err, size_t errsize)
{
	*out = NULL;
	struct rd_ruleset *rs = rd_mem_calloc(sizeof(*rs));
	if (!rs)
		return REDACT_ERROR_NOMEM;
	rd_arena_init(&rs->arena);
	rs->match_limit = in->match_limit ? in->match_limit : 200000;
	/* JIT code confuses Valgrind's memcheck (reads of JIT stack frames look
	 * uninitialised), so under Valgrind the interpreter runs: same results,
	 * and memcheck then checks our code and PCRE2's. */
	rs->use_jit = !in->no_jit && !rd_running_on_valgrind();
	rs->report = in->report;
	rs->report_arg = in->report_arg;
	rs->counters = in->counters;
	int rc = REDACT_ERROR_NOMEM;
	struct rd_kw_source *src = NULL;
	struct idslot *ids = NULL;

	rs->gctx = pcre2_general_context_create(rd_mem_pcre2_alloc, rd_mem_pcre2_free, NULL);
	rs->cctx = rs->gctx ? pcre2_compile_context_create(rs->gctx) : NULL;
	if (!rs->cctx)
		goto fail;
	/* LF newlines whatever PCRE2 was built with: '.' and the newline
	 * analysis of the rules (rd_regex_may_match_newline) agree on what a
	 * newline is. */
	pcre2_set_newline(rs->cctx, PCRE2_NEWLINE_LF);

	size_t n = in->nrules, ntail = 0;
	rs->nrules = n;
	rs->rules = rd_arena_alloc(&rs->arena, (n + 1) * sizeof(*rs->rules));
	src = rd_mem_calloc((n + 1) * sizeof(*src));
	if (!rs->rules || !src)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct rd_rule_def *d = in->rules[i];
		struct rd_rule *r = &rs->rules[i];
		r->def = d;
		r->disabled = in->disabled ? in->disabled[i] : 0;
		if (d->flags & RD_RULE_LITERAL) {
			r->literal = 1;
			r->literal_value = d->regex ? d->regex : d->keywords[0];
			r->literal_len = strlen(r->literal_value);
		} else {
			int anchored, planned = (d->flags & RD_RULE_PLANNED) != 0;
			if (planned) { /* analysed by redact-rulec at build time */
				r->regex = d->regex;
				anchored = d->prefix_max == 0;
				r->prefix_max = anchored ? 0 : (uint32_t)d->prefix_max;
			} else {
				r->regex = rd_rule_plan(&rs->arena, d, &anchored, &r->prefix_max);
			}
			r->anchored = (uint8_t)anchored;
			if (!anchored && r->prefix_max > rs->max_prefix)
				rs->max_prefix = r->prefix_max;
			if (!anchored) {
				/* src is written here only for rules analysed now:
				 * those of redact-rulec have their leads in d (and
				 * src is filled in below when an index is built) */
				const char *const *leads = d->leads;
				size_t nholds = d->nleads;
				if (!planned) {
					const char **found;
					nholds = src[i].nholds = rd_regex_literal_leads(&rs->arena, r->regex, &found);
					leads = src[i].holds = found;
				}
				if (!nholds)
					ntail++;
				else if (uncovered_leads(&rs->arena, r, d, leads, nholds))
					goto fail;
			}
			/* Only windowed rules are searched for matches in progress
			 * (tail rules, lead groups); anchored ones never ask. */
			if (planned)
				r->single_line = !anchored && (d->flags & RD_RULE_SINGLE_LINE);
			else
				r->single_line = !anchored && rd_rule_single_line(r->regex, d);
		}
		atomic_init(&r->code, NULL);
		atomic_init(&r->jcode, NULL);
		atomic_init(&r->uses, 0);
		atomic_init(&r->lookbehind, 0);
		atomic_init(&r->allow, NULL);
		atomic_init(&r->reported, 0);
		atomic_init(&r->counter, NULL);
	}

	rs->tail_rules = rd_arena_alloc(&rs->arena, (ntail + 1) * sizeof(uint32_t));
	rs->tail = rd_arena_alloc(&rs->arena, (ntail + 1) * sizeof(*rs->tail));
	rs->tail_bytes = rd_arena_alloc(&rs->arena, (ntail + 1) * sizeof(*rs->tail_bytes));
	rs->tail_consume = rd_arena_alloc(&rs->arena, 256 * sizeof(uint64_t));
	rs->tail_start = rd_arena_alloc(&rs->arena, 256 * sizeof(uint64_t));
	if (!rs->tail_rules || !rs->tail || !rs->tail_bytes || !rs->tail_consume || !rs->tail_start)
		goto fail;
	memset(rs->tail_consume, 0, 256 * sizeof(uint64_t));
	for (unsigned b = 0; b < 256; b++)
		atomic_init(&rs->tail_start[b], 0);
	/* Multi-line tail rules first: after a write that ends in a newline
	 * only they are checked (rd_engine_scan). */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct rd_rule *r = &rs->rules[i];
			if (r->literal || r->anchored || r->disabled || nholds_of(src, r, i) || r->single_line != pass)
				continue;
			size_t t = rs->ntail;
			struct rd_tail *tl = &rs->tail[t];
			uint64_t *bytes = rs->tail_bytes[t];
			const struct rd_first_bytes *pre = NULL;
			if (r->def->flags & RD_RULE_PLANNED)
				pre = find_rule(in->base_progress, in->nbase_progress, (uint32_t)i);
			if (pre)
				memcpy(bytes, pre->set, sizeof(pre->set)); /* redact-rulec's */
			else
				(void)rd_regex_progress_bytes(r->regex, r->def->keywords, r->def->nkeywords, bytes);
			tl->prefix_max = r->prefix_max;
			tl->single_line = r->single_line;
			tl->disabled = 0; /* set below, after ids are resolved */
			const uint64_t *known = NULL;
			for (size_t k = 0; i < in->nbase && k < in->nbase_first && !known; k++)
				if (in->base_first[k].rule == i)
					known = in->base_first[k].set;
			atomic_init(&tl->first_known, known != NULL);
			for (unsigned b = 0; t < RD_TAIL_FAST && b < 256; b++) {
				uint64_t bit = 1ull << t;
				if ((bytes[b >> 6] >> (b & 63)) & 1)
					rs->tail_consume[b] |= bit;
				if (!known || ((known[b >> 6] >> (b & 63)) & 1))
					atomic_store_explicit(&rs->tail_start[b],
							      atomic_load_explicit(&rs->tail_start[b], memory_order_relaxed) | bit,
							      memory_order_relaxed);
			}
			rs->tail_rules[rs->ntail++] = (uint32_t)i;
		}
		if (pass == 0)
			rs->ntail_multiline = rs->ntail;
	}
	for (size_t i = 0; i < n; i++) {
		struct rd_rule *r = &rs->rules[i];
		if (r->literal || r->anchored || !nholds_of(src, r, i))
			continue;
		int g = rd_lead_group(r);
		if (r->nscan_leads && r->prefix_max > rs->lead_window[g])
			rs->lead_window[g] = r->prefix_max;
	}
	for (int g = 0; g < RD_LEAD_GROUPS; g++)
		atomic_init(&rs->leadix[g], NULL);

	/* Later definitions of an id replace earlier ones (a "+path" rule
	 * source can override a built-in rule): the earlier one is disabled.
	 * Not when every id is known to be distinct (the built-in rules alone):
	 * the table of ids is ~5 pages that a process would touch on its first
	 * write for nothing. */
	size_t tsize = 16;
	while (tsize < n * 2)
		tsize *= 2;
	if (n > in->nunique && !(ids = rd_mem_calloc(tsize * sizeof(*ids))))
		goto fail;
	for (size_t i = 0; ids && i < n; i++) {
		if (rs->rules[i].disabled)
			continue;
		const char *id = rs->rules[i].def->id;
		uint32_t s = str_hash(id) & (uint32_t)(tsize - 1);
		while (ids[s].id && strcmp(ids[s].id, id))
			s = (s + 1) & (uint32_t)(tsize - 1);
		if (ids[s].id)
			rs->rules[ids[s].index].disabled = 1;
		ids[s].id = id;
		ids[s].index = i;
	}
	for (size_t t = 0; t < rs->ntail; t++)
		rs->tail[t].disabled = rs->rules[rs->tail_rules[t]].disabled;

	rc = RD_KW_INCOMPATIBLE;
	rs->kwx = &rs->kw;
	if (in->base && in->nbase == n) {
		rs->kwx = in->base;
		rc = 0;
		/* the lead indexes of exactly these rules, prebuilt too */
		for (int lg = 0; lg < RD_LEAD_GROUPS && in->base_leads_known; lg++)
			atomic_init(&rs->leadix[lg], in->base_leads[lg] ? (struct rd_kwindex *)in->base_leads[lg]
								       : RD_LEADIX_NONE);
	} else if (in->base && in->nbase < n) {
		fill_sources(src, rs, in);
		rc = rd_kwindex_build(&rs->kw, &rs->arena, src + in->nbase, n - in->nbase, in->base,
				      (uint32_t)in->nbase);
	}
	if (rc == RD_KW_INCOMPATIBLE) {
		/* One index of every enabled rule, the built-in ones too. */
		fill_sources(src, rs, in);
		for (size_t i = 0; i < n; i++) {
			int off = rs->rules[i].disabled;
			src[i].nkeywords = off ? 0 : in->rules[i]->nkeywords;
			if (off)
				src[i].nholds = 0;
		}
		rc = rd_kwindex_build(&rs->kw, &rs->arena, src, n, NULL, 0);
	}
	if (rc) {
		snprintf(err, errsize, "cannot build the keyword index (%s)", redact_strerror(rc));
		goto fail;
	}

	if (in->nglobal) {
		struct rd_allowlist_def *g = rd_arena_alloc(&rs->arena, in->nglobal * sizeof(*g));
		if (!g) {
			rc = REDACT_ERROR_NOMEM;
			goto fail;
		}
		for (size_t i = 0; i < in->nglobal; i++)
			g[i] = *in->global[i];
		rs->global = g;
		rs->nglobal = in->nglobal;
	}
	atomic_init(&rs->global_allow, NULL);
	for (size_t i = 0; i < in->nowned; i++)
		rs->owned[i] = in->owned[i];
	rs->nowned = in->nowned;
	rd_mem_free(src);
	rd_mem_free(ids);
	*out = rs;
	return 0;
fail:
	rd_mem_free(src);
	rd_mem_free(ids);
	if (rc == REDACT_ERROR_NOMEM)
		snprintf(err, errsize, "out of memory building the rule set");
	rs->nowned = 0; /* the caller keeps ownership on failure */
	rd_ruleset_free(rs);
	return rc;
}

int rd_code_first_bytes(const pcre2_code *code, uint64_t set[4])
{
	uint32_t type = 0, unit = 0;
	const uint8_t *bitmap = NULL;
	memset(set, 0, 4 * sizeof(uint64_t));
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type) != 0)
		return -1;
	if (type == 1 && pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0 && unit < 256) {
		uint8_t other = (uint8_t)unit;
		if (unit >= 'a' && unit <= 'z')
			other = (uint8_t)(unit - 32);
		else if (unit >= 'A' && unit <= 'Z')
			other = (uint8_t)(unit + 32);
		set[unit >> 6] |= 1ull << (unit & 63);
		set[other >> 6] |= 1ull << (other & 63);
		return 0;
	}
	if (type == 0 && pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0 && bitmap) {
		for (unsigned b = 0; b < 256; b++)
			if (bitmap[b >> 3] & (1u << (b & 7)))
				set[b >> 6] |= 1ull << (b & 63);
		return 0;
	}
	return -1;
}


int rd_lead_group(const struct rd_rule *r)
{
	int g = r->single_line ? 0 : RD_LEADS_MULTILINE;
	for (uint32_t k = 0; k < r->nscan_leads; k++)
		if (strlen(r->scan_leads[k]) < 4)
			g |= RD_LEADS_SHORT;
	return g;
}

struct rd_kwindex *rd_ruleset_leads(struct rd_ruleset *rs, int group)
{
	struct rd_kwindex *ix = atomic_load_explicit(&rs->leadix[group], memory_order_acquire);
	if (__builtin_expect(ix != NULL, 1))
		return ix == RD_LEADIX_NONE ? NULL : ix;
	/* The leads as keywords of their rules. */
	struct rd_kw_source *src = rd_mem_calloc((rs->nrules + 1) * sizeof(*src));
	ix = rd_arena_alloc(&rs->arena, sizeof(*ix));
	size_t nleads = 0;
	for (size_t i = 0; src && ix && i < rs->nrules; i++) {
		struct rd_rule *r = &rs->rules[i];
		if (r->literal || r->anchored || r->disabled)
			continue;
		if (!r->nscan_leads || rd_lead_group(r) != group)
			continue;
		src[i].keywords = r->scan_leads;
		src[i].nkeywords = r->nscan_leads;
		nleads += r->nscan_leads;
	}
	struct rd_kwindex *result = RD_LEADIX_NONE;
	if (src && ix && nleads && rd_kwindex_build(ix, &rs->arena, src, rs->nrules, NULL, 0) == 0)
		result = ix;
	rd_mem_free(src);
	struct rd_kwindex *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&rs->leadix[group], &expected, result, memory_order_acq_rel,
						     memory_order_acquire))
		result = expected; /* another thread built it first (its memory stays in the arena) */
	return result == RD_LEADIX_NONE ? NULL : result;
}

static void free_allow(struct rd_allow_compiled *a)
{
	if (!a || a == RD_ALLOW_BROKEN)
		return;
	for (size_t i = 0; i < a->n; i++)
		code_free(a->codes[i]);
	rd_mem_free(a);
}

void rd_ruleset_free(struct rd_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++) {
		pcre2_code *c = atomic_load(&rs->rules[i].code);
		if (c && c != RD_CODE_BROKEN)
			code_free(c);
		c = atomic_load(&rs->rules[i].jcode);
		if (c)
			code_free(c);
		free_allow(atomic_load(&rs->rules[i].allow));
	}
	free_allow(atomic_load(&rs->global_allow));
	for (size_t i = 0; i < rs->nowned; i++) {
		rd_rule_defs_destroy(rs->owned[i]);
		rd_mem_free(rs->owned[i]);
	}
	pcre2_compile_context_free(rs->cctx);
	pcre2_general_context_free(rs->gctx);
	rd_arena_destroy(&rs->arena);
	rd_mem_free(rs);
}

/* ---- compiling ---- */

/* Go's regexp (gitleaks) gives '$' the meaning "end of text"; PCRE2 needs
 * DOLLAR_ENDONLY for that (field notes section 6).  Subjects are bytes, not
 * UTF-8: NEVER_UTF stops a pattern from switching UTF on with (*UTF). */
#define RD_COMPILE_OPTIONS (PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP)

static pcre2_code *compile(struct rd_ruleset *rs, const char *regex, uint32_t options, int jit, char *err,
			   size_t errsize)
{
	int ec;
	PCRE2_SIZE off;
	jit_enter();
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, RD_COMPILE_OPTIONS | options, &ec,
				      &off, rs->cctx);
	/* Allowlist regexes are JIT-compiled at once: they are compiled only
	 * when their rule has found something, and pcre2_match then runs
	 * their JIT code on every finding of the rule. */
	if (c && jit && rs->use_jit && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0)
		rs->use_jit = 0; /* no executable memory here: the interpreter for every rule */
	jit_leave();
	if (!c) {
		if (err) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errsize, "regex does not compile at offset %zu: %s", (size_t)off, (char *)msg);
		}
		return NULL;
	}
	return c;
}

/* The JIT tier of a rule: a copy of its code with JIT code for both modes
 * (complete for one-shot buffers and flushes, partial-hard for streams),
 * so that a published code object is never modified while other threads
 * match with it.  A JIT failure (no executable memory, e.g. under a W^X
 * policy) leaves the interpreter, which gives the same results. */
static void make_jit_tier(struct rd_ruleset *rs, struct rd_rule *r, pcre2_code *c)
{
	jit_enter();
	pcre2_code *j = pcre2_code_copy(c);
	int failed = !j || pcre2_jit_compile(j, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD) != 0;
	jit_leave();
	if (failed) {
		if (j)
			code_free(j);
		rs->use_jit = 0; /* no executable memory here: the interpreter for every rule */
		return;
	}
	pcre2_code *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(&r->jcode, &expected, j, memory_order_acq_rel,
						     memory_order_acquire))
		code_free(j); /* another thread made it first */
}

void rd_rule_report_once(struct rd_ruleset *rs, struct rd_rule *r, int flag, const char *event, const char *detail)
{
	int old = atomic_fetch_or(&r->reported, flag);
	if (!(old & flag) && rs->report)
		rs->report(rs->report_arg, r->def->id, event, detail);
}

pcre2_code *rd_rule_code(struct rd_ruleset *rs, struct rd_rule *r)
{
	pcre2_code *j = atomic_load_explicit(&r->jcode, memory_order_acquire);
	if (__builtin_expect(j != NULL, 1))
		return j;
	pcre2_code *c = atomic_load_explicit(&r->code, memory_order_acquire);
	if (__builtin_expect(c != NULL, 1)) {
		if (c == RD_CODE_BROKEN)
			return NULL;
		if (rs->use_jit &&
		    atomic_fetch_add_explicit(&r->uses, 1, memory_order_relaxed) + 1 == RD_JIT_AFTER) {
			make_jit_tier(rs, r, c);
			j = atomic_load_explicit(&r->jcode, memory_order_acquire);
			if (j)
				return j;
		}
		return c;
	}
	char err[256];
	c = compile(rs, r->regex, r->anchored ? PCRE2_ANCHORED : PCRE2_USE_OFFSET_LIMIT, 0, err, sizeof(err));
	pcre2_code *expected = NULL;
	if (!c) {
		atomic_compare_exchange_strong(&r->code, &expected, RD_CODE_BROKEN);
		rd_rule_report_once(rs, r, RD_REPORTED_COMPILE, "rule_error", err);
		return NULL;
	}
	uint32_t lb = 0;
	if (pcre2_pattern_info(c, PCRE2_INFO_MAXLOOKBEHIND, &lb) == 0)
		atomic_store_explicit(&r->lookbehind, lb, memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&r->code, &expected, c, memory_order_acq_rel,
						     memory_order_acquire)) {
		code_free(c); /* another thread compiled it first */
		return expected == RD_CODE_BROKEN ? NULL : expected;
	}
	return c;
}

static struct rd_allow_compiled *compile_allow(struct rd_ruleset *rs, const struct rd_allowlist_def *lists, size_t nlists,
					       char *err, size_t errsize, int *broken)
{
	size_t n = 0;
	for (size_t i = 0; i < nlists; i++)
		n += lists[i].nregexes;
	struct rd_allow_compiled *a = rd_mem_calloc(sizeof(*a) + (n + 1) * sizeof(pcre2_code *));
	if (!a)
		return NULL;
	a->n = n;
	size_t k = 0;
	for (size_t i = 0; i < nlists; i++) {
		for (size_t j = 0; j < lists[i].nregexes; j++, k++) {
			a->codes[k] = compile(rs, lists[i].regexes[j], 0, 1, err, errsize);
			if (!a->codes[k])
				*broken = 1;
		}
	}
	return a;
}

static struct rd_allow_compiled *get_allow(struct rd_ruleset *rs, _Atomic(struct rd_allow_compiled *) *slot,
					   const struct rd_allowlist_def *lists, size_t nlists, struct rd_rule *r)
{
	struct rd_allow_compiled *a = atomic_load_explicit(slot, memory_order_acquire);
	if (__builtin_expect(a != NULL, 1))
		return a == RD_ALLOW_BROKEN ? NULL : a;
	char err[256];
	int broken = 0;
	a = compile_allow(rs, lists, nlists, err, sizeof(err), &broken);
	if (!a)
		return NULL; /* out of memory: try again next time */
	if (broken && r)
		rd_rule_report_once(rs, r, RD_REPORTED_ALLOW, "rule_error", err);
	struct rd_allow_compiled *expected = NULL;
	if (!atomic_compare_exchange_strong_explicit(slot, &expected, a, memory_order_acq_rel, memory_order_acquire)) {
		free_allow(a);
		return expected == RD_ALLOW_BROKEN ? NULL : expected;
	}
	return a;
}

struct rd_allow_compiled *rd_rule_allow(struct rd_ruleset *rs, struct rd_rule *r)
{
	if (!r->def->nallowlists)
		return NULL;
	return get_allow(rs, &r->allow, r->def->allowlists, r->def->nallowlists, r);
}

struct rd_allow_compiled *rd_ruleset_global_allow(struct rd_ruleset *rs)
{
	if (!rs->nglobal)
		return NULL;
	return get_allow(rs, &rs->global_allow, rs->global, rs->nglobal, NULL);
}

/* Cost probe run at reload time: a regex that exhausts the match limit on
 * plain filler text would stall writes, so the rule set is refused. */
static int probe_cost(struct rd_ruleset *rs, struct rd_rule *r, pcre2_code *c, char *err, size_t errsize)
{
	static const char *const fillers[] = {"a", "a=", "aaaa aaaa\n", "Aa0_-.", "\"a\": \"b\", "};
	char subject[4096 + 256];
	pcre2_match_data *md = pcre2_match_data_create(1, rs->gctx);
	pcre2_match_context *mc = pcre2_match_context_create(rs->gctx);
	if (!md || !mc) {
		pcre2_match_data_free(md);
		pcre2_match_context_free(mc);
		return REDACT_ERROR_NOMEM;
	}
	pcre2_set_match_limit(mc, rs->match_limit);
	pcre2_set_depth_limit(mc, rs->match_limit);
	int rc = 0;
	for (size_t f = 0; f < sizeof(fillers) / sizeof(fillers[0]) && !rc; f++) {
		size_t kl = strlen(r->def->keywords[0]), fl = strlen(fillers[f]), len = 0;
		if (kl > 255)
			kl = 255;
		memcpy(subject, r->def->keywords[0], kl);
		len = kl;
		while (len + fl <= 4096 + kl) {
			memcpy(subject + len, fillers[f], fl);
			len += fl;
		}
		int m = pcre2_match(c, (PCRE2_SPTR)subject, len, 0, 0, md, mc);
		if (m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT || m == PCRE2_ERROR_JIT_STACKLIMIT ||
		    m == PCRE2_ERROR_HEAPLIMIT) {
			snprintf(err, errsize,
				 "regex is too costly: it exhausts the match limit (%u) on 4 KiB of \"%s\" filler text",
				 rs->match_limit, fillers[f]);
			rc = REDACT_ERROR_RULES;
		}
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc;
}

int rd_ruleset_compile_all(struct rd_ruleset *rs, char *err, size_t errsize)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		struct rd_rule *r = &rs->rules[i];
		const struct rd_rule_def *d = r->def;
		char msg[256];
		if (!r->literal) {
			pcre2_code *c = compile(rs, r->regex, r->anchored ? PCRE2_ANCHORED : PCRE2_USE_OFFSET_LIMIT, 0, msg,
						sizeof(msg));
			if (!c) {
				snprintf(err, errsize, "%s:%d: rule '%s': %s", d->file ? d->file : "<built-in>", d->line,
					 d->id, msg);
				return REDACT_ERROR_RULES;
			}
			int prc = probe_cost(rs, r, c, msg, sizeof(msg));
			if (prc) {
				code_free(c);
				snprintf(err, errsize, "%s:%d: rule '%s': %s", d->file ? d->file : "<built-in>", d->line,
					 d->id, msg);
				return prc;
			}
			uint32_t lb = 0;
			if (pcre2_pattern_info(c, PCRE2_INFO_MAXLOOKBEHIND, &lb) == 0)
				atomic_store_explicit(&r->lookbehind, lb, memory_order_relaxed);
			pcre2_code *expected = NULL;
			if (!atomic_compare_exchange_strong(&r->code, &expected, c))
				code_free(c);
		}
		if (d->nallowlists) {
			int broken = 0;
			struct rd_allow_compiled *a = compile_allow(rs, d->allowlists, d->nallowlists, msg, sizeof(msg),
								    &broken);
			if (!a)
				return REDACT_ERROR_NOMEM;
			if (broken) {
				free_allow(a);
				snprintf(err, errsize, "%s:%d: rule '%s': allowlist %s", d->file ? d->file : "<built-in>",
					 d->line, d->id, msg);
				return REDACT_ERROR_RULES;
			}
			struct rd_allow_compiled *expected = NULL;
			if (!atomic_compare_exchange_strong(&r->allow, &expected, a))
				free_allow(a);
		}
	}
	if (rs->nglobal) {
		char msg[256];
		int broken = 0;
		struct rd_allow_compiled *a = compile_allow(rs, rs->global, rs->nglobal, msg, sizeof(msg), &broken);
		if (!a)
			return REDACT_ERROR_NOMEM;
		if (broken) {
			free_allow(a);
			snprintf(err, errsize, "global allowlist: %s", msg);
			return REDACT_ERROR_RULES;
		}
		struct rd_allow_compiled *expected = NULL;
		if (!atomic_compare_exchange_strong(&rs->global_allow, &expected, a))
			free_allow(a);
	}
	return 0;
}
