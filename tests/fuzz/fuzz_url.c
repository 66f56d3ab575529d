/*
 * The transport URL parser (url.c, on libcurl's URL API): whatever it
 * accepts has its parts NUL-terminated and its options readable.
 */
#include "fuzz_common.h"
#include "internal.h"

FUZZ_ENTRY(url)
{
	char *text = fuzz_cstr(data, size);
	rm__url url;
	rm_error err;
	size_t i;

	memset(&url, 0, sizeof(url));
	if (rm__url_parse(&url, text, &err) == RM_OK) {
		FUZZ_CHECK(url.scheme != NULL);
		FUZZ_CHECK(url.port >= 0 && url.port <= 65535);
		for (i = 0; i < url.option_count; i++)
			FUZZ_CHECK(url.options[i].name != NULL &&
			           url.options[i].value != NULL);
		(void)rm__url_option(&url, "tls");
		(void)rm__url_check_unused(&url, &err);
	} else {
		FUZZ_CHECK(err.code < 0 && err.message[0] != '\0');
	}
	rm__url_free(&url);
	free(text);
	return 0;
}
