/*
 * Mailgun: "mailgun://KEY@DOMAIN[?region=eu]".
 *
 * The message goes to the MIME endpoint (POST /v3/DOMAIN/messages.mime)
 * as the exact bytes the writer produced, so every MIME feature carries
 * over unchanged; the envelope recipients go in "to" fields, the tags
 * in "o:tag" and the metadata in "v:" fields. The form is built here as
 * multipart/form-data (RFC 7578) so its length is known before sending.
 *
 * The preflight check is GET /v4/domains/DOMAIN ("Get domain details"),
 * which needs an account key: a Domain Sending Key may only POST
 * messages, so Mailgun refuses it here though it would send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define MG_BASE "https://api.mailgun.net"
#define MG_BASE_EU "https://api.eu.mailgun.net"

#define MG_MAX_MESSAGE ((uint64_t)25 * 1024 * 1024)
#define MG_MAX_RECIPIENTS 1000
#define MG_MAX_TAGS 10
#define MG_MAX_OPTIONS (16 * 1024)    /* all o:, h:, v: fields together */

typedef struct mg_impl {
	rm__http_keyed base;
	char *path;           /* "/v3/DOMAIN/messages.mime" */
	char *domain_path;    /* "/v4/domains/DOMAIN" */
} mg_impl;

/* The state of one form being built. */
typedef struct mg_form {
	rm__buf body;
	char boundary[48];
	size_t option_bytes;
} mg_form;

/* ---------------------------------------------------------------------- */
/* The form                                                               */
/* ---------------------------------------------------------------------- */

static int form_field(mg_form *f, const char *name, const char *value)
{
	return rm__buf_printf(&f->body, "--%s\r\nContent-Disposition: "
	                      "form-data; name=\"%s\"\r\n\r\n%s\r\n",
	                      f->boundary, name, value);
}

/* An option field (o:, v:), counted against Mailgun's 16 KB. */
static int form_option(mg_form *f, const char *name, const char *value,
                       rm_error *err)
{
	f->option_bytes += strlen(name) + strlen(value);
	if (f->option_bytes > MG_MAX_OPTIONS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, name,
		                "Mailgun takes at most %d bytes of options, "
		                "tags and variables", MG_MAX_OPTIONS);
	if (form_field(f, name, value) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, name,
		                "out of memory");
	return RM_OK;
}

/* A boundary that does not occur in the message. */
static int pick_boundary(mg_form *f, const rm__buf *mime)
{
	unsigned char rnd[16];
	int tries;

	for (tries = 0; tries < 4; tries++) {
		if (rm__random(rnd, sizeof(rnd)) != RM_OK)
			return RM_EIO;
		memcpy(f->boundary, "relaymail-form-", 15);
		rm__hex_lower(f->boundary + 15, rnd, sizeof(rnd));
		if (memmem(mime->data, mime->len, f->boundary,
		           strlen(f->boundary)) == NULL)
			return RM_OK;
	}
	return RM_EIO;
}

static int add_envelope(mg_form *f, rm_message *msg, rm_error *err)
{
	rm__envelope env;
	size_t i;
	int rc;

	rc = rm__message_envelope(msg, 0, &env, err);
	if (rc != RM_OK)
		return rc;
	for (i = 0; rc == RM_OK && i < env.rcpt_count; i++) {
		if (form_field(f, "to", env.rcpts[i]) != RM_OK)
			rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "to",
			              "out of memory");
	}
	rm__envelope_free(&env);
	return rc;
}

static int add_tags_meta(mg_form *f, const rm_message *msg, rm_error *err)
{
	char name[160];
	size_t i;
	int rc = RM_OK;

	if (msg->tag_count > MG_MAX_TAGS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, "tag",
		                "Mailgun takes at most %d tags; the message "
		                "has %zu", MG_MAX_TAGS, msg->tag_count);
	for (i = 0; rc == RM_OK && i < msg->tag_count; i++)
		rc = form_option(f, "o:tag", msg->tags[i], err);
	for (i = 0; rc == RM_OK && i < msg->meta_count; i++) {
		snprintf(name, sizeof(name), "v:%s", msg->meta[i].name);
		rc = form_option(f, name, msg->meta[i].value, err);
	}
	return rc;
}

static int add_message(mg_form *f, const rm__buf *mime, rm_error *err)
{
	int rc = rm__buf_printf(&f->body, "--%s\r\nContent-Disposition: "
	                        "form-data; name=\"message\"; filename=\""
	                        "message.mime\"\r\nContent-Type: "
	                        "message/rfc822\r\n\r\n", f->boundary);

	if (rc == RM_OK)
		rc = rm__buf_append(&f->body, mime->data, mime->len);
	if (rc == RM_OK)
		rc = rm__buf_printf(&f->body, "\r\n--%s--\r\n", f->boundary);
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "message",
		                "out of memory");
	return RM_OK;
}

static int build_form(rm_message *msg, mg_form *f, rm_error *err)
{
	rm__buf mime;
	int rc;

	rc = rm__http_check_recipients(msg, "Mailgun", MG_MAX_RECIPIENTS, err);
	if (rc == RM_OK)
		rc = rm__http_render(msg, "Mailgun", MG_MAX_MESSAGE, &mime,
		                     err);
	if (rc != RM_OK)
		return rc;
	rm__buf_init(&f->body, mime.len + 2 * MG_MAX_OPTIONS + 256 * 1024);
	f->option_bytes = 0;
	if (pick_boundary(f, &mime) != RM_OK)
		rc = rm__fail(err, RM_EIO, RM_OUTCOME_TRANSIENT, NULL,
		              "no random bytes for a form boundary");
	if (rc == RM_OK)
		rc = add_envelope(f, msg, err);
	if (rc == RM_OK)
		rc = add_tags_meta(f, msg, err);
	if (rc == RM_OK)
		rc = add_message(f, &mime, err);
	rm__buf_free(&mime);
	if (rc != RM_OK)
		rm__buf_free(&f->body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The answer                                                             */
/* ---------------------------------------------------------------------- */

/* 404 may be Mailgun's eventual consistency (a new domain): retry a few
 * times. 400, 401, 403 and 413 are permanent. */
static rm_outcome mg_outcome(long status)
{
	if (status == 404)
		return RM_OUTCOME_TRANSIENT;
	return rm__http_status_outcome(status);
}

/* A 404 is an unknown domain or region, which an operator may fix:
 * temporary, as mg_outcome says. */
static int mg_code(long status)
{
	return status == 404 ? RM_ETEMPFAIL : rm__http_status_code(status);
}

/* What a refusal says: the answer's "message", else the start of the
 * body, copied into raw. */
static const char *failure_text(const rm__http_response *resp,
                                const cJSON *root, char raw[301])
{
	const char *text = rm__json_string(root, "message");

	if (text != NULL)
		return text;
	snprintf(raw, 301, "%.*s", (int)resp->body.len,
	         resp->body.data ? resp->body.data : "");
	return raw;
}

static int read_answer(rm_result *r, rm_message *msg,
                       const rm__http_response *resp, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	const char *id = rm__json_string(root, "id");
	const char *text;
	char raw[301];
	int rc;

	if (resp->status >= 200 && resp->status < 300) {
		rc = rm__http_succeed(r, msg, "Mailgun", resp, id, err);
		cJSON_Delete(root);
		return rc;
	}
	text = failure_text(resp, root, raw);
	rc = rm__http_fail_status(r, "Mailgun", resp,
	                          mg_outcome(resp->status),
	                          mg_code(resp->status), text, err);
	cJSON_Delete(root);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Backend                                                                */
/* ---------------------------------------------------------------------- */

static void mg_close(rm_transport *t)
{
	mg_impl *m = t->impl;

	if (m == NULL)
		return;
	rm__http_base_close(&m->base);
	free(m->path);
	free(m->domain_path);
	free(m);
	t->impl = NULL;
}

static int set_path(mg_impl *m, const rm__url *url, rm_error *err)
{
	rm__buf path;

	if (url->host == NULL || url->host[0] == '\0' ||
	    strpbrk(url->host, "/?#%") != NULL)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "host",
		                "mailgun:// needs the sending domain as the "
		                "host: mailgun://KEY@mg.example.com");
	rm__buf_init(&path, 1024);
	if (rm__buf_printf(&path, "/v3/%s/messages.mime", url->host) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	m->path = rm__buf_steal(&path);
	rm__buf_init(&path, 1024);
	if (rm__buf_printf(&path, "/v4/domains/%s", url->host) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	m->domain_path = rm__buf_steal(&path);
	return RM_OK;
}

static int mg_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	mg_impl *m = calloc(1, sizeof(*m));
	const char *base;
	int rc;

	if (m == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening mailgun://");
	t->impl = m;
	rc = set_path(m, url, err);
	if (rc == RM_OK)
		rc = rm__dkim_url_options(t, url, err);
	if (rc == RM_OK)
		rc = rm__http_region_base(url, MG_BASE, MG_BASE_EU, &base, err);
	if (rc == RM_OK)
		rc = rm__http_base_open(&m->base, t, url, base, err);
	if (rc != RM_OK)
		mg_close(t);
	return rc;
}

/* HTTP Basic with user "api" and the key as password (RFC 7617). */
static int basic_auth(const char *key, rm__buf *out)
{
	rm__buf plain;
	int rc;

	rm__buf_init(&plain, 4096);
	rc = rm__buf_printf(&plain, "api:%s", key);
	if (rc == RM_OK)
		rc = rm__buf_append_str(out, "Basic ");
	if (rc == RM_OK)
		rc = rm__base64_encode(out, plain.data, plain.len);
	rm__buf_free_secret(&plain);
	return rc;
}

static int mg_send(rm_transport *t, rm_message *msg, rm_result *r,
                   rm_error *err)
{
	mg_impl *m = t->impl;
	rm__http_header headers[3];
	rm__buf auth;
	char type[96];
	mg_form form;
	rm_error e;
	rm__http_request req;
	int rc;

	rm__error_clear(&e);
	rc = build_form(msg, &form, &e);
	if (rc != RM_OK)
		return rm__http_fail_transfer(r, &e, err);
	rm__buf_init(&auth, 8192);
	basic_auth(m->base.key, &auth);
	snprintf(type, sizeof(type), "multipart/form-data; boundary=%s",
	         form.boundary);
	headers[0] = (rm__http_header){ "Authorization", auth.data };
	headers[1] = (rm__http_header){ "Content-Type", type };
	headers[2] = (rm__http_header){ "Accept", "application/json" };
	req = (rm__http_request){ m->path, headers, 3, form.body.data,
	                          form.body.len };
	rc = rm__http_exchange(m->base.http, &req, read_answer, msg, r, err);
	rm__buf_free_secret(&auth);
	rm__buf_free(&form.body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight check                                                        */
/* ---------------------------------------------------------------------- */

/* The domain's state: "active", "unverified" (sends limited to
 * authorized recipients) or "disabled" (sends refused). */
static int describe_domain(const rm__http *h, const rm__http_response *resp,
                           rm_check_info *info, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	const cJSON *domain = cJSON_GetObjectItemCaseSensitive(root, "domain");
	const char *name = rm__json_string(domain, "name");
	const char *state = rm__json_string(domain, "state");
	char what[200];
	int rc = RM_OK;

	if (state != NULL && strcmp(state, "disabled") == 0)
		rc = rm__http_check_fail(err, "Mailgun", resp,
		                         RM_OUTCOME_PERM_PROVIDER, RM_EREJECTED,
		                         "the key is accepted but the domain "
		                         "is disabled: sends will be refused");
	snprintf(what, sizeof(what), "key accepted, domain %.80s is %.30s",
	         name ? name : "(unnamed)", state ? state : "(no state)");
	if (rc == RM_OK)
		rm__http_check_describe(info, h, "Mailgun", "Basic", what);
	cJSON_Delete(root);
	return rc;
}

static int read_domain(void *ctx, const rm__http *h,
                       const rm__http_response *resp, rm_check_info *info,
                       rm_error *err)
{
	cJSON *root;
	const char *text;
	char raw[301];
	int rc = rm__http_check_answer(resp, "Mailgun", err);

	(void)ctx;
	if (rc != RM_OK)
		return rc;
	if (resp->status == 200)
		return describe_domain(h, resp, info, err);
	root = rm__json_parse_body(resp);
	text = failure_text(resp, root, raw);
	rc = rm__http_check_fail(err, "Mailgun", resp,
	                         mg_outcome(resp->status),
	                         mg_code(resp->status), text);
	cJSON_Delete(root);
	return rc;
}

static int mg_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	mg_impl *m = t->impl;
	rm__http_header headers[2];
	rm__buf auth;
	rm__http_request req;
	int rc;

	rm__buf_init(&auth, 8192);
	if (basic_auth(m->base.key, &auth) != RM_OK) {
		rm__buf_free_secret(&auth);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory preparing the check");
	}
	headers[0] = (rm__http_header){ "Authorization", auth.data };
	headers[1] = (rm__http_header){ "Accept", "application/json" };
	req = (rm__http_request){ m->domain_path, headers, 2, NULL, 0 };
	rc = rm__http_check(m->base.http, rm__http_get, &req, read_domain,
	                    NULL, info, err);
	rm__buf_free_secret(&auth);
	return rc;
}

const rm__backend rm__backend_mailgun = {
	"mailgun",
	mg_open,
	mg_send,
	mg_check,
	mg_close,
	1,
};
