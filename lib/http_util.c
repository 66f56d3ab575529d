/*
 * Helpers shared by the HTTP API backends: the key and the regional base
 * URL, the message rendered in memory, addresses and header values as
 * JSON fields take them, attachment bytes, one send's exchange and one
 * preflight check's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

/* ---------------------------------------------------------------------- */
/* Opening                                                                */
/* ---------------------------------------------------------------------- */

int rm__http_base_open(rm__http_keyed *b, rm_transport *t, const rm__url *url,
                       const char *default_base, rm_error *err)
{
	const char *user = url->user != NULL && url->user[0] != '\0'
	                   ? url->user : NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	/* The URL's user, or key=, key_env=, key_file= (url_secret.c). */
	rc = rm__url_secret(url, "key", user, &b->key, err);
	if (rc == RM_OK && b->key == NULL && t->password != NULL)
		b->key = rm__strdup(t->password);
	if (rc != RM_OK && rc != RM_ENOMEM)
		return rc;
	if (rc == RM_OK && b->key == NULL && t->password == NULL)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "user",
		                "%s:// needs the API key as the URL's user "
		                "(%s://KEY@...), key_env=, key_file= or the "
		                "password option", t->scheme, t->scheme);
	if (b->key == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening %s://", t->scheme);
	if (b->key[0] == '\0' || rm__has_crlf_nul(b->key, strlen(b->key))) {
		rm__http_base_close(b);
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "user",
		                "the API key is empty or holds a line break");
	}
	rc = rm__http_open(&b->http, t, url, default_base, err);
	if (rc != RM_OK)
		rm__http_base_close(b);
	return rc;
}

void rm__http_base_close(rm__http_keyed *b)
{
	rm__free_secret(b->key);
	rm__http_close(b->http);
	memset(b, 0, sizeof(*b));
}

int rm__http_keyed_open(rm_transport *t, const rm__url *url,
                        rm__http_base_fn pick_base, rm_error *err)
{
	rm__http_keyed *b = calloc(1, sizeof(*b));
	const char *base;
	int rc;

	if (b == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening %s://", t->scheme);
	rc = pick_base(t, url, &base, err);
	if (rc == RM_OK)
		rc = rm__http_base_open(b, t, url, base, err);
	if (rc != RM_OK) {
		free(b);
		return rc;
	}
	t->impl = b;
	return RM_OK;
}

void rm__http_keyed_close(rm_transport *t)
{
	if (t->impl == NULL)
		return;
	rm__http_base_close(t->impl);
	free(t->impl);
	t->impl = NULL;
}

int rm__http_region_base(const rm__url *url, const char *base,
                         const char *eu_base, const char **out,
                         rm_error *err)
{
	const char *region = rm__url_option(url, "region");

	*out = base;
	if (region == NULL || rm__strcaseeq(region, "us") ||
	    rm__strcaseeq(region, "global"))
		return RM_OK;
	if (rm__strcaseeq(region, "eu")) {
		*out = eu_base;
		return RM_OK;
	}
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "region",
	                "unknown region '%s' for %s (known: us, eu)", region,
	                url->scheme);
}

/* ---------------------------------------------------------------------- */
/* The message                                                            */
/* ---------------------------------------------------------------------- */

static int collect(const void *data, size_t len, void *user)
{
	return rm__buf_append(user, data, len) == RM_OK ? 0 : 1;
}

int rm__http_render(rm_message *msg, const char *name, uint64_t max,
                    rm__buf *out, rm_error *err)
{
	rm__write_opts opts = { 0, rm__dkim_of(msg) };
	uint64_t size = 0;
	int rc;

	rc = rm__message_measure(msg, &opts, &size, err);
	if (rc != RM_OK)
		return rc;
	if (size > max)
		return rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		                "message", "the message is %llu bytes; %s "
		                "takes at most %llu",
		                (unsigned long long)size, name,
		                (unsigned long long)max);
	rm__buf_init(out, (size_t)size + 1);
	rc = rm__message_write_with(msg, &opts, collect, out, err);
	if (rc != RM_OK)
		rm__buf_free(out);
	return rc;
}

int rm__http_need_fields(const rm_message *msg, const char *name,
                         rm_error *err)
{
	if (msg->raw == NULL)
		return RM_OK;
	return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER, "msg",
	                "%s takes messages as fields, not raw MIME; send a "
	                "raw message through SMTP, Mailgun, SES or SMTP2GO",
	                name);
}

size_t rm__http_recipient_count(const rm_message *msg)
{
	return msg->to.count + msg->cc.count + msg->bcc.count;
}

int rm__http_check_recipients(const rm_message *msg, const char *name,
                              size_t max, rm_error *err)
{
	size_t n = rm__http_recipient_count(msg);

	if (n <= max)
		return RM_OK;
	return rm__fail(err, RM_ELIMIT, RM_OUTCOME_PERM_PROVIDER, "to",
	                "the message has %zu recipients; %s takes at most %zu "
	                "per request", n, name, max);
}

/* ---------------------------------------------------------------------- */
/* Addresses and header values                                            */
/* ---------------------------------------------------------------------- */

int rm__http_addr(const rm__mailbox *mb, const char *field, rm__buf *out,
                  rm_error *err)
{
	int rc = rm__mailbox_addr_spec(mb, 0, out);

	if (rc == RM_EUNSUPPORTED)
		return rm__fail(err, RM_EUNSUPPORTED, RM_OUTCOME_PERM_PROVIDER,
		                field, "the address %s@%s has a UTF-8 local "
		                "part, which HTTP providers do not take",
		                mb->local, mb->domain);
	if (rc != RM_OK)
		return rm__fail(err, rc, RM_OUTCOME_NONE, field,
		                "cannot write the address in %s", field);
	return RM_OK;
}

/* Atoms and spaces only (RFC 5322 3.2.3), UTF-8 allowed (RFC 6532). */
static int plain_phrase(const char *s)
{
	static const char specials[] = "()<>[]:;@\\,.\"";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || strchr(specials, c) != NULL)
			return 0;
	}
	return 1;
}

int rm__http_mailbox(const rm__mailbox *mb, const char *field,
                     rm__buf *out, rm_error *err)
{
	int rc = RM_OK;

	if (mb->name == NULL || mb->name[0] == '\0')
		return rm__http_addr(mb, field, out, err);
	if (plain_phrase(mb->name))
		rc = rm__buf_append_str(out, mb->name);
	else
		rc = rm__buf_append_quoted(out, mb->name, strlen(mb->name));
	if (rc == RM_OK)
		rc = rm__buf_append_str(out, " <");
	if (rc != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory writing %s", field);
	rc = rm__http_addr(mb, field, out, err);
	if (rc == RM_OK && rm__buf_append_byte(out, '>') != RM_OK)
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		              "out of memory writing %s", field);
	return rc;
}

int rm__http_header_value(const char *value, rm__buf *out)
{
	rm__buf scratch;
	rm__fold f;
	size_t i, skip;
	int rc;

	rm__buf_init(&scratch, 64 * 1024);
	rc = rm__fold_start(&f, &scratch, "X");
	f.limit = (size_t)1 << 30;    /* one line: never folded */
	if (rc == RM_OK)
		rc = rm__fold_text(&f, value, strlen(value), (size_t)1 << 30);
	skip = 2;                     /* "X:" */
	while (rc == RM_OK && skip < scratch.len && scratch.data[skip] == ' ')
		skip++;
	for (i = skip; rc == RM_OK && i < scratch.len; i++) {
		char c = scratch.data[i] == '\t' ? ' ' : scratch.data[i];

		rc = rm__buf_append_byte(out, c);
	}
	rm__buf_free(&scratch);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Attachments                                                            */
/* ---------------------------------------------------------------------- */

static int read_file(const char *path, const char *field, size_t max,
                     rm__buf *out, rm_error *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = RM_OK;

	if (f == NULL)
		return rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER, field,
		                "cannot read '%s': %s", path, strerror(errno));
	while (rc == RM_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > max)
			rc = rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
			              field, "'%s' is larger than %zu bytes",
			              path, max);
		else if (rm__buf_append(out, chunk, n) != RM_OK)
			rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
			              "out of memory reading '%s'", path);
	}
	if (rc == RM_OK && ferror(f))
		rc = rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER, field,
		              "cannot read '%s'", path);
	fclose(f);
	return rc;
}

int rm__http_part_bytes(const rm__part *p, const char *field, size_t max,
                        rm__buf *out, rm_error *err)
{
	rm__buf_init(out, max);
	if (p->path != NULL)
		return read_file(p->path, field, max, out, err);
	if (p->len > max)
		return rm__fail(err, RM_ETOOBIG, RM_OUTCOME_PERM_PROVIDER,
		                field, "the attachment is larger than %zu "
		                "bytes", max);
	if (rm__buf_append(out, p->data, p->len) != RM_OK)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory copying the attachment");
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */
/* ---------------------------------------------------------------------- */

int rm__http_each_header(const rm_message *msg, rm__http_header_fn add,
                         void *ctx, rm_error *err)
{
	rm__buf refs;
	size_t i;
	int rc;

	rc = add(ctx, "Message-ID", msg->message_id, err);
	if (rc == RM_OK && msg->in_reply_to != NULL)
		rc = add(ctx, "In-Reply-To", msg->in_reply_to, err);
	rm__buf_init(&refs, 64 * 1024);
	for (i = 0; rc == RM_OK && i < msg->reference_count; i++)
		rc = rm__buf_printf(&refs, "%s%s", i ? " " : "",
		                    msg->references[i]);
	if (rc == RM_OK && refs.len > 0)
		rc = add(ctx, "References", refs.data, err);
	rm__buf_free(&refs);
	for (i = 0; rc == RM_OK && i < msg->header_count; i++)
		rc = add(ctx, msg->headers[i].name, msg->headers[i].value,
		         err);
	return rc;
}

int rm__json_add_base64(cJSON *obj, const char *name, const void *data,
                        size_t len)
{
	rm__buf b64;
	int rc;

	rm__buf_init(&b64, (len / 3 + 2) * 4 + 1);
	rc = rm__base64_encode(&b64, data, len);
	if (rc == RM_OK && cJSON_AddStringToObject(obj, name,
	    b64.data != NULL ? b64.data : "") == NULL)
		rc = RM_ENOMEM;
	rm__buf_free(&b64);
	return rc;
}

int rm__json_print(cJSON *root, char **out, size_t *len)
{
	*out = cJSON_PrintUnformatted(root);
	if (*out == NULL)
		return RM_ENOMEM;
	*len = strlen(*out);
	return RM_OK;
}

cJSON *rm__json_parse_body(const rm__http_response *resp)
{
	if (resp->body.data == NULL || resp->body.len == 0)
		return NULL;
	return cJSON_ParseWithLength(resp->body.data, resp->body.len);
}

const char *rm__json_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* ---------------------------------------------------------------------- */
/* One exchange                                                           */
/* ---------------------------------------------------------------------- */

void rm__http_json_headers(rm__http_header headers[3], const char *key_name,
                           const char *key)
{
	headers[0] = (rm__http_header){ key_name, key };
	headers[1] = (rm__http_header){ "Content-Type", "application/json" };
	headers[2] = (rm__http_header){ "Accept", "application/json" };
}

int rm__http_exchange(rm__http *h, const rm__http_request *req,
                      rm__http_answer_fn read_answer, rm_message *msg,
                      rm_result *r, rm_error *err)
{
	rm__http_response resp;
	rm_error e;
	int rc;

	rm__error_clear(&e);
	rm__http_response_init(&resp);
	rc = rm__http_post(h, req, &resp, &e);
	if (rc != RM_OK)
		rc = rm__http_fail_transfer(r, &e, err);
	else
		rc = read_answer(r, msg, &resp, err);
	rm__http_response_free(&resp);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Preflight checks                                                       */
/* ---------------------------------------------------------------------- */

/* What the connection's TLS was: libcurl's note on the handshake, or,
 * on a kept connection whose handshake came earlier, that it was made. */
static void describe_tls(const rm__http *h, rm_check_info *info)
{
	const char *base = rm__http_base(h);

	if (!rm__strncaseeq(base, "https:", 6))
		snprintf(info->tls, sizeof(info->tls), "none");
	else if (rm__http_tls(h)[0] != '\0')
		snprintf(info->tls, sizeof(info->tls), "%s", rm__http_tls(h));
	else
		snprintf(info->tls, sizeof(info->tls), "TLS, verified");
}

int rm__http_check(rm__http *h, rm__http_call_fn call,
                   const rm__http_request *req,
                   rm__http_check_fn read_answer, void *ctx,
                   rm_check_info *info, rm_error *err)
{
	rm__http_response resp;
	int rc;

	rm__http_response_init(&resp);
	rc = call(h, req, &resp, err);
	if (rc == RM_OK) {
		describe_tls(h, info);
		rc = read_answer(ctx, h, &resp, info, err);
	}
	rm__http_response_free(&resp);
	return rc;
}

int rm__http_check_answer(const rm__http_response *resp, const char *name,
                          rm_error *err)
{
	cJSON *root;
	int object;

	if (resp->status < 200 || resp->status >= 300)
		return RM_OK;
	root = rm__json_parse_body(resp);
	object = resp->status == 200 && cJSON_IsObject(root);
	cJSON_Delete(root);
	if (object)
		return RM_OK;
	return rm__http_check_fail(err, name, resp, RM_OUTCOME_TRANSIENT,
	                           RM_EPROTOCOL, "not the JSON object the "
	                           "API answers with; is the endpoint right?");
}

int rm__http_check_fail(rm_error *err, const char *name,
                        const rm__http_response *resp, rm_outcome outcome,
                        int code, const char *text)
{
	if (outcome == RM_OUTCOME_AMBIGUOUS)
		outcome = RM_OUTCOME_TRANSIENT;
	if (outcome == RM_OUTCOME_PERM_RECIPIENT)
		outcome = RM_OUTCOME_PERM_PROVIDER;
	rm__fail(err, code, outcome, NULL, "%s: HTTP %ld: %s", name,
	         resp->status, text);
	if (err != NULL)
		err->http_status = (int)resp->status;
	return code;
}

void rm__http_check_describe(rm_check_info *info, const rm__http *h,
                             const char *name, const char *mechanism,
                             const char *what)
{
	char text[sizeof(info->greeting)];

	/* what may quote the provider (a server or domain name): shown with
	 * control bytes escaped, as in errors and logs. */
	snprintf(text, sizeof(text), "%s API at %s: %s", name,
	         rm__http_base(h), what);
	rm__copy_escaped(info->greeting, sizeof(info->greeting), text);
	snprintf(info->auth_mechanism, sizeof(info->auth_mechanism), "%s",
	         mechanism);
}
