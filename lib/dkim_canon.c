/*
 * DKIM canonicalization (RFC 6376 section 3.4): the simple and relaxed
 * forms of header fields and of the body. The body is canonicalized as
 * it streams past, so attached files are never held whole.
 */
#include <string.h>

#include "dkim_int.h"

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ---------------------------------------------------------------------- */
/* Body                                                                   */
/* ---------------------------------------------------------------------- */

void rm__dkim_body_init(rm__dkim_body *b, int relaxed, rm__dkim_sink sink,
                        void *user)
{
	memset(b, 0, sizeof(*b));
	b->relaxed = relaxed;
	b->sink = sink;
	b->user = user;
}

static void flush(rm__dkim_body *b)
{
	if (b->len > 0)
		b->sink(b->out, b->len, b->user);
	b->len = 0;
}

static void emit(rm__dkim_body *b, const char *s, size_t n)
{
	if (b->len + n > sizeof(b->out))
		flush(b);
	memcpy(b->out + b->len, s, n);
	b->len += n;
}

/* Content after held-back line ends: they were not trailing after all. */
static void content_byte(rm__dkim_body *b, unsigned char c)
{
	for (; b->crlfs > 0; b->crlfs--)
		emit(b, "\r\n", 2);

	/* RFC 6376 3.4.4: a run of WSP inside a line becomes one SP. */
	if (b->wsp)
		emit(b, " ", 1);
	b->wsp = 0;
	emit(b, (const char *)&c, 1);
	b->content = 1;
}

static void line_end(rm__dkim_body *b)
{
	/* RFC 6376 3.4.4: WSP at the end of a line is dropped. */
	b->wsp = 0;
	b->crlfs++;
}

static void body_byte(rm__dkim_body *b, unsigned char c)
{
	if (b->cr) {
		b->cr = 0;
		if (c == '\n') {
			line_end(b);
			return;
		}
		content_byte(b, '\r');
	}
	if (c == '\r')
		b->cr = 1;
	else if (b->relaxed && is_wsp(c))
		b->wsp = 1;
	else
		content_byte(b, c);
}

/* Bytes from p on that canonicalization leaves as they are: all but CR
 * (and, relaxed, WSP). */
static size_t plain_run(const unsigned char *p, size_t len, int relaxed)
{
	size_t n = 0;

	while (n < len && p[n] != '\r' && !(relaxed && is_wsp(p[n])))
		n++;
	return n;
}

void rm__dkim_body_update(rm__dkim_body *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, n;

	while (i < len) {
		/* With nothing held back, a plain run goes out whole. */
		n = b->cr || b->wsp || b->crlfs ? 0 :
		    plain_run(p + i, len - i, b->relaxed);
		if (n == 0) {
			body_byte(b, p[i++]);
			continue;
		}
		flush(b);
		b->sink(p + i, n, b->user);
		b->content = 1;
		i += n;
	}
}

/*
 * RFC 6376 3.4.3: simple ends the body with exactly one CRLF, and an
 * empty body is one CRLF. 3.4.4: relaxed ends a non-empty body with one
 * CRLF and leaves an empty body empty.
 */
void rm__dkim_body_finish(rm__dkim_body *b)
{
	if (b->cr) {
		b->cr = 0;
		content_byte(b, '\r');
	}
	if (b->content || !b->relaxed)
		emit(b, "\r\n", 2);
	b->crlfs = 0;
	flush(b);
}

/* ---------------------------------------------------------------------- */
/* Header fields                                                          */
/* ---------------------------------------------------------------------- */

/* RFC 6376 3.4.2: lower-case name, no WSP around the colon, folds
 * removed, WSP runs as one SP, no WSP at the ends of the value. */
static int relaxed_header(rm__buf *out, const char *f, size_t len)
{
	const char *colon = memchr(f, ':', len);
	size_t i, name_len;
	int wsp = 0, started = 0, rc = RM_OK;

	if (colon == NULL)
		return RM_EINVAL;
	name_len = (size_t)(colon - f);
	while (name_len > 0 && is_wsp((unsigned char)f[name_len - 1]))
		name_len--;
	for (i = 0; rc == RM_OK && i < name_len; i++) {
		char c = f[i];

		rc = rm__buf_append_byte(out, c >= 'A' && c <= 'Z' ?
		                         (char)(c - 'A' + 'a') : c);
	}
	if (rc == RM_OK)
		rc = rm__buf_append_byte(out, ':');
	for (i = (size_t)(colon - f) + 1; rc == RM_OK && i < len; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == '\r' || c == '\n' || is_wsp(c)) {
			wsp = 1;
			continue;
		}
		if (wsp && started)
			rc = rm__buf_append_byte(out, ' ');
		wsp = 0;
		started = 1;
		if (rc == RM_OK)
			rc = rm__buf_append_byte(out, (char)c);
	}
	return rc == RM_OK ? rm__buf_append(out, "\r\n", 2) : rc;
}

int rm__dkim_canon_header(rm__buf *out, const char *field, size_t len,
                          int relaxed)
{
	if (relaxed)
		return relaxed_header(out, field, len);

	/* RFC 6376 3.4.1: simple changes nothing. */
	return rm__buf_append(out, field, len);
}
