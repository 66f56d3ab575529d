/*
 * Replays the fuzz targets' seed corpora and regression inputs
 * (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME) through the same
 * target code, built here without libFuzzer, so every compiler and the
 * sanitizer build run them on each check. A broken invariant aborts.
 *
 * The HTTP response targets include their backend's source file and so
 * cannot share this program; make fuzz-ci replays their inputs, and the
 * bug they found has a direct test below.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RM_FUZZ_REPLAY 1
#include "../fuzz/fuzz_address.c"
#include "../fuzz/fuzz_header.c"
#include "../fuzz/fuzz_message.c"
#include "../fuzz/fuzz_pem.c"
#include "../fuzz/fuzz_smtp_reply.c"
#include "../fuzz/fuzz_transport.c"
#include "../fuzz/fuzz_url.c"
#include "../fuzz/fuzz_url_mask.c"

typedef int (*replay_fn)(const uint8_t *data, size_t size);

static char *replay_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Runs every file of dir (absent is fine); returns how many ran. */
static size_t replay_dir(const char *dir, replay_fn fn)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t count = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[512];
		size_t len;
		char *data;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		data = replay_read(path, &len);
		fn((const uint8_t *)data, len);
		free(data);
		count++;
	}
	closedir(d);
	return count;
}

static void replay(const char *name, replay_fn fn)
{
	char dir[256];
	size_t n;

	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", name);
	n = replay_dir(dir, fn);
	snprintf(dir, sizeof(dir), "tests/fuzz/regressions/%s", name);
	n += replay_dir(dir, fn);
	assert_true(n > 0);
}

static void fuzz_replay__smtp_reply(void **state)
{
	(void)state;
	replay("smtp_reply", fuzz_smtp_reply);
}

static void fuzz_replay__address(void **state)
{
	(void)state;
	replay("address", fuzz_address);
}

static void fuzz_replay__header(void **state)
{
	(void)state;
	replay("header", fuzz_header);
}

static void fuzz_replay__message(void **state)
{
	(void)state;
	replay("message", fuzz_message);
}

static void fuzz_replay__pem(void **state)
{
	(void)state;
	replay("pem", fuzz_pem);
}

static void fuzz_replay__url(void **state)
{
	(void)state;
	replay("url", fuzz_url);
}

static void fuzz_replay__transport(void **state)
{
	(void)state;
	replay("transport", fuzz_transport);
}

static void fuzz_replay__url_mask(void **state)
{
	(void)state;
	replay("url_mask", fuzz_url_mask);
}

/* Found by the HTTP targets: a response without header lines (an empty
 * buffer, data NULL) was searched with pointer arithmetic on NULL. */
static void fuzz_replay__http_header_of_empty_response(void **state)
{
	rm__http_response resp;
	char out[32] = "unchanged";

	(void)state;
	rm__http_response_init(&resp);
	assert_int_equal(rm__http_response_header(&resp, "Retry-After", out,
	                                          sizeof(out)), 0);
	assert_string_equal(out, "unchanged");
	assert_true(rm__http_retry_hint(&resp) <= 0);
	rm__http_response_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fuzz_replay__smtp_reply),
		cmocka_unit_test(fuzz_replay__address),
		cmocka_unit_test(fuzz_replay__header),
		cmocka_unit_test(fuzz_replay__message),
		cmocka_unit_test(fuzz_replay__pem),
		cmocka_unit_test(fuzz_replay__url),
		cmocka_unit_test(fuzz_replay__transport),
		cmocka_unit_test(fuzz_replay__url_mask),
		cmocka_unit_test(fuzz_replay__http_header_of_empty_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
