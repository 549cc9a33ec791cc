// SPDX-License-Identifier: GPL-2.0-only
/*
 * run-timeout SECONDS PROGRAM [ARG...]
 *
 * Run PROGRAM in a process group of its own; after SECONDS, kill the
 * group. Exit with PROGRAM's status, 128 + the signal that killed it, or
 * 124 on a timeout (as coreutils' timeout does). The guest's busybox
 * timeout cannot be relied on: the i386 build kills at once.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Only interrupts waitpid(): SIGALRM is the one signal handled here. */
static void on_alarm(int sig)
{
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int status, expired = 0;
	pid_t pid;
	char *end;
	long secs;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SECONDS PROGRAM [ARG...]\n", argv[0]);
		return 125;
	}
	secs = strtol(argv[1], &end, 10);
	if (*end || secs <= 0) {
		fprintf(stderr, "%s: bad timeout %s\n", argv[0], argv[1]);
		return 125;
	}

	pid = fork();
	if (pid < 0)
		return 125;
	if (!pid) {
		setpgid(0, 0);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	setpgid(pid, pid);
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR || expired)
			return 125;
		expired = 1;
		fprintf(stderr, "%s: %s did not finish in %lds; killed\n",
			argv[0], argv[2], secs);
		kill(-pid, SIGKILL);
	}
	if (expired)
		return 124;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
