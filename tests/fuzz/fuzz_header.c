/*
 * Header encoding (encode_header.c). Text the library accepts for a
 * header (rm__check_header_text) is folded as an unstructured field, a
 * display name or a MIME parameter. Every result must keep its line
 * breaks to folds (CRLF before white space) and its lines within 998
 * octets; an unstructured field must decode, by the independent RFC 2047
 * reader below, back to the text (minus leading and trailing white space,
 * which RFC 5322 readers drop).
 */
#include "fuzz_common.h"
#include "internal.h"

static int hdr_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Q encoding (RFC 2047 4.2) of n bytes at p into out; -1 if invalid. */
static int hdr_q(const char *p, size_t n, rm__buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '=' && i + 2 < n && hdr_hex(p[i + 1]) >= 0 &&
		    hdr_hex(p[i + 2]) >= 0) {
			c = (char)(hdr_hex(p[i + 1]) * 16 + hdr_hex(p[i + 2]));
			i += 2;
		} else if (c == '=' || c == '?' || c == ' ') {
			return -1;
		} else if (c == '_') {
			c = ' ';
		}
		rm__buf_append_byte(out, c);
	}
	return 0;
}

/* Decodes the token [p, p+n) if it is exactly one UTF-8 encoded-word. */
static int hdr_word(const char *p, size_t n, rm__buf *out)
{
	static const char head[] = "=?UTF-8?";
	rm__buf raw;
	int rc;

	if (n < 12 || !rm__strncaseeq(p, head, 8) || p[9] != '?' ||
	    p[n - 2] != '?' || p[n - 1] != '=')
		return -1;
	if (p[8] == 'Q' || p[8] == 'q')
		return hdr_q(p + 10, n - 12, out);
	if (p[8] != 'B' && p[8] != 'b')
		return -1;
	rm__buf_init(&raw, 1 << 20);
	rc = rm__base64_decode(&raw, p + 10, n - 12);
	if (rc == RM_OK)
		rm__buf_append(out, raw.data, raw.len);
	rm__buf_free(&raw);
	return rc == RM_OK ? 0 : -1;
}

static void hdr_cut(rm__buf *b, size_t at, size_t n)
{
	memmove(b->data + at, b->data + at + n, b->len - at - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Unfolds and decodes an unstructured value (RFC 2047 6.2). */
static void hdr_decode(const char *v, size_t len, rm__buf *out)
{
	size_t i = 0, ws_at = 0, ws_len = 0;
	int last_word = 0;

	while (i < len) {
		size_t start = i, tlen;

		if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if (v[i] == ' ' || v[i] == '\t') {
			ws_at = out->len;
			while (i < len && (v[i] == ' ' || v[i] == '\t'))
				rm__buf_append_byte(out, v[i++]);
			ws_len = out->len - ws_at;
			continue;
		}
		while (i < len && v[i] != ' ' && v[i] != '\t' && v[i] != '\r')
			i++;
		tlen = i - start;
		if (hdr_word(v + start, tlen, out) == 0) {
			/* White space between two words is dropped. */
			if (last_word && ws_len > 0)
				hdr_cut(out, ws_at, ws_len);
			last_word = 1;
		} else {
			rm__buf_append(out, v + start, tlen);
			last_word = 0;
		}
		ws_len = 0;
	}
}

/* Every line of the field within 998 octets, breaks only as folds. */
static void hdr_check_lines(const rm__buf *h)
{
	size_t i, line = 0;

	FUZZ_CHECK(h->len >= 2 && memcmp(h->data + h->len - 2, "\r\n", 2) == 0);
	FUZZ_CHECK(!fuzz_bad_line_break(h->data, h->len - 2));
	for (i = 0; i < h->len; i++) {
		line = h->data[i] == '\n' ? 0 : line + 1;
		FUZZ_CHECK(line <= 999);
	}
}

/* The text without leading and trailing SP and HTAB. */
static void hdr_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static void hdr_roundtrip(const char *text, size_t len, const rm__buf *h)
{
	const char *v = h->data + strlen("Subject:");
	size_t vlen = h->len - strlen("Subject:") - 2;
	rm__buf got;

	/* The writer puts one space after the colon. */
	if (vlen > 0 && *v == ' ') {
		v++;
		vlen--;
	}
	rm__buf_init(&got, 1 << 24);
	hdr_decode(v, vlen, &got);
	hdr_trim(&text, &len);
	FUZZ_CHECK(got.len == len);
	FUZZ_CHECK(len == 0 || memcmp(got.data, text, len) == 0);
	rm__buf_free(&got);
}

static int hdr_build(rm__fold *f, int mode, const char *text, size_t len)
{
	switch (mode) {
	case 0:
		return rm__fold_text(f, text, len, 75);
	case 1:
		return rm__fold_phrase(f, text);
	case 2:
		return rm__fold_param(f, "filename", text);
	default:
		return rm__fold_words(f, " ", text, len, "\"", "\"");
	}
}

FUZZ_ENTRY(header)
{
	rm__buf h;
	rm__fold f;
	char *text;
	size_t len;
	int mode;

	if (size == 0)
		return 0;
	mode = data[0] % 4;
	text = fuzz_cstr(data + 1, size - 1);
	len = strlen(text);
	if (rm__check_header_text(text, len, "subject", NULL) != RM_OK) {
		free(text);
		return 0;
	}
	rm__buf_init(&h, 1 << 24);
	if (rm__fold_start(&f, &h, mode == 0 ? "Subject" : "X-Fuzz") ==
	    RM_OK && hdr_build(&f, mode, text, len) == RM_OK &&
	    rm__fold_end(&f) == RM_OK) {
		hdr_check_lines(&h);
		if (mode == 0)
			hdr_roundtrip(text, len, &h);
	}
	rm__buf_free(&h);
	free(text);
	return 0;
}
