/*
 * Redaction of secrets from text that came from a server: a broken or
 * hostile server may repeat the password, a token or an API key (or the
 * base64 AUTH payload that carried it). The SMTP replies and the HTTP
 * responses pass through here before anything logs them or copies them
 * into an error or a result.
 */
#include <string.h>

#include "internal.h"

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
	if (rc == RM_OK && out.len > max)
		out.len = max;
	if (rc == RM_OK)
		rc = rm__buf_append(text, out.data, out.len);
	if (rc != RM_OK)
		rm__buf_append_str(text, REDACTED);
	rm__buf_free(&out);
}

/* The base64 characters that depend only on secret when it follows k
 * other bytes (k = 0, 1, 2: every alignment in a base64 stream). */
static void redact_base64(rm__buf *text, const char *secret, size_t n,
                          size_t k)
{
	size_t start = (8 * k + 5) / 6, end = 8 * (k + n) / 6;
	rm__buf raw, enc;

	rm__buf_init(&raw, n + 3);
	rm__buf_init(&enc, 2 * n + 16);
	if (rm__buf_append(&raw, "\0\0\0", k) == RM_OK &&
	    rm__buf_append(&raw, secret, n) == RM_OK &&
	    rm__base64_encode(&enc, raw.data, raw.len) == RM_OK &&
	    end <= enc.len && end >= start + MIN_BASE64)
		replace_all(text, enc.data + start, end - start);
	rm__buf_free_secret(&raw);
	rm__buf_free_secret(&enc);
}

void rm__redact(rm__buf *text, const char *secret, size_t len)
{
	size_t k;

	if (text->data == NULL || text->len == 0 || secret == NULL ||
	    len < MIN_SECRET)
		return;
	replace_all(text, secret, len);
	for (k = 0; k < 3; k++)
		redact_base64(text, secret, len, k);
}
