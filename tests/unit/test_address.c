/*
 * Unit tests for the address parser and the addr-spec writer: good and
 * bad mailboxes, lists, international domains (case 03), UTF-8 local
 * parts and CR/LF refusal (case 07).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void parse_ok(const char *text, const char *name, const char *local,
                     const char *domain_ascii)
{
	rm__mailbox *mbs = NULL;
	size_t n = 0;
	rm_error err;

	if (rm__address_parse_list(text, "to", &mbs, &n, &err) != RM_OK)
		fail_msg("'%s' refused: %s", text, err.message);
	assert_int_equal(n, 1);
	if (name == NULL)
		assert_null(mbs[0].name);
	else
		assert_string_equal(mbs[0].name, name);
	assert_string_equal(mbs[0].local, local);
	assert_string_equal(mbs[0].domain_ascii, domain_ascii);
	rm__mailbox_free_array(mbs, n);
}

static void parse_bad(const char *text, const char *field)
{
	rm__mailbox *mbs = NULL;
	size_t n = 0;
	rm_error err;

	if (rm__address_parse_list(text, "to", &mbs, &n, &err) == RM_OK)
		fail_msg("'%s' accepted", text);
	assert_int_equal(err.code, RM_EINVAL);
	assert_string_equal(err.field, field);
	assert_true(strlen(err.message) > 0);
	assert_null(mbs);
}

static char *spec(const rm__mailbox *mb, int utf8)
{
	rm__buf b;

	rm__buf_init(&b, 1024);
	assert_int_equal(rm__mailbox_addr_spec(mb, utf8, &b), RM_OK);
	return rm__buf_steal(&b);
}

static void address__single_forms(void **state)
{
	(void)state;
	parse_ok("a@example.com", NULL, "a", "example.com");
	parse_ok("  <a@example.com>  ", NULL, "a", "example.com");
	parse_ok("Ann <ann@example.com>", "Ann", "ann", "example.com");
	parse_ok("Ann   Lee<ann@example.com>", "Ann Lee", "ann",
	         "example.com");
	parse_ok("\"Doe, Jo\" <j@example.com>", "Doe, Jo", "j", "example.com");
	parse_ok("\"Say \\\"Hi\\\"\" <t@example.com>", "Say \"Hi\"", "t",
	         "example.com");
	parse_ok("bob@example.org (Bob Smith)", NULL, "bob", "example.org");
	parse_ok("first.last+tag@sub.example.co.uk", NULL, "first.last+tag",
	         "sub.example.co.uk");
	parse_ok("\"john doe\"@example.com", NULL, "john doe", "example.com");
	parse_ok("x@[192.0.2.1]", NULL, "x", "[192.0.2.1]");
	parse_ok("x@[IPv6:2001:db8::1]", NULL, "x", "[IPv6:2001:db8::1]");
	parse_ok("root@localhost", NULL, "root", "localhost");
}

static void address__bad_inputs(void **state)
{
	char local[80];

	(void)state;
	parse_bad("", "to");
	parse_bad("   ", "to");
	parse_bad("no-at-sign", "to");
	parse_bad("a@", "to");
	parse_bad("@example.com", "to");
	parse_bad("a..b@example.com", "to");
	parse_bad(".a@example.com", "to");
	parse_bad("a b@example.com", "to");
	parse_bad("a@exa mple.com", "to");
	parse_bad("a@-example.com", "to");
	parse_bad("a@example-.com", "to");
	parse_bad("a@exa_mple.com", "to");
	parse_bad("a@example..com", "to");
	parse_bad("a@[300.1.1.1]", "to");
	parse_bad("Ann <a@example.com", "to");
	parse_bad("Ann <a@example.com> junk", "to");
	parse_bad("\"unclosed <a@example.com>", "to");
	parse_bad("a@b@example.com", "to");
	parse_bad("a\x01" "b@example.com", "to");
	parse_bad("\xc3(@example.com", "to");
	memset(local, 'l', 65);
	memcpy(local + 65, "@example.com", 13);
	parse_bad(local, "to");
}

static void address__lists(void **state)
{
	rm__mailbox *mbs;
	size_t n;
	rm_error err;

	(void)state;
	assert_int_equal(rm__address_parse_list(
		"a@example.com, \"Doe, Jo\" <j@example.com>,Ann <ann@x.org> , "
		"c@example.com (a, comment)", "to", &mbs, &n, &err), RM_OK);
	assert_int_equal(n, 4);
	assert_string_equal(mbs[0].local, "a");
	assert_string_equal(mbs[1].name, "Doe, Jo");
	assert_string_equal(mbs[2].name, "Ann");
	assert_string_equal(mbs[2].domain, "x.org");
	assert_string_equal(mbs[3].local, "c");
	assert_null(mbs[3].name);
	rm__mailbox_free_array(mbs, n);

	/* Errors name the element at fault. */
	parse_bad("a@example.com, b@example.com, nope", "to[2]");
	parse_bad("a@example.com,,b@example.com", "to[1]");
	parse_bad("a@example.com,", "to[1]");
}

static void address__idn_case03(void **state)
{
	rm__mailbox mb;
	rm_error err;
	char *s;

	(void)state;
	parse_ok("info@ex\xc3\xa4mple.com", NULL, "info", "xn--exmple-cua.com");
	parse_ok("x@b\xc3\xbc" "cher.example", NULL, "x",
	         "xn--bcher-kva.example");

	/* The local part never goes through IDNA. */
	assert_int_equal(rm__address_parse_one("info@ex\xc3\xa4mple.com", NULL,
	                                       "to", &mb, &err), RM_OK);
	assert_false(mb.utf8_local);
	s = spec(&mb, 0);
	assert_string_equal(s, "info@xn--exmple-cua.com");
	free(s);
	s = spec(&mb, 1);
	assert_string_equal(s, "info@ex\xc3\xa4mple.com");
	free(s);
	rm__mailbox_free(&mb);

	parse_bad("a@xn--.com", "to");
	parse_bad("a@\xe2\x98\x83\xe2\x98\x83..com", "to");
}

static void address__utf8_local_part(void **state)
{
	rm__mailbox mb;
	rm__buf b;
	rm_error err;
	char *s;

	(void)state;
	assert_int_equal(rm__address_parse_one("j\xc3\xb6rg@example.com",
	                                       "J\xc3\xb6rg", "to", &mb, &err),
	                 RM_OK);
	assert_true(mb.utf8_local);
	assert_string_equal(mb.name, "J\xc3\xb6rg");

	/* Without SMTPUTF8 it cannot be written at all (case 03 B). */
	rm__buf_init(&b, 1024);
	assert_int_equal(rm__mailbox_addr_spec(&mb, 0, &b), RM_EUNSUPPORTED);
	assert_int_equal(b.len, 0);
	rm__buf_free(&b);
	s = spec(&mb, 1);
	assert_string_equal(s, "j\xc3\xb6rg@example.com");
	free(s);
	rm__mailbox_free(&mb);
}

static void address__quoting_in_addr_spec(void **state)
{
	rm__mailbox mb;
	rm_error err;
	char *s;

	(void)state;
	assert_int_equal(rm__address_parse_one("\"a b\\\\c\\\"d\"@example.com",
	                                       NULL, "to", &mb, &err), RM_OK);
	assert_string_equal(mb.local, "a b\\c\"d");
	s = spec(&mb, 0);
	assert_string_equal(s, "\"a b\\\\c\\\"d\"@example.com");
	free(s);
	rm__mailbox_free(&mb);

	/* A quoted local part that is a dot-atom loses its quotes. */
	assert_int_equal(rm__address_parse_one("\"plain\"@example.com", NULL,
	                                       "to", &mb, &err), RM_OK);
	s = spec(&mb, 0);
	assert_string_equal(s, "plain@example.com");
	free(s);
	rm__mailbox_free(&mb);
}

static void address__crlf_refused_case07(void **state)
{
	rm__mailbox mb;
	rm_error err;

	(void)state;
	assert_int_equal(rm__address_parse_one("alice@example.com\r\nBcc: "
	                                       "victim@example.org", "Alice",
	                                       "reply_to", &mb, &err),
	                 RM_EINVAL);
	assert_string_equal(err.field, "reply_to");
	assert_int_equal(rm__address_parse_one("\"a\r\nRCPT TO:<victim@"
	                                       "example.org>\"@example.com",
	                                       NULL, "to", &mb, &err),
	                 RM_EINVAL);
	assert_int_equal(rm__address_parse_one("eve@example.com",
	                                       "Eve\r\nX-Injected: 1", "from",
	                                       &mb, &err), RM_EINVAL);
	assert_string_equal(err.field, "from");
	assert_int_equal(rm__address_parse_one("eve@example.com",
	                                       "Eve\xe2\x80\xa8" "x", "from",
	                                       &mb, &err), RM_EINVAL);
	parse_bad("a@example.com, \"b\nc\" <b@example.com>", "to");
	parse_bad("a@example.com\n", "to");
}

static void address__name_with_bare_spec_only(void **state)
{
	rm__mailbox mb;
	rm_error err;

	(void)state;
	/* With a name, the address must be one bare addr-spec. */
	assert_int_equal(rm__address_parse_one("Ann <a@example.com>", "Ann",
	                                       "to", &mb, &err), RM_EINVAL);
	assert_int_equal(rm__address_parse_one("a@example.com, b@x.org",
	                                       "Ann", "to", &mb, &err),
	                 RM_EINVAL);
	assert_int_equal(rm__address_parse_one("a@example.com", "", "to", &mb,
	                                       &err), RM_OK);
	assert_null(mb.name);
	rm__mailbox_free(&mb);
}

static void address__same_and_copy(void **state)
{
	rm__mailbox a, b, c;
	rm_error err;

	(void)state;
	assert_int_equal(rm__address_parse_one("Bob@Example.COM", NULL, "to",
	                                       &a, &err), RM_OK);
	assert_int_equal(rm__address_parse_one("Bob@example.com", "B", "to",
	                                       &b, &err), RM_OK);
	assert_true(rm__mailbox_same(&a, &b));
	assert_int_equal(rm__mailbox_copy(&c, &b), RM_OK);
	assert_string_equal(c.name, "B");
	assert_true(rm__mailbox_same(&b, &c));
	rm__mailbox_free(&b);
	assert_int_equal(rm__address_parse_one("bob@example.com", NULL, "to",
	                                       &b, &err), RM_OK);
	assert_false(rm__mailbox_same(&a, &b));
	rm__mailbox_free(&a);
	rm__mailbox_free(&b);
	rm__mailbox_free(&c);
}

/* Names the writer quotes come back unchanged through the parser. */
static void address__quoted_names_round_trip(void **state)
{
	static const char *const names[] = {
		"Ada, VP of Engineering", "Support (Billing)", "Joe Q. Public",
		"Say \"Hi\" \\ Team", "a@b.example", "x;y:z", "<angle>",
		"two  spaces", "trailing ", "comma,\"quote\",backslash\\",
		"Plain Name"
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(names); i++) {
		rm__mailbox *mbs;
		rm__buf b;
		rm__fold f;
		rm_error err;
		size_t n;
		char *flat;

		rm__buf_init(&b, 4096);
		assert_int_equal(rm__fold_start(&f, &b, "To"), RM_OK);
		assert_int_equal(rm__fold_phrase(&f, names[i]), RM_OK);
		assert_int_equal(rm__fold_atom(&f, " ", 1, "<a@example.com>",
		                               15), RM_OK);
		flat = strchr(b.data, ':') + 1;
		if (rm__address_parse_list(flat, "to", &mbs, &n, &err) != RM_OK)
			fail_msg("'%s' did not parse back: %s", flat,
			         err.message);
		assert_int_equal(n, 1);
		assert_string_equal(mbs[0].name, names[i]);
		rm__mailbox_free_array(mbs, n);
		rm__buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(address__single_forms),
		cmocka_unit_test(address__bad_inputs),
		cmocka_unit_test(address__lists),
		cmocka_unit_test(address__idn_case03),
		cmocka_unit_test(address__utf8_local_part),
		cmocka_unit_test(address__quoting_in_addr_spec),
		cmocka_unit_test(address__crlf_refused_case07),
		cmocka_unit_test(address__name_with_bare_spec_only),
		cmocka_unit_test(address__same_and_copy),
		cmocka_unit_test(address__quoted_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
