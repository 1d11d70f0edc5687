/* Rendering a redacted chunk: merges overlapping and adjacent secret spans
 * and writes stars (length-preserving, the default), labels, or the block
 * notice.  Spans whose rule is UINT32_MAX continue a secret whose label (or
 * notice) was already written in an earlier chunk of the stream. */
#include "rd_context.h"

#include <string.h>

#define NOTICE_HEAD "[libredact: output withheld: it contained a secret ("
#define NOTICE_TAIL ")]\n"
#define LABEL_HEAD "[REDACTED:"
#define LABEL_TAIL "]"

struct merged {
	size_t a, b;
	uint32_t rule;
};


static int next_merged(const struct rd_span *s, size_t n, size_t *i, size_t from, size_t to, struct merged *m)
{
	while (*i < n) {
		size_t a = s[*i].start, b = s[*i].end;
		uint32_t rule = s[*i].rule;
		int continued = rule == UINT32_MAX;
		(*i)++;
		while (*i < n && s[*i].start <= b) {
			if (s[*i].end > b)
				b = s[*i].end;
			if (s[*i].rule == UINT32_MAX && s[*i].start == a)
				continued = 1;
			(*i)++;
		}
		if (b <= from || a >= to)
			continue;
		/* A span that began before this chunk continues an earlier label. */
		m->rule = (a < from || continued) ? UINT32_MAX : rule;
		m->a = a < from ? from : a;
		m->b = b > to ? to : b;
		return 1;
	}
	return 0;
}

static const char *rule_id(const struct rd_ruleset *rs, uint32_t rule)
{
	return rule < rs->nrules ? rs->rules[rule].def->id : "secret";
}

static int intersects(const struct rd_span *s, size_t n, size_t from, size_t to, uint32_t *first_rule)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].end > from && s[i].start < to) {
			*first_rule = s[i].rule;
			return 1;
		}
	}
	return 0;
}

size_t rd_render_size(const struct rd_ruleset *rs, int mode, int style, const struct rd_span *spans, size_t n,
		      size_t from, size_t to)
{
	if (mode == RD_MODE_LOG_ONLY || !n)
		return to - from;
	uint32_t r;
	if (mode == RD_MODE_BLOCK) {
		if (!intersects(spans, n, from, to, &r))
			return to - from;
		return sizeof(NOTICE_HEAD) - 1 + strlen(rule_id(rs, r)) + sizeof(NOTICE_TAIL) - 1;
	}
	if (style == RD_MASK_STARS)
		return to - from;
	size_t size = to - from;
	struct merged m;
	size_t i = 0;
	while (next_merged(spans, n, &i, from, to, &m)) {
		size -= m.b - m.a;
		if (m.rule != UINT32_MAX)
			size += sizeof(LABEL_HEAD) - 1 + strlen(rule_id(rs, m.rule)) + sizeof(LABEL_TAIL) - 1;
	}
	return size;
}

size_t rd_render(const struct rd_ruleset *rs, int mode, int style, const uint8_t *buf, size_t from, size_t to,
		 const struct rd_span *spans, size_t n, uint8_t *out)
{
	if (mode == RD_MODE_LOG_ONLY || !n) {
		memcpy(out, buf + from, to - from);
		return to - from;
	}
	uint32_t r;
	if (mode == RD_MODE_BLOCK) {
		if (!intersects(spans, n, from, to, &r)) {
			memcpy(out, buf + from, to - from);
			return to - from;
		}
		const char *id = rule_id(rs, r);
		size_t o = 0;
		memcpy(out + o, NOTICE_HEAD, sizeof(NOTICE_HEAD) - 1);
		o += sizeof(NOTICE_HEAD) - 1;
		memcpy(out + o, id, strlen(id));
		o += strlen(id);
		memcpy(out + o, NOTICE_TAIL, sizeof(NOTICE_TAIL) - 1);
		return o + sizeof(NOTICE_TAIL) - 1;
	}
	struct merged m;
	size_t i = 0;
	if (style == RD_MASK_STARS) {
		memcpy(out, buf + from, to - from);
		while (next_merged(spans, n, &i, from, to, &m))
			memset(out + (m.a - from), '*', m.b - m.a);
		return to - from;
	}
	size_t o = 0, at = from;
	while (next_merged(spans, n, &i, from, to, &m)) {
		memcpy(out + o, buf + at, m.a - at);
		o += m.a - at;
		if (m.rule != UINT32_MAX) {
			const char *id = rule_id(rs, m.rule);
			memcpy(out + o, LABEL_HEAD, sizeof(LABEL_HEAD) - 1);
			o += sizeof(LABEL_HEAD) - 1;
			memcpy(out + o, id, strlen(id));
			o += strlen(id);
			memcpy(out + o, LABEL_TAIL, sizeof(LABEL_TAIL) - 1);
			o += sizeof(LABEL_TAIL) - 1;
		}
		at = m.b;
	}
	memcpy(out + o, buf + at, to - at);
	return o + (to - at);
}
