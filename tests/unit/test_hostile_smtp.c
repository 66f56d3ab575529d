/*
 * Hostile bodies and hostile servers for the SMTP transport.
 *
 * Bodies that could smuggle a second message (bare LF, bare CR, dot
 * lines in every line-end mix, SMTP commands after a dot) go through the
 * scripted server: the DATA payload must hold exactly one terminator, at
 * its end, and CRLF line ends only, and the server must see one message
 * (RFC 5321 4.1.1.4, 4.5.2; the "SMTP smuggling" attacks).
 *
 * Hostile servers are played by a small raw socket server below (with
 * mbedTLS for the TLS ones): unbounded reply lines, endless multiline
 * replies, a greeting that never comes, a reply one byte at a time, a
 * connection that closes in the middle of a reply, a weak RSA key, a
 * TLS 1.0-only server. Each must end with a clear error within the short
 * timeouts the URL sets; only the error code is asserted, never a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "smtp_int.h"
#include "smtp_test_util.h"
#include "test_certs.h"

#define GREET "220 fake.example ESMTP\r\n"
#define EHLO_PIPE "250-fake.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
#define OK3 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
#define QUEUED "250 2.0.0 Ok: queued as Q1\r\n"

/* ---------------------------------------------------------------------- */
/* Bodies that could smuggle a second message                            */
/* ---------------------------------------------------------------------- */

typedef struct body_case {
	const char *name;
	const char *text;
	size_t len;
} body_case;

#define B(name, text) { name, text, sizeof(text) - 1 }
#define SMUGGLED "MAIL FROM:<spoof@example.org>\r\n" \
                 "RCPT TO:<victim@example.org>\r\nDATA\r\nevil\r\n"

static const body_case bodies[] = {
	B("bare LF", "one\ntwo\n"),
	B("bare CR", "one\rtwo\r"),
	B("LF dot LF", "a\n.\n" SMUGGLED ".\n"),
	B("CRLF dot CRLF", "a\r\n.\r\n" SMUGGLED ".\r\n"),
	B("CRLF dot LF", "a\r\n.\n" SMUGGLED),
	B("LF dot CRLF", "a\n.\r\n" SMUGGLED),
	B("CR dot CR", "a\r.\r" SMUGGLED),
	B("CR dot CRLF", "a\r.\r\n" SMUGGLED),
	B("dot CRLF at start", ".\r\n" SMUGGLED),
	B("dot LF at start", ".\n" SMUGGLED),
	B("dot alone", "."),
	B("dot CR at end", "x\r\n.\r"),
	B("mixed", "a\n.\r\nb\r.\nc\r\n.\rd\n\r.\r\n\n.\n"),
	B("dot dot", "..\r\n...\n.\r\n"),
	B("NUL before dot", "a\r\n\0.\r\n"),
	B("only line ends", "\r\n\n\r\r\n"),
};

/* The payload ends with the one and only CRLF.CRLF and has CRLF line
 * ends only (RFC 5321 4.1.1.4). */
static void check_payload(const char *data, size_t len, const char *name)
{
	const char *first;
	size_t i;

	if (len < 5 || memcmp(data + len - 5, "\r\n.\r\n", 5) != 0)
		fail_msg("%s: the payload does not end with CRLF.CRLF", name);
	first = memmem(data, len, "\r\n.\r\n", 5);
	if (first != data + len - 5)
		fail_msg("%s: a second terminator inside the payload", name);
	for (i = 0; i < len; i++) {
		if (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n'))
			fail_msg("%s: bare CR at %zu", name, i);
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			fail_msg("%s: bare LF at %zu", name, i);
	}
}

static const char one_message[] =
	"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n"
	"RCPT TO:<b@example.net>\r\nDATA\r\n[data]\r\nQUIT\r\n";

static void send_one(rm_message *m, const char *name)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1), FS_S(EHLO_PIPE), FS_C(3), FS_S(OK3),
		FS_BODY, FS_S(QUEUED), FS_C(1), FS_S("221 Bye\r\n"), FS_DONE
	};
	const char *data;
	size_t len;
	st_run x;

	assert_int_equal(st_open(&x, script, NULL, "smtp", "", ""), 0);
	if (st_send(&x, m) != RM_OK)
		fail_msg("%s: send failed: %s", name, x.err.message);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_string_equal(fake_smtp_transcript(x.fs), one_message);
	data = fake_smtp_data(x.fs, 0, &len);
	assert_non_null(data);
	assert_null(fake_smtp_data(x.fs, 1, NULL));
	check_payload(data, len, name);
	st_free(&x);
}

static void hostile__smuggling_bodies_as_text(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(bodies); i++) {
		rm_message *m = st_message("b@example.net", "x");
		rm_error err;
		int rc = rm_message_set_text(m, bodies[i].text, bodies[i].len,
		                             &err);

		if (rc != RM_OK) {
			/* A NUL in text may be refused, naming the body. */
			assert_int_equal(rc, RM_EINVAL);
			assert_non_null(memchr(bodies[i].text, '\0',
			                       bodies[i].len));
			rm_message_free(m);
			continue;
		}
		send_one(m, bodies[i].name);
	}
}

/* The same bodies under headers built elsewhere (rm_message_new_raw). */
static void hostile__smuggling_bodies_as_raw(void **state)
{
	static const char head[] = "From: a@example.com\r\n"
	                           "To: b@example.net\r\nSubject: raw\r\n\r\n";
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(bodies); i++) {
		size_t len = strlen(head) + bodies[i].len;
		char *raw = malloc(len);
		rm_message *m = NULL;
		rm_error err;
		int rc;

		memcpy(raw, head, strlen(head));
		memcpy(raw + strlen(head), bodies[i].text, bodies[i].len);
		rc = rm_message_new_raw(&m, raw, len, &err);
		free(raw);
		if (rc != RM_OK) {
			assert_int_equal(rc, RM_EINVAL);
			assert_non_null(memchr(bodies[i].text, '\0',
			                       bodies[i].len));
			continue;
		}
		send_one(m, bodies[i].name);
	}
}

/* ---------------------------------------------------------------------- */
/* A hostile server                                                       */
/* ---------------------------------------------------------------------- */

typedef enum hs_mode {
	HS_LONG_LINE,       /* "220 " and then never a line end */
	HS_ENDLESS_LINES,   /* "220-..." lines forever */
	HS_EHLO_FLOOD,      /* a good greeting, then "250-" lines forever */
	HS_SILENT,          /* accepts and says nothing */
	HS_DRIP,            /* the greeting one byte every 300 ms */
	HS_CLOSE_MID,       /* half a multiline reply, then closes */
	HS_TLS              /* implicit TLS with the given key and versions */
} hs_mode;

/* Stop flooding after this much (the client should stop far sooner). */
#define HS_FLOOD_MAX (256u * 1024 * 1024)

typedef struct hs {
	hs_mode mode;
	const char *cert_pem;    /* HS_TLS */
	const char *key_pem;
	int tls_max_minor;       /* HS_TLS: MBEDTLS_SSL_MINOR_VERSION_* */
	int listen_fd;
	int fd;
	int port;
	pthread_t thread;
	size_t sent;             /* bytes the flood modes got out */
	int handshake_rc;        /* HS_TLS: the server's handshake result */
} hs;

static int hs_send(hs *s, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s->sent += (size_t)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends unit over and over until the client stops reading or goes. */
static void hs_flood(hs *s, const char *unit)
{
	char block[65536];
	size_t n = strlen(unit), fill = 0;

	while (fill + n <= sizeof(block)) {
		memcpy(block + fill, unit, n);
		fill += n;
	}
	while (s->sent < HS_FLOOD_MAX && hs_send(s, block, fill) == 0)
		;
}

/* Reads until the client closes (or the socket's own timeout). */
static void hs_drain(hs *s)
{
	char buf[4096];

	while (recv(s->fd, buf, sizeof(buf), 0) > 0)
		;
}

static void hs_read_line(hs *s)
{
	char c;

	while (recv(s->fd, &c, 1, 0) == 1 && c != '\n')
		;
}

static void hs_drip(hs *s, const char *text)
{
	struct timespec pause = { 0, 300 * 1000 * 1000 };

	for (; *text != '\0'; text++) {
		if (hs_send(s, text, 1) != 0)
			return;
		nanosleep(&pause, NULL);
	}
}

static int hs_net_send(void *ctx, const unsigned char *buf, size_t len)
{
	hs *s = ctx;
	ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);

	return n >= 0 ? (int)n : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int hs_net_recv(void *ctx, unsigned char *buf, size_t len)
{
	hs *s = ctx;
	ssize_t n = recv(s->fd, buf, len, 0);

	if (n == 0)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return n > 0 ? (int)n : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* A TLS server handshake with the given key and highest version. */
static void hs_tls(hs *s)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	mbedtls_x509_crt_init(&cert);
	mbedtls_pk_init(&key);
	s->handshake_rc = -1;
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	                          NULL, 0) == 0 &&
	    mbedtls_x509_crt_parse(&cert, (const unsigned char *)s->cert_pem,
	                           strlen(s->cert_pem) + 1) == 0 &&
	    mbedtls_pk_parse_key(&key, (const unsigned char *)s->key_pem,
	                         strlen(s->key_pem) + 1, NULL, 0) == 0 &&
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
	                                MBEDTLS_SSL_TRANSPORT_STREAM,
	                                MBEDTLS_SSL_PRESET_DEFAULT) == 0) {
		mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
		mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
		                             MBEDTLS_SSL_MINOR_VERSION_1);
		mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
		                             s->tls_max_minor);
		if (mbedtls_ssl_conf_own_cert(&conf, &cert, &key) == 0 &&
		    mbedtls_ssl_setup(&ssl, &conf) == 0) {
			mbedtls_ssl_set_bio(&ssl, s, hs_net_send, hs_net_recv,
			                    NULL);
			s->handshake_rc = mbedtls_ssl_handshake(&ssl);
		}
	}
	if (s->handshake_rc == 0) {
		const char *g = GREET;

		mbedtls_ssl_write(&ssl, (const unsigned char *)g, strlen(g));
	}
	hs_drain(s);
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&cert);
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
}

static void hs_play(hs *s)
{
	switch (s->mode) {
	case HS_LONG_LINE:
		if (hs_send(s, "220 ", 4) == 0)
			hs_flood(s, "A");
		break;
	case HS_ENDLESS_LINES:
		hs_flood(s, "220-hostile.example says more\r\n");
		break;
	case HS_EHLO_FLOOD:
		hs_send(s, GREET, strlen(GREET));
		hs_read_line(s);
		hs_flood(s, "250-X-ENDLESS-KEYWORD\r\n");
		break;
	case HS_SILENT:
		hs_drain(s);
		break;
	case HS_DRIP:
		hs_drip(s, "220 slow.example ESMTP\r\n");
		hs_drain(s);
		break;
	case HS_CLOSE_MID:
		hs_send(s, "220-hostile.example\r\n220-still", 30);
		break;
	case HS_TLS:
		hs_tls(s);
		break;
	}
}

static void *hs_serve(void *arg)
{
	hs *s = arg;
	struct pollfd p = { s->listen_fd, POLLIN, 0 };
	struct timeval tv = { 10, 0 };

	if (poll(&p, 1, 10000) != 1)
		return NULL;
	s->fd = accept(s->listen_fd, NULL, NULL);
	if (s->fd < 0)
		return NULL;
	/* Every wait of the server is bounded too. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	hs_play(s);
	close(s->fd);
	return NULL;
}

static void hs_start(hs *s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	s->fd = -1;
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, len), 0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a,
	                             &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, hs_serve, s), 0);
}

static void hs_stop(hs *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
}

static long max_rss_kb(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

/*
 * Connects to the hostile server with rm_transport_check and returns
 * the status; err gets the detail. The URL is pre, the port, post.
 */
static int hs_check(hs *s, const char *pre, const char *post,
                    rm_error *err)
{
	rm_transport *t = NULL;
	char url[1024];
	int rc;

	hs_start(s);
	snprintf(url, sizeof(url), "%s%d%s", pre, s->port, post);
	rc = rm_transport_open(&t, url, NULL, err);
	if (rc == RM_OK)
		rc = rm_transport_check(t, NULL, err);
	rm_transport_close(t);
	hs_stop(s);
	return rc;
}

#define PLAIN_URL "smtp://127.0.0.1:", "?ehlo=client.example&tls=none" \
                  "&timeout=1&connect_timeout=2"

static void expect_clear_error(const rm_error *err, int rc, int want1,
                               int want2)
{
	if (rc != want1 && rc != want2)
		fail_msg("status %d (%s): %s", rc, rm_strerror(rc),
		         err->message);
	assert_int_equal(err->code, rc);
	assert_true(strlen(err->message) > 10);
	print_message("%s: %s\n", rm_strerror(rc), err->message);
}

static void hostile__unbounded_reply_line(void **state)
{
	hs s = { .mode = HS_LONG_LINE };
	long before = max_rss_kb();
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_EPROTOCOL, RM_ELIMIT);
	/* Bounded memory: the flood is refused after a few kilobytes. */
	assert_true(max_rss_kb() - before < 64 * 1024);
	assert_true(s.sent < HS_FLOOD_MAX);
}

static void hostile__endless_multiline_greeting(void **state)
{
	hs s = { .mode = HS_ENDLESS_LINES };
	long before = max_rss_kb();
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_EPROTOCOL, RM_ELIMIT);
	assert_true(max_rss_kb() - before < 64 * 1024);
	assert_true(s.sent < HS_FLOOD_MAX);
}

static void hostile__endless_ehlo_reply(void **state)
{
	hs s = { .mode = HS_EHLO_FLOOD };
	long before = max_rss_kb();
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_EPROTOCOL, RM_ELIMIT);
	assert_true(max_rss_kb() - before < 64 * 1024);
}

static void hostile__greeting_never_comes(void **state)
{
	hs s = { .mode = HS_SILENT };
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_ETIMEDOUT, RM_ETIMEDOUT);
}

/* A byte every 300 ms: the timeout covers the whole reply, so trickling
 * does not keep the client waiting forever. */
static void hostile__one_byte_at_a_time(void **state)
{
	hs s = { .mode = HS_DRIP };
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_ETIMEDOUT, RM_ETIMEDOUT);
}

static void hostile__closed_mid_reply(void **state)
{
	hs s = { .mode = HS_CLOSE_MID };
	rm_error err;
	int rc;

	(void)state;
	rc = hs_check(&s, PLAIN_URL, &err);
	expect_clear_error(&err, rc, RM_ECLOSED, RM_EPROTOCOL);
}

/* ---------------------------------------------------------------------- */
/* TLS: certificates and versions                                         */
/* ---------------------------------------------------------------------- */

static test_certs certs;

/* An RSA-1024 leaf for smtp.example.com under a CA of its own. */
static test_weak_cert weak;

static int tls_setup(void **state)
{
	(void)state;
	if (test_certs_make(&certs) != 0)
		return -1;
	return test_certs_make_weak(&weak, certs.dir);
}

static int tls_teardown(void **state)
{
	(void)state;
	unlink(weak.ca_file);
	test_certs_remove(&certs);
	return 0;
}

/* Implicit TLS to the hostile server for smtp.example.com. */
static int tls_check(const char *cert, const char *key, int max_minor,
                     const char *ca_file, rm_error *err)
{
	hs s = { .mode = HS_TLS };
	char post[512];

	s.cert_pem = cert;
	s.key_pem = key;
	s.tls_max_minor = max_minor;
	snprintf(post, sizeof(post), "?connect_to=127.0.0.1&ehlo=client.example"
	         "&ca_file=%s&timeout=1&connect_timeout=2", ca_file);
	return hs_check(&s, "smtps://user:secret@smtp.example.com:", post,
	                err);
}

#define TLS12 MBEDTLS_SSL_MINOR_VERSION_3

/* The harness itself: a good certificate gets through the handshake
 * (and then the greeting is not answered, so the check times out). */
static void hostile__tls_good_certificate_gets_through(void **state)
{
	rm_error err;
	int rc;

	(void)state;
	rc = tls_check(certs.good.cert, certs.good.key, TLS12, certs.ca_file,
	               &err);
	expect_clear_error(&err, rc, RM_ETIMEDOUT, RM_ETIMEDOUT);
}

static void hostile__tls_bad_certificates(void **state)
{
	const test_cert *bad[] = { &certs.self_signed, &certs.expired,
	                           &certs.wrong_name };
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(bad); i++) {
		rm_error err;
		int rc = tls_check(bad[i]->cert, bad[i]->key, TLS12,
		                   certs.ca_file, &err);

		expect_clear_error(&err, rc, RM_ECERT, RM_ECERT);
		assert_non_null(strstr(err.message, "verification"));
	}
}

/* mbedTLS's default certificate profile wants RSA keys of at least
 * 2048 bits: a 1024-bit key fails verification. */
static void hostile__tls_weak_rsa_key(void **state)
{
	rm_error err;
	int rc;

	(void)state;
	rc = tls_check(weak.cert, weak.key, TLS12, weak.ca_file, &err);
	expect_clear_error(&err, rc, RM_ECERT, RM_ECERT);
}

/* TLS 1.2 is the oldest version the client offers (RFC 8314 4.1). */
static void hostile__tls_1_0_only_server(void **state)
{
	rm_error err;
	int rc;

	(void)state;
	rc = tls_check(certs.good.cert, certs.good.key,
	               MBEDTLS_SSL_MINOR_VERSION_1, certs.ca_file, &err);
	expect_clear_error(&err, rc, RM_ETLS, RM_ETLS);
}

/* ---------------------------------------------------------------------- */
/* STARTTLS stripped (RFC 3207 section 6)                                 */
/* ---------------------------------------------------------------------- */

/* The server (or a man in the middle) leaves STARTTLS out: with TLS
 * required, or by default for a host that is not loopback, the client
 * stops before AUTH or MAIL and the password never goes out. */
static void starttls_missing(const char *url_fmt)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1),
		FS_S("250-fake.example\r\n250 AUTH PLAIN LOGIN\r\n"),
		FS_C(1), FS_S("221 Bye\r\n"), FS_DONE
	};
	st_run x;

	assert_int_equal(st_open_url(&x, script, NULL, url_fmt), 0);
	assert_int_equal(st_send(&x, st_message("b@example.net", "x")),
	                 RM_ENOTLS);
	assert_true(strlen(x.err.message) > 10);
	st_close(&x);
	assert_string_equal(fake_smtp_transcript(x.fs),
	                    "EHLO client.example\r\nQUIT\r\n");
	assert_null(strstr(x.log, "secret"));
	st_free(&x);
}

static void hostile__starttls_not_offered_required(void **state)
{
	(void)state;
	starttls_missing("smtp://user:secret@127.0.0.1:{port}"
	                 "?ehlo=client.example&tls=required");
}

/* TLS is required by default for a server that is not on loopback
 * (a connection to loopback, connect_to included, stays on the machine:
 * opportunistic there). */
static void hostile__tls_required_by_default_off_loopback(void **state)
{
	static const char *const urls[] = {
		"smtp://user:secret@smtp.example.com",
		"smtp://smtp.example.com:587",
		"smtp://192.0.2.10?connect_to=192.0.2.11",
		"smtp://[2001:db8::1]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(urls); i++) {
		rm_transport *t;
		rm__smtp *s;

		assert_int_equal(rm_transport_open(&t, urls[i], NULL, NULL),
		                 RM_OK);
		s = (rm__smtp *)((struct rm_transport *)t)->impl;
		assert_int_equal(s->cfg.tls_policy, RM__TLS_REQUIRED);
		assert_int_equal(s->cfg.verify, 1);
		rm_transport_close(t);
	}
}

/* A man in the middle pipelines plaintext after the 220 to STARTTLS:
 * a fake EHLO reply offering PLAIN. It is discarded with the plaintext
 * session (RFC 3207 section 4.2, CVE-2011-0411): the client asks EHLO
 * again inside TLS and uses what that reply offers (LOGIN). */
static void hostile__starttls_plaintext_pipelined(void **state)
{
	static const fs_step script[] = {
		FS_S(GREET), FS_C(1),
		FS_S("250-fake.example\r\n250 STARTTLS\r\n"), FS_C(1),
		FS_S("220 2.0.0 Ready\r\n250-evil.example\r\n"
		     "250 AUTH PLAIN\r\n"), FS_STARTTLS, FS_C(1),
		FS_S("250-smtp.example.com\r\n250 AUTH LOGIN\r\n"), FS_C(1),
		FS_S("334 VXNlcm5hbWU6\r\n"), FS_C(1),
		FS_S("334 UGFzc3dvcmQ6\r\n"), FS_C(1),
		FS_S("235 2.7.0 ok\r\n"), FS_C(1), FS_S("221 Bye\r\n"),
		FS_DONE
	};
	static const char want[] = "EHLO client.example\r\nSTARTTLS\r\n"
	                           "EHLO client.example\r\nAUTH LOGIN\r\n";
	static fs_tls tls;
	char url[600];
	st_run x;

	(void)state;
	tls.cert_pem = certs.good.cert;
	tls.key_pem = certs.good.key;
	snprintf(url, sizeof(url), "smtp://user:secret@smtp.example.com:"
	         "{port}?connect_to=127.0.0.1&ehlo=client.example&ca_file=%s"
	         "&tls=required", certs.ca_file);
	assert_int_equal(st_open_url(&x, script, &tls, url), 0);
	assert_int_equal(rm_transport_check(x.t, NULL, &x.err), RM_OK);
	st_close(&x);
	assert_string_equal(fake_smtp_error(x.fs), "");
	assert_true(strncmp(fake_smtp_transcript(x.fs), want,
	                    strlen(want)) == 0);
	st_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile__smuggling_bodies_as_text),
		cmocka_unit_test(hostile__smuggling_bodies_as_raw),
		cmocka_unit_test(hostile__unbounded_reply_line),
		cmocka_unit_test(hostile__endless_multiline_greeting),
		cmocka_unit_test(hostile__endless_ehlo_reply),
		cmocka_unit_test(hostile__greeting_never_comes),
		cmocka_unit_test(hostile__one_byte_at_a_time),
		cmocka_unit_test(hostile__closed_mid_reply),
		cmocka_unit_test(hostile__starttls_not_offered_required),
		cmocka_unit_test(
			hostile__tls_required_by_default_off_loopback),
		cmocka_unit_test_setup_teardown(
			hostile__tls_good_certificate_gets_through,
			tls_setup, tls_teardown),
		cmocka_unit_test_setup_teardown(hostile__tls_bad_certificates,
		                                tls_setup, tls_teardown),
		cmocka_unit_test_setup_teardown(hostile__tls_weak_rsa_key,
		                                tls_setup, tls_teardown),
		cmocka_unit_test_setup_teardown(hostile__tls_1_0_only_server,
		                                tls_setup, tls_teardown),
		cmocka_unit_test_setup_teardown(
			hostile__starttls_plaintext_pipelined,
			tls_setup, tls_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
