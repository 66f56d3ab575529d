/*
 * The client-side rate limit (rate_per_minute=, rate_per_day=) driven by
 * a fake clock set with rm_transport_set_clock: the waits it asks for are
 * exact, a minute and a day pass without sleeping, a clock set after
 * some sends keeps their age, and retry() waits for the limit on its
 * own fake sleep. Messages go to a file:// folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "relaymail.h"

#define MINUTE (60 * 1000LL)
#define DAY (24 * 60 * MINUTE)

typedef struct fake_clock {
	long long now;
	long long slept;
	int sleeps;
} fake_clock;

static char dir[64];

static long long fake_now(void *user)
{
	return ((fake_clock *)user)->now;
}

static void fake_sleep(long long ms, void *user)
{
	fake_clock *c = user;

	c->now += ms;
	c->slept += ms;
	c->sleeps++;
}

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rm-test-rate-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Opens "file://DIR?QUERY", or "KIND(file://DIR?QUERY)?OUTER". */
static rm_transport *open_t(const char *kind, const char *query,
                            const char *outer)
{
	char url[512];
	rm_transport *t = NULL;
	rm_error err;

	if (kind == NULL)
		snprintf(url, sizeof(url), "file://%s?%s", dir, query);
	else
		snprintf(url, sizeof(url), "%s(file://%s?%s)?%s", kind, dir,
		         query, outer);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), RM_OK);
	return t;
}

static rm_message *message(void)
{
	rm_message *m = NULL;

	assert_int_equal(rm_message_new(&m, NULL), RM_OK);
	assert_int_equal(rm_message_set_from(m, "a@example.com", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_add_to(m, "b@example.net", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_set_subject(m, "rate", NULL), RM_OK);
	assert_int_equal(rm_message_set_text(m, "hi\n", (size_t)-1, NULL),
	                 RM_OK);
	return m;
}

/* Sends one message; *wait gets the retry hint of the result. */
static int send_one(rm_transport *t, rm_error *err, long long *wait)
{
	rm_message *m = message();
	rm_result *r = NULL;
	int rc;

	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	rc = rm_send(t, m, r, err);
	*wait = rm_result_retry_after_ms(r);
	rm_result_free(r);
	rm_message_free(m);
	return rc;
}

/* Refused by the limit called field, with exactly wait ms to go. */
static void assert_refused(rm_transport *t, const char *field,
                           long long wait)
{
	long long hint = 0;
	rm_error err;

	assert_int_equal(send_one(t, &err, &hint), RM_ETEMPFAIL);
	assert_int_equal(err.outcome, RM_OUTCOME_TRANSIENT);
	assert_string_equal(err.field, field);
	assert_int_equal(hint, wait);
}

static void assert_sent(rm_transport *t)
{
	long long hint = 0;
	rm_error err;

	assert_int_equal(send_one(t, &err, &hint), RM_OK);
}

static void rate__minute_by_fake_clock(void **state)
{
	fake_clock c = { 5 * DAY, 0, 0 };
	rm_transport *t = open_t(NULL, "rate_per_minute=2", NULL);

	(void)state;
	assert_int_equal(rm_transport_set_clock(t, fake_now, NULL, &c, NULL),
	                 RM_OK);
	assert_sent(t);
	c.now += 10000;
	assert_sent(t);
	assert_refused(t, "rate_per_minute", MINUTE - 10000);
	c.now += MINUTE - 10000 - 1;
	assert_refused(t, "rate_per_minute", 1);
	c.now += 1;
	assert_sent(t);
	/* The second send leaves the window 10 s after the first. */
	assert_refused(t, "rate_per_minute", 10000);
	rm_transport_close(t);
}

static void rate__day_by_fake_clock(void **state)
{
	fake_clock c = { 0, 0, 0 };
	rm_transport *t = open_t(NULL, "rate_per_minute=5&rate_per_day=3",
	                         NULL);

	(void)state;
	assert_int_equal(rm_transport_set_clock(t, fake_now, NULL, &c, NULL),
	                 RM_OK);
	assert_sent(t);
	assert_sent(t);
	c.now += MINUTE;
	assert_sent(t);
	c.now += MINUTE;
	assert_refused(t, "rate_per_day", DAY - 2 * MINUTE);
	c.now = DAY - 1;
	assert_refused(t, "rate_per_day", 1);
	c.now = DAY;
	assert_sent(t);
	assert_sent(t);
	assert_refused(t, "rate_per_day", MINUTE);
	rm_transport_close(t);
}

/* Sends made on the system clock keep their age on the new one. */
static void rate__clock_set_later(void **state)
{
	fake_clock c = { 0, 0, 0 };
	rm_transport *t = open_t(NULL, "rate_per_minute=1", NULL);
	long long hint = 0;
	rm_error err;

	(void)state;
	assert_sent(t);
	assert_int_equal(rm_transport_set_clock(t, fake_now, NULL, &c, NULL),
	                 RM_OK);
	assert_int_equal(send_one(t, &err, &hint), RM_ETEMPFAIL);
	assert_true(hint > MINUTE - 5000);
	assert_true(hint <= MINUTE);
	c.now += hint;
	assert_sent(t);
	rm_transport_close(t);
}

/* retry() reads the limit's hint and waits on the fake sleep. */
static void rate__retry_waits_on_fake_sleep(void **state)
{
	fake_clock c = { 1000, 0, 0 };
	rm_transport *t = open_t("retry", "rate_per_minute=1",
	                         "attempts=2&max_wait=2m");
	rm_counters n;

	(void)state;
	assert_int_equal(rm_transport_set_clock(t, fake_now, fake_sleep, &c,
	                 NULL), RM_OK);
	assert_sent(t);
	c.now += 15000;
	assert_sent(t);
	assert_int_equal(c.sleeps, 1);
	assert_true(c.slept >= MINUTE - 15000);
	assert_int_equal(rm_transport_counters(t, NULL, &n, NULL), RM_OK);
	assert_int_equal(n.sent, 2);
	assert_int_equal(n.failed, 0);
	rm_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rate__minute_by_fake_clock),
		cmocka_unit_test(rate__day_by_fake_clock),
		cmocka_unit_test(rate__clock_set_later),
		cmocka_unit_test(rate__retry_waits_on_fake_sleep),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
