/*
 * Unit tests for the message builder and writer: byte-exact golden
 * messages in reproducible mode (tests/golden/; RM_UPDATE_GOLDEN=1
 * rewrites them), header rules, refusals that leave the message as it
 * was, streamed file attachments, the envelope and SMTPUTF8 decisions.
 * Cases 02 to 05, 07 and 15 to 16 of ../shared/cases/cases.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "message_int.h"
#include "mime_check.h"

#define GOLDEN_DIR "tests/golden"

static rm_error err;

#define OK(call) \
	do { \
		if ((call) != RM_OK) \
			fail_msg("%s failed: [%s] %s", #call, err.field, \
			         err.message); \
	} while (0)

static rm_message *new_message(void)
{
	rm_message *msg = NULL;

	OK(rm_message_new(&msg, &err));
	OK(rm_message_set_reproducible(msg, 1, &err));
	return msg;
}

static rm_message *basic_message(void)
{
	rm_message *msg = new_message();

	OK(rm_message_set_from(msg, "sender@example.com", "Sender", &err));
	OK(rm_message_add_to(msg, "rcpt@example.org", NULL, &err));
	OK(rm_message_set_subject(msg, "Hello", &err));
	OK(rm_message_set_text(msg, "Hi there.\n", (size_t)-1, &err));
	return msg;
}

static char *write_mem(rm_message *msg, size_t *len)
{
	char *out = NULL;
	size_t n = 0;

	OK(rm_message_write_mem(msg, &out, &n, &err));
	assert_int_equal(strlen(out), n);
	assert_true(mc_all_crlf(out, n));
	assert_true(mc_longest_line(out) <= 998);
	if (len != NULL)
		*len = n;
	return out;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Compares the message with tests/golden/NAME.eml, or rewrites it when
 * RM_UPDATE_GOLDEN=1. */
static void check_golden(rm_message *msg, const char *name)
{
	char path[256], *want, *got;
	size_t wlen, glen, i;
	const char *update = getenv("RM_UPDATE_GOLDEN");

	snprintf(path, sizeof(path), "%s/%s.eml", GOLDEN_DIR, name);
	got = write_mem(msg, &glen);
	if (update != NULL && strcmp(update, "1") == 0) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got, 1, glen, f), glen);
		fclose(f);
	}
	want = read_file(path, &wlen);
	if (want == NULL)
		fail_msg("%s is missing; run with RM_UPDATE_GOLDEN=1", path);
	for (i = 0; i < wlen && i < glen && want[i] == got[i]; i++)
		;
	if (i != wlen || i != glen)
		fail_msg("%s differs at byte %zu: wrote \"%.60s\", golden "
		         "\"%.60s\"", path, i, got + i, want + i);
	free(want);
	free(got);
}

/* ---------------------------------------------------------------------- */
/* Golden messages                                                        */
/* ---------------------------------------------------------------------- */

static void message__golden_simple_text(void **state)
{
	rm_message *msg = basic_message();

	(void)state;
	check_golden(msg, "simple_text");
	rm_message_free(msg);
}

static rm_message *international_message(void)
{
	rm_message *msg = new_message();

	OK(rm_message_set_from(msg, "hans@b\xc3\xbc" "cher.example",
	                       "M\xc3\xbcller, Hans", &err));
	OK(rm_message_add_to(msg, "\"Ada, VP of Engineering\" "
	                     "<ada@example.com>, joe@example.com", NULL, &err));
	OK(rm_message_add_to(msg, "team@example.com", "Say \"Hi\" \\ Team",
	                     &err));
	OK(rm_message_add_cc(msg, "support@example.com", "Support (Billing)",
	                     &err));
	OK(rm_message_add_cc(msg, "Joe Q. Public <joe.public@example.com>",
	                     NULL, &err));
	OK(rm_message_add_bcc(msg, "hidden@example.net", "Hidden", &err));
	OK(rm_message_add_reply_to(msg, "replies@example.com", NULL, &err));
	OK(rm_message_set_subject(msg, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln "
	                          "\xe2\x80\x93 Administrat\xc3\xb6r meeting",
	                          &err));
	OK(rm_message_set_message_id(msg, "abc@example.com", &err));
	OK(rm_message_set_in_reply_to(msg, "<orig@example.com>", &err));
	OK(rm_message_add_reference(msg, "root@example.com", &err));
	OK(rm_message_add_reference(msg, "orig@example.com", &err));
	OK(rm_message_add_header(msg, "X-Campaign", "Fr\xc3\xbchling 2024",
	                         &err));
	OK(rm_message_add_header(msg, "X-Mailgun-Variables",
	                         "{\"order\":\"A-1\"}", &err));
	OK(rm_message_set_date(msg, 1704164645, -330, &err));
	OK(rm_message_set_text(msg, "Gr\xc3\xbc\xc3\x9f" "e!\n\nZeile zwei "
	                       "mit einem sehr langen Satz, der weiter geht "
	                       "als sechsundsiebzig Zeichen, damit er "
	                       "umbrochen wird.\n.Punkt am Anfang\n",
	                       (size_t)-1, &err));
	OK(rm_message_set_html(msg, "<p>Gr\xc3\xbc\xc3\x9f" "e aus "
	                       "<b>K\xc3\xb6ln</b>!</p>\r\n", (size_t)-1,
	                       &err));
	return msg;
}

static void message__golden_alternative_international(void **state)
{
	rm_message *msg = international_message();
	char *out = write_mem(msg, NULL), *v;

	(void)state;
	/* Bcc reaches the envelope, never the headers. */
	assert_null(mc_header(out, "Bcc"));
	assert_null(strstr(out, "hidden@example.net"));
	v = mc_header(out, "Message-ID");
	assert_string_equal(v, "<abc@example.com>");
	free(v);
	v = mc_header(out, "Date");
	assert_string_equal(v, "Mon, 1 Jan 2024 21:34:05 -0530");
	free(v);
	v = mc_header(out, "From");
	assert_string_equal(v, "=?UTF-8?Q?M=C3=BCller=2C_Hans?= "
	                    "<hans@xn--bcher-kva.example>");
	free(v);
	free(out);
	check_golden(msg, "alternative_international");
	rm_message_free(msg);
}

static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
	'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0
};

static rm_message *full_message(void)
{
	rm_message *msg = international_message();
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	unsigned char bin[64];
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	OK(rm_message_set_html(msg, "<p>Logo: <img src=\"cid:logo@example."
	                       "com\"></p>", (size_t)-1, &err));
	opts.filename = "logo.png";
	opts.content_id = "logo@example.com";
	OK(rm_message_attach_data(msg, png, sizeof(png), &opts, &err));
	opts.content_id = NULL;
	opts.filename = "data.bin";
	OK(rm_message_attach_data(msg, bin, sizeof(bin), &opts, &err));
	opts.filename = "R\xc3\xa9sum\xc3\xa9 \xe2\x80\x93 Q3 report "
	                "(final).pdf";
	OK(rm_message_attach_data(msg, "%PDF-1.4\r\n%%EOF\r\n", 17, &opts,
	                          &err));
	opts.filename = "notes.txt";
	opts.content_type = "text/plain";
	OK(rm_message_attach_data(msg, "line one\nline two\n", 18, &opts,
	                          &err));
	return msg;
}

static void message__golden_full(void **state)
{
	rm_message *msg = full_message();
	char *out = write_mem(msg, NULL);

	(void)state;
	/* Case 15: the 64-byte file as exact 76-character lines. */
	assert_non_null(strstr(out, "\r\n\r\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	                       "GBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4"
	                       "\r\nOTo7PD0+Pw==\r\n"));
	assert_non_null(strstr(out, "Content-Type: multipart/mixed"));
	assert_non_null(strstr(out, "Content-Type: multipart/related"));
	assert_non_null(strstr(out, "Content-ID: <logo@example.com>"));
	assert_non_null(strstr(out, "filename*0*=utf-8''R%C3%A9sum%C3%A9"));
	free(out);
	check_golden(msg, "full");
	rm_message_free(msg);
}

static void message__golden_long_lines_case05(void **state)
{
	rm_message *msg = new_message();
	char subject[1300] = "25 changes:", item[80], *body, *out, *to;
	int i;

	(void)state;
	OK(rm_message_set_from(msg, "sender@example.com", NULL, &err));
	for (i = 1; i <= 25; i++) {
		snprintf(item, sizeof(item), " https://www.example.com/watch/"
		         "item-%02d/page.html", i);
		strcat(subject, item);
	}
	OK(rm_message_set_subject(msg, subject, &err));
	for (i = 1; i <= 80; i++) {
		snprintf(item, sizeof(item), "user%02d@example.com", i);
		OK(rm_message_add_to(msg, item, NULL, &err));
	}
	body = malloc(5001);
	memset(body, 'a', 5000);
	body[5000] = '\0';
	OK(rm_message_set_text(msg, body, 5000, &err));
	out = write_mem(msg, NULL);
	assert_true(mc_longest_line(out) <= 78);
	assert_non_null(strstr(out, "user03@example.com,\r\n "
	                       "user04@example.com,"));
	to = mc_header(out, "To");
	assert_int_equal(strlen(to), 80 * 18 + 79 * 2);
	assert_non_null(strstr(out, "Content-Transfer-Encoding: "
	                       "quoted-printable"));
	free(to);
	free(out);
	free(body);
	check_golden(msg, "long_lines");
	rm_message_free(msg);
}

static void message__golden_compat_filenames(void **state)
{
	rm_message *msg = basic_message();
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	char name[400] = "", *out;
	int i;

	(void)state;
	for (i = 0; i < 30; i++)
		strcat(name, "\xc3\xa9t\xc3\xa9 ");
	strcat(name, ".txt");
	opts.filename = name;
	OK(rm_message_attach_data(msg, "x", 1, &opts, &err));
	OK(rm_message_set_compat_filenames(msg, 1, &err));
	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "name=\"=?UTF-8?"));
	assert_non_null(strstr(out, "filename*0*=utf-8''"));
	assert_true(mc_longest_line(out) <= 78);
	free(out);
	check_golden(msg, "compat_filenames");

	/* Strict mode: no encoded-word anywhere in a parameter (case 04). */
	OK(rm_message_set_compat_filenames(msg, 0, &err));
	out = write_mem(msg, NULL);
	assert_null(strstr(out, "=?"));
	assert_non_null(strstr(out, "name*0*=utf-8''"));
	free(out);
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Structure                                                              */
/* ---------------------------------------------------------------------- */

static void message__structures(void **state)
{
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	rm_message *msg = basic_message();
	char *out, *v;

	(void)state;
	out = write_mem(msg, NULL);
	v = mc_header(out, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	v = mc_header(out, "Content-Transfer-Encoding");
	assert_string_equal(v, "7bit");
	free(v);
	assert_non_null(strstr(out, "\r\n\r\nHi there.\r\n"));
	free(out);

	/* HTML only, then attachments only. */
	OK(rm_message_set_text(msg, NULL, 0, &err));
	OK(rm_message_set_html(msg, "<p>x</p>", (size_t)-1, &err));
	out = write_mem(msg, NULL);
	v = mc_header(out, "Content-Type");
	assert_string_equal(v, "text/html; charset=utf-8");
	free(v);
	free(out);
	OK(rm_message_set_html(msg, NULL, 0, &err));
	opts.filename = "a.pdf";
	OK(rm_message_attach_data(msg, "%PDF", 4, &opts, &err));
	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "Content-Type: application/pdf; "
	                       "name=\"a.pdf\""));
	assert_non_null(strstr(out, "multipart/mixed"));
	free(out);
	rm_message_free(msg);
}

static void message__boundary_text_forces_qp(void **state)
{
	rm_message *msg = basic_message();
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	char *out;

	(void)state;
	OK(rm_message_set_text(msg, "--=_rm_0001_reproducible_boundary--\n",
	                       (size_t)-1, &err));
	OK(rm_message_attach_data(msg, "x", 1, &opts, &err));
	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "quoted-printable\r\n\r\n"
	                       "--=3D_rm_0001"));
	free(out);
	rm_message_free(msg);
}

static void message__line_ends_normalised(void **state)
{
	rm_message *msg = basic_message();
	char *out;

	(void)state;
	OK(rm_message_set_text(msg, "a\nb\rc\r\nd", (size_t)-1, &err));
	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "\r\n\r\na\r\nb\r\nc\r\nd\r\n"));
	free(out);
	rm_message_free(msg);
}

static void message__content_types_from_names(void **state)
{
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	rm_message *msg = basic_message();
	char *out;

	(void)state;
	assert_string_equal(rm__mime_type_for_name("REPORT.PDF"),
	                    "application/pdf");
	assert_string_equal(rm__mime_type_for_name("a.tar.gz"),
	                    "application/gzip");
	assert_string_equal(rm__mime_type_for_name("photo.JpG"),
	                    "image/jpeg");
	assert_string_equal(rm__mime_type_for_name("noext"),
	                    "application/octet-stream");
	assert_string_equal(rm__mime_type_for_name("x.unknownext"),
	                    "application/octet-stream");

	/* The caller's type wins over the extension. */
	opts.filename = "data.pdf";
	opts.content_type = "application/x-custom";
	OK(rm_message_attach_data(msg, "x", 1, &opts, &err));
	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "Content-Type: application/x-custom; "
	                       "name=\"data.pdf\""));
	free(out);
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Headers                                                                */
/* ---------------------------------------------------------------------- */

static void message__sender_and_references(void **state)
{
	rm_message *msg = basic_message();
	char *out, *v, id[64];
	int i;

	(void)state;
	OK(rm_message_set_sender(msg, "secretary@example.com", "Sec",
	                         &err));
	for (i = 0; i < 12; i++) {
		snprintf(id, sizeof(id), "ref-%02d.abcdefgh@example.com", i);
		OK(rm_message_add_reference(msg, id, &err));
	}
	out = write_mem(msg, NULL);
	v = mc_header(out, "Sender");
	assert_string_equal(v, "Sec <secretary@example.com>");
	free(v);
	v = mc_header(out, "References");
	assert_int_equal(strlen(v), 12 * 29 + 11);
	assert_true(strncmp(v, "<ref-00.abcdefgh@example.com> <ref-01", 37)
	            == 0);
	free(v);
	assert_true(mc_longest_line(out) <= 78);
	free(out);
	rm_message_free(msg);
}

static void message__reserved_headers_refused(void **state)
{
	static const char *const names[] = {
		"From", "to", "BCC", "content-type", "Message-Id", "Subject",
		"MIME-Version", "Content-Transfer-Encoding", "Date",
		"References"
	};
	rm_message *msg = basic_message();
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(names); i++) {
		assert_int_equal(rm_message_add_header(msg, names[i], "x",
		                                       &err), RM_EINVAL);
		assert_string_equal(err.field, "header.name");
	}
	assert_int_equal(rm_message_add_header(msg, "X Tag", "x", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_add_header(msg, "X-T\xc3\xa4g", "x", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_add_header(msg, "X:Tag", "x", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_add_header(msg, "", "x", &err), RM_EINVAL);
	OK(rm_message_add_header(msg, "X-Priority", "1", &err));
	rm_message_free(msg);
}

static void message__case07_injection_refused(void **state)
{
	rm_message *msg = basic_message();

	(void)state;
	assert_int_equal(rm_message_add_reply_to(msg, "alice@example.com\r\n"
	                                         "Bcc: victim@example.org",
	                                         "Alice", &err), RM_EINVAL);
	assert_string_equal(err.field, "reply_to");
	assert_int_equal(rm_message_set_subject(msg, "Hello\r\nBcc: victim@"
	                                        "example.org", &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "subject");
	assert_int_equal(rm_message_add_header(msg, "X-Tag\r\nBcc", "ok",
	                                       &err), RM_EINVAL);
	assert_string_equal(err.field, "header.name");
	assert_int_equal(rm_message_add_header(msg, "X-Tag", "ok\nBcc: "
	                                       "victim@example.org", &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "header.value");
	assert_int_equal(rm_message_add_to(msg, "\"a\r\nRCPT TO:<victim@"
	                                   "example.org>\"@example.com", NULL,
	                                   &err), RM_EINVAL);
	assert_int_equal(rm_message_set_from(msg, "eve@example.com",
	                                     "Eve\r\nX-Injected: 1", &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "from");
	rm_message_free(msg);
}

static void message__failed_calls_change_nothing(void **state)
{
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	rm_message *msg = full_message();
	char *before = write_mem(msg, NULL), *after;

	(void)state;
	assert_int_equal(rm_message_add_to(msg, "ok@example.com, bad", NULL,
	                                   &err), RM_EINVAL);
	assert_string_equal(err.field, "to[1]");
	assert_int_equal(rm_message_add_cc(msg, "x@", "Name", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_from(msg, "a@example.com, "
	                                     "b@example.com", NULL, &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_subject(msg, "a\nb", &err), RM_EINVAL);
	assert_int_equal(rm_message_set_message_id(msg, "no-at-sign", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_in_reply_to(msg, "a b@c", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_add_reference(msg, "<a@b", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_text(msg, "\xff", 1, &err), RM_EINVAL);
	assert_int_equal(rm_message_set_date(msg, 0, 100000, &err), RM_EINVAL);
	assert_int_equal(rm_message_attach_file(msg, "/nonexistent/x.pdf",
	                                        NULL, &err), RM_EIO);
	assert_int_equal(rm_message_attach_file(msg, "/tmp", NULL, &err),
	                 RM_EIO);
	opts.content_id = "bad id";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &opts, &err),
	                 RM_EINVAL);
	opts.content_id = NULL;
	opts.filename = "a\r\nb.txt";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &opts, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "filename");
	opts.filename = "a.txt";
	opts.content_type = "text/plain; format=flowed";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &opts, &err),
	                 RM_EINVAL);
	opts.content_type = "message/rfc822";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &opts, &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_envelope_from(msg, "bad", &err),
	                 RM_EINVAL);

	after = write_mem(msg, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	rm_message_free(msg);
}

static void message__incomplete_messages_refused(void **state)
{
	rm_message *msg = new_message();
	char *out = NULL;

	(void)state;
	assert_int_equal(rm_message_write_mem(msg, &out, NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "from");
	OK(rm_message_set_from(msg, "a@example.com", NULL, &err));
	assert_int_equal(rm_message_write_mem(msg, &out, NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "to");
	OK(rm_message_add_bcc(msg, "b@example.com", NULL, &err));
	assert_int_equal(rm_message_write_mem(msg, &out, NULL, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "body");
	assert_null(out);
	OK(rm_message_set_text(msg, "", 0, &err));
	OK(rm_message_write_mem(msg, &out, NULL, &err));
	rm_free(out);
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Message-ID and Date (case 16)                                          */
/* ---------------------------------------------------------------------- */

/* A write callback that keeps the bytes and counts the calls. */
typedef struct sink {
	rm__buf out;
	size_t largest;
	size_t calls;
	size_t stop_after;
} sink;

static int sink_write(const void *data, size_t len, void *user)
{
	sink *s = user;

	s->calls++;
	if (len > s->largest)
		s->largest = len;
	if (s->stop_after != 0 && s->calls >= s->stop_after)
		return 1;
	return rm__buf_append(&s->out, data, len) == RM_OK ? 0 : 1;
}

static void message__message_id_made_once(void **state)
{
	rm_message *msg = basic_message();
	char *a, *b, *ha, *hb, id[128];
	size_t i;

	(void)state;
	OK(rm_message_set_reproducible(msg, 0, &err));
	snprintf(id, sizeof(id), "%s", rm_message_message_id(msg));
	assert_int_equal(strlen(id), 1 + 32 + 1 + 11 + 1);
	for (i = 1; i <= 32; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_string_equal(id + 33, "@example.com>");

	/* Every write (and retry) carries the same id. */
	a = write_mem(msg, NULL);
	b = write_mem(msg, NULL);
	ha = mc_header(a, "Message-ID");
	hb = mc_header(b, "Message-ID");
	assert_string_equal(ha, id);
	assert_string_equal(hb, id);
	free(ha);
	free(hb);
	free(a);
	free(b);

	/* Another message gets another id. */
	rm_message_free(msg);
	msg = basic_message();
	OK(rm_message_set_reproducible(msg, 0, &err));
	assert_string_not_equal(rm_message_message_id(msg), id);
	rm_message_free(msg);
}

static void message__writes_repeat_byte_for_byte(void **state)
{
	rm_message *msg = full_message();
	rm__write_opts wopts = { 0 };
	char *a, *b, *boundary;
	uint64_t measured;

	(void)state;
	/* Random boundaries, made once: SIZE, DKIM and DATA see the same
	 * bytes. */
	OK(rm_message_set_reproducible(msg, 0, &err));
	a = write_mem(msg, NULL);
	b = write_mem(msg, NULL);
	assert_string_equal(a, b);
	OK(rm__message_measure(msg, &wopts, &measured, &err));
	assert_int_equal(measured, strlen(a));
	boundary = strstr(a, "boundary=\"=_rm_");
	assert_non_null(boundary);
	assert_null(strstr(boundary, "reproducible"));
	free(a);
	free(b);
	rm_message_free(msg);
}

static void message__message_id_forms(void **state)
{
	rm_message *msg = basic_message();

	(void)state;
	OK(rm_message_set_message_id(msg, "abc@example.com", &err));
	assert_string_equal(rm_message_message_id(msg), "<abc@example.com>");
	OK(rm_message_set_message_id(msg, "<a.b@[192.0.2.1]>", &err));
	assert_string_equal(rm_message_message_id(msg), "<a.b@[192.0.2.1]>");
	assert_int_equal(rm_message_set_message_id(msg, "a@b@c", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_message_id(msg, "<>", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_message_id(msg, "\xc3\xa9@x", &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "message_id");
	OK(rm_message_set_message_id(msg, NULL, &err));
	{
		rm_message *empty = new_message();

		/* Without a From there is no domain to make one from. */
		assert_string_equal(rm_message_message_id(empty), "");
		rm_message_free(empty);
	}
	assert_string_equal(rm_message_message_id(msg),
	                    "<00000000000000000000000000000000@example.com>");

	/* The id of an IDN From domain uses its A-label. */
	OK(rm_message_set_from(msg, "a@b\xc3\xbc" "cher.example", NULL, &err));
	assert_non_null(strstr(rm_message_message_id(msg),
	                       "@xn--bcher-kva.example>"));
	rm_message_free(msg);
}

static void message__date_case16(void **state)
{
	rm_message *msg = basic_message();
	char *out, *v, *second;

	(void)state;
	OK(rm_message_set_date(msg, 1704164645, 0, &err));
	out = write_mem(msg, NULL);
	v = mc_header(out, "Date");
	assert_string_equal(v, "Tue, 2 Jan 2024 03:04:05 +0000");
	second = strstr(strstr(out, "Date:") + 1, "\r\nDate:");
	assert_null(second);
	free(v);
	free(out);

	/* Without a date, the time of the last prepare: every write of
	 * one send (SIZE, DKIM, DATA) carries the same Date. */
	rm_message_free(msg);
	msg = basic_message();
	OK(rm_message_set_reproducible(msg, 0, &err));
	OK(rm__message_prepare(msg, &err));
	assert_true(msg->prepared_at != 0);
	msg->prepared_at = 1704164645;
	setenv("TZ", "UTC", 1);
	tzset();
	{
		rm__write_opts wopts = { 0 };
		sink s;

		memset(&s, 0, sizeof(s));
		rm__buf_init(&s.out, 1 << 20);
		OK(rm__message_write_with(msg, &wopts, sink_write, &s, &err));
		v = mc_header(s.out.data, "Date");
		assert_string_equal(v, "Tue, 2 Jan 2024 03:04:05 +0000");
		free(v);
		rm__buf_free(&s.out);
	}

	/* Reproducible mode without a date: the epoch. */
	rm_message_free(msg);
	msg = basic_message();
	out = write_mem(msg, NULL);
	v = mc_header(out, "Date");
	assert_string_equal(v, "Thu, 1 Jan 1970 00:00:00 +0000");
	free(v);
	free(out);
	rm_message_free(msg);
}


/* ---------------------------------------------------------------------- */
/* Streaming and callbacks                                                */
/* ---------------------------------------------------------------------- */

static void make_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < size; i++)
		fputc((int)((i * 2654435761u) >> 13) & 0xFF, f);
	fclose(f);
}

static void message__file_attachment_streamed(void **state)
{
	const size_t size = 5 * 1024 * 1024 + 7;
	char path[] = "/tmp/rm-test-attach-XXXXXX";
	rm_message *msg = basic_message();
	rm__write_opts wopts = { 0 };
	unsigned char *back;
	char *body, *file;
	uint64_t measured;
	size_t flen;
	sink s;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	make_file(path, size);
	OK(rm_message_attach_file(msg, path, NULL, &err));

	memset(&s, 0, sizeof(s));
	rm__buf_init(&s.out, 64 * 1024 * 1024);
	OK(rm_message_write(msg, sink_write, &s, &err));
	/* Written in blocks of the writer's size, never the whole file. */
	assert_true(s.largest <= 64 * 1024);
	assert_true(s.calls > size / (64 * 1024));
	OK(rm__message_measure(msg, &wopts, &measured, &err));
	assert_int_equal(measured, s.out.len);

	/* The name is the file's base name; the bytes come back intact. */
	assert_non_null(strstr(s.out.data, strrchr(path, '/') + 1));
	body = strstr(strstr(s.out.data, "Content-Transfer-Encoding: base64"),
	              "\r\n\r\n") + 4;
	assert_true(mc_longest_line(body) <= 76);
	back = malloc(size + 16);
	file = read_file(path, &flen);
	assert_int_equal(mc_b64_decode(body, strstr(body, "\r\n--") -
	                 body, back), size);
	assert_memory_equal(back, file, size);
	free(back);
	free(file);
	rm__buf_free(&s.out);

	/* A file gone before the send is an error naming the part. */
	unlink(path);
	assert_int_equal(rm__message_prepare(msg, &err), RM_EIO);
	assert_string_equal(err.field, "attachment[0]");
	rm_message_free(msg);
}

/* A write callback that resizes the attached file once the message is
 * well under way, as a program still writing the file would. */
typedef struct resizer {
	const char *path;
	off_t new_size;
	size_t seen;
	int done;
} resizer;

static int resize_midway(const void *data, size_t len, void *user)
{
	resizer *r = user;

	(void)data;
	r->seen += len;
	if (!r->done && r->seen > 300 * 1024) {
		assert_int_equal(truncate(r->path, r->new_size), 0);
		r->done = 1;
	}
	return 0;
}

/* A file that shrinks or grows while it is read is an error, not a
 * shorter or longer attachment sent as if whole. */
static void message__file_resized_while_sent(void **state)
{
	static const off_t sizes[] = { 1000, 3 * 1024 * 1024 };
	char path[] = "/tmp/rm-test-resize-XXXXXX";
	rm_message *msg = basic_message();
	size_t i;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	OK(rm_message_attach_file(msg, path, NULL, &err));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		resizer r = { path, sizes[i], 0, 0 };

		make_file(path, 1024 * 1024);
		assert_int_equal(rm_message_write(msg, resize_midway, &r,
		                                  &err), RM_EIO);
		assert_true(r.done);
		assert_string_equal(err.field, "attachment[0]");
		assert_non_null(strstr(err.message, "changed size"));
	}
	unlink(path);
	rm_message_free(msg);
}

/* A FIFO is refused at once: opening it must not wait for a writer. */
static void message__fifo_refused_without_waiting(void **state)
{
	char dir[] = "/tmp/rm-test-fifo-XXXXXX", path[64];
	rm_message *msg = basic_message();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pipe", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(rm_message_attach_file(msg, path, NULL, &err),
	                 RM_EIO);
	alarm(0);
	assert_non_null(strstr(err.message, "not a regular file"));
	unlink(path);
	rmdir(dir);
	rm_message_free(msg);
}

/* Text attachments say their charset: given, or utf-8 found in memory. */
static void message__text_attachment_charset(void **state)
{
	rm_message *msg = basic_message();
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;
	static const char umlauts[] = "Zeile 2 \xc3\xa4\xc3\xb6\xc3\xbc\n";
	char *out;

	(void)state;
	o.filename = "notes.txt";
	OK(rm_message_attach_data(msg, umlauts, strlen(umlauts), &o, &err));
	o.filename = "plain.txt";
	OK(rm_message_attach_data(msg, "ascii\n", 6, &o, &err));
	o.filename = "latin1.txt";
	o.content_type = "text/plain; charset=iso-8859-1";
	OK(rm_message_attach_data(msg, "\xe4\n", 2, &o, &err));
	o.content_type = "text/plain; name=x";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &o, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "content_type");
	o.content_type = "text/plain; charset=a b";
	assert_int_equal(rm_message_attach_data(msg, "x", 1, &o, &err),
	                 RM_EINVAL);

	out = write_mem(msg, NULL);
	assert_non_null(strstr(out, "Content-Type: text/plain; charset=utf-8;"
	                       " name=\"notes.txt\"\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; "
	                       "name=\"plain.txt\"\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; "
	                       "charset=iso-8859-1; name=\"latin1.txt\"\r\n"));
	rm_free(out);
	rm_message_free(msg);
}

static void message__callback_can_stop(void **state)
{
	rm_message *msg = full_message();
	sink s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rm__buf_init(&s.out, 1 << 20);
	assert_int_equal(rm_message_write(msg, sink_write, &s, &err),
	                 RM_ECALLBACK);
	assert_int_equal(err.code, RM_ECALLBACK);
	rm__buf_free(&s.out);
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Envelope and SMTPUTF8 (case 03)                                        */
/* ---------------------------------------------------------------------- */

static void message__envelope_order_and_dedup(void **state)
{
	rm_message *msg = basic_message();
	rm__envelope env;

	(void)state;
	OK(rm_message_add_cc(msg, "Other <RCPT@EXAMPLE.ORG>, c@example.org",
	                     NULL, &err));
	OK(rm_message_add_bcc(msg, "rcpt@Example.Org, b@example.net", NULL,
	                      &err));
	OK(rm__message_envelope(msg, 0, &env, &err));
	assert_string_equal(env.from, "sender@example.com");
	assert_int_equal(env.rcpt_count, 4);
	assert_string_equal(env.rcpts[0], "rcpt@example.org");
	assert_string_equal(env.rcpts[1], "RCPT@EXAMPLE.ORG");
	assert_string_equal(env.rcpts[2], "c@example.org");
	assert_string_equal(env.rcpts[3], "b@example.net");
	assert_false(env.needs_smtputf8);
	rm__envelope_free(&env);

	OK(rm_message_set_sender(msg, "sec@example.com", NULL, &err));
	OK(rm__message_envelope(msg, 0, &env, &err));
	assert_string_equal(env.from, "sec@example.com");
	rm__envelope_free(&env);
	OK(rm_message_set_envelope_from(msg, "bounce@example.com", &err));
	OK(rm__message_envelope(msg, 0, &env, &err));
	assert_string_equal(env.from, "bounce@example.com");
	rm__envelope_free(&env);
	OK(rm_message_set_envelope_from(msg, NULL, &err));
	OK(rm__message_envelope(msg, 0, &env, &err));
	assert_string_equal(env.from, "sec@example.com");
	rm__envelope_free(&env);
	rm_message_free(msg);
}

static void message__envelope_dedup_at_scale(void **state)
{
	rm_message *msg = basic_message();
	rm__envelope env;
	char addr[64];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		snprintf(addr, sizeof(addr), "user%04d@example.com", i);
		OK(rm_message_add_to(msg, addr, NULL, &err));
		snprintf(addr, sizeof(addr), "user%04d@EXAMPLE.com", 2999 - i);
		OK(rm_message_add_bcc(msg, addr, NULL, &err));
	}
	OK(rm__message_envelope(msg, 0, &env, &err));
	assert_int_equal(env.rcpt_count, 3001);
	assert_string_equal(env.rcpts[0], "rcpt@example.org");
	assert_string_equal(env.rcpts[3000], "user2999@example.com");
	rm__envelope_free(&env);
	rm_message_free(msg);
}

static void message__case03_idn_without_smtputf8(void **state)
{
	rm_message *msg = basic_message();
	rm__write_opts wopts = { 0 };
	rm__envelope env;
	sink s;
	char *to;

	(void)state;
	OK(rm_message_add_to(msg, "info@ex\xc3\xa4mple.com", NULL, &err));
	OK(rm__message_envelope(msg, 1, &env, &err));
	/* D: an ASCII-only message uses A-labels even with SMTPUTF8. */
	assert_false(env.needs_smtputf8);
	assert_string_equal(env.rcpts[1], "info@xn--exmple-cua.com");
	rm__envelope_free(&env);

	memset(&s, 0, sizeof(s));
	rm__buf_init(&s.out, 1 << 20);
	OK(rm__message_write_with(msg, &wopts, sink_write, &s, &err));
	to = mc_header(s.out.data, "To");
	assert_string_equal(to, "rcpt@example.org, info@xn--exmple-cua.com");
	assert_null(strstr(s.out.data, "=?UTF-8?B?"));
	free(to);
	rm__buf_free(&s.out);
	rm_message_free(msg);
}

static void message__case03_utf8_local_part(void **state)
{
	rm_message *msg = basic_message();
	rm__write_opts wopts = { 0 };
	rm__envelope env;
	sink s;
	char *to;

	(void)state;
	OK(rm_message_add_to(msg, "j\xc3\xb6rg@ex\xc3\xa4mple.com", NULL,
	                     &err));
	assert_true(rm__message_needs_smtputf8(msg));

	/* B: without SMTPUTF8, a permanent error naming the address. */
	assert_int_equal(rm__message_envelope(msg, 0, &env, &err),
	                 RM_EUNSUPPORTED);
	assert_int_equal(err.outcome, RM_OUTCOME_PERM_PROVIDER);
	assert_non_null(strstr(err.message, "SMTPUTF8"));
	assert_non_null(strstr(err.message, "j\xc3\xb6rg@"));
	assert_null(env.from);
	memset(&s, 0, sizeof(s));
	rm__buf_init(&s.out, 1 << 20);
	assert_int_equal(rm__message_write_with(msg, &wopts, sink_write, &s,
	                                        &err), RM_EUNSUPPORTED);
	assert_int_equal(s.out.len, 0);

	/* C: with SMTPUTF8, raw UTF-8 in the envelope and the headers. */
	OK(rm__message_envelope(msg, 1, &env, &err));
	assert_true(env.needs_smtputf8);
	assert_string_equal(env.rcpts[1], "j\xc3\xb6rg@ex\xc3\xa4mple.com");
	rm__envelope_free(&env);
	wopts.smtputf8 = 1;
	OK(rm__message_write_with(msg, &wopts, sink_write, &s, &err));
	to = mc_header(s.out.data, "To");
	assert_string_equal(to, "rcpt@example.org, "
	                    "j\xc3\xb6rg@ex\xc3\xa4mple.com");
	free(to);
	rm__buf_free(&s.out);
	rm_message_free(msg);
}

/* The refusal of a From list says how many mailboxes it held. */
static void message__from_list_count_in_error(void **state)
{
	rm_message *msg = NULL;

	(void)state;
	OK(rm_message_new(&msg, &err));
	assert_int_equal(rm_message_set_from(msg, "a@x.example, b@y.example",
	                                     NULL, &err), RM_EINVAL);
	assert_non_null(strstr(err.message, "not 2"));
	rm_message_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(message__from_list_count_in_error),
		cmocka_unit_test(message__golden_simple_text),
		cmocka_unit_test(message__golden_alternative_international),
		cmocka_unit_test(message__golden_full),
		cmocka_unit_test(message__golden_long_lines_case05),
		cmocka_unit_test(message__golden_compat_filenames),
		cmocka_unit_test(message__structures),
		cmocka_unit_test(message__boundary_text_forces_qp),
		cmocka_unit_test(message__line_ends_normalised),
		cmocka_unit_test(message__content_types_from_names),
		cmocka_unit_test(message__sender_and_references),
		cmocka_unit_test(message__reserved_headers_refused),
		cmocka_unit_test(message__case07_injection_refused),
		cmocka_unit_test(message__failed_calls_change_nothing),
		cmocka_unit_test(message__incomplete_messages_refused),
		cmocka_unit_test(message__message_id_made_once),
		cmocka_unit_test(message__writes_repeat_byte_for_byte),
		cmocka_unit_test(message__message_id_forms),
		cmocka_unit_test(message__date_case16),
		cmocka_unit_test(message__file_attachment_streamed),
		cmocka_unit_test(message__file_resized_while_sent),
		cmocka_unit_test(message__fifo_refused_without_waiting),
		cmocka_unit_test(message__text_attachment_charset),
		cmocka_unit_test(message__callback_can_stop),
		cmocka_unit_test(message__envelope_order_and_dedup),
		cmocka_unit_test(message__envelope_dedup_at_scale),
		cmocka_unit_test(message__case03_idn_without_smtputf8),
		cmocka_unit_test(message__case03_utf8_local_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
