/* The built-in rules as rule definitions.
 *
 * redact-rulec emits them as pointer-free tables (rd_context.h says why);
 * this turns them into the struct rd_rule_def / rd_allowlist_def the rule
 * set is built from, in the arena of a struct rd_rule_defs that the rule
 * set then owns.  It runs when a process builds its first rule set (its
 * first write to a sink) and on reloads, never at load time. */
#include "rd_context.h"

#include <string.h>

static const char *text_at(uint32_t off)
{
	return off == RD_BUILTIN_NONE ? NULL : rd_builtin_text + off;
}

/* A run of rd_builtin_lists as an array of strings in the arena. */
static int string_list(rd_arena *a, uint32_t first, uint32_t n, const char *const **out)
{
	*out = NULL;
	if (!n)
		return 0;
	const char **v = rd_arena_alloc(a, n * sizeof(*v));
	if (!v)
		return REDACT_ERROR_NOMEM;
	for (uint32_t i = 0; i < n; i++)
		v[i] = rd_builtin_text + rd_builtin_lists[first + i];
	*out = v;
	return 0;
}

static int allowlist(rd_arena *a, const struct rd_builtin_allow *b, struct rd_allowlist_def *out)
{
	*out = (struct rd_allowlist_def){.description = text_at(b->description),
					 .target = b->target,
					 .condition_and = b->condition_and,
					 .nregexes = b->nregexes,
					 .nstopwords = b->nstopwords};
	if (string_list(a, b->regexes, b->nregexes, &out->regexes) ||
	    string_list(a, b->stopwords, b->nstopwords, &out->stopwords))
		return REDACT_ERROR_NOMEM;
	return 0;
}

int rd_builtin_defs(struct rd_rule_defs *d)
{
	/* one allocation of the right size: growing by doubling would copy */
	size_t want = d->nrules + rd_builtin_nrules;
	if (want > d->caprules) {
		struct rd_rule_def *r = rd_mem_realloc(d->rules, want * sizeof(*r));
		if (!r)
			return REDACT_ERROR_NOMEM;
		d->rules = r;
		d->caprules = want;
	}
	for (size_t i = 0; i < rd_builtin_nrules; i++) {
		const struct rd_builtin_rule *b = &rd_builtin_rules[i];
		struct rd_rule_def *r = &d->rules[d->nrules];
		*r = (struct rd_rule_def){.id = text_at(b->id),
					  .description = text_at(b->description),
					  .family = text_at(b->family),
					  .regex = text_at(b->regex),
					  .nkeywords = b->nkeywords,
					  .secret_group = b->secret_group,
					  .entropy = b->entropy,
					  .prefix_max = b->prefix_max,
					  .flags = b->flags,
					  .nallowlists = b->nallowlists,
					  .nleads = b->nleads,
					  .file = text_at(b->file),
					  .line = b->line};
		if (string_list(&d->arena, b->keywords, b->nkeywords, &r->keywords) ||
		    string_list(&d->arena, b->leads, b->nleads, &r->leads))
			return REDACT_ERROR_NOMEM;
		if (b->nallowlists) {
			struct rd_allowlist_def *al = rd_arena_alloc(&d->arena, b->nallowlists * sizeof(*al));
			if (!al)
				return REDACT_ERROR_NOMEM;
			for (uint32_t k = 0; k < b->nallowlists; k++)
				if (allowlist(&d->arena, &rd_builtin_allows[b->allowlists + k], &al[k]))
					return REDACT_ERROR_NOMEM;
			r->allowlists = al;
		}
		d->nrules++;
	}
	for (size_t i = 0; i < rd_builtin_nglobal; i++) {
		struct rd_allowlist_def *g = rd_rule_defs_add_global(d);
		if (!g || allowlist(&d->arena, &rd_builtin_allows[i], g))
			return REDACT_ERROR_NOMEM;
	}
	return 0;
}
