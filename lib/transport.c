/*
 * The transport front door: picks the backend for a URL's scheme and
 * runs the calls every backend shares.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const struct {
	const char *scheme;
	const rm__backend *backend;
} backends[] = {
	{ "file", &rm__backend_file },
	{ "smtp", &rm__backend_smtp },
	{ "smtps", &rm__backend_smtp },
	{ "sendgrid", &rm__backend_sendgrid },
	{ "mailgun", &rm__backend_mailgun },
	{ "ses", &rm__backend_ses },
	{ "postmark", &rm__backend_postmark },
	{ "smtp2go", &rm__backend_smtp2go },
	{ "ses+smtp", &rm__backend_ses_smtp },
	{ "gmail", &rm__backend_smtp_preset },
	{ "gmail+oauth", &rm__backend_smtp_preset },
	{ "sendgrid+smtp", &rm__backend_smtp_preset },
	{ "mailgun+smtp", &rm__backend_smtp_preset },
	{ "postmark+smtp", &rm__backend_smtp_preset },
	{ "smtp2go+smtp", &rm__backend_smtp_preset },
	{ "office365+smtp", &rm__backend_smtp_preset },
};

/* Points t at the backend for scheme; 0 if there is none. */
static int find_backend(rm_transport *t, const char *scheme)
{
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(backends); i++) {
		if (rm__strcaseeq(backends[i].scheme, scheme)) {
			t->backend = backends[i].backend;
			t->scheme = backends[i].scheme;
			return 1;
		}
	}
	return 0;
}

static int copy_opts(rm_transport *t, const rm_transport_opts *opts,
                     rm_error *err)
{
	if (opts == NULL) {
		t->log.level = RM_LOG_INFO;
		return RM_OK;
	}
	if (opts->version != RM_TRANSPORT_OPTS_VERSION)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "opts",
		                "unknown rm_transport_opts version %u; start "
		                "from RM_TRANSPORT_OPTS_INIT", opts->version);
	t->log.fn = opts->log;
	t->log.user = opts->log_user;
	t->log.level = opts->log_level;
	t->ca_file = rm__strdup(opts->ca_file);
	t->password = rm__strdup(opts->password);
	t->oauth_token = rm__strdup(opts->oauth_token);
	if ((opts->ca_file && !t->ca_file) ||
	    (opts->password && !t->password) ||
	    (opts->oauth_token && !t->oauth_token))
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory copying transport options");
	return RM_OK;
}

static void free_transport(rm_transport *t)
{
	rm__dkim_set_free(t->dkim);
	rm__oauth_free(t->oauth);
	rm__rate_free(t->rate);
	free(t->ca_file);
	rm__free_secret(t->password);
	rm__free_secret(t->oauth_token);
	free(t);
}

static int open_backend(rm_transport *t, const char *text, rm_error *err)
{
	rm__url url;
	int rc;

	rc = rm__url_parse(&url, text, err);
	if (rc == RM_OK && !find_backend(t, url.scheme))
		rc = rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		              "scheme", "unknown transport scheme "
		              "'%s' (known: file, smtp, smtps, "
		              "sendgrid, mailgun, ses, postmark, "
		              "smtp2go, ses+smtp, gmail, gmail+oauth, "
		              "sendgrid+smtp, mailgun+smtp, postmark+smtp, "
		              "smtp2go+smtp, office365+smtp)", url.scheme);
	if (rc == RM_OK)
		rc = t->backend->open(t, &url, err);
	if (rc == RM_OK) {
		rc = rm__rate_url_options(t, &url, err);
		if (rc == RM_OK)
			rc = rm__url_check_unused(&url, err);
		if (rc != RM_OK)
			t->backend->close(t);
	}
	rm__url_free(&url);
	return rc;
}

int rm_transport_open(rm_transport **out, const char *url,
                      const rm_transport_opts *opts, rm_error *err)
{
	rm_transport *t;
	int rc;

	rm__error_clear(err);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || url == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                out == NULL ? "out" : "url",
		                "%s must not be NULL", out ? "url" : "out");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening a transport");

	rc = copy_opts(t, opts, err);
	if (rc == RM_OK && rm__route_is_composite(url))
		rc = rm__route_open(t, url, opts, err);
	else if (rc == RM_OK)
		rc = open_backend(t, url, err);
	if (rc != RM_OK) {
		free_transport(t);
		return rc;
	}
	*out = t;
	return RM_OK;
}

void rm_transport_close(rm_transport *t)
{
	if (t == NULL)
		return;
	t->backend->close(t);
	free_transport(t);
}

const char *rm_transport_name(const rm_transport *t)
{
	return t != NULL && t->scheme != NULL ? t->scheme : "";
}

int rm__transport_send(rm_transport *t, rm_message *msg, rm_result *r,
                       rm_error *err)
{
	const rm__dkim_set *prev;
	int rc;

	rm__result_reset(r);
	if (rm__result_set_transport(r, t->scheme) != RM_OK ||
	    rm__result_set_message_id(r, rm_message_message_id(msg)) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory filling the result");
	rc = rm__rate_admit(t, r, err);
	if (rc != RM_OK)
		return rc;
	prev = rm__dkim_swap(msg, t->dkim);
	rc = t->backend->send(t, msg, r, err);
	rm__dkim_swap(msg, prev);
	rm__rate_settle(t, rm_result_outcome(r));
	return rc;
}

void rm__transport_count(rm_transport *t, rm_outcome outcome, int retry)
{
	t->counters.attempts++;
	if (outcome == RM_OUTCOME_DELIVERED)
		t->counters.sent++;
	else
		t->counters.failed++;
	if (retry)
		t->counters.retried++;
}

long long rm__transport_now(const rm_transport *t)
{
	struct timespec ts;

	if (t->now != NULL)
		return t->now(t->clock_user);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The old clock is read once more only when t keeps times by it (a rate
 * limit, a token cache), to carry them over to the new one. */
void rm__transport_set_clock(rm_transport *t, rm_now_fn now, void *user)
{
	int keeps_times = t->rate != NULL || t->oauth != NULL;
	long long before = keeps_times ? rm__transport_now(t) : 0, shift;

	t->now = now;
	t->clock_user = now != NULL ? user : NULL;
	if (!keeps_times)
		return;
	shift = rm__transport_now(t) - before;
	rm__rate_shift(t->rate, shift);
	rm__oauth_shift(t->oauth, shift);
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* A plain transport's send is its one attempt; composites record
 * their own. */
static void record_attempt(rm_transport *t, rm_result *r, int rc,
                           const rm_error *e, const struct timespec *t0)
{
	rm_attempt a;

	memset(&a, 0, sizeof(a));
	a.transport = t->scheme;
	a.outcome = rm_result_outcome(r);
	a.status = rc;
	a.reply_code = rm_result_reply_code(r);
	a.enhanced_status = rm_result_enhanced_status(r);
	a.http_status = rm_result_http_status(r);
	a.text = rc != RM_OK && e->message[0] ? e->message : rm_result_text(r);
	a.recipients = rm_result_recipient_count(r);
	a.latency_ms = elapsed_ms(t0);
	a.retry_after_ms = rm_result_retry_after_ms(r);
	rm__result_add_attempt(r, &a);
}

static int send_with(rm_transport *t, rm_message *msg, rm_result *r,
                     rm_error *err)
{
	struct timespec t0;
	rm_error e;
	int rc;

	rc = rm__message_prepare(msg, err);
	if (rc != RM_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rm__error_clear(&e);
	rc = rm__transport_send(t, msg, r, &e);
	if (t->backend != &rm__backend_route)
		record_attempt(t, r, rc, &e, &t0);
	rm__transport_count(t, rm_result_outcome(r), 0);
	if (err != NULL && rc != RM_OK)
		*err = e;
	return rc;
}

int rm_send(rm_transport *t, rm_message *msg, rm_result *result,
            rm_error *err)
{
	rm_result *own = NULL;
	int rc;

	rm__error_clear(err);
	if (t == NULL || msg == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                t == NULL ? "transport" : "msg",
		                "%s must not be NULL",
		                t == NULL ? "transport" : "msg");
	if (result == NULL) {
		rc = rm_result_new(&own, err);
		if (rc != RM_OK)
			return rc;
		result = own;
	}
	rm__result_reset(result);
	rc = send_with(t, msg, result, err);
	rm_result_free(own);
	return rc;
}

int rm_transport_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	rm_check_info scratch;

	rm__error_clear(err);
	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	if (t == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "transport",
		                "transport must not be NULL");
	if (t->backend->check == NULL)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE, NULL,
		                "%s:// has no server to check", t->scheme);
	return t->backend->check(t, info, err);
}
