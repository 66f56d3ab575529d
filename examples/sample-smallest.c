/*
 * The smallest send: one plain-text message through the relay named by
 * the RELAYMAIL_URL environment variable, for example
 *
 *   RELAYMAIL_URL='smtp://user@smtp.example.com:587' \
 *   RELAYMAIL_PASSWORD=secret ./sample-smallest you@example.org
 *
 * Build it against an installed relaymail with
 *
 *   cc sample-smallest.c $(pkg-config --cflags --libs relaymail)
 */
#include <stdio.h>
#include <stdlib.h>

#include <relaymail.h>

int main(int argc, char **argv)
{
	const char *to = argc > 1 ? argv[1] : "someone@example.org";
	const char *url = getenv("RELAYMAIL_URL");
	rm_transport_opts opts = RM_TRANSPORT_OPTS_INIT;
	rm_transport *transport = NULL;
	rm_message *msg = NULL;
	rm_error err;
	int rc;

	if (url == NULL) {
		fputs("set RELAYMAIL_URL, such as smtp://host:587 or "
		      "file:///tmp/outbox\n", stderr);
		return 1;
	}

	/* Every call returns RM_OK (0) or a negative code and fills err;
	 * chaining on rc keeps the happy path short. */
	rc = rm_message_new(&msg, &err);
	if (rc == RM_OK)
		rc = rm_message_set_from(msg, "sender@example.com",
		                         "Sample Sender", &err);
	if (rc == RM_OK)
		rc = rm_message_add_to(msg, to, NULL, &err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(msg, "Hello from relaymail", &err);
	if (rc == RM_OK)
		rc = rm_message_set_text(msg, "It works.\n", (size_t)-1, &err);

	/* The password stays out of the URL (and out of ps). Opening does
	 * not connect yet; rm_send does. */
	opts.password = getenv("RELAYMAIL_PASSWORD");
	if (rc == RM_OK)
		rc = rm_transport_open(&transport, url, &opts, &err);
	if (rc == RM_OK)
		rc = rm_send(transport, msg, NULL, &err);

	if (rc != RM_OK)
		fprintf(stderr, "not sent: %s%s%s\n", rm_strerror(rc),
		        err.message[0] ? ": " : "", err.message);
	else
		printf("sent to %s\n", to);

	/* Both accept NULL, so one cleanup path serves every outcome. */
	rm_transport_close(transport);
	rm_message_free(msg);
	return rc == RM_OK ? 0 : 1;
}
