/*
 * The smtp:// and smtps:// URL: host, port, credentials and the query
 * options, checked once when the transport is opened so that a bad
 * setting fails before any connection is made.
 *
 *   tls=required|opportunistic|none   STARTTLS policy (smtp:// only)
 *   insecure_skip_verify=yes          accept any certificate (logged)
 *   ca_file=PATH   ehlo=NAME   connect_to=ADDRESS
 *   connect_timeout=DURATION   timeout=DURATION (each reply; option.h)
 *   auth=MECH[,MECH...]   dsn_notify=...   dsn_ret=FULL|HDRS
 *   password=, token= (each also _env=NAME and _file=PATH: url_secret.c)
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option.h"
#include "smtp_int.h"

/* The longest connect_timeout= and timeout=. */
#define TIMEOUT_MAX_MS (86400 * 1000LL)

const char *const rm__auth_names[RM__AUTH_COUNT] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"
};

static int fail_opt(rm_error *err, const char *field, const char *why)
{
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, field,
	                "bad SMTP URL option %s: %s", field, why);
}

/* Refuses CR, LF and NUL, which would end an SMTP command line. */
static int check_wire_text(const char *s, const char *field, rm_error *err)
{
	if (s == NULL || !rm__has_crlf_nul(s, strlen(s)))
		return RM_OK;
	return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, field,
	                "%s must not contain CR, LF or NUL", field);
}

static int parse_tls(rm__smtp_cfg *c, const rm__url *url, rm_error *err)
{
	const char *v = rm__url_option(url, "tls");

	c->tls_policy = c->loopback ? RM__TLS_OPPORTUNISTIC : RM__TLS_REQUIRED;
	if (v == NULL)
		return RM_OK;
	if (strcmp(v, "required") == 0)
		c->tls_policy = RM__TLS_REQUIRED;
	else if (strcmp(v, "opportunistic") == 0 && !c->implicit_tls)
		c->tls_policy = RM__TLS_OPPORTUNISTIC;
	else if (strcmp(v, "none") == 0 && !c->implicit_tls)
		c->tls_policy = RM__TLS_NONE;
	else
		return fail_opt(err, "tls", c->implicit_tls ?
		                "smtps:// always uses TLS; only tls=required "
		                "fits it" :
		                "expected required, opportunistic or none");
	return RM_OK;
}

static int parse_verify(rm__smtp_cfg *c, const rm__opt_reader *o)
{
	int skip = 0;
	int rc = rm__opt_flag(o, "insecure_skip_verify", &skip);

	c->verify = !skip;
	return rc;
}

/* connect_timeout= and timeout=, 1 second to 1 day. */
static int parse_timeouts(rm__smtp_cfg *c, const rm__opt_reader *o)
{
	long long connect_ms = c->connect_timeout_ms, ms = c->timeout_ms;
	int rc = rm__opt_duration(o, "connect_timeout", 1000, TIMEOUT_MAX_MS,
	                          &connect_ms);

	if (rc == RM_OK)
		rc = rm__opt_duration(o, "timeout", 1000, TIMEOUT_MAX_MS, &ms);
	c->connect_timeout_ms = (long)connect_ms;
	c->timeout_ms = (long)ms;
	return rc;
}

/*
 * RFC 5321 section 4.1.3: "[" a dotted quad "]" or "[IPv6:" an IPv6
 * address "]". A general address literal (another tag) names nothing a
 * server could check, so it is refused with the rest.
 */
static int valid_address_literal(const char *s, size_t len)
{
	static const char v6_tag[] = "IPv6:";
	char inner[64];
	unsigned char addr[16];
	int family = AF_INET;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' ||
	    len - 2 >= sizeof(inner))
		return 0;
	memcpy(inner, s + 1, len - 2);
	inner[len - 2] = '\0';
	if (strncmp(inner, v6_tag, sizeof(v6_tag) - 1) == 0) {
		family = AF_INET6;
		memmove(inner, inner + sizeof(v6_tag) - 1,
		        strlen(inner) - (sizeof(v6_tag) - 1) + 1);
	}
	return inet_pton(family, inner, addr) == 1;
}

/* RFC 5321 section 4.1.1.1: a domain or an address literal. */
static int valid_ehlo(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > 255)
		return 0;
	if (s[0] == '[')
		return valid_address_literal(s, len);
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return 0;
	}
	return s[0] != '.' && s[0] != '-';
}

static int parse_ehlo(rm__smtp_cfg *c, const rm__url *url, rm_error *err)
{
	const char *v = rm__url_option(url, "ehlo");

	if (v == NULL)
		return RM_OK;
	if (rm__has_crlf_nul(v, strlen(v)) || !valid_ehlo(v))
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                "ehlo", "the EHLO name must be a domain "
		                "(letters, digits, '-', '.') or an address "
		                "literal such as [192.0.2.1] or "
		                "[IPv6:2001:db8::1]");
	c->ehlo = rm__strdup(v);
	return c->ehlo != NULL ? RM_OK : RM_ENOMEM;
}

static int mech_id(const char *name, size_t len)
{
	int i;

	for (i = 0; i < RM__AUTH_COUNT; i++) {
		if (strlen(rm__auth_names[i]) == len &&
		    rm__strncaseeq(rm__auth_names[i], name, len))
			return i;
	}
	return -1;
}

/* Every name of the list counts: an empty one ("", "PLAIN,") is an
 * error, not the default order. */
static int parse_auth(rm__smtp_cfg *c, const rm__url *url, rm_error *err)
{
	const char *p = rm__url_option(url, "auth");

	while (p != NULL) {
		size_t len = strcspn(p, ",");
		int id = mech_id(p, len);

		if (id < 0 || c->auth_count >= RM__AUTH_COUNT)
			return fail_opt(err, "auth", "expected a list of "
			                "PLAIN, LOGIN, CRAM-MD5, XOAUTH2, "
			                "OAUTHBEARER");
		c->auth_order[c->auth_count++] = id;
		p = p[len] == ',' ? p + len + 1 : NULL;
	}
	return RM_OK;
}

/* The value goes on the wire as it is: "SUCCESS," would be a NOTIFY
 * parameter the server refuses, so every element must be a word. */
static int valid_notify(const char *v)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	size_t i, len;

	if (strcmp(v, "NEVER") == 0)
		return 1;
	while (v != NULL) {
		len = strcspn(v, ",");
		for (i = 0; i < RM__ARRAY_LEN(words); i++) {
			if (strlen(words[i]) == len &&
			    strncmp(words[i], v, len) == 0)
				break;
		}
		if (i == RM__ARRAY_LEN(words))
			return 0;
		v = v[len] == ',' ? v + len + 1 : NULL;
	}
	return 1;
}

/* RFC 3461 sections 4.1 and 4.3. */
static int parse_dsn(rm__smtp_cfg *c, const rm__url *url, rm_error *err)
{
	const char *notify = rm__url_option(url, "dsn_notify");
	const char *ret = rm__url_option(url, "dsn_ret");

	if (notify != NULL && !valid_notify(notify))
		return fail_opt(err, "dsn_notify", "expected NEVER or a list "
		                "of SUCCESS, FAILURE, DELAY");
	if (ret != NULL && strcmp(ret, "FULL") != 0 &&
	    strcmp(ret, "HDRS") != 0)
		return fail_opt(err, "dsn_ret", "expected FULL or HDRS");
	c->dsn_notify = rm__strdup(notify);
	c->dsn_ret = rm__strdup(ret);
	if ((notify && !c->dsn_notify) || (ret && !c->dsn_ret))
		return RM_ENOMEM;
	return RM_OK;
}

/* The URL wins over rm_transport_opts; at most one URL source. */
static int pick_password(rm__smtp_cfg *c, const rm_transport *t,
                         const rm__url *url, rm_error *err)
{
	int rc = rm__url_secret(url, "password", url->password, &c->password,
	                        err);

	if (rc == RM_OK && c->password == NULL && t->password != NULL) {
		c->password = rm__strdup(t->password);
		if (c->password == NULL)
			rc = RM_ENOMEM;
	}
	return rc;
}

/* The token may also come later from t->oauth (a refresh token or a
 * callback), which auth= naming only bearer mechanisms announces. */
static int pick_token(rm__smtp_cfg *c, const rm_transport *t,
                      const rm__url *url, rm_error *err)
{
	int rc = rm__url_secret(url, "token", NULL, &c->token, err);
	size_t i, bearer = 0;

	if (rc == RM_OK && c->token == NULL && t->oauth_token != NULL) {
		c->token = rm__strdup(t->oauth_token);
		if (c->token == NULL)
			rc = RM_ENOMEM;
	}
	for (i = 0; i < c->auth_count; i++)
		bearer += c->auth_order[i] == RM__AUTH_XOAUTH2 ||
		          c->auth_order[i] == RM__AUTH_OAUTHBEARER;
	c->oauth = t->oauth != NULL ||
	           (c->auth_count > 0 && bearer == c->auth_count);
	return rc;
}

static int check_credentials(rm__smtp_cfg *c, rm_error *err)
{
	int rc = check_wire_text(c->user, "user", err);

	if (rc == RM_OK)
		rc = check_wire_text(c->password, "password", err);
	if (rc == RM_OK)
		rc = check_wire_text(c->token, "token", err);
	if (rc == RM_OK && c->user == NULL &&
	    (c->password != NULL || c->token != NULL))
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, "user",
		              "a password or token needs a user name in the "
		              "URL (smtp://user@host)");
	if (rc == RM_OK && c->user != NULL && c->password == NULL &&
	    c->token == NULL && !c->oauth)
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		              "password", "user %s has no password: give it "
		              "in the URL, password_env, password_file or "
		              "rm_transport_opts.password (or a token)",
		              c->user);
	return rc;
}

static int parse_credentials(rm__smtp_cfg *c, const rm_transport *t,
                             const rm__url *url, rm_error *err)
{
	int rc;

	if (url->user != NULL && url->user[0] != '\0') {
		c->user = rm__strdup(url->user);
		if (c->user == NULL)
			return RM_ENOMEM;
	}
	rc = pick_password(c, t, url, err);
	if (rc == RM_OK)
		rc = pick_token(c, t, url, err);
	if (rc == RM_OK)
		rc = check_credentials(c, err);
	return rc;
}

static int parse_host(rm__smtp_cfg *c, const rm__url *url, rm_error *err)
{
	const char *to = rm__url_option(url, "connect_to");

	if (url->host == NULL || url->host[0] == '\0')
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "host",
		                "the SMTP URL needs a host: %s://host[:port]",
		                c->implicit_tls ? "smtps" : "smtp");
	if (to != NULL && (to[0] == '\0' || strpbrk(to, " \r\n") != NULL))
		return fail_opt(err, "connect_to", "expected an address");
	c->host = rm__strdup(url->host);
	c->connect_to = rm__strdup(to);
	if (c->host == NULL || (to != NULL && c->connect_to == NULL))
		return RM_ENOMEM;
	/* Loopback is judged by where the bytes really go. */
	c->loopback = rm__host_is_loopback(to != NULL ? to : url->host);
	c->port = url->port != 0 ? url->port : c->implicit_tls ? 465 : 25;
	return RM_OK;
}

static int parse_paths(rm__smtp_cfg *c, const rm_transport *t,
                       const rm__url *url, rm_error *err)
{
	const char *ca = rm__url_option(url, "ca_file");

	/* A lost copy must not fall back to the system's trust store. */
	if (ca == NULL)
		ca = t->ca_file;
	c->ca_file = rm__strdup(ca);
	if (ca != NULL && c->ca_file == NULL)
		return RM_ENOMEM;
	if (url->path != NULL && strcmp(url->path, "/") != 0 &&
	    url->path[0] != '\0')
		return fail_opt(err, "path", "an SMTP URL has no path");
	return RM_OK;
}

static int parse_all(rm__smtp_cfg *c, const rm_transport *t,
                     const rm__url *url, rm_error *err)
{
	rm__opt_reader o = { url, "SMTP URL", err };
	int rc = parse_host(c, url, err);

	if (rc == RM_OK)
		rc = parse_tls(c, url, err);
	if (rc == RM_OK)
		rc = parse_verify(c, &o);
	if (rc == RM_OK)
		rc = parse_paths(c, t, url, err);
	if (rc == RM_OK)
		rc = parse_ehlo(c, url, err);
	if (rc == RM_OK)
		rc = parse_timeouts(c, &o);
	if (rc == RM_OK)
		rc = parse_auth(c, url, err);
	if (rc == RM_OK)
		rc = parse_dsn(c, url, err);
	if (rc == RM_OK)
		rc = parse_credentials(c, t, url, err);
	return rc;
}

int rm__smtp_cfg_parse(rm__smtp_cfg *c, const rm_transport *t,
                       const rm__url *url, rm_error *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->implicit_tls = rm__strcaseeq(url->scheme, "smtps");
	c->connect_timeout_ms = 30000;
	rc = parse_all(c, t, url, err);
	if (rc == RM_ENOMEM)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory reading the SMTP URL");
	if (rc != RM_OK)
		rm__smtp_cfg_free(c);
	return rc;
}

void rm__smtp_cfg_free(rm__smtp_cfg *c)
{
	free(c->host);
	free(c->connect_to);
	free(c->ca_file);
	free(c->ehlo);
	free(c->user);
	rm__secret_free(&c->password);
	rm__secret_free(&c->token);
	free(c->dsn_notify);
	free(c->dsn_ret);
	memset(c, 0, sizeof(*c));
}
