/*
 * DKIM keys: RSA keys through mbedTLS for rsa-sha256 (RFC 6376 3.3.1),
 * Ed25519 keys through libsodium for ed25519-sha256 (RFC 8463), the
 * signatures they make, and the DNS TXT record that publishes them
 * (RFC 6376 3.6.1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pem.h>

#ifdef RM_HAVE_SODIUM
#include <sodium.h>
#endif

#include "dkim_int.h"

/* PEM files of keys up to 4096 bits are a few kilobytes. */
#define KEY_FILE_MAX (64 * 1024)
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 4096

/* RFC 8410 section 7: PKCS#8 of an Ed25519 key, up to the 32-byte seed:
 * SEQUENCE, INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING {
 * OCTET STRING (32) }. */
static const unsigned char ed25519_prefix[] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
	0x70, 0x04, 0x22, 0x04, 0x20
};

static int key_oom(rm_error *err)
{
	return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "dkim_key",
	                "out of memory loading the DKIM key");
}

int rm_dkim_ed25519_available(void)
{
#ifdef RM_HAVE_SODIUM
	return 1;
#else
	return 0;
#endif
}

/* ---------------------------------------------------------------------- */
/* Ed25519                                                                */
/* ---------------------------------------------------------------------- */

/* 1 if the PEM text is a PKCS#8 Ed25519 key; seed gets its 32 bytes. */
static int ed25519_seed(const unsigned char *pem, size_t len,
                        unsigned char seed[32])
{
	mbedtls_pem_context ctx;
	size_t used = 0, der_len = 0;
	const unsigned char *der;
	int found = 0;

	mbedtls_pem_init(&ctx);
	if (mbedtls_pem_read_buffer(&ctx, "-----BEGIN PRIVATE KEY-----",
	                            "-----END PRIVATE KEY-----", pem, NULL,
	                            0, &used) == 0) {
		der = ctx.buf;
		der_len = ctx.buflen;

		/* A version 1 key (RFC 5958) may carry the public key too. */
		found = der_len >= sizeof(ed25519_prefix) + 32 &&
		        memcmp(der + 2, ed25519_prefix + 2,
		               sizeof(ed25519_prefix) - 2) == 0;
		if (found)
			memcpy(seed, der + sizeof(ed25519_prefix), 32);
	}
	mbedtls_pem_free(&ctx);
	(void)len;
	return found;
}

static int load_ed25519(rm_dkim_key *key, const unsigned char seed[32],
                        rm_error *err)
{
#ifdef RM_HAVE_SODIUM
	if (sodium_init() < 0)
		return rm__fail(err, RM_EIO, RM_OUTCOME_NONE, NULL,
		                "libsodium failed to start");
	crypto_sign_seed_keypair(key->ed_pk, key->ed_sk, seed);
	key->alg = RM__DKIM_ED25519;
	key->bits = 256;
	return RM_OK;
#else
	(void)key;
	(void)seed;
	return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE, "dkim_key",
	                "the key is Ed25519 and ed25519-sha256 (RFC 8463) "
	                "is unavailable: relaymail was built without "
	                "libsodium");
#endif
}

/* ---------------------------------------------------------------------- */
/* RSA                                                                    */
/* ---------------------------------------------------------------------- */

static int load_rsa(rm_dkim_key *key, rm_error *err)
{
	static const char pers[] = "relaymail dkim";
	int pem = strstr((const char *)key->pem, "-----BEGIN") != NULL;
	int rc;

	/* mbedtls wants the NUL of PEM text counted in the length. */
	rc = mbedtls_pk_parse_key(&key->pk, key->pem, key->pem_len + pem,
	                          NULL, 0);
	if (rc != 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_key",
		                "the key is neither an RSA key (PEM, PKCS#1 "
		                "or PKCS#8, unencrypted) nor an Ed25519 "
		                "PKCS#8 key (mbedtls error -0x%04x)",
		                (unsigned)-rc);
	if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_RSA)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE,
		                "dkim_key", "DKIM signs with RSA or Ed25519 "
		                "keys only, and this key is %s",
		                mbedtls_pk_get_name(&key->pk));
	key->bits = (unsigned)mbedtls_pk_get_bitlen(&key->pk);
	if (key->bits < RSA_MIN_BITS || key->bits > RSA_MAX_BITS)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_key",
		                "the RSA key has %u bits; DKIM needs %d to "
		                "%d (RFC 8301 section 3.2)", key->bits,
		                RSA_MIN_BITS, RSA_MAX_BITS);
	key->alg = RM__DKIM_RSA;
	if (mbedtls_ctr_drbg_seed(&key->drbg, mbedtls_entropy_func,
	                          &key->entropy,
	                          (const unsigned char *)pers,
	                          sizeof(pers) - 1) != 0)
		return rm__fail(err, RM_EIO, RM_OUTCOME_NONE, NULL,
		                "cannot seed the random generator");
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                */
/* ---------------------------------------------------------------------- */

static rm_dkim_key *key_new(const void *text, size_t len)
{
	rm_dkim_key *key = calloc(1, sizeof(*key));

	if (key == NULL)
		return NULL;
	key->pem = malloc(len + 1);
	if (key->pem == NULL) {
		free(key);
		return NULL;
	}
	memcpy(key->pem, text, len);
	key->pem[len] = '\0';
	key->pem_len = len;
	mbedtls_pk_init(&key->pk);
	mbedtls_entropy_init(&key->entropy);
	mbedtls_ctr_drbg_init(&key->drbg);
	return key;
}

void rm_dkim_key_free(rm_dkim_key *key)
{
	if (key == NULL)
		return;
	mbedtls_pk_free(&key->pk);
	mbedtls_ctr_drbg_free(&key->drbg);
	mbedtls_entropy_free(&key->entropy);
	rm__wipe(key->pem, key->pem_len);
	rm__wipe(key->ed_sk, sizeof(key->ed_sk));
	free(key->pem);
	free(key);
}

int rm_dkim_key_load_mem(rm_dkim_key **out, const void *pem, size_t len,
                         rm_error *err)
{
	unsigned char seed[32];
	rm_dkim_key *key;
	int rc;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || pem == NULL || len == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                out == NULL ? "out" : "dkim_key",
		                "%s must not be NULL or empty",
		                out == NULL ? "out" : "the key");
	if (len > KEY_FILE_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "dkim_key",
		                "the key text is over %d bytes", KEY_FILE_MAX);
	key = key_new(pem, len);
	if (key == NULL)
		return key_oom(err);
	if (ed25519_seed(key->pem, len, seed))
		rc = load_ed25519(key, seed, err);
	else
		rc = load_rsa(key, err);
	rm__wipe(seed, sizeof(seed));
	if (rc != RM_OK) {
		rm_dkim_key_free(key);
		return rc;
	}
	*out = key;
	return RM_OK;
}

static int read_key_file(const char *path, rm__buf *b, rm_error *err)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = RM_OK;

	if (f == NULL)
		return rm__fail(err, RM_EIO, RM_OUTCOME_NONE, "dkim_key",
		                "cannot open the DKIM key '%s': %s", path,
		                strerror(errno));
	while (rc == RM_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = rm__buf_append(b, chunk, n);
	if (rc == RM_OK && ferror(f))
		rc = rm__fail(err, RM_EIO, RM_OUTCOME_NONE, "dkim_key",
		              "reading the DKIM key '%s' failed", path);
	else if (rc != RM_OK)
		rc = rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "dkim_key",
		              "the DKIM key '%s' is over %d bytes", path,
		              KEY_FILE_MAX);
	fclose(f);
	rm__wipe(chunk, sizeof(chunk));
	return rc;
}

int rm_dkim_key_load_file(rm_dkim_key **out, const char *path,
                          rm_error *err)
{
	rm__buf b;
	int rc;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                out == NULL ? "out" : "path",
		                "%s must not be NULL", out ? "path" : "out");
	rm__buf_init(&b, KEY_FILE_MAX);
	rc = read_key_file(path, &b, err);
	if (rc == RM_OK && b.len == 0)
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_key",
		              "the DKIM key file '%s' is empty", path);
	if (rc == RM_OK)
		rc = rm_dkim_key_load_mem(out, b.data, b.len, err);
	rm__buf_free_secret(&b);
	return rc;
}

int rm__dkim_key_copy(rm_dkim_key **out, const rm_dkim_key *src,
                      rm_error *err)
{
	return rm_dkim_key_load_mem(out, src->pem, src->pem_len, err);
}

/* ---------------------------------------------------------------------- */
/* Properties and signatures                                              */
/* ---------------------------------------------------------------------- */

const char *rm__dkim_key_type(const rm_dkim_key *key)
{
	return key->alg == RM__DKIM_ED25519 ? "ed25519" : "rsa";
}

const char *rm_dkim_key_algorithm(const rm_dkim_key *key)
{
	if (key == NULL)
		return "";
	return key->alg == RM__DKIM_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

unsigned rm_dkim_key_bits(const rm_dkim_key *key)
{
	return key != NULL ? key->bits : 0;
}

/*
 * RFC 6376 3.3.1: RSASSA-PKCS1-v1_5 over the SHA-256 digest. RFC 8463
 * section 3: pure Ed25519 over the same 32-byte digest.
 */
int rm__dkim_key_sign(rm_dkim_key *key, const unsigned char hash[32],
                      unsigned char *sig, size_t *sig_len, rm_error *err)
{
	int rc;

#ifdef RM_HAVE_SODIUM
	if (key->alg == RM__DKIM_ED25519) {
		unsigned long long n = 0;

		crypto_sign_detached(sig, &n, hash, 32, key->ed_sk);
		*sig_len = (size_t)n;
		return RM_OK;
	}
#endif
	rc = mbedtls_pk_sign(&key->pk, MBEDTLS_MD_SHA256, hash, 32, sig,
	                     sig_len, mbedtls_ctr_drbg_random, &key->drbg);
	if (rc != 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "dkim_key",
		                "RSA signing failed (mbedtls error -0x%04x)",
		                (unsigned)-rc);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* DNS record                                                             */
/* ---------------------------------------------------------------------- */

/* The p= value: base64 of the SubjectPublicKeyInfo for RSA, of the raw
 * 32-byte public key for Ed25519 (RFC 8463 section 4). */
static int public_key_b64(const rm_dkim_key *key, rm__buf *out)
{
	unsigned char der[2048];
	int n;

	if (key->alg == RM__DKIM_ED25519)
		return rm__base64_encode(out, key->ed_pk, sizeof(key->ed_pk));
	n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&key->pk, der,
	                                sizeof(der));
	if (n <= 0)
		return RM_EINVAL;
	return rm__base64_encode(out, der + sizeof(der) - n, (size_t)n);
}

/* TXT strings hold at most 255 octets each (RFC 1035 3.3.14). */
static int quoted_chunks(rm__buf *out, const char *text, size_t len)
{
	int rc = RM_OK;

	while (rc == RM_OK && len > 0) {
		size_t n = len > 255 ? 255 : len;

		rc = rm__buf_printf(out, " \"%.*s\"", (int)n, text);
		text += n;
		len -= n;
	}
	return rc;
}

int rm_dkim_dns_record(const rm_dkim_key *key, const char *domain,
                       const char *selector, char **out, rm_error *err)
{
	rm__buf txt, rec;
	char *d = NULL;
	int rc;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	if (key == NULL || out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                key == NULL ? "key" : "out",
		                "%s must not be NULL", key ? "out" : "key");
	rc = rm__dkim_check_names(selector, domain, &d, err);
	if (rc != RM_OK)
		return rc;
	rm__buf_init(&txt, 8192);
	rm__buf_init(&rec, 16384);
	rc = rm__buf_printf(&txt, "v=DKIM1; k=%s; p=",
	                    rm__dkim_key_type(key));
	if (rc == RM_OK)
		rc = public_key_b64(key, &txt);
	if (rc == RM_OK)
		rc = rm__buf_printf(&rec, "%s._domainkey.%s. IN TXT",
		                    selector, d);
	if (rc == RM_OK)
		rc = quoted_chunks(&rec, txt.data, txt.len);
	if (rc == RM_OK)
		*out = rm__buf_steal(&rec);
	rm__buf_free(&txt);
	rm__buf_free(&rec);
	free(d);
	if (rc != RM_OK || *out == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory writing the DNS record");
	return RM_OK;
}
