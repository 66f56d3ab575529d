/*
 * Unit tests for the output-pointer rule: every public call that hands
 * something back through *out sets it to NULL before anything else, so a
 * failed call never leaves the caller's old value (or garbage) there.
 * Each output starts as a sentinel and each call is made to fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "relaymail.h"

/* An address no allocation returns, so a value left untouched shows. */
static char sentinel;
#define SENTINEL ((void *)&sentinel)

static void out__message_new_raw_fails_to_null(void **state)
{
	static const char bad[] = "From: not an address <\r\n\r\nbody\r\n";
	rm_message *m = SENTINEL;

	(void)state;
	assert_int_not_equal(rm_message_new_raw(&m, NULL, 10, NULL), RM_OK);
	assert_null(m);
	m = SENTINEL;
	assert_int_not_equal(rm_message_new_raw(&m, bad, sizeof(bad) - 1,
	                                        NULL), RM_OK);
	assert_null(m);
	rm_message_free(m);
}

static void out__message_write_mem_fails_to_null(void **state)
{
	rm_message *m = NULL;
	char *text = SENTINEL;

	(void)state;
	assert_int_equal(rm_message_new(&m, NULL), RM_OK);
	/* No From and no recipient: the message cannot be written. */
	assert_int_not_equal(rm_message_write_mem(m, &text, NULL, NULL),
	                     RM_OK);
	assert_null(text);
	text = SENTINEL;
	assert_int_not_equal(rm_message_write_mem(NULL, &text, NULL, NULL),
	                     RM_OK);
	assert_null(text);
	rm_message_free(m);
}

static void out__transport_open_fails_to_null(void **state)
{
	rm_transport *t = SENTINEL;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "nosuchscheme://host", NULL,
	                                   NULL), RM_EURL);
	assert_null(t);

	t = SENTINEL;
	assert_int_equal(rm_transport_open(&t, NULL, NULL, NULL), RM_EINVAL);
	assert_null(t);
}

static void out__dkim_calls_fail_to_null(void **state)
{
	rm_dkim_key *k = SENTINEL;
	char *record = SENTINEL;

	(void)state;
	assert_int_not_equal(rm_dkim_key_load_mem(&k, NULL, 0, NULL), RM_OK);
	assert_null(k);
	k = SENTINEL;
	assert_int_not_equal(rm_dkim_key_load_mem(&k, "not a key", 9, NULL),
	                     RM_OK);
	assert_null(k);
	k = SENTINEL;
	assert_int_not_equal(rm_dkim_key_load_file(&k, NULL, NULL), RM_OK);
	assert_null(k);
	k = SENTINEL;
	assert_int_not_equal(rm_dkim_key_load_file(&k, "/nonexistent/key",
	                                           NULL), RM_OK);
	assert_null(k);
	assert_int_not_equal(rm_dkim_dns_record(NULL, "example.com", "s1",
	                                        &record, NULL), RM_OK);
	assert_null(record);
	rm_dkim_key_free(k);
}

static void out__url_mask_fails_to_null(void **state)
{
	char *masked = SENTINEL;

	(void)state;
	assert_int_equal(rm_url_mask(NULL, &masked, NULL), RM_EINVAL);
	assert_null(masked);
	rm_free(masked);
}

static void out__ses_password_fails_to_empty(void **state)
{
	char buf[RM_SES_SMTP_PASSWORD_SIZE];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(rm_ses_smtp_password("secret", "Not A Region", buf,
	                                      sizeof(buf), NULL), RM_EINVAL);
	assert_string_equal(buf, "");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(rm_ses_smtp_password("secret", "eu-west-1", buf, 4,
	                                      NULL), RM_ELIMIT);
	assert_int_equal(buf[0], '\0');
}

/* The calls that fill a caller's struct leave it zeroed when they fail,
 * so no pointer from an earlier call is read as this call's. */
static void out__filled_structs_zeroed_on_failure(void **state)
{
	rm_recipient_status st;
	rm_check_info info;
	rm_counters counters;
	rm_attempt attempt;
	rm_transport *t = NULL;
	rm_result *r = NULL;

	(void)state;
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	memset(&st, 0xA5, sizeof(st));
	assert_int_equal(rm_result_recipient(r, 0, &st), RM_EINVAL);
	assert_null(st.address);
	assert_null(st.text);
	memset(&attempt, 0xA5, sizeof(attempt));
	assert_int_equal(rm_result_attempt(r, 0, &attempt), RM_EINVAL);
	assert_null(attempt.transport);
	assert_null(attempt.text);
	rm_result_free(r);

	memset(&info, 0xA5, sizeof(info));
	assert_int_equal(rm_transport_check(NULL, &info, NULL), RM_EINVAL);
	assert_string_equal(info.greeting, "");

	assert_int_equal(rm_transport_open(&t, "failover(file:///tmp#a "
	                 "file:///tmp#b)", NULL, NULL), RM_OK);
	memset(&counters, 0xA5, sizeof(counters));
	assert_int_equal(rm_transport_counters(t, "c", &counters, NULL),
	                 RM_EINVAL);
	assert_int_equal(counters.attempts, 0);
	assert_int_equal(counters.sent, 0);
	rm_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(out__message_new_raw_fails_to_null),
		cmocka_unit_test(out__message_write_mem_fails_to_null),
		cmocka_unit_test(out__transport_open_fails_to_null),
		cmocka_unit_test(out__filled_structs_zeroed_on_failure),
		cmocka_unit_test(out__dkim_calls_fail_to_null),
		cmocka_unit_test(out__url_mask_fails_to_null),
		cmocka_unit_test(out__ses_password_fails_to_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
