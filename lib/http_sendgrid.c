/*
 * SendGrid v3 mail send: "sendgrid://KEY@default[?region=eu]".
 *
 * SendGrid takes no raw MIME over HTTP, so the message goes as JSON
 * fields: one personalization with the recipients, from and reply-to
 * with names, the subject, the text before the HTML, attachments as
 * unwrapped base64 (RFC 4648 section 3.1: no line breaks unless the
 * using spec asks for them), custom headers, categories from the tags
 * and custom_args from the metadata. 202 means queued; the message id
 * is the X-Message-Id header.
 *
 * The preflight check is GET /v3/scopes ("Retrieve a list of scopes for
 * which this user has access"), which reads the key's own permissions:
 * the key must be accepted and hold mail.send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define SG_BASE "https://api.sendgrid.com"
#define SG_BASE_EU "https://api.eu.sendgrid.com"
#define SG_PATH "/v3/mail/send"
#define SG_SCOPES_PATH "/v3/scopes"
#define SG_SEND_SCOPE "mail.send"

#define SG_MAX_BODY ((size_t)30 * 1000 * 1000)   /* "< 30 MB total" */
#define SG_MAX_RECIPIENTS 1000
#define SG_MAX_CATEGORIES 10
#define SG_MAX_CUSTOM_ARGS 10000                 /* bytes, all together */

/* Headers SendGrid refuses in "headers"; it writes them itself. */
static const char *const sg_reserved[] = {
	"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
	"content-transfer-encoding", "to", "from", "subject", "reply-to",
	"cc", "bcc",
};

/* ---------------------------------------------------------------------- */
/* Addresses                                                              */
/* ---------------------------------------------------------------------- */

/* {"email": addr, "name": name}; names with ';' or ',' are refused. */
static cJSON *address_object(const rm__mailbox *mb, const char *field,
                             rm_error *err)
{
	cJSON *obj;
	rm__buf addr;

	if (mb->name != NULL && strpbrk(mb->name, ";,") != NULL) {
		rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, field,
		         "SendGrid refuses a name with ';' or ',' (%s)",
		         mb->name);
		return NULL;
	}
	rm__buf_init(&addr, 1024);
	if (rm__http_addr(mb, field, &addr, err) != RM_OK) {
		rm__buf_free(&addr);
		return NULL;
	}
	obj = cJSON_CreateObject();
	if (obj == NULL || !cJSON_AddStringToObject(obj, "email", addr.data) ||
	    (mb->name != NULL && mb->name[0] != '\0' &&
	     !cJSON_AddStringToObject(obj, "name", mb->name))) {
		cJSON_Delete(obj);
		obj = NULL;
		rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		         "out of memory");
	}
	rm__buf_free(&addr);
	return obj;
}

/* SendGrid compares addresses without regard to case, local part too. */
static int same_address(const rm__mailbox *a, const rm__mailbox *b)
{
	return rm__strcaseeq(a->local, b->local) &&
	       rm__strcaseeq(a->domain_ascii, b->domain_ascii);
}

/* 1 if mb is already among the recipients seen so far. */
static int seen_before(const rm_message *msg, const rm__mblist *list,
                       size_t index)
{
	const rm__mblist *lists[3];
	size_t l, i;

	lists[0] = &msg->to;
	lists[1] = &msg->cc;
	lists[2] = &msg->bcc;
	for (l = 0; l < 3; l++) {
		for (i = 0; i < lists[l]->count; i++) {
			if (lists[l] == list && i == index)
				return 0;
			if (same_address(&lists[l]->items[i],
			                 &list->items[index]))
				return 1;
		}
	}
	return 0;
}

/* Adds "to"/"cc"/"bcc" to the personalization, duplicates left out:
 * SendGrid refuses an address that appears twice in one request. */
static int add_recipients(cJSON *pers, const rm_message *msg,
                          const rm__mblist *list, const char *name,
                          rm_error *err)
{
	cJSON *arr = NULL, *obj;
	char field[48];
	size_t i;

	for (i = 0; i < list->count; i++) {
		if (seen_before(msg, list, i))
			continue;
		snprintf(field, sizeof(field), "%s[%zu]", name, i);
		obj = address_object(&list->items[i], field, err);
		if (obj == NULL)
			return err != NULL ? err->code : RM_EINVAL;
		if (arr == NULL)
			arr = cJSON_AddArrayToObject(pers, name);
		if (arr == NULL || !cJSON_AddItemToArray(arr, obj)) {
			cJSON_Delete(obj);
			return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, name,
			                "out of memory");
		}
	}
	return RM_OK;
}

static int add_personalization(cJSON *root, const rm_message *msg,
                               rm_error *err)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "personalizations");
	cJSON *pers = cJSON_CreateObject();
	int rc;

	if (arr == NULL || pers == NULL || !cJSON_AddItemToArray(arr, pers)) {
		cJSON_Delete(pers);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	}
	if (msg->to.count == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, "to",
		                "SendGrid needs at least one To recipient");
	rc = add_recipients(pers, msg, &msg->to, "to", err);
	if (rc == RM_OK)
		rc = add_recipients(pers, msg, &msg->cc, "cc", err);
	if (rc == RM_OK)
		rc = add_recipients(pers, msg, &msg->bcc, "bcc", err);
	return rc;
}

static int add_from_reply_to(cJSON *root, const rm_message *msg,
                             rm_error *err)
{
	cJSON *obj, *list;
	char field[48];
	size_t i;

	obj = address_object(&msg->from.items[0], "from", err);
	if (obj == NULL || !cJSON_AddItemToObject(root, "from", obj))
		return err != NULL && err->code ? err->code : RM_ENOMEM;
	if (msg->reply_to.count == 1) {
		obj = address_object(&msg->reply_to.items[0], "reply_to", err);
		if (obj == NULL ||
		    !cJSON_AddItemToObject(root, "reply_to", obj))
			return err != NULL && err->code ? err->code : RM_ENOMEM;
		return RM_OK;
	}
	if (msg->reply_to.count == 0)
		return RM_OK;
	/* Several: reply_to_list, never together with reply_to. */
	list = cJSON_AddArrayToObject(root, "reply_to_list");
	for (i = 0; list != NULL && i < msg->reply_to.count; i++) {
		snprintf(field, sizeof(field), "reply_to[%zu]", i);
		obj = address_object(&msg->reply_to.items[i], field, err);
		if (obj == NULL || !cJSON_AddItemToArray(list, obj))
			return err != NULL && err->code ? err->code : RM_ENOMEM;
	}
	return list != NULL ? RM_OK : RM_ENOMEM;
}

/* ---------------------------------------------------------------------- */
/* Content, attachments, headers                                          */
/* ---------------------------------------------------------------------- */

static int add_content_item(cJSON *arr, const char *type,
                            const rm__body *body)
{
	cJSON *obj;
	char *value;

	if (body->data == NULL)
		return RM_OK;
	value = rm__strndup(body->data, body->len);
	obj = cJSON_CreateObject();
	if (value == NULL || obj == NULL ||
	    !cJSON_AddStringToObject(obj, "type", type) ||
	    !cJSON_AddStringToObject(obj, "value", value) ||
	    !cJSON_AddItemToArray(arr, obj)) {
		free(value);
		cJSON_Delete(obj);
		return RM_ENOMEM;
	}
	free(value);
	return RM_OK;
}

/* text/plain before text/html, as SendGrid requires. */
static int add_content(cJSON *root, const rm_message *msg, rm_error *err)
{
	cJSON *arr;
	int rc;

	if (msg->text.data == NULL && msg->html.data == NULL)
		return RM_OK;
	arr = cJSON_AddArrayToObject(root, "content");
	rc = arr != NULL ? add_content_item(arr, "text/plain", &msg->text)
	                 : RM_ENOMEM;
	if (rc == RM_OK)
		rc = add_content_item(arr, "text/html", &msg->html);
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, "content",
		                "out of memory");
	return RM_OK;
}

static int add_attachment(cJSON *arr, const rm__part *p, size_t i,
                          rm_error *err)
{
	cJSON *obj = cJSON_CreateObject();
	char field[48];
	rm__buf bytes;
	int rc;

	snprintf(field, sizeof(field), "attachment[%zu]", i);
	if (obj == NULL || !cJSON_AddItemToArray(arr, obj)) {
		cJSON_Delete(obj);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory");
	}
	rc = rm__http_part_bytes(p, field, SG_MAX_BODY, &bytes, err);
	if (rc != RM_OK)
		return rc;
	rc = rm__json_add_base64(obj, "content", bytes.data, bytes.len);
	rm__buf_free(&bytes);
	if (rc != RM_OK ||
	    !cJSON_AddStringToObject(obj, "filename", p->filename) ||
	    !cJSON_AddStringToObject(obj, "type", p->content_type) ||
	    !cJSON_AddStringToObject(obj, "disposition",
	                             p->content_id ? "inline" : "attachment") ||
	    (p->content_id != NULL &&
	     !cJSON_AddStringToObject(obj, "content_id", p->content_id)))
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory");
	return RM_OK;
}

static int add_attachments(cJSON *root, const rm_message *msg,
                           rm_error *err)
{
	cJSON *arr;
	size_t i;
	int rc = RM_OK;

	if (msg->part_count == 0)
		return RM_OK;
	arr = cJSON_AddArrayToObject(root, "attachments");
	if (arr == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	for (i = 0; i < msg->part_count && rc == RM_OK; i++)
		rc = add_attachment(arr, &msg->parts[i], i, err);
	return rc;
}

static int check_header_name(const char *name, rm_error *err)
{
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(sg_reserved); i++) {
		if (rm__strcaseeq(name, sg_reserved[i]))
			return rm__fail(err, RM_EINVAL,
			                RM_OUTCOME_PERM_PROVIDER, name,
			                "SendGrid does not allow the header "
			                "'%s' to be set", name);
	}
	return RM_OK;
}

static int add_header(void *ctx, const char *name, const char *value,
                      rm_error *err)
{
	cJSON *obj = ctx;
	rm__buf v;
	int rc = check_header_name(name, err);

	if (rc != RM_OK)
		return rc;
	rm__buf_init(&v, 64 * 1024);
	rc = rm__http_header_value(value, &v);
	if (rc == RM_OK && !cJSON_AddStringToObject(obj, name,
	                                            v.data ? v.data : ""))
		rc = RM_ENOMEM;
	rm__buf_free(&v);
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, name,
		                "cannot write the header %s", name);
	return RM_OK;
}

/* The message's own headers, and the ids a reply or a retry needs. */
static int add_headers(cJSON *root, const rm_message *msg, rm_error *err)
{
	cJSON *obj = cJSON_AddObjectToObject(root, "headers");

	if (obj == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	return rm__http_each_header(msg, add_header, obj, err);
}

/* Categories from the tags, custom_args from the metadata. */
static int add_tags_meta(cJSON *root, const rm_message *msg, rm_error *err)
{
	cJSON *cats, *args;
	size_t i, total = 0;

	if (msg->tag_count > SG_MAX_CATEGORIES)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, "tag",
		                "SendGrid takes at most %d categories; the "
		                "message has %zu tags", SG_MAX_CATEGORIES,
		                msg->tag_count);
	if (msg->tag_count > 0) {
		cats = cJSON_AddArrayToObject(root, "categories");
		for (i = 0; cats != NULL && i < msg->tag_count; i++)
			cJSON_AddItemToArray(cats,
			                     cJSON_CreateString(msg->tags[i]));
	}
	if (msg->meta_count == 0)
		return RM_OK;
	args = cJSON_AddObjectToObject(root, "custom_args");
	for (i = 0; args != NULL && i < msg->meta_count; i++) {
		total += strlen(msg->meta[i].name) + strlen(msg->meta[i].value);
		cJSON_AddStringToObject(args, msg->meta[i].name,
		                        msg->meta[i].value);
	}
	if (total >= SG_MAX_CUSTOM_ARGS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER,
		                "metadata", "SendGrid takes under %d bytes of "
		                "custom args; the metadata is %zu",
		                SG_MAX_CUSTOM_ARGS, total);
	return RM_OK;
}

static int fill_body(cJSON *root, rm_message *msg, rm_error *err)
{
	int rc = add_personalization(root, msg, err);

	if (rc == RM_OK)
		rc = add_from_reply_to(root, msg, err);
	if (rc == RM_OK && !cJSON_AddStringToObject(root, "subject",
	    msg->subject != NULL ? msg->subject : ""))
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	if (rc == RM_OK)
		rc = add_content(root, msg, err);
	if (rc == RM_OK)
		rc = add_attachments(root, msg, err);
	if (rc == RM_OK)
		rc = add_headers(root, msg, err);
	if (rc == RM_OK)
		rc = add_tags_meta(root, msg, err);
	return rc;
}

/* Builds the JSON body, checking SendGrid's limits before any send. */
static int build_body(rm_message *msg, char **body, size_t *len,
                      rm_error *err)
{
	cJSON *root;
	int rc;

	rc = rm__http_need_fields(msg, "SendGrid", err);
	if (rc == RM_OK)
		rc = rm__http_check_recipients(msg, "SendGrid",
		                               SG_MAX_RECIPIENTS, err);
	if (rc != RM_OK)
		return rc;
	root = cJSON_CreateObject();
	if (root == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	rc = fill_body(root, msg, err);
	if (rc == RM_OK && rm__json_print(root, body, len) != RM_OK)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	cJSON_Delete(root);
	if (rc == RM_OK && *len >= SG_MAX_BODY) {
		free(*body);
		*body = NULL;
		rc = rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		              "message", "the request is %zu bytes; SendGrid "
		              "takes under %zu", *len, SG_MAX_BODY);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The answer                                                             */
/* ---------------------------------------------------------------------- */

/* {"errors":[{"message": ..., "field": ...}]} as "message (field); ..." */
static void error_text(const rm__http_response *resp, rm__buf *out)
{
	cJSON *root = rm__json_parse_body(resp), *e;
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");

	cJSON_ArrayForEach(e, errors) {
		const char *m = rm__json_string(e, "message");
		const char *f = rm__json_string(e, "field");

		if (m == NULL)
			continue;
		rm__buf_printf(out, "%s%s", out->len ? "; " : "", m);
		if (f != NULL)
			rm__buf_printf(out, " (%s)", f);
	}
	cJSON_Delete(root);
	if (out->len == 0)
		rm__buf_printf(out, "%.*s", (int)(resp->body.len > 300 ? 300
		               : resp->body.len), resp->body.data ?
		               resp->body.data : "");
}

static int read_answer(rm_result *r, rm_message *msg,
                       const rm__http_response *resp, rm_error *err)
{
	char id[256] = "";
	rm__buf text;
	int rc;

	if (resp->status >= 200 && resp->status < 300) {
		rm__http_response_header(resp, "X-Message-Id", id, sizeof(id));
		return rm__http_succeed(r, msg, "SendGrid", resp, id, err);
	}
	rm__buf_init(&text, 4096);
	error_text(resp, &text);
	rc = rm__http_fail_status(r, "SendGrid", resp,
	                          rm__http_status_outcome(resp->status),
	                          rm__http_status_code(resp->status),
	                          text.data ? text.data : "", err);
	rm__buf_free(&text);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Backend                                                                */
/* ---------------------------------------------------------------------- */

static int pick_base(rm_transport *t, const rm__url *url, const char **base,
                     rm_error *err)
{
	/* DKIM options get their refusal: the provider signs. */
	int rc = rm__dkim_url_options(t, url, err);

	if (rc == RM_OK)
		rc = rm__http_region_base(url, SG_BASE, SG_BASE_EU, base, err);
	return rc;
}

static int sg_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	return rm__http_keyed_open(t, url, pick_base, err);
}

static int sg_send(rm_transport *t, rm_message *msg, rm_result *r,
                   rm_error *err)
{
	rm__http_keyed *b = t->impl;
	rm__http_header headers[3];
	char *body = NULL, auth[1024];
	size_t len = 0;
	rm_error e;
	rm__http_request req;
	int rc;

	rm__error_clear(&e);
	rc = build_body(msg, &body, &len, &e);
	if (rc != RM_OK)
		return rm__http_fail_transfer(r, &e, err);
	snprintf(auth, sizeof(auth), "Bearer %s", b->key);
	rm__http_json_headers(headers, "Authorization", auth);
	req = (rm__http_request){ SG_PATH, headers, 3, body, len };
	rc = rm__http_exchange(b->http, &req, read_answer, msg, r, err);
	rm__wipe(auth, sizeof(auth));
	free(body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight check                                                        */
/* ---------------------------------------------------------------------- */

static int has_scope(const cJSON *root, const char *scope)
{
	const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(root, "scopes");
	const cJSON *s;

	if (!cJSON_IsArray(scopes))
		return 0;
	cJSON_ArrayForEach(s, scopes) {
		if (cJSON_IsString(s) && strcmp(s->valuestring, scope) == 0)
			return 1;
	}
	return 0;
}

/* A key SendGrid accepts but that lacks mail.send is refused for every
 * send (HTTP 403), so the check fails it the same way. */
static int read_scopes(void *ctx, const rm__http *h,
                       const rm__http_response *resp, rm_check_info *info,
                       rm_error *err)
{
	cJSON *root;
	rm__buf text;
	int rc = rm__http_check_answer(resp, "SendGrid", err);

	(void)ctx;
	if (rc != RM_OK)
		return rc;
	if (resp->status == 200) {
		root = rm__json_parse_body(resp);
		if (has_scope(root, SG_SEND_SCOPE))
			rm__http_check_describe(info, h, "SendGrid", "Bearer",
			                        "key accepted, scopes include "
			                        SG_SEND_SCOPE);
		else
			rc = rm__http_check_fail(err, "SendGrid", resp,
			        RM_OUTCOME_PERM_PROVIDER, RM_EAUTH,
			        "the key is accepted but its scopes lack "
			        SG_SEND_SCOPE ": sends will be refused");
		cJSON_Delete(root);
		return rc;
	}
	rm__buf_init(&text, 4096);
	error_text(resp, &text);
	rc = rm__http_check_fail(err, "SendGrid", resp,
	                         rm__http_status_outcome(resp->status),
	                         rm__http_status_code(resp->status),
	                         text.data ? text.data : "");
	rm__buf_free(&text);
	return rc;
}

static int sg_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	rm__http_keyed *b = t->impl;
	rm__http_header headers[2];
	char auth[1024];
	rm__http_request req;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", b->key);
	headers[0] = (rm__http_header){ "Authorization", auth };
	headers[1] = (rm__http_header){ "Accept", "application/json" };
	req = (rm__http_request){ SG_SCOPES_PATH, headers, 2, NULL, 0 };
	rc = rm__http_check(b->http, rm__http_get, &req, read_scopes, NULL,
	                    info, err);
	rm__wipe(auth, sizeof(auth));
	return rc;
}

const rm__backend rm__backend_sendgrid = {
	"sendgrid",
	sg_open,
	sg_send,
	sg_check,
	rm__http_keyed_close,
	0,
};
