/*
 * URL option values (lib/option.c): the yes/no words, the duration
 * units, whole numbers, the errors that name the option and the range,
 * and the same grammar seen through each reader of options: SMTP URLs,
 * HTTP provider URLs, composites, the rate limit and OAuth2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "option.h"
#include "route_int.h"
#include "smtp_int.h"

/* ---------------------------------------------------------------------- */
/* The value grammars                                                     */
/* ---------------------------------------------------------------------- */

static void option__flag_words(void **state)
{
	static const char *const yes[] = {
		"yes", "YES", "Yes", "true", "TRUE", "on", "On", "1"
	};
	static const char *const no[] = {
		"no", "NO", "false", "False", "off", "OFF", "0"
	};
	static const char *const bad[] = {
		"y", "n", "yess", "2", "01", " yes", "yes ", "enable", "-1",
		""
	};
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = 0;
		assert_int_equal(rm__parse_flag(yes[i], &v), RM_OK);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = 1;
		assert_int_equal(rm__parse_flag(no[i], &v), RM_OK);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(rm__parse_flag(bad[i], &v), RM_EINVAL);
		assert_int_equal(v, 7);
	}
}

static void option__duration_units(void **state)
{
	static const struct {
		const char *text;
		long long ms;
	} good[] = {
		{ "30", 30000 }, { "30s", 30000 }, { "500ms", 500 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "0", 0 },
		{ "007", 7000 }, { "1000000000ms", 1000000000LL },
		{ "1000000000h", 3600000000000000LL },
	};
	static const char *const bad[] = {
		"", "s", "ms", "1.5s", "-1", "+1", "1 s", "10x", "30S", "2d",
		"1sec", "1000000001", "123456789012345678901234",
	};
	long long ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		assert_int_equal(rm__parse_duration(good[i].text, &ms), RM_OK);
		assert_true(ms == good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = -1;
		assert_int_equal(rm__parse_duration(bad[i], &ms), RM_EINVAL);
		assert_true(ms == -1);
	}
}

/* ---------------------------------------------------------------------- */
/* The readers: absent options, errors                                    */
/* ---------------------------------------------------------------------- */

static void option__reader_errors(void **state)
{
	rm__url url;
	rm_error err;
	rm__opt_reader r = { &url, "test", &err };
	long long ms = 42;
	long n = 42;
	int f = 42;

	(void)state;
	assert_int_equal(rm__url_parse(&url, "smtp://h/?f=maybe&d=2h&l=1000"
	                 "&bare&z=0&short=500ms", &err), RM_OK);

	/* Absent: the caller's default stands. */
	assert_int_equal(rm__opt_flag(&r, "nope", &f), RM_OK);
	assert_int_equal(rm__opt_long(&r, "nope", 0, 9, &n), RM_OK);
	assert_int_equal(rm__opt_duration(&r, "nope", 0, 1000, &ms), RM_OK);
	assert_int_equal(f, 42);
	assert_int_equal(n, 42);
	assert_true(ms == 42);

	/* An empty value is no word for yes. */
	assert_int_equal(rm__opt_flag(&r, "bare", &f), RM_EURL);
	assert_string_equal(err.field, "bare");
	assert_int_equal(f, 42);
	assert_int_equal(rm__opt_flag(&r, "z", &f), RM_OK);
	assert_int_equal(f, 0);

	assert_int_equal(rm__opt_flag(&r, "f", &f), RM_EURL);
	assert_int_equal(err.outcome, RM_OUTCOME_PERM_PROVIDER);
	assert_string_equal(err.field, "f");
	assert_string_equal(err.message, "bad test option f: expected yes or "
	                    "no (or true/false, on/off, 1/0)");

	assert_int_equal(rm__opt_long(&r, "l", 1, 999, &n), RM_EURL);
	assert_string_equal(err.field, "l");
	assert_string_equal(err.message, "bad test option l: expected a "
	                    "whole number, 1 to 999");
	assert_int_equal(n, 42);

	assert_int_equal(rm__opt_duration(&r, "d", 0, 7200000, &ms), RM_OK);
	assert_true(ms == 7200000);
	assert_int_equal(rm__opt_duration(&r, "d", 1000, 3599999, &ms),
	                 RM_EURL);
	assert_string_equal(err.field, "d");
	assert_string_equal(err.message, "bad test option d: expected a "
	                    "duration such as 30 (seconds), 30s, 2m or 1h, 1 "
	                    "second to 3599999 ms");
	assert_int_equal(rm__opt_duration(&r, "short", 1000, 86400000, &ms),
	                 RM_EURL);
	assert_non_null(strstr(err.message, "1 second to 1 day"));
	assert_int_equal(rm__opt_duration(&r, "d", 0, 3 * 60000, &ms),
	                 RM_EURL);
	assert_non_null(strstr(err.message, ", at most 3 minutes"));
	rm__url_free(&url);
}

/* ---------------------------------------------------------------------- */
/* The same grammar through each reader of options                        */
/* ---------------------------------------------------------------------- */

/* Opening url fails with RM_EURL on field, the message holding text. */
static void open_fails(const char *url, const char *field, const char *text)
{
	rm_transport *t = NULL;
	rm_error err;

	assert_int_equal(rm_transport_open(&t, url, NULL, &err), RM_EURL);
	assert_null(t);
	assert_string_equal(err.field, field);
	if (strstr(err.message, text) == NULL)
		fail_msg("'%s' lacks '%s'", err.message, text);
}

static void open_ok(const char *url)
{
	rm_transport *t = NULL;
	rm_error err;

	if (rm_transport_open(&t, url, NULL, &err) != RM_OK)
		fail_msg("%s: %s", url, err.message);
	rm_transport_close(t);
}

static void option__smtp(void **state)
{
	rm_transport *t = NULL;
	rm__smtp_cfg cfg;
	rm__url url;
	rm_error err;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "smtp://127.0.0.1:9", NULL,
	                                   &err), RM_OK);
	assert_int_equal(rm__url_parse(&url, "smtp://127.0.0.1:9?"
	                 "insecure_skip_verify=On&timeout=2m&"
	                 "connect_timeout=1500ms", &err), RM_OK);
	assert_int_equal(rm__smtp_cfg_parse(&cfg, t, &url, &err), RM_OK);
	assert_int_equal(cfg.verify, 0);
	assert_int_equal(cfg.timeout_ms, 120000);
	assert_int_equal(cfg.connect_timeout_ms, 1500);
	rm__smtp_cfg_free(&cfg);
	rm__url_free(&url);

	assert_int_equal(rm__url_parse(&url, "smtp://127.0.0.1:9?"
	                 "insecure_skip_verify=FALSE", &err), RM_OK);
	assert_int_equal(rm__smtp_cfg_parse(&cfg, t, &url, &err), RM_OK);
	assert_int_equal(cfg.verify, 1);
	assert_int_equal(cfg.connect_timeout_ms, 30000);
	rm__smtp_cfg_free(&cfg);
	rm__url_free(&url);
	rm_transport_close(t);

	open_fails("smtp://127.0.0.1:9?insecure_skip_verify=sure",
	           "insecure_skip_verify", "bad SMTP URL option "
	           "insecure_skip_verify: expected yes or no");
	open_fails("smtp://127.0.0.1:9?timeout=500ms", "timeout",
	           "bad SMTP URL option timeout: expected a duration such as "
	           "30 (seconds), 30s, 2m or 1h, 1 second to 1 day");
	/* Switching a check off takes a word, not an empty value. */
	open_fails("smtp://127.0.0.1:9?insecure_skip_verify",
	           "insecure_skip_verify", "expected yes or no");
	open_fails("smtp://127.0.0.1:9?insecure_skip_verify=",
	           "insecure_skip_verify", "expected yes or no");
	open_fails("smtp://127.0.0.1:9?connect_timeout=25h",
	           "connect_timeout", "1 second to 1 day");
}

static void option__http(void **state)
{
	(void)state;
	open_fails("sendgrid://KEY@default?endpoint=http://api.example/&"
	           "allow_insecure_http", "allow_insecure_http",
	           "expected yes or no");
	open_ok("sendgrid://KEY@default?endpoint=http://api.example/&"
	        "allow_insecure_http=TRUE&timeout=1h&connect_timeout=90s");
	open_fails("sendgrid://KEY@default?endpoint=http://api.example/&"
	           "allow_insecure_http=off", "endpoint", "bad URL option "
	           "endpoint: plain http sends the API key in clear text");
	open_fails("sendgrid://KEY@default?allow_insecure_http=2",
	           "allow_insecure_http", "bad URL option "
	           "allow_insecure_http: expected yes or no");
	open_fails("mailgun://KEY@example.com?timeout=0", "timeout",
	           "bad URL option timeout: expected a duration");
}

static void option__composite(void **state)
{
	rm_transport *t = NULL;
	rm__route *r;
	rm_error err;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "retry(file:///tmp)?"
	                 "resend_ambiguous=ON&deadline=1h&backoff=250ms&"
	                 "breaker=0", NULL, &err), RM_OK);
	r = t->impl;
	assert_int_equal(r->cfg.resend_ambiguous, 1);
	assert_true(r->cfg.deadline_ms == 3600000);
	assert_true(r->cfg.backoff_ms == 250);
	assert_int_equal(r->breaker.threshold, 0);
	rm_transport_close(t);

	open_fails("failover(file:///tmp)?resend_ambiguous",
	           "resend_ambiguous", "expected yes or no");
	open_fails("failover(file:///tmp)?resend_ambiguous=maybe",
	           "resend_ambiguous", "bad composite option "
	           "resend_ambiguous: expected yes or no");
	open_fails("retry(file:///tmp)?deadline=169h", "deadline",
	           "bad composite option deadline: expected a duration such "
	           "as 30 (seconds), 30s, 500ms, 2m or 1h, at most 7 days");
	open_fails("failover(file:///tmp)?breaker=1001", "breaker",
	           "bad composite option breaker: expected a whole number, 0 "
	           "to 1000");
}

static void option__rate_and_oauth(void **state)
{
	(void)state;
	open_fails("file:///tmp?rate_per_minute=0", "rate_per_minute",
	           "bad URL option rate_per_minute: expected a whole number, "
	           "1 to 100000");
	open_fails("gmail+oauth://me%40gmail.com@default?client_id=c&"
	           "refresh_token=r&token_timeout=11m", "token_timeout",
	           "bad OAuth2 option token_timeout: expected a duration such "
	           "as 30 (seconds), 30s, 2m or 1h, 1 second to 10 "
	           "minutes");
	open_ok("gmail+oauth://me%40gmail.com@default?client_id=c&"
	        "refresh_token=r&token_timeout=2m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(option__flag_words),
		cmocka_unit_test(option__duration_units),
		cmocka_unit_test(option__reader_errors),
		cmocka_unit_test(option__smtp),
		cmocka_unit_test(option__http),
		cmocka_unit_test(option__composite),
		cmocka_unit_test(option__rate_and_oauth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
