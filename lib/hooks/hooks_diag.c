/* Diagnostics that format internally: perror, the err/warn family, error,
 * error_at_line, psignal, psiginfo.  glibc prints these through internal
 * calls (psiginfo even formats into a private memory stream and writes fd 2
 * directly), so no other hook sees their text.
 *
 * The only part of their output a program controls is its own message; the
 * rest is the program name, strerror or a signal description.  So each hook
 * redacts the caller's message and calls the real function with "%s" and the
 * redacted text: the output is byte for byte what glibc prints, minus the
 * secret.  What stdout/stderr hold back is released first, so the order of
 * lines is kept (error() flushes stdout first, as glibc does). */
#include "rd_hooks.h"

#include <string.h>

static int stderr_redacting(void)
{
	if (!rd_ready() || rd_depth)
		return 0;
	int fd = fileno(stderr);
	return fd >= 0 && rd_fd_info(fd).cls != RD_FD_PLAIN;
}

/* Held bytes of stdout (when `with_stdout`) and stderr go out first. */
static void release_before(int with_stdout)
{
	if (with_stdout && rd_file_is_sink(stdout)) {
		flockfile(stdout);
		rd_file_release(stdout, 0);
		funlockfile(stdout);
	}
	if (rd_file_is_sink(stderr)) {
		flockfile(stderr);
		rd_file_release(stderr, 0);
		funlockfile(stderr);
	}
	struct rd_fdinfo fi = rd_fd_info(2);
	if (fi.cls == RD_FD_SINK)
		rd_sink_release(fi.sink, 2, 1);
}

struct collect {
	char *p;
	size_t len, cap;
};

static ssize_t into_buffer(int fd, const void *b, size_t n, void *arg)
{
	(void)fd;
	struct collect *c = arg;
	size_t take = n < c->cap - 1 - c->len ? n : c->cap - 1 - c->len;
	memcpy(c->p + c->len, b, take);
	c->len += take;
	c->p[c->len] = 0;
	return (ssize_t)n;
}

/* Redacts a NUL-terminated message into out (cap bytes). */
static const char *redact_message(const char *msg, char *out, size_t cap)
{
	struct collect c = {out, 0, cap};
	out[0] = 0;
	if (rd_oneshot_write(2, msg, strlen(msg), into_buffer, &c, "stderr", 0) < 0)
		return "[libredact: message withheld]";
	return out;
}

/* The caller's formatted message, redacted. */
static const char *redact_format(const char *fmt, va_list ap, char *out, size_t cap)
{
	char stack[2048];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(stack, sizeof(stack), fmt, ap);
	char *msg = stack;
	if (n >= 0 && (size_t)n >= sizeof(stack)) {
		msg = rd_mem_alloc((size_t)n + 1);
		if (msg)
			vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	const char *r = (n < 0 || !msg) ? "" : redact_message(msg, out, cap);
	if (msg && msg != stack)
		rd_mem_free(msg);
	return r;
}

#define MSG_CAP 8192

/* The whole formatted message in rd_mem memory (NULL for an empty one). */
static char *format_all(const char *fmt, va_list ap)
{
	if (!fmt)
		return NULL;
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	char *msg = n >= 0 ? rd_mem_alloc((size_t)n + 1) : NULL;
	if (msg)
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	return msg;
}

RD_EXPORT void perror(const char *s)
{
	if (!s || !*s || !stderr_redacting()) {
		RD_REAL(perror)(s);
		return;
	}
	int e = errno;
	release_before(0);
	char out[MSG_CAP];
	const char *r = redact_message(s, out, sizeof(out));
	errno = e;
	RD_REAL(perror)(r);
}

RD_EXPORT void vwarn(const char *fmt, va_list ap)
{
	if (!fmt || !stderr_redacting()) {
		RD_REAL(vwarn)(fmt, ap);
		return;
	}
	int e = errno;
	release_before(0);
	char out[MSG_CAP];
	const char *r = redact_format(fmt, ap, out, sizeof(out));
	errno = e;
	RD_REAL(warn)("%s", r);
}

RD_EXPORT void vwarnx(const char *fmt, va_list ap)
{
	if (!fmt || !stderr_redacting()) {
		RD_REAL(vwarnx)(fmt, ap);
		return;
	}
	release_before(0);
	char out[MSG_CAP];
	RD_REAL(warnx)("%s", redact_format(fmt, ap, out, sizeof(out)));
}

RD_EXPORT void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

RD_EXPORT void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

RD_EXPORT void verr(int status, const char *fmt, va_list ap)
{
	if (!fmt || !stderr_redacting())
		RD_REAL(verr)(status, fmt, ap);
	int e = errno;
	release_before(0);
	char out[MSG_CAP];
	const char *r = redact_format(fmt, ap, out, sizeof(out));
	errno = e;
	RD_REAL(err)(status, "%s", r);
	__builtin_unreachable();
}

RD_EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	if (!fmt || !stderr_redacting())
		RD_REAL(verrx)(status, fmt, ap);
	release_before(0);
	char out[MSG_CAP];
	RD_REAL(errx)(status, "%s", redact_format(fmt, ap, out, sizeof(out)));
	__builtin_unreachable();
}

RD_EXPORT void err(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(status, fmt, ap);
}

RD_EXPORT void errx(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verrx(status, fmt, ap);
}

RD_EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!fmt || !stderr_redacting()) {
		/* error() has no va_list form: format here, print through "%s". */
		char *msg = format_all(fmt, ap);
		va_end(ap);
		RD_REAL(error)(status, errnum, "%s", msg ? msg : "");
		rd_mem_free(msg);
		return;
	}
	release_before(1);
	char out[MSG_CAP];
	const char *r = redact_format(fmt, ap, out, sizeof(out));
	va_end(ap);
	RD_REAL(error)(status, errnum, "%s", r);
}

RD_EXPORT void error_at_line(int status, int errnum, const char *file, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!fmt || !stderr_redacting()) {
		char *msg = format_all(fmt, ap);
		va_end(ap);
		RD_REAL(error_at_line)(status, errnum, file, line, "%s", msg ? msg : "");
		rd_mem_free(msg);
		return;
	}
	release_before(1);
	char out[MSG_CAP];
	const char *r = redact_format(fmt, ap, out, sizeof(out));
	va_end(ap);
	/* error_one_per_line compares the file name pointer's text: pass the
	 * caller's own pointer. */
	RD_REAL(error_at_line)(status, errnum, file, line, "%s", r);
}

RD_EXPORT void psignal(int sig, const char *s)
{
	if (!s || !*s || !stderr_redacting()) {
		RD_REAL(psignal)(sig, s);
		return;
	}
	release_before(0);
	char out[MSG_CAP];
	RD_REAL(psignal)(sig, redact_message(s, out, sizeof(out)));
}

RD_EXPORT void psiginfo(const siginfo_t *info, const char *s)
{
	if (!s || !*s || !stderr_redacting()) {
		RD_REAL(psiginfo)(info, s);
		return;
	}
	release_before(0);
	char out[MSG_CAP];
	RD_REAL(psiginfo)(info, redact_message(s, out, sizeof(out)));
}
