/* The real libc functions behind the hooks, resolved once with
 * dlsym(RTLD_NEXT) so another interposer between us and libc keeps working.
 * Resolving costs ~40 ns a symbol here (measured), so all of them are
 * resolved in the constructor; a hook that runs before it (another
 * library's constructor) resolves on the spot.  dlsym of a missing symbol
 * allocates (dlerror state, field notes section 3), which is why this runs
 * once and never on a hot path. */
#include "rd_hooks.h"

#include <dlfcn.h>

struct rd_real_table rd_real;

void rd_real_resolve(void)
{
#define RD_HOOK(ret, name, params, kind, ...)                                                       \
	if (!__atomic_load_n(&rd_real.name, __ATOMIC_RELAXED))                                      \
		__atomic_store_n(&rd_real.name, (ret(*) params)dlsym(RTLD_NEXT, #name), __ATOMIC_RELAXED);
#include "hooks.def"
#undef RD_HOOK
}
