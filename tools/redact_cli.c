/* redact: the command-line face of the engine.
 *
 *   redact [FILE...]              redact files (or stdin) to stdout, each as one stream
 *   redact check-rules PATH...    load rule files, compile every rule, check every example
 *   redact scan [FILE...]         list detections (rule, offset, length; never the secret)
 *
 * Settings come from the environment as for the library (REDACT_PATTERNS,
 * REDACT_MODE, REDACT_MASK, ...). */
#include "rd_context.h"
#include "rd_rule.h"
#include "rd_ruleset.h"
#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_stdout(void *ud, const char *data, size_t len)
{
	(void)ud;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int filter_fd(redact_context *ctx, int fd)
{
	redact_stream *s;
	int rc = redact_stream_create(ctx, write_stdout, NULL, &s);
	if (rc)
		return rc;
	static char buf[1 << 16];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rc = redact_stream_write(s, buf, (size_t)n);
		if (rc < 0)
			break;
	}
	if (rc >= 0)
		rc = redact_stream_flush(s);
	redact_stream_free(s);
	return rc < 0 ? rc : 0;
}

static redact_context *env_context(void)
{
	redact_context *ctx;
	int rc = redact_context_create(&ctx, NULL);
	if (rc) {
		char msg[1024];
		redact_context_error(NULL, msg, sizeof(msg));
		fprintf(stderr, "redact: %s\n", msg);
		return NULL;
	}
	return ctx;
}

static int cmd_filter(int argc, char **argv)
{
	redact_context *ctx = env_context();
	if (!ctx)
		return 1;
	int rc = 0;
	if (argc == 0) {
		rc = filter_fd(ctx, 0);
	} else {
		for (int i = 0; i < argc && !rc; i++) {
			int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				fprintf(stderr, "redact: %s: %s\n", argv[i], strerror(errno));
				rc = 1;
				break;
			}
			rc = filter_fd(ctx, fd);
			close(fd);
		}
	}
	fflush(stdout);
	redact_context_free(ctx);
	if (rc < 0)
		fprintf(stderr, "redact: %s\n", redact_strerror(rc));
	return rc ? 1 : 0;
}

/* ---- check-rules ---- */

static struct rd_config check_cfg;

/* A context holding the given rules (and global allowlists). */
static redact_context *context_for(const struct rd_rule_def **rules, size_t n, const struct rd_allowlist_def **globals,
				   size_t ng, char *err, size_t errsize)
{
	struct rd_ruleset_input in = {.rules = rules, .nrules = n, .global = globals, .nglobal = ng,
				      .match_limit = (uint32_t)check_cfg.match_limit};
	struct rd_ruleset *rs;
	if (rd_ruleset_build(&rs, &in, err, errsize))
		return NULL;
	if (rd_ruleset_compile_all(rs, err, errsize)) {
		rd_ruleset_free(rs);
		return NULL;
	}
	redact_context *cx;
	if (rd_context_create_with(&cx, &check_cfg, rs)) {
		rd_ruleset_free(rs);
		return NULL;
	}
	return cx;
}

/* Redacts text; returns a malloc'd copy of the output (stars style). */
static char *redact_text(redact_context *cx, const char *text, size_t *outlen, int *secrets)
{
	char *out;
	int rc = redact_buffer(cx, text, strlen(text), &out, outlen);
	if (rc < 0)
		return NULL;
	*secrets = rc;
	return out;
}

static int masked_exactly(const char *text, const char *out, size_t outlen, const char *secret)
{
	size_t n = strlen(text);
	if (outlen != n)
		return 0;
	const char *p = strstr(text, secret);
	size_t a = (size_t)(p - text), b = a + strlen(secret);
	for (size_t i = a; i < b; i++)
		if (out[i] != '*' && text[i] != '*')
			return 0;
	return 1;
}

static void show(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stderr);
		else
			fputc(*s, stderr);
	}
}

static int cmd_check_rules(int argc, char **argv)
{
	rd_config_defaults(&check_cfg);
	check_cfg.mask = RD_MASK_STARS;
	check_cfg.mode = RD_MODE_MASK;
	struct rd_rule_defs d;
	rd_rule_defs_init(&d);
	char err[1024];
	for (int i = 0; i < argc; i++) {
		int rc = rd_rules_load_path(&d, argv[i], err, sizeof(err));
		if (!rc)
			rc = rd_rules_validate(&d, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	const struct rd_rule_def **all = calloc(d.nrules + 1, sizeof(*all));
	const struct rd_allowlist_def **globals = calloc(d.nglobal + 1, sizeof(*globals));
	for (size_t i = 0; i < d.nrules; i++)
		all[i] = &d.rules[i];
	for (size_t i = 0; i < d.nglobal; i++)
		globals[i] = &d.global_allowlists[i];
	redact_context *full = context_for(all, d.nrules, globals, d.nglobal, err, sizeof(err));
	if (!full) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	size_t failures = 0, checked = 0, no_examples = 0;
	for (size_t i = 0; i < d.nrules; i++) {
		const struct rd_rule_def *r = &d.rules[i];
		if (!r->nmask_examples || !r->nkeep_examples) {
			fprintf(stderr, "%s:%d: rule '%s': needs at least one 'mask' and one 'keep' example\n", r->file,
				r->line, r->id);
			no_examples++;
		}
		const struct rd_rule_def *one[1] = {r};
		redact_context *alone = context_for(one, 1, globals, d.nglobal, err, sizeof(err));
		if (!alone) {
			fprintf(stderr, "%s\n", err);
			failures++;
			continue;
		}
		for (size_t e = 0; e < r->nmask_examples; e++) {
			const struct rd_example_def *ex = &r->mask_examples[e];
			size_t l1, l2;
			int s1, s2;
			char *o1 = redact_text(alone, ex->text, &l1, &s1);
			char *o2 = redact_text(full, ex->text, &l2, &s2);
			checked++;
			const char *why = NULL;
			if (!o1 || !o2)
				why = "redaction failed";
			else if (s1 == 0)
				why = "the rule does not match its own example";
			else if (ex->secret && !masked_exactly(ex->text, o1, l1, ex->secret))
				why = "the rule does not mask all of the expected secret";
			else if (ex->secret && !masked_exactly(ex->text, o2, l2, ex->secret))
				why = "the full rule set does not mask all of the expected secret";
			if (why) {
				fprintf(stderr, "%s:%d: rule '%s': mask example: %s\n    input:  ", r->file, ex->line, r->id,
					why);
				show(ex->text);
				fputs("\n    output: ", stderr);
				show(o1 ? o1 : "");
				fputc('\n', stderr);
				failures++;
			}
			free(o1);
			free(o2);
		}
		for (size_t e = 0; e < r->nkeep_examples; e++) {
			const struct rd_example_def *ex = &r->keep_examples[e];
			size_t l;
			int s;
			char *o = redact_text(full, ex->text, &l, &s);
			checked++;
			if (!o || s != 0 || l != strlen(ex->text) || memcmp(o, ex->text, l)) {
				fprintf(stderr, "%s:%d: rule '%s': keep example is masked by the rule set\n    input:  ",
					r->file, ex->line, r->id);
				show(ex->text);
				fputs("\n    output: ", stderr);
				show(o ? o : "");
				fputc('\n', stderr);
				failures++;
			}
			free(o);
		}
		redact_context_free(alone);
	}
	redact_context_free(full);
	printf("check-rules: %zu rules, %zu examples checked, %zu failures, %zu rules without both example kinds\n",
	       d.nrules, checked, failures, no_examples);
	free(all);
	free(globals);
	rd_rule_defs_destroy(&d);
	return failures || no_examples ? 1 : 0;
}

/* ---- scan ---- */

static int cmd_scan(int argc, char **argv)
{
	setenv("REDACT_AUDIT_LOG", "/dev/stdout", 1);
	return cmd_filter(argc, argv) ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: redact [FILE...]\n"
	      "       redact check-rules PATH...\n"
	      "       redact scan [FILE...]\n",
	      stderr);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "check-rules")) {
		if (argc < 3) {
			usage();
			return 2;
		}
		return cmd_check_rules(argc - 2, argv + 2);
	}
	if (argc > 1 && !strcmp(argv[1], "scan"))
		return cmd_scan(argc - 2, argv + 2);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage();
		return 0;
	}
	return cmd_filter(argc - 1, argv + 1);
}
