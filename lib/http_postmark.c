/*
 * Postmark: "postmark://TOKEN@default[?message_stream=NAME]".
 *
 * POST /email with the message as JSON fields: address fields as
 * comma-separated "Name <addr>" strings, the bodies, custom headers with
 * their logical values (never folded: folding is a wire form only, RFC
 * 5322 section 2.2.3), attachments as unwrapped base64 with "cid:" ids
 * for inline parts, the one tag and the metadata. Postmark answers with
 * an ErrorCode, mapped here to the outcome classes.
 *
 * The preflight check is GET /server (the Server API's "Get the
 * server"), which reads the settings of the server the token belongs to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define PM_BASE "https://api.postmarkapp.com"
#define PM_PATH "/email"
#define PM_SERVER_PATH "/server"

#define PM_MAX_BODY ((size_t)10 * 1024 * 1024)   /* after base64 */
#define PM_MAX_TEXT ((size_t)5 * 1024 * 1024)    /* each body */
#define PM_MAX_RECIPIENTS 50

typedef struct pm_impl {
	rm__http_keyed base;
	char *stream;        /* MessageStream, or NULL for the default */
} pm_impl;

/* ---------------------------------------------------------------------- */
/* The request                                                            */
/* ---------------------------------------------------------------------- */

static int fail_nomem(rm_error *err, const char *field)
{
	return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
	                "out of memory building the Postmark request");
}

/* "Ann <a@example.org>, b@example.org" */
static int add_addresses(cJSON *root, const char *name,
                         const rm__mblist *list, const char *field,
                         rm_error *err)
{
	rm__buf text;
	size_t i;
	int rc = RM_OK;

	if (list->count == 0)
		return RM_OK;
	rm__buf_init(&text, 1024 * 1024);
	for (i = 0; i < list->count && rc == RM_OK; i++) {
		if (i > 0 && rm__buf_append_str(&text, ", ") != RM_OK)
			rc = fail_nomem(err, field);
		if (rc == RM_OK)
			rc = rm__http_mailbox(&list->items[i], field, &text,
			                      err);
	}
	if (rc == RM_OK && !cJSON_AddStringToObject(root, name, text.data))
		rc = fail_nomem(err, field);
	rm__buf_free(&text);
	return rc;
}

static int add_body(cJSON *root, const char *name, const rm__body *body,
                    rm_error *err)
{
	char *value;
	int rc = RM_OK;

	if (body->data == NULL)
		return RM_OK;
	if (body->len > PM_MAX_TEXT)
		return rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER, name,
		                "Postmark takes at most %zu bytes of %s",
		                PM_MAX_TEXT, name);
	value = rm__strndup(body->data, body->len);
	if (value == NULL || !cJSON_AddStringToObject(root, name, value))
		rc = fail_nomem(err, name);
	free(value);
	return rc;
}

static int add_header(void *ctx, const char *name, const char *value,
                      rm_error *err)
{
	cJSON *arr = ctx;
	cJSON *obj = cJSON_CreateObject();
	rm__buf v;
	int rc;

	rm__buf_init(&v, 64 * 1024);
	rc = rm__http_header_value(value, &v);
	if (rc != RM_OK || obj == NULL ||
	    !cJSON_AddStringToObject(obj, "Name", name) ||
	    !cJSON_AddStringToObject(obj, "Value", v.data ? v.data : "") ||
	    !cJSON_AddItemToArray(arr, obj)) {
		cJSON_Delete(obj);
		rc = fail_nomem(err, name);
	}
	rm__buf_free(&v);
	return rc;
}

static int add_headers(cJSON *root, const rm_message *msg, rm_error *err)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "Headers");

	if (arr == NULL)
		return fail_nomem(err, "Headers");
	return rm__http_each_header(msg, add_header, arr, err);
}

static int add_attachment(cJSON *arr, const rm__part *p, size_t i,
                          rm_error *err)
{
	cJSON *obj = cJSON_CreateObject();
	char field[48], cid[300];
	rm__buf bytes;
	int rc;

	snprintf(field, sizeof(field), "attachment[%zu]", i);
	if (obj == NULL || !cJSON_AddItemToArray(arr, obj)) {
		cJSON_Delete(obj);
		return fail_nomem(err, field);
	}
	rc = rm__http_part_bytes(p, field, PM_MAX_BODY, &bytes, err);
	if (rc != RM_OK)
		return rc;
	rc = cJSON_AddStringToObject(obj, "Name", p->filename) ? RM_OK
	     : RM_ENOMEM;
	if (rc == RM_OK)
		rc = rm__json_add_base64(obj, "Content", bytes.data, bytes.len);
	rm__buf_free(&bytes);
	if (rc == RM_OK && !cJSON_AddStringToObject(obj, "ContentType",
	                                            p->content_type))
		rc = RM_ENOMEM;
	snprintf(cid, sizeof(cid), "cid:%s", p->content_id ? p->content_id
	         : "");
	if (rc == RM_OK && p->content_id != NULL &&
	    !cJSON_AddStringToObject(obj, "ContentID", cid))
		rc = RM_ENOMEM;
	return rc == RM_OK ? RM_OK : fail_nomem(err, field);
}

static int add_attachments(cJSON *root, const rm_message *msg,
                           rm_error *err)
{
	cJSON *arr;
	size_t i;
	int rc = RM_OK;

	if (msg->part_count == 0)
		return RM_OK;
	arr = cJSON_AddArrayToObject(root, "Attachments");
	if (arr == NULL)
		return fail_nomem(err, "Attachments");
	for (i = 0; i < msg->part_count && rc == RM_OK; i++)
		rc = add_attachment(arr, &msg->parts[i], i, err);
	return rc;
}

/* One Tag at most; the metadata as an object of strings. */
static int add_tag_meta(cJSON *root, const rm_message *msg, rm_error *err)
{
	cJSON *meta;
	size_t i;

	if (msg->tag_count > 1)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, "tag",
		                "Postmark takes one tag; the message has %zu",
		                msg->tag_count);
	if (msg->tag_count == 1 &&
	    !cJSON_AddStringToObject(root, "Tag", msg->tags[0]))
		return fail_nomem(err, "tag");
	if (msg->meta_count == 0)
		return RM_OK;
	meta = cJSON_AddObjectToObject(root, "Metadata");
	for (i = 0; meta != NULL && i < msg->meta_count; i++) {
		if (!cJSON_AddStringToObject(meta, msg->meta[i].name,
		                             msg->meta[i].value))
			return fail_nomem(err, "metadata");
	}
	return meta != NULL ? RM_OK : fail_nomem(err, "metadata");
}

static int fill_body(cJSON *root, const pm_impl *p, const rm_message *msg,
                     rm_error *err)
{
	int rc = add_addresses(root, "From", &msg->from, "from", err);

	if (rc == RM_OK)
		rc = add_addresses(root, "To", &msg->to, "to", err);
	if (rc == RM_OK)
		rc = add_addresses(root, "Cc", &msg->cc, "cc", err);
	if (rc == RM_OK)
		rc = add_addresses(root, "Bcc", &msg->bcc, "bcc", err);
	if (rc == RM_OK)
		rc = add_addresses(root, "ReplyTo", &msg->reply_to, "reply_to",
		                   err);
	if (rc == RM_OK && !cJSON_AddStringToObject(root, "Subject",
	    msg->subject != NULL ? msg->subject : ""))
		rc = fail_nomem(err, "subject");
	if (rc == RM_OK)
		rc = add_body(root, "TextBody", &msg->text, err);
	if (rc == RM_OK)
		rc = add_body(root, "HtmlBody", &msg->html, err);
	if (rc == RM_OK)
		rc = add_headers(root, msg, err);
	if (rc == RM_OK)
		rc = add_attachments(root, msg, err);
	if (rc == RM_OK)
		rc = add_tag_meta(root, msg, err);
	if (rc == RM_OK && p->stream != NULL &&
	    !cJSON_AddStringToObject(root, "MessageStream", p->stream))
		rc = fail_nomem(err, "message_stream");
	return rc;
}

static int build_body(const pm_impl *p, rm_message *msg, char **body,
                      size_t *len, rm_error *err)
{
	cJSON *root;
	int rc;

	rc = rm__http_need_fields(msg, "Postmark", err);
	if (rc == RM_OK)
		rc = rm__http_check_recipients(msg, "Postmark",
		                               PM_MAX_RECIPIENTS, err);
	if (rc != RM_OK)
		return rc;
	root = cJSON_CreateObject();
	rc = root != NULL ? fill_body(root, p, msg, err) : fail_nomem(err, 0);
	if (rc == RM_OK && rm__json_print(root, body, len) != RM_OK)
		rc = fail_nomem(err, NULL);
	cJSON_Delete(root);
	if (rc == RM_OK && *len > PM_MAX_BODY) {
		free(*body);
		*body = NULL;
		rc = rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		              "message", "the request is %zu bytes; Postmark "
		              "takes at most %zu", *len, PM_MAX_BODY);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The answer                                                             */
/* ---------------------------------------------------------------------- */

/*
 * Postmark's ErrorCode: 100 (maintenance) and 429 (rate limit) are
 * transient, 406 (inactive recipient) is the recipient's, 10 (bad
 * token) the credentials'; everything else is permanent. HTTP statuses
 * that say more (429, 503, other 5xx) are read as for every provider.
 */
static rm_outcome pm_outcome(int code, long status)
{
	if (code == 100 || code == 429)
		return RM_OUTCOME_TRANSIENT;
	if (status >= 500 || status == 429)
		return rm__http_status_outcome(status);
	if (code == 406)
		return RM_OUTCOME_PERM_RECIPIENT;
	return RM_OUTCOME_PERM_PROVIDER;
}

static int pm_code(int code, long status, rm_outcome outcome)
{
	if (outcome == RM_OUTCOME_TRANSIENT)
		return RM_ETEMPFAIL;
	if (outcome == RM_OUTCOME_AMBIGUOUS)
		return RM_EHTTP;
	if (code == 10 || status == 401)
		return RM_EAUTH;
	if (status == 413)
		return RM_ETOOBIG;
	return RM_EREJECTED;
}

/* Marks every recipient refused, for an inactive recipient error. */
static void refuse_recipients(rm_result *r, rm_message *msg,
                              const char *text)
{
	rm__envelope env;
	size_t i;

	if (rm__message_envelope(msg, 1, &env, NULL) != RM_OK)
		return;
	for (i = 0; i < env.rcpt_count; i++)
		rm__result_add_recipient(r, env.rcpts[i], 0,
		                         RM_OUTCOME_PERM_RECIPIENT, 0, "",
		                         text);
	rm__envelope_free(&env);
}

/* Postmark's error code (-1 when the answer has none). */
static int error_code(const cJSON *root)
{
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(root, "ErrorCode");

	return cJSON_IsNumber(ec) ? ec->valueint : -1;
}

/* What a refusal says: the code, then the answer's Message or, when it
 * has none, the start of the body. */
static void failure_text(const rm__http_response *resp, const cJSON *root,
                         int code, char *out, size_t size)
{
	const char *m = rm__json_string(root, "Message");

	snprintf(out, size, "ErrorCode %d: %.*s", code,
	         m ? 500 : (int)(resp->body.len > 300 ? 300 : resp->body.len),
	         m ? m : resp->body.data ? resp->body.data : "");
}

static int read_answer(rm_result *r, rm_message *msg,
                       const rm__http_response *resp, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	int code = error_code(root);
	char text[600];
	rm_outcome outcome;
	int rc;

	if (resp->status == 200 && code == 0) {
		rc = rm__http_succeed(r, msg, "Postmark", resp,
		                      rm__json_string(root, "MessageID"), err);
		cJSON_Delete(root);
		return rc;
	}
	failure_text(resp, root, code, text, sizeof(text));
	outcome = pm_outcome(code, resp->status);
	if (outcome == RM_OUTCOME_PERM_RECIPIENT)
		refuse_recipients(r, msg, text);
	rc = rm__http_fail_status(r, "Postmark", resp, outcome,
	                          pm_code(code, resp->status, outcome), text,
	                          err);
	cJSON_Delete(root);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Backend                                                                */
/* ---------------------------------------------------------------------- */

static void pm_close(rm_transport *t)
{
	pm_impl *p = t->impl;

	if (p == NULL)
		return;
	rm__http_base_close(&p->base);
	free(p->stream);
	free(p);
	t->impl = NULL;
}

static int pm_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	pm_impl *p = calloc(1, sizeof(*p));
	const char *stream;
	int rc;

	if (p == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening postmark://");
	t->impl = p;
	stream = rm__url_option(url, "message_stream");
	p->stream = rm__strdup(stream);
	/* DKIM options get their refusal: the provider signs. */
	rc = rm__dkim_url_options(t, url, err);
	if (rc == RM_OK)
		rc = rm__http_base_open(&p->base, t, url, PM_BASE, err);
	if (rc != RM_OK)
		pm_close(t);
	return rc;
}

static int pm_send(rm_transport *t, rm_message *msg, rm_result *r,
                   rm_error *err)
{
	pm_impl *p = t->impl;
	rm__http_header headers[3];
	char *body = NULL;
	size_t len = 0;
	rm_error e;
	rm__http_request req;
	int rc;

	rm__error_clear(&e);
	rc = build_body(p, msg, &body, &len, &e);
	if (rc != RM_OK)
		return rm__http_fail_transfer(r, &e, err);
	rm__http_json_headers(headers, "X-Postmark-Server-Token", p->base.key);
	req = (rm__http_request){ PM_PATH, headers, 3, body, len };
	rc = rm__http_exchange(p->base.http, &req, read_answer, msg, r, err);
	free(body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight check                                                        */
/* ---------------------------------------------------------------------- */

static int read_server_answer(const rm__http *h,
                              const rm__http_response *resp,
                              rm_check_info *info, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	int code = error_code(root);
	const char *name = rm__json_string(root, "Name");
	char text[600];
	rm_outcome outcome;
	int rc = RM_OK;

	if (resp->status == 200) {
		snprintf(text, sizeof(text), "token accepted, server %.100s",
		         name ? name : "(unnamed)");
		rm__http_check_describe(info, h, "Postmark",
		                        "X-Postmark-Server-Token", text);
		cJSON_Delete(root);
		return RM_OK;
	}
	failure_text(resp, root, code, text, sizeof(text));
	outcome = pm_outcome(code, resp->status);
	rc = rm__http_check_fail(err, "Postmark", resp, outcome,
	                         resp->status == 403 ? RM_EAUTH
	                         : pm_code(code, resp->status, outcome), text);
	cJSON_Delete(root);
	return rc;
}

static int read_server(void *ctx, const rm__http *h,
                       const rm__http_response *resp, rm_check_info *info,
                       rm_error *err)
{
	int rc = rm__http_check_answer(resp, "Postmark", err);

	(void)ctx;
	if (rc != RM_OK)
		return rc;
	return read_server_answer(h, resp, info, err);
}

static int pm_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	pm_impl *p = t->impl;
	rm__http_header headers[2];
	rm__http_request req;

	headers[0] = (rm__http_header){ "X-Postmark-Server-Token",
	                                p->base.key };
	headers[1] = (rm__http_header){ "Accept", "application/json" };
	req = (rm__http_request){ PM_SERVER_PATH, headers, 2, NULL, 0 };
	return rm__http_check(p->base.http, rm__http_get, &req, read_server,
	                      NULL, info, err);
}

const rm__backend rm__backend_postmark = {
	"postmark",
	pm_open,
	pm_send,
	pm_check,
	pm_close,
	0,
};
