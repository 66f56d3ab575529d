/*
 * The shared result of a send: what every backend reports and what the
 * caller reads back through the rm_result_* getters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct rcpt_entry {
	char *address;
	int accepted;
	rm_outcome outcome;
	int reply_code;
	char enhanced[16];
	char *text;
} rcpt_entry;

/* One try, its strings owned by the result. */
typedef struct attempt_entry {
	rm_attempt a;
	char *transport;
	char *text;
	char enhanced[16];
} attempt_entry;

struct rm_result {
	rm_outcome outcome;
	int reply_code;
	char enhanced[16];
	int http_status;
	long long retry_after_ms;
	char *text;
	char *queue_id;
	char *message_id;
	char *transport;
	rcpt_entry *rcpts;
	size_t rcpt_count;
	size_t rcpt_cap;
	attempt_entry *attempts;
	size_t attempt_count;
	size_t attempt_cap;
};

int rm_result_new(rm_result **out, rm_error *err)
{
	rm_result *r;

	rm__error_clear(err);
	if (out == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "out",
		                "out must not be NULL");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory allocating a result");
	*out = r;
	return RM_OK;
}

static void clear_recipients(rm_result *r)
{
	size_t i;

	for (i = 0; i < r->rcpt_count; i++) {
		free(r->rcpts[i].address);
		free(r->rcpts[i].text);
	}
	r->rcpt_count = 0;
}

static void clear_attempts(rm_result *r)
{
	size_t i;

	for (i = 0; i < r->attempt_count; i++) {
		free(r->attempts[i].transport);
		free(r->attempts[i].text);
	}
	r->attempt_count = 0;
}

void rm__result_reset(rm_result *r)
{
	if (r == NULL)
		return;
	clear_recipients(r);
	clear_attempts(r);
	free(r->text);
	free(r->queue_id);
	free(r->message_id);
	free(r->transport);
	r->text = r->queue_id = r->message_id = r->transport = NULL;
	r->outcome = RM_OUTCOME_NONE;
	r->reply_code = 0;
	r->http_status = 0;
	r->retry_after_ms = 0;
	r->enhanced[0] = '\0';
}

void rm_result_free(rm_result *r)
{
	if (r == NULL)
		return;
	rm__result_reset(r);
	free(r->rcpts);
	free(r->attempts);
	free(r);
}

/* Replaces *slot with a copy of value; on failure *slot is unchanged. */
static int replace_string(char **slot, const char *value)
{
	char *copy = rm__strdup(value != NULL ? value : "");

	if (copy == NULL)
		return RM_ENOMEM;
	free(*slot);
	*slot = copy;
	return RM_OK;
}

static void copy_enhanced(char *dst, size_t size, const char *enhanced)
{
	snprintf(dst, size, "%s", enhanced != NULL ? enhanced : "");
}

int rm__result_set_final(rm_result *r, rm_outcome outcome, int reply_code,
                         const char *enhanced, const char *text)
{
	r->outcome = outcome;
	r->reply_code = reply_code;
	copy_enhanced(r->enhanced, sizeof(r->enhanced), enhanced);
	return replace_string(&r->text, text);
}

void rm__result_set_http_status(rm_result *r, int status)
{
	r->http_status = status;
}

void rm__result_set_retry_after(rm_result *r, long long ms)
{
	r->retry_after_ms = ms > 0 ? ms : 0;
}

int rm__result_set_queue_id(rm_result *r, const char *id)
{
	return replace_string(&r->queue_id, id);
}

int rm__result_set_message_id(rm_result *r, const char *id)
{
	return replace_string(&r->message_id, id);
}

int rm__result_set_transport(rm_result *r, const char *name)
{
	return replace_string(&r->transport, name);
}

static int grow_recipients(rm_result *r)
{
	size_t cap;
	rcpt_entry *rcpts;

	if (r->rcpt_count < r->rcpt_cap)
		return RM_OK;
	cap = r->rcpt_cap ? r->rcpt_cap * 2 : 8;
	rcpts = realloc(r->rcpts, cap * sizeof(*rcpts));
	if (rcpts == NULL)
		return RM_ENOMEM;
	r->rcpts = rcpts;
	r->rcpt_cap = cap;
	return RM_OK;
}

int rm__result_add_recipient(rm_result *r, const char *address,
                             int accepted, rm_outcome outcome,
                             int reply_code, const char *enhanced,
                             const char *text)
{
	rcpt_entry *e;

	if (grow_recipients(r) != RM_OK)
		return RM_ENOMEM;
	e = &r->rcpts[r->rcpt_count];
	memset(e, 0, sizeof(*e));
	e->address = rm__strdup(address != NULL ? address : "");
	e->text = rm__strdup(text != NULL ? text : "");
	if (e->address == NULL || e->text == NULL) {
		free(e->address);
		free(e->text);
		return RM_ENOMEM;
	}
	e->accepted = accepted;
	e->outcome = outcome;
	e->reply_code = reply_code;
	copy_enhanced(e->enhanced, sizeof(e->enhanced), enhanced);
	r->rcpt_count++;
	return RM_OK;
}

int rm__result_deliver_all(rm_result *r, const rm__envelope *env,
                           const char *rcpt_text, const char *queue_id,
                           const char *text)
{
	size_t i;
	int rc = RM_OK;

	for (i = 0; i < env->rcpt_count && rc == RM_OK; i++)
		rc = rm__result_add_recipient(r, env->rcpts[i], 1,
		                              RM_OUTCOME_DELIVERED, 0, "",
		                              rcpt_text);
	if (rc == RM_OK)
		rc = rm__result_set_queue_id(r, queue_id);
	if (rc == RM_OK)
		rc = rm__result_set_final(r, RM_OUTCOME_DELIVERED, 0, "", text);
	return rc;
}

int rm__result_fail(rm_result *r, rm_error *err, int code,
                    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;

	memset(err, 0, sizeof(*err));
	err->code = code;
	err->outcome = r->outcome;
	err->reply_code = r->reply_code;
	err->http_status = r->http_status;
	copy_enhanced(err->enhanced_status, sizeof(err->enhanced_status),
	              r->enhanced);

	va_start(ap, fmt);
	rm__error_vset(err, NULL, fmt, ap);
	va_end(ap);
	return code;
}

rm_outcome rm_result_outcome(const rm_result *r)
{
	return r != NULL ? r->outcome : RM_OUTCOME_NONE;
}

int rm_result_reply_code(const rm_result *r)
{
	return r != NULL ? r->reply_code : 0;
}

const char *rm_result_enhanced_status(const rm_result *r)
{
	return r != NULL ? r->enhanced : "";
}

int rm_result_http_status(const rm_result *r)
{
	return r != NULL ? r->http_status : 0;
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

const char *rm_result_text(const rm_result *r)
{
	return r != NULL ? or_empty(r->text) : "";
}

const char *rm_result_queue_id(const rm_result *r)
{
	return r != NULL ? or_empty(r->queue_id) : "";
}

const char *rm_result_message_id(const rm_result *r)
{
	return r != NULL ? or_empty(r->message_id) : "";
}

const char *rm_result_transport(const rm_result *r)
{
	return r != NULL ? or_empty(r->transport) : "";
}

long long rm_result_retry_after_ms(const rm_result *r)
{
	return r != NULL ? r->retry_after_ms : 0;
}

size_t rm_result_recipient_count(const rm_result *r)
{
	return r != NULL ? r->rcpt_count : 0;
}

int rm_result_recipient(const rm_result *r, size_t i,
                        rm_recipient_status *out)
{
	const rcpt_entry *e;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (r == NULL || out == NULL || i >= r->rcpt_count)
		return RM_EINVAL;
	e = &r->rcpts[i];
	out->address = e->address;
	out->accepted = e->accepted;
	out->outcome = e->outcome;
	out->reply_code = e->reply_code;
	out->enhanced_status = e->enhanced;
	out->text = e->text;
	return RM_OK;
}

/*
 * Whether the relay refused the recipient: a 4xx or 5xx reply to its
 * RCPT (or to the message, for it), or a provider that refused it
 * without a reply code. One that was never answered, or whose RCPT was
 * accepted before the connection broke off, was not refused.
 */
static int was_refused(const rcpt_entry *e)
{
	if (e->accepted || e->outcome == RM_OUTCOME_AMBIGUOUS)
		return 0;
	if (e->reply_code >= 400)
		return 1;
	return e->reply_code == 0 && e->outcome == RM_OUTCOME_PERM_RECIPIENT;
}

size_t rm_result_rejected_count(const rm_result *r)
{
	size_t i, n = 0;

	if (r == NULL)
		return 0;
	for (i = 0; i < r->rcpt_count; i++)
		n += was_refused(&r->rcpts[i]);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Attempts (the route layer)                                             */
/* ---------------------------------------------------------------------- */

void rm__result_clear_recipients(rm_result *r)
{
	clear_recipients(r);
}

static int grow_attempts(rm_result *r)
{
	size_t cap;
	attempt_entry *attempts;

	if (r->attempt_count < r->attempt_cap)
		return RM_OK;
	cap = r->attempt_cap ? r->attempt_cap * 2 : 4;
	attempts = realloc(r->attempts, cap * sizeof(*attempts));
	if (attempts == NULL)
		return RM_ENOMEM;
	r->attempts = attempts;
	r->attempt_cap = cap;
	return RM_OK;
}

int rm__result_add_attempt(rm_result *r, const rm_attempt *a)
{
	attempt_entry *e;

	if (grow_attempts(r) != RM_OK)
		return RM_ENOMEM;
	e = &r->attempts[r->attempt_count];
	memset(e, 0, sizeof(*e));
	e->a = *a;
	e->transport = rm__strdup(or_empty(a->transport));
	e->text = rm__strdup(or_empty(a->text));
	if (e->transport == NULL || e->text == NULL) {
		free(e->transport);
		free(e->text);
		return RM_ENOMEM;
	}
	copy_enhanced(e->enhanced, sizeof(e->enhanced), a->enhanced_status);
	r->attempt_count++;
	return RM_OK;
}

int rm__result_append_attempts(rm_result *dst, const rm_result *src,
                               long long wait_ms)
{
	size_t i;

	for (i = 0; i < src->attempt_count; i++) {
		rm_attempt a;

		rm_result_attempt(src, i, &a);
		if (i == 0)
			a.wait_ms_before += wait_ms;
		if (rm__result_add_attempt(dst, &a) != RM_OK)
			return RM_ENOMEM;
	}
	return RM_OK;
}

int rm__result_copy_final(rm_result *dst, const rm_result *src)
{
	if (dst == src)
		return RM_OK;
	dst->http_status = src->http_status;
	dst->retry_after_ms = src->retry_after_ms;
	if (rm__result_set_final(dst, src->outcome, src->reply_code,
	                         src->enhanced, src->text) != RM_OK ||
	    replace_string(&dst->queue_id, src->queue_id) != RM_OK ||
	    replace_string(&dst->message_id, src->message_id) != RM_OK ||
	    replace_string(&dst->transport, src->transport) != RM_OK)
		return RM_ENOMEM;
	return RM_OK;
}

size_t rm_result_attempt_count(const rm_result *r)
{
	return r != NULL ? r->attempt_count : 0;
}

int rm_result_attempt(const rm_result *r, size_t i, rm_attempt *out)
{
	const attempt_entry *e;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (r == NULL || out == NULL || i >= r->attempt_count)
		return RM_EINVAL;
	e = &r->attempts[i];
	*out = e->a;
	out->transport = e->transport;
	out->text = e->text;
	out->enhanced_status = e->enhanced;
	return RM_OK;
}
