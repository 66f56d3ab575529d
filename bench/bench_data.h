/*
 * The content of the message-building workload, shared by rm_build.c and
 * gmime_build.c so that both build exactly the same message: a 2 KB text
 * body, a 4 KB HTML body (ASCII, short lines) and two attachments of
 * 100 KB of pseudo-random bytes (so both encode them as base64).
 * bench/py_build.py makes the same content.
 */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_ATTACH_SIZE (100 * 1024)
#define BENCH_FROM "bench@example.com"
#define BENCH_TO "sink@example.com"
#define BENCH_SUBJECT "relaymail build bench"

typedef struct bench_data {
	char *text;
	size_t text_len;
	char *html;
	size_t html_len;
	unsigned char *attach[2];
} bench_data;

/* Repeats line until len bytes are filled (the last copy cut short). */
static inline char *bench_repeat(const char *line, size_t len)
{
	size_t n = strlen(line), i;
	char *out = malloc(len + 1);

	for (i = 0; i < len; i++)
		out[i] = line[i % n];
	out[len] = '\0';
	return out;
}

/* xorshift32: the same bytes on every run and in every program. */
static inline void bench_random(unsigned char *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (unsigned char)seed;
	}
}

static inline void bench_data_make(bench_data *d)
{
	int i;

	d->text_len = 2048;
	d->text = bench_repeat("The quick brown fox jumps over the lazy dog, "
	                       "again and again.\n", d->text_len);
	d->html_len = 4096;
	d->html = bench_repeat("<p>The quick brown fox jumps over the "
	                       "<b>lazy</b> dog.</p>\n", d->html_len);
	for (i = 0; i < 2; i++) {
		d->attach[i] = malloc(BENCH_ATTACH_SIZE);
		bench_random(d->attach[i], BENCH_ATTACH_SIZE,
		             (uint32_t)(2463534242u + (unsigned)i));
	}
}

static inline void bench_data_free(bench_data *d)
{
	free(d->text);
	free(d->html);
	free(d->attach[0]);
	free(d->attach[1]);
}

#endif
