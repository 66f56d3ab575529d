/*
 * One mail transaction: MAIL, RCPT for each recipient, DATA, the message
 * and the final dot (RFC 5321 sections 3.3 and 4.1.1.2 to 4.1.1.4).
 *
 * With PIPELINING (RFC 2920) MAIL, every RCPT and DATA leave in one write
 * and the replies are read back in order; section 3.1 of that RFC says
 * what to do when some fail: a DATA accepted with no valid recipient gets
 * a lone dot, and a failed transaction is reset before the next one.
 * A recipient refused with 452 "too many recipients" (RFC 5321 section
 * 4.5.3.1.10) goes into a further transaction once this one delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* The message leaves in blocks of this size (flat memory, few writes). */
#define BODY_BLOCK (64 * 1024)
/* RFC 5321 section 4.5.3.2.5: each data block within 3 minutes. */
#define BLOCK_TIMEOUT_MS (3 * 60 * 1000)
/* Recipients per transaction: replies to one pipelined group must fit
 * in the socket buffers while the group is still being written. */
#define BATCH_MAX 1000

enum {
	RCPT_PENDING,     /* for the next transaction */
	RCPT_ACCEPTED,    /* 2xx to RCPT in the current transaction */
	RCPT_REFUSED,     /* 4xx or 5xx to RCPT: final */
	RCPT_DEFERRED,    /* too many recipients: try again */
	RCPT_DELIVERED,   /* accepted and the message was taken */
	RCPT_FAILED       /* accepted, then the transaction failed */
};

/* ---------------------------------------------------------------------- */
/* Transaction bookkeeping                                                */
/* ---------------------------------------------------------------------- */

static void set_text(char **slot, const rm__reply *r)
{
	free(*slot);
	*slot = rm__strdup(r->text.data != NULL ? r->text.data : "");
}

static void note_rcpt(rm__smtp_rcpt *rc, int state, const rm__reply *r)
{
	rc->state = state;
	rc->code = r->code;
	memcpy(rc->enhanced, r->enhanced, sizeof(rc->enhanced));
	set_text(&rc->text, r);
}

/* Records the reply that decided the transaction's fate. */
static void decide(rm__smtp_txn *x, const rm__reply *r, int stage)
{
	x->code = r->code;
	memcpy(x->enhanced, r->enhanced, sizeof(x->enhanced));
	set_text(&x->text, r);
	x->stage = stage;
}

static void txn_free(rm__smtp_txn *x)
{
	size_t i;

	for (i = 0; x->rcpts != NULL && i < x->env.rcpt_count; i++)
		free(x->rcpts[i].text);
	free(x->rcpts);
	free(x->batch);
	free(x->text);
	free(x->ok_text);
	rm__envelope_free(&x->env);
}

/* Ends the transaction: the session rests, resetting first if needed. */
static int end_txn(rm__smtp *s, int failed)
{
	rm__smtp_txn *x = s->txn;
	size_t i;

	for (i = 0; i < x->batch_count; i++) {
		rm__smtp_rcpt *rc = &x->rcpts[x->batch[i]];

		if (rc->state == RCPT_ACCEPTED && x->delivered) {
			rc->state = RCPT_DELIVERED;
		} else if (rc->state == RCPT_ACCEPTED ||
		           rc->state == RCPT_PENDING) {
			rc->state = RCPT_FAILED;
			rc->code = x->code;
			memcpy(rc->enhanced, x->enhanced, sizeof(x->enhanced));
			free(rc->text);
			rc->text = rm__strdup(x->text != NULL ? x->text : "");
		}
	}
	s->need_rset = failed;
	rm__smtp_set_state(s, RM__SMTP_IDLE);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Commands                                                               */
/* ---------------------------------------------------------------------- */

static int queue_mail(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	char size[40] = "";
	int dsn = (s->caps.flags & RM__CAP_DSN) && s->cfg.dsn_ret != NULL;
	int eight = (s->caps.flags & RM__CAP_8BITMIME) &&
	            rm__message_needs_8bitmime(x->msg);

	/* RFC 1870 section 6: the size we will send, so the server can
	 * refuse at once rather than after the data. */
	if (s->caps.flags & RM__CAP_SIZE)
		snprintf(size, sizeof(size), " SIZE=%llu",
		         (unsigned long long)x->size);
	/* RFC 6531 section 3.4: SMTPUTF8 only for mail that needs it; RFC
	 * 6152: BODY=8BITMIME for a raw message with 8-bit octets. */
	return rm__smtp_queuef(s, err, "MAIL FROM:<%s>%s%s%s%s%s",
	                       x->env.from != NULL ? x->env.from : "", size,
	                       eight ? " BODY=8BITMIME" : "",
	                       x->smtputf8 ? " SMTPUTF8" : "",
	                       dsn ? " RET=" : "", dsn ? s->cfg.dsn_ret : "");
}

static int queue_rcpt(rm__smtp *s, size_t i, rm_error *err)
{
	int dsn = (s->caps.flags & RM__CAP_DSN) && s->cfg.dsn_notify != NULL;

	return rm__smtp_queuef(s, err, "RCPT TO:<%s>%s%s",
	                       s->txn->env.rcpts[i], dsn ? " NOTIFY=" : "",
	                       dsn ? s->cfg.dsn_notify : "");
}

static int send_rcpt(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	int rc = queue_rcpt(s, x->batch[x->replied], err);

	if (rc == RM_OK)
		rc = rm__smtp_flush(s, err);
	if (rc == RM_OK)
		rm__smtp_set_state(s, RM__SMTP_RCPT);
	return rc;
}

/* MAIL, and with PIPELINING every RCPT and DATA too, in one write. */
static int send_mail(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	size_t i;
	int rc = queue_mail(s, err);

	for (i = 0; rc == RM_OK && x->pipelined && i < x->batch_count; i++)
		rc = queue_rcpt(s, x->batch[i], err);
	if (rc == RM_OK && x->pipelined)
		rc = rm__smtp_queue(s, "DATA", NULL, err);
	if (rc == RM_OK)
		rc = rm__smtp_flush(s, err);
	if (rc == RM_OK)
		rm__smtp_set_state(s, RM__SMTP_MAIL);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The message body, dot-stuffed as it streams (RFC 5321 4.5.2)           */
/* ---------------------------------------------------------------------- */

typedef struct body_ctx {
	rm__smtp *s;
	int line_start;       /* the next byte begins a line */
	char last[2];         /* the last two bytes of the message */
	uint64_t bytes;
	int rc;
	rm_error err;
} body_ctx;

static int flush_block(body_ctx *b)
{
	rm__smtp *s = b->s;
	long ms = s->cfg.timeout_ms > 0 ? s->cfg.timeout_ms :
	          BLOCK_TIMEOUT_MS;

	b->rc = rm__conn_write(&s->conn, s->out.data, s->out.len,
	                       rm__now_ms() + ms, &b->err);
	rm__buf_reset(&s->out);
	return b->rc;
}

static void note_tail(body_ctx *b, const char *p, size_t len)
{
	if (len >= 2) {
		memcpy(b->last, p + len - 2, 2);
	} else if (len == 1) {
		b->last[0] = b->last[1];
		b->last[1] = p[0];
	}
	b->bytes += len;
}

/* Copies one chunk, doubling a dot at the start of every line. */
static int stuff(body_ctx *b, const char *p, size_t len)
{
	rm__buf *out = &b->s->out;

	while (len > 0) {
		const char *lf = memchr(p, '\n', len);
		size_t n = lf != NULL ? (size_t)(lf - p) + 1 : len;

		if (b->line_start && p[0] == '.' &&
		    rm__buf_append_byte(out, '.') != RM_OK)
			return RM_ENOMEM;
		if (rm__buf_append(out, p, n) != RM_OK)
			return RM_ENOMEM;
		b->line_start = lf != NULL;
		p += n;
		len -= n;
	}
	return RM_OK;
}

static int body_write(const void *data, size_t len, void *user)
{
	body_ctx *b = user;

	note_tail(b, data, len);
	if (stuff(b, data, len) != RM_OK) {
		b->rc = rm__fail(&b->err, RM_ENOMEM, RM_OUTCOME_TRANSIENT,
		                 NULL, "out of memory sending the message");
		return 1;
	}
	if (b->s->out.len >= BODY_BLOCK && flush_block(b) != RM_OK)
		return 1;
	return 0;
}

/* The end: CRLF if the message lacked one, then "." (RFC 5321 4.1.1.4) */
static int finish_body(body_ctx *b)
{
	rm__buf *out = &b->s->out;
	int crlf = b->bytes >= 2 && b->last[0] == '\r' && b->last[1] == '\n';

	if ((!crlf && rm__buf_append(out, "\r\n", 2) != RM_OK) ||
	    rm__buf_append(out, ".\r\n", 3) != RM_OK)
		return rm__fail(&b->err, RM_ENOMEM, RM_OUTCOME_TRANSIENT,
		                NULL, "out of memory sending the message");
	return flush_block(b);
}

static int send_body(rm__smtp *s, rm_error *err)
{
	rm__write_opts o = { s->txn->smtputf8, s->t->dkim };
	rm_error werr;
	body_ctx b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.s = s;
	b.line_start = 1;
	rc = rm__message_write_with(s->txn->msg, &o, body_write, &b, &werr);
	if (rc == RM_OK)
		rc = finish_body(&b);
	rm__logf(&s->t->log, RM_LOG_DEBUG, "C: <message body, %llu bytes>",
	         (unsigned long long)b.bytes);
	if (rc != RM_OK) {
		/* Half a message cannot be taken back: only closing the
		 * connection keeps the server from delivering it. */
		if (err != NULL)
			*err = b.rc != RM_OK ? b.err : werr;
		rm__smtp_drop(s);
		return b.rc != RM_OK ? b.rc : rc;
	}
	rm__logf(&s->t->log, RM_LOG_DEBUG, "C: .");
	s->txn->final_sent = 1;
	rm__smtp_set_state(s, RM__SMTP_BODY);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Reply handlers                                                         */
/* ---------------------------------------------------------------------- */

static int is_2xx(int code)
{
	return code >= 200 && code < 300;
}

static int on_mail(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	rm__smtp_txn *x = s->txn;

	x->mail_replied = 1;
	if (!is_2xx(r->code)) {
		x->mail_failed = 1;
		decide(x, r, RM__SMTP_MAIL);
	}
	x->replied = 0;
	if (x->pipelined) {
		rm__smtp_set_state(s, RM__SMTP_RCPT);
		return RM_OK;
	}
	if (x->mail_failed)
		return end_txn(s, 1);
	return send_rcpt(s, err);
}

/* RFC 5321 section 4.5.3.1.10: 452, and 552 with x.5.3, mean "too many
 * recipients", to be sent in another transaction. */
static int too_many(const rm__reply *r)
{
	return r->code == 452 ||
	       (r->code == 552 && strcmp(r->enhanced, "5.5.3") == 0);
}

static int on_rcpt(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	rm__smtp_rcpt *rc = &x->rcpts[x->batch[x->replied++]];

	if (!x->mail_failed && is_2xx(r->code)) {
		note_rcpt(rc, RCPT_ACCEPTED, r);
		x->accepted++;
	} else if (!x->mail_failed) {
		note_rcpt(rc, too_many(r) ? RCPT_DEFERRED : RCPT_REFUSED, r);
	}
	if (x->replied < x->batch_count)
		return x->pipelined ? RM_OK : send_rcpt(s, err);
	if (x->pipelined) {
		rm__smtp_set_state(s, RM__SMTP_DATA);
		return RM_OK;
	}
	if (x->accepted == 0)
		return end_txn(s, 1);
	return rm__smtp_command(s, RM__SMTP_DATA, err, "DATA");
}

static int on_data(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	int usable = !x->mail_failed && x->accepted > 0;

	if (r->code == 354 && usable)
		return send_body(s, err);
	if (r->code == 354) {
		/* RFC 2920 section 3.1: DATA went through although no
		 * recipient did; an empty message ends it. */
		x->empty_data = 1;
		return rm__smtp_command(s, RM__SMTP_BODY, err, ".");
	}
	if (usable)
		decide(x, r, RM__SMTP_DATA);
	return end_txn(s, 1);
}

static void find_queue_id(const char *text, char *out, size_t size);

static int on_body(rm__smtp *s, const rm__reply *r)
{
	rm__smtp_txn *x = s->txn;

	if (x->empty_data)
		return end_txn(s, 1);
	decide(x, r, RM__SMTP_BODY);
	x->delivered = is_2xx(r->code);
	if (x->delivered && x->ok_code == 0) {
		x->ok_code = r->code;
		memcpy(x->ok_enhanced, r->enhanced, sizeof(x->ok_enhanced));
		set_text(&x->ok_text, r);
	}
	return end_txn(s, !x->delivered);
}

int rm__smtp_on_txn(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	switch (s->state) {
	case RM__SMTP_MAIL:
		return on_mail(s, r, err);
	case RM__SMTP_RCPT:
		return on_rcpt(s, r, err);
	case RM__SMTP_DATA:
		return on_data(s, r, err);
	default:
		return on_body(s, r);
	}
}

/* ---------------------------------------------------------------------- */
/* Running transactions                                                   */
/* ---------------------------------------------------------------------- */

/* Gathers the recipients still to send; 0 when there are none. */
static size_t next_batch(rm__smtp_txn *x)
{
	size_t i;

	x->batch_count = 0;
	for (i = 0; i < x->env.rcpt_count && x->batch_count < BATCH_MAX;
	     i++) {
		if (x->rcpts[i].state == RCPT_PENDING)
			x->batch[x->batch_count++] = i;
	}
	return x->batch_count;
}

static int run_txn(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	int rc;

	x->replied = x->accepted = 0;
	x->mail_failed = x->empty_data = x->final_sent = x->delivered = 0;
	x->mail_replied = 0;
	x->code = 0;
	x->stage = 0;
	x->pipelined = (s->caps.flags & RM__CAP_PIPELINING) != 0;
	rc = send_mail(s, err);
	if (rc == RM_OK)
		rc = rm__smtp_run(s, err);
	else
		rm__smtp_drop(s);
	return rc;
}

/* Makes deferred recipients pending again after a delivery. */
static void requeue_deferred(rm__smtp_txn *x)
{
	size_t i;

	for (i = 0; i < x->env.rcpt_count; i++) {
		if (x->rcpts[i].state == RCPT_DEFERRED)
			x->rcpts[i].state = RCPT_PENDING;
	}
}

/*
 * A kept connection the server had closed (end of stream, or a 421 it
 * sent before leaving) fails at MAIL, before anything of the batch was
 * accepted: one fresh try is safe. That holds for the batch after a 452
 * split as for the first: a server may close after each message.
 */
static int closed_before_mail(const rm__smtp *s, int rc,
                              const rm_error *err)
{
	return (rc == RM_ECLOSED ||
	        (rc == RM_ETEMPFAIL && err->reply_code == 421)) &&
	       !s->fresh && !s->txn->mail_replied;
}

static int run_all(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	int rc = RM_OK;

	while (next_batch(x) > 0) {
		rc = run_txn(s, err);
		if (closed_before_mail(s, rc, err)) {
			rm__logf(&s->t->log, RM_LOG_INFO, "kept connection was "
			         "closed by the server; reconnecting");
			rc = rm__smtp_ready(s, err);
			if (rc == RM_OK)
				rc = run_txn(s, err);
		}
		if (rc != RM_OK || !x->delivered)
			break;
		requeue_deferred(x);
		/* The next batch goes on this connection: not made for it. */
		s->fresh = 0;
		rc = rm__smtp_ready(s, err);
		if (rc != RM_OK)
			break;
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Before the first command: checks that need no server round trip       */
/* ---------------------------------------------------------------------- */

static int check_smtputf8(rm__smtp *s, rm_error *err)
{
	if (!s->txn->smtputf8 || (s->caps.flags & RM__CAP_SMTPUTF8))
		return RM_OK;
	return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER, "to",
	                "the message has an address with a UTF-8 local part, "
	                "which needs SMTPUTF8 (RFC 6531), and %s does not "
	                "offer it", s->conn.where);
}

static int check_size(rm__smtp *s, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	rm__write_opts o = { x->smtputf8, s->t->dkim };
	int rc;

	if (!(s->caps.flags & RM__CAP_SIZE))
		return RM_OK;
	rc = rm__message_measure(x->msg, &o, &x->size, err);
	if (rc != RM_OK)
		return rc;
	if (s->caps.max_size > 0 && x->size > s->caps.max_size)
		return rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		                "size", "the message is %llu octets and %s "
		                "takes at most %llu (SIZE)",
		                (unsigned long long)x->size, s->conn.where,
		                (unsigned long long)s->caps.max_size);
	return RM_OK;
}

static int check_envelope(rm__smtp_txn *x, rm_error *err)
{
	size_t i;

	/* The envelope comes from the address parser; a CR or LF here
	 * would still end the command line, so check once more. */
	if (x->env.from != NULL &&
	    rm__has_crlf_nul(x->env.from, strlen(x->env.from)))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "from", "the envelope sender holds CR or LF");
	for (i = 0; i < x->env.rcpt_count; i++) {
		if (rm__has_crlf_nul(x->env.rcpts[i],
		                     strlen(x->env.rcpts[i])))
			return rm__fail(err, RM_EINVAL,
			                RM_OUTCOME_PERM_RECIPIENT, "to",
			                "a recipient holds CR or LF");
	}
	if (x->env.rcpt_count == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_RECIPIENT, "to",
		                "the message has no recipient");
	return RM_OK;
}

static int txn_setup(rm__smtp *s, rm__smtp_txn *x, rm_message *msg,
                     rm_error *err)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->msg = msg;
	x->smtputf8 = rm__message_needs_smtputf8(msg);
	s->txn = x;
	rc = rm__message_envelope(msg, x->smtputf8, &x->env, err);
	if (rc != RM_OK)
		return rc;
	x->rcpts = calloc(x->env.rcpt_count + 1, sizeof(*x->rcpts));
	x->batch = calloc(x->env.rcpt_count + 1, sizeof(*x->batch));
	if (x->rcpts == NULL || x->batch == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory preparing the envelope");
	return check_envelope(x, err);
}

static int prepare(rm__smtp *s, rm__smtp_txn *x, rm_message *msg,
                   rm_error *err)
{
	int rc = txn_setup(s, x, msg, err);

	s->fresh = 0;
	if (rc == RM_OK)
		rc = rm__smtp_ready(s, err);
	if (rc == RM_OK)
		rc = check_smtputf8(s, err);
	if (rc == RM_OK)
		rc = check_size(s, err);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The result                                                             */
/* ---------------------------------------------------------------------- */

/* Finds "queued as ID", "queued as <ID>" or "id=ID" in a final reply. */
static void find_queue_id(const char *text, char *out, size_t size)
{
	static const char *const marks[] = { "queued as ", "id=" };
	const char *p;
	size_t i, len;

	out[0] = '\0';
	for (i = 0; i < RM__ARRAY_LEN(marks); i++) {
		len = strlen(marks[i]);
		for (p = text; *p != '\0'; p++) {
			if (rm__strncaseeq(p, marks[i], len))
				break;
		}
		if (*p == '\0')
			continue;
		p += len;
		p += *p == '<';
		len = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@");
		if (len > 0 && len < size) {
			memcpy(out, p, len);
			out[len] = '\0';
			return;
		}
	}
}

static rm_outcome rcpt_outcome(const rm__smtp_rcpt *rc, int rc_code,
                               const rm_error *e)
{
	if (rc->state == RCPT_DELIVERED)
		return RM_OUTCOME_DELIVERED;
	if (rc->state == RCPT_PENDING || rc->state == RCPT_ACCEPTED)
		return rc_code != RM_OK ? e->outcome : RM_OUTCOME_TRANSIENT;
	return rm__smtp_class(rc->code, RM_OUTCOME_PERM_RECIPIENT);
}

/* 0 while no recipient was answered: the send failed before any RCPT
 * reply (or a reply to MAIL, DATA or the dot that decided for it). */
static int any_answered(const rm__smtp_txn *x)
{
	size_t i;

	for (i = 0; i < x->env.rcpt_count; i++) {
		if (x->rcpts[i].state != RCPT_PENDING)
			return 1;
	}
	return 0;
}

/*
 * One status per recipient once any was answered. A recipient that
 * never got a reply has none to show; one whose RCPT was accepted
 * before the transaction broke off keeps that reply, so it does not
 * read as refused.
 */
static int add_recipients(rm__smtp_txn *x, rm_result *r, int rc,
                          const rm_error *e)
{
	size_t i;

	if (!any_answered(x))
		return RM_OK;
	for (i = 0; i < x->env.rcpt_count; i++) {
		const rm__smtp_rcpt *p = &x->rcpts[i];
		int unanswered = p->state == RCPT_PENDING;

		if (rm__result_add_recipient(r, x->env.rcpts[i],
		                             p->state == RCPT_DELIVERED,
		                             rcpt_outcome(p, rc, e),
		                             unanswered ? 0 : p->code,
		                             unanswered ? "" : p->enhanced,
		                             unanswered ? e->message :
		                             p->text) != RM_OK)
			return RM_ENOMEM;
	}
	return RM_OK;
}

static int delivered_count(const rm__smtp_txn *x)
{
	size_t i;
	int n = 0;

	for (i = 0; i < x->env.rcpt_count; i++)
		n += x->rcpts[i].state == RCPT_DELIVERED;
	return n;
}

/* The first refused recipient speaks for all when none was taken. */
static int fail_all_refused(rm__smtp_txn *x, rm_result *r, rm_error *err)
{
	const rm__smtp_rcpt *first = NULL;
	int all_temp = 1;
	size_t i;

	for (i = 0; i < x->env.rcpt_count; i++) {
		const rm__smtp_rcpt *p = &x->rcpts[i];

		if (first == NULL)
			first = p;
		if (p->code < 400 || p->code >= 500)
			all_temp = 0;
	}
	rm__result_set_final(r, all_temp ? RM_OUTCOME_TRANSIENT :
	                     RM_OUTCOME_PERM_RECIPIENT, first->code,
	                     first->enhanced, first->text);
	return rm__result_fail(r, err, all_temp ? RM_ETEMPFAIL : RM_EREJECTED,
	                       "every recipient was refused%s; the first: "
	                       "%d %s", all_temp ? " for now" : "",
	                       first->code, first->text);
}

/* MAIL, DATA or the final dot was refused. */
static int fail_message(rm__smtp_txn *x, rm_result *r, rm_error *err)
{
	static const char *const what[] = {
		"MAIL FROM", "DATA", "the message"
	};
	int i = x->stage == RM__SMTP_MAIL ? 0 : x->stage == RM__SMTP_DATA;
	int code = x->code >= 500 ? RM_EREJECTED : RM_ETEMPFAIL;

	if (x->stage == RM__SMTP_BODY)
		i = 2;
	/* A success code where 354 or a refusal belongs. */
	if (x->code < 400)
		code = RM_EPROTOCOL;
	if (x->code == 552 && strcmp(x->enhanced, "5.5.3") != 0)
		code = RM_ETOOBIG;
	rm__result_set_final(r, code == RM_EPROTOCOL ? RM_OUTCOME_TRANSIENT :
	                     rm__smtp_class(x->code, RM_OUTCOME_PERM_PROVIDER),
	                     x->code, x->enhanced, x->text);
	return rm__result_fail(r, err, code, "the server refused %s: %d%s%s "
	                       "%s", what[i], x->code, x->enhanced[0] ? " " :
	                       "", x->enhanced, x->text != NULL ? x->text :
	                       "");
}

static int finish(rm__smtp *s, rm_result *r, int rc, rm_error *err)
{
	rm__smtp_txn *x = s->txn;
	char qid[128];

	if (add_recipients(x, r, rc, err) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory filling the result");
	if (delivered_count(x) > 0) {
		find_queue_id(x->ok_text != NULL ? x->ok_text : "", qid,
		              sizeof(qid));
		rm__result_set_queue_id(r, qid);
		rm__result_set_final(r, RM_OUTCOME_DELIVERED, x->ok_code,
		                     x->ok_enhanced, x->ok_text);
		return RM_OK;
	}
	if (rc != RM_OK) {
		rm__result_set_final(r, err->outcome, err->reply_code,
		                     err->enhanced_status, err->message);
		return rc;
	}
	if (x->code != 0)
		return fail_message(x, r, err);
	return fail_all_refused(x, r, err);
}

int rm__smtp_send(rm__smtp *s, rm_message *msg, rm_result *result,
                  rm_error *err)
{
	rm__smtp_txn x;
	rm_error e;
	int rc;

	rm__error_clear(&e);
	rc = prepare(s, &x, msg, &e);
	if (rc == RM_OK)
		rc = run_all(s, &e);
	if (x.env.rcpts != NULL && x.rcpts != NULL)
		rc = finish(s, result, rc, &e);
	else
		rm__result_set_final(result, e.outcome, e.reply_code,
		                     e.enhanced_status, e.message);
	s->txn = NULL;
	txn_free(&x);
	if (err != NULL && rc != RM_OK)
		*err = e;
	return rc;
}
