/*
 * Helpers shared by the HTTP API backends (http_util.c): rendering the
 * message, addresses and header values for JSON fields, attachment bytes,
 * and the plumbing of one send.
 */
#ifndef RM_HTTP_INT_H
#define RM_HTTP_INT_H

#include <cJSON.h>

#include "message_int.h"

/* What every backend keeps: the HTTP layer and the API key or token. */
typedef struct rm__http_keyed {
	rm__http *http;
	char *key;
} rm__http_keyed;

/*
 * Opens the HTTP layer and takes the key from the URL's user part (or
 * from the transport's password option when the URL has none).
 */
int rm__http_base_open(rm__http_keyed *b, rm_transport *t, const rm__url *url,
                       const char *default_base, rm_error *err);
void rm__http_base_close(rm__http_keyed *b);

/* Picks a backend's base URL, after checking its URL options. */
typedef int (*rm__http_base_fn)(rm_transport *t, const rm__url *url,
                                const char **base, rm_error *err);

/*
 * For a backend whose whole state is an rm__http_keyed: makes it,
 * opened on the base pick_base chooses, and keeps it in t->impl.
 */
int rm__http_keyed_open(rm_transport *t, const rm__url *url,
                        rm__http_base_fn pick_base, rm_error *err);
void rm__http_keyed_close(rm_transport *t);

/* The regional base URL: region=eu picks eu_base, absent picks base. */
int rm__http_region_base(const rm__url *url, const char *base,
                         const char *eu_base, const char **out,
                         rm_error *err);

/*
 * The message as the writer renders it for a relay without SMTPUTF8,
 * in memory; RM_ETOOBIG (before writing) when it exceeds max bytes.
 */
int rm__http_render(rm_message *msg, const char *name, uint64_t max,
                    rm__buf *out, rm_error *err);

/* Refuses a raw message for a provider that takes only fields. */
int rm__http_need_fields(const rm_message *msg, const char *name,
                         rm_error *err);

/* The addr-spec, ASCII (A-label domain); fails for a UTF-8 local part. */
int rm__http_addr(const rm__mailbox *mb, const char *field, rm__buf *out,
                  rm_error *err);

/* "addr" or "Name <addr>", the name quoted when it must be. */
int rm__http_mailbox(const rm__mailbox *mb, const char *field,
                     rm__buf *out, rm_error *err);

/* The bytes of an attachment, from memory or read from its file. */
int rm__http_part_bytes(const rm__part *p, const char *field, size_t max,
                        rm__buf *out, rm_error *err);

/*
 * A header's logical value for a JSON field (RFC 5322 2.2.3: folding is
 * a wire form only): printable ASCII, non-ASCII as RFC 2047 words joined
 * by spaces, never a CR, LF or TAB.
 */
int rm__http_header_value(const char *value, rm__buf *out);

/* Receives one logical header field for a JSON provider's request. */
typedef int (*rm__http_header_fn)(void *ctx, const char *name,
                                  const char *value, rm_error *err);

/*
 * Hands each header a JSON provider must carry to add, in order: the
 * Message-ID (so retries keep it), In-Reply-To, References joined by
 * spaces, then the caller's own headers. Stops at the first failure.
 */
int rm__http_each_header(const rm_message *msg, rm__http_header_fn add,
                         void *ctx, rm_error *err);

/* Adds name: base64 of data (no line breaks, RFC 4648 section 3.1). */
int rm__json_add_base64(cJSON *obj, const char *name, const void *data,
                        size_t len);

/* Prints root unformatted into *out (free()); RM_ENOMEM on failure. */
int rm__json_print(cJSON *root, char **out, size_t *len);

/* The count of To, Cc and Bcc addresses of the message. */
size_t rm__http_recipient_count(const rm_message *msg);

/* Fails with RM_ELIMIT when the message has more than max recipients. */
int rm__http_check_recipients(const rm_message *msg, const char *name,
                              size_t max, rm_error *err);

/* Parses a JSON body; NULL when it is not JSON. */
cJSON *rm__json_parse_body(const rm__http_response *resp);

/* The string member name of obj, or NULL. */
const char *rm__json_string(const cJSON *obj, const char *name);

/* Reads a provider's answer to msg (any status) into r. */
typedef int (*rm__http_answer_fn)(rm_result *r, rm_message *msg,
                                  const rm__http_response *resp,
                                  rm_error *err);

/*
 * The headers of a JSON provider's request: the key in the header
 * key_name, then Content-Type and Accept application/json.
 */
void rm__http_json_headers(rm__http_header headers[3], const char *key_name,
                           const char *key);

/*
 * Posts body and hands the answer to read_answer. On a transfer failure
 * fills r and returns the error; else what read_answer returns.
 */
int rm__http_exchange(rm__http *h, const rm__http_request *req,
                      rm__http_answer_fn read_answer, rm_message *msg,
                      rm_result *r, rm_error *err);

/* ---------------------------------------------------------------------- */
/* Preflight checks (rm_transport_check)                                  */
/* ---------------------------------------------------------------------- */

/* How a check's request goes out: rm__http_get, or
 * rm__http_post_read_only for a provider whose reads are POSTs. */
typedef int (*rm__http_call_fn)(rm__http *h, const rm__http_request *req,
                                rm__http_response *resp, rm_error *err);

/* Reads a check's answer (any status): fills info from a good one, err
 * from any other, and returns RM_OK or the error's code. */
typedef int (*rm__http_check_fn)(void *ctx, const rm__http *h,
                                 const rm__http_response *resp,
                                 rm_check_info *info, rm_error *err);

/*
 * Sends one read-only request and hands the answer to read_answer, after
 * filling info->tls ("none" for plain http). A transfer failure is
 * returned as the request functions report it.
 */
int rm__http_check(rm__http *h, rm__http_call_fn call,
                   const rm__http_request *req,
                   rm__http_check_fn read_answer, void *ctx,
                   rm_check_info *info, rm_error *err);

/*
 * RM_OK for an answer the backend's reader is to read: an error status,
 * or a 200 whose body is a JSON object, as every provider's is. Any other
 * success (an empty or non-JSON body, a 204) fails with RM_EPROTOCOL: it
 * says nothing about the key, and it is no refusal either.
 */
int rm__http_check_answer(const rm__http_response *resp, const char *name,
                          rm_error *err);

/*
 * Fails a check on an error answer: code and outcome as for a send, but
 * never AMBIGUOUS (a check sends no mail) nor PERM_RECIPIENT (it has no
 * recipients), with the HTTP status.
 */
int rm__http_check_fail(rm_error *err, const char *name,
                        const rm__http_response *resp, rm_outcome outcome,
                        int code, const char *text);

/* Fills the greeting with "NAME API at BASE: what" and the mechanism. */
void rm__http_check_describe(rm_check_info *info, const rm__http *h,
                             const char *name, const char *mechanism,
                             const char *what);

#endif /* RM_HTTP_INT_H */
