/*
 * Status codes, outcome names and the helpers that fill rm_error.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const status_names[] = {
	"success",
	"invalid argument",
	"out of memory",
	"limit exceeded",
	"local file I/O failed",
	"bad transport URL",
	"host name did not resolve",
	"connection failed",
	"timed out",
	"connection closed by peer",
	"TLS failure",
	"certificate verification failed",
	"TLS not available",
	"protocol error",
	"authentication failed",
	"not supported by this transport or server",
	"message too big for server",
	"rejected by server",
	"temporary failure; try again later",
	"stopped by callback",
	"invalid in this state",
	"HTTP transfer failed",
};

const char *rm_strerror(int code)
{
	if (code > 0 || (size_t)-code >= RM__ARRAY_LEN(status_names))
		return "unknown status";
	return status_names[-code];
}

const char *rm_outcome_name(rm_outcome outcome)
{
	switch (outcome) {
	case RM_OUTCOME_NONE:
		return "none";
	case RM_OUTCOME_DELIVERED:
		return "delivered";
	case RM_OUTCOME_TRANSIENT:
		return "transient";
	case RM_OUTCOME_PERM_RECIPIENT:
		return "permanent-recipient";
	case RM_OUTCOME_PERM_PROVIDER:
		return "permanent-provider";
	case RM_OUTCOME_AMBIGUOUS:
		return "ambiguous";
	}
	return "unknown";
}

void rm__error_clear(rm_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/*
 * Writes the escape for a control byte or DEL (\r, \x1b) to out and
 * returns its length; 0 for any other byte, which stays as it is (UTF-8
 * included).
 */
static size_t control_escape(unsigned char c, char out[5])
{
	static const char named[] = { '\t', 't', '\n', 'n', '\r', 'r' };
	size_t i;

	for (i = 0; i < sizeof(named); i += 2) {
		if (c == (unsigned char)named[i])
			return (size_t)snprintf(out, 5, "\\%c", named[i + 1]);
	}
	if (c < 0x20 || c == 0x7f)
		return (size_t)snprintf(out, 5, "\\x%02x", c);
	return 0;
}

void rm__copy_escaped(char *dst, size_t size, const char *src)
{
	size_t used = 0;
	char esc[5];

	for (; *src != '\0'; src++) {
		size_t n = control_escape((unsigned char)*src, esc);

		if (n == 0) {
			esc[0] = *src;
			n = 1;
		}
		if (used + n >= size)
			break;
		memcpy(dst + used, esc, n);
		used += n;
	}
	dst[used] = '\0';
}

void rm__error_vset(rm_error *err, const char *field, const char *fmt,
                    va_list ap)
{
	char text[RM_ERROR_MESSAGE_MAX];

	if (field != NULL)
		rm__copy_escaped(err->field, sizeof(err->field), field);
	vsnprintf(text, sizeof(text), fmt, ap);
	rm__copy_escaped(err->message, sizeof(err->message), text);
}

int rm__fail(rm_error *err, int code, rm_outcome outcome, const char *field,
             const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;

	memset(err, 0, sizeof(*err));
	err->code = code;
	err->outcome = outcome;

	va_start(ap, fmt);
	rm__error_vset(err, field, fmt, ap);
	va_end(ap);
	return code;
}
