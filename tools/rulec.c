/* redact-rulec: compiles rule files into C for the library's built-in rule
 * set, so a bare libredact.so carries its rules and never parses YAML at
 * process start.  Every regex and allowlist is compiled (and cost-probed)
 * here: a broken shipped rule fails the build.  What the library would
 * work out for the built-in rules in every process -- how each rule is
 * anchored, the keyword index -- is worked out here once and emitted as
 * static tables.
 *
 *   redact-rulec OUTPUT.c PATTERNS_DIR [REL_PREFIX]
 */
#include "rd_context.h"
#include "rd_rule.h"
#include "rd_ruleset.h"
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cstr(FILE *f, const char *s)
{
	if (!s) {
		fputs("NULL", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '?')
			fputs("\\?", f); /* no trigraphs, whatever the -std */
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\%03o", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void str_array(FILE *f, const char *name, const char *const *v, size_t n)
{
	if (!n)
		return;
	fprintf(f, "static const char *const %s[] = {", name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		cstr(f, v[i]);
	}
	fputs("};\n", f);
}

static void allowlists(FILE *f, const char *prefix, const struct rd_allowlist_def *a, size_t n, int exported)
{
	char name[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s_%zu_re", prefix, i);
		str_array(f, name, a[i].regexes, a[i].nregexes);
		snprintf(name, sizeof(name), "%s_%zu_sw", prefix, i);
		str_array(f, name, a[i].stopwords, a[i].nstopwords);
	}
	fprintf(f, "%sconst struct rd_allowlist_def %s[] = {\n", exported ? "" : "static ", prefix);
	for (size_t i = 0; i < n; i++) {
		fputs("\t{", f);
		cstr(f, a[i].description);
		fprintf(f, ", %d, %d, ", a[i].target, a[i].condition_and);
		if (a[i].nregexes)
			fprintf(f, "%s_%zu_re, %zu, ", prefix, i, a[i].nregexes);
		else
			fputs("NULL, 0, ", f);
		if (a[i].nstopwords)
			fprintf(f, "%s_%zu_sw, %zu},\n", prefix, i, a[i].nstopwords);
		else
			fputs("NULL, 0},\n", f);
	}
	fputs("};\n", f);
}

/* Separator before element i of an array printed `per` to a line. */
static const char *sep(size_t i, size_t per)
{
	return i == 0 ? "\n\t" : i % per ? ", " : ",\n\t";
}

/* A keyword index as static tables named P_*, the index itself P_index. */
static void emit_kwindex(FILE *f, const struct rd_kwindex *ix, const char *p)
{
	size_t nslots = (size_t)ix->slot_mask + 1, nentries = 0, nrl = 0, npre = (size_t)ix->prefix_mask + 1;
	for (size_t s = 0; s < nslots; s++)
		if (ix->slots[s].count && ix->slots[s].first + ix->slots[s].count > nentries)
			nentries = ix->slots[s].first + ix->slots[s].count;
	for (size_t k = 0; k < ix->nkw; k++)
		if (ix->kw_rule_first[k] + ix->kw_rule_count[k] > nrl)
			nrl = ix->kw_rule_first[k] + ix->kw_rule_count[k];
	fprintf(f, "static const struct rd_kw_slot %s_slots[%zu] = {", p, nslots);
	for (size_t s = 0; s < nslots; s++)
		fprintf(f, "%s{%uu, %uu, %uu}", sep(s, 4), ix->slots[s].gram, ix->slots[s].first,
			ix->slots[s].count);
	fprintf(f, "};\nstatic const struct rd_kw_entry %s_entries[%zu] = {", p, nentries + 1);
	for (size_t e = 0; e < nentries; e++)
		fprintf(f, "%s{%uu, %uu}", sep(e, 6), ix->entries[e].kw, ix->entries[e].offset);
	fprintf(f, "%s{0, 0}};\nstatic const char *const %s_text[] = {", sep(nentries, 6), p);
	for (size_t k = 0; k < ix->nkw; k++) {
		fputs(sep(k, 6), f);
		cstr(f, ix->kw[k]);
	}
	fprintf(f, "%sNULL};\n", sep(ix->nkw, 6));
#define U32_ARRAY(name, arr, n)                                                             \
	do {                                                                                \
		fprintf(f, "static const uint32_t %s_%s[] = {", p, name);                         \
		for (size_t i_ = 0; i_ < (n); i_++)                                         \
			fprintf(f, "%s%uu", sep(i_, 12), (arr)[i_]);                         \
		fprintf(f, "%s0};\n", sep((n), 12));                                          \
	} while (0)
	U32_ARRAY("len", ix->kwlen, ix->nkw);
	U32_ARRAY("first", ix->kw_rule_first, ix->nkw);
	U32_ARRAY("count", ix->kw_rule_count, ix->nkw);
	U32_ARRAY("rules", ix->kw_rules, nrl);
	fprintf(f, "static const uint64_t %s_prefixes[%zu] = {", p, npre);
	for (size_t i = 0; i < npre; i++)
		fprintf(f, "%s0x%llxull", sep(i, 6), (unsigned long long)ix->prefixes[i]);
	fprintf(f, "};\nstatic const struct rd_kwindex %s_index = {\n", p);
	fprintf(f, "\t.gram = %d, .stride = %d, .gmask = 0x%xu, .fold = 0x%xu,\n\t.bitmap = {", ix->gram, ix->stride,
		ix->gmask, ix->fold);
	for (size_t i = 0; i < RD_KW_FILTER_WORDS; i++)
		fprintf(f, "%s0x%llxull", sep(i, 6), (unsigned long long)ix->bitmap[i]);
	fprintf(f, "},\n\t.wide_on = %d, .wide = {", ix->wide_on);
	for (size_t i = 0; i < RD_KW_WIDE_WORDS; i++)
		fprintf(f, "%s0x%llxull", sep(i, 6), (unsigned long long)ix->wide[i]);
	fprintf(f, "},\n\t.base = NULL, .kw_offset = 0, .slots = %s_slots, .slot_mask = %uu, .max_bucket = %uu, .max_offset = %uu,\n",
		p, ix->slot_mask, ix->max_bucket, ix->max_offset);
	fprintf(f, "\t.entries = %s_entries, .nkw = %zu, .kw = %s_text, .kwlen = %s_len, .kw_rule_first = %s_first,\n",
		p, ix->nkw, p, p, p);
	fprintf(f, "\t.kw_rule_count = %s_count, .kw_rules = %s_rules, .minlen = %zu, .maxlen = %zu,\n", p, p,
		ix->minlen, ix->maxlen);
	fprintf(f, "\t.prefixes = %s_prefixes, .prefix_mask = %uu,\n\t.kwchar = {", p, ix->prefix_mask);
	for (size_t i = 0; i < 256; i++)
		fprintf(f, "%s%u", sep(i, 32), ix->kwchar[i]);
	fputs("},\n};\n", f);
}


/* The keyword index of all built-in rules, as static tables. */
static int emit_index(FILE *f, struct rd_rule_defs *d)
{
	struct rd_kw_source *src = calloc(d->nrules + 1, sizeof(*src));
	for (size_t i = 0; i < d->nrules; i++) {
		/* Opt-in rules (private-ip) stay out: off by default, their
		 * keywords ("10.0") would cost every process a keyword hit per
		 * version number.  A configuration that enables one builds its
		 * own index at start (context.c). */
		if (d->rules[i].flags & RD_RULE_OPT_IN)
			continue;
		src[i].keywords = d->rules[i].keywords;
		src[i].nkeywords = d->rules[i].nkeywords;
		int anchored;
		uint32_t prefix;
		const char *regex = rd_rule_plan(&d->arena, &d->rules[i], &anchored, &prefix);
		if (!anchored && !(d->rules[i].flags & RD_RULE_LITERAL)) {
			const char **leads;
			src[i].nholds = rd_regex_literal_leads(&d->arena, regex, &leads);
			src[i].holds = leads;
		}
	}
	struct rd_kwindex ix;
	int rc = rd_kwindex_build(&ix, &d->arena, src, d->nrules, NULL, 0);
	free(src);
	if (rc)
		return rc;
	fputs("\n/* The keyword index of the rules above (lib/keyword_index.c). */\n", f);
	emit_kwindex(f, &ix, "kw");
	fputs("const struct rd_kwindex *const rd_builtin_kwindex = &kw_index;\n", f);
	return 0;
}
/* What the engine would otherwise build or learn in every process on its
 * first write: the lead indexes of the default set (opt-in rules off, as in
 * a process without settings), and the first bytes of every tail rule. */
static int emit_leads_and_firsts(FILE *f, struct rd_rule_defs *d, const struct rd_rule_def **ptrs,
				 const struct rd_allowlist_def **gptrs)
{
	uint8_t *off = calloc(d->nrules + 1, 1);
	for (size_t i = 0; i < d->nrules; i++)
		off[i] = (d->rules[i].flags & RD_RULE_OPT_IN) != 0;
	struct rd_ruleset_input in = {.rules = ptrs, .nrules = d->nrules, .disabled = off, .global = gptrs,
				      .nglobal = d->nglobal, .match_limit = 200000};
	struct rd_ruleset *rs;
	char err[1024];
	int rc = rd_ruleset_build(&rs, &in, err, sizeof(err));
	free(off);
	if (rc)
		return rc;
	const char *names[RD_LEAD_GROUPS] = {NULL};
	static char name_buf[RD_LEAD_GROUPS][16];
	for (int g = 0; g < RD_LEAD_GROUPS; g++) {
		const struct rd_kwindex *ix = rd_ruleset_leads(rs, g);
		if (!ix)
			continue;
		snprintf(name_buf[g], sizeof(name_buf[g]), "lead%d", g);
		names[g] = name_buf[g];
		fprintf(f, "\n/* Lead index %d (rd_ruleset_leads). */\n", g);
		emit_kwindex(f, ix, names[g]);
	}
	fputs("const struct rd_kwindex *const rd_builtin_leadix[RD_LEAD_GROUPS] = {", f);
	for (int g = 0; g < RD_LEAD_GROUPS; g++) {
		if (names[g])
			fprintf(f, "%s&%s_index", g ? ", " : "", names[g]);
		else
			fprintf(f, "%sNULL", g ? ", " : "");
	}
	fputs("};\nconst int rd_builtin_leadix_known = 1;\n", f);
	/* first bytes of the tail rules, from their compiled code */
	fputs("const struct rd_first_bytes rd_builtin_first[] = {\n", f);
	size_t nfirst = 0;
	for (size_t t = 0; t < rs->ntail; t++) {
		uint32_t ri = rs->tail_rules[t];
		pcre2_code *code = rd_rule_code(rs, &rs->rules[ri]);
		uint64_t set[4];
		if (!code || rd_code_first_bytes(code, set))
			continue;
		fprintf(f, "\t{%uu, {0x%llxull, 0x%llxull, 0x%llxull, 0x%llxull}},\n", ri, (unsigned long long)set[0],
			(unsigned long long)set[1], (unsigned long long)set[2], (unsigned long long)set[3]);
		nfirst++;
	}
	if (!nfirst)
		fputs("\t{0, {0, 0, 0, 0}},\n", f);
	fprintf(f, "};\nconst size_t rd_builtin_nfirst = %zu;\n", nfirst);
	rd_ruleset_free(rs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTPUT.c PATTERNS_DIR [DISPLAY_PREFIX]\n", argv[0]);
		return 2;
	}
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	char err[1024];
	int rc = rd_rules_load_path(&d, argv[2], err, sizeof(err));
	if (!rc)
		rc = rd_rules_validate(&d, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "redact-rulec: %s\n", err);
		return 1;
	}
	/* Compile everything once to fail the build on a broken rule. */
	const struct rd_rule_def **ptrs = calloc(d.nrules + 1, sizeof(*ptrs));
	const struct rd_allowlist_def **gptrs = calloc(d.nglobal + 1, sizeof(*gptrs));
	for (size_t i = 0; i < d.nrules; i++)
		ptrs[i] = &d.rules[i];
	for (size_t i = 0; i < d.nglobal; i++)
		gptrs[i] = &d.global_allowlists[i];
	struct rd_ruleset_input in = {.rules = ptrs, .nrules = d.nrules, .global = gptrs, .nglobal = d.nglobal,
				      .match_limit = 200000};
	struct rd_ruleset *rs;
	rc = rd_ruleset_build(&rs, &in, err, sizeof(err));
	if (!rc) {
		rc = rd_ruleset_compile_all(rs, err, sizeof(err));
		rd_ruleset_free(rs);
	}
	if (rc) {
		fprintf(stderr, "redact-rulec: %s\n", err);
		return 1;
	}

	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	const char *display = argc > 3 ? argv[3] : NULL;
	size_t dirlen = strlen(argv[2]);
	fputs("/* Generated by redact-rulec from the rule files in patterns/: do not edit. */\n"
	      "#include \"rd_context.h\"\n\n", f);
	char name[64];
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		snprintf(name, sizeof(name), "kw_%zu", i);
		str_array(f, name, r->keywords, r->nkeywords);
		if (r->nallowlists) {
			snprintf(name, sizeof(name), "al_%zu", i);
			allowlists(f, name, r->allowlists, r->nallowlists, 0);
		}
	}
	/* The plan of every rule (RD_RULE_PLANNED), so that processes do not
	 * analyse the built-in regexes on their first write. */
	int *anchored = calloc(d.nrules + 1, sizeof(int));
	uint32_t *prefix = calloc(d.nrules + 1, sizeof(uint32_t));
	const char **planned = calloc(d.nrules + 1, sizeof(char *));
	size_t *nleads = calloc(d.nrules + 1, sizeof(size_t));
	int *single = calloc(d.nrules + 1, sizeof(int));
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		if (r->flags & RD_RULE_LITERAL)
			continue;
		planned[i] = rd_rule_plan(&d.arena, r, &anchored[i], &prefix[i]);
		if (anchored[i])
			continue;
		const char **leads;
		nleads[i] = rd_regex_literal_leads(&d.arena, planned[i], &leads);
		single[i] = rd_rule_single_line(planned[i], r);
		if (nleads[i]) {
			snprintf(name, sizeof(name), "ld_%zu", i);
			str_array(f, name, leads, nleads[i]);
		}
	}
	fputs("\nconst struct rd_rule_def rd_builtin_rules[] = {\n", f);
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		fputs("\t{.id = ", f);
		cstr(f, r->id);
		fputs(", .description = ", f);
		cstr(f, r->description);
		fputs(", .family = ", f);
		cstr(f, r->family);
		fputs(", .regex = ", f);
		cstr(f, r->flags & RD_RULE_LITERAL ? r->regex : planned[i]);
		fprintf(f, ", .keywords = kw_%zu, .nkeywords = %zu, .secret_group = %d, .entropy = %.17g",
			i, r->nkeywords, r->secret_group, r->entropy);
		/* the plan: 0 = anchored at keywords, else the window */
		unsigned flags = r->flags;
		if (!(r->flags & RD_RULE_LITERAL))
			flags |= RD_RULE_PLANNED | (single[i] ? RD_RULE_SINGLE_LINE : 0);
		fprintf(f, ", .prefix_max = %u, .flags = %uu", anchored[i] ? 0u : prefix[i], flags);
		if (nleads[i])
			fprintf(f, ", .leads = ld_%zu, .nleads = %zu", i, nleads[i]);
		if (r->nallowlists)
			fprintf(f, ", .allowlists = al_%zu, .nallowlists = %zu", i, r->nallowlists);
		const char *file = r->file;
		char shown[512];
		if (display && !strncmp(file, argv[2], dirlen)) {
			snprintf(shown, sizeof(shown), "%s%s", display, file + dirlen);
			file = shown;
		}
		fputs(", .file = ", f);
		cstr(f, file);
		fprintf(f, ", .line = %d},\n", r->line);
	}
	if (!d.nrules)
		fputs("\t{.id = NULL},\n", f);
	fputs("};\n", f);
	fprintf(f, "const size_t rd_builtin_nrules = %zu;\n\n", d.nrules);
	if (d.nglobal) {
		allowlists(f, "rd_builtin_global", d.global_allowlists, d.nglobal, 1);
	} else {
		fputs("const struct rd_allowlist_def rd_builtin_global[] = {{0}};\n", f);
	}
	fprintf(f, "const size_t rd_builtin_nglobal = %zu;\n", d.nglobal);
	if (emit_index(f, &d)) {
		fprintf(stderr, "redact-rulec: cannot build the keyword index\n");
		return 1;
	}
	if (emit_leads_and_firsts(f, &d, ptrs, gptrs)) {
		fprintf(stderr, "redact-rulec: cannot build the lead indexes\n");
		return 1;
	}
	if (fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	fprintf(stderr, "redact-rulec: %zu rules, %zu global allowlists\n", d.nrules, d.nglobal);
	free(ptrs);
	free(gptrs);
	free(anchored);
	free(prefix);
	free(planned);
	free(nleads);
	free(single);
	rd_rule_defs_destroy(&d);
	return 0;
}
