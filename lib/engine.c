#include "rd_engine.h"
#include "redact.h"

#include <string.h>

/* log2 without libm: loading libm into every process costs start-up time
 * for one function.  x = m * 2^e with m in [1, 2); ln(m) = 2 atanh(z) with
 * z = (m - 1) / (m + 1) <= 1/3, whose series converges to double precision
 * within 16 terms. */
static double rd_log2(double x)
{
	int e = 0;
	while (x >= 2.0) {
		x *= 0.5;
		e++;
	}
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	double z = (x - 1.0) / (x + 1.0), z2 = z * z, term = z, sum = 0.0;
	for (int k = 1; k < 34; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return e + 2.0 * sum * 1.4426950408889634; /* 1/ln(2) */
}

double rd_entropy(const uint8_t *p, size_t n)
{
	if (!n)
		return 0.0;
	uint32_t count[256] = {0};
	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	/* H = log2(n) - (1/n) sum c log2(c) */
	double sum = 0.0;
	for (int c = 0; c < 256; c++)
		if (count[c] > 1)
			sum += count[c] * rd_log2((double)count[c]);
	return rd_log2((double)n) - sum / (double)n;
}

int rd_is_mask_text(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] == '*')
		i++;
	if (i == n)
		return 1;
	static const char label[] = "[REDACTED:";
	if (n > sizeof(label) && !memcmp(p, label, sizeof(label) - 1) && p[n - 1] == ']') {
		for (i = sizeof(label) - 1; i < n - 1; i++)
			if (!(p[i] == '-' || p[i] == '_' || p[i] == '.' || (p[i] >= '0' && p[i] <= '9') ||
			      (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
				return 0;
		return 1;
	}
	return 0;
}

/* ---- scratch growth ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *q = rd_mem_realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static int prepare(struct rd_scratch *sc, struct rd_ruleset *rs)
{
	size_t need_hits = rd_kwindex_min_cap(rs->kwx) + 4096;
	if (grow((void **)&sc->hits, &sc->hits_cap, need_hits, sizeof(*sc->hits)))
		return REDACT_ERROR_NOMEM;
	if (rs->nrules > sc->rules_cap) {
		/* The four per-rule arrays in one block (stamp first, which the
		 * others follow; scratch.c frees the block through stamp): one
		 * allocation and 2 pages for the built-in rules, not 4 blocks of
		 * a page each.  Rounded to 16 rules, not doubled: the block of
		 * 472 rules then fits 8 KiB.  A new block is all zeros, so no
		 * stamp looks valid (gen never wraps to 0 below). */
		size_t cap = (rs->nrules + 15) & ~(size_t)15;
		uint32_t *block = rd_mem_calloc(4 * cap * sizeof(uint32_t));
		if (!block)
			return REDACT_ERROR_NOMEM;
		rd_mem_free(sc->stamp);
		sc->stamp = block;
		sc->last_end = block + cap;
		sc->searched = block + 2 * cap;
		sc->flags = block + 3 * cap;
		sc->rules_cap = cap;
	}
	if (++sc->gen == 0) {
		memset(sc->stamp, 0, sc->rules_cap * sizeof(uint32_t));
		sc->gen = 1;
	}
	if (sc->match_limit != rs->match_limit) {
		pcre2_set_match_limit(sc->mc, rs->match_limit);
		pcre2_set_depth_limit(sc->mc, rs->match_limit);
		sc->match_limit = rs->match_limit;
	}
	sc->nspans = 0;
	return 0;
}

int rd_span_push(struct rd_scratch *sc, struct rd_span span)
{
	if (grow((void **)&sc->spans, &sc->spans_cap, sc->nspans + 1, sizeof(*sc->spans)))
		return REDACT_ERROR_NOMEM;
	sc->spans[sc->nspans++] = span;
	return 0;
}

/* ---- allowlists ---- */

static int contains_ci(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	if (!m || m > n)
		return m == 0;
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && rd_lower[hay[i + j]] == rd_lower[(uint8_t)needle[j]])
			j++;
		if (j == m)
			return 1;
	}
	return 0;
}

struct found {
	size_t mstart, mend; /* whole match */
	size_t sstart, send; /* secret */
};

static void target_range(const uint8_t *buf, size_t len, const struct found *f, int target, size_t *a, size_t *b)
{
	switch (target) {
	case RD_TARGET_MATCH:
		*a = f->mstart;
		*b = f->mend;
		return;
	case RD_TARGET_LINE: {
		size_t s = f->mstart, e = f->mend;
		while (s > 0 && buf[s - 1] != '\n' && f->mstart - s < 4096)
			s--;
		while (e < len && buf[e] != '\n' && e - f->mend < 4096)
			e++;
		*a = s;
		*b = e;
		return;
	}
	default:
		*a = f->sstart;
		*b = f->send;
	}
}

/* 1 when one of the allowlists excuses this finding. */
static int allowed(struct rd_scratch *sc, const struct rd_allowlist_def *lists, size_t nlists,
		   const struct rd_allow_compiled *codes, const uint8_t *buf, size_t len, const struct found *f)
{
	size_t k = 0;
	for (size_t i = 0; i < nlists; i++) {
		const struct rd_allowlist_def *al = &lists[i];
		int regex_hit = 0, stop_hit = 0;
		if (al->nregexes) {
			size_t a, b;
			target_range(buf, len, f, al->target, &a, &b);
			for (size_t j = 0; j < al->nregexes; j++) {
				pcre2_code *c = codes ? codes->codes[k + j] : NULL;
				if (!c || regex_hit)
					continue;
				if (sc->offset_limit != PCRE2_UNSET) {
					pcre2_set_offset_limit(sc->mc, PCRE2_UNSET);
					sc->offset_limit = PCRE2_UNSET;
				}
				int rc = pcre2_match(c, (PCRE2_SPTR)(buf + a), b - a, 0, 0, sc->md, sc->mc);
				if (rc >= 0)
					regex_hit = 1;
			}
		}
		k += al->nregexes;
		/* Stopwords look at the secret, as in gitleaks. */
		for (size_t j = 0; j < al->nstopwords && !stop_hit; j++)
			stop_hit = contains_ci(buf + f->sstart, f->send - f->sstart, al->stopwords[j]);
		int hit;
		if (al->condition_and)
			hit = (!al->nregexes || regex_hit) && (!al->nstopwords || stop_hit);
		else
			hit = regex_hit || stop_hit;
		if (hit)
			return 1;
	}
	return 0;
}

/* Decides whether a regex match is a secret and records it. */
static int accept_match(struct rd_ruleset *rs, struct rd_scratch *sc, uint32_t ri, const uint8_t *buf, size_t len,
			int groups)
{
	struct rd_rule *r = &rs->rules[ri];
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
	struct found f = {ov[0], ov[1], ov[0], ov[1]};
	int g = r->def->secret_group;
	if (g == RD_GROUP_AUTO) {
		for (int i = 1; i < groups; i++) {
			if (ov[2 * i] != PCRE2_UNSET && ov[2 * i + 1] > ov[2 * i]) {
				f.sstart = ov[2 * i];
				f.send = ov[2 * i + 1];
				break;
			}
		}
	} else if (g > 0) {
		if (g >= groups || ov[2 * g] == PCRE2_UNSET)
			return 0;
		f.sstart = ov[2 * g];
		f.send = ov[2 * g + 1];
	}
	if (f.send <= f.sstart)
		return 0;
	const uint8_t *s = buf + f.sstart;
	size_t sl = f.send - f.sstart;
	if (rd_is_mask_text(s, sl))
		return 0;
	if (r->def->entropy > 0 && rd_entropy(s, sl) < r->def->entropy)
		return 0;
	if (r->def->nallowlists &&
	    allowed(sc, r->def->allowlists, r->def->nallowlists, rd_rule_allow(rs, r), buf, len, &f))
		return 0;
	if (rs->nglobal && allowed(sc, rs->global, rs->nglobal, rd_ruleset_global_allow(rs), buf, len, &f))
		return 0;
	/* pcre2_match with allowlists reused the ovector; the span is saved. */
	return rd_span_push(sc, (struct rd_span){(uint32_t)f.sstart, (uint32_t)f.send, ri}) ? -1 : 1;
}

static void limit_hit(struct rd_ruleset *rs, struct rd_scratch *sc, uint32_t ri, int rc)
{
	sc->flags[ri] |= 1; /* skip this rule for the rest of the buffer */
	PCRE2_UCHAR msg[120];
	pcre2_get_error_message(rc, msg, sizeof(msg));
	rd_rule_report_once(rs, &rs->rules[ri], RD_REPORTED_LIMIT, "rule_limit", (const char *)msg);
}

static void note_partial(struct rd_scan_result *res, size_t start, uint32_t ri)
{
	if (start < res->hold) {
		res->hold = start;
		res->hold_rule = ri;
	}
}

/* Bytes before a match start that the regex may inspect (lookbehind): at
 * least this, more for a rule whose compiled code says so
 * (PCRE2_INFO_MAXLOOKBEHIND, recorded when it is compiled; an AppSync rule
 * looks 29 bytes back). */
#define RD_LOOKBEHIND_MARGIN 16

static inline size_t lookbehind_margin(const struct rd_rule *r)
{
	uint32_t lb = atomic_load_explicit(&r->lookbehind, memory_order_relaxed);
	return lb > RD_LOOKBEHIND_MARGIN ? lb : RD_LOOKBEHIND_MARGIN;
}

static int eval_literal(struct rd_ruleset *rs, struct rd_scratch *sc, uint32_t ri, const uint8_t *buf, size_t len,
			size_t q, unsigned flags, struct rd_scan_result *res)
{
	struct rd_rule *r = &rs->rules[ri];
	size_t L = r->literal_len;
	if (q < sc->last_end[ri])
		return 0;
	if (q + L <= len) {
		if (memcmp(buf + q, r->literal_value, L))
			return 0;
		sc->last_end[ri] = (uint32_t)(q + L);
		return rd_span_push(sc, (struct rd_span){(uint32_t)q, (uint32_t)(q + L), ri});
	}
	if ((flags & RD_SCAN_PARTIAL) && !memcmp(buf + q, r->literal_value, len - q))
		note_partial(res, q, ri);
	return 0;
}

static int eval_rule(struct rd_ruleset *rs, struct rd_scratch *sc, uint32_t ri, const uint8_t *buf, size_t len,
		     size_t q, unsigned flags, struct rd_scan_result *res)
{
	struct rd_rule *r = &rs->rules[ri];
	if (r->disabled)
		return 0;
	if (sc->stamp[ri] != sc->gen) {
		sc->stamp[ri] = sc->gen;
		sc->last_end[ri] = 0;
		sc->searched[ri] = 0;
		sc->flags[ri] = 0;
	}
	if (sc->flags[ri])
		return 0;
	if (r->literal)
		return eval_literal(rs, sc, ri, buf, len, q, flags, res);
	uint32_t opts = (flags & RD_SCAN_PARTIAL) ? PCRE2_PARTIAL_HARD : 0;
	if (r->anchored) {
		if (q < sc->last_end[ri])
			return 0; /* inside an earlier match of this rule */
		pcre2_code *code = rd_rule_code(rs, r);
		if (!code)
			return 0;
		if ((flags & RD_SCAN_NO_BEFORE) && q < lookbehind_margin(r)) {
			res->need_context = 1;
			return 0;
		}
		/* A match context's offset limit is an error for code compiled
		 * without PCRE2_USE_OFFSET_LIMIT: anchored rules run with none. */
		int rc = rd_match(r, code, buf, len, q, opts, sc, PCRE2_UNSET);
		if (rc > 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
			size_t end = ov[1];
			int a = accept_match(rs, sc, ri, buf, len, rc);
			if (a < 0)
				return REDACT_ERROR_NOMEM;
			sc->last_end[ri] = (uint32_t)end;
		} else if (rc == PCRE2_ERROR_PARTIAL) {
			note_partial(res, pcre2_get_ovector_pointer(sc->md)[0], ri);
		} else if (rc != PCRE2_ERROR_NOMATCH) {
			limit_hit(rs, sc, ri, rc);
		}
		return 0;
	}
	/* Unanchored: the match may start up to prefix_max bytes before the
	 * keyword; starts already examined for this rule are not tried again. */
	size_t start = q > r->prefix_max ? q - r->prefix_max : 0;
	if ((flags & RD_SCAN_NO_BEFORE) && q < (size_t)r->prefix_max + lookbehind_margin(r)) {
		res->need_context = 1;
		return 0;
	}
	if (start < sc->last_end[ri])
		start = sc->last_end[ri];
	if (sc->stamp[ri] == sc->gen && sc->searched[ri] && start < sc->searched[ri])
		start = sc->searched[ri];
	if (start > q)
		return 0;
	pcre2_code *code = rd_rule_code(rs, r);
	if (!code)
		return 0;
	while (start <= q) {
		int rc = rd_match(r, code, buf, len, start, opts, sc, q);
		if (rc > 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
			size_t mstart = ov[0], mend = ov[1];
			int a = accept_match(rs, sc, ri, buf, len, rc);
			if (a < 0)
				return REDACT_ERROR_NOMEM;
			sc->last_end[ri] = (uint32_t)mend;
			start = mend > mstart ? mend : mstart + 1;
			continue;
		}
		if (rc == PCRE2_ERROR_PARTIAL)
			note_partial(res, pcre2_get_ovector_pointer(sc->md)[0], ri);
		else if (rc != PCRE2_ERROR_NOMATCH)
			limit_hit(rs, sc, ri, rc);
		break;
	}
	sc->searched[ri] = (uint32_t)q + 1;
	return 0;
}

static void sort_hits(struct rd_kw_hit *h, size_t n)
{
	/* Insertion sort: hits are out of order by at most max_offset bytes. */
	for (size_t i = 1; i < n; i++) {
		struct rd_kw_hit x = h[i];
		size_t j = i;
		while (j > 0 && (h[j - 1].pos > x.pos || (h[j - 1].pos == x.pos && h[j - 1].kw > x.kw))) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = x;
	}
}

static void sort_spans(struct rd_span *s, size_t n)
{
	/* Insertion sort: spans arrive almost sorted (keyword order). */
	for (size_t i = 1; i < n; i++) {
		struct rd_span x = s[i];
		size_t j = i;
		while (j > 0 && (s[j - 1].start > x.start || (s[j - 1].start == x.start && s[j - 1].end > x.end))) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = x;
	}
}

/* The start of the last line of buf[lo..len): just past its last newline,
 * or lo. */
static size_t last_line_start(const uint8_t *buf, size_t len, size_t lo)
{
	const uint8_t *nl = lo < len ? memrchr(buf + lo, '\n', len - lo) : NULL;
	return nl ? (size_t)(nl - buf) + 1 : lo;
}

/* Bytes before `from` whose partial checks are repeated anyway: a lead cut
 * by the end of the previous write was held back (rescanned), this only
 * adds certainty for lookbehinds at the boundary. */
#define RD_RECHECK_MARGIN 16

static inline int in_set(const uint64_t set[4], uint8_t b)
{
	return (int)((set[b >> 6] >> (b & 63)) & 1);
}

/* Learns a tail rule's first bytes from its code: clears its bit in
 * tail_start for every other byte (see rd_ruleset.h). */
static void learn_first(struct rd_ruleset *rs, size_t t, const pcre2_code *code)
{
	uint64_t set[4];
	if (t >= RD_TAIL_FAST || rd_code_first_bytes(code, set))
		return;
	for (unsigned b = 0; b < 256; b++)
		if (!((set[b >> 6] >> (b & 63)) & 1))
			atomic_fetch_and_explicit(&rs->tail_start[b], ~(1ull << t), memory_order_relaxed);
	atomic_store_explicit(&rs->tail[t].first_known, 1, memory_order_relaxed);
}

/* Runs tail rule t's partial search from start. */
static void tail_search(struct rd_ruleset *rs, struct rd_scratch *sc, const uint8_t *buf, size_t len, size_t t,
			size_t start, struct rd_scan_result *res)
{
	uint32_t ri = rs->tail_rules[t];
	struct rd_rule *r = &rs->rules[ri];
	if (sc->stamp[ri] == sc->gen && sc->flags[ri])
		return; /* hit a match limit in this buffer */
	pcre2_code *code = rd_rule_code(rs, r);
	if (!code)
		return;
	if (!atomic_load_explicit(&rs->tail[t].first_known, memory_order_relaxed))
		learn_first(rs, t, code);
	int m = rd_match(r, code, buf, len, start, PCRE2_PARTIAL_HARD, sc, len);
	if (m == PCRE2_ERROR_PARTIAL)
		note_partial(res, pcre2_get_ovector_pointer(sc->md)[0], ri);
}

/* Matches that may be in progress at the end of a write, which the keyword
 * pass cannot see: their keyword has not arrived yet.
 *  - Windowed rules without a literal lead (the keyword may come after the
 *    start of the secret, New Relic's ...NRAL): PCRE2 is asked for a
 *    partial match over the rule's window.
 *  - Windowed rules with leads ("https://", "-----BEGIN") that hold none of
 *    their keywords: a lead in the last window bytes may start such a match.
 * Where the search starts:
 *  - Not before `from` (less a margin): every start before it was checked at
 *    the end of the previous write, and a match attempt that neither matched
 *    nor reached the end of that subject (PCRE2_PARTIAL_HARD) fails the same
 *    way with more text after it.
 *  - Rules whose matches never contain a newline (most of them): not before
 *    the last newline, and not at all after a write that ends in one.  Only
 *    the multi-line rules (a Kubernetes Secret's data before its kind) are
 *    searched after every write, over the new bytes only. */
static int scan_in_progress(struct rd_ruleset *rs, struct rd_scratch *sc, const uint8_t *buf, size_t len,
			    size_t from, size_t kwtail, struct rd_scan_result *res)
{
	size_t seen = from > RD_RECHECK_MARGIN ? from - RD_RECHECK_MARGIN : 0;
	int ends_line = buf[len - 1] == '\n';
	/* Single-line searches start no earlier than the last line (none runs
	 * after a write that ends in a newline). */
	size_t line_start = ends_line ? len : last_line_start(buf, len, seen);
	size_t ntail = ends_line ? rs->ntail_multiline : rs->ntail;
	/* Where each tail rule's search may start: its keyword may begin at
	 * len - kwtail (cut by the end) or later, at most prefix_max bytes
	 * after the match; not before `seen`; single-line rules not before the
	 * last line.  Sorted by that bound, highest first. */
	struct {
		size_t lb;
		uint32_t t;
	} lbs[RD_TAIL_FAST];
	size_t nlb = 0;
	uint64_t alive = 0;
	for (size_t t = 0; t < ntail; t++) {
		const struct rd_tail *tl = &rs->tail[t];
		if (tl->disabled)
			continue;
		size_t lb = len - kwtail > tl->prefix_max ? len - kwtail - tl->prefix_max : 0;
		if (lb < seen)
			lb = seen;
		if (tl->single_line && lb < line_start)
			lb = line_start;
		if (lb >= len)
			continue;
		if (t >= RD_TAIL_FAST) {
			/* beyond the combined pass: the run of consumable bytes only */
			size_t run = len;
			while (run > lb && ((rs->tail_bytes[t][buf[run - 1] >> 6] >> (buf[run - 1] & 63)) & 1))
				run--;
			if (run < len)
				tail_search(rs, sc, buf, len, t, run, res);
			continue;
		}
		size_t k = nlb++;
		while (k > 0 && lbs[k - 1].lb < lb) {
			lbs[k] = lbs[k - 1];
			k--;
		}
		lbs[k].lb = lb;
		lbs[k].t = (uint32_t)t;
		alive |= 1ull << t;
	}
	/* One pass backwards: a match in progress consumed every byte from its
	 * start to the end, so rule t stays alive while the bytes are ones it
	 * can consume; it has a candidate if one of them can start a match.
	 * Most rules drop out at the first space or quote. */
	uint64_t can_start = 0;
	size_t run_start[RD_TAIL_FAST];
	size_t p = len, ni = 0;
	const uint64_t *consume = rs->tail_consume;
	const _Atomic uint64_t *starts = rs->tail_start;
	while (alive) {
		/* Rules whose bound is reached stop here: their run starts at p. */
		while (ni < nlb && lbs[ni].lb >= p) {
			uint64_t bit = 1ull << lbs[ni].t;
			if (alive & bit)
				run_start[lbs[ni].t] = p;
			alive &= ~bit;
			ni++;
		}
		if (!alive || !p)
			break;
		/* The bytes down to the next bound (every alive rule's bound is
		 * below p, the highest of them is lbs[ni].lb), in a tight loop. */
		size_t lo = ni < nlb ? lbs[ni].lb : 0;
		uint64_t a = alive, cs = can_start;
		while (p > lo && a) {
			/* Eight bytes at a time while no alive rule stops in them
			 * (the multi-line rules consume every byte): their start
			 * bits are just or-ed together. */
			size_t stop = p - lo >= 8 ? p - 8 : lo;
			if (p - stop == 8) {
				const uint8_t *b = buf + stop;
				uint64_t keep = consume[b[0]] & consume[b[1]] & consume[b[2]] & consume[b[3]] &
						consume[b[4]] & consume[b[5]] & consume[b[6]] & consume[b[7]];
				if (!(a & ~keep)) {
#define RD_ST(i) atomic_load_explicit(&starts[b[i]], memory_order_relaxed)
					cs |= a & (RD_ST(0) | RD_ST(1) | RD_ST(2) | RD_ST(3) | RD_ST(4) | RD_ST(5) |
						   RD_ST(6) | RD_ST(7));
#undef RD_ST
					p = stop;
					continue;
				}
			}
			while (p > stop) {
				uint8_t c = buf[p - 1];
				uint64_t dropped = a & ~consume[c];
				if (dropped) {
					for (uint64_t d = dropped; d; d &= d - 1)
						run_start[__builtin_ctzll(d)] = p;
					a &= ~dropped;
					if (!a)
						break;
				}
				cs |= a & atomic_load_explicit(&starts[c], memory_order_relaxed);
				p--;
			}
		}
		alive = a;
		can_start = cs;
	}
	for (uint64_t a = alive; a; a &= a - 1)
		run_start[__builtin_ctzll(a)] = p;
	for (uint64_t c = can_start; c; c &= c - 1) {
		size_t t = (size_t)__builtin_ctzll(c);
		tail_search(rs, sc, buf, len, t, run_start[t], res);
	}
	for (int g = 0; g < RD_LEAD_GROUPS; g++) {
		uint32_t window = rs->lead_window[g];
		if (!window)
			continue;
		if (!(g & RD_LEADS_MULTILINE) && ends_line)
			continue;
		size_t tstart = len - kwtail > window ? len - kwtail - window : 0;
		if (tstart < seen)
			tstart = seen;
		if (!(g & RD_LEADS_MULTILINE) && tstart < line_start)
			tstart = line_start;
		if (tstart >= len)
			continue;
		const struct rd_kwindex *lx = rd_ruleset_leads(rs, g);
		if (!lx)
			continue;
		if (grow((void **)&sc->hits, &sc->hits_cap, rd_kwindex_min_cap(lx) + 256, sizeof(*sc->hits)))
			return REDACT_ERROR_NOMEM;
		size_t pos = tstart;
		while (pos < len) {
			size_t nh = rd_kwindex_scan(lx, buf, len, tstart, &pos, sc->hits, sc->hits_cap);
			for (size_t h = 0; h < nh; h++) {
				size_t q = sc->hits[h].pos;
				const uint32_t *rl;
				uint32_t nr;
				rd_kw_rules(lx, sc->hits[h].kw, &rl, &nr);
				for (uint32_t i = 0; i < nr; i++) {
					struct rd_rule *r = &rs->rules[rl[i]];
					if (r->disabled || q + r->prefix_max < len - kwtail || q >= res->hold)
						continue; /* its keyword would be whole in this buffer, or already held */
					pcre2_code *code = rd_rule_code(rs, r);
					if (!code)
						continue;
					int m = rd_match(r, code, buf, len, q, PCRE2_PARTIAL_HARD, sc, q);
					if (m == PCRE2_ERROR_PARTIAL)
						note_partial(res, q, rl[i]);
				}
			}
		}
	}
	return 0;
}

int rd_engine_scan(struct rd_ruleset *rs, struct rd_scratch *sc, const uint8_t *buf, size_t len, size_t from,
		   unsigned flags, struct rd_scan_result *res)
{
	res->hold = len;
	res->hold_rule = UINT32_MAX;
	res->need_context = 0;
	if (len >= (1u << 31))
		return REDACT_ERROR_INVALID;
	int rc = prepare(sc, rs);
	if (rc)
		return rc;
	/* Rules see their keyword hits in positional order: eval_rule skips a
	 * hit inside an earlier match of its rule, and does not search the
	 * same starts twice.  The keyword pass reports hits up to max_offset
	 * bytes out of order (rd_kwindex_scan), so each batch is sorted, and
	 * the hits that a later batch could still precede wait for it. */
	size_t pos = from, nh = 0;
	const size_t late = rs->kwx->max_offset;
	while (pos < len) {
		nh += rd_kwindex_scan(rs->kwx, buf, len, from, &pos, sc->hits + nh, sc->hits_cap - nh);
		sort_hits(sc->hits, nh);
		size_t ready = nh;
		if (pos < len)
			while (ready > 0 && sc->hits[ready - 1].pos + late >= pos)
				ready--;
		/* The carry is bounded (rd_kwindex_min_cap), but never let it
		 * leave the next scan without room: that scan would end the pass. */
		if (sc->hits_cap - (nh - ready) < rd_kwindex_min_cap(rs->kwx))
			ready = nh;
		for (size_t h = 0; h < ready; h++) {
			size_t q = sc->hits[h].pos;
			const uint32_t *rl;
			uint32_t nr;
			rd_kw_rules(rs->kwx, sc->hits[h].kw, &rl, &nr);
			for (uint32_t i = 0; i < nr; i++) {
				rc = eval_rule(rs, sc, rl[i], buf, len, q, flags, res);
				if (rc)
					return rc;
				if (res->need_context)
					return 0;
			}
		}
		nh -= ready;
		memmove(sc->hits, sc->hits + ready, nh * sizeof(*sc->hits));
	}
	if (flags & RD_SCAN_PARTIAL) {
		/* A keyword cut by the end of the write is held back; a windowed
		 * match around it may begin up to prefix_max bytes before it. */
		size_t tail = rd_kwindex_prefix_tail(rs->kwx, buf, len);
		if (len) {
			rc = scan_in_progress(rs, sc, buf, len, from, tail, res);
			if (rc)
				return rc;
		}
		if (tail && len - tail < res->hold) {
			res->hold = len - tail;
			res->hold_rule = UINT32_MAX;
		}
	}
	if (sc->nspans > 1)
		sort_spans(sc->spans, sc->nspans);
	return 0;
}
