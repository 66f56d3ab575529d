/*
 * The circuit breaker: K consecutive failures open it, a cooldown later
 * one probe decides, the memory and file stores, and the file store
 * shared by handles and by processes under flock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "route_int.h"

#define DELIVERED { RM_OUTCOME_DELIVERED, RM_OK, 250, 0, NULL }
#define TEMP { RM_OUTCOME_TRANSIENT, RM_ETEMPFAIL, 421, 0, NULL }
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct bt {
	rm_transport *t;
	fake_backend fb[2];
	fb_clock clock;
	rm_result *r;
	rm_error err;
	int skips;
} bt;

static void on_event(const rm_event *ev, void *user)
{
	bt *x = user;

	if (ev->kind == RM_EVENT_SKIPPED)
		x->skips++;
}

static void bt_open(bt *x, const char *url, const fb_step *a, size_t na,
                    const fb_step *b, size_t nb)
{
	memset(x, 0, sizeof(*x));
	assert_int_equal(rm_transport_open(&x->t, url, NULL, &x->err), 0);
	assert_int_equal(rm_result_new(&x->r, NULL), 0);
	fb_clock_install(x->t, &x->clock);
	rm_transport_set_event_callback(x->t, on_event, x, NULL);
	fb_attach(fb_child(x->t, 0), &x->fb[0], a, na);
	if (b != NULL)
		fb_attach(fb_child(x->t, 1), &x->fb[1], b, nb);
}

static int bt_send(bt *x)
{
	rm_message *m = fb_message("b@example.net");
	int rc = rm_send(x->t, m, x->r, &x->err);

	rm_message_free(m);
	return rc;
}

static void bt_free(bt *x)
{
	rm_transport_close(x->t);
	rm_result_free(x->r);
}

static void breaker__opens_skips_probes_and_closes(void **state)
{
	static const fb_step a[] = { TEMP, TEMP, TEMP, DELIVERED };
	static const fb_step b[] = { DELIVERED };
	rm_counters n;
	bt x;

	(void)state;
	bt_open(&x, "failover(file:///tmp#a file:///tmp#b)?breaker=2&"
	        "breaker_cooldown=10s", a, N(a), b, N(b));
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 2);

	/* Two failures in a row: a is skipped for the cooldown. */
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 2);
	assert_int_equal(x.skips, 1);
	x.clock.now += 9999;
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 2);

	/* The cooldown is over: one probe, which fails and reopens. */
	x.clock.now += 1;
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 3);
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 3);

	/* The next probe succeeds and a is back. */
	x.clock.now += 10000;
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 4);
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 5);
	assert_int_equal(rm_transport_counters(x.t, "a", &n, NULL), 0);
	assert_int_equal(n.skipped, 3);
	assert_int_equal(n.attempts, 5);
	assert_int_equal(n.sent, 2);
	assert_int_equal(n.failed, 3);
	assert_int_equal(x.fb[1].calls, 6);
	bt_free(&x);
}

static void breaker__open_under_retry_fails_at_once(void **state)
{
	static const fb_step a[] = { TEMP };
	bt x;

	(void)state;
	bt_open(&x, "retry(file:///tmp#a)?attempts=2&breaker=2", a, N(a),
	        NULL, 0);
	assert_int_equal(bt_send(&x), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 2);
	assert_int_equal(bt_send(&x), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 2);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_non_null(strstr(x.err.message, "circuit breaker is open"));
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_attempt_count(x.r), 0);
	bt_free(&x);
}

/* Within one send retry() keeps to attempts=, whatever K is. */
static void breaker__retry_keeps_its_attempts(void **state)
{
	static const fb_step a[] = { TEMP, TEMP, TEMP, DELIVERED };
	bt x;

	(void)state;
	bt_open(&x, "retry(file:///tmp#a)?attempts=4&breaker=2", a, N(a),
	        NULL, 0);
	assert_int_equal(bt_send(&x), RM_OK);
	assert_int_equal(x.fb[0].calls, 4);
	assert_int_equal(x.skips, 0);
	bt_free(&x);
}

static void breaker__everything_open_is_transient(void **state)
{
	static const fb_step a[] = { TEMP };
	bt x;

	(void)state;
	bt_open(&x, "failover(file:///tmp#a file:///tmp#b)?breaker=1", a,
	        N(a), a, N(a));
	assert_int_equal(bt_send(&x), RM_ETEMPFAIL);
	assert_int_equal(bt_send(&x), RM_ETEMPFAIL);
	assert_non_null(strstr(x.err.message, "circuit breakers are open"));
	assert_int_equal(x.skips, 2);
	assert_int_equal(x.fb[0].calls + x.fb[1].calls, 2);
	bt_free(&x);
}

static void breaker__off_with_zero(void **state)
{
	static const fb_step a[] = { TEMP };
	bt x;
	int i;

	(void)state;
	bt_open(&x, "failover(file:///tmp#a)?breaker=0", a, N(a), NULL, 0);
	for (i = 0; i < 10; i++)
		bt_send(&x);
	assert_int_equal(x.fb[0].calls, 10);
	assert_int_equal(x.skips, 0);
	bt_free(&x);
}

/* Two handles on one file behave as two processes would. */
static void breaker__file_store_shared_between_handles(void **state)
{
	static const fb_step a[] = { TEMP };
	static const fb_step b[] = { DELIVERED };
	char path[] = "/tmp/rm-breaker-XXXXXX", url[256];
	int fd = mkstemp(path);
	bt one, two;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(url, sizeof(url), "failover(file:///tmp#a file:///tmp#b)"
	         "?breaker=2&breaker_file=%s", path);
	bt_open(&one, url, a, N(a), b, N(b));
	bt_send(&one);
	bt_send(&one);
	bt_open(&two, url, a, N(a), b, N(b));
	two.clock.now = one.clock.now;
	assert_int_equal(bt_send(&two), RM_OK);
	assert_int_equal(two.fb[0].calls, 0);
	assert_int_equal(two.skips, 1);
	bt_free(&one);
	bt_free(&two);
	unlink(path);
}

/* Each process adds failures under the lock: none is lost. */
static void breaker__file_store_under_concurrent_writers(void **state)
{
	char path[] = "/tmp/rm-breaker-XXXXXX", line[128];
	rm__breaker b = { NULL, 1000000, 60000 };
	rm__breaker_state st;
	long x_failures = 0;
	pid_t kids[3];
	int fd = mkstemp(path), i, status;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rm__breaker_store_file(&b.store, path, NULL), 0);
	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			int k;

			for (k = 0; k < 100; k++)
				rm__breaker_record(&b, i % 2 ? "x" : "y", 1,
				                   1000, NULL);
			_exit(0);
		}
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_int_equal(status, 0);
	}
	f = fopen(path, "r");
	assert_non_null(f);
	memset(&st, 0, sizeof(st));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == 'x')
			x_failures = strtol(line + 2, NULL, 10);
		if (line[0] == 'y')
			st.failures = strtol(line + 2, NULL, 10);
	}
	fclose(f);
	assert_int_equal(st.failures, 200);
	assert_int_equal(x_failures, 100);
	rm__breaker_free(&b);
	unlink(path);
}

static void breaker__file_store_drops_damaged_lines(void **state)
{
	char path[] = "/tmp/rm-breaker-XXXXXX", text[256];
	rm__breaker b = { NULL, 2, 60000 };
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "garbage\nz 1 2\n\nk 5 9999999999999 0\n", 35)
	            == 35);
	close(fd);
	assert_int_equal(rm__breaker_store_file(&b.store, path, NULL), 0);
	/* A time far ahead is cut to one cooldown from now. */
	assert_int_equal(rm__breaker_admit(&b, "k", 1000, NULL), 0);
	assert_int_equal(rm__breaker_admit(&b, "k", 61000, NULL), 1);
	rm__breaker_record(&b, "k", 0, 61000, NULL);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "k 0 0 0\n");
	rm__breaker_free(&b);
	unlink(path);
}

static void breaker__unusable_file_lets_tries_through(void **state)
{
	rm__breaker b = { NULL, 1, 60000 };

	(void)state;
	assert_int_equal(rm__breaker_store_file(&b.store,
	                 "/nonexistent-dir/breaker", NULL), 0);
	rm__breaker_record(&b, "k", 1, 1000, NULL);
	assert_int_equal(rm__breaker_admit(&b, "k", 1000, NULL), 1);
	rm__breaker_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(breaker__opens_skips_probes_and_closes),
		cmocka_unit_test(breaker__open_under_retry_fails_at_once),
		cmocka_unit_test(breaker__retry_keeps_its_attempts),
		cmocka_unit_test(breaker__everything_open_is_transient),
		cmocka_unit_test(breaker__off_with_zero),
		cmocka_unit_test(breaker__file_store_shared_between_handles),
		cmocka_unit_test(breaker__file_store_under_concurrent_writers),
		cmocka_unit_test(breaker__file_store_drops_damaged_lines),
		cmocka_unit_test(breaker__unusable_file_lets_tries_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
