/*
 * Certificates for the TLS tests, made in memory at test time with
 * mbedTLS (EC P-256 keys unless said otherwise), so no private key is ever
 * committed. Only CA certificates are written to disk, as the client's
 * ca_file.
 */
#ifndef TEST_CERTS_H
#define TEST_CERTS_H

typedef struct test_cert {
	char cert[2048];
	char key[1024];
} test_cert;

typedef struct test_certs {
	char dir[64];          /* a private temporary folder */
	char ca_file[128];     /* the test CA, PEM */
	test_cert good;        /* smtp.example.com, signed by the CA */
	test_cert wrong_name;  /* mail.other.example, signed by the CA */
	test_cert expired;     /* smtp.example.com, expired in 2011 */
	test_cert self_signed; /* smtp.example.com, signed by itself */
} test_certs;

/* Makes everything; 0 on success. */
int test_certs_make(test_certs *c);
/* Removes the files. */
void test_certs_remove(test_certs *c);

/* A leaf with a weak key: RSA-1024, under an RSA-2048 CA of its own. */
typedef struct test_weak_cert {
	char ca_file[128];     /* the weak CA, PEM */
	char cert[4096];       /* smtp.example.com, signed by the weak CA */
	char key[4096];
} test_weak_cert;

/* Makes it, with the CA in DIR/weak-ca.pem; 0 on success. The caller
 * removes ca_file. */
int test_certs_make_weak(test_weak_cert *w, const char *dir);

#endif /* TEST_CERTS_H */
