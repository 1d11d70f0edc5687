/* Start and end of the preloaded library.
 *
 * The constructor resolves the real symbols, reads the settings (config
 * file, then the environment), checks ALLOWLIST_PATHS, sets up the session
 * and the context.  A hook that runs before it (another library's
 * constructor) starts the same initialisation; while it is in progress,
 * hooks take the plain path.
 *
 * The hooks are active only when the library was preloaded (LD_PRELOAD or
 * /etc/ld.so.preload): a program that links libredact for its API gets the
 * API, not a redacted process, unless it sets REDACT_HOOKS=1.
 *
 * The destructor releases what is held -- into the FILE buffers, which
 * glibc's final stdio flush writes after the destructors (field notes
 * section 3) -- and frees nothing: later destructors and that flush still
 * go through the hooks. */
#include "rd_hooks.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

_Atomic int rd_state;
__thread int rd_depth __attribute__((tls_model("initial-exec")));
struct redact_context *rd_ctx;
/* The preloaded library's context (never destroyed: later destructors and
 * glibc's final flush still write through the hooks).  Page-aligned: what
 * start-up writes (the header, the settings' scalars and default texts)
 * is then one page, one fault. */
RD_LARGE_BSS static struct redact_context preload_context __attribute__((aligned(4096)));

/* The constructor's string handling is done by hand: in a process that
 * uses no strstr or strncmp of its own, calling them faults in pages of
 * libc's code (~10-20 us each on this VM). */

/* The file name of a path (ending at end, or at its NUL if end is NULL):
 * what follows its last '/'. */
RD_STARTUP static const char *base_name(const char *p, const char *end)
{
	const char *b = p;
	for (; (!end || p < end) && *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

/* Is an entry of list (separated by blanks or ':', as ld.so reads
 * LD_PRELOAD and /etc/ld.so.preload) a file whose name starts with the
 * bl bytes of base? */
RD_STARTUP static int named_in(const char *list, const char *base, size_t bl)
{
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != ':' && *e != '\n' && *e != '\t')
			e++;
		const char *b = base_name(p, e);
		size_t i = 0;
		while (i < bl && b + i < e && b[i] == base[i])
			i++;
		if (i == bl)
			return 1;
		p = e;
	}
	return 0;
}

/* Were we loaded by LD_PRELOAD or /etc/ld.so.preload?  Our file name comes
 * from the loader's own map of this object (_dl_find_object, glibc 2.35: no
 * lock, no symbol search), not dladdr, which looks up the nearest dynamic
 * symbol across our ~200 exports: ~15 us of a process's start here. */
RD_STARTUP static int preloaded(void)
{
	const char *force = getenv("REDACT_HOOKS");
	if (force && *force)
		return !(force[0] == '0' && !force[1]);
	struct dl_find_object fo;
	const char *base = "libredact.so";
	size_t bl = 12;
	if (_dl_find_object((void *)preloaded, &fo) == 0 && fo.dlfo_link_map && fo.dlfo_link_map->l_name &&
	    fo.dlfo_link_map->l_name[0]) {
		/* libredact.so.1.0.0 -> libredact.so: up to the first ".so" */
		base = base_name(fo.dlfo_link_map->l_name, NULL);
		for (bl = 0; base[bl]; bl++)
			if (base[bl] == '.' && base[bl + 1] == 's' && base[bl + 2] == 'o') {
				bl += 3;
				break;
			}
	}
	if (named_in(getenv("LD_PRELOAD"), base, bl))
		return 1;
	char list[4096];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = RD_REAL(read)(fd, list, sizeof(list) - 1);
	RD_REAL(close)(fd);
	list[n > 0 ? n : 0] = 0;
	return named_in(list, base, bl);
}

RD_STARTUP void rd_hooks_init(void)
{
	int expected = RD_UNINIT;
	if (!atomic_compare_exchange_strong(&rd_state, &expected, RD_INITIALIZING))
		return;
	rd_real_resolve_core();
	if (!preloaded()) {
		atomic_store(&rd_state, RD_OFF);
		return;
	}
	struct rd_config *settings = &preload_context.cfg;
	rd_config_defaults_zeroed(settings); /* static: zero */
	rd_config_load_file(settings, rd_config_file_path());
	rd_config_load_env(settings);
	if (rd_process_allowlisted(settings)) {
		atomic_store(&rd_state, RD_OFF);
		return;
	}
	rd_session_init(settings);
	char err[1024];
	if (rd_context_init(&preload_context, 1, err, sizeof(err))) {
		rd_diag(settings, "init", err);
		atomic_store(&rd_state, RD_OFF);
		return;
	}
	rd_ctx = &preload_context;
	rd_hooks_atfork_install();
	atomic_store(&rd_state, RD_READY);
}

__attribute__((constructor)) static void rd_constructor(void)
{
	rd_hooks_init();
}

__attribute__((destructor)) static void rd_destructor(void)
{
	if (atomic_load(&rd_state) != RD_READY || rd_depth)
		return;
	/* Inline putc_unlocked bytes in stdout/stderr are taken back even if no
	 * hook ever saw these FILEs.  A FILE with neither an entry nor buffered
	 * bytes is left alone: a process that printed nothing does not set up
	 * a sink on its way out. */
	if (ftrylockfile(stdout) == 0) {
		if (rd_file_may_hold(stdout) && rd_file_is_sink(stdout))
			rd_file_absorb(stdout);
		funlockfile(stdout);
	}
	if (ftrylockfile(stderr) == 0) {
		if (rd_file_may_hold(stderr) && rd_file_is_sink(stderr))
			rd_file_absorb(stderr);
		funlockfile(stderr);
	}
	rd_release_all();
}
