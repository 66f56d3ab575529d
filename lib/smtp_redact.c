/*
 * Keeps the transport's secrets out of what a server says back. A broken
 * or hostile server may repeat the password, the token or a whole AUTH
 * payload in a reply; every reply passes through here before it is
 * logged or copied into an error or a result, so the promise of
 * relaymail.h (secrets never reach the log) holds whatever the server
 * sends.
 */
#include <string.h>

#include "smtp_int.h"

#define REDACTED "<redacted>"

/* Shorter secrets are not searched for: they would match ordinary text. */
#define MIN_SECRET 3
#define MIN_BASE64 4

/* Replaces every needle in text; on failure the whole text goes. */
static void replace_all(rm__buf *text, const char *needle, size_t len)
{
	const char *p = text->data, *end = text->data + text->len, *hit;
	size_t max = text->max;
	rm__buf out;
	int rc = RM_OK;

	if (memmem(p, text->len, needle, len) == NULL)
		return;
	rm__buf_init(&out, text->len * 4 + sizeof(REDACTED));
	while (rc == RM_OK && (hit = memmem(p, (size_t)(end - p), needle,
	                                    len)) != NULL) {
		rc = rm__buf_append(&out, p, (size_t)(hit - p));
		if (rc == RM_OK)
			rc = rm__buf_append_str(&out, REDACTED);
		p = hit + len;
	}
	if (rc == RM_OK)
		rc = rm__buf_append(&out, p, (size_t)(end - p));
	rm__buf_reset(text);
	if (rc == RM_OK)
		rc = rm__buf_append(text, out.data, out.len < max ? out.len : max);
	if (rc != RM_OK)
		rm__buf_append_str(text, REDACTED);
	rm__buf_free(&out);
}

/*
 * Redacts secret, and each part of its base64 form that does not depend
 * on the bytes around it, at the three alignments a base64 stream (an
 * AUTH PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER payload) may hold it in.
 */
static void redact_secret(rm__buf *text, const char *secret)
{
	size_t n = strlen(secret), k;

	if (n < MIN_SECRET)
		return;
	replace_all(text, secret, n);
	for (k = 0; k < 3; k++) {
		size_t start = (8 * k + 5) / 6, end = 8 * (k + n) / 6;
		rm__buf raw, enc;

		rm__buf_init(&raw, n + 3);
		rm__buf_init(&enc, 2 * n + 16);
		if (rm__buf_append(&raw, "\0\0\0", k) == RM_OK &&
		    rm__buf_append(&raw, secret, n) == RM_OK &&
		    rm__base64_encode(&enc, raw.data, raw.len) == RM_OK &&
		    end <= enc.len && end >= start + MIN_BASE64)
			replace_all(text, enc.data + start, end - start);
		memset(raw.data, 0, raw.len);
		memset(enc.data, 0, enc.len);
		rm__buf_free(&raw);
		rm__buf_free(&enc);
	}
}

void rm__smtp_redact_reply(const rm__smtp *s, rm__reply *r)
{
	if (r->text.data == NULL || r->text.len == 0)
		return;
	if (s->cfg.password != NULL)
		redact_secret(&r->text, s->cfg.password);
	if (s->cfg.token != NULL)
		redact_secret(&r->text, s->cfg.token);
}
