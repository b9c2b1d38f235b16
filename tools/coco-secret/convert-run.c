// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running the external tools of convert (qemu-img, sfdisk, e2fsck,
 * resize2fs, cryptsetup, convert-root.sh): fork and exec with an argv
 * array, never a shell string, and never a secret in argv or the
 * environment (key files are passed by path). Each child leads its own
 * process group, so that an interrupt of coco-secret reaches everything
 * it started (fuse2fs, apt) and the work directory can then go.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coco-secret.h"
#include "convert.h"

volatile int convert_interrupted;

static void on_signal(int sig)
{
	convert_interrupted = sig;
}

/* No SA_RESTART: a waitpid() or read() in progress returns EINTR. */
void convert_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("coco-secret: convert: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static pid_t spawn(const char *const argv[], int out_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A captured tool's own complaints: ours say what failed, in one line. */
	if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 || !freopen("/dev/null", "w", stderr)))
		_exit(127);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "coco-secret: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Waits for @pid; an interrupt is passed on to its whole process group. */
static int wait_child(pid_t pid, const char *name)
{
	bool forwarded = false;
	int status;

	for (;;) {
		if (convert_interrupted && !forwarded) {
			kill(-pid, SIGTERM);
			forwarded = true;
		}
		if (waitpid(pid, &status, 0) == pid)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (!convert_interrupted)
		err("%s was killed by signal %d", name, WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

/* Runs @argv; its exit status (127: could not run), or -errno. */
int run_argv(const char *const argv[])
{
	pid_t pid;

	if (convert_interrupted)
		return -EINTR;
	pid = spawn(argv, -1);
	if (pid < 0)
		return -errno;
	return wait_child(pid, argv[0]);
}

/* Runs @argv with its stdout read into *@out (NUL-terminated, malloc'd). */
int run_capture(const char *const argv[], char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fds[2], r;
	pid_t pid;

	if (buf == NULL || pipe2(fds, O_CLOEXEC) < 0) {
		free(buf);
		return -ENOMEM;
	}
	pid = spawn(argv, fds[1]);
	close(fds[1]);
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *p = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (p == NULL)
				break;
			buf = p;
			cap *= 2;
		}
		n = read(fds[0], buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR && !convert_interrupted)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	r = pid < 0 ? -errno : wait_child(pid, argv[0]);
	if (r != 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}
