/* The keyword pass: finds every occurrence of every rule keyword
 * (case-insensitive ASCII) in a buffer, fast enough to run on every write.
 *
 * Method (measured in field notes section 8 and bench/): a filter looks at
 * one n-gram of G bytes every S bytes, folds it to lower case with |0x20,
 * hashes it to 17 bits and tests a 128 Kibit bitmap (16 KiB, stays in L1).
 * Every keyword inserts the grams at its offsets 0..S-1, so any occurrence
 * of a keyword of length >= G+S-1 contains exactly one checked gram.  A
 * filter hit is confirmed in a small open-addressing table and by comparing
 * the keyword.  G and S come from the shortest keyword of the set:
 *   min length 2: G=2 S=1   3: G=3 S=1   4: G=3 S=2   5: G=4 S=2   >=6: G=4 S=3
 * A longer keyword has several windows of S consecutive grams; it inserts
 * the one whose grams are rarest in ML output (gram_weights.h), so that
 * "tradier" is looked for through "adi"/"die", not "tra"/"rad" (the common
 * grams of its first bytes made 80% of all filter hits on ML logs).
 * On ML training logs at 4 KiB writes, G=3/S=2 ran at ~1.9 GB/s and G=4/S=1
 * at ~1.2 GB/s on this machine, which is why shipped rules use keywords of
 * at least 4 bytes. */
#ifndef RD_KEYWORD_H
#define RD_KEYWORD_H

#include <stddef.h>
#include <stdint.h>
#include "rd_mem.h"

/* Filter size: with ~2,000 keywords in a 64 Kibit filter, 2.9% of the
 * checks on ML logs hit a bit set by another gram (half of all filter hits);
 * 128 Kibit halves that and still fits in L1 with the write buffer. */
#define RD_KW_FILTER_BITS 17
#define RD_KW_FILTER_WORDS ((1u << RD_KW_FILTER_BITS) / 64)
/* Second stage, tested only where the filter hit (see `wide` below). */
#define RD_KW_WIDE_BITS 16
#define RD_KW_WIDE_WORDS ((1u << RD_KW_WIDE_BITS) / 64)

struct rd_kw_entry {
	uint32_t kw;     /* keyword index */
	uint32_t offset; /* offset of the gram inside the keyword */
};

struct rd_kw_slot {
	uint32_t gram;
	uint32_t first;  /* into entries */
	uint32_t count;
};

struct rd_kwindex {
	int gram, stride;
	uint32_t gmask, fold;
	/* The filter tables live outside the struct (RD_KW_FILTER_WORDS and
	 * RD_KW_WIDE_WORDS words): the prebuilt index of the built-in rules is
	 * then read-only data with no pointer in it, which the dynamic loader
	 * does not relocate, and its struct is filled in on first use
	 * (rd_builtin_index). */
	const uint64_t *bitmap; /* with a base: the union of both filters */
	/* The second stage: a filter hit at p is confirmed only if one of two
	 * 4-byte windows one byte wider than the gram is a keyword's: the one
	 * that adds the next byte (bytes p+G-3 .. p+G) or the one that adds the
	 * byte before (p-1 .. p+2).  Each keyword gram enters as whichever its
	 * keyword has (the next byte if it has one).  On ML logs this turned
	 * ~96 table look-ups per 4 KiB, mostly for common 3-grams such as
	 * "oke" of "token", into ~15.  Off (wide_on = 0) for 2-byte grams and
	 * when a keyword is no longer than the gram. */
	const uint64_t *wide;
	int wide_on;
	/* An index may extend a prebuilt one (the built-in rules, generated at
	 * build time): it then holds only its own keywords, numbered after the
	 * base's, and lookups try both.  One level only. */
	const struct rd_kwindex *base;
	uint32_t kw_offset;             /* ids of own keywords start here */
	const struct rd_kw_slot *slots;
	uint32_t slot_mask;
	uint32_t max_bucket; /* most entries of one slot: hits one check can add */
	uint32_t max_offset; /* largest gram offset in a keyword (with a base: both) */
	const struct rd_kw_entry *entries;
	/* own keywords, lower-cased: keyword k is the NUL-terminated string at
	 * kwtext + kwoff[k] */
	size_t nkw;
	const char *kwtext;
	const uint32_t *kwoff;
	const uint32_t *kwlen;
	/* keyword -> rules (absolute rule indexes) */
	const uint32_t *kw_rule_first, *kw_rule_count, *kw_rules;
	size_t minlen, maxlen;          /* with a base: over both */
	/* proper prefixes of keywords, for the hold-back decision at the end of a
	 * stream write: a hash set of (hash, length) */
	const uint64_t *prefixes;
	uint32_t prefix_mask;
	uint8_t kwchar[256]; /* bytes that occur in some keyword (folded); with a base: both */
};

struct rd_kw_hit {
	uint32_t pos;
	uint32_t kw;
};

/* Input to the builder: rule r has keywords kws[r][0..nkws[r]). */
struct rd_kw_source {
	const char *const *keywords;
	size_t nkeywords;
	/* strings whose prefixes (and themselves) are held back at the end of a
	 * write, without being keywords: the leads of windowed rules */
	const char *const *holds;
	size_t nholds;
};

/* Builds an index of the rules' keywords.  With a base, builds an index of
 * only these rules, extending base: their keyword ids follow the base's and
 * their rule indexes start at rule_offset.  Returns RD_KW_INCOMPATIBLE when
 * a keyword is too short for the base's gram width and stride (the caller
 * then builds one index of everything). */
#define RD_KW_INCOMPATIBLE (-100)
int rd_kwindex_build(struct rd_kwindex *ix, rd_arena *a, const struct rd_kw_source *rules, size_t nrules,
		     const struct rd_kwindex *base, uint32_t rule_offset);

/* Keyword text and rule list by id, whichever index holds it. */
static inline const struct rd_kwindex *rd_kw_owner(const struct rd_kwindex *ix, uint32_t *kw)
{
	if (ix->base && *kw < ix->kw_offset)
		return ix->base;
	*kw -= ix->kw_offset;
	return ix;
}

static inline void rd_kw_rules(const struct rd_kwindex *ix, uint32_t kw, const uint32_t **list, uint32_t *count)
{
	const struct rd_kwindex *o = rd_kw_owner(ix, &kw);
	*list = o->kw_rules + o->kw_rule_first[kw];
	*count = o->kw_rule_count[kw];
}

static inline const char *rd_kw_text(const struct rd_kwindex *ix, uint32_t kw)
{
	const struct rd_kwindex *o = rd_kw_owner(ix, &kw);
	return o->kwtext + o->kwoff[kw];
}

/* Scans check positions from *pos (first call: the start of the region of
 * interest, `from`) up to len, appending hits that start at or after `from`
 * to hits[].  Stops early, with *pos at the next check position, when hits[]
 * could overflow; returns the hit count.  cap must be at least
 * rd_kwindex_min_cap(ix).
 * Order: hits come in the order of the check positions that found them, and
 * a hit starts up to max_offset bytes before its check position.  So hits are
 * not sorted, and a later call may still return hits that start at or after
 * *pos - max_offset: a caller that needs positional order sorts, and carries
 * those hits into the next batch (rd_engine_scan). */
size_t rd_kwindex_scan(const struct rd_kwindex *ix, const uint8_t *buf, size_t len, size_t from, size_t *pos,
		       struct rd_kw_hit *hits, size_t cap);

/* Length of the longest suffix of buf[0..len) that is a proper prefix of a
 * keyword (0 if none): bytes that must be held back because the next write
 * may complete a keyword. */
size_t rd_kwindex_prefix_tail(const struct rd_kwindex *ix, const uint8_t *buf, size_t len);

/* Room for one batch (4 check positions per step) plus the hits a caller
 * may carry over: those of the check positions in the last max_offset
 * bytes. */
static inline size_t rd_kwindex_min_cap(const struct rd_kwindex *ix)
{
	size_t b = ix->max_bucket + (ix->base ? ix->base->max_bucket : 0);
	return (4 + ix->max_offset / (size_t)(ix->stride ? ix->stride : 1) + 2) * b + 4;
}

extern const uint8_t rd_lower[256];

#endif
