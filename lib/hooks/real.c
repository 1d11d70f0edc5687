/* The real libc functions behind the hooks, looked up with
 * dlsym(RTLD_NEXT) so another interposer between us and libc keeps working.
 *
 * Each symbol is resolved on the first call of its hook (~2,300
 * instructions a lookup, measured with callgrind; resolving all 130 in
 * every process was a fifth of the library's start-up cost).  The few the
 * library calls while holding a FILE or sink lock are resolved in the
 * constructor instead (see rd_real_resolve_core).  dlsym of a missing
 * symbol allocates (dlerror state, field notes section 3); a missing
 * symbol can only be asked for by a program that calls it, which cannot
 * link against a libc without it. */
#include "rd_hooks.h"

#include <dlfcn.h>

struct rd_real_table rd_real;

void rd_real_resolve_one(void **slot, const char *name)
{
	if (!__atomic_load_n(slot, __ATOMIC_RELAXED))
		__atomic_store_n(slot, dlsym(RTLD_NEXT, name), __ATOMIC_RELAXED);
}

#define CORE(name) rd_real_resolve_one((void **)&rd_real.name, #name)

RD_STARTUP void rd_real_resolve_core(void)
{
	CORE(write);
	CORE(read);
	CORE(close);
	CORE(fwrite_unlocked);
	CORE(fputwc_unlocked);
	CORE(fflush_unlocked);
	CORE(__overflow);
}
