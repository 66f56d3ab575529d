/*
 * The fault table through the composites against the fake HTTP
 * providers (tests/fakes/fake_provider.py, SendGrid and Mailgun) on
 * loopback: which tries happen, where, after which waits (the fake
 * clock records them; its sleep turns the provider's answer back to
 * "ok", standing in for the time that passed), and how many requests
 * each provider got and answered with success. Case 13 of the shared
 * case list, as the route layer sees it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "fake_provider.h"
#include "internal.h"

#define KEY "SG.test-key"
#define MG_KEY "key-test"

typedef struct provider {
	const char *name;       /* "sendgrid" or "mailgun" */
	char dir[64];
	pid_t pid;
	int port;
} provider;

static provider sg = { "sendgrid", "", 0, 0 };
static provider mg = { "mailgun", "", 0, 0 };

/* ---------------------------------------------------------------------- */
/* The fake providers                                                     */
/* ---------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int start_provider(provider *p, const char *key)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/rm-route-%s-XXXXXX", p->name);
	if (mkdtemp(p->dir) == NULL)
		return -1;
	p->port = fake_provider_start(p->name, key, p->dir, &p->pid);
	return p->port > 0 ? 0 : -1;
}

static void stop_provider(provider *p)
{
	char cmd[128];

	fake_provider_stop(p->pid);
	p->pid = 0;
	if (p->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
		if (system(cmd) != 0)
			print_message("could not remove %s\n", p->dir);
	}
}

/* Forgets the requests of earlier rows and sets the answer. */
static void reset_provider(provider *p, const char *mode)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -f '%s'/[0-9]*.json '%s'/[0-9]*.eml",
	         p->dir, p->dir);
	assert_int_equal(system(cmd), 0);
	write_file(p->dir, "mode", mode != NULL ? mode : "ok");
}

static int is_request(const char *name)
{
	size_t len = strlen(name);

	return name[0] >= '0' && name[0] <= '9' && len > 5 &&
	       strcmp(name + len - 5, ".json") == 0;
}

/* 1 if the recorded request passed the fake's strict checks. */
static int clean_request(const provider *p, const char *name)
{
	char path[160], text[65536];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	return strstr(text, "\"errors\": []") != NULL;
}

/* Requests recorded since the reset, and how many were well formed. */
static int requests(const provider *p, int *clean)
{
	DIR *d = opendir(p->dir);
	struct dirent *e;
	int n = 0;

	*clean = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (!is_request(e->d_name))
			continue;
		n++;
		*clean += clean_request(p, e->d_name);
	}
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------------- */
/* The table                                                              */
/* ---------------------------------------------------------------------- */

#define SG "sendgrid://" KEY "@default?endpoint=http://127.0.0.1:{S}" \
           "&timeout=1#sg"
#define MG "mailgun://" MG_KEY "@mg.example.com?endpoint=" \
           "http://127.0.0.1:{M}#mg"
#define R429(h) "{\"status\": 429, \"headers\": {" h "}, \"body\": " \
                "{\"errors\": [{\"message\": \"too many requests\"}]}}"

typedef struct row {
	const char *name;
	const char *url;          /* {S}, {M}: the providers; {R}: refused */
	const char *sg_mode;      /* SendGrid's answer until the first wait */
	const char *mg_mode;
	int rc;
	rm_outcome outcome;
	const char *attempts;
	int sg_requests, mg_requests;
	int taken;                /* requests answered with success */
	const char *err_part;     /* in the error message, or NULL */
} row;

static const row rows[] = {
	{ "429 Retry-After: 3: the next try 3 s later",
	  "retry(" SG ")", R429("\"Retry-After\": \"3\""), NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/transient/0 sg/delivered/3000",
	  2, 0, 1, NULL },
	{ "429 Retry-After as an HTTP-date: 5 s after the server's Date",
	  "retry(" SG ")",
	  R429("\"Retry-After\": \"Tue, 02 Jan 2024 03:04:10 GMT\", "
	       "\"Date\": \"Tue, 02 Jan 2024 03:04:05 GMT\""), NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/transient/0 sg/delivered/5000",
	  2, 0, 1, NULL },
	{ "429 with X-RateLimit-Reset: wait until that time",
	  "retry(" SG ")",
	  R429("\"X-RateLimit-Reset\": \"1704164650\", "
	       "\"Date\": \"Tue, 02 Jan 2024 03:04:05 GMT\""), NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/transient/0 sg/delivered/5000",
	  2, 0, 1, NULL },
	{ "503 Retry-After: 2: retried 2 s later",
	  "retry(" SG ")",
	  "{\"status\": 503, \"headers\": {\"Retry-After\": \"2\"}}", NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/transient/0 sg/delivered/2000",
	  2, 0, 1, NULL },
	{ "500: the POST arrived and may have been queued: not resent",
	  "failover(retry(" SG ") " MG ")", "{\"status\": 500}", NULL,
	  RM_EHTTP, RM_OUTCOME_AMBIGUOUS, "sg/ambiguous/0",
	  1, 0, 0, NULL },
	{ "502 with resend_ambiguous=yes: retried after the backoff",
	  "retry(" SG ")?resend_ambiguous=yes", "{\"status\": 502}", NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/ambiguous/0 sg/delivered/500",
	  2, 0, 1, NULL },
	{ "429 Retry-After: 120 over max_wait 60: gives up at once",
	  "failover(retry(" SG ")?max_wait=60)",
	  R429("\"Retry-After\": \"120\""), NULL,
	  RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT, "sg/transient/0",
	  1, 0, 0, "rate limited" },
	{ "429 under failover: the next provider at once",
	  "failover(" SG " " MG ")", R429("\"Retry-After\": \"3\""), NULL,
	  RM_OK, RM_OUTCOME_DELIVERED, "sg/transient/0 mg/delivered/0",
	  1, 1, 1, NULL },
	{ "400: permanent, not retried; failover to mailgun",
	  "failover(retry(" SG ") " MG ")",
	  "{\"status\": 400, \"body\": {\"errors\": [{\"message\": "
	  "\"bad request\"}]}}", NULL,
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "sg/permanent-provider/0 mg/delivered/0", 1, 1, 1, NULL },
	{ "401: permanent for the provider, never retried",
	  "retry(" SG ")",
	  "{\"status\": 401, \"body\": {\"errors\": [{\"message\": "
	  "\"bad key\"}]}}", NULL,
	  RM_EAUTH, RM_OUTCOME_PERM_PROVIDER, "sg/permanent-provider/0",
	  1, 0, 0, "bad key" },
	{ "413: too big for this provider, never retried",
	  "retry(" SG ")", "{\"status\": 413}", NULL,
	  RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER, "sg/permanent-provider/0",
	  1, 0, 0, "413" },
	{ "422: refused, never retried",
	  "retry(" SG ")",
	  "{\"status\": 422, \"body\": {\"errors\": [{\"message\": "
	  "\"invalid from\"}]}}", NULL,
	  RM_EREJECTED, RM_OUTCOME_PERM_PROVIDER, "sg/permanent-provider/0",
	  1, 0, 0, "invalid from" },
	{ "stalled response: ambiguous, not resent anywhere",
	  "failover(retry(" SG ") " MG ")",
	  "{\"action\": \"stall\", \"seconds\": 3}", NULL,
	  RM_ETIMEDOUT, RM_OUTCOME_AMBIGUOUS, "sg/ambiguous/0",
	  1, 0, 0, NULL },
	{ "connection dropped after the request: ambiguous",
	  "failover(retry(" SG ") " MG ")", "{\"action\": \"drop\"}", NULL,
	  -1, RM_OUTCOME_AMBIGUOUS, "sg/ambiguous/0", 1, 0, 0, NULL },
	{ "provider down for the whole run: failover",
	  "failover(retry(sendgrid://" KEY "@default?endpoint=http://"
	  "127.0.0.1:{R}#sg)?attempts=2 " MG ")", NULL, NULL,
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "sg/transient/0 sg/transient/500 mg/delivered/0", 0, 1, 1, NULL },
};

/* ---------------------------------------------------------------------- */
/* Running one row                                                        */
/* ---------------------------------------------------------------------- */

typedef struct run {
	rm_transport *t;
	rm_result *r;
	rm_error err;
	int rc;
	long long now;
	long long waits[8];
	size_t wait_count;
	int switched;
} run;

static long long clock_now(void *user)
{
	return ((run *)user)->now;
}

/* Time passes: the providers answer "ok" again. */
static void clock_sleep(long long ms, void *user)
{
	run *x = user;

	if (x->wait_count < 8)
		x->waits[x->wait_count++] = ms;
	x->now += ms;
	write_file(sg.dir, "mode", "ok");
	x->switched = 1;
}

static uint32_t fixed_random(void *user)
{
	(void)user;
	return 500;
}

/* A port nothing listens on: bound, then closed. */
static int refused_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void fill_url(const char *tmpl, char *out, size_t size)
{
	size_t n = 0;

	while (*tmpl != '\0' && n + 1 < size) {
		int port = strncmp(tmpl, "{S}", 3) == 0 ? sg.port :
		           strncmp(tmpl, "{M}", 3) == 0 ? mg.port :
		           strncmp(tmpl, "{R}", 3) == 0 ? refused_port() : 0;

		if (port != 0) {
			n += (size_t)snprintf(out + n, size - n, "%d", port);
			tmpl += 3;
		} else {
			out[n++] = *tmpl++;
		}
	}
	out[n] = '\0';
}

static void send_row(run *x, const char *tmpl)
{
	char url[1024];
	rm_message *m = fb_message("b@example.net");

	fill_url(tmpl, url, sizeof(url));
	assert_int_equal(rm_transport_open(&x->t, url, NULL, &x->err), 0);
	x->now = 1700000000000LL;
	rm_transport_set_clock(x->t, clock_now, clock_sleep, x, NULL);
	rm_transport_set_random(x->t, fixed_random, x, NULL);
	assert_int_equal(rm_result_new(&x->r, NULL), 0);
	x->rc = rm_send(x->t, m, x->r, &x->err);
	rm_message_free(m);
}

static void attempts_text(const rm_result *r, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < rm_result_attempt_count(r) && n < size; i++) {
		rm_attempt a;

		rm_result_attempt(r, i, &a);
		n += (size_t)snprintf(out + n, size - n, "%s%s/%s/%lld",
		                      i ? " " : "", a.transport,
		                      rm_outcome_name(a.outcome),
		                      a.wait_ms_before);
	}
}

static void route_http__row(void **state)
{
	const row *w = *state;
	char attempts[512];
	int sg_clean, mg_clean, sg_n, mg_n;
	run x;

	memset(&x, 0, sizeof(x));
	reset_provider(&sg, w->sg_mode);
	reset_provider(&mg, w->mg_mode);
	send_row(&x, w->url);
	attempts_text(x.r, attempts, sizeof(attempts));
	sg_n = requests(&sg, &sg_clean);
	mg_n = requests(&mg, &mg_clean);
	if (strcmp(attempts, w->attempts) != 0 || (w->rc != -1 &&
	    x.rc != w->rc))
		print_message("%s\n  rc %d: %s\n  attempts: %s\n", w->name,
		              x.rc, x.err.message, attempts);
	assert_string_equal(attempts, w->attempts);
	if (w->rc != -1)
		assert_int_equal(x.rc, w->rc);
	assert_int_equal(rm_result_outcome(x.r), w->outcome);
	if (w->err_part != NULL)
		assert_non_null(strstr(x.err.message, w->err_part));
	/* Every request was well formed; the ones after the wait, or to
	 * Mailgun, were answered with success. */
	assert_int_equal(sg_n, w->sg_requests);
	assert_int_equal(mg_n, w->mg_requests);
	assert_int_equal(sg_clean, sg_n);
	assert_int_equal(mg_clean, mg_n);
	assert_int_equal((x.switched && sg_n > 0 ? sg_n - 1 : 0) + mg_n,
	                 w->taken);
	rm_transport_close(x.t);
	rm_result_free(x.r);
}

/* The URL: an SMTP relay that is down, then two providers in
 * turn; each message reaches exactly one provider. */
static void route_http__failover_smtp_then_roundrobin(void **state)
{
	const char *tmpl = "failover(smtp://127.0.0.1:{R}#smtp roundrobin("
	                   SG " " MG "))";
	char attempts[512];
	int clean, i;
	rm_message *m;
	run x;

	(void)state;
	memset(&x, 0, sizeof(x));
	reset_provider(&sg, NULL);
	reset_provider(&mg, NULL);
	send_row(&x, tmpl);
	assert_int_equal(x.rc, RM_OK);
	attempts_text(x.r, attempts, sizeof(attempts));
	assert_string_equal(attempts, "smtp/transient/0 sg/delivered/0");
	for (i = 0; i < 3; i++) {
		m = fb_message("b@example.net");
		assert_int_equal(rm_send(x.t, m, x.r, &x.err), RM_OK);
		rm_message_free(m);
	}
	attempts_text(x.r, attempts, sizeof(attempts));
	assert_string_equal(attempts, "smtp/transient/0 mg/delivered/0");
	assert_int_equal(requests(&sg, &clean), 2);
	assert_int_equal(clean, 2);
	assert_int_equal(requests(&mg, &clean), 2);
	assert_int_equal(clean, 2);
	rm_transport_close(x.t);
	rm_result_free(x.r);
}

static int setup(void **state)
{
	struct stat st;

	(void)state;
	if (stat(FAKE_PROVIDER_SCRIPT, &st) != 0 ||
	    stat(FAKE_PROVIDER_PYTHON, &st) != 0)
		return -1;
	if (start_provider(&sg, KEY) != 0 || start_provider(&mg, MG_KEY) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_provider(&sg);
	stop_provider(&mg);
	return 0;
}

#define ROWS (sizeof(rows) / sizeof(rows[0]))

int main(void)
{
	struct CMUnitTest tests[ROWS + 1];
	size_t i;

	for (i = 0; i < ROWS; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(
			route_http__row, (void *)&rows[i]);

		t.name = rows[i].name;
		tests[i] = t;
	}
	tests[ROWS] = (struct CMUnitTest)cmocka_unit_test(
		route_http__failover_smtp_then_roundrobin);
	return cmocka_run_group_tests(tests, setup, teardown);
}
