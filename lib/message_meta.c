/*
 * Tags and metadata: data about a message that the HTTP providers carry
 * to their statistics and webhooks, never written into the message.
 */
#include <stdlib.h>
#include <string.h>

#include "message_int.h"

#define TAG_MAX 255
#define META_KEY_MAX 128
#define META_VALUE_MAX 1000

/* More than any provider takes; the cap keeps the lists bounded. */
#define TAG_COUNT_MAX 64
#define META_COUNT_MAX 64

void rm__message_meta_free(rm_message *msg)
{
	size_t i;

	for (i = 0; i < msg->tag_count; i++)
		free(msg->tags[i]);
	free(msg->tags);
	for (i = 0; i < msg->meta_count; i++) {
		free(msg->meta[i].name);
		free(msg->meta[i].value);
	}
	free(msg->meta);
	msg->tags = NULL;
	msg->meta = NULL;
	msg->tag_count = msg->meta_count = 0;
}

static int check_text(const char *text, size_t max, const char *field,
                      rm_error *err)
{
	size_t len;

	if (text == NULL || text[0] == '\0')
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s must not be empty", field);
	len = strlen(text);
	if (len > max)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, field,
		                "%s is %zu bytes long; the most is %zu", field,
		                len, max);
	return rm__check_header_text(text, len, field, err);
}

int rm_message_add_tag(rm_message *msg, const char *tag, rm_error *err)
{
	char **tags, *copy;
	size_t i;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = check_text(tag, TAG_MAX, "tag", err);
	if (rc != RM_OK)
		return rc;
	for (i = 0; i < msg->tag_count; i++) {
		if (strcmp(msg->tags[i], tag) == 0)
			return RM_OK;
	}
	if (msg->tag_count == TAG_COUNT_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "tag",
		                "a message takes at most %d tags",
		                TAG_COUNT_MAX);
	copy = rm__strdup(tag);
	tags = copy != NULL ? realloc(msg->tags, (msg->tag_count + 1) *
	                              sizeof(*tags)) : NULL;
	if (tags == NULL) {
		free(copy);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "tag",
		                "out of memory adding a tag");
	}
	tags[msg->tag_count++] = copy;
	msg->tags = tags;
	return RM_OK;
}

/* Printable ASCII without '"', so a key fits every provider's syntax. */
static int check_key(const char *key, rm_error *err)
{
	const char *p;
	int rc = check_text(key, META_KEY_MAX, "metadata key", err);

	for (p = key; rc == RM_OK && *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '"')
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "metadata key", "the metadata key '%s' "
			                "may hold only printable ASCII without "
			                "spaces or '\"'", key);
	}
	return rc;
}

static void remove_meta(rm_message *msg, size_t i)
{
	free(msg->meta[i].name);
	free(msg->meta[i].value);
	memmove(&msg->meta[i], &msg->meta[i + 1],
	        (msg->meta_count - i - 1) * sizeof(msg->meta[0]));
	msg->meta_count--;
}

/* Replaces the value of entry i, or appends a new entry (i == count). */
static int store_meta(rm_message *msg, size_t i, const char *key,
                      const char *value)
{
	char *v = rm__strdup(value), *k = NULL;
	rm__header *meta;

	if (v == NULL)
		return RM_ENOMEM;
	if (i < msg->meta_count) {
		free(msg->meta[i].value);
		msg->meta[i].value = v;
		return RM_OK;
	}
	k = rm__strdup(key);
	meta = k != NULL ? realloc(msg->meta, (msg->meta_count + 1) *
	                           sizeof(*meta)) : NULL;
	if (meta == NULL) {
		free(k);
		free(v);
		return RM_ENOMEM;
	}
	meta[msg->meta_count].name = k;
	meta[msg->meta_count++].value = v;
	msg->meta = meta;
	return RM_OK;
}

int rm_message_set_metadata(rm_message *msg, const char *key,
                            const char *value, rm_error *err)
{
	size_t i;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = check_key(key, err);
	if (rc == RM_OK && value != NULL && value[0] != '\0')
		rc = check_text(value, META_VALUE_MAX, "metadata value", err);
	if (rc != RM_OK)
		return rc;
	for (i = 0; i < msg->meta_count; i++) {
		if (strcmp(msg->meta[i].name, key) == 0)
			break;
	}
	if (value == NULL) {
		if (i < msg->meta_count)
			remove_meta(msg, i);
		return RM_OK;
	}
	if (i == msg->meta_count && i == META_COUNT_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "metadata",
		                "a message takes at most %d metadata keys",
		                META_COUNT_MAX);
	if (store_meta(msg, i, key, value) != RM_OK)
		return rm__message_fail_oom(err, "metadata");
	return RM_OK;
}
