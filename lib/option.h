/*
 * The values of URL query options, read with one grammar for every
 * transport (option.c):
 *
 *   flag       yes, true, on, 1 / no, false, off, 0, in any case; an
 *              empty value is refused, since the flags turn safety
 *              checks off and must be said in words
 *   duration   whole number with an optional unit: 30 or 30s (seconds),
 *              500ms, 2m, 1h
 *   integer    whole decimal number, no sign
 *
 * An absent option leaves *out as it was, so the caller's default
 * stands. A bad value is RM_EURL, RM_OUTCOME_PERM_PROVIDER, with the
 * option's name as the field and "bad WHAT option NAME: WHY" as the
 * message, WHY naming the accepted values and the range.
 */
#ifndef RM_OPTION_H
#define RM_OPTION_H

#include "internal.h"

typedef struct rm__opt_reader {
	const rm__url *url;
	const char *what;    /* "URL", "SMTP URL", "composite"... */
	rm_error *err;
} rm__opt_reader;

/* Fails on option name of r with the reason why. */
int rm__opt_fail(const rm__opt_reader *r, const char *name,
                 const char *why);

int rm__opt_flag(const rm__opt_reader *r, const char *name, int *out);
int rm__opt_long(const rm__opt_reader *r, const char *name, long min,
                 long max, long *out);
/* A duration in milliseconds, within [min_ms, max_ms]. */
int rm__opt_duration(const rm__opt_reader *r, const char *name,
                     long long min_ms, long long max_ms, long long *out);

/* The value grammars alone: RM_OK or RM_EINVAL. */
int rm__parse_flag(const char *text, int *out);
int rm__parse_duration(const char *text, long long *ms);

#endif /* RM_OPTION_H */
