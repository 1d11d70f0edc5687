/* Secrets taken from the environment.
 *
 * Passwords often have no recognisable format; the environment tells us
 * which strings are secrets.  At start the values of variables whose names
 * match REDACT_ENV_NAMES (shell patterns, default *_PASSWORD, *_TOKEN,
 * HF_TOKEN, ...) and are at least REDACT_ENV_MIN_LEN bytes long become
 * literal rules: the exact value, and the forms it takes when a program
 * prints it encoded --
 *  - base64 (standard and URL alphabets) at each of the three byte
 *    alignments it can have inside a larger encoded blob: only the
 *    characters that depend on the value's bytes alone are matched,
 *  - URL-encoded (RFC 3986 unreserved characters kept),
 *  - JSON-escaped.
 * A literal's keyword is its own first bytes, so the keyword pass finds it
 * like any other rule, including across writes. */
#include "rd_rule.h"
#include "rd_config.h"
#include "redact.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

extern char **environ;

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Shortest encoded form worth matching: shorter stable runs of base64
 * characters would match unrelated data. */
#define MIN_ENCODED 8

/* REDACT_ENV_NAMES parsed once: most patterns are "*SUFFIX" or an exact
 * name, tested with one memcmp; anything else goes to fnmatch.  This runs
 * over the whole environment in every process that prints.  A pattern
 * points into the list (no copy): 64 patterns of 128 bytes each made a
 * 9 KiB frame whose stack probes touched 2-3 new pages on a first write. */
#define PAT_TEXT_MAX 128 /* longer patterns are ignored */
struct name_pattern {
	enum { PAT_SUFFIX, PAT_EXACT, PAT_GLOB } kind;
	const char *text; /* not NUL-terminated: len bytes */
	size_t len;
};

static size_t parse_patterns(const char *list, struct name_pattern *out, size_t max)
{
	size_t n = 0;
	for (const char *p = list; *p && n < max;) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		size_t pl = (size_t)(e - p);
		if (pl && pl < PAT_TEXT_MAX) {
			struct name_pattern *np = &out[n++];
			size_t special = 0; /* "*?[\\" after the first byte */
			for (size_t i = 1; i < pl; i++)
				special += p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\';
			if (p[0] == '*' && !special) {
				np->kind = PAT_SUFFIX;
				np->text = p + 1;
				np->len = pl - 1;
			} else if (!special && p[0] != '?' && p[0] != '[' && p[0] != '\\') {
				np->kind = PAT_EXACT;
				np->text = p;
				np->len = pl;
			} else {
				np->kind = PAT_GLOB;
				np->text = p;
				np->len = pl;
			}
		}
		p = e;
	}
	return n;
}

static int name_selected(const struct name_pattern *pats, size_t npats, const char *name, size_t nlen)
{
	for (size_t i = 0; i < npats; i++) {
		const struct name_pattern *p = &pats[i];
		if (p->kind == PAT_SUFFIX) {
			if (nlen >= p->len && !memcmp(name + nlen - p->len, p->text, p->len))
				return 1;
		} else if (p->kind == PAT_EXACT) {
			if (nlen == p->len && !memcmp(name, p->text, nlen))
				return 1;
		} else {
			char n[256], pat[PAT_TEXT_MAX];
			if (nlen >= sizeof(n))
				continue;
			memcpy(n, name, nlen);
			n[nlen] = 0;
			memcpy(pat, p->text, p->len);
			pat[p->len] = 0;
			if (fnmatch(pat, n, 0) == 0)
				return 1;
		}
	}
	return 0;
}

/* Values that are not secrets even under a secret-sounding name. */
static int plausible_secret(const char *v, size_t len, size_t min_len)
{
	if (len < min_len)
		return 0;
	if (v[0] == '/')
		return 0; /* a path, e.g. *_PASSWORD_FILE=/run/secrets/x */
	size_t digits = 0;
	for (size_t i = 0; i < len; i++)
		digits += isdigit((unsigned char)v[i]) != 0;
	return digits != len;
}

static int add_literal(struct rd_rule_defs *d, const char *name, size_t nlen, const char *suffix, const char *value,
		       size_t vlen)
{
	if (vlen < MIN_ENCODED && suffix[0])
		return 0;
	/* the same text twice (a value whose encoded form equals itself) */
	for (size_t i = 0; i < d->nrules; i++)
		if (strlen(d->rules[i].regex) == vlen && !memcmp(d->rules[i].regex, value, vlen))
			return 0;
	struct rd_rule_def *r = rd_rule_defs_add(d);
	if (!r)
		return REDACT_ERROR_NOMEM;
	char id[64], lower[64];
	size_t n = nlen < 40 ? nlen : 40;
	for (size_t i = 0; i < n; i++)
		lower[i] = isalnum((unsigned char)name[i]) ? (char)tolower((unsigned char)name[i]) : '-';
	lower[n] = 0;
	snprintf(id, sizeof(id), "env-%.40s%.12s", lower, suffix);
	char desc[128];
	snprintf(desc, sizeof(desc), "value of the environment variable %.*s%s", (int)nlen, name,
		 suffix[0] ? " (encoded)" : "");
	r->id = rd_arena_strdup(&d->arena, id);
	r->description = rd_arena_strdup(&d->arena, desc);
	r->family = "env";
	r->regex = rd_arena_memdup(&d->arena, value, vlen); /* the literal, for RD_RULE_LITERAL */
	const char **kw = rd_arena_alloc(&d->arena, sizeof(char *));
	if (!r->id || !r->description || !r->regex || !kw)
		return REDACT_ERROR_NOMEM;
	kw[0] = rd_arena_memdup(&d->arena, value, vlen < 255 ? vlen : 255);
	if (!kw[0])
		return REDACT_ERROR_NOMEM;
	r->keywords = kw;
	r->nkeywords = 1;
	r->flags = RD_RULE_LITERAL;
	r->secret_group = 0;
	r->file = "environment";
	return 0;
}

/* Base64 of the value as it appears at byte alignment `align` (0-2) inside a
 * longer encoded text: the characters whose 6 bits all come from the
 * value.  Writes them to out, returns their count. */
static size_t b64_stable(const unsigned char *v, size_t len, int align, const char *alphabet, char *out)
{
	size_t total = (size_t)align + len;
	size_t o = 0;
	size_t first_bit = (size_t)align * 8, end_bit = ((size_t)align + len) * 8;
	for (size_t c = 0; c * 6 + 6 <= (total + 2) / 3 * 24; c++) {
		size_t bit = c * 6;
		if (bit < first_bit || bit + 6 > end_bit)
			continue;
		unsigned val = 0;
		for (size_t b = bit; b < bit + 6; b++) {
			size_t byte = b / 8 - (size_t)align;
			unsigned bitv = (v[byte] >> (7 - b % 8)) & 1u;
			val = (val << 1) | bitv;
		}
		out[o++] = alphabet[val];
	}
	return o;
}

static size_t url_encode(const unsigned char *v, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = v[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

static size_t json_escape(const unsigned char *v, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = v[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c == '\r') {
			out[o++] = '\\';
			out[o++] = 'r';
		} else if (c < 0x20) {
			memcpy(out + o, "\\u00", 4);
			o += 4;
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

int rd_env_secret_rules(struct rd_rule_defs *d, const struct rd_config *cfg)
{
	if (!cfg->env_names[0] || !environ)
		return 0;
	struct name_pattern pats[64];
	size_t npats = parse_patterns(cfg->env_names, pats, 64);
	if (!npats)
		return 0;
	char *enc = NULL;
	int rc = 0;
	for (char **e = environ; *e && !rc; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			continue;
		size_t nlen = (size_t)(eq - *e);
		const char *v = eq + 1;
		size_t vlen = strlen(v);
		if (vlen > 4096 || !name_selected(pats, npats, *e, nlen) ||
		    !plausible_secret(v, vlen, cfg->env_min_len))
			continue;
		if (!enc && !(enc = rd_mem_alloc(6 * 4096 + 16)))
			return REDACT_ERROR_NOMEM;
		const unsigned char *uv = (const unsigned char *)v;
		rc = add_literal(d, *e, nlen, "", v, vlen);
		for (int align = 0; align < 3 && !rc; align++) {
			char suffix[16];
			size_t n = b64_stable(uv, vlen, align, b64std, enc);
			snprintf(suffix, sizeof(suffix), "-b64-%d", align);
			if (n >= MIN_ENCODED)
				rc = add_literal(d, *e, nlen, suffix, enc, n);
			n = b64_stable(uv, vlen, align, b64url, enc);
			snprintf(suffix, sizeof(suffix), "-b64url-%d", align);
			if (!rc && n >= MIN_ENCODED)
				rc = add_literal(d, *e, nlen, suffix, enc, n);
		}
		if (!rc)
			rc = add_literal(d, *e, nlen, "-url", enc, url_encode(uv, vlen, enc));
		if (!rc)
			rc = add_literal(d, *e, nlen, "-json", enc, json_escape(uv, vlen, enc));
	}
	rd_mem_free(enc);
	return rc;
}
