/*
 * Transfer encodings for message bodies and checks shared by the
 * header encoders.
 *
 * Standards: RFC 2045 (sections 2.7, 6.7 quoted-printable, 6.8 base64),
 * RFC 4648 (base64 alphabet), RFC 5322 section 2.1.1 (998-octet lines).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "internal.h"

/* RFC 5322 section 2.1.1: at most 998 octets before the CRLF. */
#define LINE_MAX_OCTETS 998

/* A marker every boundary the writer makes starts with, see writer.c. */
#define BOUNDARY_MARK "=_rm"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Every 12-bit value as its two base64 characters, so that three input
 * bytes take two lookups instead of four: the encoder's inner loop is
 * what bounds attachment throughput.
 */
#define B64_CHAR(v) ((char)((v) < 26 ? 'A' + (v) : (v) < 52 ? \
	'a' + (v) - 26 : (v) < 62 ? '0' + (v) - 52 : (v) == 62 ? '+' : '/'))
#define B64_PAIR(v) B64_CHAR((v) >> 6), B64_CHAR((v) & 63)
#define B64_P4(v) B64_PAIR(v), B64_PAIR((v) + 1), B64_PAIR((v) + 2), \
	B64_PAIR((v) + 3)
#define B64_P16(v) B64_P4(v), B64_P4((v) + 4), B64_P4((v) + 8), \
	B64_P4((v) + 12)
#define B64_P64(v) B64_P16(v), B64_P16((v) + 16), B64_P16((v) + 32), \
	B64_P16((v) + 48)
#define B64_P256(v) B64_P64(v), B64_P64((v) + 64), B64_P64((v) + 128), \
	B64_P64((v) + 192)
#define B64_P1024(v) B64_P256(v), B64_P256((v) + 256), \
	B64_P256((v) + 512), B64_P256((v) + 768)

static const char b64_pairs[8192] = {
	B64_P1024(0), B64_P1024(1024), B64_P1024(2048), B64_P1024(3072)
};

/* The six bytes at p as a big-endian number; reads eight bytes. */
static uint64_t load_be48(const unsigned char *p)
{
	uint64_t v;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p, 8);
	v = __builtin_bswap64(v);
#else
	v = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16;
#endif
	return v >> 16;
}

/* Encodes len (at most 57) bytes as one unbroken run; returns its size. */
static size_t b64_run(char *dst, const unsigned char *src, size_t len)
{
	char *d = dst;

	/* Six bytes at a time, while eight can be read. */
	while (len >= 8) {
		uint64_t v = load_be48(src);

		memcpy(d, b64_pairs + 2 * (v >> 36), 2);
		memcpy(d + 2, b64_pairs + 2 * ((v >> 24) & 0xfff), 2);
		memcpy(d + 4, b64_pairs + 2 * ((v >> 12) & 0xfff), 2);
		memcpy(d + 6, b64_pairs + 2 * (v & 0xfff), 2);
		d += 8;
		src += 6;
		len -= 6;
	}
	while (len >= 3) {
		uint32_t v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 |
		             src[2];

		memcpy(d, b64_pairs + 2 * (v >> 12), 2);
		memcpy(d + 2, b64_pairs + 2 * (v & 0xfff), 2);
		d += 4;
		src += 3;
		len -= 3;
	}
	if (len > 0) {
		uint32_t v = (uint32_t)src[0] << 16;

		if (len == 2)
			v |= (uint32_t)src[1] << 8;
		d[0] = b64_alphabet[v >> 18];
		d[1] = b64_alphabet[(v >> 12) & 63];
		d[2] = len == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
		d[3] = '=';
		d += 4;
	}
	return (size_t)(d - dst);
}

int rm__base64_encode(rm__buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char block[4096];

	/* 3072 input bytes make exactly 4096 characters. */
	while (len > 0) {
		size_t n = len > 3072 ? 3072 : len;
		int rc = rm__buf_append(out, block, b64_run(block, p, n));

		if (rc != RM_OK)
			return rc;
		p += n;
		len -= n;
	}
	return rm__buf_append(out, "", 0);
}

int rm__base64_decode(rm__buf *out, const char *text, size_t len)
{
	size_t need = 0;
	unsigned char *tmp;
	int rc;

	/* mbedTLS checks the alphabet and the padding for us. */
	mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)text,
	                      len);
	tmp = malloc(need + 1);
	if (tmp == NULL)
		return RM_ENOMEM;
	if (mbedtls_base64_decode(tmp, need + 1, &need,
	                          (const unsigned char *)text, len) != 0) {
		free(tmp);
		return RM_EINVAL;
	}
	rc = rm__buf_append(out, tmp, need);
	free(tmp);
	return rc;
}

size_t rm__base64_lines_size(size_t len)
{
	size_t lines = (len + 56) / 57;

	return (len + 2) / 3 * 4 + lines * 2;
}

size_t rm__base64_lines(char *dst, const unsigned char *src, size_t len)
{
	char *d = dst;

	/* 57 input bytes give one 76-character line (RFC 2045 6.8); the
	 * constant length lets the compiler unroll the whole line. */
	for (; len >= 57; len -= 57, src += 57) {
		d += b64_run(d, src, 57);
		*d++ = '\r';
		*d++ = '\n';
	}
	if (len > 0) {
		d += b64_run(d, src, len);
		*d++ = '\r';
		*d++ = '\n';
	}
	return (size_t)(d - dst);
}

const char *rm__cte_name(rm__cte cte)
{
	switch (cte) {
	case RM__CTE_7BIT:
		return "7bit";
	case RM__CTE_QP:
		return "quoted-printable";
	case RM__CTE_BASE64:
		return "base64";
	}
	return "base64";
}

int rm__crlf_normalize(const char *text, size_t len, char **out,
                       size_t *out_len)
{
	const char *cr;
	size_t i, n = 0;
	char *d;

	/* Worst case every byte is a bare CR or LF and doubles. */
	if (len > (SIZE_MAX - 1) / 2)
		return RM_ELIMIT;
	d = malloc(len * 2 + 1);
	if (d == NULL)
		return RM_ENOMEM;

	/* Whole lines are copied at once: memchr finds the line ends far
	 * faster than a test of every byte. The next CR is looked for again
	 * only once it was passed, so the text is read once. */
	cr = memchr(text, '\r', len);
	for (i = 0; i < len; ) {
		const char *lf = memchr(text + i, '\n', len - i);
		const char *end = text + len, *brk;

		brk = lf != NULL ? lf : end;
		if (cr != NULL && cr < brk)
			brk = cr;
		memcpy(d + n, text + i, (size_t)(brk - text) - i);
		n += (size_t)(brk - text) - i;
		if (brk == end)
			break;
		i = (size_t)(brk - text) + 1;
		if (*brk == '\r') {
			if (i < len && text[i] == '\n')
				i++;
			cr = memchr(text + i, '\r', len - i);
		}
		d[n++] = '\r';
		d[n++] = '\n';
	}
	d[n] = '\0';
	*out = d;
	*out_len = n;
	return RM_OK;
}

/*
 * 1 if the boundary marker occurs in p. Its first byte, '=', is rare in
 * text, so memchr (vectorised in libc) skips most of the text; glibc's
 * memmem, built for any needle, looks at every byte.
 */
static int has_marker(const unsigned char *p, size_t len)
{
	const size_t mark_len = sizeof(BOUNDARY_MARK) - 1;
	const unsigned char *end = p + len, *at = p;

	while ((size_t)(end - at) >= mark_len &&
	       (at = memchr(at, BOUNDARY_MARK[0],
	                    (size_t)(end - at) - mark_len + 1)) != NULL) {
		if (memcmp(at, BOUNDARY_MARK, mark_len) == 0)
			return 1;
		at++;
	}
	return 0;
}

/* What a scan of a part's bytes found. */
typedef struct scan {
	size_t high;        /* bytes >= 0x80 */
	size_t longest;     /* longest line, CRLF excluded */
	int nul;            /* a NUL byte (RFC 2045 2.7 forbids it in 7bit) */
	int bare;           /* a CR or LF that is not part of a CRLF */
	int marker;         /* the boundary marker occurs */
} scan;

/* 1 if the eight bytes at p are all printable ASCII (0x20 to 0x7e). */
static int printable8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = ones << 7;
	uint64_t x;

	memcpy(&x, p, 8);

	/* A byte below 0x20 borrows into its high bit; a byte of 0x7f or
	 * more has it set, or sets it when 1 is added (a carry out of 0xff
	 * only reaches a byte already found). */
	return (((x - 0x20 * ones) & ~x) | ((x + ones) | x)) & highs ? 0 : 1;
}

static void scan_bytes(const unsigned char *p, size_t len, scan *s)
{
	size_t i, line = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < len; i++) {
		/* Printable ASCII, by far the most common, needs one test, and
		 * eight bytes of it at a time need one test for all eight. */
		while (i + 8 <= len && printable8(p + i)) {
			line += 8;
			i += 8;
		}
		if (i == len)
			break;
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			line++;
			continue;
		}
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			if (line > s->longest)
				s->longest = line;
			line = 0;
			i++;
			continue;
		}
		if (p[i] == '\r' || p[i] == '\n')
			s->bare = 1;
		else if (p[i] == '\0')
			s->nul = 1;
		else if (p[i] >= 0x80)
			s->high++;
		line++;
	}
	if (line > s->longest)
		s->longest = line;
	s->marker = has_marker(p, len);
}

static int scan_is_7bit(const scan *s)
{
	return s->high == 0 && !s->nul && !s->bare && !s->marker &&
	       s->longest <= LINE_MAX_OCTETS;
}

rm__cte rm__choose_text_cte(const char *text, size_t len)
{
	scan s;
	size_t qp, b64;

	scan_bytes((const unsigned char *)text, len, &s);
	if (scan_is_7bit(&s))
		return RM__CTE_7BIT;

	/* Quoted-printable costs 3 octets per escaped byte, base64 4/3 per
	 * byte: take the smaller, quoted-printable on a tie since it stays
	 * readable. */
	qp = len + 2 * s.high;
	b64 = (len + 2) / 3 * 4;
	return qp <= b64 ? RM__CTE_QP : RM__CTE_BASE64;
}

/*
 * The same test as scan_is_7bit, but it stops at the first byte that
 * rules 7bit out: attachments are mostly binary, and counting every
 * byte of a large one cost more than encoding it.
 */
static int bytes_are_7bit(const unsigned char *p, size_t len)
{
	size_t i, line = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			line = 0;
			i++;
			continue;
		}
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0' ||
		    p[i] >= 0x80 || ++line > LINE_MAX_OCTETS)
			return 0;
	}
	return !has_marker(p, len);
}

rm__cte rm__choose_binary_cte(const unsigned char *data, size_t len)
{
	return bytes_are_7bit(data, len) ? RM__CTE_7BIT : RM__CTE_BASE64;
}

/* ---------------------------------------------------------------------- */
/* Quoted-printable, RFC 2045 section 6.7                                 */
/* ---------------------------------------------------------------------- */

/* The longest encoded line, the soft-break "=" excluded (rule 5). */
#define QP_LINE 75

void rm__qp_init(rm__qp *q, const void *src, size_t len)
{
	q->src = src;
	q->len = len;
	q->pos = 0;
	q->col = 0;
}

/* 1 if the byte at i is a CR that starts a CRLF hard line break. */
static int qp_at_crlf(const rm__qp *q, size_t i)
{
	return i + 1 < q->len && q->src[i] == '\r' && q->src[i + 1] == '\n';
}

/*
 * 1 if the byte at pos may stay literal: printable ASCII but "=" (rule 2),
 * white space not ending a line (rule 3), and not a "." starting a line,
 * which SMTP would otherwise have to dot-stuff (RFC 5321 4.5.2).
 */
static int qp_literal(const rm__qp *q, size_t pos, size_t col)
{
	unsigned char c = q->src[pos];

	if (c == ' ' || c == '\t')
		return pos + 1 < q->len && !qp_at_crlf(q, pos + 1);
	if (c == '.' && col == 0)
		return 0;
	return c >= 33 && c <= 126 && c != '=';
}

/*
 * What the fast path does with each byte: 0 writes it as it is, 1 escapes
 * it as =XX, 2 (tab, CR, space) depends on what follows and is left to
 * the byte-by-byte path when in doubt.
 */
static const unsigned char qp_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/*
 * Encodes from pos while no line break is due and no byte needs a look
 * ahead: most of any text. Returns the bytes written into d (0 when the
 * next byte needs the careful path). A "." can start a line only where
 * this begins, so only that place is checked.
 */
static size_t qp_fast(rm__qp *q, char *d, size_t room)
{
	const unsigned char *s = q->src;
	size_t i = q->pos, col = q->col, n = 0, end = q->len - 1;

	if (col == 0 && i < q->len && s[i] == '.')
		return 0;

	/* A byte writes at most three, so room/3 bytes always fit; the last
	 * byte, whose look-ahead would be the end, is left to the careful
	 * path, and so are the last columns of a line. */
	if (i >= end)
		return 0;
	if (end - i > room / 3)
		end = i + room / 3;
	for (; i < end && col <= QP_LINE - 3; i++) {
		unsigned char c = s[i], cls = qp_class[c];

		if (cls == 1) {
			d[n] = '=';
			d[n + 1] = rm__hex_upper[c >> 4];
			d[n + 2] = rm__hex_upper[c & 15];
			n += 3;
			col += 3;
			continue;
		}
		if (cls == 2 && (c == '\r' || s[i + 1] == '\r'))
			break;
		d[n++] = (char)c;
		col++;
	}
	q->pos = i;
	q->col = col;
	return n;
}

size_t rm__qp_encode_some(rm__qp *q, char *dst, size_t room)
{
	char *d = dst;

	while (q->pos < q->len && (size_t)(d - dst) + RM__QP_MIN_ROOM <= room) {
		size_t i = q->pos, run;
		int lit;

		if (qp_at_crlf(q, i)) {
			*d++ = '\r';
			*d++ = '\n';
			q->col = 0;
			q->pos += 2;
			continue;
		}
		run = qp_fast(q, d, room - (size_t)(d - dst));
		if (run > 0) {
			d += run;
			continue;
		}
		lit = qp_literal(q, i, q->col);
		if (q->col + (lit ? 1 : 3) > QP_LINE) {
			memcpy(d, "=\r\n", 3);
			d += 3;
			q->col = 0;
			lit = qp_literal(q, i, 0);
		}
		if (lit) {
			*d++ = (char)q->src[i];
		} else {
			*d++ = '=';
			*d++ = rm__hex_upper[q->src[i] >> 4];
			*d++ = rm__hex_upper[q->src[i] & 15];
		}
		q->col += lit ? 1 : 3;
		q->pos++;
	}
	return (size_t)(d - dst);
}

int rm__qp_encode(rm__buf *out, const void *src, size_t len)
{
	char block[4096];
	rm__qp q;

	rm__qp_init(&q, src, len);
	while (q.pos < q.len) {
		size_t n = rm__qp_encode_some(&q, block, sizeof(block));
		int rc = rm__buf_append(out, block, n);

		if (rc != RM_OK)
			return rc;
	}
	return rm__buf_append(out, "", 0);
}

/* ---------------------------------------------------------------------- */
/* Header text checks                                                     */
/* ---------------------------------------------------------------------- */

/* The code point of the valid UTF-8 sequence at p, and its length. */
static uint32_t utf8_decode(const unsigned char *p, size_t *n)
{
	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xE0) {
		*n = 2;
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	}
	if (p[0] < 0xF0) {
		*n = 3;
		return (uint32_t)(p[0] & 0x0F) << 12 |
		       (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	}
	*n = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
	       (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static int is_line_breaking(uint32_t cp)
{
	return cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

int rm__check_header_text(const char *text, size_t len, const char *field,
                          rm_error *err)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n;

	if (rm__has_crlf_nul(text, len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s contains CR, LF or NUL; line breaks are "
		                "refused in header fields (RFC 5322 2.2)",
		                field);
	if (!rm__utf8_valid(text, len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s is not valid UTF-8", field);

	while (i < len) {
		uint32_t cp = utf8_decode(p + i, &n);

		if ((cp < 0x20 && cp != '\t') || cp == 0x7F ||
		    is_line_breaking(cp))
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
			                "%s contains the control character "
			                "U+%04X at byte %zu", field,
			                (unsigned)cp, i);
		i += n;
	}
	return RM_OK;
}
