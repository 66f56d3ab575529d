/*
 * The transport front door: picks the backend for a URL's scheme and
 * runs the calls every backend shares.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *scheme;
	const rm__backend *backend;
} backends[] = {
	{ "file", &rm__backend_file },
	{ "smtp", &rm__backend_smtp },
	{ "smtps", &rm__backend_smtp },
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
	free(t->ca_file);
	free(t->password);
	free(t->oauth_token);
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
		              "'%s' (known: file, smtp, smtps)", url.scheme);
	if (rc == RM_OK)
		rc = t->backend->open(t, &url, err);
	if (rc == RM_OK) {
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
	if (out == NULL || url == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                out == NULL ? "out" : "url",
		                "%s must not be NULL", out ? "url" : "out");
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening a transport");

	rc = copy_opts(t, opts, err);
	if (rc == RM_OK)
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

static int send_with(rm_transport *t, rm_message *msg, rm_result *r,
                     rm_error *err)
{
	int rc;

	rc = rm__message_prepare(msg, err);
	if (rc != RM_OK)
		return rc;
	if (rm__result_set_transport(r, t->scheme) != RM_OK ||
	    rm__result_set_message_id(r, rm_message_message_id(msg)) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory filling the result");
	return t->backend->send(t, msg, r, err);
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
	if (t == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "transport",
		                "transport must not be NULL");
	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	if (t->backend->check == NULL)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_NONE, NULL,
		                "%s:// has no server to check", t->scheme);
	return t->backend->check(t, info, err);
}
