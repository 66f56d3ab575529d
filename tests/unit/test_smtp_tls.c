/*
 * TLS for the SMTP transport against the scripted server speaking TLS
 * with certificates made at test time: STARTTLS and implicit TLS, the
 * certificate checks of case 09, plaintext injection before the
 * handshake, and the wrong-port mistakes in both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/ecp.h>

#include "drip_proxy.h"
#include "smtp_int.h"
#include "smtp_test_util.h"
#include "test_certs.h"

#define GREET "220 smtp.example.com ESMTP\r\n"
#define EHLO_TLS "250-smtp.example.com\r\n250-PIPELINING\r\n" \
                 "250 STARTTLS\r\n"
#define EHLO_AUTH "250-smtp.example.com\r\n250-PIPELINING\r\n" \
                  "250 AUTH PLAIN LOGIN\r\n"
#define BYE FS_C(1), FS_S("221 2.0.0 Bye\r\n"), FS_DONE

static test_certs certs;

static int make_certs(void **state)
{
	(void)state;
	return test_certs_make(&certs);
}

static int remove_certs(void **state)
{
	(void)state;
	test_certs_remove(&certs);
	return 0;
}

/* Opens scheme://user:secret@smtp.example.com:PORT, connecting to
 * 127.0.0.1 (case 09 D: the name checked is the configured one). */
static int open_tls_groups(st_run *x, const fs_step *script,
                           const test_cert *c, const char *scheme,
                           const char *extra, const int *groups)
{
	char fmt[600];
	static fs_tls keep;

	keep.cert_pem = c->cert;
	keep.key_pem = c->key;
	keep.groups = groups;
	snprintf(fmt, sizeof(fmt), "%s://user:secret@smtp.example.com:{port}"
	         "?connect_to=127.0.0.1&ehlo=client.example&ca_file=%s"
	         "&tls=required%s", scheme, certs.ca_file, extra);
	return st_open_url(x, script, &keep, fmt);
}

static int open_tls(st_run *x, const fs_step *script, const test_cert *c,
                    const char *scheme, const char *extra)
{
	return open_tls_groups(x, script, c, scheme, extra, NULL);
}

static void tls__starttls_then_ehlo_again_and_auth(void **state)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1), FS_S(EHLO_TLS), FS_C(1),
		FS_S("220 2.0.0 Ready to start TLS\r\n"), FS_STARTTLS,
		FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S("235 2.7.0 ok\r\n"),
		BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtp", ""), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), 0);
	assert_memory_equal(info.tls, "TLSv1.2 ", 8);
	assert_string_equal(info.auth_mechanism, "PLAIN");
	assert_string_equal(info.extensions, "PIPELINING AUTH");
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\nSTARTTLS\r\n"
	                    "EHLO client.example\r\n"
	                    "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
	st_free(&x);
}

static void tls__implicit_tls_sends_mail(void **state)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), FS_C(3),
		FS_S("250 ok\r\n250 ok\r\n354 go\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as TLS1\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtps", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "hi")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "TLS1");
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\n"
	                    "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"
	                    "MAIL FROM:<a@example.com>\r\n"
	                    "RCPT TO:<b@example.net>\r\nDATA\r\n[data]\r\n"
	                    "QUIT\r\n");
	st_free(&x);
}

/* Case 09 A and B over STARTTLS: nothing after the failed handshake. */
static void bad_cert_starttls(const test_cert *c, const char *why)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1), FS_S(EHLO_TLS), FS_C(1),
		FS_S("220 2.0.0 Ready to start TLS\r\n"), FS_STARTTLS,
		FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	assert_int_equal(open_tls(&x, script, c, "smtp", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ECERT);
	assert_non_null(strstr(x.err.message, why));
	assert_int_equal(x.err.outcome, RM_OUTCOME_PERM_PROVIDER);
	st_close(&x);
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\nSTARTTLS\r\n");
	st_free(&x);
}

static void tls__case09_bad_certificates_starttls(void **state)
{
	(void)state;
	bad_cert_starttls(&certs.self_signed, "not correctly signed");
	bad_cert_starttls(&certs.wrong_name, "Common Name");
	bad_cert_starttls(&certs.expired, "expired");
}

/* Case 09 C: implicit TLS with a certificate for another name. */
static void tls__case09c_implicit_wrong_name(void **state)
{
	static const fs_step script[] = { FS_STARTTLS, FS_WAIT_EOF, FS_DONE };
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.wrong_name, "smtps",
	                 ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), RM_ECERT);
	assert_non_null(strstr(x.err.message, "smtp.example.com"));
	st_close(&x);
	assert_string_equal(fake_smtp_transcript(x.fs), "");
	st_free(&x);
}

static void tls__explicit_opt_out_skips_verification(void **state)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.self_signed, "smtps",
	                 "&insecure_skip_verify=yes"), 0);
	assert_non_null(strstr(x.log, "insecure_skip_verify=yes"));
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	st_close(&x);
	st_free(&x);
}

/* Checks a server that accepts only the key exchange groups given. */
static int check_with_groups(const int *groups, rm_check_info *info,
                             st_run *x)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), BYE
	};
	int rc;

	assert_int_equal(open_tls_groups(x, script, &certs.good, "smtps", "",
	                                 groups), 0);
	rc = rm_transport_check(x->t, info, &x->err);
	st_close(x);
	return rc;
}

/* X25519 is offered; a 192-bit curve, too weak today, is not: against a
 * server that has nothing else the client settles for a key exchange
 * without elliptic curves, or fails. */
static void tls__offers_strong_groups_only(void **state)
{
	static const int x25519[] = { MBEDTLS_ECP_DP_CURVE25519, 0 };
	static const int p192[] = { MBEDTLS_ECP_DP_SECP192R1, 0 };
	rm_check_info info;
	st_run x;
	int rc;

	(void)state;
	assert_int_equal(check_with_groups(x25519, &info, &x), RM_OK);
	assert_non_null(strstr(info.tls, "ECDHE"));
	st_free(&x);

	rc = check_with_groups(p192, &info, &x);
	if (rc == RM_OK)
		assert_null(strstr(info.tls, "ECDHE"));
	else
		assert_int_equal(rc, RM_ETLS);
	st_free(&x);
}

/* An EHLO reply of about 18 KB: two records, each longer than the
 * client's read-ahead buffer, sent in one burst. */
static char big_ehlo[150 * 120 + 128];

static void fill_big_ehlo(void)
{
	size_t n = 0;
	int i;

	n += (size_t)snprintf(big_ehlo, sizeof(big_ehlo),
	                      "250-smtp.example.com\r\n250-8BITMIME\r\n");
	for (i = 0; i < 150; i++)
		n += (size_t)snprintf(big_ehlo + n, sizeof(big_ehlo) - n,
		                      i == 75 ? "250-SIZE 12345\r\n" :
		                      "250-X-PADDING-%03d-%0100d\r\n", i, 0);
	snprintf(big_ehlo + n, sizeof(big_ehlo) - n,
	         "250 AUTH PLAIN LOGIN\r\n");
}

static void tls__reply_spanning_records(void **state)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(big_ehlo), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	fill_big_ehlo();
	assert_true(strlen(big_ehlo) > 16384);
	assert_int_equal(open_tls(&x, script, &certs.good, "smtps", ""), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), RM_OK);
	assert_string_equal(info.auth_mechanism, "PLAIN");
	assert_non_null(strstr(info.extensions, "8BITMIME"));
	assert_int_equal(info.max_size, 12345);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

/* Every TLS record reaches the client in pieces of three bytes, headers
 * split included, and a whole message still goes through. */
static void tls__records_in_pieces(void **state)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1), FS_S(EHLO_TLS), FS_C(1),
		FS_S("220 2.0.0 Ready to start TLS\r\n"), FS_STARTTLS,
		FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S("235 2.7.0 ok\r\n"),
		FS_C(3), FS_S("250 ok\r\n250 ok\r\n354 go\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as DRIP\r\n"), BYE
	};
	static fs_tls tls;
	drip_proxy *proxy;
	char fmt[600];
	st_run x;

	(void)state;
	tls.cert_pem = certs.good.cert;
	tls.key_pem = certs.good.key;
	assert_int_equal(st_start(&x, script, &tls), 0);
	assert_int_equal(drip_start(&proxy, fake_smtp_port(x.fs), 3), 0);
	snprintf(fmt, sizeof(fmt), "smtp://user:secret@smtp.example.com:"
	         "{port}?connect_to=127.0.0.1&ehlo=client.example&ca_file=%s"
	         "&tls=required", certs.ca_file);
	assert_int_equal(st_connect(&x, fmt, drip_port(proxy)), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "hi")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "DRIP");
	st_close(&x);
	/* The certificate alone is hundreds of bytes: hundreds of writes. */
	assert_true(drip_stop(proxy) > 300);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

/* A warning alert and a reply in one segment: mbedTLS says WANT_READ
 * after the alert while the reply is already in the client's read-ahead
 * buffer, where no poll of the socket can see it. */
static void tls__reply_after_warning_alert(void **state)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_ALERT_THEN("235 2.7.0 ok\r\n"), BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtps",
	                 "&timeout=3"), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), RM_OK);
	assert_string_equal(info.auth_mechanism, "PLAIN");
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\n"
	                    "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
	st_free(&x);
}

/* RFC 3207 section 4.2: bytes before the handshake are not trusted. */
static void tls__plaintext_after_starttls_discarded(void **state)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1), FS_S(EHLO_TLS), FS_C(1),
		FS_S("220 2.0.0 Ready\r\n250 injected\r\n"), FS_STARTTLS,
		FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S("235 2.7.0 ok\r\n"),
		BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtp", ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	assert_non_null(strstr(x.log, "discarded"));
	st_close(&x);
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\nSTARTTLS\r\n"
	                    "EHLO client.example\r\n"
	                    "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
	st_free(&x);
}

/* A kept TLS connection the server closed: one fresh connection. */
static void tls__kept_connection_closed_reconnects(void **state)
{
	static const fs_step script[] = {
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), FS_C(3),
		FS_S("250 ok\r\n250 ok\r\n354 go\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as ONE\r\n"), FS_NEXT,
		FS_STARTTLS, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), FS_C(3),
		FS_S("250 ok\r\n250 ok\r\n354 go\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as TWO\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtps", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "ONE");
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "TWO");
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

static void tls__smtps_to_plain_port(void **state)
{
	static const fs_step script[] = { FS_S(GREET), FS_WAIT_EOF, FS_DONE };
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtps", ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), RM_ETLS);
	assert_non_null(strstr(x.err.message, "plain text"));
	assert_non_null(strstr(x.err.message, "smtp://"));
	st_close(&x);
	st_free(&x);
}

static void tls__smtp_to_implicit_port(void **state)
{
	static const fs_step script[] = { FS_STARTTLS, FS_DONE };
	st_run x;

	(void)state;
	assert_int_equal(open_tls(&x, script, &certs.good, "smtp",
	                 "&timeout=1"), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err),
	                 RM_ETIMEDOUT);
	assert_non_null(strstr(x.err.message, "smtps://"));
	st_close(&x);
	st_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls__starttls_then_ehlo_again_and_auth),
		cmocka_unit_test(tls__implicit_tls_sends_mail),
		cmocka_unit_test(tls__case09_bad_certificates_starttls),
		cmocka_unit_test(tls__case09c_implicit_wrong_name),
		cmocka_unit_test(tls__explicit_opt_out_skips_verification),
		cmocka_unit_test(tls__offers_strong_groups_only),
		cmocka_unit_test(tls__reply_spanning_records),
		cmocka_unit_test(tls__records_in_pieces),
		cmocka_unit_test(tls__reply_after_warning_alert),
		cmocka_unit_test(tls__plaintext_after_starttls_discarded),
		cmocka_unit_test(tls__kept_connection_closed_reconnects),
		cmocka_unit_test(tls__smtps_to_plain_port),
		cmocka_unit_test(tls__smtp_to_implicit_port),
	};

	return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
