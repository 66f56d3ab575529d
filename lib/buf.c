/*
 * Bounded growable buffers and small string helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/platform_util.h>

#include "internal.h"

void rm__buf_init(rm__buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void rm__buf_free(rm__buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void rm__buf_reset(rm__buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Makes room for extra more bytes plus the terminating NUL. */
static int buf_reserve(rm__buf *b, size_t extra)
{
	size_t need, cap;
	char *data;

	if (extra > b->max || b->len > b->max - extra)
		return RM_ELIMIT;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return RM_OK;

	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	data = realloc(b->data, cap);
	if (data == NULL)
		return RM_ENOMEM;
	b->data = data;
	b->cap = cap;
	return RM_OK;
}

int rm__buf_append(rm__buf *b, const void *data, size_t len)
{
	int rc = buf_reserve(b, len);

	if (rc != RM_OK)
		return rc;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return RM_OK;
}

int rm__buf_append_str(rm__buf *b, const char *s)
{
	return rm__buf_append(b, s, strlen(s));
}

int rm__buf_append_byte(rm__buf *b, char c)
{
	return rm__buf_append(b, &c, 1);
}

int rm__buf_printf(rm__buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return RM_EINVAL;

	rc = buf_reserve(b, (size_t)n);
	if (rc != RM_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return RM_OK;
}

char *rm__buf_steal(rm__buf *b)
{
	char *data = b->data;

	if (data == NULL)
		data = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return data;
}

void rm__wipe(void *p, size_t len)
{
	if (p != NULL)
		mbedtls_platform_zeroize(p, len);
}

void rm__free_secret(char *s)
{
	if (s == NULL)
		return;
	rm__wipe(s, strlen(s));
	free(s);
}

void rm__buf_free_secret(rm__buf *b)
{
	rm__wipe(b->data, b->cap);
	rm__buf_free(b);
}

const char rm__hex_upper[17] = "0123456789ABCDEF";

int rm__buf_append_pct(rm__buf *b, unsigned char c)
{
	char esc[3];

	esc[0] = '%';
	esc[1] = rm__hex_upper[c >> 4];
	esc[2] = rm__hex_upper[c & 15];
	return rm__buf_append(b, esc, sizeof(esc));
}

void rm__hex_lower(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int rm__buf_append_quoted(rm__buf *b, const char *s, size_t len)
{
	size_t i;
	int rc = rm__buf_append_byte(b, '"');

	for (i = 0; rc == RM_OK && i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			rc = rm__buf_append_byte(b, '\\');
		if (rc == RM_OK)
			rc = rm__buf_append_byte(b, s[i]);
	}
	return rc == RM_OK ? rm__buf_append_byte(b, '"') : rc;
}

char *rm__strdup(const char *s)
{
	return s == NULL ? NULL : rm__strndup(s, strlen(s));
}

char *rm__strndup(const char *s, size_t n)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = malloc(n + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int rm__strncaseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int ca = ascii_lower((unsigned char)a[i]);
		int cb = ascii_lower((unsigned char)b[i]);

		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
	return 1;
}

int rm__strcaseeq(const char *a, const char *b)
{
	return rm__strncaseeq(a, b, (size_t)-1);
}

int rm__has_crlf_nul(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 1;
	}
	return 0;
}

/* Length of the UTF-8 sequence starting at s, or 0 if it is invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;

	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Skips the run of ASCII bytes at p, eight at a time where it can. */
static size_t ascii_run(const unsigned char *p, size_t left)
{
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0;
	uint64_t word;

	while (left - i >= sizeof(word)) {
		memcpy(&word, p + i, sizeof(word));
		if (word & high)
			break;
		i += sizeof(word);
	}
	while (i < left && p[i] < 0x80)
		i++;
	return i;
}

int rm__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		i += ascii_run(p + i, len - i);
		if (i == len)
			break;
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int rm__random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return RM_EIO;
		}
		p += got;
		n -= (size_t)got;
	}
	return RM_OK;
}
