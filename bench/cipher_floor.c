/*
 * cipher_floor: how fast a TLS library seals records of the size the
 * STARTTLS workload sends, with no network and no TLS state machine: the
 * floor of what TLS adds per message.
 *
 *   cipher_floor --lib mbedtls|openssl --cipher chacha20|aes128gcm
 *                [--record BYTES] [--count N]
 *
 * Each record is encrypted and authenticated with a fresh nonce, as a
 * TLS 1.2 AEAD record is. The time is the process's CPU time, so other
 * load on the machine does not count. Prints "mbps=F elapsed=S".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <openssl/evp.h>

#define TAG_LEN 16

typedef struct job {
	int use_chacha;
	size_t record;
	long count;
	unsigned char key[32];
	unsigned char nonce[12];
	unsigned char *in, *out;
	unsigned char tag[TAG_LEN];
} job;

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void next_nonce(job *j, long i)
{
	memcpy(j->nonce + 4, &i, sizeof(i));
}

static int seal_mbedtls(job *j)
{
	mbedtls_chachapoly_context cc;
	mbedtls_gcm_context gcm;
	int rc = 0;
	long i;

	mbedtls_chachapoly_init(&cc);
	mbedtls_gcm_init(&gcm);
	rc = j->use_chacha ? mbedtls_chachapoly_setkey(&cc, j->key) :
	     mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, j->key, 128);
	for (i = 0; rc == 0 && i < j->count; i++) {
		next_nonce(j, i);
		if (j->use_chacha)
			rc = mbedtls_chachapoly_encrypt_and_tag(&cc, j->record,
			        j->nonce, NULL, 0, j->in, j->out, j->tag);
		else
			rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT,
			        j->record, j->nonce, 12, NULL, 0, j->in, j->out,
			        TAG_LEN, j->tag);
	}
	mbedtls_chachapoly_free(&cc);
	mbedtls_gcm_free(&gcm);
	return rc;
}

static int seal_one_openssl(EVP_CIPHER_CTX *ctx, job *j)
{
	int n = 0, fin = 0;

	return EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, j->nonce) == 1 &&
	       EVP_EncryptUpdate(ctx, j->out, &n, j->in,
	                         (int)j->record) == 1 &&
	       EVP_EncryptFinal_ex(ctx, j->out + n, &fin) == 1 &&
	       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
	                           j->tag) == 1 ? 0 : -1;
}

static int seal_openssl(job *j)
{
	const EVP_CIPHER *c = j->use_chacha ? EVP_chacha20_poly1305() :
	                      EVP_aes_128_gcm();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int rc = -1;
	long i;

	if (ctx != NULL && EVP_EncryptInit_ex(ctx, c, NULL, j->key,
	                                      NULL) == 1)
		rc = 0;
	for (i = 0; rc == 0 && i < j->count; i++) {
		next_nonce(j, i);
		rc = seal_one_openssl(ctx, j);
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: cipher_floor --lib mbedtls|openssl "
	        "--cipher chacha20|aes128gcm [--record BYTES] [--count N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	job j = { 0, 10240, 20000, { 0 }, { 0 }, NULL, NULL, { 0 } };
	const char *lib = NULL, *cipher = NULL;
	double t0, t;
	int i, rc;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--lib") == 0)
			lib = argv[i + 1];
		else if (strcmp(argv[i], "--cipher") == 0)
			cipher = argv[i + 1];
		else if (strcmp(argv[i], "--record") == 0)
			j.record = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			j.count = strtol(argv[i + 1], NULL, 10);
		else
			return usage();
	}
	if (i != argc || lib == NULL || cipher == NULL || j.record == 0 ||
	    j.count <= 0)
		return usage();
	j.use_chacha = strcmp(cipher, "chacha20") == 0;
	if (!j.use_chacha && strcmp(cipher, "aes128gcm") != 0)
		return usage();
	j.in = calloc(1, j.record);
	j.out = calloc(1, j.record + TAG_LEN);
	if (j.in == NULL || j.out == NULL)
		return 1;
	memset(j.in, 'x', j.record);

	t0 = cpu_seconds();
	rc = strcmp(lib, "openssl") == 0 ? seal_openssl(&j) :
	     strcmp(lib, "mbedtls") == 0 ? seal_mbedtls(&j) : usage();
	t = cpu_seconds() - t0;
	if (rc != 0) {
		fprintf(stderr, "cipher_floor: sealing failed\n");
		return 1;
	}
	printf("mbps=%.1f elapsed=%.6f\n",
	       (double)j.record * (double)j.count / t / 1e6, t);
	free(j.in);
	free(j.out);
	return 0;
}
