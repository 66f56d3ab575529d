/*
 * The fault table through the composites against scripted SMTP servers
 * on loopback: for each fault, exactly which tries happen, on which
 * relay, after which waits (a fake clock records them; nothing sleeps),
 * and, counted on the receiving side, how many copies of the message the
 * servers took (exactly one, none, or one unknown after an ambiguous
 * end). Every copy any server read carries the same Message-ID.
 * Case 12 of the shared case list, as the route layer sees it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "fake_smtp.h"
#include "internal.h"
#include "test_certs.h"

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_PIPE "250-fake.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
#define EHLO_AUTH "250-fake.example\r\n250-PIPELINING\r\n" \
                  "250 AUTH PLAIN LOGIN\r\n"
#define EHLO_TLS "250-fake.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
#define HELLO FS_S(GREET), FS_C(1), FS_S(EHLO_PIPE)
#define OK3 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
#define QUEUED "250 2.0.0 Ok: queued as Q1\r\n"
#define SEND_OK FS_C(3), FS_S(OK3), FS_BODY, FS_S(QUEUED)
#define BYE FS_C(1), FS_S("221 2.0.0 Bye\r\n"), FS_DONE
#define RSET FS_C(1), FS_S("250 2.0.0 Ok\r\n")
#define MAX_SCRIPT 32

#define CHILD(p, n) "smtp://127.0.0.1:{" p "}?ehlo=client.example#" n

static test_certs certs;

typedef struct row {
	const char *name;
	const char *url;        /* {A}, {B}: the servers, {R}: refused */
	fs_step a[MAX_SCRIPT];  /* empty: no server A */
	fs_step b[MAX_SCRIPT];
	int a_tls;              /* A presents the self-signed certificate */
	const char *to;
	int rc;
	rm_outcome outcome;
	const char *attempts;   /* "name/outcome/wait ..." */
	int copies;             /* DATA payloads the servers read */
	int taken;              /* of those, answered 2xx */
	const char *wire_a;     /* A's transcript, or NULL */
} row;

/* ---------------------------------------------------------------------- */
/* The table                                                              */
/* ---------------------------------------------------------------------- */

static const row rows[] = {
	{ "refused connection: failover to b",
	  "failover(" CHILD("R", "a") " " CHILD("B", "b") ")",
	  { FS_DONE }, { HELLO, SEND_OK, BYE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 b/delivered/0",
	  1, 1, NULL },
	{ "421 at the greeting: retried after the backoff",
	  "retry(" CHILD("A", "a") ")",
	  { FS_S("421 4.3.2 Service not available, closing channel\r\n"),
	    FS_NEXT, HELLO, SEND_OK, BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "421 on MAIL: reconnect and retry",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(3),
	    FS_S("421 4.7.0 Messages from 192.0.2.1 temporarily "
	         "deferred\r\n"), FS_NEXT, HELLO, SEND_OK, BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "451 on MAIL: retried on the same connection",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(3),
	    FS_S("451 4.3.0 Try later\r\n503 5.5.1 No MAIL\r\n"
	         "503 5.5.1 No valid recipients\r\n"),
	    RSET, SEND_OK, BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "550 on MAIL: no retry, failover to b",
	  "failover(retry(" CHILD("A", "a") ") " CHILD("B", "b") ")",
	  { HELLO, FS_C(3),
	    FS_S("550 5.7.1 Sender refused\r\n503 5.5.1 No MAIL\r\n"
	         "503 5.5.1 No valid recipients\r\n"), BYE },
	  { HELLO, SEND_OK, BYE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "a/permanent-provider/0 b/delivered/0", 1, 1, NULL },
	{ "some RCPTs refused: 550 dropped, 450 retried alone",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(5),
	    FS_S("250 2.1.0 Ok\r\n550 5.1.1 User unknown\r\n"
	         "450 4.2.1 Mailbox busy\r\n250 2.1.5 Ok\r\n354 go\r\n"),
	    FS_BODY, FS_S(QUEUED), SEND_OK, BYE },
	  { FS_DONE }, 0, "r1@example.net, r2@example.net, r3@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/delivered/0 a/delivered/500",
	  2, 2,
	  "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"
	  "RCPT TO:<r1@example.net>\r\nRCPT TO:<r2@example.net>\r\n"
	  "RCPT TO:<r3@example.net>\r\nDATA\r\n[data]\r\n"
	  "MAIL FROM:<a@example.com>\r\nRCPT TO:<r2@example.net>\r\n"
	  "DATA\r\n[data]\r\nQUIT\r\n" },
	{ "every RCPT 550: refused for good, no failover",
	  "failover(" CHILD("A", "a") " " CHILD("B", "b") ")",
	  { HELLO, FS_C(3),
	    FS_S("250 2.1.0 Ok\r\n550 5.1.1 User unknown\r\n"
	         "554 5.5.1 No valid recipients\r\n"), BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_EREJECTED, RM_OUTCOME_PERM_RECIPIENT,
	  "a/permanent-recipient/0", 0, 0, NULL },
	{ "451 after the dot: the whole message is retried",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(3), FS_S(OK3), FS_BODY,
	    FS_S("451 4.3.0 Local error in processing\r\n"), RSET, SEND_OK,
	    BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  2, 1, NULL },
	{ "554 after the dot: failover to b",
	  "failover(" CHILD("A", "a") " " CHILD("B", "b") ")",
	  { HELLO, FS_C(3), FS_S(OK3), FS_BODY,
	    FS_S("554 5.7.1 Message rejected\r\n"), BYE },
	  { HELLO, SEND_OK, BYE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "a/permanent-provider/0 b/delivered/0", 2, 1, NULL },
	{ "dropped before the final dot: retried",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(3), FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
	    FS_NEXT, HELLO, SEND_OK, BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "dropped after the final dot: ambiguous, not resent",
	  "failover(retry(" CHILD("A", "a") ") " CHILD("B", "b") ")",
	  { HELLO, FS_C(3), FS_S(OK3), FS_BODY, FS_HANGUP, FS_DONE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_ECLOSED, RM_OUTCOME_AMBIGUOUS, "a/ambiguous/0", 1, 0, NULL },
	{ "dropped after the final dot, resend_ambiguous=yes: resent",
	  "retry(" CHILD("A", "a") ")?resend_ambiguous=yes",
	  { HELLO, FS_C(3), FS_S(OK3), FS_BODY, FS_NEXT, HELLO, SEND_OK,
	    BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/ambiguous/0 a/delivered/500",
	  2, 1, NULL },
	{ "TLS failure (certificate): failover to b",
	  "failover(smtp://127.0.0.1:{A}?ehlo=client.example&tls=required"
	  "&ca_file={CA}#a " CHILD("B", "b") ")",
	  { FS_S(GREET), FS_C(1), FS_S(EHLO_TLS), FS_C(1),
	    FS_S("220 2.0.0 Ready to start TLS\r\n"), FS_STARTTLS,
	    FS_WAIT_EOF, FS_DONE },
	  { HELLO, SEND_OK, BYE }, 1, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "a/permanent-provider/0 b/delivered/0", 1, 1, NULL },
	{ "auth failure (535): failover to b",
	  "failover(retry(smtp://user:secret@127.0.0.1:{A}?ehlo=client."
	  "example#a) " CHILD("B", "b") ")",
	  { FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	    FS_S("535 5.7.8 Authentication credentials invalid\r\n"),
	    BYE },
	  { HELLO, SEND_OK, BYE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED,
	  "a/permanent-provider/0 b/delivered/0", 1, 1, NULL },
	{ "454 at AUTH: transient, retried",
	  "retry(smtp://user:secret@127.0.0.1:{A}?ehlo=client.example#a)",
	  { FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	    FS_S("454 4.7.0 Temporary authentication failure\r\n"),
	    FS_NEXT, FS_S(GREET), FS_C(1), FS_S(EHLO_AUTH), FS_C(1),
	    FS_S("235 2.7.0 ok\r\n"), SEND_OK, BYE },
	  { FS_DONE }, 0, "b@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "452 split, dropped before the second RCPT reply: r2 alone",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(4),
	    FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	         "452 4.5.3 Too many recipients\r\n354 go\r\n"),
	    FS_BODY, FS_S(QUEUED), FS_C(3), FS_S("250 2.1.0 Ok\r\n"),
	    FS_NEXT, HELLO, SEND_OK, BYE },
	  { FS_DONE }, 0, "r1@example.net, r2@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/delivered/0 a/delivered/500",
	  2, 2,
	  "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"
	  "RCPT TO:<r1@example.net>\r\nRCPT TO:<r2@example.net>\r\n"
	  "DATA\r\n[data]\r\n"
	  "MAIL FROM:<a@example.com>\r\nRCPT TO:<r2@example.net>\r\n"
	  "DATA\r\n"
	  "EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"
	  "RCPT TO:<r2@example.net>\r\nDATA\r\n[data]\r\nQUIT\r\n" },
	{ "452 split, dropped after the second dot: r2 not resent",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(4),
	    FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	         "452 4.5.3 Too many recipients\r\n354 go\r\n"),
	    FS_BODY, FS_S(QUEUED), FS_C(3), FS_S(OK3), FS_BODY, FS_HANGUP,
	    FS_DONE },
	  { FS_DONE }, 0, "r1@example.net, r2@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/delivered/0", 2, 1, NULL },
	{ "dropped after MAIL's reply alone: retried whole",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(4), FS_S("250 2.1.0 Ok\r\n"),
	    FS_NEXT, HELLO, FS_C(4),
	    FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	         "354 go\r\n"), FS_BODY, FS_S(QUEUED), BYE },
	  { FS_DONE }, 0, "r1@example.net, r2@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "dropped after one of two RCPT replies: both retried",
	  "retry(" CHILD("A", "a") ")",
	  { HELLO, FS_C(4), FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
	    FS_NEXT, HELLO, FS_C(4),
	    FS_S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	         "354 go\r\n"), FS_BODY, FS_S(QUEUED), BYE },
	  { FS_DONE }, 0, "r1@example.net, r2@example.net",
	  RM_OK, RM_OUTCOME_DELIVERED, "a/transient/0 a/delivered/500",
	  1, 1, NULL },
	{ "every relay down: transient, nothing sent",
	  "failover(" CHILD("R", "a") " retry(" CHILD("R", "b") ")"
	  "?attempts=2)",
	  { FS_DONE }, { FS_DONE }, 0, "b@example.net",
	  RM_ECONNECT, RM_OUTCOME_TRANSIENT,
	  "a/transient/0 b/transient/0 b/transient/500", 0, 0, NULL },
};

/* ---------------------------------------------------------------------- */
/* Running one row                                                        */
/* ---------------------------------------------------------------------- */

typedef struct run {
	fake_smtp *a, *b;
	fs_tls tls;
	int refused_port;
	rm_transport *t;
	rm_result *r;
	rm_error err;
	fb_clock clock;
	int rc;
} run;

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

/* Copies the row's URL with the placeholders filled in. */
static void fill_url(const run *x, const char *tmpl, char *out, size_t size)
{
	size_t n = 0;

	while (*tmpl != '\0' && n + 1 < size) {
		const char *p = tmpl;

		if (strncmp(p, "{A}", 3) == 0 || strncmp(p, "{B}", 3) == 0 ||
		    strncmp(p, "{R}", 3) == 0) {
			fake_smtp *fs = p[1] == 'A' ? x->a : x->b;
			int port = p[1] == 'R' || fs == NULL ?
			           x->refused_port : fake_smtp_port(fs);

			n += (size_t)snprintf(out + n, size - n, "%d", port);
			tmpl += 3;
		} else if (strncmp(p, "{CA}", 4) == 0) {
			n += (size_t)snprintf(out + n, size - n, "%s",
			                      certs.ca_file);
			tmpl += 4;
		} else {
			out[n++] = *tmpl++;
		}
	}
	out[n] = '\0';
}

static void start(run *x, const row *w)
{
	char url[1024];
	rm_message *m;

	memset(x, 0, sizeof(*x));
	x->refused_port = refused_port();
	x->tls.cert_pem = certs.self_signed.cert;
	x->tls.key_pem = certs.self_signed.key;
	if (w->a[0].op != FS_END)
		assert_int_equal(fake_smtp_start(&x->a, w->a,
		                 w->a_tls ? &x->tls : NULL), 0);
	if (w->b[0].op != FS_END)
		assert_int_equal(fake_smtp_start(&x->b, w->b, NULL), 0);
	fill_url(x, w->url, url, sizeof(url));
	assert_int_equal(rm_transport_open(&x->t, url, NULL, &x->err), 0);
	fb_clock_install(x->t, &x->clock);
	x->clock.random = 500;
	assert_int_equal(rm_result_new(&x->r, NULL), 0);
	m = fb_message(w->to);
	assert_int_equal(rm_message_set_message_id(m, "<once@example.com>",
	                                           NULL), 0);
	x->rc = rm_send(x->t, m, x->r, &x->err);
	rm_message_free(m);
	rm_transport_close(x->t);
	if (x->a != NULL)
		fake_smtp_wait(x->a);
	if (x->b != NULL)
		fake_smtp_wait(x->b);
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

/* The server answered a 2xx to the DATA payload number k it read: the
 * reply its script sends right after its k-th FS_BODY step. */
static int taken(const fs_step *script, size_t k)
{
	size_t i, seen = 0;

	for (i = 0; script[i].op != FS_END; i++) {
		if (script[i].op != FS_DATA || seen++ != k)
			continue;
		return script[i + 1].op == FS_SEND &&
		       script[i + 1].text[0] == '2';
	}
	return 0;
}

/* Counts what one server read and took; every copy has the one id. */
static void count_copies(fake_smtp *fs, const fs_step *script, int *copies,
                         int *took)
{
	const char *data;
	size_t k, len;

	for (k = 0; fs != NULL &&
	     (data = fake_smtp_data(fs, k, &len)) != NULL; k++) {
		static const char id[] =
			"\r\nMessage-ID: <once@example.com>\r\n";

		assert_non_null(memmem(data, len, id, strlen(id)));
		(*copies)++;
		*took += taken(script, k);
	}
}

static void show(const run *x, const row *w, const char *attempts)
{
	print_message("row: %s\n  rc %d (%s) outcome %s\n  attempts: %s\n"
	              "  A: %s [%s]\n  B: %s [%s]\n", w->name, x->rc,
	              x->err.message, rm_outcome_name(rm_result_outcome(x->r)),
	              attempts,
	              x->a ? fake_smtp_transcript(x->a) : "-",
	              x->a ? fake_smtp_error(x->a) : "",
	              x->b ? fake_smtp_transcript(x->b) : "-",
	              x->b ? fake_smtp_error(x->b) : "");
}

static void check(const run *x, const row *w)
{
	char attempts[1024];
	int copies = 0, took = 0;

	attempts_text(x->r, attempts, sizeof(attempts));
	count_copies(x->a, w->a, &copies, &took);
	count_copies(x->b, w->b, &copies, &took);
	if (x->rc != w->rc || rm_result_outcome(x->r) != w->outcome ||
	    strcmp(attempts, w->attempts) != 0 || copies != w->copies ||
	    took != w->taken ||
	    (x->a != NULL && !w->a_tls && fake_smtp_error(x->a)[0]) ||
	    (x->b != NULL && fake_smtp_error(x->b)[0]) ||
	    (w->wire_a != NULL &&
	     strcmp(fake_smtp_transcript(x->a), w->wire_a) != 0))
		show(x, w, attempts);
	assert_int_equal(x->rc, w->rc);
	assert_int_equal(rm_result_outcome(x->r), w->outcome);
	assert_string_equal(attempts, w->attempts);
	assert_int_equal(copies, w->copies);
	assert_int_equal(took, w->taken);
	if (x->a != NULL && !w->a_tls)
		assert_string_equal(fake_smtp_error(x->a), "");
	if (x->b != NULL)
		assert_string_equal(fake_smtp_error(x->b), "");
	if (w->wire_a != NULL)
		assert_string_equal(fake_smtp_transcript(x->a), w->wire_a);
}

static void finish(run *x)
{
	fake_smtp_free(x->a);
	fake_smtp_free(x->b);
	rm_result_free(x->r);
}

/* One row of the table; its name is the row's. */
static void route_smtp__row(void **state)
{
	const row *w = *state;
	run x;

	start(&x, w);
	check(&x, w);
	finish(&x);
}

/* Recipient i of r: taken or not, its outcome and its reply code. */
static void assert_recipient(const rm_result *r, size_t i, int accepted,
                             rm_outcome outcome, int reply_code)
{
	rm_recipient_status st;

	assert_int_equal(rm_result_recipient(r, i, &st), RM_OK);
	assert_int_equal(st.accepted, accepted);
	assert_int_equal(st.outcome, outcome);
	assert_int_equal(st.reply_code, reply_code);
}

/* The partial row in detail: each recipient's fate in the result. */
static void route_smtp__partial_result_per_recipient(void **state)
{
	const row *w = &rows[5];
	rm_recipient_status st;
	run x;

	(void)state;
	start(&x, w);
	assert_int_equal(rm_result_recipient_count(x.r), 3);
	assert_int_equal(rm_result_rejected_count(x.r), 1);
	assert_recipient(x.r, 0, 0, RM_OUTCOME_PERM_RECIPIENT, 550);
	assert_int_equal(rm_result_recipient(x.r, 1, &st), RM_OK);
	assert_true(st.accepted);
	assert_int_equal(rm_result_recipient(x.r, 2, &st), RM_OK);
	assert_true(st.accepted);
	finish(&x);
}

static const row *row_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	}
	fail_msg("no row '%s'", name);
	return NULL;
}

/* No relay was reached: no recipient was tried, none was refused. */
static void route_smtp__unreached_recipients_not_refused(void **state)
{
	run x;

	(void)state;
	start(&x, row_named("every relay down: transient, nothing sent"));
	assert_int_equal(rm_result_recipient_count(x.r), 0);
	assert_int_equal(rm_result_rejected_count(x.r), 0);
	assert_string_equal(rm_result_transport(x.r), "b");
	finish(&x);
}

/* Dropped after the dot: the RCPT's 250 stays, nothing was refused. */
static void route_smtp__ambiguous_keeps_rcpt_reply(void **state)
{
	rm_recipient_status st;
	run x;

	(void)state;
	start(&x, row_named("dropped after the final dot: ambiguous, not "
	                    "resent"));
	assert_int_equal(rm_result_recipient_count(x.r), 1);
	assert_int_equal(rm_result_rejected_count(x.r), 0);
	assert_recipient(x.r, 0, 0, RM_OUTCOME_AMBIGUOUS, 250);
	assert_int_equal(rm_result_recipient(x.r, 0, &st), RM_OK);
	assert_string_equal(st.enhanced_status, "2.1.5");
	assert_string_equal(rm_result_transport(x.r), "a");
	finish(&x);
}

/* A 452 split whose second transaction ends after its dot unanswered:
 * r1 was taken, r2 is ambiguous with its RCPT reply, none refused. */
static void route_smtp__split_then_ambiguous_statuses(void **state)
{
	run x;

	(void)state;
	start(&x, row_named("452 split, dropped after the second dot: r2 "
	                    "not resent"));
	assert_int_equal(rm_result_recipient_count(x.r), 2);
	assert_int_equal(rm_result_rejected_count(x.r), 0);
	assert_recipient(x.r, 0, 1, RM_OUTCOME_DELIVERED, 250);
	assert_recipient(x.r, 1, 0, RM_OUTCOME_AMBIGUOUS, 250);
	finish(&x);
}

/* The null reverse path stays MAIL FROM:<> on a partial retry, on the
 * kept connection (refused with 421) and on the fresh one. */
static void route_smtp__null_path_on_partial_retry(void **state)
{
	static const fs_step a[] = {
		HELLO, FS_C(4),
		FS_S("250 2.1.0 Ok\r\n450 4.2.1 Mailbox busy\r\n"
		     "250 2.1.5 Ok\r\n354 go\r\n"),
		FS_BODY, FS_S(QUEUED), FS_C(1), FS_S("421 4.3.2 Bye\r\n"),
		FS_NEXT, HELLO, SEND_OK, BYE
	};
	char url[256];
	rm_message *m;
	run x;

	(void)state;
	memset(&x, 0, sizeof(x));
	assert_int_equal(fake_smtp_start(&x.a, a, NULL), 0);
	snprintf(url, sizeof(url), "retry(smtp://127.0.0.1:%d?ehlo=client."
	         "example#a)", fake_smtp_port(x.a));
	assert_int_equal(rm_transport_open(&x.t, url, NULL, NULL), 0);
	fb_clock_install(x.t, &x.clock);
	assert_int_equal(rm_result_new(&x.r, NULL), 0);
	m = fb_message("r1@example.net, r2@example.net");
	assert_int_equal(rm_message_set_envelope_from(m, "<>", NULL), 0);
	assert_int_equal(rm_send(x.t, m, x.r, NULL), RM_OK);
	rm_message_free(m);
	rm_transport_close(x.t);
	assert_int_equal(fake_smtp_wait(x.a), 0);
	assert_int_equal(rm_result_rejected_count(x.r), 0);
	assert_string_equal(fake_smtp_transcript(x.a),
	                    "EHLO client.example\r\nMAIL FROM:<>\r\n"
	                    "RCPT TO:<r1@example.net>\r\nRCPT TO:<r2@"
	                    "example.net>\r\nDATA\r\n[data]\r\n"
	                    "MAIL FROM:<>\r\nEHLO client.example\r\n"
	                    "MAIL FROM:<>\r\nRCPT TO:<r1@example.net>\r\n"
	                    "DATA\r\n[data]\r\nQUIT\r\n");
	finish(&x);
}

static int setup(void **state)
{
	(void)state;
	return test_certs_make(&certs);
}

static int teardown(void **state)
{
	(void)state;
	test_certs_remove(&certs);
	return 0;
}

#define ROWS (sizeof(rows) / sizeof(rows[0]))

int main(void)
{
	struct CMUnitTest tests[ROWS + 5];
	size_t i;

	for (i = 0; i < ROWS; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(
			route_smtp__row, (void *)&rows[i]);

		t.name = rows[i].name;
		tests[i] = t;
	}
	tests[ROWS] = (struct CMUnitTest)cmocka_unit_test(
		route_smtp__partial_result_per_recipient);
	tests[ROWS + 1] = (struct CMUnitTest)cmocka_unit_test(
		route_smtp__unreached_recipients_not_refused);
	tests[ROWS + 2] = (struct CMUnitTest)cmocka_unit_test(
		route_smtp__ambiguous_keeps_rcpt_reply);
	tests[ROWS + 3] = (struct CMUnitTest)cmocka_unit_test(
		route_smtp__split_then_ambiguous_statuses);
	tests[ROWS + 4] = (struct CMUnitTest)cmocka_unit_test(
		route_smtp__null_path_on_partial_retry);
	return cmocka_run_group_tests(tests, setup, teardown);
}
