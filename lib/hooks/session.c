/* The redaction session and what counts as a sink.
 *
 * A session starts in the first process that loads the library without
 * inheriting one: what its fds 1 and 2 refer to then (the pipe to the
 * container runtime or CI runner, a terminal, a log file, a socket) are the
 * session's sinks, identified by device and inode.  The identities travel
 * to children in LIBREDACT_SESSION, so a child whose stdout is a pipe its
 * parent reads (subprocess capture, `cmd | other`) is not redacted: data
 * between programs stays byte-exact, and is redacted where the reader
 * prints it.  A child whose environment was cleared starts a new session
 * (the safe direction).
 *
 * Besides the session sinks, every terminal (console, slave side of a pty)
 * is a sink; the master side of a pty (/dev/ptmx, 5:2) is input to another
 * program and is not.  Sockets are sinks when REDACT_SOCKETS selects them.
 * REDACT_SCOPE=stdio widens this to every write to fds 1 and 2. */
#include "rd_hooks.h"
#include "../rd_hex.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>

#define SESSION_ENV "LIBREDACT_SESSION"
#define MAX_SESSION_SINKS 8

struct ident {
	uint64_t dev, ino;
};

static struct ident session_out[MAX_SESSION_SINKS];
static int nsession_out;
static struct ident session_in;
static int have_session_in;
static const struct rd_config *cfg;

RD_LARGE_BSS static _Atomic uint32_t fd_cache[RD_FD_CACHE];

static uint32_t pack(struct rd_fdinfo fi)
{
	uint32_t v;
	memcpy(&v, &fi, sizeof(v));
	return v;
}

static struct rd_fdinfo unpack(uint32_t v)
{
	struct rd_fdinfo fi;
	memcpy(&fi, &v, sizeof(fi));
	return fi;
}

/* Terminals: tty/ttyS (4), the controlling tty and console (5:0, 5:1), pts
 * slaves (136-143).  Not 5:2, /dev/ptmx: the master side of a pty. */
static int is_terminal(const struct stat *st)
{
	if (!S_ISCHR(st->st_mode))
		return 0;
	unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);
	return maj == 4 || (maj == 5 && min != 2) || (maj >= 136 && maj <= 143);
}

static struct ident ident_of(const struct stat *st)
{
	/* A terminal is the same terminal whatever path opened it. */
	if (S_ISCHR(st->st_mode))
		return (struct ident){0, (uint64_t)st->st_rdev};
	return (struct ident){(uint64_t)st->st_dev, (uint64_t)st->st_ino};
}

static int ident_eq(struct ident a, struct ident b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

/* ---- the session ----
 *
 * This runs in every process's constructor, so it calls as little of libc
 * as it can: on this VM the first touch of a page costs ~10-20 us, and a
 * process that uses strtoull, snprintf or malloc for nothing else would
 * fault in their code and data (the constructor took ~110 us here with
 * them, and most processes of a container are children that only parse). */

/* 1-16 hex digits; *p is left after them. */
static int parse_hex(const char **p, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	int n = 0, d;
	while ((d = rd_hexval((unsigned char)*q)) >= 0) {
		if (++n > 16)
			return -1;
		v = v << 4 | (uint64_t)d;
		q++;
	}
	if (!n)
		return -1;
	*out = v;
	*p = q;
	return 0;
}

static int parse_ident(const char **p, struct ident *out)
{
	const char *q = *p;
	struct ident id;
	if (parse_hex(&q, &id.dev) || *q++ != '.' || parse_hex(&q, &id.ino))
		return -1;
	*out = id;
	*p = q;
	return 0;
}

static char *put_hex(char *o, uint64_t v)
{
	int shift = 60;
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*o++ = "0123456789abcdef"[(v >> shift) & 15];
	return o;
}

static char *put_ident(char *o, struct ident id)
{
	o = put_hex(o, id.dev);
	*o++ = '.';
	return put_hex(o, id.ino);
}

/* LIBREDACT_SESSION=1;out=DEV.INO,DEV.INO;in=DEV.INO (hex) */
static int inherit(const char *v)
{
	if (strncmp(v, "1;out=", 6))
		return -1;
	const char *p = v + 6;
	nsession_out = 0;
	while (*p && *p != ';' && nsession_out < MAX_SESSION_SINKS) {
		if (parse_ident(&p, &session_out[nsession_out]))
			return -1;
		nsession_out++;
		if (*p == ',')
			p++;
	}
	if (!strncmp(p, ";in=", 4)) {
		p += 4;
		have_session_in = parse_ident(&p, &session_in) == 0;
	}
	return 0;
}

static void add_session_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return;
	struct ident id = ident_of(&st);
	for (int i = 0; i < nsession_out; i++)
		if (ident_eq(session_out[i], id))
			return;
	if (nsession_out < MAX_SESSION_SINKS)
		session_out[nsession_out++] = id;
}

/* The session goes into the environment of this process, which children
 * inherit.  setenv would be the first malloc of many processes (the
 * arena, brk and heap pages: ~50 us of start-up here), so environ becomes a
 * copy of its pointer array in static storage with our entry added.
 * glibc's setenv, putenv and unsetenv handle an environ they did not
 * allocate, as they handle the initial one on the stack; setenv is the
 * fallback for an environment of more than ENV_SLOTS - 2 entries.  This
 * runs before main and before other threads exist. */
#define ENV_SLOTS 512
/* NAME=1;out= then up to 8 "DEV.INO," of 16+1+16+1 and ";in=DEV.INO" */
static char session_var[sizeof(SESSION_ENV "=1;out=") + MAX_SESSION_SINKS * 34 + sizeof(";in=") + 33];
RD_LARGE_BSS static char *session_environ[ENV_SLOTS];

static void publish(void)
{
	char **env = environ;
	size_t n = 0, len = sizeof(SESSION_ENV) - 1;
	char *o = session_var;
	memcpy(o, SESSION_ENV "=1;out=", len + 7);
	o += len + 7;
	for (int i = 0; i < nsession_out; i++) {
		if (i)
			*o++ = ',';
		o = put_ident(o, session_out[i]);
	}
	if (have_session_in) {
		memcpy(o, ";in=", 4);
		o = put_ident(o + 4, session_in);
	}
	*o = 0;
	for (char **e = env; e && *e; e++) {
		if (!strncmp(*e, SESSION_ENV "=", len + 1))
			continue; /* an inherited value we could not use */
		if (n == ENV_SLOTS - 2) {
			setenv(SESSION_ENV, session_var + len + 1, 1);
			return;
		}
		session_environ[n++] = *e;
	}
	session_environ[n++] = session_var;
	session_environ[n] = NULL;
	environ = session_environ;
}

RD_STARTUP int rd_session_init(const struct rd_config *c)
{
	cfg = c;
	const char *v = getenv(SESSION_ENV);
	if (v && inherit(v) == 0)
		return 0;
	/* A new session: this process's stdout and stderr are the sinks. */
	nsession_out = 0;
	add_session_fd(1);
	add_session_fd(2);
	struct stat st;
	have_session_in = fstat(0, &st) == 0;
	if (have_session_in)
		session_in = ident_of(&st);
	publish();
	return 0;
}

/* ---- sockets: REDACT_SOCKETS ---- */

/* The local log sinks: syslog and journald. */
static const char *const log_paths[] = {
	"/dev/log", "/run/systemd/journal/dev-log", "/run/systemd/journal/socket", "/run/systemd/journal/stdout",
	"/var/run/syslog", NULL,
};

static int path_matches(const char *pattern, const char *path)
{
	size_t l = strlen(pattern);
	if (l && pattern[l - 1] == '*')
		return !strncmp(pattern, path, l - 1);
	return !strcmp(pattern, path);
}

/* Text of the next comma-separated selector in *p, NUL-terminated in out. */
static int next_selector(const char **p, char *out, size_t size)
{
	while (**p == ',' || **p == ' ')
		(*p)++;
	if (!**p)
		return 0;
	size_t n = 0;
	while ((*p)[n] && (*p)[n] != ',')
		n++;
	if (n >= size)
		n = size - 1;
	memcpy(out, *p, n);
	out[n] = 0;
	*p += n;
	return 1;
}

static void addr_text(const struct sockaddr *sa, char *host, size_t hsize, unsigned *port)
{
	host[0] = 0;
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)hsize);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)hsize);
		*port = ntohs(in6->sin6_port);
	}
}

/* selector "connect:HOST:PORT" (HOST or PORT may be *; IPv6 as [addr]:port) */
static int connect_matches(const char *sel, const struct sockaddr *peer)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	addr_text(peer, host, sizeof(host), &port);
	if (!host[0])
		return 0;
	const char *colon = strrchr(sel, ':');
	if (!colon)
		return 0;
	char want_host[INET6_ADDRSTRLEN + 2];
	size_t hl = (size_t)(colon - sel);
	if (hl >= sizeof(want_host))
		return 0;
	memcpy(want_host, sel, hl);
	want_host[hl] = 0;
	char *h = want_host;
	if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
		h[hl - 1] = 0;
		h++;
	}
	if (strcmp(h, "*") && strcmp(h, host))
		return 0;
	return !strcmp(colon + 1, "*") || (unsigned)atoi(colon + 1) == port;
}

static int sockaddr_selected(const struct sockaddr *peer, socklen_t plen, const struct sockaddr *local)
{
	const char *p = cfg ? cfg->sockets : "log";
	char sel[512];
	while (next_selector(&p, sel, sizeof(sel))) {
		if (!strcmp(sel, "all"))
			return 1;
		if (!strcmp(sel, "none"))
			return 0;
		if (peer && peer->sa_family == AF_UNIX && plen > offsetof(struct sockaddr_un, sun_path)) {
			const struct sockaddr_un *un = (const struct sockaddr_un *)peer;
			char path[sizeof(un->sun_path) + 1];
			size_t n = plen - offsetof(struct sockaddr_un, sun_path);
			if (n > sizeof(un->sun_path))
				n = sizeof(un->sun_path);
			memcpy(path, un->sun_path, n);
			path[n] = 0;
			if (!strcmp(sel, "log")) {
				for (int i = 0; log_paths[i]; i++)
					if (!strcmp(path, log_paths[i]))
						return 1;
			} else if (!strncmp(sel, "unix:", 5) && path_matches(sel + 5, path)) {
				return 1;
			}
		}
		if (peer && !strncmp(sel, "connect:", 8) && connect_matches(sel + 8, peer))
			return 1;
		if (local && !strncmp(sel, "accept:", 7)) {
			char host[INET6_ADDRSTRLEN];
			unsigned port;
			addr_text(local, host, sizeof(host), &port);
			if (host[0] && port == (unsigned)atoi(sel + 7))
				return 1;
		}
	}
	return 0;
}

int rd_socket_addr_selected(const struct sockaddr *sa, socklen_t len)
{
	return sa && sockaddr_selected(sa, len, NULL);
}

/* ---- classification ---- */

static struct rd_fdinfo classify(int fd, int *cacheable)
{
	struct rd_fdinfo fi = {RD_FD_PLAIN, 0, 0, RD_CHAN_FD};
	struct stat st;
	*cacheable = 1;
	if (fstat(fd, &st) != 0) {
		*cacheable = 0; /* not open now: the number may be reused by an open we do not see */
		return fi;
	}
	struct ident id = ident_of(&st);
	int tty = is_terminal(&st);
	fi.chan = fd == 1 ? RD_CHAN_STDOUT : fd == 2 ? RD_CHAN_STDERR : tty ? RD_CHAN_TTY
		  : S_ISSOCK(st.st_mode) ? RD_CHAN_SOCKET : RD_CHAN_FD;
	fi.input = (uint8_t)(tty || (have_session_in && ident_eq(id, session_in)));
	int sink = tty;
	for (int i = 0; !sink && i < nsession_out; i++)
		sink = ident_eq(id, session_out[i]);
	if (!sink && cfg && cfg->scope == RD_SCOPE_STDIO && (fd == 1 || fd == 2))
		sink = 1;
	if (!sink && S_ISSOCK(st.st_mode)) {
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof(peer), ll = sizeof(local);
		int type = 0;
		socklen_t tl = sizeof(type);
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
		int connected = getpeername(fd, (struct sockaddr *)&peer, &pl) == 0;
		int have_local = getsockname(fd, (struct sockaddr *)&local, &ll) == 0;
		if (!connected)
			*cacheable = 0; /* may connect later; unconnected datagrams are checked per send */
		if (sockaddr_selected(connected ? (struct sockaddr *)&peer : NULL, pl,
				      have_local ? (struct sockaddr *)&local : NULL)) {
			if (type != SOCK_STREAM) {
				fi.cls = RD_FD_DGRAM;
				return fi;
			}
			sink = 1;
		}
	}
	if (sink) {
		int idx = rd_sink_find_or_add((dev_t)id.dev, (ino_t)id.ino, S_ISFIFO(st.st_mode));
		if (idx >= 0) {
			fi.cls = RD_FD_SINK;
			fi.sink = (uint8_t)idx;
		} else {
			fi.cls = RD_FD_DGRAM; /* no room for a stream: redact each write alone */
		}
	}
	return fi;
}

struct rd_fdinfo rd_fd_info(int fd)
{
	if (fd >= 0 && fd < RD_FD_CACHE) {
		uint32_t v = atomic_load_explicit(&fd_cache[fd], memory_order_relaxed);
		struct rd_fdinfo fi = unpack(v);
		if (__builtin_expect(fi.cls != RD_FD_UNKNOWN, 1))
			return fi;
	}
	int cacheable;
	struct rd_fdinfo fi = classify(fd, &cacheable);
	if (cacheable && fd >= 0 && fd < RD_FD_CACHE)
		atomic_store_explicit(&fd_cache[fd], pack(fi), memory_order_relaxed);
	return fi;
}

void rd_fd_forget(int fd)
{
	if (fd >= 0 && fd < RD_FD_CACHE)
		atomic_store_explicit(&fd_cache[fd], 0, memory_order_relaxed);
}

void rd_fd_forget_range(unsigned int first, unsigned int last)
{
	if (first >= RD_FD_CACHE)
		return;
	if (last >= RD_FD_CACHE)
		last = RD_FD_CACHE - 1;
	for (unsigned int fd = first; fd <= last; fd++)
		atomic_store_explicit(&fd_cache[fd], 0, memory_order_relaxed);
}

void rd_fd_forget_all(void)
{
	rd_fd_forget_range(0, RD_FD_CACHE - 1);
}

const char *rd_channel_name(struct rd_fdinfo fi)
{
	static const char *const names[] = {"fd", "stdout", "stderr", "tty", "socket"};
	return fi.chan < sizeof(names) / sizeof(names[0]) ? names[fi.chan] : "fd";
}

/* ---- ALLOWLIST_PATHS ----
 * A process is exempt when, at start, one of these lies under a listed
 * path (at a path-component boundary): its executable (/proc/self/exe),
 * the script an interpreter runs (the first argument naming an existing
 * regular file, when the executable's name is one of the interpreters
 * below), or its working directory. */

static const char *const interpreters[] = {"python", "perl", "ruby", "node", "bash", "sh", "dash", "zsh",
					   "php", "Rscript", "julia", "lua", NULL};

static int under(const char *path, const char *prefix, size_t plen)
{
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	return !strncmp(path, prefix, plen) && (path[plen] == '/' || path[plen] == 0);
}

static int in_allowlist(const char *list, const char *path)
{
	if (!path || path[0] != '/')
		return 0;
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && under(path, p, n))
			return 1;
		p += n + (e ? 1 : 0);
	}
	return 0;
}

static int is_interpreter(const char *exe)
{
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	for (int i = 0; interpreters[i]; i++) {
		size_t l = strlen(interpreters[i]);
		/* python3, python3.11, perl5.36 ... */
		if (!strncmp(base, interpreters[i], l) &&
		    (base[l] == 0 || (base[l] >= '0' && base[l] <= '9') || base[l] == '.'))
			return 1;
	}
	return 0;
}

static int allowlisted(const struct rd_config *c);

RD_STARTUP int rd_process_allowlisted(const struct rd_config *c)
{
	if (!rd_config_text_set(c, c->allowlist_paths) || !c->allowlist_paths[0])
		return 0;
	return allowlisted(c);
}

/* Apart, so that a process without ALLOWLIST_PATHS does not write the 20 KiB
 * of stack pages of these buffers (stack-clash probes on entry). */
static __attribute__((noinline)) int allowlisted(const struct rd_config *c)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (in_allowlist(c->allowlist_paths, exe))
		return 1;
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) && in_allowlist(c->allowlist_paths, cwd))
		return 1;
	if (!is_interpreter(exe))
		return 0;
	/* The script: the first argument naming an existing regular file. */
	char args[8192];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t len = RD_REAL(read)(fd, args, sizeof(args) - 1);
	RD_REAL(close)(fd);
	if (len <= 0)
		return 0;
	args[len] = 0;
	const char *a = args + strlen(args) + 1; /* skip argv[0] */
	while (a < args + len) {
		struct stat st;
		if (a[0] != '-' && stat(a, &st) == 0 && S_ISREG(st.st_mode)) {
			char real[4096];
			if (realpath(a, real) && in_allowlist(c->allowlist_paths, real))
				return 1;
			return in_allowlist(c->allowlist_paths, a);
		}
		a += strlen(a) + 1;
	}
	return 0;
}
