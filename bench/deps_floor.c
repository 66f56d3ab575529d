/*
 * deps_floor: the same as curl_floor, but linked with relaymail's other
 * dependencies (mbedTLS, cJSON, libidn2, and libsodium when the library
 * uses it) and not with libcurl: what start-up and peak RSS would be for
 * a program that loads no libcurl. Prints "rss_peak_kb=K".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <idn2.h>
#include <mbedtls/version.h>

int main(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	/* One call into each, so that none can be left unloaded. */
	if (cJSON_Version() == NULL || idn2_check_version(NULL) == NULL ||
	    mbedtls_version_get_number() == 0)
		return 1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			printf("rss_peak_kb=%ld\n", strtol(line + 6, NULL, 10));
	if (f != NULL)
		fclose(f);
	return 0;
}
