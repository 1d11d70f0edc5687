/* Behaviours the library must not change, one per argv[1] (matrix.py runs
 * each without and with the library and checks what it needs).  The text
 * is in $TEXT, split in the middle of its secret as $TEXT_A + $TEXT_B.
 *
 * Reports meant for the driver (not program output) go to stderr as lines
 * starting with '#', written with the raw syscall so the library never
 * sees them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

static const char *text, *ta, *tb;

static void raw(int fd, const char *p, size_t n)
{
	while (n) {
		long r = syscall(SYS_write, fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

/* A report line for the driver: "#..." on stderr, unseen by the library. */
static void report(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + 1, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	buf[0] = '#';
	buf[n + 1] = '\n';
	raw(2, buf, (size_t)n + 2);
}

/* write() until done, as a careful program does (partial writes, EINTR). */
static void put_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = {fd, POLLOUT, 0};
				poll(&pf, 1, -1);
				continue;
			}
			report("write failed: %s", strerror(errno));
			exit(3);
		}
		p += r;
		n -= (size_t)r;
	}
}

static void put_str(const char *s)
{
	put_all(1, s, strlen(s));
}

/* ---- threads ---- */

static int nrec;

static void *writer_thread(void *arg)
{
	int t = (int)(long)arg;
	char buf[4096];
	for (int i = 0; i < nrec; i++) {
		int n = snprintf(buf, sizeof(buf), "T%d:%d:%s", t, i, text);
		put_all(1, buf, (size_t)n);
	}
	return NULL;
}

static _Atomic int stress_started;

/* Through a FILE of its own: a FILE's output is redacted (and rules are
 * compiled) under that FILE's lock only, which fork does not take, so
 * these compiles run in parallel with each other and with fork().  Through
 * write() they would not: a compile there happens under the sink's lock,
 * which fork takes. */
static void *stress_thread(void *arg)
{
	const char *stress = arg;
	FILE *f = fdopen(dup(1), "w");
	if (!f)
		return NULL;
	atomic_fetch_add(&stress_started, 1);
	for (int i = 0; i < nrec; i++) {
		if (stress)
			fputs(stress, f);
		fputs(text, f);
		fflush(f);
	}
	fclose(f);
	return NULL;
}

static void *stdio_thread(void *arg)
{
	int t = (int)(long)arg;
	for (int i = 0; i < nrec; i++) {
		switch (i % 3) {
		case 0:
			printf("T%d:%d:%s", t, i, text);
			break;
		case 1:
			flockfile(stdout);
			fprintf(stdout, "T%d:%d:", t, i);
			fputs(text, stdout);
			funlockfile(stdout);
			break;
		default: {
			char buf[4096];
			int n = snprintf(buf, sizeof(buf), "T%d:%d:%s", t, i, text);
			fwrite(buf, 1, (size_t)n, stdout);
		}
		}
	}
	return NULL;
}

static int run_threads(int nt, void *(*fn)(void *))
{
	pthread_t th[64];
	for (int t = 0; t < nt; t++)
		pthread_create(&th[t], NULL, fn, (void *)(long)t);
	for (int t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	return 0;
}

/* ---- a signal handler that writes ---- */

static volatile sig_atomic_t nsig;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	char buf[32] = "<SIG ";
	int k = ++nsig, len = 5;
	char d[12];
	int nd = 0;
	do
		d[nd++] = (char)('0' + k % 10);
	while ((k /= 10));
	while (nd)
		buf[len++] = d[--nd];
	buf[len++] = '>';
	buf[len++] = '\n';
	write(1, buf, (size_t)len); /* async-signal-safe, and hooked */
	errno = saved;
}

static void on_alarm_quiet(int sig)
{
	(void)sig;
	nsig++;
}

static void start_timer(long usec, int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, usec}, {0, usec}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_timer(void)
{
	struct itimerval it = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	text = getenv("TEXT");
	ta = getenv("TEXT_A");
	tb = getenv("TEXT_B");
	if (!text || !ta || !tb || argc < 2) {
		fprintf(stderr, "usage: TEXT=... TEXT_A=... TEXT_B=... %s MODE [ARGS]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	int n1 = argc > 2 ? atoi(argv[2]) : 0, n2 = argc > 3 ? atoi(argv[3]) : 0;

	if (!strcmp(mode, "threads-write")) {
		nrec = n2;
		return run_threads(n1, writer_thread);
	}
	if (!strcmp(mode, "threads-stdio")) {
		nrec = n2;
		return run_threads(n1, stdio_thread);
	}
	if (!strcmp(mode, "signal") || !strcmp(mode, "signal-stdio")) {
		/* Records M:i: TEXT_A TEXT_B (two calls), a handler writing <SIG k>
		 * every millisecond; at least 200 signals and n1 records. */
		int stdio = !strcmp(mode, "signal-stdio");
		start_timer(1000, 1);
		char buf[64];
		for (int i = 0; i < n1 || nsig < 200; i++) {
			int n = snprintf(buf, sizeof(buf), "M:%d:", i);
			if (stdio) {
				fputs(buf, stdout);
				fputs(ta, stdout);
				fflush(stdout);
				fputs(tb, stdout);
				fflush(stdout);
			} else {
				put_all(1, buf, (size_t)n);
				put_all(1, ta, strlen(ta));
				put_all(1, tb, strlen(tb));
			}
		}
		stop_timer();
		signal(SIGALRM, SIG_IGN);
		report("signals=%d", (int)nsig);
		return 0;
	}
	if (!strcmp(mode, "fork")) {
		/* Held bytes (a keyword prefix) go out once, before the child's
		 * output: released before fork, not inherited. */
		put_str("parent: ");
		put_str(text);
		put_str("tail ghp");
		pid_t p = fork();
		if (p == 0) {
			put_str("\nchild: ");
			put_str(text);
			printf("child stdio: %s", text);
			exit(0);
		}
		waitpid(p, NULL, 0);
		put_str("_x parent: ");
		put_str(text);
		return 0;
	}
	if (!strcmp(mode, "fork-stdio")) {
		/* Unflushed stdio data is inherited and printed by both processes,
		 * with and without the library alike. */
		printf("parent: %s", ta);
		pid_t p = fork();
		if (p == 0) {
			printf("%s child: %s", tb, text);
			exit(0);
		}
		waitpid(p, NULL, 0);
		printf("%s parent: %s", tb, text);
		return 0;
	}
	if (!strcmp(mode, "fork-threads")) {
		/* Threads write (write and stdio) while the main thread forks;
		 * children write and exit.  Nothing may deadlock. */
		nrec = n2;
		pthread_t th[2];
		pthread_create(&th[0], NULL, writer_thread, (void *)0L);
		pthread_create(&th[1], NULL, stdio_thread, (void *)1L);
		for (int c = 0; c < n1; c++) {
			pid_t p = fork();
			if (p == 0) {
				char buf[4096];
				int n = snprintf(buf, sizeof(buf), "C%d:0:%s", c, text);
				put_all(1, buf, (size_t)n);
				_exit(0);
			}
			if (p < 0) {
				report("fork failed");
				return 3;
			}
			waitpid(p, NULL, 0);
		}
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		return 0;
	}
	if (!strcmp(mode, "fork-compile")) {
		/* Rules are compiled (PCRE2 JIT) on the first hit of a keyword:
		 * six threads print $STRESS_LINE (a keyword of each of many extra
		 * rules) and the text at once, while the main thread forks children
		 * that print them too (compiling in turn what was not compiled at
		 * fork time).  A child forked during a compile must not hang.  The
		 * children are forked in a burst as soon as the threads run, so
		 * that many forks fall inside the parent's compiles. */
		nrec = 20;
		const char *stress = getenv("STRESS_LINE");
		pthread_t th[6];
		for (int t = 0; t < 6; t++)
			pthread_create(&th[t], NULL, stress_thread, (void *)stress);
		while (atomic_load(&stress_started) < 6)
			sched_yield();
		pid_t kids[256];
		int nk = 0;
		for (int c = 0; c < n1 && nk < 256; c++) {
			pid_t p = fork();
			if (p == 0) {
				char buf[4096];
				if (stress)
					put_all(1, stress, strlen(stress));
				int n = snprintf(buf, sizeof(buf), "C%d:0:%s", c, text);
				put_all(1, buf, (size_t)n);
				_exit(0);
			}
			if (p < 0) {
				report("fork failed");
				return 3;
			}
			kids[nk++] = p;
		}
		int bad = 0;
		for (int k = 0; k < nk; k++) {
			int st;
			if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad = 1;
		}
		for (int t = 0; t < 6; t++)
			pthread_join(th[t], NULL);
		return bad ? 4 : 0;
	}
	if (!strcmp(mode, "nonblock")) {
		/* stdout is a pipe the driver does not read until "#full".  Records
		 * (some cut in the middle of the secret) go out with O_NONBLOCK:
		 * EAGAIN -> poll and retry, partial -> continue with the rest. */
		int fl = fcntl(1, F_GETFL);
		fcntl(1, F_SETFL, fl | O_NONBLOCK);
		long eagain = 0, partial = 0, calls = 0, first_full = 0;
		char buf[256];
		/* n2 > 0: large writes, n2 records of the text each (many secrets
		 * per write, cut anywhere by partial writes). */
		char *chunk = NULL;
		size_t chunk_len = 0;
		if (n2 > 0) {
			size_t tl = strlen(text);
			chunk = malloc(tl * (size_t)n2);
			for (int k = 0; k < n2; k++)
				memcpy(chunk + tl * (size_t)k, text, tl);
			chunk_len = tl * (size_t)n2;
		}
		for (int i = 0; i < n1; i++) {
			const char *parts[3];
			size_t lens[3];
			int np = 0;
			int n = snprintf(buf, sizeof(buf), "R:%d:", i);
			if (chunk) {
				parts[np] = buf, lens[np++] = (size_t)n;
				parts[np] = chunk, lens[np++] = chunk_len;
			} else if (i % 3 == 0) {
				parts[np] = buf, lens[np++] = (size_t)n;
				parts[np] = ta, lens[np++] = strlen(ta);
				parts[np] = tb, lens[np++] = strlen(tb);
			} else {
				parts[np] = buf, lens[np++] = (size_t)n;
				parts[np] = text, lens[np++] = strlen(text);
			}
			for (int k = 0; k < np; k++) {
				const char *p = parts[k];
				size_t len = lens[k];
				while (len) {
					calls++;
					ssize_t r = write(1, p, len);
					if (r < 0 && errno == EAGAIN) {
						eagain++;
						if (!first_full) {
							first_full = 1;
							report("full");
						}
						struct pollfd pf = {1, POLLOUT, 0};
						poll(&pf, 1, -1);
						continue;
					}
					if (r < 0) {
						report("write failed: %s", strerror(errno));
						return 3;
					}
					if (r == 0) {
						report("write returned 0");
						return 3;
					}
					if ((size_t)r < len)
						partial++;
					p += r;
					len -= (size_t)r;
				}
			}
		}
		report("stats eagain=%ld partial=%ld calls=%ld", eagain, partial, calls);
		free(chunk);
		return 0;
	}
	if (!strcmp(mode, "eintr")) {
		/* 1. Fill the stdout pipe with 4096-byte writes until EAGAIN, report
		 *    "#full" and wait for "go" on stdin (the driver reads exactly one
		 *    page meanwhile).
		 * 2. A blocking write of 100 KB: one page fits, then it blocks until
		 *    SIGALRM (no SA_RESTART): the kernel returns the partial count.
		 * 3. A blocking write into the full pipe, interrupted: -1 EINTR.
		 * 4. The rest is written normally; the driver drains everything. */
		int fl = fcntl(1, F_GETFL);
		char page[4096];
		memset(page, 'f', sizeof(page));
		page[sizeof(page) - 1] = '\n';
		fcntl(1, F_SETFL, fl | O_NONBLOCK);
		long pages = 0;
		while (write(1, page, sizeof(page)) == (ssize_t)sizeof(page))
			pages++;
		fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
		report("full pages=%ld", pages);
		char go[8];
		if (read(0, go, sizeof(go)) <= 0)
			return 4;
		size_t big = 100 * 1024;
		char *b = malloc(big);
		size_t tl = strlen(text);
		for (size_t i = 0; i < big; i += tl)
			memcpy(b + i, text, big - i < tl ? big - i : tl);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm_quiet;
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = {{0, 0}, {0, 300000}};
		setitimer(ITIMER_REAL, &it, NULL);
		errno = 0;
		ssize_t r1 = write(1, b, big);
		int e1 = errno;
		/* The retry of the rest: nothing fits, the signal interrupts it. */
		size_t done = r1 > 0 ? (size_t)r1 : 0;
		setitimer(ITIMER_REAL, &it, NULL);
		errno = 0;
		ssize_t r2 = write(1, b + done, big - done);
		int e2 = errno;
		report("eintr partial=%zd errno=%d then=%zd errno=%d", r1, e1, r2, e2);
		if (r2 > 0)
			done += (size_t)r2;
		put_all(1, b + done, big - done);
		free(b);
		return 0;
	}
	if (!strcmp(mode, "atomic")) {
		/* n1 processes write n2 records each, every one a single write() of
		 * at most PIPE_BUF bytes that ends in a newline: the pipe keeps each
		 * whole. */
		for (int c = 0; c < n1; c++) {
			if (fork() == 0) {
				char buf[4096];
				for (int i = 0; i < n2; i++) {
					size_t padn = (size_t)((i * 131 + c * 17) % 3800);
					int n = snprintf(buf, sizeof(buf), "<%d:%d:", c, i);
					memset(buf + n, 'a' + c, padn);
					n += (int)padn;
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s", text);
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, ":%d>\n", c);
					if (n > 4096) {
						report("record too long");
						_exit(3);
					}
					ssize_t r = write(1, buf, (size_t)n);
					if (r != n) {
						report("write %d returned %zd", n, r);
						_exit(3);
					}
				}
				_exit(0);
			}
		}
		int status, bad = 0;
		while (wait(&status) > 0)
			bad |= !WIFEXITED(status) || WEXITSTATUS(status);
		return bad ? 3 : 0;
	}
	if (!strcmp(mode, "hold-sleep")) {
		/* Held bytes, then the program neither writes nor reads for a long
		 * time: they must still appear (bounded hold-back). */
		const char *how = argc > 2 ? argv[2] : "write";
		report("waiting");
		if (!strcmp(how, "write")) {
			put_str(text);
			put_str("tail ghp");
		} else if (!strcmp(how, "stderr")) {
			fputs(text, stderr);
			fputs("tail ghp", stderr);
		} else if (!strcmp(how, "fflush")) {
			fputs(text, stdout);
			fputs("tail ghp", stdout);
			fflush(stdout);
		} else if (!strcmp(how, "linebuf")) {
			setvbuf(stdout, NULL, _IOLBF, 0);
			fputs(text, stdout);
			fputs("tail ghp", stdout);
			fflush(stdout);
		} else if (!strcmp(how, "cxx-like")) {
			fwrite(text, 1, strlen(text), stdout);
			fwrite("tail ", 1, 5, stdout);
			putc('g', stdout);
			putc('h', stdout);
			putc('p', stdout);
			fflush(stdout);
		} else {
			return 2;
		}
		struct timespec ts = {60, 0};
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		return 0;
	}
	if (!strcmp(mode, "prompt")) {
		/* A prompt, then the program waits for input: the prompt must be
		 * visible before.  "Password: " could start a secret assignment
		 * (generic rule), so the library holds it back. */
		const char *how = argc > 2 ? argv[2] : "printf-read";
		char line[256];
		ssize_t got = -1;
		if (!strcmp(how, "printf-read")) {
			printf("Password: ");
			fflush(stdout);
			got = read(0, line, sizeof(line));
		} else if (!strcmp(how, "printf-fgets")) {
			printf("Password: ");
			fflush(stdout);
			got = fgets(line, sizeof(line), stdin) ? (ssize_t)strlen(line) : -1;
		} else if (!strcmp(how, "printf-fgets-nofflush")) {
			/* glibc flushes a line-buffered stdout before reading a terminal */
			printf("Password: ");
			got = fgets(line, sizeof(line), stdin) ? (ssize_t)strlen(line) : -1;
		} else if (!strcmp(how, "fgets-chk")) {
			/* _FORTIFY_SOURCE turns fgets with a runtime size into __fgets_chk */
			int size = argc > 3 ? atoi(argv[3]) : (int)sizeof(line);
			printf("Password: ");
			fflush(stdout);
			got = fgets(line, size, stdin) ? (ssize_t)strlen(line) : -1;
		} else if (!strcmp(how, "read-chk")) {
			/* ... and read with a runtime size into __read_chk */
			size_t size = argc > 3 ? (size_t)atoi(argv[3]) : sizeof(line);
			write(1, "Password: ", 10);
			got = read(0, line, size);
		} else if (!strcmp(how, "stderr-read")) {
			fprintf(stderr, "Password: ");
			got = read(0, line, sizeof(line));
		} else if (!strcmp(how, "write-read")) {
			write(1, "Password: ", 10);
			got = read(0, line, sizeof(line));
		} else if (!strcmp(how, "getline")) {
			char *l = NULL;
			size_t cap = 0;
			printf("Password: ");
			fflush(stdout);
			got = getline(&l, &cap, stdin);
			free(l);
		} else if (!strcmp(how, "wide")) {
			wprintf(L"Password: ");
			fflush(stdout);
			got = fgetws((wchar_t *)line, sizeof(line) / sizeof(wchar_t), stdin) ? 1 : -1;
		} else {
			return 2;
		}
		printf("\nread %zd bytes\n", got);
		return 0;
	}
	if (!strcmp(mode, "splice-pipe")) {
		/* splice from a pipe whose writer stays open, asking for more than
		 * is there: returns what is there, as the kernel does. */
		int p[2];
		if (pipe(p))
			return 3;
		raw(p[1], text, strlen(text));
		ssize_t r = splice(p[0], NULL, 1, NULL, 65536, 0);
		report("splice=%zd", r);
		return r == (ssize_t)strlen(text) ? 0 : 3;
	}
	if (!strcmp(mode, "splice-outoff")) {
		/* stdout is a regular file: splice into it at an offset. */
		int p[2];
		if (pipe(p))
			return 3;
		raw(p[1], text, strlen(text));
		loff_t off = 0;
		ssize_t r = splice(p[0], NULL, 1, &off, strlen(text), 0);
		report("splice=%zd off=%lld", r, (long long)off);
		return r == (ssize_t)strlen(text) && off == r ? 0 : 3;
	}
	if (!strcmp(mode, "copy-file-range-outoff")) {
		char path[] = "/tmp/behave-XXXXXX";
		int f = mkstemp(path);
		if (f < 0)
			return 3;
		unlink(path);
		raw(f, text, strlen(text));
		loff_t in = 0, out = 5;
		write(1, "head:", 5);
		ssize_t r = copy_file_range(f, &in, 1, &out, strlen(text), 0);
		report("copy_file_range=%zd in=%lld out=%lld", r, (long long)in, (long long)out);
		return r == (ssize_t)strlen(text) ? 0 : 3;
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
