/*
 * Header injection, as a table: every payload through every field a
 * caller can set. Each call must either refuse the value (RM_EINVAL, or
 * RM_ELIMIT for the oversized ones) naming the field, or take it in a
 * harmless form: the message written afterwards has CRLF line ends only
 * and no line that is not a fold, a boundary, the fixed body or a header
 * field the library writes. No payload may add a header (Bcc,
 * X-Injected...) or an SMTP command. The transport URL parts (ehlo,
 * user, password) are checked at rm_transport_open. Case 07.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#define RM_FUZZ_REPLAY 1
/* msg_check: the line rules of the message fuzz target. */
#include "../fuzz/fuzz_message.c"

/* A payload; len (size_t)-1 means strlen. */
typedef struct payload {
	const char *name;
	const char *text;
	int harmless;   /* may be accepted (then must be written inertly) */
} payload;

#define BCC "Bcc: victim@example.org"

static const payload payloads[] = {
	{ "CRLF", "\r\n" BCC, 0 },
	{ "LF", "\n" BCC, 0 },
	{ "CR", "\r" BCC, 0 },
	{ "CRLF CRLF body", "\r\n\r\nsmuggled body", 0 },
	{ "CRLF SP fold", "\r\n X-Folded: 1", 0 },
	{ "CRLF HTAB fold", "\r\n\tX-Folded: 1", 0 },
	{ "LF LF", "\n\n", 0 },
	{ "trailing CR", "\r", 0 },
	{ "trailing LF", "\n", 0 },
	{ "CRLF dot CRLF", "\r\n.\r\nMAIL FROM:<spoof@example.org>", 0 },
	{ "LF dot LF", "\n.\nRCPT TO:<victim@example.org>", 0 },
	{ "CR LF split", "\r\r\n" BCC, 0 },
	{ "U+2028", "\xe2\x80\xa8" BCC, 0 },
	{ "U+2029", "\xe2\x80\xa9" BCC, 0 },
	{ "U+0085", "\xc2\x85" BCC, 0 },
	{ "bare 0x85", "\x85" BCC, 0 },
	{ "overlong CR LF", "\xc0\x8d\xc0\x8a" BCC, 0 },
	{ "overlong 3-byte CR", "\xe0\x80\x8d" BCC, 0 },
	{ "surrogate", "\xed\xa0\x80" BCC, 0 },
	{ "VT", "\x0b" BCC, 0 },
	{ "FF", "\x0c" BCC, 0 },
	{ "ESC", "\x1b[2J" BCC, 0 },
	{ "DEL", "\x7f" BCC, 0 },
	{ "NUL then CRLF", "\0\r\n" BCC, 1 },
	{ "QP =0D=0A", "=0D=0A" BCC, 1 },
	{ "encoded word CRLF", " =?utf-8?q?=0D=0ABcc:_v@example.org?=", 1 },
	{ "encoded word B", " =?UTF-8?B?DQpCY2M6IHZAZXhhbXBsZS5vcmc=?=", 1 },
	{ "percent CRLF", "%0D%0A" BCC, 1 },
	{ "HTML entity", "&#13;&#10;" BCC, 1 },
	{ "backslash r n", "\\r\\n" BCC, 1 },
	{ "quote CRLF", "\"\r\n" BCC, 0 },
	{ "angle CRLF", ">\r\n" BCC, 0 },
	{ "comma LF", ",\n" BCC, 0 },
	{ "TAB", "\t" BCC, 1 },
};

/* Very long values: made at run time. */
enum { LONG_PLAIN, LONG_WITH_CRLF, LONG_COUNT };

typedef int (*setter)(rm_message *m, const char *v, rm_error *err,
                      const char **extra);

static int set_from(rm_message *m, const char *v, rm_error *e,
                    const char **x)
{
	(void)x;
	return rm_message_set_from(m, v, NULL, e);
}

static int set_from_name(rm_message *m, const char *v, rm_error *e,
                         const char **x)
{
	(void)x;
	return rm_message_set_from(m, "a@example.com", v, e);
}

static int set_sender(rm_message *m, const char *v, rm_error *e,
                      const char **x)
{
	(void)x;
	return rm_message_set_sender(m, v, NULL, e);
}

static int set_sender_name(rm_message *m, const char *v, rm_error *e,
                           const char **x)
{
	(void)x;
	return rm_message_set_sender(m, "s@example.com", v, e);
}

static int add_to(rm_message *m, const char *v, rm_error *e, const char **x)
{
	(void)x;
	return rm_message_add_to(m, v, NULL, e);
}

static int add_to_name(rm_message *m, const char *v, rm_error *e,
                       const char **x)
{
	(void)x;
	return rm_message_add_to(m, "t@example.net", v, e);
}

static int add_cc(rm_message *m, const char *v, rm_error *e, const char **x)
{
	(void)x;
	return rm_message_add_cc(m, v, NULL, e);
}

static int add_cc_name(rm_message *m, const char *v, rm_error *e,
                       const char **x)
{
	(void)x;
	return rm_message_add_cc(m, "cc@example.net", v, e);
}

static int add_bcc(rm_message *m, const char *v, rm_error *e,
                   const char **x)
{
	(void)x;
	return rm_message_add_bcc(m, v, NULL, e);
}

static int add_bcc_name(rm_message *m, const char *v, rm_error *e,
                        const char **x)
{
	(void)x;
	return rm_message_add_bcc(m, "bcc@example.net", v, e);
}

static int add_reply_to(rm_message *m, const char *v, rm_error *e,
                        const char **x)
{
	(void)x;
	return rm_message_add_reply_to(m, v, NULL, e);
}

static int add_reply_to_name(rm_message *m, const char *v, rm_error *e,
                             const char **x)
{
	(void)x;
	return rm_message_add_reply_to(m, "r@example.net", v, e);
}

static int set_subject(rm_message *m, const char *v, rm_error *e,
                       const char **x)
{
	(void)x;
	return rm_message_set_subject(m, v, e);
}

static int add_header_name(rm_message *m, const char *v, rm_error *e,
                           const char **x)
{
	int rc = rm_message_add_header(m, v, "1", e);

	if (rc == RM_OK)
		*x = v;
	return rc;
}

static int add_header_value(rm_message *m, const char *v, rm_error *e,
                            const char **x)
{
	(void)x;
	return rm_message_add_header(m, "X-Fuzz", v, e);
}

static int set_message_id(rm_message *m, const char *v, rm_error *e,
                          const char **x)
{
	(void)x;
	return rm_message_set_message_id(m, v, e);
}

static int set_in_reply_to(rm_message *m, const char *v, rm_error *e,
                           const char **x)
{
	(void)x;
	return rm_message_set_in_reply_to(m, v, e);
}

static int add_reference(rm_message *m, const char *v, rm_error *e,
                         const char **x)
{
	(void)x;
	return rm_message_add_reference(m, v, e);
}

static int attach(rm_message *m, const char *filename, const char *ctype,
                  const char *cid, rm_error *e)
{
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;

	o.filename = filename;
	o.content_type = ctype;
	o.content_id = cid;
	return rm_message_attach_data(m, "data", 4, &o, e);
}

static int set_filename(rm_message *m, const char *v, rm_error *e,
                        const char **x)
{
	(void)x;
	return attach(m, v, NULL, NULL, e);
}

static int set_content_type(rm_message *m, const char *v, rm_error *e,
                            const char **x)
{
	(void)x;
	return attach(m, "a.txt", v, NULL, e);
}

static int set_content_id(rm_message *m, const char *v, rm_error *e,
                          const char **x)
{
	(void)x;
	return attach(m, "a.txt", NULL, v, e);
}

static int set_envelope_from(rm_message *m, const char *v, rm_error *e,
                             const char **x)
{
	(void)x;
	return rm_message_set_envelope_from(m, v, e);
}

typedef struct field {
	const char *name;    /* the field the error must name (prefix) */
	setter set;
	const char *base;    /* the payload is appended to this */
} field;

static const field fields[] = {
	{ "from", set_from, "a@example.com" },
	{ "from", set_from_name, "Alice" },
	{ "sender", set_sender, "s@example.com" },
	{ "sender", set_sender_name, "Sam" },
	{ "to", add_to, "t@example.net" },
	{ "to", add_to_name, "Tom" },
	{ "cc", add_cc, "cc@example.net" },
	{ "cc", add_cc_name, "Cecil" },
	{ "bcc", add_bcc, "bcc@example.net" },
	{ "bcc", add_bcc_name, "Bea" },
	{ "reply_to", add_reply_to, "r@example.net" },
	{ "reply_to", add_reply_to_name, "Rita" },
	{ "subject", set_subject, "Hello" },
	{ "header.name", add_header_name, "X-Tag" },
	{ "header.value", add_header_value, "ok" },
	{ "message_id", set_message_id, "id@example.com" },
	{ "in_reply_to", set_in_reply_to, "<p@example.com>" },
	{ "references", add_reference, "<q@example.com>" },
	{ "filename", set_filename, "a.txt" },
	{ "content_type", set_content_type, "text/plain" },
	{ "content_id", set_content_id, "cid1" },
	{ "envelope_from", set_envelope_from, "bounce@example.com" },
};

static rm_message *base_message(void)
{
	rm_message *m;

	assert_int_equal(rm_message_new(&m, NULL), RM_OK);
	assert_int_equal(rm_message_set_from(m, "a@example.com", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_add_to(m, "b@example.net", NULL, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_set_text(m, "hello", (size_t)-1, NULL),
	                 RM_OK);
	return m;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One payload through one field; returns 1 if it was refused. */
static int try_one(const field *f, const char *value, int harmless_ok,
                   const char *what)
{
	rm_message *m = base_message();
	const char *extra = NULL;
	rm_error err;
	char *out = NULL;
	size_t len = 0;
	int rc = f->set(m, value, &err, &extra);

	if (rc != RM_OK) {
		if ((rc != RM_EINVAL && rc != RM_ELIMIT) ||
		    !starts_with(err.field, f->name) ||
		    err.message[0] == '\0')
			fail_msg("%s via %s: rc %d field '%s' (%s)", what,
			         f->name, rc, err.field, err.message);
		rm_message_free(m);
		return 1;
	}
	if (!harmless_ok)
		fail_msg("%s via %s was accepted", what, f->name);
	assert_int_equal(rm_message_write_mem(m, &out, &len, &err), RM_OK);
	msg_check(out, len, extra);
	assert_null(strstr(out, "\r\nBcc:"));
	assert_null(strstr(out, "\r\nX-Injected:"));
	rm_free(out);
	rm_message_free(m);
	return 0;
}

static void hostile__payloads_in_every_field(void **state)
{
	size_t i, j, refused = 0, total = 0;
	char value[512];

	(void)state;
	assert_true(RM__ARRAY_LEN(payloads) >= 30);
	for (i = 0; i < RM__ARRAY_LEN(fields); i++) {
		for (j = 0; j < RM__ARRAY_LEN(payloads); j++) {
			char what[128];

			snprintf(value, sizeof(value), "%s%s", fields[i].base,
			         payloads[j].text);
			snprintf(what, sizeof(what), "payload '%s'",
			         payloads[j].name);
			refused += (size_t)try_one(&fields[i], value,
			                           payloads[j].harmless, what);
			total++;
		}
	}
	print_message("%zu of %zu field/payload pairs refused, the rest "
	              "written harmlessly\n", refused, total);
}

/* Oversized values: refused with RM_ELIMIT or RM_EINVAL naming the field,
 * or written folded within the line limits. */
static void hostile__very_long_values(void **state)
{
	size_t n = 200000, i;
	char *plain = malloc(n + 1), *crlf = malloc(n + 32);

	(void)state;
	memset(plain, 'x', n);
	plain[n] = '\0';
	memcpy(crlf, plain, n);
	memcpy(crlf + n, "\r\n" BCC, sizeof("\r\n" BCC));
	for (i = 0; i < RM__ARRAY_LEN(fields); i++) {
		try_one(&fields[i], plain, 1, "200 000 octets");
		assert_int_equal(try_one(&fields[i], crlf, 0,
		                         "200 000 octets then CRLF"), 1);
	}
	free(plain);
	free(crlf);
}

static size_t longest_line(const char *s)
{
	size_t longest = 0;

	while (*s != '\0') {
		size_t n = strcspn(s, "\r");

		longest = n > longest ? n : longest;
		s += n;
		s += strspn(s, "\r\n");
	}
	return longest;
}

/* Found by the header fuzz target: white space folds at most once, so a
 * run longer than a line must not be written as one (RFC 5322 2.1.1,
 * 3.2.2); it goes inside encoded-words. */
static void hostile__long_white_space_runs(void **state)
{
	char *run = malloc(3003), *out;
	rm_message *m = base_message();

	(void)state;
	run[0] = 'a';
	memset(run + 1, ' ', 3000);
	memcpy(run + 3001, "b", 2);
	assert_int_equal(rm_message_set_subject(m, run, NULL), RM_OK);
	memset(run, '\t', 3000);
	run[3000] = '\0';
	assert_int_equal(rm_message_set_from(m, "a@example.com", run, NULL),
	                 RM_OK);
	assert_int_equal(rm_message_write_mem(m, &out, NULL, NULL), RM_OK);
	assert_true(longest_line(out) <= 998);
	msg_check(out, strlen(out), NULL);
	rm_free(out);
	rm_message_free(m);
	free(run);
}

/* Counts and sizes past the documented ceilings: RM_ELIMIT (or
 * RM_EINVAL) naming the field, the message unchanged and still
 * writable. */
static void hostile__oversized_inputs(void **state)
{
	rm_message *m = base_message();
	size_t i, n = 10001, big = 4 * 1024 * 1024;
	char *list = malloc(n * 24 + 1), *blob = malloc(big + 1), *out;
	rm_dkim_key *key = NULL;
	rm_error err;
	int rc = RM_OK;

	(void)state;
	list[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(list + strlen(list), 24, "%su%zu@example.com",
		         i > 0 ? "," : "", i);
	assert_int_equal(rm_message_add_to(m, list, NULL, &err), RM_ELIMIT);
	assert_true(starts_with(err.field, "to"));
	for (i = 0; i <= 1000 && rc == RM_OK; i++)
		rc = rm_message_add_header(m, "X-Many", "v", &err);
	assert_int_equal(rc, RM_ELIMIT);
	assert_true(starts_with(err.field, "header"));
	for (i = 0, rc = RM_OK; i <= 1000 && rc == RM_OK; i++)
		rc = rm_message_add_reference(m, "<r@example.com>", &err);
	assert_int_equal(rc, RM_ELIMIT);
	memset(blob, 'a', big);
	blob[big] = '\0';
	rc = rm_message_add_to(m, blob, NULL, &err);
	assert_true(rc == RM_ELIMIT || rc == RM_EINVAL);
	assert_true(starts_with(err.field, "to"));
	rc = rm_dkim_key_load_mem(&key, blob, big, &err);
	assert_true(rc < 0);
	assert_null(key);
	assert_int_equal(rm_message_write_mem(m, &out, NULL, NULL), RM_OK);
	assert_non_null(strstr(out, "To: b@example.net\r\n"));
	rm_free(out);
	rm_message_free(m);
	free(list);
	free(blob);
}

/* An oversized URL: no crash, and a clear error when refused. */
static void hostile__oversized_url(void **state)
{
	size_t big = 1024 * 1024;
	char *url = malloc(big + 32);
	rm_transport *t = NULL;
	rm_error err;

	(void)state;
	memcpy(url, "smtp://", 7);
	memset(url + 7, 'a', big);
	memcpy(url + 7 + big, ".example", 9);
	/* Opening does not resolve, so the name may be taken as it is;
	 * otherwise the error must say why. */
	if (rm_transport_open(&t, url, NULL, &err) == RM_OK)
		rm_transport_close(t);
	else
		assert_true(strlen(err.message) > 0);
	url[7 + big] = '?';
	memcpy(url + 8 + big, "tls=none", 9);
	memset(url + 7, '%', 3);
	if (rm_transport_open(&t, url, NULL, &err) == RM_OK)
		rm_transport_close(t);
	else
		assert_true(strlen(err.message) > 0);
	free(url);
}

/* A value with a NUL: the C API sees only what comes before it, so
 * nothing after the NUL can reach the message. */
static void hostile__nul_truncates(void **state)
{
	static const char subject[] = "Hi\0\r\n" BCC;
	rm_message *m = base_message();
	char *out;

	(void)state;
	assert_int_equal(rm_message_set_subject(m, subject, NULL), RM_OK);
	assert_int_equal(rm_message_write_mem(m, &out, NULL, NULL), RM_OK);
	assert_non_null(strstr(out, "\r\nSubject: Hi\r\n"));
	assert_null(strstr(out, "victim"));
	rm_free(out);
	rm_message_free(m);
}

/* Encoded line breaks stay literal: "=0D=0A" is text, and a value that
 * looks like an encoded word is itself encoded, so a reader decodes it
 * back to the characters the caller gave. */
static void hostile__encoded_breaks_stay_literal(void **state)
{
	rm_message *m = base_message();
	char *out, *subject;

	(void)state;
	assert_int_equal(rm_message_set_subject(m,
	                 "=?utf-8?q?=0D=0ABcc:_v@example.org?=", NULL), RM_OK);
	assert_int_equal(rm_message_write_mem(m, &out, NULL, NULL), RM_OK);
	subject = strstr(out, "\r\nSubject:");
	assert_non_null(subject);
	/* The lookalike is not passed through as it is. */
	assert_null(strstr(subject, "Subject: =?utf-8?q?=0D=0ABcc"));
	msg_check(out, strlen(out), NULL);
	rm_free(out);
	rm_message_free(m);
}

/* The transport URL parts a caller sets: refused before any connection
 * (the port is never dialled). The EHLO name must be a domain or an
 * address literal (RFC 5321 4.1.1.1); user and password may hold any
 * text but a line break. */
static void hostile__url_parts(void **state)
{
	static const char *const parts[] = { "ehlo", "user", "password" };
	size_t i, j;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(parts); i++) {
		for (j = 0; j < RM__ARRAY_LEN(payloads); j++) {
			char raw[256], url[1024], *enc;
			rm_transport *t = NULL;
			rm_error err;
			int rc;

			if (payloads[j].harmless)
				continue;
			snprintf(raw, sizeof(raw), "v%s", payloads[j].text);
			enc = curl_easy_escape(NULL, raw, 0);
			assert_non_null(enc);
			if (i == 0)
				snprintf(url, sizeof(url), "smtp://127.0.0.1:9"
				         "?ehlo=%s", enc);
			else if (i == 1)
				snprintf(url, sizeof(url), "smtp://%s:pw@"
				         "127.0.0.1:9", enc);
			else
				snprintf(url, sizeof(url), "smtp://u:%s@"
				         "127.0.0.1:9", enc);
			curl_free(enc);
			rc = rm_transport_open(&t, url, NULL, &err);
			/* Credentials travel base64-encoded in AUTH, so
			 * only CR and LF need refusing there. */
			if (rc == RM_OK && i > 0 && !strpbrk(raw, "\r\n")) {
				rm_transport_close(t);
				continue;
			}
			if (rc == RM_OK)
				fail_msg("%s with payload '%s' was accepted",
				         parts[i], payloads[j].name);
			assert_true(rc == RM_EINVAL || rc == RM_EURL);
			assert_string_equal(err.field, parts[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile__payloads_in_every_field),
		cmocka_unit_test(hostile__very_long_values),
		cmocka_unit_test(hostile__long_white_space_runs),
		cmocka_unit_test(hostile__nul_truncates),
		cmocka_unit_test(hostile__oversized_inputs),
		cmocka_unit_test(hostile__oversized_url),
		cmocka_unit_test(hostile__encoded_breaks_stay_literal),
		cmocka_unit_test(hostile__url_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
