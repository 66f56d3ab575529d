/*
 * The writer: serialises a message as RFC 5322 / MIME bytes through the
 * caller's callback, in large blocks, streaming attached files.
 *
 * Layout: multipart/mixed holds the body and the attachments;
 * multipart/related (RFC 2387) holds the HTML (or the alternative) and
 * the inline parts; multipart/alternative (RFC 2046 5.1.4) holds the
 * text, then the HTML. Levels that would hold one part are left out.
 *
 * Standards: RFC 5322 (2.1.1 line length, 3.6 fields), RFC 2045 (6
 * transfer encodings), RFC 2046 (5.1.1 boundaries), RFC 2183, RFC 2392.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message_int.h"

/* Bytes handed to the callback at once: few, large writes. */
#define OUT_CAP (64 * 1024)

/* Bytes read from an attached file at once: whole 57-byte base64 lines,
 * so the lines of one read join those of the next. */
#define FILE_CHUNK (57 * 864)

/* Headers of one message stay below this (10000 recipients fit). */
#define HEADER_MAX (16 * 1024 * 1024)

/* Words longer than this in a Subject become encoded-words so that a
 * line can fold; custom values keep words up to the 998-octet limit. */
#define SUBJECT_WORD 75
#define CUSTOM_WORD 900

typedef struct writer {
	rm_write_fn fn;
	void *user;
	rm_error *err;
	rm_message *msg;
	char *buf;              /* OUT_CAP bytes waiting for the callback */
	size_t len;
	unsigned char *chunk;   /* FILE_CHUNK bytes, made on first use */
	int utf8;               /* addresses as raw UTF-8 (RFC 6532) */
	unsigned seq;           /* boundaries made so far */
} writer;

typedef enum kind {
	K_NONE = 0,
	K_MIXED,
	K_RELATED,
	K_ALTERNATIVE,
	K_TEXT,
	K_HTML
} kind;

/* ---------------------------------------------------------------------- */
/* Output                                                                 */
/* ---------------------------------------------------------------------- */

static int w_flush(writer *w)
{
	if (w->len == 0)
		return RM_OK;
	if (w->fn(w->buf, w->len, w->user) != 0)
		return rm__fail(w->err, RM_ECALLBACK, RM_OUTCOME_NONE, NULL,
		                "the write callback asked to stop");
	w->len = 0;
	return RM_OK;
}

static int w_put(writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		size_t n = OUT_CAP - w->len;

		if (n > len)
			n = len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len == OUT_CAP && w_flush(w) != RM_OK)
			return RM_ECALLBACK;
	}
	return RM_OK;
}

static int w_str(writer *w, const char *s)
{
	return w_put(w, s, strlen(s));
}

/* Base64 lines straight into the output buffer. */
static int w_base64(writer *w, const unsigned char *data, size_t len)
{
	while (len > 0) {
		size_t lines = (OUT_CAP - w->len) / 78, n;

		if (lines == 0) {
			if (w_flush(w) != RM_OK)
				return RM_ECALLBACK;
			continue;
		}
		n = lines * 57 < len ? lines * 57 : len;
		w->len += rm__base64_lines(w->buf + w->len, data, n);
		data += n;
		len -= n;
	}
	return RM_OK;
}

static int w_qp(writer *w, const void *data, size_t len)
{
	rm__qp q;

	rm__qp_init(&q, data, len);
	while (q.pos < q.len) {
		if (OUT_CAP - w->len < RM__QP_MIN_ROOM &&
		    w_flush(w) != RM_OK)
			return RM_ECALLBACK;
		w->len += rm__qp_encode_some(&q, w->buf + w->len,
		                             OUT_CAP - w->len);
	}
	return RM_OK;
}

static int w_content(writer *w, const void *data, size_t len, rm__cte cte)
{
	switch (cte) {
	case RM__CTE_7BIT:
		return w_put(w, data, len);
	case RM__CTE_QP:
		return w_qp(w, data, len);
	case RM__CTE_BASE64:
		return w_base64(w, data, len);
	}
	return RM_EINVAL;
}

/* Reads up to want bytes, fewer only at the end of the file. */
static ssize_t read_full(int fd, unsigned char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int file_changed(writer *w, const char *path, const char *field)
{
	return rm__fail(w->err, RM_EIO, RM_OUTCOME_NONE, field,
	                "%s: '%s' changed size while it was being sent",
	                field, path);
}

/*
 * Copies exactly the size the file had when it was opened. A file that
 * shrinks or grows meanwhile is an error, not a shorter or longer
 * attachment: the transport then abandons the message (SMTP closes the
 * connection before the final dot) instead of delivering something
 * other than what was attached. The bound also ends the read of a file
 * that keeps growing.
 */
static int w_file_bytes(writer *w, int fd, off_t size, const char *path,
                        const char *field)
{
	struct stat st;
	off_t left = size;
	int rc;

	while (left > 0) {
		size_t want = left < FILE_CHUNK ? (size_t)left : FILE_CHUNK;
		ssize_t n = read_full(fd, w->chunk, want);

		if (n < 0)
			return rm__fail(w->err, RM_EIO, RM_OUTCOME_NONE, field,
			                "%s: reading '%s' failed: %s", field,
			                path, strerror(errno));
		if ((size_t)n < want)
			return file_changed(w, path, field);
		rc = w_base64(w, w->chunk, want);
		if (rc != RM_OK)
			return rc;
		left -= (off_t)want;
	}
	if (fstat(fd, &st) != 0 || st.st_size != size)
		return file_changed(w, path, field);
	return RM_OK;
}

static int w_file(writer *w, const char *path, const char *field)
{
	struct stat st;
	int fd, rc;

	if (w->chunk == NULL && (w->chunk = malloc(FILE_CHUNK)) == NULL)
		return rm__fail(w->err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory reading '%s'", path);
	fd = rm__open_regular(path, field, &st, w->err);
	if (fd < 0)
		return RM_EIO;
	rc = w_file_bytes(w, fd, st.st_size, path, field);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Header fields                                                          */
/* ---------------------------------------------------------------------- */

static int hdr_simple(rm__buf *h, const char *name, const char *value)
{
	rm__fold f;
	int rc = rm__fold_start(&f, h, name);

	if (rc == RM_OK)
		rc = rm__fold_atom(&f, " ", 1, value, strlen(value));
	return rc == RM_OK ? rm__fold_end(&f) : rc;
}

/* One mailbox: [phrase] <addr-spec>, or a bare addr-spec. */
static int fold_mailbox(writer *w, rm__fold *f, const rm__mailbox *mb,
                        int last)
{
	rm__buf a;
	int rc;

	rm__buf_init(&a, 1024);
	if (mb->name != NULL)
		rc = rm__buf_append_byte(&a, '<');
	else
		rc = RM_OK;
	if (rc == RM_OK)
		rc = rm__mailbox_addr_spec(mb, w->utf8, &a);
	if (rc == RM_OK && mb->name != NULL)
		rc = rm__buf_append_byte(&a, '>');
	if (rc == RM_OK && !last)
		rc = rm__buf_append_byte(&a, ',');
	if (rc == RM_OK && mb->name != NULL)
		rc = rm__fold_phrase(f, mb->name);
	if (rc == RM_OK)
		rc = rm__fold_atom(f, " ", 1, a.data, a.len);
	rm__buf_free(&a);
	return rc;
}

/* An address list folds after its commas (RFC 5322 3.4). */
static int hdr_mailboxes(writer *w, rm__buf *h, const char *name,
                         const rm__mblist *l)
{
	rm__fold f;
	size_t i;
	int rc;

	if (l->count == 0)
		return RM_OK;
	rc = rm__fold_start(&f, h, name);
	for (i = 0; rc == RM_OK && i < l->count; i++)
		rc = fold_mailbox(w, &f, &l->items[i], i + 1 == l->count);
	return rc == RM_OK ? rm__fold_end(&f) : rc;
}

static int hdr_text(rm__buf *h, const char *name, const char *value,
                    size_t long_word)
{
	rm__fold f;
	int rc = rm__fold_start(&f, h, name);

	if (rc == RM_OK)
		rc = rm__fold_text(&f, value, strlen(value), long_word);
	return rc == RM_OK ? rm__fold_end(&f) : rc;
}

static int hdr_date(writer *w, rm__buf *h)
{
	rm_message *msg = w->msg;
	time_t when = msg->date;
	int off = msg->date_offset;
	char date[64];
	struct tm tm;

	/* Default: now in the local zone; reproducible: the epoch in UTC. */
	if (!msg->date_set && msg->reproducible) {
		when = 0;
		off = 0;
	} else if (!msg->date_set) {
		when = msg->prepared_at != 0 ? msg->prepared_at : time(NULL);
		off = localtime_r(&when, &tm) ? (int)(tm.tm_gmtoff / 60) : 0;
	}
	if (rm__format_date(date, sizeof(date), when, off) != RM_OK)
		return RM_EINVAL;
	return hdr_simple(h, "Date", date);
}

static int hdr_references(rm__buf *h, const rm_message *msg)
{
	rm__fold f;
	size_t i;
	int rc;

	if (msg->reference_count == 0)
		return RM_OK;
	rc = rm__fold_start(&f, h, "References");
	for (i = 0; rc == RM_OK && i < msg->reference_count; i++)
		rc = rm__fold_atom(&f, " ", 1, msg->references[i],
		                   strlen(msg->references[i]));
	return rc == RM_OK ? rm__fold_end(&f) : rc;
}

static int hdr_custom(rm__buf *h, const rm_message *msg)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; rc == RM_OK && i < msg->header_count; i++)
		rc = hdr_text(h, msg->headers[i].name, msg->headers[i].value,
		              CUSTOM_WORD);
	return rc;
}

static int top_headers(writer *w, rm__buf *h)
{
	rm_message *msg = w->msg;
	int rc = hdr_date(w, h);

	if (rc == RM_OK)
		rc = hdr_mailboxes(w, h, "From", &msg->from);
	if (rc == RM_OK)
		rc = hdr_mailboxes(w, h, "Sender", &msg->sender);
	if (rc == RM_OK)
		rc = hdr_mailboxes(w, h, "Reply-To", &msg->reply_to);
	if (rc == RM_OK)
		rc = hdr_mailboxes(w, h, "To", &msg->to);
	if (rc == RM_OK)
		rc = hdr_mailboxes(w, h, "Cc", &msg->cc);
	if (rc == RM_OK && msg->subject != NULL)
		rc = hdr_text(h, "Subject", msg->subject, SUBJECT_WORD);
	if (rc == RM_OK)
		rc = hdr_simple(h, "Message-ID", msg->message_id);
	if (rc == RM_OK && msg->in_reply_to != NULL)
		rc = hdr_simple(h, "In-Reply-To", msg->in_reply_to);
	if (rc == RM_OK)
		rc = hdr_references(h, msg);
	if (rc == RM_OK)
		rc = rm__buf_append_str(h, "MIME-Version: 1.0\r\n");
	if (rc == RM_OK)
		rc = hdr_custom(h, msg);
	return rc;
}

static int write_top_headers(writer *w)
{
	rm__buf h;
	int rc;

	rm__buf_init(&h, HEADER_MAX);
	rc = top_headers(w, &h);
	if (rc == RM_OK)
		rc = w_put(w, h.data, h.len);
	else
		rc = rm__fail(w->err, rc, RM_OUTCOME_NONE, "headers",
		              "cannot build the header fields: %s",
		              rm_strerror(rc));
	rm__buf_free(&h);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Structure                                                              */
/* ---------------------------------------------------------------------- */

static int has_body(const rm_message *msg)
{
	return msg->text.data != NULL || msg->html.data != NULL;
}

static size_t count_parts(const rm_message *msg, int inline_parts)
{
	size_t i, n = 0;

	for (i = 0; i < msg->part_count; i++)
		if ((msg->parts[i].content_id != NULL) == (inline_parts != 0))
			n++;
	return n;
}

/* Inline parts go into multipart/related only when there is a body to
 * refer to them; otherwise they are listed with the attachments. */
static int use_related(const rm_message *msg)
{
	return has_body(msg) && count_parts(msg, 1) > 0;
}

static kind body_kind(const rm_message *msg)
{
	if (msg->text.data != NULL && msg->html.data != NULL)
		return K_ALTERNATIVE;
	if (msg->text.data != NULL)
		return K_TEXT;
	return msg->html.data != NULL ? K_HTML : K_NONE;
}

static kind top_kind(const rm_message *msg)
{
	if (count_parts(msg, 0) > 0 || (!has_body(msg) && msg->part_count))
		return K_MIXED;
	return use_related(msg) ? K_RELATED : body_kind(msg);
}

/* Makes the message's random boundary stem once; it is kept so that
 * every write of the message gives the same bytes (measured for SIZE,
 * signed by DKIM, then sent). */
static int boundary_seed(writer *w)
{
	unsigned char rnd[12];

	if (w->msg->boundary_seed[0] != '\0')
		return RM_OK;
	if (rm__random(rnd, sizeof(rnd)) != RM_OK)
		return rm__fail(w->err, RM_EIO, RM_OUTCOME_TRANSIENT, NULL,
		                "could not read random bytes for a boundary");
	rm__hex_lower(w->msg->boundary_seed, rnd, sizeof(rnd));
	return RM_OK;
}

/* A boundary holds "=_", which quoted-printable and base64 never make
 * and which forces 7bit parts holding it into quoted-printable (RFC 2046
 * 5.1.1: the boundary must not occur in the parts). */
static int make_boundary(writer *w, char *out, size_t size)
{
	int rc;

	w->seq++;
	if (w->msg->reproducible) {
		snprintf(out, size, "=_rm_%04u_reproducible_boundary", w->seq);
		return RM_OK;
	}
	rc = boundary_seed(w);
	if (rc == RM_OK)
		snprintf(out, size, "=_rm_%s_%u", w->msg->boundary_seed,
		         w->seq);
	return rc;
}

static int multipart_head(writer *w, const char *subtype, const char *type,
                          const char *boundary)
{
	rm__buf h;
	rm__fold f;
	int rc;

	rm__buf_init(&h, 4096);
	rc = rm__fold_start(&f, &h, "Content-Type");
	if (rc == RM_OK)
		rc = rm__fold_atom(&f, " ", 1, subtype, strlen(subtype));
	if (rc == RM_OK && type != NULL)
		rc = rm__fold_param(&f, "type", type);
	if (rc == RM_OK)
		rc = rm__fold_param(&f, "boundary", boundary);
	if (rc == RM_OK)
		rc = rm__fold_end(&f);
	if (rc == RM_OK)
		rc = rm__buf_append(&h, "\r\n", 2);
	if (rc == RM_OK)
		rc = w_put(w, h.data, h.len);
	rm__buf_free(&h);
	return rc;
}

/* "--boundary" before a part; the CRLF before it belongs to it. */
static int delimiter(writer *w, const char *boundary, int first, int close)
{
	int rc = first ? RM_OK : w_put(w, "\r\n", 2);

	if (rc == RM_OK)
		rc = w_put(w, "--", 2);
	if (rc == RM_OK)
		rc = w_str(w, boundary);
	if (rc == RM_OK)
		rc = w_str(w, close ? "--\r\n" : "\r\n");
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Leaf parts                                                             */
/* ---------------------------------------------------------------------- */

static int write_body_part(writer *w, const rm__body *b, const char *type)
{
	char head[160];

	snprintf(head, sizeof(head),
	         "Content-Type: %s; charset=utf-8\r\n"
	         "Content-Transfer-Encoding: %s\r\n\r\n", type,
	         rm__cte_name(b->cte));
	if (w_str(w, head) != RM_OK)
		return RM_ECALLBACK;
	return w_content(w, b->data, b->len, b->cte);
}

/* Content-Type with the name parameter, in the chosen form. */
static int part_type(writer *w, rm__fold *f, const rm__part *p)
{
	int rc = rm__fold_atom(f, " ", 1, p->content_type,
	                       strlen(p->content_type));
	size_t i, len = strlen(p->filename);
	int high = 0;

	for (i = 0; i < len; i++)
		high |= (unsigned char)p->filename[i] >= 0x80;
	if (rc != RM_OK)
		return rc;
	if (!w->msg->compat_filenames || !high)
		return rm__fold_param(f, "name", p->filename);
	rc = rm__fold_raw(f, ";");
	if (rc == RM_OK)
		rc = rm__fold_words(f, " ", p->filename, len, "name=\"",
		                    "\"");
	return rc;
}

static int part_headers(writer *w, const rm__part *p, rm__buf *h)
{
	const char *disp = p->content_id != NULL ? "inline" : "attachment";
	rm__fold f;
	int rc = rm__fold_start(&f, h, "Content-Type");

	if (rc == RM_OK)
		rc = part_type(w, &f, p);
	if (rc == RM_OK)
		rc = rm__fold_end(&f);
	if (rc == RM_OK)
		rc = rm__buf_printf(h, "Content-Transfer-Encoding: %s\r\n",
		                    rm__cte_name(p->cte));
	if (rc == RM_OK)
		rc = rm__fold_start(&f, h, "Content-Disposition");
	if (rc == RM_OK)
		rc = rm__fold_atom(&f, " ", 1, disp, strlen(disp));
	if (rc == RM_OK)
		rc = rm__fold_param(&f, "filename", p->filename);
	if (rc == RM_OK)
		rc = rm__fold_end(&f);
	if (rc == RM_OK && p->content_id != NULL)
		rc = rm__buf_printf(h, "Content-ID: <%s>\r\n", p->content_id);
	if (rc == RM_OK)
		rc = rm__buf_append(h, "\r\n", 2);
	return rc;
}

static int write_part(writer *w, const rm__part *p, size_t index)
{
	char field[48];
	rm__buf h;
	int rc;

	snprintf(field, sizeof(field), "attachment[%zu]", index);
	rm__buf_init(&h, 64 * 1024);
	rc = part_headers(w, p, &h);
	if (rc != RM_OK)
		rc = rm__fail(w->err, rc, RM_OUTCOME_NONE, field,
		              "cannot build the part headers: %s",
		              rm_strerror(rc));
	else
		rc = w_put(w, h.data, h.len);
	rm__buf_free(&h);
	if (rc != RM_OK)
		return rc;
	if (p->path != NULL)
		return w_file(w, p->path, field);
	return w_content(w, p->data, p->len, p->cte);
}

/* ---------------------------------------------------------------------- */
/* Multiparts                                                             */
/* ---------------------------------------------------------------------- */

static int write_entity(writer *w, kind k);

static int write_parts(writer *w, const char *boundary, int inline_parts,
                       int first)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; rc == RM_OK && i < w->msg->part_count; i++) {
		const rm__part *p = &w->msg->parts[i];

		if (inline_parts >= 0 &&
		    (p->content_id != NULL) != (inline_parts != 0))
			continue;
		rc = delimiter(w, boundary, first, 0);
		if (rc == RM_OK)
			rc = write_part(w, p, i);
		first = 0;
	}
	return rc;
}

static int write_alternative(writer *w)
{
	char b[64];
	int rc = make_boundary(w, b, sizeof(b));

	if (rc == RM_OK)
		rc = multipart_head(w, "multipart/alternative", NULL, b);
	if (rc == RM_OK)
		rc = delimiter(w, b, 1, 0);
	if (rc == RM_OK)
		rc = write_entity(w, K_TEXT);
	if (rc == RM_OK)
		rc = delimiter(w, b, 0, 0);
	if (rc == RM_OK)
		rc = write_entity(w, K_HTML);
	if (rc == RM_OK)
		rc = delimiter(w, b, 0, 1);
	return rc;
}

static int write_related(writer *w)
{
	kind root = body_kind(w->msg);
	const char *type = root == K_ALTERNATIVE ? "multipart/alternative" :
	                   root == K_HTML ? "text/html" : "text/plain";
	char b[64];
	int rc = make_boundary(w, b, sizeof(b));

	/* RFC 2387 3.1: the type parameter names the root part's type. */
	if (rc == RM_OK)
		rc = multipart_head(w, "multipart/related", type, b);
	if (rc == RM_OK)
		rc = delimiter(w, b, 1, 0);
	if (rc == RM_OK)
		rc = write_entity(w, root);
	if (rc == RM_OK)
		rc = write_parts(w, b, 1, 0);
	if (rc == RM_OK)
		rc = delimiter(w, b, 0, 1);
	return rc;
}

static int write_mixed(writer *w)
{
	kind first = use_related(w->msg) ? K_RELATED : body_kind(w->msg);
	char b[64];
	int rc = make_boundary(w, b, sizeof(b));

	if (rc == RM_OK)
		rc = multipart_head(w, "multipart/mixed", NULL, b);
	if (rc == RM_OK && first != K_NONE) {
		rc = delimiter(w, b, 1, 0);
		if (rc == RM_OK)
			rc = write_entity(w, first);
	}
	if (rc == RM_OK)
		rc = write_parts(w, b, first == K_RELATED ? 0 : -1,
		                 first == K_NONE);
	if (rc == RM_OK)
		rc = delimiter(w, b, 0, 1);
	return rc;
}

static int write_entity(writer *w, kind k)
{
	switch (k) {
	case K_MIXED:
		return write_mixed(w);
	case K_RELATED:
		return write_related(w);
	case K_ALTERNATIVE:
		return write_alternative(w);
	case K_TEXT:
		return write_body_part(w, &w->msg->text, "text/plain");
	case K_HTML:
		return write_body_part(w, &w->msg->html, "text/html");
	case K_NONE:
		break;
	}
	return RM_OK;
}

/* 1 if a single-part message's content already ends with CRLF. */
static int ends_with_crlf(const rm_message *msg, kind k)
{
	const rm__body *b = k == K_TEXT ? &msg->text : &msg->html;

	if (k != K_TEXT && k != K_HTML)
		return 1;
	if (b->cte == RM__CTE_BASE64)
		return b->len > 0;
	return b->len >= 2 && b->data[b->len - 2] == '\r' &&
	       b->data[b->len - 1] == '\n';
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                           */
/* ---------------------------------------------------------------------- */

int rm__message_needs_smtputf8(const rm_message *msg)
{
	const rm__mblist *lists[6];
	size_t i, j;

	lists[0] = &msg->from;
	lists[1] = &msg->sender;
	lists[2] = &msg->to;
	lists[3] = &msg->cc;
	lists[4] = &msg->bcc;
	lists[5] = &msg->reply_to;
	if (msg->envelope_from != NULL && msg->envelope_from->utf8_local)
		return 1;
	for (i = 0; i < RM__ARRAY_LEN(lists); i++)
		for (j = 0; j < lists[i]->count; j++)
			if (lists[i]->items[j].utf8_local)
				return 1;
	return 0;
}

static int write_all(writer *w)
{
	kind k = top_kind(w->msg);
	int rc = write_top_headers(w);

	if (rc == RM_OK)
		rc = write_entity(w, k);
	if (rc == RM_OK && !ends_with_crlf(w->msg, k))
		rc = w_put(w, "\r\n", 2);
	if (rc == RM_OK)
		rc = w_flush(w);
	return rc;
}

static int check_write(rm_message *msg, const rm__write_opts *opts,
                       rm_write_fn write, rm_error *err)
{
	int rc;

	if (msg == NULL || write == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                msg == NULL ? "msg" : "write",
		                "%s must not be NULL", msg ? "write" : "msg");
	rc = rm__message_check_complete(msg, err);
	if (rc != RM_OK)
		return rc;
	if (rm__message_needs_smtputf8(msg) && !opts->smtputf8)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
		                NULL, "the message has an address with a "
		                "UTF-8 local part, which needs SMTPUTF8 "
		                "(RFC 6531), and the relay lacks it");
	return rm__message_ensure_id(msg, err);
}

int rm__message_write_with(rm_message *msg, const rm__write_opts *opts,
                           rm_write_fn write, void *user, rm_error *err)
{
	static const rm__write_opts defaults = { 0 };
	writer w;
	int rc;

	/* No options: a relay without SMTPUTF8, the strictest case. */
	if (opts == NULL)
		opts = &defaults;
	rm__error_clear(err);
	rc = check_write(msg, opts, write, err);
	if (rc != RM_OK)
		return rc;
	if (opts->dkim != NULL)
		return rm__dkim_write(msg, opts, write, user, err);
	if (msg->raw != NULL)
		return rm__raw_write(msg, write, user, err);

	memset(&w, 0, sizeof(w));
	w.fn = write;
	w.user = user;
	w.err = err;
	w.msg = msg;
	w.utf8 = opts->smtputf8 && rm__message_needs_smtputf8(msg);
	w.buf = malloc(OUT_CAP);
	if (w.buf == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory writing the message");
	rc = write_all(&w);
	free(w.buf);
	free(w.chunk);
	return rc;
}
