/* One snippet per hooked function, generated from lib/hooks/hooks.def.
 *
 * Built three times (tests/interpose/CMakeLists.txt): C at -O0, C at
 * -O2 -D_FORTIFY_SOURCE=2 (where the compiler picks other entry points:
 * __printf_chk, puts, inline putc_unlocked...; field notes section 1) and
 * C++.  The list is never copied: each entry of hooks.def becomes a
 * function snip_NAME(S) whose body is the entry's snippet, and a table row.
 *
 *   snippets --list              NAME KIND HOLD (one line per entry)
 *   snippets NAME TEXT [mark]    runs one snippet with S = TEXT
 *
 * After the snippet, the errno it left is reported on stderr as a last line
 * "#errno=N" (written with the raw syscall, so the library never sees it),
 * and with `mark`, "#after#" is written to stdout the same way: held-back
 * bytes that the hooked call should have released come before it.  The
 * driver (matrix.py) runs every snippet with and without the library and
 * compares. */
#include <err.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "glibc_undeclared.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The pre-C99 scanf symbols: <stdio.h> renames scanf & co. to their
 * __isoc99_ forms, so these reach the old names explicitly. */
int gnu_scanf(const char *fmt, ...) __asm__("scanf");
int gnu_fscanf(FILE *f, const char *fmt, ...) __asm__("fscanf");
int gnu_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
int gnu_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("vfscanf");
#ifdef __cplusplus
}
#endif

/* ---- helpers the snippets use (hooks.def, header comment) ---- */

/* The connected socket SOCK snippets send on: fd 3 unless SNIPPET_SOCK_FD
 * names another (the driver passes its end of a socketpair). */
static int sock_fd = 3;
#define SOCK_FD sock_fd

/* Bypasses every hook: the raw system call. */
static void raw_write(int fd, const void *p, size_t n)
{
	const char *c = (const char *)p;
	while (n) {
		long r = syscall(SYS_write, fd, c, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return;
		}
		c += r;
		n -= (size_t)r;
	}
}

/* A descriptor of an unlinked temporary file holding s, at offset 0. */
static int tmpfile_with(const char *s)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/snippet-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(97);
	}
	unlink(path);
	raw_write(fd, s, strlen(s));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Prints S, then a tail ending in "ghp" (a prefix of the keyword "ghp_"),
 * which the library holds back: the call under test must release it. */
static void hold_then(const char *s)
{
	write(1, s, strlen(s));
	write(1, "tail ghp", 8);
}

static const char *trimmed(const char *s)
{
	static char buf[8192];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	if (n && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	return buf;
}

#define VA_CALL(type, name, fixed, call)      \
	static type name fixed                \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		type r = call;                \
		va_end(ap);                   \
		return r;                     \
	}
#define VA_CALL_VOID(name, fixed, call)       \
	static void name fixed                \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		call;                         \
		va_end(ap);                   \
	}

VA_CALL(int, call_vprintf, (const char *fmt, ...), vprintf(fmt, ap))
VA_CALL(int, call_vfprintf, (FILE *f, const char *fmt, ...), vfprintf(f, fmt, ap))
VA_CALL(int, call_vdprintf, (int fd, const char *fmt, ...), vdprintf(fd, fmt, ap))
VA_CALL(int, call_vprintf_chk, (const char *fmt, ...), __vprintf_chk(1, fmt, ap))
VA_CALL(int, call_vfprintf_chk, (FILE *f, const char *fmt, ...), __vfprintf_chk(f, 1, fmt, ap))
VA_CALL(int, call_vdprintf_chk, (int fd, const char *fmt, ...), __vdprintf_chk(fd, 1, fmt, ap))
VA_CALL(int, call_vwprintf, (const wchar_t *fmt, ...), vwprintf(fmt, ap))
VA_CALL(int, call_vfwprintf, (FILE *f, const wchar_t *fmt, ...), vfwprintf(f, fmt, ap))
VA_CALL(int, call_vwprintf_chk, (const wchar_t *fmt, ...), __vwprintf_chk(1, fmt, ap))
VA_CALL(int, call_vfwprintf_chk, (FILE *f, const wchar_t *fmt, ...), __vfwprintf_chk(f, 1, fmt, ap))
VA_CALL_VOID(call_verr, (const char *fmt, ...), verr(0, fmt, ap))
VA_CALL_VOID(call_verrx, (const char *fmt, ...), verrx(0, fmt, ap))
VA_CALL_VOID(call_vwarn, (const char *fmt, ...), vwarn(fmt, ap))
VA_CALL_VOID(call_vwarnx, (const char *fmt, ...), vwarnx(fmt, ap))
VA_CALL(int, call_vscanf, (const char *fmt, ...), gnu_vscanf(fmt, ap))
VA_CALL(int, call_vfscanf, (FILE *f, const char *fmt, ...), gnu_vfscanf(f, fmt, ap))
VA_CALL(int, call_isoc99_vscanf, (const char *fmt, ...), __isoc99_vscanf(fmt, ap))
VA_CALL(int, call_isoc99_vfscanf, (FILE *f, const char *fmt, ...), __isoc99_vfscanf(f, fmt, ap))

/* call_scanf and call_fscanf reach the variadic symbols themselves. */
#define call_scanf gnu_scanf
#define call_fscanf gnu_fscanf

/* ---- the snippets: one function per entry of hooks.def ---- */

#define RD_HOOK(ret, name, params, kind, ...) static void snip_##name(const char *S) __VA_ARGS__
#include "hooks.def"
#undef RD_HOOK

struct snip {
	const char *name;
	const char *kind;
	const char *text;
	void (*fn)(const char *S);
};

#define RD_HOOK(ret, name, params, kind, ...) {#name, #kind, #__VA_ARGS__, snip_##name},
static const struct snip snips[] = {
#include "hooks.def"
};
#undef RD_HOOK

int main(int argc, char **argv)
{
	size_t n = sizeof(snips) / sizeof(snips[0]);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < n; i++)
			printf("%s %s %s\n", snips[i].name, snips[i].kind, strstr(snips[i].text, "hold_then(") ? "hold" : "-");
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s --list | NAME TEXT [mark]\n", argv[0]);
		return 2;
	}
	int mark = argc > 3 && !strcmp(argv[3], "mark");
	if (getenv("SNIPPET_SOCK_FD"))
		sock_fd = atoi(getenv("SNIPPET_SOCK_FD"));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(snips[i].name, argv[1]))
			continue;
		if (!strcmp(snips[i].kind, "SOCK") && fcntl(SOCK_FD, F_GETFD) < 0) {
			fprintf(stderr, "%s: a SOCK snippet needs a connected socket on fd %d\n", argv[0], SOCK_FD);
			return 2;
		}
		/* A sentinel: a successful hooked call must leave it (or what libc
		 * itself leaves) untouched. */
		errno = EDOM;
		snips[i].fn(argv[2]);
		int e = errno;
		if (mark)
			raw_write(1, "#after#", 7);
		char rep[64];
		int len = snprintf(rep, sizeof(rep), "#errno=%d\n", e);
		raw_write(2, rep, (size_t)len);
		return 0;
	}
	fprintf(stderr, "%s: no snippet for %s\n", argv[0], argv[1]);
	return 2;
}
