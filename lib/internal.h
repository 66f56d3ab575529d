/*
 * Declarations shared between the library's source files. Nothing here is
 * exported: internal names start with "rm__" and are hidden by the linker
 * (the library is built with -fvisibility=hidden).
 */
#ifndef RM_INTERNAL_H
#define RM_INTERNAL_H

#define RM_BUILDING_LIBRARY 1

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "relaymail.h"

#if defined(__GNUC__)
#define RM__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RM__PRINTF(f, a)
#endif

#define RM__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Errors (error.c)                                                       */
/* ---------------------------------------------------------------------- */

/* Clears *err (NULL is fine). */
void rm__error_clear(rm_error *err);

/*
 * Fills *err (NULL is fine) and returns code, so a failure reads
 * "return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "to", "...", ...);".
 * field may be NULL.
 */
int rm__fail(rm_error *err, int code, rm_outcome outcome, const char *field,
             const char *fmt, ...) RM__PRINTF(5, 6);

/*
 * Copies src into dst (size bytes, NUL included, cut to fit) with control
 * bytes and DEL written as escapes (\r, \x1b); UTF-8 stays as it is.
 */
void rm__copy_escaped(char *dst, size_t size, const char *src);

/*
 * Sets err's field (when not NULL) and its message from fmt. Both are
 * printed by programs, and may quote what a user or server gave: control
 * bytes and DEL in them are written as escapes (\r, \x1b), so they never
 * reach a terminal or a log raw.
 */
void rm__error_vset(rm_error *err, const char *field, const char *fmt,
                    va_list ap) RM__PRINTF(3, 0);

/* ---------------------------------------------------------------------- */
/* Growable byte buffers with a ceiling (buf.c)                           */
/* ---------------------------------------------------------------------- */

/*
 * A buffer that never grows past max bytes: appending beyond it returns
 * RM_ELIMIT and leaves the buffer as it was. data is always
 * NUL-terminated when not NULL.
 */
typedef struct rm__buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
} rm__buf;

void rm__buf_init(rm__buf *b, size_t max);
void rm__buf_free(rm__buf *b);
void rm__buf_reset(rm__buf *b);       /* len = 0, memory kept */
int rm__buf_append(rm__buf *b, const void *data, size_t len);
int rm__buf_append_str(rm__buf *b, const char *s);
int rm__buf_append_byte(rm__buf *b, char c);
int rm__buf_printf(rm__buf *b, const char *fmt, ...) RM__PRINTF(2, 3);
/* Hands the data to the caller (to free with free()); b is left empty. */
char *rm__buf_steal(rm__buf *b);

/*
 * Secrets (passwords, tokens, keys) are wiped before their memory goes
 * back: with a call the compiler may not drop as a dead store.
 */
void rm__wipe(void *p, size_t len);
/* Wipes a secret string and frees it (NULL is fine). */
void rm__free_secret(char *s);
/* Wipes the whole of b's memory and frees it. */
void rm__buf_free_secret(rm__buf *b);

/* Upper-case hex digits, for %XX and =XX escapes. */
extern const char rm__hex_upper[17];
/* Appends c percent-encoded: "%" and two upper-case hex digits. */
int rm__buf_append_pct(rm__buf *b, unsigned char c);
/* Writes the 2 * len lower-case hex digits of data and a NUL to out. */
void rm__hex_lower(char *out, const void *data, size_t len);

/* Appends s as an RFC 5322 3.2.4 quoted-string ("..." with \ before
 * each '"' and '\'); the caller checks that s may be quoted at all. */
int rm__buf_append_quoted(rm__buf *b, const char *s, size_t len);

/* strdup that returns NULL for NULL. */
char *rm__strdup(const char *s);
char *rm__strndup(const char *s, size_t n);

/* ASCII case-insensitive comparisons, whatever the locale. */
int rm__strcaseeq(const char *a, const char *b);
int rm__strncaseeq(const char *a, const char *b, size_t n);

/* 1 if s (of len bytes) holds a CR, LF or NUL byte, else 0. */
int rm__has_crlf_nul(const char *s, size_t len);

/* 1 if s is valid UTF-8 (no overlong forms, no surrogates). */
int rm__utf8_valid(const char *s, size_t len);

/* Fills buf with n random bytes from the kernel. */
int rm__random(void *buf, size_t n);

/* ---------------------------------------------------------------------- */
/* Redaction of secrets from server text (redact.c)                       */
/* ---------------------------------------------------------------------- */

/*
 * Replaces, in text a server sent, every copy of secret (len bytes, at
 * least 3) and of its base64 forms with "<redacted>".
 */
void rm__redact(rm__buf *text, const char *secret, size_t len);

/* ---------------------------------------------------------------------- */
/* Logging (log.c)                                                        */
/* ---------------------------------------------------------------------- */

typedef struct rm__log {
	rm_log_fn fn;
	void *user;
	rm_log_level level;
} rm__log;

/* 1 if a line of this level would reach the callback. */
int rm__log_enabled(const rm__log *log, rm_log_level level);
void rm__logf(const rm__log *log, rm_log_level level, const char *fmt, ...)
	RM__PRINTF(3, 4);

/* ---------------------------------------------------------------------- */
/* Encoders (encode.c)                                                    */
/* ---------------------------------------------------------------------- */

/* Standard base64 without line breaks (RFC 4648 section 4). */
int rm__base64_encode(rm__buf *out, const void *data, size_t len);
int rm__base64_decode(rm__buf *out, const char *text, size_t len);

/*
 * Base64 for MIME bodies (RFC 2045 section 6.8): lines of exactly 76
 * characters, each ended by CRLF, the last one shorter. dst must hold
 * rm__base64_lines_size(len) bytes; returns the bytes written. Callers
 * that stream feed multiples of 57 bytes so that lines stay whole.
 */
size_t rm__base64_lines_size(size_t len);
size_t rm__base64_lines(char *dst, const unsigned char *src, size_t len);

/* The Content-Transfer-Encoding chosen for a part. */
typedef enum rm__cte {
	RM__CTE_7BIT = 0,
	RM__CTE_QP,
	RM__CTE_BASE64
} rm__cte;

const char *rm__cte_name(rm__cte cte);

/*
 * The cheapest correct encoding of text whose line ends are already CRLF
 * (rm__crlf_normalize), and of bytes that must come back unchanged.
 */
rm__cte rm__choose_text_cte(const char *text, size_t len);
rm__cte rm__choose_binary_cte(const unsigned char *data, size_t len);

/* Copies text with every CR, LF and CRLF turned into CRLF. */
int rm__crlf_normalize(const char *text, size_t len, char **out,
                       size_t *out_len);

/*
 * Quoted-printable (RFC 2045 section 6.7) as a resumable encoder, so the
 * writer can fill its own buffer: each call encodes from pos while at
 * least RM__QP_MIN_ROOM bytes of room are left and returns the bytes put
 * in dst. CRLF pairs are hard line breaks; every other byte outside
 * printable ASCII is escaped.
 */
#define RM__QP_MIN_ROOM 16
typedef struct rm__qp {
	const unsigned char *src;
	size_t len;
	size_t pos;
	size_t col;       /* characters on the current encoded line */
} rm__qp;

void rm__qp_init(rm__qp *q, const void *src, size_t len);
size_t rm__qp_encode_some(rm__qp *q, char *dst, size_t room);
int rm__qp_encode(rm__buf *out, const void *src, size_t len);

/*
 * Header folding (RFC 5322 section 2.2.3). A header is built as atoms,
 * each preceded by whitespace where a line may be folded; a fold puts
 * CRLF before that whitespace. Lines stay within limit octets whenever a
 * fold point allows it.
 */
typedef struct rm__fold {
	rm__buf *out;
	size_t line;      /* octets on the current line */
	size_t limit;     /* 76: RFC 2047 section 2 for lines with words */
	size_t reserve;   /* octets a caller will add after the next atom */
	int started;      /* an atom follows the field name */
} rm__fold;

/* Appends "name:" to out and starts folding after it. */
int rm__fold_start(rm__fold *f, rm__buf *out, const char *name);
int rm__fold_atom(rm__fold *f, const char *ws, size_t wslen,
                  const char *atom, size_t alen);
/* Appends text to the current line with no fold point before it. */
int rm__fold_raw(rm__fold *f, const char *text);
int rm__fold_end(rm__fold *f);   /* appends the final CRLF */

/*
 * Unstructured text (RFC 5322 section 3.2.5): plain words stay as they
 * are; words with non-ASCII, words that look like encoded-words and
 * words longer than long_word become RFC 2047 encoded-words, adjacent
 * ones merged into one run so the spaces between them survive.
 */
int rm__fold_text(rm__fold *f, const char *text, size_t len,
                  size_t long_word);

/* A display name as a phrase: atoms, a quoted-string, or encoded-words
 * when it holds non-ASCII or "=?". */
int rm__fold_phrase(rm__fold *f, const char *name);

/*
 * Encodes all of text as RFC 2047 words of at most 75 characters, never
 * splitting a UTF-8 sequence, Q or B whichever is shorter. ws (one
 * SP or HTAB) goes before the first word; prefix sticks to the first
 * word and suffix to the last (for quoted parameters).
 */
int rm__fold_words(rm__fold *f, const char *ws, const char *text,
                   size_t len, const char *prefix, const char *suffix);

/*
 * Appends "; attr=value" as a MIME parameter: a quoted-string when it
 * fits, else RFC 2231 continuations (attr*0=...), percent-encoded UTF-8
 * (attr*=utf-8''...) when the value is not ASCII or holds "=?" (RFC 2231
 * sections 3, 4 and 7). Continuation segments never start or end with a
 * space and never split a %XX triplet.
 */
int rm__fold_param(rm__fold *f, const char *attr, const char *value);

/*
 * The RFC 5322 section 3.3 date-time in English whatever the locale,
 * such as "Tue, 2 Jan 2024 03:04:05 +0000". out holds at least 40 bytes.
 */
int rm__format_date(char *out, size_t size, time_t when, int offset_min);

/*
 * Checks text going into a header: valid UTF-8, no CR, LF, NUL or other
 * control character, no U+0085, U+2028 or U+2029 (which some readers
 * take as line breaks). Fails with RM_EINVAL naming field.
 */
int rm__check_header_text(const char *text, size_t len, const char *field,
                          rm_error *err);

/* ---------------------------------------------------------------------- */
/* Addresses (address.c)                                                  */
/* ---------------------------------------------------------------------- */

/*
 * One parsed mailbox. local and domain are UTF-8 as given (domain in
 * Unicode form); domain_ascii is its A-label form from libidn2. A local
 * part with non-ASCII bytes needs SMTPUTF8 (RFC 6531).
 */
typedef struct rm__mailbox {
	char *name;          /* display name, UTF-8 plain text, or NULL */
	char *local;         /* local part, unquoted */
	char *domain;        /* domain, UTF-8 */
	char *domain_ascii;  /* domain as A-labels */
	int utf8_local;      /* 1 if local holds non-ASCII */
} rm__mailbox;

void rm__mailbox_free(rm__mailbox *mb);   /* frees the fields only */

/*
 * Parses one mailbox or a comma-separated list (the name NULL form of the
 * rm_message_add_* calls). field names the caller's field in errors.
 * On success *out is a malloc'd array of *count mailboxes.
 */
int rm__address_parse_list(const char *text, const char *field,
                           rm__mailbox **out, size_t *count, rm_error *err);

/* Parses one bare addr-spec and attaches name (may be NULL) to it. */
int rm__address_parse_one(const char *addr, const char *name,
                          const char *field, rm__mailbox *out,
                          rm_error *err);

/*
 * Appends the addr-spec as it goes into an SMTP path or a header:
 * local part quoted when it must be (RFC 5321 section 4.1.2), domain as
 * UTF-8 when smtputf8 is set, else as A-labels.
 */
int rm__mailbox_addr_spec(const rm__mailbox *mb, int smtputf8, rm__buf *out);

/* Deep copy of src into *dst; fails only for lack of memory. */
int rm__mailbox_copy(rm__mailbox *dst, const rm__mailbox *src);

/* 1 if the two mailboxes are the same address: exact local part, domain
 * compared without regard to case. */
int rm__mailbox_same(const rm__mailbox *a, const rm__mailbox *b);

/* Frees an array from rm__address_parse_list and its mailboxes. */
void rm__mailbox_free_array(rm__mailbox *mbs, size_t count);

/* 1 if s is an RFC 5322 dot-atom-text made of ASCII atext. */
int rm__is_dot_atom(const char *s, size_t len);

/* ---------------------------------------------------------------------- */
/* Message internals used by transports (message.c, writer.c)             */
/* ---------------------------------------------------------------------- */

/* How the writer renders a message for one particular relay. */
typedef struct rm__write_opts {
	int smtputf8;   /* addresses may be written as raw UTF-8 */
	const struct rm__dkim_set *dkim;  /* sign with these, or NULL */
} rm__write_opts;

/*
 * The envelope of a message: the reverse path and the recipients (To, Cc,
 * then Bcc, duplicates removed), each an addr-spec ready for the wire.
 */
typedef struct rm__envelope {
	char *from;
	char **rcpts;
	size_t rcpt_count;
	int needs_smtputf8;   /* some address has a UTF-8 local part */
	size_t *index;        /* rcpts[i] is recipient index[i] of the whole
	                         list (To, Cc, Bcc, duplicates removed) */
} rm__envelope;

/*
 * Checks that the message can be sent (From, a recipient, a body or an
 * attachment, files still readable) and fixes its Message-ID.
 */
int rm__message_prepare(rm_message *msg, rm_error *err);

/* Fills *env from the message; free it with rm__envelope_free. */
int rm__message_envelope(rm_message *msg, int smtputf8, rm__envelope *env,
                         rm_error *err);
void rm__envelope_free(rm__envelope *env);

/* 1 if writing the message needs SMTPUTF8 (a UTF-8 local part). */
int rm__message_needs_smtputf8(const rm_message *msg);

/* 1 if the message is raw and holds octets above 127, which SMTP must
 * announce with BODY=8BITMIME (RFC 6152); built messages are 7-bit. */
int rm__message_needs_8bitmime(const rm_message *msg);

/* Writes the message as rendered for a relay with these options. */
int rm__message_write_with(rm_message *msg, const rm__write_opts *opts,
                           rm_write_fn write, void *user, rm_error *err);

/* The exact size rm__message_write_with would produce, without I/O
 * beyond reading attached files. */
int rm__message_measure(rm_message *msg, const rm__write_opts *opts,
                        uint64_t *size, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Results (result.c)                                                     */
/* ---------------------------------------------------------------------- */

void rm__result_reset(rm_result *r);
int rm__result_set_final(rm_result *r, rm_outcome outcome, int reply_code,
                         const char *enhanced, const char *text);
void rm__result_set_http_status(rm_result *r, int status);
/* The wait the server asked for before a retry (Retry-After, 421), ms. */
void rm__result_set_retry_after(rm_result *r, long long ms);
int rm__result_set_queue_id(rm_result *r, const char *id);
int rm__result_set_message_id(rm_result *r, const char *id);
int rm__result_set_transport(rm_result *r, const char *name);
int rm__result_add_recipient(rm_result *r, const char *address,
                             int accepted, rm_outcome outcome,
                             int reply_code, const char *enhanced,
                             const char *text);
/*
 * A whole send delivered: every recipient of env accepted with
 * rcpt_text, then the queue id and the final text. RM_ENOMEM when any of
 * it cannot be stored.
 */
int rm__result_deliver_all(rm_result *r, const rm__envelope *env,
                           const char *rcpt_text, const char *queue_id,
                           const char *text);

/* Copies the final reply of r into err (code, outcome, replies, text). */
int rm__result_fail(rm_result *r, rm_error *err, int code,
                    const char *fmt, ...) RM__PRINTF(4, 5);

/* ---------------------------------------------------------------------- */
/* Transports and backends (transport.c)                                  */
/* ---------------------------------------------------------------------- */

typedef struct rm__url rm__url;   /* see url.c */

/*
 * What every backend implements. open parses its part of the URL and
 * keeps its state in t->impl; it does not connect. send fills result,
 * which is never NULL here, and returns an RM_* status.
 */
typedef struct rm__backend {
	const char *scheme;
	int (*open)(rm_transport *t, const rm__url *url, rm_error *err);
	int (*send)(rm_transport *t, rm_message *msg, rm_result *result,
	            rm_error *err);
	int (*check)(rm_transport *t, rm_check_info *info, rm_error *err);
	void (*close)(rm_transport *t);
	/* 1 when the backend addresses only the recipients that
	 * rm__message_envelope returns, so the route layer may retry a
	 * subset of them; 0 when it always sends to every recipient. */
	int takes_rcpt_subset;
} rm__backend;

struct rm_transport {
	const rm__backend *backend;
	const char *scheme;     /* the URL's scheme, "smtp" or "smtps" */
	rm__log log;
	char *ca_file;
	char *password;         /* from opts, or NULL */
	char *oauth_token;      /* from opts, or NULL */
	void *impl;             /* owned by the backend */
	struct rm__dkim_set *dkim; /* DKIM signers (dkim.c), or NULL */
	rm_counters counters;   /* messages handed to it (route.c) */
	struct rm__oauth *oauth;  /* OAuth2 token source (oauth.c), or NULL */
	struct rm__rate *rate;    /* client-side rate limit (rate.c), or NULL */
	rm_now_fn now;          /* rm_transport_set_clock's, or NULL */
	void *clock_user;
};

/*
 * The clock of t's rate limit and token cache in milliseconds: the one
 * set with rm_transport_set_clock, else the system's monotonic clock.
 * Only differences between two readings mean anything.
 */
long long rm__transport_now(const rm_transport *t);
/* Makes now (NULL: the system's) t's clock; the times t keeps move with
 * it, so waits under way keep their length. */
void rm__transport_set_clock(rm_transport *t, rm_now_fn now, void *user);

extern const rm__backend rm__backend_file;
extern const rm__backend rm__backend_smtp;

/* ---------------------------------------------------------------------- */
/* URLs (url.c), parsed by libcurl's URL API                              */
/* ---------------------------------------------------------------------- */

/*
 * A parsed transport URL. Strings are percent-decoded, NULL when absent.
 * Query options are kept in order as name=value pairs.
 */
typedef struct rm__url_option {
	char *name;
	char *value;
	int used;      /* set by rm__url_option; unused ones are errors */
} rm__url_opt;

struct rm__url {
	char *scheme;
	char *user;
	char *password;
	char *host;     /* without brackets for IPv6 literals */
	int port;       /* 0 when absent */
	char *path;     /* "/" or more; decoded */
	rm__url_opt *options;
	size_t option_count;
};

int rm__url_parse(rm__url *url, const char *text, rm_error *err);
void rm__url_free(rm__url *url);

/*
 * 1 if host names this machine: "localhost" (with or without the final
 * dot), an IPv4 address in 127.0.0.0/8, or ::1 (bare or in brackets).
 * The one rule for letting plain text through on loopback (net_loopback.c).
 */
int rm__host_is_loopback(const char *host);

/*
 * The value of the query option name (and marks it used), or NULL when
 * absent. An option given twice is the last one.
 */
const char *rm__url_option(const rm__url *url, const char *name);

/* Fails with RM_EURL naming the first option no backend asked for. */
int rm__url_check_unused(const rm__url *url, rm_error *err);

/* Parses a non-negative integer option value within [min, max]. */
int rm__parse_long(const char *text, long min, long max, long *out);

/* ---------------------------------------------------------------------- */
/* Routing: composite transports (route*.c, result.c, transport.c)        */
/* ---------------------------------------------------------------------- */

extern const rm__backend rm__backend_route;

/* 1 if text is a composite URL such as "failover(...)". */
int rm__route_is_composite(const char *text);

/* Opens the composite of text into t, its children with opts. */
int rm__route_open(rm_transport *t, const char *text,
                   const rm_transport_opts *opts, rm_error *err);

/*
 * Sends a prepared message through t without preparing it again: resets
 * r, names the transport and Message-ID in it, then runs the backend.
 */
int rm__transport_send(rm_transport *t, rm_message *msg, rm_result *r,
                       rm_error *err);

/* Counts one message handed to t with this outcome (retry: 1 if it was
 * a retry of a failed try). */
void rm__transport_count(rm_transport *t, rm_outcome outcome, int retry);

/* Appends a copy of *a to the result's attempts. */
int rm__result_add_attempt(rm_result *r, const rm_attempt *a);

/* Appends copies of src's attempts to dst, adding wait_ms to the wait
 * before the first one. */
int rm__result_append_attempts(rm_result *dst, const rm_result *src,
                               long long wait_ms);

/* Copies the final reply of src (outcome, codes, text, ids, transport,
 * retry hint) into dst; recipients and attempts are left alone. */
int rm__result_copy_final(rm_result *dst, const rm_result *src);

/* Forgets the recipients of r (the route layer writes merged ones). */
void rm__result_clear_recipients(rm_result *r);

/*
 * Restricts the envelope of msg to the recipients whose index (in the
 * whole list, as rm__envelope.index gives it) has mask[index] set; a
 * NULL mask lifts the restriction. The mask is borrowed until lifted.
 * The headers are not affected.
 */
void rm__message_set_rcpt_mask(rm_message *msg, const unsigned char *mask,
                               size_t len);
void rm__message_rcpt_mask(const rm_message *msg,
                           const unsigned char **mask, size_t *len);

/* ---------------------------------------------------------------------- */
/* HTTP API backends: SigV4 (sigv4.c), HTTP layer (http.c), helpers      */
/* (http_util.c)                                                          */
/* ---------------------------------------------------------------------- */

extern const rm__backend rm__backend_sendgrid;
extern const rm__backend rm__backend_mailgun;
extern const rm__backend rm__backend_ses;
extern const rm__backend rm__backend_postmark;
extern const rm__backend rm__backend_smtp2go;
extern const rm__backend rm__backend_ses_smtp;  /* backend_ses_smtp.c */

/* One request header, borrowed strings. */
typedef struct rm__http_header {
	const char *name;
	const char *value;
} rm__http_header;

/* One request: the path under the base URL, its headers and its body
 * (NULL and 0 for a GET). */
typedef struct rm__http_request {
	const char *path;
	const rm__http_header *headers;
	size_t header_count;
	const char *body;
	size_t body_len;
} rm__http_request;

/* The credentials and scope of a SigV4 signature. */
typedef struct rm__sigv4_key {
	const char *access_key;
	const char *secret_key;
	const char *token;      /* session token, signed when set */
	const char *region;
	const char *service;
} rm__sigv4_key;

/* A request to sign. path is decoded (as in a request line); query is
 * the part after '?' as sent, or NULL. */
typedef struct rm__sigv4_request {
	const char *method;
	const char *path;
	const char *query;
	const rm__http_header *headers;
	size_t header_count;
	const void *body;
	size_t body_len;
	time_t when;
	int normalize_path;        /* remove dot and empty segments */
	int content_sha256_header; /* sign x-amz-content-sha256 too */
} rm__sigv4_request;

/* "YYYYMMDDTHHMMSSZ" for when. */
void rm__sigv4_amz_date(time_t when, char out[17]);
/* Lowercase hex SHA-256 of data. */
int rm__sha256_hex(const void *data, size_t len, char out[65]);
/* The canonical request; signed_headers (may be NULL) gets "a;b;c". The
 * signer adds x-amz-date and, with a token, x-amz-security-token: the
 * caller sends those headers too. */
int rm__sigv4_canonical_request(const rm__sigv4_request *req,
                                const rm__sigv4_key *key, rm__buf *out,
                                rm__buf *signed_headers);
int rm__sigv4_string_to_sign(const rm__sigv4_request *req,
                             const rm__sigv4_key *key, const char *canonical,
                             rm__buf *out);
int rm__sigv4_signature(const rm__sigv4_request *req,
                        const rm__sigv4_key *key, const char *string_to_sign,
                        char out[65]);
/* The whole Authorization header value. */
int rm__sigv4_sign(const rm__sigv4_request *req, const rm__sigv4_key *key,
                   rm__buf *auth);

typedef struct rm__http rm__http;

/* A response: status, raw header lines, and the body (bounded). */
typedef struct rm__http_response {
	long status;
	rm__buf headers;
	rm__buf body;
} rm__http_response;

/*
 * Reads the options every HTTP backend takes (endpoint, ca_file,
 * connect_timeout, timeout, allow_insecure_http); default_base is the
 * provider's base URL. Does not connect.
 */
int rm__http_open(rm__http **out, rm_transport *t, const rm__url *url,
                  const char *default_base, rm_error *err);
/*
 * A client that reads no URL options (the OAuth2 token endpoint): posts
 * go to base and path joined as they are; name heads its messages,
 * ca_file may be NULL, timeout_ms bounds the connection and the whole
 * request. RM_ENOMEM is the only failure.
 */
int rm__http_new(rm__http **out, const rm__log *log, const char *name,
                 const char *base, const char *ca_file, long long timeout_ms);
void rm__http_close(rm__http *h);
/* Why the last request failed to get an answer, as libcurl says. */
const char *rm__http_error_text(const rm__http *h);
const char *rm__http_base(const rm__http *h);

void rm__http_response_init(rm__http_response *r);
void rm__http_response_free(rm__http_response *r);

/*
 * POSTs the request's body to base + path. RM_OK when a response came
 * back, whatever its status; otherwise err says why, with outcome
 * TRANSIENT when the request never went out whole and AMBIGUOUS when it
 * did.
 */
int rm__http_post(rm__http *h, const rm__http_request *req,
                  rm__http_response *resp, rm_error *err);
/*
 * The same for a request that only reads (RFC 9110 section 9.2.1): a GET
 * without a body, or a POST that asks the provider to change nothing.
 * A transfer that fails is TRANSIENT however far it got, since no mail
 * can have gone out.
 */
int rm__http_get(rm__http *h, const rm__http_request *req,
                 rm__http_response *resp, rm_error *err);
int rm__http_post_read_only(rm__http *h, const rm__http_request *req,
                            rm__http_response *resp, rm_error *err);
/* The TLS version and cipher of the last handshake, as libcurl named
 * them ("TLSv1.3 / TLS_AES_256_GCM_SHA384"), or "" when none was seen. */
const char *rm__http_tls(const rm__http *h);

/* Copies the value of the first header name (any case); 0 if absent. */
int rm__http_response_header(const rm__http_response *r, const char *name,
                    char *out, size_t size);
/* Retry-After (seconds or HTTP-date) or X-RateLimit-Reset, in ms. */
long long rm__http_retry_hint(const rm__http_response *r);
/* 2xx delivered; 408, 429 and 5xx transient; the rest permanent. */
rm_outcome rm__http_status_outcome(long status);
int rm__http_status_code(long status);

/* Fill the result for a failed transfer, an error status, a success. */
int rm__http_fail_transfer(rm_result *r, const rm_error *e, rm_error *err);
int rm__http_fail_status(rm_result *r, const char *name,
                         const rm__http_response *resp, rm_outcome outcome,
                         int code, const char *text, rm_error *err);
int rm__http_succeed(rm_result *r, rm_message *msg, const char *name,
                     const rm__http_response *resp, const char *id,
                     rm_error *err);

/* ---------------------------------------------------------------------- */
/* DKIM signing (dkim*.c)                                                 */
/* ---------------------------------------------------------------------- */

typedef struct rm__dkim_set rm__dkim_set;

void rm__dkim_set_free(rm__dkim_set *set);

/*
 * Reads the dkim_* options of a transport URL (dkim_key, dkim_selector,
 * dkim_domain, dkim_canon, dkim_headers, dkim_identity, dkim_expire) and
 * adds the signer they describe to t. Backends that send raw MIME call
 * it from their open.
 */
int rm__dkim_url_options(rm_transport *t, const rm__url *url,
                         rm_error *err);

/*
 * Makes set the signers of the send under way (for backends that render
 * the message without the transport at hand: rm__dkim_of) and returns
 * the ones before it, to be put back when the send ends.
 */
const rm__dkim_set *rm__dkim_swap(rm_message *msg, const rm__dkim_set *set);
const rm__dkim_set *rm__dkim_of(const rm_message *msg);

/* Writes the message with opts->dkim's DKIM-Signature fields on top
 * (rm__message_write_with calls it when opts->dkim is set). */
int rm__dkim_write(rm_message *msg, const rm__write_opts *opts,
                   rm_write_fn write, void *user, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Secrets in URLs (url_secret.c), OAuth2 tokens (oauth.c), rate limits   */
/* (rate.c), SMTP presets (smtp_preset.c)                                 */
/* ---------------------------------------------------------------------- */

/*
 * Reads the secret option name from its one source: name=VALUE,
 * name_env=VARIABLE or name_file=PATH (first line), or inline_value (the
 * URL's own password part; may be NULL). More than one is RM_EURL.
 * *out is NULL when none was given; free it with rm__secret_free.
 */
int rm__url_secret(const rm__url *url, const char *name,
                   const char *inline_value, char **out, rm_error *err);
/* Wipes and frees *s, then sets it to NULL. */
void rm__secret_free(char **s);

typedef struct rm__oauth rm__oauth;

/*
 * Reads client_id, client_secret, refresh_token (each also _env and
 * _file), token_endpoint and token_timeout into t's token source.
 * scope (may be NULL) is sent with each refresh.
 */
int rm__oauth_url_options(rm_transport *t, const rm__url *url,
                          const char *default_endpoint, const char *scope,
                          rm_error *err);
/*
 * A current access token from t's source (*out to free with
 * rm__secret_free), fetched or refreshed as needed; *out is NULL when t
 * has no source.
 */
int rm__oauth_token(rm_transport *t, char **out, rm_error *err);
/* The server refused the last token: the next one is fresh. Returns 1
 * if the source can give a new one, 0 if not. */
int rm__oauth_mark_stale(rm_transport *t);
/* 1 if t has a callback or a refresh token. */
int rm__oauth_has_source(const rm_transport *t);
void rm__oauth_free(rm__oauth *o);
/* Moves the cached token's expiry by shift ms (a new clock). */
void rm__oauth_shift(rm__oauth *o, long long shift);

typedef struct rm__rate rm__rate;

/* Reads rate_per_minute and rate_per_day into t->rate. */
int rm__rate_url_options(rm_transport *t, const rm__url *url,
                         rm_error *err);
/*
 * Counts one send against t's limit, or refuses it with
 * RM_OUTCOME_TRANSIENT, the wait in the result's retry hint.
 */
int rm__rate_admit(rm_transport *t, rm_result *r, rm_error *err);
/* Gives the admitted send back unless it went out (delivered or
 * ambiguous): failed tries do not use up the quota. */
void rm__rate_settle(rm_transport *t, rm_outcome outcome);
void rm__rate_free(rm__rate *rate);
/* Moves the times of the counted sends by shift ms (a new clock). */
void rm__rate_shift(rm__rate *rate, long long shift);

extern const rm__backend rm__backend_smtp_preset;

/* Where a preset sends: its server, or the one endpoint= names. */
typedef struct rm__smtp_target {
	char scheme[8];          /* "smtp" or "smtps" */
	char host[256];
	int port;
} rm__smtp_target;

/*
 * Fills *out from the endpoint= option (smtp://host[:port] or
 * smtps://host[:port]) or else from host and port (465 means implicit
 * TLS).
 */
int rm__smtp_endpoint(const rm__url *url, const char *host, int port,
                      rm__smtp_target *out, rm_error *err);

#endif /* RM_INTERNAL_H */
