/*
 * The SMTP backend: one connection per transport, kept open between
 * sends, driven by a state machine in the shape of curl's smtp.c. Each
 * step sends its command (send_X, or rm__smtp_command) and enters the
 * state that waits for its reply; rm__smtp_run reads one complete reply
 * at a time and hands it to the state's handler (on_X), which decides
 * what comes next. The session rests in IDLE (connected, nothing
 * outstanding) or STOP (no connection).
 *
 * Standards: RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 8314 (implicit
 * TLS), RFC 4954 (AUTH), RFC 2920 (PIPELINING), RFC 1870 (SIZE),
 * RFC 2034 and RFC 3463 (enhanced status codes), RFC 6531 (SMTPUTF8),
 * RFC 3461 (DSN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp_int.h"

/* Commands pipelined for a few thousand recipients fit in one write. */
#define OUT_MAX (4 * 1024 * 1024)
/* A connection idle this long is checked with NOOP before reuse. */
#define IDLE_CHECK_MS 30000
/* How long QUIT may wait for its 221 when closing. */
#define QUIT_WAIT_MS 5000

static const char *const state_names[RM__SMTP_STATE_COUNT] = {
	"STOP", "IDLE", "GREETING", "EHLO", "HELO", "STARTTLS", "AUTH",
	"AUTH_USER", "AUTH_PASS", "AUTH_REPLY", "AUTH_CANCEL", "RSET",
	"NOOP", "MAIL", "RCPT", "DATA", "BODY", "QUIT",
};

void rm__smtp_set_state(rm__smtp *s, rm__smtp_state state)
{
	if (s->state != state)
		rm__logf(&s->t->log, RM_LOG_DEBUG, "smtp state %s -> %s",
		         state_names[s->state], state_names[state]);
	s->state = state;
}

/*
 * RFC 5321 section 4.5.3.2 timeouts: 5 minutes for the greeting, MAIL
 * and RCPT, 2 for DATA, 10 for the final dot; the other commands get 5.
 * A timeout= option replaces them all.
 */
static long reply_timeout_ms(const rm__smtp *s)
{
	if (s->cfg.timeout_ms > 0)
		return s->cfg.timeout_ms;
	switch (s->state) {
	case RM__SMTP_DATA:
		return 2 * 60 * 1000;
	case RM__SMTP_BODY:
		return 10 * 60 * 1000;
	default:
		return 5 * 60 * 1000;
	}
}

/* ---------------------------------------------------------------------- */
/* Sending commands                                                       */
/* ---------------------------------------------------------------------- */

/*
 * The one place where commands are queued and logged: a secret part is
 * logged as "<redacted>", so no log path can see it.
 */
int rm__smtp_queue(rm__smtp *s, const char *visible, const char *secret,
                   rm_error *err)
{
	size_t before = s->out.len;
	int rc;

	rm__logf(&s->t->log, RM_LOG_DEBUG, "C: %s%s", visible,
	         secret != NULL ? "<redacted>" : "");
	rc = rm__buf_append_str(&s->out, visible);
	if (rc == RM_OK && secret != NULL)
		rc = rm__buf_append_str(&s->out, secret);
	if (rc == RM_OK)
		rc = rm__buf_append(&s->out, "\r\n", 2);
	if (rc != RM_OK) {
		s->out.len = before;
		return rm__fail(err, rc, RM_OUTCOME_TRANSIENT, NULL,
		                "cannot queue an SMTP command (%s)",
		                rm_strerror(rc));
	}
	return RM_OK;
}

int rm__smtp_queuef(rm__smtp *s, rm_error *err, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, NULL,
		                "an SMTP command would be longer than %zu "
		                "octets", sizeof(line) - 1);
	return rm__smtp_queue(s, line, NULL, err);
}

static int64_t deadline_in(long ms)
{
	return rm__now_ms() + ms;
}

int rm__smtp_flush(rm__smtp *s, rm_error *err)
{
	int rc;

	if (s->out.len == 0)
		return RM_OK;
	rc = rm__conn_write(&s->conn, s->out.data, s->out.len,
	                    deadline_in(reply_timeout_ms(s)), err);
	/* The buffer may have held a secret: clear it, not just forget. */
	rm__wipe(s->out.data, s->out.len);
	rm__buf_reset(&s->out);
	return rc;
}

int rm__smtp_command(rm__smtp *s, rm__smtp_state next, rm_error *err,
                     const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, NULL,
		                "an SMTP command would be too long");
	rc = rm__smtp_queue(s, line, NULL, err);
	if (rc == RM_OK)
		rc = rm__smtp_flush(s, err);
	if (rc == RM_OK)
		rm__smtp_set_state(s, next);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Errors and reply classes                                               */
/* ---------------------------------------------------------------------- */

rm_outcome rm__smtp_class(int code, rm_outcome perm)
{
	return code >= 400 && code < 500 ? RM_OUTCOME_TRANSIENT : perm;
}

/* The reply's text on one line, for error messages. */
static void flat_text(const rm__reply *r, char *buf, size_t size)
{
	char *p;

	snprintf(buf, size, "%s", r->text.data != NULL ? r->text.data : "");
	for (p = buf; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
}

int rm__smtp_fail_reply(rm__smtp *s, rm_error *err, int code,
                        rm_outcome outcome, const char *what)
{
	char text[300];

	flat_text(&s->reply, text, sizeof(text));
	rm__fail(err, code, outcome, NULL, "%s: %s said %d%s%s %s", what,
	         s->cfg.host, s->reply.code, s->reply.enhanced[0] ? " " : "",
	         s->reply.enhanced, text);
	if (err != NULL) {
		err->reply_code = s->reply.code;
		snprintf(err->enhanced_status, sizeof(err->enhanced_status),
		         "%s", s->reply.enhanced);
	}
	return code;
}

/* ---------------------------------------------------------------------- */
/* Reading replies                                                        */
/* ---------------------------------------------------------------------- */

static void log_reply(rm__smtp *s, const rm__reply *r)
{
	char line[RM__REPLY_LINE_MAX + 1];
	size_t i;

	if (!rm__log_enabled(&s->t->log, RM_LOG_DEBUG))
		return;
	for (i = 0; i < r->lines; i++) {
		rm__reply_line(r, i, line, sizeof(line));
		rm__logf(&s->t->log, RM_LOG_DEBUG, "S: %d%s%s%s%s", r->code,
		         i + 1 < r->lines ? "-" : line[0] ? " " : "",
		         i == 0 ? r->enhanced : "",
		         i == 0 && r->enhanced[0] && line[0] ? " " : "", line);
	}
}

/* The outcome of losing the connection in the current state. */
static rm_outcome lost_outcome(const rm__smtp *s)
{
	if (s->state == RM__SMTP_BODY && s->txn != NULL &&
	    !s->txn->empty_data)
		return RM_OUTCOME_AMBIGUOUS;
	return RM_OUTCOME_TRANSIENT;
}

static int fail_wait(rm__smtp *s, const rm_error *e, rm_error *err)
{
	const char *hint = "";

	if (s->state == RM__SMTP_GREETING && e->code == RM_ETIMEDOUT &&
	    !s->cfg.implicit_tls)
		hint = " (if this port expects TLS at once, like 465, use "
		       "smtps://)";
	if (lost_outcome(s) == RM_OUTCOME_AMBIGUOUS)
		hint = " after the message was sent: it may or may not have "
		       "been delivered";
	return rm__fail(err, e->code, lost_outcome(s), NULL,
	                "%s, waiting for the %s reply%s", e->message,
	                state_names[s->state], hint);
}

static int fail_malformed(rm__smtp *s, int rc, rm_error *err)
{
	return rm__fail(err, rc == RM_ELIMIT ? RM_ELIMIT : RM_EPROTOCOL,
	                lost_outcome(s), NULL, "%s sent %s while the %s "
	                "reply was expected", s->conn.where, rc == RM_ELIMIT ?
	                "an overlong reply" : "a malformed reply",
	                state_names[s->state]);
}

/* A TLS server talking first: record bytes 0x15/0x16, version 3.x. */
static int looks_like_tls(const char *p, size_t n)
{
	return n >= 2 && (p[0] == 0x15 || p[0] == 0x16) && p[1] == 0x03;
}

static int fail_tls_greeting(rm__smtp *s, rm_error *err)
{
	return rm__fail(err, RM_EPROTOCOL, RM_OUTCOME_PERM_PROVIDER, "port",
	                "%s speaks TLS at once (implicit TLS): use smtps:// "
	                "for this port, or smtp:// with the STARTTLS port "
	                "(usually 587 or 25)", s->conn.where);
}

static int read_more(rm__smtp *s, int64_t deadline, rm_error *err)
{
	char buf[16384];
	rm_error e;
	size_t got;
	int rc;

	rc = rm__conn_read(&s->conn, buf, sizeof(buf), &got, deadline, &e);
	if (rc != RM_OK)
		return fail_wait(s, &e, err);
	if (s->state == RM__SMTP_GREETING && rm__reply_buffered(&s->rd) == 0 &&
	    looks_like_tls(buf, got))
		return fail_tls_greeting(s, err);
	rc = rm__reply_feed(&s->rd, buf, got);
	return rc == RM_OK ? RM_OK : fail_malformed(s, rc, err);
}

static int read_reply(rm__smtp *s, rm_error *err)
{
	int64_t deadline = deadline_in(reply_timeout_ms(s));

	for (;;) {
		int rc = rm__reply_next(&s->rd, &s->reply);

		if (rc == 1) {
			rm__smtp_redact_reply(s, &s->reply);
			log_reply(s, &s->reply);
			s->last_used = rm__now_ms();
			return RM_OK;
		}
		if (rc < 0)
			return fail_malformed(s, rc, err);
		rc = read_more(s, deadline, err);
		if (rc != RM_OK)
			return rc;
	}
}

/* ---------------------------------------------------------------------- */
/* Greeting, EHLO, STARTTLS                                               */
/* ---------------------------------------------------------------------- */

static int send_ehlo(rm__smtp *s, rm_error *err)
{
	return rm__smtp_command(s, RM__SMTP_EHLO, err, "EHLO %s",
	                        s->ehlo_name);
}

static int on_greeting(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	if (r->code != 220)
		return rm__smtp_fail_reply(s, err, r->code >= 500 ?
		                           RM_EREJECTED : RM_ETEMPFAIL,
		                           rm__smtp_class(r->code,
		                           RM_OUTCOME_PERM_PROVIDER),
		                           "the server refused the session");
	rm__reply_line(r, 0, s->greeting, sizeof(s->greeting));
	return send_ehlo(s, err);
}

static int fail_no_tls(rm__smtp *s, rm_error *err, const char *why)
{
	return rm__fail(err, RM_ENOTLS, RM_OUTCOME_PERM_PROVIDER, "tls",
	                "%s %s, and TLS is required (tls=required); nothing "
	                "was sent. Use smtps:// if the server has an "
	                "implicit-TLS port", s->conn.where, why);
}

/* What follows a successful EHLO or HELO. */
static int after_hello(rm__smtp *s, rm_error *err)
{
	int plain = s->conn.tls == NULL;

	if (plain && s->cfg.tls_policy != RM__TLS_NONE &&
	    (s->caps.flags & RM__CAP_STARTTLS))
		return rm__smtp_command(s, RM__SMTP_STARTTLS, err,
		                        "STARTTLS");
	/* RFC 3207 section 6: a missing STARTTLS may be an attacker's
	 * doing; a client that needs TLS must not go on. */
	if (plain && s->cfg.tls_policy == RM__TLS_REQUIRED)
		return fail_no_tls(s, err, "does not offer STARTTLS");
	if (plain && s->cfg.tls_policy == RM__TLS_OPPORTUNISTIC)
		rm__logf(&s->t->log, RM_LOG_INFO, "%s offers no STARTTLS; "
		         "going on without TLS (tls=opportunistic)",
		         s->conn.where);
	return rm__smtp_auth_start(s, err);
}

static int on_ehlo(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	if (r->code == 250) {
		rm__smtp_caps_parse(&s->caps, r);
		return after_hello(s, err);
	}
	/* RFC 5321 section 3.2: a server that does not know EHLO. */
	if (r->code >= 500)
		return rm__smtp_command(s, RM__SMTP_HELO, err, "HELO %s",
		                        s->ehlo_name);
	return rm__smtp_fail_reply(s, err, RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT,
	                           "EHLO was refused");
}

static int on_helo(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	if (r->code != 250)
		return rm__smtp_fail_reply(s, err, r->code >= 500 ?
		                           RM_EREJECTED : RM_ETEMPFAIL,
		                           rm__smtp_class(r->code,
		                           RM_OUTCOME_PERM_PROVIDER),
		                           "EHLO and HELO were refused");
	memset(&s->caps, 0, sizeof(s->caps));
	return after_hello(s, err);
}

static int start_tls(rm__smtp *s, rm_error *err)
{
	rm__tls_opts o = { s->cfg.ca_file, s->cfg.verify };
	int64_t deadline = deadline_in(reply_timeout_ms(s));
	int rc = RM_OK;

	if (s->tls_cfg == NULL)
		rc = rm__tls_config_new(&s->tls_cfg, &o, err);
	if (rc == RM_OK)
		rc = rm__conn_start_tls(&s->conn, s->tls_cfg, s->cfg.host,
		                        deadline, err);
	if (rc != RM_OK)
		return rc;
	rm__logf(&s->t->log, RM_LOG_DEBUG, "TLS established with %s",
	         s->conn.where);
	return RM_OK;
}

static int on_starttls(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	int rc;

	if (r->code != 220 && s->cfg.tls_policy == RM__TLS_REQUIRED)
		return rm__smtp_fail_reply(s, err, RM_ENOTLS,
		                           RM_OUTCOME_PERM_PROVIDER,
		                           "STARTTLS was refused and TLS is "
		                           "required");
	if (r->code != 220)
		return rm__smtp_auth_start(s, err);
	/* RFC 3207 section 4.2: anything that came before the handshake
	 * is not part of the protected session. */
	if (rm__reply_buffered(&s->rd) > 0)
		rm__logf(&s->t->log, RM_LOG_WARN, "%s sent %zu bytes after "
		         "its STARTTLS reply; discarded", s->conn.where,
		         rm__reply_buffered(&s->rd));
	rm__reply_discard(&s->rd);
	rc = start_tls(s, err);
	if (rc != RM_OK) {
		rm__smtp_drop(s);
		return rc;
	}
	/* RFC 3207 section 4.2: forget what the server said before. */
	memset(&s->caps, 0, sizeof(s->caps));
	return send_ehlo(s, err);
}

/* ---------------------------------------------------------------------- */
/* The dispatcher                                                         */
/* ---------------------------------------------------------------------- */

static int on_rset(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	if (r->code != 250)
		return rm__smtp_fail_reply(s, err, RM_EPROTOCOL,
		                           RM_OUTCOME_TRANSIENT,
		                           "the connection could not be reset");
	s->need_rset = 0;
	rm__smtp_set_state(s, RM__SMTP_IDLE);
	return RM_OK;
}

static int dispatch(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	switch (s->state) {
	case RM__SMTP_GREETING:
		return on_greeting(s, r, err);
	case RM__SMTP_EHLO:
		return on_ehlo(s, r, err);
	case RM__SMTP_HELO:
		return on_helo(s, r, err);
	case RM__SMTP_STARTTLS:
		return on_starttls(s, r, err);
	case RM__SMTP_AUTH:
	case RM__SMTP_AUTH_USER:
	case RM__SMTP_AUTH_PASS:
	case RM__SMTP_AUTH_REPLY:
	case RM__SMTP_AUTH_CANCEL:
		return rm__smtp_on_auth(s, r, err);
	case RM__SMTP_RSET:
	case RM__SMTP_NOOP:
		return on_rset(s, r, err);
	case RM__SMTP_MAIL:
	case RM__SMTP_RCPT:
	case RM__SMTP_DATA:
	case RM__SMTP_BODY:
		return rm__smtp_on_txn(s, r, err);
	default:
		return rm__fail(err, RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, NULL,
		                "%s sent a reply nothing asked for",
		                s->conn.where);
	}
}

/* RFC 5321 section 3.8: 421 may come at any time and ends the session. */
static int on_421(rm__smtp *s, rm_error *err)
{
	rm__smtp_fail_reply(s, err, RM_ETEMPFAIL, RM_OUTCOME_TRANSIENT,
	                    "the server is closing the connection");
	rm__smtp_drop(s);
	return RM_ETEMPFAIL;
}

int rm__smtp_run(rm__smtp *s, rm_error *err)
{
	while (s->state != RM__SMTP_IDLE && s->state != RM__SMTP_STOP) {
		int rc = read_reply(s, err);

		/* A timeout or garbage leaves the dialogue out of step. */
		if (rc != RM_OK) {
			rm__smtp_drop(s);
			return rc;
		}
		if (s->reply.code == 421)
			return on_421(s, err);
		rc = dispatch(s, &s->reply, err);
		if (rc != RM_OK) {
			rm__smtp_quit(s);
			return rc;
		}
	}
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Connection life                                                        */
/* ---------------------------------------------------------------------- */

void rm__smtp_drop(rm__smtp *s)
{
	rm__conn_close(&s->conn, 0);
	rm__reply_discard(&s->rd);
	rm__buf_reset(&s->out);
	s->need_rset = 0;
	rm__smtp_set_state(s, RM__SMTP_STOP);
}

/*
 * Says goodbye when the dialogue is in step (the last reply answered the
 * last command); otherwise, and on any trouble, just closes.
 */
void rm__smtp_quit(rm__smtp *s)
{
	rm_error ignored;
	size_t got;
	char buf[512];

	if (!rm__conn_is_open(&s->conn) || s->out.len > 0 ||
	    rm__reply_buffered(&s->rd) > 0 || s->state == RM__SMTP_BODY) {
		rm__smtp_drop(s);
		return;
	}
	rm__smtp_set_state(s, RM__SMTP_QUIT);
	if (rm__smtp_queue(s, "QUIT", NULL, &ignored) == RM_OK &&
	    rm__smtp_flush(s, &ignored) == RM_OK)
		rm__conn_read(&s->conn, buf, sizeof(buf), &got,
		              deadline_in(QUIT_WAIT_MS), &ignored);
	rm__conn_close(&s->conn, 1);
	rm__smtp_drop(s);
}

static void pick_ehlo_name(rm__smtp *s)
{
	char host[256];

	if (s->cfg.ehlo != NULL) {
		snprintf(s->ehlo_name, sizeof(s->ehlo_name), "%s",
		         s->cfg.ehlo);
		return;
	}
	/* RFC 5321 section 4.1.4: a FQDN, else an address literal. */
	if (gethostname(host, sizeof(host)) == 0 &&
	    memchr(host, '\0', sizeof(host)) != NULL &&
	    strchr(host, '.') != NULL && strpbrk(host, " []\r\n") == NULL) {
		snprintf(s->ehlo_name, sizeof(s->ehlo_name), "%s", host);
		return;
	}
	if (rm__conn_local_literal(&s->conn, s->ehlo_name,
	                           sizeof(s->ehlo_name)) != RM_OK)
		snprintf(s->ehlo_name, sizeof(s->ehlo_name), "localhost");
}

static int connect_session(rm__smtp *s, rm_error *err)
{
	const char *addr = s->cfg.connect_to != NULL ? s->cfg.connect_to :
	                   s->cfg.host;
	int rc;

	memset(&s->caps, 0, sizeof(s->caps));
	s->greeting[0] = '\0';
	s->auth_mech = -1;
	s->fresh = 1;
	rc = rm__conn_open(&s->conn, addr, s->cfg.port,
	                   s->cfg.connect_timeout_ms, &s->t->log, err);
	if (rc != RM_OK)
		return rc;
	rm__logf(&s->t->log, RM_LOG_DEBUG, "connected to %s",
	         s->conn.where);
	pick_ehlo_name(s);
	rm__smtp_set_state(s, RM__SMTP_GREETING);
	if (s->cfg.implicit_tls)
		rc = start_tls(s, err);
	if (rc == RM_OK)
		rc = rm__smtp_run(s, err);
	if (rc != RM_OK)
		rm__smtp_drop(s);
	return rc;
}

/* Checks a kept connection: RSET after a failure, NOOP after a rest. */
static int check_kept(rm__smtp *s, rm_error *err)
{
	int idle = rm__now_ms() - s->last_used > IDLE_CHECK_MS;
	int rc;

	/* Bytes after the last reply answer nothing that was asked: each
	 * next command would be paired with the reply before its own. */
	if (rm__reply_buffered(&s->rd) > 0)
		return rm__fail(err, RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, NULL,
		                "%s sent %zu bytes nothing asked for",
		                s->conn.where, rm__reply_buffered(&s->rd));

	if (!s->need_rset && !idle)
		return RM_OK;
	rc = rm__smtp_command(s, s->need_rset ? RM__SMTP_RSET : RM__SMTP_NOOP,
	                      err, "%s", s->need_rset ? "RSET" : "NOOP");
	if (rc == RM_OK)
		rc = rm__smtp_run(s, err);
	return rc;
}

int rm__smtp_ready(rm__smtp *s, rm_error *err)
{
	int rc;

	if (rm__conn_is_open(&s->conn) && s->state == RM__SMTP_IDLE) {
		rm_error e;

		rm__error_clear(&e);
		if (check_kept(s, &e) == RM_OK)
			return RM_OK;
		/* The server closed the kept connection (421, end of
		 * stream) or is out of step: nothing of this message was
		 * sent, so one fresh connection is safe. */
		rm__logf(&s->t->log, RM_LOG_INFO, "kept connection to %s "
		         "cannot be used (%s); reconnecting", s->conn.where,
		         e.message);
		rm__smtp_drop(s);
	}
	if (rm__conn_is_open(&s->conn))
		rm__smtp_drop(s);
	rc = connect_session(s, err);
	/* A refused OAuth2 token: one fresh token, one more session. */
	if (rc == RM_EAUTH && rm__smtp_oauth_retry(s))
		rc = connect_session(s, err);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The backend                                                            */
/* ---------------------------------------------------------------------- */

static void log_open_warnings(rm__smtp *s)
{
	if (s->cfg.tls_policy == RM__TLS_NONE && !s->cfg.implicit_tls)
		rm__logf(&s->t->log, RM_LOG_WARN, "tls=none: mail to %s goes "
		         "unencrypted", s->cfg.host);
	if (!s->cfg.verify)
		rm__logf(&s->t->log, RM_LOG_WARN, "insecure_skip_verify=yes: "
		         "the certificate of %s is not checked; anyone on the "
		         "path can read and change the mail", s->cfg.host);
}

static int smtp_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	rm__smtp *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening the SMTP transport");
	rc = rm__dkim_url_options(t, url, err);
	if (rc == RM_OK)
		rc = rm__smtp_cfg_parse(&s->cfg, t, url, err);
	if (rc != RM_OK) {
		free(s);
		return rc;
	}
	s->t = t;
	rm__conn_init(&s->conn);
	rm__reply_reader_init(&s->rd);
	rm__reply_init(&s->reply);
	rm__buf_init(&s->out, OUT_MAX);
	s->auth_mech = -1;
	t->impl = s;
	log_open_warnings(s);
	return RM_OK;
}

static void smtp_close(rm_transport *t)
{
	rm__smtp *s = t->impl;

	if (s == NULL)
		return;
	rm__smtp_quit(s);
	rm__reply_reader_free(&s->rd);
	rm__reply_free(&s->reply);
	rm__buf_free(&s->out);
	rm__tls_config_free(s->tls_cfg);
	rm__smtp_cfg_free(&s->cfg);
	free(s);
	t->impl = NULL;
}

/* The server's own text is shown with control bytes escaped, as in
 * errors and logs: programs print it. */
static void fill_info(rm__smtp *s, rm_check_info *info)
{
	rm__copy_escaped(info->greeting, sizeof(info->greeting), s->greeting);
	rm__copy_escaped(info->extensions, sizeof(info->extensions),
	                 s->caps.keywords);
	rm__tls_describe(s->conn.tls, info->tls, sizeof(info->tls));
	snprintf(info->auth_mechanism, sizeof(info->auth_mechanism), "%s",
	         s->auth_mech >= 0 ? rm__auth_names[s->auth_mech] : "none");
	info->max_size = s->caps.max_size;
}

static int smtp_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	rm__smtp *s = t->impl;
	int rc = rm__smtp_ready(s, err);

	if (rc == RM_OK)
		fill_info(s, info);
	return rc;
}

static int smtp_send(rm_transport *t, rm_message *msg, rm_result *result,
                     rm_error *err)
{
	return rm__smtp_send(t->impl, msg, result, err);
}

const rm__backend rm__backend_smtp = {
	"smtp", smtp_open, smtp_send, smtp_check, smtp_close, 1,
};
