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
	"feature not supported by server",
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

int rm__fail(rm_error *err, int code, rm_outcome outcome, const char *field,
             const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;

	memset(err, 0, sizeof(*err));
	err->code = code;
	err->outcome = outcome;
	if (field != NULL)
		snprintf(err->field, sizeof(err->field), "%s", field);

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}
