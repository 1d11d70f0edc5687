#include "rd_config.h"
#include "rd_startup.h"
#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum kind { K_BOOL, K_UINT, K_MODE, K_MASK, K_SCOPE, K_STR };

struct setting {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;
	unsigned long min, max;
	int secure;
};

#define KIND_BOOL K_BOOL
#define KIND_UINT K_UINT
#define KIND_MODE K_MODE
#define KIND_MASK K_MASK
#define KIND_SCOPE K_SCOPE
#define KIND_STR K_STR
#define X(name, field, kind, def, min, max, secure)                                              \
	{name, KIND_##kind, offsetof(struct rd_config, field), sizeof(((struct rd_config *)0)->field), \
	 min, max, secure},
static const struct setting settings[] = {RD_SETTINGS(X)};
#undef X
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Index of each setting in the table (its text_set bit). */
#define X(name, field, kind, def, min, max, secure) SETTING_##field,
enum { RD_SETTINGS(X) };
#undef X

RD_STARTUP static void record_error(struct rd_config *c, const char *fmt, const char *a, const char *b, const char *d)
{
	if (c->nerrors < 4)
		snprintf(c->errors[c->nerrors], sizeof(c->errors[0]), fmt, a, b, d);
	c->nerrors++;
}

RD_STARTUP static int parse_enum(const char *v, const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++) {
		if (!strcasecmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

RD_STARTUP static int apply(const struct setting *s, struct rd_config *c, const char *v)
{
	char *field = (char *)c + s->offset;
	static const char *const modes[] = {"mask", "block", "log_only", NULL};
	static const char *const masks[] = {"stars", "label", NULL};
	static const char *const scopes[] = {"sinks", "stdio", NULL};
	static const char *const truthy[] = {"0", "1", "false", "true", "no", "yes", "off", "on", NULL};
	int e;
	switch (s->kind) {
	case K_BOOL:
		if (parse_enum(v, truthy, &e))
			return -1;
		*(int *)field = e & 1;
		return 0;
	case K_UINT: {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' || n < s->min || n > s->max)
			return -1;
		*(unsigned long *)field = n;
		return 0;
	}
	case K_MODE:
		if (parse_enum(v, modes, &e))
			return -1;
		*(int *)field = e;
		return 0;
	case K_MASK:
		if (parse_enum(v, masks, &e))
			return -1;
		*(int *)field = e;
		return 0;
	case K_SCOPE:
		if (parse_enum(v, scopes, &e))
			return -1;
		*(int *)field = e;
		return 0;
	case K_STR:
		if (strlen(v) >= s->size)
			return -1;
		memcpy(field, v, strlen(v) + 1);
		if (*v)
			c->text_set |= 1u << (s - settings);
		else
			c->text_set &= ~(1u << (s - settings));
		return 0;
	}
	return -1;
}

_Static_assert(NSETTINGS <= 32, "text_set has a bit per setting");

/* Plain stores, generated from the table: parsing the defaults' text with
 * strtoul and strcasecmp made every process fault in those libc pages and
 * the ctype table at start-up (~50 us here). */
#define DEFAULT_BOOL(c, field, def) (c)->field = (def);
#define DEFAULT_UINT DEFAULT_BOOL
#define DEFAULT_MODE DEFAULT_BOOL
#define DEFAULT_MASK DEFAULT_BOOL
#define DEFAULT_SCOPE DEFAULT_BOOL
#define DEFAULT_STR(c, field, def)                                         \
	_Static_assert(sizeof(def) <= sizeof((c)->field), #field " default"); \
	if (sizeof(def) > 1) {                                               \
		memcpy((c)->field, def, sizeof(def));                        \
		(c)->text_set |= 1u << SETTING_##field;                      \
	}
RD_STARTUP void rd_config_defaults_zeroed(struct rd_config *c)
{
#define X(name, field, kind, def, min, max, secure) DEFAULT_##kind(c, field, def)
	RD_SETTINGS(X)
#undef X
}

RD_STARTUP void rd_config_defaults(struct rd_config *c)
{
	memset(c, 0, sizeof(*c));
	rd_config_defaults_zeroed(c);
}

RD_STARTUP void rd_config_copy(struct rd_config *dst, const struct rd_config *src)
{
	memcpy(dst, src, offsetof(struct rd_config, sockets));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_STR && (src->text_set & (1u << i)))
			strcpy((char *)dst + settings[i].offset, (const char *)src + settings[i].offset);
	for (int i = 0; i < src->nerrors && i < 4; i++)
		strcpy(dst->errors[i], src->errors[i]);
}

RD_STARTUP int rd_config_text_set(const struct rd_config *c, const char *field)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_STR && (const char *)c + settings[i].offset == field)
			return (c->text_set >> i) & 1;
	return 1;
}

RD_STARTUP static const struct setting *find(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].name, key))
			return &settings[i];
	return NULL;
}

int rd_config_set(struct rd_config *c, const char *key, const char *value, const char *origin)
{
	const struct setting *s = key ? find(key) : NULL;
	if (!s) {
		record_error(c, "%s: unknown setting '%s'%s", origin, key ? key : "(null)", "");
		return REDACT_ERROR_CONFIG;
	}
	if (!value || apply(s, c, value)) {
		record_error(c, "%s: invalid value for %s: '%.100s' (default kept)", origin, s->name,
			     value ? value : "(null)");
		return REDACT_ERROR_CONFIG;
	}
	return 0;
}

RD_STARTUP int rd_config_load_env(struct rd_config *c)
{
	int bad = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		/* Paths come from secure_getenv: a set-uid program must not read
		 * rule files or write an audit log chosen by its caller. */
		const char *v = settings[i].secure ? secure_getenv(settings[i].name) : getenv(settings[i].name);
		if (v && rd_config_set(c, settings[i].name, v, "environment"))
			bad++;
	}
	return bad;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static int load_fd(struct rd_config *c, const char *path, int fd);

RD_STARTUP int rd_config_load_file(struct rd_config *c, const char *path)
{
	/* Plain read(2) rather than stdio: this also runs in the preloaded
	 * library's constructor, where a FILE would be one more allocation. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return REDACT_ERROR_IO;
	return load_fd(c, path, fd);
}

/* Apart from rd_config_load_file, whose call in every process mostly finds
 * no file: the 8 KiB buffer is stack pages that the compiler's stack-clash
 * probes write on entry. */
static __attribute__((noinline)) int load_fd(struct rd_config *c, const char *path, int fd)
{
	char buf[8192];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = 0;
	int bad = 0, lineno = 0;
	char *next = buf;
	while (next && *next) {
		char *line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		char *l = trim(line);
		if (!*l || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		char origin[300];
		snprintf(origin, sizeof(origin), "%.256s:%d", path, lineno);
		if (!eq) {
			record_error(c, "%s: expected KEY=VALUE%s%s", origin, "", "");
			bad++;
			continue;
		}
		*eq = 0;
		if (rd_config_set(c, trim(l), trim(eq + 1), origin))
			bad++;
	}
	return bad;
}

RD_STARTUP const char *rd_config_file_path(void)
{
	const char *p = secure_getenv("REDACT_CONFIG");
	return p && *p ? p : "/etc/libredact.conf";
}
