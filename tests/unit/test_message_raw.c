/*
 * Unit tests for raw messages: the envelope parsed from the header, Bcc
 * removed, line ends, the Date and Message-ID added when missing, and the
 * envelope given anew.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* Parses text, failing the test when it does not parse. */
static rm_message *raw(const char *text)
{
	rm_message *msg = NULL;
	rm_error err;

	if (rm_message_new_raw(&msg, text, strlen(text), &err) != RM_OK)
		fail_msg("rm_message_new_raw: %s (%s)", err.message, err.field);
	return msg;
}

/* The message as written; the caller frees it. */
static char *written(rm_message *msg)
{
	char *out = NULL;
	rm_error err;

	if (rm_message_write_mem(msg, &out, NULL, &err) != RM_OK)
		fail_msg("rm_message_write_mem: %s", err.message);
	return out;
}

/* The envelope as "from|rcpt,rcpt,...". */
static void envelope_is(rm_message *msg, const char *want)
{
	rm__envelope env;
	char got[1024];
	size_t i;

	assert_int_equal(rm__message_envelope(msg, 1, &env, NULL), RM_OK);
	snprintf(got, sizeof(got), "%s|", env.from);
	for (i = 0; i < env.rcpt_count; i++) {
		if (i > 0)
			strncat(got, ",", sizeof(got) - strlen(got) - 1);
		strncat(got, env.rcpts[i], sizeof(got) - strlen(got) - 1);
	}
	rm__envelope_free(&env);
	assert_string_equal(got, want);
}

static int crlf_only(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\r' && s[i + 1] != '\n')
			return 0;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

static void raw__envelope_from_the_header(void **state)
{
	rm_message *msg = raw("From: Ann <ann@example.com>\n"
	                      "To: bob@example.org, "
	                      "\"Doe, Jo\" <jo@example.net>\n"
	                      "Cc: carl@example.com\n"
	                      "Bcc: hidden@example.com\n"
	                      "Subject: hi\n\nbody\n");

	(void)state;
	envelope_is(msg, "ann@example.com|bob@example.org,jo@example.net,"
	                 "carl@example.com,hidden@example.com");
	rm_message_free(msg);
}

static void raw__bcc_removed_and_crlf(void **state)
{
	rm_message *msg = raw("From: ann@example.com\r\n"
	                      "Bcc: one@example.com,\n"
	                      "\ttwo@example.com\r"
	                      "To: bob@example.org\n"
	                      "\n"
	                      "line one\nline two\rline three");
	char *out = written(msg);

	(void)state;
	assert_null(strstr(out, "Bcc"));
	assert_null(strstr(out, "one@example.com"));
	assert_null(strstr(out, "two@example.com"));
	assert_true(crlf_only(out));
	assert_non_null(strstr(out, "\r\n\r\nline one\r\nline two\r\n"
	                            "line three\r\n"));
	envelope_is(msg, "ann@example.com|bob@example.org,one@example.com,"
	                 "two@example.com");
	rm_free(out);
	rm_message_free(msg);
}

static void raw__missing_date_and_id_added(void **state)
{
	rm_message *msg = raw("From: ann@example.com\nTo: b@example.org\n"
	                      "Subject: x\n\nbody\n");
	char *out;

	(void)state;
	assert_int_equal(rm_message_set_reproducible(msg, 1, NULL), RM_OK);
	out = written(msg);
	assert_non_null(strstr(out, "Subject: x\r\nDate: Thu, 1 Jan 1970 "
	                            "00:00:00 +0000\r\nMessage-ID: <"));
	assert_non_null(strstr(out, "@example.com>\r\n\r\nbody\r\n"));
	assert_non_null(strstr(out, rm_message_message_id(msg)));
	rm_free(out);
	rm_message_free(msg);
}

static void raw__given_date_and_id_kept(void **state)
{
	const char *text = "From: ann@example.com\r\nTo: b@example.org\r\n"
	                   "Date: Tue, 2 Jan 2024 03:04:05 +0000\r\n"
	                   "Message-ID: <given@example.com>\r\n\r\nbody\r\n";
	rm_message *msg = raw(text);
	char *out = written(msg);

	(void)state;
	assert_string_equal(out, text);
	assert_string_equal(rm_message_message_id(msg),
	                    "<given@example.com>");
	rm_free(out);
	rm_message_free(msg);
}

static void raw__groups_and_comments(void **state)
{
	rm_message *msg = raw("From: ann@example.com (Ann)\n"
	                      "To: undisclosed-recipients:;\n"
	                      "Cc: Team: a@example.com, "
	                      "\"x:y\" <b@example.com>;"
	                      ", c@example.com\n"
	                      "Bcc: d@example.com\n\nbody\n");

	(void)state;
	envelope_is(msg, "ann@example.com|a@example.com,b@example.com,"
	                 "c@example.com,d@example.com");
	rm_message_free(msg);
}

static void raw__postmark_and_missing_blank_line(void **state)
{
	rm_message *msg = raw("From ann@example.com Tue Jan  2 03:04:05 2024\n"
	                      "From: ann@example.com\nTo: b@example.org\n"
	                      "Date: Tue, 2 Jan 2024 03:04:05 +0000\n"
	                      "Message-ID: <m@example.com>\n"
	                      "this line is no field\nmore\n");
	char *out = written(msg);

	(void)state;
	assert_string_equal(out, "From: ann@example.com\r\nTo: b@example.org"
	                         "\r\nDate: Tue, 2 Jan 2024 03:04:05 +0000\r\n"
	                         "Message-ID: <m@example.com>\r\n\r\n"
	                         "this line is no field\r\nmore\r\n");
	rm_free(out);
	rm_message_free(msg);
}

static void raw__bad_address_is_refused(void **state)
{
	const char *text = "From: ann@example.com\nTo: not an address\n\nx\n";
	rm_message *msg = NULL;
	rm_error err;

	(void)state;
	assert_int_equal(rm_message_new_raw(&msg, text, strlen(text), &err),
	                 RM_EINVAL);
	assert_null(msg);
	assert_string_equal(err.field, "to");
	assert_int_equal(rm_message_new_raw(NULL, text, 4, &err), RM_EINVAL);
	assert_int_equal(rm_message_new_raw(&msg, NULL, 4, &err), RM_EINVAL);
	assert_string_equal(err.field, "data");
}

static void raw__envelope_given_anew(void **state)
{
	const char *text = "From: ann@example.com\r\nTo: b@example.org\r\n"
	                   "Date: Tue, 2 Jan 2024 03:04:05 +0000\r\n"
	                   "Message-ID: <given@example.com>\r\n\r\nbody\r\n";
	rm_message *msg = raw(text);
	char *out;

	(void)state;
	assert_int_equal(rm_message_clear_recipients(msg, NULL), RM_OK);
	assert_int_equal(rm_message_add_bcc(msg, "x@example.net", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_set_envelope_from(msg, "bounce@example.com",
	                                              NULL), RM_OK);
	envelope_is(msg, "bounce@example.com|x@example.net");
	out = written(msg);
	assert_string_equal(out, text);
	rm_free(out);
	rm_message_free(msg);
}

static void raw__no_from_or_no_recipient(void **state)
{
	rm_message *msg = raw("To: b@example.org\n\nbody\n");
	char *out = NULL;
	rm_error err;

	(void)state;
	assert_int_equal(rm_message_write_mem(msg, &out, NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "from");
	rm_message_free(msg);

	msg = raw("From: a@example.com\n\nbody\n");
	assert_int_equal(rm_message_write_mem(msg, &out, NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "to");
	rm_message_free(msg);
}

static int stop_cb(const void *data, size_t len, void *user)
{
	(void)data;
	(void)len;
	(void)user;
	return 1;
}

static void raw__callback_can_stop(void **state)
{
	rm_message *msg = raw("From: a@example.com\nTo: b@example.org\n\nx\n");
	rm_error err;

	(void)state;
	assert_int_equal(rm_message_write(msg, stop_cb, NULL, &err),
	                 RM_ECALLBACK);
	rm_message_free(msg);
	assert_int_equal(rm_message_clear_recipients(NULL, &err), RM_EINVAL);
}

static void raw__utf8_needs_smtputf8_and_8bitmime(void **state)
{
	rm_message *msg = raw("From: a@example.com\n"
	                      "To: J\xc3\xb6rg "
	                      "<j\xc3\xb6rg@example.org>\n\nx\n");

	(void)state;
	assert_true(rm__message_needs_smtputf8(msg));
	assert_true(rm__message_needs_8bitmime(msg));
	rm_message_free(msg);

	msg = raw("From: a@example.com\nTo: b@example.org\n\nascii\n");
	assert_false(rm__message_needs_8bitmime(msg));
	rm_message_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw__envelope_from_the_header),
		cmocka_unit_test(raw__bcc_removed_and_crlf),
		cmocka_unit_test(raw__missing_date_and_id_added),
		cmocka_unit_test(raw__given_date_and_id_kept),
		cmocka_unit_test(raw__groups_and_comments),
		cmocka_unit_test(raw__postmark_and_missing_blank_line),
		cmocka_unit_test(raw__bad_address_is_refused),
		cmocka_unit_test(raw__envelope_given_anew),
		cmocka_unit_test(raw__no_from_or_no_recipient),
		cmocka_unit_test(raw__callback_can_stop),
		cmocka_unit_test(raw__utf8_needs_smtputf8_and_8bitmime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
