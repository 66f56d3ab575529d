/*
 * The route layer's decisions against a scripted in-process backend:
 * which tries happen, on which transport, after which waits (a fake
 * clock records them; nothing sleeps), which recipients each try gets,
 * and what the merged result, the events and the counters say.
 * Cases 12 and 13 of the shared case list, as the route layer sees them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "internal.h"

#define DELIVERED { RM_OUTCOME_DELIVERED, RM_OK, 250, 0, NULL }
#define TEMP { RM_OUTCOME_TRANSIENT, RM_ETEMPFAIL, 451, 0, NULL }
#define HINT(ms) { RM_OUTCOME_TRANSIENT, RM_ETEMPFAIL, 421, (ms), NULL }
#define PERM_PROVIDER { RM_OUTCOME_PERM_PROVIDER, RM_EAUTH, 535, 0, NULL }
#define PERM_RCPT { RM_OUTCOME_PERM_RECIPIENT, RM_EREJECTED, 550, 0, NULL }
#define AMBIGUOUS { RM_OUTCOME_AMBIGUOUS, RM_ECLOSED, 0, 0, NULL }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A composite whose children are fakes, with a fake clock. */
typedef struct rt {
	rm_transport *t;
	fake_backend fb[4];
	fb_clock clock;
	rm_result *r;
	rm_error err;
	int rc;
	char events[1024];
} rt;

/* Appends text to the NUL-terminated buf of size bytes, cutting it. */
static void append(char *buf, size_t size, const char *text)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s", text);
}

static void on_event(const rm_event *ev, void *user)
{
	rt *x = user;
	char one[128];

	if (ev->kind == RM_EVENT_FINAL)
		snprintf(one, sizeof(one), "%sfinal:%s", x->events[0] ? " " :
		         "", rm_outcome_name(rm_result_outcome(ev->result)));
	else
		snprintf(one, sizeof(one), "%s%s:%s:%s", x->events[0] ? " " :
		         "", ev->kind == RM_EVENT_ATTEMPT ? "try" : "skip",
		         ev->route, ev->attempt->transport);
	append(x->events, sizeof(x->events), one);
}

static void rt_open(rt *x, const char *url)
{
	memset(x, 0, sizeof(*x));
	assert_int_equal(rm_transport_open(&x->t, url, NULL, &x->err), 0);
	assert_int_equal(rm_result_new(&x->r, NULL), 0);
	fb_clock_install(x->t, &x->clock);
	rm_transport_set_event_callback(x->t, on_event, x, NULL);
}

static void rt_fake(rt *x, size_t i, const fb_step *steps, size_t n)
{
	fb_attach(fb_child(x->t, i), &x->fb[i], steps, n);
}

static int rt_send(rt *x, const char *to)
{
	rm_message *m = fb_message(to);

	assert_non_null(m);
	x->events[0] = '\0';
	x->rc = rm_send(x->t, m, x->r, &x->err);
	rm_message_free(m);
	return x->rc;
}

static void rt_free(rt *x)
{
	rm_transport_close(x->t);
	rm_result_free(x->r);
}

/* The attempts as "name/outcome/wait name/outcome/wait ...". */
static void expect_attempts(const rt *x, const char *want)
{
	char got[1024] = "";
	size_t i;

	for (i = 0; i < rm_result_attempt_count(x->r); i++) {
		rm_attempt a;
		char one[160];

		assert_int_equal(rm_result_attempt(x->r, i, &a), 0);
		snprintf(one, sizeof(one), "%s%s/%s/%lld", i ? " " : "",
		         a.transport, rm_outcome_name(a.outcome),
		         a.wait_ms_before);
		append(got, sizeof(got), one);
	}
	assert_string_equal(got, want);
}

static void expect_waits(const rt *x, size_t n, const long long *waits)
{
	size_t i;

	assert_int_equal(x->clock.wait_count, n);
	for (i = 0; i < n; i++)
		assert_int_equal(x->clock.waits[i], waits[i]);
}

/* ---------------------------------------------------------------------- */
/* retry()                                                                */
/* ---------------------------------------------------------------------- */

static void retry__transient_twice_then_delivered(void **state)
{
	static const fb_step steps[] = { TEMP, TEMP, DELIVERED };
	/* Full jitter: random % (ceiling + 1), ceilings 1000 then 2000. */
	const long long waits[] = { 12345678 % 1001, 12345678 % 2001 };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)?attempts=3&backoff=1s");
	rt_fake(&x, 0, steps, N(steps));
	x.clock.random = 12345678;
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_int_equal(x.fb[0].calls, 3);
	expect_waits(&x, 2, waits);
	expect_attempts(&x, "a/transient/0 a/transient/345 a/delivered/1509");
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_DELIVERED);
	assert_string_equal(x.events, "try:retry:a try:retry:a try:retry:a "
	                    "final:delivered");
	rt_free(&x);
}

static void retry__backoff_ceiling_doubles_up_to_its_cap(void **state)
{
	static const fb_step steps[] = { TEMP };
	static const uint32_t draws[] = { 1001, 2000, 5000, 3000 };
	/* Ceilings 1000, 2000, 4000 cut to 3000, 3000: each wait is the
	 * draw modulo the ceiling plus one. */
	const long long waits[] = { 0, 2000, 1999, 3000 };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)?attempts=5&backoff=1000ms&"
	        "backoff_max=3s");
	rt_fake(&x, 0, steps, N(steps));
	x.clock.draws = draws;
	x.clock.draw_count = N(draws);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 5);
	expect_waits(&x, 4, waits);
	rt_free(&x);
}

static void retry__server_hint_beats_a_shorter_backoff(void **state)
{
	static const fb_step steps[] = { HINT(3000), HINT(5), DELIVERED };
	const long long waits[] = { 3000, 1509 };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)");
	rt_fake(&x, 0, steps, N(steps));
	x.clock.random = 12345678;
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	/* Case 13 A and E: the next try starts no sooner than asked; a
	 * hint shorter than the backoff does not shorten it. */
	expect_waits(&x, 2, waits);
	expect_attempts(&x, "a/transient/0 a/transient/3000 "
	                "a/delivered/1509");
	rt_free(&x);
}

static void retry__hint_beyond_max_wait_gives_up_at_once(void **state)
{
	static const fb_step steps[] = { HINT(120000), DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)?max_wait=60");
	rt_fake(&x, 0, steps, N(steps));
	/* Case 13 H: no 120 s wait, a transient "rate limited" error. */
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 1);
	assert_int_equal(x.clock.wait_count, 0);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_non_null(strstr(x.err.message, "rate limited"));
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_retry_after_ms(x.r), 120000);
	assert_int_equal(rm_result_reply_code(x.r), 421);
	rt_free(&x);
}

static void retry__attempts_are_bounded(void **state)
{
	static const fb_step steps[] = { TEMP };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)?attempts=3");
	rt_fake(&x, 0, steps, N(steps));
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 3);
	assert_int_equal(x.clock.wait_count, 2);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_reply_code(x.r), 451);
	rt_free(&x);
}

static void retry__deadline_ends_the_tries(void **state)
{
	static const fb_step steps[] = { TEMP };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)?attempts=10&deadline=5&"
	        "backoff=4s&backoff_max=8s");
	rt_fake(&x, 0, steps, N(steps));
	x.clock.random = 4000;  /* 4000 % 4001, then 4000 % 8001 */
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ETEMPFAIL);
	assert_int_equal(x.fb[0].calls, 2);
	assert_int_equal(x.clock.wait_count, 1);
	assert_non_null(strstr(x.err.message, "deadline"));
	rt_free(&x);
}

static void retry__permanent_outcomes_are_not_retried(void **state)
{
	static const fb_step provider[] = { PERM_PROVIDER, DELIVERED };
	static const fb_step rcpt[] = { PERM_RCPT, DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)");
	rt_fake(&x, 0, provider, N(provider));
	/* Case 12: 535 is a configuration error, never retried. */
	assert_int_equal(rt_send(&x, "b@example.net"), RM_EAUTH);
	assert_int_equal(x.fb[0].calls, 1);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_PERM_PROVIDER);
	rt_fake(&x, 0, rcpt, N(rcpt));
	assert_int_equal(rt_send(&x, "b@example.net"), RM_EREJECTED);
	assert_int_equal(x.fb[0].calls, 1);
	assert_int_equal(x.clock.wait_count, 0);
	rt_free(&x);
}

static void retry__ambiguous_is_not_resent_by_default(void **state)
{
	static const fb_step steps[] = { AMBIGUOUS, DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)");
	rt_fake(&x, 0, steps, N(steps));
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ECLOSED);
	assert_int_equal(x.fb[0].calls, 1);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_AMBIGUOUS);
	rt_free(&x);

	rt_open(&x, "retry(file:///tmp#a)?resend_ambiguous=yes");
	rt_fake(&x, 0, steps, N(steps));
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_int_equal(x.fb[0].calls, 2);
	/* The resend carries the same Message-ID, so the receiving side
	 * can drop the duplicate. */
	assert_string_equal(x.fb[0].call[0].message_id,
	                    x.fb[0].call[1].message_id);
	rt_free(&x);
}

static void retry__refused_dropped_others_retried_alone(void **state)
{
	static const fb_step steps[] = {
		{ RM_OUTCOME_DELIVERED, RM_OK, 250, 0, "PTD" }, DELIVERED
	};
	rm_recipient_status st;
	rt x;

	(void)state;
	rt_open(&x, "retry(file:///tmp#a)");
	rt_fake(&x, 0, steps, N(steps));
	assert_int_equal(rt_send(&x, "r1@example.net, r2@example.net, "
	                 "r3@example.net"), RM_OK);
	assert_int_equal(x.fb[0].calls, 2);
	assert_string_equal(x.fb[0].call[0].rcpts, "r1@example.net "
	                    "r2@example.net r3@example.net");
	assert_string_equal(x.fb[0].call[1].rcpts, "r2@example.net");
	assert_int_equal(rm_result_recipient_count(x.r), 3);
	assert_int_equal(rm_result_rejected_count(x.r), 1);
	assert_int_equal(rm_result_recipient(x.r, 0, &st), 0);
	assert_string_equal(st.address, "r1@example.net");
	assert_int_equal(st.outcome, RM_OUTCOME_PERM_RECIPIENT);
	assert_int_equal(st.reply_code, 550);
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_true(st.accepted);
	assert_int_equal(rm_result_recipient(x.r, 2, &st), 0);
	assert_true(st.accepted);
	rt_free(&x);
}

/* ---------------------------------------------------------------------- */
/* failover()                                                             */
/* ---------------------------------------------------------------------- */

static void failover__on_after_transient_and_provider(void **state)
{
	static const fb_step temp[] = { TEMP };
	static const fb_step prov[] = { PERM_PROVIDER };
	static const fb_step ok[] = { DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#a file:///tmp#b file:///tmp#c)");
	rt_fake(&x, 0, temp, 1);
	rt_fake(&x, 1, prov, 1);
	rt_fake(&x, 2, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	expect_attempts(&x, "a/transient/0 b/permanent-provider/0 "
	                "c/delivered/0");
	assert_int_equal(x.clock.wait_count, 0);
	assert_string_equal(x.events, "try:failover:a try:failover:b "
	                    "try:failover:c final:delivered");
	/* The Message-ID is made once for every try. */
	assert_string_equal(x.fb[0].call[0].message_id,
	                    x.fb[2].call[0].message_id);
	assert_string_equal(x.fb[1].call[0].message_id,
	                    x.fb[2].call[0].message_id);
	rt_free(&x);
}

static void failover__never_after_recipients_refused(void **state)
{
	static const fb_step rcpt[] = { PERM_RCPT };
	static const fb_step ok[] = { DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#a file:///tmp#b)");
	rt_fake(&x, 0, rcpt, 1);
	rt_fake(&x, 1, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_EREJECTED);
	assert_int_equal(x.fb[1].calls, 0);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_PERM_RECIPIENT);
	rt_free(&x);
}

static void failover__ambiguous_stops_unless_asked(void **state)
{
	static const fb_step amb[] = { AMBIGUOUS };
	static const fb_step ok[] = { DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#a file:///tmp#b)");
	rt_fake(&x, 0, amb, 1);
	rt_fake(&x, 1, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ECLOSED);
	assert_int_equal(x.fb[1].calls, 0);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_AMBIGUOUS);
	rt_free(&x);

	rt_open(&x, "failover(file:///tmp#a file:///tmp#b)"
	        "?resend_ambiguous=yes");
	rt_fake(&x, 0, amb, 1);
	rt_fake(&x, 1, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_int_equal(x.fb[1].calls, 1);
	rt_free(&x);
}

static void failover__only_the_unrefused_go_on(void **state)
{
	static const fb_step a[] = {
		{ RM_OUTCOME_PERM_RECIPIENT, RM_EREJECTED, 550, 0, "PT" }
	};
	static const fb_step b[] = { DELIVERED };
	rm_recipient_status st;
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#a file:///tmp#b)");
	rt_fake(&x, 0, a, 1);
	rt_fake(&x, 1, b, 1);
	assert_int_equal(rt_send(&x, "r1@example.net, r2@example.net"),
	                 RM_OK);
	assert_string_equal(x.fb[1].call[0].rcpts, "r2@example.net");
	assert_int_equal(rm_result_recipient(x.r, 0, &st), 0);
	assert_false(st.accepted);
	assert_int_equal(st.reply_code, 550);
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_true(st.accepted);
	rt_free(&x);
}

static void failover__whole_message_backends_no_subset(void **state)
{
	static const fb_step a[] = {
		{ RM_OUTCOME_DELIVERED, RM_OK, 250, 0, "DT" }
	};
	static const fb_step b[] = { DELIVERED };
	rm_recipient_status st;
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#a file:///tmp#b)");
	rt_fake(&x, 0, a, 1);
	rt_fake(&x, 1, b, 1);
	/* A JSON API sends to every recipient or none: r1 would get the
	 * message twice. */
	fb_whole_message(fb_child(x.t, 1));
	assert_int_equal(rt_send(&x, "r1@example.net, r2@example.net"),
	                 RM_OK);
	assert_int_equal(x.fb[1].calls, 0);
	assert_string_equal(x.events, "try:failover:a skip:failover:b "
	                    "final:delivered");
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_false(st.accepted);
	assert_int_equal(st.outcome, RM_OUTCOME_TRANSIENT);
	rt_free(&x);
}

/* ---------------------------------------------------------------------- */
/* roundrobin(), weighted(), nesting                                      */
/* ---------------------------------------------------------------------- */

static void roundrobin__takes_turns_and_fails_over(void **state)
{
	static const fb_step ok[] = { DELIVERED };
	static const fb_step b[] = { DELIVERED, TEMP };
	rt x;
	int i;

	(void)state;
	rt_open(&x, "roundrobin(file:///tmp#a file:///tmp#b file:///tmp#c)");
	rt_fake(&x, 0, ok, 1);
	rt_fake(&x, 1, b, 2);
	rt_fake(&x, 2, ok, 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_int_equal(x.fb[0].calls, 1);
	assert_int_equal(x.fb[1].calls, 1);
	assert_int_equal(x.fb[2].calls, 1);
	rt_send(&x, "b@example.net");
	expect_attempts(&x, "a/delivered/0");
	rt_send(&x, "b@example.net");
	expect_attempts(&x, "b/transient/0 c/delivered/0");
	rt_free(&x);
}

static void weighted__three_to_one(void **state)
{
	static const fb_step ok[] = { DELIVERED };
	char order[16] = "";
	rt x;
	int i;

	(void)state;
	rt_open(&x, "weighted(file:///tmp#a:3 file:///tmp#b:1)");
	rt_fake(&x, 0, ok, 1);
	rt_fake(&x, 1, ok, 1);
	for (i = 0; i < 8; i++) {
		rm_attempt a;
		char one[2];

		rt_send(&x, "b@example.net");
		rm_result_attempt(x.r, 0, &a);
		snprintf(one, sizeof(one), "%.1s", a.transport);
		append(order, sizeof(order), one);
	}
	assert_string_equal(order, "aabaaaba");
	rt_free(&x);
}

static void nested__attempts_flatten_and_waits_add_up(void **state)
{
	static const fb_step temp[] = { TEMP };
	static const fb_step ok[] = { DELIVERED };
	rm_counters n;
	rt x;

	(void)state;
	rt_open(&x, "failover(retry(file:///tmp#a)?attempts=2&backoff=1s "
	        "file:///tmp#b)");
	fb_attach(fb_child(fb_child(x.t, 0), 0), &x.fb[0], temp, 1);
	rt_fake(&x, 1, ok, 1);
	x.clock.random = 700;
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	expect_attempts(&x, "a/transient/0 a/transient/700 b/delivered/0");
	assert_string_equal(x.events, "try:retry:a try:retry:a "
	                    "try:failover:b final:delivered");
	assert_int_equal(rm_transport_counters(x.t, "a", &n, NULL), 0);
	assert_int_equal(n.attempts, 2);
	assert_int_equal(n.failed, 2);
	assert_int_equal(n.retried, 1);
	assert_int_equal(rm_transport_counters(x.t, "retry", &n, NULL), 0);
	assert_int_equal(n.attempts, 1);
	assert_int_equal(n.failed, 1);
	assert_int_equal(rm_transport_counters(x.t, "b", &n, NULL), 0);
	assert_int_equal(n.sent, 1);
	assert_int_equal(n.retried, 1);
	assert_int_equal(rm_transport_counters(x.t, NULL, &n, NULL), 0);
	assert_int_equal(n.attempts, 1);
	assert_int_equal(n.sent, 1);
	assert_int_equal(rm_transport_counters(x.t, "zz", &n, &x.err),
	                 RM_EINVAL);
	rt_free(&x);
}

/* The result names the child that answered, as its attempt does. */
static void result__transport_is_the_child_name(void **state)
{
	static const fb_step temp[] = { TEMP };
	static const fb_step ok[] = { DELIVERED };
	rt x;

	(void)state;
	rt_open(&x, "failover(file:///tmp#primary file:///tmp#backup)");
	rt_fake(&x, 0, temp, 1);
	rt_fake(&x, 1, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_string_equal(rm_result_transport(x.r), "backup");
	rt_free(&x);

	rt_open(&x, "failover(file:///tmp#primary file:///tmp#backup)");
	rt_fake(&x, 0, temp, 1);
	rt_fake(&x, 1, temp, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_ETEMPFAIL);
	assert_string_equal(rm_result_transport(x.r), "backup");
	rt_free(&x);

	/* Unnamed: the URL; nested: the innermost child. */
	rt_open(&x, "failover(retry(file:///tmp#a)?attempts=1 file:///tmp)");
	fb_attach(fb_child(fb_child(x.t, 0), 0), &x.fb[0], ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_string_equal(rm_result_transport(x.r), "a");
	rt_free(&x);

	rt_open(&x, "failover(file:///tmp#a file:///tmp)");
	rt_fake(&x, 0, temp, 1);
	rt_fake(&x, 1, ok, 1);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	expect_attempts(&x, "a/transient/0 file:///tmp/delivered/0");
	assert_string_equal(rm_result_transport(x.r), "file:///tmp");
	rt_free(&x);
}

/* A second round of an outer retry counts as a retry inside too. */
static void nested__outer_retry_counts_inside(void **state)
{
	static const fb_step temp[] = { TEMP, TEMP, DELIVERED };
	rm_counters n;
	rt x;

	(void)state;
	rt_open(&x, "retry(failover(file:///tmp#a))?attempts=3");
	fb_attach(fb_child(fb_child(x.t, 0), 0), &x.fb[0], temp, 3);
	assert_int_equal(rt_send(&x, "b@example.net"), RM_OK);
	assert_int_equal(rm_transport_counters(x.t, "a", &n, NULL), 0);
	assert_int_equal(n.attempts, 3);
	assert_int_equal(n.retried, 2);
	assert_int_equal(rm_transport_counters(x.t, "failover", &n, NULL),
	                 0);
	assert_int_equal(n.retried, 2);
	rt_free(&x);
}

static void plain__one_attempt_recorded(void **state)
{
	rm_transport *t = NULL;
	rm_result *r = NULL;
	rm_message *m = fb_message("b@example.net");
	rm_attempt a;
	char dir[] = "/tmp/rm-route-XXXXXX", url[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "file://%s", dir);
	assert_int_equal(rm_transport_open(&t, url, NULL, NULL), 0);
	assert_int_equal(rm_result_new(&r, NULL), 0);
	assert_int_equal(rm_send(t, m, r, NULL), 0);
	assert_int_equal(rm_result_attempt_count(r), 1);
	assert_int_equal(rm_result_attempt(r, 0, &a), 0);
	assert_string_equal(a.transport, "file");
	assert_int_equal(a.outcome, RM_OUTCOME_DELIVERED);
	assert_int_equal(rm_result_attempt(r, 1, &a), RM_EINVAL);
	assert_int_equal(rm_transport_child_count(t), 0);
	assert_null(rm_transport_child_name(t, 0));
	/* Plain transports accept and ignore route settings. */
	assert_int_equal(rm_transport_set_clock(t, NULL, NULL, NULL, NULL), 0);
	rm_message_free(m);
	rm_result_free(r);
	rm_transport_close(t);
	snprintf(url, sizeof(url), "rm -rf %s", dir);
	assert_int_equal(system(url), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retry__transient_twice_then_delivered),
		cmocka_unit_test(retry__backoff_ceiling_doubles_up_to_its_cap),
		cmocka_unit_test(retry__server_hint_beats_a_shorter_backoff),
		cmocka_unit_test(retry__hint_beyond_max_wait_gives_up_at_once),
		cmocka_unit_test(retry__attempts_are_bounded),
		cmocka_unit_test(retry__deadline_ends_the_tries),
		cmocka_unit_test(retry__permanent_outcomes_are_not_retried),
		cmocka_unit_test(retry__ambiguous_is_not_resent_by_default),
		cmocka_unit_test(retry__refused_dropped_others_retried_alone),
		cmocka_unit_test(failover__on_after_transient_and_provider),
		cmocka_unit_test(failover__never_after_recipients_refused),
		cmocka_unit_test(failover__ambiguous_stops_unless_asked),
		cmocka_unit_test(failover__only_the_unrefused_go_on),
		cmocka_unit_test(failover__whole_message_backends_no_subset),
		cmocka_unit_test(roundrobin__takes_turns_and_fails_over),
		cmocka_unit_test(weighted__three_to_one),
		cmocka_unit_test(nested__attempts_flatten_and_waits_add_up),
		cmocka_unit_test(nested__outer_retry_counts_inside),
		cmocka_unit_test(result__transport_is_the_child_name),
		cmocka_unit_test(plain__one_attempt_recorded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
