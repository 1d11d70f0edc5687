/* rd_mem: the library's own allocator.
 *
 * Why not malloc: the hooks run inside signal handlers, inside other
 * libraries' constructors and possibly inside an allocator that prints
 * (jemalloc/tcmalloc statistics).  glibc malloc is not async-signal-safe and
 * not re-entrant, so everything reachable from a hook allocates with mmap(2),
 * which is.  Allocations here are rare (per thread, per stream, per compiled
 * rule), so the syscall cost does not matter; the hot path allocates nothing.
 *
 * Two interfaces:
 *  - rd_mem_alloc/realloc/free: one mapping per allocation, any thread may
 *    free what another allocated.  Also handed to PCRE2 as its allocator.
 *  - rd_arena: a bump allocator over mmap'd chunks, freed as a whole; used for
 *    rule sets, which are immutable after construction.  Thread-safe
 *    (lock-free) so lazily compiled rules can be added concurrently.
 */
#ifndef RD_MEM_H
#define RD_MEM_H

#include <stddef.h>
#include <stdatomic.h>

void *rd_mem_alloc(size_t size);
void *rd_mem_calloc(size_t size);
void *rd_mem_realloc(void *p, size_t size);
void rd_mem_free(void *p);

/* PCRE2-compatible callbacks (the memory_data argument is unused). */
void *rd_mem_pcre2_alloc(size_t size, void *unused);
void rd_mem_pcre2_free(void *p, void *unused);

struct rd_arena_chunk;
typedef struct rd_arena {
	_Atomic(struct rd_arena_chunk *) head;
} rd_arena;

void rd_arena_init(rd_arena *a);
void *rd_arena_alloc(rd_arena *a, size_t size); /* zeroed, 16-byte aligned */
char *rd_arena_strdup(rd_arena *a, const char *s);
char *rd_arena_memdup(rd_arena *a, const void *p, size_t n); /* NUL-terminated */
void rd_arena_destroy(rd_arena *a);

#endif
