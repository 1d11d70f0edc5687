/* Input: before the program waits for its stdin or a terminal, everything
 * held back is released, so a prompt such as "Password: " is out before
 * the program waits.  Only when it would wait: a filter reading a pipe
 * (sed, awk, a Python loop over sys.stdin) calls these once per line with
 * the next line already there, and releasing at every call cut a secret
 * printed over several lines (a PEM block) into pieces that each went out
 * unmasked.  With SCAN_INPUT on, what is read there is scanned and
 * detections go to the audit log (channel "input"); input is never changed.
 *
 * Scanning covers read/readv and the stdio calls that return the text
 * (fgets, getline, getdelim, fread); character-at-a-time and scanf reads
 * release held output but are not scanned. */
#include "rd_hooks.h"

#include <poll.h>
#include <string.h>

/* Would a read of fd wait now?  No data yet, and no end of file or error
 * to report. */
static int would_wait(int fd)
{
	RD_SAVE_ERRNO;
	struct pollfd p = {fd, POLLIN, 0};
	int r = poll(&p, 1, 0);
	RD_RESTORE_ERRNO;
	return r == 0;
}

/* A stdio read waits only if the FILE's buffer cannot satisfy it: `want`
 * bytes, or a whole line (WANT_LINE).  glibc's read buffer is
 * _IO_read_ptr.._IO_read_end (public fields of struct _IO_FILE). */
#define WANT_LINE ((size_t)-1)
static int file_would_wait(FILE *f, size_t want)
{
	if (f->_IO_read_ptr && f->_IO_read_end > f->_IO_read_ptr) {
		size_t have = (size_t)(f->_IO_read_end - f->_IO_read_ptr);
		if (want == WANT_LINE ? memchr(f->_IO_read_ptr, '\n', have) != NULL : have >= want)
			return 0;
	}
	return would_wait(fileno(f));
}

static int input_fd(int fd)
{
	return rd_ready() && rd_depth == 0 && rd_fd_info(fd).input;
}

static int input_file(FILE *f)
{
	if (!f || !rd_ready() || rd_depth)
		return 0;
	int fd = fileno(f);
	return fd >= 0 && rd_fd_info(fd).input;
}

void rd_before_input(int fd)
{
	if (atomic_load(&rd_held) && would_wait(fd))
		rd_release_all();
}

void rd_before_input_file(FILE *f, size_t want)
{
	if (atomic_load(&rd_held) && file_would_wait(f, want))
		rd_release_all();
}

void rd_input_scan(int fd, const void *data, size_t n)
{
	(void)fd;
	if (!rd_ctx->cfg.scan_input || !n || n >= (1u << 30))
		return;
	RD_SAVE_ERRNO;
	rd_depth++;
	struct rd_scratch *sc = rd_context_ensure_rules(rd_ctx) ? NULL : rd_scratch_acquire();
	if (sc) {
		rd_context_read_lock();
		struct rd_ruleset *rs = rd_context_rules(rd_ctx);
		struct rd_scan_result res;
		if (rs && !rd_engine_scan(rs, sc, data, n, 0, 0, &res)) {
			size_t end = 0;
			for (size_t i = 0; i < sc->nspans; i++) {
				const struct rd_span *s = &sc->spans[i];
				if (s->start < end || s->rule >= rs->nrules)
					continue; /* one event per secret */
				end = s->end;
				struct rd_rule *r = &rs->rules[s->rule];
				struct rd_counter *counter = rd_rule_counter(rs, r);
				if (counter)
					atomic_fetch_add(&counter->matches, 1);
				struct rd_audit_event ev = {.event = "detection", .rule = r->def->id, .channel = "input",
							    .action = "logged", .offset = (int64_t)s->start,
							    .length = (int64_t)(s->end - s->start)};
				rd_audit(&rd_ctx->cfg, &ev);
			}
		}
		rd_context_read_unlock();
		rd_scratch_release(sc);
	}
	rd_depth--;
	RD_RESTORE_ERRNO;
}

RD_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (!input_fd(fd))
		return RD_REAL(read)(fd, buf, n);
	rd_before_input(fd);
	ssize_t r = RD_REAL(read)(fd, buf, n);
	if (r > 0)
		rd_input_scan(fd, buf, (size_t)r);
	return r;
}

RD_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (!input_fd(fd))
		return RD_REAL(readv)(fd, iov, cnt);
	rd_before_input(fd);
	ssize_t r = RD_REAL(readv)(fd, iov, cnt);
	size_t left = r > 0 ? (size_t)r : 0;
	for (int i = 0; left && i < cnt; i++) {
		size_t take = left < iov[i].iov_len ? left : iov[i].iov_len;
		rd_input_scan(fd, iov[i].iov_base, take);
		left -= take;
	}
	return r;
}

/* Calls that return text: release, call, scan the result. */
RD_EXPORT char *fgets(char *s, int n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(fgets)(s, n, f);
	rd_before_input_file(f, WANT_LINE);
	char *r = RD_REAL(fgets)(s, n, f);
	if (r)
		rd_input_scan(fileno(f), r, strlen(r));
	return r;
}

RD_EXPORT char *fgets_unlocked(char *s, int n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(fgets_unlocked)(s, n, f);
	rd_before_input_file(f, WANT_LINE);
	char *r = RD_REAL(fgets_unlocked)(s, n, f);
	if (r)
		rd_input_scan(fileno(f), r, strlen(r));
	return r;
}

/* The _FORTIFY_SOURCE forms (a program built with -D_FORTIFY_SOURCE=2
 * calls these when the size is not a constant): same as their plain
 * forms; the real ones do the checking. */
RD_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (!input_fd(fd))
		return RD_REAL(__read_chk)(fd, buf, n, buflen);
	rd_before_input(fd);
	ssize_t r = RD_REAL(__read_chk)(fd, buf, n, buflen);
	if (r > 0)
		rd_input_scan(fd, buf, (size_t)r);
	return r;
}

RD_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(__fgets_chk)(s, size, n, f);
	rd_before_input_file(f, WANT_LINE);
	char *r = RD_REAL(__fgets_chk)(s, size, n, f);
	if (r)
		rd_input_scan(fileno(f), r, strlen(r));
	return r;
}

RD_EXPORT char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(__fgets_unlocked_chk)(s, size, n, f);
	rd_before_input_file(f, WANT_LINE);
	char *r = RD_REAL(__fgets_unlocked_chk)(s, size, n, f);
	if (r)
		rd_input_scan(fileno(f), r, strlen(r));
	return r;
}

RD_EXPORT size_t __fread_chk(void *p, size_t avail, size_t size, size_t n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(__fread_chk)(p, avail, size, n, f);
	rd_before_input_file(f, size && n ? size * n : 1);
	size_t r = RD_REAL(__fread_chk)(p, avail, size, n, f);
	rd_input_scan(fileno(f), p, r * size);
	return r;
}

RD_EXPORT size_t __fread_unlocked_chk(void *p, size_t avail, size_t size, size_t n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(__fread_unlocked_chk)(p, avail, size, n, f);
	rd_before_input_file(f, size && n ? size * n : 1);
	size_t r = RD_REAL(__fread_unlocked_chk)(p, avail, size, n, f);
	rd_input_scan(fileno(f), p, r * size);
	return r;
}

RD_EXPORT size_t fread(void *p, size_t size, size_t n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(fread)(p, size, n, f);
	rd_before_input_file(f, size && n ? size * n : 1);
	size_t r = RD_REAL(fread)(p, size, n, f);
	rd_input_scan(fileno(f), p, r * size);
	return r;
}

RD_EXPORT size_t fread_unlocked(void *p, size_t size, size_t n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(fread_unlocked)(p, size, n, f);
	rd_before_input_file(f, size && n ? size * n : 1);
	size_t r = RD_REAL(fread_unlocked)(p, size, n, f);
	rd_input_scan(fileno(f), p, r * size);
	return r;
}

RD_EXPORT ssize_t getdelim(char **line, size_t *n, int delim, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(getdelim)(line, n, delim, f);
	rd_before_input_file(f, WANT_LINE);
	ssize_t r = RD_REAL(getdelim)(line, n, delim, f);
	if (r > 0)
		rd_input_scan(fileno(f), *line, (size_t)r);
	return r;
}

RD_EXPORT ssize_t __getdelim(char **line, size_t *n, int delim, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(__getdelim)(line, n, delim, f);
	rd_before_input_file(f, WANT_LINE);
	ssize_t r = RD_REAL(__getdelim)(line, n, delim, f);
	if (r > 0)
		rd_input_scan(fileno(f), *line, (size_t)r);
	return r;
}

RD_EXPORT ssize_t getline(char **line, size_t *n, FILE *f)
{
	if (!input_file(f))
		return RD_REAL(getline)(line, n, f);
	rd_before_input_file(f, WANT_LINE);
	ssize_t r = RD_REAL(getline)(line, n, f);
	if (r > 0)
		rd_input_scan(fileno(f), *line, (size_t)r);
	return r;
}

/* Calls that release held output first only.  `want`: what the call needs
 * from the buffer (1 byte, or a line for line and format readers). */
#define RELEASE_HOOK(ret, name, params, file, want, call)       \
	RD_EXPORT ret name params                               \
	{                                                       \
		if (input_file(file))                           \
			rd_before_input_file(file, want);       \
		return RD_REAL(name) call;                      \
	}

RELEASE_HOOK(int, fgetc, (FILE *f), f, 1, (f))
RELEASE_HOOK(int, getc, (FILE *f), f, 1, (f))
RELEASE_HOOK(int, getchar, (void), stdin, 1, ())
RELEASE_HOOK(int, fgetc_unlocked, (FILE *f), f, 1, (f))
RELEASE_HOOK(int, getc_unlocked, (FILE *f), f, 1, (f))
RELEASE_HOOK(int, getchar_unlocked, (void), stdin, 1, ())
RELEASE_HOOK(int, __uflow, (FILE *f), f, 1, (f))
RELEASE_HOOK(int, __underflow, (FILE *f), f, 1, (f))
RELEASE_HOOK(wint_t, fgetwc, (FILE *f), f, 1, (f))
RELEASE_HOOK(wint_t, getwc, (FILE *f), f, 1, (f))
RELEASE_HOOK(wint_t, getwchar, (void), stdin, 1, ())
RELEASE_HOOK(wchar_t *, fgetws, (wchar_t *s, int n, FILE *f), f, WANT_LINE, (s, n, f))
RELEASE_HOOK(wchar_t *, __fgetws_chk, (wchar_t *s, size_t size, int n, FILE *f), f, WANT_LINE, (s, size, n, f))
RELEASE_HOOK(int, __isoc99_vscanf, (const char *fmt, va_list ap), stdin, WANT_LINE, (fmt, ap))
RELEASE_HOOK(int, __isoc99_vfscanf, (FILE *f, const char *fmt, va_list ap), f, WANT_LINE, (f, fmt, ap))

/* glibc's <stdio.h> renames scanf, fscanf, vscanf and vfscanf to their
 * __isoc99_ forms in C99 mode, so the old (GNU) symbols are defined here
 * under their own names with asm labels. */
int rd_hook_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
int rd_hook_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("vfscanf");
int rd_hook_scanf(const char *fmt, ...) __asm__("scanf");
int rd_hook_fscanf(FILE *f, const char *fmt, ...) __asm__("fscanf");

RD_EXPORT int rd_hook_vscanf(const char *fmt, va_list ap)
{
	if (input_file(stdin))
		rd_before_input_file(stdin, WANT_LINE);
	return RD_REAL(vscanf)(fmt, ap);
}

RD_EXPORT int rd_hook_vfscanf(FILE *f, const char *fmt, va_list ap)
{
	if (input_file(f))
		rd_before_input_file(f, WANT_LINE);
	return RD_REAL(vfscanf)(f, fmt, ap);
}

RD_EXPORT int rd_hook_scanf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = rd_hook_vscanf(fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int rd_hook_fscanf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = rd_hook_vfscanf(f, fmt, ap);
	va_end(ap);
	return r;
}

/* The C99 variadic forms go through their va_list twins. */
RD_EXPORT int __isoc99_scanf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc99_vscanf(fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __isoc99_fscanf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc99_vfscanf(f, fmt, ap);
	va_end(ap);
	return r;
}
