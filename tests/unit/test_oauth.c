/*
 * OAuth2 for SMTP: access tokens fetched from a loopback fake of the
 * token endpoint (tests/fakes/token_endpoint.py) and spent on a scripted
 * SMTP server with XOAUTH2 and OAUTHBEARER. Checked: the refresh request,
 * the cache and its expiry, the error challenge answered as each
 * mechanism requires, exactly one refresh and one retry after a refused
 * token, the token endpoint's failures (invalid_grant, 5xx, a stall),
 * the caller's callback, the 535 hints for Gmail and Microsoft 365, the
 * client-side rate limit, and that no log line shows a token or secret.
 * The token cache reads the transport's clock: a fake one lets a token
 * expire without waiting.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "smtp_test_util.h"

#define FAKE "tests/fakes/token_endpoint.py"
#define PYTHON "/usr/bin/python3"
#define CLIENT_ID "client-1.apps.example"
#define CLIENT_SECRET "GOCSPX-s3cr3t"
#define REFRESH "1//refresh-r3fr3sh"

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_OAUTH "250-fake.example\r\n250-PIPELINING\r\n" \
                   "250 AUTH PLAIN LOGIN XOAUTH2\r\n"
#define EHLO_BEARER "250-fake.example\r\n250-PIPELINING\r\n" \
                    "250 AUTH OAUTHBEARER\r\n"
#define HELLO(ehlo) FS_S(GREET), FS_C(1), FS_S(ehlo)
#define OK3 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
#define QUEUED "250 2.0.0 Ok: queued as ABC123\r\n"
#define ACCEPTED "235 2.7.0 Accepted\r\n"
#define BYE FS_C(1), FS_S("221 2.0.0 Bye\r\n"), FS_DONE
/* base64 of {"status":"401","schemes":"bearer","scope":"https://mail.
 * google.com/"} */
#define CHALLENGE "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2Nv" \
                  "cGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"
#define REFUSED "535 5.7.8 Username and Password not accepted\r\n"
#define SESSION_OK HELLO(EHLO_OAUTH), FS_C(1), FS_S(ACCEPTED), FS_C(3), \
                   FS_S(OK3), FS_BODY, FS_S(QUEUED)
#define SESSION_REFUSED HELLO(EHLO_OAUTH), FS_C(1), FS_S(CHALLENGE), \
                        FS_C(1), FS_S(REFUSED), FS_C(1), \
                        FS_S("221 Bye\r\n")

typedef struct fake {
	pid_t pid;
	int port;
	char dir[256];
} fake;

static fake tok;

/* ---------------------------------------------------------------------- */
/* The token endpoint fake                                                */
/* ---------------------------------------------------------------------- */

static int read_int(const char *name)
{
	char path[512];
	FILE *f;
	int v = 0;

	snprintf(path, sizeof(path), "%s/%s", tok.dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Forgets earlier requests and sets the mode of the next ones. */
static void fake_reset(const char *mode)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' > '%s/mode.tmp' && "
	         "mv '%s/mode.tmp' '%s/mode'", mode, tok.dir, tok.dir,
	         tok.dir);
	assert_int_equal(system(cmd), 0);
}

static int requests_since(int base)
{
	return read_int("count") - base;
}

static int fake_start(void **state)
{
	char cmd[600];
	int i;

	(void)state;
	snprintf(tok.dir, sizeof(tok.dir), "build/test-oauth/%ld",
	         (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", tok.dir,
	         tok.dir);
	if (system(cmd) != 0)
		return -1;
	tok.pid = fork();
	if (tok.pid == 0) {
		execl(PYTHON, PYTHON, FAKE, "--dir", tok.dir, "--client-id",
		      CLIENT_ID, "--client-secret", CLIENT_SECRET,
		      "--refresh-token", REFRESH, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && (tok.port = read_int("port")) == 0; i++)
		usleep(50 * 1000);
	return tok.port > 0 ? 0 : -1;
}

static int fake_stop(void **state)
{
	(void)state;
	if (tok.pid > 0) {
		kill(tok.pid, SIGTERM);
		waitpid(tok.pid, NULL, 0);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

/* "gmail+oauth://me@default?endpoint=...&token_endpoint=...&EXTRA". */
static int open_gmail(st_run *x, const fs_step *script, const char *extra)
{
	char fmt[900];

	snprintf(fmt, sizeof(fmt), "gmail+oauth://me%%40gmail.com@default"
	         "?endpoint=smtp://127.0.0.1:{port}&ehlo=client.example"
	         "&client_id=" CLIENT_ID "&client_secret_env=RM_TEST_CS"
	         "&refresh_token_file=%s/refresh"
	         "&token_endpoint=http://127.0.0.1:%d/token%s%s", tok.dir,
	         tok.port, extra[0] ? "&" : "", extra);
	return st_open_url(x, script, NULL, fmt);
}

static void write_refresh_file(void)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/refresh", tok.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(REFRESH "\n", f);
	fclose(f);
	setenv("RM_TEST_CS", CLIENT_SECRET, 1);
}

/* The bearer tokens of the transcript's AUTH XOAUTH2 lines, joined. */
static void tokens_of(const char *transcript, char *out, size_t size)
{
	const char *p = transcript;

	out[0] = '\0';
	while ((p = strstr(p, "AUTH XOAUTH2 ")) != NULL) {
		size_t len = strcspn(p + 13, "\r");
		rm__buf b;
		const char *bearer;

		rm__buf_init(&b, 8192);
		assert_int_equal(rm__base64_decode(&b, p + 13, len), 0);
		bearer = strstr(b.data, "auth=Bearer ");
		assert_non_null(bearer);
		snprintf(out + strlen(out), size - strlen(out), "%s%.*s",
		         out[0] ? " " : "", (int)strcspn(bearer + 12, "\001"),
		         bearer + 12);
		rm__buf_free(&b);
		p += 13 + len;
	}
}

/* No log line shows a token or a secret. */
static void assert_log_clean(const st_run *x)
{
	assert_null(strstr(x->log, "ya29."));
	assert_null(strstr(x->log, CLIENT_SECRET));
	assert_null(strstr(x->log, REFRESH));
	assert_null(strstr(x->log, "dXNlcj1"));   /* base64 "user=" */
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */
/* ---------------------------------------------------------------------- */

static void oauth__refresh_then_cache(void **state)
{
	static const fs_step script[] = {
		SESSION_OK, FS_NEXT, SESSION_OK, BYE
	};
	char tokens[256], want[256];
	int base = read_int("count");
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	tokens_of(fake_smtp_transcript(x.fs), tokens, sizeof(tokens));
	/* One fetch: the second session reuses the cached token. */
	assert_int_equal(requests_since(base), 1);
	snprintf(want, sizeof(want), "ya29.valid-%d ya29.valid-%d", base + 1,
	         base + 1);
	assert_string_equal(tokens, want);
	assert_log_clean(&x);
	st_free(&x);
}

static void oauth__expiry_forces_refresh(void **state)
{
	static const fs_step script[] = {
		SESSION_OK, FS_NEXT, SESSION_OK, BYE
	};
	char tokens[256], want[256];
	int base = read_int("count");
	st_run x;

	(void)state;
	write_refresh_file();
	/* 30 s is inside the refresh margin: each use needs a new one. */
	fake_reset("ok:30");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	tokens_of(fake_smtp_transcript(x.fs), tokens, sizeof(tokens));
	assert_int_equal(requests_since(base), 2);
	snprintf(want, sizeof(want), "ya29.valid-%d ya29.valid-%d", base + 1,
	         base + 2);
	assert_string_equal(tokens, want);
	assert_log_clean(&x);
	st_free(&x);
}

static long long fake_now(void *user)
{
	return *(const long long *)user;
}

/* A token of an hour is kept until a minute before its end, by the clock
 * set with rm_transport_set_clock. */
static void oauth__expiry_by_fake_clock(void **state)
{
	static const fs_step script[] = {
		SESSION_OK, FS_NEXT, SESSION_OK, FS_NEXT, SESSION_OK, BYE
	};
	char tokens[256], want[256];
	int base = read_int("count");
	long long now = 1000;
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(rm_transport_set_clock(x.t, fake_now, NULL, &now,
	                 &x.err), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	now += (3600 - 60) * 1000LL - 1;
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	assert_int_equal(requests_since(base), 1);
	now += 1;
	assert_int_equal(st_send(&x, st_message("b@example.net", "3")), 0);
	assert_int_equal(requests_since(base), 2);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	tokens_of(fake_smtp_transcript(x.fs), tokens, sizeof(tokens));
	snprintf(want, sizeof(want), "ya29.valid-%d ya29.valid-%d "
	         "ya29.valid-%d", base + 1, base + 1, base + 2);
	assert_string_equal(tokens, want);
	assert_log_clean(&x);
	st_free(&x);
}

/* A clock set after a token was fetched keeps the time it has left. */
static void oauth__clock_set_later(void **state)
{
	static const fs_step script[] = {
		SESSION_OK, FS_NEXT, SESSION_OK, FS_NEXT, SESSION_OK, BYE
	};
	int base = read_int("count");
	long long now = 0;
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(rm_transport_set_clock(x.t, fake_now, NULL, &now,
	                 &x.err), 0);
	now += 3000 * 1000LL;
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")), 0);
	assert_int_equal(requests_since(base), 1);
	now += 600 * 1000LL;
	assert_int_equal(st_send(&x, st_message("b@example.net", "3")), 0);
	assert_int_equal(requests_since(base), 2);
	st_free(&x);
}

static void oauth__challenge_refresh_once(void **state)
{
	static const fs_step script[] = {
		SESSION_REFUSED, FS_NEXT, SESSION_OK, BYE
	};
	char tokens[256], want[256];
	int base = read_int("count");
	const char *tr;
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	tr = fake_smtp_transcript(x.fs);
	/* XOAUTH2's error challenge is answered with an empty line. */
	assert_non_null(strstr(tr, "AQE=\r\n\r\nQUIT\r\nEHLO"));
	tokens_of(tr, tokens, sizeof(tokens));
	assert_int_equal(requests_since(base), 2);
	snprintf(want, sizeof(want), "ya29.valid-%d ya29.valid-%d", base + 1,
	         base + 2);
	assert_string_equal(tokens, want);
	assert_non_null(strstr(x.log, "refused the access token"));
	assert_log_clean(&x);
	st_free(&x);
}

static void oauth__refused_twice_no_loop(void **state)
{
	static const fs_step script[] = {
		SESSION_REFUSED, FS_NEXT, SESSION_REFUSED, FS_DONE
	};
	int base = read_int("count");
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")),
	                 RM_EAUTH);
	assert_int_equal(x.err.outcome, RM_OUTCOME_PERM_PROVIDER);
	assert_int_equal(x.err.reply_code, 535);
	/* The JSON reason and what to do, besides the server's text. */
	assert_non_null(strstr(x.err.message, "\"status\":\"401\""));
	assert_non_null(strstr(x.err.message, "Gmail refused the OAuth2"));
	assert_non_null(strstr(x.err.message, "Password not accepted"));
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_int_equal(requests_since(base), 2);
	assert_log_clean(&x);
	st_free(&x);
}

/* The token endpoint fails: nothing is sent to the SMTP server. */
static void endpoint_failure(const char *mode, const char *extra, int rc,
                             rm_outcome outcome, const char *text)
{
	static const fs_step script[] = {
		HELLO(EHLO_OAUTH), FS_C(1), FS_S("221 Bye\r\n"), FS_DONE
	};
	int base = read_int("count");
	st_run x;

	write_refresh_file();
	fake_reset(mode);
	assert_int_equal(open_gmail(&x, script, extra), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), rc);
	assert_int_equal(x.err.outcome, outcome);
	assert_non_null(strstr(x.err.message, text));
	st_close(&x);
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\nQUIT\r\n");
	assert_int_equal(requests_since(base), 1);
	assert_log_clean(&x);
	st_free(&x);
}

static void oauth__endpoint_invalid_grant(void **state)
{
	(void)state;
	endpoint_failure("invalid_grant", "", RM_EAUTH,
	                 RM_OUTCOME_PERM_PROVIDER, "invalid_grant");
}

static void oauth__endpoint_5xx(void **state)
{
	(void)state;
	endpoint_failure("5xx", "", RM_EHTTP, RM_OUTCOME_TRANSIENT,
	                 "HTTP 503");
}

static void oauth__endpoint_slow(void **state)
{
	(void)state;
	endpoint_failure("slow", "token_timeout=1", RM_ETIMEDOUT,
	                 RM_OUTCOME_TRANSIENT, "did not answer");
}

/* The refresh request is the one RFC 6749 section 6 describes. */
static void oauth__request_fields(void **state)
{
	static const fs_step script[] = { SESSION_OK, BYE };
	char path[512], buf[1024];
	int base = read_int("count");
	FILE *f;
	st_run x;

	(void)state;
	write_refresh_file();
	fake_reset("ok");
	assert_int_equal(open_gmail(&x, script, ""), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	st_free(&x);
	snprintf(path, sizeof(path), "%s/%d.json", tok.dir, base + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"grant_type\": \"refresh_token\""));
	assert_non_null(strstr(buf, "\"client_id\": \"" CLIENT_ID "\""));
	assert_non_null(strstr(buf, "\"refresh_token\": \"" REFRESH "\""));
}

typedef struct cb_state {
	int calls;
	int refreshes;
} cb_state;

static int token_cb(int refresh, char *token, size_t size, void *user)
{
	cb_state *c = user;

	c->calls++;
	c->refreshes += refresh;
	snprintf(token, size, "cb-token-%d", c->calls);
	return 0;
}

static void oauth__callback_refreshes_once(void **state)
{
	static const fs_step script[] = {
		SESSION_REFUSED, FS_NEXT, SESSION_OK, BYE
	};
	cb_state cb = { 0, 0 };
	rm_transport *other = NULL;
	char tokens[256];
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "me%40example.com@",
	                 "auth=XOAUTH2"), 0);
	assert_int_equal(rm_transport_set_token_callback(x.t, token_cb, &cb,
	                 &x.err), 0);
	assert_int_equal(rm_transport_set_token_callback(NULL, token_cb, &cb,
	                 NULL), RM_EINVAL);
	assert_int_equal(rm_transport_open(&other, "file:///tmp", NULL,
	                 NULL), 0);
	assert_int_equal(rm_transport_set_token_callback(other, token_cb,
	                 &cb, NULL), RM_EUNSUPPORTED);
	rm_transport_close(other);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	st_close(&x);
	tokens_of(fake_smtp_transcript(x.fs), tokens, sizeof(tokens));
	assert_string_equal(tokens, "cb-token-1 cb-token-2");
	assert_int_equal(cb.calls, 2);
	assert_int_equal(cb.refreshes, 1);
	assert_null(strstr(x.log, "cb-token"));
	st_free(&x);
}

static void oauth__callback_needed(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_OAUTH), FS_C(1), FS_S("221 Bye\r\n"), FS_DONE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "me%40example.com@",
	                 "auth=XOAUTH2"), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")),
	                 RM_EINVAL);
	assert_non_null(strstr(x.err.message, "no OAuth2 access token"));
	st_free(&x);
}

/* RFC 7628 section 3.1 message; the error ended by %x01 (3.2.3). */
static void oauth__oauthbearer(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_BEARER), FS_C(1), FS_S(CHALLENGE), FS_C(1),
		FS_S(REFUSED), BYE
	};
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	char url[200], want[512];
	rm_transport *t;
	rm_error err;
	fake_smtp *fs;
	rm__buf b;
	int port;

	(void)state;
	assert_int_equal(fake_smtp_start(&fs, script, NULL), 0);
	port = fake_smtp_port(fs);
	o.oauth_token = "tok-123";
	snprintf(url, sizeof(url), "smtp://a%%2Cb%%3Dc%%40example.com@"
	         "127.0.0.1:%d?ehlo=client.example", port);
	assert_int_equal(rm_transport_open(&t, url, &o, &err), 0);
	assert_int_equal(rm_transport_check(t, NULL, &err), RM_EAUTH);
	assert_non_null(strstr(err.message, "OAUTHBEARER"));
	rm_transport_close(t);
	assert_int_equal(fake_smtp_wait(fs), 0);
	snprintf(want, sizeof(want), "n,a=a=2Cb=3Dc@example.com,\001host="
	         "127.0.0.1\001port=%d\001auth=Bearer tok-123\001\001", port);
	rm__buf_init(&b, 4096);
	assert_int_equal(rm__base64_encode(&b, want, strlen(want)), 0);
	snprintf(want, sizeof(want), "EHLO client.example\r\nAUTH OAUTHBEARER "
	         "%s\r\nAQ==\r\nQUIT\r\n", b.data);
	rm__buf_free(&b);
	assert_string_equal(fake_smtp_transcript(fs), want);
	fake_smtp_free(fs);
}

/* A 535 to a password says what Gmail and Microsoft 365 want. */
static void hint_case(const char *url_fmt, const char *hint)
{
	static const fs_step script[] = {
		HELLO(EHLO_OAUTH), FS_C(1), FS_S(REFUSED), BYE
	};
	st_run x;

	assert_int_equal(st_open_url(&x, script, NULL, url_fmt), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), RM_EAUTH);
	assert_non_null(strstr(x.err.message, hint));
	assert_non_null(strstr(x.err.message, "535 5.7.8 Username"));
	st_free(&x);
}

static void oauth__535_hints(void **state)
{
	(void)state;
	hint_case("gmail://me%40gmail.com:wrong@default?ehlo=client.example"
	          "&endpoint=smtp://127.0.0.1:{port}", "app password");
	hint_case("office365+smtp://me%40example.com@default?ehlo=client."
	          "example&endpoint=smtp://127.0.0.1:{port}&token=t",
	          "SMTP.Send");
}

static void oauth__office365_refuses_password(void **state)
{
	rm_transport *t = NULL;
	rm_error err;

	(void)state;
	assert_int_equal(rm_transport_open(&t, "office365+smtp://me%40example"
	                 ".com:pw@default", NULL, &err), RM_EURL);
	assert_non_null(strstr(err.message, "basic authentication"));
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me%40gmail.com"
	                 "@default?password_env=X", NULL, &err), RM_EURL);
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me%40gmail.com"
	                 "@default?refresh_token=r", NULL, &err), RM_EURL);
	assert_string_equal(err.field, "client_id");
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me%40gmail.com"
	                 "@default?client_id=c&refresh_token=r&token_endpoint="
	                 "http://oauth.example/token", NULL, &err), RM_EURL);
	assert_string_equal(err.field, "token_endpoint");

	/* The host is what follows the userinfo, not what starts the URL. */
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me%40gmail.com"
	                 "@default?client_id=c&refresh_token=r&token_endpoint="
	                 "http://localhost:80@evil.example/token", NULL, &err),
	                 RM_EURL);
	assert_string_equal(err.field, "token_endpoint");
	assert_int_equal(rm_transport_open(&t, "gmail+oauth://me%40gmail.com"
	                 "@default?client_id=c&refresh_token=r&token_endpoint="
	                 "http://127.0.0.1.evil.example/token", NULL, &err),
	                 RM_EURL);
	assert_string_equal(err.field, "token_endpoint");
}

static void oauth__rate_limit(void **state)
{
	static const fs_step script[] = {
		HELLO("250-fake.example\r\n250 PIPELINING\r\n"), FS_C(3),
		FS_S("250 Ok\r\n550 5.1.1 No such user\r\n554 No valid "
		     "recipients\r\n"), FS_C(1), FS_S("250 Ok\r\n"), FS_C(3),
		FS_S(OK3), FS_BODY, FS_S(QUEUED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp", "",
	                 "rate_per_minute=1&rate_per_day=500"), 0);
	/* A refused message did not go out: it does not count. */
	assert_int_equal(st_send(&x, st_message("nobody@example.net", "0")),
	                 RM_EREJECTED);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "2")),
	                 RM_ETEMPFAIL);
	assert_int_equal(x.err.outcome, RM_OUTCOME_TRANSIENT);
	assert_string_equal(x.err.field, "rate_per_minute");
	assert_int_equal(rm_result_outcome(x.r), RM_OUTCOME_TRANSIENT);
	assert_true(rm_result_retry_after_ms(x.r) > 0);
	assert_true(rm_result_retry_after_ms(x.r) <= 60000);
	st_free(&x);
}

/* The check vector of Google's XOAUTH2 documentation. */
static void oauth__xoauth2_vector(void **state)
{
	static const fs_step script[] = {
		HELLO(EHLO_OAUTH), FS_C(1), FS_S(ACCEPTED), BYE
	};
	st_run x;

	(void)state;
	assert_int_equal(st_open(&x, script, NULL, "smtp",
	                 "someuser%40example.com@", "token=ya29.vF9dft4qmTc2"
	                 "Nvb3RlckBhdHRhdmlzdGEuY29tCg"), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), 0);
	st_close(&x);
	assert_non_null(strstr(fake_smtp_transcript(x.fs), "AUTH XOAUTH2 "
	                "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5"
	                "YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZ"
	                "Mjl0Q2cBAQ==\r\n"));
	assert_log_clean(&x);
	st_free(&x);
}

/* Microsoft's endpoint gets the SMTP scope with the refresh. */
static void oauth__office365_refresh_scope(void **state)
{
	static const fs_step script[] = { SESSION_OK, BYE };
	char fmt[900], path[512], buf[1024];
	int base = read_int("count");
	FILE *f;
	st_run x;

	(void)state;
	fake_reset("ok");
	snprintf(fmt, sizeof(fmt), "office365+smtp://me%%40example.com@"
	         "default?endpoint=smtp://127.0.0.1:{port}&ehlo=client."
	         "example&tenant=example.com&client_id=" CLIENT_ID
	         "&client_secret=" CLIENT_SECRET "&refresh_token=" REFRESH
	         "&token_endpoint=http://127.0.0.1:%d/token", tok.port);
	assert_int_equal(st_open_url(&x, script, NULL, fmt), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "1")), 0);
	assert_log_clean(&x);
	st_free(&x);
	snprintf(path, sizeof(path), "%s/%d.json", tok.dir, base + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"scope\": \"https://outlook.office.com/"
	                       "SMTP.Send offline_access\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oauth__refresh_then_cache),
		cmocka_unit_test(oauth__expiry_forces_refresh),
		cmocka_unit_test(oauth__expiry_by_fake_clock),
		cmocka_unit_test(oauth__clock_set_later),
		cmocka_unit_test(oauth__challenge_refresh_once),
		cmocka_unit_test(oauth__refused_twice_no_loop),
		cmocka_unit_test(oauth__endpoint_invalid_grant),
		cmocka_unit_test(oauth__endpoint_5xx),
		cmocka_unit_test(oauth__endpoint_slow),
		cmocka_unit_test(oauth__request_fields),
		cmocka_unit_test(oauth__callback_refreshes_once),
		cmocka_unit_test(oauth__callback_needed),
		cmocka_unit_test(oauth__oauthbearer),
		cmocka_unit_test(oauth__535_hints),
		cmocka_unit_test(oauth__office365_refuses_password),
		cmocka_unit_test(oauth__rate_limit),
		cmocka_unit_test(oauth__xoauth2_vector),
		cmocka_unit_test(oauth__office365_refresh_scope),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
