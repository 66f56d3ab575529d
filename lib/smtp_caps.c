/*
 * EHLO capabilities. RFC 5321 section 4.1.1.1: the first line of the 250
 * reply greets, each later line is "KEYWORD [params]". Keywords and
 * parameters are matched without regard to case (section 2.4). Some old
 * servers still announce "AUTH=LOGIN PLAIN" (pre-RFC 4954 syntax), which
 * is read as AUTH.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

static const struct {
	const char *name;
	unsigned flag;
} keywords[] = {
	{ "PIPELINING", RM__CAP_PIPELINING },
	{ "STARTTLS", RM__CAP_STARTTLS },
	{ "SIZE", RM__CAP_SIZE },
	{ "8BITMIME", RM__CAP_8BITMIME },
	{ "SMTPUTF8", RM__CAP_SMTPUTF8 },
	{ "ENHANCEDSTATUSCODES", RM__CAP_ENHANCED },
	{ "DSN", RM__CAP_DSN },
	{ "AUTH", RM__CAP_AUTH },
};

/* Adds the mechanisms named in a space-separated list. */
static void parse_auth(rm__smtp_caps *caps, const char *p)
{
	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		int i;

		for (i = 0; i < RM__AUTH_COUNT; i++) {
			if (strlen(rm__auth_names[i]) == len &&
			    rm__strncaseeq(rm__auth_names[i], p, len))
				caps->auth |= 1u << i;
		}
		p += len;
		p += strspn(p, " ");
	}
}

static void parse_size(rm__smtp_caps *caps, const char *p)
{
	char *end;
	unsigned long long v;

	if (*p < '0' || *p > '9')
		return;
	v = strtoull(p, &end, 10);
	if (*end == '\0' || *end == ' ')
		caps->max_size = v;
}

/* Appends the keyword (upper case) unless it is already listed. */
static void note_keyword(rm__smtp_caps *caps, const char *name)
{
	size_t have = strlen(caps->keywords), len = strlen(name);
	const char *p = caps->keywords;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == caps->keywords || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return;
		p += len;
	}
	if (have + len + 2 > sizeof(caps->keywords))
		return;
	if (have > 0)
		caps->keywords[have++] = ' ';
	memcpy(caps->keywords + have, name, len + 1);
}

static void parse_keyword_line(rm__smtp_caps *caps, const char *line)
{
	size_t len = strcspn(line, " =");
	const char *params = line + len + (line[len] != '\0');
	char upper[64];
	size_t i;

	if (len == 0 || len >= sizeof(upper))
		return;
	for (i = 0; i < len; i++)
		upper[i] = (char)(line[i] >= 'a' && line[i] <= 'z' ?
		                  line[i] - 32 : line[i]);
	upper[len] = '\0';
	note_keyword(caps, upper);
	for (i = 0; i < RM__ARRAY_LEN(keywords); i++) {
		if (strcmp(upper, keywords[i].name) == 0)
			caps->flags |= keywords[i].flag;
	}
	if (strcmp(upper, "AUTH") == 0)
		parse_auth(caps, params);
	else if (strcmp(upper, "SIZE") == 0)
		parse_size(caps, params);
}

void rm__smtp_caps_parse(rm__smtp_caps *caps, const rm__reply *ehlo)
{
	char line[RM__REPLY_LINE_MAX + 1];
	size_t i;

	memset(caps, 0, sizeof(*caps));
	for (i = 1; i < ehlo->lines; i++) {
		rm__reply_line(ehlo, i, line, sizeof(line));
		parse_keyword_line(caps, line);
	}
}
