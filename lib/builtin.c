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

/* rd_builtin_lists as strings: one array in the arena that every list
 * (keywords, leads, allowlist regexes and stopwords) is a run of.  An array
 * per list cost ~1000 arena allocations, each rounded up to 16 bytes: ~2
 * pages more to touch on a first write. */
static const char **all_strings(rd_arena *a)
{
	const char **v = rd_arena_alloc(a, (rd_builtin_nlists + 1) * sizeof(*v));
	for (size_t i = 0; v && i < rd_builtin_nlists; i++)
		v[i] = rd_builtin_text + rd_builtin_lists[i];
	return v;
}

static const char *const *string_list(const char *const *all, uint32_t first, uint32_t n)
{
	return n ? all + first : NULL;
}

static void allowlist(const char *const *all, const struct rd_builtin_allow *b, struct rd_allowlist_def *out)
{
	*out = (struct rd_allowlist_def){.description = text_at(b->description),
					 .target = b->target,
					 .condition_and = b->condition_and,
					 .regexes = string_list(all, b->regexes, b->nregexes),
					 .nregexes = b->nregexes,
					 .stopwords = string_list(all, b->stopwords, b->nstopwords),
					 .nstopwords = b->nstopwords};
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
	const char *const *all = all_strings(&d->arena);
	if (!all)
		return REDACT_ERROR_NOMEM;
	for (size_t i = 0; i < rd_builtin_nrules; i++) {
		const struct rd_builtin_rule *b = &rd_builtin_rules[i];
		struct rd_rule_def *r = &d->rules[d->nrules];
		*r = (struct rd_rule_def){.id = text_at(b->id),
					  .description = text_at(b->description),
					  .family = text_at(b->family),
					  .regex = text_at(b->regex),
					  .keywords = string_list(all, b->keywords, b->nkeywords),
					  .nkeywords = b->nkeywords,
					  .secret_group = b->secret_group,
					  .entropy = b->entropy,
					  .prefix_max = b->prefix_max,
					  .flags = b->flags,
					  .nallowlists = b->nallowlists,
					  .leads = string_list(all, b->leads, b->nleads),
					  .nleads = b->nleads,
					  .file = text_at(b->file),
					  .line = b->line};
		if (b->nallowlists) {
			struct rd_allowlist_def *al = rd_arena_alloc(&d->arena, b->nallowlists * sizeof(*al));
			if (!al)
				return REDACT_ERROR_NOMEM;
			for (uint32_t k = 0; k < b->nallowlists; k++)
				allowlist(all, &rd_builtin_allows[b->allowlists + k], &al[k]);
			r->allowlists = al;
		}
		d->nrules++;
	}
	for (size_t i = 0; i < rd_builtin_nglobal; i++) {
		struct rd_allowlist_def *g = rd_rule_defs_add_global(d);
		if (!g)
			return REDACT_ERROR_NOMEM;
		allowlist(all, &rd_builtin_allows[i], g);
	}
	return 0;
}
