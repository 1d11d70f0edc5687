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
#include <string.h>

_Atomic int rd_state;
__thread int rd_depth __attribute__((tls_model("initial-exec")));
struct redact_context *rd_ctx;
RD_LARGE_BSS static struct rd_config settings;

RD_STARTUP static int named_in(const char *list, const char *base)
{
	size_t bl = strlen(base);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != ':' && *e != '\n' && *e != '\t')
			e++;
		const char *slash = p;
		for (const char *q = p; q < e; q++)
			if (*q == '/')
				slash = q + 1;
		if ((size_t)(e - slash) >= bl && !strncmp(slash, base, bl))
			return 1;
		p = e;
	}
	return 0;
}

/* Were we loaded by LD_PRELOAD or /etc/ld.so.preload? */
RD_STARTUP static int preloaded(void)
{
	const char *force = getenv("REDACT_HOOKS");
	if (force && *force)
		return strcmp(force, "0") != 0;
	Dl_info info;
	char base[256] = "libredact.so";
	if (dladdr((void *)preloaded, &info) && info.dli_fname) {
		const char *b = strrchr(info.dli_fname, '/');
		b = b ? b + 1 : info.dli_fname;
		/* libredact.so.1.0.0 -> libredact.so */
		const char *so = strstr(b, ".so");
		size_t n = so ? (size_t)(so - b) + 3 : strlen(b);
		if (n < sizeof(base)) {
			memcpy(base, b, n);
			base[n] = 0;
		}
	}
	if (named_in(getenv("LD_PRELOAD"), base))
		return 1;
	char list[4096];
	int fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = RD_REAL(read)(fd, list, sizeof(list) - 1);
	RD_REAL(close)(fd);
	list[n > 0 ? n : 0] = 0;
	return named_in(list, base);
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
	rd_config_defaults_zeroed(&settings); /* static: zero */
	rd_config_load_file(&settings, rd_config_file_path());
	rd_config_load_env(&settings);
	if (rd_process_allowlisted(&settings)) {
		atomic_store(&rd_state, RD_OFF);
		return;
	}
	rd_session_init(&settings);
	char err[1024];
	if (rd_context_create(&rd_ctx, &settings, 1, err, sizeof(err))) {
		rd_diag(&settings, "init", err);
		atomic_store(&rd_state, RD_OFF);
		return;
	}
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
