/* Streams: redaction across consecutive writes.
 *
 * A stream keeps a buffer [context | pending]: `context` is the tail of what
 * was already emitted (so lookbehinds and matches that start before a
 * keyword still see it), `pending` the bytes held back because they could
 * still become part of a secret: the start of a PCRE2 hard-partial match
 * (pcre2partial(3)), or a suffix that is a prefix of a keyword.  Masks
 * already decided for pending bytes travel with them (`carry`), because the
 * keyword that found them may be in the emitted part and is not scanned
 * again.  Pending never exceeds REDACT_HOLDBACK_MAX: older bytes are released,
 * masked if they belong to a partial match (nothing leaks; field notes
 * section 2 on why per-write matching misses split secrets).
 *
 * Processing is in two steps so that a hook can report exactly what a
 * short write(2) would have: rd_stream_process decides and renders,
 * rd_stream_commit applies the decision for the part of the output that
 * was actually written.
 *
 * The fast path (nothing pending, no keyword that needs context) scans the
 * caller's buffer in place and emits it without a copy. */
#include "rd_context.h"
#include "redact.h"

#include <stddef.h>
#include <string.h>

void rd_stream_init(struct rd_stream *st)
{
	memset(st, 0, offsetof(struct rd_stream, small));
	st->buf = st->small;
	st->cap = sizeof(st->small);
}

void rd_stream_destroy(struct rd_stream *st)
{
	if (st->buf != st->small)
		rd_mem_free(st->buf);
	rd_stream_init(st);
}

/* Bytes of emitted text kept as context: enough for the widest window. */
#define RD_CONTEXT_KEEP 256

static int reserve(struct rd_stream *st, size_t need)
{
	if (need <= st->cap)
		return 0;
	size_t cap = st->cap > 4096 ? st->cap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *p;
	if (st->buf == st->small) {
		p = rd_mem_alloc(cap);
		if (p)
			memcpy(p, st->small, st->ctx_len + st->pend_len);
	} else {
		p = rd_mem_realloc(st->buf, cap);
	}
	if (!p)
		return REDACT_ERROR_NOMEM;
	st->buf = p;
	st->cap = cap;
	return 0;
}

static const char *action_for(int mode)
{
	return mode == RD_MODE_BLOCK ? "blocked" : mode == RD_MODE_LOG_ONLY ? "logged" : "masked";
}

/* Counts and audits the secrets whose first byte is emitted now.  Spans of
 * several rules over the same bytes are one secret (one audit event, named
 * after the first rule); every matching rule's counter still counts. */
static int account(struct redact_context *cx, struct rd_ruleset *rs, const struct rd_stream *st,
		   const struct rd_span *spans, size_t n, size_t emit_from, size_t hold, const char *channel)
{
	int count = 0;
	size_t group_end = 0;
	int in_group = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rd_span *s = &spans[i];
		int new_group = !in_group || s->start > group_end;
		if (new_group) {
			group_end = s->end;
			in_group = 1;
		} else if (s->end > group_end) {
			group_end = s->end;
		}
		if (s->rule >= rs->nrules || s->start < emit_from || s->start >= hold)
			continue;
		struct rd_rule *r = &rs->rules[s->rule];
		struct rd_counter *counter = rd_rule_counter(rs, r);
		if (counter)
			atomic_fetch_add_explicit(&counter->matches, 1, memory_order_relaxed);
		if (!new_group)
			continue;
		count++;
		if (cx->cfg.audit_log[0] || cx->cfg.debug) {
			struct rd_audit_event ev = {
				.event = "detection",
				.rule = r->def->id,
				.channel = channel,
				.action = action_for(cx->cfg.mode),
				.offset = (int64_t)(st->offset + (s->start - emit_from)),
				.length = (int64_t)(s->end - s->start),
			};
			rd_audit(&cx->cfg, &ev);
		}
	}
	return count;
}

static void sort_spans(struct rd_span *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct rd_span x = s[i];
		size_t j = i;
		while (j > 0 && s[j - 1].start > x.start) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = x;
	}
}

/* A match outgrew the hold-back bound and its oldest bytes went out masked.
 * Its start is no longer in the buffer, so the keyword pass cannot find it
 * again.  The rule is matched on [kept head of the match | new bytes]: the
 * rules that grow that long have an unbounded middle (PEM blocks: BEGIN
 * [\s\S]*? END), which does not care about the gap.  A complete match
 * tells where the secret ends; a partial one masks everything and waits; no
 * match ends the state.  At a flush the state stays and the bytes are masked
 * (nothing leaks from an unterminated key block). */
static int continue_forced(struct rd_ruleset *rs, struct rd_stream *st, struct rd_scratch *sc, size_t emit_from,
			   size_t total, int final)
{
	if (st->forced_rule >= rs->nrules || st->carry_rs != rs) {
		st->forced = 0; /* the rule set changed under it */
		return 0;
	}
	struct rd_rule *r = &rs->rules[st->forced_rule];
	pcre2_code *code = rd_rule_code(rs, r);
	if (!code) {
		st->forced = 0;
		return 0;
	}
	size_t hl = st->forced_head_len, n = total - emit_from;
	uint8_t *syn = rd_mem_alloc(hl + n + 1);
	if (!syn)
		return REDACT_ERROR_NOMEM;
	memcpy(syn, st->forced_head, hl);
	memcpy(syn + hl, st->buf + emit_from, n);
	int m = rd_match(r, code, syn, hl + n, 0, final ? 0 : PCRE2_PARTIAL_HARD, sc, r->anchored ? PCRE2_UNSET : 0);
	rd_mem_free(syn);
	size_t end = total;
	if (m > 0) {
		size_t e = pcre2_get_ovector_pointer(sc->md)[1];
		end = e > hl ? emit_from + (e - hl) : emit_from;
		st->forced = 0;
	} else if (m == PCRE2_ERROR_NOMATCH && !final) {
		st->forced = 0;
		return 0;
	} else if (m != PCRE2_ERROR_PARTIAL && m != PCRE2_ERROR_NOMATCH) {
		st->forced = 0; /* a match limit: keep what was masked, stop here */
		return 0;
	}
	if (end > emit_from)
		return rd_span_push(sc, (struct rd_span){(uint32_t)emit_from, (uint32_t)end, UINT32_MAX});
	return 0;
}

/* Renders buf[emit_from, hold) with the spans in sc, counts and audits the
 * secrets, and stages the decision.  buf is the caller's data (in place)
 * or the stream buffer. */
static int finish(struct redact_context *cx, struct rd_ruleset *rs, struct rd_stream *st, struct rd_scratch *sc,
		  const uint8_t *buf, size_t emit_from, size_t hold, size_t total, int in_place, const uint8_t *data,
		  size_t n, int final, const char *channel, struct rd_out *out)
{
	if (sc->nspans > 1)
		sort_spans(sc->spans, sc->nspans);
	int mode = cx->cfg.mode, style = cx->cfg.mask;
	if (st->length_preserving) {
		style = RD_MASK_STARS;
		if (mode == RD_MODE_BLOCK)
			mode = RD_MODE_MASK;
	}
	int touches = 0;
	for (size_t i = 0; i < sc->nspans && !touches; i++)
		touches = sc->spans[i].end > emit_from && sc->spans[i].start < hold;
	if (!touches || mode == RD_MODE_LOG_ONLY) {
		/* Nothing changes in this output: no copy. */
		out->data = buf + emit_from;
		out->len = hold - emit_from;
	} else {
		size_t size = rd_render_size(rs, mode, style, sc->spans, sc->nspans, emit_from, hold);
		if (rd_scratch_out(sc, size + 1))
			return REDACT_ERROR_NOMEM;
		out->len = rd_render(rs, mode, style, buf, emit_from, hold, sc->spans, sc->nspans, sc->out);
		out->data = sc->out;
	}
	out->secrets = sc->nspans ? account(cx, rs, st, sc->spans, sc->nspans, emit_from, hold, channel) : 0;
	st->stage = (struct rd_stage){.active = 1, .in_place = in_place, .src = data, .n = n, .emit_from = emit_from,
				      .hold = hold, .total = total, .old_pend = st->pend_len, .final = final,
				      .length_preserving = out->len == hold - emit_from &&
							   (mode == RD_MODE_LOG_ONLY || style == RD_MASK_STARS || !touches),
				      .out_len = out->len};
	return 0;
}

/* Nothing pending: scan the caller's buffer where it is.  Returns 1 when
 * the general path must run (a match may depend on the context before the
 * data, or a match in progress is longer than the hold-back bound). */
static int fast_path(struct redact_context *cx, struct rd_ruleset *rs, struct rd_stream *st, struct rd_scratch *sc,
		     const uint8_t *data, size_t n, int final, const char *channel, struct rd_out *out)
{
	struct rd_scan_result res;
	unsigned flags = (final ? 0 : RD_SCAN_PARTIAL) | (st->ctx_len ? RD_SCAN_NO_BEFORE : 0);
	int rc = rd_engine_scan(rs, sc, data, n, 0, flags, &res);
	if (rc)
		return rc;
	if (res.need_context)
		return 1;
	size_t hold = final ? n : res.hold;
	if (n - hold > cx->cfg.holdback_max)
		return 1;
	return finish(cx, rs, st, sc, data, 0, hold, n, 1, data, n, final, channel, out);
}

int rd_stream_process(struct redact_context *cx, struct rd_stream *st, struct rd_scratch *sc, const uint8_t *data,
		      size_t n, int final, const char *channel, struct rd_out *out)
{
	out->data = NULL;
	out->len = 0;
	out->secrets = 0;
	st->stage.active = 0;
	if (n >= (1u << 30))
		return REDACT_ERROR_INVALID; /* 32-bit offsets: callers feed huge writes in parts */
	int rc = rd_context_ensure_rules(cx);
	if (rc)
		return rc;
	rd_context_read_lock();
	struct rd_ruleset *rs = rd_context_rules(cx);
	if (!rs) {
		rc = REDACT_ERROR_RULES;
		goto out;
	}
	if (st->carry_rs != rs) {
		/* A reload happened: carried rule indexes refer to the old set. */
		for (size_t i = 0; i < st->ncarry; i++)
			if (st->carry[i].rule < UINT32_MAX - 1)
				st->carry[i].rule = UINT32_MAX - 1;
		st->carry_rs = rs;
	}
	if (st->pend_len == 0 && st->ncarry == 0 && st->rescan == st->ctx_len && !st->forced) {
		rc = fast_path(cx, rs, st, sc, data, n, final, channel, out);
		if (rc <= 0)
			goto out;
	}

	/* General path: [context | pending | data] in the stream buffer. */
	size_t emit_from = st->ctx_len, total = st->ctx_len + st->pend_len + n;
	rc = reserve(st, total);
	if (rc)
		goto out;
	if (n)
		memcpy(st->buf + st->ctx_len + st->pend_len, data, n);
	struct rd_scan_result res;
	rc = rd_engine_scan(rs, sc, st->buf, total, st->rescan, final ? 0 : RD_SCAN_PARTIAL, &res);
	if (rc)
		goto out;
	size_t hold = final ? total : (res.hold > emit_from ? res.hold : emit_from);
	if (st->forced) {
		rc = continue_forced(rs, st, sc, emit_from, total, final);
		if (rc)
			goto out;
	}
	if (total - hold > cx->cfg.holdback_max) {
		/* The hold-back bound: release the oldest bytes, masked, since they
		 * belong to a match still in progress. */
		size_t forced = total - cx->cfg.holdback_max;
		rc = rd_span_push(sc, (struct rd_span){(uint32_t)hold, (uint32_t)forced,
						    res.hold_rule < rs->nrules ? res.hold_rule : UINT32_MAX - 1});
		if (rc)
			goto out;
		if (res.hold_rule < rs->nrules && !st->forced) {
			st->forced = 1;
			st->forced_rule = res.hold_rule;
			st->forced_head_len = forced - hold < sizeof(st->forced_head) ? forced - hold
										 : sizeof(st->forced_head);
			memcpy(st->forced_head, st->buf + hold, st->forced_head_len);
		}
		hold = forced;
	}
	for (size_t i = 0; i < st->ncarry; i++) {
		struct rd_span c = st->carry[i];
		c.start += (uint32_t)emit_from;
		c.end += (uint32_t)emit_from;
		rc = rd_span_push(sc, c);
		if (rc)
			goto out;
	}
	rc = finish(cx, rs, st, sc, st->buf, emit_from, hold, total, 0, data, n, final, channel, out);
out:
	rd_context_read_unlock();
	return rc < 0 ? rc : 0;
}

/* Masks reaching into [from, to) of the buffer become the carry, relative
 * to `from`; a mask that began before `from` continues (no second label).
 * only_straddling: just those (see the short-write case of commit). */
static void set_carry(struct rd_stream *st, const struct rd_scratch *sc, size_t from, size_t to, int only_straddling)
{
	size_t nc = 0;
	uint32_t cover_start = UINT32_MAX, cover_end = 0, cover_rule = UINT32_MAX;
	for (size_t i = 0; i < sc->nspans; i++) {
		struct rd_span s = sc->spans[i];
		if (s.end <= from || s.start >= to || (only_straddling && s.start >= from))
			continue;
		if (s.start < from) {
			s.start = (uint32_t)from;
			s.rule = UINT32_MAX;
		}
		if (s.end > to)
			s.end = (uint32_t)to;
		s.start -= (uint32_t)from;
		s.end -= (uint32_t)from;
		if (s.start < cover_start) {
			cover_start = s.start;
			cover_rule = s.rule;
		}
		if (s.end > cover_end)
			cover_end = s.end;
		/* A span inside one already carried adds nothing (the same
		 * secret found again by a rescan of held bytes, or by a second
		 * rule): counting it filled the carry during a long hold and
		 * turned it into one covering mask over text between secrets. */
		size_t k, kept = nc < RD_MAX_CARRY ? nc : RD_MAX_CARRY;
		for (k = 0; k < kept; k++)
			if (st->carry[k].start <= s.start && st->carry[k].end >= s.end)
				break;
		if (k < kept)
			continue;
		if (nc < RD_MAX_CARRY)
			st->carry[nc] = s;
		nc++;
	}
	if (nc > RD_MAX_CARRY) {
		/* Too many to track: one covering mask (more masked, never less). */
		st->carry[0] = (struct rd_span){cover_start, cover_end, cover_rule};
		nc = 1;
	}
	st->ncarry = nc;
}

/* Makes the stream buffer [context | pending] where context ends at buffer
 * position `emitted` and pending is [emitted, pend_end), both given in the
 * coordinates of the staged buffer. */
static void rebuild(struct rd_stream *st, const struct rd_stage *sg, size_t emitted, size_t pend_end)
{
	size_t pend = pend_end - emitted;
	if (!sg->in_place) {
		size_t c = emitted < RD_CONTEXT_KEEP ? emitted : RD_CONTEXT_KEEP;
		if (c + pend)
			memmove(st->buf, st->buf + emitted - c, c + pend);
		st->ctx_len = c;
		st->pend_len = pend;
		return;
	}
	/* In place: the old context, then src[0..emitted) emitted, src[emitted..) pending. */
	size_t from_src = emitted < RD_CONTEXT_KEEP ? emitted : RD_CONTEXT_KEEP;
	size_t from_old = RD_CONTEXT_KEEP - from_src;
	if (from_old > st->ctx_len)
		from_old = st->ctx_len;
	if (reserve(st, from_old + from_src + pend)) {
		/* Out of memory: keep no context (lookbehinds see less); the
		 * pending bytes must survive, so they were reserved earlier. */
		from_old = 0;
		from_src = 0;
		if (reserve(st, pend))
			pend = 0;
	}
	if (from_old)
		memmove(st->buf, st->buf + st->ctx_len - from_old, from_old);
	if (from_src + pend)
		memcpy(st->buf + from_old, sg->src + emitted - from_src, from_src + pend);
	st->ctx_len = from_old + from_src;
	st->pend_len = pend;
}

size_t rd_stream_commit(struct rd_stream *st, struct rd_scratch *sc, size_t written, const uint8_t **owed,
			size_t *owed_len)
{
	struct rd_stage *sg = &st->stage;
	if (owed) {
		*owed = NULL;
		*owed_len = 0;
	}
	if (!sg->active)
		return 0;
	sg->active = 0;
	if (written > sg->out_len)
		written = sg->out_len;
	size_t old_pending_start = sg->emit_from;
	if (written == sg->out_len || !sg->length_preserving) {
		/* Everything decided goes (or is owed). */
		if (written < sg->out_len && owed) {
			/* Only length-changing output is owed, and that is always rendered
			 * into the scratch buffer. */
			*owed = sc->out + written;
			*owed_len = sg->out_len - written;
		}
		set_carry(st, sc, sg->hold, sg->total, 0);
		rebuild(st, sg, sg->hold, sg->total);
		st->offset += sg->hold - sg->emit_from;
		st->rescan = st->ctx_len;
		if (sg->final && old_pending_start < sg->hold && !sg->in_place) {
			/* After a flush the released bytes stay scannable as context,
			 * so a secret whose first part went out on a timeout still gets
			 * its remaining part masked when it arrives. */
			size_t shift = sg->hold - st->ctx_len;
			st->rescan = old_pending_start > shift ? old_pending_start - shift : 0;
		}
		return sg->n;
	}
	/* A short write of length-preserving output: output byte i is buffer
	 * byte emit_from + i.  Bytes accepted earlier (old pending) stay pending;
	 * this call's input is consumed only as far as it went out. */
	size_t done = sg->emit_from + written;
	size_t accepted_end = sg->emit_from + sg->old_pend;
	size_t consumed = done > accepted_end ? done - accepted_end : 0;
	size_t pend_end = done > accepted_end ? done : accepted_end;
	/* Only masks that began in the part that went out are carried: the rest
	 * of the input comes again and the rescan below finds its secrets again.
	 * Carrying them all overflowed RD_MAX_CARRY after a short write of a
	 * large buffer with many secrets, and the covering mask that replaces
	 * them starred everything between the first and the last (a retried
	 * 100 KB write after EINTR or EAGAIN came out as 96 KB of stars). */
	set_carry(st, sc, done, sg->total, 1);
	rebuild(st, sg, done, pend_end);
	st->offset += written;
	/* The program writes the rest again: scan the kept context with it, so a
	 * match whose keyword already went out is found again. */
	st->rescan = 0;
	return consumed;
}
