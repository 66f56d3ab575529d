/*
 * Composite transports: retry(), failover(), roundrobin() and weighted()
 * wrap other transports and are transports themselves. This file holds
 * their backend entry points, the injectable clock, sleep and random
 * source, the event callback and the counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route_int.h"

/* ---------------------------------------------------------------------- */
/* Clock, sleep and random source                                         */
/* ---------------------------------------------------------------------- */

static long long system_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void system_sleep(long long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

long long rm__route_now(const rm__route *r)
{
	return r->now != NULL ? r->now(r->clock_user) : system_now();
}

/* An injected sleep sees every wait, even 0, so tests can count them. */
void rm__route_sleep(const rm__route *r, long long ms)
{
	if (r->sleep != NULL)
		r->sleep(ms > 0 ? ms : 0, r->clock_user);
	else if (ms > 0)
		system_sleep(ms);
}

uint32_t rm__route_random(const rm__route *r)
{
	uint32_t x = 0;

	if (r->random != NULL)
		return r->random(r->random_user);
	/* Jitter only spreads clients apart: the clock will do if the
	 * kernel cannot give random bytes. */
	if (rm__random(&x, sizeof(x)) != RM_OK)
		x = (uint32_t)system_now();
	return x;
}

void rm__route_emit(const rm__route *r, rm_event_kind kind,
                    const rm_attempt *attempt, const rm_result *result,
                    int status)
{
	rm_event ev;

	if (r->event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.route = rm__route_kind_name(r->kind);
	ev.attempt = attempt;
	ev.result = result;
	ev.status = status;
	r->event(&ev, r->event_user);
}

/* ---------------------------------------------------------------------- */
/* The backend                                                            */
/* ---------------------------------------------------------------------- */

static int route_open_url(rm_transport *t, const rm__url *url,
                          rm_error *err)
{
	(void)t;
	(void)url;
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
	                "composite transports are opened from their text");
}

static void route_close(rm_transport *t)
{
	rm__route *r = t->impl;

	if (r == NULL)
		return;
	rm__route_free(r);
	free(r);
	t->impl = NULL;
}

/* The first wrapped transport that passes its check describes itself. */
static int route_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	rm__route *r = t->impl;
	int rc = RM_EUNSUPPORTED;
	size_t i;

	for (i = 0; i < r->child_count; i++) {
		rc = rm_transport_check(r->children[i].t, info, err);
		if (rc == RM_OK)
			return RM_OK;
	}
	return rc;
}

const rm__backend rm__backend_route = {
	"route", route_open_url, rm__route_send, route_check, route_close, 0
};

/* Child routes learn they are nested, so only the top one reports the
 * final event and callbacks set on it reach them. */
static void mark_nested(rm__route *r)
{
	size_t i;

	for (i = 0; i < r->child_count; i++) {
		rm_transport *c = r->children[i].t;

		if (c->backend == &rm__backend_route)
			((rm__route *)c->impl)->nested = 1;
	}
}

int rm__route_open(rm_transport *t, const char *text,
                   const rm_transport_opts *opts, rm_error *err)
{
	rm__route *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening a composite transport");
	r->t = t;
	rc = rm__route_parse(r, text, opts, err);
	if (rc != RM_OK) {
		rm__route_free(r);
		free(r);
		return rc;
	}
	mark_nested(r);
	t->backend = &rm__backend_route;
	t->scheme = rm__route_kind_name(r->kind);
	t->impl = r;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Settings that reach every composite of a tree                          */
/* ---------------------------------------------------------------------- */

/* The route of t, or NULL for a plain transport. */
static rm__route *route_of(const rm_transport *t)
{
	if (t == NULL || t->backend != &rm__backend_route)
		return NULL;
	return t->impl;
}

typedef void (*route_visit_fn)(rm__route *r, const void *arg);

static void visit_routes(rm_transport *t, route_visit_fn fn, const void *arg)
{
	rm__route *r = route_of(t);
	size_t i;

	if (r == NULL)
		return;
	fn(r, arg);
	for (i = 0; i < r->child_count; i++)
		visit_routes(r->children[i].t, fn, arg);
}

static int check_transport(const rm_transport *t, rm_error *err)
{
	rm__error_clear(err);
	if (t == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "transport",
		                "transport must not be NULL");
	return RM_OK;
}

typedef struct event_arg {
	rm_event_fn fn;
	void *user;
} event_arg;

static void set_event(rm__route *r, const void *arg)
{
	const event_arg *a = arg;

	r->event = a->fn;
	r->event_user = a->user;
}

int rm_transport_set_event_callback(rm_transport *t, rm_event_fn fn,
                                    void *user, rm_error *err)
{
	event_arg a = { fn, fn != NULL ? user : NULL };
	int rc = check_transport(t, err);

	if (rc == RM_OK)
		visit_routes(t, set_event, &a);
	return rc;
}

typedef struct clock_arg {
	rm_now_fn now;
	rm_sleep_fn sleep;
	void *user;
} clock_arg;

/* Sets the clock of t and of every transport inside it: composites for
 * their waits, plain ones for their rate limits and token caches. */
static void set_clock(rm_transport *t, const clock_arg *a)
{
	rm__route *r = route_of(t);
	size_t i;

	rm__transport_set_clock(t, a->now, a->user);
	if (r == NULL)
		return;
	r->now = a->now;
	r->sleep = a->sleep;
	r->clock_user = a->user;
	for (i = 0; i < r->child_count; i++)
		set_clock(r->children[i].t, a);
}

int rm_transport_set_clock(rm_transport *t, rm_now_fn now,
                           rm_sleep_fn sleep, void *user, rm_error *err)
{
	clock_arg a = { now, sleep, user };
	int rc = check_transport(t, err);

	if (rc == RM_OK)
		set_clock(t, &a);
	return rc;
}

typedef struct random_arg {
	rm_random_fn fn;
	void *user;
} random_arg;

static void set_random(rm__route *r, const void *arg)
{
	const random_arg *a = arg;

	r->random = a->fn;
	r->random_user = a->user;
}

int rm_transport_set_random(rm_transport *t, rm_random_fn random,
                            void *user, rm_error *err)
{
	random_arg a = { random, user };
	int rc = check_transport(t, err);

	if (rc == RM_OK)
		visit_routes(t, set_random, &a);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Children and counters                                                  */
/* ---------------------------------------------------------------------- */

size_t rm_transport_child_count(const rm_transport *t)
{
	const rm__route *r = route_of(t);

	return r != NULL ? r->child_count : 0;
}

const char *rm_transport_child_name(const rm_transport *t, size_t i)
{
	const rm__route *r = route_of(t);

	if (r == NULL || i >= r->child_count)
		return NULL;
	return r->children[i].name;
}

/* The transport called name anywhere below t, depth first. */
static const rm_transport *find_child(const rm_transport *t,
                                      const char *name)
{
	const rm__route *r = route_of(t);
	const rm_transport *found;
	size_t i;

	for (i = 0; r != NULL && i < r->child_count; i++) {
		if (strcmp(r->children[i].name, name) == 0)
			return r->children[i].t;
		found = find_child(r->children[i].t, name);
		if (found != NULL)
			return found;
	}
	return NULL;
}

int rm_transport_counters(const rm_transport *t, const char *name,
                          rm_counters *out, rm_error *err)
{
	const rm_transport *c = t;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	rc = check_transport(t, err);
	if (rc != RM_OK)
		return rc;
	if (out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "out",
		                "out must not be NULL");
	if (name != NULL)
		c = find_child(t, name);
	if (c == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "name",
		                "no transport called '%s' inside %s", name,
		                rm_transport_name(t));
	*out = c->counters;
	return RM_OK;
}
