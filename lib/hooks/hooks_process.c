/* Process and descriptor lifecycle: held-back bytes are released before a
 * descriptor is closed or replaced, before fork, exec and spawn, and
 * before the process ends.  The descriptor cache forgets closed numbers.
 *
 * vfork is not hooked: a wrapper would return in the child and clobber the
 * parent's stack frame.  Python 3.10+ spawns with vfork and posix_spawn,
 * system and popen run no atfork handlers (field notes section 3), so the
 * exec family, posix_spawn, system and popen release first themselves. */
#include "rd_hooks.h"

#include <limits.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

RD_EXPORT int close(int fd)
{
	if (rd_ready())
		rd_release_fd(fd, -1);
	rd_fd_forget(fd);
	return RD_REAL(close)(fd);
}

RD_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		if (rd_ready() && atomic_load(&rd_held))
			for (unsigned int fd = first; fd <= last && fd < RD_FD_CACHE; fd++)
				rd_release_fd((int)fd, -1);
		rd_fd_forget_range(first, last);
	}
	return RD_REAL(close_range)(first, last, flags);
}

RD_EXPORT void closefrom(int low)
{
	if (low < 0)
		low = 0;
	if (rd_ready() && atomic_load(&rd_held))
		for (int fd = low; fd < RD_FD_CACHE; fd++)
			rd_release_fd(fd, -1);
	rd_fd_forget_range((unsigned int)low, UINT_MAX);
	RD_REAL(closefrom)(low);
}

RD_EXPORT int dup2(int old, int new)
{
	if (old != new) {
		if (rd_ready())
			rd_release_fd(new, old);
		rd_fd_forget(new);
	}
	return RD_REAL(dup2)(old, new);
}

RD_EXPORT int dup3(int old, int new, int flags)
{
	if (old != new) {
		if (rd_ready())
			rd_release_fd(new, old);
		rd_fd_forget(new);
	}
	return RD_REAL(dup3)(old, new, flags);
}

/* A FILE going away: what it holds goes into its buffer (which the real
 * call then flushes), and its descriptor is forgotten. */
static void file_ends(FILE *f)
{
	if (!f)
		return;
	int fd = fileno(f);
	if (rd_ready() && rd_depth == 0) {
		flockfile(f);
		rd_file_release(f, 1);
		funlockfile(f);
		if (fd >= 0)
			rd_release_fd(fd, -1);
	} else {
		rd_file_release(f, 1);
	}
	if (fd >= 0)
		rd_fd_forget(fd);
}

RD_EXPORT int fclose(FILE *f)
{
	file_ends(f);
	return RD_REAL(fclose)(f);
}

/* pclose waits for the command, which writes to the same sinks: what we
 * hold was written before and goes first (popen released before starting
 * it; bytes held since would come out after the command's last output). */
RD_EXPORT int pclose(FILE *f)
{
	file_ends(f);
	if (rd_ready())
		rd_release_sinks();
	return RD_REAL(pclose)(f);
}

RD_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	file_ends(f);
	return RD_REAL(freopen)(path, mode, f);
}

RD_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	file_ends(f);
	return RD_REAL(freopen64)(path, mode, f);
}

RD_EXPORT int fcloseall(void)
{
	if (rd_ready() && rd_depth == 0) {
		rd_file_release_all(1);
		rd_release_all();
	}
	rd_fd_forget_all();
	return RD_REAL(fcloseall)();
}

/* fork: the atfork handlers (sink.c) release and lock around it. */
RD_EXPORT pid_t fork(void)
{
	if (rd_ready())
		rd_release_sinks();
	return RD_REAL(fork)();
}

static void before_new_image(void)
{
	if (rd_ready())
		rd_release_sinks();
}

RD_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	before_new_image();
	return RD_REAL(execve)(path, argv, envp);
}

RD_EXPORT int execv(const char *path, char *const argv[])
{
	before_new_image();
	return RD_REAL(execv)(path, argv);
}

RD_EXPORT int execvp(const char *file, char *const argv[])
{
	before_new_image();
	return RD_REAL(execvp)(file, argv);
}

RD_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	before_new_image();
	return RD_REAL(execvpe)(file, argv, envp);
}

RD_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	before_new_image();
	return RD_REAL(fexecve)(fd, argv, envp);
}

/* execl and friends: collect the variadic arguments into an argv. */
#define MAX_ARGS 4096
static int collect_args(const char *arg, va_list ap, char **argv, char ***envp)
{
	int n = 0;
	argv[n++] = (char *)arg;
	while (arg && n < MAX_ARGS) {
		arg = va_arg(ap, const char *);
		argv[n++] = (char *)arg;
	}
	if (n >= MAX_ARGS && arg) {
		errno = E2BIG;
		return -1;
	}
	if (envp)
		*envp = va_arg(ap, char **);
	return 0;
}

RD_EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[MAX_ARGS + 1];
	va_list ap;
	va_start(ap, arg);
	int rc = collect_args(arg, ap, argv, NULL);
	va_end(ap);
	if (rc)
		return -1;
	return execv(path, argv);
}

RD_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[MAX_ARGS + 1];
	va_list ap;
	va_start(ap, arg);
	int rc = collect_args(arg, ap, argv, NULL);
	va_end(ap);
	if (rc)
		return -1;
	return execvp(file, argv);
}

RD_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[MAX_ARGS + 1];
	char **envp;
	va_list ap;
	va_start(ap, arg);
	int rc = collect_args(arg, ap, argv, &envp);
	va_end(ap);
	if (rc)
		return -1;
	return execve(path, argv, envp);
}

RD_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	before_new_image();
	return RD_REAL(posix_spawn)(pid, path, fa, at, argv, envp);
}

RD_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	before_new_image();
	return RD_REAL(posix_spawnp)(pid, file, fa, at, argv, envp);
}

RD_EXPORT int system(const char *cmd)
{
	before_new_image();
	return RD_REAL(system)(cmd);
}

RD_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	before_new_image();
	return RD_REAL(popen)(cmd, mode);
}

/* _exit does not flush stdio, and neither do we into it: what a FILE held
 * is lost exactly as the FILE's buffer is.  Descriptor-level bytes (and
 * FILE bytes the program flushed) were accepted by write() and must go
 * out. */
RD_EXPORT void _exit(int status)
{
	if (rd_ready())
		rd_release_sinks();
	RD_REAL(_exit)(status);
	__builtin_unreachable();
}

RD_EXPORT void _Exit(int status)
{
	if (rd_ready())
		rd_release_sinks();
	RD_REAL(_Exit)(status);
	__builtin_unreachable();
}

RD_EXPORT void quick_exit(int status)
{
	if (rd_ready())
		rd_release_sinks(); /* quick_exit does not flush stdio either */
	RD_REAL(quick_exit)(status);
	__builtin_unreachable();
}
