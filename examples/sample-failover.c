/*
 * Failover between two providers: the message goes to the first relay,
 * and to the second when the first cannot take it now (down, 4xx,
 * timeout) or refuses it for its own sake. A message refused for its
 * recipients is not tried elsewhere. docs/routing.md has the rules.
 *
 *   ./sample-failover you@example.org
 *   RELAYMAIL_URL='failover(smtp://127.0.0.1:2525 file:///tmp/outbox)' \
 *       ./sample-failover you@example.org
 *
 * Build: cc sample-failover.c $(pkg-config --cflags --libs relaymail)
 */
#include <stdio.h>
#include <stdlib.h>

#include <relaymail.h>

/* A composite URL is just another transport URL. The passwords come
 * from the environment, named in the URL, never written here. */
static const char default_url[] =
	"failover(smtps://mailer@smtp.primary.example:465"
	"?password_env=PRIMARY_PASSWORD"
	" smtp://mailer@smtp.backup.example:587"
	"?password_env=BACKUP_PASSWORD)";

/* Logs each step, so the switch to the second relay shows. */
static void on_log(rm_log_level level, const char *line, void *user)
{
	(void)user;
	fprintf(stderr, "[%s] %s\n", rm_log_level_name(level), line);
}

static int build(rm_message *msg, const char *to, rm_error *err)
{
	int rc = rm_message_set_from(msg, "alerts@example.com", NULL, err);

	if (rc == RM_OK)
		rc = rm_message_add_to(msg, to, NULL, err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(msg, "Disk almost full", err);
	if (rc == RM_OK)
		rc = rm_message_set_text(msg, "/var is 95% full.\n",
		                         (size_t)-1, err);
	return rc;
}

int main(int argc, char **argv)
{
	const char *url = getenv("RELAYMAIL_URL");
	rm_transport_opts opts = RM_TRANSPORT_OPTS_INIT;
	rm_transport *transport = NULL;
	rm_message *msg = NULL;
	rm_result *result = NULL;
	rm_error err;
	int rc;

	opts.log = on_log;
	opts.log_level = RM_LOG_INFO;
	rc = rm_message_new(&msg, &err);
	if (rc == RM_OK)
		rc = build(msg, argc > 1 ? argv[1] : "ops@example.org", &err);
	if (rc == RM_OK)
		rc = rm_result_new(&result, &err);
	if (rc == RM_OK)
		rc = rm_transport_open(&transport, url ? url : default_url,
		                       &opts, &err);
	if (rc == RM_OK)
		rc = rm_send(transport, msg, result, &err);

	/* The outcome class is what a caller decides on: "transient" means
	 * every relay said "later" and the message may be sent again. */
	if (rc == RM_OK)
		printf("sent through %s: queue id %s\n",
		       rm_result_transport(result), rm_result_queue_id(result));
	else
		fprintf(stderr, "not sent (%s): %s\n",
		        rm_outcome_name(err.outcome), err.message);

	rm_result_free(result);
	rm_transport_close(transport);
	rm_message_free(msg);
	return rc == RM_OK ? 0 : 1;
}
