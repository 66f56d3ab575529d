/*
 * The DKIM key loader (dkim_key.c, on mbedTLS's PEM and key parsers). A
 * key it accepts must describe itself and publish its DNS record.
 */
#include "fuzz_common.h"
#include "internal.h"

FUZZ_ENTRY(pem)
{
	rm_dkim_key *key = NULL;
	rm_error err;
	char *record = NULL;

	if (rm_dkim_key_load_mem(&key, data, size, &err) != RM_OK) {
		FUZZ_CHECK(key == NULL && err.code < 0);
		return 0;
	}
	FUZZ_CHECK(rm_dkim_key_algorithm(key) != NULL);
	FUZZ_CHECK(rm_dkim_key_bits(key) > 0);
	if (rm_dkim_dns_record(key, "example.com", "sel", &record, &err) ==
	    RM_OK)
		FUZZ_CHECK(strstr(record, "sel._domainkey.example.com") !=
		           NULL);
	rm_free(record);
	rm_dkim_key_free(key);
	return 0;
}
