/*
 * The address parser (address.c): a mailbox list, or with a 0x01 byte
 * an addr-spec and a display name. Whatever it accepts must come out as
 * an addr-spec without CR, LF or NUL, and as a display name that folds
 * into a header without a line break of its own.
 */
#include "fuzz_common.h"
#include "internal.h"

static void addr_check_mailbox(const rm__mailbox *mb)
{
	rm__buf out;
	rm__fold f;
	int utf8;

	for (utf8 = 0; utf8 <= 1; utf8++) {
		rm__buf_init(&out, 1 << 20);
		if (rm__mailbox_addr_spec(mb, utf8, &out) == RM_OK)
			FUZZ_CHECK(!rm__has_crlf_nul(out.data, out.len));
		rm__buf_free(&out);
	}
	if (mb->name == NULL)
		return;
	rm__buf_init(&out, 1 << 20);
	if (rm__fold_start(&f, &out, "To") == RM_OK &&
	    rm__fold_phrase(&f, mb->name) == RM_OK)
		FUZZ_CHECK(!fuzz_bad_line_break(out.data, out.len));
	rm__buf_free(&out);
}

static void addr_list(const char *text)
{
	rm__mailbox *mbs = NULL;
	size_t count = 0, i;
	rm_error err;

	if (rm__address_parse_list(text, "to", &mbs, &count, &err) != RM_OK) {
		FUZZ_CHECK(err.code < 0 && err.field[0] != '\0');
		return;
	}
	FUZZ_CHECK(count >= 1);
	for (i = 0; i < count; i++)
		addr_check_mailbox(&mbs[i]);
	rm__mailbox_free_array(mbs, count);
}

static void addr_one(const char *addr, const char *name)
{
	rm__mailbox mb;
	rm_error err;

	memset(&mb, 0, sizeof(mb));
	if (rm__address_parse_one(addr, name, "reply_to", &mb, &err) !=
	    RM_OK) {
		FUZZ_CHECK(err.code < 0);
		return;
	}
	addr_check_mailbox(&mb);
	rm__mailbox_free(&mb);
}

FUZZ_ENTRY(address)
{
	char *text = fuzz_cstr(data, size);
	char *split = strchr(text, '\x01');

	if (split == NULL) {
		addr_list(text);
	} else {
		*split = '\0';
		addr_one(text, split + 1);
	}
	free(text);
	return 0;
}
