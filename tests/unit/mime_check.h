/*
 * Small, independent MIME readers for the message tests: unfolding,
 * RFC 2047 and quoted-printable decoding, header lookup and line
 * lengths. They are written from the RFCs, apart from the library, so
 * that the tests check the library's output rather than reuse its code.
 */
#ifndef RM_TEST_MIME_CHECK_H
#define RM_TEST_MIME_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest line of text (CRLF excluded). */
static inline size_t mc_longest_line(const char *text)
{
	size_t longest = 0, line = 0;

	for (; *text != '\0'; text++) {
		if (text[0] == '\r' && text[1] == '\n') {
			if (line > longest)
				longest = line;
			line = 0;
			text++;
			continue;
		}
		line++;
	}
	return line > longest ? line : longest;
}

/* 1 if every CR is followed by LF and every LF preceded by CR. */
static inline int mc_all_crlf(const char *t, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (t[i] == '\r' && (i + 1 == len || t[i + 1] != '\n'))
			return 0;
		if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

/* Unfolds a header (RFC 5322 2.2.3): removes each CRLF before WSP.
 * Returns a malloc'd string. */
static inline char *mc_unfold(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 2 < len + 1 && s[i + 1] == '\n' &&
		    (s[i + 2] == ' ' || s[i + 2] == '\t')) {
			i++;
			continue;
		}
		out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/*
 * The value of the first header field called name in a message (the
 * part before the first empty line), unfolded, without the "Name: ";
 * NULL when absent. Malloc'd.
 */
static inline char *mc_header(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = msg;

	while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *end = p;

		/* The field runs to a CRLF not followed by WSP. */
		while (*end != '\0' && !(end[0] == '\r' && end[1] == '\n' &&
		                         end[2] != ' ' && end[2] != '\t'))
			end++;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ')
				v++;
			return mc_unfold(v, (size_t)(end - v));
		}
		p = *end != '\0' ? end + 2 : end;
	}
	return NULL;
}

/* The raw (folded) text of a header field, with "Name:" and the CRLFs
 * inside it. Malloc'd; NULL when absent. */
static inline char *mc_raw_header(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = msg;

	while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *end = p;
		char *out;

		while (*end != '\0' && !(end[0] == '\r' && end[1] == '\n' &&
		                         end[2] != ' ' && end[2] != '\t'))
			end++;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			out = malloc((size_t)(end - p) + 1);
			memcpy(out, p, (size_t)(end - p));
			out[end - p] = '\0';
			return out;
		}
		p = *end != '\0' ? end + 2 : end;
	}
	return NULL;
}

static inline int mc_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline size_t mc_b64_decode(const char *s, size_t len,
                                   unsigned char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                        "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0, bits = 0;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		const char *p = s[i] != '\0' ? strchr(a, s[i]) : NULL;

		if (p == NULL)
			continue;
		v = (v << 6) | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	return n;
}

/* Decodes one encoded-word at s (which starts with "=?"); returns its
 * length or 0 if it is not one. Appends the text to out. */
static inline size_t mc_word(const char *s, char *out, size_t *n)
{
	const char *q1 = strchr(s + 2, '?'), *q2, *end;
	size_t i;

	if (q1 == NULL || q1[1] == '\0' || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	end = strstr(q2 + 1, "?=");
	if (end == NULL)
		return 0;
	for (i = 0; s + i < end; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')
			return 0;
	if (q1[1] == 'B' || q1[1] == 'b') {
		*n += mc_b64_decode(q2 + 1, (size_t)(end - q2 - 1),
		                    (unsigned char *)out + *n);
	} else {
		const char *p;

		for (p = q2 + 1; p < end; p++) {
			if (*p == '_')
				out[(*n)++] = ' ';
			else if (*p == '=' && p + 2 < end + 1) {
				out[(*n)++] = (char)(mc_hex(p[1]) * 16 +
				                     mc_hex(p[2]));
				p += 2;
			} else
				out[(*n)++] = *p;
		}
	}
	return (size_t)(end + 2 - s);
}

/*
 * Decodes an unfolded unstructured value (RFC 2047 6.2): encoded-words
 * are decoded and white space between two adjacent ones is dropped.
 * Malloc'd.
 */
static inline char *mc_decode_2047(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1);
	size_t n = 0, w;
	int last_word = 0;

	while (*s != '\0') {
		size_t ws = strspn(s, " \t");

		if (last_word && s[ws] == '=' && s[ws + 1] == '?') {
			size_t save = n;

			w = mc_word(s + ws, out, &n);
			if (w > 0) {
				s += ws + w;
				continue;
			}
			n = save;
		}
		if (s[0] == '=' && s[1] == '?' && (w = mc_word(s, out, &n))) {
			s += w;
			last_word = 1;
			continue;
		}
		out[n++] = *s++;
		last_word = 0;
	}
	out[n] = '\0';
	return out;
}

/* Decodes quoted-printable (RFC 2045 6.7). Malloc'd; *len its size. */
static inline char *mc_decode_qp(const char *s, size_t *len)
{
	char *out = malloc(strlen(s) + 1);
	size_t n = 0;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && mc_hex(s[1]) >= 0 &&
		           mc_hex(s[2]) >= 0) {
			out[n++] = (char)(mc_hex(s[1]) * 16 + mc_hex(s[2]));
			s += 3;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

#endif /* RM_TEST_MIME_CHECK_H */
