/*
 * The transport URL grammar (docs/urls.md) as tables: how URLs split
 * (percent-encoded credentials, IPv6 hosts, options), which open and
 * which fail naming the field (unknown and conflicting options, every
 * scheme), secrets from the environment and from files, rm_url_mask,
 * and the SMTP presets: each one's server, port and user-name rule,
 * sent through a loopback server with endpoint= or connect_to=.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "smtp_test_util.h"

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_AUTH "250-fake.example\r\n250-PIPELINING\r\n" \
                  "250 AUTH PLAIN LOGIN XOAUTH2\r\n"
#define HELLO FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH)
#define OK3 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
#define QUEUED "250 2.0.0 Ok: queued as ABC123\r\n"
#define BYE FS_C(1), FS_S("221 2.0.0 Bye\r\n"), FS_DONE

/* ---------------------------------------------------------------------- */
/* How URLs split                                                         */
/* ---------------------------------------------------------------------- */

typedef struct split_case {
	const char *url;
	const char *scheme, *user, *password, *host;
	int port;
	size_t options;
} split_case;

static const split_case splits[] = {
	{ "smtp://relay.example", "smtp", NULL, NULL, "relay.example", 0, 0 },
	{ "smtp://me%40example.com:p%3Aw%40d%2F%25@mx.example:587?tls="
	  "required", "smtp", "me@example.com", "p:w@d/%", "mx.example", 587,
	  1 },
	{ "smtps://[::1]:2465", "smtps", NULL, NULL, "::1", 2465, 0 },
	{ "smtp://u:p@[2001:db8::25]?ehlo=a.example&auth=PLAIN", "smtp", "u",
	  "p", "2001:db8::25", 0, 2 },
	{ "sendgrid://SG.abc%2Bdef@default?region=eu", "sendgrid",
	  "SG.abc+def", NULL, "default", 0, 1 },
	{ "ses://AKID:wJal%2FK7%2B@eu-west-1", "ses", "AKID", "wJal/K7+",
	  "eu-west-1", 0, 0 },
	{ "gmail+oauth://me%40gmail.com@default?client_id=a&refresh_token_"
	  "env=RT", "gmail+oauth", "me@gmail.com", NULL, "default", 0, 2 },
	{ "file:///tmp/out?x=1", "file", NULL, NULL, NULL, 0, 1 },
};

static void eq_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void grammar__split_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(splits); i++) {
		const split_case *c = &splits[i];
		rm__url u;
		rm_error err;

		print_message("split %s\n", c->url);
		assert_int_equal(rm__url_parse(&u, c->url, &err), 0);
		assert_string_equal(u.scheme, c->scheme);
		eq_or_null(u.user, c->user);
		eq_or_null(u.password, c->password);
		eq_or_null(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_int_equal(u.option_count, c->options);
		rm__url_free(&u);
	}
}

/* ---------------------------------------------------------------------- */
/* Which URLs open                                                        */
/* ---------------------------------------------------------------------- */

typedef struct open_case {
	const char *url;
	int rc;
	const char *field;       /* err.field on failure */
} open_case;

static const open_case opens[] = {
	/* Every scheme. */
	{ "file:///tmp", RM_OK, NULL },
	{ "smtp://relay.example", RM_OK, NULL },
	{ "smtps://u:p@relay.example", RM_OK, NULL },
	{ "smtp://u@relay.example?token=abc", RM_OK, NULL },
	{ "sendgrid://KEY@default", RM_OK, NULL },
	{ "mailgun://KEY@mg.example.com?region=eu", RM_OK, NULL },
	{ "ses://AKID:SECRET@eu-west-1", RM_OK, NULL },
	{ "postmark://TOKEN@default", RM_OK, NULL },
	{ "smtp2go://KEY@default", RM_OK, NULL },
	{ "ses+smtp://AKID:SECRET@eu-west-1", RM_OK, NULL },
	{ "gmail://me%40gmail.com:app@default", RM_OK, NULL },
	{ "gmail://me%40gmail.com:app@default:465", RM_OK, NULL },
	{ "gmail+oauth://me%40gmail.com@default?client_id=c&client_secret=s"
	  "&refresh_token=r", RM_OK, NULL },
	{ "gmail+oauth://me%40gmail.com@default?token=t", RM_OK, NULL },
	{ "sendgrid+smtp://KEY@default?region=eu", RM_OK, NULL },
	{ "mailgun+smtp://pm%40mg.example.com:pw@default?region=eu", RM_OK,
	  NULL },
	{ "postmark+smtp://TOKEN@default", RM_OK, NULL },
	{ "smtp2go+smtp://u:p@default?region=au", RM_OK, NULL },
	{ "office365+smtp://me%40example.com@default?tenant=example.com&"
	  "client_id=c&refresh_token=r", RM_OK, NULL },
	{ "failover(smtp://a.example sendgrid+smtp://K@default)", RM_OK,
	  NULL },
	{ "smtp://relay.example?rate_per_minute=20&rate_per_day=500", RM_OK,
	  NULL },
	{ "sendgrid://KEY@default?rate_per_minute=600", RM_OK, NULL },
	/* Unknown options and schemes. */
	{ "smtp://relay.example?tsl=required", RM_EURL, "tsl" },
	{ "gmail://me%40gmail.com:app@default?bogus=1", RM_EURL, "bogus" },
	{ "sendgrid+smtp://K@default?message_stream=x", RM_EURL,
	  "message_stream" },
	{ "postmark://T@default?token_endpoint=https://x", RM_EURL,
	  "token_endpoint" },
	{ "smtpx://relay.example", RM_EURL, "scheme" },
	/* Conflicts and bad values. */
	{ "smtps://relay.example?tls=none", RM_EURL, "tls" },
	{ "smtp://u@relay.example?password=a&password_env=B", RM_EURL,
	  "password" },
	{ "smtp://u:p@relay.example?password_file=/x", RM_EURL, "password" },
	{ "smtp://u@relay.example?token=a&token_file=/x", RM_EURL, "token" },
	{ "smtp://u@relay.example?password=a&password=b", RM_EURL,
	  "password" },
	{ "gmail+oauth://me@default?client_id=c&client_secret=s&"
	  "client_secret_env=S&refresh_token=r", RM_EURL, "client_secret" },
	{ "gmail+oauth://me@default?client_id=c", RM_EURL, "refresh_token" },
	{ "gmail+oauth://me:pw@default", RM_EURL, "password" },
	{ "office365+smtp://me@default?password=pw", RM_EURL, "password" },
	{ "sendgrid+smtp://K@default?region=us", RM_EURL, "region" },
	{ "gmail://me:pw@smtp.example.com", RM_EURL, "host" },
	{ "gmail://me:pw@default?endpoint=http://127.0.0.1:25", RM_EURL,
	  "endpoint" },
	{ "gmail://me:pw@default?endpoint=smtp://u:p@127.0.0.1", RM_EURL,
	  "endpoint" },
	{ "smtp://relay.example?rate_per_minute=0", RM_EURL,
	  "rate_per_minute" },
	{ "smtp://relay.example?auth=OAUTHBEARER,SCRAM", RM_EURL, "auth" },
	{ "smtp://u@relay.example", RM_EINVAL, "password" },
};

static void grammar__open_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(opens); i++) {
		const open_case *c = &opens[i];
		rm_transport *t = NULL;
		rm_error err;
		int rc = rm_transport_open(&t, c->url, NULL, &err);

		print_message("open %s -> %d %s\n", c->url, rc,
		              rc ? err.message : "");
		assert_int_equal(rc, c->rc);
		if (c->field != NULL)
			assert_string_equal(err.field, c->field);
		rm_transport_close(t);
	}
}

/* Every bad port gets one field and one text, whoever refuses it. */
static void grammar__bad_ports_one_message(void **state)
{
	static const char *const urls[] = {
		"smtp://h.example:0", "smtp://h.example:70000",
		"smtp://h.example:abc", "smtp://h.example:65536",
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(urls); i++) {
		rm__url u;
		rm_error err;

		print_message("port %s\n", urls[i]);
		assert_int_equal(rm__url_parse(&u, urls[i], &err), RM_EURL);
		assert_int_equal(err.code, RM_EURL);
		assert_string_equal(err.field, "port");
		assert_string_equal(err.message,
		                    "the port must be 1 to 65535");
		rm__url_free(&u);
	}
}

/* ---------------------------------------------------------------------- */
/* Secrets from the environment and from files                            */
/* ---------------------------------------------------------------------- */

static void grammar__secrets_env_file(void **state)
{
	char path[] = "build/test-url-secret-XXXXXX", url[256];
	rm_transport *t = NULL;
	rm_error err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\r\nignored\n", 16), 16);
	close(fd);
	setenv("RM_TEST_URL_PW", "pw", 1);
	unsetenv("RM_TEST_URL_NONE");

	snprintf(url, sizeof(url), "smtp://u@h.example?password_file=%s",
	         path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), 0);
	rm_transport_close(t);
	snprintf(url, sizeof(url), "smtp://u@h.example?token_file=%s", path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), 0);
	rm_transport_close(t);
	snprintf(url, sizeof(url), "gmail+oauth://me@default?client_id=c&"
	         "client_secret_env=RM_TEST_URL_PW&refresh_token_file=%s",
	         path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), 0);
	rm_transport_close(t);
	assert_int_equal(rm_transport_open(&t, "smtp://u@h.example?"
	                 "password_env=RM_TEST_URL_PW", NULL, &err), 0);
	rm_transport_close(t);
	assert_int_equal(rm_transport_open(&t, "sendgrid://default?"
	                 "key_env=RM_TEST_URL_PW", NULL, &err), 0);
	rm_transport_close(t);
	snprintf(url, sizeof(url), "mailgun://mg.example.com?key_file=%s",
	         path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), 0);
	rm_transport_close(t);
	assert_int_equal(rm_transport_open(&t, "postmark://T@default?"
	                 "key_env=RM_TEST_URL_PW", NULL, &err), RM_EURL);
	assert_string_equal(err.field, "key");

	assert_int_equal(rm_transport_open(&t, "smtp://u@h.example?"
	                 "password_env=RM_TEST_URL_NONE", NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "password_env");
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me@default?"
	                 "client_id=c&refresh_token_env=RM_TEST_URL_NONE",
	                 NULL, &err), RM_EINVAL);
	assert_string_equal(err.field, "refresh_token_env");
	assert_int_equal(rm_transport_open(&t, "smtp://u@h.example?"
	                 "password_file=/nonexistent/pw", NULL, &err),
	                 RM_EIO);
	assert_string_equal(err.field, "password_file");
	unlink(path);
}

/* ---------------------------------------------------------------------- */
/* rm_url_mask                                                            */
/* ---------------------------------------------------------------------- */

static const char *const masks[][2] = {
	{ "smtp://relay.example:25", "smtp://relay.example:25" },
	{ "smtp://me%40x.com:p%40ss@[::1]:25?password_env=PW&tls=none",
	  "smtp://me%40x.com:****@[::1]:25?password_env=PW&tls=none" },
	{ "smtp://u@h?token=abc&token_file=/t&auth=XOAUTH2",
	  "smtp://u@h?token=****&token_file=/t&auth=XOAUTH2" },
	{ "sendgrid://SG.key@default?region=eu",
	  "sendgrid://****@default?region=eu" },
	{ "sendgrid+smtp://apikey:SG.key@default",
	  "sendgrid+smtp://****:****@default" },
	{ "ses://AKID:SECRET@eu-west-1?session_token=T",
	  "ses://AKID:****@eu-west-1?session_token=****" },
	{ "gmail+oauth://me%40gmail.com@default?client_id=c&client_secret=s&"
	  "refresh_token=r&token_endpoint=http://127.0.0.1:9/t",
	  "gmail+oauth://me%40gmail.com@default?client_id=c&client_secret="
	  "****&refresh_token=****&token_endpoint=http://127.0.0.1:9/t" },
	{ "failover(smtp://a:b@h1 retry(postmark://TOK@default)?attempts=2 "
	  "file:///x#f)",
	  "failover(smtp://a:****@h1 retry(postmark://****@default)?"
	  "attempts=2 file:///x#f)" },
	{ "not a url", "not a url" },
	{ "", "" },
};

static void grammar__mask_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(masks); i++) {
		char *out = NULL;

		assert_int_equal(rm_url_mask(masks[i][0], &out, NULL), 0);
		assert_string_equal(out, masks[i][1]);
		rm_free(out);
	}
	assert_int_equal(rm_url_mask(NULL, NULL, NULL), RM_EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Presets                                                                */
/* ---------------------------------------------------------------------- */

typedef struct preset_case {
	const char *url;         /* {port} is the loopback server's */
	const char *user;
	const char *password;    /* NULL: XOAUTH2 with token "tok" */
} preset_case;

static const preset_case preset_sends[] = {
	{ "gmail://me%40gmail.com:abcd%20efgh@default", "me@gmail.com",
	  "abcd efgh" },
	{ "gmail+oauth://me%40gmail.com@default?token=tok", "me@gmail.com",
	  NULL },
	{ "sendgrid+smtp://SG.key@default", "apikey", "SG.key" },
	{ "sendgrid+smtp://apikey:SG.key@default?region=eu", "apikey",
	  "SG.key" },
	{ "mailgun+smtp://postmaster%40mg.example.com:pw@default?region=eu",
	  "postmaster@mg.example.com", "pw" },
	{ "postmark+smtp://server-token@default", "server-token",
	  "server-token" },
	{ "postmark+smtp://access:secret@default", "access", "secret" },
	{ "smtp2go+smtp://user:pw@default?region=us", "user", "pw" },
	{ "office365+smtp://me%40example.com@default?token_env="
	  "RM_TEST_TOKEN", "me@example.com", NULL },
	{ "ses+smtp://AKIAEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY"
	  "@eu-west-1", "AKIAEXAMPLE", "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91"
	  "z1g38Pk" },
};

/* The AUTH line the server should see for c. */
static void expected_auth(const preset_case *c, char *out, size_t size)
{
	char raw[512];
	rm__buf b;
	int n;

	if (c->password != NULL)
		n = snprintf(raw, sizeof(raw), "%c%s%c%s", 0, c->user, 0,
		             c->password);
	else
		n = snprintf(raw, sizeof(raw), "user=%s\001auth=Bearer tok"
		             "\001\001", c->user);
	rm__buf_init(&b, 4096);
	assert_int_equal(rm__base64_encode(&b, raw, (size_t)n), 0);
	snprintf(out, size, "AUTH %s %s\r\n", c->password ? "PLAIN" :
	         "XOAUTH2", b.data);
	rm__buf_free(&b);
}

static void grammar__preset_sends(void **state)
{
	static const fs_step script[] = {
		HELLO, FS_C(1), FS_S("235 2.7.0 Accepted\r\n"), FS_C(3),
		FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE
	};
	char fmt[600], want[600];
	size_t i;

	(void)state;
	setenv("RM_TEST_TOKEN", "tok", 1);
	for (i = 0; i < RM__ARRAY_LEN(preset_sends); i++) {
		const preset_case *c = &preset_sends[i];
		st_run x;

		print_message("preset %s\n", c->url);
		snprintf(fmt, sizeof(fmt), "%s%sendpoint=smtp://127.0.0.1:"
		         "{port}&ehlo=client.example&auth=%s", c->url,
		         strchr(c->url, '?') ? "&" : "?", c->password ?
		         "PLAIN" : "XOAUTH2");
		assert_int_equal(st_open_url(&x, script, NULL, fmt), 0);
		assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
		                 0);
		st_close(&x);
		expected_auth(c, want, sizeof(want));
		assert_non_null(strstr(fake_smtp_transcript(x.fs), want));
		assert_string_equal(fake_smtp_error(x.fs), "");
		if (c->password != NULL)
			assert_null(strstr(x.log, c->password));
		st_free(&x);
	}
}

/* Postmark's server token given as both user and password (two copies,
 * not one pointer) is still a secret: no debug line may show it. */
static void grammar__postmark_token_never_logged(void **state)
{
	static const fs_step script[] = {
		HELLO, FS_C(1), FS_S("235 2.7.0 Accepted\r\n"), FS_C(3),
		FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open_url(&x, script, NULL, "postmark+smtp://"
	                 "pm-token-7f3a:pm-token-7f3a@default?endpoint=smtp://"
	                 "127.0.0.1:{port}&ehlo=client.example&auth=PLAIN"), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")), 0);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_non_null(strstr(x.log, "authenticated"));
	assert_null(strstr(x.log, "pm-token-7f3a"));
	st_free(&x);
}

typedef struct host_case {
	const char *url;         /* {port}: the loopback server's */
	const char *host;        /* as the error message names it */
} host_case;

static const host_case preset_hosts[] = {
	{ "gmail://me:pw@default:{port}", "smtp.gmail.com" },
	{ "sendgrid+smtp://K@default:{port}", "smtp.sendgrid.net" },
	{ "sendgrid+smtp://K@default:{port}?region=eu",
	  "smtp.eu.sendgrid.net" },
	{ "mailgun+smtp://a:b@default:{port}", "smtp.mailgun.org" },
	{ "mailgun+smtp://a:b@default:{port}?region=eu",
	  "smtp.eu.mailgun.org" },
	{ "postmark+smtp://T@default:{port}", "smtp.postmarkapp.com" },
	{ "smtp2go+smtp://a:b@default:{port}", "mail.smtp2go.com" },
	{ "smtp2go+smtp://a:b@default:{port}?region=eu",
	  "mail-eu.smtp2go.com" },
	{ "office365+smtp://me@default:{port}?token=t",
	  "smtp.office365.com" },
	{ "ses+smtp://AKID:SECRET@us-west-2:{port}",
	  "email-smtp.us-west-2.amazonaws.com" },
};

/* Each preset's server, reached through connect_to=127.0.0.1. */
static void grammar__preset_hosts(void **state)
{
	static const fs_step script[] = {
		HELLO, FS_C(1), FS_S("535 5.7.8 no\r\n"), BYE
	};
	char fmt[400];
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(preset_hosts); i++) {
		const host_case *c = &preset_hosts[i];
		st_run x;

		snprintf(fmt, sizeof(fmt), "%s%sconnect_to=127.0.0.1&ehlo="
		         "client.example", c->url,
		         strchr(c->url, '?') ? "&" : "?");
		assert_int_equal(st_open_url(&x, script, NULL, fmt), 0);
		assert_int_equal(rm_transport_check(x.t, NULL, &x.err),
		                 RM_EAUTH);
		print_message("%s: %s\n", c->url, x.err.message);
		assert_non_null(strstr(x.err.message, c->host));
		st_free(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grammar__split_table),
		cmocka_unit_test(grammar__open_table),
		cmocka_unit_test(grammar__bad_ports_one_message),
		cmocka_unit_test(grammar__secrets_env_file),
		cmocka_unit_test(grammar__mask_table),
		cmocka_unit_test(grammar__preset_sends),
		cmocka_unit_test(grammar__postmark_token_never_logged),
		cmocka_unit_test(grammar__preset_hosts),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
