/*
 * Shared by the libFuzzer targets of tests/fuzz/. Each target defines
 * its entry with FUZZ_ENTRY(name): built for fuzzing (clang
 * -fsanitize=fuzzer) it is LLVMFuzzerTestOneInput; built with
 * RM_FUZZ_REPLAY (tests/unit/test_fuzz_replay.c) it is fuzz_NAME, so
 * the unit suite replays the seed corpora and every regression input
 * with any compiler.
 *
 * A target stops the process (abort) when an invariant breaks, so the
 * fuzzer records the input as a crash.
 */
#ifndef RM_FUZZ_COMMON_H
#define RM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RM_FUZZ_REPLAY
#define FUZZ_ENTRY_(name) \
	int fuzz_##name(const uint8_t *data, size_t size); \
	int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_ENTRY_(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif
/* Two steps, so that a name given by a macro is expanded first. */
#define FUZZ_ENTRY(name) FUZZ_ENTRY_(name)

/* Stops with a message naming the broken invariant. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
			        __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* The input as a NUL-terminated string (NULs inside end it early). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* 1 if the n bytes at p hold CR or LF other than in CRLF followed by
 * SP or HTAB (a fold, RFC 5322 section 2.2.3). */
static inline int fuzz_bad_line_break(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			return 1;
		if (p[i] != '\r')
			continue;
		if (i + 2 >= n || p[i + 1] != '\n' ||
		    (p[i + 2] != ' ' && p[i + 2] != '\t'))
			return 1;
		i++;
	}
	return 0;
}

#endif /* RM_FUZZ_COMMON_H */
