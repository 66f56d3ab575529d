/*
 * The header fields that decide inbox placement for bulk mail:
 * List-Unsubscribe (RFC 2369), List-Unsubscribe-Post (RFC 8058) and
 * Feedback-ID. They are kept among the message's custom fields, so the
 * writer writes them where it writes those and every backend that maps
 * custom fields carries them.
 */
#include <stdlib.h>
#include <string.h>

#include "message_int.h"

#define URI_MAX 2000
#define FEEDBACK_ID_MAX 200

/* Removes every custom field called name. */
static void remove_fields(rm_message *msg, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < msg->header_count; i++) {
		rm__header h = msg->headers[i];

		if (rm__strcaseeq(h.name, name)) {
			free(h.name);
			free(h.value);
			continue;
		}
		msg->headers[n++] = h;
	}
	msg->header_count = n;
}

/*
 * Replaces the fields called names[i] with values[i] (NULL: none),
 * allocating everything first so that a failure changes nothing.
 */
static int replace_fields(rm_message *msg, const char *const *names,
                          const char *const *values, size_t count,
                          const char *field, rm_error *err)
{
	rm__header add[2];
	rm__header *v;
	size_t i, n = 0;

	for (i = 0; i < count; i++) {
		if (values[i] == NULL)
			continue;
		add[n].name = rm__strdup(names[i]);
		add[n].value = rm__strdup(values[i]);
		n++;
		if (add[n - 1].name == NULL || add[n - 1].value == NULL)
			break;
	}
	v = realloc(msg->headers, (msg->header_count + n + 1) * sizeof(*v));
	if (v != NULL)
		msg->headers = v;
	if (v == NULL || (n > 0 && (add[n - 1].name == NULL ||
	                            add[n - 1].value == NULL))) {
		for (i = 0; i < n; i++) {
			free(add[i].name);
			free(add[i].value);
		}
		return rm__message_fail_oom(err, field);
	}
	for (i = 0; i < count; i++)
		remove_fields(msg, names[i]);
	for (i = 0; i < n; i++)
		msg->headers[msg->header_count++] = add[i];
	return RM_OK;
}

/* A URI inside <>: printable ASCII without space, '<', '>' or ','
 * (RFC 2369 section 2: the list is comma-separated). */
static int check_uri(const char *uri, const char *field, rm_error *err)
{
	size_t i, len = strlen(uri);

	if (len == 0 || len > URI_MAX)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s must be 1 to %d characters", field,
		                URI_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c <= ' ' || c > '~' || c == '<' || c == '>' || c == ',')
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
			                "%s has the byte 0x%02X at %zu: a URI "
			                "is printable ASCII without spaces, "
			                "'<', '>' or ',' (percent-encode them)",
			                field, (unsigned)c, i);
	}
	return RM_OK;
}

static int check_list_args(const char *mailto, const char *https,
                           int one_click, rm_error *err)
{
	int rc = RM_OK;

	if (mailto != NULL)
		rc = check_uri(mailto, "list_unsubscribe.mailto", err);
	if (rc == RM_OK && https != NULL)
		rc = check_uri(https, "list_unsubscribe.https", err);
	if (rc == RM_OK && https != NULL &&
	    !rm__strncaseeq(https, "https://", 8))
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		              "list_unsubscribe.https", "the unsubscribe URL "
		              "must start with https://");
	if (rc == RM_OK && one_click && https == NULL)
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		              "list_unsubscribe.https", "one-click unsubscribe "
		              "needs an https URL (RFC 8058 section 3.1)");
	return rc;
}

/* "<mailto:a@b>, <https://...>" */
static int list_value(const char *mailto, const char *https, rm__buf *b)
{
	int mail_scheme = mailto != NULL &&
	                  rm__strncaseeq(mailto, "mailto:", 7);
	int rc = RM_OK;

	if (mailto != NULL)
		rc = rm__buf_printf(b, "<%s%s>", mail_scheme ? "" : "mailto:",
		                    mailto);
	if (rc == RM_OK && https != NULL)
		rc = rm__buf_printf(b, "%s<%s>", mailto != NULL ? ", " : "",
		                    https);
	return rc;
}

int rm_message_set_list_unsubscribe(rm_message *msg, const char *mailto,
                                    const char *https, int one_click,
                                    rm_error *err)
{
	static const char *const names[] = {
		"List-Unsubscribe", "List-Unsubscribe-Post"
	};
	const char *values[2] = { NULL, NULL };
	rm__buf b;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = check_list_args(mailto, https, one_click, err);
	if (rc != RM_OK)
		return rc;
	rm__buf_init(&b, 2 * URI_MAX + 64);
	if (list_value(mailto, https, &b) != RM_OK) {
		rm__buf_free(&b);
		return rm__message_fail_oom(err, "list_unsubscribe");
	}
	values[0] = b.data;
	if (one_click)
		values[1] = "List-Unsubscribe=One-Click";
	rc = replace_fields(msg, names, values, 2, "list_unsubscribe", err);
	rm__buf_free(&b);
	return rc;
}

int rm_message_set_feedback_id(rm_message *msg, const char *id,
                               rm_error *err)
{
	static const char *const names[] = { "Feedback-ID" };
	size_t i, len = id != NULL ? strlen(id) : 0;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	if (id != NULL && (len == 0 || len > FEEDBACK_ID_MAX))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "feedback_id",
		                "Feedback-ID must be 1 to %d characters",
		                FEEDBACK_ID_MAX);
	for (i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "feedback_id", "Feedback-ID must be "
			                "printable ASCII without spaces");
	return replace_fields(msg, names, &id, 1, "feedback_id", err);
}
