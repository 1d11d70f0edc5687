/* Static checks on rule definitions: ids, keywords, and two regex analyses
 * that need no compilation (keyword anchoring, pathological prefixes). */
#include "rd_rule.h"
#include "redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 63 || !isalnum((unsigned char)id[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

static int cmp_rule_ptr(const void *a, const void *b)
{
	const struct rd_rule_def *x = *(const struct rd_rule_def *const *)a;
	const struct rd_rule_def *y = *(const struct rd_rule_def *const *)b;
	return strcmp(x->id, y->id);
}

int rd_rules_validate(const struct rd_rule_defs *d, char *err, size_t errsize)
{
	for (size_t i = 0; i < d->nrules; i++) {
		const struct rd_rule_def *r = &d->rules[i];
		const char *f = r->file ? r->file : "<built-in>";
		if (!valid_id(r->id)) {
			snprintf(err, errsize, "%s:%d: rule '%s': id must be 1-63 characters of [A-Za-z0-9._-]",
				 f, r->line, r->id);
			return REDACT_ERROR_RULES;
		}
		if (!(r->flags & RD_RULE_LITERAL) && (!r->regex || !r->regex[0])) {
			snprintf(err, errsize, "%s:%d: rule '%s': empty regex", f, r->line, r->id);
			return REDACT_ERROR_RULES;
		}
		for (size_t k = 0; k < r->nkeywords; k++) {
			size_t kl = strlen(r->keywords[k]);
			if (kl < 2 || kl > 255) {
				snprintf(err, errsize,
					 "%s:%d: rule '%s': keyword '%s' must be 2 to 255 bytes long", f, r->line,
					 r->id, r->keywords[k]);
				return REDACT_ERROR_RULES;
			}
		}
	}
	if (d->nrules < 2)
		return 0;
	const struct rd_rule_def **sorted = malloc(d->nrules * sizeof(*sorted));
	if (!sorted)
		return REDACT_ERROR_NOMEM;
	for (size_t i = 0; i < d->nrules; i++)
		sorted[i] = &d->rules[i];
	qsort(sorted, d->nrules, sizeof(*sorted), cmp_rule_ptr);
	int rc = 0;
	for (size_t i = 1; i < d->nrules; i++) {
		if (!strcmp(sorted[i]->id, sorted[i - 1]->id)) {
			const struct rd_rule_def *a = sorted[i - 1], *b = sorted[i];
			if (a->file && b->file && (strcmp(a->file, b->file) > 0 ||
						   (!strcmp(a->file, b->file) && a->line > b->line))) {
				const struct rd_rule_def *t = a;
				a = b;
				b = t;
			}
			snprintf(err, errsize, "%s:%d: rule '%s': duplicate id (first defined at %s:%d)",
				 b->file ? b->file : "<built-in>", b->line, b->id, a->file ? a->file : "<built-in>",
				 a->line);
			rc = REDACT_ERROR_RULES;
			break;
		}
	}
	free(sorted);
	return rc;
}

/* ---- keyword anchoring analysis ----
 *
 * We compute the set of literal strings every match must begin with, by
 * walking the leading atoms of the regex: literal characters extend the
 * strings, groups multiply them by their alternatives, zero-width items
 * (\b, ^, lookarounds, option settings) are skipped, and anything else (a
 * class, a quantified atom, .) closes them.  If every string begins with a
 * keyword (case-insensitively), every match begins at a keyword occurrence,
 * and the regex can be compiled PCRE2_ANCHORED and run only at keyword hits.
 * The walk is conservative: whatever it does not understand yields "no". */

#define MAXSTR 64
#define MAXSET 64

struct strset {
	int n;
	char s[MAXSET][MAXSTR];
	int len[MAXSET];
	int open[MAXSET];
	int failed;
};

static int any_open(const struct strset *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->open[i])
			return 1;
	return 0;
}

static void close_all(struct strset *s)
{
	for (int i = 0; i < s->n; i++)
		s->open[i] = 0;
}

static void append_char(struct strset *s, char c)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->open[i])
			continue;
		if (s->len[i] >= MAXSTR - 1) {
			s->open[i] = 0;
			continue;
		}
		s->s[i][s->len[i]++] = c;
	}
}

/* Index just past the group that starts at re[i] == '(' (handles nesting,
 * escapes and classes), or -1. */
static int group_end(const char *re, int i, int end)
{
	int depth = 0;
	for (; i < end; i++) {
		char c = re[i];
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '[') {
			i++;
			if (i < end && re[i] == '^')
				i++;
			if (i < end && re[i] == ']')
				i++;
			while (i < end && re[i] != ']') {
				if (re[i] == '\\')
					i++;
				i++;
			}
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return i + 1;
	}
	return -1;
}

/* Parses a quantifier at re[*i]; returns its minimum (0 or 1+), or -1 when
 * there is none.  Advances *i past it (and a lazy/possessive suffix). */
static int quantifier(const char *re, int *i, int end)
{
	int j = *i;
	if (j >= end)
		return -1;
	int min;
	if (re[j] == '?' || re[j] == '*') {
		min = 0;
		j++;
	} else if (re[j] == '+') {
		min = 1;
		j++;
	} else if (re[j] == '{' && j + 1 < end && isdigit((unsigned char)re[j + 1])) {
		min = 0;
		int k = j + 1;
		while (k < end && isdigit((unsigned char)re[k]))
			min = min * 10 + (re[k++] - '0');
		if (k < end && re[k] == ',')
			k++;
		while (k < end && isdigit((unsigned char)re[k]))
			k++;
		if (k >= end || re[k] != '}')
			return -1; /* a literal '{' */
		j = k + 1;
	} else {
		return -1;
	}
	if (j < end && (re[j] == '?' || re[j] == '+'))
		j++;
	*i = j;
	return min > 0 ? 1 : 0;
}

/* "c?" : every open string continues both with and without c. */
static void fork_optional(struct strset *s, char c)
{
	int n = s->n;
	for (int i = 0; i < n; i++) {
		if (!s->open[i])
			continue;
		if (s->n >= MAXSET || s->len[i] >= MAXSTR - 1) {
			s->failed = 1;
			return;
		}
		memcpy(s->s[s->n], s->s[i], MAXSTR);
		s->len[s->n] = s->len[i];
		s->open[s->n] = 1;
		s->n++;
		s->s[i][s->len[i]++] = c;
	}
}

static int literal_escape(char c, char *out);

/* A small class of literal characters, such as [_-] or [Aa]: its members
 * (at most 8) in out, or -1 if it is anything else (a range, a negation,
 * an escape class).  *i is moved past the class. */
static int small_class(const char *re, int *i, int end, char *out)
{
	int j = *i + 1, n = 0;
	if (j < end && re[j] == '^')
		return -1;
	while (j < end && re[j] != ']') {
		char c = re[j];
		if (c == '\\') {
			if (j + 1 >= end || !literal_escape(re[j + 1], &c) || re[j + 1] == 'x')
				return -1;
			j++;
		} else if (c == '[' || (c == '-' && j + 1 < end && re[j + 1] != ']' && n > 0)) {
			return -1; /* POSIX class or a range */
		}
		if (n == 8)
			return -1;
		out[n++] = c;
		j++;
	}
	if (j >= end || n == 0)
		return -1;
	*i = j + 1;
	return n;
}

/* Every open string continues with each member of a class (and, when the
 * class is optional, also without it). */
static void fork_class(struct strset *s, const char *members, int nmembers, int optional)
{
	int n = s->n;
	for (int i = 0; i < n; i++) {
		if (!s->open[i])
			continue;
		for (int m = optional ? 0 : 1; m < nmembers; m++) {
			if (s->n >= MAXSET || s->len[i] >= MAXSTR - 1) {
				s->failed = 1;
				return;
			}
			memcpy(s->s[s->n], s->s[i], MAXSTR);
			s->len[s->n] = s->len[i];
			s->open[s->n] = 1;
			s->s[s->n][s->len[s->n]++] = members[m];
			s->n++;
		}
		if (!optional) {
			if (s->len[i] >= MAXSTR - 1) {
				s->failed = 1;
				return;
			}
			s->s[i][s->len[i]++] = members[0];
		}
	}
}

static void walk(const char *re, int start, int end, struct strset *s);

/* Splits re[start..end) at top-level '|' and walks each alternative from the
 * current set; the result is the union. */
static void walk_alternatives(const char *re, int start, int end, struct strset *s)
{
	/* Closed strings are final; only the open ones grow by an alternative. */
	struct strset base = {0}, result = {0};
	for (int k = 0; k < s->n; k++) {
		struct strset *dst = s->open[k] ? &base : &result;
		memcpy(dst->s[dst->n], s->s[k], MAXSTR);
		dst->len[dst->n] = s->len[k];
		dst->open[dst->n] = s->open[k];
		dst->n++;
	}
	int a = start;
	for (int i = start;; i++) {
		if (i < end && re[i] == '\\') {
			i++;
			continue;
		}
		if (i < end && re[i] == '[') {
			/* skip a class */
			int j = i + 1;
			if (j < end && re[j] == '^')
				j++;
			if (j < end && re[j] == ']')
				j++;
			while (j < end && re[j] != ']') {
				if (re[j] == '\\')
					j++;
				j++;
			}
			i = j;
			continue;
		}
		if (i < end && re[i] == '(') {
			int g = group_end(re, i, end);
			if (g < 0) {
				s->failed = 1;
				return;
			}
			i = g - 1;
			continue;
		}
		if (i >= end || re[i] == '|') {
			struct strset alt = base;
			walk(re, a, i, &alt);
			if (alt.failed) {
				s->failed = 1;
				return;
			}
			for (int k = 0; k < alt.n; k++) {
				if (result.n >= MAXSET) {
					s->failed = 1;
					return;
				}
				memcpy(result.s[result.n], alt.s[k], MAXSTR);
				result.len[result.n] = alt.len[k];
				result.open[result.n] = alt.open[k];
				result.n++;
			}
			a = i + 1;
			if (i >= end)
				break;
		}
	}
	*s = result;
}

static int literal_escape(char c, char *out)
{
	switch (c) {
	case 'n': *out = '\n'; return 1;
	case 't': *out = '\t'; return 1;
	case 'r': *out = '\r'; return 1;
	case 'f': *out = '\f'; return 1;
	case 'e': *out = 27; return 1;
	}
	if (!isalnum((unsigned char)c)) {
		*out = c;
		return 1;
	}
	return 0;
}

static void walk(const char *re, int i, int end, struct strset *s)
{
	while (i < end && any_open(s) && !s->failed) {
		char c = re[i];
		if (c == '^') {
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= end) {
				s->failed = 1;
				return;
			}
			char e = re[i + 1];
			if (e == 'b' || e == 'B' || e == 'A' || e == 'G') {
				i += 2;
				continue;
			}
			char lit;
			int next = i + 2;
			if (e == 'x' && i + 3 < end && isxdigit((unsigned char)re[i + 2]) &&
			    isxdigit((unsigned char)re[i + 3])) {
				char hex[3] = {re[i + 2], re[i + 3], 0};
				lit = (char)strtol(hex, NULL, 16);
				next = i + 4;
			} else if (!literal_escape(e, &lit)) {
				close_all(s); /* \d, \w, \s, \Q, ... */
				return;
			}
			int q = next;
			if (re[q] == '?' && q + 1 < end && re[q + 1] != '?' && re[q + 1] != '+') {
				fork_optional(s, lit);
				i = q + 1;
				continue;
			}
			int min = quantifier(re, &q, end);
			if (min == 0) {
				close_all(s);
				return;
			}
			append_char(s, lit);
			if (min == 1) {
				close_all(s);
				return;
			}
			i = next;
			continue;
		}
		if (c == '(') {
			int g = group_end(re, i, end);
			if (g < 0) {
				s->failed = 1;
				return;
			}
			int body = i + 1;
			if (re[body] == '?') {
				char k = body + 1 < end ? re[body + 1] : 0;
				if (k == '=' || k == '!') { /* lookahead: zero width */
					i = g;
					continue;
				}
				if (k == '<' && body + 2 < end && (re[body + 2] == '=' || re[body + 2] == '!')) {
					i = g; /* lookbehind */
					continue;
				}
				/* option setting (?i) or group (?i: ... ) (?: ) (?| ) (?> ) (?<name> ) */
				int j = body + 1;
				while (j < g - 1 && (isalpha((unsigned char)re[j]) || re[j] == '-' || re[j] == '^')) {
					if (re[j] == 'x') {
						s->failed = 1; /* extended syntax: whitespace is not literal */
						return;
					}
					j++;
				}
				if (re[j] == ')') { /* (?i) */
					i = j + 1;
					continue;
				}
				if (re[j] == ':' || re[j] == '|' || re[j] == '>') {
					body = j + 1;
				} else if (re[j] == '<' || re[j] == '\'') { /* (?<name> (?P<name> (?'name' */
					char close = re[j] == '\'' ? '\'' : '>';
					j++;
					while (j < g && re[j] != close)
						j++;
					body = j + 1;
				} else {
					s->failed = 1;
					return;
				}
			}
			int q = g;
			int min = quantifier(re, &q, end);
			if (min == 0) {
				close_all(s);
				return;
			}
			walk_alternatives(re, body, g - 1, s);
			if (min == 1) {
				close_all(s);
				return;
			}
			i = g;
			continue;
		}
		if (c == '[') {
			char members[8];
			int q = i;
			int nm = small_class(re, &q, end, members);
			if (nm < 0) {
				close_all(s);
				return;
			}
			if (re[q] == '?' && q + 1 < end && re[q + 1] != '?' && re[q + 1] != '+') {
				fork_class(s, members, nm, 1);
				i = q + 1;
				continue;
			}
			int q2 = q;
			int min = quantifier(re, &q2, end);
			if (min == 0) {
				close_all(s);
				return;
			}
			fork_class(s, members, nm, 0);
			if (min == 1) {
				close_all(s);
				return;
			}
			i = q;
			continue;
		}
		if (c == '.' || c == '$' || c == '|' || c == ')' || c == '*' || c == '+' || c == '?' || c == '{') {
			close_all(s);
			return;
		}
		int q = i + 1;
		if (re[q] == '?' && q + 1 < end && re[q + 1] != '?' && re[q + 1] != '+') {
			fork_optional(s, c); /* a single optional literal */
			i = q + 1;
			continue;
		}
		int min = quantifier(re, &q, end);
		if (min == 0) {
			close_all(s);
			return;
		}
		append_char(s, c);
		if (min == 1) {
			close_all(s);
			return;
		}
		i++;
	}
	if (i >= end)
		return; /* strings remain open at the end of this part */
}

/* The literal strings every match of the regex begins with, into *s;
 * 0 when they cannot be determined. */
static int leading_literals(const char *regex, struct strset *s)
{
	memset(s, 0, sizeof(*s));
	s->n = 1;
	s->open[0] = 1;
	walk_alternatives(regex, 0, (int)strlen(regex), s);
	return !s->failed && s->n > 0;
}

int rd_regex_starts_with_keyword(const char *regex, const char *const *keywords, size_t nkeywords)
{
	if (!regex || !nkeywords)
		return 0;
	struct strset s;
	if (!leading_literals(regex, &s))
		return 0;
	for (int i = 0; i < s.n; i++) {
		int ok = 0;
		for (size_t k = 0; k < nkeywords && !ok; k++) {
			size_t kl = strlen(keywords[k]);
			if ((size_t)s.len[i] >= kl && !strncasecmp(s.s[i], keywords[k], kl))
				ok = 1;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

size_t rd_regex_literal_leads(rd_arena *a, const char *regex, const char ***out)
{
	*out = NULL;
	if (!regex)
		return 0;
	struct strset s;
	if (!leading_literals(regex, &s))
		return 0;
	for (int i = 0; i < s.n; i++)
		if (s.len[i] < 2)
			return 0; /* a match may start with almost anything: no lead */
	const char **leads = rd_arena_alloc(a, (size_t)s.n * sizeof(char *));
	if (!leads)
		return 0;
	for (int i = 0; i < s.n; i++) {
		leads[i] = rd_arena_memdup(a, s.s[i], (size_t)s.len[i]);
		if (!leads[i])
			return 0;
	}
	*out = leads;
	return (size_t)s.n;
}

/* ---- pathological prefixes ---- */

/* Length of "[\w.-]{0,N}?" (or "[\w-.]", "[\w.\-]") at p, or 0. */
static size_t lazy_word_prefix(const char *p)
{
	static const char *const classes[] = {"[\\w.-]", "[\\w-.]", "[\\w.\\-]", "[\\w\\-.]"};
	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		size_t cl = strlen(classes[c]);
		if (strncmp(p, classes[c], cl))
			continue;
		const char *q = p + cl;
		if (strncmp(q, "{0,", 3))
			return 0;
		q += 3;
		if (!isdigit((unsigned char)*q))
			return 0;
		while (isdigit((unsigned char)*q))
			q++;
		if (q[0] != '}' || q[1] != '?')
			return 0;
		return (size_t)(q + 2 - p);
	}
	return 0;
}

char *rd_regex_strip_lazy_prefix(rd_arena *a, const char *regex)
{
	size_t n = strlen(regex);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0, i = 0, stripped = 0;
	/* Leading option settings such as (?i) are kept. */
	while (regex[i] == '(' && regex[i + 1] == '?') {
		size_t j = i + 2;
		while (isalpha((unsigned char)regex[j]) || regex[j] == '-')
			j++;
		if (regex[j] != ')')
			break;
		memcpy(out + o, regex + i, j + 1 - i);
		o += j + 1 - i;
		i = j + 1;
	}
	size_t l = lazy_word_prefix(regex + i);
	if (l) {
		i += l;
		stripped++;
	}
	/* gitleaks doubles it: "(?i:[\w.-]{0,50}?(?:..." */
	if (!strncmp(regex + i, "(?i:", 4) && (l = lazy_word_prefix(regex + i + 4))) {
		memcpy(out + o, "(?i:", 4);
		o += 4;
		i += 4 + l;
		stripped++;
	}
	if (!stripped) {
		free(out);
		return NULL;
	}
	memcpy(out + o, regex + i, n - i + 1);
	char *r = rd_arena_strdup(a, out);
	free(out);
	return r;
}
