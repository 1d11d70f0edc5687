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

/* ---- the string table: every string once, NUL-separated ---- */

static struct {
	char *text;
	size_t len, cap;
	struct strslot {
		uint32_t off;
		int used;
	} *slots;
	size_t nslots;
} st;

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* Offset of s in the table (added if new); RD_BUILTIN_NONE for NULL. */
static uint32_t str_ref(const char *s)
{
	if (!s)
		return RD_BUILTIN_NONE;
	if (!st.nslots) {
		st.nslots = 1u << 16;
		st.slots = calloc(st.nslots, sizeof(*st.slots));
	}
	size_t i = fnv(s) & (st.nslots - 1);
	for (; st.slots[i].used; i = (i + 1) & (st.nslots - 1))
		if (!strcmp(st.text + st.slots[i].off, s))
			return st.slots[i].off;
	size_t l = strlen(s) + 1;
	while (st.len + l > st.cap) {
		st.cap = st.cap ? st.cap * 2 : 1 << 16;
		st.text = realloc(st.text, st.cap);
	}
	memcpy(st.text + st.len, s, l);
	st.slots[i] = (struct strslot){(uint32_t)st.len, 1};
	st.len += l;
	if (st.len >= 0xffff0000u || st.len > st.nslots * 4) {
		fprintf(stderr, "redact-rulec: string table too large\n");
		exit(1);
	}
	return (uint32_t)(st.len - l);
}

/* ---- string lists: runs of offsets ---- */

static struct {
	uint32_t *v;
	size_t n, cap;
} lists;

/* Index of the first of n offsets appended for v[0..n). */
static uint32_t list_ref(const char *const *v, size_t n)
{
	uint32_t first = (uint32_t)lists.n;
	for (size_t i = 0; i < n; i++) {
		if (lists.n == lists.cap) {
			lists.cap = lists.cap ? lists.cap * 2 : 4096;
			lists.v = realloc(lists.v, lists.cap * sizeof(*lists.v));
		}
		lists.v[lists.n++] = str_ref(v[i]);
	}
	return first;
}

/* ---- allowlists: rd_builtin_allows, the global ones first ---- */

static struct {
	struct rd_builtin_allow *v;
	size_t n, cap;
} allows;

static uint32_t allow_ref(const struct rd_allowlist_def *a, size_t n)
{
	uint32_t first = (uint32_t)allows.n;
	for (size_t i = 0; i < n; i++) {
		if (allows.n == allows.cap) {
			allows.cap = allows.cap ? allows.cap * 2 : 256;
			allows.v = realloc(allows.v, allows.cap * sizeof(*allows.v));
		}
		allows.v[allows.n++] = (struct rd_builtin_allow){
			.description = str_ref(a[i].description),
			.target = a[i].target,
			.condition_and = a[i].condition_and,
			.regexes = list_ref(a[i].regexes, a[i].nregexes),
			.nregexes = (uint32_t)a[i].nregexes,
			.stopwords = list_ref(a[i].stopwords, a[i].nstopwords),
			.nstopwords = (uint32_t)a[i].nstopwords,
		};
	}
	return first;
}

/* A char array of NUL-separated strings, as string literals one per line. */
static void emit_text(FILE *f, const char *decl, const char *text, size_t len)
{
	fprintf(f, "%s[%zu] =", decl, len + 1);
	if (!len)
		fputs(" \"\"", f);
	for (size_t i = 0; i < len;) {
		size_t l = strlen(text + i);
		fputs("\n\t", f);
		cstr(f, text + i);
		fputs("\"\\000\"", f); /* the separator (octal: never joins a digit) */
		i += l + 1;
	}
	fputs(";\n", f);
}

/* Separator before element i of an array printed `per` to a line. */
static const char *sep(size_t i, size_t per)
{
	return i == 0 ? "\n\t" : i % per ? ", " : ",\n\t";
}

/* A keyword index as read-only tables named P_*, and fill_P(), which points
 * a struct rd_kwindex at them (no pointer in static data: rd_context.h). */
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
	fprintf(f, "%s{0, 0}};\n", sep(nentries, 6));
	/* the keywords, packed again (the run-time text may hold duplicates) */
	size_t textlen = 0;
	for (size_t k = 0; k < ix->nkw; k++)
		textlen += ix->kwlen[k] + 1;
	char *text = malloc(textlen + 1);
	uint32_t *off = malloc((ix->nkw + 1) * sizeof(*off));
	for (size_t k = 0, o = 0; k < ix->nkw; k++) {
		off[k] = (uint32_t)o;
		memcpy(text + o, ix->kwtext + ix->kwoff[k], ix->kwlen[k] + 1);
		o += ix->kwlen[k] + 1;
	}
	char decl[64];
	snprintf(decl, sizeof(decl), "static const char %s_text", p);
	emit_text(f, decl, text, textlen);
	free(text);
#define U32_ARRAY(name, arr, n)                                                             \
	do {                                                                                \
		fprintf(f, "static const uint32_t %s_%s[] = {", p, name);                         \
		for (size_t i_ = 0; i_ < (n); i_++)                                         \
			fprintf(f, "%s%uu", sep(i_, 12), (arr)[i_]);                         \
		fprintf(f, "%s0};\n", sep((n), 12));                                          \
	} while (0)
#define U64_ARRAY(name, arr, n)                                                             \
	do {                                                                                \
		fprintf(f, "static const uint64_t %s_%s[%zu] = {", p, name, (size_t)(n));        \
		for (size_t i_ = 0; i_ < (n); i_++)                                         \
			fprintf(f, "%s0x%llxull", sep(i_, 6), (unsigned long long)(arr)[i_]); \
		fputs("};\n", f);                                                           \
	} while (0)
	U32_ARRAY("off", off, ix->nkw);
	free(off);
	U32_ARRAY("len", ix->kwlen, ix->nkw);
	U32_ARRAY("first", ix->kw_rule_first, ix->nkw);
	U32_ARRAY("count", ix->kw_rule_count, ix->nkw);
	U32_ARRAY("rules", ix->kw_rules, nrl);
	U64_ARRAY("prefixes", ix->prefixes, npre);
	U64_ARRAY("bitmap", ix->bitmap, RD_KW_FILTER_WORDS);
	U64_ARRAY("wide", ix->wide, RD_KW_WIDE_WORDS);
	fprintf(f, "static const uint8_t %s_kwchar[256] = {", p);
	for (size_t i = 0; i < 256; i++)
		fprintf(f, "%s%u", sep(i, 32), ix->kwchar[i]);
	fputs("};\n", f);
	/* field by field: an initialiser with addresses could be emitted as a
	 * relocated template */
	fprintf(f, "static void fill_%s(struct rd_kwindex *ix)\n{\n", p);
	fprintf(f, "\tix->gram = %d;\n\tix->stride = %d;\n\tix->gmask = 0x%xu;\n\tix->fold = 0x%xu;\n", ix->gram,
		ix->stride, ix->gmask, ix->fold);
	fprintf(f, "\tix->bitmap = %s_bitmap;\n\tix->wide = %s_wide;\n\tix->wide_on = %d;\n", p, p, ix->wide_on);
	fprintf(f, "\tix->slots = %s_slots;\n\tix->slot_mask = %uu;\n\tix->max_bucket = %uu;\n\tix->max_offset = %uu;\n",
		p, ix->slot_mask, ix->max_bucket, ix->max_offset);
	fprintf(f, "\tix->entries = %s_entries;\n\tix->nkw = %zu;\n\tix->kwtext = %s_text;\n\tix->kwoff = %s_off;\n", p,
		ix->nkw, p, p);
	fprintf(f, "\tix->kwlen = %s_len;\n\tix->kw_rule_first = %s_first;\n\tix->kw_rule_count = %s_count;\n", p, p,
		p);
	fprintf(f, "\tix->kw_rules = %s_rules;\n\tix->minlen = %zu;\n\tix->maxlen = %zu;\n", p, ix->minlen,
		ix->maxlen);
	fprintf(f, "\tix->prefixes = %s_prefixes;\n\tix->prefix_mask = %uu;\n", p, ix->prefix_mask);
	fprintf(f, "\tmemcpy(ix->kwchar, %s_kwchar, sizeof(ix->kwchar));\n}\n", p);
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
	/* rd_builtin_index: the structs are filled in on first use */
	fputs("\nstatic struct rd_kwindex builtin_ix[1 + RD_LEAD_GROUPS];\n"
	      "static pthread_once_t builtin_ix_once = PTHREAD_ONCE_INIT;\n"
	      "static void fill_all(void)\n{\n\tfill_kw(&builtin_ix[0]);\n", f);
	for (int g = 0; g < RD_LEAD_GROUPS; g++)
		if (names[g])
			fprintf(f, "\tfill_%s(&builtin_ix[%d]);\n", names[g], 1 + g);
	fputs("}\n\nconst struct rd_kwindex *rd_builtin_index(int which)\n{\n"
	      "\tif (which < 0 || which > RD_LEAD_GROUPS)\n\t\treturn NULL;\n"
	      "\tpthread_once(&builtin_ix_once, fill_all);\n"
	      "\treturn builtin_ix[which].slots ? &builtin_ix[which] : NULL;\n}\n"
	      "const int rd_builtin_leadix_known = 1;\n\n", f);
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

/* rd_builtin_progress, in rule order */
static struct {
	struct rd_first_bytes *v;
	size_t n, cap;
} progress;

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
	fputs("/* Generated by redact-rulec from the rule files in patterns/: do not edit.\n"
	      " * No pointer in static data (rd_context.h): strings are offsets into\n"
	      " * rd_builtin_text, lists are runs of rd_builtin_lists. */\n"
	      "#include \"rd_context.h\"\n\n#include <string.h>\n\n", f);
	/* The plan of every rule (RD_RULE_PLANNED), so that processes do not
	 * analyse the built-in regexes on their first write. */
	allow_ref(d.global_allowlists, d.nglobal); /* rd_builtin_allows[0..nglobal) */
	struct rd_builtin_rule *out = calloc(d.nrules + 1, sizeof(*out));
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		int anchored = 0, single = 0;
		uint32_t prefix = 0;
		const char *regex = r->regex;
		const char **leads = NULL;
		size_t nleads = 0;
		unsigned flags = r->flags;
		if (!(r->flags & RD_RULE_LITERAL)) {
			regex = rd_rule_plan(&d.arena, r, &anchored, &prefix);
			if (!anchored) {
				nleads = rd_regex_literal_leads(&d.arena, regex, &leads);
				single = rd_rule_single_line(regex, r);
			}
			/* the plan: prefix_max 0 = anchored at keywords, else the window */
			flags |= RD_RULE_PLANNED | (single ? RD_RULE_SINGLE_LINE : 0);
			if (nleads) {
				/* the leads the keyword pass cannot see first, and how many */
				size_t nscan = rd_rule_uncovered_first(leads, nleads, r);
				flags |= RD_RULE_SCAN_LEADS_KNOWN | (unsigned)nscan << RD_RULE_SCAN_LEADS_SHIFT;
			} else if (!anchored) {
				/* a tail rule: what its match in progress can consume */
				if (progress.n == progress.cap) {
					progress.cap = progress.cap ? progress.cap * 2 : 64;
					progress.v = realloc(progress.v, progress.cap * sizeof(*progress.v));
				}
				struct rd_first_bytes *p = &progress.v[progress.n++];
				p->rule = (uint32_t)i;
				(void)rd_regex_progress_bytes(regex, r->keywords, r->nkeywords, p->set);
			}
		}
		const char *file = r->file;
		char shown[512];
		if (display && !strncmp(file, argv[2], dirlen)) {
			snprintf(shown, sizeof(shown), "%s%s", display, file + dirlen);
			file = shown;
		}
		out[i] = (struct rd_builtin_rule){
			.id = str_ref(r->id),
			.description = str_ref(r->description),
			.family = str_ref(r->family),
			.regex = str_ref(regex),
			.file = str_ref(file),
			.keywords = list_ref(r->keywords, r->nkeywords),
			.nkeywords = (uint32_t)r->nkeywords,
			.leads = list_ref(leads, nleads),
			.nleads = (uint32_t)nleads,
			.allowlists = allow_ref(r->allowlists, r->nallowlists),
			.nallowlists = (uint32_t)r->nallowlists,
			.secret_group = r->secret_group,
			.prefix_max = anchored ? 0 : (int32_t)prefix,
			.line = r->line,
			.flags = flags,
			.entropy = r->entropy,
		};
	}
	emit_text(f, "const char rd_builtin_text", st.text, st.len);
	fputs("const uint32_t rd_builtin_lists[] = {", f);
	for (size_t i = 0; i < lists.n; i++)
		fprintf(f, "%s%uu", sep(i, 12), lists.v[i]);
	fprintf(f, "%s0};\nconst size_t rd_builtin_nlists = %zu;\n", sep(lists.n, 12), lists.n);
	fputs("const struct rd_builtin_allow rd_builtin_allows[] = {\n", f);
	for (size_t i = 0; i < allows.n; i++) {
		const struct rd_builtin_allow *a = &allows.v[i];
		fprintf(f, "\t{%uu, %d, %d, %uu, %uu, %uu, %uu},\n", a->description, a->target, a->condition_and,
			a->regexes, a->nregexes, a->stopwords, a->nstopwords);
	}
	fprintf(f, "\t{0}};\nconst size_t rd_builtin_nglobal = %zu;\n\n", d.nglobal);
	fputs("const struct rd_builtin_rule rd_builtin_rules[] = {\n", f);
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_builtin_rule *b = &out[i];
		fprintf(f, "\t{.id = %uu, .description = %uu, .family = %uu, .regex = %uu, .file = %uu, ", b->id,
			b->description, b->family, b->regex, b->file);
		fprintf(f, ".keywords = %uu, .nkeywords = %uu, .leads = %uu, .nleads = %uu, ", b->keywords,
			b->nkeywords, b->leads, b->nleads);
		fprintf(f, ".allowlists = %uu, .nallowlists = %uu, .secret_group = %d, .prefix_max = %d, ",
			b->allowlists, b->nallowlists, b->secret_group, b->prefix_max);
		fprintf(f, ".line = %d, .flags = %uu, .entropy = %.17g}, /* ", b->line, b->flags, b->entropy);
		/* the id, for a reader of the generated file */
		for (const char *c = d.rules[i].id; *c; c++)
			fputc(*c == '*' || *c == '/' ? '_' : *c, f);
		fputs(" */\n", f);
	}
	fprintf(f, "\t{0}};\nconst size_t rd_builtin_nrules = %zu;\n", d.nrules);
	fputs("const struct rd_first_bytes rd_builtin_progress[] = {\n", f);
	for (size_t k = 0; k < progress.n; k++)
		fprintf(f, "\t{%uu, {0x%llxull, 0x%llxull, 0x%llxull, 0x%llxull}},\n", progress.v[k].rule,
			(unsigned long long)progress.v[k].set[0], (unsigned long long)progress.v[k].set[1],
			(unsigned long long)progress.v[k].set[2], (unsigned long long)progress.v[k].set[3]);
	if (!progress.n)
		fputs("\t{0, {0, 0, 0, 0}},\n", f);
	fprintf(f, "};\nconst size_t rd_builtin_nprogress = %zu;\n", progress.n);
	free(progress.v);
	free(out);
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
	rd_rule_defs_destroy(&d);
	return 0;
}
