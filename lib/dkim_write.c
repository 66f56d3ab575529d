/*
 * The signing write. The writer runs twice: first into a sink that keeps
 * the header section and canonicalizes and hashes the body as it streams
 * (RFC 6376 3.7), then, after the DKIM-Signature fields, to the caller.
 * The second pass must give the same bytes: it is hashed as well, and
 * its last block is held back until both hashes agree, so that a message
 * whose bytes changed between the passes (a file attachment rewritten
 * meanwhile) never goes out whole under a broken signature.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim_int.h"
#include "message_int.h"

#define HEAD_MAX (32 * 1024 * 1024)

/* One body hash per signer: the canonical forms differ. */
typedef struct body_hash {
	rm__dkim_body canon;
	mbedtls_sha256_context sha;
} body_hash;

typedef struct pass1 {
	rm__buf head;            /* header fields and the empty line */
	int in_body;
	body_hash *bodies;
	size_t count;
	mbedtls_sha256_context all;   /* every byte, to check pass two */
} pass1;

typedef struct pass2 {
	rm_write_fn fn;
	void *user;
	rm__buf held;            /* the last block, not yet handed on */
	mbedtls_sha256_context all;
	int stopped;             /* the caller's callback asked to stop */
} pass2;

static void sha_sink(const unsigned char *data, size_t len, void *user)
{
	mbedtls_sha256_update_ret(user, data, len);
}

static void body_bytes(pass1 *p, const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		rm__dkim_body_update(&p->bodies[i].canon, data, len);
}

/* Keeps the header section until its empty line, then hashes. */
static int pass1_write(const void *data, size_t len, void *user)
{
	const unsigned char *d = data;
	pass1 *p = user;
	size_t i = 0;

	mbedtls_sha256_update_ret(&p->all, d, len);
	while (!p->in_body && i < len) {
		const char *h;

		if (rm__buf_append_byte(&p->head, (char)d[i++]) != RM_OK)
			return -1;
		h = p->head.data + p->head.len;

		/* The empty line ends the header section (RFC 5322 2.1). */
		p->in_body = (p->head.len == 2 && h[-2] == '\r') ||
		             (p->head.len >= 4 &&
		              memcmp(h - 4, "\r\n\r\n", 4) == 0);
	}
	body_bytes(p, d + i, len - i);
	return 0;
}

static int pass2_write(const void *data, size_t len, void *user)
{
	pass2 *p = user;

	mbedtls_sha256_update_ret(&p->all, data, len);
	if (p->held.len > 0 && p->fn(p->held.data, p->held.len, p->user)) {
		p->stopped = 1;
		return -1;
	}
	rm__buf_reset(&p->held);
	return rm__buf_append(&p->held, data, len) == RM_OK ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Passes                                                                 */
/* ---------------------------------------------------------------------- */

static int pass1_init(pass1 *p, const rm__dkim_set *set)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	rm__buf_init(&p->head, HEAD_MAX);
	mbedtls_sha256_init(&p->all);
	mbedtls_sha256_starts_ret(&p->all, 0);
	p->bodies = calloc(set->count, sizeof(*p->bodies));
	if (p->bodies == NULL)
		return RM_ENOMEM;
	p->count = set->count;
	for (i = 0; i < set->count; i++) {
		body_hash *b = &p->bodies[i];

		mbedtls_sha256_init(&b->sha);
		mbedtls_sha256_starts_ret(&b->sha, 0);
		rm__dkim_body_init(&b->canon, set->signers[i].body_relaxed,
		                   sha_sink, &b->sha);
	}
	return RM_OK;
}

static void pass1_free(pass1 *p)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		mbedtls_sha256_free(&p->bodies[i].sha);
	free(p->bodies);
	mbedtls_sha256_free(&p->all);
	rm__buf_free(&p->head);
}

/* The DKIM-Signature fields, the last signer's on top, as if each
 * signer had prepended its own in turn (RFC 6376 5.6). */
static int signatures(const rm__dkim_set *set, pass1 *p, rm__buf *out,
                      rm_error *err)
{
	unsigned char bh[32];
	const char *head;
	size_t i, head_len;
	int rc = RM_OK;

	/* Without the empty line the whole message is header. */
	head_len = p->in_body ? p->head.len - 2 : p->head.len;
	head = p->head.data != NULL ? p->head.data : "";
	for (i = set->count; rc == RM_OK && i > 0; i--) {
		body_hash *b = &p->bodies[i - 1];

		rm__dkim_body_finish(&b->canon);
		mbedtls_sha256_finish_ret(&b->sha, bh);
		rc = rm__dkim_signature(&set->signers[i - 1], head, head_len,
		                        bh, out, err);
	}
	return rc;
}

static int run_pass1(rm_message *msg, const rm__write_opts *plain,
                     const rm__dkim_set *set, rm__buf *sigs,
                     unsigned char digest[32], rm_error *err)
{
	pass1 p;
	int rc = pass1_init(&p, set);

	if (rc != RM_OK)
		rc = rm__fail(err, rc, RM_OUTCOME_NONE, NULL, "out of memory");
	if (rc == RM_OK)
		rc = rm__message_write_with(msg, plain, pass1_write, &p, err);
	if (rc == RM_ECALLBACK)
		rc = rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "headers",
		              "the header section is too large to sign");
	if (rc == RM_OK)
		rc = signatures(set, &p, sigs, err);
	if (rc == RM_OK)
		mbedtls_sha256_finish_ret(&p.all, digest);
	pass1_free(&p);
	return rc;
}

static int run_pass2(rm_message *msg, const rm__write_opts *plain,
                     pass2 *p, const unsigned char digest[32],
                     rm_error *err)
{
	unsigned char again[32];
	int rc = rm__message_write_with(msg, plain, pass2_write, p, err);

	if (rc == RM_ECALLBACK && !p->stopped)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory writing the message");
	if (rc != RM_OK)
		return rc;
	mbedtls_sha256_finish_ret(&p->all, again);
	if (memcmp(again, digest, 32) != 0)
		return rm__fail(err, RM_EIO, RM_OUTCOME_TRANSIENT, "dkim",
		                "the message changed while it was signed (an "
		                "attached file was modified?); not sent");
	if (p->held.len > 0 && p->fn(p->held.data, p->held.len, p->user))
		return rm__fail(err, RM_ECALLBACK, RM_OUTCOME_NONE, NULL,
		                "the write callback asked to stop");
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Entry point                                                            */
/* ---------------------------------------------------------------------- */

/* Both passes need the same Date: a message without one gets the time
 * it was prepared (or of this write), for this write only. */
typedef struct saved_date {
	int set;
	time_t when;
	int offset;
} saved_date;

static void pin_date(rm_message *msg, saved_date *sd)
{
	struct tm tm;

	sd->set = msg->date_set;
	sd->when = msg->date;
	sd->offset = msg->date_offset;
	if (msg->date_set || msg->reproducible)
		return;
	msg->date = msg->prepared_at != 0 ? msg->prepared_at : time(NULL);
	msg->date_offset = localtime_r(&msg->date, &tm) != NULL ?
	                   (int)(tm.tm_gmtoff / 60) : 0;
	msg->date_set = 1;
}

static void unpin_date(rm_message *msg, const saved_date *sd)
{
	msg->date_set = sd->set;
	msg->date = sd->when;
	msg->date_offset = sd->offset;
}

static int emit(rm_write_fn fn, void *user, const rm__buf *b, rm_error *err)
{
	if (b->len > 0 && fn(b->data, b->len, user) != 0)
		return rm__fail(err, RM_ECALLBACK, RM_OUTCOME_NONE, NULL,
		                "the write callback asked to stop");
	return RM_OK;
}

int rm__dkim_write(rm_message *msg, const rm__write_opts *opts,
                   rm_write_fn write, void *user, rm_error *err)
{
	rm__write_opts plain = *opts;
	unsigned char digest[32];
	saved_date sd;
	rm__buf sigs;
	pass2 p2;
	int rc;

	plain.dkim = NULL;
	rm__buf_init(&sigs, 1024 * 1024);
	memset(&p2, 0, sizeof(p2));
	p2.fn = write;
	p2.user = user;
	rm__buf_init(&p2.held, SIZE_MAX - 1);
	mbedtls_sha256_init(&p2.all);
	mbedtls_sha256_starts_ret(&p2.all, 0);

	pin_date(msg, &sd);
	rc = run_pass1(msg, &plain, opts->dkim, &sigs, digest, err);
	if (rc == RM_OK)
		rc = emit(write, user, &sigs, err);
	if (rc == RM_OK)
		rc = run_pass2(msg, &plain, &p2, digest, err);
	unpin_date(msg, &sd);

	mbedtls_sha256_free(&p2.all);
	rm__buf_free(&p2.held);
	rm__buf_free(&sigs);
	return rc;
}
