/*
 * Builds a set of varied messages with the library and writes, for each,
 * NAME.eml (the message) and NAME.json (what was put in: the fields an
 * independent parser must read back). tests/verify/verify.py and
 * verify.js compare the two.
 *
 * usage: build_samples OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/sha256.h>

#include "relaymail.h"

typedef struct sample {
	rm_message *msg;
	cJSON *json;
	const char *dir;
	const char *name;
} sample;

static void die(const char *what, const rm_error *err)
{
	fprintf(stderr, "build_samples: %s: [%s] %s\n", what,
	        err != NULL ? err->field : "", err != NULL ? err->message : "");
	exit(1);
}

static void start(sample *s, const char *dir, const char *name)
{
	rm_error err;

	s->dir = dir;
	s->name = name;
	if (rm_message_new(&s->msg, &err) != RM_OK)
		die(name, &err);
	s->json = cJSON_CreateObject();
	cJSON_AddItemToObject(s->json, "from", cJSON_CreateArray());
	cJSON_AddItemToObject(s->json, "to", cJSON_CreateArray());
	cJSON_AddItemToObject(s->json, "cc", cJSON_CreateArray());
	cJSON_AddItemToObject(s->json, "reply_to", cJSON_CreateArray());
	cJSON_AddItemToObject(s->json, "attachments", cJSON_CreateArray());
	cJSON_AddItemToObject(s->json, "headers", cJSON_CreateObject());
	cJSON_AddItemToObject(s->json, "absent_headers",
	                      cJSON_CreateArray());
	cJSON_AddItemToArray(cJSON_GetObjectItem(s->json, "absent_headers"),
	                     cJSON_CreateString("bcc"));
}

static void expect_addr(sample *s, const char *field, const char *name,
                        const char *address)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "name", name != NULL ? name : "");
	cJSON_AddStringToObject(a, "address", address);
	cJSON_AddItemToArray(cJSON_GetObjectItem(s->json, field), a);
}

/* Adds a mailbox with rm_message_*(address, name) and expects it back;
 * wire is the address as the header carries it (A-labels). */
typedef int (*add_fn)(rm_message *, const char *, const char *,
                      rm_error *);

static void add(sample *s, add_fn fn, const char *field, const char *addr,
                const char *name, const char *wire)
{
	rm_error err;

	if (fn(s->msg, addr, name, &err) != RM_OK)
		die(s->name, &err);
	if (field != NULL)
		expect_addr(s, field, name, wire != NULL ? wire : addr);
}

/* Adds a list given as text; the caller states what to expect. */
static void add_list(sample *s, add_fn fn, const char *field,
                     const char *list)
{
	rm_error err;

	(void)field;
	if (fn(s->msg, list, NULL, &err) != RM_OK)
		die(s->name, &err);
}

static void subject(sample *s, const char *text)
{
	rm_error err;

	if (rm_message_set_subject(s->msg, text, &err) != RM_OK)
		die(s->name, &err);
	cJSON_AddStringToObject(s->json, "subject", text);
}

static void text(sample *s, const char *t)
{
	rm_error err;

	if (rm_message_set_text(s->msg, t, (size_t)-1, &err) != RM_OK)
		die(s->name, &err);
	cJSON_AddStringToObject(s->json, "text", t);
}

static void html(sample *s, const char *h)
{
	rm_error err;

	if (rm_message_set_html(s->msg, h, (size_t)-1, &err) != RM_OK)
		die(s->name, &err);
	cJSON_AddStringToObject(s->json, "html", h);
}

static void header(sample *s, const char *name, const char *value)
{
	rm_error err;
	char lower[128];
	size_t i;

	if (rm_message_add_header(s->msg, name, value, &err) != RM_OK)
		die(s->name, &err);
	for (i = 0; name[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		                  name[i] + 32 : name[i]);
	lower[i] = '\0';
	cJSON_AddStringToObject(cJSON_GetObjectItem(s->json, "headers"),
	                        lower, value);
}

static void expect_attachment(sample *s, const char *filename,
                              const char *type, const char *cid,
                              const void *data, size_t len)
{
	unsigned char sum[32];
	char hex[65];
	cJSON *a = cJSON_CreateObject();
	size_t i;

	mbedtls_sha256_ret(data, len, sum, 0);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	cJSON_AddStringToObject(a, "filename", filename);
	cJSON_AddStringToObject(a, "content_type", type);
	cJSON_AddStringToObject(a, "sha256", hex);
	cJSON_AddNumberToObject(a, "size", (double)len);
	if (cid != NULL)
		cJSON_AddStringToObject(a, "content_id", cid);
	cJSON_AddItemToArray(cJSON_GetObjectItem(s->json, "attachments"), a);
}

static void attach(sample *s, const char *filename, const char *type,
                   const char *cid, const void *data, size_t len)
{
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	rm_error err;

	opts.filename = filename;
	opts.content_id = cid;
	if (rm_message_attach_data(s->msg, data, len, &opts, &err) != RM_OK)
		die(s->name, &err);
	expect_attachment(s, filename, type, cid, data, len);
}

static void write_text(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void finish(sample *s)
{
	char path[4096], *out, *json;
	size_t len;
	rm_error err;

	if (rm_message_write_mem(s->msg, &out, &len, &err) != RM_OK)
		die(s->name, &err);
	snprintf(path, sizeof(path), "%s/%s.eml", s->dir, s->name);
	write_text(path, out, len);
	rm_free(out);

	json = cJSON_Print(s->json);
	snprintf(path, sizeof(path), "%s/%s.json", s->dir, s->name);
	write_text(path, json, strlen(json));
	free(json);
	cJSON_Delete(s->json);
	rm_message_free(s->msg);
}

static void base(sample *s)
{
	add(s, rm_message_set_from, "from", "sender@example.com",
	    "Relay Sender", NULL);
	add(s, rm_message_add_to, "to", "rcpt@example.org", NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* The samples                                                            */
/* ---------------------------------------------------------------------- */

static void sample_plain(const char *dir)
{
	sample s;

	start(&s, dir, "plain_ascii");
	base(&s);
	subject(&s, "Plain ASCII message");
	text(&s, "Hello,\n\nthis is a plain message.\n.A line with a dot\n"
	     "From the start, a line that mbox would mangle.\n"
	     "trailing spaces   \n");
	finish(&s);
}

static void sample_international(const char *dir)
{
	sample s;
	rm_error err;

	start(&s, dir, "international");
	add(&s, rm_message_set_from, "from", "hans@b\xc3\xbc" "cher.example",
	    "M\xc3\xbcller, Hans", "hans@xn--bcher-kva.example");
	add(&s, rm_message_add_to, "to", "ada@example.com",
	    "Ada, VP of Engineering", NULL);
	add(&s, rm_message_add_to, "to", "info@ex\xc3\xa4mple.com",
	    "J\xc3\xb6rg \xc3\x85ngstr\xc3\xb6m", "info@xn--exmple-cua.com");
	add(&s, rm_message_add_cc, "cc", "support@example.com",
	    "Support (Billing)", NULL);
	add(&s, rm_message_add_bcc, NULL, "hidden@example.net", "Hidden",
	    NULL);
	add(&s, rm_message_add_reply_to, "reply_to", "replies@example.com",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e Team", NULL);
	subject(&s, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 "
	        "Administrat\xc3\xb6r meeting \xf0\x9f\x8e\x9f");
	header(&s, "X-Campaign", "Fr\xc3\xbchling 2024 \xe2\x80\x93 "
	       "\xc3\xa9t\xc3\xa9");
	header(&s, "X-Mailgun-Variables", "{\"order\":\"A-1\"}");
	if (rm_message_set_in_reply_to(s.msg, "orig@example.com", &err))
		die(s.name, &err);
	text(&s, "Gr\xc3\xbc\xc3\x9f" "e!\n\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2"
	     "\xd0\xb5\xd1\x82, \xe4\xb8\x96\xe7\x95\x8c.\n");
	html(&s, "<p>Gr\xc3\xbc\xc3\x9f" "e aus <b>K\xc3\xb6ln</b>!</p>\n");
	finish(&s);
}

static void sample_full(const char *dir)
{
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
		'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0
	};
	unsigned char bin[3000];
	sample s;
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)((i * 2654435761u) >> 11);
	start(&s, dir, "full");
	base(&s);
	add_list(&s, rm_message_add_cc, "cc", "Joe Q. Public <joe@example.com>"
	         ", \"Doe, Jo\" <jo@example.com>");
	expect_addr(&s, "cc", "Joe Q. Public", "joe@example.com");
	expect_addr(&s, "cc", "Doe, Jo", "jo@example.com");
	subject(&s, "Report with an inline logo and two attachments");
	text(&s, "See the attached report.\n");
	html(&s, "<p>Logo: <img src=\"cid:logo@example.com\"></p>\n"
	     "<p>See the attached report.</p>\n");
	attach(&s, "logo.png", "image/png", "logo@example.com", png,
	       sizeof(png));
	attach(&s, "R\xc3\xa9sum\xc3\xa9 \xe2\x80\x93 Q3 report (final).pdf",
	       "application/pdf", NULL, bin, sizeof(bin));
	attach(&s, "notes.txt", "text/plain", NULL, "line one\nline two\n",
	       18);
	finish(&s);
}

static void sample_long_lines(const char *dir)
{
	char subj[1300] = "25 changes:", item[80], *body;
	sample s;
	int i;

	start(&s, dir, "long_lines");
	add(&s, rm_message_set_from, "from", "sender@example.com", NULL,
	    NULL);
	for (i = 1; i <= 25; i++) {
		snprintf(item, sizeof(item), " https://www.example.com/watch/"
		         "item-%02d/page.html", i);
		strcat(subj, item);
	}
	subject(&s, subj);
	for (i = 1; i <= 80; i++) {
		snprintf(item, sizeof(item), "user%02d@example.com", i);
		add(&s, rm_message_add_to, "to", item, NULL, NULL);
	}
	body = malloc(5001);
	memset(body, 'a', 5000);
	body[5000] = '\0';
	text(&s, body);
	free(body);
	finish(&s);
}

static void sample_no_fold_subject(const char *dir)
{
	char subj[1201];
	sample s;

	memset(subj, 'x', 1200);
	subj[1200] = '\0';
	start(&s, dir, "unbreakable_subject");
	base(&s);
	subject(&s, subj);
	text(&s, "Subject of 1200 x.\n");
	finish(&s);
}

static void sample_filenames(const char *dir, int compat)
{
	char name[1100] = "";
	sample s;
	int i;

	start(&s, dir, compat ? "filenames_compat" : "filenames");
	base(&s);
	if (compat) {
		rm_error err;

		if (rm_message_set_compat_filenames(s.msg, 1, &err))
			die(s.name, &err);
	}
	subject(&s, "Long and international file names");
	text(&s, "Two attachments.\n");
	for (i = 0; i < 200; i++)
		strcat(name, "long ");
	strcat(name, ".png");
	attach(&s, name, "image/png", NULL, "not really a png", 16);
	attach(&s, "R\xc3\xa9sum\xc3\xa9 \xe2\x80\x93 Q3 report (final).pdf",
	       "application/pdf", NULL, "%PDF-1.4\n", 9);
	attach(&s, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83"
	       "\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab\xe5\x90\x8d\xe5\x89"
	       "\x8d\xe3\x81\xa7\xe3\x81\x99.txt", "text/plain", NULL,
	       "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf",
	       15);
	finish(&s);
}

static void sample_display_names(const char *dir)
{
	static const char *const names[][2] = {
		{ "Ada, VP of Engineering", "ada@example.com" },
		{ "Support (Billing)", "support@example.com" },
		{ "Joe Q. Public", "joe@example.com" },
		{ "Say \"Hi\" \\ Team", "team@example.com" },
		{ "M\xc3\xbcller, Hans", "hans@example.com" },
		{ "Plain Name", "plain@example.com" },
		{ "=?UTF-8?Q?not_encoded?=", "literal@example.com" },
	};
	sample s;
	size_t i;

	start(&s, dir, "display_names");
	add(&s, rm_message_set_from, "from", "sender@example.com",
	    "Say \"Hi\" \\ Team", NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		add(&s, rm_message_add_to, "to", names[i][1], names[i][0],
		    NULL);
	subject(&s, "Display names with specials");
	text(&s, "Six recipients.\n");
	finish(&s);
}

static void sample_file_attachment(const char *dir)
{
	char path[4096];
	unsigned char *data;
	size_t i, len = 300 * 1024 + 11;
	rm_attachment_opts opts = RM_ATTACHMENT_OPTS_INIT;
	rm_error err;
	sample s;
	FILE *f;

	data = malloc(len);
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)((i * 2246822519u) >> 17);
	snprintf(path, sizeof(path), "%s/random data.bin", dir);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		exit(1);

	start(&s, dir, "file_only");
	base(&s);
	subject(&s, "Only an attachment, streamed from a file");
	opts.content_type = "application/x-test";
	if (rm_message_attach_file(s.msg, path, &opts, &err) != RM_OK)
		die(s.name, &err);
	expect_attachment(&s, "random data.bin", "application/x-test", NULL,
	                  data, len);
	free(data);
	finish(&s);
}

static void sample_html_inline(const char *dir)
{
	static const unsigned char gif[] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0,
		0xff, 0xff, 0xff, '!', 0xf9, 4, 1, 0, 0, 0, 0, ',', 0, 0, 0, 0,
		1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';'
	};
	char long_html[3000] = "<p>";
	sample s;
	int i;

	for (i = 0; i < 150; i++)
		strcat(long_html, "long line ");
	strcat(long_html, "</p><p><img src=\"cid:dot\"> \xc3\xa9</p>\n");
	start(&s, dir, "html_inline");
	base(&s);
	subject(&s, "HTML only, inline image, very long line");
	html(&s, long_html);
	attach(&s, "dot.gif", "image/gif", "dot", gif, sizeof(gif));
	finish(&s);
}

static void sample_edges(const char *dir)
{
	sample s;

	start(&s, dir, "edge_cases");
	base(&s);
	subject(&s, "");
	text(&s, "");
	attach(&s, "empty.dat", "application/octet-stream", NULL, "", 0);
	attach(&s, "a \"quoted\" \\ name.txt", "text/plain", NULL, "x\r\n",
	       3);
	finish(&s);
}

/* A UTF-8 local part: the message carries raw UTF-8 (RFC 6532). */
static void sample_smtputf8(const char *dir)
{
	sample s;

	start(&s, dir, "smtputf8");
	cJSON_AddTrueToObject(s.json, "utf8_headers");
	add(&s, rm_message_set_from, "from", "sender@example.com", NULL, NULL);
	add(&s, rm_message_add_to, "to", "j\xc3\xb6rg@ex\xc3\xa4mple.com",
	    "J\xc3\xb6rg", NULL);
	add(&s, rm_message_add_to, "to", "plain@b\xc3\xbc" "cher.example",
	    NULL, NULL);
	subject(&s, "SMTPUTF8 message \xe2\x80\x93 raw UTF-8 addresses");
	text(&s, "Hallo J\xc3\xb6rg.\n");
	finish(&s);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: build_samples OUTDIR\n");
		return 64;
	}
	sample_plain(argv[1]);
	sample_international(argv[1]);
	sample_full(argv[1]);
	sample_long_lines(argv[1]);
	sample_no_fold_subject(argv[1]);
	sample_filenames(argv[1], 0);
	sample_filenames(argv[1], 1);
	sample_display_names(argv[1]);
	sample_file_attachment(argv[1]);
	sample_html_inline(argv[1]);
	sample_edges(argv[1]);
	sample_smtputf8(argv[1]);
	return 0;
}
