/*
 * Raw messages: a message the caller built elsewhere, sent as its own
 * bytes. Only what the envelope needs is parsed (From, Sender, To, Cc,
 * Bcc), Bcc fields are removed, line ends become CRLF, and the writer
 * emits the bytes instead of rendering the model.
 *
 * Standards: RFC 5322 (2.1 header and body, 2.2 fields, 2.2.3 folding,
 * 3.4 address lists and groups, 3.6.3 Bcc, 3.6 Date and Message-ID are
 * expected in every message), RFC 6409 section 8 (a submission agent may
 * add a missing Date and Message-ID), RFC 4155 (the mbox "From " line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message_int.h"

/* The largest raw message accepted: a bound on memory, not a policy. */
#define RAW_MAX ((size_t)1024 * 1024 * 1024)

/* One unfolded address field value is at most this long. */
#define FIELD_MAX (1024 * 1024)

/* Bytes handed to the write callback at once. */
#define WRITE_CHUNK (64 * 1024)

/* One header field of the input: [start, end) covers its lines. */
typedef struct field {
	const char *start;
	size_t len;          /* with the final CRLF */
	size_t name_len;
	const char *value;   /* after the colon */
	size_t value_len;    /* without the final CRLF */
} field;

/* What the parse found, kept apart until it cannot fail any more. */
typedef struct raw_parse {
	rm_message *msg;     /* a fresh message receiving the addresses */
	rm__buf out;         /* the header section as it will be sent */
	const char *body;    /* the rest, from the empty line on */
	size_t body_len;
	int add_blank;       /* the header ended without an empty line */
	int has_date;
	int has_msgid;
} raw_parse;

/* ---------------------------------------------------------------------- */
/* Header lines                                                           */
/* ---------------------------------------------------------------------- */

/* The length of the line at p (CRLF included), within end. */
static size_t line_len(const char *p, const char *end)
{
	const char *q = p;

	while (q + 1 < end && !(q[0] == '\r' && q[1] == '\n'))
		q++;
	return q + 1 < end ? (size_t)(q - p) + 2 : (size_t)(end - p);
}

/* The length of a field name at p (RFC 5322 2.2: printable ASCII
 * except ':'), or 0 when the line does not start a field. */
static size_t name_len(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && p[i] != ':'; i++)
		if ((unsigned char)p[i] <= 32 || (unsigned char)p[i] >= 127)
			return 0;
	return i < len ? i : 0;
}

/* Reads the field at p with its continuation lines (RFC 5322 2.2.3).
 * Returns 0 when p does not start a field. */
static int next_field(const char *p, const char *end, field *f)
{
	size_t n = line_len(p, end);

	memset(f, 0, sizeof(*f));
	f->name_len = name_len(p, n);
	if (f->name_len == 0)
		return 0;
	f->start = p;
	f->len = n;
	while (p + f->len < end && (p[f->len] == ' ' || p[f->len] == '\t'))
		f->len += line_len(p + f->len, end);
	f->value = p + f->name_len + 1;
	f->value_len = f->len - f->name_len - 1;
	if (f->value_len >= 2 && f->value[f->value_len - 2] == '\r')
		f->value_len -= 2;
	return 1;
}

static int is_field(const field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	       rm__strncaseeq(f->start, name, f->name_len);
}

/* ---------------------------------------------------------------------- */
/* Address field values                                                   */
/* ---------------------------------------------------------------------- */

/* Unfolds a value: CRLF pairs go, tabs become spaces. */
static char *unfold(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	size_t i, n = 0;

	if (s == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		s[n++] = v[i] == '\t' ? ' ' : v[i];
	}
	s[n] = '\0';
	return s;
}

/* Where the scan of a value is: inside quotes, comments, brackets. */
typedef struct scan {
	int quoted, comment, angle, literal;
} scan;

/* Advances the scan past s[i]; returns 1 if s[i] is outside every
 * quoted string, comment, angle address and domain literal. */
static int scan_step(scan *st, const char *s, size_t *i)
{
	char c = s[*i];

	if ((st->quoted || st->comment) && c == '\\' && s[*i + 1] != '\0') {
		(*i)++;
		return 0;
	}
	if (st->quoted)
		st->quoted = c != '"';
	else if (c == '"' && !st->comment)
		st->quoted = 1;
	else if (c == '(')
		st->comment++;
	else if (c == ')' && st->comment > 0)
		st->comment--;
	else if (st->comment == 0 && (c == '<' || c == '>'))
		st->angle = c == '<';
	else if (st->comment == 0 && (c == '[' || c == ']'))
		st->literal = c == '[';
	else
		return !st->comment && !st->angle && !st->literal;
	return 0;
}

/* 1 if s[from, to) holds only spaces. */
static int blank(const char *s, size_t from, size_t to)
{
	for (; from < to; from++)
		if (s[from] != ' ')
			return 0;
	return 1;
}

/*
 * Turns groups into plain list items (RFC 5322 3.4: "name: a, b;"
 * becomes " a, b,") and drops empty items, so "undisclosed-recipients:;"
 * leaves nothing. The result is a list the address parser takes.
 */
static void degroup(char *s)
{
	scan st = { 0, 0, 0, 0 };
	size_t i, item = 0, n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		int outside = scan_step(&st, s, &i);

		if (outside && s[i] == ':') {
			memset(s + item, ' ', i - item + 1);
			continue;
		}
		if (!outside || (s[i] != ',' && s[i] != ';'))
			continue;
		if (!blank(s, item, i)) {
			memmove(s + n, s + item, i - item);
			n += i - item;
			s[n++] = ',';
		}
		item = i + 1;
	}
	memmove(s + n, s + item, i - item);
	n += i - item;
	s[n] = '\0';
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == ','))
		s[--n] = '\0';
}

/* Appends the mailboxes of text to list (From and Sender, which the
 * public setters keep to one mailbox). */
static int add_to_list(rm__mblist *list, const char *text,
                       const char *fieldname, rm_error *err)
{
	rm__mailbox *mbs = NULL, *grown;
	size_t n = 0;
	int rc = rm__address_parse_list(text, fieldname, &mbs, &n, err);

	if (rc != RM_OK)
		return rc;
	grown = realloc(list->items, (list->count + n) * sizeof(*grown));
	if (grown == NULL) {
		rm__mailbox_free_array(mbs, n);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, fieldname,
		                "out of memory parsing %s", fieldname);
	}
	memcpy(grown + list->count, mbs, n * sizeof(*mbs));
	list->items = grown;
	list->count += n;
	free(mbs);
	return RM_OK;
}

/* Hands one unfolded, degrouped address value to the message. */
static int take_addresses(rm_message *msg, const field *f, const char *text,
                          rm_error *err)
{
	if (text[0] == '\0')
		return RM_OK;
	if (is_field(f, "From"))
		return add_to_list(&msg->from, text, "from", err);
	if (is_field(f, "Sender"))
		return add_to_list(&msg->sender, text, "sender", err);
	if (is_field(f, "To"))
		return rm_message_add_to(msg, text, NULL, err);
	if (is_field(f, "Cc"))
		return rm_message_add_cc(msg, text, NULL, err);
	return rm_message_add_bcc(msg, text, NULL, err);
}

static int parse_addresses(rm_message *msg, const field *f, rm_error *err)
{
	char *text;
	int rc;

	if (f->value_len > FIELD_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "header",
		                "an address field is longer than %d octets",
		                FIELD_MAX);
	text = unfold(f->value, f->value_len);
	if (text == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "header",
		                "out of memory parsing the header");
	degroup(text);
	rc = take_addresses(msg, f, text, err);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The header section                                                     */
/* ---------------------------------------------------------------------- */

/* Keeps the Message-ID as given, so that the result reports the one the
 * message carries even when it is not one the setter would take. */
static int take_message_id(raw_parse *p, const field *f, rm_error *err)
{
	char *id = unfold(f->value, f->value_len);
	size_t a = 0, b;

	if (id == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "message_id",
		                "out of memory parsing the Message-ID");
	b = strlen(id);
	while (a < b && id[a] == ' ')
		a++;
	while (b > a && id[b - 1] == ' ')
		b--;
	memmove(id, id + a, b - a);
	id[b - a] = '\0';
	free(p->msg->message_id);
	p->msg->message_id = id;
	p->msg->msgid_kind = RM__MSGID_CALLER;
	p->has_msgid = 1;
	return RM_OK;
}

/* Looks at one field: addresses are parsed, Bcc is left out (RFC 5322
 * 3.6.3), everything else is copied as it came. */
static int take_field(raw_parse *p, const field *f, rm_error *err)
{
	static const char *const addr[] = { "From", "Sender", "To", "Cc",
	                                    "Bcc" };
	size_t i;
	int rc = RM_OK;

	for (i = 0; rc == RM_OK && i < RM__ARRAY_LEN(addr); i++)
		if (is_field(f, addr[i]))
			rc = parse_addresses(p->msg, f, err);
	if (rc == RM_OK && is_field(f, "Message-ID") && !p->has_msgid)
		rc = take_message_id(p, f, err);
	if (is_field(f, "Date"))
		p->has_date = 1;
	if (rc != RM_OK || is_field(f, "Bcc"))
		return rc;
	if (rm__buf_append(&p->out, f->start, f->len) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "header",
		                "out of memory copying the header");
	return RM_OK;
}

/* An mbox postmark ("From sender date", RFC 4155) is not a field;
 * sendmail-style input may start with one, and it is dropped. */
static const char *skip_postmark(const char *p, const char *end)
{
	if (end - p >= 5 && memcmp(p, "From ", 5) == 0)
		return p + line_len(p, end);
	return p;
}

static int parse_header(raw_parse *p, const char *data, size_t len,
                        rm_error *err)
{
	const char *pos = skip_postmark(data, data + len);
	const char *end = data + len;
	field f;
	int rc = RM_OK;

	while (rc == RM_OK && pos < end && next_field(pos, end, &f)) {
		rc = take_field(p, &f, err);
		pos += f.len;
	}

	/* The header ends at an empty line; a line that is not a field
	 * starts the body too, and then the empty line is added. */
	p->body = pos;
	p->body_len = (size_t)(end - pos);
	p->add_blank = !(p->body_len >= 2 && pos[0] == '\r' && pos[1] == '\n');
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Building the message                                                   */
/* ---------------------------------------------------------------------- */

/* Joins header and body: header + [CRLF] + body + [CRLF]. */
static int join(raw_parse *p, rm_error *err)
{
	int rc = RM_OK;
	size_t head = p->out.len;

	if (p->add_blank)
		rc = rm__buf_append(&p->out, "\r\n", 2);
	if (rc == RM_OK)
		rc = rm__buf_append(&p->out, p->body, p->body_len);
	if (rc == RM_OK && (p->out.len < 2 ||
	                    p->out.data[p->out.len - 1] != '\n'))
		rc = rm__buf_append(&p->out, "\r\n", 2);
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "data",
		                "out of memory holding the message");
	p->msg->raw_head_len = head;
	return RM_OK;
}

static int check_raw_args(rm_message **out, const void *data, size_t len,
                          rm_error *err)
{
	if (out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "out",
		                "out must not be NULL");
	if (data == NULL && len > 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "data",
		                "data must not be NULL");
	if (len > RAW_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "data",
		                "the message is larger than %zu octets",
		                RAW_MAX);
	return RM_OK;
}

static int has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; s != NULL && i < len; i++)
		if ((unsigned char)s[i] > 127)
			return 1;
	return 0;
}

int rm__message_needs_8bitmime(const rm_message *msg)
{
	return msg != NULL && msg->raw != NULL && msg->raw_8bit;
}

static int parse_all(raw_parse *p, const char *crlf, size_t len,
                     rm_error *err)
{
	int rc = parse_header(p, crlf, len, err);

	if (rc == RM_OK)
		rc = join(p, err);
	if (rc != RM_OK)
		return rc;
	p->msg->raw_len = p->out.len;
	p->msg->raw = rm__buf_steal(&p->out);
	p->msg->raw_has_date = p->has_date;
	p->msg->raw_has_msgid = p->has_msgid;
	p->msg->raw_8bit = has_8bit(p->msg->raw, p->msg->raw_len);
	return p->msg->raw == NULL ? RM_ENOMEM : RM_OK;
}

int rm_message_new_raw(rm_message **out, const void *data, size_t len,
                       rm_error *err)
{
	raw_parse p;
	char *crlf = NULL;
	size_t crlf_len = 0;
	int rc;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	rc = check_raw_args(out, data, len, err);
	if (rc != RM_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	rm__buf_init(&p.out, RAW_MAX * 2 + 4);
	rc = rm__crlf_normalize(len > 0 ? data : "", len, &crlf, &crlf_len);
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, "data",
		                "cannot hold the message: %s", rm_strerror(rc));
	rc = rm_message_new(&p.msg, err);
	if (rc == RM_OK)
		rc = parse_all(&p, crlf, crlf_len, err);
	free(crlf);
	rm__buf_free(&p.out);
	if (rc != RM_OK) {
		rm_message_free(p.msg);
		return rc;
	}
	*out = p.msg;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Recipients                                                             */
/* ---------------------------------------------------------------------- */

static void clear_list(rm__mblist *l)
{
	rm__mailbox_free_array(l->items, l->count);
	l->items = NULL;
	l->count = 0;
}

int rm_message_clear_recipients(rm_message *msg, rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	clear_list(&msg->to);
	clear_list(&msg->cc);
	clear_list(&msg->bcc);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                */
/* ---------------------------------------------------------------------- */

static int put(rm_write_fn write, void *user, const char *data, size_t len,
               rm_error *err)
{
	while (len > 0) {
		size_t n = len < WRITE_CHUNK ? len : WRITE_CHUNK;

		if (write(data, n, user) != 0)
			return rm__fail(err, RM_ECALLBACK, RM_OUTCOME_NONE,
			                NULL, "the write callback asked to "
			                "stop");
		data += n;
		len -= n;
	}
	return RM_OK;
}

/* The fields RFC 5322 3.6 expects and the input lacked: Date (now in
 * the local zone, or the epoch when reproducible) and Message-ID. */
static int missing_fields(const rm_message *msg, rm__buf *b)
{
	char date[64];
	time_t when = 0;
	struct tm tm;
	int off = 0, rc = RM_OK;

	if (!msg->raw_has_date) {
		if (msg->date_set) {
			when = msg->date;
			off = msg->date_offset;
		} else if (!msg->reproducible) {
			/* The time the send began, so that measuring and
			 * sending write the same Date. */
			when = msg->prepared_at != 0 ? msg->prepared_at :
			       time(NULL);
			if (localtime_r(&when, &tm) != NULL)
				off = (int)(tm.tm_gmtoff / 60);
		}
		rc = rm__format_date(date, sizeof(date), when, off);
		if (rc == RM_OK)
			rc = rm__buf_printf(b, "Date: %s\r\n", date);
	}
	if (rc == RM_OK && !msg->raw_has_msgid)
		rc = rm__buf_printf(b, "Message-ID: %s\r\n", msg->message_id);
	return rc;
}

int rm__raw_write(rm_message *msg, rm_write_fn write, void *user,
                  rm_error *err)
{
	rm__buf added;
	int rc;

	rm__buf_init(&added, 4096);
	rc = missing_fields(msg, &added);
	if (rc != RM_OK) {
		rm__buf_free(&added);
		return rm__fail(err, rc, RM_OUTCOME_NONE, "header",
		                "cannot write the Date or Message-ID: %s",
		                rm_strerror(rc));
	}
	rc = put(write, user, msg->raw, msg->raw_head_len, err);
	if (rc == RM_OK)
		rc = put(write, user, added.data, added.len, err);
	if (rc == RM_OK)
		rc = put(write, user, msg->raw + msg->raw_head_len,
		         msg->raw_len - msg->raw_head_len, err);
	rm__buf_free(&added);
	return rc;
}
