/*
 * Secrets never leave in text: a send with each SMTP AUTH mechanism
 * (PLAIN, LOGIN, CRAM-MD5, XOAUTH2), accepted and refused, and with each
 * HTTP backend against its loopback fake (tests/fakes/fake_provider.py),
 * with the right key and a wrong one, sending and checking
 * (rm_transport_check), all at debug log level. No
 * password, token, API key or base64 form of them may appear in a log
 * line, an error message, the result text or the attempts.
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

#include "fake_provider.h"
#include "smtp_int.h"
#include "smtp_test_util.h"

#define PASSWORD "Pa55-w0rd.Secret"
#define TOKEN "ya29.Tok3n-Secret"

/* Fails when text holds secret or its base64 form. */
static void no_secret_in(const char *text, const char *secret,
                         size_t secret_len, const char *where)
{
	rm__buf raw, b64;
	size_t k;

	if (text == NULL)
		return;
	if (secret_len >= 4 && memmem(text, strlen(text), secret,
	                              secret_len) != NULL)
		fail_msg("a secret appears in %s: %s", where, text);
	/* In base64 after k other bytes, the characters from the first
	 * whole sextet of the secret to its last one are fixed. */
	for (k = 0; k < 3; k++) {
		size_t from = (8 * k + 5) / 6, to = 8 * (k + secret_len) / 6;

		rm__buf_init(&raw, 4096);
		rm__buf_init(&b64, 8192);
		rm__buf_append(&raw, "\0\0", k);
		rm__buf_append(&raw, secret, secret_len);
		assert_int_equal(rm__base64_encode(&b64, raw.data, raw.len),
		                 RM_OK);
		if (to >= from + 6 && memmem(text, strlen(text),
		                             b64.data + from, to - from))
			fail_msg("a secret's base64 appears in %s: %s", where,
			         text);
		rm__buf_free(&raw);
		rm__buf_free(&b64);
	}
}

typedef struct secret {
	const char *bytes;
	size_t len;
} secret;

#define S(text) { text, sizeof(text) - 1 }

static const secret smtp_secrets[] = {
	S(PASSWORD),
	S(TOKEN),
	S("\0user\0" PASSWORD),
	S("user=user\001auth=Bearer " TOKEN "\001\001"),
};

static void check_texts(const char *const texts[], size_t n,
                        const secret *secrets, size_t count)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < count; j++)
			no_secret_in(texts[i], secrets[j].bytes,
			             secrets[j].len, "text");
}

static void check_result(const rm_result *r, const secret *secrets,
                         size_t count)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < rm_result_attempt_count(r); i++) {
		rm_attempt a;
		const char *texts[2];

		assert_int_equal(rm_result_attempt(r, i, &a), RM_OK);
		texts[0] = a.text;
		texts[1] = a.transport;
		check_texts(texts, 2, secrets, count);
	}
	for (i = 0; i < rm_result_recipient_count(r); i++) {
		rm_recipient_status s;
		const char *texts[1];

		assert_int_equal(rm_result_recipient(r, i, &s), RM_OK);
		texts[0] = s.text;
		check_texts(texts, 1, secrets, count);
	}
}

/* rm__redact finds the secret inside base64 at every alignment, with
 * any bytes before and after it. */
static void secrets__redact_base64_alignments(void **state)
{
	static const char *const around[] = { "", "u", "\0u", "\0us" };
	size_t i, j;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(around); i++) {
		for (j = 0; j < RM__ARRAY_LEN(around); j++) {
			rm__buf raw, text;

			rm__buf_init(&raw, 256);
			rm__buf_init(&text, 4096);
			rm__buf_append(&raw, around[i], i);
			rm__buf_append_str(&raw, PASSWORD);
			rm__buf_append(&raw, around[j], j);
			rm__buf_append_str(&text, "535 echo ");
			rm__base64_encode(&text, raw.data, raw.len);
			rm__buf_printf(&text, " and %s.", PASSWORD);
			rm__redact(&text, PASSWORD, strlen(PASSWORD));
			no_secret_in(text.data, PASSWORD, strlen(PASSWORD),
			             "redacted text");
			assert_non_null(strstr(text.data, "<redacted>"));
			rm__buf_free(&raw);
			rm__buf_free(&text);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* SMTP                                                                   */
/* ---------------------------------------------------------------------- */

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_AUTH "250-fake.example\r\n250-PIPELINING\r\n" \
                  "250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n"
#define SEND FS_C(3), FS_S("250 ok\r\n250 ok\r\n354 go\r\n"), FS_BODY, \
             FS_S("250 2.0.0 queued as S1\r\n")
#define BYE FS_C(1), FS_S("221 Bye\r\n"), FS_DONE
#define CRAM "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n"
/* A hostile server that repeats what it was sent. */
#define ECHO_PLAIN "535 5.7.8 rejected AHVzZXIAUGE1NS13MHJkLlNlY3JldA== " \
                   PASSWORD "\r\n"

typedef struct auth_case {
	const char *name;
	const char *mech;
	int oauth;
	int ok;
	const fs_step *script;
} auth_case;

static const fs_step plain_ok[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	FS_S("235 2.7.0 ok\r\n"), SEND, BYE
};
static const fs_step plain_bad[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S(ECHO_PLAIN), BYE
};
static const fs_step login_ok[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	FS_S("334 VXNlcm5hbWU6\r\n"), FS_C(1), FS_S("334 UGFzc3dvcmQ6\r\n"),
	FS_C(1), FS_S("235 2.7.0 ok\r\n"), SEND, BYE
};
static const fs_step login_bad[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	FS_S("334 VXNlcm5hbWU6\r\n"), FS_C(1), FS_S("334 UGFzc3dvcmQ6\r\n"),
	FS_C(1), FS_S("535 5.7.8 bad credentials\r\n"), BYE
};
static const fs_step cram_ok[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S(CRAM), FS_C(1),
	FS_S("235 2.7.0 ok\r\n"), SEND, BYE
};
static const fs_step cram_bad[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1), FS_S(CRAM), FS_C(1),
	FS_S("535 5.7.8 bad credentials\r\n"), BYE
};
static const fs_step xoauth_ok[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	FS_S("235 2.7.0 ok\r\n"), SEND, BYE
};
static const fs_step xoauth_bad[] = {
	FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	FS_S("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n"), FS_C(1),
	FS_S("535 5.7.8 not accepted\r\n"), BYE
};

static const auth_case auth_cases[] = {
	{ "PLAIN accepted", "PLAIN", 0, 1, plain_ok },
	{ "PLAIN refused, echoed", "PLAIN", 0, 0, plain_bad },
	{ "LOGIN accepted", "LOGIN", 0, 1, login_ok },
	{ "LOGIN refused", "LOGIN", 0, 0, login_bad },
	{ "CRAM-MD5 accepted", "CRAM-MD5", 0, 1, cram_ok },
	{ "CRAM-MD5 refused", "CRAM-MD5", 0, 0, cram_bad },
	{ "XOAUTH2 accepted", "XOAUTH2", 1, 1, xoauth_ok },
	{ "XOAUTH2 refused", "XOAUTH2", 1, 0, xoauth_bad },
};

static void capture(rm_log_level level, const char *line, void *user)
{
	rm__buf *b = user;

	(void)level;
	rm__buf_printf(b, "%s\n", line);
}

static void run_auth_case(const auth_case *c)
{
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	rm_transport *t = NULL;
	rm_result *r = NULL;
	rm_message *msg;
	fake_smtp *fs;
	rm_error err;
	rm__buf log;
	char url[256];
	const char *texts[3];
	int rc;

	rm__buf_init(&log, 1 << 22);
	assert_int_equal(fake_smtp_start(&fs, c->script, NULL), 0);
	o.log = capture;
	o.log_user = &log;
	o.log_level = RM_LOG_DEBUG;
	o.oauth_token = c->oauth ? TOKEN : NULL;
	snprintf(url, sizeof(url), "smtp://user%s@127.0.0.1:%d"
	         "?ehlo=client.example&auth=%s", c->oauth ? "" : ":" PASSWORD,
	         fake_smtp_port(fs), c->mech);
	assert_int_equal(rm_transport_open(&t, url, &o, &err), RM_OK);
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	msg = st_message("b@example.net", "x");
	rc = rm_send(t, msg, r, &err);
	rm_message_free(msg);
	if ((rc == RM_OK) != c->ok)
		fail_msg("%s: status %d: %s", c->name, rc, err.message);
	rm_transport_close(t);
	fake_smtp_free(fs);
	texts[0] = log.data;
	texts[1] = rc != RM_OK ? err.message : "";
	texts[2] = rm_result_text(r);
	check_texts(texts, 3, smtp_secrets, RM__ARRAY_LEN(smtp_secrets));
	check_result(r, smtp_secrets, RM__ARRAY_LEN(smtp_secrets));
	assert_non_null(strstr(log.data, "AUTH"));
	rm_result_free(r);
	rm__buf_free(&log);
}

static void secrets__smtp_auth_mechanisms(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(auth_cases); i++)
		run_auth_case(&auth_cases[i]);
}

/* ---------------------------------------------------------------------- */
/* HTTP backends                                                          */
/* ---------------------------------------------------------------------- */

typedef struct provider {
	const char *name;
	const char *key;        /* what the fake expects */
	const char *url_key;    /* the same, as the URL's user part */
	const char *host;
	secret secrets[3];      /* what must never show */
} provider;

#define SES_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"

static const provider providers[] = {
	{ "sendgrid", "SG.Secret-Key-1", "SG.Secret-Key-1", "default",
	  { S("SG.Secret-Key-1"), S("SG.Wrong-Key-9"), S("x") } },
	{ "mailgun", "key-Secret-2", "key-Secret-2", "mg.example.com",
	  { S("key-Secret-2"), S("api:key-Secret-2"), S("api:key-Wrong") } },
	{ "ses", "AKIDEXAMPLE:" SES_SECRET,
	  "AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYSECRETKEY",
	  "eu-west-1", { S(SES_SECRET), S("WrongSecretWrongSecret"),
	                 S("x") } },
	{ "postmark", "pm-Secret-Token-3", "pm-Secret-Token-3", "default",
	  { S("pm-Secret-Token-3"), S("pm-Wrong-Token"), S("x") } },
	{ "smtp2go", "api-Secret-4", "api-Secret-4", "default",
	  { S("api-Secret-4"), S("api-Wrong-Key"), S("x") } },
};

/* The wrong key each provider is tried with (a secret too). */
static const char *wrong_key(const provider *p)
{
	static const char *const keys[] = {
		"SG.Wrong-Key-9", "key-Wrong",
		"AKIDEXAMPLE:WrongSecretWrongSecret",
		"pm-Wrong-Token", "api-Wrong-Key"
	};

	return keys[p - providers];
}

typedef struct fake_run {
	pid_t pid;
	int port;
	char dir[256];
} fake_run;

/* The fake that runs, killed by the teardown if a check fails. */
static pid_t running_fake;

static void fake_start(fake_run *f, const provider *p)
{
	char cmd[600];

	snprintf(f->dir, sizeof(f->dir), "build/test-secrets/%s-%ld", p->name,
	         (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", f->dir,
	         f->dir);
	assert_int_equal(system(cmd), 0);
	f->port = fake_provider_start(p->name, p->key, f->dir, &f->pid);
	running_fake = f->pid;
	assert_true(f->port > 0);
}

static void fake_stop(fake_run *f)
{
	fake_provider_stop(f->pid);
	running_fake = 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	fake_provider_stop(running_fake);
	running_fake = 0;
	return 0;
}

/* Makes the fake answer 401 with the key in every text field its
 * provider's error format has (p NULL: back to normal). */
static void fake_echo(const fake_run *f, const provider *p)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/mode", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	if (p == NULL)
		fputs("ok", fp);
	else
		fprintf(fp, "{\"status\": 401, \"headers\": {\"X-Echo\": "
		        "\"%s\"}, \"body\": {\"errors\": [{\"message\": "
		        "\"bad key %s\", \"field\": \"%s\"}], \"message\": "
		        "\"bad key %s\", \"Message\": \"bad key %s\", "
		        "\"ErrorCode\": 10, \"data\": {\"error\": "
		        "\"bad key %s\"}}}", p->key, p->key, p->key, p->key,
		        p->key, p->key);
	fclose(fp);
}

/* The same 401, with every character of the key written as a JSON
 * escape (\u0053 for "S"), as a server's JSON library may write it. */
static void fake_echo_escaped(const fake_run *f, const provider *p)
{
	char path[512], escaped[1024] = "";
	size_t i, used = 0;
	FILE *fp;

	/* Two backslashes: the mode file is JSON around the raw body. */
	for (i = 0; p->key[i] != '\0' && used + 8 < sizeof(escaped); i++)
		used += (size_t)snprintf(escaped + used, sizeof(escaped) - used,
		                         "\\\\u%04x", (unsigned char)p->key[i]);
	snprintf(path, sizeof(path), "%s/mode", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "{\"status\": 401, \"raw_body\": \"{\\\"errors\\\": "
	        "[{\\\"message\\\": \\\"bad key %s\\\"}], \\\"message\\\": "
	        "\\\"bad key %s\\\", \\\"Message\\\": \\\"bad key %s\\\", "
	        "\\\"ErrorCode\\\": 10, \\\"data\\\": {\\\"error\\\": "
	        "\\\"bad key %s\\\"}}\"}", escaped, escaped, escaped,
	        escaped);
	fclose(fp);
}

static rm_message *http_message(void)
{
	rm_message *m;

	assert_int_equal(rm_message_new(&m, NULL), RM_OK);
	assert_int_equal(rm_message_set_from(m, "a@example.com", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_add_to(m, "b@example.net", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_set_subject(m, "secrets", NULL), RM_OK);
	assert_int_equal(rm_message_set_text(m, "hi", (size_t)-1, NULL),
	                 RM_OK);
	return m;
}

/* A transport for p's fake with url_key, logging at debug into log. */
static rm_transport *open_logged(const provider *p, const fake_run *f,
                                 const char *url_key, rm__buf *log)
{
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	rm_transport *t = NULL;
	rm_error err;
	char url[600];

	rm__buf_init(log, 1 << 22);
	o.log = capture;
	o.log_user = log;
	o.log_level = RM_LOG_DEBUG;
	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=http://127.0.0.1:%d"
	         "&timeout=5", p->name, url_key, p->host, f->port);
	if (rm_transport_open(&t, url, &o, &err) != RM_OK)
		fail_msg("%s: %s", p->name, err.message);
	return t;
}

/* One send with key; want is the status it must return. */
static void http_send(const provider *p, const fake_run *f,
                      const char *url_key, int ok)
{
	rm__buf log;
	rm_transport *t = open_logged(p, f, url_key, &log);
	rm_message *m = http_message();
	rm_result *r = NULL;
	const char *texts[3];
	rm_error err;
	int rc;

	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	rc = rm_send(t, m, r, &err);
	if ((rc == RM_OK) != ok)
		fail_msg("%s: status %d: %s", p->name, rc, err.message);
	rm_transport_close(t);
	texts[0] = log.data;
	texts[1] = rc != RM_OK ? err.message : "";
	texts[2] = rm_result_text(r);
	check_texts(texts, 3, p->secrets, RM__ARRAY_LEN(p->secrets));
	check_result(r, p->secrets, RM__ARRAY_LEN(p->secrets));
	rm_result_free(r);
	rm_message_free(m);
	rm__buf_free(&log);
}

/* One check with key: the log, the error and the greeting. */
static void http_check(const provider *p, const fake_run *f,
                       const char *url_key, int ok)
{
	rm__buf log;
	rm_transport *t = open_logged(p, f, url_key, &log);
	rm_check_info info;
	const char *texts[3];
	rm_error err;
	int rc;

	rc = rm_transport_check(t, &info, &err);
	if ((rc == RM_OK) != ok)
		fail_msg("%s check: status %d: %s", p->name, rc, err.message);
	rm_transport_close(t);
	texts[0] = log.data;
	texts[1] = rc != RM_OK ? err.message : "";
	texts[2] = info.greeting;
	check_texts(texts, 3, p->secrets, RM__ARRAY_LEN(p->secrets));
	rm__buf_free(&log);
}

/* A send or a check, as the second argument says. */
static void http_try(const provider *p, const fake_run *f,
                     const char *url_key, int ok, int check)
{
	if (check)
		http_check(p, f, url_key, ok);
	else
		http_send(p, f, url_key, ok);
}

static void secrets__http_backends(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(providers); i++) {
		const provider *p = &providers[i];
		char wrong[128];
		fake_run f;

		int check;

		fake_start(&f, p);
		for (check = 0; check <= 1; check++) {
			http_try(p, &f, p->url_key, 1, check);
			/* A provider that repeats the key in its error.
			 * SigV4 never sends the SES secret, so no server
			 * can echo it. */
			if (strcmp(p->name, "ses") != 0) {
				fake_echo(&f, p);
				http_try(p, &f, p->url_key, 0, check);
				fake_echo_escaped(&f, p);
				http_try(p, &f, p->url_key, 0, check);
				fake_echo(&f, NULL);
			}
			/* The wrong key, as a URL user part. */
			snprintf(wrong, sizeof(wrong), "%s", wrong_key(p));
			http_try(p, &f, wrong, 0, check);
		}
		fake_stop(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secrets__redact_base64_alignments),
		cmocka_unit_test(secrets__smtp_auth_mechanisms),
		cmocka_unit_test_teardown(secrets__http_backends,
		                          fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
