/*
 * relaymail: build MIME messages and send them through mail relays.
 *
 * This is the library's only public header.
 *
 * Conventions used by every declaration below:
 *
 * - Handles (rm_message, rm_transport, rm_result) are opaque. They are
 *   created by the matching _new or _open call and released by the matching
 *   _free or _close call, each of which accepts NULL.
 * - Inputs are copied at the call: the caller may free or reuse them as soon
 *   as the call returns.
 * - Strings returned by getters are borrowed from the handle. They stay valid
 *   until the handle changes or is freed.
 * - Fallible functions return an int: RM_OK (0) on success, a negative RM_E*
 *   code otherwise. They take an optional rm_error pointer as their last
 *   parameter; when it is not NULL it receives the detail: which field was
 *   wrong and why, and the server's reply where there was one. There is no
 *   thread-local "last error".
 * - A call that fails changes nothing: a message that refused a recipient is
 *   the message it was before the call.
 * - Output pointers (*out) are set to NULL first thing, whenever out is not
 *   NULL, so a failed call leaves NULL there (a caller's buffer gets "");
 *   freeing it with the matching _free is always safe.
 * - Text is UTF-8. No function of the library aborts or exits the program.
 * - Handles are not thread-safe: use one from one thread at a time. Distinct
 *   handles may be used from distinct threads without locking.
 */
#ifndef RELAYMAIL_H
#define RELAYMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(RM_BUILDING_LIBRARY)
#define RM_EXTERN __attribute__((visibility("default")))
#else
#define RM_EXTERN
#endif

/* ---------------------------------------------------------------------- */
/* Version                                                                */
/* ---------------------------------------------------------------------- */

#define RM_VERSION_MAJOR 0
#define RM_VERSION_MINOR 1
#define RM_VERSION_PATCH 0
#define RM_VERSION_STRING "0.1.0"

/* The version as 0xMMmmpp, so that versions compare as numbers. */
#define RM_VERSION_HEX \
	((RM_VERSION_MAJOR << 16) | (RM_VERSION_MINOR << 8) | RM_VERSION_PATCH)

/* True when the header is at least version major.minor.patch. */
#define RM_VERSION_AT_LEAST(major, minor, patch) \
	(RM_VERSION_HEX >= (((major) << 16) | ((minor) << 8) | (patch)))

/* The version of the library the program runs with, as RM_VERSION_HEX. */
RM_EXTERN unsigned rm_version(void);

/* The same version as a string such as "0.1.0". */
RM_EXTERN const char *rm_version_string(void);

/* ---------------------------------------------------------------------- */
/* Status codes and errors                                                */
/* ---------------------------------------------------------------------- */

/*
 * One code per kind of failure. The numbers never change between versions.
 */
typedef enum rm_status {
	RM_OK = 0,
	RM_EINVAL = -1,       /* an argument or field is invalid */
	RM_ENOMEM = -2,       /* out of memory */
	RM_ELIMIT = -3,       /* a length or count limit was exceeded */
	RM_EIO = -4,          /* reading a local file failed */
	RM_EURL = -5,         /* the transport URL is malformed or unknown */
	RM_ERESOLVE = -6,     /* the host name did not resolve */
	RM_ECONNECT = -7,     /* no address of the host accepted a connection */
	RM_ETIMEDOUT = -8,    /* a wait ran past its timeout */
	RM_ECLOSED = -9,      /* the peer closed the connection */
	RM_ETLS = -10,        /* the TLS handshake or record layer failed */
	RM_ECERT = -11,       /* the server certificate failed verification */
	RM_ENOTLS = -12,      /* TLS required but not offered by the server */
	RM_EPROTOCOL = -13,   /* the server broke the protocol */
	RM_EAUTH = -14,       /* authentication was refused */
	RM_EUNSUPPORTED = -15,/* the transport or server cannot do this */
	RM_ETOOBIG = -16,     /* the message exceeds the server's size limit */
	RM_EREJECTED = -17,   /* the server refused the message or recipients */
	RM_ETEMPFAIL = -18,   /* the server refused for now; try again later */
	RM_ECALLBACK = -19,   /* a caller's callback asked to stop */
	RM_ESTATE = -20,      /* reserved: never returned by this version */
	RM_EHTTP = -21        /* an HTTP transfer failed (see the error text) */
} rm_status;

/* A short English name for a status code, such as "invalid argument". */
RM_EXTERN const char *rm_strerror(int code);

/*
 * What a failed or finished send means for the caller. The retry and
 * failover decisions read only this class and the retry hint.
 */
typedef enum rm_outcome {
	RM_OUTCOME_NONE = 0,       /* nothing was attempted */
	RM_OUTCOME_DELIVERED,      /* the relay took responsibility */
	RM_OUTCOME_TRANSIENT,      /* failed for now; safe to try again */
	RM_OUTCOME_PERM_RECIPIENT, /* refused for good for these recipients */
	RM_OUTCOME_PERM_PROVIDER,  /* refused for good by this provider:
	                              bad credentials, missing feature,
	                              message too big, policy */
	RM_OUTCOME_AMBIGUOUS       /* the message went out but no answer
	                              came back: it may have been delivered */
} rm_outcome;

/* A short name for an outcome, such as "transient". */
RM_EXTERN const char *rm_outcome_name(rm_outcome outcome);

#define RM_ERROR_FIELD_MAX 64
#define RM_ERROR_MESSAGE_MAX 512

/*
 * The detail of a failure. Pass one to any fallible call to learn what
 * went wrong; the call fills it only when it fails (and clears it first).
 * Every string is NUL-terminated and truncated to fit.
 */
typedef struct rm_error {
	int code;                   /* the RM_E* code the call returned */
	rm_outcome outcome;         /* the class of the failure */
	char field[RM_ERROR_FIELD_MAX];     /* the field at fault, "to[1]" */
	char message[RM_ERROR_MESSAGE_MAX]; /* what was wrong and why */
	int reply_code;             /* SMTP reply code, or 0 */
	char enhanced_status[16];   /* SMTP enhanced status "5.1.1", or "" */
	int http_status;            /* HTTP status, or 0 */
	void *reserved[4];          /* room to grow in later versions */
} rm_error;

/* ---------------------------------------------------------------------- */
/* Logging                                                                */
/* ---------------------------------------------------------------------- */

typedef enum rm_log_level {
	RM_LOG_ERROR = 0,
	RM_LOG_WARN = 1,
	RM_LOG_INFO = 2,
	RM_LOG_DEBUG = 3   /* includes the protocol transcript */
} rm_log_level;

/*
 * Receives one log line, without a line ending. Passwords, tokens and
 * AUTH payloads never reach it: they are replaced by "<redacted>" where
 * they would have been. The line is valid only during the call.
 */
typedef void (*rm_log_fn)(rm_log_level level, const char *line, void *user);

/* A short name for a log level, such as "debug". */
RM_EXTERN const char *rm_log_level_name(rm_log_level level);

/* ---------------------------------------------------------------------- */
/* Messages                                                               */
/* ---------------------------------------------------------------------- */

typedef struct rm_message rm_message;

/* Creates an empty message. *out receives it; free it with rm_message_free. */
RM_EXTERN int rm_message_new(rm_message **out, rm_error *err);

/* Frees a message and everything it owns. Accepts NULL. */
RM_EXTERN void rm_message_free(rm_message *msg);

/*
 * Addresses. In every call below:
 * - With name NULL, address is one mailbox or a comma-separated list:
 *   "a@example.com", "Ann <a@example.com>", "\"Doe, Jo\" <j@example.com>".
 * - With name set, address must be one bare addr-spec and name is the
 *   display name as plain UTF-8 text; the library quotes or encodes it.
 * Domains may be international (UTF-8); they are written as A-labels
 * unless the relay supports SMTPUTF8 and the message needs it. A UTF-8
 * local part makes the message need SMTPUTF8.
 */
RM_EXTERN int rm_message_set_from(rm_message *msg, const char *address,
                                  const char *name, rm_error *err);
RM_EXTERN int rm_message_set_sender(rm_message *msg, const char *address,
                                    const char *name, rm_error *err);
RM_EXTERN int rm_message_add_to(rm_message *msg, const char *address,
                                const char *name, rm_error *err);
RM_EXTERN int rm_message_add_cc(rm_message *msg, const char *address,
                                const char *name, rm_error *err);
/* Bcc recipients get the message but are never written into its headers. */
RM_EXTERN int rm_message_add_bcc(rm_message *msg, const char *address,
                                 const char *name, rm_error *err);
RM_EXTERN int rm_message_add_reply_to(rm_message *msg, const char *address,
                                      const char *name, rm_error *err);

/*
 * The envelope sender (SMTP MAIL FROM, the bounce address). By default it
 * is the Sender address, or else the From address. NULL restores that.
 * "" or "<>" is the null reverse path of bounces and auto-replies (RFC
 * 5321 section 4.5.5, RFC 3834): SMTP sends MAIL FROM:<>; the From
 * header stays as it is. ses:// refuses it (RM_EUNSUPPORTED); the other
 * HTTP transports and file:// take no envelope sender from the message.
 */
RM_EXTERN int rm_message_set_envelope_from(rm_message *msg,
                                           const char *address,
                                           rm_error *err);

/* The subject as UTF-8 text; non-ASCII is written as RFC 2047 words. */
RM_EXTERN int rm_message_set_subject(rm_message *msg, const char *subject,
                                     rm_error *err);

/*
 * The Date header: the time and the zone offset east of UTC in minutes.
 * Without this call the Date is the time the message is written, in the
 * local zone.
 */
RM_EXTERN int rm_message_set_date(rm_message *msg, time_t when,
                                  int utc_offset_minutes, rm_error *err);

/*
 * The Message-ID, with or without angle brackets ("id@host" or
 * "<id@host>"). Without this call a random one is made, with the From
 * domain on the right, once per message: every write and every retry of
 * the message carries the same Message-ID.
 */
RM_EXTERN int rm_message_set_message_id(rm_message *msg, const char *id,
                                        rm_error *err);

/* The Message-ID as it will be written, with its angle brackets. */
RM_EXTERN const char *rm_message_message_id(rm_message *msg);

/* In-Reply-To and References for replies, each a msg-id as above. */
RM_EXTERN int rm_message_set_in_reply_to(rm_message *msg, const char *id,
                                         rm_error *err);
RM_EXTERN int rm_message_add_reference(rm_message *msg, const char *id,
                                       rm_error *err);

/*
 * Adds a header the library does not manage. The name must be printable
 * ASCII without ':' and must not be one the library writes itself (From,
 * To, Subject, Content-Type and the like): those are refused with
 * RM_EINVAL. Non-ASCII in the value is written as RFC 2047 words.
 */
RM_EXTERN int rm_message_add_header(rm_message *msg, const char *name,
                                    const char *value, rm_error *err);

/*
 * The bodies, as UTF-8 text. With both, the message is
 * multipart/alternative with the text first. Line ends may be LF, CR or
 * CRLF: they are all written as CRLF. len may be (size_t)-1 for a
 * NUL-terminated string. A NULL text (or html) removes that body and
 * returns RM_OK.
 */
RM_EXTERN int rm_message_set_text(rm_message *msg, const char *text,
                                  size_t len, rm_error *err);
RM_EXTERN int rm_message_set_html(rm_message *msg, const char *html,
                                  size_t len, rm_error *err);

/*
 * How an attachment is presented. Start from RM_ATTACHMENT_OPTS_INIT so that
 * fields added later keep their defaults.
 */
typedef struct rm_attachment_opts {
	unsigned version;          /* RM_ATTACHMENT_OPTS_VERSION */
	const char *filename;      /* the name shown; default: the file name */
	const char *content_type;  /* default: from the name's extension;
	                              "text/plain; charset=NAME" names the
	                              charset of text (in-memory UTF-8 text
	                              gets charset=utf-8 by itself) */
	const char *content_id;    /* when set, the part is inline, in
	                              multipart/related, referenced from the
	                              HTML as "cid:<content_id>" */
} rm_attachment_opts;

#define RM_ATTACHMENT_OPTS_VERSION 1
#define RM_ATTACHMENT_OPTS_INIT { RM_ATTACHMENT_OPTS_VERSION, NULL, NULL, NULL }

/* Attaches bytes held in memory (copied). opts may be NULL. */
RM_EXTERN int rm_message_attach_data(rm_message *msg, const void *data,
                                     size_t len,
                                     const rm_attachment_opts *opts,
                                     rm_error *err);

/*
 * Attaches a file. It is checked now (it must be a readable regular file)
 * and streamed each time the message is written, never loaded whole.
 */
RM_EXTERN int rm_message_attach_file(rm_message *msg, const char *path,
                                     const rm_attachment_opts *opts,
                                     rm_error *err);

/*
 * Reproducible mode: MIME boundaries become a fixed sequence, and the Date
 * and Message-ID default to fixed values (the Unix epoch, and an id made
 * from the From domain) unless they were set. Two writes of the same
 * message then give the same bytes. For tests and golden files.
 */
RM_EXTERN int rm_message_set_reproducible(rm_message *msg, int on,
                                          rm_error *err);

/*
 * How attachment file names are written. By default only the standard
 * forms: filename= or RFC 2231 filename*= on Content-Disposition and the
 * same as name= / name*= on Content-Type. With on set, a non-ASCII name
 * is also written as name="=?UTF-8?...?=" (RFC 2047 words inside a
 * quoted parameter, which RFC 2047 section 5 forbids but some old
 * clients read) in place of name*= on Content-Type; Content-Disposition
 * keeps the RFC 2231 form. Lines stay within 998 octets either way.
 */
RM_EXTERN int rm_message_set_compat_filenames(rm_message *msg, int on,
                                              rm_error *err);

/*
 * Receives the message bytes in order. Return 0 to go on; any other value
 * stops the write, which then fails with RM_ECALLBACK.
 */
typedef int (*rm_write_fn)(const void *data, size_t len, void *user);

/*
 * Writes the message as RFC 5322 / MIME bytes with CRLF line ends, Bcc
 * left out. Fails with RM_EINVAL when the message has no From, no
 * recipient, or no text, HTML or attachment, and with RM_EIO when an
 * attached file cannot be read any more.
 */
RM_EXTERN int rm_message_write(rm_message *msg, rm_write_fn write,
                               void *user, rm_error *err);

/*
 * Writes the message into memory. *out receives a NUL-terminated buffer
 * of *len bytes (len may be NULL), to be freed with rm_free.
 */
RM_EXTERN int rm_message_write_mem(rm_message *msg, char **out, size_t *len,
                                   rm_error *err);

/* Frees memory the library handed to the caller. Accepts NULL. */
RM_EXTERN void rm_free(void *ptr);

/* ---------------------------------------------------------------------- */
/* Raw messages                                                           */
/* ---------------------------------------------------------------------- */

/*
 * Creates a message from bytes built elsewhere (RFC 5322: header fields,
 * an empty line, the body), to be sent as they are. Only what the
 * envelope needs is parsed: the addresses of From, Sender, To, Cc and
 * Bcc (groups such as "undisclosed-recipients:;" are allowed). Bcc
 * fields are removed, line ends become CRLF, a leading mbox "From " line
 * is dropped, and a Date or Message-ID the bytes lack is added when the
 * message is written. The Message-ID the bytes carry is kept.
 *
 * On such a message rm_message_add_to, _add_cc and _add_bcc change only
 * the envelope, as do rm_message_clear_recipients and
 * rm_message_set_envelope_from; the other setters do not change the
 * bytes. Transports that take JSON fields (sendgrid, postmark) refuse
 * raw messages with RM_EUNSUPPORTED. Fails with RM_EINVAL when an
 * address field does not parse, naming it ("from", "to", ...). *out is
 * freed with rm_message_free.
 */
RM_EXTERN int rm_message_new_raw(rm_message **out, const void *data,
                                 size_t len, rm_error *err);

/*
 * Removes every To, Cc and Bcc recipient, so that the envelope can be
 * given anew (for a raw message the header bytes stay as they were).
 */
RM_EXTERN int rm_message_clear_recipients(rm_message *msg, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Tags and metadata                                                      */
/* ---------------------------------------------------------------------- */

/*
 * A tag (a category) for the provider's statistics and webhooks: SendGrid
 * categories, Mailgun o:tag, Postmark Tag (one only). Tags are UTF-8 text
 * without control characters, at most 255 bytes; adding one twice keeps
 * one. Transports without tags (SMTP, file, SES, SMTP2GO) ignore them.
 */
RM_EXTERN int rm_message_add_tag(rm_message *msg, const char *tag,
                                 rm_error *err);

/*
 * A key/value pair carried with the message to the provider's webhooks:
 * SendGrid custom_args, Mailgun v: variables, Postmark Metadata, SES
 * EmailTags. Setting a key again replaces its value; value NULL removes
 * the key. Keys are 1 to 128 bytes of printable ASCII other than '"',
 * values UTF-8 text without control characters, at most 1000 bytes.
 */
RM_EXTERN int rm_message_set_metadata(rm_message *msg, const char *key,
                                      const char *value, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Results                                                                */
/* ---------------------------------------------------------------------- */

typedef struct rm_result rm_result;

/* Creates an empty result, to be reused across sends if wished. */
RM_EXTERN int rm_result_new(rm_result **out, rm_error *err);
RM_EXTERN void rm_result_free(rm_result *result);

RM_EXTERN rm_outcome rm_result_outcome(const rm_result *result);

/* The final reply: SMTP code and enhanced status, or HTTP status. */
RM_EXTERN int rm_result_reply_code(const rm_result *result);
RM_EXTERN const char *rm_result_enhanced_status(const rm_result *result);
RM_EXTERN int rm_result_http_status(const rm_result *result);

/* The server's or provider's own text for the final reply. */
RM_EXTERN const char *rm_result_text(const rm_result *result);

/* The relay's queue id or the provider's message id, or "" if none. */
RM_EXTERN const char *rm_result_queue_id(const rm_result *result);

/* The Message-ID header the message was sent with. */
RM_EXTERN const char *rm_result_message_id(const rm_result *result);

/* The name of the transport that gave the final answer, such as "smtp". */
RM_EXTERN const char *rm_result_transport(const rm_result *result);

/*
 * How long the server asked the caller to wait before trying again, in
 * milliseconds (from Retry-After, a rate-limit reset or the like), or 0
 * when it gave no hint.
 */
RM_EXTERN long long rm_result_retry_after_ms(const rm_result *result);

/*
 * What happened to one envelope recipient. Its outcome is its own when
 * its RCPT was refused (TRANSIENT for 4xx, PERM_RECIPIENT for 5xx);
 * when its RCPT was accepted it is the message's: DELIVERED, or the
 * class of the failure that stopped the message after that (TRANSIENT,
 * PERM_PROVIDER or AMBIGUOUS), with that reply's code and text.
 */
typedef struct rm_recipient_status {
	const char *address;        /* as sent in the envelope */
	int accepted;               /* 1 if the relay took it */
	rm_outcome outcome;         /* see above */
	int reply_code;             /* the reply that decided it, or 0 */
	const char *enhanced_status;/* "2.1.5", or "" */
	const char *text;           /* the reply text, or "" */
	void *reserved[4];          /* room to grow in later versions */
} rm_recipient_status;

RM_EXTERN size_t rm_result_recipient_count(const rm_result *result);

/* Fills *out for recipient i; its strings are borrowed from the result. */
RM_EXTERN int rm_result_recipient(const rm_result *result, size_t i,
                                  rm_recipient_status *out);

/* How many recipients the relay refused. */
RM_EXTERN size_t rm_result_rejected_count(const rm_result *result);

/* ---------------------------------------------------------------------- */
/* Transports                                                             */
/* ---------------------------------------------------------------------- */

typedef struct rm_transport rm_transport;

/*
 * Options that are not part of the URL. Start from RM_TRANSPORT_OPTS_INIT.
 * Anything a URL option also sets is overridden by the URL.
 */
typedef struct rm_transport_opts {
	unsigned version;      /* RM_TRANSPORT_OPTS_VERSION */
	rm_log_fn log;         /* NULL: no logging */
	void *log_user;
	rm_log_level log_level;/* the most verbose level passed to log */
	const char *ca_file;   /* PEM bundle instead of the system's */
	const char *password;  /* instead of one in the URL, kept off argv */
	const char *oauth_token; /* an XOAUTH2 access token */
} rm_transport_opts;

#define RM_TRANSPORT_OPTS_VERSION 1
#define RM_TRANSPORT_OPTS_INIT \
	{ RM_TRANSPORT_OPTS_VERSION, NULL, NULL, RM_LOG_INFO, NULL, NULL, NULL }

/*
 * Opens a transport from a URL. The schemes are:
 *
 *   file://DIR     writes each message as DIR/<unique>.eml, atomically
 *   smtp://[user[:pass]@]host[:port][?options]   SMTP with STARTTLS
 *   smtps://...    SMTP over implicit TLS
 *   sendgrid://KEY@default[?region=eu]    SendGrid v3 mail send
 *   mailgun://KEY@DOMAIN[?region=eu]      Mailgun, raw MIME
 *   ses://ACCESS:SECRET@REGION            Amazon SES v2, raw MIME
 *   postmark://TOKEN@default              Postmark email API
 *   smtp2go://KEY@default                 SMTP2GO, raw MIME
 *   ses+smtp://ACCESS:SECRET@REGION       Amazon SES over SMTP
 *   gmail://USER:APP_PASSWORD@default     Gmail, app password
 *   gmail+oauth://USER@default?...        Gmail, OAuth2 (XOAUTH2)
 *   sendgrid+smtp, mailgun+smtp, postmark+smtp, smtp2go+smtp,
 *   office365+smtp://CREDENTIALS@default  the providers' SMTP servers
 *
 * docs/urls.md lists every option. Opening checks the URL and the options
 * but does not connect: the first send (or rm_transport_check) does.
 * opts may be NULL.
 */
RM_EXTERN int rm_transport_open(rm_transport **out, const char *url,
                                const rm_transport_opts *opts,
                                rm_error *err);

/* Says goodbye to the server (QUIT) and frees the transport. NULL is ok. */
RM_EXTERN void rm_transport_close(rm_transport *transport);

/* The scheme of the transport, such as "smtp". */
RM_EXTERN const char *rm_transport_name(const rm_transport *transport);

/*
 * Sends one message. result (which may be NULL) is reset and then filled
 * whatever happens: outcome, replies, one status per recipient. Returns
 * RM_OK when the relay accepted the message for at least one recipient;
 * rm_result_rejected_count tells whether some were refused.
 */
RM_EXTERN int rm_send(rm_transport *transport, rm_message *msg,
                      rm_result *result, rm_error *err);

/* What a preflight check learned about the server; the server's text has
 * its control bytes escaped (\r, \x1b), as in errors. */
typedef struct rm_check_info {
	char greeting[256];       /* the server's greeting text */
	char extensions[1024];    /* EHLO keywords, space-separated */
	/* TLS version and cipher, or "none". SMTP gives mbedTLS's names, at
	 * most TLS 1.2: "TLSv1.2 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384".
	 * HTTP gives libcurl's, which may be TLS 1.3:
	 * "TLSv1.3 / TLS_AES_256_GCM_SHA384". */
	char tls[64];
	char auth_mechanism[32];  /* the mechanism used, or "none" */
	unsigned long long max_size; /* the SIZE limit, or 0 if none */
	void *reserved[4];          /* room to grow in later versions */
} rm_check_info;

/*
 * Connects, negotiates TLS and authenticates as a send would, without
 * sending mail, and describes the server in *info (which may be NULL).
 * An HTTP provider gets one read-only, authenticated request instead of
 * a greeting; docs/api/rm_transport_check.md names each.
 */
RM_EXTERN int rm_transport_check(rm_transport *transport,
                                 rm_check_info *info, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Routing: retry, failover and load balancing                            */
/* ---------------------------------------------------------------------- */

/*
 * Composite transports wrap other transports and are opened with
 * rm_transport_open like any other, from URLs such as
 *
 *   retry(smtp://relay.example?tls=required)?attempts=5
 *   failover(smtp://relay-a.example smtp://relay-b.example)
 *   roundrobin(URL URL ...)    weighted(URL:3 URL:1)
 *
 * They nest (failover(retry(smtp://a) roundrobin(URL URL))); the URLs
 * inside are separated by whitespace and may hold parentheses only
 * percent-encoded. docs/routing.md describes the grammar, the options
 * and the rules (which outcomes are retried or failed over, backoff,
 * circuit breaker, partial results).
 */

/* One try of one message on one wrapped transport. */
typedef struct rm_attempt {
	const char *transport;   /* its name: NAME when its URL ends in
	                            "#NAME", else the URL without credentials
	                            or options */
	rm_outcome outcome;
	int status;              /* what the try returned: RM_OK or RM_E* */
	int reply_code;          /* SMTP reply code, or 0 */
	const char *enhanced_status; /* "4.3.0", or "" */
	int http_status;         /* HTTP status, or 0 */
	const char *text;        /* the server's text or the error message */
	size_t recipients;       /* envelope recipients it was sent to */
	long long latency_ms;    /* how long the try took */
	long long wait_ms_before;/* the wait (backoff or hint) before it */
	long long retry_after_ms;/* the wait the server asked for, or 0 */
	void *reserved[4];          /* room to grow in later versions */
} rm_attempt;

/*
 * The tries behind a send, in order: one for a plain transport, one per
 * try for a composite. Strings are borrowed from the result.
 */
RM_EXTERN size_t rm_result_attempt_count(const rm_result *result);
RM_EXTERN int rm_result_attempt(const rm_result *result, size_t i,
                                rm_attempt *out);

typedef enum rm_event_kind {
	RM_EVENT_ATTEMPT = 1,  /* a try finished; attempt is set */
	RM_EVENT_SKIPPED,      /* the circuit breaker skipped a transport;
	                          attempt->transport names it */
	RM_EVENT_FINAL         /* the send finished; result and status set */
} rm_event_kind;

typedef struct rm_event {
	rm_event_kind kind;
	const char *route;         /* the composite: "retry", "failover"... */
	const rm_attempt *attempt; /* RM_EVENT_ATTEMPT and RM_EVENT_SKIPPED */
	const rm_result *result;   /* RM_EVENT_FINAL */
	int status;                /* RM_EVENT_FINAL: what rm_send returns */
} rm_event;

/* Sees one event; everything it points to is valid only during the call. */
typedef void (*rm_event_fn)(const rm_event *event, void *user);

/*
 * Calls fn for every try, skip and final outcome of the composite t and
 * of the composites inside it (NULL fn stops the calls). A plain
 * transport makes no events: the call succeeds and does nothing.
 */
RM_EXTERN int rm_transport_set_event_callback(rm_transport *t,
                                              rm_event_fn fn, void *user,
                                              rm_error *err);

/* A clock in milliseconds since the Unix epoch. */
typedef long long (*rm_now_fn)(void *user);
/* Waits ms milliseconds. */
typedef void (*rm_sleep_fn)(long long ms, void *user);
/* A uniformly random 32-bit number (for backoff jitter). */
typedef uint32_t (*rm_random_fn)(void *user);

/*
 * Replaces the clock and the sleep t (and the transports inside a
 * composite) use: for backoff, deadlines and the circuit breaker, and for
 * every transport's rate limit and OAuth2 token cache, so that tests run
 * without waiting. NULL restores the system's.
 */
RM_EXTERN int rm_transport_set_clock(rm_transport *t, rm_now_fn now,
                                     rm_sleep_fn sleep, void *user,
                                     rm_error *err);
RM_EXTERN int rm_transport_set_random(rm_transport *t, rm_random_fn random,
                                      void *user, rm_error *err);

/* What happened to the messages handed to one transport. */
typedef struct rm_counters {
	unsigned long long attempts; /* messages handed to it */
	unsigned long long sent;     /* of those, delivered */
	unsigned long long failed;   /* of those, not delivered */
	unsigned long long retried;  /* of those, a retry after a failed
	                                try (on it or on another transport) */
	unsigned long long skipped;  /* times the circuit breaker skipped it */
	void *reserved[4];          /* room to grow in later versions */
} rm_counters;

/* The transports a composite wraps (0 for a plain transport). */
RM_EXTERN size_t rm_transport_child_count(const rm_transport *t);

/* The name of wrapped transport i as attempts show it, or NULL. */
RM_EXTERN const char *rm_transport_child_name(const rm_transport *t,
                                              size_t i);

/*
 * The counters of the transport called name (as rm_attempt.transport
 * shows it) anywhere inside t, or of t itself when name is NULL. Fails
 * with RM_EINVAL when there is no such transport.
 */
RM_EXTERN int rm_transport_counters(const rm_transport *t, const char *name,
                                    rm_counters *out, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Amazon SES helpers                                                     */
/* ---------------------------------------------------------------------- */

/* Room for an SES SMTP password: 44 characters and the NUL. */
#define RM_SES_SMTP_PASSWORD_SIZE 45

/*
 * Derives the SES SMTP password for region (such as "eu-west-1") from an
 * IAM secret access key, as AWS documents it, into out (size bytes, at
 * least RM_SES_SMTP_PASSWORD_SIZE). The SMTP user name is the access key
 * id. Never use temporary (session) credentials for this.
 */
RM_EXTERN int rm_ses_smtp_password(const char *secret_key,
                                   const char *region, char *out,
                                   size_t size, rm_error *err);

/* ---------------------------------------------------------------------- */
/* DKIM signing and inbox-placement headers                               */
/* ---------------------------------------------------------------------- */

/*
 * DKIM (RFC 6376) signs every message a transport sends as raw MIME:
 * file, smtp, smtps, mailgun, ses and smtp2go. The signature covers the
 * exact bytes that leave, attached files included. Providers whose API
 * takes JSON (sendgrid, postmark) build and sign the message themselves:
 * set DKIM up in their account. docs/dkim.md tells how to make a key
 * and publish it.
 */
typedef struct rm_dkim_key rm_dkim_key;

/*
 * Loads a private key in PEM, unencrypted: RSA of 1024 to 4096 bits
 * (PKCS#1 or PKCS#8) for rsa-sha256, or Ed25519 in PKCS#8 (as "openssl
 * genpkey -algorithm ed25519" writes it) for ed25519-sha256 (RFC 8463).
 * Ed25519 needs the library built with libsodium; without it the load
 * fails with RM_EUNSUPPORTED. *out is freed with rm_dkim_key_free.
 */
RM_EXTERN int rm_dkim_key_load_file(rm_dkim_key **out, const char *path,
                                    rm_error *err);
RM_EXTERN int rm_dkim_key_load_mem(rm_dkim_key **out, const void *pem,
                                   size_t len, rm_error *err);
RM_EXTERN void rm_dkim_key_free(rm_dkim_key *key);

/* "rsa-sha256" or "ed25519-sha256". */
RM_EXTERN const char *rm_dkim_key_algorithm(const rm_dkim_key *key);

/* The key's size in bits (256 for Ed25519). */
RM_EXTERN unsigned rm_dkim_key_bits(const rm_dkim_key *key);

/* 1 if this build signs with Ed25519 (it has libsodium), else 0. */
RM_EXTERN int rm_dkim_ed25519_available(void);

/* Canonicalization (RFC 6376 3.4). */
typedef enum rm_dkim_canon {
	RM_DKIM_RELAXED = 0,
	RM_DKIM_SIMPLE = 1
} rm_dkim_canon;

/* How one signature is made. Start from RM_DKIM_OPTS_INIT. */
typedef struct rm_dkim_opts {
	unsigned version;           /* RM_DKIM_OPTS_VERSION */
	rm_dkim_canon header_canon; /* default relaxed */
	rm_dkim_canon body_canon;   /* default relaxed */
	const char *headers;        /* names to sign, "from:to:subject";
	                               one listed more often than the
	                               message has it is oversigned. It
	                               must hold From. NULL: From (over-
	                               signed), To, Cc, Subject, Date,
	                               Message-ID, MIME-Version,
	                               Content-Type, Reply-To, List-
	                               Unsubscribe, List-Unsubscribe-Post
	                               and Feedback-ID, those present */
	const char *identity;       /* i=, an address at the domain or a
	                               subdomain of it; NULL: none */
	int no_timestamp;           /* 1: no t= */
	long long expire_seconds;   /* > 0: x= is t= plus this */
	long long timestamp;        /* > 0: the signing time (seconds since
	                               the epoch) instead of the clock */
} rm_dkim_opts;

#define RM_DKIM_OPTS_VERSION 1
#define RM_DKIM_OPTS_INIT \
	{ RM_DKIM_OPTS_VERSION, RM_DKIM_RELAXED, RM_DKIM_RELAXED, NULL, \
	  NULL, 0, 0, 0 }

/*
 * Makes transport t sign every message with key for domain (d=) and
 * selector (s=); the key is copied. Called several times, it adds
 * several signatures (say the customer's domain and the platform's, or
 * RSA and Ed25519 side by side). The URL options dkim_key=PATH,
 * dkim_selector=S and dkim_domain=D (with dkim_canon, dkim_headers,
 * dkim_identity and dkim_expire) add one signer the same way. Fails with
 * RM_EUNSUPPORTED on JSON transports (the provider signs) and on
 * composites (give each inner URL its own dkim_ options). opts may be
 * NULL.
 */
RM_EXTERN int rm_transport_add_dkim(rm_transport *t, const rm_dkim_key *key,
                                    const char *domain, const char *selector,
                                    const rm_dkim_opts *opts, rm_error *err);

/*
 * The DNS record that publishes the key's public half, as a zone-file
 * line: SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=rsa; p=..." in
 * strings of at most 255 octets. *out is freed with rm_free.
 */
RM_EXTERN int rm_dkim_dns_record(const rm_dkim_key *key,
                                 const char *domain, const char *selector,
                                 char **out, rm_error *err);

/*
 * List-Unsubscribe (RFC 2369) with a mailto address and/or an https URL,
 * either of which may be NULL ("user@host" gets "mailto:" put before
 * it). With one_click set, List-Unsubscribe-Post: List-Unsubscribe=One-
 * Click is added too (RFC 8058), which needs the https URL: the
 * receiver POSTs to it to unsubscribe without a page. Both NULL removes
 * the fields. Each call replaces what an earlier one set. DKIM signs
 * both fields by default, as RFC 8058 asks.
 */
RM_EXTERN int rm_message_set_list_unsubscribe(rm_message *msg,
                                              const char *mailto,
                                              const char *https,
                                              int one_click, rm_error *err);

/*
 * Feedback-ID, which mailbox providers use to report complaints per
 * campaign, such as "campaign:customer:mailtype:sender" (Gmail's
 * form). Printable ASCII, at most 200 octets. NULL removes it.
 */
RM_EXTERN int rm_message_set_feedback_id(rm_message *msg, const char *id,
                                         rm_error *err);

/* ---------------------------------------------------------------------- */
/* OAuth2                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * SMTP transports authenticate with XOAUTH2 (Google, Microsoft) or
 * OAUTHBEARER (RFC 7628) when they have an access token. It comes from
 * the URL (token=, token_env=, token_file=), rm_transport_opts.oauth_token,
 * a refresh token the library trades at the provider's token endpoint
 * (gmail+oauth://, office365+smtp:// with client_id, client_secret and
 * refresh_token), or this callback. docs/gmail.md tells the story.
 */

/*
 * Writes an access token, NUL-terminated, into token (size bytes) and
 * returns 0; any other value fails the send with RM_ECALLBACK. refresh
 * is 1 when the server refused the token the callback gave last: give a
 * new one, not the cached one. It is called at each authentication
 * (each new connection), so it should cache tokens itself.
 */
typedef int (*rm_token_fn)(int refresh, char *token, size_t size,
                           void *user);

/*
 * Makes t ask fn for its access tokens (NULL fn goes back to the
 * URL's). An smtp:// URL that gets its token this way names the user
 * and auth=XOAUTH2 (or OAUTHBEARER), and no password. Composites refuse
 * it (RM_EUNSUPPORTED): set it on the transports inside.
 */
RM_EXTERN int rm_transport_set_token_callback(rm_transport *t,
                                              rm_token_fn fn, void *user,
                                              rm_error *err);

/* ---------------------------------------------------------------------- */
/* URLs                                                                   */
/* ---------------------------------------------------------------------- */

/*
 * Copies a transport URL (composites too) with its secrets replaced by
 * "****": passwords, the key in the user part of the HTTP providers'
 * URLs (sendgrid://KEY@default) and of the presets that take one, and
 * the values of options that carry a secret (password, token,
 * client_secret, refresh_token, session_token...). Options that only
 * name a secret's place (password_env, token_file) are kept. For logs
 * and error messages; the library masks the URLs it shows itself.
 * *out is freed with rm_free.
 */
RM_EXTERN int rm_url_mask(const char *url, char **out, rm_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RELAYMAIL_H */
