/*
 * Header injection through the public message API. The input is split
 * at 0x01 bytes into the values of the fields a caller sets (subject,
 * names, addresses, ids, a custom header, attachment parameters); the
 * library may refuse any of them, but a message it writes must have
 * CRLF line ends only, and every line outside the fixed body must be a
 * fold, a boundary, or a header field the library writes: no value may
 * start a line of its own.
 */
#include "fuzz_common.h"
#include "internal.h"

enum { F_SUBJECT, F_FROM_NAME, F_TO, F_CC_NAME, F_REPLY_TO, F_HNAME,
       F_HVALUE, F_MSGID, F_IRT, F_REF, F_FILENAME, F_CTYPE, F_CID,
       F_ENVELOPE, F_COUNT };

static const char *const msg_known[] = {
	"From", "Sender", "To", "Cc", "Reply-To", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-ID", "X-Fuzz"
};

static int msg_known_name(const char *line, size_t len, const char *extra)
{
	const char *colon = memchr(line, ':', len);
	size_t n = colon != NULL ? (size_t)(colon - line) : 0, i;

	if (colon == NULL)
		return 0;
	for (i = 0; i < RM__ARRAY_LEN(msg_known); i++)
		if (strlen(msg_known[i]) == n &&
		    rm__strncaseeq(msg_known[i], line, n))
			return 1;
	return extra != NULL && strlen(extra) == n &&
	       rm__strncaseeq(extra, line, n);
}

static int msg_line_ok(const char *line, size_t len, const char *extra)
{
	if (len == 0 || line[0] == ' ' || line[0] == '\t')
		return 1;
	if (len >= 2 && line[0] == '-' && line[1] == '-')
		return 1;
	/* The text body and the attachment, as text or in base64. */
	if ((len == 5 && memcmp(line, "hello", 5) == 0) ||
	    (len == 4 && memcmp(line, "data", 4) == 0) ||
	    (len == 8 && memcmp(line, "ZGF0YQ==", 8) == 0))
		return 1;
	return msg_known_name(line, len, extra);
}

static void msg_check(const char *m, size_t len, const char *extra)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		FUZZ_CHECK(m[i] != '\0');
		if (m[i] == '\r')
			FUZZ_CHECK(i + 1 < len && m[i + 1] == '\n');
		if (m[i] != '\n')
			continue;
		FUZZ_CHECK(i > 0 && m[i - 1] == '\r');
		if (!msg_line_ok(m + start, i - 1 - start, extra)) {
			fprintf(stderr, "line: %.*s\n", (int)(i - 1 - start),
			        m + start);
			FUZZ_CHECK(!"a value started a line of its own");
		}
		start = i + 1;
	}
}

/* Splits text at 0x01 into at most F_COUNT fields (NULL when absent). */
static void msg_split(char *text, const char *f[F_COUNT])
{
	char *p = text;
	int i;

	for (i = 0; i < F_COUNT; i++) {
		char *sep;

		f[i] = p;
		if (p == NULL)
			continue;
		sep = strchr(p, '\x01');
		if (sep != NULL)
			*sep = '\0';
		p = sep != NULL ? sep + 1 : NULL;
	}
}

static const char *msg_fill(rm_message *m, const char *f[F_COUNT])
{
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;
	const char *extra = NULL;

	rm_message_set_from(m, "a@example.com", f[F_FROM_NAME], NULL);
	rm_message_add_to(m, "b@example.net", NULL, NULL);
	if (f[F_TO] != NULL)
		rm_message_add_to(m, f[F_TO], NULL, NULL);
	rm_message_add_cc(m, "c@example.org", f[F_CC_NAME], NULL);
	if (f[F_REPLY_TO] != NULL)
		rm_message_add_reply_to(m, f[F_REPLY_TO], "R", NULL);
	rm_message_set_subject(m, f[F_SUBJECT], NULL);
	if (f[F_HNAME] != NULL && rm_message_add_header(m, f[F_HNAME],
	    f[F_HVALUE] != NULL ? f[F_HVALUE] : "v", NULL) == RM_OK)
		extra = f[F_HNAME];
	rm_message_add_header(m, "X-Fuzz", f[F_HVALUE], NULL);
	rm_message_set_message_id(m, f[F_MSGID], NULL);
	rm_message_set_in_reply_to(m, f[F_IRT], NULL);
	rm_message_add_reference(m, f[F_REF], NULL);
	rm_message_set_envelope_from(m, f[F_ENVELOPE], NULL);
	rm_message_set_text(m, "hello", (size_t)-1, NULL);
	o.filename = f[F_FILENAME];
	o.content_type = f[F_CTYPE];
	o.content_id = f[F_CID];
	if (f[F_FILENAME] != NULL)
		rm_message_attach_data(m, "data", 4, &o, NULL);
	return extra;
}

FUZZ_ENTRY(message)
{
	char *text = fuzz_cstr(data, size), *out = NULL;
	const char *f[F_COUNT];
	const char *extra;
	rm_message *m = NULL;
	size_t len = 0;

	msg_split(text, f);
	if (rm_message_new(&m, NULL) != RM_OK)
		abort();
	extra = msg_fill(m, f);
	if (rm_message_write_mem(m, &out, &len, NULL) == RM_OK)
		msg_check(out, len, extra);
	rm_free(out);
	rm_message_free(m);
	free(text);
	return 0;
}
