/*
 * The scripted loopback SMTP server of fake_smtp.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "fake_smtp.h"

#define WAIT_MS 5000
#define MAX_DATA 8
#define MAX_STEPS 64

typedef struct growbuf {
	char *data;
	size_t len;
	size_t cap;
} growbuf;

struct fake_smtp {
	const fs_step *script;
	const fs_tls *tls_files;
	int listen_fd;
	int fd;
	int port;
	pthread_t thread;
	int started;
	growbuf in;           /* received, not yet consumed */
	growbuf transcript;
	growbuf data[MAX_DATA];
	size_t data_count;
	int reads[MAX_STEPS];
	char error[256];
	/* TLS server state, when FS_TLS ran */
	int tls_on;
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ecp_group_id groups[8];
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static void gb_append(growbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *d = realloc(b->data, cap);

		if (d == NULL)
			return;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void gb_consume(growbuf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static void fail(fake_smtp *fs, const char *what)
{
	if (fs->error[0] == '\0')
		snprintf(fs->error, sizeof(fs->error), "%s", what);
}

/* ---------------------------------------------------------------------- */
/* I/O, plain or TLS                                                      */
/* ---------------------------------------------------------------------- */

static int io_send(fake_smtp *fs, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (fs->tls_on)
			w = mbedtls_ssl_write(&fs->ssl,
			                      (const unsigned char *)p, n);
		else
			w = send(fs->fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads once into fs->in; 0 ok, -1 error or timeout, 1 end of stream. */
static int io_recv(fake_smtp *fs)
{
	char buf[65536];
	ssize_t n;

	if (fs->tls_on) {
		n = mbedtls_ssl_read(&fs->ssl, (unsigned char *)buf,
		                     sizeof(buf));
		if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == 0)
			return 1;
	} else {
		struct pollfd p = { fs->fd, POLLIN, 0 };

		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		n = recv(fs->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 1;
	}
	if (n < 0)
		return n == MBEDTLS_ERR_NET_CONN_RESET || errno == ECONNRESET ?
		       1 : -1;
	gb_append(&fs->in, buf, (size_t)n);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* TLS                                                                    */
/* ---------------------------------------------------------------------- */

static void tls_free(fake_smtp *fs)
{
	if (!fs->tls_on)
		return;
	mbedtls_ssl_free(&fs->ssl);
	mbedtls_ssl_config_free(&fs->conf);
	mbedtls_x509_crt_free(&fs->cert);
	mbedtls_pk_free(&fs->key);
	mbedtls_ctr_drbg_free(&fs->drbg);
	mbedtls_entropy_free(&fs->entropy);
	fs->tls_on = 0;
}

/* Like mbedtls_net_send, without SIGPIPE when the client is gone. */
static int net_send(void *ctx, const unsigned char *buf, size_t len)
{
	mbedtls_net_context *net = ctx;
	ssize_t n = send(net->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	return errno == EPIPE || errno == ECONNRESET ?
	       MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static void set_groups(fake_smtp *fs, const int *groups)
{
	size_t n = 0;

	while (groups[n] != MBEDTLS_ECP_DP_NONE &&
	       n + 1 < sizeof(fs->groups) / sizeof(fs->groups[0])) {
		fs->groups[n] = (mbedtls_ecp_group_id)groups[n];
		n++;
	}
	fs->groups[n] = MBEDTLS_ECP_DP_NONE;
	mbedtls_ssl_conf_curves(&fs->conf, fs->groups);
}

static int tls_setup(fake_smtp *fs)
{
	const fs_tls *t = fs->tls_files;

	mbedtls_ssl_init(&fs->ssl);
	mbedtls_ssl_config_init(&fs->conf);
	mbedtls_x509_crt_init(&fs->cert);
	mbedtls_pk_init(&fs->key);
	mbedtls_entropy_init(&fs->entropy);
	mbedtls_ctr_drbg_init(&fs->drbg);
	fs->tls_on = 1;
	if (t == NULL ||
	    mbedtls_ctr_drbg_seed(&fs->drbg, mbedtls_entropy_func,
	                          &fs->entropy, NULL, 0) != 0 ||
	    mbedtls_x509_crt_parse(&fs->cert,
	                           (const unsigned char *)t->cert_pem,
	                           strlen(t->cert_pem) + 1) != 0 ||
	    mbedtls_pk_parse_key(&fs->key, (const unsigned char *)t->key_pem,
	                         strlen(t->key_pem) + 1, NULL, 0) != 0 ||
	    mbedtls_ssl_config_defaults(&fs->conf, MBEDTLS_SSL_IS_SERVER,
	                                MBEDTLS_SSL_TRANSPORT_STREAM,
	                                MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return -1;
	mbedtls_ssl_conf_rng(&fs->conf, mbedtls_ctr_drbg_random, &fs->drbg);
	mbedtls_ssl_conf_read_timeout(&fs->conf, WAIT_MS);
	if (t->groups != NULL)
		set_groups(fs, t->groups);
	if (mbedtls_ssl_conf_own_cert(&fs->conf, &fs->cert, &fs->key) != 0 ||
	    mbedtls_ssl_setup(&fs->ssl, &fs->conf) != 0)
		return -1;
	fs->net.fd = fs->fd;
	mbedtls_ssl_set_bio(&fs->ssl, &fs->net, net_send, NULL,
	                    mbedtls_net_recv_timeout);
	return 0;
}

static int do_tls(fake_smtp *fs)
{
	int rc;

	if (tls_setup(fs) != 0) {
		fail(fs, "TLS setup failed");
		return -1;
	}
	do
		rc = mbedtls_ssl_handshake(&fs->ssl);
	while (rc == MBEDTLS_ERR_SSL_WANT_READ ||
	       rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (rc != 0) {
		fail(fs, "TLS handshake failed");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Steps                                                                  */
/* ---------------------------------------------------------------------- */

static int read_lines(fake_smtp *fs, int n, int *reads)
{
	while (n > 0) {
		char *lf = fs->in.len > 0 ?
		           memchr(fs->in.data, '\n', fs->in.len) : NULL;

		if (lf != NULL) {
			size_t len = (size_t)(lf - fs->in.data) + 1;

			gb_append(&fs->transcript, fs->in.data, len);
			gb_consume(&fs->in, len);
			n--;
			continue;
		}
		(*reads)++;
		if (io_recv(fs) != 0) {
			fail(fs, "client went away or was silent while "
			         "command lines were expected");
			return -1;
		}
	}
	return 0;
}

/* The payload ends at the first line that is a lone dot. */
static size_t data_end(const growbuf *b)
{
	const char *p;

	if (b->len >= 3 && memcmp(b->data, ".\r\n", 3) == 0)
		return 3;
	p = b->len > 0 ? memmem(b->data, b->len, "\r\n.\r\n", 5) : NULL;
	return p != NULL ? (size_t)(p - b->data) + 5 : 0;
}

static int read_data(fake_smtp *fs)
{
	size_t end;

	while ((end = data_end(&fs->in)) == 0) {
		if (io_recv(fs) != 0) {
			fail(fs, "client went away during DATA");
			return -1;
		}
	}
	if (fs->data_count < MAX_DATA)
		gb_append(&fs->data[fs->data_count++], fs->in.data, end);
	gb_append(&fs->transcript, "[data]\r\n", 8);
	gb_consume(&fs->in, end);
	return 0;
}

static void close_conn(fake_smtp *fs)
{
	if (fs->tls_on)
		mbedtls_ssl_close_notify(&fs->ssl);
	tls_free(fs);
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	fs->in.len = 0;
}

static int accept_conn(fake_smtp *fs)
{
	struct pollfd p = { fs->listen_fd, POLLIN, 0 };

	if (poll(&p, 1, WAIT_MS) != 1) {
		fail(fs, "no client connected");
		return -1;
	}
	fs->fd = accept(fs->listen_fd, NULL, NULL);
	return fs->fd >= 0 ? 0 : -1;
}

static int wait_eof(fake_smtp *fs)
{
	int rc;

	while ((rc = io_recv(fs)) == 0)
		;
	gb_append(&fs->transcript, fs->in.data != NULL ? fs->in.data : "",
	          fs->in.len);
	fs->in.len = 0;
	if (rc < 0)
		fail(fs, "client did not close the connection");
	return rc < 0 ? -1 : 0;
}

static int send_slowly(fake_smtp *fs, const char *text)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (; *text != '\0'; text++) {
		if (io_send(fs, text, 1) != 0)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/*
 * A warning alert (no_renegotiation, which mbedTLS hands up to its
 * caller as WANT_READ), then text: the two records are corked into one
 * segment, so the client reads them with one recv.
 */
static int send_after_alert(fake_smtp *fs, const char *text)
{
	const unsigned char level = MBEDTLS_SSL_ALERT_LEVEL_WARNING;
	const unsigned char what = MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION;
	int on = 1, off = 0, rc;

	if (!fs->tls_on)
		return -1;
	setsockopt(fs->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	rc = mbedtls_ssl_send_alert_message(&fs->ssl, level, what);
	if (rc == 0)
		rc = io_send(fs, text, strlen(text));
	setsockopt(fs->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return rc == 0 ? 0 : -1;
}

static int run_step(fake_smtp *fs, const fs_step *st, size_t i)
{
	switch (st->op) {
	case FS_SEND:
		return io_send(fs, st->text, strlen(st->text));
	case FS_SLOW:
		return send_slowly(fs, st->text);
	case FS_READ:
		return read_lines(fs, st->n, &fs->reads[i % MAX_STEPS]);
	case FS_DATA:
		return read_data(fs);
	case FS_TLS:
		return do_tls(fs);
	case FS_CLOSE:
		close_conn(fs);
		return 0;
	case FS_ACCEPT:
		close_conn(fs);
		return accept_conn(fs);
	case FS_EOF:
		return wait_eof(fs);
	case FS_ALERT:
		return send_after_alert(fs, st->text);
	default:
		return 0;
	}
}

static void *serve(void *arg)
{
	fake_smtp *fs = arg;
	size_t i;

	/* An empty script is for tests that must not connect at all. */
	if (fs->script[0].op == FS_END || accept_conn(fs) != 0)
		return NULL;
	for (i = 0; fs->script[i].op != FS_END; i++) {
		if (run_step(fs, &fs->script[i], i) != 0) {
			char what[64];

			snprintf(what, sizeof(what), "step %zu failed", i);
			fail(fs, what);
			break;
		}
	}
	close_conn(fs);
	return NULL;
}

static int listen_loopback(fake_smtp *fs, int ipv6)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a;
	struct sockaddr *sa = ipv6 ? (struct sockaddr *)&a6 :
	                      (struct sockaddr *)&a;
	socklen_t len = ipv6 ? sizeof(a6) : sizeof(a);
	int one = 1;

	fs->listen_fd = socket(ipv6 ? AF_INET6 : AF_INET,
	                       SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fs->listen_fd < 0)
		return -1;
	setsockopt(fs->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	           sizeof(one));
	memset(&a, 0, sizeof(a));
	memset(&a6, 0, sizeof(a6));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_family = AF_INET6;
	a6.sin6_addr = in6addr_loopback;
	if (bind(fs->listen_fd, sa, len) != 0 ||
	    listen(fs->listen_fd, 8) != 0 ||
	    getsockname(fs->listen_fd, sa, &len) != 0)
		return -1;
	fs->port = ntohs(ipv6 ? a6.sin6_port : a.sin_port);
	return 0;
}

int fake_smtp_start(fake_smtp **out, const fs_step *script,
                    const fs_tls *tls)
{
	return fake_smtp_start_ex(out, script, tls, 0);
}

int fake_smtp_start_ex(fake_smtp **out, const fs_step *script,
                       const fs_tls *tls, int ipv6)
{
	fake_smtp *fs = calloc(1, sizeof(*fs));

	*out = NULL;
	if (fs == NULL)
		return -1;
	fs->script = script;
	fs->tls_files = tls;
	fs->fd = -1;
	gb_append(&fs->transcript, "", 0);
	if (listen_loopback(fs, ipv6) != 0 ||
	    pthread_create(&fs->thread, NULL, serve, fs) != 0) {
		if (fs->listen_fd >= 0)
			close(fs->listen_fd);
		free(fs);
		return -1;
	}
	fs->started = 1;
	*out = fs;
	return 0;
}

int fake_smtp_port(const fake_smtp *fs)
{
	return fs->port;
}

int fake_smtp_wait(fake_smtp *fs)
{
	if (fs->started) {
		pthread_join(fs->thread, NULL);
		fs->started = 0;
	}
	return fs->error[0] != '\0' ? -1 : 0;
}

const char *fake_smtp_transcript(const fake_smtp *fs)
{
	return fs->transcript.data != NULL ? fs->transcript.data : "";
}

const char *fake_smtp_data(const fake_smtp *fs, size_t i, size_t *len)
{
	if (i >= fs->data_count) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = fs->data[i].len;
	return fs->data[i].data;
}

const char *fake_smtp_error(const fake_smtp *fs)
{
	return fs->error;
}

int fake_smtp_reads(const fake_smtp *fs, size_t step)
{
	return fs->reads[step % MAX_STEPS];
}

void fake_smtp_free(fake_smtp *fs)
{
	size_t i;

	if (fs == NULL)
		return;
	fake_smtp_wait(fs);
	close(fs->listen_fd);
	free(fs->in.data);
	free(fs->transcript.data);
	for (i = 0; i < MAX_DATA; i++)
		free(fs->data[i].data);
	free(fs);
}
