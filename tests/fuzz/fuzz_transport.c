/*
 * Opening a transport from a URL, composites included (route_parse.c,
 * url.c and every backend's option parser). Opening does not connect.
 * Inputs naming a breaker file or another file option are skipped: those
 * options create or read files, which a fuzzer must not do at random.
 */
#include <curl/curl.h>

#include "fuzz_common.h"
#include "internal.h"

static int tr_names_a_file(const char *text)
{
	static const char *const words[] = { "breaker", "_file", "dkim_key" };
	char *plain = curl_easy_unescape(NULL, text, 0, NULL);
	char *p;
	size_t i;
	int hit = 0;

	if (plain == NULL)
		return 1;
	for (p = plain; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	for (i = 0; i < RM__ARRAY_LEN(words); i++)
		hit |= strstr(plain, words[i]) != NULL;
	curl_free(plain);
	return hit;
}

FUZZ_ENTRY(transport)
{
	char *text = fuzz_cstr(data, size);
	rm_transport *t = NULL;
	rm_error err;

	if (!tr_names_a_file(text)) {
		if (rm_transport_open(&t, text, NULL, &err) == RM_OK) {
			FUZZ_CHECK(t != NULL && rm_transport_name(t) != NULL);
			(void)rm_transport_child_count(t);
			rm_transport_close(t);
		} else {
			FUZZ_CHECK(t == NULL && err.code < 0);
		}
	}
	free(text);
	return 0;
}
