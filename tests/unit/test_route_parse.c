/*
 * The composite URL grammar: nesting, whitespace, names, weights,
 * options, and every way a composite URL can be wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "route_int.h"

static rm_transport *open_ok(const char *url)
{
	rm_transport *t = NULL;
	rm_error err;
	int rc = rm_transport_open(&t, url, NULL, &err);

	if (rc != RM_OK)
		print_message("%s: %s\n", url, err.message);
	assert_int_equal(rc, RM_OK);
	return t;
}

/* Opening fails with code, and the message holds part. */
static void open_fails(const char *url, int code, const char *part)
{
	rm_transport *t = (rm_transport *)1;
	rm_error err;

	assert_int_equal(rm_transport_open(&t, url, NULL, &err), code);
	assert_null(t);
	assert_int_equal(err.code, code);
	if (strstr(err.message, part) == NULL)
		print_message("%s: '%s' lacks '%s'\n", url, err.message, part);
	assert_non_null(strstr(err.message, part));
}

/* Opening fails with code, and field and message are exactly these. */
static void open_fails_with(const char *url, int code, const char *field,
                            const char *message)
{
	rm_transport *t = (rm_transport *)1;
	rm_error err;

	assert_int_equal(rm_transport_open(&t, url, NULL, &err), code);
	assert_null(t);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, field);
	assert_string_equal(err.message, message);
}

static rm__route *route(rm_transport *t)
{
	return t->impl;
}

static void parse__nested_composites(void **state)
{
	rm_transport *t, *inner;

	(void)state;
	t = open_ok("failover(smtp://127.0.0.1:2525#a roundrobin("
	            "smtp://127.0.0.1:2526#b smtp://127.0.0.1:2527#c))");
	assert_string_equal(rm_transport_name(t), "failover");
	assert_int_equal(rm_transport_child_count(t), 2);
	assert_string_equal(rm_transport_child_name(t, 0), "a");
	assert_string_equal(rm_transport_child_name(t, 1), "roundrobin");
	inner = route(t)->children[1].t;
	assert_string_equal(rm_transport_name(inner), "roundrobin");
	assert_string_equal(rm_transport_child_name(inner, 0), "b");
	assert_string_equal(rm_transport_child_name(inner, 1), "c");
	assert_true(route(inner)->nested);
	assert_false(route(t)->nested);
	rm_transport_close(t);
}

static void parse__whitespace_between_children(void **state)
{
	rm_transport *t;

	(void)state;
	t = open_ok("  failover(\n\tsmtp://127.0.0.1:1#a\n  retry( "
	            "smtp://127.0.0.1:2#b )?attempts=4 \n)  ");
	assert_int_equal(rm_transport_child_count(t), 2);
	assert_int_equal(route(route(t)->children[1].t)->cfg.attempts, 4);
	rm_transport_close(t);
}

static void parse__default_names_hide_secrets(void **state)
{
	rm_transport *t;

	(void)state;
	t = open_ok("failover(smtp://user:secret@127.0.0.1:2525?tls=none&"
	            "timeout=9 smtp://127.0.0.1:2526/ "
	            "smtp://u%28x%29:p%29w@127.0.0.1:2525)");
	assert_string_equal(rm_transport_child_name(t, 0),
	                    "smtp://127.0.0.1:2525");
	assert_string_equal(rm_transport_child_name(t, 1),
	                    "smtp://127.0.0.1:2526");
	/* Same name twice: the later one gets its place appended. */
	assert_string_equal(rm_transport_child_name(t, 2),
	                    "smtp://127.0.0.1:2525[3]");
	assert_null(rm_transport_child_name(t, 3));
	rm_transport_close(t);
}

static void parse__weights(void **state)
{
	rm_transport *t;

	(void)state;
	t = open_ok("weighted(smtp://127.0.0.1:25#a:3 smtp://127.0.0.1:26:1 "
	            "failover(smtp://127.0.0.1:27):2)");
	assert_int_equal(route(t)->children[0].weight, 3);
	assert_string_equal(rm_transport_child_name(t, 0), "a");
	assert_int_equal(route(t)->children[1].weight, 1);
	assert_string_equal(rm_transport_child_name(t, 1),
	                    "smtp://127.0.0.1:26");
	assert_int_equal(route(t)->children[2].weight, 2);
	rm_transport_close(t);
	open_fails_with("weighted(smtp://127.0.0.1:25 smtp://b)", RM_EURL,
	                "url", "weighted() transport 2: the weight is "
	                "missing in 'smtp://b': write ':weight' (1 to 1000) "
	                "last, after the URL and its #name, as in "
	                "smtp://a.example:25#a:3");
	open_fails_with("weighted(smtp://a:25:0)", RM_EURL, "url",
	                "weighted() transport 1: a weight is 1 to 1000: "
	                "'0'");
	open_fails_with("weighted(file:///x:1 smtp://a:25#a:1001)", RM_EURL,
	                "url", "weighted() transport 2: a weight is 1 to "
	                "1000: '1001'");
	/* A port where the weight should be: the weight is missing. */
	open_fails_with("weighted(smtp://127.0.0.1:43065 file:///x:1)",
	                RM_EURL, "url", "weighted() transport 1: the weight "
	                "is missing ('43065' is the port); write the weight "
	                "after it, as in smtp://127.0.0.1:43065:1");
	open_fails_with("weighted(smtp://u:secret@h.example:2525)", RM_EURL,
	                "url", "weighted() transport 1: the weight is "
	                "missing ('2525' is the port); write the weight "
	                "after it, as in smtp://u:****@h.example:2525:1");
}

/* A weight outside weighted() is refused, not taken into the name. */
static void parse__weights_refused_elsewhere(void **state)
{
	rm_transport *t;

	(void)state;
	open_fails_with("failover(smtp://127.0.0.1:2525#a:3 file:///tmp)",
	                RM_EURL, "url", "failover() transport 1: only "
	                "weighted() takes a weight (':3')");
	open_fails_with("roundrobin(file:///tmp smtp://127.0.0.1:25:2)",
	                RM_EURL, "url", "roundrobin() transport 2: only "
	                "weighted() takes a weight (':2')");
	open_fails_with("failover(file:///tmp retry(file:///tmp):4)",
	                RM_EURL, "url", "failover() transport 2: only "
	                "weighted() takes a weight (':4')");
	open_fails_with("retry(smtp://127.0.0.1#a:1)", RM_EURL, "url",
	                "retry() transport 1: only weighted() takes a "
	                "weight (':1')");
	/* A URL's own port, or a colon in a path, is no weight. */
	t = open_ok("failover(smtp://127.0.0.1:2525 file:///tmp/a:1 "
	            "smtp://[::1]:25)");
	assert_string_equal(rm_transport_child_name(t, 0),
	                    "smtp://127.0.0.1:2525");
	assert_string_equal(rm_transport_child_name(t, 1), "file:///tmp/a:1");
	rm_transport_close(t);
}

static void parse__options(void **state)
{
	rm_transport *t;
	rm__route *r;

	(void)state;
	t = open_ok("retry(smtp://127.0.0.1:25)?attempts=7&deadline=2m&"
	            "backoff=250ms&backoff_max=9&max_wait=30s&"
	            "resend_ambiguous=yes&breaker=3&breaker_cooldown=5s");
	r = route(t);
	assert_int_equal(r->cfg.attempts, 7);
	assert_int_equal(r->cfg.deadline_ms, 120000);
	assert_int_equal(r->cfg.backoff_ms, 250);
	assert_int_equal(r->cfg.backoff_max_ms, 9000);
	assert_int_equal(r->cfg.max_wait_ms, 30000);
	assert_true(r->cfg.resend_ambiguous);
	assert_int_equal(r->breaker.threshold, 3);
	assert_int_equal(r->breaker.cooldown_ms, 5000);
	rm_transport_close(t);
	t = open_ok("failover(smtp://127.0.0.1:25)");
	r = route(t);
	assert_int_equal(r->cfg.resend_ambiguous, 0);
	assert_int_equal(r->breaker.threshold, 5);
	rm_transport_close(t);
}

static void parse__mistakes(void **state)
{
	(void)state;
	open_fails("failover(smtp://a smtp://b", RM_EURL, "unbalanced");
	open_fails("failover(smtp://a/(x) smtp://b)", RM_EURL,
	           "percent-encoded");
	open_fails("failover()", RM_EURL, "at least one");
	open_fails("retry(smtp://a smtp://b)", RM_EURL,
	           "retry(failover(a b))");
	open_fails_with("failover(smtp://a)?colour=red", RM_EURL, "colour",
	                "failover() has no option 'colour'");
	/* attempts is retry()'s: elsewhere the error says where it goes. */
	open_fails_with("failover(smtp://a)?attempts=3", RM_EURL, "attempts",
	                "failover() has no option 'attempts': only retry() "
	                "has; wrap it, as in retry(failover(...))?attempts=3");
	open_fails_with("weighted(smtp://a:25:1)?backoff=2s", RM_EURL,
	                "backoff", "weighted() has no option 'backoff': only "
	                "retry() has; wrap it, as in "
	                "retry(weighted(...))?backoff=2s");
	open_fails_with("retry(smtp://a)?breaker=1&colour=red", RM_EURL,
	                "colour", "retry() has no option 'colour'");
	open_fails("retry(smtp://a)?deadline=soon", RM_EURL, "deadline");
	open_fails("retry(smtp://a)?attempts=0", RM_EURL, "attempts");
	open_fails("retry(smtp://a) extra", RM_EURL, "after the closing");
	open_fails("failover(smtp://a#)", RM_EURL, "empty #name");
	open_fails("failover(smtp://127.0.0.1 nope://x)", RM_EURL,
	           "failover() transport 2: unknown transport scheme");
	open_fails("failover(smtp://127.0.0.1 retry(smtp://127.0.0.1)"
	           "?attempts=x)", RM_EURL, "failover() transport 2");
}

/* A #name two siblings share is refused; cousins may share one. */
static void parse__duplicate_names_refused(void **state)
{
	rm_transport *t;

	(void)state;
	open_fails("failover(file:///tmp#a file:///tmp#b file:///tmp#a)",
	           RM_EURL, "failover() transport 3: the name 'a' is "
	           "already transport 1's");
	open_fails("failover(file:///tmp file:///var#file:///tmp)", RM_EURL,
	           "the name 'file:///tmp'");
	t = open_ok("failover(file:///tmp#a file:///tmp)");
	assert_string_equal(rm_transport_child_name(t, 1), "file:///tmp");
	rm_transport_close(t);
}

/* Not composites: plain URLs go to their backends as before. */
static void parse__plain_urls_are_not_composites(void **state)
{
	(void)state;
	assert_false(rm__route_is_composite("smtp://retry.example"));
	assert_false(rm__route_is_composite("retry"));
	assert_false(rm__route_is_composite("retry (smtp://a)"));
	assert_true(rm__route_is_composite(" \tretry(smtp://a)"));
	assert_true(rm__route_is_composite("weighted(x:1)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__nested_composites),
		cmocka_unit_test(parse__whitespace_between_children),
		cmocka_unit_test(parse__default_names_hide_secrets),
		cmocka_unit_test(parse__weights),
		cmocka_unit_test(parse__weights_refused_elsewhere),
		cmocka_unit_test(parse__options),
		cmocka_unit_test(parse__mistakes),
		cmocka_unit_test(parse__duplicate_names_refused),
		cmocka_unit_test(parse__plain_urls_are_not_composites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
