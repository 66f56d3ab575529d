/*
 * Unit tests for DKIM signing: case 17 of ../shared/cases/cases.md
 * (exact canonical forms and bh= values), canonicalization tables for
 * header fields and bodies fed in every split, the signature field and
 * its RSA signature checked with mbedTLS, the RFC 8463 key, keys
 * refused, the signing write (second pass identical, a changed file
 * caught), URL options, the DNS record, and the List-Unsubscribe and
 * Feedback-ID setters. Keys are made at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include "dkim_int.h"
#include "message_int.h"

static rm_error err;

#define OK(call) \
	do { \
		if ((call) != RM_OK) \
			fail_msg("%s failed: [%s] %s", #call, err.field, \
			         err.message); \
	} while (0)

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static void buf_sink(const unsigned char *data, size_t len, void *user)
{
	assert_int_equal(rm__buf_append(user, data, len), RM_OK);
}

/* The canonical body, fed in pieces of step bytes. */
static char *canon_body(const char *in, size_t len, int relaxed,
                        size_t step)
{
	rm__dkim_body b;
	rm__buf out;
	size_t i;

	rm__buf_init(&out, 1 << 20);
	rm__dkim_body_init(&b, relaxed, buf_sink, &out);
	for (i = 0; i < len; i += step)
		rm__dkim_body_update(&b, in + i,
		                     len - i < step ? len - i : step);
	rm__dkim_body_finish(&b);
	if (out.data == NULL)
		return strdup("");
	return rm__buf_steal(&out);
}

static char *b64_sha256(const char *data, size_t len)
{
	unsigned char h[32];
	rm__buf out;

	mbedtls_sha256_ret((const unsigned char *)data, len, h, 0);
	rm__buf_init(&out, 128);
	assert_int_equal(rm__base64_encode(&out, h, 32), RM_OK);
	return rm__buf_steal(&out);
}

/* bh= of a body, as the signer computes it. */
static char *body_hash(const char *in, size_t len, int relaxed)
{
	char *c = canon_body(in, len, relaxed, 7);
	char *h = b64_sha256(c, strlen(c));

	free(c);
	return h;
}

static char *canon_header(const char *field, int relaxed)
{
	rm__buf out;

	rm__buf_init(&out, 1 << 16);
	assert_int_equal(rm__dkim_canon_header(&out, field, strlen(field),
	                                       relaxed), RM_OK);
	return rm__buf_steal(&out);
}

/* An RSA key in PEM, made now with mbedTLS. */
static char *make_rsa_pem(unsigned bits)
{
	static const char pers[] = "test_dkim";
	mbedtls_entropy_context e;
	mbedtls_ctr_drbg_context d;
	mbedtls_pk_context pk;
	unsigned char pem[16000];

	mbedtls_entropy_init(&e);
	mbedtls_ctr_drbg_init(&d);
	mbedtls_pk_init(&pk);
	assert_int_equal(mbedtls_ctr_drbg_seed(&d, mbedtls_entropy_func, &e,
	                 (const unsigned char *)pers, sizeof(pers)), 0);
	assert_int_equal(mbedtls_pk_setup(&pk,
	                 mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), 0);
	assert_int_equal(mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk),
	                 mbedtls_ctr_drbg_random, &d, bits, 65537), 0);
	assert_int_equal(mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)), 0);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&d);
	mbedtls_entropy_free(&e);
	return strdup((const char *)pem);
}

static rm_dkim_key *rsa_key(void)
{
	static rm_dkim_key *key;
	char *pem;

	if (key != NULL)
		return key;
	pem = make_rsa_pem(1024);
	OK(rm_dkim_key_load_mem(&key, pem, strlen(pem), &err));
	free(pem);
	return key;
}

typedef struct sink {
	rm__buf out;
	const char *rewrite;   /* a file to change on the first call */
	int calls;
} sink;

static int sink_write(const void *data, size_t len, void *user)
{
	sink *s = user;

	if (s->calls++ == 0 && s->rewrite != NULL) {
		FILE *f = fopen(s->rewrite, "wb");

		assert_non_null(f);
		fputs("CHANGED!", f);
		fclose(f);
	}
	return rm__buf_append(&s->out, data, len) == RM_OK ? 0 : 1;
}

static rm_message *new_message(void)
{
	rm_message *msg = NULL;

	OK(rm_message_new(&msg, &err));
	OK(rm_message_set_from(msg, "ann@example.com", "Ann", &err));
	OK(rm_message_add_to(msg, "bob@example.org", NULL, &err));
	OK(rm_message_set_subject(msg, "Hello there", &err));
	OK(rm_message_set_text(msg, "Hi Bob,\n\nsee you.\n", (size_t)-1,
	                       &err));
	return msg;
}

/* A transport-less signer set around one key. */
static rm__dkim_set *one_signer(const rm_dkim_opts *opts)
{
	rm_transport *t = NULL;
	rm__dkim_set *set;

	OK(rm_transport_open(&t, "file:///tmp", NULL, &err));
	OK(rm_transport_add_dkim(t, rsa_key(), "example.com", "sel", opts,
	                         &err));
	set = t->dkim;
	t->dkim = NULL;
	rm_transport_close(t);
	return set;
}

static char *write_signed(rm_message *msg, const rm__dkim_set *set,
                          const char *rewrite, int *rc)
{
	rm__write_opts o;
	sink s;

	memset(&o, 0, sizeof(o));
	o.dkim = set;
	memset(&s, 0, sizeof(s));
	s.rewrite = rewrite;
	rm__buf_init(&s.out, 1 << 26);
	*rc = rm__message_write_with(msg, &o, sink_write, &s, &err);
	return s.out.data != NULL ? rm__buf_steal(&s.out) : strdup("");
}

/* The value of tag name in the first DKIM-Signature field, without its
 * folding whitespace. */
static char *tag(const char *field, const char *name)
{
	const char *end = strstr(field, "\r\n"), *p = field;
	char *out = calloc(1, strlen(field) + 1);
	size_t n = 0, len = strlen(name);

	/* The field ends at the first CRLF not followed by WSP. */
	while (end[2] == ' ' || end[2] == '\t')
		end = strstr(end + 2, "\r\n");
	for (;;) {
		p += strcspn(p, " \t");
		assert_true(p < end);
		p++;
		if (strncmp(p, name, len) == 0 && p[len] == '=')
			break;
	}
	for (p += len + 1; p < end && *p != ';'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			out[n++] = *p;
	return out;
}

/* ---------------------------------------------------------------------- */
/* Case 17: bodies                                                        */
/* ---------------------------------------------------------------------- */

static const char case17[] =
	"Hello  \tworld \r\n  indented\t\r\n \t\r\n\r\n";

static void dkim__case17_relaxed_body(void **state)
{
	size_t step;

	(void)state;
	for (step = 1; step <= sizeof(case17); step++) {
		char *c = canon_body(case17, sizeof(case17) - 1, 1, step);

		assert_string_equal(c, "Hello world\r\n indented\r\n");
		free(c);
	}
	{
		char *h = body_hash(case17, sizeof(case17) - 1, 1);

		assert_string_equal(h,
		        "yC+g0UIuFcd3XKlRB3PI+206MdQYvG90Xj6n2mJR43w=");
		free(h);
	}
}

static void dkim__case17_simple_body(void **state)
{
	size_t step;
	char *h;

	(void)state;
	for (step = 1; step <= sizeof(case17); step++) {
		char *c = canon_body(case17, sizeof(case17) - 1, 0, step);

		assert_string_equal(c,
		        "Hello  \tworld \r\n  indented\t\r\n \t\r\n");
		free(c);
	}
	h = body_hash(case17, sizeof(case17) - 1, 0);
	assert_string_equal(h, "eZQpXl1lNohbHdx76tfJtbMweWq+yvAvoo0C9Z1e/Pw=");
	free(h);
}

static void dkim__case17_empty_body(void **state)
{
	char *r = body_hash("", 0, 1), *s = body_hash("", 0, 0);
	char *r2 = body_hash("\r\n\r\n", 4, 1);
	char *s2 = body_hash("\r\n\r\n \r\n", 7, 1);

	(void)state;
	assert_string_equal(r, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_string_equal(s, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	/* Only empty (or, relaxed, blank) lines: the same as no body. */
	assert_string_equal(r2, r);
	assert_string_equal(s2, r);
	free(r);
	free(s);
	free(r2);
	free(s2);
}

/* RFC 8463 A.3: the body of the example message. */
static void dkim__rfc8463_body_hash(void **state)
{
	static const char body[] = "Hi.\r\n\r\nWe lost the game.  Are you "
	                           "hungry yet?\r\n\r\nJoe.\r\n";
	char *h = body_hash(body, sizeof(body) - 1, 1);

	(void)state;
	assert_string_equal(h, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	free(h);
}

/* ---------------------------------------------------------------------- */
/* Canonicalization tables                                                */
/* ---------------------------------------------------------------------- */

typedef struct canon_case {
	const char *in;
	const char *simple;
	const char *relaxed;
} canon_case;

static void dkim__body_table(void **state)
{
	static const canon_case cases[] = {
		{ "a\r\n", "a\r\n", "a\r\n" },
		{ "a", "a\r\n", "a\r\n" },
		{ "a\r\n\r\n\r\n", "a\r\n", "a\r\n" },
		{ "\r\n", "\r\n", "" },
		{ " \r\n", " \r\n", "" },
		{ "a \r\n\r\nb\r\n", "a \r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
		{ "\t x\t y \r\n", "\t x\t y \r\n", " x y\r\n" },
		{ "a\rb\r\n", "a\rb\r\n", "a\rb\r\n" },
		{ "a\r", "a\r\r\n", "a\r\r\n" },
		{ "a\n\r\n", "a\n\r\n", "a\n\r\n" },
		{ "x \r\n \r\n\t\r\n", "x \r\n \r\n\t\r\n", "x\r\n" },
	};
	size_t i, step;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(cases); i++) {
		for (step = 1; step <= 4; step++) {
			size_t n = strlen(cases[i].in);
			char *s = canon_body(cases[i].in, n, 0, step);
			char *r = canon_body(cases[i].in, n, 1, step);

			assert_string_equal(s, cases[i].simple);
			assert_string_equal(r, cases[i].relaxed);
			free(s);
			free(r);
		}
	}
}

static void dkim__header_table(void **state)
{
	static const canon_case cases[] = {
		/* Case 17. */
		{ "Subject :  Hello   World  \r\n",
		  "Subject :  Hello   World  \r\n", "subject:Hello World\r\n" },
		{ "X-Tag: a\r\n\tb\r\n", "X-Tag: a\r\n\tb\r\n",
		  "x-tag:a b\r\n" },
		{ "FROM:\tAnn <a@b>\r\n", "FROM:\tAnn <a@b>\r\n",
		  "from:Ann <a@b>\r\n" },
		{ "To: a@b,\r\n c@d\r\n", "To: a@b,\r\n c@d\r\n",
		  "to:a@b, c@d\r\n" },
		{ "X: a: b\r\n", "X: a: b\r\n", "x:a: b\r\n" },
		{ "Empty:\r\n", "Empty:\r\n", "empty:\r\n" },
		{ "Blank: \t \r\n", "Blank: \t \r\n", "blank:\r\n" },
		{ "Subject: =?UTF-8?B?w6k=?=\r\n \r\n",
		  "Subject: =?UTF-8?B?w6k=?=\r\n \r\n",
		  "subject:=?UTF-8?B?w6k=?=\r\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < RM__ARRAY_LEN(cases); i++) {
		char *s = canon_header(cases[i].in, 0);
		char *r = canon_header(cases[i].in, 1);

		assert_string_equal(s, cases[i].simple);
		assert_string_equal(r, cases[i].relaxed);
		free(s);
		free(r);
	}
}

/* ---------------------------------------------------------------------- */
/* Signatures                                                             */
/* ---------------------------------------------------------------------- */

/* The header section up to the empty line. */
static size_t head_len(const char *m)
{
	const char *e = strstr(m, "\r\n\r\n");

	assert_non_null(e);
	return (size_t)(e - m) + 2;
}

/* Appends the relaxed form of the field called name ("\nname:") in
 * the header section that starts at head. */
static void add_field(rm__buf *data, const char *head, const char *name)
{
	const char *f = strcasestr(head, name), *e;

	if (f == NULL)
		return;
	f++;
	e = strstr(f, "\r\n");
	while (e[2] == ' ' || e[2] == '\t')
		e = strstr(e + 2, "\r\n");
	assert_int_equal(rm__dkim_canon_header(data, f, (size_t)(e + 2 - f),
	                 1), RM_OK);
}

/* Recomputes the header hash of the first signature (relaxed; each
 * field occurs once, so an oversigned name adds nothing) and checks b=
 * with the public key. */
static void check_rsa_signature(const char *m)
{
	const char *head = strstr(m, "\r\nDate:");
	const char *b = strstr(m, "\tb=");
	char *h = tag(m, "h"), *sig64 = tag(m, "b"), *p, seen[1024] = ":";
	unsigned char hash[32];
	rm__buf data, field, sig;

	assert_non_null(head);
	assert_non_null(b);
	rm__buf_init(&data, 1 << 20);
	rm__buf_init(&field, 1 << 16);
	rm__buf_init(&sig, 1024);
	for (p = h; *p != '\0'; p += strcspn(p, ":") + (p[strcspn(p, ":")]
	                                               == ':')) {
		char name[80];

		snprintf(name, sizeof(name), ":%.*s:", (int)strcspn(p, ":"),
		         p);
		if (strstr(seen, name) != NULL)
			continue;
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
		         "%s", name + 1);
		name[0] = '\n';
		add_field(&data, head, name);
	}
	assert_int_equal(rm__dkim_canon_header(&field, m,
	                 (size_t)(b + 3 - m), 1), RM_OK);
	assert_int_equal(rm__buf_append(&data, field.data, field.len - 2),
	                 RM_OK);
	mbedtls_sha256_ret((unsigned char *)data.data, data.len, hash, 0);
	assert_int_equal(rm__base64_decode(&sig, sig64, strlen(sig64)),
	                 RM_OK);
	assert_int_equal(mbedtls_pk_verify(&rsa_key()->pk, MBEDTLS_MD_SHA256,
	                 hash, 32, (unsigned char *)sig.data, sig.len), 0);
	free(h);
	free(sig64);
	rm__buf_free(&data);
	rm__buf_free(&field);
	rm__buf_free(&sig);
}

static void dkim__signed_write(void **state)
{
	rm_message *msg = new_message();
	rm__dkim_set *set = one_signer(NULL);
	char *m, *plain, *h, *bh;
	rm__buf body;
	int rc;

	(void)state;
	m = write_signed(msg, set, NULL, &rc);
	OK(rc);
	OK(rm_message_write_mem(msg, &plain, NULL, &err));

	/* The signature field, then the very bytes of a plain write. */
	assert_true(strncmp(m, "DKIM-Signature: v=1; a=rsa-sha256; "
	                    "c=relaxed/relaxed; d=example.com; s=sel;", 71)
	            == 0);
	assert_string_equal(strstr(m, "\r\nDate:") + 2, plain);

	h = tag(m, "h");
	assert_string_equal(h, "from:from:to:subject:date:message-id:"
	                    "mime-version:content-type");
	rm__buf_init(&body, 1 << 20);
	rm__buf_append_str(&body, plain + head_len(plain) + 2);
	bh = tag(m, "bh");
	{
		char *want = body_hash(body.data, body.len, 1);

		assert_string_equal(bh, want);
		free(want);
	}
	check_rsa_signature(m);
	free(h);
	free(bh);
	rm__buf_free(&body);
	free(m);
	rm_free(plain);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

static void dkim__options_in_field(void **state)
{
	rm_dkim_opts o = RM_DKIM_OPTS_INIT;
	rm_message *msg = new_message();
	rm__dkim_set *set;
	char *m, *v;
	int rc;

	(void)state;
	o.header_canon = RM_DKIM_SIMPLE;
	o.body_canon = RM_DKIM_SIMPLE;
	o.headers = "From:Subject:X-Absent:from";
	o.identity = "news@mail.example.com";
	o.timestamp = 1700000000;
	o.expire_seconds = 3600;
	set = one_signer(&o);
	m = write_signed(msg, set, NULL, &rc);
	OK(rc);
	v = tag(m, "c");
	assert_string_equal(v, "simple/simple");
	free(v);
	v = tag(m, "h");
	assert_string_equal(v, "from:subject:x-absent:from");
	free(v);
	v = tag(m, "t");
	assert_string_equal(v, "1700000000");
	free(v);
	v = tag(m, "x");
	assert_string_equal(v, "1700003600");
	free(v);
	v = tag(m, "i");
	assert_string_equal(v, "news@mail.example.com");
	free(v);
	free(m);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

/* Same key, same time, same message: the same bytes (RSA PKCS#1 v1.5
 * is deterministic), so golden files of signed mail are possible. */
static void dkim__reproducible(void **state)
{
	rm_dkim_opts o = RM_DKIM_OPTS_INIT;
	rm_message *msg = new_message();
	rm__dkim_set *set;
	char *a, *b;
	int rc;

	(void)state;
	OK(rm_message_set_reproducible(msg, 1, &err));
	OK(rm_message_attach_data(msg, "abc", 3, NULL, &err));
	o.timestamp = 1700000000;
	set = one_signer(&o);
	a = write_signed(msg, set, NULL, &rc);
	OK(rc);
	b = write_signed(msg, set, NULL, &rc);
	OK(rc);
	assert_string_equal(a, b);
	free(a);
	free(b);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

/* Random boundaries and the default Date must not change between the
 * two passes: a multipart message without a set Date signs cleanly. */
static void dkim__multipart_two_passes(void **state)
{
	rm_message *msg = new_message();
	rm__dkim_set *set = one_signer(NULL);
	char *m;
	int rc;

	(void)state;
	OK(rm_message_set_html(msg, "<p>Hi</p>", (size_t)-1, &err));
	OK(rm_message_attach_data(msg, "abc", 3, NULL, &err));
	m = write_signed(msg, set, NULL, &rc);
	OK(rc);
	assert_non_null(strstr(m, "multipart/mixed"));
	assert_false(msg->date_set);
	free(m);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

static void dkim__file_changed_between_passes(void **state)
{
	char path[] = "/tmp/test_dkim_XXXXXX";
	rm_message *msg = new_message();
	rm__dkim_set *set = one_signer(NULL);
	int fd = mkstemp(path), rc;
	char *m;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "original", 8), 8);
	close(fd);
	OK(rm_message_attach_file(msg, path, NULL, &err));
	m = write_signed(msg, set, path, &rc);
	assert_int_equal(rc, RM_EIO);
	assert_string_equal(err.field, "dkim");
	/* The end of the message was held back. */
	assert_null(strstr(m, "--\r\n"));
	free(m);
	unlink(path);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

static void dkim__raw_message_signed(void **state)
{
	static const char raw[] = "From: a@example.com\nTo: b@example.org\n"
	                          "Subject: raw\n\nbody  \n\n";
	rm__dkim_set *set = one_signer(NULL);
	rm_message *msg = NULL;
	char *m, *v;
	int rc;

	(void)state;
	OK(rm_message_new_raw(&msg, raw, sizeof(raw) - 1, &err));
	m = write_signed(msg, set, NULL, &rc);
	OK(rc);
	v = tag(m, "h");
	assert_string_equal(v, "from:from:to:subject:date:message-id");
	free(v);
	v = tag(m, "bh");
	assert_string_equal(v, "Ck5SoRNWUpSR4X0COv7R5ub2pUTtl6xz4dTFz++ji4M=");
	free(v);
	free(m);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

/* ---------------------------------------------------------------------- */
/* Keys and records                                                       */
/* ---------------------------------------------------------------------- */

static void dkim__rsa_key_properties(void **state)
{
	char *rec = NULL;

	(void)state;
	assert_string_equal(rm_dkim_key_algorithm(rsa_key()), "rsa-sha256");
	assert_int_equal(rm_dkim_key_bits(rsa_key()), 1024);
	OK(rm_dkim_dns_record(rsa_key(), "Example.COM", "sel", &rec, &err));
	assert_true(strncmp(rec, "sel._domainkey.example.com. IN TXT "
	                    "\"v=DKIM1; k=rsa; p=MIGfMA0G", 60) == 0);
	rm_free(rec);
	assert_int_equal(rm_dkim_dns_record(rsa_key(), "example.com",
	                 "bad selector", &rec, &err), RM_EINVAL);
	assert_string_equal(err.field, "dkim_selector");
	assert_int_equal(rm_dkim_dns_record(rsa_key(), "bad..name", "s",
	                 &rec, &err), RM_EINVAL);
	assert_string_equal(err.field, "dkim_domain");
}

/* RFC 8463 A.2: the seed and its public key. */
static void dkim__rfc8463_key(void **state)
{
	static const char pem[] =
		"-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJp"
		"GXA7rAMcrn9g\n"
		"-----END PRIVATE KEY-----\n";
	rm_dkim_key *key = NULL;
	char *rec = NULL;
	int rc;

	(void)state;
	rc = rm_dkim_key_load_mem(&key, pem, sizeof(pem) - 1, &err);
	if (!rm_dkim_ed25519_available()) {
		assert_int_equal(rc, RM_EUNSUPPORTED);
		assert_non_null(strstr(err.message, "libsodium"));
		return;
	}
	OK(rc);
	assert_string_equal(rm_dkim_key_algorithm(key), "ed25519-sha256");
	OK(rm_dkim_dns_record(key, "football.example.com", "brisbane", &rec,
	                      &err));
	assert_string_equal(rec, "brisbane._domainkey.football.example.com. "
	                    "IN TXT \"v=DKIM1; k=ed25519; "
	                    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"");
	rm_free(rec);
	rm_dkim_key_free(key);
}

static void dkim__keys_refused(void **state)
{
	static const char ec[] =
		"-----BEGIN EC PRIVATE KEY-----\n"
		"MHcCAQEEIGbDu5Yb8J8mz6Zr9RZm5fQ5mLq3f9e5nJ+d6B1k1q3T"
		"oAoGCCqGSM49\n"
		"AwEHoUQDQgAE\n"
		"-----END EC PRIVATE KEY-----\n";
	char *small = make_rsa_pem(512);
	rm_dkim_key *key = NULL;

	(void)state;
	assert_int_equal(rm_dkim_key_load_mem(&key, "junk", 4, &err),
	                 RM_EINVAL);
	assert_null(key);
	assert_int_equal(rm_dkim_key_load_mem(&key, small, strlen(small),
	                 &err), RM_EINVAL);
	assert_non_null(strstr(err.message, "512 bits"));
	assert_int_not_equal(rm_dkim_key_load_mem(&key, ec, sizeof(ec) - 1,
	                     &err), RM_OK);
	assert_int_equal(rm_dkim_key_load_file(&key, "/nonexistent/key.pem",
	                 &err), RM_EIO);
	assert_null(key);
	free(small);
}

/* ---------------------------------------------------------------------- */
/* Transports and URL options                                             */
/* ---------------------------------------------------------------------- */

static void dkim__json_transport_refused(void **state)
{
	rm_transport *t = NULL;

	(void)state;
	OK(rm_transport_open(&t, "sendgrid://KEY@default", NULL, &err));
	assert_int_equal(rm_transport_add_dkim(t, rsa_key(), "example.com",
	                 "sel", NULL, &err), RM_EUNSUPPORTED);
	assert_non_null(strstr(err.message, "provider"));
	rm_transport_close(t);
}

/* A composite takes its signers in the URLs inside it. */
static void dkim__composite_refused(void **state)
{
	rm_transport *t = NULL;

	(void)state;
	OK(rm_transport_open(&t, "failover(file:///tmp file:///var/tmp)",
	                     NULL, &err));
	assert_int_equal(rm_transport_add_dkim(t, rsa_key(), "example.com",
	                 "sel", NULL, &err), RM_EUNSUPPORTED);
	assert_non_null(strstr(err.message, "inside"));
	rm_transport_close(t);
}

static void dkim__headers_need_from(void **state)
{
	rm_dkim_opts o = RM_DKIM_OPTS_INIT;
	rm_transport *t = NULL;

	(void)state;
	OK(rm_transport_open(&t, "file:///tmp", NULL, &err));
	o.headers = "to:subject";
	assert_int_equal(rm_transport_add_dkim(t, rsa_key(), "example.com",
	                 "sel", &o, &err), RM_EINVAL);
	assert_string_equal(err.field, "dkim_headers");
	o.headers = NULL;
	o.identity = "a@elsewhere.example";
	assert_int_equal(rm_transport_add_dkim(t, rsa_key(), "example.com",
	                 "sel", &o, &err), RM_EINVAL);
	assert_string_equal(err.field, "dkim_identity");
	/* The failures added nothing. */
	assert_null(t->dkim);
	rm_transport_close(t);
}

static void dkim__url_options(void **state)
{
	char path[] = "/tmp/test_dkim_key_XXXXXX", url[512];
	char *pem = make_rsa_pem(1024);
	rm_transport *t = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pem, strlen(pem)), (int)strlen(pem));
	close(fd);
	snprintf(url, sizeof(url), "file:///tmp?dkim_key=%s&dkim_selector=s1"
	         "&dkim_domain=example.com&dkim_canon=simple/relaxed"
	         "&dkim_expire=600", path);
	OK(rm_transport_open(&t, url, NULL, &err));
	assert_int_equal(t->dkim->count, 1);
	assert_false(t->dkim->signers[0].header_relaxed);
	assert_true(t->dkim->signers[0].body_relaxed);
	assert_int_equal(t->dkim->signers[0].expire, 600);
	rm_transport_close(t);

	snprintf(url, sizeof(url), "smtp://127.0.0.1?dkim_key=%s", path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), RM_EURL);
	assert_string_equal(err.field, "dkim_selector");
	snprintf(url, sizeof(url), "file:///tmp?dkim_key=%s&dkim_selector=s"
	         "&dkim_domain=example.com&dkim_canon=odd", path);
	assert_int_equal(rm_transport_open(&t, url, NULL, &err), RM_EURL);
	assert_string_equal(err.field, "dkim_canon");
	unlink(path);
	free(pem);
}

/* ---------------------------------------------------------------------- */
/* List-Unsubscribe and Feedback-ID                                       */
/* ---------------------------------------------------------------------- */

static void dkim__list_unsubscribe(void **state)
{
	rm_message *msg = new_message();
	char *m = NULL;

	(void)state;
	OK(rm_message_set_reproducible(msg, 1, &err));
	OK(rm_message_set_list_unsubscribe(msg, "unsub@example.com",
	   "https://example.com/u?id=1", 1, &err));
	OK(rm_message_set_feedback_id(msg, "c1:cust:news:esp", &err));
	OK(rm_message_write_mem(msg, &m, NULL, &err));
	assert_non_null(strstr(m, "\r\nList-Unsubscribe: <mailto:unsub@"
	                       "example.com>, <https://example.com/u?id=1>\r\n"
	                       "List-Unsubscribe-Post: List-Unsubscribe=One-"
	                       "Click\r\n"));
	assert_non_null(strstr(m, "\r\nFeedback-ID: c1:cust:news:esp\r\n"));
	rm_free(m);

	/* Replaced, not added; one-click dropped. */
	OK(rm_message_set_list_unsubscribe(msg, "mailto:x@example.com", NULL,
	                                   0, &err));
	OK(rm_message_write_mem(msg, &m, NULL, &err));
	assert_non_null(strstr(m, "\r\nList-Unsubscribe: "
	                       "<mailto:x@example.com>\r\n"));
	assert_null(strstr(m, "List-Unsubscribe-Post"));
	assert_null(strstr(m, "https://"));
	rm_free(m);

	/* Removed. */
	OK(rm_message_set_list_unsubscribe(msg, NULL, NULL, 0, &err));
	OK(rm_message_set_feedback_id(msg, NULL, &err));
	assert_int_equal(msg->header_count, 0);
	rm_message_free(msg);
}

static void dkim__list_unsubscribe_refused(void **state)
{
	rm_message *msg = new_message();

	(void)state;
	OK(rm_message_set_list_unsubscribe(msg, "a@example.com", NULL, 0,
	                                   &err));
	assert_int_equal(rm_message_set_list_unsubscribe(msg, NULL,
	                 "http://example.com/u", 0, &err), RM_EINVAL);
	assert_int_equal(rm_message_set_list_unsubscribe(msg, "a@example.com",
	                 NULL, 1, &err), RM_EINVAL);
	assert_non_null(strstr(err.message, "RFC 8058"));
	assert_int_equal(rm_message_set_list_unsubscribe(msg, "a@b\r\nX: y",
	                 NULL, 0, &err), RM_EINVAL);
	assert_string_equal(err.field, "list_unsubscribe.mailto");
	assert_int_equal(rm_message_set_list_unsubscribe(msg, NULL,
	                 "https://x/a>b", 0, &err), RM_EINVAL);
	assert_int_equal(rm_message_set_feedback_id(msg, "a b", &err),
	                 RM_EINVAL);
	assert_int_equal(rm_message_set_feedback_id(msg, "", &err),
	                 RM_EINVAL);
	/* The failures changed nothing. */
	assert_int_equal(msg->header_count, 1);
	assert_string_equal(msg->headers[0].value, "<mailto:a@example.com>");
	rm_message_free(msg);
}

/* Signed by default, as RFC 8058 section 4 asks. */
static void dkim__list_headers_signed(void **state)
{
	rm_message *msg = new_message();
	rm__dkim_set *set = one_signer(NULL);
	char *m, *h;
	int rc;

	(void)state;
	OK(rm_message_add_cc(msg, "cy@example.org", NULL, &err));
	OK(rm_message_add_reply_to(msg, "help@example.com", NULL, &err));
	OK(rm_message_set_list_unsubscribe(msg, NULL,
	   "https://example.com/u", 1, &err));
	OK(rm_message_set_feedback_id(msg, "a:b:c", &err));
	m = write_signed(msg, set, NULL, &rc);
	OK(rc);
	h = tag(m, "h");
	assert_string_equal(h, "from:from:to:cc:subject:date:message-id:"
	                    "mime-version:content-type:reply-to:"
	                    "list-unsubscribe:list-unsubscribe-post:"
	                    "feedback-id");
	check_rsa_signature(m);
	free(h);
	free(m);
	rm__dkim_set_free(set);
	rm_message_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dkim__case17_relaxed_body),
		cmocka_unit_test(dkim__case17_simple_body),
		cmocka_unit_test(dkim__case17_empty_body),
		cmocka_unit_test(dkim__rfc8463_body_hash),
		cmocka_unit_test(dkim__body_table),
		cmocka_unit_test(dkim__header_table),
		cmocka_unit_test(dkim__signed_write),
		cmocka_unit_test(dkim__options_in_field),
		cmocka_unit_test(dkim__reproducible),
		cmocka_unit_test(dkim__multipart_two_passes),
		cmocka_unit_test(dkim__file_changed_between_passes),
		cmocka_unit_test(dkim__raw_message_signed),
		cmocka_unit_test(dkim__rsa_key_properties),
		cmocka_unit_test(dkim__rfc8463_key),
		cmocka_unit_test(dkim__keys_refused),
		cmocka_unit_test(dkim__json_transport_refused),
		cmocka_unit_test(dkim__composite_refused),
		cmocka_unit_test(dkim__headers_need_from),
		cmocka_unit_test(dkim__url_options),
		cmocka_unit_test(dkim__list_unsubscribe),
		cmocka_unit_test(dkim__list_unsubscribe_refused),
		cmocka_unit_test(dkim__list_headers_signed),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rm_dkim_key_free(rsa_key());
	return rc;
}
