/*
 * A client-side sending limit: rate_per_minute=N and rate_per_day=N on
 * any transport URL. Each window is a ring of the times of the last N
 * messages that went out (delivered, or maybe delivered); a send that
 * would be the N+1st within the window is refused at once with
 * RM_OUTCOME_TRANSIENT and the wait until the oldest one leaves the
 * window as the retry hint. A try that failed gives its place back.
 * Providers such as Gmail suspend an account that goes over its quota;
 * being refused here is cheaper.
 * The counts live in the transport: they start again with each process.
 * Times come from the transport's clock (rm__transport_now), so a test
 * with rm_transport_set_clock sees a minute pass without waiting one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option.h"

#define MINUTE_MS (60LL * 1000)
#define DAY_MS (24LL * 60 * 60 * 1000)
#define PER_MINUTE_MAX 100000L
#define PER_DAY_MAX 1000000L

typedef struct window {
	long long span_ms;
	long limit;              /* 0: no limit */
	long long *times;        /* ring of limit send times */
	long count;              /* sends in the ring */
	long head;               /* the oldest one */
	const char *name;
} window;

struct rm__rate {
	window w[2];
};

void rm__rate_free(rm__rate *rate)
{
	if (rate == NULL)
		return;
	free(rate->w[0].times);
	free(rate->w[1].times);
	free(rate);
}

static int window_init(window *w, const char *name, long long span,
                       long limit)
{
	w->name = name;
	w->span_ms = span;
	w->limit = limit;
	if (limit == 0)
		return RM_OK;
	w->times = calloc((size_t)limit, sizeof(*w->times));
	return w->times != NULL ? RM_OK : RM_ENOMEM;
}

int rm__rate_url_options(rm_transport *t, const rm__url *url,
                         rm_error *err)
{
	rm__opt_reader o = { url, "URL", err };
	long minute = 0, day = 0;
	rm__rate *r;
	int rc = rm__opt_long(&o, "rate_per_minute", 1, PER_MINUTE_MAX,
	                      &minute);

	if (rc == RM_OK)
		rc = rm__opt_long(&o, "rate_per_day", 1, PER_DAY_MAX, &day);
	if (rc != RM_OK || (minute == 0 && day == 0))
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL ||
	    window_init(&r->w[0], "rate_per_minute", MINUTE_MS, minute) ||
	    window_init(&r->w[1], "rate_per_day", DAY_MS, day)) {
		rm__rate_free(r);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory for the rate limit");
	}
	rm__rate_free(t->rate);
	t->rate = r;
	return RM_OK;
}

/* Forgets the sends that left the window; returns the wait before the
 * next one fits, 0 if it fits now. */
static long long window_wait(window *w, long long now)
{
	while (w->count > 0 && now - w->times[w->head] >= w->span_ms) {
		w->head = (w->head + 1) % w->limit;
		w->count--;
	}
	if (w->limit == 0 || w->count < w->limit)
		return 0;
	return w->times[w->head] + w->span_ms - now;
}

static void window_shift(window *w, long long shift)
{
	long i;

	for (i = 0; i < w->count; i++)
		w->times[(w->head + i) % w->limit] += shift;
}

void rm__rate_shift(rm__rate *rate, long long shift)
{
	if (rate == NULL)
		return;
	window_shift(&rate->w[0], shift);
	window_shift(&rate->w[1], shift);
}

static void window_add(window *w, long long now)
{
	if (w->limit == 0)
		return;
	w->times[(w->head + w->count) % w->limit] = now;
	w->count++;
}

/* Forgets the newest send of the window. */
static void window_drop(window *w)
{
	if (w->limit > 0 && w->count > 0)
		w->count--;
}

void rm__rate_settle(rm_transport *t, rm_outcome outcome)
{
	if (t->rate == NULL || outcome == RM_OUTCOME_DELIVERED ||
	    outcome == RM_OUTCOME_AMBIGUOUS)
		return;
	window_drop(&t->rate->w[0]);
	window_drop(&t->rate->w[1]);
}

static int refuse(rm_transport *t, const window *w, long long wait,
                  rm_result *r, rm_error *err)
{
	char text[200];
	long long sec = (wait + 999) / 1000;

	snprintf(text, sizeof(text), "client-side rate limit %s=%ld reached; "
	         "nothing was sent, try again in %llds", w->name, w->limit,
	         sec);
	rm__logf(&t->log, RM_LOG_WARN, "%s", text);
	rm__result_set_final(r, RM_OUTCOME_TRANSIENT, 0, "", text);
	rm__result_set_retry_after(r, wait);
	return rm__fail(err, RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, w->name,
	                "%s", text);
}

int rm__rate_admit(rm_transport *t, rm_result *r, rm_error *err)
{
	rm__rate *rate = t->rate;
	long long now = rm__transport_now(t), wait;
	int i;

	if (rate == NULL)
		return RM_OK;
	for (i = 0; i < 2; i++) {
		wait = window_wait(&rate->w[i], now);
		if (wait > 0)
			return refuse(t, &rate->w[i], wait, r, err);
	}
	window_add(&rate->w[0], now);
	window_add(&rate->w[1], now);
	return RM_OK;
}
