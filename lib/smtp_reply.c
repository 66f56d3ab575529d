/*
 * The SMTP reply reader: bytes go in, complete replies come out. It does
 * no I/O, so the connection code (plain or TLS) feeds it and the tests
 * can split input anywhere.
 *
 * RFC 5321 section 4.2: a reply is one or more lines "NNN-text" ending
 * with a line "NNN text" or just "NNN"; every line carries the same code.
 * RFC 3463 / RFC 2034: the text may start with an enhanced status code.
 */
#include <string.h>

#include "smtp_int.h"

/* Room for a burst of pipelined replies on top of one partial line. */
#define READER_MAX (256 * 1024)

void rm__reply_init(rm__reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->lines = 0;
	rm__buf_init(&r->text, RM__REPLY_LINE_MAX * RM__REPLY_LINES_MAX);
}

void rm__reply_free(rm__reply *r)
{
	rm__buf_free(&r->text);
	r->code = 0;
	r->lines = 0;
}

static void reply_clear(rm__reply *r)
{
	rm__buf_reset(&r->text);
	r->code = 0;
	r->enhanced[0] = '\0';
	r->lines = 0;
}

void rm__reply_line(const rm__reply *r, size_t i, char *buf, size_t size)
{
	const char *p = r->text.data != NULL ? r->text.data : "";
	size_t len;

	while (i > 0 && (p = strchr(p, '\n')) != NULL) {
		p++;
		i--;
	}
	if (p == NULL)
		p = "";
	len = strcspn(p, "\n");
	if (size == 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

void rm__reply_reader_init(rm__reply_reader *rd)
{
	rm__buf_init(&rd->in, READER_MAX);
	rd->pos = 0;
	rm__reply_init(&rd->cur);
}

void rm__reply_reader_free(rm__reply_reader *rd)
{
	rm__buf_free(&rd->in);
	rm__reply_free(&rd->cur);
	rd->pos = 0;
}

/* Drops the parsed prefix so the buffer holds only what is pending. */
static void compact(rm__reply_reader *rd)
{
	if (rd->pos == 0)
		return;
	memmove(rd->in.data, rd->in.data + rd->pos, rd->in.len - rd->pos);
	rd->in.len -= rd->pos;
	rd->in.data[rd->in.len] = '\0';
	rd->pos = 0;
}

int rm__reply_feed(rm__reply_reader *rd, const void *data, size_t len)
{
	compact(rd);
	return rm__buf_append(&rd->in, data, len);
}

size_t rm__reply_buffered(const rm__reply_reader *rd)
{
	return rd->in.len - rd->pos;
}

void rm__reply_discard(rm__reply_reader *rd)
{
	rm__buf_reset(&rd->in);
	rd->pos = 0;
	reply_clear(&rd->cur);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Counts 1 to 3 digits at p; 0 if there are none or more than 3. */
static size_t digit_run(const char *p)
{
	size_t n = 0;

	while (is_digit(p[n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

size_t rm__enhanced_parse(const char *text, int code, char *out,
                          size_t size)
{
	size_t a, b, len;

	/* RFC 3463 section 2: class.subject.detail, class as the reply's. */
	if (text[0] != (char)('0' + code / 100) || text[1] != '.' ||
	    (text[0] != '2' && text[0] != '4' && text[0] != '5'))
		return 0;
	a = digit_run(text + 2);
	if (a == 0 || text[2 + a] != '.')
		return 0;
	b = digit_run(text + 3 + a);
	len = 3 + a + b;
	if (b == 0 || (text[len] != ' ' && text[len] != '\0'))
		return 0;
	if (len < size) {
		memcpy(out, text, len);
		out[len] = '\0';
	}
	return len;
}

/* Adds one line's text to the reply, minus a leading enhanced status. */
static int add_line_text(rm__reply *r, const char *text, size_t len)
{
	char status[16];
	size_t skip = rm__enhanced_parse(text, r->code, status,
	                                 sizeof(status));

	if (skip > 0 && r->lines == 0)
		memcpy(r->enhanced, status, sizeof(status));
	if (skip > 0 && strcmp(status, r->enhanced) == 0) {
		skip += text[skip] == ' ' ? 1 : 0;
		text += skip;
		len -= skip;
	}
	if (r->lines > 0 && rm__buf_append_byte(&r->text, '\n') != RM_OK)
		return RM_ELIMIT;
	if (rm__buf_append(&r->text, text, len) != RM_OK)
		return RM_ELIMIT;
	r->lines++;
	return RM_OK;
}

/*
 * Parses one line (without its CRLF, NUL-terminated by the caller).
 * Returns 1 when it was the last line of the reply, 0 when more follow.
 */
static int parse_line(rm__reply *r, char *line, size_t len)
{
	int code;

	if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) ||
	    !is_digit(line[2]) || line[0] < '2' || line[0] > '5')
		return RM_EPROTOCOL;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return RM_EPROTOCOL;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines > 0 && code != r->code)
		return RM_EPROTOCOL;
	if (r->lines >= RM__REPLY_LINES_MAX)
		return RM_ELIMIT;
	r->code = code;
	if (add_line_text(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0))
		return RM_ELIMIT;
	return len == 3 || line[3] == ' ';
}

static void move_reply(rm__reply *from, rm__reply *to)
{
	rm__buf spare = to->text;

	*to = *from;
	from->text = spare;
	reply_clear(from);
}

int rm__reply_next(rm__reply_reader *rd, rm__reply *out)
{
	for (;;) {
		char *line = rd->in.data != NULL ? rd->in.data + rd->pos : "";
		size_t left = rd->in.len - rd->pos;
		char *lf = memchr(line, '\n', left);
		size_t len;
		int rc;

		if (lf == NULL)
			return left > RM__REPLY_LINE_MAX ? RM_ELIMIT : 0;
		len = (size_t)(lf - line);
		rd->pos += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > RM__REPLY_LINE_MAX)
			return RM_ELIMIT;
		line[len] = '\0';
		rc = parse_line(&rd->cur, line, len);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			move_reply(&rd->cur, out);
			return 1;
		}
	}
}
