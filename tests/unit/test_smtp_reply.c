/*
 * Unit tests for the I/O-free SMTP reply reader (RFC 5321 section 4.2)
 * and the EHLO capability parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_int.h"

typedef struct fixture {
	rm__reply_reader rd;
	rm__reply r;
} fixture;

static int setup(void **state)
{
	static fixture f;

	rm__reply_reader_init(&f.rd);
	rm__reply_init(&f.r);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	rm__reply_reader_free(&f->rd);
	rm__reply_free(&f->r);
	return 0;
}

static int feed(fixture *f, const char *s)
{
	return rm__reply_feed(&f->rd, s, strlen(s));
}

static void reply__single_line(void **state)
{
	fixture *f = *state;

	assert_int_equal(feed(f, "250 2.1.0 Ok\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 250);
	assert_string_equal(f->r.enhanced, "2.1.0");
	assert_string_equal(f->r.text.data, "Ok");
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 0);
}

static void reply__split_feeds_byte_by_byte(void **state)
{
	fixture *f = *state;
	const char *in = "220-mx.example.com ESMTP\r\n220-Authorized use "
	                 "only\r\n220\r\n";
	size_t i;

	for (i = 0; in[i + 1] != '\0'; i++) {
		assert_int_equal(rm__reply_feed(&f->rd, in + i, 1), RM_OK);
		assert_int_equal(rm__reply_next(&f->rd, &f->r), 0);
	}
	assert_int_equal(rm__reply_feed(&f->rd, in + i, 1), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 220);
	assert_int_equal(f->r.lines, 3);
	assert_string_equal(f->r.text.data,
	                    "mx.example.com ESMTP\nAuthorized use only\n");
}

/* Case 08: the EHLO reply split after "250-mx.example.com\r\n25". */
static void reply__case08_ehlo_split(void **state)
{
	fixture *f = *state;
	rm__smtp_caps caps;

	assert_int_equal(feed(f, "250-mx.example.com\r\n25"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 0);
	assert_int_equal(feed(f, "0-pipelining\r\n250-Auth=LOGIN\r\n"
	                      "250-auth plain login XOAUTH2\r\n"
	                      "250-Size 10240000\r\n250-starttls\r\n"
	                      "250-8bitmime\r\n250 smtputf8\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.lines, 8);
	rm__smtp_caps_parse(&caps, &f->r);
	assert_true(caps.flags & RM__CAP_PIPELINING);
	assert_true(caps.flags & RM__CAP_STARTTLS);
	assert_true(caps.flags & RM__CAP_8BITMIME);
	assert_true(caps.flags & RM__CAP_SMTPUTF8);
	assert_true(caps.flags & RM__CAP_SIZE);
	assert_true(caps.flags & RM__CAP_AUTH);
	assert_false(caps.flags & RM__CAP_DSN);
	assert_int_equal(caps.max_size, 10240000);
	assert_int_equal(caps.auth, (1u << RM__AUTH_PLAIN) |
	                 (1u << RM__AUTH_LOGIN) | (1u << RM__AUTH_XOAUTH2));
	assert_string_equal(caps.keywords, "PIPELINING AUTH SIZE STARTTLS "
	                    "8BITMIME SMTPUTF8");
}

static void reply__bare_250_means_no_extensions(void **state)
{
	fixture *f = *state;
	rm__smtp_caps caps;

	assert_int_equal(feed(f, "250\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 250);
	assert_int_equal(f->r.lines, 1);
	rm__smtp_caps_parse(&caps, &f->r);
	assert_int_equal(caps.flags, 0);
	assert_string_equal(caps.keywords, "");
}

static void reply__code_change_is_protocol_error(void **state)
{
	fixture *f = *state;

	assert_int_equal(feed(f, "250-a\r\n251 b\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_EPROTOCOL);
}

static void reply__garbage_is_protocol_error(void **state)
{
	fixture *f = *state;

	assert_int_equal(feed(f, "hello\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_EPROTOCOL);
	rm__reply_discard(&f->rd);
	assert_int_equal(feed(f, "2500 x\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_EPROTOCOL);
	rm__reply_discard(&f->rd);
	assert_int_equal(feed(f, "25\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_EPROTOCOL);
	rm__reply_discard(&f->rd);
	assert_int_equal(feed(f, "650 no\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_EPROTOCOL);
}

static void reply__overlong_line_is_limit(void **state)
{
	fixture *f = *state;
	char line[RM__REPLY_LINE_MAX + 16];

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "250 ", 4);
	/* Without a line end: the reader must not wait for ever. */
	assert_int_equal(feed(f, line), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_ELIMIT);
	rm__reply_discard(&f->rd);
	assert_int_equal(feed(f, line), RM_OK);
	assert_int_equal(feed(f, "\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), RM_ELIMIT);
}

static void reply__endless_multiline_is_bounded(void **state)
{
	fixture *f = *state;
	int i, rc = 0;

	for (i = 0; i < RM__REPLY_LINES_MAX + 10 && rc == 0; i++) {
		assert_int_equal(feed(f, "250-more\r\n"), RM_OK);
		rc = rm__reply_next(&f->rd, &f->r);
	}
	assert_int_equal(rc, RM_ELIMIT);
	assert_true(i <= RM__REPLY_LINES_MAX + 1);
}

static void reply__pipelined_replies_in_order(void **state)
{
	fixture *f = *state;

	assert_int_equal(feed(f, "250 2.1.0 Ok\r\n550 5.1.1 <b@example.net>: "
	                      "Recipient unknown\r\n354 go"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 250);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 550);
	assert_string_equal(f->r.enhanced, "5.1.1");
	assert_string_equal(f->r.text.data, "<b@example.net>: Recipient "
	                    "unknown");
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 0);
	assert_int_equal(rm__reply_buffered(&f->rd), 6);
	assert_int_equal(feed(f, " ahead\r\n"), RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	assert_int_equal(f->r.code, 354);
	assert_string_equal(f->r.text.data, "go ahead");
	assert_int_equal(rm__reply_buffered(&f->rd), 0);
}

static void reply__enhanced_needs_matching_class(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(rm__enhanced_parse("5.1.1 x", 550, out, 16), 5);
	assert_string_equal(out, "5.1.1");
	assert_int_equal(rm__enhanced_parse("4.1.1 x", 550, out, 16), 0);
	assert_int_equal(rm__enhanced_parse("2.0.0", 250, out, 16), 5);
	assert_int_equal(rm__enhanced_parse("2.0.0a", 250, out, 16), 0);
	assert_int_equal(rm__enhanced_parse("3.0.0 go", 354, out, 16), 0);
	assert_int_equal(rm__enhanced_parse("mx.example", 220, out, 16), 0);
	assert_int_equal(rm__enhanced_parse("5.7.1234 x", 550, out, 16), 0);
}

static void reply__line_access_and_bare_lf(void **state)
{
	fixture *f = *state;
	char line[64];

	assert_int_equal(feed(f, "250-first\n250-second\r\n250 third\r\n"),
	                 RM_OK);
	assert_int_equal(rm__reply_next(&f->rd, &f->r), 1);
	rm__reply_line(&f->r, 1, line, sizeof(line));
	assert_string_equal(line, "second");
	rm__reply_line(&f->r, 2, line, sizeof(line));
	assert_string_equal(line, "third");
	rm__reply_line(&f->r, 7, line, sizeof(line));
	assert_string_equal(line, "");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reply__single_line),
		T(reply__split_feeds_byte_by_byte),
		T(reply__case08_ehlo_split),
		T(reply__bare_250_means_no_extensions),
		T(reply__code_change_is_protocol_error),
		T(reply__garbage_is_protocol_error),
		T(reply__overlong_line_is_limit),
		T(reply__endless_multiline_is_bounded),
		T(reply__pipelined_replies_in_order),
		T(reply__enhanced_needs_matching_class),
		T(reply__line_access_and_bare_lf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
