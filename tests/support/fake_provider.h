/*
 * The loopback fake HTTP provider (tests/fakes/fake_provider.py), run by
 * unit tests that send through an HTTP backend. Paths are relative to
 * the top of the tree, where the unit tests run.
 */
#ifndef FAKE_PROVIDER_H
#define FAKE_PROVIDER_H

#include <sys/types.h>

#define FAKE_PROVIDER_SCRIPT "tests/fakes/fake_provider.py"
#define FAKE_PROVIDER_PYTHON "/usr/bin/python3"

/* Starts the fake for PROVIDER (such as "sendgrid"), expecting KEY, in
 * the existing folder DIR, where it keeps each request and its stderr
 * (DIR/log); sets *pid. Returns the port it listens on once it does, or
 * 0 if it does not within 15 s (then *pid may still need stopping). */
int fake_provider_start(const char *provider, const char *key,
                        const char *dir, pid_t *pid);

/* Stops the fake (pid 0 or less: nothing to stop). */
void fake_provider_stop(pid_t pid);

#endif /* FAKE_PROVIDER_H */
