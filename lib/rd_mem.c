#include "rd_mem.h"

#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

/* Every block starts with a 16-byte header holding the mapping length, so
 * free and realloc need no lookup structure. */
#define RD_MEM_HEADER 16

static size_t page_round(size_t n)
{
	const size_t page = 4096;
	return (n + page - 1) & ~(page - 1);
}

void *rd_mem_alloc(size_t size)
{
	if (size > SIZE_MAX - RD_MEM_HEADER - 4096)
		return NULL;
	size_t len = page_round(size + RD_MEM_HEADER);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	*(size_t *)m = len;
	return (char *)m + RD_MEM_HEADER;
}

void *rd_mem_calloc(size_t size)
{
	return rd_mem_alloc(size); /* fresh anonymous mappings are zero-filled */
}

void rd_mem_free(void *p)
{
	if (!p)
		return;
	char *m = (char *)p - RD_MEM_HEADER;
	munmap(m, *(size_t *)m);
}

void *rd_mem_realloc(void *p, size_t size)
{
	if (!p)
		return rd_mem_alloc(size);
	if (size > SIZE_MAX - RD_MEM_HEADER - 4096)
		return NULL;
	char *m = (char *)p - RD_MEM_HEADER;
	size_t old = *(size_t *)m;
	size_t len = page_round(size + RD_MEM_HEADER);
	if (len == old)
		return p;
	void *n = mremap(m, old, len, MREMAP_MAYMOVE);
	if (n == MAP_FAILED)
		return NULL;
	*(size_t *)n = len;
	return (char *)n + RD_MEM_HEADER;
}

void *rd_mem_pcre2_alloc(size_t size, void *unused)
{
	(void)unused;
	return rd_mem_alloc(size);
}

void rd_mem_pcre2_free(void *p, void *unused)
{
	(void)unused;
	rd_mem_free(p);
}

/* ---- arena ---- */

struct rd_arena_chunk {
	struct rd_arena_chunk *next;
	size_t size;             /* usable bytes after the header */
	_Atomic size_t used;
	char data[] __attribute__((aligned(16)));
};

#define RD_ARENA_CHUNK (64 * 1024)

void rd_arena_init(rd_arena *a)
{
	atomic_init(&a->head, NULL);
}

static struct rd_arena_chunk *chunk_new(size_t min)
{
	size_t want = min + sizeof(struct rd_arena_chunk);
	if (want < RD_ARENA_CHUNK)
		want = RD_ARENA_CHUNK;
	struct rd_arena_chunk *c = rd_mem_alloc(want);
	if (!c)
		return NULL;
	c->size = want - sizeof(struct rd_arena_chunk);
	atomic_init(&c->used, 0);
	return c;
}

void *rd_arena_alloc(rd_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	for (;;) {
		struct rd_arena_chunk *c = atomic_load_explicit(&a->head, memory_order_acquire);
		if (c) {
			size_t off = atomic_fetch_add_explicit(&c->used, size, memory_order_relaxed);
			if (off + size <= c->size)
				return c->data + off;
		}
		struct rd_arena_chunk *n = chunk_new(size);
		if (!n)
			return NULL;
		n->next = c;
		/* Reserve our block before publishing the chunk. */
		atomic_store_explicit(&n->used, size, memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&a->head, &c, n, memory_order_acq_rel,
							    memory_order_acquire))
			return n->data;
		rd_mem_free(n); /* another thread added a chunk first; retry in it */
	}
}

char *rd_arena_memdup(rd_arena *a, const void *p, size_t n)
{
	char *d = rd_arena_alloc(a, n + 1);
	if (!d)
		return NULL;
	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

char *rd_arena_strdup(rd_arena *a, const char *s)
{
	return s ? rd_arena_memdup(a, s, strlen(s)) : NULL;
}

void rd_arena_destroy(rd_arena *a)
{
	struct rd_arena_chunk *c = atomic_exchange(&a->head, NULL);
	while (c) {
		struct rd_arena_chunk *n = c->next;
		rd_mem_free(c);
		c = n;
	}
}
