/* Per-thread scratch: PCRE2 match data, match context and JIT stack, the
 * keyword-hit and span arrays, and the output buffer.  Allocated with mmap
 * (rd_mem) on a thread's first redaction and freed by a pthread key
 * destructor at thread exit. */
#include "rd_engine.h"

#include <pthread.h>
#include <string.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static __thread struct rd_scratch *tls_scratch __attribute__((tls_model("initial-exec")));

static void scratch_free(struct rd_scratch *sc)
{
	if (!sc)
		return;
	pcre2_jit_stack_free(sc->jit_stack);
	pcre2_match_context_free(sc->mc);
	pcre2_match_data_free(sc->md);
	pcre2_general_context_free(sc->gctx);
	rd_mem_free(sc->hits);
	rd_mem_free(sc->spans);
	rd_mem_free(sc->stamp); /* and last_end, searched, flags: one block (engine.c) */
	rd_mem_free(sc->out);
	rd_mem_free(sc);
}

static void scratch_destructor(void *p)
{
	struct rd_scratch *sc = p;
	if (sc == tls_scratch)
		tls_scratch = NULL;
	scratch_free(sc);
}

static void make_key(void)
{
	pthread_key_create(&scratch_key, scratch_destructor);
}

/* Capture groups a rule may use (secret_group is at most 99). */
#define RD_OVECTOR_PAIRS 100

static struct rd_scratch *scratch_new(void)
{
	struct rd_scratch *sc = rd_mem_calloc(sizeof(*sc));
	if (!sc)
		return NULL;
	sc->gctx = pcre2_general_context_create(rd_mem_pcre2_alloc, rd_mem_pcre2_free, NULL);
	if (sc->gctx) {
		sc->md = pcre2_match_data_create(RD_OVECTOR_PAIRS, sc->gctx);
		sc->mc = pcre2_match_context_create(sc->gctx);
		/* 32 KiB to 1 MiB: a rule that needs more is cut off by the limit,
		 * reported, and the write goes out redacted by the other rules. */
		sc->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, sc->gctx);
	}
	if (!sc->md || !sc->mc) {
		scratch_free(sc);
		return NULL;
	}
	if (sc->jit_stack)
		pcre2_jit_stack_assign(sc->mc, NULL, sc->jit_stack);
	sc->offset_limit = PCRE2_UNSET;
	return sc;
}

struct rd_scratch *rd_scratch_acquire(void)
{
	struct rd_scratch *sc = tls_scratch;
	if (__builtin_expect(sc && !sc->busy, 1)) {
		sc->busy = 1;
		return sc;
	}
	if (sc) {
		/* Re-entered (signal handler during a hook): use a fresh one. */
		sc = scratch_new();
		if (sc) {
			sc->temporary = 1;
			sc->busy = 1;
		}
		return sc;
	}
	pthread_once(&scratch_once, make_key);
	sc = scratch_new();
	if (!sc)
		return NULL;
	tls_scratch = sc;
	pthread_setspecific(scratch_key, sc);
	sc->busy = 1;
	return sc;
}

void rd_scratch_release(struct rd_scratch *sc)
{
	if (!sc)
		return;
	if (sc->temporary) {
		scratch_free(sc);
		return;
	}
	sc->busy = 0;
}

int rd_scratch_out(struct rd_scratch *sc, size_t n)
{
	if (n <= sc->out_cap)
		return 0;
	size_t cap = sc->out_cap ? sc->out_cap : 4096;
	while (cap < n)
		cap *= 2;
	uint8_t *p = rd_mem_realloc(sc->out, cap);
	if (!p)
		return -1;
	sc->out = p;
	sc->out_cap = cap;
	return 0;
}
