/*
 * A scripted SMTP server on 127.0.0.1 for the transport's tests. It runs
 * in a thread, plays a script of steps (send these bytes, read N command
 * lines, read a DATA payload, start TLS, close...) and records every byte
 * the client sent, so a test can compare the exact transcript.
 *
 * Every wait of the server is bounded (a few seconds), so a client that
 * hangs makes the test fail instead of blocking it.
 */
#ifndef FAKE_SMTP_H
#define FAKE_SMTP_H

#include <stddef.h>

typedef enum fs_op {
	FS_END = 0,
	FS_SEND,      /* send text */
	FS_SLOW,      /* send text one byte at a time, pausing between */
	FS_READ,      /* read n command lines into the transcript */
	FS_DATA,      /* read a DATA payload up to and with ".\r\n" */
	FS_TLS,       /* run a TLS server handshake */
	FS_CLOSE,     /* close the connection */
	FS_ACCEPT,    /* close, then accept the next connection */
	FS_EOF,       /* read until the client closes */
	FS_ALERT      /* TLS: a warning alert, then text, in one segment */
} fs_op;

typedef struct fs_step {
	fs_op op;
	const char *text;
	int n;
} fs_step;

#define FS_S(t) { FS_SEND, (t), 0 }
#define FS_SLOWLY(t) { FS_SLOW, (t), 0 }
#define FS_C(count) { FS_READ, NULL, (count) }
#define FS_BODY { FS_DATA, NULL, 0 }
#define FS_STARTTLS { FS_TLS, NULL, 0 }
#define FS_HANGUP { FS_CLOSE, NULL, 0 }
#define FS_NEXT { FS_ACCEPT, NULL, 0 }
#define FS_WAIT_EOF { FS_EOF, NULL, 0 }
#define FS_ALERT_THEN(t) { FS_ALERT, (t), 0 }
#define FS_DONE { FS_END, NULL, 0 }

/* The server's certificate and key, PEM, for FS_TLS, and the key
 * exchange groups it accepts (mbedtls_ecp_group_id values ending with
 * 0, MBEDTLS_ECP_DP_NONE), or NULL for mbedTLS's default. */
typedef struct fs_tls {
	const char *cert_pem;
	const char *key_pem;
	const int *groups;
} fs_tls;

typedef struct fake_smtp fake_smtp;

/* Starts listening and playing script (kept by pointer). tls may be
 * NULL when the script has no FS_TLS step. A script of FS_DONE alone
 * accepts no connection. Returns 0 on success. */
int fake_smtp_start(fake_smtp **out, const fs_step *script,
                    const fs_tls *tls);
/* The same, listening on ::1 when ipv6 is set (0 if IPv6 is missing). */
int fake_smtp_start_ex(fake_smtp **out, const fs_step *script,
                       const fs_tls *tls, int ipv6);
int fake_smtp_port(const fake_smtp *fs);
/* Waits for the script to end; 0 if every step went as planned. */
int fake_smtp_wait(fake_smtp *fs);
/* What the client sent, DATA payloads shown as "[data]\r\n". */
const char *fake_smtp_transcript(const fake_smtp *fs);
/* The i-th DATA payload as sent (dot-stuffed, with the final dot). */
const char *fake_smtp_data(const fake_smtp *fs, size_t i, size_t *len);
/* Why the script failed, or "". */
const char *fake_smtp_error(const fake_smtp *fs);
/* How many recv calls returned the lines of the step with index i. */
int fake_smtp_reads(const fake_smtp *fs, size_t step);
void fake_smtp_free(fake_smtp *fs);

#endif /* FAKE_SMTP_H */
