/* stdio output, wide characters (std::wcout uses putwc; field notes
 * section 1).  Wide text is converted to the locale's multibyte form,
 * redacted, and converted back (file.c: rd_file_putw). */
#include "rd_hooks.h"

#include <string.h>

/* A FILE that is, or is about to become, wide-oriented and writes to a sink. */
static int redacting(FILE *f)
{
	return rd_ready() && rd_depth == 0 && f && f->_mode >= 0 && rd_file_is_sink(f);
}

static wint_t put_wc(FILE *f, wchar_t c, int lock)
{
	RD_SAVE_ERRNO;
	if (lock)
		flockfile(f);
	if (f->_mode == 0)
		fwide(f, 1); /* what the real function does first */
	size_t r = rd_file_putw(f, &c, 1);
	if (lock)
		funlockfile(f);
	if (r != 1)
		return WEOF;
	RD_RESTORE_ERRNO;
	return (wint_t)c;
}

#define PUTWC_HOOK(name, params, file, lock, call)       \
	RD_EXPORT wint_t name params                     \
	{                                                \
		if (!redacting(file))                    \
			return RD_REAL(name) call;       \
		return put_wc(file, c, lock);            \
	}

PUTWC_HOOK(fputwc, (wchar_t c, FILE *f), f, 1, (c, f))
PUTWC_HOOK(putwc, (wchar_t c, FILE *f), f, 1, (c, f))
PUTWC_HOOK(putwchar, (wchar_t c), stdout, 1, (c))
PUTWC_HOOK(fputwc_unlocked, (wchar_t c, FILE *f), f, 0, (c, f))
PUTWC_HOOK(putwc_unlocked, (wchar_t c, FILE *f), f, 0, (c, f))
PUTWC_HOOK(putwchar_unlocked, (wchar_t c), stdout, 0, (c))

RD_EXPORT wint_t __woverflow(FILE *f, wint_t c)
{
	if (!redacting(f) || c == WEOF)
		return RD_REAL(__woverflow)(f, c);
	return put_wc(f, (wchar_t)c, 0);
}

static int put_ws(const wchar_t *s, FILE *f, int lock)
{
	RD_SAVE_ERRNO;
	size_t n = wcslen(s);
	if (lock)
		flockfile(f);
	if (f->_mode == 0)
		fwide(f, 1);
	size_t r = rd_file_putw(f, s, n);
	if (lock)
		funlockfile(f);
	if (r != n)
		return -1;
	RD_RESTORE_ERRNO;
	return 1; /* glibc's _IO_fputws returns 1 */
}

RD_EXPORT int fputws(const wchar_t *s, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fputws)(s, f);
	return put_ws(s, f, 1);
}

RD_EXPORT int fputws_unlocked(const wchar_t *s, FILE *f)
{
	if (!redacting(f))
		return RD_REAL(fputws_unlocked)(s, f);
	return put_ws(s, f, 0);
}

/* vswprintf cannot say how much room it needs: grow until it fits. */
static int fmt_wide(FILE *f, int flag, const wchar_t *fmt, va_list ap)
{
	RD_SAVE_ERRNO;
	wchar_t stack[512];
	wchar_t *buf = stack;
	size_t cap = sizeof(stack) / sizeof(stack[0]);
	int n;
	for (;;) {
		va_list ap2;
		va_copy(ap2, ap);
		n = flag >= 0 ? __vswprintf_chk(buf, cap, flag, cap, fmt, ap2) : vswprintf(buf, cap, fmt, ap2);
		va_end(ap2);
		if (n >= 0 || cap > (64u << 20))
			break;
		/* -1 means "did not fit" or a conversion error; only growth tells */
		if (buf != stack)
			rd_mem_free(buf);
		cap *= 4;
		buf = rd_mem_alloc(cap * sizeof(wchar_t));
		if (!buf)
			return -1;
	}
	if (n < 0) {
		if (buf != stack)
			rd_mem_free(buf);
		return -1;
	}
	flockfile(f);
	if (f->_mode == 0)
		fwide(f, 1);
	size_t w = rd_file_putw(f, buf, (size_t)n);
	funlockfile(f);
	if (buf != stack)
		rd_mem_free(buf);
	if (w != (size_t)n)
		return -1;
	RD_RESTORE_ERRNO;
	return n;
}

RD_EXPORT int vfwprintf(FILE *f, const wchar_t *fmt, va_list ap)
{
	if (!redacting(f))
		return RD_REAL(vfwprintf)(f, fmt, ap);
	return fmt_wide(f, -1, fmt, ap);
}

RD_EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
	if (!redacting(stdout))
		return RD_REAL(vwprintf)(fmt, ap);
	return fmt_wide(stdout, -1, fmt, ap);
}

RD_EXPORT int fwprintf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(f) ? fmt_wide(f, -1, fmt, ap) : RD_REAL(vfwprintf)(f, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int wprintf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(stdout) ? fmt_wide(stdout, -1, fmt, ap) : RD_REAL(vwprintf)(fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap)
{
	if (!redacting(f))
		return RD_REAL(__vfwprintf_chk)(f, flag, fmt, ap);
	return fmt_wide(f, flag, fmt, ap);
}

RD_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
	if (!redacting(stdout))
		return RD_REAL(__vwprintf_chk)(flag, fmt, ap);
	return fmt_wide(stdout, flag, fmt, ap);
}

RD_EXPORT int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(f) ? fmt_wide(f, flag, fmt, ap) : RD_REAL(__vfwprintf_chk)(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

RD_EXPORT int __wprintf_chk(int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = redacting(stdout) ? fmt_wide(stdout, flag, fmt, ap) : RD_REAL(__vwprintf_chk)(flag, fmt, ap);
	va_end(ap);
	return r;
}
