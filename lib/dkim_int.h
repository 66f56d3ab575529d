/*
 * DKIM internals shared by dkim.c (signers, the signing write),
 * dkim_key.c (keys, signatures, DNS records) and dkim_canon.c
 * (canonicalization). Standards: RFC 6376, RFC 8463 (Ed25519).
 */
#ifndef RM_DKIM_INT_H
#define RM_DKIM_INT_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "internal.h"

typedef enum rm__dkim_alg {
	RM__DKIM_RSA = 1,
	RM__DKIM_ED25519
} rm__dkim_alg;

struct rm_dkim_key {
	rm__dkim_alg alg;
	unsigned bits;
	unsigned char *pem;       /* the source text, so copies re-parse it */
	size_t pem_len;
	mbedtls_pk_context pk;    /* RSA */
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;   /* blinding for RSA signatures */
	unsigned char ed_sk[64];  /* Ed25519: seed then public key */
	unsigned char ed_pk[32];
};

/* A copy of src (parsed anew from its text) into *out. */
int rm__dkim_key_copy(rm_dkim_key **out, const rm_dkim_key *src,
                      rm_error *err);

/* Signs the SHA-256 digest of the signed header data; sig gets the raw
 * signature (at most 512 bytes for RSA-4096). */
int rm__dkim_key_sign(rm_dkim_key *key, const unsigned char hash[32],
                      unsigned char *sig, size_t *sig_len, rm_error *err);

/* "rsa" or "ed25519", the k= of the key record and the a= prefix. */
const char *rm__dkim_key_type(const rm_dkim_key *key);

/* ---------------------------------------------------------------------- */
/* Canonicalization (dkim_canon.c), RFC 6376 section 3.4                  */
/* ---------------------------------------------------------------------- */

/* Receives canonical bytes. */
typedef void (*rm__dkim_sink)(const unsigned char *data, size_t len,
                              void *user);

/*
 * A streaming body canonicalizer: fed the body in pieces of any size,
 * it hands the canonical form to sink in order. Empty lines are held
 * back until content follows them, so trailing ones vanish.
 */
typedef struct rm__dkim_body {
	int relaxed;
	int cr;            /* a CR waits to see whether LF follows */
	int wsp;           /* relaxed: a run of WSP waits */
	size_t crlfs;      /* line ends held back since the last content */
	int content;       /* some content has been given to the sink */
	rm__dkim_sink sink;
	void *user;
	unsigned char out[512];
	size_t len;
} rm__dkim_body;

void rm__dkim_body_init(rm__dkim_body *b, int relaxed, rm__dkim_sink sink,
                        void *user);
void rm__dkim_body_update(rm__dkim_body *b, const void *data, size_t len);
void rm__dkim_body_finish(rm__dkim_body *b);

/*
 * Appends the canonical form of one header field (name, colon, value,
 * folds and final CRLF as it stands in the message) to out.
 */
int rm__dkim_canon_header(rm__buf *out, const char *field, size_t len,
                          int relaxed);

/* ---------------------------------------------------------------------- */
/* Signers (dkim.c)                                                       */
/* ---------------------------------------------------------------------- */

typedef struct rm__dkim_signer {
	rm_dkim_key *key;         /* owned copy */
	char *domain;             /* d=, A-labels */
	char *selector;           /* s= */
	char *identity;           /* i=, or NULL */
	char **headers;           /* names to sign, lower case; NULL: the
	                             default set */
	size_t header_count;
	int header_relaxed;
	int body_relaxed;
	int timestamp;            /* write t= */
	long long expire;         /* > 0: x= is t= plus this */
	long long fixed_time;     /* > 0: the signing time */
} rm__dkim_signer;

struct rm__dkim_set {
	rm__dkim_signer *signers;
	size_t count;
};

/* Checks a selector and a domain for d= and s= (RFC 6376 3.5); *domain
 * gets the domain as A-labels, to free. */
int rm__dkim_check_names(const char *selector, const char *domain,
                         char **ascii, rm_error *err);

/* Builds the whole "DKIM-Signature: ..." field with its CRLF for one
 * signer, given the header section and the body hash. */
int rm__dkim_signature(rm__dkim_signer *s, const char *head,
                       size_t head_len, const unsigned char bh[32],
                       rm__buf *out, rm_error *err);

#endif /* RM_DKIM_INT_H */
