/* Entry points that glibc exports without declaring them (or declares only
 * under _FORTIFY_SOURCE, or hides behind __REDIRECT), which the library
 * hooks and the interposition tests call by name.  One list for both
 * (lib/hooks/rd_hooks.h, tests/interpose/progs/snippets.c).  Only
 * declarations that C++ accepts next to glibc's own under _FORTIFY_SOURCE
 * belong here (the snippets are also built as C++). */
#ifndef RD_GLIBC_UNDECLARED_H
#define RD_GLIBC_UNDECLARED_H

#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif
int _IO_putc(int c, FILE *f);
int __underflow(FILE *f);
wint_t __woverflow(FILE *f, wint_t c);
int __isoc99_scanf(const char *fmt, ...);
int __isoc99_fscanf(FILE *f, const char *fmt, ...);
int __isoc99_vscanf(const char *fmt, va_list ap);
int __isoc99_vfscanf(FILE *f, const char *fmt, va_list ap);
int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __wprintf_chk(int flag, const wchar_t *fmt, ...);
int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...);
int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap);
int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
char *__fgets_chk(char *s, size_t size, int n, FILE *f);
char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *f);
size_t __fread_chk(void *p, size_t avail, size_t size, size_t n, FILE *f);
size_t __fread_unlocked_chk(void *p, size_t avail, size_t size, size_t n, FILE *f);
wchar_t *__fgetws_chk(wchar_t *s, size_t size, int n, FILE *f);
#ifdef __cplusplus
}
#endif

#endif
