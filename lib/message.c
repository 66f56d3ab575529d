/*
 * The message model: creation, addresses, headers and bodies. Every
 * setter parses and checks into temporaries first and changes the message
 * only when nothing can fail any more, so a failed call changes nothing.
 *
 * Standards: RFC 5322 (3.6 fields, 3.6.4 msg-id), RFC 2045 (MIME).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message_int.h"

/* Bounds on what one message may hold, so no list grows without end. */
#define MAX_RECIPIENTS 10000
#define MAX_HEADERS 1000
#define MAX_REFERENCES 1000
#define MAX_HEADER_NAME 76
#define MAX_HEADER_VALUE 16384
#define MAX_MSGID 250

int rm__message_fail_oom(rm_error *err, const char *field)
{
	return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
	                "out of memory setting %s", field);
}

int rm__message_fail_null(rm_error *err)
{
	return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "msg",
	                "msg must not be NULL");
}

int rm_message_new(rm_message **out, rm_error *err)
{
	rm_message *msg;

	rm__error_clear(err);
	if (out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "out",
		                "out must not be NULL");
	*out = NULL;
	msg = calloc(1, sizeof(*msg));
	if (msg == NULL)
		return rm__message_fail_oom(err, "message");
	*out = msg;
	return RM_OK;
}

static void mblist_free(rm__mblist *l)
{
	rm__mailbox_free_array(l->items, l->count);
	l->items = NULL;
	l->count = 0;
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_part(rm__part *p)
{
	free(p->filename);
	free(p->content_type);
	free(p->content_id);
	free(p->path);
	free(p->data);
}

static void free_content(rm_message *msg)
{
	size_t i;

	for (i = 0; i < msg->header_count; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	for (i = 0; i < msg->part_count; i++)
		free_part(&msg->parts[i]);
	free(msg->parts);
	free(msg->text.data);
	free(msg->html.data);
	free(msg->raw);
}

void rm_message_free(rm_message *msg)
{
	if (msg == NULL)
		return;
	mblist_free(&msg->from);
	mblist_free(&msg->sender);
	mblist_free(&msg->to);
	mblist_free(&msg->cc);
	mblist_free(&msg->bcc);
	mblist_free(&msg->reply_to);
	if (msg->envelope_from != NULL)
		rm__mailbox_free(msg->envelope_from);
	free(msg->envelope_from);
	free(msg->subject);
	free(msg->message_id);
	free(msg->in_reply_to);
	free_strings(msg->references, msg->reference_count);
	free_content(msg);
	rm__message_meta_free(msg);
	free(msg);
}

void rm_free(void *ptr)
{
	free(ptr);
}

/* ---------------------------------------------------------------------- */
/* Addresses                                                              */
/* ---------------------------------------------------------------------- */

/* Parses the (address, name) pair of the rm_message_add_* calls. */
static int parse_addresses(const char *address, const char *name,
                           const char *field, rm__mblist *out,
                           rm_error *err)
{
	int rc;

	out->items = NULL;
	out->count = 0;
	if (name == NULL)
		return rm__address_parse_list(address, field, &out->items,
		                              &out->count, err);

	out->items = calloc(1, sizeof(*out->items));
	if (out->items == NULL)
		return rm__message_fail_oom(err, field);
	rc = rm__address_parse_one(address, name, field, out->items, err);
	if (rc != RM_OK) {
		free(out->items);
		out->items = NULL;
		return rc;
	}
	out->count = 1;
	return RM_OK;
}

/* Moves the mailboxes of add to the end of list. */
static int mblist_append(rm__mblist *list, rm__mblist *add,
                         const char *field, rm_error *err)
{
	rm__mailbox *items;

	if (list->count + add->count > MAX_RECIPIENTS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, field,
		                "%s: more than %d addresses", field,
		                MAX_RECIPIENTS);
	items = realloc(list->items,
	                (list->count + add->count) * sizeof(*items));
	if (items == NULL)
		return rm__message_fail_oom(err, field);
	memcpy(items + list->count, add->items,
	       add->count * sizeof(*items));
	list->items = items;
	list->count += add->count;
	free(add->items);
	add->items = NULL;
	add->count = 0;
	return RM_OK;
}

static int add_addresses(rm_message *msg, rm__mblist *list,
                         const char *address, const char *name,
                         const char *field, rm_error *err)
{
	rm__mblist add;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = parse_addresses(address, name, field, &add, err);
	if (rc != RM_OK)
		return rc;
	rc = mblist_append(list, &add, field, err);
	mblist_free(&add);
	return rc;
}

/* Replaces a single-mailbox field (From, Sender). */
static int set_single(rm_message *msg, rm__mblist *list, const char *address,
                      const char *name, const char *field, rm_error *err)
{
	rm__mblist add;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = parse_addresses(address, name, field, &add, err);
	if (rc == RM_OK && add.count != 1) {
		size_t count = add.count;

		mblist_free(&add);
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s must be exactly one mailbox, not %zu",
		                field, count);
	}
	if (rc != RM_OK)
		return rc;
	mblist_free(list);
	*list = add;
	return RM_OK;
}

/* Drops a Message-ID the library made, so the next send makes it anew. */
static void forget_made_msgid(rm_message *msg)
{
	if (msg->msgid_kind != RM__MSGID_MADE)
		return;
	free(msg->message_id);
	msg->message_id = NULL;
	msg->msgid_kind = RM__MSGID_NONE;
}

int rm_message_set_from(rm_message *msg, const char *address,
                        const char *name, rm_error *err)
{
	int rc = set_single(msg, msg ? &msg->from : NULL, address, name,
	                    "from", err);

	/* A made Message-ID carries the old From domain. */
	if (rc == RM_OK)
		forget_made_msgid(msg);
	return rc;
}

int rm_message_set_sender(rm_message *msg, const char *address,
                          const char *name, rm_error *err)
{
	return set_single(msg, msg ? &msg->sender : NULL, address, name,
	                  "sender", err);
}

int rm_message_add_to(rm_message *msg, const char *address,
                      const char *name, rm_error *err)
{
	return add_addresses(msg, msg ? &msg->to : NULL, address, name, "to",
	                     err);
}

int rm_message_add_cc(rm_message *msg, const char *address,
                      const char *name, rm_error *err)
{
	return add_addresses(msg, msg ? &msg->cc : NULL, address, name, "cc",
	                     err);
}

int rm_message_add_bcc(rm_message *msg, const char *address,
                       const char *name, rm_error *err)
{
	return add_addresses(msg, msg ? &msg->bcc : NULL, address, name,
	                     "bcc", err);
}

int rm_message_add_reply_to(rm_message *msg, const char *address,
                            const char *name, rm_error *err)
{
	return add_addresses(msg, msg ? &msg->reply_to : NULL, address, name,
	                     "reply_to", err);
}

/* "" and "<>" name the null reverse path of RFC 5321 section 4.5.5:
 * bounces and auto-replies use it so that nothing answers them. */
static int is_null_reverse_path(const char *address)
{
	return address != NULL &&
	       (strcmp(address, "") == 0 || strcmp(address, "<>") == 0);
}

int rm_message_set_envelope_from(rm_message *msg, const char *address,
                                 rm_error *err)
{
	rm__mailbox *mb = NULL;
	int null_path = is_null_reverse_path(address);
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	if (address != NULL && !null_path) {
		mb = calloc(1, sizeof(*mb));
		if (mb == NULL)
			return rm__message_fail_oom(err, "envelope_from");
		rc = rm__address_parse_one(address, NULL, "envelope_from", mb,
		                           err);
		if (rc != RM_OK) {
			free(mb);
			return rc;
		}
	}
	if (msg->envelope_from != NULL)
		rm__mailbox_free(msg->envelope_from);
	free(msg->envelope_from);
	msg->envelope_from = mb;
	msg->null_reverse_path = null_path;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Subject and date                                                       */
/* ---------------------------------------------------------------------- */

/* Replaces *slot with a checked copy of text (NULL clears it). */
static int set_text_field(char **slot, const char *text, const char *field,
                          rm_error *err)
{
	char *copy = NULL;
	int rc;

	if (text != NULL) {
		if (strlen(text) > MAX_HEADER_VALUE)
			return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, field,
			                "%s is longer than %d octets", field,
			                MAX_HEADER_VALUE);
		rc = rm__check_header_text(text, strlen(text), field, err);
		if (rc != RM_OK)
			return rc;
		copy = rm__strdup(text);
		if (copy == NULL)
			return rm__message_fail_oom(err, field);
	}
	free(*slot);
	*slot = copy;
	return RM_OK;
}

int rm_message_set_subject(rm_message *msg, const char *subject,
                           rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	return set_text_field(&msg->subject, subject, "subject", err);
}

int rm_message_set_date(rm_message *msg, time_t when,
                        int utc_offset_minutes, rm_error *err)
{
	char probe[64];

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	if (rm__format_date(probe, sizeof(probe), when, utc_offset_minutes)
	    != RM_OK)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "date",
		                "date: the time or the zone offset %d minutes "
		                "cannot be written (RFC 5322 3.3 allows -2359 "
		                "to +2359)", utc_offset_minutes);
	msg->date_set = 1;
	msg->date = when;
	msg->date_offset = utc_offset_minutes;
	return RM_OK;
}

int rm_message_set_reproducible(rm_message *msg, int on, rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	msg->reproducible = on != 0;
	forget_made_msgid(msg);
	return RM_OK;
}

int rm_message_set_compat_filenames(rm_message *msg, int on, rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	msg->compat_filenames = on != 0;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Message-ID, In-Reply-To, References (RFC 5322 3.6.4)                   */
/* ---------------------------------------------------------------------- */

/* id-right may also be a no-fold-literal "[...]" of dtext. */
static int is_no_fold_literal(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return 0;
	for (i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
			return 0;
	}
	return 1;
}

/* Checks id ("a@b" or "<a@b>") and returns it with angle brackets. */
static int normalize_msgid(const char *id, const char *field, char **out,
                           rm_error *err)
{
	size_t len = id != NULL ? strlen(id) : 0;
	const char *at;
	char *copy;

	if (len >= 2 && id[0] == '<' && id[len - 1] == '>') {
		id++;
		len -= 2;
	}
	at = len > 0 ? memchr(id, '@', len) : NULL;
	if (len == 0 || len > MAX_MSGID || at == NULL ||
	    !rm__is_dot_atom(id, (size_t)(at - id)) ||
	    (!rm__is_dot_atom(at + 1, len - (size_t)(at - id) - 1) &&
	     !is_no_fold_literal(at + 1, len - (size_t)(at - id) - 1)))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s must be a msg-id such as "
		                "\"id@host.example\" (RFC 5322 3.6.4)", field);
	copy = malloc(len + 3);
	if (copy == NULL)
		return rm__message_fail_oom(err, field);
	copy[0] = '<';
	memcpy(copy + 1, id, len);
	copy[len + 1] = '>';
	copy[len + 2] = '\0';
	*out = copy;
	return RM_OK;
}

/* Replaces *slot with the checked msg-id id (NULL clears it). */
static int set_msgid_field(char **slot, const char *id, const char *field,
                           rm_error *err)
{
	char *copy = NULL;
	int rc;

	if (id != NULL) {
		rc = normalize_msgid(id, field, &copy, err);
		if (rc != RM_OK)
			return rc;
	}
	free(*slot);
	*slot = copy;
	return RM_OK;
}

int rm_message_set_message_id(rm_message *msg, const char *id,
                              rm_error *err)
{
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = set_msgid_field(&msg->message_id, id, "message_id", err);
	if (rc == RM_OK)
		msg->msgid_kind = msg->message_id != NULL ? RM__MSGID_CALLER
		                                          : RM__MSGID_NONE;
	return rc;
}

/* Makes "<32 hex digits@from-domain>" (or a fixed one when reproducible). */
static int make_message_id(rm_message *msg, rm_error *err)
{
	unsigned char rnd[16];
	char left[33];
	rm__buf b;

	memset(rnd, 0, sizeof(rnd));
	if (!msg->reproducible && rm__random(rnd, sizeof(rnd)) != RM_OK)
		return rm__fail(err, RM_EIO, RM_OUTCOME_TRANSIENT, "message_id",
		                "could not read random bytes for the "
		                "Message-ID");
	rm__hex_lower(left, rnd, sizeof(rnd));

	rm__buf_init(&b, 512);
	if (rm__buf_printf(&b, "<%s@%s>", left,
	                   msg->from.items[0].domain_ascii) != RM_OK) {
		rm__buf_free(&b);
		return rm__message_fail_oom(err, "message_id");
	}
	free(msg->message_id);
	msg->message_id = rm__buf_steal(&b);
	msg->msgid_kind = RM__MSGID_MADE;
	return RM_OK;
}

int rm__message_ensure_id(rm_message *msg, rm_error *err)
{
	if (msg->msgid_kind != RM__MSGID_NONE)
		return RM_OK;
	if (msg->from.count == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "from",
		                "the message has no From address");
	return make_message_id(msg, err);
}

const char *rm_message_message_id(rm_message *msg)
{
	if (msg == NULL || rm__message_ensure_id(msg, NULL) != RM_OK)
		return "";
	return msg->message_id;
}

int rm_message_set_in_reply_to(rm_message *msg, const char *id,
                               rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	return set_msgid_field(&msg->in_reply_to, id, "in_reply_to", err);
}

int rm_message_add_reference(rm_message *msg, const char *id, rm_error *err)
{
	char *copy, **refs;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	if (msg->reference_count >= MAX_REFERENCES)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "references",
		                "more than %d references", MAX_REFERENCES);
	rc = normalize_msgid(id, "references", &copy, err);
	if (rc != RM_OK)
		return rc;
	refs = realloc(msg->references,
	               (msg->reference_count + 1) * sizeof(*refs));
	if (refs == NULL) {
		free(copy);
		return rm__message_fail_oom(err, "references");
	}
	refs[msg->reference_count++] = copy;
	msg->references = refs;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Custom headers                                                         */
/* ---------------------------------------------------------------------- */

/*
 * Fields the library writes itself; callers may not add them.
 * DKIM-Signature is the signer's: one copied in would not verify.
 */
static const char *const reserved_headers[] = {
	"Bcc", "Cc", "Content-Description", "Content-Disposition",
	"Content-ID", "Content-Transfer-Encoding", "Content-Type", "Date",
	"DKIM-Signature", "From", "In-Reply-To", "MIME-Version",
	"Message-ID", "References", "Reply-To", "Sender", "Subject", "To",
};

static int check_header_name(const char *name, rm_error *err)
{
	size_t i, len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > MAX_HEADER_NAME)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "header.name",
		                "header name must be 1 to %d characters",
		                MAX_HEADER_NAME);
	/* RFC 5322 3.6.8: printable US-ASCII except ":". */
	for (i = 0; i < len; i++)
		if (name[i] < 33 || name[i] > 126 || name[i] == ':')
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "header.name", "header name has the "
			                "byte 0x%02X at %zu: only printable "
			                "ASCII without ':' is allowed "
			                "(RFC 5322 3.6.8)",
			                (unsigned)(unsigned char)name[i], i);
	for (i = 0; i < RM__ARRAY_LEN(reserved_headers); i++)
		if (rm__strcaseeq(name, reserved_headers[i]))
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "header.name", "%s is written by the "
			                "library; use its own call instead",
			                reserved_headers[i]);
	return RM_OK;
}

static int append_header(rm_message *msg, const char *name,
                         const char *value, rm_error *err)
{
	rm__header *v, h;

	h.name = rm__strdup(name);
	h.value = rm__strdup(value);
	v = realloc(msg->headers, (msg->header_count + 1) * sizeof(*v));
	if (h.name == NULL || h.value == NULL || v == NULL) {
		free(h.name);
		free(h.value);
		if (v != NULL)
			msg->headers = v;
		return rm__message_fail_oom(err, "header");
	}
	v[msg->header_count++] = h;
	msg->headers = v;
	return RM_OK;
}

int rm_message_add_header(rm_message *msg, const char *name,
                          const char *value, rm_error *err)
{
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = check_header_name(name, err);
	if (rc != RM_OK)
		return rc;
	if (msg->header_count >= MAX_HEADERS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "header",
		                "more than %d custom headers", MAX_HEADERS);
	if (value == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "header.value",
		                "header value must not be NULL");
	if (strlen(value) > MAX_HEADER_VALUE)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "header.value",
		                "header value is longer than %d octets",
		                MAX_HEADER_VALUE);
	rc = rm__check_header_text(value, strlen(value), "header.value", err);
	if (rc != RM_OK)
		return rc;
	return append_header(msg, name, value, err);
}

/* ---------------------------------------------------------------------- */
/* Bodies                                                                 */
/* ---------------------------------------------------------------------- */

static int set_body(rm__body *body, const char *text, size_t len,
                    const char *field, rm_error *err)
{
	rm__body b;
	int rc;

	memset(&b, 0, sizeof(b));
	if (text != NULL) {
		if (len == (size_t)-1)
			len = strlen(text);
		if (!rm__utf8_valid(text, len))
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
			                "%s is not valid UTF-8", field);
		rc = rm__crlf_normalize(text, len, &b.data, &b.len);
		if (rc != RM_OK)
			return rm__fail(err, rc, RM_OUTCOME_NONE, field,
			                "cannot copy %s: %s", field,
			                rm_strerror(rc));
		b.cte = rm__choose_text_cte(b.data, b.len);
	}
	free(body->data);
	*body = b;
	return RM_OK;
}

int rm_message_set_text(rm_message *msg, const char *text, size_t len,
                        rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	return set_body(&msg->text, text, len, "text", err);
}

int rm_message_set_html(rm_message *msg, const char *html, size_t len,
                        rm_error *err)
{
	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	return set_body(&msg->html, html, len, "html", err);
}

/* ---------------------------------------------------------------------- */
/* Completeness                                                           */
/* ---------------------------------------------------------------------- */

int rm__message_check_complete(const rm_message *msg, rm_error *err)
{
	if (msg->from.count == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "from",
		                "the message has no From address");
	if (msg->to.count + msg->cc.count + msg->bcc.count == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "to",
		                "the message has no recipient (To, Cc or Bcc)");
	if (msg->text.data == NULL && msg->html.data == NULL &&
	    msg->part_count == 0 && msg->raw == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "body",
		                "the message has no text, HTML or attachment");
	return RM_OK;
}
