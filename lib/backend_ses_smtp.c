/*
 * Amazon SES through its SMTP interface:
 * "ses+smtp://ACCESS:SECRET@REGION[:PORT][?smtp options]".
 *
 * The SMTP user name is the access key id and the password is derived
 * from the secret key for the region (rm_ses_smtp_password); the host is
 * email-smtp.REGION.amazonaws.com, port 587 with STARTTLS unless another
 * is given (465: implicit TLS), or the server endpoint= names.
 * Everything else is the SMTP backend, with its options. The
 * credentials may also come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_REGION, never from temporary (session) credentials, which SES
 * SMTP does not accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SES_SMTP_PORT 587

static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The access key, secret and region, from the URL or the environment. */
static int credentials(const rm__url *url, const rm_transport *t,
                       const char **access, const char **secret,
                       const char **region, rm_error *err)
{
	*access = url->user;
	*secret = url->password != NULL ? url->password : t->password;
	*region = url->host;
	if (*access == NULL || (*access)[0] == '\0') {
		*access = env_value("AWS_ACCESS_KEY_ID");
		*secret = env_value("AWS_SECRET_ACCESS_KEY");
	}
	if (*region == NULL || rm__strcaseeq(*region, "default"))
		*region = env_value("AWS_REGION");
	if (*access == NULL || *secret == NULL || (*secret)[0] == '\0')
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "user",
		                "ses+smtp:// needs the access key id and the "
		                "secret key: ses+smtp://ACCESS:SECRET@REGION");
	if (*region == NULL || strspn(*region, "abcdefghijklmnopqrstuvwxyz"
	                              "0123456789-") != strlen(*region))
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "host",
		                "ses+smtp:// needs a region such as eu-west-1 "
		                "as the host");
	return RM_OK;
}

static int ses_smtp_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	char password[RM_SES_SMTP_PASSWORD_SIZE], host[128];
	const char *access, *secret, *region;
	rm__smtp_target target;
	rm__url smtp;
	int rc;

	rc = credentials(url, t, &access, &secret, &region, err);
	if (rc == RM_OK)
		rc = rm_ses_smtp_password(secret, region, password,
		                          sizeof(password), err);
	if (rc != RM_OK)
		return rc;
	snprintf(host, sizeof(host), "email-smtp.%s.amazonaws.com", region);
	/* endpoint= may replace the server (smtp_preset.c). */
	rc = rm__smtp_endpoint(url, host, url->port != 0 ? url->port :
	                       SES_SMTP_PORT, &target, err);
	if (rc != RM_OK)
		return rc;
	/* The same options array: the front door sees which were used. */
	smtp = *url;
	smtp.scheme = target.scheme;
	smtp.host = target.host;
	smtp.port = target.port;
	smtp.user = (char *)access;
	smtp.password = password;
	rc = rm__backend_smtp.open(t, &smtp, err);
	rm__wipe(password, sizeof(password));
	return rc;
}

static int ses_smtp_send(rm_transport *t, rm_message *msg, rm_result *r,
                         rm_error *err)
{
	return rm__backend_smtp.send(t, msg, r, err);
}

static int ses_smtp_check(rm_transport *t, rm_check_info *info,
                          rm_error *err)
{
	return rm__backend_smtp.check(t, info, err);
}

static void ses_smtp_close(rm_transport *t)
{
	rm__backend_smtp.close(t);
}

const rm__backend rm__backend_ses_smtp = {
	"ses+smtp",
	ses_smtp_open,
	ses_smtp_send,
	ses_smtp_check,
	ses_smtp_close,
	1,
};
