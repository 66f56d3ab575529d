/*
 * URL query option values: flags, durations and whole numbers, the same
 * words and units on every transport and composite (see option.h).
 */
#include <stdio.h>
#include <string.h>

#include "option.h"

/* Larger numbers are a typo, whatever the unit. */
#define NUMBER_MAX 1000000000L

int rm__opt_fail(const rm__opt_reader *r, const char *name,
                 const char *why)
{
	return rm__fail(r->err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, name,
	                "bad %s option %s: %s", r->what, name, why);
}

int rm__parse_flag(const char *text, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(yes); i++) {
		if (rm__strcaseeq(text, yes[i])) {
			*out = 1;
			return RM_OK;
		}
	}
	for (i = 0; i < RM__ARRAY_LEN(no); i++) {
		if (rm__strcaseeq(text, no[i])) {
			*out = 0;
			return RM_OK;
		}
	}
	return RM_EINVAL;
}

/* The milliseconds in one of unit, or 0 for no such unit. */
static long long unit_ms(const char *unit)
{
	static const struct {
		const char *name;
		long long ms;
	} units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(units); i++) {
		if (strcmp(unit, units[i].name) == 0)
			return units[i].ms;
	}
	return 0;
}

int rm__parse_duration(const char *text, long long *ms)
{
	char num[24];
	size_t n = strspn(text, "0123456789");
	long long unit = unit_ms(text + n);
	long value;

	if (n == 0 || n >= sizeof(num) || unit == 0)
		return RM_EINVAL;
	memcpy(num, text, n);
	num[n] = '\0';
	if (rm__parse_long(num, 0, NUMBER_MAX, &value) != RM_OK)
		return RM_EINVAL;
	*ms = value * unit;
	return RM_OK;
}

/* ms in the largest unit that holds it whole: "7 days", "500 ms". */
static void span_text(long long ms, char *out, size_t size)
{
	static const struct {
		long long ms;
		const char *one, *many;
	} units[] = {
		{ 86400000, "day", "days" }, { 3600000, "hour", "hours" },
		{ 60000, "minute", "minutes" }, { 1000, "second", "seconds" },
		{ 1, "ms", "ms" },
	};
	size_t i = 0;

	while (i + 1 < RM__ARRAY_LEN(units) && ms % units[i].ms != 0)
		i++;
	snprintf(out, size, "%lld %s", ms / units[i].ms,
	         ms == units[i].ms ? units[i].one : units[i].many);
}

int rm__opt_flag(const rm__opt_reader *r, const char *name, int *out)
{
	const char *v = rm__url_option(r->url, name);

	if (v == NULL || rm__parse_flag(v, out) == RM_OK)
		return RM_OK;
	return rm__opt_fail(r, name, "expected yes or no (or true/false, "
	                    "on/off, 1/0)");
}

int rm__opt_long(const rm__opt_reader *r, const char *name, long min,
                 long max, long *out)
{
	const char *v = rm__url_option(r->url, name);
	char why[80];

	if (v == NULL || rm__parse_long(v, min, max, out) == RM_OK)
		return RM_OK;
	snprintf(why, sizeof(why), "expected a whole number, %ld to %ld",
	         min, max);
	return rm__opt_fail(r, name, why);
}

int rm__opt_duration(const rm__opt_reader *r, const char *name,
                     long long min_ms, long long max_ms, long long *out)
{
	const char *v = rm__url_option(r->url, name);
	char why[160], lo[32], hi[32];
	long long ms;

	if (v == NULL)
		return RM_OK;
	if (rm__parse_duration(v, &ms) == RM_OK && ms >= min_ms &&
	    ms <= max_ms) {
		*out = ms;
		return RM_OK;
	}
	span_text(min_ms, lo, sizeof(lo));
	span_text(max_ms, hi, sizeof(hi));
	/* Only examples the range takes. */
	snprintf(why, sizeof(why), "expected a duration such as 30 (seconds), "
	         "30s, %s2m or 1h, %s%s%s", min_ms <= 500 ? "500ms, " : "",
	         min_ms > 0 ? lo : "at most ", min_ms > 0 ? " to " : "", hi);
	return rm__opt_fail(r, name, why);
}
