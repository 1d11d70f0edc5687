/* Hot reload: writers never stop and always see one complete rule set while
 * the rule file is replaced (>= 1000 times, broken versions included); the
 * periodic check notices rename replacements and Kubernetes ConfigMap
 * symlink swaps; a forked child keeps a valid set and its own reloader. */
#include "test_util.h"
#include "rd_context.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define RULE(id)                                                                         \
	"family: reload\nrules:\n  - id: " id "\n    description: d\n    regex: '" id "_[0-9]{4}'\n" \
	"    keywords: [" id "_]\n"

static const char *const version_a = RULE("alpha");
static const char *const version_b = RULE("bravo");
static const char *const broken_yaml = "family: reload\nrules: [oops\n";
static const char *const broken_regex =
	"family: reload\nrules:\n  - id: bad\n    description: d\n    regex: 'x(('\n    keywords: [xxxx]\n";

static const char *const input = "alpha_1234 bravo_5678";
static const char *const out_a = "********** bravo_5678";
static const char *const out_b = "alpha_1234 **********";

static redact_context *ctx;
static atomic_int stop, bad_outputs, done_calls;

static void *writer(void *arg)
{
	long id = (long)arg;
	struct collect c = {0};
	while (!atomic_load(&stop)) {
		if (id % 2 == 0) {
			char *out;
			size_t len;
			if (redact_buffer(ctx, input, strlen(input), &out, &len) < 0 ||
			    (strcmp(out, out_a) && strcmp(out, out_b)))
				atomic_fetch_add(&bad_outputs, 1);
			redact_free(out);
		} else {
			/* a stream written in two parts, then flushed */
			redact_stream *s;
			c.len = 0;
			if (redact_stream_create(ctx, collect_cb, &c, &s))
				continue;
			redact_stream_write(s, input, 7);
			redact_stream_write(s, input + 7, strlen(input) - 7);
			redact_stream_flush(s);
			redact_stream_free(s);
			/* the two halves may see different sets, but each secret is
			 * masked by the set that saw it whole: never a partial mask */
			if (!c.p || (strcmp(c.p, out_a) && strcmp(c.p, out_b) &&
				     strcmp(c.p, "********** **********") && strcmp(c.p, input)))
				atomic_fetch_add(&bad_outputs, 1);
		}
		atomic_fetch_add(&done_calls, 1);
	}
	free(c.p);
	return NULL;
}

static int iterations(void)
{
	/* Valgrind runs ~50x slower; the plain run does the full 1000+. */
	return getenv("REDACT_TEST_UNDER_VALGRIND") ? 120 : 1200;
}

static void test_reload_under_load(void **state)
{
	(void)state;
	char *path = write_tmp("hot.yaml", version_a);
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	assert_int_equal(redact_config_set(cfg, "PATTERN_UPDATE_INTERVAL", "0"), 0);
	assert_int_equal(redact_context_create(&ctx, cfg), 0);
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	int n = iterations(), ok = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		int v = i % 4;
		const char *text = v == 0 ? version_a : v == 1 ? version_b : v == 2 ? broken_yaml : broken_regex;
		free(write_tmp("hot.yaml", text));
		int rc = redact_reload(ctx);
		if (v < 2) {
			assert_int_equal(rc, 0);
			ok++;
			/* after a successful reload, new calls use the new set */
			assert_redacts(ctx, input, v == 0 ? out_a : out_b);
		} else {
			assert_int_equal(rc, REDACT_ERROR_RULES);
			failed++;
			/* a broken file never replaces the working set */
			assert_redacts(ctx, input, out_b);
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&bad_outputs), 0);
	assert_true(atomic_load(&done_calls) > 0);
	print_message("%d reloads (%d ok, %d refused) while writers made %d calls\n", n, ok, failed,
		      atomic_load(&done_calls));
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(path);
}

/* The periodic check: an atomic rename replacement is noticed. */
static void test_interval_reload(void **state)
{
	(void)state;
	char *path = write_tmp("interval.yaml", version_a);
	redact_context *c;
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	assert_int_equal(redact_config_set(cfg, "PATTERN_UPDATE_INTERVAL", "1"), 0);
	assert_int_equal(redact_context_create(&c, cfg), 0);
	assert_redacts(c, input, out_a);
	free(write_tmp("interval.yaml", version_b));
	int changed = 0;
	for (int i = 0; i < 100 && !changed; i++) {
		char *o = redact_str(c, input, NULL);
		changed = !strcmp(o, out_b);
		free(o);
		if (!changed)
			usleep(50000);
	}
	assert_true(changed);
	redact_context_free(c);
	redact_config_free(cfg);
	free(path);
}

static void make_version_dir(const char *dir, const char *name, const char *text)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/rules.yaml", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

/* Kubernetes ConfigMap volumes: files are symlinks through ..data, which is
 * switched atomically to a new timestamped directory. */
static void test_configmap_swap(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/configmap", tmpdir());
	mkdir(dir, 0755);
	make_version_dir(dir, "..2026_11_22_10_00_00.1", version_a);
	make_version_dir(dir, "..2026_11_22_10_05_00.2", version_b);
	char link[700], tmp[700];
	snprintf(link, sizeof(link), "%s/..data", dir);
	assert_int_equal(symlink("..2026_11_22_10_00_00.1", link), 0);
	snprintf(tmp, sizeof(tmp), "%s/rules.yaml", dir);
	assert_int_equal(symlink("..data/rules.yaml", tmp), 0);

	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", dir), 0);
	assert_int_equal(redact_config_set(cfg, "PATTERN_UPDATE_INTERVAL", "0"), 0);
	redact_context *c;
	assert_int_equal(redact_context_create(&c, cfg), 0);
	assert_redacts(c, input, out_a);
	/* nothing changed: the check does not reload */
	assert_int_equal(rd_context_reload(c, 1), 0);
	assert_redacts(c, input, out_a);
	/* the kubelet's swap: new symlink, renamed over ..data */
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", dir);
	assert_int_equal(symlink("..2026_11_22_10_05_00.2", tmp), 0);
	assert_int_equal(rename(tmp, link), 0);
	assert_int_equal(rd_context_reload(c, 1), 0);
	assert_redacts(c, input, out_b);
	redact_context_free(c);
	redact_config_free(cfg);
}

/* A forked child keeps a valid set and gets its own reloader. */
static void test_fork(void **state)
{
	(void)state;
	char *path = write_tmp("fork.yaml", version_a);
	redact_config *cfg;
	assert_int_equal(redact_config_create(&cfg), 0);
	assert_int_equal(redact_config_set(cfg, "REDACT_PATTERNS", path), 0);
	assert_int_equal(redact_config_set(cfg, "PATTERN_UPDATE_INTERVAL", "1"), 0);
	redact_context *c;
	assert_int_equal(redact_context_create(&c, cfg), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char *out;
		size_t len;
		if (redact_buffer(c, input, strlen(input), &out, &len) != 1 || strcmp(out, out_a))
			_exit(2);
		redact_free(out);
		FILE *f = fopen("/dev/null", "w");
		(void)f;
		/* replace the rules; the child's reloader must pick it up */
		char tmp[700];
		snprintf(tmp, sizeof(tmp), "%s.new", path);
		FILE *w = fopen(tmp, "w");
		fputs(version_b, w);
		fclose(w);
		rename(tmp, path);
		for (int i = 0; i < 100; i++) {
			redact_buffer(c, input, strlen(input), &out, &len);
			int changed = !strcmp(out, out_b);
			redact_free(out);
			if (changed) {
				redact_context_free(c);
				redact_config_free(cfg);
				free(path);
				_exit(0);
			}
			usleep(50000);
		}
		_exit(3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	redact_context_free(c);
	redact_config_free(cfg);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_under_load),
		cmocka_unit_test(test_interval_reload),
		cmocka_unit_test(test_configmap_swap),
		cmocka_unit_test(test_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
