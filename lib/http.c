/*
 * The HTTP layer shared by the API backends: one libcurl easy handle per
 * transport (so the connection is kept alive between sends), the options
 * every backend URL takes, and the reading of a response into the shared
 * result.
 *
 * Standards: RFC 9110 (9.2.1 GET is safe, 9.2.2 POST is not idempotent,
 * 10.2.3 Retry-After, 15.6.4 503), RFC 6585 section 4 (429).
 */
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "option.h"

/* A provider's error body is short; anything longer is cut. */
#define HTTP_BODY_MAX ((size_t)1 << 20)
#define HTTP_HEADERS_MAX ((size_t)64 << 10)

#define HTTP_CONNECT_TIMEOUT_MS (30 * 1000LL)
#define HTTP_TIMEOUT_MS (300 * 1000LL)
/* The longest connect_timeout= and timeout=. */
#define TIMEOUT_MAX_MS (86400 * 1000LL)

struct rm__http {
	CURL *easy;
	const rm__log *log;
	const char *name;       /* the backend, for messages */
	char *base;             /* the base URL, without a trailing '/' */
	char *ca_file;
	long long connect_timeout_ms;
	long long timeout_ms;   /* the whole transfer */
	char errbuf[CURL_ERROR_SIZE];
	char tls[64];           /* the last handshake's "version / cipher" */
	const rm__http_header *req;  /* the request's headers, during one */
	size_t req_count;
};

/* One request as perform sends it. read_only: it asks the provider to
 * do nothing (GET, or a POST that only reads), so a transfer that fails
 * after it went out cannot have sent mail. */
typedef struct http_call {
	const char *method;
	int read_only;
	const char *url;
	const char *body;
	size_t len;
} http_call;

/* ---------------------------------------------------------------------- */
/* Options                                                                */
/* ---------------------------------------------------------------------- */

/*
 * An endpoint must be https, or plain http on the loopback interface (the
 * fakes of the tests), or plain http the caller asked for in plain words:
 * an API key sent in clear text is a key given away.
 */
static int check_endpoint(const rm__opt_reader *o, const char *endpoint,
                          int allow_http)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = RM_OK;

	if (u == NULL)
		return rm__fail(o->err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory checking the endpoint");
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = rm__opt_fail(o, "endpoint", "not an http(s) URL");
	else if (!rm__strcaseeq(scheme, "https") &&
	         !rm__strcaseeq(scheme, "http"))
		rc = rm__opt_fail(o, "endpoint", "the scheme must be https");
	else if (rm__strcaseeq(scheme, "http") && !allow_http &&
	         !rm__host_is_loopback(host))
		rc = rm__opt_fail(o, "endpoint", "plain http sends the API "
		                  "key in clear text; use https, or add "
		                  "allow_insecure_http=yes");
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int set_base(rm__http *h, const char *base)
{
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	h->base = rm__strndup(base, len);
	return h->base != NULL ? RM_OK : RM_ENOMEM;
}

static int read_options(rm__http *h, rm_transport *t, const rm__url *url,
                        const char *default_base, rm_error *err)
{
	const char *endpoint = rm__url_option(url, "endpoint");
	const char *ca = rm__url_option(url, "ca_file");
	rm__opt_reader o = { url, "URL", err };
	int allow_http = 0, rc;

	rc = rm__opt_flag(&o, "allow_insecure_http", &allow_http);
	if (rc == RM_OK)
		rc = rm__opt_duration(&o, "connect_timeout", 1000,
		                      TIMEOUT_MAX_MS, &h->connect_timeout_ms);
	if (rc == RM_OK)
		rc = rm__opt_duration(&o, "timeout", 1000, TIMEOUT_MAX_MS,
		                      &h->timeout_ms);
	if (rc == RM_OK && endpoint != NULL)
		rc = check_endpoint(&o, endpoint, allow_http);
	if (rc != RM_OK)
		return rc;
	if (ca == NULL)
		ca = t->ca_file;
	h->ca_file = rm__strdup(ca);
	if (set_base(h, endpoint != NULL ? endpoint : default_base) != RM_OK ||
	    (ca != NULL && h->ca_file == NULL))
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening %s", h->name);
	return RM_OK;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* curl_easy_init would run curl_global_init itself, but not safely from
 * two threads at once: run it exactly once here. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * A client with the default timeouts, or NULL when out of memory. libcurl
 * is set up first: none of its calls, curl_easy_escape included, is to be
 * used before curl_global_init.
 */
static rm__http *new_http(const rm__log *log, const char *name)
{
	rm__http *h;

	if (pthread_once(&global_once, global_init) != 0 ||
	    global_rc != CURLE_OK)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->log = log;
	h->name = name;
	h->connect_timeout_ms = HTTP_CONNECT_TIMEOUT_MS;
	h->timeout_ms = HTTP_TIMEOUT_MS;
	return h;
}

int rm__http_open(rm__http **out, rm_transport *t, const rm__url *url,
                  const char *default_base, rm_error *err)
{
	rm__http *h = new_http(&t->log, t->scheme);
	int rc;

	*out = NULL;
	if (h == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening %s://", t->scheme);
	rc = read_options(h, t, url, default_base, err);
	if (rc != RM_OK) {
		rm__http_close(h);
		return rc;
	}
	*out = h;
	return RM_OK;
}

int rm__http_new(rm__http **out, const rm__log *log, const char *name,
                 const char *base, const char *ca_file, long long timeout_ms)
{
	rm__http *h = new_http(log, name);

	*out = NULL;
	if (h == NULL || (h->base = rm__strdup(base)) == NULL ||
	    (ca_file != NULL && (h->ca_file = rm__strdup(ca_file)) == NULL)) {
		rm__http_close(h);
		return RM_ENOMEM;
	}
	h->connect_timeout_ms = timeout_ms;
	h->timeout_ms = timeout_ms;
	*out = h;
	return RM_OK;
}

void rm__http_close(rm__http *h)
{
	if (h == NULL)
		return;
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	free(h->base);
	free(h->ca_file);
	free(h);
}

const char *rm__http_base(const rm__http *h)
{
	return h->base;
}

const char *rm__http_error_text(const rm__http *h)
{
	return h->errbuf;
}

/* ---------------------------------------------------------------------- */
/* Responses                                                              */
/* ---------------------------------------------------------------------- */

void rm__http_response_init(rm__http_response *r)
{
	r->status = 0;
	rm__buf_init(&r->headers, HTTP_HEADERS_MAX);
	rm__buf_init(&r->body, HTTP_BODY_MAX);
}

void rm__http_response_free(rm__http_response *r)
{
	rm__buf_free(&r->headers);
	rm__buf_free(&r->body);
}

/* Keeps the body up to its ceiling and drops the rest. */
static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	rm__http_response *r = user;
	size_t len = size * n;
	size_t room = r->body.max - r->body.len;

	(void)rm__buf_append(&r->body, data, len < room ? len : room);
	return len;
}

/* Keeps the header lines of the final response only (not of a 100). */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	rm__http_response *r = user;
	size_t len = size * n;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		rm__buf_reset(&r->headers);
	(void)rm__buf_append(&r->headers, data, len);
	return len;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int rm__http_response_header(const rm__http_response *r, const char *name,
                    char *out, size_t size)
{
	size_t name_len = strlen(name);
	const char *p = r->headers.data;
	const char *end = p != NULL ? p + r->headers.len : NULL;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;

		if ((size_t)(line_end - p) > name_len && p[name_len] == ':' &&
		    rm__strncaseeq(p, name, name_len)) {
			const char *v = skip_ws(p + name_len + 1, line_end);

			while (line_end > v && (line_end[-1] == '\r' ||
			       line_end[-1] == ' ' || line_end[-1] == '\t'))
				line_end--;
			snprintf(out, size, "%.*s", (int)(line_end - v), v);
			return 1;
		}
		p = eol != NULL ? eol + 1 : end;
	}
	return 0;
}

/* The server's clock from its Date header, else ours. */
static time_t server_now(const rm__http_response *r)
{
	char date[128];
	time_t t;

	if (rm__http_response_header(r, "Date", date, sizeof(date))) {
		t = curl_getdate(date, NULL);
		if (t > 0)
			return t;
	}
	return time(NULL);
}

/* A hint further away than this is as good as "not today". */
#define HINT_MAX_SECONDS (366LL * 86400)

/* Milliseconds from now until when; far-off dates are capped, since a
 * server may send any year and the difference must not overflow. */
static long long seconds_until(time_t when, time_t now)
{
	long long diff;

	if (when <= now)
		return 0;
	if (now < 0 && when > LLONG_MAX + (long long)now)
		return HINT_MAX_SECONDS * 1000;
	diff = (long long)when - (long long)now;
	if (diff > HINT_MAX_SECONDS)
		diff = HINT_MAX_SECONDS;
	return diff * 1000;
}

/*
 * The wait the server asked for: Retry-After as delay-seconds or an
 * HTTP-date (RFC 9110 section 10.2.3), the date taken against the
 * server's own Date header so clock skew does not count; else the
 * rate-limit reset time (Unix epoch seconds) some providers send.
 */
long long rm__http_retry_hint(const rm__http_response *r)
{
	char v[128];
	long secs;
	time_t when;

	if (rm__http_response_header(r, "Retry-After", v, sizeof(v))) {
		if (rm__parse_long(v, 0, 7L * 86400, &secs) == RM_OK)
			return (long long)secs * 1000;
		when = curl_getdate(v, NULL);
		if (when > 0)
			return seconds_until(when, server_now(r));
	}
	if (rm__http_response_header(r, "X-RateLimit-Reset", v, sizeof(v)) &&
	    rm__parse_long(v, 0, 0x7fffffffL, &secs) == RM_OK)
		return seconds_until((time_t)secs, server_now(r));
	return 0;
}

/*
 * 429, 408 and 503 say the request was not acted on: try again. Any
 * other 5xx came after the whole POST arrived, and POST is not
 * idempotent (RFC 9110 section 9.2.2): the provider may have queued the
 * message before failing, so a resend could deliver it twice.
 */
static int status_says_retry(long status)
{
	return status == 429 || status == 408 || status == 503;
}

rm_outcome rm__http_status_outcome(long status)
{
	if (status >= 200 && status < 300)
		return RM_OUTCOME_DELIVERED;
	if (status_says_retry(status))
		return RM_OUTCOME_TRANSIENT;
	if (status >= 500)
		return RM_OUTCOME_AMBIGUOUS;
	return RM_OUTCOME_PERM_PROVIDER;
}

int rm__http_status_code(long status)
{
	if (status >= 200 && status < 300)
		return RM_OK;
	if (status == 401 || status == 403)
		return RM_EAUTH;
	if (status == 413)
		return RM_ETOOBIG;
	if (status_says_retry(status))
		return RM_ETEMPFAIL;
	if (status >= 500)
		return RM_EHTTP;
	return RM_EREJECTED;
}

/* ---------------------------------------------------------------------- */
/* Requests                                                               */
/* ---------------------------------------------------------------------- */

/* Header names whose values are secrets, kept out of the log. */
static int secret_header(const char *line, size_t len)
{
	static const char *const names[] = {
		"authorization:", "x-postmark-server-token:",
		"x-smtp2go-api-key:", "x-amz-security-token:",
	};
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(names); i++) {
		size_t n = strlen(names[i]);

		if (len >= n && rm__strncaseeq(line, names[i], n))
			return 1;
	}
	return 0;
}

/* Removes Basic credentials from b: "user:password" as sent, and the
 * password alone, which a server may quote on its own. */
static void redact_basic(rm__buf *b, const char *encoded)
{
	rm__buf basic;
	const char *colon;
	size_t rest;

	rm__buf_init(&basic, 4096);
	if (rm__base64_decode(&basic, encoded, strlen(encoded)) == RM_OK) {
		rm__redact(b, basic.data, basic.len);
		colon = memchr(basic.data, ':', basic.len);
		if (colon != NULL) {
			rest = (size_t)(basic.data + basic.len - colon - 1);
			rm__redact(b, colon + 1, rest);
		}
	}
	rm__buf_free(&basic);
}

/*
 * A JSON answer may write an echoed secret with escapes ("\/" for "/",
 * "\u002b" for "+") that a byte search cannot see, and that cJSON would
 * undo when a backend reads the answer: such a body is printed again by
 * cJSON, which escapes only what JSON requires, before secrets are
 * searched for. A body that cannot be printed again is dropped.
 */
static void canonical_json(rm__buf *body)
{
	cJSON *root;
	char *printed;

	if (body->len == 0 || memchr(body->data, '\\', body->len) == NULL)
		return;
	root = cJSON_ParseWithLength(body->data, body->len);
	if (root == NULL)
		return;
	printed = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	rm__buf_reset(body);
	if (printed == NULL || rm__buf_append_str(body, printed) != RM_OK)
		rm__buf_reset(body);
	free(printed);
}

/* Removes from b the secrets the request carries (the values of its
 * secret headers: a Bearer token, Basic credentials, a key), which a
 * server may echo in its answer. */
static void redact_request_secrets(const rm__http *h, rm__buf *b)
{
	size_t i;

	for (i = 0; i < h->req_count; i++) {
		const char *v = h->req[i].value;
		rm__buf name;

		rm__buf_init(&name, 256);
		if (rm__buf_printf(&name, "%s:", h->req[i].name) == RM_OK &&
		    secret_header(name.data, name.len)) {
			if (rm__strncaseeq(v, "Bearer ", 7))
				v += 7;
			if (rm__strncaseeq(v, "Basic ", 6))
				redact_basic(b, v + 6);
			rm__redact(b, v, strlen(v));
		}
		rm__buf_free(&name);
	}
}

/* Logs one header line the server sent, request secrets redacted. */
static void log_header_in(const rm__http *h, const char *p, size_t n)
{
	rm__buf line;

	rm__buf_init(&line, n + 1);
	if (rm__buf_append(&line, p, n) == RM_OK) {
		redact_request_secrets(h, &line);
		rm__logf(h->log, RM_LOG_DEBUG, "< %s", line.data);
	}
	rm__buf_free(&line);
}

/* Logs header lines one at a time, secrets replaced by "<redacted>". */
static void log_headers(const rm__http *h, const char *dir,
                        const char *data, size_t len)
{
	const rm__log *log = h->log;
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol != NULL ? eol : end) - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && secret_header(p, n))
			rm__logf(log, RM_LOG_DEBUG, "%s %.*s <redacted>", dir,
			         (int)(strchr(p, ':') - p + 1), p);
		else if (n > 0 && *dir == '<')
			log_header_in(h, p, n);
		else if (n > 0)
			rm__logf(log, RM_LOG_DEBUG, "%s %.*s", dir, (int)n, p);
		p = eol != NULL ? eol + 1 : end;
	}
}

/* libcurl's note on a finished handshake, "SSL connection using
 * TLSv1.3 / TLS_AES_256_GCM_SHA384", is the only place it names the
 * version and cipher its TLS library chose: kept for a check to show. */
#define TLS_NOTE "SSL connection using "

static void keep_tls_note(rm__http *h, const char *data, size_t len)
{
	size_t n = strlen(TLS_NOTE);

	if (len <= n || memcmp(data, TLS_NOTE, n) != 0)
		return;
	len -= n;
	data += n;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	snprintf(h->tls, sizeof(h->tls), "%.*s", (int)len, data);
}

static int on_debug(CURL *easy, curl_infotype type, char *data,
                    size_t len, void *user)
{
	rm__http *h = user;

	(void)easy;
	if (type == CURLINFO_TEXT)
		keep_tls_note(h, data, len);
	if (!rm__log_enabled(h->log, RM_LOG_DEBUG))
		return 0;
	if (type == CURLINFO_HEADER_OUT)
		log_headers(h, ">", data, len);
	else if (type == CURLINFO_HEADER_IN)
		log_headers(h, "<", data, len);
	else if (type == CURLINFO_TEXT && len > 0)
		rm__logf(h->log, RM_LOG_DEBUG, "* %.*s",
		         (int)(data[len - 1] == '\n' ? len - 1 : len), data);
	return 0;
}

static int setup_handle(rm__http *h)
{
	CURL *e;

	if (h->easy == NULL) {
		h->easy = curl_easy_init();
		if (h->easy == NULL)
			return RM_ENOMEM;
	}
	e = h->easy;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)h->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "relaymail/" RM_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	/* Always on: the handshake note is read even when nothing logs. */
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, h);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	return RM_OK;
}

/*
 * A CR or LF in a header would end it and start another the caller never
 * meant (RFC 9110 5.5): refused here whatever the backend put there, so
 * no value taken from a URL or the environment can smuggle one in.
 */
static int check_headers(const rm__http *h, const rm__http_header *headers,
                         size_t count, rm_error *err)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (strpbrk(headers[i].name, "\r\n:") == NULL &&
		    strpbrk(headers[i].value, "\r\n") == NULL)
			continue;
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "header", "%s: a request header holds CR or "
		                "LF; nothing was sent", h->name);
	}
	return RM_OK;
}

/* The request headers as a libcurl list; "Expect:" turns off the
 * 100-continue wait, which only costs a round trip here. */
static struct curl_slist *header_list(const rm__http_header *headers,
                                      size_t count)
{
	struct curl_slist *list = NULL, *next;
	rm__buf line;
	size_t i;

	rm__buf_init(&line, 64 * 1024);
	for (i = 0; i <= count; i++) {
		rm__buf_reset(&line);
		if (i == count ? rm__buf_append_str(&line, "Expect:")
		    : rm__buf_printf(&line, "%s: %s", headers[i].name,
		                     headers[i].value))
			break;
		next = curl_slist_append(list, line.data);
		if (next == NULL)
			break;
		list = next;
	}
	rm__buf_free(&line);
	if (i <= count) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

static int curl_code_status(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return RM_ERESOLVE;
	case CURLE_COULDNT_CONNECT:
		return RM_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return RM_ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return RM_ECERT;
	case CURLE_SSL_CONNECT_ERROR:
		return RM_ETLS;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return RM_ECLOSED;
	default:
		return RM_EHTTP;
	}
}

/*
 * A failed transfer. When the whole request went out, the provider may
 * have acted on it though no answer came back, so the outcome is
 * ambiguous and a blind resend could deliver twice (RFC 9110 section
 * 9.2.2). When it did not go out whole, nothing was sent: transient. A
 * read-only request changes nothing however far it got: transient.
 */
static int transfer_failed(rm__http *h, CURLcode c, const http_call *call,
                           const char *url, rm_error *err)
{
	long request_size = 0;
	curl_off_t uploaded = 0;
	int code = curl_code_status(c), sent;
	rm_outcome outcome;

	curl_easy_getinfo(h->easy, CURLINFO_REQUEST_SIZE, &request_size);
	curl_easy_getinfo(h->easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
	sent = request_size > 0 && (size_t)uploaded >= call->len;
	if (h->errbuf[0] == '\0')
		snprintf(h->errbuf, sizeof(h->errbuf), "%s",
		         curl_easy_strerror(c));
	if (code == RM_ECERT)
		outcome = RM_OUTCOME_PERM_PROVIDER;
	else if (call->read_only)
		outcome = RM_OUTCOME_TRANSIENT;
	else
		outcome = sent ? RM_OUTCOME_AMBIGUOUS : RM_OUTCOME_TRANSIENT;
	sent = sent && outcome == RM_OUTCOME_AMBIGUOUS;
	rm__logf(h->log, RM_LOG_WARN, "%s: %s %s failed: %s", h->name,
	         call->method, url, h->errbuf);
	return rm__fail(err, code, outcome, "url", "%s: %s %s %s: %s%s",
	                h->name, sent ? "no answer to" : "cannot",
	                call->method, url, h->errbuf, sent ? " (the request "
	                "was sent: it may have been delivered)" : "");
}

static void set_method(CURL *e, const http_call *call)
{
	if (strcmp(call->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)call->len);
}

static int perform(rm__http *h, const http_call *call,
                   struct curl_slist *list, rm__http_response *resp,
                   rm_error *err)
{
	CURL *e = h->easy;
	char *shown = NULL;
	int rc = RM_OK;
	CURLcode c;

	h->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, call->url);
	set_method(e, call);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
	c = curl_easy_perform(e);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
	/* Messages show the URL with any credentials masked. */
	rm_url_mask(call->url, &shown, NULL);
	if (c != CURLE_OK)
		rc = transfer_failed(h, c, call, shown ? shown : "(URL)", err);
	if (c == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
		rm__logf(h->log, RM_LOG_INFO, "%s: %s %s: HTTP %ld", h->name,
		         call->method, shown ? shown : "(URL)", resp->status);
	}
	free(shown);
	return rc;
}

/* Sends the request's headers, secrets redacted from what comes back. */
static int perform_with_headers(rm__http *h, const http_call *call,
                                const rm__http_request *req,
                                rm__http_response *resp, rm_error *err)
{
	struct curl_slist *list;
	int rc = check_headers(h, req->headers, req->header_count, err);

	if (rc != RM_OK)
		return rc;
	list = header_list(req->headers, req->header_count);
	if (list == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "%s: out of memory preparing the request",
		                h->name);
	h->req = req->headers;
	h->req_count = req->header_count;
	rc = perform(h, call, list, resp, err);
	redact_request_secrets(h, &resp->headers);
	canonical_json(&resp->body);
	redact_request_secrets(h, &resp->body);
	h->req = NULL;
	h->req_count = 0;
	curl_slist_free_all(list);
	return rc;
}

static int request(rm__http *h, http_call *call, const rm__http_request *req,
                   rm__http_response *resp, rm_error *err)
{
	rm__buf url;
	int rc;

	rm__buf_init(&url, 8192);
	if (setup_handle(h) != RM_OK ||
	    rm__buf_printf(&url, "%s%s", h->base, req->path) != RM_OK) {
		rm__buf_free(&url);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "%s: out of memory preparing the request",
		                h->name);
	}
	call->url = url.data;
	rc = perform_with_headers(h, call, req, resp, err);
	rm__buf_free(&url);
	return rc;
}

int rm__http_post(rm__http *h, const rm__http_request *req,
                  rm__http_response *resp, rm_error *err)
{
	http_call call = { "POST", 0, NULL, req->body, req->body_len };

	return request(h, &call, req, resp, err);
}

int rm__http_post_read_only(rm__http *h, const rm__http_request *req,
                            rm__http_response *resp, rm_error *err)
{
	http_call call = { "POST", 1, NULL, req->body, req->body_len };

	return request(h, &call, req, resp, err);
}

int rm__http_get(rm__http *h, const rm__http_request *req,
                 rm__http_response *resp, rm_error *err)
{
	http_call call = { "GET", 1, NULL, NULL, 0 };

	return request(h, &call, req, resp, err);
}

const char *rm__http_tls(const rm__http *h)
{
	return h->tls;
}

/* ---------------------------------------------------------------------- */
/* Results                                                                */
/* ---------------------------------------------------------------------- */

int rm__http_fail_transfer(rm_result *r, const rm_error *e, rm_error *err)
{
	rm__result_set_final(r, e->outcome, 0, "", e->message);
	if (err != NULL && err != e)
		*err = *e;
	return e->code;
}

int rm__http_fail_status(rm_result *r, const char *name,
                         const rm__http_response *resp, rm_outcome outcome,
                         int code, const char *text, rm_error *err)
{
	rm__result_set_http_status(r, (int)resp->status);
	if (outcome == RM_OUTCOME_TRANSIENT)
		rm__result_set_retry_after(r, rm__http_retry_hint(resp));
	rm__result_set_final(r, outcome, 0, "", text);
	return rm__result_fail(r, err, code, "%s: HTTP %ld: %s", name,
	                       resp->status, text);
}

int rm__http_succeed(rm_result *r, rm_message *msg, const char *name,
                     const rm__http_response *resp, const char *id,
                     rm_error *err)
{
	rm__envelope env;
	char text[160];
	int rc;

	rc = rm__message_envelope(msg, 1, &env, err);
	if (rc != RM_OK)
		return rc;
	snprintf(text, sizeof(text), "%s accepted the message (HTTP %ld)",
	         name, resp->status);
	rm__result_set_http_status(r, (int)resp->status);
	rc = rm__result_deliver_all(r, &env, text, id != NULL ? id : "", text);
	rm__envelope_free(&env);
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_AMBIGUOUS, NULL,
		                "out of memory filling the result; %s", text);
	return RM_OK;
}
