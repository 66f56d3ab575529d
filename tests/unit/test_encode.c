/*
 * Unit tests for the encoders: base64, quoted-printable, RFC 2047
 * words, display names, RFC 2231 parameters, the date and the header
 * text checks. Cases 01, 02, 04, 05, 06 D, 14 A, 15 and 16 of
 * ../shared/cases/cases.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "mime_check.h"

/* Folds one header with the given builder and returns its text. */
typedef int (*build_fn)(rm__fold *f, const char *value);

static char *fold_header(const char *name, const char *value, build_fn fn)
{
	rm__buf b;
	rm__fold f;

	rm__buf_init(&b, 1 << 22);
	assert_int_equal(rm__fold_start(&f, &b, name), RM_OK);
	assert_int_equal(fn(&f, value), RM_OK);
	assert_int_equal(rm__fold_end(&f), RM_OK);
	return rm__buf_steal(&b);
}

static int build_subject(rm__fold *f, const char *v)
{
	return rm__fold_text(f, v, strlen(v), 75);
}

static int build_phrase(rm__fold *f, const char *v)
{
	return rm__fold_phrase(f, v);
}

static int build_filename(rm__fold *f, const char *v)
{
	int rc = rm__fold_atom(f, " ", 1, "attachment", 10);

	return rc == RM_OK ? rm__fold_param(f, "filename", v) : rc;
}

/* Checks the RFC 2047 rules of case 01: no white space inside a word,
 * each word at most 75 characters and surrounded by white space, every
 * line with a word at most 76 octets. */
static void check_words(const char *h)
{
	const char *p = h;

	assert_true(mc_longest_line(h) <= 76);
	while ((p = strstr(p, "=?")) != NULL) {
		const char *end = strstr(p + 2, "?=");
		size_t i;

		/* "=?" of the charset part: skip to the closing "?=". */
		assert_non_null(end);
		end = strstr(strstr(strstr(p + 2, "?") + 1, "?") + 1, "?=");
		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		for (i = 0; p + i < end; i++)
			assert_true(p[i] != ' ' && p[i] != '\t' &&
			            p[i] != '\r');
		assert_true(p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':');
		assert_true(end[2] == ' ' || end[2] == '\t' ||
		            end[2] == '\r');
		p = end + 2;
	}
}

/* Unfolds and decodes a whole header line "Name: value\r\n". */
static char *decoded_value(const char *h)
{
	char *unfolded = mc_unfold(h, strlen(h) - 2);
	char *value = strchr(unfolded, ':') + 1;
	char *out;

	while (*value == ' ')
		value++;
	out = mc_decode_2047(value);
	free(unfolded);
	return out;
}

static void roundtrip_subject(const char *subject)
{
	char *h = fold_header("Subject", subject, build_subject);
	char *d = decoded_value(h);

	check_words(h);
	assert_string_equal(d, subject);
	free(d);
	free(h);
}

/* ---------------------------------------------------------------------- */
/* Base64 (RFC 4648 section 10 vectors; case 15)                          */
/* ---------------------------------------------------------------------- */

static void encode__base64_rfc4648_vectors(void **state)
{
	static const char *const in[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar"
	};
	static const char *const out[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(in); i++) {
		rm__buf b, d;

		rm__buf_init(&b, 64);
		rm__buf_init(&d, 64);
		assert_int_equal(rm__base64_encode(&b, in[i], strlen(in[i])),
		                 RM_OK);
		assert_string_equal(b.data, out[i]);
		assert_int_equal(rm__base64_decode(&d, b.data, b.len), RM_OK);
		assert_int_equal(d.len, strlen(in[i]));
		assert_memory_equal(d.data, in[i], d.len);
		rm__buf_free(&b);
		rm__buf_free(&d);
	}
}

static void encode__base64_decode_refuses_garbage(void **state)
{
	rm__buf d;

	(void)state;
	rm__buf_init(&d, 64);
	assert_int_equal(rm__base64_decode(&d, "Zm9v!", 5), RM_EINVAL);
	assert_int_equal(rm__base64_decode(&d, "Zm9v\x01", 5), RM_EINVAL);
	rm__buf_free(&d);
}

static void encode__base64_case15_exact_lines(void **state)
{
	unsigned char data[64];
	char out[256];
	size_t i, n;
	rm__buf flat;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	n = rm__base64_lines(out, data, sizeof(data));
	assert_int_equal(n, rm__base64_lines_size(sizeof(data)));
	out[n] = '\0';
	assert_string_equal(out,
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
		"LS4vMDEyMzQ1Njc4\r\nOTo7PD0+Pw==\r\n");

	/* The unwrapped form, for JSON APIs, has no line break at all. */
	rm__buf_init(&flat, 256);
	assert_int_equal(rm__base64_encode(&flat, data, sizeof(data)), RM_OK);
	assert_string_equal(flat.data,
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
		"LS4vMDEyMzQ1Njc4OTo7PD0+Pw==");
	rm__buf_free(&flat);
}

static void encode__base64_lines_are_76(void **state)
{
	static unsigned char data[57 * 100 + 5];
	static char out[sizeof(data) * 2];
	unsigned char back[sizeof(data)];
	size_t i, n;
	char *line;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	n = rm__base64_lines(out, data, sizeof(data));
	assert_int_equal(n, rm__base64_lines_size(sizeof(data)));
	out[n] = '\0';
	assert_true(mc_all_crlf(out, n));
	for (line = out, i = 0; i < 100; i++) {
		char *end = strstr(line, "\r\n");

		assert_int_equal(end - line, 76);
		line = end + 2;
	}
	assert_int_equal(strlen(line), 8 + 2);
	assert_int_equal(mc_b64_decode(out, n, back), sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
}

/* ---------------------------------------------------------------------- */
/* Quoted-printable (RFC 2045 6.7; case 05 D, 06 D)                       */
/* ---------------------------------------------------------------------- */

static char *qp(const char *in, size_t len)
{
	rm__buf b;

	rm__buf_init(&b, 1 << 24);
	assert_int_equal(rm__qp_encode(&b, in, len), RM_OK);
	return rm__buf_steal(&b);
}

static void qp_roundtrip(const char *in, size_t len)
{
	char *enc = qp(in, len), *dec;
	size_t n;

	assert_true(mc_longest_line(enc) <= 76);
	assert_true(mc_all_crlf(enc, strlen(enc)));
	dec = mc_decode_qp(enc, &n);
	assert_int_equal(n, len);
	assert_memory_equal(dec, in, len);
	free(dec);
	free(enc);
}

static void encode__qp_escapes(void **state)
{
	char *e;

	(void)state;
	e = qp("a=b caf\xc3\xa9", 9);
	assert_string_equal(e, "a=3Db caf=C3=A9");
	free(e);

	/* White space before a line break or at the end is encoded. */
	e = qp("trail \r\ntab\t\r\nend ", 18);
	assert_string_equal(e, "trail=20\r\ntab=09\r\nend=20");
	free(e);

	/* A dot starting a line is =2E, so SMTP never sees ".\r\n". */
	e = qp("first\r\n.hidden\r\n.\r\n", 19);
	assert_string_equal(e, "first\r\n=2Ehidden\r\n=2E\r\n");
	free(e);
}

static void encode__qp_soft_breaks(void **state)
{
	char in[5000];
	char *e, *line;

	(void)state;
	memset(in, 'a', sizeof(in));
	e = qp(in, sizeof(in));
	assert_true(mc_longest_line(e) <= 76);
	line = strstr(e, "=\r\n");
	assert_non_null(line);
	assert_int_equal(line - e, 75);
	free(e);
	qp_roundtrip(in, sizeof(in));

	/* Escapes are never cut by a soft break. */
	memset(in, '=', 200);
	qp_roundtrip(in, 200);
}

static void encode__qp_dot_after_soft_break(void **state)
{
	char in[200];
	char *e;

	(void)state;
	/* 75 letters fill a line; the dot then starts the next one. */
	memset(in, 'x', 75);
	in[75] = '.';
	memcpy(in + 76, "tail", 4);
	e = qp(in, 80);
	assert_non_null(strstr(e, "=\r\n=2Etail"));
	free(e);
	qp_roundtrip(in, 80);
}

static void encode__qp_binary_roundtrip(void **state)
{
	char in[3000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 31 + (i >> 3));
	qp_roundtrip(in, sizeof(in));
	qp_roundtrip("\r\r\n\n \t\r\n", 8);
}

/* A small deterministic generator for the property tests. */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7FFF;
}

static void encode__qp_properties(void **state)
{
	static const char alphabet[] = "ab. \t=\r\n.\xc3\xa9-F";
	char in[600];
	unsigned seed = 7;
	int round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t len = next_rand(&seed) % sizeof(in), i;
		char *e;

		for (i = 0; i < len; i++)
			in[i] = alphabet[next_rand(&seed) %
			                 (sizeof(alphabet) - 1)];
		qp_roundtrip(in, len);

		/* No encoded line starts with "." (RFC 5321 4.5.2). */
		e = qp(in, len);
		assert_true(e[0] != '.');
		assert_null(strstr(e, "\r\n."));
		free(e);
	}
}

static void encode__crlf_normalize(void **state)
{
	char *out;
	size_t n;

	(void)state;
	assert_int_equal(rm__crlf_normalize("a\nb\rc\r\nd\n\r", 11, &out, &n),
	                 RM_OK);
	assert_string_equal(out, "a\r\nb\r\nc\r\nd\r\n\r\n");
	assert_int_equal(n, 15);
	free(out);
}

static void encode__cte_choice(void **state)
{
	char big[2000];

	(void)state;
	assert_int_equal(rm__choose_text_cte("plain\r\ntext\r\n", 13),
	                 RM__CTE_7BIT);
	assert_int_equal(rm__choose_text_cte("Gr\xc3\xbc\xc3\x9f" "e aus "
	                                     "K\xc3\xb6ln, viele Leute und "
	                                     "noch mehr Text", 49),
	                 RM__CTE_QP);
	/* Mostly non-ASCII: base64 is shorter. */
	assert_int_equal(rm__choose_text_cte(
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 12),
		RM__CTE_BASE64);
	/* A line over 998 octets cannot be 7bit (case 05 D). */
	memset(big, 'a', sizeof(big));
	assert_int_equal(rm__choose_text_cte(big, sizeof(big)), RM__CTE_QP);
	/* Text holding the boundary marker is never 7bit. */
	assert_int_equal(rm__choose_text_cte("x --=_rm_0001 y", 15),
	                 RM__CTE_QP);
	/* Wherever it is, after near misses, and only when whole. */
	assert_int_equal(rm__choose_text_cte("=_rm", 4), RM__CTE_QP);
	assert_int_equal(rm__choose_text_cte("a = b ==_r ==_rm", 16),
	                 RM__CTE_QP);
	assert_int_equal(rm__choose_text_cte("a = b ==_r =_r", 14),
	                 RM__CTE_7BIT);
	assert_int_equal(rm__choose_text_cte("=_r", 3), RM__CTE_7BIT);
	assert_int_equal(rm__choose_binary_cte(
		(const unsigned char *)"x=_rm", 5), RM__CTE_BASE64);
	assert_int_equal(rm__choose_binary_cte(
		(const unsigned char *)"x=_r=", 5), RM__CTE_7BIT);
	assert_int_equal(rm__choose_binary_cte(
		(const unsigned char *)"a\nb", 3), RM__CTE_BASE64);
	assert_int_equal(rm__choose_binary_cte(
		(const unsigned char *)"a\r\nb", 4), RM__CTE_7BIT);
}

/* ---------------------------------------------------------------------- */
/* RFC 2047 in unstructured text (cases 01, 05, 14)                       */
/* ---------------------------------------------------------------------- */

static void encode__case01_word_placement(void **state)
{
	char *h;

	(void)state;
	h = fold_header("Subject", "Administrat\xc3\xb6r meeting",
	                build_subject);
	assert_string_equal(h, "Subject: =?UTF-8?Q?Administrat=C3=B6r?= "
	                       "meeting\r\n");
	free(h);

	roundtrip_subject("Administrat\xc3\xb6r meeting");
	roundtrip_subject("Gr\xc3\xbc\xc3\x9f" "e K\xc3\xb6ln");
	roundtrip_subject("\xf0\x9f\x8e\x9f Ticket folding check for a "
	                  "deliberately long subject line with one emoji "
	                  "at the start");
	roundtrip_subject("a  \xc3\xbc  b\t\xc3\xa9");
	roundtrip_subject("=?UTF-8?Q?not_a_word?= plain");
}

static void encode__case01_long_non_ascii(void **state)
{
	char s[2000] = "";
	int i;

	(void)state;
	for (i = 0; i < 60; i++)
		strcat(s, i % 3 ? "\xc3\xa9t\xc3\xa9 " : "\xe2\x82\xac\xf0"
		       "\x9f\x98\x80 ");
	strcat(s, "fin");
	roundtrip_subject(s);
}

static void encode__rfc2047_properties(void **state)
{
	static const char *const pieces[] = {
		"a", "word", " ", "  ", "\t", "\xc3\xa9", "\xe2\x80\x93",
		"\xf0\x9f\x98\x80", "=?", "?=", "_", "x", "longerword"
	};
	char s[400];
	unsigned seed = 11;
	int round;

	(void)state;
	for (round = 0; round < 1500; round++) {
		size_t n = next_rand(&seed) % 60, i;

		s[0] = '\0';
		for (i = 0; i < n; i++)
			strcat(s, pieces[next_rand(&seed) %
			                 RM__ARRAY_LEN(pieces)]);
		/* Leading and trailing white space is not kept. */
		while (s[0] == ' ' || s[0] == '\t')
			memmove(s, s + 1, strlen(s));
		n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		if (n > 0)
			roundtrip_subject(s);
	}
}

static void encode__case05_long_subjects(void **state)
{
	char s[1300] = "25 changes:", u[80], *h, *unfolded;
	int i;

	(void)state;
	for (i = 1; i <= 25; i++) {
		snprintf(u, sizeof(u), " https://www.example.com/watch/"
		         "item-%02d/page.html", i);
		strcat(s, u);
	}
	assert_int_equal(strlen(s), 1211);
	h = fold_header("Subject", s, build_subject);
	assert_true(mc_longest_line(h) <= 78);
	assert_null(strstr(h, "=?"));
	unfolded = mc_unfold(h, strlen(h) - 2);
	assert_string_equal(unfolded + 9, s);
	free(unfolded);
	free(h);

	/* C: no fold point; a run of encoded-words decodes to the input. */
	memset(s, 'x', 1200);
	s[1200] = '\0';
	roundtrip_subject(s);
}

static void encode__case14_value_is_printable(void **state)
{
	char s[64] = "", *h;
	size_t i;
	int k;

	(void)state;
	for (k = 0; k < 20; k++)
		strcat(s, "\xc3\xa9");
	h = fold_header("X-Note", s, build_subject);
	for (i = 0; h[i] != '\0'; i++)
		assert_true(h[i] == '\r' || h[i] == '\n' ||
		            (h[i] >= 0x20 && h[i] < 0x7F));
	check_words(h);
	free(h);
	roundtrip_subject(s);
}

/* ---------------------------------------------------------------------- */
/* Display names (case 02)                                                */
/* ---------------------------------------------------------------------- */

static void expect_phrase(const char *name, const char *want)
{
	char *h = fold_header("From", name, build_phrase);
	char line[256];

	snprintf(line, sizeof(line), "From: %s\r\n", want);
	assert_string_equal(h, line);
	free(h);
}

static void encode__case02_display_names(void **state)
{
	(void)state;
	expect_phrase("Ada, VP of Engineering", "\"Ada, VP of Engineering\"");
	expect_phrase("Support (Billing)", "\"Support (Billing)\"");
	expect_phrase("Joe Q. Public", "\"Joe Q. Public\"");
	expect_phrase("Say \"Hi\" \\ Team", "\"Say \\\"Hi\\\" \\\\ Team\"");
	expect_phrase("M\xc3\xbcller, Hans", "=?UTF-8?Q?M=C3=BCller=2C_Hans?=");
	expect_phrase("Plain Name", "Plain Name");
	expect_phrase("=?x?", "=?UTF-8?B?PT94Pw==?=");
	expect_phrase("a =?UTF-8?Q?b?=", "=?UTF-8?B?YSA9P1VURi04P1E/Yj89?=");
}

static void encode__phrase_q_is_phrase_safe(void **state)
{
	char *h;
	const char *p;

	(void)state;
	h = fold_header("From", "\xc3\xa9 (a) \"b\" <c>, d.e;f:g@h?=_",
	                build_phrase);
	p = strstr(h, "?Q?");
	if (p != NULL) {
		/* RFC 2047 5 (3): only letters, digits, !*+-/=_ inside. */
		for (p += 3; strncmp(p, "?=", 2) != 0; p++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			                       "abcdefghijklmnopqrstuvwxyz"
			                       "0123456789!*+-/=_", *p));
	}
	free(h);
}

/* ---------------------------------------------------------------------- */
/* RFC 2231 parameters (case 04)                                          */
/* ---------------------------------------------------------------------- */

static void encode__case04a_long_ascii_filename(void **state)
{
	char name[1100] = "", *h, *p, joined[1100] = "", seg[128];
	int i, index = 0;

	(void)state;
	for (i = 0; i < 200; i++)
		strcat(name, "long ");
	strcat(name, ".png");
	assert_int_equal(strlen(name), 1004);
	h = fold_header("Content-Disposition", name, build_filename);
	assert_true(mc_longest_line(h) <= 78);
	assert_null(strstr(h, "=?"));

	/* Segments *0, *1, ... with no gap join to the input. */
	for (p = h; (p = strstr(p, "filename*")) != NULL; index++) {
		int n, used;

		assert_int_equal(sscanf(p, "filename*%d=\"%127[^\"]\"%n", &n,
		                        seg, &used), 2);
		assert_int_equal(n, index);
		strcat(joined, seg);
		p += used;
	}
	assert_string_equal(joined, name);
	free(h);
}

static void encode__case04b_utf8_filename(void **state)
{
	char *h, *u;

	(void)state;
	h = fold_header("Content-Disposition", "R\xc3\xa9sum\xc3\xa9 "
	                "\xe2\x80\x93 Q3 report (final).pdf", build_filename);
	assert_true(mc_longest_line(h) <= 78);
	u = mc_unfold(h, strlen(h));
	assert_string_equal(u, "Content-Disposition: attachment; "
	                    "filename*0*=utf-8''R%C3%A9sum%C3%A9%20%E2%80%93"
	                    "%20Q3%20report%20%28fina; filename*1*=l%29.pdf"
	                    "\r\n");
	free(u);
	free(h);

	h = fold_header("Content-Disposition", "\xc3\xa9.txt",
	                build_filename);
	assert_string_equal(h, "Content-Disposition: attachment; "
	                    "filename*=utf-8''%C3%A9.txt\r\n");
	free(h);
}

static void encode__case04_never_splits_triplets(void **state)
{
	char name[600] = "", *h, *p;
	int i;

	(void)state;
	for (i = 0; i < 150; i++)
		strcat(name, "\xe2\x80\x93");
	h = fold_header("Content-Disposition", name, build_filename);
	assert_true(mc_longest_line(h) <= 78);
	/* Each segment holds whole %XX triplets only. */
	for (p = h; (p = strchr(p, '%')) != NULL; p += 3) {
		assert_true(mc_hex(p[1]) >= 0);
		assert_true(mc_hex(p[2]) >= 0);
	}

	/* And whole characters: each en dash is three triplets. */
	for (p = h; (p = strstr(p, "*=")) != NULL; p += 2) {
		size_t triplets = 0;
		const char *q;

		for (q = p + 2; *q != ';' && *q != '\r'; q++)
			triplets += *q == '%';
		assert_int_equal(triplets % 3, 0);
	}
	free(h);
}

static void encode__short_ascii_filename(void **state)
{
	char *h;

	(void)state;
	h = fold_header("Content-Disposition", "my \"q\" file.pdf",
	                build_filename);
	assert_string_equal(h, "Content-Disposition: attachment; "
	                    "filename=\"my \\\"q\\\" file.pdf\"\r\n");
	free(h);
}

/* ---------------------------------------------------------------------- */
/* Date (case 16)                                                         */
/* ---------------------------------------------------------------------- */

static void encode__case16_date(void **state)
{
	char d[64];

	(void)state;
	/* 2024-01-02 03:04:05 UTC. */
	assert_int_equal(rm__format_date(d, sizeof(d), 1704164645, 0), RM_OK);
	assert_string_equal(d, "Tue, 2 Jan 2024 03:04:05 +0000");
	assert_int_equal(rm__format_date(d, sizeof(d), 1704164645, -330),
	                 RM_OK);
	assert_string_equal(d, "Mon, 1 Jan 2024 21:34:05 -0530");
	assert_int_equal(rm__format_date(d, sizeof(d), 1704164645, 345),
	                 RM_OK);
	assert_string_equal(d, "Tue, 2 Jan 2024 08:49:05 +0545");
	assert_int_equal(rm__format_date(d, sizeof(d), 0, 0), RM_OK);
	assert_string_equal(d, "Thu, 1 Jan 1970 00:00:00 +0000");
	assert_int_equal(rm__format_date(d, sizeof(d), 0, 24 * 60),
	                 RM_EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Header text checks (case 07)                                           */
/* ---------------------------------------------------------------------- */

static void encode__header_text_refuses_breaks(void **state)
{
	rm_error err;

	(void)state;
	assert_int_equal(rm__check_header_text("ok\ttext \xc3\xa9", 10,
	                                       "subject", &err), RM_OK);
	assert_int_equal(rm__check_header_text("a\r\nBcc: x", 9, "subject",
	                                       &err), RM_EINVAL);
	assert_string_equal(err.field, "subject");
	assert_int_equal(rm__check_header_text("a\nb", 3, "f", &err),
	                 RM_EINVAL);
	assert_int_equal(rm__check_header_text("a\0b", 3, "f", &err),
	                 RM_EINVAL);
	assert_int_equal(rm__check_header_text("a\xe2\x80\xa8" "b", 5, "f",
	                                       &err), RM_EINVAL);
	assert_int_equal(rm__check_header_text("a\xe2\x80\xa9" "b", 5, "f",
	                                       &err), RM_EINVAL);
	assert_int_equal(rm__check_header_text("a\xc2\x85" "b", 4, "f", &err),
	                 RM_EINVAL);
	assert_int_equal(rm__check_header_text("a\x1b" "b", 3, "f", &err),
	                 RM_EINVAL);
	assert_int_equal(rm__check_header_text("\xc3(", 2, "f", &err),
	                 RM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode__base64_rfc4648_vectors),
		cmocka_unit_test(encode__base64_decode_refuses_garbage),
		cmocka_unit_test(encode__base64_case15_exact_lines),
		cmocka_unit_test(encode__base64_lines_are_76),
		cmocka_unit_test(encode__qp_escapes),
		cmocka_unit_test(encode__qp_soft_breaks),
		cmocka_unit_test(encode__qp_dot_after_soft_break),
		cmocka_unit_test(encode__qp_binary_roundtrip),
		cmocka_unit_test(encode__qp_properties),
		cmocka_unit_test(encode__crlf_normalize),
		cmocka_unit_test(encode__cte_choice),
		cmocka_unit_test(encode__case01_word_placement),
		cmocka_unit_test(encode__case01_long_non_ascii),
		cmocka_unit_test(encode__rfc2047_properties),
		cmocka_unit_test(encode__case05_long_subjects),
		cmocka_unit_test(encode__case14_value_is_printable),
		cmocka_unit_test(encode__case02_display_names),
		cmocka_unit_test(encode__phrase_q_is_phrase_safe),
		cmocka_unit_test(encode__case04a_long_ascii_filename),
		cmocka_unit_test(encode__case04b_utf8_filename),
		cmocka_unit_test(encode__case04_never_splits_triplets),
		cmocka_unit_test(encode__short_ascii_filename),
		cmocka_unit_test(encode__case16_date),
		cmocka_unit_test(encode__header_text_refuses_breaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
