/*
 * The file transport: "file://DIR" writes each message as DIR/NAME.eml.
 *
 * A message appears in DIR whole or not at all: it is written to a
 * temporary file in the same folder, flushed to disk, and renamed to its
 * final name, which is never reused. Readers that skip names starting
 * with "." (the temporary files) therefore never see a partial message.
 * The message is rendered as for a relay that supports SMTPUTF8, since a
 * file has no transport limits (RFC 6532 allows UTF-8 headers there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Bytes gathered before each write(2), so a message leaves in few calls. */
#define FILE_CHUNK (64 * 1024)

/* Tries at finding an unused final name before giving up. */
#define NAME_TRIES 8

typedef struct file_impl {
	char *dir;
} file_impl;

/* The state of one message being written to its temporary file. */
typedef struct file_out {
	int fd;
	int saved_errno;     /* errno of the first failed write, or 0 */
	size_t used;
	char chunk[FILE_CHUNK];
} file_out;

static const char *dir_of(const rm_transport *t)
{
	return ((const file_impl *)t->impl)->dir;
}

/* A full disk may clear up by itself; anything else needs a person. */
static rm_outcome errno_outcome(int e)
{
	if (e == ENOSPC || e == EDQUOT || e == EINTR || e == EAGAIN)
		return RM_OUTCOME_TRANSIENT;
	return RM_OUTCOME_PERM_PROVIDER;
}

static int fail_errno(rm_error *err, int e, const char *what,
                      const char *path)
{
	return rm__fail(err, RM_EIO, errno_outcome(e), "url",
	                "file transport: cannot %s '%s': %s", what, path,
	                strerror(e));
}

static int file_open(rm_transport *t, const rm__url *url, rm_error *err)
{
	file_impl *impl;
	int rc = rm__dkim_url_options(t, url, err);

	if (rc != RM_OK)
		return rc;
	impl = calloc(1, sizeof(*impl));
	if (impl != NULL)
		impl->dir = rm__strdup(url->path);
	if (impl == NULL || impl->dir == NULL) {
		free(impl);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening the file transport");
	}
	t->impl = impl;
	return RM_OK;
}

static void file_close(rm_transport *t)
{
	file_impl *impl = t->impl;

	if (impl == NULL)
		return;
	free(impl->dir);
	free(impl);
	t->impl = NULL;
}

/* Writes all of data, resuming after short writes and signals. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno != 0 ? errno : EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int flush_out(file_out *out)
{
	int e;

	if (out->used == 0 || out->saved_errno != 0)
		return out->saved_errno;
	e = write_all(out->fd, out->chunk, out->used);
	out->used = 0;
	if (e != 0)
		out->saved_errno = e;
	return e;
}

/* The writer's callback: gathers bytes and writes them a chunk at a time. */
static int on_bytes(const void *data, size_t len, void *user)
{
	file_out *out = user;
	const char *p = data;

	while (len > 0) {
		size_t room = sizeof(out->chunk) - out->used;
		size_t n = len < room ? len : room;

		memcpy(out->chunk + out->used, p, n);
		out->used += n;
		p += n;
		len -= n;
		if (out->used == sizeof(out->chunk) && flush_out(out) != 0)
			return 1;
	}
	return 0;
}

/* Renders the message into the open temporary file and syncs it. */
static int write_message(rm_message *msg, const rm__dkim_set *dkim, int fd,
                         const char *tmp, rm_error *err)
{
	rm__write_opts opts = { 1, dkim };
	file_out *out = calloc(1, sizeof(*out));
	int rc;

	if (out == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_TRANSIENT, NULL,
		                "out of memory writing a message file");
	out->fd = fd;
	rc = rm__message_write_with(msg, &opts, on_bytes, out, err);
	if (rc == RM_OK && flush_out(out) == 0 && fsync(fd) != 0)
		out->saved_errno = errno;
	if (out->saved_errno != 0)
		rc = fail_errno(err, out->saved_errno, "write", tmp);
	free(out);
	return rc;
}

/* A final name no other writer picks: the time, then 64 random bits. */
static int make_name(char *name, size_t size)
{
	unsigned char rnd[8];
	char hex[sizeof(rnd) * 2 + 1];
	struct tm tm;
	time_t now = time(NULL);
	size_t i;

	if (rm__random(rnd, sizeof(rnd)) != RM_OK ||
	    gmtime_r(&now, &tm) == NULL)
		return RM_EIO;
	rm__hex_lower(hex, rnd, sizeof(rnd));
	if (strftime(name, size, "%Y%m%dT%H%M%SZ-", &tm) == 0)
		return RM_EIO;
	i = strlen(name);
	snprintf(name + i, size - i, "%s.eml", hex);
	return RM_OK;
}

/*
 * Moves tmp to DIR/NAME.eml without ever replacing a file: link(2) fails
 * on an existing name where rename(2) would silently overwrite it.
 */
static int publish(const char *dir, const char *tmp, char *name,
                   size_t name_size, rm_error *err)
{
	char path[4096];
	int tries;

	for (tries = 0; tries < NAME_TRIES; tries++) {
		if (make_name(name, name_size) != RM_OK)
			return rm__fail(err, RM_EIO, RM_OUTCOME_TRANSIENT,
			                NULL, "file transport: no random "
			                "bytes for a file name");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (link(tmp, path) == 0)
			return unlink(tmp) == 0 ? RM_OK
			       : fail_errno(err, errno, "remove", tmp);
		if (errno != EEXIST)
			return fail_errno(err, errno, "create", path);
	}
	return rm__fail(err, RM_EIO, RM_OUTCOME_TRANSIENT, "url",
	                "file transport: no unused file name in '%s'", dir);
}

/* Makes the new directory entry itself durable (fsync of the folder). */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

static int check_dir(const char *dir, rm_error *err)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return fail_errno(err, errno, "use the folder", dir);
	if (!S_ISDIR(st.st_mode))
		return fail_errno(err, ENOTDIR, "use the folder", dir);
	if (access(dir, W_OK | X_OK) != 0)
		return fail_errno(err, errno, "write into the folder", dir);
	return RM_OK;
}

/* Writes the message to DIR/NAME.eml; name receives NAME.eml. */
static int store(const char *dir, const rm__dkim_set *dkim, rm_message *msg,
                 char *name, size_t name_size, rm_error *err)
{
	char tmp[4096];
	int fd, rc;

	rc = check_dir(dir, err);
	if (rc != RM_OK)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.relaymail-XXXXXX",
	                     dir) >= sizeof(tmp))
		return rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER, "url",
		                "file transport: folder path too long");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail_errno(err, errno, "create a file in", dir);

	rc = write_message(msg, dkim, fd, tmp, err);
	if (close(fd) != 0 && rc == RM_OK)
		rc = fail_errno(err, errno, "write", tmp);
	if (rc == RM_OK)
		rc = publish(dir, tmp, name, name_size, err);
	if (rc != RM_OK) {
		unlink(tmp);
		return rc;
	}
	sync_dir(dir);
	return RM_OK;
}

/* Every envelope recipient was "accepted": the file holds the message. */
static int fill_result(rm_result *r, rm_message *msg, const char *dir,
                       const char *name, rm_error *err)
{
	rm__envelope env;
	char text[4352];
	int rc;

	rc = rm__message_envelope(msg, 1, &env, err);
	if (rc != RM_OK)
		return rc;
	snprintf(text, sizeof(text), "written to %s/%s", dir, name);
	rc = rm__result_deliver_all(r, &env, "written to file", name, text);
	rm__envelope_free(&env);
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_AMBIGUOUS, NULL,
		                "out of memory filling the result; the "
		                "message was %s", text);
	return RM_OK;
}

static int file_send(rm_transport *t, rm_message *msg, rm_result *r,
                     rm_error *err)
{
	char name[96];
	rm_error e;
	int rc;

	rc = store(dir_of(t), t->dkim, msg, name, sizeof(name), &e);
	if (rc != RM_OK) {
		rm__result_set_final(r, e.outcome, 0, "", e.message);
		if (err != NULL)
			*err = e;
		return rc;
	}
	rm__logf(&t->log, RM_LOG_INFO, "file: wrote %s/%s", dir_of(t), name);
	return fill_result(r, msg, dir_of(t), name, err);
}

/* The preflight for a folder: it must exist and take new files. */
static int file_check(rm_transport *t, rm_check_info *info, rm_error *err)
{
	int rc = check_dir(dir_of(t), err);

	if (rc != RM_OK)
		return rc;
	snprintf(info->greeting, sizeof(info->greeting), "file://%s",
	         dir_of(t));
	snprintf(info->tls, sizeof(info->tls), "none");
	snprintf(info->auth_mechanism, sizeof(info->auth_mechanism), "none");
	return RM_OK;
}

const rm__backend rm__backend_file = {
	"file",
	file_open,
	file_send,
	file_check,
	file_close,
	1,
};
