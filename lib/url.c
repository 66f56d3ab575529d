/*
 * Transport URLs, split by libcurl's URL API (curl_url). Query options are
 * "name=value" pairs joined by "&", percent-decoded; "+" is kept as is.
 *
 * "file://DIR" is the one exception: DIR is a local path, possibly
 * relative, which the URL grammar would read as a host name, so everything
 * after "file://" up to an optional "?" is taken as the path.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

/*
 * Percent-decodes text. A decoded CR, LF or NUL sets *bad (when bad is
 * not NULL): no option value may carry one to a header or a command.
 */
static char *decode(const char *text, size_t len, int *bad)
{
	int out_len = 0;
	char *tmp, *copy;

	if (len > INT_MAX)
		return NULL;
	tmp = curl_easy_unescape(NULL, text, (int)len, &out_len);
	if (tmp == NULL)
		return NULL;
	if (bad != NULL && rm__has_crlf_nul(tmp, (size_t)out_len))
		*bad = 1;
	copy = rm__strndup(tmp, (size_t)out_len);
	curl_free(tmp);
	return copy;
}

/* Programs print why after the code's name, "bad transport URL". */
static int fail_url(rm_error *err, const char *field, const char *why)
{
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, field, "%s",
	                why);
}

static int add_option(rm__url *url, const char *pair, size_t len)
{
	const char *eq = memchr(pair, '=', len);
	size_t name_len = eq != NULL ? (size_t)(eq - pair) : len;
	rm__url_opt *opts, *o;
	int bad = 0;

	opts = realloc(url->options, (url->option_count + 1) * sizeof(*opts));
	if (opts == NULL)
		return RM_ENOMEM;
	url->options = opts;
	o = &opts[url->option_count];
	o->used = 0;
	o->name = decode(pair, name_len, &bad);
	o->value = eq != NULL ? decode(eq + 1, len - name_len - 1, &bad)
	                      : rm__strdup("");
	if (o->name == NULL || o->value == NULL) {
		free(o->name);
		free(o->value);
		return RM_ENOMEM;
	}
	url->option_count++;
	return bad ? RM_EINVAL : RM_OK;
}

/* The last option added holds a decoded CR, LF or NUL. */
static int bad_option(const rm__url *url, rm_error *err)
{
	const char *name = url->options[url->option_count - 1].name;

	if (rm__has_crlf_nul(name, strlen(name)))
		name = "url";
	return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, name,
	                "the URL option %s holds a percent-encoded CR, LF "
	                "or NUL", name);
}

static int parse_query(rm__url *url, const char *query, rm_error *err)
{
	const char *p = query;

	while (*p != '\0') {
		size_t len = strcspn(p, "&");

		int rc = len > 0 ? add_option(url, p, len) : RM_OK;

		if (rc == RM_EINVAL)
			return bad_option(url, err);
		if (rc != RM_OK)
			return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "url",
			                "out of memory parsing URL options");
		p += len;
		if (*p == '&')
			p++;
	}
	return RM_OK;
}

static int parse_file_url(rm__url *url, const char *text, rm_error *err)
{
	const char *rest = text + strlen("file://");
	size_t path_len = strcspn(rest, "?");
	int bad = 0;

	url->scheme = rm__strdup("file");
	url->path = decode(rest, path_len, &bad);
	if (url->scheme == NULL || url->path == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "url",
		                "out of memory parsing URL");
	if (bad)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "path", "the folder holds a percent-encoded "
		                "CR, LF or NUL");
	if (url->path[0] == '\0')
		return fail_url(err, "url", "file:// needs a folder, "
		                "as in file:///var/mail/out");
	if (rest[path_len] == '?')
		return parse_query(url, rest + path_len + 1, err);
	return RM_OK;
}

/*
 * Gets one part; absent parts give NULL and RM_OK. libcurl refuses to
 * decode a part whose escapes hide a control character (such as %0D):
 * that is RM_EINVAL, so the caller can name the part.
 */
static int get_part(CURLU *h, CURLUPart part, unsigned flags, char **out)
{
	char *value = NULL;
	CURLUcode uc = curl_url_get(h, part, &value, flags);

	*out = NULL;
	if (uc == CURLUE_URLDECODE)
		return RM_EINVAL;
	if (uc != CURLUE_OK)
		return RM_OK;
	*out = rm__strdup(value);
	curl_free(value);
	return *out != NULL ? RM_OK : RM_ENOMEM;
}

static int strip_brackets(rm__url *url)
{
	size_t len;

	if (url->host == NULL || url->host[0] != '[')
		return RM_OK;
	len = strlen(url->host);
	if (len < 2 || url->host[len - 1] != ']')
		return RM_EURL;
	memmove(url->host, url->host + 1, len - 2);
	url->host[len - 2] = '\0';
	return RM_OK;
}

/*
 * The first failure of the parts in turn, or RM_OK; *field names the
 * part that failed.
 */
static int get_parts(CURLU *h, rm__url *url, char **port, char **query,
                     const char **field)
{
	int rc;

	rc = get_part(h, CURLUPART_SCHEME, 0, &url->scheme);
	*field = "user";
	if (rc == RM_OK)
		rc = get_part(h, CURLUPART_USER, CURLU_URLDECODE, &url->user);
	if (rc == RM_OK) {
		*field = "password";
		rc = get_part(h, CURLUPART_PASSWORD, CURLU_URLDECODE,
		              &url->password);
	}
	if (rc == RM_OK)
		rc = get_part(h, CURLUPART_HOST, 0, &url->host);
	if (rc == RM_OK) {
		*field = "path";
		rc = get_part(h, CURLUPART_PATH, CURLU_URLDECODE, &url->path);
	}
	if (rc == RM_OK)
		rc = get_part(h, CURLUPART_PORT, 0, port);
	if (rc == RM_OK)
		rc = get_part(h, CURLUPART_QUERY, 0, query);
	return rc;
}

static int fill_from_handle(rm__url *url, CURLU *h, rm_error *err)
{
	char *port = NULL, *query = NULL;
	const char *field = "url";
	long port_num = 0;
	int rc = RM_OK;

	rc = get_parts(h, url, &port, &query, &field);
	if (rc == RM_EINVAL)
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER, field,
		              "the URL's %s holds a percent-encoded control "
		              "character such as CR or LF", field);
	else if (rc != RM_OK)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "url",
		              "out of memory parsing URL");
	if (rc == RM_OK && strip_brackets(url) != RM_OK)
		rc = fail_url(err, "host", "unbalanced [ ] around the host");
	if (rc == RM_OK && port != NULL &&
	    rm__parse_long(port, 1, 65535, &port_num) != RM_OK)
		rc = fail_url(err, "port", "the port must be 1 to 65535");
	url->port = (int)port_num;
	if (rc == RM_OK && query != NULL)
		rc = parse_query(url, query, err);
	free(port);
	free(query);
	return rc;
}

/* The length of a scheme and its ":" at the start of text, or 0. */
static size_t scheme_colon_len(const char *text)
{
	size_t len = strspn(text, "abcdefghijklmnopqrstuvwxyz"
	                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (len == 0 || text[len] != ':' || strchr("0123456789", text[0]))
		return 0;
	return len + 1;
}

/*
 * A URL without "://": "file:out" or "smtp:host" has a scheme but not
 * the "//" after it; "host:25" or "host" has none at all (a port is not a
 * scheme, however much it looks like one).
 */
static int fail_no_slashes(const char *text, rm_error *err)
{
	size_t len = scheme_colon_len(text);

	if (len == 5 && strncmp(text, "file:", 5) == 0)
		return fail_url(err, "url", "file URLs are written "
		                "file:///absolute/folder or "
		                "file://relative/folder");
	if (len > 0 && strspn(text + len, "0123456789") == 0)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                "url", "'%.*s' must be followed by //, as in "
		                "%.*s//host", (int)len, text, (int)len, text);
	return fail_url(err, "url", "the URL has no scheme; write it as "
	                "smtp://host:port, smtps://host, file:///folder or "
	                "another scheme://...");
}

int rm__url_parse(rm__url *url, const char *text, rm_error *err)
{
	CURLU *h;
	CURLUcode uc;
	int rc;

	memset(url, 0, sizeof(*url));
	if (text == NULL || text[0] == '\0')
		return fail_url(err, "url", "the URL is empty");
	if (rm__has_crlf_nul(text, strlen(text)))
		return fail_url(err, "url", "the URL holds a CR or LF");
	if (strncmp(text, "file://", 7) == 0)
		return parse_file_url(url, text, err);
	if (strstr(text, "://") == NULL)
		return fail_no_slashes(text, err);

	h = curl_url();
	if (h == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "url",
		                "out of memory parsing URL");
	uc = curl_url_set(h, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_BAD_PORT_NUMBER) {
		/* The same words as a port libcurl takes but we refuse (0). */
		curl_url_cleanup(h);
		return fail_url(err, "port", "the port must be 1 to 65535");
	}
	if (uc != CURLUE_OK) {
		curl_url_cleanup(h);
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
		                "%s (expected "
		                "scheme://[user[:password]@]host[:port]"
		                "[?options])", curl_url_strerror(uc));
	}
	rc = fill_from_handle(url, h, err);
	curl_url_cleanup(h);
	return rc;
}

void rm__url_free(rm__url *url)
{
	size_t i;

	if (url == NULL)
		return;
	for (i = 0; i < url->option_count; i++) {
		free(url->options[i].name);
		rm__free_secret(url->options[i].value);
	}
	free(url->options);
	free(url->scheme);
	free(url->user);
	rm__free_secret(url->password);
	free(url->host);
	free(url->path);
	memset(url, 0, sizeof(*url));
}

const char *rm__url_option(const rm__url *url, const char *name)
{
	const char *value = NULL;
	size_t i;

	for (i = 0; i < url->option_count; i++) {
		if (strcmp(url->options[i].name, name) == 0) {
			url->options[i].used = 1;
			value = url->options[i].value;
		}
	}
	return value;
}

int rm__url_check_unused(const rm__url *url, rm_error *err)
{
	size_t i;

	for (i = 0; i < url->option_count; i++) {
		if (!url->options[i].used)
			return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
			                url->options[i].name,
			                "unknown URL option '%s' for %s://",
			                url->options[i].name, url->scheme);
	}
	return RM_OK;
}

int rm__parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return RM_EINVAL;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return RM_EINVAL;
	*out = v;
	return RM_OK;
}
