/*
 * rm_url_mask (url_mask.c): any text is masked without failing, and
 * masking is idempotent: a masked URL masked again is unchanged, so no
 * secret span is left half-hidden.
 */
#include "fuzz_common.h"
#include "internal.h"

FUZZ_ENTRY(url_mask)
{
	char *text = fuzz_cstr(data, size), *once = NULL, *twice = NULL;

	FUZZ_CHECK(rm_url_mask(text, &once, NULL) == RM_OK);
	FUZZ_CHECK(rm_url_mask(once, &twice, NULL) == RM_OK);
	FUZZ_CHECK(strcmp(once, twice) == 0);
	rm_free(once);
	rm_free(twice);
	free(text);
	return 0;
}
