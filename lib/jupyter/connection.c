/* Is this process a Jupyter kernel, and with which key does it sign?
 *
 * A kernel is started with its connection file after -f (ipykernel:
 * `python -m ipykernel_launcher -f /run/.../kernel-ID.json`; field notes
 * section 7); the file holds "key" and "signature_scheme" and is readable
 * by the kernel (mode 0600, same user).  The argument is taken from argv in
 * a constructor (glibc passes argc/argv/envp to ELF constructors), because
 * a program may later overwrite its argv (setproctitle).  The file itself
 * is read when the first output message needs it: by then ipykernel has
 * finished its start-up, and a kernel that writes its own connection file
 * (none existed) has written it.
 *
 * A relative name is looked up as ipykernel does (filefind(name, [".",
 * runtime dir])), from the directory the process started in. */
#include "jr.h"
#include "rd_hooks.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

RD_LARGE_BSS static char arg[4096];
RD_LARGE_BSS static char start_dir[4096];
RD_LARGE_BSS static char runtime_dir[4096];
static int have_arg;

RD_LARGE_BSS static struct jr_conn conn;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static int attempts;
static time_t last_attempt;

static void lock_conn(void)
{
	pthread_mutex_lock(&conn_lock);
}

static void unlock_conn(void)
{
	pthread_mutex_unlock(&conn_lock);
}

static void set_arg(const char *v)
{
	size_t l = strlen(v);
	if (!l || l >= sizeof(arg))
		return;
	memcpy(arg, v, l + 1);
	have_arg = 1;
}

static void copy_env_path(char *dst, size_t size, const char *a, const char *b)
{
	dst[0] = 0;
	if (a && strlen(a) + (b ? strlen(b) : 0) < size) {
		strcpy(dst, a);
		if (b)
			strcat(dst, b);
	}
}

/* jupyter_core's runtime directory on Linux. */
static void find_runtime_dir(void)
{
	const char *e;
	if ((e = getenv("JUPYTER_RUNTIME_DIR")) && *e)
		copy_env_path(runtime_dir, sizeof(runtime_dir), e, NULL);
	else if ((e = getenv("JUPYTER_DATA_DIR")) && *e)
		copy_env_path(runtime_dir, sizeof(runtime_dir), e, "/runtime");
	else if ((e = getenv("XDG_DATA_HOME")) && *e)
		copy_env_path(runtime_dir, sizeof(runtime_dir), e, "/jupyter/runtime");
	else if ((e = getenv("HOME")) && *e)
		copy_env_path(runtime_dir, sizeof(runtime_dir), e, "/.local/share/jupyter/runtime");
}

/* -f X, -f=X, --f X, --f=X, --[App.]connection_file[=]X; the last wins, as
 * with traitlets. */
__attribute__((constructor)) static void jr_argv(int argc, char **argv, char **envp)
{
	(void)envp;
	if (!argv)
		return;
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			continue;
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		const char *dot = memchr(name, '.', nl);
		int is_f = nl == 1 && name[0] == 'f';
		int is_cf = a[1] == '-' && ((nl == 15 && !strncmp(name, "connection_file", 15)) ||
					    (dot && (size_t)(name + nl - dot) == 16 && !strncmp(dot + 1, "connection_file", 15)));
		if (!is_f && !is_cf)
			continue;
		if (eq)
			set_arg(eq + 1);
		else if (i + 1 < argc && argv[i + 1])
			set_arg(argv[++i]);
	}
	pthread_atfork(lock_conn, unlock_conn, unlock_conn);
	if (!have_arg)
		return;
	if (!getcwd(start_dir, sizeof(start_dir)))
		start_dir[0] = 0;
	find_runtime_dir();
}

RD_STARTUP int jr_has_connection_arg(void)
{
	return have_arg;
}

/* Reads a small regular file into buf (NUL-terminated); returns its length
 * or -1.  `-f` means other things to other programs (tail -f, cp -f): a
 * FIFO or device named there is never opened for reading in a way that
 * could block, and only regular files are read. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size >= size) {
		RD_REAL(close)(fd);
		return -1;
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = RD_REAL(read)(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == size - 1)
			break;
	}
	RD_REAL(close)(fd);
	buf[len] = 0;
	return (ssize_t)len;
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
	if (!dir[0])
		return -1;
	int n = snprintf(out, size, "%s/%s", dir, name);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Fills conn from the file; returns the new state. */
static int load(void)
{
	RD_LARGE_BSS static char text[65536];
	ssize_t len = -1;
	if (arg[0] == '/') {
		snprintf(conn.path, sizeof(conn.path), "%s", arg);
		len = read_small(conn.path, text, sizeof(text));
	} else {
		if (join(conn.path, sizeof(conn.path), start_dir, arg) == 0)
			len = read_small(conn.path, text, sizeof(text));
		if (len < 0 && !strchr(arg, '/') && join(conn.path, sizeof(conn.path), runtime_dir, arg) == 0)
			len = read_small(conn.path, text, sizeof(text));
	}
	if (len <= 0)
		return JR_CONN_UNREADABLE;
	const uint8_t *p = (const uint8_t *)text;
	struct jr_token t;
	struct jr_buf b = {0};
	/* A kernel connection file: a key and the ports. */
	if (jr_json_get(p, (size_t)len, "key", &t) != 1 || jr_unescape(p + t.start, t.end - t.start, &b) ||
	    b.len > sizeof(conn.key) || !(strstr(text, "\"shell_port\"") || strstr(text, "\"iopub_port\""))) {
		jr_buf_free(&b);
		return JR_CONN_UNREADABLE;
	}
	memcpy(conn.key, b.p, b.len);
	conn.key_len = b.len;
	b.len = 0;
	/* jupyter_client's default when the file does not say. */
	snprintf(conn.scheme, sizeof(conn.scheme), "hmac-sha256");
	int r = jr_json_get(p, (size_t)len, "signature_scheme", &t);
	if (r == 1) {
		if (jr_unescape(p + t.start, t.end - t.start, &b) || b.len >= sizeof(conn.scheme)) {
			jr_buf_free(&b);
			return JR_CONN_SCHEME;
		}
		memcpy(conn.scheme, b.p, b.len);
		conn.scheme[b.len] = 0;
	}
	jr_buf_free(&b);
	if (r < 0)
		return JR_CONN_UNREADABLE;
	if (strncmp(conn.scheme, "hmac-", 5) || !conn.scheme[5])
		return JR_CONN_SCHEME;
	if (!conn.key_len)
		return JR_CONN_OK; /* unsigned messages: nothing to sign */
	const char *why;
	if (jr_hmac_setup(conn.scheme + 5, &why))
		return strstr(why, "libcrypto (") ? JR_CONN_NO_CRYPTO : JR_CONN_SCHEME;
	return JR_CONN_OK;
}

const struct jr_conn *jr_connection(void)
{
	int s = __atomic_load_n(&conn.state, __ATOMIC_ACQUIRE);
	if (s != JR_CONN_UNKNOWN && s != JR_CONN_UNREADABLE)
		return &conn;
	pthread_mutex_lock(&conn_lock);
	s = conn.state;
	if (s == JR_CONN_UNKNOWN || s == JR_CONN_UNREADABLE) {
		time_t now = time(NULL);
		if (!have_arg) {
			s = JR_CONN_NONE;
		} else if (s == JR_CONN_UNKNOWN || (attempts < 30 && now != last_attempt)) {
			/* An unreadable file is tried again, at most once a second. */
			attempts++;
			last_attempt = now;
			s = load();
		}
		__atomic_store_n(&conn.state, s, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&conn_lock);
	return &conn;
}
