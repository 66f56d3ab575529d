/*
 * SMTP presets: the SMTP endpoints of the providers, each opened from
 * "NAME://credentials@default[:PORT][?options]" as the SMTP backend with
 * the provider's host, port, TLS mode and user-name convention filled
 * in. Every smtp:// option applies; endpoint=smtp://host:port (or
 * smtps://) replaces the provider's server, for tests and private
 * relays. The table is documented in docs/urls.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

enum {
	USER_GIVEN,      /* USER:PASSWORD as given */
	USER_APIKEY,     /* user "apikey", the key as password (SendGrid) */
	USER_TOKEN,      /* one token as user and password (Postmark) */
	USER_OAUTH       /* USER, and an OAuth2 token; no password */
};

typedef struct preset {
	const char *scheme;
	const char *host;
	const char *regions;     /* "eu=host us=host", or NULL */
	int port;
	int user_rule;
	const char *token_endpoint;
	const char *scope;
} preset;

#define GOOGLE_TOKEN "https://oauth2.googleapis.com/token"
#define MS_TOKEN "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
#define MS_SCOPE "https://outlook.office.com/SMTP.Send offline_access"

static const preset presets[] = {
	{ "gmail", "smtp.gmail.com", NULL, 587, USER_GIVEN, NULL, NULL },
	{ "gmail+oauth", "smtp.gmail.com", NULL, 587, USER_OAUTH,
	  GOOGLE_TOKEN, NULL },
	{ "sendgrid+smtp", "smtp.sendgrid.net", "eu=smtp.eu.sendgrid.net",
	  587, USER_APIKEY, NULL, NULL },
	{ "mailgun+smtp", "smtp.mailgun.org", "eu=smtp.eu.mailgun.org", 587,
	  USER_GIVEN, NULL, NULL },
	{ "postmark+smtp", "smtp.postmarkapp.com",
	  "broadcasts=smtp-broadcasts.postmarkapp.com", 587, USER_TOKEN, NULL,
	  NULL },
	{ "smtp2go+smtp", "mail.smtp2go.com", "us=mail-us.smtp2go.com "
	  "eu=mail-eu.smtp2go.com au=mail-au.smtp2go.com", 587, USER_GIVEN,
	  NULL, NULL },
	{ "office365+smtp", "smtp.office365.com", NULL, 587, USER_OAUTH,
	  NULL, MS_SCOPE },
};

static int fail_url(rm_error *err, const char *field, const char *scheme,
                    const char *why)
{
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, field,
	                "bad %s:// URL: %s", scheme, why);
}

static const preset *find_preset(const char *scheme)
{
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(presets); i++) {
		if (rm__strcaseeq(presets[i].scheme, scheme))
			return &presets[i];
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* The server: the preset's, a region's, or endpoint=                     */
/* ---------------------------------------------------------------------- */

static int fail_endpoint(rm_error *err, const char *why)
{
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "endpoint",
	                "bad URL option endpoint: %s", why);
}

static int parse_endpoint(const char *text, rm__smtp_target *out,
                          rm_error *err)
{
	rm__url e;
	int rc = rm__url_parse(&e, text, err);

	if (rc != RM_OK)
		return rc;
	if (!rm__strcaseeq(e.scheme, "smtp") &&
	    !rm__strcaseeq(e.scheme, "smtps"))
		rc = fail_endpoint(err, "expected smtp://host[:port] or "
		                   "smtps://host[:port]");
	else if (e.user != NULL || e.password != NULL ||
	         e.option_count > 0 || e.host == NULL || e.host[0] == '\0' ||
	         (e.path != NULL && strcmp(e.path, "/") != 0))
		rc = fail_endpoint(err, "only a scheme, a host and a port "
		                   "(credentials and options go in the "
		                   "preset's URL)");
	else if (strlen(e.host) >= sizeof(out->host))
		rc = fail_endpoint(err, "the host name is too long");
	if (rc == RM_OK) {
		snprintf(out->scheme, sizeof(out->scheme), "%s",
		         rm__strcaseeq(e.scheme, "smtps") ? "smtps" : "smtp");
		snprintf(out->host, sizeof(out->host), "%s", e.host);
		out->port = e.port != 0 ? e.port :
		            strcmp(out->scheme, "smtps") == 0 ? 465 : 587;
	}
	rm__url_free(&e);
	return rc;
}

int rm__smtp_endpoint(const rm__url *url, const char *host, int port,
                      rm__smtp_target *out, rm_error *err)
{
	const char *v = rm__url_option(url, "endpoint");

	memset(out, 0, sizeof(*out));
	if (v != NULL)
		return parse_endpoint(v, out, err);
	/* RFC 8314 section 3.3: 465 is the implicit-TLS submission port. */
	snprintf(out->scheme, sizeof(out->scheme), "%s",
	         port == 465 ? "smtps" : "smtp");
	snprintf(out->host, sizeof(out->host), "%s", host);
	out->port = port;
	return RM_OK;
}

/* The host for region= from "name=host name=host". */
static int region_host(const preset *p, const char *region, char *out,
                       size_t size, rm_error *err)
{
	const char *r = p->regions;
	size_t len = strlen(region);

	while (r != NULL && *r != '\0') {
		size_t n = strcspn(r, " ");

		if (len > 0 && n > len && r[len] == '=' &&
		    strncmp(r, region, len) == 0) {
			snprintf(out, size, "%.*s", (int)(n - len - 1),
			         r + len + 1);
			return RM_OK;
		}
		r += n + (r[n] == ' ');
	}
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "region",
	                "bad URL option region for %s://: expected %s",
	                p->scheme, p->regions != NULL ? p->regions :
	                "nothing (this provider has one server)");
}

static int pick_server(const preset *p, const rm__url *url,
                       rm__smtp_target *out, rm_error *err)
{
	const char *region = rm__url_option(url, "region");
	char host[256];
	int rc = RM_OK;

	snprintf(host, sizeof(host), "%s", p->host);
	if (region != NULL)
		rc = region_host(p, region, host, sizeof(host), err);
	if (rc == RM_OK && url->host != NULL &&
	    !rm__strcaseeq(url->host, "default"))
		rc = fail_url(err, "host", p->scheme, "the host must be "
		              "\"default\" (use endpoint=smtp://host:port for "
		              "another server)");
	if (rc == RM_OK)
		rc = rm__smtp_endpoint(url, host, url->port != 0 ? url->port :
		                       p->port, out, err);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Credentials                                                            */
/* ---------------------------------------------------------------------- */

static int fail_password(const preset *p, rm_error *err)
{
	return fail_url(err, "password", p->scheme,
	                rm__strcaseeq(p->scheme, "office365+smtp") ?
	                "Microsoft 365 has basic authentication (passwords) "
	                "turned off: give an OAuth2 token, or refresh_token "
	                "with client_id" :
	                "gmail+oauth:// signs in with OAuth2, not a "
	                "password; use gmail:// for an app password");
}

/* The user and inline password the SMTP backend gets. */
static int pick_user(const preset *p, const rm__url *url, rm__url *smtp,
                     rm_error *err)
{
	const char *user = url->user != NULL && url->user[0] != '\0' ?
	                   url->user : NULL;

	smtp->user = url->user;
	smtp->password = url->password;
	if (p->user_rule == USER_OAUTH &&
	    (url->password != NULL || rm__url_option(url, "password") ||
	     rm__url_option(url, "password_env") ||
	     rm__url_option(url, "password_file")))
		return fail_password(p, err);
	if (p->user_rule == USER_APIKEY) {
		/* sendgrid+smtp://KEY@default or apikey:KEY@default */
		smtp->user = (char *)"apikey";
		if (user != NULL && url->password == NULL &&
		    strcmp(user, "apikey") != 0)
			smtp->password = url->user;
	}
	if (p->user_rule == USER_TOKEN && user != NULL &&
	    url->password == NULL)
		smtp->password = url->user;
	if (smtp->user == NULL || smtp->user[0] == '\0')
		return fail_url(err, "user", p->scheme, "the URL needs the "
		                "credentials: NAME://USER[:PASSWORD]@default");
	return RM_OK;
}

static int open_oauth(rm_transport *t, const preset *p, const rm__url *url,
                      rm_error *err)
{
	const char *tenant = NULL;
	char endpoint[300];

	if (p->user_rule != USER_OAUTH)
		return RM_OK;
	if (p->scope != NULL)
		tenant = rm__url_option(url, "tenant");
	if (tenant != NULL && (tenant[0] == '\0' ||
	    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	           "WXYZ0123456789.-") != strlen(tenant)))
		return fail_url(err, "tenant", p->scheme, "expected a tenant "
		                "id or domain");
	if (p->scope != NULL)
		snprintf(endpoint, sizeof(endpoint), MS_TOKEN,
		         tenant != NULL ? tenant : "organizations");
	else
		snprintf(endpoint, sizeof(endpoint), "%s", p->token_endpoint);
	return rm__oauth_url_options(t, url, endpoint, p->scope, err);
}

static int preset_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	const preset *p = find_preset(url->scheme);
	rm__smtp_target target;
	rm__url smtp;
	int rc;

	if (p == NULL)
		return fail_url(err, "scheme", url->scheme, "no such preset");
	smtp = *url;
	rc = pick_server(p, url, &target, err);
	if (rc == RM_OK)
		rc = pick_user(p, url, &smtp, err);
	if (rc == RM_OK)
		rc = open_oauth(t, p, url, err);
	if (rc != RM_OK)
		return rc;
	/* The same options array: the front door sees which were used. */
	smtp.scheme = target.scheme;
	smtp.host = target.host;
	smtp.port = target.port;
	smtp.path = NULL;
	rc = rm__backend_smtp.open(t, &smtp, err);
	/* Postmark's server token is both user name and password, however
	 * the URL spelled it: the user name never goes in a log line. */
	if (rc == RM_OK && p->user_rule == USER_TOKEN)
		((rm__smtp *)t->impl)->cfg.user_secret = 1;
	return rc;
}

static int preset_send(rm_transport *t, rm_message *msg, rm_result *r,
                       rm_error *err)
{
	return rm__backend_smtp.send(t, msg, r, err);
}

static int preset_check(rm_transport *t, rm_check_info *info,
                        rm_error *err)
{
	return rm__backend_smtp.check(t, info, err);
}

static void preset_close(rm_transport *t)
{
	rm__backend_smtp.close(t);
}

const rm__backend rm__backend_smtp_preset = {
	"preset", preset_open, preset_send, preset_check, preset_close, 1,
};
