/*
 * TLS client connections with mbedTLS 2.28.
 *
 * The server is authenticated by default: the chain must reach a trusted
 * CA (the system bundle or the caller's ca_file) and the certificate must
 * name the host the caller asked for (RFC 7817, RFC 6125), which is also
 * sent as SNI (RFC 6066 section 3). TLS 1.2 is the oldest version offered
 * (RFC 8314 section 4.1 asks for no less).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "smtp_int.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct rm__tls_config {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

/*
 * mbedTLS asks for a record's 5-byte header and then for its body, one
 * recv each. Reading ahead into a buffer of our own turns those into one
 * system call per burst of records. A poll cannot see the buffered
 * bytes, so wait_for looks at the buffer before the socket.
 */
#define READ_AHEAD 4096

struct rm__tls {
	mbedtls_ssl_context ssl;
	int fd;
	unsigned char first[8];   /* the first bytes the server sent */
	size_t first_len;
	unsigned char ahead[READ_AHEAD];
	size_t ahead_pos;         /* next unread byte of ahead */
	size_t ahead_len;         /* bytes held in ahead */
};

static void config_init(rm__tls_config *c)
{
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
}

void rm__tls_config_free(rm__tls_config *c)
{
	if (c == NULL)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}

/* mbedtls says only "file I/O error"; fopen says why. */
static int check_readable(const char *path, rm_error *err)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER,
		                "ca_file", "cannot open CA certificates %s: "
		                "%s", path, strerror(errno));
	fclose(f);
	return RM_OK;
}

static int load_ca(rm__tls_config *c, const char *file, rm_error *err)
{
	const char *path = file != NULL ? file : SYSTEM_CA_BUNDLE;
	int rc = check_readable(path, err);

	if (rc != RM_OK)
		return rc;
	rc = mbedtls_x509_crt_parse_file(&c->ca, path);

	/* A positive count means some entries of a bundle were skipped,
	 * which is normal for the system bundle; none loaded is not. */
	if (rc < 0 || c->ca.version == 0)
		return rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER,
		                "ca_file", "cannot load CA certificates from "
		                "%s: %s", path, rc < 0 ? "unreadable or not "
		                "PEM" : "no usable certificate");
	return RM_OK;
}

/*
 * Key exchange groups, fastest first. mbedTLS 2.28 offers every curve it
 * has, largest first: secp521r1's two scalar multiplications were most
 * of a handshake's time, and the list ran down to 192-bit curves. X25519
 * and P-256 are what servers pick anyway.
 */
static const mbedtls_ecp_group_id groups[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP521R1,
	MBEDTLS_ECP_DP_NONE
};

static int setup_conf(rm__tls_config *c, const rm__tls_opts *o)
{
	static const char pers[] = "relaymail";
	int rc;

	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func,
	                           &c->entropy,
	                           (const unsigned char *)pers,
	                           sizeof(pers) - 1);
	if (rc == 0)
		rc = mbedtls_ssl_config_defaults(&c->conf,
		                                 MBEDTLS_SSL_IS_CLIENT,
		                                 MBEDTLS_SSL_TRANSPORT_STREAM,
		                                 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0)
		return rc;
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_curves(&c->conf, groups);
	mbedtls_ssl_conf_authmode(&c->conf, o->verify ?
	                          MBEDTLS_SSL_VERIFY_REQUIRED :
	                          MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	return 0;
}

int rm__tls_config_new(rm__tls_config **out, const rm__tls_opts *o,
                       rm_error *err)
{
	rm__tls_config *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (c == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory setting up TLS");
	config_init(c);
	rc = load_ca(c, o->ca_file, err);
	if (rc == RM_OK && setup_conf(c, o) != 0)
		rc = rm__fail(err, RM_ETLS, RM_OUTCOME_TRANSIENT, NULL,
		              "cannot set up TLS (random generator or "
		              "defaults failed)");
	if (rc != RM_OK) {
		rm__tls_config_free(c);
		return rc;
	}
	*out = c;
	return RM_OK;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	rm__tls *t = ctx;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return errno == EPIPE || errno == ECONNRESET ?
	       MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

/* Remembered to tell a plain-text server from a TLS one. */
static void remember_first(rm__tls *t, const unsigned char *p, size_t n)
{
	size_t keep = sizeof(t->first) - t->first_len;

	if (keep > n)
		keep = n;
	memcpy(t->first + t->first_len, p, keep);
	t->first_len += keep;
}

/* One recv into the read-ahead buffer: > 0 bytes, or an mbedTLS code. */
static int fill_ahead(rm__tls *t)
{
	ssize_t n = recv(t->fd, t->ahead, sizeof(t->ahead), 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	              errno == EINTR))
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n < 0)
		return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET :
		       MBEDTLS_ERR_NET_RECV_FAILED;
	if (n == 0)
		return 0;
	remember_first(t, t->ahead, (size_t)n);
	t->ahead_pos = 0;
	t->ahead_len = (size_t)n;
	return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	rm__tls *t = ctx;
	size_t have;

	if (t->ahead_pos == t->ahead_len) {
		int rc = fill_ahead(t);

		if (rc <= 0)
			return rc;
	}
	have = t->ahead_len - t->ahead_pos;
	if (len > have)
		len = have;
	memcpy(buf, t->ahead + t->ahead_pos, len);
	t->ahead_pos += len;
	return (int)len;
}

/*
 * Waits for the socket as mbedTLS asked; 1 to go on, else an RM code.
 * mbedTLS also says WANT_READ after a record it handled itself (a
 * no_renegotiation alert): the records read ahead behind it come first.
 */
static int wait_for(rm__tls *t, int want, int64_t deadline)
{
	short ev = want == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN;
	int w;

	if (ev == POLLIN && t->ahead_pos < t->ahead_len)
		return rm__now_ms() < deadline ? 1 : RM_ETIMEDOUT;
	w = rm__net_wait(t->fd, ev, deadline);

	if (w < 0)
		return RM_ECLOSED;
	return w == 0 ? RM_ETIMEDOUT : 1;
}

static int is_want(int rc)
{
	return rc == MBEDTLS_ERR_SSL_WANT_READ ||
	       rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Says why the certificate failed, one reason after another. */
static int fail_cert(rm__tls *t, const char *name, const char *where,
                     rm_error *err)
{
	char info[400], *p;
	uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);

	info[0] = '\0';
	mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
	for (p = info; *p != '\0'; p++) {
		if (*p == '\n')
			*p = p[1] != '\0' ? ';' : '\0';
	}
	return rm__fail(err, RM_ECERT, RM_OUTCOME_PERM_PROVIDER, "tls",
	                "the certificate of %s (%s) failed verification: %s "
	                "(ca_file= names a CA to trust)", name, where,
	                info[0] != '\0' ? info : "unknown reason");
}

static int looks_plain(const rm__tls *t)
{
	return t->first_len >= 3 && t->first[0] >= '0' &&
	       t->first[0] <= '9' && t->first[1] >= '0' &&
	       t->first[1] <= '9' && t->first[2] >= '0' && t->first[2] <= '9';
}

static int fail_handshake(rm__tls *t, int rc, const char *name,
                          const char *where, rm_error *err)
{
	char why[160];

	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
		return fail_cert(t, name, where, err);
	if (looks_plain(t))
		return rm__fail(err, RM_ETLS, RM_OUTCOME_PERM_PROVIDER, "tls",
		                "%s answered the TLS handshake in plain text "
		                "(\"%.3s...\"): it is a plain SMTP port; use "
		                "smtp:// (STARTTLS) for it, or smtps:// with "
		                "the implicit-TLS port (usually 465)", where,
		                (const char *)t->first);
	mbedtls_strerror(rc, why, sizeof(why));
	return rm__fail(err, RM_ETLS, RM_OUTCOME_TRANSIENT, "tls",
	                "TLS handshake with %s failed: %s", where, why);
}

static int handshake(rm__tls *t, const char *name, const char *where,
                     int64_t deadline, rm_error *err)
{
	for (;;) {
		int rc = mbedtls_ssl_handshake(&t->ssl);

		if (rc == 0)
			return RM_OK;
		if (!is_want(rc))
			return fail_handshake(t, rc, name, where, err);
		rc = wait_for(t, rc, deadline);
		if (rc < 0)
			return rm__fail(err, rc, RM_OUTCOME_TRANSIENT, "tls",
			                "TLS handshake with %s %s", where,
			                rc == RM_ETIMEDOUT ? "timed out" :
			                "failed: connection lost");
	}
}

int rm__tls_start(rm__tls **out, rm__tls_config *cfg, int fd,
                  const char *name, int64_t deadline, const char *where,
                  rm_error *err)
{
	rm__tls *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory starting TLS");
	t->fd = fd;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &cfg->conf) != 0 ||
	    mbedtls_ssl_set_hostname(&t->ssl, name) != 0) {
		rm__tls_free(t, 0);
		return rm__fail(err, RM_ETLS, RM_OUTCOME_TRANSIENT, "tls",
		                "cannot set up TLS for %s", where);
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	rc = handshake(t, name, where, deadline, err);
	if (rc != RM_OK) {
		rm__tls_free(t, 0);
		return rc;
	}
	*out = t;
	return RM_OK;
}

static int fail_record(int rc, int64_t deadline, rm_error *err)
{
	char why[160];

	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0 ||
	    rc == MBEDTLS_ERR_SSL_CONN_EOF || rc == MBEDTLS_ERR_NET_CONN_RESET)
		return rm__fail(err, RM_ECLOSED, RM_OUTCOME_TRANSIENT, NULL,
		                "connection closed by server");
	if (rm__now_ms() >= deadline && is_want(rc))
		return rm__fail(err, RM_ETIMEDOUT, RM_OUTCOME_TRANSIENT, NULL,
		                "timed out waiting for the server");
	mbedtls_strerror(rc, why, sizeof(why));
	return rm__fail(err, RM_ETLS, RM_OUTCOME_TRANSIENT, NULL,
	                "TLS record layer failed: %s", why);
}

int rm__tls_read(rm__tls *t, void *buf, size_t len, size_t *got,
                 int64_t deadline, rm_error *err)
{
	for (;;) {
		int rc = mbedtls_ssl_read(&t->ssl, buf, len);

		if (rc > 0) {
			*got = (size_t)rc;
			return RM_OK;
		}
		if (!is_want(rc))
			return fail_record(rc, deadline, err);
		if (wait_for(t, rc, deadline) != 1)
			return fail_record(rc, deadline, err);
	}
}

int rm__tls_write(rm__tls *t, const void *data, size_t len,
                  int64_t deadline, rm_error *err)
{
	const unsigned char *p = data;

	while (len > 0) {
		int rc = mbedtls_ssl_write(&t->ssl, p, len);

		if (rc > 0) {
			p += rc;
			len -= (size_t)rc;
			continue;
		}
		if (!is_want(rc))
			return fail_record(rc, deadline, err);
		if (wait_for(t, rc, deadline) != 1)
			return fail_record(rc, deadline, err);
	}
	return RM_OK;
}

void rm__tls_free(rm__tls *t, int notify)
{
	if (t == NULL)
		return;
	if (notify)
		mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	free(t);
}

void rm__tls_describe(const rm__tls *t, char *buf, size_t size)
{
	if (t == NULL) {
		snprintf(buf, size, "none");
		return;
	}
	snprintf(buf, size, "%s %s", mbedtls_ssl_get_version(&t->ssl),
	         mbedtls_ssl_get_ciphersuite(&t->ssl));
}
