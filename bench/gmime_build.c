/*
 * gmime_build: the peer of rm_build with GMime 3: builds and writes N
 * messages of text + HTML (multipart/alternative) + two 100 KB
 * attachments (multipart/mixed) and prints "elapsed=SECONDS sent=N".
 *
 *   gmime_build N
 *
 * Each round: a new message, its addresses and subject, the parts with
 * their content copied in from memory, g_mime_object_encode() to pick
 * the transfer encodings (as relaymail does on its own), one write to a
 * null stream with CRLF line ends (the wire form relaymail writes), and
 * the unref.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gmime/gmime.h>

#include "bench_data.h"

/*
 * The process's CPU clock, not the wall clock: this work does no I/O,
 * and on a shared machine the time spent waiting for a core is not the
 * builder's.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A leaf part whose content is a copy of len bytes of data. */
static GMimePart *leaf(const char *type, const char *subtype,
                       const void *data, size_t len)
{
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	GMimeStream *mem = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(
		mem, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, w);
	g_object_unref(w);
	g_object_unref(mem);
	return part;
}

static GMimePart *text_part(const char *subtype, const char *text,
                            size_t len)
{
	GMimePart *p = leaf("text", subtype, text, len);

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset",
	                                         "utf-8");
	return p;
}

static GMimePart *attachment(const unsigned char *data, const char *name)
{
	GMimePart *p = leaf("application", "octet-stream", data,
	                    BENCH_ATTACH_SIZE);

	g_mime_part_set_filename(p, name);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	return p;
}

static GMimeObject *body(const bench_data *d)
{
	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
	GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
	GMimePart *parts[4];
	int i;

	parts[0] = text_part("plain", d->text, d->text_len);
	parts[1] = text_part("html", d->html, d->html_len);
	parts[2] = attachment(d->attach[0], "first.bin");
	parts[3] = attachment(d->attach[1], "second.bin");
	g_mime_multipart_add(alt, GMIME_OBJECT(parts[0]));
	g_mime_multipart_add(alt, GMIME_OBJECT(parts[1]));
	g_mime_multipart_add(mixed, GMIME_OBJECT(alt));
	g_mime_multipart_add(mixed, GMIME_OBJECT(parts[2]));
	g_mime_multipart_add(mixed, GMIME_OBJECT(parts[3]));
	for (i = 0; i < 4; i++)
		g_object_unref(parts[i]);
	g_object_unref(alt);
	return GMIME_OBJECT(mixed);
}

static void one(const bench_data *d, GMimeFormatOptions *crlf,
                GMimeStream *null)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeObject *b = body(d);
	GDateTime *date;

	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL,
	                           BENCH_FROM);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, BENCH_TO);
	g_mime_message_set_subject(m, BENCH_SUBJECT, NULL);
	date = g_date_time_new_now_local();
	g_mime_message_set_date(m, date);
	g_date_time_unref(date);
	g_mime_message_set_message_id(m, "bench@example.com");
	g_mime_message_set_mime_part(m, b);
	g_object_unref(b);
	g_mime_object_encode(GMIME_OBJECT(m), GMIME_ENCODING_CONSTRAINT_7BIT);
	g_mime_object_write_to_stream(GMIME_OBJECT(m), crlf, null);
	g_object_unref(m);
}

int main(int argc, char **argv)
{
	GMimeFormatOptions *crlf;
	GMimeStream *null;
	bench_data d;
	long n, i;
	double t0;

	n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	if (n < 1) {
		fputs("usage: gmime_build N\n", stderr);
		return 2;
	}
	g_mime_init();
	bench_data_make(&d);
	null = g_mime_stream_null_new();
	crlf = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(crlf,
	                                         GMIME_NEWLINE_FORMAT_DOS);
	t0 = now_s();
	for (i = 0; i < n; i++)
		one(&d, crlf, null);
	printf("elapsed=%.6f sent=%ld bytes_each=%ld\n", now_s() - t0, n,
	       (long)(GMIME_STREAM_NULL(null)->written / (size_t)n));
	g_mime_format_options_free(crlf);
	g_object_unref(null);
	bench_data_free(&d);
	g_mime_shutdown();
	return 0;
}
