/*
 * Bearer-token SASL for SMTP AUTH: XOAUTH2 (Google's and Microsoft's
 * mechanism) and OAUTHBEARER (RFC 7628).
 *
 * Both send the token as an initial response. A refused token comes
 * back as a 334 challenge holding base64 JSON ({"status":"401",...});
 * the client ends the exchange (XOAUTH2: an empty line; OAUTHBEARER:
 * a lone %x01, RFC 7628 section 3.2.3) and the server then answers 535
 * or similar. The transport then asks its token source for a fresh
 * token and connects once more, never more than once per send.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_int.h"

#define MSG_MAX 12288

int rm__smtp_oauth_mech(int mech)
{
	return mech == RM__AUTH_XOAUTH2 || mech == RM__AUTH_OAUTHBEARER;
}

int rm__smtp_oauth_prepare(rm__smtp *s, rm_error *err)
{
	char *tok = NULL;
	int rc = rm__oauth_token(s->t, &tok, err);

	if (rc != RM_OK)
		return rc;
	if (tok != NULL && rm__has_crlf_nul(tok, strlen(tok))) {
		rm__secret_free(&tok);
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "token", "the access token holds CR or LF");
	}
	if (tok != NULL) {
		rm__secret_free(&s->cfg.token);
		s->cfg.token = tok;
	}
	if (s->cfg.oauth && s->cfg.token == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                "token", "no OAuth2 access token for %s: give "
		                "refresh_token= with client_id= and "
		                "client_secret=, token=, token_env=, or a "
		                "callback (rm_transport_set_token_callback)",
		                rm__smtp_user_shown(s));
	return RM_OK;
}

/* RFC 7628 section 3.1: "," and "=" in the authzid become =2C, =3D. */
static int saslname(rm__buf *b, const char *user)
{
	int rc = RM_OK;

	for (; rc == RM_OK && *user != '\0'; user++) {
		if (*user == ',')
			rc = rm__buf_append_str(b, "=2C");
		else if (*user == '=')
			rc = rm__buf_append_str(b, "=3D");
		else
			rc = rm__buf_append_byte(b, *user);
	}
	return rc;
}

/* The client's first message, before base64. */
static int build(const rm__smtp *s, int mech, rm__buf *b)
{
	int rc;

	if (mech == RM__AUTH_XOAUTH2)
		return rm__buf_printf(b, "user=%s\001auth=Bearer %s\001\001",
		                      s->cfg.user, s->cfg.token);
	rc = rm__buf_append_str(b, "n,a=");
	if (rc == RM_OK)
		rc = saslname(b, s->cfg.user);
	if (rc == RM_OK)
		rc = rm__buf_printf(b, ",\001host=%s\001port=%d\001auth=Bearer "
		                    "%s\001\001", s->cfg.host, s->cfg.port,
		                    s->cfg.token);
	return rc;
}

int rm__smtp_oauth_start(rm__smtp *s, rm_error *err)
{
	char visible[32];
	rm__buf msg, line;
	int rc;

	rm__buf_init(&msg, MSG_MAX);
	rm__buf_init(&line, 2 * MSG_MAX);
	rc = build(s, s->auth_mech, &msg);
	if (rc == RM_OK)
		rc = rm__base64_encode(&line, msg.data, msg.len);
	rm__buf_free_secret(&msg);
	if (rc != RM_OK) {
		rm__buf_free_secret(&line);
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER,
		                "token", "the access token is too long");
	}
	snprintf(visible, sizeof(visible), "AUTH %s ",
	         rm__auth_names[s->auth_mech]);
	rc = rm__smtp_queue(s, visible, line.data, err);
	rm__buf_free_secret(&line);
	if (rc == RM_OK)
		rc = rm__smtp_flush(s, err);
	if (rc == RM_OK)
		rm__smtp_set_state(s, RM__SMTP_AUTH);
	return rc;
}

/* Keeps the decoded error (a JSON object) for the failure message. */
static void note_error(rm__smtp *s, const char *challenge)
{
	rm__buf raw;
	size_t i;

	s->auth_detail[0] = '\0';
	rm__buf_init(&raw, sizeof(s->auth_detail) * 4);
	if (rm__base64_decode(&raw, challenge, strlen(challenge)) == RM_OK &&
	    raw.data != NULL) {
		for (i = 0; i < raw.len; i++) {
			if (raw.data[i] < 0x20 || raw.data[i] > 0x7e)
				raw.data[i] = ' ';
		}
		snprintf(s->auth_detail, sizeof(s->auth_detail), "%s",
		         raw.data);
	}
	rm__buf_free(&raw);
}

int rm__smtp_oauth_challenge(rm__smtp *s, const char *text, rm_error *err)
{
	note_error(s, text);
	if (s->auth_mech == RM__AUTH_OAUTHBEARER)
		return rm__smtp_command(s, RM__SMTP_AUTH_REPLY, err, "AQ==");
	return rm__smtp_command(s, RM__SMTP_AUTH_REPLY, err, "%s", "");
}

int rm__smtp_oauth_retry(rm__smtp *s)
{
	if (s->auth_mech < 0 || !rm__smtp_oauth_mech(s->auth_mech) ||
	    !rm__oauth_mark_stale(s->t))
		return 0;
	rm__logf(&s->t->log, RM_LOG_INFO, "%s refused the access token%s%s; "
	         "getting a new one and trying once more", s->conn.where[0] ?
	         s->conn.where : s->cfg.host, s->auth_detail[0] ? ": " : "",
	         s->auth_detail);
	return 1;
}

const char *rm__smtp_user_shown(const rm__smtp *s)
{
	return s->cfg.user_secret ? "<redacted>" : s->cfg.user;
}

static int is_gmail(const rm__smtp *s)
{
	return rm__strncaseeq(s->t->scheme, "gmail", 5) ||
	       rm__strcaseeq(s->cfg.host, "smtp.gmail.com");
}

static int is_m365(const rm__smtp *s)
{
	return rm__strcaseeq(s->t->scheme, "office365+smtp") ||
	       rm__strcaseeq(s->cfg.host, "smtp.office365.com");
}

const char *rm__smtp_auth_hint(const rm__smtp *s, int code)
{
	int oauth = s->auth_mech >= 0 && rm__smtp_oauth_mech(s->auth_mech);

	if (code != 535)
		return "";
	if (is_gmail(s) && oauth)
		return " (Gmail refused the OAuth2 token: the client needs "
		       "the https://mail.google.com/ scope and a refresh "
		       "token that is still authorised)";
	if (is_gmail(s))
		return " (Gmail takes only an app password, made under "
		       "Google Account > Security > 2-Step Verification > "
		       "App passwords, or OAuth2 with gmail+oauth://; never "
		       "the account password)";
	if (is_m365(s) && oauth)
		return " (Microsoft 365 refused the OAuth2 token: it needs "
		       "the SMTP.Send permission, and SMTP AUTH enabled for "
		       "the mailbox)";
	if (is_m365(s))
		return " (Microsoft 365 has basic authentication turned off: "
		       "use OAuth2, with office365+smtp:// and a token or "
		       "refresh token)";
	return "";
}
