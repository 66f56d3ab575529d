/*
 * The SMTP URL reader under memory pressure: losing the copy of ca_file
 * must fail the open with RM_ENOMEM, never fall back silently to the
 * system's trust store. malloc is interposed in this binary only: with
 * fail_size set, an allocation of exactly that size fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_int.h"

/*
 * AddressSanitizer owns malloc and cannot share it with a replacement:
 * under it the test is skipped (the ordinary build runs it).
 */
#if defined(__SANITIZE_ADDRESS__)
#define RM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RM_TEST_ASAN 1
#endif
#endif

static size_t fail_size;
static int failed_once;

#ifndef RM_TEST_ASAN
void *__libc_malloc(size_t n);
void *malloc(size_t n);

void *malloc(size_t n)
{
	if (fail_size != 0 && n == fail_size) {
		failed_once = 1;
		return NULL;
	}
	return __libc_malloc(n);
}
#endif

/* A path whose length (plus its NUL) no other allocation shares. */
#define CA_PATH "/nonexistent/relaymail-test/ca-bundle-for-the-" \
                "allocation-failure-check-0123456789abcdef.pem"

static void cfg__ca_file_copy_lost_is_enomem(void **state)
{
	rm_transport *t = NULL;
	rm__smtp_cfg cfg;
	rm__url url;
	rm_error err;

	(void)state;
#ifdef RM_TEST_ASAN
	skip();
#endif
	assert_int_equal(rm_transport_open(&t, "smtp://127.0.0.1:9", NULL,
	                                   &err), RM_OK);
	assert_int_equal(rm__url_parse(&url, "smtp://127.0.0.1:9?ca_file="
	                               CA_PATH, &err), RM_OK);
	assert_int_equal(rm__smtp_cfg_parse(&cfg, t, &url, &err), RM_OK);
	assert_string_equal(cfg.ca_file, CA_PATH);
	rm__smtp_cfg_free(&cfg);

	fail_size = sizeof(CA_PATH);
	assert_int_equal(rm__smtp_cfg_parse(&cfg, t, &url, &err), RM_ENOMEM);
	fail_size = 0;
	assert_true(failed_once);
	assert_int_equal(err.code, RM_ENOMEM);
	rm__url_free(&url);
	rm_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cfg__ca_file_copy_lost_is_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
