/*
 * Runs the loopback fake HTTP provider (see fake_provider.h).
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_provider.h"

/* The port the fake wrote to DIR/port, or 0 while it has not. */
static int read_port(const char *dir)
{
	char path[512];
	FILE *f;
	int port = 0;

	snprintf(path, sizeof(path), "%s/port", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

static int wait_for_port(const char *dir)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int port = 0, i;

	for (i = 0; i < 300 && (port = read_port(dir)) == 0; i++)
		nanosleep(&pause, NULL);
	return port;
}

int fake_provider_start(const char *provider, const char *key,
                        const char *dir, pid_t *pid)
{
	char log[512];

	snprintf(log, sizeof(log), "%s/log", dir);
	*pid = fork();
	if (*pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(126);
		execl(FAKE_PROVIDER_PYTHON, FAKE_PROVIDER_PYTHON,
		      FAKE_PROVIDER_SCRIPT, "--provider", provider, "--dir",
		      dir, "--key", key, (char *)NULL);
		_exit(127);
	}
	return *pid > 0 ? wait_for_port(dir) : 0;
}

void fake_provider_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
