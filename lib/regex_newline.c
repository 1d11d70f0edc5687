/* Whether a regex can match a newline, decided from its text.
 *
 * At the end of a write that stops mid-line, the engine looks for matches in
 * progress (rd_engine_scan).  A rule that can never match '\n' cannot have a
 * match in progress that began before the last newline of the write, so its
 * search starts there instead of a whole window back.  The answer must never
 * be a wrong "no": every construct that is not understood answers "yes". */
#include "rd_hex.h"
#include "rd_rule.h"

#include <string.h>

enum { NO = 0, YES = 1, UNSURE = 2 };


/* The code point of the escape at re[*i] (just after the backslash) when it
 * stands for one character; -1 for a class of characters (\d, \s, ...),
 * with *contains_nl telling whether that class holds '\n'.  *i is moved past
 * the escape. */
static long escape(const char *re, size_t *i, int *contains_nl)
{
	char c = re[*i];
	*contains_nl = NO;
	if (!c) {
		*contains_nl = UNSURE; /* a trailing backslash: not understood */
		return -1;
	}
	(*i)++;
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'e': return 27;
	case 'a': return 7;
	case 'd': case 'w': case 'h': case 'S': case 'V':
		return -1; /* classes without '\n' */
	case 's': case 'v': case 'W': case 'D': case 'H': case 'R': case 'X': case 'C':
		*contains_nl = YES;
		return -1;
	case 'p': case 'P':
		*contains_nl = UNSURE; /* \P{L} holds '\n', \p{L} does not */
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
			return v;
		}
		for (int k = 0; k < 2 && rd_hexval((unsigned char)re[*i]) >= 0; k++)
			v = v * 16 + rd_hexval((unsigned char)re[(*i)++]);
		return v;
	}
	case 'c':
		if (re[*i]) {
			char x = re[(*i)++];
			if (x >= 'a' && x <= 'z')
				x = (char)(x - 32);
			return x ^ 0x40;
		}
		return -1;
	default:
		if (c >= '1' && c <= '9' && !(re[*i] >= '0' && re[*i] <= '9'))
			return -1; /* \1..\9: a back reference, which repeats text
				      examined where it was captured */
		if (c >= '0' && c <= '9') {
			*contains_nl = UNSURE; /* octal, or a back reference */
			while (re[*i] >= '0' && re[*i] <= '9')
				(*i)++;
			return -1;
		}
		if (c == 'N' && re[*i] != '{')
			return -1; /* \N: any character but a newline */
		if (c == 'o' || c == 'N' || c == 'g' || c == 'k') {
			/* \o{12} and \N{U+000A} may be a newline; \g{1} and \k<n>
			 * (back references) repeat captured text, which is examined
			 * where it was captured. */
			*contains_nl = (c == 'o' || c == 'N') ? UNSURE : NO;
			if (re[*i] == '{' || re[*i] == '<' || re[*i] == '\'') {
				char close = re[*i] == '{' ? '}' : re[*i] == '<' ? '>' : '\'';
				const char *e = strchr(re + *i + 1, close);
				*i = e ? (size_t)(e - re) + 1 : strlen(re);
			}
			return -1;
		}
		return (unsigned char)c; /* an escaped literal: \. \- \/ ... */
	}
}

/* A character class; re[*i] is just after '['.  Returns whether the class
 * can match '\n'. */
static int char_class(const char *re, size_t *i)
{
	int negated = 0, contains = NO;
	if (re[*i] == '^') {
		negated = 1;
		(*i)++;
	}
	long prev = -1; /* the last single character, for ranges */
	int first = 1;
	while (re[*i] && (re[*i] != ']' || first)) {
		first = 0;
		long v;
		int cnl = NO;
		if (re[*i] == '[' && re[*i + 1] == ':') {
			const char *e = strstr(re + *i, ":]");
			if (!e)
				return YES;
			size_t n = (size_t)(e - (re + *i + 2));
			const char *name = re + *i + 2;
			static const char *const without_nl[] = {"alpha", "alnum", "digit", "upper", "lower", "punct",
								 "xdigit", "word", "graph", "print", "blank"};
			cnl = YES;
			for (size_t k = 0; k < sizeof(without_nl) / sizeof(without_nl[0]); k++)
				if (strlen(without_nl[k]) == n && !strncmp(name, without_nl[k], n))
					cnl = NO;
			if (name[0] == '^')
				cnl = YES;
			*i = (size_t)(e - re) + 2;
			v = -1;
		} else if (re[*i] == '\\') {
			(*i)++;
			if (re[*i] == 'b') { /* backspace inside a class */
				(*i)++;
				v = 8;
			} else {
				v = escape(re, i, &cnl);
			}
		} else {
			v = (unsigned char)re[(*i)++];
		}
		if (v == '\n')
			cnl = YES;
		if (v >= 0 && re[*i] == '-' && re[*i + 1] && re[*i + 1] != ']') {
			/* a range v-w */
			(*i)++;
			long w;
			int wnl = NO;
			if (re[*i] == '\\') {
				(*i)++;
				w = escape(re, i, &wnl);
			} else {
				w = (unsigned char)re[(*i)++];
			}
			if (w < 0)
				cnl = UNSURE;
			else if (v <= '\n' && '\n' <= w)
				cnl = YES;
		}
		prev = v;
		if (cnl == YES || (cnl == UNSURE && contains != YES))
			contains = cnl;
	}
	(void)prev;
	if (re[*i] == ']')
		(*i)++;
	else
		return YES; /* unterminated: not understood */
	if (negated)
		return contains == YES ? NO : YES;
	return contains == NO ? NO : YES;
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
			i++;
			(void)char_class(re, &i); /* only moves past the class */
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

int rd_regex_may_match_newline(const char *regex)
{
	if (!regex)
		return 1;
	/* Constructs that change what '.' or whitespace mean, or start
	 * verbs that change the newline convention: not analysed. */
	for (const char *p = regex; (p = strstr(p, "(?")) != NULL; p += 2) {
		const char *q = p + 2;
		while (*q && *q != ')' && *q != ':' && *q != '-') {
			if (*q == 's' || *q == 'x')
				return 1; /* dot-all, or extended (comments, ignored whitespace) */
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '^'))
				break; /* (?=, (?<, (?# ... : not a flag group */
			q++;
		}
	}
	if (strstr(regex, "(*"))
		return 1;
	size_t i = 0;
	while (regex[i]) {
		char c = regex[i];
		if (c == '\\') {
			i++;
			if (regex[i] == 'Q') {
				const char *e = strstr(regex + i, "\\E");
				size_t end = e ? (size_t)(e - regex) : strlen(regex);
				if (memchr(regex + i, '\n', end - i))
					return 1;
				i = e ? end + 2 : end;
				continue;
			}
			int cnl;
			long v = escape(regex, &i, &cnl);
			if (v == '\n' || cnl != NO)
				return 1;
		} else if (c == '[') {
			i++;
			if (char_class(regex, &i))
				return 1;
		} else if (c == '\n') {
			return 1;
		} else if (c == '(' && regex[i + 1] == '?' && regex[i + 2] == '<' &&
			   (regex[i + 3] == '=' || regex[i + 3] == '!')) {
			/* A lookbehind only examines text before the current
			 * position, never text a match in progress would reach
			 * at the end of a write: skipped.  (Lookaheads are not:
			 * they look past the end of the match.) */
			size_t end = group_end(regex, i);
			if (!end)
				return 1;
			i = end;
		} else if (c == '(' && regex[i + 1] == '?' && regex[i + 2] == '#') {
			const char *e = strchr(regex + i, ')');
			if (!e)
				return 1;
			i = (size_t)(e - regex) + 1;
		} else {
			i++; /* '.' without dot-all, literals, groups, quantifiers, anchors */
		}
	}
	return 0;
}
