/*
 * OAuth2 access tokens for XOAUTH2 and OAUTHBEARER (RFC 7628).
 *
 * A transport gets its tokens from one source: a caller's callback
 * (rm_transport_set_token_callback), or a refresh token traded at the
 * provider's token endpoint (RFC 6749 section 6: POST
 * grant_type=refresh_token, form-encoded). A fetched token is cached
 * with its expiry and fetched again a minute before it runs out, or at
 * once when the server refused it (rm__oauth_mark_stale). Expiry is
 * measured with the transport's clock (rm__transport_now). The request
 * goes through the HTTP layer's client (http.c). Nothing here logs a
 * token or a secret: only the endpoint, the status and the provider's
 * error code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "option.h"

/* Refresh this long before the token's expiry (RFC 6749 5.1). */
#define EXPIRY_MARGIN_MS (60 * 1000)
/* The refresh request is a short form. */
#define BODY_MAX (64 * 1024)
#define TOKEN_MAX 8192
#define TIMEOUT_MS (30 * 1000LL)
#define TIMEOUT_MAX_MS (600 * 1000LL)

struct rm__oauth {
	rm_token_fn fn;          /* the caller's source, or NULL */
	void *fn_user;
	char *client_id;
	char *client_secret;     /* may be NULL (public clients) */
	char *refresh_token;
	char *endpoint;
	char *endpoint_shown;    /* masked (rm_url_mask), for messages */
	char *scope;             /* sent when set (Microsoft wants it) */
	rm__http *http;          /* the endpoint's client, with a refresh
	                            token only */
	char *token;             /* the cached access token */
	long long expires_ms;    /* rm__transport_now; 0: no known expiry */
	int stale;               /* the server refused the cached token */
};

void rm__oauth_free(rm__oauth *o)
{
	if (o == NULL)
		return;
	free(o->client_id);
	rm__secret_free(&o->client_secret);
	rm__secret_free(&o->refresh_token);
	free(o->endpoint);
	free(o->endpoint_shown);
	free(o->scope);
	rm__http_close(o->http);
	rm__secret_free(&o->token);
	free(o);
}

void rm__oauth_shift(rm__oauth *o, long long shift)
{
	if (o != NULL && o->expires_ms != 0)
		o->expires_ms += shift;
}

static int oom(rm_error *err)
{
	return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
	                "out of memory setting up OAuth2");
}

/* The transport's OAuth2 state, made on first use. */
static rm__oauth *get_oauth(rm_transport *t)
{
	if (t->oauth == NULL)
		t->oauth = calloc(1, sizeof(*t->oauth));
	return t->oauth;
}

/* ---------------------------------------------------------------------- */
/* URL options                                                            */
/* ---------------------------------------------------------------------- */

/*
 * https, or plain http to this machine only (test fakes). The host is
 * the one libcurl connects to, so in "http://localhost:80@evil.example/"
 * it is evil.example: "localhost:80" is only the userinfo (RFC 3986
 * 3.2.1).
 */
static int check_endpoint(const rm__opt_reader *r, const char *text)
{
	rm__url u;
	int ok = 0;

	if (rm__url_parse(&u, text, NULL) == RM_OK && u.scheme != NULL)
		ok = rm__strcaseeq(u.scheme, "https") ||
		     (rm__strcaseeq(u.scheme, "http") &&
		      rm__host_is_loopback(u.host));
	rm__url_free(&u);
	if (ok)
		return RM_OK;
	return rm__opt_fail(r, "token_endpoint", "expected an https:// URL "
	                    "(plain http only on loopback)");
}

static int read_secrets(rm__oauth *o, const rm__url *url, rm_error *err)
{
	int rc = rm__url_secret(url, "client_id", NULL, &o->client_id, err);

	if (rc == RM_OK)
		rc = rm__url_secret(url, "client_secret", NULL,
		                    &o->client_secret, err);
	if (rc == RM_OK)
		rc = rm__url_secret(url, "refresh_token", NULL,
		                    &o->refresh_token, err);
	if (rc == RM_ENOMEM)
		return oom(err);
	return rc;
}

/* A refresh token needs a client id; either alone is a mistake. */
static int check_complete(const rm__oauth *o, const rm__opt_reader *r)
{
	if (o->refresh_token != NULL && o->client_id == NULL)
		return rm__opt_fail(r, "client_id", "refresh_token needs "
		                    "client_id (and client_secret for "
		                    "confidential clients such as Google's)");
	if (o->refresh_token == NULL &&
	    (o->client_id != NULL || o->client_secret != NULL))
		return rm__opt_fail(r, "refresh_token", "client_id and "
		                    "client_secret need refresh_token");
	return RM_OK;
}

/* The endpoint and, for a refresh token, the client that reaches it. */
static int read_endpoint(rm__oauth *o, const rm_transport *t,
                         const rm__opt_reader *r,
                         const char *default_endpoint)
{
	const char *v = rm__url_option(r->url, "token_endpoint");
	const char *ca = rm__url_option(r->url, "ca_file");
	long long timeout_ms = TIMEOUT_MS;

	if (v != NULL && check_endpoint(r, v) != RM_OK)
		return RM_EURL;
	if (rm__opt_duration(r, "token_timeout", 1000, TIMEOUT_MAX_MS,
	                     &timeout_ms) != RM_OK)
		return RM_EURL;
	o->endpoint = rm__strdup(v != NULL ? v : default_endpoint);
	if (o->endpoint == NULL ||
	    rm_url_mask(o->endpoint, &o->endpoint_shown, NULL) != RM_OK)
		return oom(r->err);
	if (o->refresh_token != NULL &&
	    rm__http_new(&o->http, &t->log, "OAuth2 token endpoint",
	                 o->endpoint, ca != NULL ? ca : t->ca_file,
	                 timeout_ms) != RM_OK)
		return oom(r->err);
	return RM_OK;
}

int rm__oauth_url_options(rm_transport *t, const rm__url *url,
                          const char *default_endpoint, const char *scope,
                          rm_error *err)
{
	rm__opt_reader r = { url, "OAuth2", err };
	rm__oauth *o = get_oauth(t);
	int rc;

	if (o == NULL)
		return oom(err);
	rc = read_secrets(o, url, err);
	if (rc == RM_OK)
		rc = check_complete(o, &r);
	if (rc == RM_OK)
		rc = read_endpoint(o, t, &r, default_endpoint);
	if (rc != RM_OK)
		return rc;
	o->scope = rm__strdup(scope);
	if (scope != NULL && o->scope == NULL)
		return oom(err);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* The token endpoint                                                     */
/* ---------------------------------------------------------------------- */

/* Appends "&name=value", the value form-encoded. */
static int add_field(rm__buf *b, const char *name, const char *value)
{
	char *enc;
	int rc;

	if (value == NULL)
		return RM_OK;
	enc = curl_easy_escape(NULL, value, 0);
	if (enc == NULL)
		return RM_ENOMEM;
	rc = rm__buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", name, enc);
	rm__wipe(enc, strlen(enc));
	curl_free(enc);
	return rc;
}

static int form_body(const rm__oauth *o, rm__buf *b)
{
	int rc = add_field(b, "grant_type", "refresh_token");

	if (rc == RM_OK)
		rc = add_field(b, "client_id", o->client_id);
	if (rc == RM_OK)
		rc = add_field(b, "client_secret", o->client_secret);
	if (rc == RM_OK)
		rc = add_field(b, "refresh_token", o->refresh_token);
	if (rc == RM_OK)
		rc = add_field(b, "scope", o->scope);
	return rc;
}

/* No answer came back. A certificate the endpoint's host does not match
 * stays wrong; anything else may pass. */
static int fail_transfer(const rm__oauth *o, const rm_error *e,
                         rm_error *err)
{
	if (e->code == RM_ENOMEM)
		return oom(err);
	return rm__fail(err, e->code, e->code == RM_ECERT ?
	                RM_OUTCOME_PERM_PROVIDER : RM_OUTCOME_TRANSIENT,
	                "token_endpoint", "the OAuth2 token endpoint %s did "
	                "not answer: %s", o->endpoint_shown,
	                rm__http_error_text(o->http));
}

/* POSTs the refresh request (RFC 6749 section 6); resp gets the answer. */
static int post_refresh(const rm__oauth *o, rm__http_response *resp,
                        rm_error *err)
{
	rm__http_request req;
	rm__buf body;
	rm_error e;
	int rc;

	rm__buf_init(&body, BODY_MAX);
	rc = form_body(o, &body);
	if (rc != RM_OK) {
		rm__buf_free_secret(&body);
		return oom(err);
	}
	rm__error_clear(&e);
	req = (rm__http_request){ "", NULL, 0, body.data, body.len };
	rc = rm__http_post(o->http, &req, resp, &e);
	rm__buf_free_secret(&body);
	return rc == RM_OK ? RM_OK : fail_transfer(o, &e, err);
}

static const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * RFC 6749 section 5.2: 400 with "error". invalid_grant means the
 * refresh token is dead (revoked, expired, unused too long): trying
 * again will not help. 5xx and 429 may pass.
 */
static int fail_status(const rm__oauth *o, long status, const cJSON *j,
                       rm_error *err)
{
	const char *code = j != NULL ? json_str(j, "error") : NULL;
	const char *desc = j != NULL ? json_str(j, "error_description") : NULL;
	int temp = status >= 500 || status == 429 || status == 408;
	int rc;

	rc = rm__fail(err, temp ? RM_EHTTP : RM_EAUTH,
	              temp ? RM_OUTCOME_TRANSIENT : RM_OUTCOME_PERM_PROVIDER,
	              "refresh_token", "the OAuth2 token endpoint %s refused "
	              "the refresh (HTTP %ld%s%s%s%s)%s", o->endpoint_shown,
	              status,
	              code ? ", " : "", code ? code : "", desc ? ": " : "",
	              desc ? desc : "", code != NULL &&
	              strcmp(code, "invalid_grant") == 0 ? "; the refresh "
	              "token is revoked or expired: authorise the app again "
	              "for a new one" : "");
	if (err != NULL)
		err->http_status = (int)status;
	return rc;
}

static int fail_answer(const rm__oauth *o, const char *why, rm_error *err)
{
	return rm__fail(err, RM_EPROTOCOL, RM_OUTCOME_TRANSIENT,
	                "token_endpoint", "the OAuth2 token endpoint %s "
	                "answered without %s", o->endpoint_shown, why);
}

/* Keeps the token and its expiry from a 200 answer received at now. */
static int take_token(rm__oauth *o, const cJSON *j, long long now,
                      rm_error *err)
{
	const char *tok = j != NULL ? json_str(j, "access_token") : NULL;
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	char *copy;

	if (tok == NULL || tok[0] == '\0' || strlen(tok) > TOKEN_MAX)
		return fail_answer(o, "an access_token", err);
	if (rm__has_crlf_nul(tok, strlen(tok)))
		return fail_answer(o, "a usable access_token", err);
	copy = rm__strdup(tok);
	if (copy == NULL)
		return oom(err);
	rm__secret_free(&o->token);
	o->token = copy;
	o->stale = 0;
	o->expires_ms = 0;
	if (cJSON_IsNumber(exp) && exp->valuedouble > 0)
		o->expires_ms = now + (long long)exp->valuedouble * 1000;
	return RM_OK;
}

static int refresh(rm_transport *t, rm__oauth *o, rm_error *err)
{
	rm__http_response resp;
	long long now;
	cJSON *j = NULL;
	int rc;

	rm__logf(&t->log, RM_LOG_INFO, "fetching an OAuth2 access token "
	         "from %s", o->endpoint_shown);
	rm__http_response_init(&resp);
	rc = post_refresh(o, &resp, err);
	now = rm__transport_now(t);
	if (rc == RM_OK)
		j = cJSON_ParseWithLength(resp.body.data != NULL ?
		                          resp.body.data : "", resp.body.len);
	if (rc == RM_OK && resp.status != 200)
		rc = fail_status(o, resp.status, j, err);
	else if (rc == RM_OK)
		rc = take_token(o, j, now, err);
	cJSON_Delete(j);
	rm__buf_free_secret(&resp.body);
	rm__http_response_free(&resp);
	if (rc == RM_OK)
		rm__logf(&t->log, RM_LOG_INFO, "got an OAuth2 access token "
		         "(valid %llds)", o->expires_ms > 0 ?
		         (o->expires_ms - now) / 1000 : -1LL);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Handing out tokens                                                     */
/* ---------------------------------------------------------------------- */

static int from_callback(rm__oauth *o, char **out, rm_error *err)
{
	char buf[TOKEN_MAX + 1];
	int refresh = o->stale;

	memset(buf, 0, sizeof(buf));
	o->stale = 0;
	if (o->fn(refresh, buf, sizeof(buf), o->fn_user) != 0 ||
	    buf[0] == '\0' || memchr(buf, '\0', sizeof(buf)) == NULL)
		return rm__fail(err, RM_ECALLBACK, RM_OUTCOME_PERM_PROVIDER,
		                "token", "the token callback gave no access "
		                "token");
	*out = rm__strdup(buf);
	rm__wipe(buf, sizeof(buf));
	return *out != NULL ? RM_OK : oom(err);
}

static int usable(const rm__oauth *o, long long now)
{
	return o->token != NULL && !o->stale &&
	       (o->expires_ms == 0 || now + EXPIRY_MARGIN_MS < o->expires_ms);
}

int rm__oauth_token(rm_transport *t, char **out, rm_error *err)
{
	rm__oauth *o = t->oauth;
	int rc = RM_OK;

	*out = NULL;
	if (o == NULL)
		return RM_OK;
	if (o->fn != NULL)
		return from_callback(o, out, err);
	if (o->refresh_token == NULL)
		return RM_OK;
	if (!usable(o, rm__transport_now(t)))
		rc = refresh(t, o, err);
	if (rc != RM_OK)
		return rc;
	*out = rm__strdup(o->token);
	return *out != NULL ? RM_OK : oom(err);
}

int rm__oauth_mark_stale(rm_transport *t)
{
	rm__oauth *o = t->oauth;

	if (o == NULL || (o->fn == NULL && o->refresh_token == NULL))
		return 0;
	o->stale = 1;
	return 1;
}

int rm__oauth_has_source(const rm_transport *t)
{
	return t->oauth != NULL &&
	       (t->oauth->fn != NULL || t->oauth->refresh_token != NULL);
}

int rm_transport_set_token_callback(rm_transport *t, rm_token_fn fn,
                                    void *user, rm_error *err)
{
	rm__oauth *o;

	rm__error_clear(err);
	if (t == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "transport",
		                "transport must not be NULL");
	if (t->backend == &rm__backend_route)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE,
		                "transport", "a composite has no token of its "
		                "own: set the callback on the URLs inside");
	if (t->backend != &rm__backend_smtp &&
	    t->backend != &rm__backend_smtp_preset &&
	    t->backend != &rm__backend_ses_smtp)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE,
		                "transport", "%s:// does not sign in with "
		                "OAuth2 tokens", t->scheme);
	o = get_oauth(t);
	if (o == NULL)
		return oom(err);
	o->fn = fn;
	o->fn_user = user;
	o->stale = 0;
	return RM_OK;
}
