/* Engine throughput with the full default rule set on an ML-log corpus,
 * in writes of 100 B, 1 KiB, 4 KiB and 64 KiB through a redact_stream,
 * side by side with two baselines over the same writes: memchr (a scan that
 * does nothing, the ceiling) and memcpy.  Several rounds; median, min, max.
 *
 *   engine_throughput CORPUS [ROUNDS [WRITE_SIZE]]
 */
#include <redact.h>

#include "bench_util.h"

static size_t sink_bytes;
static int sink(void *ud, const char *d, size_t n)
{
	(void)ud;
	(void)d;
	sink_bytes += n;
	return 0;
}

static volatile size_t keep;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	size_t len;
	char *data = slurp(argv[1], &len);
	char *copy = malloc(65536);
	redact_config *cfg;
	redact_context *ctx;
	/* REDACT_* settings from the environment apply (e.g. REDACT_RULES_DISABLE). */
	if (redact_config_create(&cfg) || redact_config_set(cfg, "REDACT_ENV_NAMES", "") || redact_config_load_env(cfg) ||
	    redact_context_create(&ctx, cfg)) {
		fprintf(stderr, "cannot create a context\n");
		return 1;
	}
	printf("engine throughput: %.1f MB corpus, %d rules, %d rounds (median [min-max])\n", len / 1e6,
	       redact_rule_count(ctx), rounds);
	printf("%-8s %26s %26s %26s %12s\n", "write", "libredact MB/s", "memchr MB/s", "memcpy MB/s",
	       "ns/call");
	/* A third argument measures that one write size (for profiling). */
	size_t sizes[] = {100, 1024, 4096, 65536};
	size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	if (argc > 3) {
		sizes[0] = (size_t)atol(argv[3]);
		nsizes = sizes[0] ? 1 : nsizes;
	}
	for (size_t si = 0; si < nsizes; si++) {
		size_t ws = sizes[si];
		double t_red[64], t_chr[64], t_cpy[64];
		for (int r = 0; r < rounds && r < 64; r++) {
			/* interleaved: one round of each, so machine noise hits all three */
			redact_stream *s;
			redact_stream_create(ctx, sink, NULL, &s);
			double t0 = now_s();
			for (size_t o = 0; o < len; o += ws)
				redact_stream_write(s, data + o, o + ws <= len ? ws : len - o);
			redact_stream_flush(s);
			t_red[r] = now_s() - t0;
			redact_stream_free(s);
			t0 = now_s();
			size_t hits = 0;
			for (size_t o = 0; o < len; o += ws) {
				size_t n = o + ws <= len ? ws : len - o;
				hits += memchr(data + o, 0, n) != NULL;
			}
			keep = hits;
			t_chr[r] = now_s() - t0;
			t0 = now_s();
			for (size_t o = 0; o < len; o += ws) {
				size_t n = o + ws <= len ? ws : len - o;
				memcpy(copy, data + o, n);
				keep += (size_t)copy[0];
			}
			t_cpy[r] = now_s() - t0;
		}
		int n = rounds < 64 ? rounds : 64;
		double mr = median(t_red, n), mc = median(t_chr, n), mm = median(t_cpy, n);
		size_t calls = (len + ws - 1) / ws;
		printf("%-8zu %8.0f [%6.0f-%6.0f] %8.0f [%6.0f-%6.0f] %8.0f [%6.0f-%6.0f] %12.1f\n", ws, len / mr / 1e6,
		       len / t_red[n - 1] / 1e6, len / t_red[0] / 1e6, len / mc / 1e6, len / t_chr[n - 1] / 1e6,
		       len / t_chr[0] / 1e6, len / mm / 1e6, len / t_cpy[n - 1] / 1e6, len / t_cpy[0] / 1e6,
		       mr / calls * 1e9);
	}
	redact_context_free(ctx);
	redact_config_free(cfg);
	free(copy);
	free(data);
	return 0;
}
