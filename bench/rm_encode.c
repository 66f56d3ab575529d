/*
 * rm_encode: the MIME body encoders on 64 MB, in GB/s of input, against
 * memcpy of the same bytes as the floor. It calls the library's internal
 * encoders (lib/internal.h, static library) the way the writer does:
 * into a 64 KB output buffer that is emptied when full.
 *
 *   rm_encode base64|qp|memcpy [MB]
 *
 * Prints "elapsed=SECONDS bytes=N gbps=G". base64 and memcpy read
 * pseudo-random bytes; qp reads UTF-8 text in 72-octet CRLF lines where
 * one character in twelve is not ASCII (French-like text), so the
 * encoder both copies and escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define OUT_CAP (64 * 1024)

/*
 * The process's CPU clock, not the wall clock: this work does no I/O,
 * and on a shared machine the time spent waiting for a core is not the
 * encoder's.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_random(unsigned char *p, size_t len)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static void fill_text(unsigned char *p, size_t len)
{
	static const char line[] =
		"Le caf\xc3\xa9 \xc3\xa0 c\xc3\xb4t\xc3\xa9 de la gare "
		"ferme t\xc3\xb4t: pr\xc3\xa9voyez d'y aller avant.\r\n";
	size_t n = sizeof(line) - 1, i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)line[i % n];
}

/* A sink the compiler cannot drop. */
static volatile unsigned char g_sink;

static void run_base64(const unsigned char *src, size_t len, char *out)
{
	size_t lines = OUT_CAP / 78;

	while (len > 0) {
		size_t n = lines * 57 < len ? lines * 57 : len;
		size_t w = rm__base64_lines(out, src, n);

		g_sink ^= (unsigned char)out[w - 1];
		src += n;
		len -= n;
	}
}

static void run_qp(const unsigned char *src, size_t len, char *out)
{
	rm__qp q;
	size_t used = 0;

	rm__qp_init(&q, src, len);
	while (q.pos < q.len) {
		if (OUT_CAP - used < RM__QP_MIN_ROOM) {
			g_sink ^= (unsigned char)out[used - 1];
			used = 0;
		}
		used += rm__qp_encode_some(&q, out + used, OUT_CAP - used);
	}
}

static void run_memcpy(const unsigned char *src, size_t len, char *out)
{
	while (len > 0) {
		size_t n = len < OUT_CAP ? len : OUT_CAP;

		memcpy(out, src, n);
		g_sink ^= (unsigned char)out[n - 1];
		src += n;
		len -= n;
	}
}

int main(int argc, char **argv)
{
	size_t len = (argc > 2 ? (size_t)strtol(argv[2], NULL, 10) : 64)
	             << 20;
	unsigned char *src = malloc(len);
	char *out = malloc(OUT_CAP);
	const char *mode = argc > 1 ? argv[1] : "";
	double t0, dt;

	if (src == NULL || out == NULL || len == 0)
		return 1;
	if (strcmp(mode, "qp") == 0)
		fill_text(src, len);
	else
		fill_random(src, len);
	t0 = now_s();
	if (strcmp(mode, "base64") == 0)
		run_base64(src, len, out);
	else if (strcmp(mode, "qp") == 0)
		run_qp(src, len, out);
	else if (strcmp(mode, "memcpy") == 0)
		run_memcpy(src, len, out);
	else {
		fputs("usage: rm_encode base64|qp|memcpy [MB]\n", stderr);
		return 2;
	}
	dt = now_s() - t0;
	printf("elapsed=%.6f bytes=%zu gbps=%.3f\n", dt, len, len / dt / 1e9);
	free(src);
	free(out);
	return 0;
}
