/*
 * Unit tests for the HTTP layer's pure parts: the retry hint (case 13),
 * the status classes, header values for JSON fields (case 14), unwrapped
 * base64 (case 15), tags and metadata, and the URL options every HTTP
 * backend checks before it sends anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_int.h"

static long long hint_for(const char *headers)
{
	rm__http_response r;
	long long ms;

	rm__http_response_init(&r);
	assert_int_equal(rm__buf_append_str(&r.headers, headers), RM_OK);
	ms = rm__http_retry_hint(&r);
	rm__http_response_free(&r);
	return ms;
}

static void http__retry_after_seconds(void **state)
{
	(void)state;
	assert_int_equal(hint_for("HTTP/1.1 429 Too Many Requests\r\n"
	                          "Retry-After: 3\r\n\r\n"), 3000);
	assert_int_equal(hint_for("HTTP/1.1 503 Unavailable\r\n"
	                          "retry-after:   2  \r\n\r\n"), 2000);
}

/* Case 13 B: the HTTP-date counts from the server's Date header. */
static void http__retry_after_date(void **state)
{
	(void)state;
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n"
	                          "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
	                          "Retry-After: Tue, 02 Jan 2024 03:04:10 GMT"
	                          "\r\n\r\n"), 5000);
	/* A date in the past asks for no wait. */
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n"
	                          "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
	                          "Retry-After: Tue, 02 Jan 2024 03:04:00 GMT"
	                          "\r\n\r\n"), 0);
}

/* Case 13 C: X-RateLimit-Reset is epoch seconds. */
static void http__ratelimit_reset(void **state)
{
	(void)state;
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n"
	                          "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
	                          "X-RateLimit-Reset: 1704164650\r\n\r\n"),
	                 5000);
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n\r\n"), 0);
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\nRetry-After: soon\r\n"
	                          "\r\n"), 0);
}

/* A date centuries away (found by fuzzing) is capped, not overflowed. */
static void http__far_future_hint_is_capped(void **state)
{
	long long year_ms = 366LL * 86400 * 1000;

	(void)state;
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n"
	                          "Retry-After: Wed, 21 Oct 700000000\r\n"
	                          "\r\n"), year_ms);
	assert_int_equal(hint_for("HTTP/1.1 429 x\r\n"
	                          "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
	                          "X-RateLimit-Reset: 2147483647\r\n\r\n"),
	                 year_ms);
}

/* Only the final response's headers count (not a 100 Continue's). */
static void http__headers_of_final_response(void **state)
{
	rm__http_response r;
	char v[64];

	(void)state;
	rm__http_response_init(&r);
	rm__buf_append_str(&r.headers, "HTTP/1.1 202 Accepted\r\n"
	                   "X-Message-Id: abc123\r\nX-Empty:\r\n\r\n");
	assert_true(rm__http_response_header(&r, "x-message-id", v,
	                                     sizeof(v)));
	assert_string_equal(v, "abc123");
	assert_true(rm__http_response_header(&r, "X-Empty", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_false(rm__http_response_header(&r, "X-Message", v,
	                                      sizeof(v)));
	rm__http_response_free(&r);
}

static void http__status_classes(void **state)
{
	(void)state;
	assert_int_equal(rm__http_status_outcome(202), RM_OUTCOME_DELIVERED);
	assert_int_equal(rm__http_status_outcome(429), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm__http_status_outcome(408), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm__http_status_outcome(503), RM_OUTCOME_TRANSIENT);
	/* The whole POST arrived: the provider may have queued it. */
	assert_int_equal(rm__http_status_outcome(500), RM_OUTCOME_AMBIGUOUS);
	assert_int_equal(rm__http_status_outcome(502), RM_OUTCOME_AMBIGUOUS);
	assert_int_equal(rm__http_status_outcome(504), RM_OUTCOME_AMBIGUOUS);
	assert_int_equal(rm__http_status_code(500), RM_EHTTP);
	assert_int_equal(rm__http_status_code(503), RM_ETEMPFAIL);
	assert_int_equal(rm__http_status_outcome(400),
	                 RM_OUTCOME_PERM_PROVIDER);
	assert_int_equal(rm__http_status_outcome(401),
	                 RM_OUTCOME_PERM_PROVIDER);
	assert_int_equal(rm__http_status_code(401), RM_EAUTH);
	assert_int_equal(rm__http_status_code(403), RM_EAUTH);
	assert_int_equal(rm__http_status_code(413), RM_ETOOBIG);
	assert_int_equal(rm__http_status_code(429), RM_ETEMPFAIL);
	assert_int_equal(rm__http_status_code(422), RM_EREJECTED);
}

/* Case 14 A and D: one line of printable ASCII, words that decode back. */
static void http__header_value_logical(void **state)
{
	char value[64] = "";
	rm__buf out;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++)
		memcpy(value + 2 * i, "\xc3\xa9", 2);
	rm__buf_init(&out, 4096);
	assert_int_equal(rm__http_header_value(value, &out), RM_OK);
	assert_true(strncmp(out.data, "=?UTF-8?", 8) == 0);
	for (i = 0; i < out.len; i++)
		assert_true(out.data[i] >= 0x20 && out.data[i] <= 0x7e);
	rm__buf_reset(&out);
	assert_int_equal(rm__http_header_value(
		"{\"order\":\"A-1\"} and a value well over seventy-eight "
		"characters long, which is never folded", &out), RM_OK);
	assert_string_equal(out.data, "{\"order\":\"A-1\"} and a value well "
	                    "over seventy-eight characters long, which is "
	                    "never folded");
	rm__buf_free(&out);
}

/* Case 15: JSON attachments carry one unwrapped base64 string. */
static void http__base64_unwrapped(void **state)
{
	unsigned char data[64];
	cJSON *obj = cJSON_CreateObject();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	assert_int_equal(rm__json_add_base64(obj, "content", data,
	                                     sizeof(data)), RM_OK);
	assert_string_equal(rm__json_string(obj, "content"),
	                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIS"
	                    "IjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==");
	cJSON_Delete(obj);
}

static void http__tags_and_metadata(void **state)
{
	rm_message *msg;
	rm_error err;
	char name[16];
	int i;

	(void)state;
	assert_int_equal(rm_message_new(&msg, NULL), RM_OK);
	assert_int_equal(rm_message_add_tag(msg, "reports", &err), RM_OK);
	assert_int_equal(rm_message_add_tag(msg, "reports", &err), RM_OK);
	assert_int_equal(msg->tag_count, 1);
	assert_int_equal(rm_message_add_tag(msg, "", &err), RM_EINVAL);
	assert_int_equal(rm_message_add_tag(msg, "a\r\nb", &err), RM_EINVAL);
	assert_int_equal(rm_message_set_metadata(msg, "job", "42", &err),
	                 RM_OK);
	assert_int_equal(rm_message_set_metadata(msg, "job", "43", &err),
	                 RM_OK);
	assert_int_equal(msg->meta_count, 1);
	assert_string_equal(msg->meta[0].value, "43");
	assert_int_equal(rm_message_set_metadata(msg, "bad key", "1", &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "metadata key");
	assert_int_equal(rm_message_set_metadata(msg, "job", NULL, &err),
	                 RM_OK);
	assert_int_equal(msg->meta_count, 0);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(rm_message_set_metadata(msg, name, "v", &err),
		                 RM_OK);
		if (i < 63)    /* "reports" is the 64th */
			assert_int_equal(rm_message_add_tag(msg, name, &err),
			                 RM_OK);
	}
	assert_int_equal(rm_message_set_metadata(msg, "one-more", "v", &err),
	                 RM_ELIMIT);
	assert_int_equal(rm_message_set_metadata(msg, "k1", "new", &err),
	                 RM_OK);
	assert_int_equal(rm_message_add_tag(msg, "one-more", &err),
	                 RM_ELIMIT);
	rm_message_free(msg);
}

static int open_fails(const char *url, const char *field)
{
	rm_transport *t = NULL;
	rm_error err;
	int rc = rm_transport_open(&t, url, NULL, &err);

	rm_transport_close(t);
	if (rc != RM_OK && field != NULL)
		assert_string_equal(err.field, field);
	return rc;
}

static void http__url_options(void **state)
{
	(void)state;
	assert_int_equal(open_fails("sendgrid://K@default", NULL), RM_OK);
	assert_int_equal(open_fails("sendgrid://K@default?region=eu", NULL),
	                 RM_OK);
	assert_int_equal(open_fails("sendgrid://K@default?region=mars",
	                            "region"), RM_EURL);
	assert_int_equal(open_fails("sendgrid://default", "user"), RM_EURL);
	assert_int_equal(open_fails("sendgrid://K@default?colour=red",
	                            "colour"), RM_EURL);
	/* Plain http only on loopback, or when asked for in plain words. */
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://mail.example.com", "endpoint"),
	                 RM_EURL);
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://mail.example.com&"
	                            "allow_insecure_http=yes", NULL), RM_OK);
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://127.0.0.1:9", NULL), RM_OK);
	assert_int_equal(open_fails("smtp2go://K@default?timeout=0",
	                            "timeout"), RM_EURL);
	assert_int_equal(open_fails("mailgun://K@mg.example.com?region=eu",
	                            NULL), RM_OK);
	assert_int_equal(open_fails("ses://A:S@eu-west-1?configuration_set="
	                            "cs&email_tags=a:1", NULL), RM_OK);
	assert_int_equal(open_fails("ses://A:S@Not_A_Region", "host"),
	                 RM_EURL);
}

/* Loopback is decided on the parsed address, never on a prefix of the
 * name: "127.attacker.example" is somebody else's machine. */
static void http__loopback_is_an_address(void **state)
{
	(void)state;
	assert_true(rm__host_is_loopback("127.0.0.1"));
	assert_true(rm__host_is_loopback("127.255.0.9"));
	assert_true(rm__host_is_loopback("::1"));
	assert_true(rm__host_is_loopback("[::1]"));
	assert_true(rm__host_is_loopback("LocalHost"));
	assert_false(rm__host_is_loopback("127.attacker.example"));
	assert_false(rm__host_is_loopback("127.0.0.1.attacker.example"));
	assert_false(rm__host_is_loopback("localhost.attacker.example"));
	assert_false(rm__host_is_loopback("128.0.0.1"));
	assert_false(rm__host_is_loopback("::2"));
	assert_false(rm__host_is_loopback("[::1"));
	assert_false(rm__host_is_loopback(""));
	assert_false(rm__host_is_loopback(NULL));

	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://127.attacker.example/",
	                            "endpoint"), RM_EURL);
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://127.0.0.1.attacker.example/",
	                            "endpoint"), RM_EURL);
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://[::1]:9/", NULL), RM_OK);
	assert_int_equal(open_fails("postmark://T@default?endpoint="
	                            "http://localhost:9/", NULL), RM_OK);
}

/* SES credentials from the environment go into signed headers: a CR or
 * LF there is refused, naming the variable. */
static void http__ses_env_refuses_crlf(void **state)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_REGION",
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(names); i++) {
		setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
		setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
		setenv("AWS_REGION", "eu-west-1", 1);
		setenv(names[i], "x\r\nX-Evil: 1", 1);
		assert_int_equal(open_fails("ses://default", names[i]),
		                 RM_EINVAL);
		assert_int_equal(open_fails("ses://A:S@eu-west-1", names[i]),
		                 RM_EINVAL);
		unsetenv(names[i]);
	}
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_REGION");
	unsetenv("AWS_SESSION_TOKEN");
}

/* Whatever a backend hands the HTTP layer, a header value with CR or LF
 * is refused before any connection (port 9 would refuse it otherwise). */
static void http__header_crlf_refused_centrally(void **state)
{
	rm__http_header bad[] = {
		{ "Content-Type", "application/json" },
		{ "X-Token", "abc\r\nX-Evil: 1" },
	};
	rm__http_request req = { "/x", bad, 2, "{}", 2 };
	rm_transport *t = NULL;
	rm__http_response resp;
	rm__http *h = NULL;
	rm__url url;
	rm_error err;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "postmark://T@default?"
	                 "endpoint=http://127.0.0.1:9", NULL, &err), RM_OK);
	assert_int_equal(rm__url_parse(&url, "postmark://T@default", &err),
	                 RM_OK);
	assert_int_equal(rm__http_open(&h, t, &url, "http://127.0.0.1:9",
	                               &err), RM_OK);
	rm__http_response_init(&resp);
	assert_int_equal(rm__http_post(h, &req, &resp, &err), RM_EINVAL);
	assert_non_null(strstr(err.message, "CR or LF"));
	bad[1].value = "abc\nX-Evil: 1";
	assert_int_equal(rm__http_post(h, &req, &resp, &err), RM_EINVAL);
	rm__http_response_free(&resp);
	rm__http_close(h);
	rm__url_free(&url);
	rm_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http__retry_after_seconds),
		cmocka_unit_test(http__retry_after_date),
		cmocka_unit_test(http__ratelimit_reset),
		cmocka_unit_test(http__far_future_hint_is_capped),
		cmocka_unit_test(http__headers_of_final_response),
		cmocka_unit_test(http__status_classes),
		cmocka_unit_test(http__header_value_logical),
		cmocka_unit_test(http__base64_unwrapped),
		cmocka_unit_test(http__tags_and_metadata),
		cmocka_unit_test(http__url_options),
		cmocka_unit_test(http__loopback_is_an_address),
		cmocka_unit_test(http__ses_env_refuses_crlf),
		cmocka_unit_test(http__header_crlf_refused_centrally),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
