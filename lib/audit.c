/* Audit events: one JSON object per line, metadata only -- never the secret
 * and never the text around it.
 *
 * Events can be raised inside a hook (a signal handler, a write from an
 * allocator), so this file uses no malloc and no stdio: a fixed buffer, our
 * own number and time formatting (gmtime_r takes glibc's tzset lock), and raw
 * open/write/close per event.  Opening per event keeps no descriptor in the
 * program's fd table (programs close ranges of fds, daemons dup over them);
 * events are rare, so the cost does not matter.  One write(2) per event with
 * O_APPEND lets many processes share one file. */
#include "rd_context.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct jbuf {
	char *p;
	size_t len, cap;
};

static void put(struct jbuf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct jbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_u64(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

static void put_pad(struct jbuf *b, unsigned v, int width)
{
	char tmp[8];
	for (int i = width - 1; i >= 0; i--) {
		tmp[i] = (char)('0' + v % 10);
		v /= 10;
	}
	put(b, tmp, (size_t)width);
}

static void put_json_string(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(b, e, 6);
		} else {
			put(b, (const char *)&c, 1);
		}
	}
	put(b, "\"", 1);
}

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static void put_time(struct jbuf *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t days = ts.tv_sec / 86400, rem = ts.tv_sec % 86400;
	int y;
	unsigned mo, d;
	civil(days, &y, &mo, &d);
	put_pad(b, (unsigned)y, 4);
	put(b, "-", 1);
	put_pad(b, mo, 2);
	put(b, "-", 1);
	put_pad(b, d, 2);
	put(b, "T", 1);
	put_pad(b, (unsigned)(rem / 3600), 2);
	put(b, ":", 1);
	put_pad(b, (unsigned)(rem / 60 % 60), 2);
	put(b, ":", 1);
	put_pad(b, (unsigned)(rem % 60), 2);
	put(b, ".", 1);
	put_pad(b, (unsigned)(ts.tv_nsec / 1000000), 3);
	put(b, "Z", 1);
}

static const char *exe_path(void)
{
	static char exe[512];
	static _Atomic int done;
	if (!atomic_load_explicit(&done, memory_order_acquire)) {
		char tmp[512];
		long n = syscall(SYS_readlink, "/proc/self/exe", tmp, sizeof(tmp) - 1);
		tmp[n > 0 ? n : 0] = 0;
		memcpy(exe, tmp, sizeof(exe));
		atomic_store_explicit(&done, 1, memory_order_release);
	}
	return exe;
}

/* After fork the cached executable is still right; after exec the library
 * is loaded again. */

static void write_all_raw(int fd, const char *p, size_t n)
{
	while (n) {
		long w = syscall(SYS_write, fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static _Atomic int target_failed_reported;

static void report_target_failure(const struct rd_config *cfg, const char *what)
{
	if (atomic_exchange(&target_failed_reported, 1))
		return;
	if (cfg->debug) {
		char msg[600];
		struct jbuf b = {msg, 0, sizeof(msg)};
		puts_(&b, "libredact: audit log target failed (");
		puts_(&b, what);
		puts_(&b, "): ");
		puts_(&b, cfg->audit_log);
		puts_(&b, "\n");
		write_all_raw(2, msg, b.len);
	}
}

/* REDACT_AUDIT_LOG=syslog sends to /dev/log; syslog:/path to another
 * datagram socket (a container's log agent, tests). */
static void send_syslog(const struct rd_config *cfg, const char *json, size_t n)
{
	char msg[2048];
	struct jbuf b = {msg, 0, sizeof(msg)};
	/* <PRI> = facility authpriv (10) * 8 + severity notice (5) = 85 */
	puts_(&b, "<85>libredact[");
	put_u64(&b, (uint64_t)syscall(SYS_getpid));
	puts_(&b, "]: ");
	put(&b, json, n);
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		report_target_failure(cfg, "socket");
		return;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = cfg->audit_log[6] == ':' ? cfg->audit_log + 7 : "/dev/log";
	size_t pl = strlen(path);
	if (pl >= sizeof(sa.sun_path))
		pl = sizeof(sa.sun_path) - 1;
	memcpy(sa.sun_path, path, pl);
	if (syscall(SYS_sendto, fd, msg, b.len, 0, &sa, sizeof(sa)) < 0)
		report_target_failure(cfg, "sendto /dev/log");
	syscall(SYS_close, fd);
}

void rd_audit(const struct rd_config *cfg, const struct rd_audit_event *ev)
{
	if (!cfg->audit_log[0] && !cfg->debug)
		return;
	int saved = errno;
	char line[1536];
	struct jbuf b = {line, 0, sizeof(line) - 1};
	puts_(&b, "{\"time\":\"");
	put_time(&b);
	puts_(&b, "\",\"event\":");
	put_json_string(&b, ev->event);
	puts_(&b, ",\"pid\":");
	put_u64(&b, (uint64_t)syscall(SYS_getpid));
	puts_(&b, ",\"uid\":");
	put_u64(&b, (uint64_t)syscall(SYS_getuid));
	puts_(&b, ",\"exe\":");
	put_json_string(&b, exe_path());
	if (ev->rule) {
		puts_(&b, ",\"rule\":");
		put_json_string(&b, ev->rule);
	}
	if (ev->channel) {
		puts_(&b, ",\"channel\":");
		put_json_string(&b, ev->channel);
	}
	if (ev->action) {
		puts_(&b, ",\"action\":");
		put_json_string(&b, ev->action);
	}
	if (ev->offset >= 0) {
		puts_(&b, ",\"offset\":");
		put_u64(&b, (uint64_t)ev->offset);
	}
	if (ev->length >= 0) {
		puts_(&b, ",\"length\":");
		put_u64(&b, (uint64_t)ev->length);
	}
	if (ev->detail) {
		puts_(&b, ",\"detail\":");
		put_json_string(&b, ev->detail);
	}
	puts_(&b, "}");
	/* A truncated event still ends the JSON object and the line. */
	if (b.len >= b.cap - 1)
		b.len = b.cap - 2, line[b.len - 1] = '}';
	line[b.len++] = '\n';

	if (!strncmp(cfg->audit_log, "syslog", 6) && (!cfg->audit_log[6] || cfg->audit_log[6] == ':')) {
		send_syslog(cfg, line, b.len - 1);
	} else if (cfg->audit_log[0]) {
		long fd = syscall(SYS_openat, AT_FDCWD, cfg->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
				  0600);
		if (fd < 0) {
			report_target_failure(cfg, "open");
		} else {
			if (syscall(SYS_write, fd, line, b.len) != (long)b.len)
				report_target_failure(cfg, "write");
			syscall(SYS_close, fd);
		}
	}
	if (cfg->debug) {
		write_all_raw(2, "libredact: ", 11);
		write_all_raw(2, line, b.len);
	}
	errno = saved;
}

void rd_diag(const struct rd_config *cfg, const char *event, const char *detail)
{
	struct rd_audit_event ev = {.event = event, .offset = -1, .length = -1, .detail = detail};
	rd_audit(cfg, &ev);
}
