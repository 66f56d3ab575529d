/*
 * SMTP2GO: "smtp2go://KEY@default[?region=us|eu|au]".
 *
 * POST /v3/email/mime with "mime_email", the base64 of the exact bytes
 * the writer produced. SMTP2GO reads the recipients from the message's
 * To, Cc and Bcc; since the writer leaves Bcc out of the bytes, a
 * message with Bcc recipients is refused here rather than silently not
 * delivered to them. An HTTP 200 may still report failed recipients in
 * data.failed.
 *
 * The preflight check is POST /v3/stats/email_cycle ("Email cycle", the
 * account's monthly allowance and use): every SMTP2GO call is a POST,
 * this one only reads. An API key limited to sending endpoints is
 * refused it though it would send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define S2G_BASE "https://api.smtp2go.com"
#define S2G_PATH "/v3/email/mime"
#define S2G_CYCLE_PATH "/v3/stats/email_cycle"

#define S2G_MAX_MESSAGE ((uint64_t)10 * 1000 * 1000 / 4 * 3)
#define S2G_MAX_PER_FIELD 100

static const struct {
	const char *name;
	const char *base;
} s2g_regions[] = {
	{ "global", S2G_BASE },
	{ "us", "https://us-api.smtp2go.com" },
	{ "eu", "https://eu-api.smtp2go.com" },
	{ "au", "https://au-api.smtp2go.com" },
};

static int region_base(const rm__url *url, const char **base,
                       rm_error *err)
{
	const char *region = rm__url_option(url, "region");
	size_t i;

	*base = S2G_BASE;
	if (region == NULL)
		return RM_OK;
	for (i = 0; i < RM__ARRAY_LEN(s2g_regions); i++) {
		if (rm__strcaseeq(region, s2g_regions[i].name)) {
			*base = s2g_regions[i].base;
			return RM_OK;
		}
	}
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "region",
	                "unknown region '%s' for smtp2go (known: global, us, "
	                "eu, au)", region);
}

static int pick_base(rm_transport *t, const rm__url *url, const char **base,
                     rm_error *err)
{
	int rc = region_base(url, base, err);

	if (rc == RM_OK)
		rc = rm__dkim_url_options(t, url, err);
	return rc;
}

static int s2g_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	return rm__http_keyed_open(t, url, pick_base, err);
}

/* ---------------------------------------------------------------------- */
/* The request                                                            */
/* ---------------------------------------------------------------------- */

static int check_fields(const rm_message *msg, rm_error *err)
{
	const rm__mblist *lists[3];
	static const char *const names[3] = { "to", "cc", "bcc" };
	size_t i;

	if (msg->bcc.count > 0)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
		                "bcc", "SMTP2GO's MIME endpoint reads the "
		                "recipients from the message, which carries no "
		                "Bcc: send Bcc copies through SMTP");
	lists[0] = &msg->to;
	lists[1] = &msg->cc;
	lists[2] = &msg->bcc;
	for (i = 0; i < 3; i++) {
		if (lists[i]->count > S2G_MAX_PER_FIELD)
			return rm__fail(err, RM_ELIMIT,
			                RM_OUTCOME_PERM_PROVIDER, names[i],
			                "SMTP2GO takes at most %d addresses in "
			                "%s; the message has %zu",
			                S2G_MAX_PER_FIELD, names[i],
			                lists[i]->count);
	}
	return RM_OK;
}

static int build_body(rm_message *msg, char **body, size_t *len,
                      rm_error *err)
{
	cJSON *root;
	rm__buf mime;
	int rc;

	rc = check_fields(msg, err);
	if (rc == RM_OK)
		rc = rm__http_render(msg, "SMTP2GO", S2G_MAX_MESSAGE, &mime,
		                     err);
	if (rc != RM_OK)
		return rc;
	root = cJSON_CreateObject();
	rc = root != NULL ? rm__json_add_base64(root, "mime_email", mime.data,
	                                        mime.len) : RM_ENOMEM;
	rm__buf_free(&mime);
	if (rc == RM_OK)
		rc = rm__json_print(root, body, len);
	cJSON_Delete(root);
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory building the SMTP2GO request");
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* The answer                                                             */
/* ---------------------------------------------------------------------- */

static double number(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* The error text: data.error (or error), with its error_code. */
static void error_text(const cJSON *root, const rm__http_response *resp,
                       char *out, size_t size)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const cJSON *failures;
	const char *e = rm__json_string(data, "error");
	const char *code = rm__json_string(data, "error_code");

	if (e == NULL)
		e = rm__json_string(root, "error");
	if (code == NULL)
		code = rm__json_string(root, "error_code");
	failures = cJSON_GetObjectItemCaseSensitive(data, "failures");
	if (e == NULL && cJSON_IsArray(failures) &&
	    cJSON_IsString(cJSON_GetArrayItem(failures, 0)))
		e = cJSON_GetArrayItem(failures, 0)->valuestring;
	if (e != NULL)
		snprintf(out, size, "%s%s%s", code ? code : "",
		         code ? ": " : "", e);
	else
		snprintf(out, size, "%.*s", (int)(resp->body.len > 300 ? 300
		         : resp->body.len), resp->body.data ?
		         resp->body.data : "");
}

static int read_answer(rm_result *r, rm_message *msg,
                       const rm__http_response *resp, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	char text[600];
	int rc;

	if (resp->status == 200 && number(data, "failed") == 0 &&
	    number(data, "succeeded") > 0) {
		rc = rm__http_succeed(r, msg, "SMTP2GO", resp,
		                      rm__json_string(data, "email_id"), err);
		cJSON_Delete(root);
		return rc;
	}
	error_text(root, resp, text, sizeof(text));
	if (resp->status == 200)
		rc = rm__http_fail_status(r, "SMTP2GO", resp,
		                          RM_OUTCOME_PERM_RECIPIENT,
		                          RM_EREJECTED, text, err);
	else
		rc = rm__http_fail_status(r, "SMTP2GO", resp,
		                          rm__http_status_outcome(resp->status),
		                          rm__http_status_code(resp->status),
		                          text, err);
	cJSON_Delete(root);
	return rc;
}

static int s2g_send(rm_transport *t, rm_message *msg, rm_result *r,
                    rm_error *err)
{
	rm__http_keyed *b = t->impl;
	rm__http_header headers[3];
	char *body = NULL;
	size_t len = 0;
	rm_error e;
	rm__http_request req;
	int rc;

	rm__error_clear(&e);
	rc = build_body(msg, &body, &len, &e);
	if (rc != RM_OK)
		return rm__http_fail_transfer(r, &e, err);
	rm__http_json_headers(headers, "X-Smtp2go-Api-Key", b->key);
	req = (rm__http_request){ S2G_PATH, headers, 3, body, len };
	rc = rm__http_exchange(b->http, &req, read_answer, msg, r, err);
	free(body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight check                                                        */
/* ---------------------------------------------------------------------- */

static int read_cycle_answer(const rm__http *h,
                             const rm__http_response *resp,
                             rm_check_info *info, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	char text[600];
	int rc = RM_OK;

	if (resp->status == 200) {
		snprintf(text, sizeof(text), "key accepted, %.0f of %.0f "
		         "emails left this cycle",
		         number(data, "cycle_remaining"),
		         number(data, "cycle_max"));
		rm__http_check_describe(info, h, "SMTP2GO",
		                        "X-Smtp2go-Api-Key", text);
	} else {
		error_text(root, resp, text, sizeof(text));
		rc = rm__http_check_fail(err, "SMTP2GO", resp,
		                         rm__http_status_outcome(resp->status),
		                         rm__http_status_code(resp->status),
		                         text);
	}
	cJSON_Delete(root);
	return rc;
}

static int read_cycle(void *ctx, const rm__http *h,
                      const rm__http_response *resp, rm_check_info *info,
                      rm_error *err)
{
	int rc = rm__http_check_answer(resp, "SMTP2GO", err);

	(void)ctx;
	if (rc != RM_OK)
		return rc;
	return read_cycle_answer(h, resp, info, err);
}

static int s2g_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	rm__http_keyed *b = t->impl;
	rm__http_header headers[3];
	rm__http_request req;

	rm__http_json_headers(headers, "X-Smtp2go-Api-Key", b->key);
	req = (rm__http_request){ S2G_CYCLE_PATH, headers, 3, "{}", 2 };
	return rm__http_check(b->http, rm__http_post_read_only, &req,
	                      read_cycle, NULL, info, err);
}

const rm__backend rm__backend_smtp2go = {
	"smtp2go",
	s2g_open,
	s2g_send,
	s2g_check,
	rm__http_keyed_close,
	0,
};
