/*
 * AWS Signature Version 4 on mbedTLS (SHA-256 and HMAC-SHA256), and the
 * SES SMTP password derived from a secret access key.
 *
 * The steps follow AWS's "Create a signed AWS API request": canonical
 * request, string to sign, signing key, signature. The canonical path is
 * the request path percent-encoded once more (every service but S3), so
 * a path given here is the decoded one, as written in a request line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "internal.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* The most headers one request may sign, the ones added here included. */
#define SIGV4_MAX_HEADERS 64

/* The largest canonical request or string built here. */
#define SIGV4_BUF_MAX ((size_t)1 << 20)

/* A canonical header: lowercase name and its value with runs of white
 * space made one space and the ends trimmed. */
typedef struct canon_header {
	char *name;
	char *value;
} canon_header;

typedef struct canon_set {
	canon_header items[SIGV4_MAX_HEADERS];
	size_t count;
} canon_set;

/* ---------------------------------------------------------------------- */
/* Hashes                                                                 */
/* ---------------------------------------------------------------------- */

static int sha256(const void *data, size_t len, unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(
		MBEDTLS_MD_SHA256);

	return mbedtls_md(md, data, len, out) == 0 ? RM_OK : RM_EINVAL;
}

static int hmac(const void *key, size_t key_len, const void *data,
                size_t len, unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(
		MBEDTLS_MD_SHA256);

	return mbedtls_md_hmac(md, key, key_len, data, len, out) == 0
	       ? RM_OK : RM_EINVAL;
}

int rm__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];

	if (sha256(data, len, digest) != RM_OK)
		return RM_EINVAL;
	rm__hex_lower(out, digest, sizeof(digest));
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Canonical URI and query                                                */
/* ---------------------------------------------------------------------- */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* Percent-encodes every byte but the unreserved ones (and '/' if
 * keep_slash), with upper-case hex. */
static int uri_encode(rm__buf *out, const char *s, size_t len,
                      int keep_slash)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; i < len && rc == RM_OK; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/'))
			rc = rm__buf_append_byte(out, (char)c);
		else
			rc = rm__buf_append_pct(out, c);
	}
	return rc;
}

/* Appends one path segment to the normalised path, handling "." and "..". */
static void push_segment(char *path, size_t *len, const char *seg,
                         size_t seg_len)
{
	if (seg_len == 0 || (seg_len == 1 && seg[0] == '.'))
		return;
	if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
		while (*len > 0 && path[*len - 1] != '/')
			(*len)--;
		if (*len > 0)
			(*len)--;
		return;
	}
	path[(*len)++] = '/';
	memcpy(path + *len, seg, seg_len);
	*len += seg_len;
}

/*
 * Removes dot segments (RFC 3986 section 5.2.4) and empty segments, as
 * AWS normalises every path but S3's. A trailing slash stays.
 */
static int normalize_path(const char *in, char **out)
{
	size_t in_len = strlen(in), len = 0, i = 0;
	char *path = malloc(in_len + 3);

	if (path == NULL)
		return RM_ENOMEM;
	while (i < in_len) {
		size_t seg = strcspn(in + i, "/");

		push_segment(path, &len, in + i, seg);
		i += seg;
		while (i < in_len && in[i] == '/')
			i++;
	}
	if (len == 0 || (in_len > 0 && in[in_len - 1] == '/'))
		path[len++] = '/';
	path[len] = '\0';
	*out = path;
	return RM_OK;
}

static int canonical_uri(rm__buf *out, const char *path, int normalize)
{
	char *norm = NULL;
	int rc;

	if (path == NULL || path[0] == '\0')
		path = "/";
	if (!normalize)
		return uri_encode(out, path, strlen(path), 1);
	rc = normalize_path(path, &norm);
	if (rc == RM_OK)
		rc = uri_encode(out, norm, strlen(norm), 1);
	free(norm);
	return rc;
}

/* One query parameter, encoded for the canonical query. */
typedef struct query_param {
	char *name;
	char *value;
} query_param;

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX escapes of s[0..len) and encodes the result again. */
static char *reencode(const char *s, size_t len)
{
	rm__buf raw, enc;
	size_t i;
	int rc = RM_OK;

	rm__buf_init(&raw, SIGV4_BUF_MAX);
	rm__buf_init(&enc, SIGV4_BUF_MAX);
	for (i = 0; i < len && rc == RM_OK; i++) {
		int hi = -1, lo = -1;

		if (s[i] == '%' && i + 2 < len) {
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			rc = rm__buf_append_byte(&raw, (char)(hi * 16 + lo));
			i += 2;
		} else {
			rc = rm__buf_append_byte(&raw, s[i]);
		}
	}
	if (rc == RM_OK)
		rc = uri_encode(&enc, raw.data ? raw.data : "", raw.len, 0);
	rm__buf_free(&raw);
	if (rc == RM_OK && enc.data == NULL)
		rc = rm__buf_append(&enc, "", 0);
	if (rc != RM_OK) {
		rm__buf_free(&enc);
		return NULL;
	}
	return rm__buf_steal(&enc);
}

static int compare_params(const void *a, const void *b)
{
	const query_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static void free_params(query_param *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* Splits the query into encoded parameters; *count may be 0. */
static int split_query(const char *query, query_param **out, size_t *count)
{
	size_t n = 0, cap = 1;
	const char *p;
	query_param *params;

	for (p = query; *p != '\0'; p++)
		cap += *p == '&';
	params = calloc(cap, sizeof(*params));
	if (params == NULL)
		return RM_ENOMEM;
	for (p = query; *p != '\0';) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t name_len = eq != NULL ? (size_t)(eq - p) : len;

		if (len > 0) {
			params[n].name = reencode(p, name_len);
			params[n].value = eq != NULL
				? reencode(eq + 1, len - name_len - 1)
				: rm__strdup("");
			if (params[n++].value == NULL ||
			    params[n - 1].name == NULL) {
				free_params(params, n);
				return RM_ENOMEM;
			}
		}
		p += len + (p[len] == '&');
	}
	*out = params;
	*count = n;
	return RM_OK;
}

/* Sorted by encoded name, then value; "name=" for empty values. */
static int canonical_query(rm__buf *out, const char *query)
{
	query_param *params = NULL;
	size_t n = 0, i;
	int rc;

	if (query == NULL || query[0] == '\0')
		return RM_OK;
	rc = split_query(query, &params, &n);
	if (rc != RM_OK)
		return rc;
	qsort(params, n, sizeof(*params), compare_params);
	for (i = 0; i < n && rc == RM_OK; i++)
		rc = rm__buf_printf(out, "%s%s=%s", i > 0 ? "&" : "",
		                    params[i].name, params[i].value);
	free_params(params, n);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Canonical headers                                                      */
/* ---------------------------------------------------------------------- */

/* The value trimmed, with every run of white space made one space. */
static char *squeeze(const char *v)
{
	size_t len = strlen(v), i, n = 0;
	char *out = malloc(len + 1);
	int space = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = v[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = c;
	}
	out[n] = '\0';
	return out;
}

static char *lower(const char *s)
{
	char *out = rm__strdup(s);
	char *p;

	for (p = out; p != NULL && *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return out;
}

static void canon_free(canon_set *set)
{
	size_t i;

	for (i = 0; i < set->count; i++) {
		free(set->items[i].name);
		free(set->items[i].value);
	}
	set->count = 0;
}

/* Adds a header; a repeated name gets its value joined with ",". */
static int canon_add(canon_set *set, const char *name, const char *value)
{
	char *lname = lower(name), *v = squeeze(value);
	size_t i;
	rm__buf joined;

	if (lname == NULL || v == NULL)
		goto nomem;
	for (i = 0; i < set->count; i++) {
		if (strcmp(set->items[i].name, lname) != 0)
			continue;
		rm__buf_init(&joined, SIGV4_BUF_MAX);
		if (rm__buf_printf(&joined, "%s,%s", set->items[i].value,
		                   v) != RM_OK)
			goto nomem;
		free(set->items[i].value);
		set->items[i].value = rm__buf_steal(&joined);
		free(lname);
		free(v);
		return RM_OK;
	}
	if (set->count == SIGV4_MAX_HEADERS) {
		free(lname);
		free(v);
		return RM_ELIMIT;
	}
	set->items[set->count].name = lname;
	set->items[set->count++].value = v;
	return RM_OK;
nomem:
	free(lname);
	free(v);
	return RM_ENOMEM;
}

/* Insertion sort by name: few headers, and names are unique by now. */
static void canon_sort(canon_set *set)
{
	size_t i, j;

	for (i = 1; i < set->count; i++) {
		canon_header h = set->items[i];

		for (j = i; j > 0 &&
		     strcmp(set->items[j - 1].name, h.name) > 0; j--)
			set->items[j] = set->items[j - 1];
		set->items[j] = h;
	}
}

/* Headers never signed: they change on the way or are the signature. */
static int unsigned_header(const char *name)
{
	static const char *const skip[] = {
		"authorization", "user-agent", "connection", "keep-alive",
		"proxy-authorization", "te", "trailer", "transfer-encoding",
		"upgrade", "expect",
	};
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(skip); i++) {
		if (rm__strcaseeq(name, skip[i]))
			return 1;
	}
	return 0;
}

static int collect_headers(const rm__sigv4_request *req,
                           const rm__sigv4_key *key, const char *payload,
                           canon_set *set)
{
	char date[17];
	size_t i;
	int rc = RM_OK;

	rm__sigv4_amz_date(req->when, date);
	for (i = 0; i < req->header_count && rc == RM_OK; i++) {
		if (!unsigned_header(req->headers[i].name))
			rc = canon_add(set, req->headers[i].name,
			               req->headers[i].value);
	}
	if (rc == RM_OK)
		rc = canon_add(set, "x-amz-date", date);
	if (rc == RM_OK && key->token != NULL && key->token[0] != '\0')
		rc = canon_add(set, "x-amz-security-token", key->token);
	if (rc == RM_OK && req->content_sha256_header)
		rc = canon_add(set, "x-amz-content-sha256", payload);
	canon_sort(set);
	return rc;
}

static int signed_header_list(const canon_set *set, rm__buf *out)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; i < set->count && rc == RM_OK; i++)
		rc = rm__buf_printf(out, "%s%s", i > 0 ? ";" : "",
		                    set->items[i].name);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The signature                                                          */
/* ---------------------------------------------------------------------- */

void rm__sigv4_amz_date(time_t when, char out[17])
{
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		snprintf(out, 17, "19700101T000000Z");
}

static int canonical_rest(const rm__sigv4_request *req, rm__buf *out,
                          const canon_set *set, const char *payload)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; i < set->count && rc == RM_OK; i++)
		rc = rm__buf_printf(out, "%s:%s\n", set->items[i].name,
		                    set->items[i].value);
	if (rc == RM_OK)
		rc = rm__buf_append_byte(out, '\n');
	if (rc == RM_OK)
		rc = signed_header_list(set, out);
	if (rc == RM_OK)
		rc = rm__buf_printf(out, "\n%s", payload);
	(void)req;
	return rc;
}

int rm__sigv4_canonical_request(const rm__sigv4_request *req,
                                const rm__sigv4_key *key, rm__buf *out,
                                rm__buf *signed_headers)
{
	canon_set set;
	char payload[65];
	int rc;

	set.count = 0;
	rc = rm__sha256_hex(req->body != NULL ? req->body : "",
	                    req->body_len, payload);
	if (rc == RM_OK)
		rc = collect_headers(req, key, payload, &set);
	if (rc == RM_OK)
		rc = rm__buf_printf(out, "%s\n", req->method);
	if (rc == RM_OK)
		rc = canonical_uri(out, req->path, req->normalize_path);
	if (rc == RM_OK)
		rc = rm__buf_append_byte(out, '\n');
	if (rc == RM_OK)
		rc = canonical_query(out, req->query);
	if (rc == RM_OK)
		rc = rm__buf_append_byte(out, '\n');
	if (rc == RM_OK)
		rc = canonical_rest(req, out, &set, payload);
	if (rc == RM_OK && signed_headers != NULL)
		rc = signed_header_list(&set, signed_headers);
	canon_free(&set);
	return rc;
}

/* "YYYYMMDD/region/service/aws4_request" */
static int scope(const rm__sigv4_request *req, const rm__sigv4_key *key,
                 rm__buf *out)
{
	char date[17];

	rm__sigv4_amz_date(req->when, date);
	return rm__buf_printf(out, "%.8s/%s/%s/aws4_request", date,
	                      key->region, key->service);
}

int rm__sigv4_string_to_sign(const rm__sigv4_request *req,
                             const rm__sigv4_key *key, const char *canonical,
                             rm__buf *out)
{
	char date[17], hash[65];
	int rc;

	rm__sigv4_amz_date(req->when, date);
	rc = rm__sha256_hex(canonical, strlen(canonical), hash);
	if (rc == RM_OK)
		rc = rm__buf_printf(out, SIGV4_ALGORITHM "\n%s\n", date);
	if (rc == RM_OK)
		rc = scope(req, key, out);
	if (rc == RM_OK)
		rc = rm__buf_printf(out, "\n%s", hash);
	return rc;
}

/* kSigning = HMAC chain over date, region, service and "aws4_request". */
static int signing_key(const rm__sigv4_key *key, const char *date8,
                       unsigned char out[32])
{
	const char *steps[3];
	rm__buf secret;
	size_t i;
	int rc;

	steps[0] = key->region;
	steps[1] = key->service;
	steps[2] = "aws4_request";
	rm__buf_init(&secret, SIGV4_BUF_MAX);
	rc = rm__buf_printf(&secret, "AWS4%s", key->secret_key);
	if (rc == RM_OK)
		rc = hmac(secret.data, secret.len, date8, 8, out);
	for (i = 0; i < 3 && rc == RM_OK; i++)
		rc = hmac(out, 32, steps[i], strlen(steps[i]), out);
	rm__buf_free_secret(&secret);
	return rc;
}

int rm__sigv4_signature(const rm__sigv4_request *req,
                        const rm__sigv4_key *key, const char *string_to_sign,
                        char out[65])
{
	unsigned char k[32], sig[32];
	char date[17];
	int rc;

	rm__sigv4_amz_date(req->when, date);
	rc = signing_key(key, date, k);
	if (rc == RM_OK)
		rc = hmac(k, sizeof(k), string_to_sign, strlen(string_to_sign),
		          sig);
	rm__wipe(k, sizeof(k));
	if (rc == RM_OK)
		rm__hex_lower(out, sig, sizeof(sig));
	return rc;
}

/* The Authorization value from the signed headers and the signature. */
static int authorization(const rm__sigv4_request *req,
                         const rm__sigv4_key *key, const char *signed_list,
                         const char *sig, rm__buf *out)
{
	int rc = rm__buf_printf(out, SIGV4_ALGORITHM " Credential=%s/",
	                        key->access_key);

	if (rc == RM_OK)
		rc = scope(req, key, out);
	if (rc == RM_OK)
		rc = rm__buf_printf(out, ", SignedHeaders=%s, Signature=%s",
		                    signed_list, sig);
	return rc;
}

int rm__sigv4_sign(const rm__sigv4_request *req, const rm__sigv4_key *key,
                   rm__buf *auth)
{
	rm__buf canon, list, sts;
	char sig[65];
	int rc;

	rm__buf_init(&canon, SIGV4_BUF_MAX);
	rm__buf_init(&list, SIGV4_BUF_MAX);
	rm__buf_init(&sts, SIGV4_BUF_MAX);
	rc = rm__sigv4_canonical_request(req, key, &canon, &list);
	if (rc == RM_OK)
		rc = rm__sigv4_string_to_sign(req, key, canon.data, &sts);
	if (rc == RM_OK)
		rc = rm__sigv4_signature(req, key, sts.data, sig);
	if (rc == RM_OK)
		rc = authorization(req, key, list.data, sig, auth);
	rm__buf_free(&canon);
	rm__buf_free(&list);
	rm__buf_free(&sts);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* SES SMTP password                                                      */
/* ---------------------------------------------------------------------- */

/*
 * AWS's documented conversion of a secret access key into an SES SMTP
 * password: the SigV4 key chain with the fixed date "11111111", service
 * "ses", then the message "SendRawEmail", prefixed with version byte 4.
 */
int rm_ses_smtp_password(const char *secret_key, const char *region,
                         char *out, size_t size, rm_error *err)
{
	rm__sigv4_key key = { NULL, NULL, NULL, NULL, "ses" };
	unsigned char k[33];
	rm__buf b64;
	int rc;

	rm__error_clear(err);
	if (out != NULL && size > 0)
		out[0] = '\0';
	if (secret_key == NULL || secret_key[0] == '\0' || region == NULL ||
	    region[0] == '\0' || out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                secret_key == NULL || secret_key[0] == '\0'
		                ? "secret_key" : region == NULL ||
		                region[0] == '\0' ? "region" : "out",
		                "the secret key, the region and out are "
		                "required");
	if (strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(region))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "region",
		                "'%s' is not a region name such as eu-west-1",
		                region);
	if (size < RM_SES_SMTP_PASSWORD_SIZE)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "size",
		                "the password needs %d bytes of room",
		                RM_SES_SMTP_PASSWORD_SIZE);
	key.secret_key = secret_key;
	key.region = region;
	k[0] = 0x04;
	rc = signing_key(&key, "11111111", k + 1);
	if (rc == RM_OK)
		rc = hmac(k + 1, 32, "SendRawEmail", 12, k + 1);
	rm__buf_init(&b64, 64);
	if (rc == RM_OK)
		rc = rm__base64_encode(&b64, k, sizeof(k));
	rm__wipe(k, sizeof(k));
	if (rc == RM_OK)
		snprintf(out, size, "%s", b64.data);
	rm__buf_free_secret(&b64);
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, NULL,
		                "cannot derive the SES SMTP password");
	return RM_OK;
}
