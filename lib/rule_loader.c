/* Rule files: YAML, read with libyaml's document API so every error can name
 * the file, the line and the rule.  The format is documented in
 * patterns/README.md.  Regexes are YAML scalars, so a single-quoted or
 * block scalar ('...' or |) holds a PCRE2 pattern verbatim. */
#include "rd_rule.h"
#include "redact.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

void rd_rule_defs_init(struct rd_rule_defs *d)
{
	memset(d, 0, sizeof(*d));
	rd_arena_init(&d->arena);
}

void rd_rule_defs_destroy(struct rd_rule_defs *d)
{
	rd_mem_free(d->rules);
	rd_mem_free(d->global_allowlists);
	rd_arena_destroy(&d->arena);
	memset(d, 0, sizeof(*d));
}

struct rd_rule_def *rd_rule_defs_add(struct rd_rule_defs *d)
{
	if (d->nrules == d->caprules) {
		size_t cap = d->caprules ? d->caprules * 2 : 64;
		struct rd_rule_def *n = rd_mem_realloc(d->rules, cap * sizeof(*n));
		if (!n)
			return NULL;
		d->rules = n;
		d->caprules = cap;
	}
	struct rd_rule_def *r = &d->rules[d->nrules++];
	memset(r, 0, sizeof(*r));
	r->secret_group = RD_GROUP_AUTO;
	r->prefix_max = RD_PREFIX_AUTO;
	return r;
}

struct rd_allowlist_def *rd_rule_defs_add_global(struct rd_rule_defs *d)
{
	if (d->nglobal == d->capglobal) {
		size_t cap = d->capglobal ? d->capglobal * 2 : 8;
		struct rd_allowlist_def *n = rd_mem_realloc(d->global_allowlists, cap * sizeof(*n));
		if (!n)
			return NULL;
		d->global_allowlists = n;
		d->capglobal = cap;
	}
	struct rd_allowlist_def *a = &d->global_allowlists[d->nglobal++];
	memset(a, 0, sizeof(*a));
	return a;
}

/* ---- YAML walking ---- */

struct load {
	struct rd_rule_defs *defs;
	yaml_document_t doc;
	const char *file;
	const char *rule_id; /* current rule, for messages */
	char *err;
	size_t errsize;
	const char *family;
	unsigned family_flags;
};

__attribute__((format(printf, 3, 4))) static int fail(struct load *l, yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line = n ? (int)n->start_mark.line + 1 : 0;
	if (l->rule_id)
		snprintf(l->err, l->errsize, "%s:%d: rule '%s': %s", l->file, line, l->rule_id, msg);
	else
		snprintf(l->err, l->errsize, "%s:%d: %s", l->file, line, msg);
	return REDACT_ERROR_RULES;
}

static yaml_node_t *node(struct load *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

static int scalar(struct load *l, yaml_node_t *n, const char *what, const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return fail(l, n, "%s must be a string", what);
	*out = rd_arena_memdup(&l->defs->arena, n->data.scalar.value, n->data.scalar.length);
	if (!*out)
		return REDACT_ERROR_NOMEM;
	if (strlen(*out) != n->data.scalar.length)
		return fail(l, n, "%s contains a NUL byte", what);
	return 0;
}

static int integer(struct load *l, yaml_node_t *n, const char *what, long lo, long hi, int *out)
{
	const char *s = NULL;
	int rc = scalar(l, n, what, &s);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return fail(l, n, "%s must be an integer from %ld to %ld, not '%s'", what, lo, hi, s);
	*out = (int)v;
	return 0;
}

static int number(struct load *l, yaml_node_t *n, const char *what, double lo, double hi, double *out)
{
	const char *s = NULL;
	int rc = scalar(l, n, what, &s);
	if (rc)
		return rc;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return fail(l, n, "%s must be a number from %g to %g, not '%s'", what, lo, hi, s);
	*out = v;
	return 0;
}

/* A list of strings; a single scalar is accepted as a list of one. */
static int string_list(struct load *l, yaml_node_t *n, const char *what, const char *const **out, size_t *count)
{
	if (n && n->type == YAML_SCALAR_NODE) {
		const char **arr = rd_arena_alloc(&l->defs->arena, sizeof(char *));
		if (!arr)
			return REDACT_ERROR_NOMEM;
		int rc = scalar(l, n, what, &arr[0]);
		if (rc)
			return rc;
		*out = arr;
		*count = 1;
		return 0;
	}
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return fail(l, n, "%s must be a list of strings", what);
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	const char **arr = rd_arena_alloc(&l->defs->arena, (cnt ? cnt : 1) * sizeof(char *));
	if (!arr)
		return REDACT_ERROR_NOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, n->data.sequence.items.start[i]);
		int rc = scalar(l, it, what, &arr[i]);
		if (rc)
			return rc;
	}
	*out = arr;
	*count = cnt;
	return 0;
}

/* Iterates over the key/value pairs of a mapping node. */
#define FOR_EACH_PAIR(l, map, K, V)                                                                   \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start; p_ < (map)->data.mapping.pairs.top; \
	     p_++)                                                                                    \
		for (yaml_node_t *K = node(l, p_->key), *V = node(l, p_->value); K; K = NULL)

static int key_is(yaml_node_t *k, const char *name)
{
	return k->type == YAML_SCALAR_NODE && strlen(name) == k->data.scalar.length &&
	       memcmp(k->data.scalar.value, name, k->data.scalar.length) == 0;
}

static const char *key_name(yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
}

static int allowlist(struct load *l, yaml_node_t *n, struct rd_allowlist_def *a)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return fail(l, n, "an allowlist must be a mapping (regexes, stopwords, target, condition)");
	int rc = 0;
	FOR_EACH_PAIR(l, n, k, v)
	{
		if (key_is(k, "description")) {
			rc = scalar(l, v, "allowlist description", &a->description);
		} else if (key_is(k, "regexes")) {
			rc = string_list(l, v, "allowlist regexes", &a->regexes, &a->nregexes);
		} else if (key_is(k, "stopwords")) {
			rc = string_list(l, v, "allowlist stopwords", &a->stopwords, &a->nstopwords);
		} else if (key_is(k, "target")) {
			const char *t = NULL;
			rc = scalar(l, v, "allowlist target", &t);
			if (!rc) {
				if (!strcmp(t, "secret"))
					a->target = RD_TARGET_SECRET;
				else if (!strcmp(t, "match"))
					a->target = RD_TARGET_MATCH;
				else if (!strcmp(t, "line"))
					a->target = RD_TARGET_LINE;
				else
					rc = fail(l, v, "allowlist target must be secret, match or line, not '%s'", t);
			}
		} else if (key_is(k, "condition")) {
			const char *t = NULL;
			rc = scalar(l, v, "allowlist condition", &t);
			if (!rc) {
				if (!strcasecmp(t, "or"))
					a->condition_and = 0;
				else if (!strcasecmp(t, "and"))
					a->condition_and = 1;
				else
					rc = fail(l, v, "allowlist condition must be or/and, not '%s'", t);
			}
		} else {
			rc = fail(l, k, "unknown allowlist key '%s'", key_name(k));
		}
		if (rc)
			return rc;
	}
	if (!a->nregexes && !a->nstopwords)
		return fail(l, n, "an allowlist needs regexes or stopwords");
	return 0;
}

static int allowlists(struct load *l, yaml_node_t *n, struct rd_allowlist_def **out, size_t *count)
{
	size_t cnt = 1;
	if (n && n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	struct rd_allowlist_def *arr = rd_arena_alloc(&l->defs->arena, (cnt ? cnt : 1) * sizeof(*arr));
	if (!arr)
		return REDACT_ERROR_NOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = n && n->type == YAML_SEQUENCE_NODE ? node(l, n->data.sequence.items.start[i]) : n;
		int rc = allowlist(l, it, &arr[i]);
		if (rc)
			return rc;
	}
	*out = arr;
	*count = cnt;
	return 0;
}

static int examples(struct load *l, yaml_node_t *n, int want_secret, struct rd_example_def **out, size_t *count)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return fail(l, n, "examples must be a list");
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	struct rd_example_def *arr = rd_arena_alloc(&l->defs->arena, (cnt ? cnt : 1) * sizeof(*arr));
	if (!arr)
		return REDACT_ERROR_NOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, n->data.sequence.items.start[i]);
		arr[i].line = (int)it->start_mark.line + 1;
		int rc;
		if (it->type == YAML_MAPPING_NODE && want_secret) {
			rc = 0;
			FOR_EACH_PAIR(l, it, k, v)
			{
				if (key_is(k, "text"))
					rc = scalar(l, v, "example text", &arr[i].text);
				else if (key_is(k, "secret"))
					rc = scalar(l, v, "example secret", &arr[i].secret);
				else
					rc = fail(l, k, "unknown example key '%s' (text, secret)", key_name(k));
				if (rc)
					return rc;
			}
			if (!arr[i].text)
				return fail(l, it, "example needs 'text'");
			if (arr[i].secret && !strstr(arr[i].text, arr[i].secret))
				return fail(l, it, "example secret is not a substring of its text");
		} else {
			rc = scalar(l, it, "example", &arr[i].text);
			if (rc)
				return rc;
		}
	}
	*out = arr;
	*count = cnt;
	return 0;
}

static int rule(struct load *l, yaml_node_t *n)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return fail(l, n, "each rule must be a mapping");
	struct rd_rule_def *r = rd_rule_defs_add(l->defs);
	if (!r)
		return REDACT_ERROR_NOMEM;
	r->file = l->file;
	r->line = (int)n->start_mark.line + 1;
	r->family = l->family;
	r->flags = l->family_flags;
	l->rule_id = NULL;
	/* Read the id first so that every later message can name the rule. */
	FOR_EACH_PAIR(l, n, k, v)
	{
		if (key_is(k, "id")) {
			int rc = scalar(l, v, "id", &r->id);
			if (rc)
				return rc;
			l->rule_id = r->id;
		}
	}
	if (!r->id)
		return fail(l, n, "rule has no 'id'");
	int rc = 0;
	FOR_EACH_PAIR(l, n, k, v)
	{
		if (key_is(k, "id")) {
			rc = 0;
		} else if (key_is(k, "description")) {
			rc = scalar(l, v, "description", &r->description);
		} else if (key_is(k, "regex")) {
			rc = scalar(l, v, "regex", &r->regex);
		} else if (key_is(k, "keywords")) {
			rc = string_list(l, v, "keywords", &r->keywords, &r->nkeywords);
		} else if (key_is(k, "secret_group")) {
			rc = integer(l, v, "secret_group", 0, 99, &r->secret_group);
		} else if (key_is(k, "entropy")) {
			rc = number(l, v, "entropy", 0.0, 8.0, &r->entropy);
		} else if (key_is(k, "prefix_max")) {
			rc = integer(l, v, "prefix_max", 0, 4096, &r->prefix_max);
		} else if (key_is(k, "allowlist") || key_is(k, "allowlists")) {
			struct rd_allowlist_def *a;
			size_t cnt;
			rc = allowlists(l, v, &a, &cnt);
			if (!rc) {
				if (r->nallowlists) {
					rc = fail(l, k, "give either 'allowlist' or 'allowlists', once");
				} else {
					r->allowlists = a;
					r->nallowlists = cnt;
				}
			}
		} else if (key_is(k, "examples")) {
			if (!v || v->type != YAML_MAPPING_NODE) {
				rc = fail(l, v, "examples must be a mapping with 'mask' and 'keep' lists");
			} else {
				FOR_EACH_PAIR(l, v, ek, ev)
				{
					if (key_is(ek, "mask"))
						rc = examples(l, ev, 1, (struct rd_example_def **)&r->mask_examples,
							      &r->nmask_examples);
					else if (key_is(ek, "keep"))
						rc = examples(l, ev, 0, (struct rd_example_def **)&r->keep_examples,
							      &r->nkeep_examples);
					else
						rc = fail(l, ek, "unknown examples key '%s' (mask, keep)", key_name(ek));
					if (rc)
						break;
				}
			}
		} else if (key_is(k, "tags") || key_is(k, "references")) {
			const char *const *ignored = NULL;
			size_t cnt;
			rc = string_list(l, v, key_name(k), &ignored, &cnt);
		} else {
			rc = fail(l, k, "unknown rule key '%s'", key_name(k));
		}
		if (rc)
			return rc;
	}
	if (!r->description)
		return fail(l, n, "rule has no 'description'");
	if (!r->regex)
		return fail(l, n, "rule has no 'regex'");
	if (!r->nkeywords)
		return fail(l, n, "rule has no 'keywords' (every rule needs at least one literal keyword)");
	return 0;
}

static int document(struct load *l)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	if (!root)
		return 0; /* empty file: no rules */
	if (root->type != YAML_MAPPING_NODE)
		return fail(l, root, "a rule file must be a mapping with 'family' and 'rules'");
	int rc = 0;
	yaml_node_t *rules = NULL;
	FOR_EACH_PAIR(l, root, k, v)
	{
		if (key_is(k, "family")) {
			rc = scalar(l, v, "family", &l->family);
		} else if (key_is(k, "description") || key_is(k, "title")) {
			const char *ignored = NULL;
			rc = scalar(l, v, key_name(k), &ignored);
		} else if (key_is(k, "default")) {
			const char *s = NULL;
			rc = scalar(l, v, "default", &s);
			if (!rc) {
				if (!strcmp(s, "on"))
					l->family_flags &= ~(unsigned)RD_RULE_OPT_IN;
				else if (!strcmp(s, "off"))
					l->family_flags |= RD_RULE_OPT_IN;
				else
					rc = fail(l, v, "default must be 'on' or 'off', not '%s'", s);
			}
		} else if (key_is(k, "global_allowlist") || key_is(k, "global_allowlists")) {
			struct rd_allowlist_def *a;
			size_t cnt;
			rc = allowlists(l, v, &a, &cnt);
			for (size_t i = 0; !rc && i < cnt; i++) {
				struct rd_allowlist_def *g = rd_rule_defs_add_global(l->defs);
				if (!g)
					return REDACT_ERROR_NOMEM;
				*g = a[i];
			}
		} else if (key_is(k, "rules")) {
			rules = v;
		} else {
			rc = fail(l, k, "unknown top-level key '%s' (family, description, default, global_allowlist, rules)",
				  key_name(k));
		}
		if (rc)
			return rc;
	}
	if (!rules)
		return l->defs->nglobal ? 0 : fail(l, root, "no 'rules' list");
	if (!l->family)
		return fail(l, root, "no 'family' (the name used to enable or disable this file's rules)");
	if (rules->type != YAML_SEQUENCE_NODE)
		return fail(l, rules, "'rules' must be a list");
	for (yaml_node_item_t *it = rules->data.sequence.items.start; it < rules->data.sequence.items.top; it++) {
		rc = rule(l, node(l, *it));
		if (rc)
			return rc;
	}
	return 0;
}

int rd_rules_load_string(struct rd_rule_defs *d, const char *name, const char *text, size_t len, char *err,
			 size_t errsize)
{
	struct load l = {.defs = d, .err = err, .errsize = errsize};
	l.file = rd_arena_strdup(&d->arena, name);
	if (!l.file)
		return REDACT_ERROR_NOMEM;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return REDACT_ERROR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc;
	if (!yaml_parser_load(&parser, &l.doc)) {
		if (parser.context)
			snprintf(err, errsize, "%s:%d: YAML error: %s %s (started at line %d)", name,
				 (int)parser.problem_mark.line + 1, parser.problem ? parser.problem : "syntax error",
				 parser.context, (int)parser.context_mark.line + 1);
		else
			snprintf(err, errsize, "%s:%d: YAML error: %s", name, (int)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return REDACT_ERROR_RULES;
	}
	size_t before = d->nrules;
	rc = document(&l);
	yaml_document_delete(&l.doc);
	/* Only one document per file: a second one is almost always a mistake. */
	if (!rc) {
		yaml_document_t extra;
		l.rule_id = NULL;
		if (yaml_parser_load(&parser, &extra)) {
			if (yaml_document_get_root_node(&extra))
				rc = fail(&l, yaml_document_get_root_node(&extra),
					  "more than one YAML document in a rule file");
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&parser);
	if (rc)
		d->nrules = before;
	return rc;
}

static int load_file(struct rd_rule_defs *d, const char *path, char *err, size_t errsize)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
		return REDACT_ERROR_IO;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20)) {
				free(buf);
				fclose(f);
				snprintf(err, errsize, "%s: rule file larger than 64 MiB", path);
				return REDACT_ERROR_RULES;
			}
			char *n = realloc(buf, cap);
			if (!n) {
				free(buf);
				fclose(f);
				return REDACT_ERROR_NOMEM;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int ioerr = ferror(f);
	fclose(f);
	if (ioerr) {
		free(buf);
		snprintf(err, errsize, "%s: read error", path);
		return REDACT_ERROR_IO;
	}
	int rc = rd_rules_load_string(d, path, buf, len, err, errsize);
	free(buf);
	return rc;
}

static int is_rule_file(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.') /* hidden files, and Kubernetes' ..data / ..2024_* entries */
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rd_rules_load_path(struct rd_rule_defs *d, const char *path, char *err, size_t errsize)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return REDACT_ERROR_IO;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(d, path, err, errsize);
	DIR *dir = opendir(path);
	if (!dir) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return REDACT_ERROR_IO;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!is_rule_file(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				rc = REDACT_ERROR_NOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = REDACT_ERROR_NOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (!rc)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (!rc) {
			size_t plen = strlen(path) + strlen(names[i]) + 2;
			char *full = malloc(plen);
			if (!full) {
				rc = REDACT_ERROR_NOMEM;
			} else {
				snprintf(full, plen, "%s/%s", path, names[i]);
				rc = load_file(d, full, err, errsize);
				free(full);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}
