/*
 * The five HTTP backends against the loopback fake provider
 * (tests/fakes/fake_provider.py), which checks every request strictly:
 * one message with text, HTML, a non-ASCII subject, an inline image and
 * a PDF goes through each; then every documented error, 429 with its
 * retry hints, 500 and 503, a stalled answer and a dropped connection
 * are asserted on the result (outcome, HTTP status, provider text, retry
 * hint); then the limits each provider has are checked before sending.
 * The preflight check (rm_transport_check) goes to each provider's
 * read-only endpoint, which the fake checks as strictly: its success,
 * wrong credentials, 403, 429, 500, 503, a dropped connection and a
 * closed port are asserted on the error (code, outcome, HTTP status).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "fake_provider.h"
#include "internal.h"

#define SES_KEY "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SES_KEY_URL "AKIDEXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY"

/* A port where nothing listens: the "connection refused" case. */
#define CLOSED_ENDPOINT "http://127.0.0.1:9"

typedef struct fake {
	const char *provider;
	const char *key;        /* as the fake checks it */
	const char *url_user;   /* as it goes into the URL */
	const char *host;       /* the URL's host */
	pid_t pid;
	int port;
	char dir[256];
	int no_bcc;             /* the provider refuses Bcc */
} fake;

/* What one answer of the fake should turn into. */
typedef struct http_case {
	const char *name;
	const char *mode;       /* DIR/mode: JSON of the answer */
	int rc;
	rm_outcome outcome;
	int http_status;
	const char *text;       /* must appear in the result's text */
	long long retry_ms;
} http_case;

/* ---------------------------------------------------------------------- */
/* The fake                                                               */
/* ---------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int fake_start(void **state)
{
	fake *f = *state;
	char cmd[600];

	snprintf(f->dir, sizeof(f->dir), "build/test-http/%s-%ld",
	         f->provider, (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", f->dir,
	         f->dir);
	if (system(cmd) != 0)
		return -1;
	f->port = fake_provider_start(f->provider, f->key, f->dir, &f->pid);
	return f->port > 0 ? 0 : -1;
}

static int fake_stop(void **state)
{
	fake *f = *state;

	fake_provider_stop(f->pid);
	return 0;
}

static void fake_mode(const fake *f, const char *mode)
{
	write_file(f->dir, "mode", mode != NULL ? mode : "ok");
}

/* The JSON record of the fake's latest request. */
static cJSON *fake_last(const fake *f)
{
	char path[512], *text;
	FILE *fp = NULL;
	long size;
	int n;
	cJSON *json;

	for (n = 1; n < 1000; n++) {
		snprintf(path, sizeof(path), "%s/%d.json", f->dir, n + 1);
		if (access(path, F_OK) != 0)
			break;
	}
	snprintf(path, sizeof(path), "%s/%d.json", f->dir, n);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	json = cJSON_Parse(text);
	free(text);
	assert_non_null(json);
	return json;
}

/* ---------------------------------------------------------------------- */
/* Transports and the message                                             */
/* ---------------------------------------------------------------------- */

static rm_transport *open_url(const char *url)
{
	rm_transport *t = NULL;
	rm_error err;

	if (rm_transport_open(&t, url, NULL, &err) != RM_OK)
		fail_msg("cannot open %s: %s", url, err.message);
	return t;
}

/* The fake's transport; extra is appended to the query. */
static rm_transport *open_fake(const fake *f, const char *extra)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=http://127.0.0.1:%d"
	         "&timeout=2%s", f->provider, f->url_user, f->host, f->port,
	         extra != NULL ? extra : "");
	return open_url(url);
}

static rm_transport *open_closed(const fake *f)
{
	char url[512];

	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=" CLOSED_ENDPOINT,
	         f->provider, f->url_user, f->host);
	return open_url(url);
}

/* Case 15's 64 bytes, sent as a PDF. */
static void attach_pdf(rm_message *msg)
{
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;
	unsigned char data[64];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	o.filename = "report.pdf";
	o.content_type = "application/pdf";
	assert_int_equal(rm_message_attach_data(msg, data, sizeof(data), &o,
	                                        NULL), RM_OK);
}

static void attach_logo(rm_message *msg)
{
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0
	};
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;

	o.filename = "logo.png";
	o.content_id = "logo";
	assert_int_equal(rm_message_attach_data(msg, png, sizeof(png), &o,
	                                        NULL), RM_OK);
}

/* Text, HTML, a non-ASCII subject, an inline image and a PDF. */
static rm_message *standard_message(int bcc)
{
	rm_message *msg;
	char note[64] = "";
	int i;

	for (i = 0; i < 20; i++)
		memcpy(note + 2 * i, "\xc3\xa9", 2);
	assert_int_equal(rm_message_new(&msg, NULL), RM_OK);
	assert_int_equal(rm_message_set_from(msg, "ann@example.com",
	                                     "Ann Example", NULL), RM_OK);
	assert_int_equal(rm_message_add_to(msg, "bob@example.org", "Bob",
	                                   NULL), RM_OK);
	assert_int_equal(rm_message_add_cc(msg, "Carol <carol@example.org>",
	                                   NULL, NULL), RM_OK);
	if (bcc)
		assert_int_equal(rm_message_add_bcc(msg, "dave@example.org",
		                                    NULL, NULL), RM_OK);
	assert_int_equal(rm_message_add_reply_to(msg, "help@example.com",
	                                         NULL, NULL), RM_OK);
	assert_int_equal(rm_message_set_subject(msg, "Gr\xc3\xbc\xc3\x9f"
	                                        "e \xe2\x80\x93 report", NULL),
	                 RM_OK);
	assert_int_equal(rm_message_set_text(msg, "Hello\n", (size_t)-1,
	                                     NULL), RM_OK);
	assert_int_equal(rm_message_set_html(msg, "<p>Hello <img src=\"cid:"
	                                     "logo\"></p>", (size_t)-1, NULL),
	                 RM_OK);
	attach_logo(msg);
	attach_pdf(msg);
	assert_int_equal(rm_message_add_header(msg, "X-Note", note, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_add_tag(msg, "reports", NULL), RM_OK);
	assert_int_equal(rm_message_set_metadata(msg, "job", "42", NULL),
	                 RM_OK);
	return msg;
}

/* ---------------------------------------------------------------------- */
/* Running cases                                                          */
/* ---------------------------------------------------------------------- */

static void check_case(const fake *f, rm_transport *t, const http_case *c)
{
	rm_message *msg = standard_message(!f->no_bcc);
	rm_result *r;
	rm_error err;
	int rc;

	fake_mode(f, c->mode);
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	rc = rm_send(t, msg, r, &err);
	if (rc != c->rc || rm_result_outcome(r) != c->outcome ||
	    rm_result_http_status(r) != c->http_status ||
	    rm_result_retry_after_ms(r) != c->retry_ms ||
	    strstr(rm_result_text(r), c->text) == NULL ||
	    (rc != RM_OK && (err.outcome != c->outcome ||
	                     err.http_status != c->http_status)))
		fail_msg("%s %s: got rc %d (%s), outcome %s, HTTP %d, retry "
		         "%lld ms, text '%s'; wanted rc %d, outcome %s, "
		         "HTTP %d, retry %lld, text with '%s'", f->provider,
		         c->name, rc,
		         rc ? err.message : "", rm_outcome_name(
		         rm_result_outcome(r)), rm_result_http_status(r),
		         rm_result_retry_after_ms(r), rm_result_text(r), c->rc,
		         rm_outcome_name(c->outcome), c->http_status,
		         c->retry_ms, c->text);
	rm_result_free(r);
	rm_message_free(msg);
}

static void run_cases(const fake *f, const http_case *cases, size_t n)
{
	rm_transport *t = open_fake(f, NULL);
	size_t i;

	for (i = 0; i < n; i++)
		check_case(f, t, &cases[i]);
	rm_transport_close(t);
	fake_mode(f, NULL);
}

/* The answers every provider can give, with its own error body. */
static void run_common_cases(const fake *f, const char *body)
{
	char m[6][512];
	http_case cases[9];
	size_t n = 0;

	snprintf(m[0], sizeof(m[0]), "{\"status\":429,\"headers\":"
	         "{\"Retry-After\":\"3\"},\"body\":%s}", body);
	snprintf(m[1], sizeof(m[1]), "{\"status\":429,\"headers\":{\"Date\":"
	         "\"Tue, 02 Jan 2024 03:04:05 GMT\",\"Retry-After\":\"Tue, "
	         "02 Jan 2024 03:04:10 GMT\"},\"body\":%s}", body);
	snprintf(m[2], sizeof(m[2]), "{\"status\":429,\"headers\":{\"Date\":"
	         "\"Tue, 02 Jan 2024 03:04:05 GMT\",\"X-RateLimit-Reset\":"
	         "\"1704164650\"},\"body\":%s}", body);
	snprintf(m[3], sizeof(m[3]), "{\"status\":503,\"headers\":"
	         "{\"Retry-After\":\"2\"},\"body\":%s}", body);
	snprintf(m[4], sizeof(m[4]), "{\"status\":500}");
	cases[n++] = (http_case){ "429 Retry-After seconds", m[0],
		RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 429, "", 3000 };
	cases[n++] = (http_case){ "429 Retry-After date", m[1],
		RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 429, "", 5000 };
	cases[n++] = (http_case){ "429 X-RateLimit-Reset", m[2],
		RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 429, "", 5000 };
	cases[n++] = (http_case){ "503 Retry-After", m[3], RM_ETEMPFAIL,
		RM_OUTCOME_TRANSIENT, 503, "", 2000 };
	cases[n++] = (http_case){ "500 (may have been queued)", m[4],
		RM_EHTTP, RM_OUTCOME_AMBIGUOUS, 500, "", 0 };
	cases[n++] = (http_case){ "stalled answer",
		"{\"action\":\"stall\",\"seconds\":4}", RM_ETIMEDOUT,
		RM_OUTCOME_AMBIGUOUS, 0, "may have been delivered", 0 };
	cases[n++] = (http_case){ "dropped connection",
		"{\"action\":\"drop\"}", RM_ECLOSED, RM_OUTCOME_AMBIGUOUS, 0,
		"may have been delivered", 0 };
	cases[n++] = (http_case){ "success after failures", NULL, RM_OK,
		RM_OUTCOME_DELIVERED, f->provider[0] == 's' &&
		f->provider[1] == 'e' && f->provider[2] == 'n' ? 202 : 200,
		"accepted", 0 };
	run_cases(f, cases, n);
}

/* Nothing listens: nothing was sent, so it is safe to retry. */
static void check_refused(const fake *f)
{
	rm_transport *t = open_closed(f);
	rm_message *msg = standard_message(!f->no_bcc);
	rm_result *r;
	rm_error err;

	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	assert_int_equal(rm_send(t, msg, r, &err), RM_ECONNECT);
	assert_int_equal(err.outcome, RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_TRANSIENT);
	assert_int_equal(rm_result_http_status(r), 0);
	rm_result_free(r);
	rm_message_free(msg);
	rm_transport_close(t);
}

/* Sends the standard message; returns the fake's record of it. */
static cJSON *send_ok(const fake *f, const char *extra, const char *id)
{
	rm_transport *t = open_fake(f, extra);
	rm_message *msg = standard_message(!f->no_bcc);
	rm_result *r;
	rm_error err;

	fake_mode(f, NULL);
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	if (rm_send(t, msg, r, &err) != RM_OK)
		fail_msg("%s: %s", f->provider, err.message);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_DELIVERED);
	assert_non_null(strstr(rm_result_queue_id(r), id));
	assert_int_equal(rm_result_recipient_count(r), f->no_bcc ? 2 : 3);
	assert_int_equal(rm_result_rejected_count(r), 0);
	rm_result_free(r);
	rm_message_free(msg);
	rm_transport_close(t);
	return fake_last(f);
}

/* Sends msg to a port where nothing listens: a limit must stop it
 * before any connection is tried. */
static void check_refused_early(const fake *f, rm_message *msg, int code,
                                const char *field)
{
	rm_transport *t = open_closed(f);
	rm_result *r;
	rm_error err;

	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	if (rm_send(t, msg, r, &err) != code)
		fail_msg("%s: wanted %d, got %d: %s", f->provider, code,
		         err.code, err.message);
	assert_int_equal(err.outcome, RM_OUTCOME_PERM_PROVIDER);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_PERM_PROVIDER);
	if (field != NULL)
		assert_string_equal(err.field, field);
	rm_result_free(r);
	rm_transport_close(t);
}

static void add_many(rm_message *msg, size_t n)
{
	char addr[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "r%zu@example.org", i);
		assert_int_equal(rm_message_add_to(msg, addr, NULL, NULL),
		                 RM_OK);
	}
}

static void check_too_many(const fake *f, size_t n)
{
	rm_message *msg = standard_message(0);

	add_many(msg, n);
	check_refused_early(f, msg, RM_ELIMIT, "to");
	rm_message_free(msg);
}

/* What the log callback saw: secrets must never be among it. */
typedef struct log_seen {
	const char *secret;
	int leaked;
	int redacted;
	int lines;
} log_seen;

static void on_log(rm_log_level level, const char *line, void *user)
{
	log_seen *seen = user;

	(void)level;
	seen->lines++;
	seen->leaked += strstr(line, seen->secret) != NULL;
	seen->redacted += strstr(line, "<redacted>") != NULL;
}

/* Sends with the transcript logged; the key shows nowhere in it. */
static void check_log_redacted(const fake *f, const char *secret)
{
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	log_seen seen = { secret, 0, 0, 0 };
	rm_transport *t = NULL;
	rm_message *msg = standard_message(!f->no_bcc);
	char url[1024];

	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=http://127.0.0.1:%d"
	         "&session_token=tok-secret", f->provider, f->url_user,
	         f->host, f->port);
	if (strcmp(f->provider, "ses") != 0)
		*strstr(url, "&session_token") = '\0';
	o.log = on_log;
	o.log_user = &seen;
	o.log_level = RM_LOG_DEBUG;
	assert_int_equal(rm_transport_open(&t, url, &o, NULL), RM_OK);
	fake_mode(f, NULL);
	assert_int_equal(rm_send(t, msg, NULL, NULL), RM_OK);
	assert_true(seen.lines > 5);
	assert_int_equal(seen.leaked, 0);
	assert_true(seen.redacted > 0);
	rm_message_free(msg);
	rm_transport_close(t);
}

static void http__log_never_shows_the_key(void **state)
{
	const fake *f = *state;

	check_log_redacted(f, strcmp(f->provider, "ses") == 0 ? "tok-secret"
	                   : f->key);
}

static const cJSON *path(const cJSON *j, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);

	return b != NULL ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static const char *str(const cJSON *j)
{
	return cJSON_IsString(j) ? j->valuestring : "";
}

/* ---------------------------------------------------------------------- */
/* Preflight checks                                                       */
/* ---------------------------------------------------------------------- */

/* What one check should turn into. */
typedef struct check_want {
	const char *name;
	const char *mode;       /* DIR/mode, as for sends */
	int rc;
	rm_outcome outcome;
	int http_status;
	const char *text;       /* in the greeting (success) or message */
} check_want;

/* The URL's user part with credentials the fake does not accept. */
static const char *bad_user(const fake *f)
{
	if (strcmp(f->provider, "ses") == 0)
		return "AKIDEXAMPLE:not-the-secret";
	return "not-the-key";
}

static rm_transport *open_check(const fake *f, const char *user)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=http://127.0.0.1:%d"
	         "&timeout=2", f->provider, user, f->host, f->port);
	return open_url(url);
}

static void run_check(const fake *f, rm_transport *t, const check_want *w)
{
	rm_check_info info;
	rm_error err;
	int rc;

	fake_mode(f, w->mode);
	rc = rm_transport_check(t, &info, &err);
	if (rc != w->rc || (rc == RM_OK &&
	    strstr(info.greeting, w->text) == NULL) || (rc != RM_OK &&
	    (err.outcome != w->outcome || err.http_status != w->http_status ||
	     strstr(err.message, w->text) == NULL)))
		fail_msg("%s check %s: got rc %d, outcome %s, HTTP %d, '%s'; "
		         "wanted rc %d, outcome %s, HTTP %d, text with '%s'",
		         f->provider, w->name, rc, rm_outcome_name(
		         rc ? err.outcome : RM_OUTCOME_NONE), rc ?
		         err.http_status : 0, rc ? err.message : info.greeting,
		         w->rc, rm_outcome_name(w->outcome), w->http_status,
		         w->text);
	if (rc == RM_OK) {
		assert_string_equal(info.tls, "none");
		assert_string_equal(info.extensions, "");
		assert_true(info.auth_mechanism[0] != '\0');
		assert_int_equal(info.max_size, 0);
	}
}

/* The fake's latest record is a check it found nothing wrong with. */
static void assert_clean_check(const fake *f)
{
	cJSON *rec = fake_last(f);
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(rec, "errors");

	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(rec, "kind")),
	                    "check");
	if (cJSON_GetArraySize(errors) != 0)
		fail_msg("%s: the fake found: %s", f->provider,
		         str(cJSON_GetArrayItem(errors, 0)));
	assert_null(cJSON_GetObjectItemCaseSensitive(rec,
	                                             "signature_mismatch"));
	cJSON_Delete(rec);
}

/* The answers every provider's check can get, as for a send but never
 * ambiguous: a read-only request cannot have sent mail. */
static void http__check(void **state)
{
	const fake *f = *state;
	const check_want cases[] = {
		{ "success", NULL, RM_OK, RM_OUTCOME_NONE, 0, "accepted" },
		{ "403", "{\"status\":403,\"body\":{}}", RM_EAUTH,
		  RM_OUTCOME_PERM_PROVIDER, 403, "HTTP 403" },
		{ "429", "{\"status\":429,\"body\":{}}", RM_ETEMPFAIL,
		  RM_OUTCOME_TRANSIENT, 429, "HTTP 429" },
		{ "500", "{\"status\":500}", RM_EHTTP, RM_OUTCOME_TRANSIENT,
		  500, "HTTP 500" },
		{ "503", "{\"status\":503}", RM_ETEMPFAIL,
		  RM_OUTCOME_TRANSIENT, 503, "HTTP 503" },
		{ "dropped connection", "{\"action\":\"drop\"}", RM_ECLOSED,
		  RM_OUTCOME_TRANSIENT, 0, "cannot" },
		{ "success after failures", NULL, RM_OK, RM_OUTCOME_NONE, 0,
		  "accepted" },
	};
	const check_want wrong_key = { "wrong key", NULL, RM_EAUTH,
		RM_OUTCOME_PERM_PROVIDER, strcmp(f->provider, "ses") ? 401
		: 403, "HTTP 40" };
	const check_want closed = { "closed port", NULL, RM_ECONNECT,
		RM_OUTCOME_TRANSIENT, 0, "cannot" };
	rm_transport *t = open_check(f, f->url_user);
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(cases); i++)
		run_check(f, t, &cases[i]);
	assert_clean_check(f);
	rm_transport_close(t);
	t = open_check(f, bad_user(f));
	run_check(f, t, &wrong_key);
	rm_transport_close(t);
	t = open_closed(f);
	run_check(f, t, &closed);
	rm_transport_close(t);
	fake_mode(f, NULL);
}

/*
 * Answers a check cannot read as the provider's: a success status with
 * no body, a body that is not a JSON object (a proxy's page, a wrong
 * endpoint), or a 2xx other than the 200 every provider documents. None
 * says anything about the key, so none passes; none is a refusal either.
 */
static void http__check_unreadable_answers(void **state)
{
	const fake *f = *state;
	const check_want cases[] = {
		{ "empty 200", "{\"status\":200}", RM_EPROTOCOL,
		  RM_OUTCOME_TRANSIENT, 200, "HTTP 200" },
		{ "string 200", "{\"status\":200,\"body\":\"<html>ok\"}",
		  RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, 200, "HTTP 200" },
		{ "array 200", "{\"status\":200,\"body\":[1,2]}",
		  RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, 200, "HTTP 200" },
		{ "204", "{\"status\":204}", RM_EPROTOCOL,
		  RM_OUTCOME_TRANSIENT, 204, "HTTP 204" },
		{ "202 with an object", "{\"status\":202,\"body\":{}}",
		  RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, 202, "HTTP 202" },
		{ "redirect", "{\"status\":302,\"headers\":{\"Location\":"
		  "\"http://127.0.0.2:1/\"},\"body\":{}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_PROVIDER, 302, "HTTP 302" },
	};
	rm_transport *t = open_check(f, f->url_user);
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(cases); i++)
		run_check(f, t, &cases[i]);
	rm_transport_close(t);
	fake_mode(f, NULL);
}

/* A check with the transcript logged: the key shows nowhere in it. */
static void http__check_log_never_shows_the_key(void **state)
{
	const fake *f = *state;
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	log_seen seen = { f->key, 0, 0, 0 };
	rm_transport *t = NULL;
	char url[1024];

	if (strcmp(f->provider, "ses") == 0)
		seen.secret = "wJalrXUtnFEMI";
	snprintf(url, sizeof(url), "%s://%s@%s?endpoint=http://127.0.0.1:%d",
	         f->provider, f->url_user, f->host, f->port);
	o.log = on_log;
	o.log_user = &seen;
	o.log_level = RM_LOG_DEBUG;
	assert_int_equal(rm_transport_open(&t, url, &o, NULL), RM_OK);
	fake_mode(f, NULL);
	assert_int_equal(rm_transport_check(t, NULL, NULL), RM_OK);
	assert_true(seen.lines > 3);
	assert_int_equal(seen.leaked, 0);
	if (strcmp(f->provider, "ses") != 0)
		assert_true(seen.redacted > 0);
	rm_transport_close(t);
}

/* What a provider's good answer can still say against sending. */
static void check_refusal(const fake *f, const char *mode, int rc,
                          const char *text)
{
	const check_want w = { "refusal", mode, rc, RM_OUTCOME_PERM_PROVIDER,
	                       200, text };
	rm_transport *t = open_check(f, f->url_user);

	run_check(f, t, &w);
	rm_transport_close(t);
	fake_mode(f, NULL);
}

static void sendgrid__check_needs_mail_send(void **state)
{
	check_refusal(*state, "{\"status\":200,\"body\":{\"scopes\":"
	              "[\"user.profile.read\"]}}", RM_EAUTH, "lack mail.send");
}

/* Scopes that are not an array of strings do not hold mail.send. */
static void sendgrid__check_scopes_must_be_an_array(void **state)
{
	check_refusal(*state, "{\"status\":200,\"body\":{\"scopes\":"
	              "{\"a\":\"mail.send\"}}}", RM_EAUTH, "lack mail.send");
	check_refusal(*state, "{\"status\":200,\"body\":{\"scopes\":"
	              "\"mail.send\"}}", RM_EAUTH, "lack mail.send");
}

static void mailgun__check_disabled_domain(void **state)
{
	const check_want gone = { "404", "{\"status\":404,\"body\":"
		"{\"message\":\"Domain not found\"}}", RM_ETEMPFAIL,
		RM_OUTCOME_TRANSIENT, 404, "Domain not found" };
	rm_transport *t;

	check_refusal(*state, "{\"status\":200,\"body\":{\"domain\":"
	              "{\"name\":\"mg.example.com\",\"state\":"
	              "\"disabled\"}}}", RM_EREJECTED, "disabled");
	t = open_check(*state, ((const fake *)*state)->url_user);
	run_check(*state, t, &gone);
	rm_transport_close(t);
	fake_mode(*state, NULL);
}

/* The server's name is the provider's text: escaped in the greeting. */
static void postmark__check_name_escaped(void **state)
{
	const check_want w = { "name with control bytes",
		"{\"status\":200,\"body\":{\"Name\":\"a\\u001b[2J\\nb\"}}",
		RM_OK, RM_OUTCOME_NONE, 0, "server a\\x1b[2J\\nb" };
	rm_transport *t = open_check(*state, ((const fake *)*state)->url_user);

	run_check(*state, t, &w);
	rm_transport_close(t);
	fake_mode(*state, NULL);
}

static void ses__check_sending_disabled(void **state)
{
	check_refusal(*state, "{\"status\":200,\"body\":{"
	              "\"SendingEnabled\":false}}", RM_EREJECTED,
	              "sending is not enabled");
}

/* ---------------------------------------------------------------------- */
/* SendGrid                                                               */
/* ---------------------------------------------------------------------- */

#define SG_ERR "{\"errors\":[{\"message\":\"too many requests\"," \
	"\"field\":null}]}"

static void sendgrid__sends_the_message(void **state)
{
	const fake *f = *state;
	cJSON *rec = send_ok(f, NULL, "fake-sg-");
	const cJSON *j = path(rec, "json", NULL), *att, *content;

	content = cJSON_GetObjectItemCaseSensitive(j, "content");
	assert_string_equal(str(path(cJSON_GetArrayItem(content, 0), "type",
	                             NULL)), "text/plain");
	assert_string_equal(str(path(cJSON_GetArrayItem(content, 1), "type",
	                             NULL)), "text/html");
	att = cJSON_GetObjectItemCaseSensitive(j, "attachments");
	assert_string_equal(str(path(cJSON_GetArrayItem(att, 0),
	                             "disposition", NULL)), "inline");
	assert_string_equal(str(path(cJSON_GetArrayItem(att, 0),
	                             "content_id", NULL)), "logo");
	assert_string_equal(str(path(cJSON_GetArrayItem(att, 1), "content",
	                             NULL)),
	                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIS"
	                    "IjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==");
	assert_string_equal(str(path(j, "from", "name")), "Ann Example");
	assert_string_equal(str(path(j, "reply_to", "email")),
	                    "help@example.com");
	assert_string_equal(str(cJSON_GetArrayItem(path(j, "categories",
	                                                NULL), 0)), "reports");
	assert_string_equal(str(path(j, "custom_args", "job")), "42");
	assert_true(strncmp(str(path(j, "headers", "X-Note")), "=?UTF-8?",
	                    8) == 0);
	cJSON_Delete(rec);
}

static void sendgrid__errors(void **state)
{
	const fake *f = *state;
	static const http_case cases[] = {
		{ "400", "{\"status\":400,\"body\":{\"errors\":[{\"message\":"
		  "\"The from email does not contain a valid address.\","
		  "\"field\":\"from.email\",\"help\":null}]}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_PROVIDER, 400, "The from email does not "
		  "contain a valid address. (from.email)", 0 },
		{ "401", "{\"status\":401,\"body\":{\"errors\":[{\"message\":"
		  "\"The provided authorization grant is invalid, expired, or "
		  "revoked\",\"field\":null}]}}", RM_EAUTH,
		  RM_OUTCOME_PERM_PROVIDER, 401, "authorization grant is "
		  "invalid", 0 },
		{ "403", "{\"status\":403,\"body\":{\"errors\":[{\"message\":"
		  "\"The from address does not match a verified Sender "
		  "Identity.\",\"field\":\"from\"}]}}", RM_EAUTH,
		  RM_OUTCOME_PERM_PROVIDER, 403, "verified Sender Identity",
		  0 },
		{ "413", "{\"status\":413,\"body\":{\"errors\":[{\"message\":"
		  "\"content too large\",\"field\":null}]}}", RM_ETOOBIG,
		  RM_OUTCOME_PERM_PROVIDER, 413, "content too large", 0 },
	};

	run_cases(f, cases, RM__ARRAY_LEN(cases));
	run_common_cases(f, SG_ERR);
	check_refused(f);
}

static void sendgrid__limits(void **state)
{
	const fake *f = *state;
	rm_message *msg;
	char tag[8];
	int i;

	check_too_many(f, 1000);
	msg = standard_message(1);
	assert_int_equal(rm_message_add_header(msg, "DKIM-Signature", "v=1",
	                                       NULL), RM_EINVAL);
	assert_int_equal(rm_message_add_header(msg, "X-SG-ID", "1", NULL),
	                 RM_OK);
	check_refused_early(f, msg, RM_EINVAL, "X-SG-ID");
	rm_message_free(msg);
	msg = standard_message(1);
	for (i = 0; i < 10; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		assert_int_equal(rm_message_add_tag(msg, tag, NULL), RM_OK);
	}
	check_refused_early(f, msg, RM_ELIMIT, "tag");
	rm_message_free(msg);
}

/* An address given twice goes once; several reply-tos go as a list. */
static void sendgrid__dedupe_and_reply_to_list(void **state)
{
	const fake *f = *state;
	rm_transport *t = open_fake(f, NULL);
	rm_message *msg = standard_message(1);
	rm_error err;
	cJSON *rec;
	const cJSON *j, *pers;

	assert_int_equal(rm_message_add_bcc(msg, "BOB@example.org", NULL,
	                                    NULL), RM_OK);
	assert_int_equal(rm_message_add_reply_to(msg, "Desk <desk@example."
	                                         "com>", NULL, NULL), RM_OK);
	fake_mode(f, NULL);
	if (rm_send(t, msg, NULL, &err) != RM_OK)
		fail_msg("%s", err.message);
	rec = fake_last(f);
	j = path(rec, "json", NULL);
	pers = cJSON_GetArrayItem(path(j, "personalizations", NULL), 0);
	assert_int_equal(cJSON_GetArraySize(path(pers, "bcc", NULL)), 1);
	assert_null(path(j, "reply_to", NULL));
	assert_int_equal(cJSON_GetArraySize(path(j, "reply_to_list", NULL)),
	                 2);
	cJSON_Delete(rec);
	rm_message_free(msg);
	rm_transport_close(t);
}

/* A raw message has no fields to map: refused before sending. */
static void sendgrid__raw_message_refused(void **state)
{
	static const char raw[] = "From: a@example.com\r\nTo: b@example.org"
	                          "\r\nSubject: raw\r\n\r\nbody\r\n";
	rm_message *msg;

	assert_int_equal(rm_message_new_raw(&msg, raw, sizeof(raw) - 1,
	                                    NULL), RM_OK);
	check_refused_early(*state, msg, RM_EUNSUPPORTED, "msg");
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Mailgun                                                                */
/* ---------------------------------------------------------------------- */

static int has_field(const cJSON *fields, const char *name,
                     const char *value)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, fields) {
		if (strcmp(str(cJSON_GetArrayItem(f, 0)), name) == 0 &&
		    strcmp(str(cJSON_GetArrayItem(f, 2)), value) == 0)
			return 1;
	}
	return 0;
}

static void mailgun__sends_the_message(void **state)
{
	const fake *f = *state;
	cJSON *rec = send_ok(f, NULL, "fake-mg-");
	const cJSON *fields = path(rec, "fields", NULL);

	assert_true(has_field(fields, "to", "bob@example.org"));
	assert_true(has_field(fields, "to", "carol@example.org"));
	assert_true(has_field(fields, "to", "dave@example.org"));
	assert_true(has_field(fields, "o:tag", "reports"));
	assert_true(has_field(fields, "v:job", "42"));
	cJSON_Delete(rec);
}

static void mailgun__errors(void **state)
{
	const fake *f = *state;
	static const http_case cases[] = {
		{ "400", "{\"status\":400,\"body\":{\"message\":\"'to' "
		  "parameter is not a valid address. please check "
		  "documentation\"}}", RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER,
		  400, "'to' parameter is not a valid address", 0 },
		{ "401", "{\"status\":401,\"body\":\"Forbidden\"}", RM_EAUTH,
		  RM_OUTCOME_PERM_PROVIDER, 401, "Forbidden", 0 },
		{ "404 (eventually consistent)", "{\"status\":404,\"body\":"
		  "{\"message\":\"Domain not found: mg.example.com\"}}",
		  RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 404,
		  "Domain not found", 0 },
		{ "413", "{\"status\":413,\"body\":{\"message\":\"Request "
		  "Entity Too Large\"}}", RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		  413, "Too Large", 0 },
	};

	run_cases(f, cases, RM__ARRAY_LEN(cases));
	run_common_cases(f, "{\"message\":\"rate limited\"}");
	check_refused(f);
}

static void mailgun__limits(void **state)
{
	const fake *f = *state;
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;
	size_t big = (size_t)26 * 1024 * 1024;
	char *data = calloc(1, big);
	rm_message *msg;

	check_too_many(f, 1000);
	msg = standard_message(1);
	o.filename = "big.bin";
	assert_non_null(data);
	assert_int_equal(rm_message_attach_data(msg, data, big, &o, NULL),
	                 RM_OK);
	free(data);
	check_refused_early(f, msg, RM_ETOOBIG, "message");
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* SES                                                                    */
/* ---------------------------------------------------------------------- */

static void ses__sends_the_message(void **state)
{
	const fake *f = *state;
	cJSON *rec = send_ok(f, "&configuration_set=cs1&email_tags=app:web",
	                     "fake-ses-");
	const cJSON *j = path(rec, "json", NULL), *tags;

	assert_string_equal(str(path(j, "ConfigurationSetName", NULL)), "cs1");
	assert_string_equal(str(cJSON_GetArrayItem(path(j, "Destination",
	                        "BccAddresses"), 0)), "dave@example.org");
	tags = path(j, "EmailTags", NULL);
	assert_int_equal(cJSON_GetArraySize(tags), 2);
	assert_string_equal(str(path(cJSON_GetArrayItem(tags, 1), "Name",
	                             NULL)), "job");
	cJSON_Delete(rec);

	/* Temporary credentials: the token is sent and signed. */
	rec = send_ok(f, "&session_token=FQoGZXIvYXdzEXAMPLE%2Btoken",
	              "fake-ses-");
	assert_string_equal(str(path(rec, "headers", "X-Amz-Security-Token")),
	                    "FQoGZXIvYXdzEXAMPLE+token");
	cJSON_Delete(rec);
}

/* A route retrying part of the recipients masks the others out: the
 * Destination must hold only the masked-in ones, or they get it twice. */
static void ses__destination_follows_the_rcpt_mask(void **state)
{
	const fake *f = *state;
	static const unsigned char mask[] = { 0, 1, 0 };
	rm_transport *t = open_fake(f, NULL);
	rm_message *msg = standard_message(1);
	rm_error err;
	cJSON *rec;
	const cJSON *d;

	fake_mode(f, NULL);
	rm__message_set_rcpt_mask(msg, mask, sizeof(mask));
	if (rm_send(t, msg, NULL, &err) != RM_OK)
		fail_msg("ses: %s", err.message);
	rm__message_set_rcpt_mask(msg, NULL, 0);
	rec = fake_last(f);
	d = path(path(rec, "json", NULL), "Destination", NULL);
	assert_null(cJSON_GetObjectItem(d, "ToAddresses"));
	assert_null(cJSON_GetObjectItem(d, "BccAddresses"));
	assert_int_equal(cJSON_GetArraySize(path(d, "CcAddresses", NULL)), 1);
	assert_string_equal(str(cJSON_GetArrayItem(path(d, "CcAddresses",
	                        NULL), 0)), "carol@example.org");
	cJSON_Delete(rec);
	rm_message_free(msg);
	rm_transport_close(t);
}

static void ses__bad_signature_is_refused(void **state)
{
	const fake *f = *state;
	rm_transport *t;
	rm_message *msg = standard_message(1);
	rm_result *r;
	rm_error err;
	char url[512];

	snprintf(url, sizeof(url), "ses://AKIDEXAMPLE:wrong-secret@eu-west-1"
	         "?endpoint=http://127.0.0.1:%d", f->port);
	t = open_url(url);
	fake_mode(f, NULL);
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	assert_int_equal(rm_send(t, msg, r, &err), RM_EAUTH);
	assert_int_equal(rm_result_outcome(r), RM_OUTCOME_PERM_PROVIDER);
	assert_int_equal(rm_result_http_status(r), 403);
	assert_non_null(strstr(rm_result_text(r), "InvalidSignatureException: "
	                       "The request signature we calculated"));
	rm_result_free(r);
	rm_message_free(msg);
	rm_transport_close(t);
}

static void ses__errors(void **state)
{
	const fake *f = *state;
	static const http_case cases[] = {
		{ "MessageRejected", "{\"status\":400,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"MessageRejected:http://internal."
		  "amazon.com/coral/com.amazonaws.sesv2/\"},\"body\":{"
		  "\"message\":\"Email address is not verified. The following "
		  "identities failed the check in region EU-WEST-1: "
		  "ann@example.com\"}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_PROVIDER, 400, "MessageRejected: Email "
		  "address is not verified", 0 },
		{ "ThrottlingException in the body", "{\"status\":400,"
		  "\"body\":{\"__type\":\"com.amazonaws.sesv2#Throttling"
		  "Exception\",\"message\":\"Rate exceeded\"}}", RM_ETEMPFAIL,
		  RM_OUTCOME_TRANSIENT, 400, "ThrottlingException: Rate "
		  "exceeded", 0 },
		{ "TooManyRequestsException", "{\"status\":429,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"TooManyRequestsException:\"},"
		  "\"body\":{\"message\":\"Maximum sending rate exceeded.\"}}",
		  RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 429,
		  "Maximum sending rate exceeded.", 0 },
		{ "LimitExceededException", "{\"status\":400,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"LimitExceededException:\"},\"body\":"
		  "{\"message\":\"Daily message quota exceeded.\"}}",
		  RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, 400, "Daily message "
		  "quota exceeded.", 0 },
		{ "AccountSuspendedException", "{\"status\":400,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"AccountSuspendedException:\"},"
		  "\"body\":{\"message\":\"Sending is suspended\"}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 400,
		  "AccountSuspendedException", 0 },
		{ "SendingPausedException", "{\"status\":400,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"SendingPausedException:\"},"
		  "\"body\":{\"message\":\"Sending is paused\"}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 400,
		  "SendingPausedException", 0 },
		{ "MailFromDomainNotVerifiedException", "{\"status\":400,"
		  "\"headers\":{\"x-amzn-ErrorType\":\"MailFromDomainNot"
		  "VerifiedException:\"},\"body\":{\"message\":\"not "
		  "verified\"}}", RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 400,
		  "MailFromDomainNotVerifiedException", 0 },
		{ "NotFoundException", "{\"status\":404,\"headers\":{"
		  "\"x-amzn-ErrorType\":\"NotFoundException:\"},\"body\":{"
		  "\"message\":\"Configuration set <cs1> does not exist.\"}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 404,
		  "NotFoundException: Configuration set <cs1>", 0 },
	};

	run_cases(f, cases, RM__ARRAY_LEN(cases));
	run_common_cases(f, "{\"message\":\"Service unavailable\"}");
	check_refused(f);
}

static void ses__limits(void **state)
{
	const fake *f = *state;
	rm_message *msg;

	check_too_many(f, 50);
	msg = standard_message(1);
	assert_int_equal(rm_message_set_metadata(msg, "a.b", "1", NULL),
	                 RM_OK);
	check_refused_early(f, msg, RM_EINVAL, "metadata");
	rm_message_free(msg);

	/* FromEmailAddress has no empty form for MAIL FROM:<>. */
	msg = standard_message(1);
	assert_int_equal(rm_message_set_envelope_from(msg, "<>", NULL),
	                 RM_OK);
	check_refused_early(f, msg, RM_EUNSUPPORTED, "envelope_from");
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Postmark                                                               */
/* ---------------------------------------------------------------------- */

static void postmark__sends_the_message(void **state)
{
	const fake *f = *state;
	cJSON *rec = send_ok(f, "&message_stream=outbound", "fake-pm-");
	const cJSON *j = path(rec, "json", NULL), *h, *a;
	int saw_note = 0;

	assert_string_equal(str(path(j, "From", NULL)),
	                    "Ann Example <ann@example.com>");
	assert_string_equal(str(path(j, "Cc", NULL)),
	                    "Carol <carol@example.org>");
	assert_string_equal(str(path(j, "Tag", NULL)), "reports");
	assert_string_equal(str(path(j, "Metadata", "job")), "42");
	assert_string_equal(str(path(j, "MessageStream", NULL)), "outbound");
	cJSON_ArrayForEach(h, path(j, "Headers", NULL)) {
		if (strcmp(str(path(h, "Name", NULL)), "X-Note") == 0)
			saw_note = strncmp(str(path(h, "Value", NULL)),
			                   "=?UTF-8?", 8) == 0;
	}
	assert_true(saw_note);
	a = cJSON_GetArrayItem(path(j, "Attachments", NULL), 0);
	assert_string_equal(str(path(a, "ContentID", NULL)), "cid:logo");
	cJSON_Delete(rec);
}

static void postmark__errors(void **state)
{
	const fake *f = *state;
	static const http_case cases[] = {
		{ "ErrorCode 10", "{\"status\":401,\"body\":{\"ErrorCode\":10,"
		  "\"Message\":\"The Server Token you provided in the "
		  "X-Postmark-Server-Token request header was invalid.\"}}",
		  RM_EAUTH, RM_OUTCOME_PERM_PROVIDER, 401, "ErrorCode 10: The "
		  "Server Token you provided", 0 },
		{ "ErrorCode 300", "{\"status\":422,\"body\":{\"ErrorCode\":"
		  "300,\"Message\":\"Invalid 'To' address: 'x'.\"}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 422, "Invalid 'To' "
		  "address", 0 },
		{ "ErrorCode 400", "{\"status\":422,\"body\":{\"ErrorCode\":"
		  "400,\"Message\":\"The 'From' address you supplied is not a "
		  "Sender Signature on your account.\"}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_PROVIDER, 422, "not a Sender Signature", 0 },
		{ "ErrorCode 406", "{\"status\":422,\"body\":{\"ErrorCode\":"
		  "406,\"Message\":\"You tried to send to recipient(s) that "
		  "have been marked as inactive.\"}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_RECIPIENT, 422, "marked as inactive", 0 },
		{ "ErrorCode 412", "{\"status\":422,\"body\":{\"ErrorCode\":"
		  "412,\"Message\":\"Your account is pending approval.\"}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 422, "pending", 0 },
		{ "ErrorCode 100", "{\"status\":503,\"body\":{\"ErrorCode\":"
		  "100,\"Message\":\"Maintenance\"}}", RM_ETEMPFAIL,
		  RM_OUTCOME_TRANSIENT, 503, "ErrorCode 100: Maintenance", 0 },
		{ "ErrorCode 429", "{\"status\":429,\"body\":{\"ErrorCode\":"
		  "429,\"Message\":\"Rate limit exceeded\"}}", RM_ETEMPFAIL,
		  RM_OUTCOME_TRANSIENT, 429, "Rate limit exceeded", 0 },
		{ "413", "{\"status\":413,\"body\":{\"ErrorCode\":300,"
		  "\"Message\":\"Request too large\"}}", RM_ETOOBIG,
		  RM_OUTCOME_PERM_PROVIDER, 413, "Request too large", 0 },
	};

	run_cases(f, cases, RM__ARRAY_LEN(cases));
	run_common_cases(f, "{\"ErrorCode\":429,\"Message\":\"slow down\"}");
	check_refused(f);
}

static void postmark__inactive_recipient_is_per_recipient(void **state)
{
	const fake *f = *state;
	rm_transport *t = open_fake(f, NULL);
	rm_message *msg = standard_message(1);
	rm_result *r;

	fake_mode(f, "{\"status\":422,\"body\":{\"ErrorCode\":406,"
	          "\"Message\":\"inactive\"}}");
	assert_int_equal(rm_result_new(&r, NULL), RM_OK);
	assert_int_equal(rm_send(t, msg, r, NULL), RM_EREJECTED);
	assert_int_equal(rm_result_rejected_count(r), 3);
	fake_mode(f, NULL);
	rm_result_free(r);
	rm_message_free(msg);
	rm_transport_close(t);
}

static void postmark__limits(void **state)
{
	const fake *f = *state;
	rm_message *msg;

	check_too_many(f, 49);
	msg = standard_message(1);
	assert_int_equal(rm_message_add_tag(msg, "second", NULL), RM_OK);
	check_refused_early(f, msg, RM_ELIMIT, "tag");
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* SMTP2GO                                                                */
/* ---------------------------------------------------------------------- */

static void smtp2go__sends_the_message(void **state)
{
	cJSON *rec = send_ok(*state, NULL, "fake-s2g-");

	assert_int_equal(cJSON_GetArraySize(path(rec, "errors", NULL)), 0);
	cJSON_Delete(rec);
}

static void smtp2go__errors(void **state)
{
	const fake *f = *state;
	static const http_case cases[] = {
		{ "401", "{\"status\":401,\"body\":{\"request_id\":\"r1\","
		  "\"data\":{\"error\":\"The API key is invalid\","
		  "\"error_code\":\"E_ApiResponseCodes.API_KEY_INVALID\"}}}",
		  RM_EAUTH, RM_OUTCOME_PERM_PROVIDER, 401,
		  "API_KEY_INVALID: The API key is invalid", 0 },
		{ "400", "{\"status\":400,\"body\":{\"data\":{\"error\":"
		  "\"Missing parameter mime_email\",\"error_code\":"
		  "\"E_ApiResponseCodes.NON_VALIDATING_IN_PAYLOAD\"}}}",
		  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, 400,
		  "Missing parameter", 0 },
		{ "402", "{\"status\":402,\"body\":{\"data\":{\"error\":"
		  "\"Request failed\",\"error_code\":\"E_ApiResponseCodes."
		  "ENDPOINT_FAILED\"}}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_PROVIDER, 402, "Request failed", 0 },
		{ "403", "{\"status\":403,\"body\":{\"data\":{\"error\":"
		  "\"No permission\",\"error_code\":\"E_ApiResponseCodes."
		  "API_ACCESS_DENIED\"}}}", RM_EAUTH,
		  RM_OUTCOME_PERM_PROVIDER, 403, "No permission", 0 },
		{ "200 with data.failed", "{\"status\":200,\"body\":{\"data\":"
		  "{\"succeeded\":0,\"failed\":1,\"failures\":[\"bob@example."
		  "org: rejected\"],\"email_id\":null}}}", RM_EREJECTED,
		  RM_OUTCOME_PERM_RECIPIENT, 200, "bob@example.org: rejected",
		  0 },
	};

	run_cases(f, cases, RM__ARRAY_LEN(cases));
	run_common_cases(f, "{\"data\":{\"error\":\"busy\"}}");
	check_refused(f);
}

static void smtp2go__limits(void **state)
{
	const fake *f = *state;
	rm_message *msg = standard_message(1);

	check_refused_early(f, msg, RM_EUNSUPPORTED, "bcc");
	rm_message_free(msg);
	check_too_many(f, 100);
}

/* ---------------------------------------------------------------------- */

static fake sendgrid_fake = { "sendgrid", "SG.key", "SG.key", "default",
                              0, 0, "", 0 };
static fake mailgun_fake = { "mailgun", "key-123", "key-123",
                             "mg.example.com", 0, 0, "", 0 };
static fake ses_fake = { "ses", SES_KEY, SES_KEY_URL, "eu-west-1",
                         0, 0, "", 0 };
static fake postmark_fake = { "postmark", "pm-token", "pm-token",
                              "default", 0, 0, "", 0 };
static fake smtp2go_fake = { "smtp2go", "api-123", "api-123", "default",
                             0, 0, "", 1 };

#define T(fn, fk) cmocka_unit_test_prestate(fn, &fk)

int main(void)
{
	const struct CMUnitTest sendgrid[] = {
		T(http__check, sendgrid_fake),
		T(http__check_log_never_shows_the_key, sendgrid_fake),
		T(http__check_unreadable_answers, sendgrid_fake),
		T(sendgrid__check_scopes_must_be_an_array, sendgrid_fake),
		T(sendgrid__check_needs_mail_send, sendgrid_fake),
		T(sendgrid__sends_the_message, sendgrid_fake),
		T(http__log_never_shows_the_key, sendgrid_fake),
		T(sendgrid__errors, sendgrid_fake),
		T(sendgrid__limits, sendgrid_fake),
		T(sendgrid__dedupe_and_reply_to_list, sendgrid_fake),
		T(sendgrid__raw_message_refused, sendgrid_fake),
	};
	const struct CMUnitTest mailgun[] = {
		T(http__check, mailgun_fake),
		T(http__check_log_never_shows_the_key, mailgun_fake),
		T(http__check_unreadable_answers, mailgun_fake),
		T(mailgun__check_disabled_domain, mailgun_fake),
		T(mailgun__sends_the_message, mailgun_fake),
		T(http__log_never_shows_the_key, mailgun_fake),
		T(mailgun__errors, mailgun_fake),
		T(mailgun__limits, mailgun_fake),
	};
	const struct CMUnitTest ses[] = {
		T(http__check, ses_fake),
		T(http__check_log_never_shows_the_key, ses_fake),
		T(http__check_unreadable_answers, ses_fake),
		T(ses__check_sending_disabled, ses_fake),
		T(ses__sends_the_message, ses_fake),
		T(ses__destination_follows_the_rcpt_mask, ses_fake),
		T(http__log_never_shows_the_key, ses_fake),
		T(ses__bad_signature_is_refused, ses_fake),
		T(ses__errors, ses_fake),
		T(ses__limits, ses_fake),
	};
	const struct CMUnitTest postmark[] = {
		T(http__check, postmark_fake),
		T(http__check_log_never_shows_the_key, postmark_fake),
		T(http__check_unreadable_answers, postmark_fake),
		T(postmark__check_name_escaped, postmark_fake),
		T(postmark__sends_the_message, postmark_fake),
		T(http__log_never_shows_the_key, postmark_fake),
		T(postmark__errors, postmark_fake),
		T(postmark__inactive_recipient_is_per_recipient,
		  postmark_fake),
		T(postmark__limits, postmark_fake),
	};
	const struct CMUnitTest smtp2go[] = {
		T(http__check, smtp2go_fake),
		T(http__check_log_never_shows_the_key, smtp2go_fake),
		T(http__check_unreadable_answers, smtp2go_fake),
		T(smtp2go__sends_the_message, smtp2go_fake),
		T(http__log_never_shows_the_key, smtp2go_fake),
		T(smtp2go__errors, smtp2go_fake),
		T(smtp2go__limits, smtp2go_fake),
	};
	void *st;
	int failed = 0;

	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	st = &sendgrid_fake;
	failed += fake_start(&st) ? 1 : cmocka_run_group_tests_name(
		"sendgrid", sendgrid, NULL, NULL);
	fake_stop(&st);
	st = &mailgun_fake;
	failed += fake_start(&st) ? 1 : cmocka_run_group_tests_name(
		"mailgun", mailgun, NULL, NULL);
	fake_stop(&st);
	st = &ses_fake;
	failed += fake_start(&st) ? 1 : cmocka_run_group_tests_name(
		"ses", ses, NULL, NULL);
	fake_stop(&st);
	st = &postmark_fake;
	failed += fake_start(&st) ? 1 : cmocka_run_group_tests_name(
		"postmark", postmark, NULL, NULL);
	fake_stop(&st);
	st = &smtp2go_fake;
	failed += fake_start(&st) ? 1 : cmocka_run_group_tests_name(
		"smtp2go", smtp2go, NULL, NULL);
	fake_stop(&st);
	return failed;
}
