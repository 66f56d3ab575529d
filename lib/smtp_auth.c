/*
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN
 * (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), and the bearer-token
 * mechanisms XOAUTH2 and OAUTHBEARER (smtp_oauth.c).
 *
 * Every line that carries a credential goes through rm__smtp_queue as a
 * secret, so the transcript shows "<redacted>" in its place. Challenge
 * texts are ignored where the mechanism does not define them (LOGIN's
 * "Username:" prompts vary between servers).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "smtp_int.h"

#define SECRET_LINE_MAX 16384

/* The default order: a token means XOAUTH2, else OAUTHBEARER; without
 * TLS (loopback only) CRAM-MD5 first, since it never shows the
 * password. */
static size_t default_order(const rm__smtp *s, int *order)
{
	if (s->cfg.token != NULL) {
		order[0] = RM__AUTH_XOAUTH2;
		order[1] = RM__AUTH_OAUTHBEARER;
		return 2;
	}
	if (s->conn.tls == NULL) {
		order[0] = RM__AUTH_CRAM_MD5;
		order[1] = RM__AUTH_PLAIN;
		order[2] = RM__AUTH_LOGIN;
		return 3;
	}
	order[0] = RM__AUTH_PLAIN;
	order[1] = RM__AUTH_LOGIN;
	order[2] = RM__AUTH_CRAM_MD5;
	return 3;
}

static int pick_mechanism(const rm__smtp *s)
{
	int order[RM__AUTH_COUNT];
	size_t i, n;

	if (s->cfg.auth_count > 0) {
		memcpy(order, s->cfg.auth_order, sizeof(order));
		n = s->cfg.auth_count;
	} else {
		n = default_order(s, order);
	}
	for (i = 0; i < n; i++) {
		if (s->caps.auth & (1u << order[i]))
			return order[i];
	}
	return -1;
}

/* Base64 of data into out (NUL-terminated); RM_ELIMIT if too long. */
static int b64(char *out, size_t size, const void *data, size_t len)
{
	size_t olen;

	if (mbedtls_base64_encode((unsigned char *)out, size, &olen, data,
	                          len) != 0)
		return RM_ELIMIT;
	return RM_OK;
}

static int queue_secret(rm__smtp *s, const char *visible, const void *data,
                        size_t len, rm__smtp_state next, rm_error *err)
{
	char line[SECRET_LINE_MAX];
	int rc = b64(line, sizeof(line), data, len);

	if (rc != RM_OK)
		rc = rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER,
		              "password", "the credentials are too long");
	if (rc == RM_OK)
		rc = rm__smtp_queue(s, visible, line, err);
	rm__wipe(line, sizeof(line));
	if (rc == RM_OK)
		rc = rm__smtp_flush(s, err);
	if (rc == RM_OK)
		rm__smtp_set_state(s, next);
	return rc;
}

static int send_text_secret(rm__smtp *s, const char *visible,
                            const char *secret, rm__smtp_state next,
                            rm_error *err)
{
	return queue_secret(s, visible, secret, strlen(secret), next, err);
}

/* RFC 4616: authzid NUL authcid NUL password, as an initial response. */
static int send_plain(rm__smtp *s, rm_error *err)
{
	char msg[SECRET_LINE_MAX / 2];
	size_t ulen = strlen(s->cfg.user), plen = strlen(s->cfg.password);
	int rc;

	if (ulen + plen + 2 > sizeof(msg))
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER,
		                "password", "the credentials are too long");
	msg[0] = '\0';
	memcpy(msg + 1, s->cfg.user, ulen + 1);
	memcpy(msg + 2 + ulen, s->cfg.password, plen);
	rc = queue_secret(s, "AUTH PLAIN ", msg, ulen + plen + 2,
	                  RM__SMTP_AUTH, err);
	rm__wipe(msg, sizeof(msg));
	return rc;
}

/* RFC 2195 section 2: user SP hex(HMAC-MD5(password, challenge)). */
static int send_cram(rm__smtp *s, const char *challenge, rm_error *err)
{
	unsigned char raw[1024], mac[16];
	char reply[512], hex[2 * sizeof(mac) + 1];
	size_t len = 0;
	int rc;

	if (mbedtls_base64_decode(raw, sizeof(raw), &len,
	                          (const unsigned char *)challenge,
	                          strlen(challenge)) != 0 ||
	    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_MD5),
	                    (const unsigned char *)s->cfg.password,
	                    strlen(s->cfg.password), raw, len, mac) != 0)
		return rm__fail(err, RM_EPROTOCOL, RM_OUTCOME_TRANSIENT, NULL,
		                "%s sent a CRAM-MD5 challenge that is not "
		                "base64", s->conn.where);
	rm__hex_lower(hex, mac, sizeof(mac));
	snprintf(reply, sizeof(reply), "%s %s", s->cfg.user, hex);
	rc = send_text_secret(s, "", reply, RM__SMTP_AUTH_REPLY, err);
	rm__wipe(mac, sizeof(mac));
	rm__wipe(hex, sizeof(hex));
	return rc;
}

static int fail_unoffered(rm__smtp *s, rm_error *err)
{
	char offered[128] = "";
	int i;

	for (i = 0; i < RM__AUTH_COUNT; i++) {
		if (s->caps.auth & (1u << i))
			snprintf(offered + strlen(offered),
			         sizeof(offered) - strlen(offered), " %s",
			         rm__auth_names[i]);
	}
	if (offered[0] == '\0')
		return rm__fail(err, RM_EUNSUPPORTED,
		                RM_OUTCOME_PERM_PROVIDER, "auth",
		                "%s offers no AUTH mechanism we know%s, but "
		                "credentials were given", s->conn.where,
		                s->conn.tls == NULL ? " (many servers offer "
		                "AUTH only after STARTTLS)" : "");
	return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
	                "auth", "%s offers AUTH%s, none of which fits (%s)",
	                s->conn.where, offered, s->cfg.token != NULL ?
	                "a token needs XOAUTH2 or OAUTHBEARER" :
	                "see the auth= option");
}

/* Credentials never cross the network in clear text. */
static int cleartext_refused(const rm__smtp *s)
{
	return s->conn.tls == NULL && !s->cfg.loopback &&
	       s->cfg.tls_policy != RM__TLS_NONE;
}

int rm__smtp_auth_start(rm__smtp *s, rm_error *err)
{
	int mech, rc;

	if (s->cfg.user == NULL) {
		rm__smtp_set_state(s, RM__SMTP_IDLE);
		return RM_OK;
	}
	if (cleartext_refused(s))
		return rm__fail(err, RM_ENOTLS, RM_OUTCOME_PERM_PROVIDER,
		                "tls", "%s did not start TLS, and credentials "
		                "are never sent in clear text off this "
		                "machine; use tls=required or smtps://",
		                s->conn.where);
	rc = rm__smtp_oauth_prepare(s, err);
	if (rc != RM_OK)
		return rc;
	mech = pick_mechanism(s);
	if (mech < 0)
		return fail_unoffered(s, err);
	s->auth_mech = mech;
	s->auth_rounds = 0;
	s->auth_detail[0] = '\0';
	if (mech == RM__AUTH_PLAIN)
		return send_plain(s, err);
	if (rm__smtp_oauth_mech(mech))
		return rm__smtp_oauth_start(s, err);
	return rm__smtp_command(s, RM__SMTP_AUTH, err, "AUTH %s",
	                        rm__auth_names[mech]);
}

/* A 334 challenge: what to answer depends on the step. */
static int on_challenge(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	char text[RM__REPLY_LINE_MAX + 1];

	rm__reply_line(r, 0, text, sizeof(text));
	s->auth_rounds++;
	if (s->state == RM__SMTP_AUTH && s->auth_mech == RM__AUTH_LOGIN)
		return send_text_secret(s, "", s->cfg.user,
		                        RM__SMTP_AUTH_USER, err);
	if (s->state == RM__SMTP_AUTH_USER)
		return send_text_secret(s, "", s->cfg.password,
		                        RM__SMTP_AUTH_PASS, err);
	if (s->state == RM__SMTP_AUTH && s->auth_mech == RM__AUTH_CRAM_MD5)
		return send_cram(s, text, err);
	if (s->state == RM__SMTP_AUTH && rm__smtp_oauth_mech(s->auth_mech))
		return rm__smtp_oauth_challenge(s, text, err);
	/* RFC 4954 section 4: "*" cancels an exchange we cannot follow. */
	return rm__smtp_command(s, RM__SMTP_AUTH_CANCEL, err, "*");
}

static int fail_auth(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	char what[400];

	snprintf(what, sizeof(what), "authentication as %s with %s %s%s%s%s",
	         rm__smtp_user_shown(s), rm__auth_names[s->auth_mech],
	         s->state == RM__SMTP_AUTH_CANCEL ? "was cancelled (the "
	         "server asked for more than the mechanism needs)" :
	         "was refused", s->auth_detail[0] ? "; reason: " : "",
	         s->auth_detail, rm__smtp_auth_hint(s, r->code));
	/* RFC 4954 section 6: 454 is temporary; 535 and others are not
	 * worth repeating with the same credentials. */
	return rm__smtp_fail_reply(s, err, RM_EAUTH,
	                           rm__smtp_class(r->code,
	                           RM_OUTCOME_PERM_PROVIDER), what);
}

int rm__smtp_on_auth(rm__smtp *s, const rm__reply *r, rm_error *err)
{
	if (r->code == 235 && s->state != RM__SMTP_AUTH_CANCEL) {
		rm__logf(&s->t->log, RM_LOG_INFO, "authenticated to %s as "
		         "%s with %s", s->conn.where, rm__smtp_user_shown(s),
		         rm__auth_names[s->auth_mech]);
		rm__smtp_set_state(s, RM__SMTP_IDLE);
		return RM_OK;
	}
	if (r->code == 334 && s->state != RM__SMTP_AUTH_CANCEL)
		return on_challenge(s, r, err);
	return fail_auth(s, r, err);
}
