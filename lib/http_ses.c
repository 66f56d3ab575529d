/*
 * Amazon SES v2: "ses://ACCESS:SECRET@REGION", or "ses://REGION" (and
 * "ses://default") with the credentials and region from the
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
 * AWS_REGION environment variables.
 *
 * SendEmail (POST /v2/email/outbound-emails) with Content.Raw.Data, the
 * base64 of the exact bytes the writer produced; the envelope goes in
 * Destination, so Bcc recipients get the message without a Bcc header.
 * Requests are signed with Signature Version 4, service "ses" (the host
 * says "email"), the session token signed as X-Amz-Security-Token.
 *
 * The preflight check is GetAccount (GET /v2/email/account), signed the
 * same way over an empty payload: it proves the credentials and the
 * signature, and tells whether sending is enabled in the region.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http_int.h"

#define SES_PATH "/v2/email/outbound-emails"
#define SES_ACCOUNT_PATH "/v2/email/account"
#define SES_SERVICE "ses"

/* 40 MB after base64, so about 30 MB of message. */
#define SES_MAX_ENCODED ((uint64_t)40 * 1024 * 1024)
#define SES_MAX_MESSAGE (SES_MAX_ENCODED / 4 * 3)
#define SES_MAX_RECIPIENTS 50
#define SES_TAG_MAX 256

typedef struct ses_impl {
	rm__http *http;
	char *access_key;
	char *secret_key;
	char *token;          /* NULL without temporary credentials */
	char *region;
	char *host;           /* the Host header, with a non-default port */
	char *path;           /* the base URL's path + SES_PATH */
	char *account_path;   /* the base URL's path + SES_ACCOUNT_PATH */
	char *config_set;
	char *email_tags;     /* "name:value,..." from the URL */
} ses_impl;

/* ---------------------------------------------------------------------- */
/* Opening                                                                */
/* ---------------------------------------------------------------------- */

static void ses_close(rm_transport *t)
{
	ses_impl *s = t->impl;

	if (s == NULL)
		return;
	rm__http_close(s->http);
	free(s->access_key);
	rm__free_secret(s->secret_key);
	rm__free_secret(s->token);
	free(s->region);
	free(s->host);
	free(s->path);
	free(s->account_path);
	free(s->config_set);
	free(s->email_tags);
	free(s);
	t->impl = NULL;
}

static const char *env_or(const char *value, const char *name)
{
	const char *v;

	if (value != NULL && value[0] != '\0')
		return value;
	v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A region is lowercase letters, digits and '-', as "eu-west-1". */
static int valid_region(const char *r)
{
	size_t n = strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-");

	return n > 0 && r[n] == '\0' && n < 64;
}

/*
 * The environment is not checked the way the URL is: a CR, LF or NUL in
 * a value would end up inside a signed request header.
 */
static int check_env(const char *name, rm_error *err)
{
	const char *v = getenv(name);

	if (v == NULL || strpbrk(v, "\r\n") == NULL)
		return RM_OK;
	return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, name,
	                "the environment variable %s holds CR or LF", name);
}

static int check_environment(rm_error *err)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
	};
	size_t i;
	int rc = RM_OK;

	for (i = 0; i < RM__ARRAY_LEN(names) && rc == RM_OK; i++)
		rc = check_env(names[i], err);
	return rc;
}

static int read_credentials(ses_impl *s, rm_transport *t, const rm__url *url,
                            rm_error *err)
{
	const char *user = url->user, *region = url->host;
	const char *secret = url->password != NULL ? url->password
	                     : t->password;

	if (check_environment(err) != RM_OK)
		return RM_EINVAL;
	if (user == NULL || user[0] == '\0') {
		user = NULL;
		secret = env_or(NULL, "AWS_SECRET_ACCESS_KEY");
	}
	user = env_or(user, "AWS_ACCESS_KEY_ID");
	if (region != NULL && rm__strcaseeq(region, "default"))
		region = NULL;
	region = env_or(env_or(region, "AWS_REGION"), "AWS_DEFAULT_REGION");
	if (user == NULL || secret == NULL || secret[0] == '\0')
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "user",
		                "ses:// needs credentials: ses://ACCESS:SECRET"
		                "@REGION or AWS_ACCESS_KEY_ID and "
		                "AWS_SECRET_ACCESS_KEY");
	if (region == NULL || !valid_region(region))
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "host",
		                "ses:// needs a region such as eu-west-1 as "
		                "the host (or AWS_REGION)");
	s->access_key = rm__strdup(user);
	s->secret_key = rm__strdup(secret);
	s->region = rm__strdup(region);
	s->token = rm__strdup(env_or(rm__url_option(url, "session_token"),
	                             "AWS_SESSION_TOKEN"));
	return RM_OK;
}

/* The base URL's path followed by an API path, as signed; NULL (and
 * *rc set) when out of memory. */
static char *signed_path(const char *prefix, const char *api, int *rc)
{
	rm__buf b;

	rm__buf_init(&b, 4096);
	if (*rc == RM_OK)
		*rc = rm__buf_printf(&b, "%s%s",
		                     strcmp(prefix, "/") ? prefix : "", api);
	return rm__buf_steal(&b);
}

/* The Host header and the path prefix of the base URL, as signed. */
static int split_base(ses_impl *s, rm_error *err)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;
	rm__buf b;
	int rc = RM_ENOMEM;

	rm__buf_init(&b, 4096);
	if (u != NULL &&
	    curl_url_set(u, CURLUPART_URL, rm__http_base(s->http), 0) == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == 0 &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == 0) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		rc = rm__buf_printf(&b, "%s%s%s", host, port ? ":" : "",
		                    port ? port : "");
		s->host = rm__buf_steal(&b);
		s->path = signed_path(path, SES_PATH, &rc);
		s->account_path = signed_path(path, SES_ACCOUNT_PATH, &rc);
	}
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	if (rc != RM_OK || s->host == NULL || s->path == NULL ||
	    s->account_path == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening ses://");
	return RM_OK;
}

static int ses_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	ses_impl *s = calloc(1, sizeof(*s));
	char base[128];
	int rc;

	if (s == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening ses://");
	t->impl = s;
	rc = read_credentials(s, t, url, err);
	if (rc == RM_OK)
		rc = rm__dkim_url_options(t, url, err);
	s->config_set = rm__strdup(rm__url_option(url, "configuration_set"));
	s->email_tags = rm__strdup(rm__url_option(url, "email_tags"));
	if (rc == RM_OK) {
		snprintf(base, sizeof(base), "https://email.%s.amazonaws.com",
		         s->region);
		rc = rm__http_open(&s->http, t, url, base, err);
	}
	if (rc == RM_OK)
		rc = split_base(s, err);
	if (rc != RM_OK)
		ses_close(t);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The request                                                            */
/* ---------------------------------------------------------------------- */

/* EmailTags names and values: ASCII letters, digits, '_' and '-'. */
static int valid_tag_text(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SES_TAG_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int add_tag(cJSON *arr, const char *name, size_t nlen,
                   const char *value, size_t vlen, rm_error *err)
{
	cJSON *obj;
	char *n, *v;
	int rc = RM_OK;

	if (!valid_tag_text(name, nlen) || !valid_tag_text(value, vlen))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "metadata", "SES email tags take only ASCII "
		                "letters, digits, '_' and '-' (1 to 256): "
		                "'%.*s' = '%.*s'", (int)nlen, name, (int)vlen,
		                value);
	n = rm__strndup(name, nlen);
	v = rm__strndup(value, vlen);
	obj = cJSON_CreateObject();
	if (n == NULL || v == NULL || obj == NULL ||
	    !cJSON_AddStringToObject(obj, "Name", n) ||
	    !cJSON_AddStringToObject(obj, "Value", v) ||
	    !cJSON_AddItemToArray(arr, obj)) {
		cJSON_Delete(obj);
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	}
	free(n);
	free(v);
	return rc;
}

/* The email_tags option ("a:1,b:2") and then the message's metadata. */
static int add_email_tags(cJSON *root, const ses_impl *s,
                          const rm_message *msg, rm_error *err)
{
	const char *p = s->email_tags;
	cJSON *arr;
	size_t i;
	int rc = RM_OK;

	if ((p == NULL || p[0] == '\0') && msg->meta_count == 0)
		return RM_OK;
	arr = cJSON_AddArrayToObject(root, "EmailTags");
	if (arr == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	while (p != NULL && *p != '\0' && rc == RM_OK) {
		size_t len = strcspn(p, ","), nlen = strcspn(p, ":");

		if (nlen >= len)
			return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
			                "email_tags", "email_tags takes "
			                "NAME:VALUE pairs separated by commas");
		rc = add_tag(arr, p, nlen, p + nlen + 1, len - nlen - 1, err);
		p += len + (p[len] == ',');
	}
	for (i = 0; i < msg->meta_count && rc == RM_OK; i++)
		rc = add_tag(arr, msg->meta[i].name, strlen(msg->meta[i].name),
		             msg->meta[i].value, strlen(msg->meta[i].value),
		             err);
	return rc;
}

/*
 * Which list (0 To, 1 Cc, 2 Bcc) each recipient of the whole list comes
 * from, counted as rm__message_envelope counts them: in order, later
 * duplicates left out. The lists hold at most SES_MAX_RECIPIENTS.
 */
static void classify(const rm_message *msg, unsigned char *kind,
                     const rm__mailbox **seen)
{
	const rm__mblist *lists[3] = { &msg->to, &msg->cc, &msg->bcc };
	size_t i, j, k, n = 0;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < lists[i]->count; j++) {
			const rm__mailbox *mb = &lists[i]->items[j];

			for (k = 0; k < n && !rm__mailbox_same(seen[k], mb);
			     k++)
				;
			if (k < n)
				continue;
			seen[n] = mb;
			kind[n++] = (unsigned char)i;
		}
	}
}

static int add_rcpts(cJSON *dest, const rm_message *msg,
                     const rm__envelope *env)
{
	static const char *const names[3] = { "ToAddresses", "CcAddresses",
	                                      "BccAddresses" };
	unsigned char kind[SES_MAX_RECIPIENTS];
	const rm__mailbox *seen[SES_MAX_RECIPIENTS];
	cJSON *arr[3] = { NULL, NULL, NULL };
	size_t i;

	classify(msg, kind, seen);
	for (i = 0; i < env->rcpt_count; i++) {
		int l = kind[env->index[i]];

		if (arr[l] == NULL)
			arr[l] = cJSON_AddArrayToObject(dest, names[l]);
		if (arr[l] == NULL || !cJSON_AddItemToArray(arr[l],
		    cJSON_CreateString(env->rcpts[i])))
			return RM_ENOMEM;
	}
	return RM_OK;
}

/*
 * Destination: the envelope as addr-specs, in the list each recipient
 * came from. Built from rm__message_envelope so that a route retrying
 * part of the recipients sends only to those it masked in.
 */
static int add_destination(cJSON *root, rm_message *msg, rm_error *err)
{
	cJSON *dest = cJSON_AddObjectToObject(root, "Destination");
	rm__envelope env;
	int rc;

	if (dest == NULL)
		return RM_ENOMEM;
	rc = rm__message_envelope(msg, 0, &env, err);
	if (rc != RM_OK)
		return rc;
	rc = add_rcpts(dest, msg, &env);
	rm__envelope_free(&env);
	return rc;
}

static int add_from_content(cJSON *root, rm_message *msg, rm_error *err)
{
	rm__envelope env;
	cJSON *raw;
	rm__buf mime;
	int rc;

	rc = rm__message_envelope(msg, 0, &env, err);
	if (rc != RM_OK)
		return rc;
	/* FromEmailAddress is the verified identity SES sends as; it has
	 * no empty form for the null reverse path. */
	if (env.from[0] == '\0')
		rc = rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
		              "envelope_from", "SES's API cannot send with "
		              "the null reverse path <>");
	else if (!cJSON_AddStringToObject(root, "FromEmailAddress",
	                                  env.from))
		rc = RM_ENOMEM;
	rm__envelope_free(&env);
	if (rc == RM_OK)
		rc = rm__http_render(msg, "SES", SES_MAX_MESSAGE, &mime, err);
	if (rc != RM_OK)
		return rc;
	raw = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root,
	                              "Content"), "Raw");
	rc = raw != NULL ? rm__json_add_base64(raw, "Data", mime.data,
	                                       mime.len) : RM_ENOMEM;
	rm__buf_free(&mime);
	return rc;
}

static int fill_body(cJSON *root, ses_impl *s, rm_message *msg,
                     rm_error *err)
{
	int rc = rm__http_check_recipients(msg, "SES", SES_MAX_RECIPIENTS,
	                                   err);

	if (rc == RM_OK)
		rc = add_from_content(root, msg, err);
	if (rc == RM_OK)
		rc = add_destination(root, msg, err);
	if (rc == RM_OK && s->config_set != NULL &&
	    !cJSON_AddStringToObject(root, "ConfigurationSetName",
	                             s->config_set))
		rc = RM_ENOMEM;
	if (rc == RM_OK)
		rc = add_email_tags(root, s, msg, err);
	return rc;
}

static int build_body(ses_impl *s, rm_message *msg, char **body,
                      size_t *len, rm_error *err)
{
	cJSON *root = cJSON_CreateObject();
	int rc;

	rc = root != NULL ? fill_body(root, s, msg, err) : RM_ENOMEM;
	if (rc == RM_OK)
		rc = rm__json_print(root, body, len);
	cJSON_Delete(root);
	if (rc == RM_ENOMEM && (err == NULL || err->code == 0))
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory building the SES request");
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Signing                                                                */
/* ---------------------------------------------------------------------- */

typedef struct ses_headers {
	rm__http_header h[6];
	size_t count;
	char date[17];
	rm__buf auth;
} ses_headers;

/*
 * Signs method and path (as the base URL's path makes it) with Host,
 * X-Amz-Date and the token; a request with a body (a POST) signs its
 * Content-Type too, a GET has none and signs the empty payload.
 */
static int sign(ses_impl *s, const char *method, const char *path,
                const char *body, size_t len, ses_headers *out)
{
	rm__sigv4_key key = { s->access_key, s->secret_key, s->token,
	                      s->region, SES_SERVICE };
	rm__sigv4_request req;

	memset(&req, 0, sizeof(req));
	req.when = time(NULL);
	rm__sigv4_amz_date(req.when, out->date);
	out->count = 0;
	out->h[out->count++] = (rm__http_header){ "Host", s->host };
	if (body != NULL)
		out->h[out->count++] = (rm__http_header){ "Content-Type",
		                                          "application/json" };
	req.method = method;
	req.path = path;
	req.headers = out->h;
	req.header_count = out->count;
	req.body = body;
	req.body_len = len;
	req.normalize_path = 1;
	out->h[out->count++] = (rm__http_header){ "X-Amz-Date", out->date };
	if (s->token != NULL)
		out->h[out->count++] = (rm__http_header){
			"X-Amz-Security-Token", s->token };
	rm__buf_init(&out->auth, 8192);
	if (rm__sigv4_sign(&req, &key, &out->auth) != RM_OK)
		return RM_ENOMEM;
	out->h[out->count++] = (rm__http_header){ "Authorization",
	                                          out->auth.data };
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* The answer                                                             */
/* ---------------------------------------------------------------------- */

/* The error code: x-amzn-ErrorType cut at ':', or __type/code in the body
 * cut after '#'. */
static void error_code(const rm__http_response *resp, const cJSON *root,
                       char *out, size_t size)
{
	const char *v, *hash;

	if (rm__http_response_header(resp, "x-amzn-ErrorType", out, size)) {
		out[strcspn(out, ":")] = '\0';
		return;
	}
	v = rm__json_string(root, "__type");
	if (v == NULL)
		v = rm__json_string(root, "code");
	if (v == NULL)
		v = rm__json_string(root, "Code");
	hash = v != NULL ? strrchr(v, '#') : NULL;
	snprintf(out, size, "%s", hash ? hash + 1 : v ? v : "");
}

/* What a failure says: the code, then the body's message (or, when it
 * has none, the first 300 octets of the body). */
static void error_text(const rm__http_response *resp, const cJSON *root,
                       const char *code, char *out, size_t size)
{
	const char *m = rm__json_string(root, "message");

	if (m == NULL)
		m = rm__json_string(root, "Message");
	snprintf(out, size, "%s%s%.*s", code, code[0] ? ": " : "",
	         m ? 400 : (int)(resp->body.len > 300 ? 300 : resp->body.len),
	         m ? m : resp->body.data ? resp->body.data : "");
}

static int code_is(const char *code, const char *name)
{
	return strcmp(code, name) == 0;
}

/* AWS's documented classes: throttling and 5xx transient, the rest
 * permanent; the limit exception is transient with a long back-off. */
static rm_outcome ses_outcome(const char *code, long status)
{
	if (code_is(code, "TooManyRequestsException") ||
	    code_is(code, "Throttling") ||
	    code_is(code, "ThrottlingException") ||
	    code_is(code, "LimitExceededException") ||
	    code_is(code, "RequestTimeout") ||
	    code_is(code, "ServiceUnavailable"))
		return RM_OUTCOME_TRANSIENT;
	return rm__http_status_outcome(status);
}

static int ses_code(const char *code, long status, rm_outcome outcome)
{
	if (outcome == RM_OUTCOME_TRANSIENT)
		return RM_ETEMPFAIL;
	if (code_is(code, "MessageRejected"))
		return RM_EREJECTED;
	return rm__http_status_code(status);
}

static int read_answer(rm_result *r, rm_message *msg,
                       const rm__http_response *resp, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	char code[128], text[600];
	rm_outcome outcome;
	int rc;

	if (resp->status >= 200 && resp->status < 300) {
		rc = rm__http_succeed(r, msg, "SES", resp,
		                      rm__json_string(root, "MessageId"), err);
		cJSON_Delete(root);
		return rc;
	}
	error_code(resp, root, code, sizeof(code));
	error_text(resp, root, code, text, sizeof(text));
	outcome = ses_outcome(code, resp->status);
	rc = rm__http_fail_status(r, "SES", resp, outcome,
	                          ses_code(code, resp->status, outcome), text,
	                          err);
	cJSON_Delete(root);
	return rc;
}

static int ses_send(rm_transport *t, rm_message *msg, rm_result *r,
                    rm_error *err)
{
	ses_impl *s = t->impl;
	ses_headers h;
	char *body = NULL;
	size_t len = 0;
	rm_error e;
	rm__http_request req;
	int rc;

	rm__error_clear(&e);
	rc = build_body(s, msg, &body, &len, &e);
	if (rc != RM_OK)
		return rm__http_fail_transfer(r, &e, err);
	if (sign(s, "POST", s->path, body, len, &h) != RM_OK) {
		rm__buf_free(&h.auth);
		free(body);
		rm__fail(&e, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		         "out of memory signing the request");
		return rm__http_fail_transfer(r, &e, err);
	}
	req = (rm__http_request){ s->path + strlen(s->path) -
	                          strlen(SES_PATH), h.h, h.count, body, len };
	rc = rm__http_exchange(s->http, &req, read_answer, msg, r, err);
	rm__buf_free(&h.auth);
	free(body);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight check                                                        */
/* ---------------------------------------------------------------------- */

static int is_true(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* SendingEnabled false means every send is refused (SendingPaused)
 * until sending is enabled again: the check fails it. */
static int describe_account(const ses_impl *s, const rm__http *h,
                            const rm__http_response *resp,
                            rm_check_info *info, rm_error *err)
{
	cJSON *root = rm__json_parse_body(resp);
	const cJSON *quota = cJSON_GetObjectItemCaseSensitive(root,
	                                                      "SendQuota");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(quota,
	                                                    "Max24HourSend");
	char what[200];
	int rc = RM_OK;

	if (!is_true(root, "SendingEnabled"))
		rc = rm__http_check_fail(err, "SES", resp,
		                         RM_OUTCOME_PERM_PROVIDER, RM_EREJECTED,
		                         "the credentials are accepted but "
		                         "sending is not enabled for the "
		                         "account in this region");
	snprintf(what, sizeof(what), "credentials accepted in %s, sending "
	         "enabled, %s, %.0f messages per 24 h", s->region,
	         is_true(root, "ProductionAccessEnabled") ?
	         "production access" : "sandbox",
	         cJSON_IsNumber(max) ? max->valuedouble : 0);
	if (rc == RM_OK)
		rm__http_check_describe(info, h, "SES", "AWS4-HMAC-SHA256",
		                        what);
	cJSON_Delete(root);
	return rc;
}

static int read_account(void *ctx, const rm__http *h,
                        const rm__http_response *resp, rm_check_info *info,
                        rm_error *err)
{
	cJSON *root;
	char code[128], text[600];
	rm_outcome outcome;
	int rc = rm__http_check_answer(resp, "SES", err);

	if (rc != RM_OK)
		return rc;
	if (resp->status == 200)
		return describe_account(ctx, h, resp, info, err);
	root = rm__json_parse_body(resp);
	error_code(resp, root, code, sizeof(code));
	error_text(resp, root, code, text, sizeof(text));
	outcome = ses_outcome(code, resp->status);
	rc = rm__http_check_fail(err, "SES", resp, outcome,
	                         ses_code(code, resp->status, outcome), text);
	cJSON_Delete(root);
	return rc;
}

static int ses_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	ses_impl *s = t->impl;
	ses_headers h;
	rm__http_request req;
	int rc;

	if (sign(s, "GET", s->account_path, NULL, 0, &h) != RM_OK) {
		rm__buf_free(&h.auth);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory signing the request");
	}
	req = (rm__http_request){ SES_ACCOUNT_PATH, h.h, h.count, NULL, 0 };
	rc = rm__http_check(s->http, rm__http_get, &req, read_account, s,
	                    info, err);
	rm__buf_free(&h.auth);
	return rc;
}

const rm__backend rm__backend_ses = {
	"ses",
	ses_open,
	ses_send,
	ses_check,
	ses_close,
	1,
};
