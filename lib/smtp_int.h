/*
 * Declarations shared by the SMTP transport's files: the connection layer
 * (net.c, tls.c), the I/O-free reply reader (smtp_reply.c) and the
 * dialogue (smtp*.c). Nothing here leaves the library.
 */
#ifndef RM_SMTP_INT_H
#define RM_SMTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---------------------------------------------------------------------- */
/* Clock (net.c)                                                          */
/* ---------------------------------------------------------------------- */

/* Milliseconds of a monotonic clock: only differences mean anything. */
int64_t rm__now_ms(void);

/* ---------------------------------------------------------------------- */
/* TLS over a connected socket (tls.c, mbedTLS)                           */
/* ---------------------------------------------------------------------- */

/* What a TLS client checks; shared by every connection of a transport. */
typedef struct rm__tls_opts {
	const char *ca_file;   /* PEM bundle, or NULL for the system one */
	int verify;            /* 0 only after the caller's explicit opt-out */
} rm__tls_opts;

typedef struct rm__tls_config rm__tls_config;
typedef struct rm__tls rm__tls;

/* Loads the trust anchors once; the config serves many connections. */
int rm__tls_config_new(rm__tls_config **out, const rm__tls_opts *opts,
                       rm_error *err);
void rm__tls_config_free(rm__tls_config *cfg);

/*
 * Runs a client handshake on fd (non-blocking) before deadline (from
 * rm__now_ms). name is the host the certificate must name and the SNI.
 * where ("host:port") and scheme_hint only shape error messages.
 */
int rm__tls_start(rm__tls **out, rm__tls_config *cfg, int fd,
                  const char *name, int64_t deadline, const char *where,
                  rm_error *err);
int rm__tls_read(rm__tls *tls, void *buf, size_t len, size_t *got,
                 int64_t deadline, rm_error *err);
int rm__tls_write(rm__tls *tls, const void *data, size_t len,
                  int64_t deadline, rm_error *err);
/* Sends close_notify when notify is set (best effort), then frees. */
void rm__tls_free(rm__tls *tls, int notify);
/* "TLSv1.2 TLS-ECDHE-..." into buf. */
void rm__tls_describe(const rm__tls *tls, char *buf, size_t size);

/* ---------------------------------------------------------------------- */
/* Connections: TCP, optionally wrapped in TLS (net.c)                    */
/* ---------------------------------------------------------------------- */

typedef struct rm__conn {
	int fd;                /* -1 when closed */
	rm__tls *tls;          /* NULL while the connection is plain */
	char where[300];       /* "host:port" for messages */
	uint64_t writes;       /* write system calls, for tests */
} rm__conn;

void rm__conn_init(rm__conn *c);

/*
 * Resolves host and tries every address it has, each for up to
 * timeout_ms, until one accepts. The socket is non-blocking with
 * TCP_NODELAY set.
 */
int rm__conn_open(rm__conn *c, const char *host, int port, long timeout_ms,
                  const rm__log *log, rm_error *err);

/* Reads what is there (at least one byte); RM_ECLOSED at end of stream. */
int rm__conn_read(rm__conn *c, void *buf, size_t len, size_t *got,
                  int64_t deadline, rm_error *err);
/* Writes all of data. */
int rm__conn_write(rm__conn *c, const void *data, size_t len,
                   int64_t deadline, rm_error *err);
/* Wraps the connection in TLS (STARTTLS or implicit TLS). */
int rm__conn_start_tls(rm__conn *c, rm__tls_config *cfg, const char *name,
                       int64_t deadline, rm_error *err);
/* Closes the socket; notify sends TLS close_notify first. */
void rm__conn_close(rm__conn *c, int notify);
int rm__conn_is_open(const rm__conn *c);
/* The local address as an EHLO address literal, "[192.0.2.1]". */
int rm__conn_local_literal(const rm__conn *c, char *buf, size_t size);

/* Waits for events on fd until deadline: 1 ready, 0 timed out, <0 error */
int rm__net_wait(int fd, short events, int64_t deadline);

/* ---------------------------------------------------------------------- */
/* The I/O-free reply reader (smtp_reply.c), RFC 5321 section 4.2         */
/* ---------------------------------------------------------------------- */

/* RFC 5321 4.5.3.1.5 allows 512 octets; real servers send more. */
#define RM__REPLY_LINE_MAX 2048
/* A reply with more lines than this is a runaway, not a reply. */
#define RM__REPLY_LINES_MAX 200

/* One complete reply. */
typedef struct rm__reply {
	int code;              /* 200 to 599 */
	char enhanced[16];     /* RFC 3463 status of the first line, or "" */
	rm__buf text;          /* the lines' texts, joined by '\n' */
	size_t lines;
} rm__reply;

void rm__reply_init(rm__reply *r);
void rm__reply_free(rm__reply *r);
/* The text of line i (0-based) into buf, NUL-terminated. */
void rm__reply_line(const rm__reply *r, size_t i, char *buf, size_t size);

typedef struct rm__reply_reader {
	rm__buf in;            /* bytes fed and not yet parsed */
	size_t pos;            /* how far in has been parsed */
	rm__reply cur;         /* the reply being assembled */
} rm__reply_reader;

void rm__reply_reader_init(rm__reply_reader *rd);
void rm__reply_reader_free(rm__reply_reader *rd);
/* Appends bytes; RM_ELIMIT if too much is buffered. */
int rm__reply_feed(rm__reply_reader *rd, const void *data, size_t len);
/*
 * Moves the next complete reply into *out: 1 when there was one, 0 when
 * more bytes are needed, RM_EPROTOCOL or RM_ELIMIT when the bytes are not
 * a valid reply (the reader is then unusable until discarded).
 */
int rm__reply_next(rm__reply_reader *rd, rm__reply *out);
/* Bytes fed but not yet returned as part of a reply. */
size_t rm__reply_buffered(const rm__reply_reader *rd);
/* Forgets everything buffered (used when STARTTLS begins). */
void rm__reply_discard(rm__reply_reader *rd);

/* Parses "2.1.5" style status at the start of text; returns its length */
size_t rm__enhanced_parse(const char *text, int code, char *out,
                          size_t size);

/* ---------------------------------------------------------------------- */
/* The SMTP backend's configuration (smtp_config.c)                       */
/* ---------------------------------------------------------------------- */

enum { RM__TLS_NONE, RM__TLS_OPPORTUNISTIC, RM__TLS_REQUIRED };

/* SASL mechanisms, in no particular order. */
enum { RM__AUTH_PLAIN, RM__AUTH_LOGIN, RM__AUTH_CRAM_MD5, RM__AUTH_XOAUTH2,
       RM__AUTH_OAUTHBEARER, RM__AUTH_COUNT };

extern const char *const rm__auth_names[RM__AUTH_COUNT];

typedef struct rm__smtp_cfg {
	char *host;            /* the name in the URL: TLS name, messages */
	char *connect_to;      /* an address to use instead, or NULL */
	int port;
	int implicit_tls;      /* smtps:// */
	int tls_policy;        /* RM__TLS_* for smtp:// */
	int verify;            /* 0 after insecure_skip_verify=yes */
	int loopback;          /* the server is on this machine */
	char *ca_file;
	char *ehlo;            /* NULL: derived when connecting */
	char *user;
	char *password;
	char *token;           /* XOAUTH2 access token */
	int oauth;             /* the token comes from t->oauth at AUTH */
	int user_secret;       /* the user name is a credential (Postmark) */
	int auth_order[RM__AUTH_COUNT];
	size_t auth_count;     /* 0: the default order */
	long connect_timeout_ms;
	long timeout_ms;       /* 0: the RFC 5321 defaults per command */
	char *dsn_notify;      /* RFC 3461 NOTIFY value, or NULL */
	char *dsn_ret;         /* RFC 3461 RET value, or NULL */
} rm__smtp_cfg;

int rm__smtp_cfg_parse(rm__smtp_cfg *cfg, const rm_transport *t,
                       const rm__url *url, rm_error *err);
void rm__smtp_cfg_free(rm__smtp_cfg *cfg);

/* ---------------------------------------------------------------------- */
/* The SMTP session (smtp.c, smtp_auth.c, smtp_send.c)                    */
/* ---------------------------------------------------------------------- */

/* Dialogue states; each but IDLE and STOP waits for one reply. */
typedef enum rm__smtp_state {
	RM__SMTP_STOP,         /* no connection */
	RM__SMTP_IDLE,         /* connected, nothing outstanding */
	RM__SMTP_GREETING,
	RM__SMTP_EHLO,
	RM__SMTP_HELO,
	RM__SMTP_STARTTLS,
	RM__SMTP_AUTH,         /* AUTH sent, awaiting 235 or 334 */
	RM__SMTP_AUTH_USER,    /* LOGIN: username sent */
	RM__SMTP_AUTH_PASS,    /* LOGIN: password sent */
	RM__SMTP_AUTH_REPLY,   /* CRAM-MD5 or XOAUTH2 response sent */
	RM__SMTP_AUTH_CANCEL,  /* "*" sent (RFC 4954 section 4) */
	RM__SMTP_RSET,
	RM__SMTP_NOOP,
	RM__SMTP_MAIL,
	RM__SMTP_RCPT,
	RM__SMTP_DATA,
	RM__SMTP_BODY,         /* final dot sent */
	RM__SMTP_QUIT,
	RM__SMTP_STATE_COUNT
} rm__smtp_state;

/* EHLO keywords the client acts on (RFC 5321 section 2.2.2). */
enum {
	RM__CAP_PIPELINING = 1 << 0,   /* RFC 2920 */
	RM__CAP_STARTTLS = 1 << 1,     /* RFC 3207 */
	RM__CAP_SIZE = 1 << 2,         /* RFC 1870 */
	RM__CAP_8BITMIME = 1 << 3,     /* RFC 6152 */
	RM__CAP_SMTPUTF8 = 1 << 4,     /* RFC 6531 */
	RM__CAP_ENHANCED = 1 << 5,     /* RFC 2034 */
	RM__CAP_DSN = 1 << 6,          /* RFC 3461 */
	RM__CAP_AUTH = 1 << 7          /* RFC 4954 */
};

typedef struct rm__smtp_caps {
	unsigned flags;
	unsigned auth;         /* bit (1 << RM__AUTH_*) per mechanism */
	uint64_t max_size;     /* SIZE parameter, 0 if none */
	char keywords[1024];   /* for rm_check_info */
} rm__smtp_caps;

/* One recipient of the message being sent. */
typedef struct rm__smtp_rcpt {
	int state;             /* RCPT_* in smtp_send.c */
	int code;
	char enhanced[16];
	char *text;
} rm__smtp_rcpt;

/* The transaction in flight (smtp_send.c). */
typedef struct rm__smtp_txn {
	rm__envelope env;
	rm__smtp_rcpt *rcpts;
	size_t *batch;         /* indices of this transaction's recipients */
	size_t batch_count;
	size_t replied;        /* RCPT replies read so far */
	size_t accepted;       /* RCPTs accepted in this transaction */
	int pipelined;
	int mail_failed;
	int empty_data;        /* a lone dot closes a recipient-less DATA */
	int final_sent;        /* the final dot has gone out */
	int code;              /* the reply that decided the transaction */
	char enhanced[16];
	char *text;
	int stage;             /* the RM__SMTP_* state that replied it */
	int mail_replied;
	int delivered;
	int ok_code;           /* the first final reply that delivered */
	char ok_enhanced[16];
	char *ok_text;
	rm_message *msg;
	uint64_t size;
	int smtputf8;
} rm__smtp_txn;

typedef struct rm__smtp {
	rm_transport *t;
	rm__smtp_cfg cfg;
	rm__tls_config *tls_cfg;
	rm__conn conn;
	rm__reply_reader rd;
	rm__reply reply;       /* the last reply read */
	rm__buf out;           /* commands waiting for one write */
	rm__smtp_state state;
	rm__smtp_caps caps;
	char ehlo_name[300];
	char greeting[256];
	int auth_mech;         /* the mechanism used, or -1 */
	int auth_rounds;       /* 334 replies answered */
	char auth_detail[256]; /* an XOAUTH2 error challenge, decoded */
	int need_rset;         /* a failed transaction left state behind */
	int fresh;             /* connected during the current call */
	int64_t last_used;     /* rm__now_ms of the last reply */
	rm__smtp_txn *txn;
} rm__smtp;

/* smtp.c */
void rm__smtp_set_state(rm__smtp *s, rm__smtp_state state);
/* Queues one command line; secret (may be NULL) follows visible and is
 * logged as "<redacted>". */
int rm__smtp_queue(rm__smtp *s, const char *visible, const char *secret,
                   rm_error *err);
int rm__smtp_queuef(rm__smtp *s, rm_error *err, const char *fmt, ...)
	RM__PRINTF(3, 4);
int rm__smtp_flush(rm__smtp *s, rm_error *err);
/* Queues and flushes one command, then enters state. */
int rm__smtp_command(rm__smtp *s, rm__smtp_state next, rm_error *err,
                     const char *fmt, ...) RM__PRINTF(4, 5);
/* Runs the dialogue until it rests (IDLE or STOP). */
int rm__smtp_run(rm__smtp *s, rm_error *err);
/* Connects, greets, negotiates TLS and authenticates; or reuses. */
int rm__smtp_ready(rm__smtp *s, rm_error *err);
void rm__smtp_drop(rm__smtp *s);
void rm__smtp_quit(rm__smtp *s);
/* Fills err from a reply that refused something, naming what. */
int rm__smtp_fail_reply(rm__smtp *s, rm_error *err, int code,
                        rm_outcome outcome, const char *what);
/* The outcome class of a reply code: 4xx transient, 5xx as given. */
rm_outcome rm__smtp_class(int code, rm_outcome perm);

/* smtp_auth.c */
int rm__smtp_auth_start(rm__smtp *s, rm_error *err);
int rm__smtp_on_auth(rm__smtp *s, const rm__reply *r, rm_error *err);

/* smtp_send.c */
int rm__smtp_on_txn(rm__smtp *s, const rm__reply *r, rm_error *err);
int rm__smtp_send(rm__smtp *s, rm_message *msg, rm_result *result,
                  rm_error *err);

/* smtp_oauth.c: XOAUTH2 and OAUTHBEARER (RFC 7628) */
int rm__smtp_oauth_mech(int mech);
/* Puts a current token from the transport's source into cfg.token. */
int rm__smtp_oauth_prepare(rm__smtp *s, rm_error *err);
int rm__smtp_oauth_start(rm__smtp *s, rm_error *err);
/* Answers an error challenge as the mechanism requires. */
int rm__smtp_oauth_challenge(rm__smtp *s, const char *text, rm_error *err);
/* After a refused token: 1 if a fresh one is worth one more try. */
int rm__smtp_oauth_retry(rm__smtp *s);
/* The user name as logs and messages show it. */
const char *rm__smtp_user_shown(const rm__smtp *s);
/* What the user must do after a 535 from this server, or "". */
const char *rm__smtp_auth_hint(const rm__smtp *s, int code);

/* smtp_caps.c */
void rm__smtp_caps_parse(rm__smtp_caps *caps, const rm__reply *ehlo);

/* smtp_redact.c: replaces the password and the token, and their base64
 * forms, in a reply's text with "<redacted>" (a server may echo them). */
void rm__smtp_redact_reply(const rm__smtp *s, rm__reply *r);

#endif /* RM_SMTP_INT_H */
