/*
 * Certificates for the TLS tests, made in memory at test time with
 * mbedTLS (EC P-256 keys), so no private key is ever committed. Only the
 * CA certificate is written to disk, as the client's ca_file.
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

#endif /* TEST_CERTS_H */
