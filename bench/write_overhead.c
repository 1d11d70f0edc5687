/* Cost of one write() of 16 B, 128 B and 4 KiB to fd 1, timed inside the
 * process.  run.sh runs it with and without the library preloaded, in
 * alternating rounds, with fd 1 on /dev/null and on a pipe that another
 * process drains.  The text is ML-log-like and contains no secret.
 *
 *   write_overhead ITERATIONS   -> prints "size ns_per_write" lines */
#include "bench_util.h"

#include <unistd.h>

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	static const size_t sizes[] = {16, 128, 4096};
	char buf[4096];
	const char *line = "epoch 3 step 1200 loss=0.2345 lr=3.0e-04 tokens/s=51234 grad_norm=1.02\n";
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = line[i % strlen(line)];
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		buf[n - 1] = '\n';
		double t0 = now_s();
		for (long i = 0; i < iters; i++)
			if (write(1, buf, n) != (ssize_t)n)
				return 1;
		double t = now_s() - t0;
		buf[n - 1] = line[(n - 1) % strlen(line)];
		fprintf(stderr, "%zu %.1f\n", n, t / iters * 1e9);
	}
	return 0;
}
