/*
 * rm_build: builds and writes N messages of text + HTML + two 100 KB
 * attachments with relaymail and prints "elapsed=SECONDS sent=N".
 *
 *   rm_build N
 *
 * Each round is what an application does: a new message, its fields,
 * the bodies, the two attachments (copied in from memory), one write of
 * the whole MIME message to a callback that drops the bytes (the
 * counterpart of GMime's null stream), and the free. The bodies and the
 * attachment bytes are made once, outside the clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <relaymail.h>

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

static int drop(const void *data, size_t len, void *user)
{
	(void)data;
	*(size_t *)user += len;
	return 0;
}

static int attach(rm_message *m, const bench_data *d, int i, rm_error *err)
{
	rm_attachment_opts o = RM_ATTACHMENT_OPTS_INIT;

	o.filename = i == 0 ? "first.bin" : "second.bin";
	o.content_type = "application/octet-stream";
	return rm_message_attach_data(m, d->attach[i], BENCH_ATTACH_SIZE, &o,
	                              err);
}

static int one(const bench_data *d, size_t *bytes, rm_error *err)
{
	rm_message *m = NULL;
	int rc = rm_message_new(&m, err);

	if (rc == RM_OK)
		rc = rm_message_set_from(m, BENCH_FROM, NULL, err);
	if (rc == RM_OK)
		rc = rm_message_add_to(m, BENCH_TO, NULL, err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(m, BENCH_SUBJECT, err);
	if (rc == RM_OK)
		rc = rm_message_set_text(m, d->text, d->text_len, err);
	if (rc == RM_OK)
		rc = rm_message_set_html(m, d->html, d->html_len, err);
	if (rc == RM_OK)
		rc = attach(m, d, 0, err);
	if (rc == RM_OK)
		rc = attach(m, d, 1, err);
	if (rc == RM_OK)
		rc = rm_message_write(m, drop, bytes, err);
	rm_message_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	bench_data d;
	rm_error err;
	size_t bytes = 0;
	long n, i;
	double t0;

	n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	if (n < 1) {
		fputs("usage: rm_build N\n", stderr);
		return 2;
	}
	bench_data_make(&d);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (one(&d, &bytes, &err) != RM_OK) {
			fprintf(stderr, "rm_build: %s [%s] %s\n",
			        rm_strerror(err.code), err.field, err.message);
			return 1;
		}
	}
	printf("elapsed=%.6f sent=%ld bytes_each=%zu\n", now_s() - t0, n,
	       bytes / (size_t)n);
	bench_data_free(&d);
	return 0;
}
