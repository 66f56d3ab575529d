/*
 * Attachments and inline parts: from memory (copied) or from a file
 * (checked now, streamed by the writer each time the message is written).
 *
 * Standards: RFC 2045 5.1 (content type syntax), RFC 2183
 * (Content-Disposition), RFC 2392 (Content-ID), RFC 2387
 * (multipart/related).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message_int.h"

#define MAX_PARTS 1000
#define MAX_FILENAME 4096
#define MAX_CONTENT_ID 250

/* RFC 2045 5.1 token characters. */
static int is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c))
			return 0;
	}
	return 1;
}

/* Length of "type/subtype" at the start of type, or 0 if malformed. */
static size_t media_type_len(const char *type)
{
	const char *slash = strchr(type, '/');
	size_t len = strcspn(type, ";");

	if (slash == NULL || slash >= type + len ||
	    !is_token(type, (size_t)(slash - type)))
		return 0;
	while (len > 0 && type[len - 1] == ' ')
		len--;
	if (!is_token(slash + 1, len - (size_t)(slash + 1 - type)))
		return 0;
	return len;
}

/* Accepts nothing after the media type, or "; charset=TOKEN". */
static int charset_param_ok(const char *rest)
{
	rest += strspn(rest, " ");
	if (*rest == '\0')
		return 1;
	if (*rest != ';')
		return 0;
	rest += 1 + strspn(rest + 1, " ");
	if (!rm__strncaseeq(rest, "charset=", 8))
		return 0;
	rest += 8;
	return is_token(rest, strlen(rest));
}

/*
 * "type/subtype", optionally with a charset parameter for text the
 * caller knows the encoding of; multipart and message types are the
 * writer's.
 */
static int check_content_type(const char *type, rm_error *err)
{
	size_t len = media_type_len(type);

	if (len == 0 || !charset_param_ok(type + len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                "content_type", "content_type must be "
		                "\"type/subtype\", optionally followed by "
		                "\"; charset=NAME\" (RFC 2045 5.1)");
	if (rm__strncaseeq(type, "multipart/", 10) ||
	    rm__strncaseeq(type, "message/", 8))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                "content_type", "%s cannot be sent "
		                "base64-encoded (RFC 2046 5); attach it as "
		                "application/octet-stream", type);
	return RM_OK;
}

/* Content-ID: msg-id characters without the angle brackets. */
static int check_content_id(const char *cid, size_t len, rm_error *err)
{
	size_t i;

	if (rm__has_crlf_nul(cid, len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "content_id",
		                "content_id contains CR, LF or NUL");
	if (len == 0 || len > MAX_CONTENT_ID)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "content_id",
		                "content_id must be 1 to %d characters",
		                MAX_CONTENT_ID);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cid[i];

		if (c <= 32 || c >= 127 || strchr("()<>,;:\\\"[]", c))
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
			                "content_id", "content_id may hold "
			                "only printable ASCII without spaces "
			                "or specials (RFC 2392)");
	}
	return RM_OK;
}

static int check_filename(const char *name, rm_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAX_FILENAME)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "filename",
		                "filename must be 1 to %d octets",
		                MAX_FILENAME);
	return rm__check_header_text(name, len, "filename", err);
}

/* Fills the names of p from opts and the default name. */
static int part_names(rm__part *p, const rm_attachment_opts *opts,
                      const char *default_name, rm_error *err)
{
	const char *name = opts && opts->filename ? opts->filename :
	                   default_name;
	const char *cid = opts ? opts->content_id : NULL;
	int rc = check_filename(name, err);

	if (rc == RM_OK && opts != NULL && opts->content_type != NULL)
		rc = check_content_type(opts->content_type, err);
	if (rc != RM_OK)
		return rc;
	p->filename = rm__strdup(name);
	p->content_type = rm__strdup(opts && opts->content_type ?
	                             opts->content_type :
	                             rm__mime_type_for_name(name));
	if (cid != NULL) {
		size_t len = strlen(cid);

		if (len >= 2 && cid[0] == '<' && cid[len - 1] == '>')
			cid++, len -= 2;
		rc = check_content_id(cid, len, err);
		p->content_id = rc == RM_OK ? rm__strndup(cid, len) : NULL;
		if (rc != RM_OK)
			return rc;
	}
	if (!p->filename || !p->content_type || (cid && !p->content_id))
		return RM_ENOMEM;
	return RM_OK;
}

static int check_opts(const rm_message *msg, const rm_attachment_opts *opts,
                      rm_error *err)
{
	if (opts != NULL && opts->version != RM_ATTACHMENT_OPTS_VERSION)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, "opts",
		                "unknown rm_attachment_opts version %u; start "
		                "from RM_ATTACHMENT_OPTS_INIT", opts->version);
	if (msg->part_count >= MAX_PARTS)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, "attachment",
		                "more than %d attachments", MAX_PARTS);
	return RM_OK;
}

/* Adds p to the message, or frees it on failure. */
static int push_part(rm_message *msg, rm__part *p, int rc, rm_error *err)
{
	rm__part *v = NULL;

	if (rc == RM_OK) {
		v = realloc(msg->parts, (msg->part_count + 1) * sizeof(*v));
		rc = v == NULL ? RM_ENOMEM : RM_OK;
	}
	if (rc == RM_ENOMEM)
		rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, "attachment",
		         "out of memory adding an attachment");
	if (rc != RM_OK) {
		free(p->filename);
		free(p->content_type);
		free(p->content_id);
		free(p->path);
		free(p->data);
		return rc;
	}
	v[msg->part_count++] = *p;
	msg->parts = v;
	return RM_OK;
}

/*
 * Text in memory with non-ASCII bytes that form valid UTF-8 is labelled
 * charset=utf-8: without a charset a reader assumes US-ASCII (RFC 2046
 * section 4.1.2) and shows the bytes wrong. Files are not scanned.
 */
static int default_charset(rm__part *p, const void *data, size_t len)
{
	const unsigned char *b = data;
	size_t i;
	int high = 0;
	rm__buf type;

	if (!rm__strncaseeq(p->content_type, "text/", 5) ||
	    strchr(p->content_type, ';') != NULL)
		return RM_OK;
	for (i = 0; i < len && !high; i++)
		high = b[i] >= 0x80;
	if (!high || !rm__utf8_valid(data, len))
		return RM_OK;

	rm__buf_init(&type, 512);
	if (rm__buf_printf(&type, "%s; charset=utf-8", p->content_type)) {
		rm__buf_free(&type);
		return RM_ENOMEM;
	}
	free(p->content_type);
	p->content_type = rm__buf_steal(&type);
	return RM_OK;
}

int rm_message_attach_data(rm_message *msg, const void *data, size_t len,
                           const rm_attachment_opts *opts, rm_error *err)
{
	rm__part p;
	int rc;

	rm__error_clear(err);
	if (msg == NULL || (data == NULL && len > 0))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                msg == NULL ? "msg" : "data",
		                "%s must not be NULL", msg ? "data" : "msg");
	rc = check_opts(msg, opts, err);
	if (rc != RM_OK)
		return rc;

	memset(&p, 0, sizeof(p));
	rc = part_names(&p, opts, "attachment.bin", err);
	if (rc == RM_OK)
		rc = default_charset(&p, data, len);
	if (rc == RM_OK) {
		p.data = malloc(len > 0 ? len : 1);
		rc = p.data == NULL ? RM_ENOMEM : RM_OK;
	}
	if (rc == RM_OK) {
		if (len > 0)
			memcpy(p.data, data, len);
		p.len = len;

		/* An empty 7bit part reads back as the delimiter's CRLF in
		 * some parsers; an empty base64 one does not. */
		p.cte = len > 0 ? rm__choose_binary_cte(p.data, len) :
		        RM__CTE_BASE64;
	}
	return push_part(msg, &p, rc, err);
}

/*
 * Opens path for reading when it is a regular file. O_NONBLOCK keeps the
 * open of a FIFO from waiting for a writer forever; it changes nothing
 * for a regular file, whose reads never block.
 */
int rm__open_regular(const char *path, const char *field, struct stat *st,
                     rm_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		rm__fail(err, RM_EIO, RM_OUTCOME_NONE, field,
		         "%s: cannot open '%s': %s", field, path,
		         strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		rm__fail(err, RM_EIO, RM_OUTCOME_NONE, field,
		         "%s: '%s' is not a regular file", field, path);
		return -1;
	}
	return fd;
}

/* Checks that path names a regular file this process can read. */
int rm__check_readable(const char *path, const char *field, rm_error *err)
{
	struct stat st;
	int fd = rm__open_regular(path, field, &st, err);

	if (fd < 0)
		return RM_EIO;
	close(fd);
	return RM_OK;
}

int rm_message_attach_file(rm_message *msg, const char *path,
                           const rm_attachment_opts *opts, rm_error *err)
{
	const char *base;
	rm__part p;
	int rc;

	rm__error_clear(err);
	if (msg == NULL || path == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE,
		                msg == NULL ? "msg" : "path",
		                "%s must not be NULL", msg ? "path" : "msg");
	rc = check_opts(msg, opts, err);
	if (rc == RM_OK)
		rc = rm__check_readable(path, "path", err);
	if (rc != RM_OK)
		return rc;

	/* The name shown is the file's own name, not its directories. */
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	memset(&p, 0, sizeof(p));
	rc = part_names(&p, opts, base, err);
	if (rc == RM_OK) {
		p.path = rm__strdup(path);
		rc = p.path == NULL ? RM_ENOMEM : RM_OK;
	}
	p.cte = RM__CTE_BASE64;
	return push_part(msg, &p, rc, err);
}
