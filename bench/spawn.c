/*
 * spawn: runs one command N times, one after the other, each with its
 * standard input from FILE (or /dev/null) and its output discarded, and
 * prints "elapsed=SECONDS sent=N". It stops at the first failure. Used
 * for the one-process-per-message workload so that every peer is
 * started the same way, without a shell in between.
 *
 *   spawn N [--stdin FILE] -- COMMAND ARG...
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_once(char **argv, const char *in)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "spawn: %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawn: %s failed (status %d)\n", argv[0],
		        status);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *in = "/dev/null";
	long n, i;
	int a = 2;
	double t0;

	if (argc < 4)
		goto usage;
	n = strtol(argv[1], NULL, 10);
	if (strcmp(argv[a], "--stdin") == 0 && a + 1 < argc) {
		in = argv[a + 1];
		a += 2;
	}
	if (n < 1 || a >= argc || strcmp(argv[a], "--") != 0 || a + 1 >= argc)
		goto usage;
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (run_once(argv + a + 1, in) != 0)
			return 1;
	printf("elapsed=%.6f sent=%ld\n", now_s() - t0, n);
	return 0;
usage:
	fputs("usage: spawn N [--stdin FILE] -- COMMAND ARG...\n", stderr);
	return 2;
}
