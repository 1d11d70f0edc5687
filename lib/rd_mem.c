/* rd_mem: the library's allocator (see rd_mem.h for why not malloc).
 *
 * Small blocks (up to 64 KiB) come from per-size-class free lists carved out
 * of 256 KiB mmap'd slabs; larger ones are mapped one by one.  The free lists
 * are lock-free stacks (a 48-bit pointer and a 16-bit tag in one 64-bit
 * word, so a block popped and pushed back in between is noticed): no lock,
 * so a signal handler that interrupts an allocation can allocate too, and
 * only mmap ever enters the kernel.  Slabs are never unmapped, which is also
 * what makes reading a block's link safe while another thread takes it.
 *
 * One mmap per allocation (the first version) cost thousands of
 * mmap/munmap calls in a process that compiles many rules: PCRE2's compile
 * and JIT temporaries come from here.
 *
 * Under Valgrind the blocks are announced with MALLOCLIKE/FREELIKE client
 * requests, so memcheck still reports our leaks and invalid accesses. */
#include "rd_mem.h"
#include "rd_startup.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RD_VALGRIND 1
#endif
#endif
#ifndef RD_VALGRIND
#define VALGRIND_MALLOCLIKE_BLOCK(a, s, r, z) ((void)0)
#define VALGRIND_FREELIKE_BLOCK(a, r) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(a, s) ((void)0)
#define VALGRIND_MAKE_MEM_UNDEFINED(a, s) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(a, s) ((void)0)
#endif

/* Every block starts with this header (16 bytes, keeps 16-byte alignment). */
struct hdr {
	uint32_t cls;  /* size class, or LARGE */
	uint32_t magic;
	union {
		size_t size;     /* in use: the size asked for (a LARGE mapping's
				  * length follows from it) */
		void *next;      /* a free small block: the next one (in the header, so
				  * memcheck never sees a freed block written) */
	} u;
};

#define HDR sizeof(struct hdr)
#define MAGIC 0x72646d6du /* "rdmm" */
#define LARGE 0xffffffffu
#define MIN_SHIFT 5        /* 32-byte blocks */
#define NCLASSES 12        /* 32 B .. 64 KiB */
#define SLAB (256 * 1024)

static _Atomic uint64_t heads[NCLASSES];

static size_t class_size(unsigned c)
{
	return (size_t)1 << (c + MIN_SHIFT);
}

static int class_for(size_t size, unsigned *c)
{
	size_t need = size + HDR;
	for (unsigned i = 0; i < NCLASSES; i++) {
		if (need <= class_size(i)) {
			*c = i;
			return 1;
		}
	}
	return 0;
}

#define PTR_MASK ((1ull << 48) - 1)

static void *top_ptr(uint64_t v)
{
	return (void *)(uintptr_t)(v & PTR_MASK);
}

static uint64_t top_make(void *p, uint64_t old)
{
	return ((old >> 48) + 1) << 48 | ((uint64_t)(uintptr_t)p & PTR_MASK);
}

static void **link_of(struct hdr *h)
{
	return &h->u.next;
}

static void push_chain(unsigned c, struct hdr *first, struct hdr *last)
{
	uint64_t old = atomic_load_explicit(&heads[c], memory_order_relaxed);
	do {
		*link_of(last) = top_ptr(old);
	} while (!atomic_compare_exchange_weak_explicit(&heads[c], &old, top_make(first, old), memory_order_release,
							 memory_order_relaxed));
}

static struct hdr *pop(unsigned c)
{
	uint64_t old = atomic_load_explicit(&heads[c], memory_order_acquire);
	for (;;) {
		struct hdr *h = top_ptr(old);
		if (!h)
			return NULL;
		/* h may be taken by another thread right now: its memory stays mapped,
		 * and the tag makes the CAS fail if so. */
		void *next = *link_of(h);
		if (atomic_compare_exchange_weak_explicit(&heads[c], &old, top_make(next, old), memory_order_acquire,
							  memory_order_acquire))
			return h;
	}
}

/* A slab holds 16 blocks of its class, at least 16 KiB and at most SLAB.
 * Its blocks are handed out untouched, from a cursor (`fresh`), and get
 * their header when taken: carving a whole slab up front wrote a header into
 * every block, a page fault per block for classes of 4 KiB and up, and cost
 * each process ~150 page faults on its first write (bench/print_one). */
static size_t slab_len(unsigned c)
{
	size_t len = class_size(c) * 16;
	return len < 16 * 1024 ? 16 * 1024 : len > SLAB ? SLAB : len;
}

/* Per class: the next untouched block of the newest slab (48 bits) and how
 * many remain (16 bits).  A value never repeats (slabs are never unmapped
 * once published), so the compare-and-swap below has no ABA problem. */
static _Atomic uint64_t fresh[NCLASSES];

/* Blocks of the small classes (up to POOL_MAX_CLASS, 2 KiB) come from one
 * pool of untouched memory shared by all of them, in the same form as
 * fresh[] but with the count in units of the smallest class: the first
 * block of each class no longer opens a page of its own (a process's first
 * write allocates a few blocks in each of ~7 small classes, one page fault
 * each).  Blocks keep their class: a freed one goes to its class's list. */
#define POOL_MAX_CLASS 6
#define POOL_UNIT ((size_t)1 << MIN_SHIFT)
static _Atomic uint64_t pool;

static struct hdr *take_pool(unsigned c)
{
	size_t bs = class_size(c);
	uint64_t units = bs / POOL_UNIT;
	uint64_t old = atomic_load_explicit(&pool, memory_order_acquire);
	for (;;) {
		uint64_t left = old >> 48;
		if (left < units)
			return NULL;
		char *p = top_ptr(old);
		uint64_t next = (left - units) << 48 | ((uint64_t)(uintptr_t)(p + bs) & PTR_MASK);
		if (atomic_compare_exchange_weak_explicit(&pool, &old, next, memory_order_acq_rel,
							  memory_order_acquire))
			return (struct hdr *)p;
	}
}

/* A new pool slab whose first block is the caller's, published over a pool
 * too short for class c (the rest of the old one, less than a block of c,
 * is left unused).  NULL as for refill. */
static struct hdr *refill_pool(unsigned c)
{
	size_t len = SLAB, bs = class_size(c);
	uint64_t cur = atomic_load_explicit(&pool, memory_order_acquire);
	if ((cur >> 48) >= bs / POOL_UNIT)
		return NULL; /* another thread refilled it: take from there */
	char *slab = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slab == MAP_FAILED)
		return NULL;
	if ((uint64_t)(uintptr_t)slab + len > PTR_MASK) {
		munmap(slab, len);
		return NULL;
	}
	uint64_t rest = (uint64_t)((len - bs) / POOL_UNIT) << 48 | ((uint64_t)(uintptr_t)(slab + bs) & PTR_MASK);
	if (!atomic_compare_exchange_strong_explicit(&pool, &cur, rest, memory_order_acq_rel, memory_order_acquire)) {
		munmap(slab, len); /* never published */
		return NULL;
	}
	return (struct hdr *)slab;
}

static struct hdr *take_fresh(unsigned c)
{
	if (c <= POOL_MAX_CLASS)
		return take_pool(c);
	size_t bs = class_size(c);
	uint64_t old = atomic_load_explicit(&fresh[c], memory_order_acquire);
	for (;;) {
		uint64_t left = old >> 48;
		if (!left)
			return NULL;
		char *p = top_ptr(old);
		uint64_t next = (left - 1) << 48 | ((uint64_t)(uintptr_t)(p + bs) & PTR_MASK);
		if (atomic_compare_exchange_weak_explicit(&fresh[c], &old, next, memory_order_acq_rel,
							  memory_order_acquire))
			return (struct hdr *)p;
	}
}

/* A new slab: its first block is the caller's, the others become the fresh
 * blocks of the class.  NULL when out of memory, or when another thread
 * published fresh blocks meanwhile (the caller takes one of those). */
static struct hdr *refill(unsigned c)
{
	if (c <= POOL_MAX_CLASS)
		return refill_pool(c);
	size_t len = slab_len(c);
	char *slab = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slab == MAP_FAILED)
		return NULL;
	if ((uint64_t)(uintptr_t)slab + len > PTR_MASK) { /* 5-level paging: no tagged pointers */
		munmap(slab, len);
		return NULL;
	}
	size_t bs = class_size(c), n = len / bs;
	uint64_t cur = atomic_load_explicit(&fresh[c], memory_order_acquire);
	uint64_t rest = (uint64_t)(n - 1) << 48 | ((uint64_t)(uintptr_t)(slab + bs) & PTR_MASK);
	/* Publish only over an exhausted cursor (0 blocks left; its address
	 * bits are stale). */
	if (n > 1 && ((cur >> 48) != 0 || !atomic_compare_exchange_strong_explicit(&fresh[c], &cur, rest,
										     memory_order_acq_rel,
										     memory_order_acquire))) {
		munmap(slab, len); /* never published: nobody can hold a pointer into it */
		return NULL;
	}
	return (struct hdr *)slab;
}

/* A block of class c; *zero tells whether its bytes are still the zeros of
 * a new mapping (calloc then skips the memset, and the pages stay
 * untouched until used). */
static struct hdr *take(unsigned c, int *zero)
{
	struct hdr *h = pop(c);
	*zero = 0;
	if (h)
		return h;
	for (int tries = 0; tries < 4; tries++) {
		*zero = 1;
		if ((h = take_fresh(c)) || (h = refill(c)))
			return h;
		*zero = 0;
		if ((h = pop(c)))
			return h;
	}
	return NULL;
}

static size_t large_len(size_t size)
{
	return (size + HDR + 4095) & ~(size_t)4095;
}

static void *alloc_large(size_t size)
{
	if (size > SIZE_MAX - HDR - 4096)
		return NULL;
	size_t len = large_len(size);
	struct hdr *h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	h->cls = LARGE;
	h->magic = MAGIC;
	h->u.size = size;
	VALGRIND_MALLOCLIKE_BLOCK(h + 1, size, 0, 1);
	return h + 1;
}

static void *alloc(size_t size, int *zero)
{
	unsigned c;
	*zero = 1;
	if (!class_for(size, &c))
		return alloc_large(size);
	struct hdr *h = take(c, zero);
	if (!h) {
		*zero = 1;
		return alloc_large(size); /* no slab: a mapping of its own */
	}
	h->cls = c;
	h->magic = MAGIC;
	h->u.size = size;
	VALGRIND_MALLOCLIKE_BLOCK(h + 1, size, 0, *zero);
	return h + 1;
}

void *rd_mem_alloc(size_t size)
{
	int zero;
	return alloc(size, &zero);
}

void *rd_mem_calloc(size_t size)
{
	int zero;
	void *p = alloc(size, &zero);
	if (p && !zero)
		memset(p, 0, size); /* recycled blocks are dirty; new mappings are zero */
	return p;
}

void rd_mem_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	VALGRIND_FREELIKE_BLOCK(p, 0);
	if (h->cls == LARGE) {
		munmap(h, large_len(h->u.size));
		return;
	}
	push_chain(h->cls, h, h);
}

void *rd_mem_realloc(void *p, size_t size)
{
	if (!p)
		return rd_mem_alloc(size);
	struct hdr *h = (struct hdr *)p - 1;
	size_t have = h->u.size;
	if (h->cls == LARGE && size > 64 * 1024 && size <= SIZE_MAX - HDR - 4096) {
		/* A big buffer growing: let the kernel move the pages. */
		VALGRIND_FREELIKE_BLOCK(p, 0);
		void *n = mremap(h, large_len(have), large_len(size), MREMAP_MAYMOVE);
		if (n == MAP_FAILED) {
			VALGRIND_MALLOCLIKE_BLOCK(p, have, 0, 1);
			return NULL;
		}
		((struct hdr *)n)->u.size = size;
		VALGRIND_MALLOCLIKE_BLOCK((struct hdr *)n + 1, size, 0, 1);
		return (struct hdr *)n + 1;
	}
	if (h->cls != LARGE && size + HDR <= class_size(h->cls)) {
		/* fits where it is; memcheck: the block now has the new size */
		VALGRIND_FREELIKE_BLOCK(p, 0);
		VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, 0);
		if (size > have)
			VALGRIND_MAKE_MEM_DEFINED(p, have);
		h->u.size = size;
		return p;
	}
	void *n = rd_mem_alloc(size);
	if (!n)
		return NULL;
	memcpy(n, p, have < size ? have : size);
	rd_mem_free(p);
	return n;
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

#define RD_ARENA_CHUNK (64 * 1024 - 64)

RD_STARTUP void rd_arena_init(rd_arena *a)
{
	atomic_init(&a->head, NULL);
}

static struct rd_arena_chunk *chunk_new(size_t min)
{
	size_t want = min + sizeof(struct rd_arena_chunk);
	if (want < RD_ARENA_CHUNK)
		want = RD_ARENA_CHUNK;
	struct rd_arena_chunk *c = rd_mem_calloc(want);
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
