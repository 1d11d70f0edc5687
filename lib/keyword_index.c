#include "rd_keyword.h"
#include "rd_sort.h"
#include "redact.h"

#include <stdlib.h>
#include <string.h>

struct rd_gram_weight {
	char gram[5];
	uint16_t per_mb;
};
#include "gram_weights.h"

const uint8_t rd_lower[256] = {
#define L4(i) L1(i), L1(i + 1), L1(i + 2), L1(i + 3)
#define L1(i) ((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i))
#define L16(i) L4(i), L4(i + 4), L4(i + 8), L4(i + 12)
	L16(0),   L16(16),  L16(32),  L16(48),  L16(64),  L16(80),  L16(96),  L16(112),
	L16(128), L16(144), L16(160), L16(176), L16(192), L16(208), L16(224), L16(240),
#undef L1
#undef L4
#undef L16
};

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint32_t gram_hash(uint32_t g)
{
	return (g * 0x9E3779B1u) >> (32 - RD_KW_FILTER_BITS);
}

/* The two second-stage windows hash differently, so that a window that is a
 * keyword's "next byte" window does not pass as a "byte before" one. */
static inline uint32_t wide_hash_next(uint32_t w)
{
	return (w * 0x85EBCA6Bu) >> (32 - RD_KW_WIDE_BITS);
}

static inline uint32_t wide_hash_before(uint32_t w)
{
	return (w * 0xC2B2AE35u) >> (32 - RD_KW_WIDE_BITS);
}

static inline int bit_test(const uint64_t *bm, uint32_t h)
{
	return (int)((bm[h >> 6] >> (h & 63)) & 1);
}

static uint64_t prefix_key(uint64_t h, size_t len)
{
	return (h << 8 | (uint64_t)len) | 1; /* never 0: 0 marks an empty slot */
}

/* Polynomial hash of a string read backwards from its end, so a suffix can be
 * extended one byte to the left in O(1): see rd_kwindex_prefix_tail. */
#define PREFIX_BASE 0x100000001B3ull

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_gram_weight(const void *key, const void *elem)
{
	const struct rd_gram_weight *w = elem;
	return memcmp(key, w->gram, strlen(w->gram) < 4 ? 3 : 4);
}

/* Occurrences per MB of the folded gram g[0..width) in ML job output
 * (gram_weights.h); 1 for grams too rare to be listed, and for 2-grams. */
static uint32_t gram_weight(const uint8_t *g, int width)
{
	const struct rd_gram_weight *w = NULL;
	if (width == 3)
		w = bsearch(g, rd_gram3_weights, sizeof(rd_gram3_weights) / sizeof(rd_gram3_weights[0]),
			    sizeof(rd_gram3_weights[0]), cmp_gram_weight);
	else if (width == 4)
		w = bsearch(g, rd_gram4_weights, sizeof(rd_gram4_weights) / sizeof(rd_gram4_weights[0]),
			    sizeof(rd_gram4_weights[0]), cmp_gram_weight);
	return w ? w->per_mb : 1;
}

/* The furthest a keyword's first filter gram may lie from its start.  Bounds
 * how far out of order rd_kwindex_scan may report hits (and so the hits an
 * engine carries between batches). */
#define RD_KW_MAX_WINDOW 24

/* Which S consecutive grams of keyword kw[0..len) go into the filter: the
 * window whose grams are rarest in ML output.  Any window works, because an
 * occurrence at q has exactly one check position in q+j .. q+j+S-1.  A gram
 * costs its filter hits plus, weighted by what a table look-up costs over a
 * second-stage test (~6x, measured), the hits of its second-stage window
 * (see `wide` in rd_keyword.h). */
static uint32_t rarest_window(const char *kw, uint32_t len, int gram, int stride)
{
	uint32_t best = 0, best_cost = UINT32_MAX;
	for (uint32_t j = 0; j + (uint32_t)stride - 1 + (uint32_t)gram <= len && j <= RD_KW_MAX_WINDOW; j++) {
		uint32_t cost = 0;
		for (int s = 0; s < stride; s++) {
			uint32_t off = j + (uint32_t)s;
			uint8_t g[4];
			for (int i = 0; i < gram; i++)
				g[i] = (uint8_t)kw[off + (uint32_t)i] | 0x20;
			cost += gram_weight(g, gram);
			if (gram >= 3 && (off + (uint32_t)gram < len || off >= 1)) {
				uint32_t w0 = off + (uint32_t)gram < len ? off + (uint32_t)gram - 3 : off - 1;
				for (int i = 0; i < 4; i++)
					g[i] = (uint8_t)kw[w0 + (uint32_t)i] | 0x20;
				cost += 6 * gram_weight(g, 4);
			}
		}
		if (cost < best_cost) {
			best_cost = cost;
			best = j;
		}
	}
	return best;
}

struct triple {
	uint32_t gram, kw, offset;
};

static int cmp_triple(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;
	if (x->gram != y->gram)
		return x->gram < y->gram ? -1 : 1;
	if (x->offset != y->offset) /* descending offset -> ascending start position */
		return x->offset > y->offset ? -1 : 1;
	return x->kw < y->kw ? -1 : x->kw > y->kw;
}

struct kwtmp {
	const char *lower; /* in the arena */
	uint32_t len;
	uint32_t rule;
};

static int cmp_kwtmp(const void *a, const void *b)
{
	const struct kwtmp *x = a, *y = b;
	int c = strcmp(x->lower, y->lower);
	if (c)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

int rd_kwindex_build(struct rd_kwindex *ix, rd_arena *a, const struct rd_kw_source *rules, size_t nrules,
		     const struct rd_kwindex *base, uint32_t rule_offset)
{
	memset(ix, 0, sizeof(*ix));
	size_t total = 0;
	for (size_t r = 0; r < nrules; r++)
		total += rules[r].nkeywords;
	struct kwtmp *tmp = rd_mem_calloc((total ? total : 1) * sizeof(*tmp));
	if (!tmp)
		return REDACT_ERROR_NOMEM;
	int rc = REDACT_ERROR_NOMEM;
	const char **kw = NULL; /* keyword k's text, while building */
	/* All keywords, lower-cased, in one block: kwoff[] are offsets into it. */
	size_t textlen = 0;
	for (size_t r = 0; r < nrules; r++)
		for (size_t k = 0; k < rules[r].nkeywords; k++)
			textlen += strlen(rules[r].keywords[k]) + 1;
	char *text = rd_arena_alloc(a, textlen + 1);
	uint64_t *bitmap = rd_arena_alloc(a, RD_KW_FILTER_WORDS * sizeof(uint64_t));
	uint64_t *wide = rd_arena_alloc(a, RD_KW_WIDE_WORDS * sizeof(uint64_t));
	if (!text || !bitmap || !wide)
		goto out;
	ix->kwtext = text;
	ix->bitmap = bitmap;
	ix->wide = wide;
	size_t n = 0;
	for (size_t r = 0; r < nrules; r++) {
		for (size_t k = 0; k < rules[r].nkeywords; k++) {
			size_t l = strlen(rules[r].keywords[k]);
			char *s = text;
			text += l + 1;
			for (size_t i = 0; i < l; i++)
				s[i] = (char)rd_lower[(uint8_t)rules[r].keywords[k][i]];
			s[l] = 0;
			tmp[n].lower = s;
			tmp[n].len = (uint32_t)l;
			tmp[n].rule = (uint32_t)r + rule_offset;
			n++;
		}
	}
	rd_sort(tmp, n, sizeof(*tmp), cmp_kwtmp);

	/* Distinct keywords and their rule lists. */
	size_t nkw = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(tmp[i].lower, tmp[i - 1].lower))
			nkw++;
	ix->nkw = nkw;
	kw = rd_mem_calloc((nkw + 1) * sizeof(char *));
	uint32_t *kwoff = rd_arena_alloc(a, (nkw + 1) * sizeof(uint32_t));
	uint32_t *kwlen = rd_arena_alloc(a, (nkw + 1) * sizeof(uint32_t));
	uint32_t *first = rd_arena_alloc(a, (nkw + 1) * sizeof(uint32_t));
	uint32_t *count = rd_arena_alloc(a, (nkw + 1) * sizeof(uint32_t));
	uint32_t *kwr = rd_arena_alloc(a, (n + 1) * sizeof(uint32_t));
	if (!kw || !kwoff || !kwlen || !first || !count || !kwr)
		goto out;
	ix->kwoff = kwoff;
	ix->kwlen = kwlen;
	ix->kw_rule_first = first;
	ix->kw_rule_count = count;
	ix->kw_rules = kwr;
	ix->minlen = nkw ? SIZE_MAX : 0;
	size_t nrl = 0;
	for (size_t i = 0, k = (size_t)-1; i < n; i++) {
		if (i == 0 || strcmp(tmp[i].lower, tmp[i - 1].lower)) {
			k++;
			kw[k] = tmp[i].lower;
			kwoff[k] = (uint32_t)(tmp[i].lower - ix->kwtext);
			kwlen[k] = tmp[i].len;
			first[k] = (uint32_t)nrl;
			if (tmp[i].len < ix->minlen)
				ix->minlen = tmp[i].len;
			if (tmp[i].len > ix->maxlen)
				ix->maxlen = tmp[i].len;
		} else if (tmp[i].rule == tmp[i - 1].rule) {
			continue; /* the same keyword twice in one rule */
		}
		kwr[nrl++] = tmp[i].rule;
		count[k]++;
	}

	if (base) {
		/* Extend the base: its gram and stride, its filter bits. */
		if (nkw && ix->minlen < (size_t)(base->gram + base->stride - 1)) {
			rc = RD_KW_INCOMPATIBLE;
			goto out;
		}
		ix->base = base;
		ix->kw_offset = (uint32_t)(base->kw_offset + base->nkw);
		ix->gram = base->gram;
		ix->stride = base->stride;
		memcpy(bitmap, base->bitmap, RD_KW_FILTER_WORDS * sizeof(uint64_t));
		memcpy(ix->kwchar, base->kwchar, sizeof(ix->kwchar));
		if (!nkw || base->minlen < ix->minlen)
			ix->minlen = base->minlen;
		if (base->maxlen > ix->maxlen)
			ix->maxlen = base->maxlen;
		ix->max_offset = base->max_offset;
	} else {
		/* Gram width and stride from the shortest keyword. */
		switch (ix->minlen) {
		case 0:
		case 1:
		case 2: ix->gram = 2; ix->stride = 1; break;
		case 3: ix->gram = 3; ix->stride = 1; break;
		case 4: ix->gram = 3; ix->stride = 2; break;
		case 5: ix->gram = 4; ix->stride = 2; break;
		default: ix->gram = 4; ix->stride = 3; break;
		}
	}
	ix->gmask = ix->gram == 4 ? 0xffffffffu : ix->gram == 3 ? 0xffffffu : 0xffffu;
	ix->fold = 0x20202020u & ix->gmask;

	/* (gram, keyword, offset) triples */
	size_t ntr = nkw * (size_t)ix->stride;
	struct triple *tr = rd_mem_calloc((ntr ? ntr : 1) * sizeof(*tr));
	if (!tr)
		goto out;
	for (size_t k = 0; k < nkw; k++) {
		uint32_t w = rarest_window(kw[k], kwlen[k], ix->gram, ix->stride);
		for (int j = 0; j < ix->stride; j++) {
			uint32_t off = w + (uint32_t)j;
			uint8_t g4[4] = {0};
			memcpy(g4, kw[k] + off, (size_t)ix->gram);
			uint32_t g = (load32(g4) & ix->gmask) | ix->fold;
			tr[k * (size_t)ix->stride + (size_t)j] = (struct triple){g, (uint32_t)k, off};
			if (off > ix->max_offset)
				ix->max_offset = off;
		}
	}
	/* Second stage (see rd_keyword.h): each keyword gram's wider window. */
	ix->wide_on = ix->gram >= 3;
	if (base) {
		ix->wide_on = ix->wide_on && base->wide_on;
		memcpy(wide, base->wide, RD_KW_WIDE_WORDS * sizeof(uint64_t));
	}
	for (size_t i = 0; i < ntr && ix->wide_on; i++) {
		const char *k = kw[tr[i].kw];
		uint32_t off = tr[i].offset, L = kwlen[tr[i].kw];
		uint8_t w4[4];
		if (off + (uint32_t)ix->gram < L) {
			for (int b = 0; b < 4; b++) /* bytes off+G-3 .. off+G */
				w4[b] = (uint8_t)k[off + (uint32_t)ix->gram - 3 + (uint32_t)b] | 0x20;
			uint32_t h = wide_hash_next(load32(w4));
			wide[h >> 6] |= 1ull << (h & 63);
		} else if (off >= 1) {
			for (int b = 0; b < 4; b++) /* bytes off-1 .. off+2 */
				w4[b] = (uint8_t)k[off - 1 + (uint32_t)b] | 0x20;
			uint32_t h = wide_hash_before(load32(w4));
			wide[h >> 6] |= 1ull << (h & 63);
		} else {
			ix->wide_on = 0; /* a keyword no longer than the gram */
		}
	}
	rd_sort(tr, ntr, sizeof(*tr), cmp_triple);
	size_t ngrams = 0;
	for (size_t i = 0; i < ntr; i++)
		if (i == 0 || tr[i].gram != tr[i - 1].gram)
			ngrams++;
	uint32_t tsize = 16;
	while (tsize < ngrams * 2)
		tsize *= 2;
	if (tsize > 65536) {
		/* The slot index is the 16-bit gram hash; more distinct grams than
		 * that only lengthen probe chains, so keep 65536 slots (the
		 * loop below needs a free slot: at most 65536 * 3 keyword offsets). */
		tsize = 65536;
	}
	if (ngrams >= tsize) {
		rd_mem_free(tr);
		rc = REDACT_ERROR_RULES;
		goto out;
	}
	ix->slot_mask = tsize - 1;
	struct rd_kw_slot *slots = rd_arena_alloc(a, tsize * sizeof(*slots));
	struct rd_kw_entry *entries = rd_arena_alloc(a, (ntr + 1) * sizeof(*entries));
	if (!slots || !entries) {
		rd_mem_free(tr);
		goto out;
	}
	ix->slots = slots;
	ix->entries = entries;
	for (size_t i = 0; i < ntr;) {
		size_t j = i;
		while (j < ntr && tr[j].gram == tr[i].gram)
			j++;
		uint32_t h = gram_hash(tr[i].gram);
		bitmap[h >> 6] |= 1ull << (h & 63);
		uint32_t s = h & ix->slot_mask;
		while (slots[s].count)
			s = (s + 1) & ix->slot_mask;
		slots[s] = (struct rd_kw_slot){tr[i].gram, (uint32_t)i, (uint32_t)(j - i)};
		if (j - i > ix->max_bucket)
			ix->max_bucket = (uint32_t)(j - i);
		for (size_t e = i; e < j; e++)
			entries[e] = (struct rd_kw_entry){tr[e].kw, tr[e].offset};
		i = j;
	}
	rd_mem_free(tr);

	/* Proper prefixes, for the hold-back decision; and every prefix of a
	 * windowed rule's lead (the lead itself too: its keyword comes later). */
	size_t npre = 0, maxhold = 0;
	for (size_t k = 0; k < nkw; k++)
		npre += kwlen[k] - 1;
	for (size_t r = 0; r < nrules; r++)
		for (size_t h = 0; h < rules[r].nholds; h++) {
			size_t l = strlen(rules[r].holds[h]);
			npre += l;
			if (l + 1 > maxhold)
				maxhold = l + 1;
		}
	if (maxhold > ix->maxlen)
		ix->maxlen = maxhold;
	uint64_t *pre = rd_mem_alloc((npre ? npre : 1) * sizeof(uint64_t));
	if (!pre)
		goto out;
	size_t np = 0;
	for (size_t k = 0; k < nkw; k++) {
		for (const char *c = kw[k]; *c; c++) {
			uint8_t b = (uint8_t)*c;
			ix->kwchar[b] = 1;
			if (b >= 'a' && b <= 'z')
				ix->kwchar[b - 32] = 1;
		}
		for (uint32_t l = 1; l < kwlen[k]; l++) {
			/* hash kw[0..l) read backwards, as rd_kwindex_prefix_tail sees it */
			uint64_t h = 0;
			for (uint32_t i = l; i-- > 0;)
				h = h * PREFIX_BASE + (uint8_t)kw[k][i] + 1;
			pre[np++] = prefix_key(h, l);
		}
	}
	for (size_t r = 0; r < nrules; r++) {
		for (size_t hi = 0; hi < rules[r].nholds; hi++) {
			const char *hs = rules[r].holds[hi];
			size_t hl = strlen(hs);
			for (size_t i = 0; i < hl; i++) {
				uint8_t b = rd_lower[(uint8_t)hs[i]];
				ix->kwchar[b] = 1;
				if (b >= 'a' && b <= 'z')
					ix->kwchar[b - 32] = 1;
			}
			for (size_t l = 1; l <= hl; l++) {
				uint64_t h = 0;
				for (size_t i = l; i-- > 0;)
					h = h * PREFIX_BASE + rd_lower[(uint8_t)hs[i]] + 1;
				pre[np++] = prefix_key(h, l);
			}
		}
	}
	rd_sort(pre, np, sizeof(*pre), cmp_u64);
	uint32_t psize = 16;
	while (psize < np * 2)
		psize *= 2;
	ix->prefix_mask = psize - 1;
	uint64_t *prefixes = rd_arena_alloc(a, psize * sizeof(uint64_t));
	if (!prefixes) {
		rd_mem_free(pre);
		goto out;
	}
	ix->prefixes = prefixes;
	for (size_t i = 0; i < np; i++) {
		if (i && pre[i] == pre[i - 1])
			continue;
		uint32_t s = (uint32_t)(pre[i] * 0x9E3779B97F4A7C15ull >> 40) & ix->prefix_mask;
		while (prefixes[s])
			s = (s + 1) & ix->prefix_mask;
		prefixes[s] = pre[i];
	}
	rd_mem_free(pre);
	rc = 0;
out:
	rd_mem_free(kw);
	rd_mem_free(tmp); /* the lower-cased copies live in the arena */
	return rc;
}

/* Confirms a filter hit in one table (own keywords, or the base's). */
static inline size_t confirm_in(const struct rd_kwindex *t, uint32_t id_offset, const uint8_t *buf, size_t len,
				size_t from, size_t p, uint32_t g, struct rd_kw_hit *hits, size_t nh)
{
	uint32_t s = gram_hash(g) & t->slot_mask;
	for (;;) {
		const struct rd_kw_slot *sl = &t->slots[s];
		if (!sl->count)
			return nh; /* hash collision in the bitmap only */
		if (sl->gram == g) {
			for (uint32_t e = sl->first; e < sl->first + sl->count; e++) {
				const struct rd_kw_entry *en = &t->entries[e];
				if (p < en->offset + from)
					continue; /* starts before the region of interest */
				size_t q = p - en->offset;
				uint32_t kl = t->kwlen[en->kw];
				if (q + kl > len)
					continue;
				const char *kw = t->kwtext + t->kwoff[en->kw];
				uint32_t i = 0;
				while (i < kl && rd_lower[buf[q + i]] == (uint8_t)kw[i])
					i++;
				if (i == kl)
					hits[nh++] = (struct rd_kw_hit){(uint32_t)q, en->kw + id_offset};
			}
			return nh;
		}
		s = (s + 1) & t->slot_mask;
	}
}

/* The tables, for a position that passed both filter stages.  Out of line:
 * inlined, it made the compiler spill the scan loop's registers. */
__attribute__((noinline)) static size_t confirm(const struct rd_kwindex *ix, const uint8_t *buf, size_t len,
						size_t from, size_t p, uint32_t g, struct rd_kw_hit *hits, size_t nh)
{
	if (ix->base)
		nh = confirm_in(ix->base, ix->base->kw_offset, buf, len, from, p, g, hits, nh);
	if (ix->nkw)
		nh = confirm_in(ix, ix->kw_offset, buf, len, from, p, g, hits, nh);
	return nh;
}

/* A position whose gram passed the filter: the second stage, then the
 * tables. */
static inline size_t check(const struct rd_kwindex *ix, const uint8_t *buf, size_t len, size_t from, size_t p,
			   uint32_t g, struct rd_kw_hit *hits, size_t nh)
{
	if (ix->wide_on) {
		size_t r = p + (size_t)ix->gram - 3;
		int pass = 0;
		if (r + 4 <= len)
			pass = bit_test(ix->wide, wide_hash_next(load32(buf + r) | 0x20202020u));
		if (!pass && p >= 1)
			pass = bit_test(ix->wide, wide_hash_before(load32(buf + p - 1) | 0x20202020u));
		if (!pass)
			return nh;
	}
	return confirm(ix, buf, len, from, p, g, hits, nh);
}

/* Check positions per block of the filter loop. */
#define RD_KW_BLOCK 256

/* The filter loop for one stride S (a constant, so offsets are immediates),
 * over one block: four checks per step with independent loads and hashes,
 * and no branch on the result: every position is written to cand[] and the
 * count advances by its bit.  A branch taken on ~5% of the checks (ML logs)
 * was mispredicted often enough to cost more than the loads. */
#define FILTER_BLOCK(S)                                                                             	while (p + 3 * (S) + 4 <= stop) {                                                           		uint32_t h0 = gram_hash((load32(buf + p) & m) | fold);                              		uint32_t h1 = gram_hash((load32(buf + p + (S)) & m) | fold);                        		uint32_t h2 = gram_hash((load32(buf + p + 2 * (S)) & m) | fold);                    		uint32_t h3 = gram_hash((load32(buf + p + 3 * (S)) & m) | fold);                    		cand[nc] = (uint32_t)p;                                                             		nc += (size_t)(bm[h0 >> 6] >> (h0 & 63)) & 1;                                        		cand[nc] = (uint32_t)(p + (S));                                                     		nc += (size_t)(bm[h1 >> 6] >> (h1 & 63)) & 1;                                        		cand[nc] = (uint32_t)(p + 2 * (S));                                                 		nc += (size_t)(bm[h2 >> 6] >> (h2 & 63)) & 1;                                        		cand[nc] = (uint32_t)(p + 3 * (S));                                                 		nc += (size_t)(bm[h3 >> 6] >> (h3 & 63)) & 1;                                        		p += 4 * (S);                                                                       	}

#ifdef __SSE2__
#include <emmintrin.h>

/* An index of a few short keywords (the leads of the multi-line windowed
 * rules, "-----begin" and "data:", searched after every write) is scanned
 * without the gram filter: for 16 start positions at a time, each
 * keyword's first and last byte are compared (folded with |0x20, a
 * superset of the case-insensitive match), and the rare positions where
 * both agree are confirmed byte by byte.  At G=4/S=2 the filter loop cost
 * ~8 instructions per byte of a write; this costs ~1 per keyword.  Hits
 * come in positional order. */
#define RD_KW_FEW 4
#define RD_KW_FEW_MAXLEN 16

/* Confirms the keywords whose first and last byte agree at q. */
static inline size_t few_confirm(const struct rd_kwindex *ix, const uint8_t *buf, size_t len, size_t q,
				 struct rd_kw_hit *hits, size_t nh)
{
	for (size_t k = 0; k < ix->nkw; k++) {
		uint32_t kl = ix->kwlen[k];
		if (q + kl > len)
			continue;
		const char *kw = ix->kwtext + ix->kwoff[k];
		uint32_t i = 0;
		while (i < kl && rd_lower[buf[q + i]] == (uint8_t)kw[i])
			i++;
		if (i == kl)
			hits[nh++] = (struct rd_kw_hit){(uint32_t)q, (uint32_t)k + ix->kw_offset};
	}
	return nh;
}

/* Start positions p..p+15 of src (src[p .. p+15+maxlen) readable) whose
 * first and last bytes agree with a keyword's, as a bit mask. */
static inline uint32_t few_block(const uint8_t *src, size_t p, size_t nk, const uint32_t *klen, const __m128i *first,
				 const __m128i *last)
{
	const __m128i fold = _mm_set1_epi8(0x20);
	__m128i b0 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(src + p)), fold);
	__m128i any = _mm_setzero_si128();
	for (size_t k = 0; k < nk; k++) {
		__m128i bl =
			_mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(src + p + klen[k] - 1)), fold);
		any = _mm_or_si128(any, _mm_and_si128(_mm_cmpeq_epi8(b0, first[k]), _mm_cmpeq_epi8(bl, last[k])));
	}
	return (uint32_t)_mm_movemask_epi8(any);
}

static size_t scan_few(const struct rd_kwindex *ix, const uint8_t *buf, size_t len, size_t from, size_t *pos,
		       struct rd_kw_hit *hits, size_t cap)
{
	size_t nk = ix->nkw, nh = 0, p = *pos, maxl = 0, minl = SIZE_MAX;
	uint32_t klen[RD_KW_FEW];
	__m128i first[RD_KW_FEW], last[RD_KW_FEW];
	for (size_t k = 0; k < nk; k++) {
		const char *kw = ix->kwtext + ix->kwoff[k];
		klen[k] = ix->kwlen[k];
		first[k] = _mm_set1_epi8((char)((uint8_t)kw[0] | 0x20));
		last[k] = _mm_set1_epi8((char)((uint8_t)kw[klen[k] - 1] | 0x20));
		if (klen[k] > maxl)
			maxl = klen[k];
		if (klen[k] < minl)
			minl = klen[k];
	}
	if (p < from)
		p = from;
	/* Whole blocks in place while every load stays inside buf. */
	while (p + 15 + maxl < len) {
		uint32_t m = few_block(buf, p, nk, klen, first, last);
		for (; m; m &= m - 1) {
			size_t q = p + (size_t)__builtin_ctz(m);
			if (nh + nk > cap) {
				*pos = q; /* resume here: hits[] could overflow */
				return nh;
			}
			nh = few_confirm(ix, buf, len, q, hits, nh);
		}
		p += 16;
	}
	/* The last start positions from a zero-padded copy (fewer than
	 * 16 + maxl bytes). */
	if (p + minl <= len) {
		uint8_t tmp[2 * 16 + 2 * RD_KW_FEW_MAXLEN];
		size_t r = len - p;
		memset(tmp, 0, sizeof(tmp));
		memcpy(tmp, buf + p, r);
		for (size_t o = 0; o + minl <= r; o += 16) {
			uint32_t m = few_block(tmp, o, nk, klen, first, last);
			for (; m; m &= m - 1) {
				size_t q = p + o + (size_t)__builtin_ctz(m);
				if (q + minl > len)
					break;
				if (nh + nk > cap) {
					*pos = q;
					return nh;
				}
				nh = few_confirm(ix, buf, len, q, hits, nh);
			}
		}
	}
	*pos = len;
	return nh;
}

/* Whether scan_few can take this index. */
static inline int few_ok(const struct rd_kwindex *ix)
{
	if (ix->base || !ix->nkw || ix->nkw > RD_KW_FEW)
		return 0;
	for (size_t k = 0; k < ix->nkw; k++)
		if (!ix->kwlen[k] || ix->kwlen[k] > RD_KW_FEW_MAXLEN)
			return 0;
	return 1;
}
#endif

size_t rd_kwindex_scan(const struct rd_kwindex *ix, const uint8_t *buf, size_t len, size_t from, size_t *pos,
		       struct rd_kw_hit *hits, size_t cap)
{
	size_t nh = 0, p = *pos;
	const size_t S = (size_t)ix->stride;
	const uint32_t m = ix->gmask, fold = ix->fold;
	const uint64_t *bm = ix->bitmap;
	/* The most hits one check position can produce. */
	const size_t reserve = ix->max_bucket + (ix->base ? ix->base->max_bucket : 0);
	if ((!ix->nkw && !ix->base) || cap < 4 * reserve) {
		*pos = len;
		return 0;
	}
#ifdef __SSE2__
	/* Below 48 bytes the gram filter is faster (its few checks against
	 * scan_few's set-up and padded copy: 10 vs 16 ns at 16 bytes, even at
	 * 48, 27 vs 22 ns at 64, 50 vs 25 at 128). */
	if (ix->nkw <= RD_KW_FEW && len - p >= 48 && few_ok(ix))
		return scan_few(ix, buf, len, from, pos, hits, cap);
#endif
	uint32_t cand[RD_KW_BLOCK + 4];
	while (p + 3 * S + 4 <= len) {
		size_t nc = 0, span = RD_KW_BLOCK * S;
		size_t stop = len - p > span ? p + span : len;
		switch (S) {
		case 1: FILTER_BLOCK(1) break;
		case 2: FILTER_BLOCK(2) break;
		default: FILTER_BLOCK(3) break;
		}
		for (size_t i = 0; i < nc; i++) {
			size_t c = cand[i];
			if (nh + reserve > cap) {
				*pos = c; /* resume here: hits[] could overflow */
				return nh;
			}
			nh = check(ix, buf, len, from, c, (load32(buf + c) & m) | fold, hits, nh);
		}
	}
	while (p + (size_t)ix->gram <= len) {
		if (nh + reserve > cap) {
			*pos = p;
			return nh;
		}
		/* The last check positions of a write (all of them in a short
		 * one): a direct load while 4 bytes remain, else the bytes
		 * assembled in a register (a 4-byte load of bytes just stored
		 * one by one stalls store forwarding: it was half the cost of
		 * a 17-byte write). */
		uint32_t v;
		if (p + 4 <= len) {
			v = load32(buf + p);
		} else {
			v = 0;
			for (size_t k = 0; p + k < len; k++) /* as load32 would read them */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				v |= (uint32_t)buf[p + k] << (8 * k);
#else
				v |= (uint32_t)buf[p + k] << (8 * (3 - k));
#endif
		}
		uint32_t g = (v & m) | fold;
		if (bit_test(bm, gram_hash(g)))
			nh = check(ix, buf, len, from, p, g, hits, nh);
		p += S;
	}
	*pos = len;
	return nh;
}

static int has_prefix(const struct rd_kwindex *t, uint64_t key)
{
	if (!t->prefixes)
		return 0;
	uint32_t s = (uint32_t)(key * 0x9E3779B97F4A7C15ull >> 40) & t->prefix_mask;
	while (t->prefixes[s]) {
		if (t->prefixes[s] == key)
			return 1;
		s = (s + 1) & t->prefix_mask;
	}
	return 0;
}

size_t rd_kwindex_prefix_tail(const struct rd_kwindex *ix, const uint8_t *buf, size_t len)
{
	if ((!ix->nkw && !ix->base) || !len || !ix->kwchar[buf[len - 1]])
		return 0; /* the common case: a write ending in '\n' or ' ' */
	size_t maxl = ix->maxlen - 1 < len ? ix->maxlen - 1 : len;
	size_t best = 0;
	uint64_t h = 0;
	for (size_t l = 1; l <= maxl; l++) {
		uint8_t c = buf[len - l];
		if (!ix->kwchar[c])
			break; /* every byte of a keyword prefix is a keyword byte */
		h = h * PREFIX_BASE + rd_lower[c] + 1;
		uint64_t key = prefix_key(h, l);
		if (has_prefix(ix, key) || (ix->base && has_prefix(ix->base, key)))
			best = l;
	}
	return best;
}
