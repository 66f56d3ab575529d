/*
 * Whether a host names this machine: the checks that let plain text
 * (http endpoints, SMTP without TLS) through only on loopback share this
 * one rule, so a look-alike name such as "127.evil.example" never passes.
 */
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "internal.h"

/* An IPv6 literal, bare or in the brackets of a URL (RFC 3986 3.2.2). */
static int ipv6_loopback(const char *host)
{
	char inner[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t len = strlen(host);

	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		if (len - 2 >= sizeof(inner))
			return 0;
		memcpy(inner, host + 1, len - 2);
		inner[len - 2] = '\0';
		host = inner;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	       IN6_IS_ADDR_LOOPBACK(&a6);
}

int rm__host_is_loopback(const char *host)
{
	struct in_addr a4;

	if (host == NULL || host[0] == '\0')
		return 0;

	/* The name is reserved for loopback (RFC 6761 6.3). */
	if (rm__strcaseeq(host, "localhost") ||
	    rm__strcaseeq(host, "localhost."))
		return 1;

	/* 127.0.0.0/8 (RFC 1122 3.2.1.3), only as a full dotted quad. */
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return ipv6_loopback(host);
}
