/*
 * Logging through the caller's callback. The library never writes to
 * stdout or stderr itself.
 */
#include <stdio.h>

#include "internal.h"

/* Longer lines are cut: a log line is for people, not for data. */
#define RM__LOG_LINE_MAX 2048

const char *rm_log_level_name(rm_log_level level)
{
	switch (level) {
	case RM_LOG_ERROR:
		return "error";
	case RM_LOG_WARN:
		return "warn";
	case RM_LOG_INFO:
		return "info";
	case RM_LOG_DEBUG:
		return "debug";
	}
	return "unknown";
}

int rm__log_enabled(const rm__log *log, rm_log_level level)
{
	return log != NULL && log->fn != NULL && level <= log->level;
}

/*
 * Lines quote what servers and callers sent (replies, transcripts): a
 * control byte in them is shown escaped, so a log line never carries a
 * line break or a terminal sequence of someone else's making.
 */
void rm__logf(const rm__log *log, rm_log_level level, const char *fmt, ...)
{
	char raw[RM__LOG_LINE_MAX], line[RM__LOG_LINE_MAX];
	va_list ap;

	if (!rm__log_enabled(log, level))
		return;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	rm__copy_escaped(line, sizeof(line), raw);
	log->fn(level, line, log->user);
}
