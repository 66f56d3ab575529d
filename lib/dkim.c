/*
 * DKIM signers (RFC 6376): the keys, domains and options a transport
 * signs with, set by rm_transport_add_dkim or by the dkim_* options of
 * a transport URL.
 */
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "dkim_int.h"
#include "message_int.h"

#define NAME_MAX_LEN 253
#define FIELD_NAME_MAX 200

/* ---------------------------------------------------------------------- */
/* Names and signers                                                      */
/* ---------------------------------------------------------------------- */

/* RFC 6376 3.5: d= and s= are domain names made of LDH labels. */
static int ldh_name(const char *s)
{
	size_t i, label = 0, len = strlen(s);

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

int rm__dkim_check_names(const char *selector, const char *domain,
                         char **ascii, rm_error *err)
{
	char *a = NULL;

	if (selector == NULL || !ldh_name(selector))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                "dkim_selector",
		                "the DKIM selector must be a name of letters, "
		                "digits, '-' and '.' (RFC 6376 3.1)");
	if (domain == NULL || *domain == '\0')
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_domain",
		                "the DKIM domain must not be empty");
	if (idn2_to_ascii_8z(domain, &a, IDN2_NONTRANSITIONAL) != IDN2_OK)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_domain",
		                "the DKIM domain '%s' is not a valid domain "
		                "name", domain);
	if (!ldh_name(a)) {
		idn2_free(a);
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_domain",
		                "the DKIM domain '%s' is not a valid domain "
		                "name", domain);
	}
	*ascii = rm__strdup(a);
	idn2_free(a);
	if (*ascii == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	return RM_OK;
}

static void signer_free(rm__dkim_signer *s)
{
	size_t i;

	rm_dkim_key_free(s->key);
	free(s->domain);
	free(s->selector);
	free(s->identity);
	for (i = 0; i < s->header_count; i++)
		free(s->headers[i]);
	free(s->headers);
}

void rm__dkim_set_free(rm__dkim_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->count; i++)
		signer_free(&set->signers[i]);
	free(set->signers);
	free(set);
}

static int add_name(rm__dkim_signer *s, const char *name, size_t len)
{
	char **v = realloc(s->headers, (s->header_count + 1) * sizeof(*v));
	char *copy;
	size_t i;

	if (v == NULL)
		return RM_ENOMEM;
	s->headers = v;
	copy = rm__strndup(name, len);
	if (copy == NULL)
		return RM_ENOMEM;
	for (i = 0; i < len; i++)
		if (copy[i] >= 'A' && copy[i] <= 'Z')
			copy[i] = (char)(copy[i] - 'A' + 'a');
	s->headers[s->header_count++] = copy;
	return RM_OK;
}

/* "from:to:subject" into s->headers; RFC 6376 5.4 needs From in it. */
static int parse_header_list(rm__dkim_signer *s, const char *list,
                             rm_error *err)
{
	const char *p = list;
	size_t i;
	int from = 0, rc = RM_OK;

	while (rc == RM_OK && *p != '\0') {
		size_t n = strcspn(p, ":");

		for (i = 0; i < n; i++)
			if (p[i] <= ' ' || p[i] > '~' || n > FIELD_NAME_MAX)
				n = 0;
		if (n == 0)
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "dkim_headers", "the list of headers "
			                "to sign has an empty or invalid name");
		from |= n == 4 && rm__strncaseeq(p, "from", 4);
		rc = add_name(s, p, n);
		p += n + (p[n] == ':');
	}
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, NULL,
		                "out of memory");
	if (!from)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_headers",
		                "the signed headers must include From "
		                "(RFC 6376 5.4)");
	return RM_OK;
}

/* i= must be an address at d= or at a subdomain of it (3.5). */
static int check_identity(const char *id, const char *domain, rm_error *err)
{
	const char *at = strrchr(id, '@');
	size_t i, dl = strlen(domain), il;

	for (i = 0; id[i] != '\0'; i++)
		if (id[i] <= ' ' || id[i] > '~' || id[i] == ';' ||
		    i >= NAME_MAX_LEN)
			at = NULL;
	if (at == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                "dkim_identity",
		                "the DKIM identity must be an ASCII address "
		                "of at most %d characters without ';' or "
		                "spaces", NAME_MAX_LEN);
	at++;
	il = strlen(at);
	if (!(rm__strcaseeq(at, domain) ||
	      (il > dl && at[il - dl - 1] == '.' &&
	       rm__strcaseeq(at + il - dl, domain))))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                "dkim_identity",
		                "the DKIM identity must be at %s or a "
		                "subdomain of it (RFC 6376 3.5)", domain);
	return RM_OK;
}

static int signer_opts(rm__dkim_signer *s, const rm_dkim_opts *o,
                       rm_error *err)
{
	int rc = RM_OK;

	if (o->version != RM_DKIM_OPTS_VERSION)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "opts",
		                "unknown rm_dkim_opts version %u; start from "
		                "RM_DKIM_OPTS_INIT", o->version);
	s->header_relaxed = o->header_canon != RM_DKIM_SIMPLE;
	s->body_relaxed = o->body_canon != RM_DKIM_SIMPLE;
	s->timestamp = !o->no_timestamp;
	s->expire = o->expire_seconds > 0 ? o->expire_seconds : 0;
	s->fixed_time = o->timestamp > 0 ? o->timestamp : 0;
	if (o->headers != NULL)
		rc = parse_header_list(s, o->headers, err);
	if (rc == RM_OK && o->identity != NULL)
		rc = check_identity(o->identity, s->domain, err);
	if (rc == RM_OK && o->identity != NULL &&
	    (s->identity = rm__strdup(o->identity)) == NULL)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	return rc;
}

static int signer_make(rm__dkim_signer *s, const rm_dkim_key *key,
                       const char *domain, const char *selector,
                       const rm_dkim_opts *opts, rm_error *err)
{
	static const rm_dkim_opts defaults = RM_DKIM_OPTS_INIT;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = rm__dkim_check_names(selector, domain, &s->domain, err);
	if (rc == RM_OK && (s->selector = rm__strdup(selector)) == NULL)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	if (rc == RM_OK)
		rc = signer_opts(s, opts != NULL ? opts : &defaults, err);
	if (rc == RM_OK)
		rc = rm__dkim_key_copy(&s->key, key, err);
	return rc;
}

/* JSON providers build the MIME themselves and sign on their side. */
static int check_backend(const rm_transport *t, rm_error *err)
{
	if (t->backend == &rm__backend_sendgrid ||
	    t->backend == &rm__backend_postmark)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE, "dkim",
		                "%s:// sends JSON and the provider builds and "
		                "signs the message: set up DKIM in its "
		                "account (docs/dkim.md)", t->scheme);
	if (t->backend == &rm__backend_route)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE, "dkim",
		                "add DKIM to the transports inside the "
		                "composite (dkim_key= in their URLs)");
	return RM_OK;
}

int rm_transport_add_dkim(rm_transport *t, const rm_dkim_key *key,
                          const char *domain, const char *selector,
                          const rm_dkim_opts *opts, rm_error *err)
{
	rm__dkim_signer s, *v;
	int rc;

	rm__error_clear(err);
	if (t == NULL || key == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                t == NULL ? "transport" : "key",
		                "%s must not be NULL", t ? "key" : "transport");
	rc = check_backend(t, err);
	if (rc != RM_OK)
		return rc;
	rc = signer_make(&s, key, domain, selector, opts, err);
	if (rc == RM_OK && t->dkim == NULL &&
	    (t->dkim = calloc(1, sizeof(*t->dkim))) == NULL)
		rc = RM_ENOMEM;
	v = rc == RM_OK ? realloc(t->dkim->signers,
	                          (t->dkim->count + 1) * sizeof(*v)) : NULL;
	if (rc == RM_OK && v == NULL)
		rc = RM_ENOMEM;
	if (rc == RM_ENOMEM)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory");
	if (rc != RM_OK) {
		signer_free(&s);
		return rc;
	}
	v[t->dkim->count++] = s;
	t->dkim->signers = v;
	return RM_OK;
}

const rm__dkim_set *rm__dkim_swap(rm_message *msg, const rm__dkim_set *set)
{
	const rm__dkim_set *prev = msg->send_dkim;

	msg->send_dkim = set;
	return prev;
}

const rm__dkim_set *rm__dkim_of(const rm_message *msg)
{
	return msg->send_dkim;
}

/* ---------------------------------------------------------------------- */
/* URL options                                                            */
/* ---------------------------------------------------------------------- */

/* "relaxed", "simple", or "header/body" of those. */
static int parse_canon(const char *text, rm_dkim_opts *o, rm_error *err)
{
	const char *slash = strchr(text, '/');
	size_t hl = slash != NULL ? (size_t)(slash - text) : strlen(text);
	const char *body = slash != NULL ? slash + 1 : "simple";
	int h = hl == 6 && rm__strncaseeq(text, "simple", 6) ? 1 :
	        hl == 7 && rm__strncaseeq(text, "relaxed", 7) ? 0 : -1;
	int b = rm__strcaseeq(body, "simple") ? 1 :
	        rm__strcaseeq(body, "relaxed") ? 0 : -1;

	/* RFC 6376 3.5: a lone header form means simple for the body. */
	if (h < 0 || b < 0)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                "dkim_canon", "dkim_canon must be simple or "
		                "relaxed, or HEADER/BODY of those");
	o->header_canon = h ? RM_DKIM_SIMPLE : RM_DKIM_RELAXED;
	o->body_canon = b ? RM_DKIM_SIMPLE : RM_DKIM_RELAXED;
	return RM_OK;
}

static int url_dkim_opts(const rm__url *url, rm_dkim_opts *o,
                         rm_error *err)
{
	const char *canon = rm__url_option(url, "dkim_canon");
	const char *expire = rm__url_option(url, "dkim_expire");
	long secs = 0;

	o->headers = rm__url_option(url, "dkim_headers");
	o->identity = rm__url_option(url, "dkim_identity");
	if (canon != NULL && parse_canon(canon, o, err) != RM_OK)
		return RM_EURL;
	if (expire != NULL &&
	    rm__parse_long(expire, 1, 100L * 365 * 86400, &secs) != RM_OK)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                "dkim_expire", "dkim_expire must be a number "
		                "of seconds, at least 1");
	o->expire_seconds = secs;
	return RM_OK;
}

/* The other dkim_ options alone would be silently ignored. */
static int stray_options(const rm__url *url, rm_error *err)
{
	static const char *const names[] = {
		"dkim_canon", "dkim_headers", "dkim_identity", "dkim_expire"
	};
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(names); i++)
		if (rm__url_option(url, names[i]) != NULL)
			return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
			                names[i], "%s needs dkim_key, "
			                "dkim_selector and dkim_domain",
			                names[i]);
	return RM_OK;
}

int rm__dkim_url_options(rm_transport *t, const rm__url *url,
                         rm_error *err)
{
	const char *path = rm__url_option(url, "dkim_key");
	const char *sel = rm__url_option(url, "dkim_selector");
	const char *dom = rm__url_option(url, "dkim_domain");
	rm_dkim_opts o = RM_DKIM_OPTS_INIT;
	rm_dkim_key *key = NULL;
	int rc;

	if (path == NULL && sel == NULL && dom == NULL)
		return stray_options(url, err);
	if (path == NULL || sel == NULL || dom == NULL)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                path == NULL ? "dkim_key" : sel == NULL ?
		                "dkim_selector" : "dkim_domain",
		                "DKIM needs dkim_key, dkim_selector and "
		                "dkim_domain together");
	rc = url_dkim_opts(url, &o, err);
	if (rc == RM_OK)
		rc = rm_dkim_key_load_file(&key, path, err);
	if (rc == RM_OK)
		rc = rm_transport_add_dkim(t, key, dom, sel, &o, err);
	rm_dkim_key_free(key);
	return rc;
}
