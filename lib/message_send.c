/*
 * What transports need from a message: the checks before a send, the
 * envelope, and the public write calls built on the writer.
 *
 * Standards: RFC 5321 (3.3 and 4.1.1.2 reverse path, 4.1.1.3
 * recipients), RFC 6531 (SMTPUTF8 is needed only for UTF-8 local parts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message_int.h"

int rm__message_prepare(rm_message *msg, rm_error *err)
{
	char field[48];
	size_t i;
	int rc;

	rm__error_clear(err);
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = rm__message_check_complete(msg, err);
	for (i = 0; rc == RM_OK && i < msg->part_count; i++) {
		if (msg->parts[i].path == NULL)
			continue;
		snprintf(field, sizeof(field), "attachment[%zu]", i);
		rc = rm__check_readable(msg->parts[i].path, field, err);
	}
	if (rc == RM_OK)
		rc = rm__message_ensure_id(msg, err);
	if (rc == RM_OK)
		msg->prepared_at = time(NULL);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Envelope                                                               */
/* ---------------------------------------------------------------------- */

void rm__envelope_free(rm__envelope *env)
{
	size_t i;

	if (env == NULL)
		return;
	free(env->from);
	for (i = 0; i < env->rcpt_count; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->index);
	memset(env, 0, sizeof(*env));
}

/* The addr-spec of mb for the wire, or an error naming field. */
static int wire_address(const rm__mailbox *mb, int utf8, const char *field,
                        char **out, rm_error *err)
{
	rm__buf b;
	int rc;

	rm__buf_init(&b, 1024);
	rc = rm__mailbox_addr_spec(mb, utf8, &b);
	if (rc == RM_EUNSUPPORTED)
		rc = rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
		              field, "the server lacks SMTPUTF8, which the "
		              "address %s@%s needs for its UTF-8 local part "
		              "(RFC 6531)", mb->local, mb->domain);
	else if (rc != RM_OK)
		rc = rm__fail(err, rc, RM_OUTCOME_NONE, field,
		              "cannot write the address %s: %s", field,
		              rm_strerror(rc));
	if (rc != RM_OK) {
		rm__buf_free(&b);
		return rc;
	}
	*out = rm__buf_steal(&b);
	return *out == NULL ? RM_ENOMEM : RM_OK;
}

/* The reverse path: envelope_from, else Sender, else From. */
static const rm__mailbox *reverse_path(const rm_message *msg)
{
	if (msg->envelope_from != NULL)
		return msg->envelope_from;
	if (msg->sender.count > 0)
		return &msg->sender.items[0];
	return &msg->from.items[0];
}

/* The reverse path for the wire; "" for the null reverse path. */
static int reverse_path_text(const rm_message *msg, int utf8, char **out,
                             rm_error *err)
{
	if (!msg->null_reverse_path)
		return wire_address(reverse_path(msg), utf8, "envelope_from",
		                    out, err);
	*out = strdup("");
	if (*out == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory building the envelope");
	return RM_OK;
}

/* FNV-1a of the local part and of the domain in lower case: equal for
 * every two mailboxes that rm__mailbox_same calls the same. */
static uint64_t mailbox_hash(const rm__mailbox *mb)
{
	uint64_t h = 14695981039346656037u;
	const char *p;

	for (p = mb->local; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	h = (h ^ '@') * 1099511628211u;
	for (p = mb->domain_ascii; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 1099511628211u;
	}
	return h;
}

/* A set of the recipients kept so far, so that a list of thousands is
 * deduplicated in linear time: open addressing, slots hold an index
 * into all plus one, cap is a power of two at least twice the count. */
typedef struct rcpt_set {
	size_t *slots;
	size_t cap;
	const rm__mailbox **all;
} rcpt_set;

/* Adds mb as all[n]; 0 if an equal mailbox is already in the set. */
static int set_add(rcpt_set *set, size_t n, const rm__mailbox *mb)
{
	size_t i = (size_t)mailbox_hash(mb) & (set->cap - 1);

	while (set->slots[i] != 0) {
		if (rm__mailbox_same(set->all[set->slots[i] - 1], mb))
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->slots[i] = n + 1;
	set->all[n] = mb;
	return 1;
}

/* Collects To, Cc and Bcc in order, duplicates left out. */
static size_t collect(const rm_message *msg, rcpt_set *set)
{
	const rm__mblist *lists[3];
	size_t i, j, n = 0;

	lists[0] = &msg->to;
	lists[1] = &msg->cc;
	lists[2] = &msg->bcc;
	for (i = 0; i < 3; i++) {
		for (j = 0; j < lists[i]->count; j++) {
			if (set_add(set, n, &lists[i]->items[j]))
				n++;
		}
	}
	return n;
}

/* 0 if the route layer left recipient i out of this send. */
static int rcpt_wanted(const rm_message *msg, size_t i)
{
	if (msg->rcpt_mask == NULL)
		return 1;
	return i < msg->rcpt_mask_len && msg->rcpt_mask[i];
}

static int fill_rcpts(const rm_message *msg, int utf8, rm__envelope *env,
                      rm_error *err)
{
	size_t total = msg->to.count + msg->cc.count + msg->bcc.count, n, i;
	const rm__mailbox **all = calloc(total + 1, sizeof(*all));
	rcpt_set set = { NULL, 16, all };
	int rc = RM_OK;

	while (set.cap < 2 * total)
		set.cap *= 2;
	set.slots = calloc(set.cap, sizeof(*set.slots));
	env->rcpts = calloc(total + 1, sizeof(*env->rcpts));
	env->index = calloc(total + 1, sizeof(*env->index));
	if (all == NULL || set.slots == NULL || env->rcpts == NULL ||
	    env->index == NULL) {
		free(all);
		free(set.slots);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory building the envelope");
	}
	n = collect(msg, &set);
	free(set.slots);
	for (i = 0; rc == RM_OK && i < n; i++) {
		if (!rcpt_wanted(msg, i))
			continue;
		rc = wire_address(all[i], utf8, "recipient",
		                  &env->rcpts[env->rcpt_count], err);
		if (rc == RM_OK)
			env->index[env->rcpt_count++] = i;
	}
	free(all);
	return rc;
}

void rm__message_set_rcpt_mask(rm_message *msg, const unsigned char *mask,
                               size_t len)
{
	msg->rcpt_mask = mask;
	msg->rcpt_mask_len = mask != NULL ? len : 0;
}

void rm__message_rcpt_mask(const rm_message *msg,
                           const unsigned char **mask, size_t *len)
{
	*mask = msg->rcpt_mask;
	*len = msg->rcpt_mask_len;
}

int rm__message_envelope(rm_message *msg, int smtputf8, rm__envelope *env,
                         rm_error *err)
{
	int rc, utf8;

	rm__error_clear(err);
	memset(env, 0, sizeof(*env));
	if (msg == NULL)
		return rm__message_fail_null(err);
	rc = rm__message_check_complete(msg, err);
	if (rc != RM_OK)
		return rc;

	/* UTF-8 goes on the wire only when the message needs it: an ASCII
	 * message uses A-labels even if the server offers SMTPUTF8. */
	env->needs_smtputf8 = rm__message_needs_smtputf8(msg);
	utf8 = smtputf8 && env->needs_smtputf8;
	rc = reverse_path_text(msg, utf8, &env->from, err);
	if (rc == RM_OK)
		rc = fill_rcpts(msg, utf8, env, err);
	if (rc != RM_OK)
		rm__envelope_free(env);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Public writes                                                          */
/* ---------------------------------------------------------------------- */

int rm_message_write(rm_message *msg, rm_write_fn write, void *user,
                     rm_error *err)
{
	rm__write_opts opts;
	int rc;

	/* With no relay in between, a message that needs UTF-8 addresses
	 * is written with them (RFC 6532). Fields added to the options
	 * later start out zero. */
	memset(&opts, 0, sizeof(opts));
	opts.smtputf8 = 1;
	rc = rm__message_prepare(msg, err);
	if (rc != RM_OK)
		return rc;
	return rm__message_write_with(msg, &opts, write, user, err);
}

static int append_cb(const void *data, size_t len, void *user)
{
	return rm__buf_append(user, data, len) == RM_OK ? 0 : -1;
}

int rm_message_write_mem(rm_message *msg, char **out, size_t *len,
                         rm_error *err)
{
	rm__buf b;
	int rc;

	rm__error_clear(err);
	if (out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "out",
		                "out must not be NULL");
	*out = NULL;
	rm__buf_init(&b, SIZE_MAX - 1);
	rc = rm_message_write(msg, append_cb, &b, err);
	if (rc == RM_ECALLBACK)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		              "out of memory holding the message");
	if (rc != RM_OK) {
		rm__buf_free(&b);
		return rc;
	}
	if (len != NULL)
		*len = b.len;
	*out = rm__buf_steal(&b);
	return *out == NULL ? RM_ENOMEM : RM_OK;
}

static int count_cb(const void *data, size_t len, void *user)
{
	(void)data;
	*(uint64_t *)user += len;
	return 0;
}

int rm__message_measure(rm_message *msg, const rm__write_opts *opts,
                        uint64_t *size, rm_error *err)
{
	uint64_t n = 0;
	int rc = rm__message_write_with(msg, opts, count_cb, &n, err);

	if (rc == RM_OK)
		*size = n;
	return rc;
}
