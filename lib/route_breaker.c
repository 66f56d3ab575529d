/*
 * The circuit breaker of the composite transports, and the two stores
 * its states live in.
 *
 * Per wrapped transport: after K consecutive failed tries it is skipped
 * for a cooldown; then one probe is let through (the others keep
 * skipping while it is out), and its outcome closes the breaker or opens
 * it for another cooldown. A probe that never reports (its process died)
 * expires after a cooldown, and the next caller probes.
 *
 * The file store keeps one line per transport, "NAME FAILURES
 * OPEN_UNTIL PROBE_UNTIL", and changes it under flock(LOCK_EX) so that
 * processes on one machine (many short-lived sendmail calls) share what
 * they learned. Lines it cannot read are dropped: a damaged file costs
 * at most what the breaker knew.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route_int.h"

/* The file holds a few lines per relay: anything bigger is not ours. */
#define STORE_FILE_MAX (1024 * 1024)
#define KEY_MAX 1024

/* ---------------------------------------------------------------------- */
/* The breaker's rules                                                    */
/* ---------------------------------------------------------------------- */

typedef struct breaker_arg {
	long threshold;
	long long cooldown_ms;
	long long now;
	int failed;     /* record: the try failed */
	int admit;      /* admit: the answer */
	int probe;      /* admit: the answer is the one probe */
} breaker_arg;

/* Times beyond one cooldown come from a clock that jumped back (or
 * another machine's file): they are cut to one cooldown. */
static void clamp(rm__breaker_state *st, const breaker_arg *a)
{
	long long limit = a->now + a->cooldown_ms;

	if (st->open_until > limit)
		st->open_until = limit;
	if (st->probe_until > limit)
		st->probe_until = limit;
}

static void admit_fn(rm__breaker_state *st, void *arg)
{
	breaker_arg *a = arg;

	clamp(st, a);
	a->admit = 1;
	if (st->failures < a->threshold)
		return;
	if (a->now < st->open_until || a->now < st->probe_until) {
		a->admit = 0;
		return;
	}
	st->probe_until = a->now + a->cooldown_ms;
	a->probe = 1;
}

static void record_fn(rm__breaker_state *st, void *arg)
{
	breaker_arg *a = arg;

	if (!a->failed) {
		memset(st, 0, sizeof(*st));
		return;
	}
	if (st->failures < 1000000)
		st->failures++;
	st->probe_until = 0;
	if (st->failures >= a->threshold)
		st->open_until = a->now + a->cooldown_ms;
}

static void arg_init(breaker_arg *a, const rm__breaker *b, long long now)
{
	memset(a, 0, sizeof(*a));
	a->threshold = b->threshold;
	a->cooldown_ms = b->cooldown_ms;
	a->now = now;
}

int rm__breaker_admit(rm__breaker *b, const char *key, long long now,
                      const rm__log *log)
{
	breaker_arg a;
	rm_error e;

	if (b->store == NULL)
		return 1;
	arg_init(&a, b, now);
	if (b->store->update(b->store, key, admit_fn, &a, &e) != RM_OK) {
		rm__logf(log, RM_LOG_WARN, "circuit breaker: %s; trying %s "
		         "anyway", e.message, key);
		return 1;
	}
	if (a.probe)
		rm__logf(log, RM_LOG_INFO, "circuit breaker: probing %s after "
		         "its cooldown", key);
	return a.admit;
}

void rm__breaker_record(rm__breaker *b, const char *key, int failed,
                        long long now, const rm__log *log)
{
	breaker_arg a;
	rm_error e;

	if (b->store == NULL)
		return;
	arg_init(&a, b, now);
	a.failed = failed;
	if (b->store->update(b->store, key, record_fn, &a, &e) != RM_OK)
		rm__logf(log, RM_LOG_WARN, "circuit breaker: %s", e.message);
}

void rm__breaker_free(rm__breaker *b)
{
	if (b->store != NULL)
		b->store->free(b->store);
	b->store = NULL;
}

/* ---------------------------------------------------------------------- */
/* The memory store                                                       */
/* ---------------------------------------------------------------------- */

typedef struct mem_entry {
	struct mem_entry *next;
	rm__breaker_state st;
	char key[];
} mem_entry;

typedef struct mem_store {
	rm__breaker_store base;
	mem_entry *head;
} mem_store;

static mem_entry *mem_find(mem_store *m, const char *key)
{
	mem_entry *e;
	size_t len = strlen(key);

	for (e = m->head; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0)
			return e;
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, len + 1);
	e->next = m->head;
	m->head = e;
	return e;
}

static int mem_update(rm__breaker_store *s, const char *key,
                      rm__breaker_fn fn, void *arg, rm_error *err)
{
	mem_entry *e = mem_find((mem_store *)s, key);

	if (e == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory keeping breaker state");
	fn(&e->st, arg);
	return RM_OK;
}

static void mem_free(rm__breaker_store *s)
{
	mem_store *m = (mem_store *)s;
	mem_entry *e, *next;

	for (e = m->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	free(m);
}

int rm__breaker_store_memory(rm__breaker_store **out, rm_error *err)
{
	mem_store *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory making a breaker store");
	m->base.update = mem_update;
	m->base.free = mem_free;
	*out = &m->base;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* The file store                                                         */
/* ---------------------------------------------------------------------- */

typedef struct file_store {
	rm__breaker_store base;
	char *path;
} file_store;

static int fail_file(rm_error *err, const char *what, const char *path)
{
	return rm__fail(err, RM_EIO, RM_OUTCOME_NONE, "breaker_file",
	                "cannot %s the breaker file %s: %s", what, path,
	                strerror(errno));
}

/* Reads the whole file (from offset 0) into b. */
static int read_all(int fd, rm__buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return RM_EIO;
		if (rm__buf_append(b, chunk, (size_t)n) != RM_OK)
			return RM_ELIMIT;
	}
	return RM_OK;
}

/* Parses one line; 0 if it is not a state line. */
static int parse_line(const char *line, char *key, rm__breaker_state *st)
{
	long long open_until, probe_until;
	long failures;

	/* The width is KEY_MAX - 1. */
	if (sscanf(line, "%1023s %ld %lld %lld", key, &failures, &open_until,
	           &probe_until) != 4 || failures < 0)
		return 0;
	st->failures = failures;
	st->open_until = open_until;
	st->probe_until = probe_until;
	return 1;
}

static int put_line(rm__buf *out, const char *key,
                    const rm__breaker_state *st)
{
	return rm__buf_printf(out, "%s %ld %lld %lld\n", key, st->failures,
	                      st->open_until, st->probe_until);
}

/* Copies every state line of in to out, changing key's (or adding it). */
static int rewrite(const char *in, const char *key, rm__breaker_fn fn,
                   void *arg, rm__buf *out)
{
	char line_key[KEY_MAX];
	rm__breaker_state st;
	int found = 0, rc = RM_OK;

	while (rc == RM_OK && *in != '\0') {
		size_t len = strcspn(in, "\n");
		char *line = rm__strndup(in, len);

		if (line == NULL)
			return RM_ENOMEM;
		if (parse_line(line, line_key, &st)) {
			if (!found && strcmp(line_key, key) == 0) {
				fn(&st, arg);
				found = 1;
			}
			rc = put_line(out, line_key, &st);
		}
		free(line);
		in += len + (in[len] == '\n');
	}
	if (rc == RM_OK && !found) {
		memset(&st, 0, sizeof(st));
		fn(&st, arg);
		rc = put_line(out, key, &st);
	}
	return rc;
}

static int write_all(int fd, const rm__buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = pwrite(fd, b->data + off, b->len - off,
		                   (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return RM_EIO;
		off += (size_t)n;
	}
	return ftruncate(fd, (off_t)b->len) == 0 ? RM_OK : RM_EIO;
}

/* The locked part of an update: read, change, write back. */
static int update_locked(int fd, const file_store *f, const char *key,
                         rm__breaker_fn fn, void *arg, rm_error *err)
{
	rm__buf in, out;
	int rc;

	rm__buf_init(&in, STORE_FILE_MAX);
	rm__buf_init(&out, STORE_FILE_MAX + KEY_MAX + 100);
	rc = read_all(fd, &in);
	if (rc == RM_ELIMIT) {
		/* Not ours, or damaged: start over. */
		rm__buf_reset(&in);
		rc = RM_OK;
	}
	if (rc != RM_OK)
		rc = fail_file(err, "read", f->path);
	else if (rewrite(in.data != NULL ? in.data : "", key, fn, arg,
	                 &out) != RM_OK)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "breaker_file",
		              "out of memory updating %s", f->path);
	else if (write_all(fd, &out) != RM_OK)
		rc = fail_file(err, "write", f->path);
	rm__buf_free(&in);
	rm__buf_free(&out);
	return rc;
}

static int file_update(rm__breaker_store *s, const char *key,
                       rm__breaker_fn fn, void *arg, rm_error *err)
{
	file_store *f = (file_store *)s;
	int fd, rc;

	if (strlen(key) >= KEY_MAX || strpbrk(key, " \t\r\n") != NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "name",
		                "'%s' cannot be a breaker file key", key);
	fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail_file(err, "open", f->path);
	while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (rc != 0)
		rc = fail_file(err, "lock", f->path);
	else
		rc = update_locked(fd, f, key, fn, arg, err);
	/* Closing the descriptor releases the lock. */
	close(fd);
	return rc;
}

static void file_free(rm__breaker_store *s)
{
	file_store *f = (file_store *)s;

	free(f->path);
	free(f);
}

int rm__breaker_store_file(rm__breaker_store **out, const char *path,
                           rm_error *err)
{
	file_store *f;

	if (path == NULL || path[0] == '\0')
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                "breaker_file", "breaker_file needs a path");
	f = calloc(1, sizeof(*f));
	if (f != NULL)
		f->path = rm__strdup(path);
	if (f == NULL || f->path == NULL) {
		free(f);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory making a breaker store");
	}
	f->base.update = file_update;
	f->base.free = file_free;
	*out = &f->base;
	return RM_OK;
}
