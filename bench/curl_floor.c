/*
 * curl_floor: a program that only links libcurl and asks its version, to
 * show what loading libcurl and its shared libraries costs a process
 * (the floor under relaymail-send and curl in the one-process-per-message
 * workload).
 */
#include <stdio.h>

#include <curl/curl.h>

int main(void)
{
	return curl_version() == NULL;
}
