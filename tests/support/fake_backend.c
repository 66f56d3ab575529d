/*
 * The scripted backend and fake clock of fake_backend.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"
#include "route_int.h"

static char letter_at(const char *rcpts, size_t i)
{
	size_t n = strlen(rcpts);

	return n == 0 ? 'D' : rcpts[i < n ? i : n - 1];
}

static void add_one(rm_result *r, const char *address, char c)
{
	switch (c) {
	case 'D':
		rm__result_add_recipient(r, address, 1, RM_OUTCOME_DELIVERED,
		                         250, "2.1.5", "ok");
		break;
	case 'T':
		rm__result_add_recipient(r, address, 0, RM_OUTCOME_TRANSIENT,
		                         450, "4.2.1", "mailbox busy");
		break;
	case 'P':
		rm__result_add_recipient(r, address, 0,
		                         RM_OUTCOME_PERM_RECIPIENT, 550,
		                         "5.1.1", "user unknown");
		break;
	default:
		rm__result_add_recipient(r, address, 0, RM_OUTCOME_AMBIGUOUS,
		                         0, "", "no answer");
		break;
	}
}

static void record_call(fake_backend *fb, rm_message *msg,
                        const rm__envelope *env)
{
	fb_call *c;
	size_t i;

	if (fb->calls >= FB_CALLS_MAX)
		return;
	c = &fb->call[fb->calls];
	memset(c, 0, sizeof(*c));
	for (i = 0; i < env->rcpt_count; i++) {
		size_t len = strlen(c->rcpts);

		snprintf(c->rcpts + len, sizeof(c->rcpts) - len, "%s%s",
		         i > 0 ? " " : "", env->rcpts[i]);
	}
	snprintf(c->message_id, sizeof(c->message_id), "%s",
	         rm_message_message_id(msg));
}

static int fb_send(rm_transport *t, rm_message *msg, rm_result *r,
                   rm_error *err)
{
	fake_backend *fb = t->impl;
	const fb_step *st;
	rm__envelope env;
	size_t i;

	st = &fb->steps[fb->calls < fb->step_count ? fb->calls :
	                fb->step_count - 1];
	if (rm__message_envelope(msg, 1, &env, err) != RM_OK)
		return err != NULL ? err->code : RM_EINVAL;
	record_call(fb, msg, &env);
	fb->calls++;
	if (fb->clock != NULL)
		*fb->clock += fb->latency_ms;
	for (i = 0; i < env.rcpt_count; i++) {
		char c = st->rcpts != NULL ? letter_at(st->rcpts, i) :
		         st->outcome == RM_OUTCOME_DELIVERED ? 'D' :
		         st->outcome == RM_OUTCOME_PERM_RECIPIENT ? 'P' :
		         st->outcome == RM_OUTCOME_AMBIGUOUS ? 'A' : 'T';

		add_one(r, env.rcpts[i], c);
	}
	rm__envelope_free(&env);
	rm__result_set_final(r, st->outcome, st->reply_code, "", "fake");
	rm__result_set_retry_after(r, st->retry_after_ms);
	if (st->rc != RM_OK)
		return rm__fail(err, st->rc, st->outcome, NULL, "fake %d",
		                st->reply_code);
	return RM_OK;
}

static void fb_close(rm_transport *t)
{
	t->impl = NULL;
}

/* The fake reads its envelope as file:// does, so by default it can be
 * sent a subset of the recipients, like every raw MIME backend. */
static const rm__backend fb_backend = {
	"fake", NULL, fb_send, NULL, fb_close, 1
};

/* The same fake playing a JSON API that sends to every recipient. */
static const rm__backend fb_backend_whole = {
	"fake", NULL, fb_send, NULL, fb_close, 0
};

void fb_whole_message(rm_transport *t)
{
	t->backend = &fb_backend_whole;
}

void fb_attach(rm_transport *t, fake_backend *fb, const fb_step *steps,
               size_t step_count)
{
	t->backend->close(t);
	memset(fb, 0, sizeof(*fb));
	fb->steps = steps;
	fb->step_count = step_count;
	t->backend = &fb_backend;
	t->scheme = "file";
	t->impl = fb;
}

rm_transport *fb_child(rm_transport *t, size_t i)
{
	rm__route *r = t->impl;

	return i < r->child_count ? r->children[i].t : NULL;
}

static long long fake_now(void *user)
{
	return ((fb_clock *)user)->now;
}

static void fake_sleep(long long ms, void *user)
{
	fb_clock *c = user;

	if (c->wait_count < FB_CALLS_MAX)
		c->waits[c->wait_count++] = ms;
	c->now += ms;
}

static uint32_t fake_random(void *user)
{
	fb_clock *c = user;

	if (c->draws != NULL && c->drawn < c->draw_count)
		return c->draws[c->drawn++];
	return c->random;
}

void fb_clock_install(rm_transport *t, fb_clock *clock)
{
	memset(clock, 0, sizeof(*clock));
	clock->now = 1000000000000LL;
	rm_transport_set_clock(t, fake_now, fake_sleep, clock, NULL);
	rm_transport_set_random(t, fake_random, clock, NULL);
}

rm_message *fb_message(const char *to)
{
	rm_message *m = NULL;

	if (rm_message_new(&m, NULL) != RM_OK ||
	    rm_message_set_from(m, "a@example.com", NULL, NULL) != RM_OK ||
	    rm_message_add_to(m, to, NULL, NULL) != RM_OK ||
	    rm_message_set_subject(m, "Test", NULL) != RM_OK ||
	    rm_message_set_text(m, "hello\r\n", (size_t)-1, NULL) != RM_OK) {
		rm_message_free(m);
		return NULL;
	}
	return m;
}
