/*
 * Attachments and inline images: a text and HTML message whose HTML
 * shows an image carried in the message itself (cid:), with a file from
 * disk and a generated CSV attached.
 *
 *   RELAYMAIL_URL=file:///tmp/outbox ./sample-attachments you@example.org \
 *       report.pdf
 *
 * Build: cc sample-attachments.c $(pkg-config --cflags --libs relaymail)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <relaymail.h>

/* A 1x1 transparent PNG, standing in for a logo. */
static const unsigned char logo_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00,
	0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
	0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
	0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4,
	0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
	0x82
};

static const char html[] =
	"<p>Hello,</p>\n"
	"<p>this month's figures are attached.</p>\n"
	"<p><img src=\"cid:logo@example.com\" alt=\"Example Inc.\"></p>\n";

static const char text[] =
	"Hello,\n\nthis month's figures are attached.\n\n-- Example Inc.\n";

static const char csv[] = "month,orders\n2024-01,120\n2024-02,135\n";

static int build(rm_message *msg, const char *to, const char *file,
                 rm_error *err)
{
	/* An inline part: content_id makes it part of the HTML's
	 * multipart/related, shown where "cid:logo@example.com" points. */
	rm_attachment_opts logo = RM_ATTACHMENT_OPTS_INIT;
	rm_attachment_opts table = RM_ATTACHMENT_OPTS_INIT;
	int rc;

	logo.filename = "logo.png";
	logo.content_id = "logo@example.com";
	table.filename = "figures.csv";   /* the type comes from ".csv" */

	rc = rm_message_set_from(msg, "reports@example.com", "Reports", err);
	if (rc == RM_OK)
		rc = rm_message_add_to(msg, to, NULL, err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(msg, "Monthly figures", err);
	if (rc == RM_OK)
		rc = rm_message_set_text(msg, text, (size_t)-1, err);
	if (rc == RM_OK)
		rc = rm_message_set_html(msg, html, (size_t)-1, err);
	if (rc == RM_OK)
		rc = rm_message_attach_data(msg, logo_png, sizeof(logo_png),
		                            &logo, err);
	if (rc == RM_OK)
		rc = rm_message_attach_data(msg, csv, strlen(csv), &table, err);

	/* A file is checked now and streamed at each send, never loaded
	 * whole; NULL options take its name and a type from the name. */
	if (rc == RM_OK && file != NULL)
		rc = rm_message_attach_file(msg, file, NULL, err);
	return rc;
}

int main(int argc, char **argv)
{
	const char *to = argc > 1 ? argv[1] : "someone@example.org";
	const char *url = getenv("RELAYMAIL_URL");
	rm_transport *transport = NULL;
	rm_message *msg = NULL;
	rm_result *result = NULL;
	rm_error err;
	int rc;

	if (url == NULL) {
		fputs("set RELAYMAIL_URL, such as file:///tmp/outbox\n",
		      stderr);
		return 1;
	}
	rc = rm_message_new(&msg, &err);
	if (rc == RM_OK)
		rc = build(msg, to, argc > 2 ? argv[2] : NULL, &err);
	if (rc == RM_OK)
		rc = rm_result_new(&result, &err);
	if (rc == RM_OK)
		rc = rm_transport_open(&transport, url, NULL, &err);
	if (rc == RM_OK)
		rc = rm_send(transport, msg, result, &err);

	/* The result names what the relay said, whatever happened. */
	if (rc == RM_OK)
		printf("sent: queue id %s, %s\n", rm_result_queue_id(result),
		       rm_result_message_id(result));
	else
		fprintf(stderr, "not sent: %s [%s] %s\n", rm_strerror(rc),
		        err.field, err.message);

	rm_result_free(result);
	rm_transport_close(transport);
	rm_message_free(msg);
	return rc == RM_OK ? 0 : 1;
}
