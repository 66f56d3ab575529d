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

/* strdup that returns NULL for NULL. */
char *rm__strdup(const char *s);
char *rm__strndup(const char *s, size_t n);

/* ASCII case-insensitive comparisons, whatever the locale. */
int rm__strcaseeq(const char *a, const char *b);
int rm__strncaseeq(const char *a, const char *b, size_t n);

/*
 * Returns the first CR, LF or NUL-free violation: 1 if s (of len bytes)
 * holds a CR, LF or NUL byte, else 0.
 */
int rm__has_crlf_nul(const char *s, size_t len);

/* 1 if s is valid UTF-8 (no overlong forms, no surrogates). */
int rm__utf8_valid(const char *s, size_t len);

/* Fills buf with n random bytes from the kernel. */
int rm__random(void *buf, size_t n);

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

/* ---------------------------------------------------------------------- */
/* Message internals used by transports (message.c, writer.c)             */
/* ---------------------------------------------------------------------- */

/* How the writer renders a message for one particular relay. */
typedef struct rm__write_opts {
	int smtputf8;   /* addresses may be written as raw UTF-8 */
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
int rm__result_set_queue_id(rm_result *r, const char *id);
int rm__result_set_message_id(rm_result *r, const char *id);
int rm__result_set_transport(rm_result *r, const char *name);
int rm__result_add_recipient(rm_result *r, const char *address,
                             int accepted, rm_outcome outcome,
                             int reply_code, const char *enhanced,
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
} rm__backend;

struct rm_transport {
	const rm__backend *backend;
	const char *scheme;     /* the URL's scheme, "smtp" or "smtps" */
	rm__log log;
	char *ca_file;
	char *password;         /* from opts, or NULL */
	char *oauth_token;      /* from opts, or NULL */
	void *impl;             /* owned by the backend */
};

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
 * The value of the query option name (and marks it used), or NULL when
 * absent. An option given twice is the last one.
 */
const char *rm__url_option(const rm__url *url, const char *name);

/* Fails with RM_EURL naming the first option no backend asked for. */
int rm__url_check_unused(const rm__url *url, rm_error *err);

/* Parses a non-negative integer option value within [min, max]. */
int rm__parse_long(const char *text, long min, long max, long *out);

#endif /* RM_INTERNAL_H */
