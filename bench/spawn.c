/* Process start cost: spawns PROGRAM n times (posix_spawn + waitpid) and
 * prints the mean ms per spawn of this batch.  run.sh alternates batches
 * without preload, with a do-nothing object linked to the same libraries
 * (noop_preload.so, the floor) and with libredact, and takes medians.
 *
 *   spawn N PROGRAM [PRELOAD] */
#include "bench_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[1]);
	char *av[] = {argv[2], NULL};
	/* The environment of the spawned program: ours plus LD_PRELOAD. */
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **env = calloc(ne + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11))
			env[k++] = environ[i];
	char pre[4096];
	if (argc > 3 && argv[3][0]) {
		snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", argv[3]);
		env[k++] = pre;
	}
	env[k] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		pid_t p;
		if (posix_spawn(&p, argv[2], &fa, NULL, av, env))
			return 1;
		waitpid(p, NULL, 0);
	}
	printf("%.4f\n", (now_s() - t0) / n * 1e3);
	return 0;
}
