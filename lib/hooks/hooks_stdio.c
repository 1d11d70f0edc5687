/* stdio output, bytes.  Each hook formats what the real function would
 * print and hands it to rd_file_put (file.c) when the FILE writes to a
 * sink; otherwise it calls the real function.  The entry points are the
 * ones real programs reach (field notes section 1): the plain functions at
 * -O0, the __*_chk forms under _FORTIFY_SOURCE, the _unlocked forms of
 * coreutils, putc/putchar of bash builtins and mawk, __overflow for inline
 * putc_unlocked, fflush. */
#include "rd_hooks.h"

#include <limits.h>
#include <string.h>

/* A FILE whose output we redact: library ready, not re-entered, byte (or
 * not yet) oriented, writing to a sink. */
static int redacting(FILE *f)
{
	return rd_ready() && rd_depth == 0 && f && f->_mode <= 0 && rd_file_is_sink(f);
}

static size_t put_locked(FILE *f, const char *p, size_t n, int lock)
{
	if (lock)
		flockfile(f);
	size_t r = rd_file_put(f, p, n);
	if (lock)
		funlockfile(f);
	return r;
}

/* ---- fwrite, fputs, puts ---- */

static size_t do_fwrite(const void *p, size_t size, size_t n, FILE *f, int lock)
{
	size_t bytes;
	if (__builtin_mul_overflow(size, n, &bytes) || !bytes)
		return lock ? RD_REAL(fwrite)(p, size, n, f) : RD_REAL(fwrite_unlocked)(p, size, n, f);
	RD_SAVE_ERRNO;
	size_t r = put_locked(f, p, bytes, lock);
	if (r == bytes)
		RD_RESTORE_ERRNO;
	return r / size;
}

RD_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fwrite)(p, size, n, f);
	return do_fwrite(p, size, n, f, 1);
}

RD_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fwrite_unlocked)(p, size, n, f);
	return do_fwrite(p, size, n, f, 0);
}

static int do_fputs(const char *s, FILE *f, int lock)
{
	RD_SAVE_ERRNO;
	size_t n = strlen(s);
	if (put_locked(f, s, n, lock) != n)
		return EOF;
	RD_RESTORE_ERRNO;
	return 1; /* glibc's _IO_fputs returns 1 */
}

RD_EXPORT int fputs(const char *s, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fputs)(s, f);
	return do_fputs(s, f, 1);
}

RD_EXPORT int fputs_unlocked(const char *s, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fputs_unlocked)(s, f);
	return do_fputs(s, f, 0);
}

RD_EXPORT int puts(const char *s)
{
	if (!redacting(stdout))
		return RD_REAL(puts)(s);
	RD_SAVE_ERRNO;
	size_t n = strlen(s);
	flockfile(stdout);
	int ok;
	if (n < 1024) {
		/* The line in one piece: put as two, its text is a line in
		 * progress, held back until the newline (and a first hold starts
		 * the flusher thread): ~5 us per puts() instead of ~0.2. */
		char line[1024];
		memcpy(line, s, n);
		line[n] = '\n';
		ok = rd_file_put(stdout, line, n + 1) == n + 1;
	} else {
		ok = rd_file_put(stdout, s, n) == n && rd_file_put(stdout, "\n", 1) == 1;
	}
	funlockfile(stdout);
	if (!ok)
		return EOF;
	RD_RESTORE_ERRNO;
	return n + 1 > INT_MAX ? INT_MAX : (int)(n + 1); /* as glibc's _IO_puts */
}

/* ---- single characters ---- */

static int do_putc(int c, FILE *f, int lock)
{
	RD_SAVE_ERRNO;
	char ch = (char)c;
	if (put_locked(f, &ch, 1, lock) != 1)
		return EOF;
	RD_RESTORE_ERRNO;
	return (unsigned char)c;
}

#define PUTC_HOOK(name, params, file, lock, call)       \
	RD_EXPORT int name params                       \
	{                                               \
		if (!redacting(file))                   \
			return RD_REAL(name) call;      \
		return do_putc(c, file, lock);          \
	}

PUTC_HOOK(fputc, (int c, FILE *f), f, 1, (c, f))
PUTC_HOOK(putc, (int c, FILE *f), f, 1, (c, f))
PUTC_HOOK(_IO_putc, (int c, FILE *f), f, 1, (c, f))
PUTC_HOOK(putchar, (int c), stdout, 1, (c))
PUTC_HOOK(fputc_unlocked, (int c, FILE *f), f, 0, (c, f))
PUTC_HOOK(putc_unlocked, (int c, FILE *f), f, 0, (c, f))
PUTC_HOOK(putchar_unlocked, (int c), stdout, 0, (c))

/* The buffer is full (or the FILE unbuffered / line-buffered): the caller
 * was the inline putc_unlocked macro, which also put bytes straight into
 * the buffer before; rd_file_put takes those back first. */
RD_EXPORT int __overflow(FILE *f, int c)
{
	if (!redacting(f))
		return RD_REAL(__overflow)(f, c);
	if (c == EOF) {
		rd_file_absorb(f);
		return RD_REAL(__overflow)(f, c);
	}
	return do_putc(c, f, 0);
}

/* fflush: inline putc_unlocked bytes are taken back first, and what the
 * FILE's stream holds back goes to the sink's stream after the real flush
 * (rd_file_flushed; sink.c explains why).  The held bytes are not released
 * here: bash writes `echo -n a; echo b` as two writes with an fflush after
 * each, and a secret split that way must still be found (field notes
 * section 2). */
static int flush_one(FILE *f, int lock)
{
	if (lock)
		flockfile(f);
	RD_SAVE_ERRNO;
	rd_file_absorb(f);
	rd_file_before_flush(f);
	RD_RESTORE_ERRNO;
	int r = lock ? RD_REAL(fflush)(f) : RD_REAL(fflush_unlocked)(f);
	if (r == 0) {
		rd_file_flushed(f);
		RD_RESTORE_ERRNO;
	}
	if (lock)
		funlockfile(f);
	return r;
}

RD_EXPORT int fflush(FILE *f)
{
	if (!rd_ready() || rd_depth)
		return RD_REAL(fflush)(f);
	if (f)
		return redacting(f) ? flush_one(f, 1) : RD_REAL(fflush)(f);
	RD_SAVE_ERRNO;
	if (redacting(stdout)) {
		flockfile(stdout);
		rd_file_absorb(stdout);
		funlockfile(stdout);
	}
	if (redacting(stderr)) {
		flockfile(stderr);
		rd_file_absorb(stderr);
		funlockfile(stderr);
	}
	rd_file_before_flush_all();
	RD_RESTORE_ERRNO;
	int r = RD_REAL(fflush)(NULL);
	if (r == 0) {
		rd_file_flushed_all();
		RD_RESTORE_ERRNO;
	}
	return r;
}

RD_EXPORT int fflush_unlocked(FILE *f)
{
	if (f && redacting(f))
		return flush_one(f, 0);
	return RD_REAL(fflush_unlocked)(f);
}

/* ---- the printf family ----
 * Formatted with (__)vsnprintf(_chk) into memory -- the _chk flag keeps
 * _FORTIFY_SOURCE's %n check -- then put.  %n counts what this call
 * printed, as it would with the real function. */

static char *format(char *stack, size_t size, int flag, const char *fmt, va_list ap, int *len)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = flag >= 0 ? __vsnprintf_chk(stack, size, flag, size, fmt, ap) : vsnprintf(stack, size, fmt, ap);
	char *buf = stack;
	if (n >= 0 && (size_t)n >= size) {
		buf = rd_mem_alloc((size_t)n + 1);
		if (buf)
			n = flag >= 0 ? __vsnprintf_chk(buf, (size_t)n + 1, flag, (size_t)n + 1, fmt, ap2)
				      : vsnprintf(buf, (size_t)n + 1, fmt, ap2);
		else
			n = -1;
	}
	va_end(ap2);
	*len = n;
	return buf;
}

/* Returns what vfprintf returns; flag < 0 for the non-_chk forms. */
static int fmt_file(FILE *f, int flag, const char *fmt, va_list ap)
{
	RD_SAVE_ERRNO;
	char stack[1024];
	int n;
	char *buf = format(stack, sizeof(stack), flag, fmt, ap, &n);
	if (n < 0) {
		if (buf && buf != stack)
			rd_mem_free(buf);
		return n; /* errno from vsnprintf (EOVERFLOW, EILSEQ) */
	}
	size_t w = put_locked(f, buf, (size_t)n, 1);
	if (buf != stack)
		rd_mem_free(buf);
	if (w != (size_t)n)
		return -1;
	RD_RESTORE_ERRNO;
	return n;
}

static ssize_t via_write(int fd, const void *b, size_t n, void *arg)
{
	(void)arg;
	return RD_REAL(write)(fd, b, n);
}

/* dprintf writes everything or fails, like the FILE it uses inside. */
static int fmt_fd(int fd, struct rd_fdinfo fi, int flag, const char *fmt, va_list ap)
{
	RD_SAVE_ERRNO;
	char stack[1024];
	int n;
	char *buf = format(stack, sizeof(stack), flag, fmt, ap, &n);
	if (n < 0) {
		if (buf && buf != stack)
			rd_mem_free(buf);
		return n;
	}
	size_t done = 0;
	while (done < (size_t)n) {
		ssize_t w = rd_sink_write(fd, fi, buf + done, (size_t)n - done, via_write, NULL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)w;
	}
	if (buf != stack)
		rd_mem_free(buf);
	if (done != (size_t)n)
		return -1;
	RD_RESTORE_ERRNO;
	return n;
}

static int fd_redacting(int fd, struct rd_fdinfo *fi)
{
	if (!rd_ready())
		return 0;
	*fi = rd_fd_info(fd);
	return fi->cls != RD_FD_PLAIN;
}

RD_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	if (!redacting(f))
		return RD_REAL(vfprintf)(f, fmt, ap);
	return fmt_file(f, -1, fmt, ap);
}

RD_EXPORT int vprintf(const char *fmt, va_list ap)
{
	if (!redacting(stdout))
		return RD_REAL(vprintf)(fmt, ap);
	return fmt_file(stdout, -1, fmt, ap);
}

RD_EXPORT int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(f) ? fmt_file(f, -1, fmt, ap) : RD_REAL(vfprintf)(f, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(stdout) ? fmt_file(stdout, -1, fmt, ap) : RD_REAL(vprintf)(fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	struct rd_fdinfo fi;
	if (!fd_redacting(fd, &fi))
		return RD_REAL(vdprintf)(fd, fmt, ap);
	return fmt_fd(fd, fi, -1, fmt, ap);
}

RD_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct rd_fdinfo fi;
	int r = fd_redacting(fd, &fi) ? fmt_fd(fd, fi, -1, fmt, ap) : RD_REAL(vdprintf)(fd, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	if (!redacting(f))
		return RD_REAL(__vfprintf_chk)(f, flag, fmt, ap);
	return fmt_file(f, flag, fmt, ap);
}

RD_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	if (!redacting(stdout))
		return RD_REAL(__vprintf_chk)(flag, fmt, ap);
	return fmt_file(stdout, flag, fmt, ap);
}

RD_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(f) ? fmt_file(f, flag, fmt, ap) : RD_REAL(__vfprintf_chk)(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(stdout) ? fmt_file(stdout, flag, fmt, ap) : RD_REAL(__vprintf_chk)(flag, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	struct rd_fdinfo fi;
	if (!fd_redacting(fd, &fi))
		return RD_REAL(__vdprintf_chk)(fd, flag, fmt, ap);
	return fmt_fd(fd, fi, flag, fmt, ap);
}

RD_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct rd_fdinfo fi;
	int r = fd_redacting(fd, &fi) ? fmt_fd(fd, fi, flag, fmt, ap) : RD_REAL(__vdprintf_chk)(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}
