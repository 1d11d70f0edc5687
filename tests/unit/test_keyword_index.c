/* The keyword pass against a naive search: every occurrence of every
 * keyword, case-insensitively, for every gram width/stride class (shortest
 * keyword 2, 3, 4, 5, 6+), with random keywords and texts. */
#include "test_util.h"
#include "rd_keyword.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* A small alphabet makes occurrences and near-misses frequent. */
static const char alpha[] = "abAB_-.12kK";

static int naive_count(const char *text, size_t n, char kws[][16], size_t nk, size_t from)
{
	int c = 0;
	for (size_t i = from; i < n; i++)
		for (size_t k = 0; k < nk; k++) {
			size_t l = strlen(kws[k]);
			if (i + l <= n && !strncasecmp(text + i, kws[k], l))
				c++;
		}
	return c;
}

/* Keywords made of alphabet al, up to maxnk of them, each minlen to
 * minlen + spread - 1 bytes (below 16); texts up to maxn bytes. */
static void run_class_with(size_t minlen, int rounds, size_t maxnk, size_t spread, const char *al, size_t maxn)
{
	size_t nal = strlen(al);
	for (int round = 0; round < rounds; round++) {
		char kws[24][16];
		size_t nk = 1 + rnd() % maxnk;
		for (size_t k = 0; k < nk; k++) {
			size_t l = k == 0 ? minlen : minlen + rnd() % spread;
			for (size_t i = 0; i < l; i++)
				kws[k][i] = al[rnd() % nal];
			kws[k][l] = 0;
		}
		/* Duplicates after case folding are fine: they become one keyword
		 * in the index, so count distinct folded keywords for naive. */
		char uniq[24][16];
		size_t nu = 0;
		for (size_t k = 0; k < nk; k++) {
			size_t j;
			for (j = 0; j < nu; j++)
				if (!strcasecmp(uniq[j], kws[k]))
					break;
			if (j == nu)
				strcpy(uniq[nu++], kws[k]);
		}
		const char *ptrs[24];
		for (size_t k = 0; k < nk; k++)
			ptrs[k] = kws[k];
		struct rd_kw_source src = {.keywords = ptrs, .nkeywords = nk};
		rd_arena a;
		rd_arena_init(&a);
		struct rd_kwindex ix;
		assert_int_equal(rd_kwindex_build(&ix, &a, &src, 1, NULL, 0), 0);
		assert_int_equal(ix.minlen, minlen);
		size_t n = 1 + rnd() % maxn;
		char *text = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			text[i] = al[rnd() % nal];
		text[n] = 0;
		size_t from = rnd() % 3 == 0 ? rnd() % n : 0;
		/* scan with a small hits array to exercise resumption */
		size_t cap = rd_kwindex_min_cap(&ix) + rnd() % 8;
		struct rd_kw_hit *hits = malloc(cap * sizeof(*hits));
		size_t pos = from, total = 0;
		while (pos < n) {
			size_t before = pos;
			size_t h = rd_kwindex_scan(&ix, (const uint8_t *)text, n, from, &pos, hits, cap);
			for (size_t i = 0; i < h; i++) {
				const char *kw = rd_kw_text(&ix, hits[i].kw);
				assert_true(hits[i].pos >= from);
				/* the order contract the engine's carry relies on:
				 * no hit of a later call starts before the previous
				 * call's end position less max_offset */
				assert_true(hits[i].pos + ix.max_offset >= before || before == from);
				assert_true(hits[i].pos < pos || pos == n);
				assert_int_equal(strncasecmp(text + hits[i].pos, kw, strlen(kw)), 0);
			}
			total += h;
			assert_true(pos > before || pos == n);
		}
		assert_int_equal(total, naive_count(text, n, uniq, nu, from));
		/* hold-back: longest suffix that is a proper keyword prefix */
		size_t want = 0;
		for (size_t l = 1; l <= n; l++)
			for (size_t k = 0; k < nu; k++)
				if (l < strlen(uniq[k]) && !strncasecmp(text + n - l, uniq[k], l))
					want = l;
		assert_int_equal(rd_kwindex_prefix_tail(&ix, (const uint8_t *)text, n), want);
		free(hits);
		free(text);
		rd_arena_destroy(&a);
	}
}

static void run_class(size_t minlen)
{
	run_class_with(minlen, 40, 20, 5, alpha, 700);
}

static void test_min2(void **s) { (void)s; run_class(2); }
static void test_min3(void **s) { (void)s; run_class(3); }
static void test_min4(void **s) { (void)s; run_class(4); }
static void test_min5(void **s) { (void)s; run_class(5); }
static void test_min7(void **s) { (void)s; run_class(7); }

/* Indexes of up to 4 keywords of up to 15 bytes (the multi-line leads) are
 * scanned 16 positions at a time by first and last byte, folded with |0x20:
 * the alphabet has bytes that fold onto others ('\r' onto '-', 0x1a onto
 * ':', '@' onto '`'), texts of every length around the block size, and
 * keywords whose last byte is a space (the zero padding folds to one). */
static void test_few(void **s)
{
	(void)s;
	static const char al[] = "aA-\r:\x1a@` dD1";
	for (size_t minlen = 2; minlen <= 9; minlen++)
		run_class_with(minlen, 600, 4, 16 - minlen, al, 90);
}

static void test_gram_choice(void **state)
{
	(void)state;
	static const struct { size_t minlen; int gram, stride; } want[] = {
		{2, 2, 1}, {3, 3, 1}, {4, 3, 2}, {5, 4, 2}, {6, 4, 3}, {9, 4, 3},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char kw[16] = {0};
		memset(kw, 'q', want[i].minlen);
		const char *p[1] = {kw};
		struct rd_kw_source src = {.keywords = p, .nkeywords = 1};
		rd_arena a;
		rd_arena_init(&a);
		struct rd_kwindex ix;
		assert_int_equal(rd_kwindex_build(&ix, &a, &src, 1, NULL, 0), 0);
		assert_int_equal(ix.gram, want[i].gram);
		assert_int_equal(ix.stride, want[i].stride);
		rd_arena_destroy(&a);
	}
}

/* A prebuilt base extended by an overlay finds exactly what one index of
 * all keywords finds; prefix hold-back too. */
static void test_overlay(void **state)
{
	(void)state;
	for (int round = 0; round < 60; round++) {
		char kws[24][16];
		size_t nk = 2 + rnd() % 20, nbase = 1 + rnd() % (nk - 1);
		for (size_t k = 0; k < nk; k++) {
			size_t l = 4 + rnd() % 6;
			for (size_t i = 0; i < l; i++)
				kws[k][i] = alpha[rnd() % (sizeof(alpha) - 1)];
			kws[k][l] = 0;
		}
		const char *ptrs[24];
		struct rd_kw_source src[24];
		for (size_t k = 0; k < nk; k++) {
			ptrs[k] = kws[k];
			src[k] = (struct rd_kw_source){.keywords = &ptrs[k], .nkeywords = 1};
		}
		rd_arena a;
		rd_arena_init(&a);
		struct rd_kwindex all, base, over;
		assert_int_equal(rd_kwindex_build(&all, &a, src, nk, NULL, 0), 0);
		assert_int_equal(rd_kwindex_build(&base, &a, src, nbase, NULL, 0), 0);
		int rc = rd_kwindex_build(&over, &a, src + nbase, nk - nbase, &base, (uint32_t)nbase);
		if (rc == RD_KW_INCOMPATIBLE) { /* an overlay keyword shorter than the base allows */
			rd_arena_destroy(&a);
			continue;
		}
		assert_int_equal(rc, 0);
		size_t n = 1 + rnd() % 600;
		char *text = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			text[i] = alpha[rnd() % (sizeof(alpha) - 1)];
		text[n] = 0;
		/* hits as (position, rule) pairs, order-independent */
		long sum_all = 0, sum_over = 0, cnt_all = 0, cnt_over = 0;
		struct rd_kw_hit hits[4096];
		const struct rd_kwindex *ixs[2] = {&all, &over};
		for (int w = 0; w < 2; w++) {
			size_t pos = 0;
			while (pos < n) {
				size_t h = rd_kwindex_scan(ixs[w], (const uint8_t *)text, n, 0, &pos, hits, 4096);
				for (size_t i = 0; i < h; i++) {
					const uint32_t *rl;
					uint32_t nr;
					rd_kw_rules(ixs[w], hits[i].kw, &rl, &nr);
					assert_int_equal(strncasecmp(text + hits[i].pos, rd_kw_text(ixs[w], hits[i].kw),
								     strlen(rd_kw_text(ixs[w], hits[i].kw))),
							 0);
					for (uint32_t r = 0; r < nr; r++) {
						long v = (long)hits[i].pos * 64 + rl[r];
						if (w == 0) {
							sum_all += v * v;
							cnt_all++;
						} else {
							sum_over += v * v;
							cnt_over++;
						}
					}
				}
			}
		}
		assert_int_equal(cnt_all, cnt_over);
		assert_int_equal(sum_all, sum_over);
		assert_int_equal(rd_kwindex_prefix_tail(&all, (const uint8_t *)text, n),
				 rd_kwindex_prefix_tail(&over, (const uint8_t *)text, n));
		free(text);
		rd_arena_destroy(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_min2), cmocka_unit_test(test_min3), cmocka_unit_test(test_min4),
		cmocka_unit_test(test_min5), cmocka_unit_test(test_min7), cmocka_unit_test(test_few), cmocka_unit_test(test_gram_choice), cmocka_unit_test(test_overlay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
