/*
 * rm_url_mask: a transport URL, composites too, with its secrets
 * replaced by "****", for logs and error messages.
 *
 * It works on the text, not on a parse, so that it also masks URLs that
 * do not parse (the ones error messages most need to show) and keeps
 * everything else exactly as written. Each "scheme://" starts a URL;
 * its user-info ends at the last "@" of the authority (RFC 3986 section
 * 3.2.1), its query at whitespace, ")" or "#", the characters that end
 * a URL inside a composite.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MASK "****"

/* Schemes whose user part is itself the secret (an API key). */
static const char *const key_schemes[] = {
	"sendgrid", "mailgun", "postmark", "smtp2go", "sendgrid+smtp",
	"postmark+smtp",
};

static int is_key_scheme(const char *scheme, size_t len)
{
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(key_schemes); i++) {
		if (strlen(key_schemes[i]) == len &&
		    rm__strncaseeq(key_schemes[i], scheme, len))
			return 1;
	}
	return 0;
}

static int ends_with(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && rm__strncaseeq(name + len - n, suffix, n);
}

/* Options whose value is a secret; NAME_env and NAME_file only name
 * where one is. */
static int secret_option(const char *name, size_t len)
{
	return ends_with(name, len, "password") ||
	       ends_with(name, len, "secret") ||
	       ends_with(name, len, "token") ||
	       (len == 3 && rm__strncaseeq(name, "key", 3)) ||
	       (len == 7 && rm__strncaseeq(name, "api_key", 7)) ||
	       (len == 6 && rm__strncaseeq(name, "apikey", 6));
}

static int is_scheme_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Appends the user-info, masked. */
static int mask_userinfo(rm__buf *b, const char *p, size_t len, int key)
{
	const char *colon = memchr(p, ':', len);

	if (key)
		return rm__buf_append_str(b, colon != NULL ? MASK ":" MASK :
		                          MASK);
	if (colon == NULL)
		return rm__buf_append(b, p, len);
	if (rm__buf_append(b, p, (size_t)(colon - p) + 1) != RM_OK)
		return RM_ENOMEM;
	return rm__buf_append_str(b, MASK);
}

/* Appends the query "a=b&c=d" (without '?'), secret values masked. */
static int mask_query(rm__buf *b, const char *p, size_t len)
{
	const char *end = p + len;
	int rc = RM_OK;

	while (rc == RM_OK && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', n);

		if (eq != NULL && secret_option(p, (size_t)(eq - p))) {
			rc = rm__buf_append(b, p, (size_t)(eq - p) + 1);
			if (rc == RM_OK)
				rc = rm__buf_append_str(b, MASK);
		} else {
			rc = rm__buf_append(b, p, n);
		}
		if (rc == RM_OK && amp != NULL)
			rc = rm__buf_append_byte(b, '&');
		p += n + (amp != NULL);
	}
	return rc;
}

/* One URL from its "://"; *used gets how much of the text it took. */
static int mask_one(rm__buf *b, const char *scheme, size_t scheme_len,
                    const char *p, size_t *used)
{
	/* A "/" in an unencoded password must not hide it: the user-info
	 * runs to the last "@" before the query. */
	size_t span = strcspn(p, "?# \t\r\n()"), auth, i, at = 0, rest, q;
	int file = scheme_len == 4 && rm__strncaseeq(scheme, "file", 4);
	int rc = RM_OK;

	for (i = 0; i < span && !file; i++) {
		if (p[i] == '@')
			at = i + 1;
	}
	auth = at + strcspn(p + at, "/?# \t\r\n()");
	if (at > 0)
		rc = mask_userinfo(b, p, at - 1, is_key_scheme(scheme,
		                   scheme_len));
	if (rc == RM_OK)
		rc = rm__buf_append(b, p + at - (at > 0), auth - at +
		                    (at > 0));
	rest = strcspn(p + auth, "? \t\r\n()#");
	if (rc == RM_OK)
		rc = rm__buf_append(b, p + auth, rest);
	*used = auth + rest;
	if (rc != RM_OK || p[*used] != '?')
		return rc;
	q = strcspn(p + *used + 1, " \t\r\n()#");
	rc = rm__buf_append_byte(b, '?');
	if (rc == RM_OK)
		rc = mask_query(b, p + *used + 1, q);
	*used += 1 + q;
	return rc;
}

static int mask_text(rm__buf *b, const char *text)
{
	const char *p = text, *sep;
	int rc = RM_OK;

	while (rc == RM_OK && (sep = strstr(p, "://")) != NULL) {
		const char *s = sep;
		size_t used = 0;

		while (s > p && is_scheme_char(s[-1]))
			s--;
		rc = rm__buf_append(b, p, (size_t)(sep - p) + 3);
		if (rc == RM_OK)
			rc = mask_one(b, s, (size_t)(sep - s), sep + 3, &used);
		p = sep + 3 + used;
	}
	if (rc == RM_OK)
		rc = rm__buf_append_str(b, p);
	return rc;
}

int rm_url_mask(const char *url, char **out, rm_error *err)
{
	rm__buf b;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || url == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                out == NULL ? "out" : "url",
		                "%s must not be NULL", out ? "url" : "out");
	/* A one-character secret becomes four. */
	rm__buf_init(&b, strlen(url) * 4 + 64);
	if (mask_text(&b, url) == RM_OK)
		*out = rm__buf_steal(&b);
	rm__buf_free(&b);
	if (*out == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory masking a URL");
	return RM_OK;
}
