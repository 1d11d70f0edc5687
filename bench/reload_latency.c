/* Reload: (1) how long from a rule-file change to every writer using the
 * new set, when redact_reload() is called (the interval-driven check adds
 * at most PATTERN_UPDATE_INTERVAL); (2) write latency of 4 writer threads
 * (p50/p99/max per redact_buffer call of one 128-byte log line) without
 * reloads and while a reload runs every 10 ms.
 *
 *   reload_latency SECONDS_PER_PHASE */
#include <redact.h>

#include "bench_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define WRITERS 4
#define MAXS 2000000

static redact_context *ctx;
static atomic_int stop;
static double *lat[WRITERS];
static size_t nlat[WRITERS];
static const char *line = "2026-11-22 12:00:01 INFO step=1200 loss=0.2345 tokens/s=51234 run=alpha_1234 ok\n";

static void *writer(void *arg)
{
	long id = (long)arg;
	nlat[id] = 0;
	while (!atomic_load(&stop) && nlat[id] < MAXS) {
		char *out;
		size_t n;
		double t0 = now_s();
		redact_buffer(ctx, line, strlen(line), &out, &n);
		lat[id][nlat[id]++] = now_s() - t0;
		redact_free(out);
	}
	return NULL;
}

static void rules(const char *path, const char *id)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	fprintf(f, "family: bench\nrules:\n  - id: %s\n    description: d\n    regex: '%s_[0-9]{4}'\n"
		   "    keywords: [%s_]\n",
		id, id, id);
	fclose(f);
	rename(tmp, path);
}

static void phase(double secs, int reloading, const char *name)
{
	atomic_store(&stop, 0);
	pthread_t t[WRITERS];
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	double end = now_s() + secs;
	int reloads = 0;
	while (now_s() < end) {
		if (reloading) {
			redact_reload(ctx);
			reloads++;
		}
		usleep(10000);
	}
	atomic_store(&stop, 1);
	size_t total = 0;
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		total += nlat[i];
	}
	double *all = malloc(total * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < WRITERS; i++)
		for (size_t j = 0; j < nlat[i]; j++)
			all[k++] = lat[i][j];
	median(all, (int)total);
	printf("%-22s %10zu %8d %10.2f %10.2f %10.2f\n", name, total, reloads, all[total / 2] * 1e6,
	       all[(size_t)(total * 0.99)] * 1e6, all[total - 1] * 1e6);
	free(all);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	char path[] = "/tmp/redact-bench-reload.yaml";
	rules(path, "alpha");
	redact_config *cfg;
	redact_config_create(&cfg);
	redact_config_set(cfg, "REDACT_PATTERNS", path);
	redact_config_set(cfg, "PATTERN_UPDATE_INTERVAL", "0");
	redact_config_set(cfg, "REDACT_ENV_NAMES", "");
	if (redact_context_create(&ctx, cfg))
		return 1;
	for (int i = 0; i < WRITERS; i++)
		lat[i] = malloc(MAXS * sizeof(double));
	/* (1) change -> every writer uses the new set: redact_reload returns
	 * after synchronize_rcu, so afterwards no writer sees the old set. */
	double r[21];
	for (int i = 0; i < 21; i++) {
		rules(path, i % 2 ? "alpha" : "bravo");
		double t0 = now_s();
		redact_reload(ctx);
		r[i] = now_s() - t0;
	}
	double m = median(r, 21);
	printf("reload (file change -> all writers on the new set): median %.3f ms [%.3f-%.3f]\n", m * 1e3, r[0] * 1e3,
	       r[20] * 1e3);
	printf("%-22s %10s %8s %10s %10s %10s\n", "write latency", "calls", "reloads", "p50 us", "p99 us", "max us");
	phase(secs, 0, "no reloads");
	phase(secs, 1, "reload every 10 ms");
	phase(secs, 0, "no reloads (again)");
	redact_context_free(ctx);
	redact_config_free(cfg);
	unlink(path);
	return 0;
}
