/*
 * Sending through a composite: the tries, what each one means for every
 * recipient, and the merged result.
 *
 * Rules (docs/routing.md):
 * - retry() tries again only after a transient outcome, waiting a full
 *   jitter exponential backoff or the server's hint when that is longer.
 *   A hint beyond max_wait, or a wait that would pass the deadline, ends
 *   the send at once with a transient error.
 * - failover(), roundrobin() and weighted() go on to the next transport
 *   after a transient or provider-permanent outcome, never after the
 *   recipients were refused for good.
 * - An ambiguous outcome (the message went out, no answer came back) is
 *   final unless resend_ambiguous=yes: resending could deliver twice.
 * - Recipients refused for good, or delivered, are left out of later
 *   tries; the others are tried again alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_int.h"

/* What the route knows about one recipient. */
typedef struct slot {
	size_t index;          /* in the message's whole recipient list */
	char *address;
	int done;              /* no further try is wanted */
	int tried;
	int reported;          /* a backend gave it a status of its own */
	int accepted;
	rm_outcome outcome;
	int reply_code;
	char enhanced[16];
	char *text;
} slot;

typedef struct send_ctx {
	rm__route *r;
	rm_message *msg;
	rm_result *result;          /* the caller's */
	rm_result *scratch;         /* one try's own result */
	rm_result *last;            /* the last try's final reply */
	rm_result *delivered;       /* the last try that delivered */
	int have_last;
	int have_delivered;
	slot *slots;
	size_t slot_count;
	unsigned char *mask;
	size_t mask_len;
	const unsigned char *outer_mask;   /* a parent route's, restored */
	size_t outer_len;
	long long start;
	int tries;
	int retry;                  /* a parent route is retrying this send */
	int rc;                     /* the last try's status */
	rm_error err;               /* the last try's error */
	int gave_up;
	char why[300];
} send_ctx;

/* ---------------------------------------------------------------------- */
/* Setting up and tearing down                                            */
/* ---------------------------------------------------------------------- */

static int fill_slots(send_ctx *c, const rm__envelope *env)
{
	size_t i;

	c->slots = calloc(env->rcpt_count + 1, sizeof(*c->slots));
	if (c->slots == NULL)
		return RM_ENOMEM;
	for (i = 0; i < env->rcpt_count; i++) {
		c->slots[i].index = env->index[i];
		c->slots[i].address = rm__strdup(env->rcpts[i]);
		c->slot_count++;
		if (c->slots[i].address == NULL)
			return RM_ENOMEM;
		if (env->index[i] + 1 > c->mask_len)
			c->mask_len = env->index[i] + 1;
	}
	c->mask = calloc(c->mask_len + 1, 1);
	return c->mask != NULL ? RM_OK : RM_ENOMEM;
}

static int ctx_init(send_ctx *c, rm__route *r, rm_message *msg,
                    rm_result *result, rm_error *err)
{
	rm__envelope env;
	int rc;

	memset(c, 0, sizeof(*c));
	c->r = r;
	c->msg = msg;
	c->result = result;
	c->start = rm__route_now(r);
	c->retry = r->nested && r->handed_retry;
	rm__message_rcpt_mask(msg, &c->outer_mask, &c->outer_len);
	rc = rm__message_envelope(msg, 1, &env, err);
	if (rc != RM_OK)
		return rc;
	rc = fill_slots(c, &env);
	rm__envelope_free(&env);
	if (rc == RM_OK && (rm_result_new(&c->scratch, NULL) != RM_OK ||
	                    rm_result_new(&c->last, NULL) != RM_OK ||
	                    rm_result_new(&c->delivered, NULL) != RM_OK))
		rc = RM_ENOMEM;
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory preparing a composite send");
	return RM_OK;
}

static void ctx_free(send_ctx *c)
{
	size_t i;

	for (i = 0; i < c->slot_count; i++) {
		free(c->slots[i].address);
		free(c->slots[i].text);
	}
	free(c->slots);
	free(c->mask);
	rm_result_free(c->scratch);
	rm_result_free(c->last);
	rm_result_free(c->delivered);
}

/* ---------------------------------------------------------------------- */
/* Recipients                                                             */
/* ---------------------------------------------------------------------- */

static size_t pending_count(const send_ctx *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->slot_count; i++)
		n += !c->slots[i].done;
	return n;
}

/* The envelope of the next try: the recipients still pending. */
static void set_mask(send_ctx *c)
{
	size_t i;

	memset(c->mask, 0, c->mask_len);
	for (i = 0; i < c->slot_count; i++) {
		if (!c->slots[i].done)
			c->mask[c->slots[i].index] = 1;
	}
	rm__message_set_rcpt_mask(c->msg, c->mask, c->mask_len);
}

static int find_address(const rm_result *r, const char *address,
                        rm_recipient_status *st)
{
	size_t i;

	for (i = 0; i < rm_result_recipient_count(r); i++) {
		if (rm_result_recipient(r, i, st) == RM_OK &&
		    rm__strcaseeq(st->address, address))
			return 1;
	}
	return 0;
}

/*
 * A recipient that carries the reply that failed the whole message
 * (accepted, then DATA or the final dot refused) shares the message's
 * outcome: it was not refused for its own sake.
 */
static rm_outcome slot_outcome(const rm_recipient_status *st,
                               const rm_result *r, rm_outcome whole)
{
	if (st->accepted)
		return RM_OUTCOME_DELIVERED;
	if (whole != RM_OUTCOME_PERM_RECIPIENT &&
	    whole != RM_OUTCOME_DELIVERED &&
	    st->reply_code == rm_result_reply_code(r) &&
	    strcmp(st->text, rm_result_text(r)) == 0)
		return whole;
	return st->outcome;
}

static void set_slot(send_ctx *c, slot *s, const rm_recipient_status *st,
                     rm_outcome outcome)
{
	const rm_result *r = c->scratch;
	char *text = rm__strdup(st != NULL ? st->text : rm_result_text(r));

	s->tried = 1;
	s->reported |= st != NULL;
	s->outcome = outcome;
	s->accepted = outcome == RM_OUTCOME_DELIVERED;
	s->reply_code = st != NULL ? st->reply_code : rm_result_reply_code(r);
	snprintf(s->enhanced, sizeof(s->enhanced), "%s", st != NULL ?
	         st->enhanced_status : rm_result_enhanced_status(r));
	if (text != NULL) {
		free(s->text);
		s->text = text;
	}
	s->done = s->accepted || outcome == RM_OUTCOME_PERM_RECIPIENT ||
	          (outcome == RM_OUTCOME_AMBIGUOUS &&
	           !c->r->cfg.resend_ambiguous);
}

/*
 * Takes the try's per-recipient statuses: by position when the backend
 * reported every recipient of the try, else by address; a recipient it
 * did not report shares the try's outcome.
 */
static void apply_recipients(send_ctx *c, rm_outcome whole)
{
	size_t i, k = 0, p = pending_count(c);
	size_t m = rm_result_recipient_count(c->scratch);
	rm_recipient_status st;

	for (i = 0; i < c->slot_count; i++) {
		slot *s = &c->slots[i];
		int found;

		if (s->done)
			continue;
		if (m == p)
			found = rm_result_recipient(c->scratch, k, &st) ==
			        RM_OK;
		else
			found = find_address(c->scratch, s->address, &st);
		k++;
		if (found)
			set_slot(c, s, &st, slot_outcome(&st, c->scratch,
			                                 whole));
		else
			set_slot(c, s, NULL, whole);
	}
}

/* ---------------------------------------------------------------------- */
/* One try                                                                */
/* ---------------------------------------------------------------------- */

static void fill_attempt(rm_attempt *a, const rm__route_child *ch,
                         const send_ctx *c, int rc, const rm_error *e)
{
	const rm_result *r = c->scratch;

	memset(a, 0, sizeof(*a));
	a->transport = ch->name;
	a->outcome = rm_result_outcome(r);
	a->status = rc;
	a->reply_code = rm_result_reply_code(r);
	a->enhanced_status = rm_result_enhanced_status(r);
	a->http_status = rm_result_http_status(r);
	a->text = rc != RM_OK && e->message[0] ? e->message :
	          rm_result_text(r);
	a->recipients = pending_count(c);
	a->retry_after_ms = rm_result_retry_after_ms(r);
}

static int is_failure(rm_outcome o)
{
	return o == RM_OUTCOME_TRANSIENT || o == RM_OUTCOME_PERM_PROVIDER ||
	       o == RM_OUTCOME_AMBIGUOUS;
}

/* Records the try: attempts, event, counters, breaker, log. */
static void note_try(send_ctx *c, rm__route_child *ch, int rc,
                     const rm_error *e, long long wait, long long latency)
{
	rm__route *r = c->r;
	rm_outcome o = rm_result_outcome(c->scratch);
	rm_attempt a;

	fill_attempt(&a, ch, c, rc, e);
	a.wait_ms_before = wait;
	a.latency_ms = latency;
	if (ch->t->backend == &rm__backend_route) {
		rm__result_append_attempts(c->result, c->scratch, wait);
	} else {
		rm__result_add_attempt(c->result, &a);
		rm__route_emit(r, RM_EVENT_ATTEMPT, &a, NULL, rc);
	}
	rm__transport_count(ch->t, o, c->tries > 0 || c->retry);
	if (o != RM_OUTCOME_NONE)
		rm__breaker_record(&r->breaker, ch->name, is_failure(o),
		                   rm__route_now(r), &r->t->log);
	rm__logf(&r->t->log, RM_LOG_INFO, "%s: try %d on %s after %lld ms: "
	         "%s (%s)", rm__route_kind_name(r->kind), c->tries + 1,
	         ch->name, wait, rm_outcome_name(o), a.text);
}

/*
 * Keeps the try's final reply for the merged result. A plain child's
 * result names its scheme; the merged one names the child as its
 * attempts do. A nested composite already named its own child.
 */
static void keep_final(send_ctx *c, const rm__route_child *ch, int rc,
                       const rm_error *e)
{
	c->rc = rc;
	c->err = *e;
	if (ch->t->backend != &rm__backend_route &&
	    rm__result_set_transport(c->scratch, ch->name) != RM_OK) {
		c->have_last = 0;
		return;
	}
	c->have_last = rm__result_copy_final(c->last, c->scratch) == RM_OK;
	if (rm_result_outcome(c->scratch) == RM_OUTCOME_DELIVERED)
		c->have_delivered = rm__result_copy_final(c->delivered,
		                                          c->scratch) == RM_OK;
}

/* The outcome of a try, made whole when a backend left it unset. */
static rm_outcome try_outcome(send_ctx *c, int rc, const rm_error *e)
{
	rm_outcome o = rm_result_outcome(c->scratch);

	if (o != RM_OUTCOME_NONE)
		return o;
	o = rc == RM_OK ? RM_OUTCOME_DELIVERED : e->outcome;
	rm__result_set_final(c->scratch, o, e->reply_code, e->enhanced_status,
	                     e->message);
	return o;
}

/*
 * Sends to the pending recipients through ch and returns the class of
 * what is left: DELIVERED when nothing is, else the outcome that decides
 * whether to go on.
 */
static rm_outcome try_child(send_ctx *c, rm__route_child *ch, long long wait)
{
	long long t0, latency;
	rm_outcome o;
	rm_error e;
	int rc;

	set_mask(c);
	if (ch->t->backend == &rm__backend_route)
		((rm__route *)ch->t->impl)->handed_retry = c->tries > 0 ||
		                                           c->retry;
	rm__error_clear(&e);
	t0 = rm__route_now(c->r);
	rc = rm__transport_send(ch->t, c->msg, c->scratch, &e);
	latency = rm__route_now(c->r) - t0;
	rm__message_set_rcpt_mask(c->msg, c->outer_mask, c->outer_len);
	o = try_outcome(c, rc, &e);
	note_try(c, ch, rc, &e, wait, latency);
	apply_recipients(c, o);
	keep_final(c, ch, rc, &e);
	c->tries++;
	if (pending_count(c) == 0)
		return RM_OUTCOME_DELIVERED;
	if (o == RM_OUTCOME_DELIVERED || o == RM_OUTCOME_PERM_RECIPIENT)
		return RM_OUTCOME_TRANSIENT;
	return o;
}

/*
 * Whether a try through t can go to some recipients only. Backends that
 * always send to every recipient get the whole message or nothing:
 * resending to every recipient could deliver twice.
 */
static int takes_subset(const rm_transport *t)
{
	const rm__route *r;
	size_t i;

	if (t->backend != &rm__backend_route)
		return t->backend->takes_rcpt_subset;
	r = t->impl;
	for (i = 0; i < r->child_count; i++) {
		if (!takes_subset(r->children[i].t))
			return 0;
	}
	return 1;
}

/* 0 when the next try would need a subset ch cannot send to. */
static int subset_ok(send_ctx *c, rm__route_child *ch)
{
	rm_attempt a;

	if (pending_count(c) == c->slot_count || takes_subset(ch->t))
		return 1;
	memset(&a, 0, sizeof(a));
	a.transport = ch->name;
	a.text = "skipped: it sends to every recipient or none, and some "
	         "were already done";
	rm__route_emit(c->r, RM_EVENT_SKIPPED, &a, NULL, RM_OK);
	rm__logf(&c->r->t->log, RM_LOG_INFO, "%s: not trying %s for the "
	         "%zu recipients left: it cannot send to some recipients "
	         "only", rm__route_kind_name(c->r->kind), ch->name,
	         pending_count(c));
	return 0;
}

/* 1 if the breaker lets ch be tried now; a skip is counted and told. */
static int admit(send_ctx *c, rm__route_child *ch)
{
	rm__route *r = c->r;
	rm_attempt a;

	if (rm__breaker_admit(&r->breaker, ch->name, rm__route_now(r),
	                      &r->t->log))
		return 1;
	ch->t->counters.skipped++;
	memset(&a, 0, sizeof(a));
	a.transport = ch->name;
	a.text = "skipped: its circuit breaker is open";
	rm__route_emit(r, RM_EVENT_SKIPPED, &a, NULL, RM_OK);
	rm__logf(&r->t->log, RM_LOG_INFO, "%s: skipping %s: its circuit "
	         "breaker is open", rm__route_kind_name(r->kind), ch->name);
	return 0;
}

static void give_up(send_ctx *c, const char *fmt, ...) RM__PRINTF(2, 3);

static void give_up(send_ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->gave_up = 1;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* retry()                                                                */
/* ---------------------------------------------------------------------- */

static int retryable(const send_ctx *c, rm_outcome cls)
{
	return cls == RM_OUTCOME_TRANSIENT ||
	       (cls == RM_OUTCOME_AMBIGUOUS && c->r->cfg.resend_ambiguous);
}

/* Full jitter: a uniform wait up to the doubled ceiling. */
static long long backoff(const send_ctx *c)
{
	const rm__route_cfg *cfg = &c->r->cfg;
	long long ceiling = cfg->backoff_ms;
	int k;

	for (k = 1; k < c->tries && ceiling < cfg->backoff_max_ms; k++)
		ceiling *= 2;
	if (ceiling > cfg->backoff_max_ms)
		ceiling = cfg->backoff_max_ms;
	if (ceiling <= 0)
		return 0;
	return (long long)(rm__route_random(c->r) %
	                   (uint64_t)(ceiling + 1));
}

/* The wait before the next try, or -1 after giving up. */
static long long next_wait(send_ctx *c, const rm__route_child *ch)
{
	const rm__route_cfg *cfg = &c->r->cfg;
	long long hint = rm_result_retry_after_ms(c->last), wait;

	/* RFC 6585 section 4 and RFC 9110 section 10.2.3: a server that
	 * asks for more than the caller will wait gets no early retry. */
	if (hint > cfg->max_wait_ms) {
		give_up(c, "rate limited: %s asked to wait %lld ms, more "
		        "than max_wait (%lld ms)", ch->name, hint,
		        cfg->max_wait_ms);
		return -1;
	}
	wait = backoff(c);
	if (hint > wait)
		wait = hint;
	if (rm__route_now(c->r) - c->start + wait > cfg->deadline_ms) {
		give_up(c, "gave up after %d tries: the next one, in %lld "
		        "ms, would pass the deadline of %lld ms", c->tries,
		        wait, cfg->deadline_ms);
		return -1;
	}
	return wait;
}

static void run_retry(send_ctx *c)
{
	rm__route_child *ch = &c->r->children[0];
	long long wait = 0;

	for (;;) {
		/* The breaker decides whether this send starts; once it
		 * has, attempts= decides how long it goes on. */
		if (c->tries == 0 && !admit(c, ch)) {
			give_up(c, "%s is skipped: its circuit breaker is "
			        "open", ch->name);
			return;
		}
		if (!retryable(c, try_child(c, ch, wait)) ||
		    c->tries >= c->r->cfg.attempts)
			return;
		wait = next_wait(c, ch);
		if (wait < 0 || !subset_ok(c, ch))
			return;
		rm__route_sleep(c->r, wait);
	}
}

/* ---------------------------------------------------------------------- */
/* failover(), roundrobin(), weighted()                                   */
/* ---------------------------------------------------------------------- */

static int failover_ok(const send_ctx *c, rm_outcome cls)
{
	return cls == RM_OUTCOME_TRANSIENT ||
	       cls == RM_OUTCOME_PERM_PROVIDER ||
	       (cls == RM_OUTCOME_AMBIGUOUS && c->r->cfg.resend_ambiguous);
}

static void run_order(send_ctx *c, const size_t *order)
{
	rm__route *r = c->r;
	size_t i;

	for (i = 0; i < r->child_count; i++) {
		rm__route_child *ch = &r->children[order[i]];

		if (!subset_ok(c, ch) || !admit(c, ch))
			continue;
		if (!failover_ok(c, try_child(c, ch, 0)))
			return;
	}
	if (c->tries == 0)
		give_up(c, "every transport of %s() is skipped: their "
		        "circuit breakers are open",
		        rm__route_kind_name(r->kind));
}

/* Smooth weighted round robin: the pick with the most credit pays
 * the total; over a cycle each child is picked weight times. */
static size_t weighted_pick(rm__route *r)
{
	long total = 0;
	size_t i, best = 0;

	for (i = 0; i < r->child_count; i++) {
		r->children[i].current += r->children[i].weight;
		total += r->children[i].weight;
		if (r->children[i].current > r->children[best].current)
			best = i;
	}
	r->children[best].current -= total;
	return best;
}

/* A random place in the rotation, so that many short-lived processes
 * do not all start with the first transport. */
static void start_rotation(rm__route *r)
{
	long total = 0;
	uint32_t steps;
	size_t i;

	if (r->rotation_started)
		return;
	r->rotation_started = 1;
	steps = rm__route_random(r);
	if (r->kind == RM__ROUTE_ROUNDROBIN) {
		r->cursor = steps % r->child_count;
		return;
	}
	for (i = 0; i < r->child_count; i++)
		total += r->children[i].weight;
	for (steps %= (uint32_t)total; steps > 0; steps--)
		weighted_pick(r);
}

/* The first child, then the others: in turn, or heaviest first. */
static void fill_order(rm__route *r, size_t *order)
{
	size_t i, j, n = r->child_count, first;

	if (r->kind == RM__ROUTE_FAILOVER) {
		for (i = 0; i < n; i++)
			order[i] = i;
		return;
	}
	start_rotation(r);
	first = r->kind == RM__ROUTE_WEIGHTED ? weighted_pick(r) : r->cursor;
	r->cursor = (first + 1) % n;
	for (i = 0; i < n; i++)
		order[i] = (first + i) % n;
	for (i = 1; r->kind == RM__ROUTE_WEIGHTED && i < n; i++) {
		for (j = i; j > 1 && r->children[order[j]].weight >
		     r->children[order[j - 1]].weight; j--) {
			size_t tmp = order[j];

			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* The merged result                                                      */
/* ---------------------------------------------------------------------- */

static int any_accepted(const send_ctx *c)
{
	size_t i;

	for (i = 0; i < c->slot_count; i++) {
		if (c->slots[i].accepted)
			return 1;
	}
	return 0;
}

/* Whether some try got as far as a recipient, as a plain transport
 * that reports none when it failed before any was tried. */
static int any_reported(const send_ctx *c)
{
	size_t i;

	for (i = 0; i < c->slot_count; i++) {
		if (c->slots[i].reported || c->slots[i].accepted)
			return 1;
	}
	return 0;
}

static void add_recipients(send_ctx *c)
{
	const rm_result *r = c->result;
	size_t i;

	rm__result_clear_recipients(c->result);
	if (!any_reported(c))
		return;
	for (i = 0; i < c->slot_count; i++) {
		const slot *s = &c->slots[i];

		if (s->tried)
			rm__result_add_recipient(c->result, s->address,
			                         s->accepted, s->outcome,
			                         s->reply_code, s->enhanced,
			                         s->text);
		else
			rm__result_add_recipient(c->result, s->address, 0,
			                         rm_result_outcome(r), 0, "",
			                         rm_result_text(r));
	}
}

static int finish(send_ctx *c, rm_error *err)
{
	rm_result *res = c->result;
	int rc;

	if (any_accepted(c) && c->have_delivered) {
		rm__result_copy_final(res, c->delivered);
		rc = RM_OK;
	} else if (c->gave_up) {
		if (c->have_last)
			rm__result_copy_final(res, c->last);
		rm__result_set_final(res, RM_OUTCOME_TRANSIENT,
		                     rm_result_reply_code(res),
		                     rm_result_enhanced_status(res), c->why);
		rc = rm__result_fail(res, err, RM_ETEMPFAIL, "%s", c->why);
	} else {
		rm__result_copy_final(res, c->last);
		rc = c->rc;
		if (err != NULL)
			*err = c->err;
	}
	add_recipients(c);
	if (!c->r->nested)
		rm__route_emit(c->r, RM_EVENT_FINAL, NULL, res, rc);
	return rc;
}

int rm__route_send(rm_transport *t, rm_message *msg, rm_result *result,
                   rm_error *err)
{
	rm__route *r = t->impl;
	size_t order[64];
	send_ctx c;
	int rc;

	rc = ctx_init(&c, r, msg, result, err);
	if (rc != RM_OK)
		rm__result_set_final(result, err != NULL ? err->outcome :
		                     RM_OUTCOME_NONE, 0, "", err != NULL ?
		                     err->message : rm_strerror(rc));
	if (rc == RM_OK && r->kind == RM__ROUTE_RETRY) {
		run_retry(&c);
	} else if (rc == RM_OK) {
		fill_order(r, order);
		run_order(&c, order);
	}
	if (rc == RM_OK)
		rc = finish(&c, err);
	ctx_free(&c);
	return rc;
}
