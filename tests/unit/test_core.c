/*
 * Unit tests for the shared core: status names, bounded buffers, UTF-8
 * validation, URL parsing and the result object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void core__strerror_names_every_code(void **state)
{
	int code;

	(void)state;
	for (code = RM_OK; code >= RM_EHTTP; code--)
		assert_string_not_equal(rm_strerror(code), "unknown status");
	assert_string_equal(rm_strerror(RM_EHTTP - 1), "unknown status");
	assert_string_equal(rm_strerror(1), "unknown status");
	assert_string_equal(rm_strerror(RM_ECERT),
	                    "certificate verification failed");
}

static void core__buf_stops_at_its_ceiling(void **state)
{
	rm__buf b;

	(void)state;
	rm__buf_init(&b, 8);
	assert_int_equal(rm__buf_append_str(&b, "12345"), RM_OK);
	assert_int_equal(rm__buf_append_str(&b, "6789"), RM_ELIMIT);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	assert_int_equal(rm__buf_printf(&b, "%d", 678), RM_OK);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(rm__buf_append_byte(&b, 'x'), RM_ELIMIT);
	rm__buf_free(&b);
}

static void core__utf8_validation(void **state)
{
	(void)state;
	assert_true(rm__utf8_valid("Gr\xc3\xbc\xc3\x9f" "e", 6));
	assert_true(rm__utf8_valid("\xf0\x9f\x8e\x9f", 4));
	assert_false(rm__utf8_valid("\xc0\xaf", 2));          /* overlong */
	assert_false(rm__utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(rm__utf8_valid("\xc3", 1));              /* truncated */
	assert_false(rm__utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	/* After runs of ASCII longer than a machine word. */
	assert_true(rm__utf8_valid("0123456789abcdef\xc3\xbc" "xyz", 21));
	assert_false(rm__utf8_valid("0123456789abcdef\xc3" "xyz", 20));
	assert_false(rm__utf8_valid("0123456789abcdef0123\xff", 21));
	assert_true(rm__utf8_valid("0123456789abcdef0123", 20));
}

static void core__url_parts_are_decoded(void **state)
{
	rm__url url;
	rm_error err;

	(void)state;
	assert_int_equal(rm__url_parse(&url,
	        "smtp://us%40er:p%3Ass@mail.example.com:2525/?tls=none&"
	        "ehlo=client.example&auth=PLAIN%2CLOGIN", &err), RM_OK);
	assert_string_equal(url.scheme, "smtp");
	assert_string_equal(url.user, "us@er");
	assert_string_equal(url.password, "p:ss");
	assert_string_equal(url.host, "mail.example.com");
	assert_int_equal(url.port, 2525);
	assert_string_equal(rm__url_option(&url, "auth"), "PLAIN,LOGIN");
	assert_string_equal(rm__url_option(&url, "tls"), "none");
	assert_null(rm__url_option(&url, "missing"));
	assert_int_equal(rm__url_check_unused(&url, &err), RM_EURL);
	assert_string_equal(err.field, "ehlo");
	rm__url_free(&url);
}

static void core__url_ipv6_host_loses_brackets(void **state)
{
	rm__url url;

	(void)state;
	assert_int_equal(rm__url_parse(&url, "smtp://[::1]:25", NULL), RM_OK);
	assert_string_equal(url.host, "::1");
	assert_int_equal(url.port, 25);
	assert_null(url.user);
	rm__url_free(&url);
}

static void core__url_errors_are_clear(void **state)
{
	rm__url url;
	rm_error err;

	(void)state;
	assert_int_equal(rm__url_parse(&url, "smtp://host:99999", &err),
	                 RM_EURL);
	rm__url_free(&url);
	assert_int_equal(rm__url_parse(&url, "", &err), RM_EURL);
	assert_string_equal(err.field, "url");
	assert_int_equal(rm__url_parse(&url, "smtp://a\r\nb", &err), RM_EURL);
	assert_non_null(strstr(err.message, "CR or LF"));
	assert_int_equal(rm__url_parse(&url, "smtp://u:p%0D%0AX@host",
	                               &err), RM_EINVAL);
	assert_string_equal(err.field, "password");
	assert_non_null(strstr(err.message, "control character"));
	rm__url_free(&url);
	assert_int_equal(rm__url_parse(&url, "smtp://host?ehlo=a%0D%0Ab",
	                               &err), RM_EINVAL);
	assert_string_equal(err.field, "ehlo");
	assert_non_null(strstr(err.message, "CR, LF or NUL"));
	rm__url_free(&url);
	assert_int_equal(rm__url_parse(&url, "smtp://host?x%00=1",
	                               &err), RM_EINVAL);
	assert_string_equal(err.field, "x");
	rm__url_free(&url);
	assert_int_equal(rm__url_parse(&url, "file:///tmp/a%00b", &err),
	                 RM_EINVAL);
	rm__url_free(&url);
	assert_int_equal(rm__url_parse(&url, "no scheme", &err), RM_EURL);
	assert_string_equal(rm_strerror(err.code), "bad transport URL");
	assert_null(strstr(err.message, "bad transport URL"));
	assert_int_equal(rm__url_parse(&url, "127.0.0.1:2525", &err),
	                 RM_EURL);
	assert_non_null(strstr(err.message, "has no scheme"));
	rm__url_free(&url);
}

/* A scheme without "//" is named as such, not as a missing scheme. */
static void core__url_scheme_without_slashes(void **state)
{
	rm__url url;
	rm_error err;

	(void)state;
	assert_int_equal(rm__url_parse(&url, "file:outbox", &err), RM_EURL);
	assert_string_equal(err.field, "url");
	assert_non_null(strstr(err.message, "file:///absolute/folder"));
	assert_non_null(strstr(err.message, "file://relative/folder"));
	assert_int_equal(rm__url_parse(&url, "file:/var/out", &err),
	                 RM_EURL);
	assert_non_null(strstr(err.message, "file:///absolute/folder"));
	assert_int_equal(rm__url_parse(&url, "smtp:mail.example.com", &err),
	                 RM_EURL);
	assert_string_equal(err.message, "'smtp:' must be followed by //, "
	                    "as in smtp://host");
	assert_int_equal(rm__url_parse(&url, "localhost:2525", &err),
	                 RM_EURL);
	assert_non_null(strstr(err.message, "has no scheme"));
	rm__url_free(&url);
}

/* Messages and fields quote what users and servers give: control bytes
 * come out escaped, UTF-8 as it is, and a long text is cut whole. */
static void core__error_escapes_control_bytes(void **state)
{
	char long_text[600];
	rm_error err;

	(void)state;
	assert_int_equal(rm__fail(&err, RM_EINVAL, RM_OUTCOME_NONE,
	                          "x\x1b[31m", "'%s'",
	                          "Ann\r\n\t\x1b[31m\x7f J\xc3\xb6rg"),
	                 RM_EINVAL);
	assert_string_equal(err.field, "x\\x1b[31m");
	assert_string_equal(err.message,
	                    "'Ann\\r\\n\\t\\x1b[31m\\x7f J\xc3\xb6rg'");

	memset(long_text, '\x01', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	rm__fail(&err, RM_EINVAL, RM_OUTCOME_NONE, NULL, "%s", long_text);
	assert_int_equal(strlen(err.message) % 4, 0);
	assert_true(strlen(err.message) > RM_ERROR_MESSAGE_MAX - 5);
}

static void keep_line(rm_log_level level, const char *line, void *user)
{
	(void)level;
	snprintf(user, 256, "%s", line);
}

/* Log lines quote server replies: a reply's control bytes come out
 * escaped, so no line break or terminal sequence reaches the callback. */
static void core__log_line_escapes_control_bytes(void **state)
{
	char got[256] = "";
	rm__log log = { keep_line, got, RM_LOG_DEBUG };

	(void)state;
	rm__logf(&log, RM_LOG_DEBUG, "S: %s", "250 ok\x1b]0;owned\a\r\nX");
	assert_string_equal(got, "S: 250 ok\\x1b]0;owned\\x07\\r\\nX");
	rm__logf(&log, RM_LOG_DEBUG, "S: 250 Gr\xc3\xbc\xc3\x9f" "e\t.");
	assert_string_equal(got, "S: 250 Gr\xc3\xbc\xc3\x9f" "e\\t.");
}

static void core__url_file_path_is_literal(void **state)
{
	rm__url url;

	(void)state;
	assert_int_equal(rm__url_parse(&url, "file://out/mail%20box?x=1",
	                               NULL), RM_OK);
	assert_string_equal(url.scheme, "file");
	assert_string_equal(url.path, "out/mail box");
	assert_string_equal(rm__url_option(&url, "x"), "1");
	rm__url_free(&url);
}

static void core__open_refuses_unknown_scheme(void **state)
{
	rm_transport *t = (rm_transport *)&t;
	rm_error err;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "gopher://x", NULL, &err),
	                 RM_EURL);
	assert_null(t);
	assert_string_equal(err.field, "scheme");
	assert_non_null(strstr(err.message, "gopher"));
}

static void core__result_records_recipients(void **state)
{
	rm_result *r;
	rm_recipient_status st;

	(void)state;
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_NONE);
	assert_string_equal(rm_result_queue_id(r), "");
	assert_int_equal(rm__result_add_recipient(r, "a@example.com", 1,
	        RM_OUTCOME_DELIVERED, 250, "2.1.5", "ok"), RM_OK);
	assert_int_equal(rm__result_add_recipient(r, "b@example.com", 0,
	        RM_OUTCOME_PERM_RECIPIENT, 550, "5.1.1", "unknown"), RM_OK);
	assert_int_equal(rm_result_recipient_count(r), 2);
	assert_int_equal(rm_result_rejected_count(r), 1);
	assert_int_equal(rm_result_recipient(r, 1, &st), RM_OK);
	assert_string_equal(st.address, "b@example.com");
	assert_int_equal(st.reply_code, 550);
	assert_string_equal(st.enhanced_status, "5.1.1");
	assert_int_equal(rm_result_recipient(r, 2, &st), RM_EINVAL);
	rm__result_reset(r);
	assert_int_equal(rm_result_recipient_count(r), 0);
	rm_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core__strerror_names_every_code),
		cmocka_unit_test(core__buf_stops_at_its_ceiling),
		cmocka_unit_test(core__utf8_validation),
		cmocka_unit_test(core__url_parts_are_decoded),
		cmocka_unit_test(core__url_ipv6_host_loses_brackets),
		cmocka_unit_test(core__url_errors_are_clear),
		cmocka_unit_test(core__url_scheme_without_slashes),
		cmocka_unit_test(core__error_escapes_control_bytes),
		cmocka_unit_test(core__log_line_escapes_control_bytes),
		cmocka_unit_test(core__url_file_path_is_literal),
		cmocka_unit_test(core__open_refuses_unknown_scheme),
		cmocka_unit_test(core__result_records_recipients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
