/*
 * The SMTP dialogue against a scripted loopback server: each test pins
 * the exact command transcript and, where a message goes out, the DATA
 * bytes. Cases 03, 06, 07, 08, 10, 11 and 12 of the shared case list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp_int.h"
#include "smtp_test_util.h"

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_PIPE "250-fake.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
#define EHLO_PLAIN "250-fake.example\r\n250 8BITMIME\r\n"
#define BYE FS_C(1), FS_S("221 2.0.0 Bye\r\n"), FS_DONE
#define HELLO(ehlo) FS_S(GREET), FS_C(1), FS_S(ehlo)
#define OK3 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
#define QUEUED "250 2.0.0 Ok: queued as ABC123\r\n"

/* The reply code at the start of a scripted reply. */
static int code_of(const char *reply)
{
	return (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + reply[2] - '0';
}

static rm__smtp *impl(st_run *x)
{
	return (rm__smtp *)((struct rm_transport *)x->t)->impl;
}

static void expect_transcript(st_run *x, const char *want)
{
	assert_string_equal(fake_smtp_error(x->fs), "");
	assert_string_equal(fake_smtp_transcript(x->fs), want);
}

/* The DATA payload equals the message as written, dot-stuffed. */
static void expect_data_is_message(st_run *x, size_t i, const char *to,
                                   const char *text)
{
	rm_message *m = st_message(to, text);
	char *want, *got;
	size_t want_len, data_len, got_len;
	const char *data = fake_smtp_data(x->fs, i, &data_len);

	assert_non_null(data);
	assert_int_equal(rm_message_write_mem(m, &want, &want_len, NULL), 0);
	got = st_unstuff(data, data_len, &got_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_memory_equal(data + data_len - 5, "\r\n.\r\n", 5);
	free(got);
	rm_free(want);
	rm_message_free(m);
}

static void simple_delivery(const char *text, st_run *x)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		BYE
	};

	assert_int_equal(st_open(x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(x, st_message("b@example.net", text)), 0);
	st_close(x);
	expect_transcript(x, "EHLO client.example\r\n"
	                  "MAIL FROM:<a@example.com>\r\n"
	                  "RCPT TO:<b@example.net>\r\nDATA\r\n[data]\r\n"
	                  "QUIT\r\n");
	expect_data_is_message(x, 0, "b@example.net", text);
}

/* ---------------------------------------------------------------------- */
/* Case 06: dot-stuffing                                                  */
/* ---------------------------------------------------------------------- */

static void dialogue__case06a_leading_dots_doubled(void **state)
{
	static const char text[] = "first\r\n.hidden\r\n.\r\n..two\r\nlast\r\n";
	const char *tail = "first\r\n..hidden\r\n..\r\n...two\r\nlast\r\n.\r\n";
	st_run x;
	size_t len;
	const char *data;

	(void)state;
	simple_delivery(text, &x);
	data = fake_smtp_data(x.fs, 0, &len);
	assert_true(len > strlen(tail));
	assert_memory_equal(data + len - strlen(tail), tail, strlen(tail));
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_DELIVERED);
	assert_string_equal(rm_result_queue_id(x.r), "ABC123");
	st_free(&x);
}

static void dialogue__case06b_missing_final_newline(void **state)
{
	const char *tail = "\r\nno newline at end\r\n.\r\n";
	st_run x;
	size_t len;
	const char *data;

	(void)state;
	simple_delivery("no newline at end", &x);
	data = fake_smtp_data(x.fs, 0, &len);
	assert_memory_equal(data + len - strlen(tail), tail, strlen(tail));
	st_free(&x);
}

static void dialogue__case06c_first_body_line_dot(void **state)
{
	st_run x;
	size_t len;
	const char *data;

	(void)state;
	simple_delivery(".config\r\n", &x);
	data = fake_smtp_data(x.fs, 0, &len);
	assert_non_null(memmem(data, len, "\r\n\r\n..config\r\n.\r\n", 17));
	st_free(&x);
}

/* Quoted-printable lines may start with a dot after a soft break. */
static void dialogue__case06d_qp_lines_are_stuffed(void **state)
{
	char text[4096];
	const char *data;
	st_run x;
	size_t len, i, n = 0;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "\xc3\xa9");
	for (i = 0; i < 300; i++)
		text[n++] = i % 50 == 49 ? ' ' : '.';
	text[n] = '\0';
	simple_delivery(text, &x);
	data = fake_smtp_data(x.fs, 0, &len);
	assert_non_null(memmem(data, len, "quoted-printable", 16));
	/* No line but the terminator starts with a lone dot. */
	for (i = 0; i + 1 < len; i++) {
		if ((i == 0 || data[i - 1] == '\n') && data[i] == '.' &&
		    i + 3 != len)
			assert_int_equal(data[i + 1], '.');
	}
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Case 07: nothing with CR or LF reaches the wire                        */
/* ---------------------------------------------------------------------- */

static void dialogue__case07_injection_refused(void **state)
{
	static const fs_step nothing[] = { FS_DONE };
	rm_message *m = st_message("b@example.net", "x");
	rm_error err;
	st_run x;

	(void)state;
	assert_int_equal(rm_message_add_to(m, "\"a\r\nRCPT TO:<victim@example"
	                 ".org>\"@example.com", NULL, &err), RM_EINVAL);
	rm_message_free(m);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp", "",
	                 "ehlo=client.example%0D%0AMAIL%20FROM:<spoof@"
	                 "example.org>"), RM_EINVAL);
	assert_string_equal(x.err.field, "ehlo");
	st_free(&x);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp",
	                 "us%0Der:pw@", ""), RM_EINVAL);
	assert_string_equal(x.err.field, "user");
	st_free(&x);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp",
	                 "user:p%0Aw@", ""), RM_EINVAL);
	assert_string_equal(x.err.field, "password");
	st_free(&x);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp", "",
	                 "ehlo=bad%20name"), RM_EURL);
	assert_string_equal(x.err.field, "ehlo");
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Case 08: multi-line replies and EHLO parsing                           */
/* ---------------------------------------------------------------------- */

static void dialogue__case08_capabilities(void **state)
{
	static const fs_step script[] = {
		FS_S("220-mx.example.com ESMTP\r\n220-Authorized use only\r\n"
		     "220\r\n"),
		FS_C(1),
		FS_S("250-mx.example.com\r\n25"),
		FS_SLOWLY("0-pipelining\r\n250-Auth=LOGIN\r\n"
		          "250-auth plain login XOAUTH2\r\n"
		          "250-Size 10240000\r\n250-starttls\r\n"
		          "250-8bitmime\r\n250 smtputf8\r\n"),
		FS_C(1), FS_S("454 4.7.0 TLS not available now\r\n"),
		BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), 0);
	assert_string_equal(info.greeting, "mx.example.com ESMTP");
	assert_string_equal(info.extensions, "PIPELINING AUTH SIZE STARTTLS "
	                    "8BITMIME SMTPUTF8");
	assert_int_equal(info.max_size, 10240000);
	assert_string_equal(info.tls, "none");
	assert_string_equal(info.auth_mechanism, "none");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nSTARTTLS\r\nQUIT\r\n");
	st_free(&x);
}

static void dialogue__case08_code_change_closes(void **state)
{
	static const fs_step script[] = {
		HELLO("250-a\r\n251 b\r\n"), FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err),
	                 RM_EPROTOCOL);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n");
	st_free(&x);
}

static void dialogue__case08_bare_250_and_helo_fallback(void **state)
{
	static const fs_step script[] = {
		HELLO("502 5.5.2 what?\r\n"), FS_C(1), FS_S("250\r\n"), BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), 0);
	assert_string_equal(info.extensions, "");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nHELO client.example\r\n"
	                  "QUIT\r\n");
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Case 10 and AUTH in general                                            */
/* ---------------------------------------------------------------------- */

#define EHLO_AUTH "250-fake.example\r\n250 AUTH PLAIN LOGIN CRAM-MD5 " \
                  "XOAUTH2\r\n"
#define LOGIN_WIRE "EHLO client.example\r\nAUTH LOGIN\r\n" \
                   "dXNlckBleGFtcGxlLmNvbQ==\r\nc2VjcmV0\r\n"

static void login_variant(const char *c1, const char *c2)
{
	const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1), FS_S(c1), FS_C(1), FS_S(c2),
		FS_C(1), FS_S("235 2.7.0 Authentication successful\r\n"), BYE
	};
	rm_check_info info;
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp",
	                 "user%40example.com:secret@", "auth=LOGIN"), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), 0);
	assert_string_equal(info.auth_mechanism, "LOGIN");
	st_close(&x);
	expect_transcript(&x, LOGIN_WIRE "QUIT\r\n");
	/* No log line shows the password or its base64. */
	assert_null(strstr(x.log, "secret"));
	assert_null(strstr(x.log, "c2VjcmV0"));
	assert_non_null(strstr(x.log, "C: <redacted>\n"));
	st_free(&x);
}

static void dialogue__case10_login_ignores_challenge_text(void **state)
{
	(void)state;
	login_variant("334 VXNlciBOYW1lAA==\r\n", "334 UGFzc3dvcmQA\r\n");
	login_variant("334 dXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n");
	login_variant("334 \r\n", "334\r\n");
}

static void dialogue__case10_third_challenge_cancels(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1), FS_S("334 VXNlcm5hbWU6\r\n"),
		FS_C(1), FS_S("334 UGFzc3dvcmQ6\r\n"), FS_C(1),
		FS_S("334 TW9yZT8=\r\n"), FS_C(1),
		FS_S("501 5.7.0 Cancelled\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp",
	                 "user%40example.com:secret@", "auth=LOGIN"), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), RM_EAUTH);
	assert_int_equal(x.err.reply_code, 501);
	st_close(&x);
	expect_transcript(&x, LOGIN_WIRE "*\r\nQUIT\r\n");
	st_free(&x);
}

static void auth_refused(const char *reply, rm_outcome outcome)
{
	const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1), FS_S(reply), BYE
	};
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp",
	                 "user:secret@", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_EAUTH);
	assert_int_equal(x.err.outcome, outcome);
	assert_int_equal(rm_result_outcome(x.r), outcome);
	assert_int_equal(x.err.reply_code, code_of(reply));
	st_close(&x);
	/* Loopback without TLS: CRAM-MD5 is preferred (no password shown) */
	expect_transcript(&x, "EHLO client.example\r\nAUTH CRAM-MD5\r\n"
	                  "QUIT\r\n");
	st_free(&x);
}

/* Case 12: 535 is permanent (configuration), 454 transient. */
static void dialogue__case12_auth_classes(void **state)
{
	(void)state;
	auth_refused("535 5.7.8 Authentication credentials invalid\r\n",
	             RM_OUTCOME_PERM_PROVIDER);
	auth_refused("454 4.7.0 Temporary authentication failure\r\n",
	             RM_OUTCOME_TRANSIENT);
}

static void dialogue__auth_plain_redacted(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1), FS_S("235 2.7.0 ok\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "user:secret@",
	                 "auth=PLAIN"), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	st_close(&x);
	/* base64("\0user\0secret") */
	expect_transcript(&x, "EHLO client.example\r\n"
	                  "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
	assert_non_null(strstr(x.log, "C: AUTH PLAIN <redacted>\n"));
	assert_null(strstr(x.log, "AHVzZXIAc2VjcmV0"));
	assert_null(strstr(x.log, "secret"));
	st_free(&x);
}

/* RFC 2195 section 2's example exchange. */
static void dialogue__auth_cram_md5_rfc2195(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1),
		FS_S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5u"
		     "ZXQ+\r\n"),
		FS_C(1), FS_S("235 2.7.0 ok\r\n"), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp",
	                 "tim:tanstaaftanstaaf@", "auth=CRAM-MD5"), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nAUTH CRAM-MD5\r\n"
	                  "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
	                  "\r\nQUIT\r\n");
	st_free(&x);
}

static void dialogue__auth_xoauth2_error_reason(void **state)
{
	/* {"status":"401","schemes":"Bearer",
	 *  "scope":"https://mail.google.com/"} */
	static const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1),
		FS_S("334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2Nv"
		     "cGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"),
		FS_C(1),
		FS_S("535 5.7.8 Username and Password not accepted\r\n"),
		BYE
	};
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	rm_transport *t;
	rm_error err;
	fake_smtp *fs;
	char url[128];

	(void)state;
	assert_int_equal(fake_smtp_start(&fs, script, NULL), 0);
	o.oauth_token = "ya29.token";
	snprintf(url, sizeof(url), "smtp://me%%40example.com@127.0.0.1:%d"
	         "?ehlo=client.example", fake_smtp_port(fs));
	assert_int_equal(rm_transport_open(&t, url, &o, &err), 0);
	assert_int_equal(rm_transport_check(t, NULL, &err), RM_EAUTH);
	assert_non_null(strstr(err.message, "\"status\":\"401\""));
	assert_int_equal(err.outcome, RM_OUTCOME_PERM_PROVIDER);
	rm_transport_close(t);
	assert_int_equal(fake_smtp_wait(fs), 0);
	/* base64("user=me@example.com^Aauth=Bearer ya29.token^A^A") */
	assert_string_equal(fake_smtp_transcript(fs), "EHLO client.example\r\n"
	                    "AUTH XOAUTH2 dXNlcj1tZUBleGFtcGxlLmNvbQFhdXRoPUJl"
	                    "YXJlciB5YTI5LnRva2VuAQE=\r\n\r\nQUIT\r\n");
	fake_smtp_free(fs);
}

/* ---------------------------------------------------------------------- */
/* Case 11: pipelining reply accounting, RSET after errors                */
/* ---------------------------------------------------------------------- */

#define TWO_RCPTS "b@example.net, c@example.org"
#define REFUSED_BOTH "250 2.1.0 Ok\r\n" \
	"550 5.1.1 <b@example.net>: Recipient unknown\r\n" \
	"550 5.1.1 <c@example.org>: Recipient unknown\r\n"
#define PIPE_GROUP "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n" \
	"RCPT TO:<c@example.org>\r\nDATA\r\n"
#define SECOND_MSG "RSET\r\nMAIL FROM:<a@example.com>\r\n" \
	"RCPT TO:<d@example.com>\r\nDATA\r\n[data]\r\nQUIT\r\n"
#define SECOND_SCRIPT FS_C(1), FS_S("250 2.0.0 Ok\r\n"), FS_C(3), \
	FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE

static void expect_both_refused(st_run *x)
{
	rm_recipient_status st;
	size_t i;

	assert_int_equal(x->rc, RM_EREJECTED);
	assert_int_equal(x->err.outcome, RM_OUTCOME_PERM_RECIPIENT);
	assert_int_equal(rm_result_recipient_count(x->r), 2);
	assert_int_equal(rm_result_rejected_count(x->r), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rm_result_recipient(x->r, i, &st), 0);
		assert_false(st.accepted);
		assert_int_equal(st.reply_code, 550);
		assert_string_equal(st.enhanced_status, "5.1.1");
		assert_int_equal(st.outcome, RM_OUTCOME_PERM_RECIPIENT);
	}
}

static void dialogue__case11a_four_replies_then_rset(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(4),
		FS_S(REFUSED_BOTH "554 5.5.1 Error: no valid recipients\r\n"),
		SECOND_SCRIPT
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	st_send(&x, st_message(TWO_RCPTS, "hello"));
	expect_both_refused(&x);
	/* EHLO, then MAIL, both RCPTs and DATA in one write. */
	assert_int_equal(impl(&x)->conn.writes, 2);
	assert_int_equal(st_send(&x, st_message("d@example.com", "x")), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n" PIPE_GROUP
	                  SECOND_MSG);
	assert_null(fake_smtp_data(x.fs, 1, NULL));
	st_free(&x);
}

static void dialogue__case11b_lone_dot(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(4),
		FS_S(REFUSED_BOTH "354 go ahead\r\n"), FS_BODY,
		FS_S("554 5.5.1 no valid recipients\r\n"), SECOND_SCRIPT
	};
	size_t len;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	st_send(&x, st_message(TWO_RCPTS, "hello"));
	expect_both_refused(&x);
	assert_memory_equal(fake_smtp_data(x.fs, 0, &len), ".\r\n", 3);
	assert_int_equal(len, 3);
	assert_int_equal(st_send(&x, st_message("d@example.com", "x")), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n" PIPE_GROUP
	                  "[data]\r\n" SECOND_MSG);
	st_free(&x);
}

static void dialogue__case11c_partial_acceptance(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(4),
		FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "550 5.1.1 <c@example.org>: Recipient unknown\r\n"
		     "354 go ahead\r\n"),
		FS_BODY, FS_S(QUEUED), BYE
	};
	rm_recipient_status st;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message(TWO_RCPTS, "hello")), 0);
	assert_int_equal(rm_result_rejected_count(x.r), 1);
	assert_int_equal(rm_result_recipient(x.r, 0, &st), 0);
	assert_string_equal(st.address, "b@example.net");
	assert_true(st.accepted);
	assert_int_equal(st.outcome, RM_OUTCOME_DELIVERED);
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_false(st.accepted);
	assert_int_equal(st.reply_code, 550);
	assert_string_equal(st.text, "<c@example.org>: Recipient unknown");
	assert_int_equal(rm_result_reply_code(x.r), 250);
	assert_string_equal(rm_result_enhanced_status(x.r), "2.0.0");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n" PIPE_GROUP
	                  "[data]\r\nQUIT\r\n");
	assert_null(fake_smtp_data(x.fs, 1, NULL));
	expect_data_is_message(&x, 0, TWO_RCPTS, "hello");
	st_free(&x);
}

static void dialogue__case11d_rset_without_pipelining(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PLAIN), FS_C(1), FS_S("250 2.1.0 Ok\r\n"), FS_C(1),
		FS_S("550 5.1.1 Recipient unknown\r\n"), FS_C(1),
		FS_S("250 2.0.0 Ok\r\n"), FS_C(1), FS_S("250 2.1.0 Ok\r\n"),
		FS_C(1), FS_S("250 2.1.5 Ok\r\n"), FS_C(1),
		FS_S("354 go ahead\r\n"), FS_BODY, FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_EREJECTED);
	assert_int_equal(st_send(&x, st_message("d@example.com", "x")), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nMAIL FROM:<a@example."
	                  "com>\r\nRCPT TO:<b@example.net>\r\n" SECOND_MSG);
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Case 12: reply classes                                                 */
/* ---------------------------------------------------------------------- */

static void dialogue__case12_greeting_421(void **state)
{
	static const fs_step script[] = {
		FS_S("421 4.3.2 Service not available, closing channel\r\n"),
		FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ETEMPFAIL);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_int_equal(x.err.reply_code, 421);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_TRANSIENT);
	assert_false(rm__conn_is_open(&impl(&x)->conn));
	st_close(&x);
	expect_transcript(&x, "");
	st_free(&x);
}

static void dialogue__case12_mail_421(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PLAIN), FS_C(1),
		FS_S("421 4.7.0 Messages from 192.0.2.1 temporarily "
		     "deferred\r\n"),
		FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ETEMPFAIL);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_string_equal(x.err.enhanced_status, "4.7.0");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n"
	                  "MAIL FROM:<a@example.com>\r\n");
	st_free(&x);
}

static void rcpt_class(const char *reply, rm_outcome outcome)
{
	const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(4), FS_S("250 Ok\r\n250 Ok\r\n"),
		FS_S(reply), FS_S("354 go\r\n"), FS_BODY, FS_S(QUEUED), BYE
	};
	rm_recipient_status st;
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message(TWO_RCPTS, "x")), 0);
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_false(st.accepted);
	assert_int_equal(st.outcome, outcome);
	assert_int_equal(st.reply_code, code_of(reply));
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n" PIPE_GROUP
	                  "[data]\r\nQUIT\r\n");
	st_free(&x);
}

static void dialogue__case12_rcpt_450_and_550(void **state)
{
	(void)state;
	rcpt_class("450 4.2.1 Mailbox busy\r\n", RM_OUTCOME_TRANSIENT);
	rcpt_class("550 5.1.1 User unknown\r\n", RM_OUTCOME_PERM_RECIPIENT);
}

static void dialogue__case12_rcpt_452_new_transaction(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(5),
		FS_S("250 Ok\r\n250 Ok\r\n452 4.5.3 Too many recipients\r\n"
		     "452 4.5.3 Too many recipients\r\n354 go\r\n"),
		FS_BODY, FS_S("250 2.0.0 Ok: queued as ONE\r\n"), FS_C(4),
		FS_S("250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as TWO\r\n"), BYE
	};
	rm_recipient_status st;
	st_run x;
	size_t i;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net, c@example."
	                 "org, d@example.org", "x")), 0);
	assert_int_equal(rm_result_rejected_count(x.r), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rm_result_recipient(x.r, i, &st), 0);
		assert_true(st.accepted);
	}
	assert_string_equal(rm_result_queue_id(x.r), "ONE");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nMAIL FROM:<a@example."
	                  "com>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@"
	                  "example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"
	                  "[data]\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<c@"
	                  "example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n"
	                  "[data]\r\nQUIT\r\n");
	st_free(&x);
}

static void after_dot(const char *reply, int code, rm_outcome outcome)
{
	const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(reply),
		BYE
	};
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 code);
	assert_int_equal(x.err.outcome, outcome);
	assert_int_equal(rm_result_outcome(x.r), outcome);
	assert_int_equal(x.err.reply_code, code_of(reply));
	assert_int_equal(rm_result_reply_code(x.r), code_of(reply));
	assert_string_equal(rm_result_queue_id(x.r), "");
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nMAIL FROM:<a@example."
	                  "com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
	                  "[data]\r\nQUIT\r\n");
	st_free(&x);
}

static void dialogue__case12_after_dot(void **state)
{
	(void)state;
	after_dot("451 4.3.0 Local error in processing\r\n", RM_ETEMPFAIL,
	          RM_OUTCOME_TRANSIENT);
	after_dot("552 5.3.4 Message size exceeds fixed limit\r\n",
	          RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER);
	after_dot("554 5.7.1 Message rejected\r\n", RM_EREJECTED,
	          RM_OUTCOME_PERM_PROVIDER);
}

static void dialogue__case12_rset_421_reconnects(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3),
		FS_S("250 Ok\r\n550 5.1.1 User unknown\r\n554 no\r\n"),
		FS_C(1), FS_S("421 4.4.2 Idle timeout, closing\r\n"),
		FS_NEXT, HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY,
		FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_EREJECTED);
	assert_int_equal(st_send(&x, st_message("d@example.com", "x")), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nMAIL FROM:<a@example."
	                  "com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nRSET\r\n"
	                  "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"
	                  "RCPT TO:<d@example.com>\r\nDATA\r\n[data]\r\n"
	                  "QUIT\r\n");
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Case 03: SMTPUTF8 only when needed; IDN as A-labels                    */
/* ---------------------------------------------------------------------- */

#define EHLO_UTF8 "250-fake.example\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"

static void utf8_case(const char *ehlo, const char *to, const char *wire)
{
	const fs_step script[] = {
		HELLO(ehlo), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE
	};
	char want[512];
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message(to, "x")), 0);
	st_close(&x);
	snprintf(want, sizeof(want), "EHLO client.example\r\n%sDATA\r\n"
	         "[data]\r\nQUIT\r\n", wire);
	expect_transcript(&x, want);
	st_free(&x);
}

static void dialogue__case03_smtputf8(void **state)
{
	(void)state;
	utf8_case(EHLO_PIPE, "info@ex\xc3\xa4mple.com",
	          "MAIL FROM:<a@example.com>\r\n"
	          "RCPT TO:<info@xn--exmple-cua.com>\r\n");
	utf8_case(EHLO_UTF8, "j\xc3\xb6rg@example.com",
	          "MAIL FROM:<a@example.com> SMTPUTF8\r\n"
	          "RCPT TO:<j\xc3\xb6rg@example.com>\r\n");
	utf8_case(EHLO_UTF8, "b@example.net",
	          "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n");
}

static void dialogue__case03b_smtputf8_missing(void **state)
{
	static const fs_step script[] = { HELLO(EHLO_PIPE), BYE };
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("j\xc3\xb6rg@example.com",
	                 "x")), RM_EUNSUPPORTED);
	assert_int_equal(x.err.outcome, RM_OUTCOME_PERM_PROVIDER);
	assert_non_null(strstr(x.err.message, "SMTPUTF8"));
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nQUIT\r\n");
	st_free(&x);
}

/*
 * The null reverse path (RFC 5321 section 4.5.5), as "" or "<>": MAIL
 * FROM:<> with the SIZE and SMTPUTF8 parameters after it, and a From
 * header as it was.
 */
static void null_path_case(const char *path)
{
	static const fs_step script[] = {
		HELLO("250-fake.example\r\n250-PIPELINING\r\n"
		      "250-SIZE 100000\r\n250 SMTPUTF8\r\n"),
		FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE
	};
	const char *to = "j\xc3\xb6rg@example.com";
	rm_message *m = st_message(to, "bounce");
	char want[512], *mem;
	size_t len;
	st_run x;

	assert_int_equal(rm_message_set_envelope_from(m, path, NULL), 0);
	assert_int_equal(rm_message_write_mem(m, &mem, &len, NULL), 0);
	rm_free(mem);
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, m), 0);
	st_close(&x);
	snprintf(want, sizeof(want), "EHLO client.example\r\n"
	         "MAIL FROM:<> SIZE=%zu SMTPUTF8\r\nRCPT TO:<%s>\r\n"
	         "DATA\r\n[data]\r\nQUIT\r\n", len, to);
	expect_transcript(&x, want);
	expect_data_is_message(&x, 0, to, "bounce");
	st_free(&x);
}

static void dialogue__null_reverse_path(void **state)
{
	(void)state;
	null_path_case("");
	null_path_case("<>");
}

/* ---------------------------------------------------------------------- */
/* SIZE, DSN, queue ids, TLS policy                                       */
/* ---------------------------------------------------------------------- */

static void dialogue__size_checked_and_announced(void **state)
{
	static const fs_step small[] = {
		HELLO("250-fake.example\r\n250 SIZE 100\r\n"), BYE
	};
	static const fs_step big[] = {
		HELLO("250-fake.example\r\n250-SIZE 100000\r\n250 DSN\r\n"),
		FS_C(1), FS_S("250 ok\r\n"), FS_C(1), FS_S("250 ok\r\n"),
		FS_C(1), FS_S("354 go\r\n"), FS_BODY,
		FS_S("250 OK id=1abc-2DEF-xy\r\n"), BYE
	};
	rm_message *m = st_message("b@example.net", "hello");
	char want[512], *mem;
	size_t len;
	st_run x;

	(void)state;
	assert_int_equal(rm_message_write_mem(m, &mem, &len, NULL), 0);
	rm_free(mem);
	rm_message_free(m);
	assert_int_equal(st_open(&x, small, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "hello")),
	                 RM_ETOOBIG);
	assert_int_equal(x.err.outcome, RM_OUTCOME_PERM_PROVIDER);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nQUIT\r\n");
	st_free(&x);

	assert_int_equal(st_open(&x, big, NULL, "smtp", "",
	                 "dsn_notify=SUCCESS,FAILURE&dsn_ret=HDRS"), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "hello")),
	                 0);
	assert_string_equal(rm_result_queue_id(x.r), "1abc-2DEF-xy");
	st_close(&x);
	snprintf(want, sizeof(want), "EHLO client.example\r\nMAIL FROM:<a@"
	         "example.com> SIZE=%zu RET=HDRS\r\nRCPT TO:<b@example.net> "
	         "NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n[data]\r\nQUIT\r\n", len);
	expect_transcript(&x, want);
	st_free(&x);
}

static void dialogue__case09e_required_tls_missing(void **state)
{
	static const fs_step script[] = { HELLO(EHLO_AUTH), BYE };
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "user:secret@",
	                 "tls=required"), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ENOTLS);
	assert_int_equal(x.err.outcome, RM_OUTCOME_PERM_PROVIDER);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nQUIT\r\n");
	st_free(&x);
}

/* ---------------------------------------------------------------------- */
/* Connections: reuse, disconnects, slow replies, timeouts                */
/* ---------------------------------------------------------------------- */

static void dialogue__reuse_without_rset(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED), FS_C(1),
		FS_S("250 2.0.0 Ok\r\n"), FS_C(3), FS_S(OK3), FS_BODY,
		FS_S(QUEUED), BYE
	};
	const char *one = "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>"
	                  "\r\nDATA\r\n[data]\r\n";
	char want[1024];
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	/* Idle for longer than the check interval: NOOP first. */
	impl(&x)->last_used -= 60000;
	assert_int_equal(st_send(&x, st_message("b@example.net", "3")), 0);
	st_close(&x);
	snprintf(want, sizeof(want), "EHLO client.example\r\n%s%sNOOP\r\n%s"
	         "QUIT\r\n", one, one, one);
	expect_transcript(&x, want);
	st_free(&x);
}

static void dialogue__kept_connection_closed_reconnects(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		FS_NEXT, HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY,
		FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_int_equal(strlen(fake_smtp_transcript(x.fs)) > 0, 1);
	st_free(&x);
}

/* A 452 split whose second MAIL finds the connection closed (end of
 * stream, or 421 and gone): nothing of that batch was accepted, so it
 * gets the fresh connection a first transaction gets. */
#define SPLIT HELLO(EHLO_PIPE), FS_C(4), \
	FS_S("250 Ok\r\n250 Ok\r\n452 4.5.3 Too many recipients\r\n" \
	     "354 go\r\n"), FS_BODY, FS_S("250 2.0.0 Ok: queued as ONE\r\n")
#define SECOND FS_NEXT, HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, \
	FS_S(QUEUED), BYE

static void split_then_closed(const fs_step *script)
{
	rm_recipient_status st;
	st_run x;
	size_t i;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net, "
	                                        "c@example.org", "x")), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rm_result_recipient(x.r, i, &st), 0);
		assert_true(st.accepted);
	}
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

static void dialogue__split_batch_reconnects(void **state)
{
	static const fs_step closed[] = { SPLIT, SECOND };
	static const fs_step bye_421[] = {
		SPLIT, FS_C(3),
		FS_S("421 4.7.0 Too many messages, closing\r\n"),
		SECOND
	};

	(void)state;
	split_then_closed(closed);
	split_then_closed(bye_421);
}

/* A server that answers the final dot twice: the second reply answers
 * nothing, and the next transaction on that connection would pair each
 * command with the reply before its own (c refused for what b got). */
static void dialogue__unasked_reply_not_reused(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PLAIN), FS_C(1), FS_S("250 2.1.0 Ok\r\n"), FS_C(1),
		FS_S("250 2.1.5 Ok\r\n"), FS_C(1), FS_S("354 go ahead\r\n"),
		FS_BODY, FS_S(QUEUED "250 2.1.5 Ok again\r\n"),
		FS_NEXT, HELLO(EHLO_PLAIN), FS_C(1), FS_S("250 2.1.0 Ok\r\n"),
		FS_C(1), FS_S("550 5.1.1 <b@example.net> unknown\r\n"),
		FS_C(1), FS_S("250 2.1.5 Ok\r\n"), FS_C(1),
		FS_S("354 go ahead\r\n"), FS_BODY,
		FS_S("250 2.0.0 Ok: queued as TWO\r\n"), BYE
	};
	rm_recipient_status b, c;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net,c@example.net",
	                                        "2")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "TWO");
	assert_int_equal(rm_result_recipient(x.r, 0, &b), RM_OK);
	assert_int_equal(rm_result_recipient(x.r, 1, &c), RM_OK);
	assert_int_equal(b.accepted, 0);
	assert_int_equal(b.reply_code, 550);
	assert_int_equal(c.accepted, 1);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

static void dialogue__kept_connection_421_reconnects(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		FS_S("421 4.4.2 fake.example Error: timeout exceeded\r\n"),
		FS_NEXT, HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY,
		FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n"
	                  "MAIL FROM:<a@example.com>\r\n"
	                  "RCPT TO:<b@example.net>\r\nDATA\r\n[data]\r\n"
	                  "EHLO client.example\r\n"
	                  "MAIL FROM:<a@example.com>\r\n"
	                  "RCPT TO:<b@example.net>\r\nDATA\r\n[data]\r\n"
	                  "QUIT\r\n");
	st_free(&x);
}

/* An implicit-TLS server answers our silence with a TLS alert. */
static void dialogue__tls_bytes_instead_of_greeting(void **state)
{
	static const fs_step script[] = {
		FS_S("\x15\x03\x03\x00\x02\x02\x32"), FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err),
	                 RM_EPROTOCOL);
	assert_non_null(strstr(x.err.message, "use smtps://"));
	st_close(&x);
	expect_transcript(&x, "");
	st_free(&x);
}

/* The message leaves in 64 KB blocks, not a write per line. */
static void dialogue__body_in_few_large_writes(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		BYE
	};
	size_t i, n = 0, len;
	char *text = malloc(400 * 1024);
	uint64_t before;
	st_run x;

	(void)state;
	assert_non_null(text);
	for (i = 0; n + 80 < 400 * 1024; i++)
		n += (size_t)snprintf(text + n, 400 * 1024 - n, "%s line %zu "
		                      "of a long message body\r\n",
		                      i % 7 ? "a" : ".", i);
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	before = impl(&x)->conn.writes;
	assert_int_equal(st_send(&x, st_message("b@example.net", text)), 0);
	fake_smtp_data(x.fs, 0, &len);
	/* One write for the commands, then one per 64 KB block. */
	assert_true(impl(&x)->conn.writes - before <=
	            2 + len / (64 * 1024) + 1);
	st_close(&x);
	expect_data_is_message(&x, 0, "b@example.net", text);
	free(text);
	st_free(&x);
}

static void expect_policy(const char *url, int policy, int port,
                          int loopback)
{
	rm_transport *t;
	rm__smtp *s;

	assert_int_equal(rm_transport_open(&t, url, NULL, NULL), 0);
	s = ((struct rm_transport *)t)->impl;
	assert_int_equal(s->cfg.tls_policy, policy);
	assert_int_equal(s->cfg.port, port);
	assert_int_equal(s->cfg.loopback, loopback);
	rm_transport_close(t);
}

static void dialogue__tls_policy_defaults(void **state)
{
	(void)state;
	expect_policy("smtp://smtp.example.com", RM__TLS_REQUIRED, 25, 0);
	expect_policy("smtp://smtp.example.com:587", RM__TLS_REQUIRED, 587,
	              0);
	expect_policy("smtps://smtp.example.com", RM__TLS_REQUIRED, 465, 0);
	expect_policy("smtp://localhost", RM__TLS_OPPORTUNISTIC, 25, 1);
	expect_policy("smtp://127.0.0.2:2525", RM__TLS_OPPORTUNISTIC, 2525,
	              1);
	expect_policy("smtp://[::1]", RM__TLS_OPPORTUNISTIC, 25, 1);
	expect_policy("smtp://smtp.example.com?connect_to=127.0.0.1",
	              RM__TLS_OPPORTUNISTIC, 25, 1);
	expect_policy("smtp://localhost?tls=required", RM__TLS_REQUIRED, 25,
	              1);
	expect_policy("smtp://smtp.example.com?tls=none", RM__TLS_NONE, 25,
	              0);
}

/* Off this machine, credentials never go out without TLS. The v4-mapped
 * form reaches 127.0.0.1 but does not count as loopback. */
static void dialogue__no_cleartext_auth_off_loopback(void **state)
{
	static const fs_step script[] = { HELLO(EHLO_AUTH), BYE };
	st_run x;

	(void)state;
	assert_int_equal(st_open_url(&x, script, NULL, "smtp://user:secret@"
	                 "[::ffff:127.0.0.1]:{port}?ehlo=client.example&"
	                 "tls=opportunistic"), 0);
	x.rc = rm_transport_check(x.t, NULL, &x.err);
	if (x.rc == RM_ECONNECT) {
		st_free(&x);
		skip();
	}
	assert_int_equal(x.rc, RM_ENOTLS);
	assert_non_null(strstr(x.err.message, "clear text"));
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\nQUIT\r\n");
	st_free(&x);
}

/* The server hangs up after step `at`; what does the client report? */
static void hangup_at(const fs_step *script, int code, rm_outcome outcome)
{
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 code);
	assert_int_equal(x.err.outcome, outcome);
	assert_int_equal(rm_result_outcome(x.r), outcome);
	st_close(&x);
	st_free(&x);
}

static void dialogue__disconnect_at_each_step(void **state)
{
	static const fs_step greet[] = { FS_HANGUP, FS_DONE };
	static const fs_step ehlo[] = { FS_S(GREET), FS_C(1), FS_DONE };
	static const fs_step mail[] = { HELLO(EHLO_PLAIN), FS_C(1), FS_DONE };
	static const fs_step rcpt[] = {
		HELLO(EHLO_PLAIN), FS_C(1), FS_S("250 ok\r\n"), FS_C(1), FS_DONE
	};
	static const fs_step data[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S("250 ok\r\n250 ok\r\n"), FS_DONE
	};
	static const fs_step dot[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_DONE
	};

	(void)state;
	hangup_at(greet, RM_ECLOSED, RM_OUTCOME_TRANSIENT);
	hangup_at(ehlo, RM_ECLOSED, RM_OUTCOME_TRANSIENT);
	hangup_at(mail, RM_ECLOSED, RM_OUTCOME_TRANSIENT);
	hangup_at(rcpt, RM_ECLOSED, RM_OUTCOME_TRANSIENT);
	hangup_at(data, RM_ECLOSED, RM_OUTCOME_TRANSIENT);
	/* After the final dot nobody knows: ambiguous. */
	hangup_at(dot, RM_ECLOSED, RM_OUTCOME_AMBIGUOUS);
}

/* Dropped after the dot: an accepted RCPT keeps its reply and is not
 * counted as refused; only the RCPT the server refused is. */
static void dialogue__ambiguous_keeps_rcpt_replies(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(4),
		FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "550 5.1.1 User unknown\r\n354 go ahead\r\n"),
		FS_BODY, FS_DONE
	};
	rm_recipient_status st;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net, "
	                                        "c@example.org", "x")),
	                 RM_ECLOSED);
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_AMBIGUOUS);
	assert_int_equal(rm_result_recipient_count(x.r), 2);
	assert_int_equal(rm_result_rejected_count(x.r), 1);
	assert_int_equal(rm_result_recipient(x.r, 0, &st), 0);
	assert_string_equal(st.address, "b@example.net");
	assert_false(st.accepted);
	assert_int_equal(st.outcome, RM_OUTCOME_AMBIGUOUS);
	assert_int_equal(st.reply_code, 250);
	assert_string_equal(st.enhanced_status, "2.1.5");
	assert_int_equal(rm_result_recipient(x.r, 1, &st), 0);
	assert_int_equal(st.reply_code, 550);
	assert_int_equal(st.outcome, RM_OUTCOME_PERM_RECIPIENT);
	st_close(&x);
	st_free(&x);
}

static void dialogue__slow_replies(void **state)
{
	static const fs_step script[] = {
		FS_SLOWLY(GREET), FS_C(1), FS_SLOWLY(EHLO_PIPE), FS_C(3),
		FS_SLOWLY(OK3), FS_BODY, FS_SLOWLY(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")), 0);
	assert_string_equal(rm_result_queue_id(x.r), "ABC123");
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	st_free(&x);
}

static void dialogue__reply_timeout(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PLAIN), FS_C(1), FS_WAIT_EOF, FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", "timeout=1"),
	                 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ETIMEDOUT);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_non_null(strstr(x.err.message, "MAIL"));
	/* Out of step: the connection is dropped, not reused. */
	assert_false(rm__conn_is_open(&impl(&x)->conn));
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n"
	                  "MAIL FROM:<a@example.com>\r\n");
	st_free(&x);
}

static void dialogue__transcript_logged(void **state)
{
	st_run x;

	(void)state;
	simple_delivery("hello", &x);
	assert_non_null(strstr(x.log, "C: EHLO client.example\n"));
	assert_non_null(strstr(x.log, "S: 250-fake.example\n"));
	assert_non_null(strstr(x.log, "S: 250 8BITMIME\n"));
	assert_non_null(strstr(x.log, "C: <message body, "));
	assert_non_null(strstr(x.log, "S: 250 2.0.0 Ok: queued as ABC123\n"));
	assert_null(strstr(x.log, "hello"));
	st_free(&x);
}

static void dialogue__bad_options(void **state)
{
	static const char *const bad[] = {
		"tls=maybe", "timeout=0", "auth=PLAIN,NTLM", "dsn_ret=ALL",
		"dsn_notify=SOMETIMES", "insecure_skip_verify=ok", "bogus=1",
		"auth=", "auth=PLAIN,", "auth=,PLAIN", "dsn_notify=",
		"dsn_notify=SUCCESS,", "dsn_notify=,DELAY",
	};
	static const fs_step nothing[] = { FS_DONE };
	size_t i;
	st_run x;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(st_open(&x, nothing, NULL, "smtp", "", bad[i]),
		                 RM_EURL);
		st_free(&x);
	}
	assert_int_equal(st_open(&x, nothing, NULL, "smtps", "", "tls=none"),
	                 RM_EURL);
	st_free(&x);
}

/* Opens smtp://127.0.0.1:9?ehlo=EHLO; the port is never dialled. */
static int open_with_ehlo(const char *ehlo, rm_error *err)
{
	rm_transport *t = NULL;
	char url[256];
	int rc;

	snprintf(url, sizeof(url), "smtp://127.0.0.1:9?ehlo=%s", ehlo);
	rc = rm_transport_open(&t, url, NULL, err);
	rm_transport_close(t);
	return rc;
}

/* RFC 5321 4.1.3: "[" dotted quad "]" or "[IPv6:" address "]" only. */
static void dialogue__bad_ehlo(void **state)
{
	static const char *const bad[] = {
		"%5B1.2.3%5D", "%5B1.2.3.256%5D", "%5B%5D", "%5B::1%5D",
		"%5BIPv6:1.2.3.4%5D", "%5BIPv6:::g%5D", "%5B1.2.3.4",
		"%5B1.2.3.4%5Dx", "%5Bx:y%5D", "a%20b", "-a.example",
	};
	static const char *const good[] = {
		"%5B192.0.2.1%5D", "%5BIPv6:2001:db8::1%5D",
		"%5BIPv6:::ffff:192.0.2.1%5D", "client.example",
	};
	rm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (open_with_ehlo(bad[i], &err) != RM_EURL)
			fail_msg("ehlo=%s was not refused as RM_EURL", bad[i]);
		assert_string_equal(err.field, "ehlo");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (open_with_ehlo(good[i], &err) != RM_OK)
			fail_msg("ehlo=%s was refused: %s", good[i],
			         err.message);
}

/* ---------------------------------------------------------------------- */
/* Where secrets and addresses come from                                  */
/* ---------------------------------------------------------------------- */

static void plain_auth_with(const char *userinfo, const char *query)
{
	static const fs_step script[] = {
		HELLO(EHLO_AUTH), FS_C(1), FS_S("235 2.7.0 ok\r\n"), BYE
	};
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", userinfo, query),
	                 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	st_close(&x);
	expect_transcript(&x, "EHLO client.example\r\n"
	                  "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nQUIT\r\n");
	st_free(&x);
}

static void dialogue__secrets_from_env_and_file(void **state)
{
	static const fs_step nothing[] = { FS_DONE };
	char path[] = "/tmp/rm-pw-XXXXXX", query[128];
	int fd = mkstemp(path);
	st_run x;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	close(fd);
	setenv("RM_TEST_SMTP_PW", "secret", 1);
	plain_auth_with("user@", "auth=PLAIN&password_env=RM_TEST_SMTP_PW");
	snprintf(query, sizeof(query), "auth=PLAIN&password_file=%s", path);
	plain_auth_with("user@", query);
	unlink(path);
	unsetenv("RM_TEST_SMTP_PW");
	assert_int_equal(st_open(&x, nothing, NULL, "smtp", "user@",
	                 "password_env=RM_TEST_SMTP_PW"), RM_EINVAL);
	assert_string_equal(x.err.field, "password_env");
	st_free(&x);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp", "user:pw@",
	                 "password_env=X"), RM_EURL);
	st_free(&x);
	assert_int_equal(st_open(&x, nothing, NULL, "smtp", "user@", ""),
	                 RM_EINVAL);
	assert_string_equal(x.err.field, "password");
	st_free(&x);
}

static void dialogue__ipv6_loopback(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_PIPE), FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED),
		BYE
	};
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	rm_transport *t;
	rm_message *m;
	fake_smtp *fs;
	char url[128];

	(void)state;
	if (fake_smtp_start_ex(&fs, script, NULL, 1) != 0)
		skip();
	snprintf(url, sizeof(url), "smtp://[::1]:%d?ehlo=client.example",
	         fake_smtp_port(fs));
	assert_int_equal(rm_transport_open(&t, url, &o, NULL), 0);
	m = st_message("b@example.net", "6");
	assert_int_equal(rm_send(t, m, NULL, NULL), 0);
	rm_message_free(m);
	rm_transport_close(t);
	assert_int_equal(fake_smtp_wait(fs), 0);
	fake_smtp_free(fs);
}

static void dialogue__connect_refused(void **state)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	rm_transport *t;
	rm_error err;
	char url[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", ntohs(a.sin_port));
	assert_int_equal(rm_transport_open(&t, url, NULL, NULL), 0);
	assert_int_equal(rm_transport_check(t, NULL, &err), RM_ECONNECT);
	assert_int_equal(err.outcome, RM_OUTCOME_TRANSIENT);
	assert_non_null(strstr(err.message, "refused"));
	rm_transport_close(t);
}

/* A port nothing listens on: bound, then closed. */
static int unused_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* No recipient was tried: the result has no status and refused none. */
static void dialogue__connect_refused_no_recipients(void **state)
{
	rm_transport *t;
	rm_result *r;
	rm_message *m = st_message("b@example.net, c@example.org, "
	                           "d@example.com", "x");
	rm_error err;
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", unused_port());
	assert_int_equal(rm_transport_open(&t, url, NULL, NULL), 0);
	assert_int_equal(rm_result_new(&r, NULL), 0);
	assert_int_equal(rm_send(t, m, r, &err), RM_ECONNECT);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_recipient_count(r), 0);
	assert_int_equal(rm_result_rejected_count(r), 0);
	rm_result_free(r);
	rm_message_free(m);
	rm_transport_close(t);
}

/* A greeting with terminal sequences reaches rm_check_info escaped, as
 * errors and log lines show it: programs print what a check found. */
static void dialogue__check_info_escaped(void **state)
{
	static const fs_step script[] = {
		FS_S("220 fake.example \x1b[2J\x07 ESMTP\r\n"), FS_C(1),
		FS_S(EHLO_PLAIN), BYE
	};
	rm_check_info info;
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	assert_int_equal(rm_transport_check(x.t, &info, &x.err), RM_OK);
	assert_string_equal(info.greeting,
	                    "fake.example \\x1b[2J\\x07 ESMTP");
	st_close(&x);
	st_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dialogue__case06a_leading_dots_doubled),
		cmocka_unit_test(dialogue__case06b_missing_final_newline),
		cmocka_unit_test(dialogue__case06c_first_body_line_dot),
		cmocka_unit_test(dialogue__case06d_qp_lines_are_stuffed),
		cmocka_unit_test(dialogue__case07_injection_refused),
		cmocka_unit_test(dialogue__case08_capabilities),
		cmocka_unit_test(dialogue__case08_code_change_closes),
		cmocka_unit_test(dialogue__case08_bare_250_and_helo_fallback),
		cmocka_unit_test(dialogue__case10_login_ignores_challenge_text),
		cmocka_unit_test(dialogue__case10_third_challenge_cancels),
		cmocka_unit_test(dialogue__case12_auth_classes),
		cmocka_unit_test(dialogue__auth_plain_redacted),
		cmocka_unit_test(dialogue__auth_cram_md5_rfc2195),
		cmocka_unit_test(dialogue__auth_xoauth2_error_reason),
		cmocka_unit_test(dialogue__case11a_four_replies_then_rset),
		cmocka_unit_test(dialogue__case11b_lone_dot),
		cmocka_unit_test(dialogue__case11c_partial_acceptance),
		cmocka_unit_test(dialogue__case11d_rset_without_pipelining),
		cmocka_unit_test(dialogue__case12_greeting_421),
		cmocka_unit_test(dialogue__case12_mail_421),
		cmocka_unit_test(dialogue__case12_rcpt_450_and_550),
		cmocka_unit_test(dialogue__case12_rcpt_452_new_transaction),
		cmocka_unit_test(dialogue__case12_after_dot),
		cmocka_unit_test(dialogue__case12_rset_421_reconnects),
		cmocka_unit_test(dialogue__case03_smtputf8),
		cmocka_unit_test(dialogue__case03b_smtputf8_missing),
		cmocka_unit_test(dialogue__null_reverse_path),
		cmocka_unit_test(dialogue__size_checked_and_announced),
		cmocka_unit_test(dialogue__case09e_required_tls_missing),
		cmocka_unit_test(dialogue__reuse_without_rset),
		cmocka_unit_test(dialogue__kept_connection_closed_reconnects),
		cmocka_unit_test(dialogue__kept_connection_421_reconnects),
		cmocka_unit_test(dialogue__split_batch_reconnects),
		cmocka_unit_test(dialogue__unasked_reply_not_reused),
		cmocka_unit_test(dialogue__tls_bytes_instead_of_greeting),
		cmocka_unit_test(dialogue__body_in_few_large_writes),
		cmocka_unit_test(dialogue__tls_policy_defaults),
		cmocka_unit_test(dialogue__no_cleartext_auth_off_loopback),
		cmocka_unit_test(dialogue__disconnect_at_each_step),
		cmocka_unit_test(dialogue__slow_replies),
		cmocka_unit_test(dialogue__reply_timeout),
		cmocka_unit_test(dialogue__transcript_logged),
		cmocka_unit_test(dialogue__bad_options),
		cmocka_unit_test(dialogue__bad_ehlo),
		cmocka_unit_test(dialogue__secrets_from_env_and_file),
		cmocka_unit_test(dialogue__ipv6_loopback),
		cmocka_unit_test(dialogue__connect_refused),
		cmocka_unit_test(dialogue__connect_refused_no_recipients),
		cmocka_unit_test(dialogue__check_info_escaped),
		cmocka_unit_test(dialogue__ambiguous_keeps_rcpt_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
