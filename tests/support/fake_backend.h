/*
 * A scripted in-process backend for the route layer's unit tests, and a
 * fake clock. A composite is opened with file:// children, then each
 * child is turned into a fake that plays a list of outcomes and records
 * every call (the envelope it got, the Message-ID).
 */
#ifndef FAKE_BACKEND_H
#define FAKE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "relaymail.h"

/*
 * One scripted try. rcpts gives one letter per envelope recipient of the
 * try, in order: D delivered (250), T transient (450), P refused for good
 * (550), A ambiguous; the last letter repeats. NULL: every recipient
 * shares the outcome.
 */
typedef struct fb_step {
	rm_outcome outcome;
	int rc;
	int reply_code;
	long long retry_after_ms;
	const char *rcpts;
} fb_step;

#define FB_CALLS_MAX 32

typedef struct fb_call {
	char rcpts[512];        /* the envelope recipients, space-separated */
	char message_id[256];
} fb_call;

typedef struct fake_backend {
	const fb_step *steps;
	size_t step_count;      /* after the last step it repeats */
	size_t calls;
	fb_call call[FB_CALLS_MAX];
	long long *clock;       /* advanced by latency_ms on each call */
	long long latency_ms;
} fake_backend;

/* Turns the plain transport t into a fake playing steps (kept). */
void fb_attach(rm_transport *t, fake_backend *fb, const fb_step *steps,
               size_t step_count);

/* Makes the fake t send to every recipient or none, as JSON APIs do. */
void fb_whole_message(rm_transport *t);

/* Child i of the composite t. */
rm_transport *fb_child(rm_transport *t, size_t i);

/* A clock that only moves when told, and a sleep that records waits. */
typedef struct fb_clock {
	long long now;
	long long waits[FB_CALLS_MAX];
	size_t wait_count;
	uint32_t random;        /* what the random source returns... */
	const uint32_t *draws;  /* ...unless these are set: one per call */
	size_t draw_count;
	size_t drawn;
} fb_clock;

/* Installs clock (now 1e12, random 0) as t's clock, sleep and random. */
void fb_clock_install(rm_transport *t, fb_clock *clock);

/* A message from a@example.com to the comma-separated list. */
rm_message *fb_message(const char *to);

#endif /* FAKE_BACKEND_H */
