/*
 * curl_floor: a program that only links libcurl, asks its version and
 * prints its own peak resident size as "rss_peak_kb=K". It shows what
 * loading libcurl and its shared libraries costs any process: the floor
 * under relaymail-send and curl in the one-process-per-message workload,
 * and under relaymail's peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

int main(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	if (curl_version() == NULL)
		return 1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			printf("rss_peak_kb=%ld\n", strtol(line + 6, NULL, 10));
	if (f != NULL)
		fclose(f);
	return 0;
}
