/*
 * The message model: shared by the setters (message*.c), the writer and
 * the backends that map a message to their own fields (http_*.c, dkim.c).
 * Only code inside the library includes it.
 */
#ifndef RM_MESSAGE_INT_H
#define RM_MESSAGE_INT_H

#include <sys/stat.h>
#include <time.h>

#include "internal.h"

/* A list of parsed mailboxes. */
typedef struct rm__mblist {
	rm__mailbox *items;
	size_t count;
} rm__mblist;

/* A text or HTML body: CRLF line ends, with its transfer encoding. */
typedef struct rm__body {
	char *data;       /* NULL when unset */
	size_t len;
	rm__cte cte;
} rm__body;

/* An attachment or inline part. */
typedef struct rm__part {
	char *filename;       /* UTF-8 name shown, never NULL */
	char *content_type;   /* "type/subtype" */
	char *content_id;     /* without angle brackets; NULL: attachment */
	char *path;           /* streamed from this file, or NULL */
	unsigned char *data;  /* or held in memory */
	size_t len;
	rm__cte cte;
} rm__part;

typedef struct rm__header {
	char *name;
	char *value;
} rm__header;

/* Where the Message-ID comes from. */
typedef enum rm__msgid_kind {
	RM__MSGID_NONE = 0,   /* not made yet */
	RM__MSGID_CALLER,     /* rm_message_set_message_id */
	RM__MSGID_MADE        /* made by the library, kept for retries */
} rm__msgid_kind;

struct rm_message {
	rm__mblist from;          /* at most one mailbox */
	rm__mblist sender;        /* at most one mailbox */
	rm__mblist to, cc, bcc, reply_to;
	rm__mailbox *envelope_from;   /* NULL: Sender, else From */
	int null_reverse_path;        /* MAIL FROM:<>, envelope_from NULL */

	char *subject;
	int date_set;
	time_t date;
	int date_offset;          /* minutes east of UTC */
	char *message_id;         /* with angle brackets */
	rm__msgid_kind msgid_kind;
	char *in_reply_to;        /* with angle brackets */
	char **references;
	size_t reference_count;
	rm__header *headers;
	size_t header_count;

	rm__body text, html;
	rm__part *parts;
	size_t part_count;

	int reproducible;
	int compat_filenames;

	/* The default Date: the time of the last rm__message_prepare, so
	 * that every write of one send (measuring for SIZE, signing,
	 * sending) carries the same bytes. 0: the time of the write. */
	time_t prepared_at;

	/* 24 hex digits shared by the message's boundaries, made on the
	 * first write and kept; "" until then. */
	char boundary_seed[25];

	/* Tags and metadata for the HTTP providers (message_meta.c). */
	char **tags;
	size_t tag_count;
	rm__header *meta;
	size_t meta_count;

	/* A raw message (message_raw.c): the bytes to send, Bcc removed,
	 * CRLF line ends; NULL for a message the writer renders. */
	char *raw;
	size_t raw_len;
	size_t raw_head_len;      /* where the header section's empty line
	                             starts: missing fields go there */
	int raw_has_date;
	int raw_has_msgid;
	int raw_8bit;             /* some octet is above 127 */

	/* Set by the route layer around one send to restrict the envelope
	 * to some recipients (rm__message_set_rcpt_mask); borrowed. */
	const unsigned char *rcpt_mask;
	size_t rcpt_mask_len;

	/* The DKIM signers of the transport sending the message, set
	 * around one send (rm__dkim_swap) for backends that render it
	 * deep inside; borrowed. */
	const struct rm__dkim_set *send_dkim;
};

/* The failures every message setter reports (message.c): a NULL msg,
 * and out of memory while setting field. */
int rm__message_fail_null(rm_error *err);
int rm__message_fail_oom(rm_error *err, const char *field);

/* Frees the tags and metadata (message_meta.c). */
void rm__message_meta_free(rm_message *msg);

/* The content type for a file name's extension (mimetypes.c). */
const char *rm__mime_type_for_name(const char *name);

/* Makes the Message-ID if there is none yet; needs a From. */
int rm__message_ensure_id(rm_message *msg, rm_error *err);

/* Checks that path is a regular file this process can open. */
int rm__check_readable(const char *path, const char *field, rm_error *err);

/* Opens path for reading if it is a regular file and fills st; -1 with
 * err filled otherwise. Never waits, even on a FIFO. */
int rm__open_regular(const char *path, const char *field, struct stat *st,
                     rm_error *err);

/* Checks that the message has a From, a recipient and some content. */
int rm__message_check_complete(const rm_message *msg, rm_error *err);

/* Writes a raw message's bytes, adding a missing Date and Message-ID
 * (message_raw.c). The caller has checked the message. */
int rm__raw_write(rm_message *msg, rm_write_fn write, void *user,
                  rm_error *err);

#endif /* RM_MESSAGE_INT_H */
