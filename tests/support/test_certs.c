/*
 * Test certificates made with mbedTLS's X.509 writer (see test_certs.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "test_certs.h"

typedef struct maker {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context ca_key;
	int serial;
} maker;

static int new_key(maker *m, mbedtls_pk_context *key)
{
	mbedtls_pk_init(key);
	if (mbedtls_pk_setup(key,
	                     mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		return -1;
	return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	                           mbedtls_pk_ec(*key),
	                           mbedtls_ctr_drbg_random, &m->drbg);
}

typedef struct spec {
	const char *subject;
	const char *issuer;
	const char *from;
	const char *to;
	int is_ca;
} spec;

static int write_cert(maker *m, const spec *s, mbedtls_pk_context *key,
                      mbedtls_pk_context *issuer_key, char *out,
                      size_t size)
{
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	int rc;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, key);
	mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
	rc = mbedtls_mpi_lset(&serial, ++m->serial);
	if (rc == 0)
		rc = mbedtls_x509write_crt_set_serial(&crt, &serial);
	if (rc == 0)
		rc = mbedtls_x509write_crt_set_subject_name(&crt, s->subject);
	if (rc == 0)
		rc = mbedtls_x509write_crt_set_issuer_name(&crt, s->issuer);
	if (rc == 0)
		rc = mbedtls_x509write_crt_set_validity(&crt, s->from, s->to);
	if (rc == 0)
		rc = mbedtls_x509write_crt_set_basic_constraints(&crt,
		                                                 s->is_ca, -1);
	if (rc == 0)
		rc = mbedtls_x509write_crt_pem(&crt, (unsigned char *)out,
		                               size, mbedtls_ctr_drbg_random,
		                               &m->drbg);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	return rc;
}

/* A leaf certificate; issuer NULL means self-signed. */
static int make_leaf(maker *m, test_cert *out, const char *cn,
                     const char *from, const char *to, int self)
{
	mbedtls_pk_context key;
	char subject[128];
	spec s;
	int rc;

	snprintf(subject, sizeof(subject), "CN=%s", cn);
	s.subject = subject;
	s.issuer = self ? subject : "CN=relaymail test CA";
	s.from = from;
	s.to = to;
	s.is_ca = 0;
	rc = new_key(m, &key);
	if (rc == 0)
		rc = write_cert(m, &s, &key, self ? &key : &m->ca_key,
		                out->cert, sizeof(out->cert));
	if (rc == 0)
		rc = mbedtls_pk_write_key_pem(&key, (unsigned char *)out->key,
		                              sizeof(out->key));
	mbedtls_pk_free(&key);
	return rc;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

static int make_ca(maker *m, test_certs *c)
{
	static const spec s = { "CN=relaymail test CA",
	                        "CN=relaymail test CA", "20200101000000",
	                        "20991231235959", 1 };
	char pem[2048];

	if (new_key(m, &m->ca_key) != 0 ||
	    write_cert(m, &s, &m->ca_key, &m->ca_key, pem, sizeof(pem)) != 0)
		return -1;
	snprintf(c->ca_file, sizeof(c->ca_file), "%s/ca.pem", c->dir);
	return write_file(c->ca_file, pem);
}

static int make_all(maker *m, test_certs *c)
{
	static const char from[] = "20200101000000", to[] = "20991231235959";

	if (mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func,
	                          &m->entropy, NULL, 0) != 0 ||
	    make_ca(m, c) != 0)
		return -1;
	if (make_leaf(m, &c->good, "smtp.example.com", from, to, 0) != 0 ||
	    make_leaf(m, &c->wrong_name, "mail.other.example", from, to,
	              0) != 0 ||
	    make_leaf(m, &c->expired, "smtp.example.com", "20100101000000",
	              "20110101000000", 0) != 0 ||
	    make_leaf(m, &c->self_signed, "smtp.example.com", from, to, 1))
		return -1;
	return 0;
}

static void maker_init(maker *m)
{
	memset(m, 0, sizeof(*m));
	mbedtls_entropy_init(&m->entropy);
	mbedtls_ctr_drbg_init(&m->drbg);
	mbedtls_pk_init(&m->ca_key);
}

static void maker_free(maker *m)
{
	mbedtls_pk_free(&m->ca_key);
	mbedtls_ctr_drbg_free(&m->drbg);
	mbedtls_entropy_free(&m->entropy);
}

int test_certs_make(test_certs *c)
{
	maker m;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/rm-certs-XXXXXX");
	if (mkdtemp(c->dir) == NULL)
		return -1;
	maker_init(&m);
	rc = make_all(&m, c);
	maker_free(&m);
	return rc;
}

static int new_rsa_key(maker *m, mbedtls_pk_context *key, unsigned bits)
{
	if (mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)))
		return -1;
	return mbedtls_rsa_gen_key(mbedtls_pk_rsa(*key),
	                           mbedtls_ctr_drbg_random, &m->drbg, bits,
	                           65537);
}

static int make_weak(maker *m, test_weak_cert *w, const char *dir,
                     mbedtls_pk_context *leaf)
{
	static const spec ca = { "CN=weak test CA", "CN=weak test CA",
	                         "20200101000000", "20991231235959", 1 };
	static const spec s = { "CN=smtp.example.com", "CN=weak test CA",
	                        "20200101000000", "20991231235959", 0 };
	char ca_pem[4096];

	if (mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func,
	                          &m->entropy, NULL, 0) != 0 ||
	    new_rsa_key(m, &m->ca_key, 2048) != 0 ||
	    new_rsa_key(m, leaf, 1024) != 0)
		return -1;
	if (write_cert(m, &ca, &m->ca_key, &m->ca_key, ca_pem,
	               sizeof(ca_pem)) != 0 ||
	    write_cert(m, &s, leaf, &m->ca_key, w->cert,
	               sizeof(w->cert)) != 0 ||
	    mbedtls_pk_write_key_pem(leaf, (unsigned char *)w->key,
	                             sizeof(w->key)) != 0)
		return -1;
	snprintf(w->ca_file, sizeof(w->ca_file), "%s/weak-ca.pem", dir);
	return write_file(w->ca_file, ca_pem);
}

int test_certs_make_weak(test_weak_cert *w, const char *dir)
{
	mbedtls_pk_context leaf;
	maker m;
	int rc;

	memset(w, 0, sizeof(*w));
	maker_init(&m);
	mbedtls_pk_init(&leaf);
	rc = make_weak(&m, w, dir, &leaf);
	mbedtls_pk_free(&leaf);
	maker_free(&m);
	return rc;
}

void test_certs_remove(test_certs *c)
{
	if (c->ca_file[0] != '\0')
		unlink(c->ca_file);
	if (c->dir[0] != '\0')
		rmdir(c->dir);
}
