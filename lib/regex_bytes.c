/* Which bytes a regex's match can consume, decided from its text.
 *
 * At the end of a write that stops mid-line, the engine looks for matches in
 * progress (rd_engine_scan, scan_in_progress).  Every byte from the start of
 * such a match to the end of the write was consumed by the match (or looked
 * at by a lookahead inside it), so:
 *  - a rule that can never match '\n' cannot have a match in progress that
 *    began before the last newline of the write;
 *  - more generally, a match in progress lies inside the longest suffix of
 *    the write made only of bytes the rule can consume; when the last byte is
 *    not one of them, the rule has no match in progress at all.
 * The answer must never leave a byte out: every construct that is not
 * understood makes the set hold all bytes.  Lookbehinds are skipped (they
 * only look before the position where they stand, at bytes a match in
 * progress has already passed or that precede it); lookaheads are not.
 * Letters are always added in both cases, so (?i) needs no tracking. */
#include "rd_hex.h"
#include "rd_rule.h"

#include <string.h>

typedef uint64_t byteset[4];

static void add(byteset s, unsigned c)
{
	s[(c >> 6) & 3] |= 1ull << (c & 63);
}

static void add_range(byteset s, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi && c < 256; c++)
		add(s, c);
}

static void add_all(byteset s)
{
	memset(s, 0xff, sizeof(byteset));
}

static int has(const byteset s, unsigned c)
{
	return (int)((s[(c >> 6) & 3] >> (c & 63)) & 1);
}

static void merge(byteset to, const byteset from, int negated)
{
	for (int k = 0; k < 4; k++)
		to[k] |= negated ? ~from[k] : from[k];
}

/* The ASCII classes of PCRE2's default (C locale) tables, without UCP. */
static void class_digit(byteset s) { add_range(s, '0', '9'); }
static void class_word(byteset s)
{
	add_range(s, '0', '9');
	add_range(s, 'A', 'Z');
	add_range(s, 'a', 'z');
	add(s, '_');
}
static void class_space(byteset s)
{
	add_range(s, '\t', '\r');
	add(s, ' ');
}
static void class_hspace(byteset s)
{
	add(s, '\t');
	add(s, ' ');
	add(s, 0xa0);
}
static void class_vspace(byteset s)
{
	add_range(s, '\n', '\r');
	add(s, 0x85);
}

/* The escape at re[*i] (just after the backslash): its bytes go into s.
 * Returns the code point when it stands for one character, -1 otherwise (a
 * class, an assertion such as \b, or not understood, then *unsure = 1).
 * *i is moved past the escape.  in_class: inside [...], where \b is a
 * backspace. */
static long escape(const char *re, size_t *i, byteset s, int *unsure, int in_class)
{
	char c = re[*i];
	byteset t = {0};
	if (!c) {
		*unsure = 1; /* a trailing backslash */
		return -1;
	}
	(*i)++;
	switch (c) {
	case 'n': add(s, '\n'); return '\n';
	case 't': add(s, '\t'); return '\t';
	case 'r': add(s, '\r'); return '\r';
	case 'f': add(s, '\f'); return '\f';
	case 'e': add(s, 27); return 27;
	case 'a': add(s, 7); return 7;
	case 'd': class_digit(s); return -1;
	case 'w': class_word(s); return -1;
	case 's': class_space(s); return -1;
	case 'h': class_hspace(s); return -1;
	case 'v': class_vspace(s); return -1;
	case 'D': class_digit(t); merge(s, t, 1); return -1;
	case 'W': class_word(t); merge(s, t, 1); return -1;
	case 'S': class_space(t); merge(s, t, 1); return -1;
	case 'H': class_hspace(t); merge(s, t, 1); return -1;
	case 'V': class_vspace(t); merge(s, t, 1); return -1;
	case 'R': class_vspace(s); return -1;
	case 'X': case 'C':
		add_all(s);
		return -1;
	case 'b':
		if (in_class) {
			add(s, 8);
			return 8;
		}
		return -1; /* a word boundary: consumes nothing */
	case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return -1; /* assertions */
	case 'p': case 'P':
		*unsure = 1; /* Unicode properties: not decided */
		if (re[*i] == '{') {
			const char *e = strchr(re + *i, '}');
			*i = e ? (size_t)(e - re) + 1 : strlen(re);
		} else if (re[*i]) {
			(*i)++;
		}
		return -1;
	case 'x': {
		long v = 0;
		if (re[*i] == '{') {
			(*i)++;
			while (rd_hexval((unsigned char)re[*i]) >= 0)
				v = v * 16 + rd_hexval((unsigned char)re[(*i)++]);
			if (re[*i] == '}')
				(*i)++;
		} else {
			for (int k = 0; k < 2 && rd_hexval((unsigned char)re[*i]) >= 0; k++)
				v = v * 16 + rd_hexval((unsigned char)re[(*i)++]);
		}
		if (v > 255)
			*unsure = 1;
		else
			add(s, (unsigned)v);
		return v;
	}
	case 'c':
		if (re[*i]) {
			char x = re[(*i)++];
			if (x >= 'a' && x <= 'z')
				x = (char)(x - 32);
			add(s, (unsigned char)(x ^ 0x40));
			return x ^ 0x40;
		}
		*unsure = 1;
		return -1;
	default:
		if (c >= '1' && c <= '9' && !(re[*i] >= '0' && re[*i] <= '9'))
			return -1; /* \1..\9: a back reference repeats text already consumed */
		if (c >= '0' && c <= '9') {
			*unsure = 1; /* octal, or a back reference */
			while (re[*i] >= '0' && re[*i] <= '9')
				(*i)++;
			return -1;
		}
		if (c == 'N' && re[*i] != '{') {
			add_all(t);
			t[0] &= ~(1ull << '\n');
			merge(s, t, 0);
			return -1; /* \N: any byte but a newline */
		}
		if (c == 'o' || c == 'N' || c == 'g' || c == 'k') {
			/* \o{12} and \N{U+000A} are not decided; \g{1} and \k<n>
			 * (back references) repeat text already consumed. */
			if (c == 'o' || c == 'N')
				*unsure = 1;
			if (re[*i] == '{' || re[*i] == '<' || re[*i] == '\'') {
				char close = re[*i] == '{' ? '}' : re[*i] == '<' ? '>' : '\'';
				const char *e = strchr(re + *i + 1, close);
				*i = e ? (size_t)(e - re) + 1 : strlen(re);
			}
			return -1;
		}
		add(s, (unsigned char)c); /* an escaped literal: \. \- \/ ... */
		return (unsigned char)c;
	}
}

static const struct {
	const char *name;
	void (*fill)(byteset);
} posix_classes[] = {
	{"digit", class_digit}, {"word", class_word}, {"space", class_space}, {"blank", class_hspace},
};

/* A POSIX class name inside [...] (re[at] is the first byte of the name). */
static int posix_class(const char *name, size_t n, byteset s)
{
	for (size_t k = 0; k < sizeof(posix_classes) / sizeof(posix_classes[0]); k++)
		if (strlen(posix_classes[k].name) == n && !strncmp(name, posix_classes[k].name, n)) {
			posix_classes[k].fill(s);
			return 0;
		}
	if (n == 5 && !strncmp(name, "alpha", 5)) {
		add_range(s, 'A', 'Z');
		add_range(s, 'a', 'z');
	} else if (n == 5 && !strncmp(name, "alnum", 5)) {
		add_range(s, 'A', 'Z');
		add_range(s, 'a', 'z');
		add_range(s, '0', '9');
	} else if (n == 5 && (!strncmp(name, "upper", 5) || !strncmp(name, "lower", 5))) {
		add_range(s, 'A', 'Z'); /* both: caseless matching turns one into the other */
		add_range(s, 'a', 'z');
	} else if (n == 6 && !strncmp(name, "xdigit", 6)) {
		add_range(s, '0', '9');
		add_range(s, 'A', 'F');
		add_range(s, 'a', 'f');
	} else if ((n == 5 && !strncmp(name, "punct", 5)) || (n == 5 && !strncmp(name, "graph", 5)) ||
		   (n == 5 && !strncmp(name, "print", 5))) {
		add_range(s, n == 5 && !strncmp(name, "print", 5) ? ' ' : '!', '~');
	} else if (n == 5 && !strncmp(name, "cntrl", 5)) {
		add_range(s, 0, 31);
		add(s, 127);
	} else if (n == 5 && !strncmp(name, "ascii", 5)) {
		add_range(s, 0, 127);
	} else {
		return -1;
	}
	return 0;
}

/* A character class; re[*i] is just after '['.  Its bytes go into s. */
static void char_class(const char *re, size_t *i, byteset s, int *unsure)
{
	int negated = 0, doubt = 0;
	byteset c = {0};
	if (re[*i] == '^') {
		negated = 1;
		(*i)++;
	}
	int first = 1;
	while (re[*i] && (re[*i] != ']' || first)) {
		first = 0;
		long v;
		if (re[*i] == '[' && re[*i + 1] == ':') {
			const char *e = strstr(re + *i, ":]");
			if (!e) {
				*unsure = 1;
				return;
			}
			const char *name = re + *i + 2;
			int neg = name[0] == '^';
			byteset t = {0};
			if (posix_class(name + neg, (size_t)(e - (name + neg)), t))
				doubt = 1;
			merge(c, t, neg);
			*i = (size_t)(e - re) + 2;
			v = -1;
		} else if (re[*i] == '\\') {
			(*i)++;
			v = escape(re, i, c, &doubt, 1);
		} else {
			v = (unsigned char)re[(*i)++];
			add(c, (unsigned)v);
		}
		if (v >= 0 && re[*i] == '-' && re[*i + 1] && re[*i + 1] != ']') {
			/* a range v-w */
			(*i)++;
			long w;
			byteset t = {0};
			if (re[*i] == '\\') {
				(*i)++;
				w = escape(re, i, t, &doubt, 1);
			} else {
				w = (unsigned char)re[(*i)++];
			}
			if (w < 0 || w > 255 || w < v)
				doubt = 1;
			else
				add_range(c, (unsigned)v, (unsigned)w);
		}
	}
	if (re[*i] == ']')
		(*i)++;
	else
		doubt = 1; /* unterminated */
	if (doubt) {
		*unsure = 1;
		return;
	}
	/* caseless matching applies to classes too */
	for (unsigned ch = 'a'; ch <= 'z'; ch++)
		if (has(c, ch) || has(c, ch - 32)) {
			if (!negated) {
				add(c, ch);
				add(c, ch - 32);
			}
		}
	if (negated) {
		/* [^a] is caseless [^aA]: complementing the exact class and then
		 * adding both cases of every letter left keeps a superset. */
		byteset t = {0};
		merge(t, c, 1);
		for (unsigned ch = 'a'; ch <= 'z'; ch++)
			if (has(t, ch) || has(t, ch - 32)) {
				add(t, ch);
				add(t, ch - 32);
			}
		merge(s, t, 0);
	} else {
		merge(s, c, 0);
	}
}

/* The index just past the class that opens at re[i] ('['). */
static size_t skip_class(const char *re, size_t i)
{
	byteset t = {0};
	int unsure = 0;
	i++;
	char_class(re, &i, t, &unsure);
	return i;
}

/* The index just past the ')' closing the group that opens at re[open];
 * 0 when it is not closed. */
static size_t group_end(const char *re, size_t open)
{
	int depth = 0;
	size_t i = open;
	while (re[i]) {
		if (re[i] == '\\') {
			if (!re[i + 1])
				return 0;
			if (re[i + 1] == 'Q') {
				const char *e = strstr(re + i + 2, "\\E");
				if (!e)
					return 0;
				i = (size_t)(e - re) + 2;
			} else {
				i += 2;
			}
		} else if (re[i] == '[') {
			i = skip_class(re, i);
		} else if (re[i] == '(') {
			depth++;
			i++;
		} else if (re[i] == ')') {
			i++;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return 0;
}

int rd_regex_match_bytes(const char *regex, uint64_t set[4])
{
	memset(set, 0, sizeof(byteset));
	if (!regex) {
		add_all(set);
		return -1;
	}
	/* Flag groups: dot-all makes '.' take '\n'; extended mode (comments,
	 * ignored whitespace) is not analysed. */
	int dotall = 0;
	for (const char *p = regex; (p = strstr(p, "(?")) != NULL; p += 2) {
		const char *q = p + 2;
		while (*q && *q != ')' && *q != ':' && *q != '-') {
			if (*q == 'x') {
				add_all(set);
				return -1;
			}
			if (*q == 's')
				dotall = 1;
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '^'))
				break; /* (?=, (?<, (?# ... : not a flag group */
			q++;
		}
	}
	if (strstr(regex, "(*")) { /* verbs, e.g. a newline convention */
		add_all(set);
		return -1;
	}
	int unsure = 0;
	size_t i = 0;
	while (regex[i] && !unsure) {
		char c = regex[i];
		if (c == '\\') {
			i++;
			if (regex[i] == 'Q') {
				const char *e = strstr(regex + i, "\\E");
				size_t end = e ? (size_t)(e - regex) : strlen(regex);
				for (size_t k = i + 1; k < end; k++)
					add(set, (unsigned char)regex[k]);
				i = e ? end + 2 : end;
				continue;
			}
			(void)escape(regex, &i, set, &unsure, 0);
		} else if (c == '[') {
			i++;
			char_class(regex, &i, set, &unsure);
		} else if (c == '.') {
			byteset t;
			add_all(t);
			if (!dotall)
				t[0] &= ~(1ull << '\n');
			merge(set, t, 0);
			i++;
		} else if (c == '(' && regex[i + 1] == '?' && regex[i + 2] == '<' &&
			   (regex[i + 3] == '=' || regex[i + 3] == '!')) {
			size_t end = group_end(regex, i);
			if (!end)
				unsure = 1;
			i = end;
		} else if (c == '(' && regex[i + 1] == '?' && regex[i + 2] == '#') {
			const char *e = strchr(regex + i, ')');
			if (!e)
				unsure = 1;
			i = e ? (size_t)(e - regex) + 1 : strlen(regex);
		} else if (c == '(' || c == ')' || c == '|' || c == '*' || c == '+' || c == '?' || c == '^' ||
			   c == '$') {
			i++; /* syntax that consumes nothing */
		} else {
			/* A literal (also the bytes of quantifiers and group
			 * syntax such as "{2,5}" or "?:": a superset is safe). */
			add(set, (unsigned char)c);
			i++;
		}
	}
	if (unsure) {
		add_all(set);
		return -1;
	}
	for (unsigned ch = 'a'; ch <= 'z'; ch++)
		if (has(set, ch) || has(set, ch - 32)) {
			add(set, ch);
			add(set, ch - 32);
		}
	return 0;
}

int rd_regex_may_match_newline(const char *regex)
{
	uint64_t set[4];
	return rd_regex_match_bytes(regex, set) != 0 || has(set, '\n');
}

/* ---- matches in progress before their keyword ----
 *
 * The engine looks for matches in progress at the end of a write only for
 * matches whose keyword has not arrived yet: a match whose keyword is in
 * the buffer is evaluated at the keyword's hit (with partial matching), and
 * a keyword cut by the end of the write is held back.  So what matters is
 * what such a match consumed BEFORE its keyword.  Rules that pair a host
 * with a key have the form  host-part keyword more (?=[\s\S]{0,300}?key):
 * their trailing lookahead takes every byte, newlines too, but it is only
 * reached after the keyword.  A top-level branch that ends in lookaheads,
 * and whose every match consumes one of the keywords before them
 * (sequence_consumes), is analysed without those lookaheads. */

/* Whether every match of the sequence re[b..e) (no top-level '|')
 * consumes one of the keywords: a keyword appears, case-insensitively, in
 * the text the sequence must match literally (literals, escaped
 * punctuation, \Q..\E, and the content of unquantified groups without
 * alternatives, which continue the text), or an unquantified group all of
 * whose alternatives consume one.  Anything optional, repeated, a class, an
 * assertion or a lookaround breaks the literal text.  A "no" is always
 * safe. */
#define SEP '\001'

struct lit {
	char text[1024];
	size_t n;
	int found;
};

static void lit_add(struct lit *l, char c)
{
	if (l->n + 1 < sizeof(l->text))
		l->text[l->n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static int quantifier_at(const char *re, size_t i, int *optional)
{
	char q = re[i];
	*optional = q == '?' || q == '*' || (q == '{' && re[i + 1] == '0') || (q == '{' && re[i + 1] == ',');
	return q == '?' || q == '*' || q == '+' || (q == '{' && re[i + 1] >= '0' && re[i + 1] <= '9') ||
	       (q == '{' && re[i + 1] == ',');
}

static size_t skip_quantifier(const char *re, size_t i)
{
	if (re[i] == '{') {
		const char *e = strchr(re + i, '}');
		i = e ? (size_t)(e - re) + 1 : strlen(re);
	} else {
		i++;
	}
	if (re[i] == '?' || re[i] == '+') /* lazy or possessive */
		i++;
	return i;
}

static int alternatives_consume(const char *re, size_t b, size_t e, const char *const *kw, size_t nkw);

static void walk_literal(const char *re, size_t b, size_t e, struct lit *l, const char *const *kw, size_t nkw)
{
	size_t i = b;
	while (i < e) {
		char c = re[i];
		int opt;
		if (c == '\\') {
			char d = re[i + 1];
			if (d == 'Q') {
				const char *q = strstr(re + i + 2, "\\E");
				size_t end = q && (size_t)(q - re) < e ? (size_t)(q - re) : e;
				for (size_t k = i + 2; k < end; k++)
					lit_add(l, re[k]);
				i = end < e ? end + 2 : e;
				continue;
			}
			if (d && !((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9'))) {
				i += 2;
				if (quantifier_at(re, i, &opt)) {
					lit_add(l, SEP);
					i = skip_quantifier(re, i);
				} else {
					lit_add(l, d);
				}
				continue;
			}
			byteset t = {0};
			int u = 0;
			i++;
			(void)escape(re, &i, t, &u, 0);
			lit_add(l, SEP);
			if (quantifier_at(re, i, &opt))
				i = skip_quantifier(re, i);
			continue;
		}
		if (c == '[') {
			i = skip_class(re, i);
			lit_add(l, SEP);
			if (quantifier_at(re, i, &opt))
				i = skip_quantifier(re, i);
			continue;
		}
		if (c == '(') {
			size_t end = group_end(re, i);
			if (!end || end > e) {
				lit_add(l, SEP);
				return;
			}
			size_t cb = i + 1, ce = end - 1; /* content */
			int look = re[cb] == '?' && (re[cb + 1] == '=' || re[cb + 1] == '!' ||
						     (re[cb + 1] == '<' && (re[cb + 2] == '=' || re[cb + 2] == '!')));
			int quant = quantifier_at(re, end, &opt);
			if (re[cb] == '?' && !look) {
				/* (?:  (?i:  (?<name>  (?P<name>  (?'name'  or a flag group (?i) */
				size_t k = cb + 1;
				if (re[k] == 'P')
					k++;
				if (re[k] == '<' || re[k] == '\'') {
					char close = re[k] == '<' ? '>' : '\'';
					while (k < ce && re[k] != close)
						k++;
					cb = k + 1;
				} else {
					while (k < ce && re[k] != ':' && re[k] != ')')
						k++;
					cb = k < ce ? k + 1 : ce; /* (?i) has no content */
				}
			}
			i = quant ? skip_quantifier(re, end) : end;
			if (look || (quant && opt)) {
				lit_add(l, SEP);
				continue;
			}
			/* top-level alternatives of the content? */
			int depth = 0, alt = 0;
			for (size_t k = cb; k < ce; k++) {
				if (re[k] == '\\') {
					k++;
					continue;
				}
				if (re[k] == '[') {
					k = skip_class(re, k) - 1;
					continue;
				}
				if (re[k] == '(')
					depth++;
				else if (re[k] == ')')
					depth--;
				else if (re[k] == '|' && depth == 0)
					alt = 1;
			}
			if (alt || quant) {
				/* consumed at least once: it counts if it consumes a keyword */
				if (alternatives_consume(re, cb, ce, kw, nkw))
					l->found = 1;
				lit_add(l, SEP);
			} else {
				walk_literal(re, cb, ce, l, kw, nkw); /* the text continues */
			}
			continue;
		}
		if (c == '.' || c == '^' || c == '$' || c == '|' || c == ')') {
			lit_add(l, SEP);
			i++;
			continue;
		}
		if (quantifier_at(re, i + 1, &opt)) {
			lit_add(l, SEP); /* the character is optional or repeated */
			i = skip_quantifier(re, i + 1);
			continue;
		}
		lit_add(l, c);
		i++;
	}
}

static int sequence_consumes(const char *re, size_t b, size_t e, const char *const *kw, size_t nkw)
{
	struct lit l;
	l.n = 0;
	l.found = 0;
	walk_literal(re, b, e, &l, kw, nkw);
	l.text[l.n] = 0;
	if (l.found)
		return 1;
	for (size_t k = 0; k < nkw; k++) {
		char low[256];
		size_t n = strlen(kw[k]);
		if (!n || n >= sizeof(low))
			continue;
		for (size_t j = 0; j <= n; j++)
			low[j] = (char)(kw[k][j] >= 'A' && kw[k][j] <= 'Z' ? kw[k][j] + 32 : kw[k][j]);
		if (strstr(l.text, low))
			return 1;
	}
	return 0;
}

/* Every top-level alternative of re[b..e) consumes a keyword. */
static int alternatives_consume(const char *re, size_t b, size_t e, const char *const *kw, size_t nkw)
{
	int depth = 0;
	size_t start = b;
	for (size_t k = b; k <= e; k++) {
		if (k < e && re[k] == '\\') {
			k++;
			continue;
		}
		if (k < e && re[k] == '[') {
			k = skip_class(re, k) - 1;
			continue;
		}
		if (k < e && re[k] == '(')
			depth++;
		else if (k < e && re[k] == ')')
			depth--;
		else if (k == e || (re[k] == '|' && depth == 0)) {
			if (!sequence_consumes(re, start, k, kw, nkw))
				return 0;
			start = k + 1;
		}
	}
	return 1;
}

/* Bytes of re[b..e) as a regex of its own; dotall carried over. */
static int sub_bytes(const char *re, size_t b, size_t e, int dotall, byteset out)
{
	char buf[4096];
	size_t pre = dotall ? 4 : 0;
	if (e - b + pre + 1 > sizeof(buf)) {
		add_all(out);
		return -1;
	}
	memcpy(buf, "(?s)", pre);
	memcpy(buf + pre, re + b, e - b);
	buf[pre + e - b] = 0;
	byteset t;
	int rc = rd_regex_match_bytes(buf, t);
	merge(out, t, 0);
	return rc;
}

int rd_regex_progress_bytes(const char *regex, const char *const *keywords, size_t nkeywords, uint64_t set[4])
{
	memset(set, 0, sizeof(byteset));
	byteset whole;
	if (rd_regex_match_bytes(regex, whole) != 0) {
		add_all(set);
		return -1;
	}
	int dotall = 0;
	for (const char *p = regex; (p = strstr(p, "(?")) != NULL; p += 2)
		for (const char *q = p + 2; *q >= 'a' && *q <= 'z'; q++)
			if (*q == 's')
				dotall = 1;
	/* Top-level branches, and the start of the trailing lookaheads of each. */
	size_t len = strlen(regex), b = 0, i = 0, cut = SIZE_MAX;
	int depth = 0;
	while (i <= len) {
		char c = regex[i];
		if (i == len || (c == '|' && depth == 0)) {
			size_t e = cut != SIZE_MAX ? cut : i;
			if (cut != SIZE_MAX && !sequence_consumes(regex, b, cut, keywords, nkeywords))
				e = i; /* the keyword may be in the lookahead: keep it */
			if (sub_bytes(regex, b, e, dotall, set) != 0) {
				add_all(set);
				return -1;
			}
			b = i + 1;
			cut = SIZE_MAX;
			i++;
			continue;
		}
		if (c == '\\') {
			if (regex[i + 1] == 'Q') {
				const char *q = strstr(regex + i + 2, "\\E");
				i = q ? (size_t)(q - regex) + 2 : len;
			} else {
				i += regex[i + 1] ? 2 : 1;
			}
			cut = SIZE_MAX;
			continue;
		}
		if (c == '[') {
			i = skip_class(regex, i);
			cut = SIZE_MAX;
			continue;
		}
		if (c == '(' && depth == 0) {
			int ahead = regex[i + 1] == '?' && (regex[i + 2] == '=' || regex[i + 2] == '!');
			size_t end = group_end(regex, i);
			if (!end) {
				add_all(set);
				return -1;
			}
			if (ahead) {
				if (cut == SIZE_MAX)
					cut = i; /* a lookahead run starts here */
			} else {
				cut = SIZE_MAX;
			}
			i = end;
			/* a quantifier after a group makes it not a plain assertion */
			if (regex[i] == '?' || regex[i] == '*' || regex[i] == '+' || regex[i] == '{')
				cut = SIZE_MAX;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		else
			cut = SIZE_MAX;
		i++;
	}
	return 0;
}
