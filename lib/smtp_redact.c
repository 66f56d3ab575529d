/*
 * Keeps the transport's secrets out of what an SMTP server says back: a
 * reply that repeats the password, the token or an AUTH payload has them
 * replaced by "<redacted>" (redact.c) before it is logged or copied into
 * an error or a result.
 */
#include <string.h>

#include "smtp_int.h"

void rm__smtp_redact_reply(const rm__smtp *s, rm__reply *r)
{
	if (s->cfg.password != NULL)
		rm__redact(&r->text, s->cfg.password, strlen(s->cfg.password));
	if (s->cfg.token != NULL)
		rm__redact(&r->text, s->cfg.token, strlen(s->cfg.token));
}
