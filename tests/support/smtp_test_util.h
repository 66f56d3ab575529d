/*
 * Helpers shared by the SMTP transport tests: start a scripted server,
 * open a transport to it with the log captured, build small messages.
 */
#ifndef SMTP_TEST_UTIL_H
#define SMTP_TEST_UTIL_H

#include "fake_smtp.h"
#include "relaymail.h"

typedef struct st_run {
	fake_smtp *fs;
	rm_transport *t;
	rm_result *r;
	rm_error err;
	char *log;            /* every log line, each ended by "\n" */
	size_t log_len;
	int rc;
} st_run;

/*
 * Starts the server with script (and tls, may be NULL) and opens
 * "SCHEME://USERINFO127.0.0.1:PORT?ehlo=client.example&QUERY" with the
 * log at debug level. userinfo may be "" or "user:pass@". Returns the
 * open status (the server runs either way).
 */
int st_open(st_run *x, const fs_step *script, const fs_tls *tls,
            const char *scheme, const char *userinfo, const char *query);
/* The same with a complete URL where {port} stands for the port. */
int st_open_url(st_run *x, const fs_step *script, const fs_tls *tls,
                const char *url_fmt);
/* st_open_url in two steps, for a test that puts something between
 * the client and the server: start the server, then open the URL with
 * {port} replaced by port. */
int st_start(st_run *x, const fs_step *script, const fs_tls *tls);
int st_connect(st_run *x, const char *url_fmt, int port);
/* Sends msg (and frees it); returns and keeps the status in x->rc. */
int st_send(st_run *x, rm_message *msg);
/* Closes the transport and waits for the server's script to end. */
void st_close(st_run *x);
/* Frees what st_open made. */
void st_free(st_run *x);

/* From a@example.com to the comma-separated list, reproducible. */
rm_message *st_message(const char *to, const char *text);

/* Removes SMTP dot-stuffing and the final dot from a DATA payload. */
char *st_unstuff(const char *data, size_t len, size_t *out_len);

#endif /* SMTP_TEST_UTIL_H */
