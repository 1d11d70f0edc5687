/* Return values and errno of output calls, reported on stderr ("#name ret
 * errno") with the raw syscall: matrix.py compares them with and without
 * the library (also with REDACT_MASK=label, whose masks change lengths:
 * the calls must still report the caller's counts).  The text is in $TEXT;
 * stdout is a pipe (a sink); $SNIPPET_SOCK_FD names a connected socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wchar.h>

static void report(const char *name, long ret, int err)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "#%s %ld %d\n", name, ret, err);
	syscall(SYS_write, 2, buf, (size_t)n);
}

#define CALL(name, expr)                         \
	do {                                     \
		errno = EDOM;                    \
		long r_ = (long)(expr);          \
		int e_ = errno;                  \
		fflush(stdout);                  \
		report(name, r_, e_);            \
	} while (0)

static int vd(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

int main(void)
{
	const char *t = getenv("TEXT");
	if (!t)
		return 2;
	size_t n = strlen(t);
	int counted = -1;
	/* a bad argument the compiler must not see through */
	volatile int neg = -1;
	struct iovec v[3] = {{(void *)t, 3}, {(void *)(t + 3), 0}, {(void *)(t + 3), n - 3}};
	CALL("write", write(1, t, n));
	CALL("write-0", write(1, t, 0));
	CALL("write-ebadf", write(99, t, n));
	/* Not checked: write(1, invalid pointer, n) to a sink.  The kernel
	 * returns EFAULT; the library reads the caller's buffer to redact it
	 * and the program gets SIGSEGV instead (known limitation: probing
	 * every buffer would cost a system call per write). */
	CALL("writev", writev(1, v, 3));
	CALL("writev-0", writev(1, v, 0));
	CALL("writev-einval", writev(1, v, neg));
	CALL("pwrite-espipe", pwrite(1, t, n, 0));
	CALL("fwrite", fwrite(t, 1, n, stdout));
	CALL("fwrite-size3", fwrite(t, 3, n / 3, stdout));
	CALL("fwrite-size0", fwrite(t, 0, n, stdout));
	CALL("fputs", fputs(t, stdout));
	CALL("puts", puts(t));
	CALL("fputc", fputc(t[0], stdout));
	CALL("putc", putc(t[1], stdout));
	CALL("putchar", putchar('\n'));
	CALL("printf", printf("[%s]%n", t, &counted));
	CALL("printf-%n", counted);
	CALL("fprintf-stderr", fprintf(stderr, "%s", t));
	CALL("dprintf", dprintf(1, "<%s>", t));
	CALL("vdprintf", vd(1, "(%s)", t));
	CALL("dprintf-ebadf", dprintf(99, "%s", t));
	CALL("perror", (perror("x"), 0));
	int sk = getenv("SNIPPET_SOCK_FD") ? atoi(getenv("SNIPPET_SOCK_FD")) : -1;
	if (sk >= 0 && fcntl(sk, F_GETFD) >= 0) {
		struct msghdr m;
		memset(&m, 0, sizeof(m));
		m.msg_iov = v;
		m.msg_iovlen = 3;
		CALL("send", send(sk, t, n, 0));
		CALL("sendto", sendto(sk, t, n, 0, NULL, 0));
		CALL("sendmsg", sendmsg(sk, &m, 0));
		CALL("send-ebadf", send(99, t, n, 0));
	}
	char path[] = "/tmp/retvals-XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	syscall(SYS_write, f, t, n);
	off_t o = 0;
	CALL("sendfile", sendfile(1, f, &o, n));
	CALL("sendfile-offset", o);
	CALL("fflush", fflush(stdout));
	/* wide output last: it makes stdout wide-oriented */
	CALL("fputwc", fputwc(L'w', stdout));
	CALL("wprintf", wprintf(L"%s", t));
	CALL("fputws", fputws(L"wide\n", stdout));
	CALL("fputs-on-wide", fputs("x", stdout));
	return 0;
}
