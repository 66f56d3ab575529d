/*
 * The SMTP reply reader and the EHLO capability parser (smtp_reply.c,
 * smtp_caps.c) on server bytes fed in pieces of varying size. The first
 * byte picks the piece size, so the fuzzer also splits lines anywhere.
 */
#include "fuzz_common.h"
#include "smtp_int.h"

static void reply_check(const rm__reply *r)
{
	rm__smtp_caps caps;
	char line[64];
	size_t i;

	FUZZ_CHECK(r->code >= 200 && r->code <= 599);
	FUZZ_CHECK(r->lines >= 1 && r->lines <= RM__REPLY_LINES_MAX);
	FUZZ_CHECK(strlen(r->enhanced) < sizeof(r->enhanced));
	for (i = 0; i < r->lines + 1; i++)
		rm__reply_line(r, i, line, sizeof(line));
	rm__smtp_caps_parse(&caps, r);
	FUZZ_CHECK(strlen(caps.keywords) < sizeof(caps.keywords));
	FUZZ_CHECK(caps.auth < (1u << RM__AUTH_COUNT));
}

/* Takes every complete reply; 0 to go on, -1 once the reader failed. */
static int reply_drain(rm__reply_reader *rd, rm__reply *r)
{
	for (;;) {
		int rc = rm__reply_next(rd, r);

		if (rc == 0)
			return 0;
		if (rc < 0) {
			FUZZ_CHECK(rc == RM_EPROTOCOL || rc == RM_ELIMIT);
			return -1;
		}
		reply_check(r);
	}
}

FUZZ_ENTRY(smtp_reply)
{
	rm__reply_reader rd;
	rm__reply r;
	size_t piece, pos = 1;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 17 + 1;
	rm__reply_reader_init(&rd);
	rm__reply_init(&r);
	while (pos < size) {
		size_t n = size - pos < piece ? size - pos : piece;

		if (rm__reply_feed(&rd, data + pos, n) != RM_OK)
			break;
		pos += n;
		if (reply_drain(&rd, &r) != 0)
			break;
	}
	FUZZ_CHECK(rm__reply_buffered(&rd) <= size);
	rm__reply_free(&r);
	rm__reply_reader_free(&rd);
	return 0;
}
