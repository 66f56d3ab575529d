/*
 * The DKIM-Signature field (RFC 6376 3.5): which header fields it signs,
 * the hash of them (3.7) and the signature over that hash.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim_int.h"

/* The header section of a message: the writer's ceiling and room. */
#define HEAD_MAX (32 * 1024 * 1024)
#define FOLD_AT 76

/* Signed unless the caller names others: the fields RFC 6376 5.4.1
 * lists, the two of RFC 8058 section 4 and Feedback-ID. From is signed
 * once more than it occurs (oversigned) so that none can be added. */
static const char *const default_headers[] = {
	"from", "to", "cc", "subject", "date", "message-id",
	"mime-version", "content-type", "reply-to", "list-unsubscribe",
	"list-unsubscribe-post", "feedback-id",
};

/* ---------------------------------------------------------------------- */
/* The header section                                                     */
/* ---------------------------------------------------------------------- */

typedef struct field {
	const char *p;
	size_t len;       /* with the folds and the final CRLF */
	size_t name_len;  /* up to the colon, WSP before it left out */
	int used;
} field;

typedef struct fields {
	field *v;
	size_t count;
} fields;

static void name_of(field *f)
{
	const char *colon = memchr(f->p, ':', f->len);
	size_t n = colon != NULL ? (size_t)(colon - f->p) : 0;

	while (n > 0 && (f->p[n - 1] == ' ' || f->p[n - 1] == '\t'))
		n--;
	f->name_len = n;
}

/* Splits the header section into fields; a line that starts with WSP
 * continues the field before it (RFC 5322 2.2.3). */
static int split_fields(const char *head, size_t len, fields *out)
{
	size_t i = 0, cap = 0;

	out->v = NULL;
	out->count = 0;
	while (i < len) {
		size_t start = i;
		field *f;

		do {
			const char *lf = memchr(head + i, '\n', len - i);

			i = lf != NULL ? (size_t)(lf - head) + 1 : len;
		} while (i < len && (head[i] == ' ' || head[i] == '\t'));
		if (out->count == cap) {
			cap = cap ? cap * 2 : 32;
			f = realloc(out->v, cap * sizeof(*f));
			if (f == NULL)
				return RM_ENOMEM;
			out->v = f;
		}
		f = &out->v[out->count++];
		f->p = head + start;
		f->len = i - start;
		f->used = 0;
		name_of(f);
	}
	return RM_OK;
}

static int is_named(const field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && rm__strncaseeq(f->p, name, n);
}

static size_t count_named(const fields *fs, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < fs->count; i++)
		n += is_named(&fs->v[i], name);
	return n;
}

/* The h= list: the caller's, or the default fields the message has. */
static int header_list(const rm__dkim_signer *s, const fields *fs,
                       rm__buf *h)
{
	size_t i, j, n;
	int rc = RM_OK;

	for (i = 0; rc == RM_OK && i < s->header_count; i++)
		rc = rm__buf_printf(h, "%s%s", i ? ":" : "", s->headers[i]);
	if (s->headers != NULL)
		return rc;
	for (i = 0; rc == RM_OK && i < RM__ARRAY_LEN(default_headers); i++) {
		n = count_named(fs, default_headers[i]);
		n += strcmp(default_headers[i], "from") == 0;
		for (j = 0; rc == RM_OK && j < n; j++)
			rc = rm__buf_printf(h, "%s%s", h->len ? ":" : "",
			                    default_headers[i]);
	}
	return rc;
}

/* RFC 6376 5.4.2: each name takes the last field of that name not yet
 * taken; a name with none left adds nothing. */
static int hash_fields(fields *fs, const char *list, int relaxed,
                       rm__buf *data)
{
	const char *p = list;
	int rc = RM_OK;

	while (rc == RM_OK && *p != '\0') {
		size_t n = strcspn(p, ":"), i;
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		for (i = fs->count; i > 0; i--) {
			field *f = &fs->v[i - 1];

			if (!f->used && is_named(f, name)) {
				f->used = 1;
				rc = rm__dkim_canon_header(data, f->p, f->len,
				                           relaxed);
				break;
			}
		}
		p += n + (p[n] == ':');
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The DKIM-Signature field                                               */
/* ---------------------------------------------------------------------- */

typedef struct sig_line {
	rm__buf *b;
	size_t col;
} sig_line;

/* Appends text, folding before it when the line would grow too long;
 * FWS is allowed between tags and around ':' in h= (RFC 6376 3.2). */
static int put(sig_line *l, const char *text, int space)
{
	size_t n = strlen(text);
	int rc;

	if (l->col + n + (size_t)space > FOLD_AT) {
		rc = rm__buf_append(l->b, "\r\n\t", 3);
		l->col = 8;
	} else {
		rc = space ? rm__buf_append_byte(l->b, ' ') : RM_OK;
		l->col += (size_t)space;
	}
	l->col += n;
	return rc == RM_OK ? rm__buf_append(l->b, text, n) : rc;
}

static int put_tag(sig_line *l, const char *fmt, ...) RM__PRINTF(2, 3);

static int put_tag(sig_line *l, const char *fmt, ...)
{
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return put(l, text, 1);
}

static int put_times(sig_line *l, const rm__dkim_signer *s)
{
	long long now = s->fixed_time > 0 ? s->fixed_time :
	                (long long)time(NULL);
	char t[32], x[32];
	int rc = RM_OK;

	snprintf(t, sizeof(t), "%lld", now);
	snprintf(x, sizeof(x), "%lld", now + s->expire);
	if (s->timestamp)
		rc = put_tag(l, "t=%s;", t);
	if (rc == RM_OK && s->expire > 0)
		rc = put_tag(l, "x=%s;", x);
	return rc;
}

/* h= folds between names. */
static int put_h(sig_line *l, const char *list)
{
	const char *p = list;
	char name[260];
	int rc = RM_OK, first = 1;

	while (rc == RM_OK && *p != '\0') {
		size_t n = strcspn(p, ":");

		snprintf(name, sizeof(name), "%s%.*s%s", first ? "h=" : "",
		         (int)n, p, p[n] == ':' ? ":" : ";");
		rc = put(l, name, first);
		first = 0;
		p += n + (p[n] == ':');
	}
	return rc;
}

/* Everything up to and including "b=". */
static int sig_head(const rm__dkim_signer *s, const char *h,
                    const unsigned char bh[32], rm__buf *out)
{
	sig_line l = { out, 15 };
	rm__buf b64;
	int rc = rm__buf_append_str(out, "DKIM-Signature:");

	rm__buf_init(&b64, 128);
	if (rc == RM_OK)
		rc = put_tag(&l, "v=1; a=%s-sha256;",
		             rm__dkim_key_type(s->key));
	if (rc == RM_OK)
		rc = put_tag(&l, "c=%s/%s;", s->header_relaxed ? "relaxed" :
		             "simple", s->body_relaxed ? "relaxed" : "simple");
	if (rc == RM_OK)
		rc = put_tag(&l, "d=%s; s=%s;", s->domain, s->selector);
	if (rc == RM_OK && s->identity != NULL)
		rc = put_tag(&l, "i=%s;", s->identity);
	if (rc == RM_OK)
		rc = put_times(&l, s);
	if (rc == RM_OK)
		rc = put_h(&l, h);
	if (rc == RM_OK)
		rc = rm__base64_encode(&b64, bh, 32);
	if (rc == RM_OK)
		rc = put_tag(&l, "bh=%s;", b64.data);
	/* b= starts a line of its own, so its value folds evenly. */
	if (rc == RM_OK)
		rc = rm__buf_append_str(out, "\r\n\tb=");
	rm__buf_free(&b64);
	return rc;
}

/* The signature value, folded; the field ends with CRLF. */
static int put_b(rm__buf *out, const unsigned char *sig, size_t len)
{
	rm__buf b64;
	size_t i, col = FOLD_AT - 10;
	int rc;

	rm__buf_init(&b64, 2048);
	rc = rm__base64_encode(&b64, sig, len);
	for (i = 0; rc == RM_OK && i < b64.len; i += col, col = 68) {
		size_t n = b64.len - i < col ? b64.len - i : col;

		if (i > 0)
			rc = rm__buf_append(out, "\r\n\t", 3);
		if (rc == RM_OK)
			rc = rm__buf_append(out, b64.data + i, n);
	}
	rm__buf_free(&b64);
	return rc == RM_OK ? rm__buf_append(out, "\r\n", 2) : rc;
}

/* RFC 6376 3.7: the signed fields, then this field with b= empty and
 * without its final CRLF, canonicalized alike. */
static int header_hash(const rm__dkim_signer *s, fields *fs,
                       const char *h, const rm__buf *field_head,
                       unsigned char hash[32])
{
	rm__buf data;
	int rc;

	rm__buf_init(&data, HEAD_MAX);
	rc = hash_fields(fs, h, s->header_relaxed, &data);
	if (rc == RM_OK)
		rc = rm__dkim_canon_header(&data, field_head->data,
		                           field_head->len, s->header_relaxed);
	if (rc == RM_OK && s->header_relaxed)
		data.len -= 2;
	if (rc == RM_OK)
		rc = mbedtls_sha256_ret((const unsigned char *)data.data,
		                        data.len, hash, 0) ? RM_EIO : RM_OK;
	rm__buf_free(&data);
	return rc;
}

int rm__dkim_signature(rm__dkim_signer *s, const char *head,
                       size_t head_len, const unsigned char bh[32],
                       rm__buf *out, rm_error *err)
{
	unsigned char hash[32], sig[1024];
	size_t sig_len = 0;
	rm__buf h, field_head;
	fields fs;
	int rc = split_fields(head, head_len, &fs);

	rm__buf_init(&h, 64 * 1024);
	rm__buf_init(&field_head, 128 * 1024);
	if (rc == RM_OK)
		rc = header_list(s, &fs, &h);
	if (rc == RM_OK)
		rc = sig_head(s, h.data != NULL ? h.data : "", bh, &field_head);
	if (rc == RM_OK)
		rc = header_hash(s, &fs, h.data, &field_head, hash);
	if (rc != RM_OK)
		rc = rm__fail(err, rc, RM_OUTCOME_NONE, "dkim",
		              "cannot build the DKIM-Signature field: %s",
		              rm_strerror(rc));
	if (rc == RM_OK)
		rc = rm__dkim_key_sign(s->key, hash, sig, &sig_len, err);
	if (rc == RM_OK)
		rc = rm__buf_append(out, field_head.data, field_head.len);
	if (rc == RM_OK)
		rc = put_b(out, sig, sig_len);
	free(fs.v);
	rm__buf_free(&h);
	rm__buf_free(&field_head);
	return rc;
}
