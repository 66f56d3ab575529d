/*
 * The response readers of the HTTP providers. Each is a static function
 * (read_answer) of its backend's file, so a target includes that file
 * and then this one; the library's copy of the backend is then not
 * linked (the target defines every symbol it has).
 *
 * Input: byte 0 picks the HTTP status; the rest is the response, its
 * header lines before the first empty line (CRLF CRLF) when there is
 * one, else all body. The reader must fill the result and return RM_OK
 * or an RM_E* code whatever the bytes.
 */
#include "fuzz_common.h"

static const long http_statuses[] = {
	200, 201, 202, 204, 400, 401, 403, 404, 406, 408, 413, 422, 429,
	500, 502, 503
};

static rm_message *http_message(void)
{
	static rm_message *m;

	if (m != NULL)
		return m;
	if (rm_message_new(&m, NULL) != RM_OK ||
	    rm_message_set_from(m, "a@example.com", NULL, NULL) != RM_OK ||
	    rm_message_add_to(m, "b@example.net", NULL, NULL) != RM_OK ||
	    rm_message_add_cc(m, "c@example.org", "C", NULL) != RM_OK ||
	    rm_message_set_text(m, "hi", (size_t)-1, NULL) != RM_OK ||
	    rm__message_prepare(m, NULL) != RM_OK)
		abort();
	return m;
}

static void http_fill(rm__http_response *resp, const uint8_t *p, size_t n)
{
	const uint8_t *end = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;

	if (end != NULL) {
		size_t hlen = (size_t)(end - p) + 2;

		(void)rm__buf_append(&resp->headers, p, hlen);
		p += hlen + 2;
		n -= hlen + 2;
	}
	(void)rm__buf_append(&resp->body, p, n);
}

FUZZ_ENTRY(RM_FUZZ_NAME)
{
	rm__http_response resp;
	rm_result *r = NULL;
	rm_error err;
	int rc;

	if (size == 0)
		return 0;
	rm__http_response_init(&resp);
	resp.status = http_statuses[data[0] % RM__ARRAY_LEN(http_statuses)];
	http_fill(&resp, data + 1, size - 1);
	if (rm_result_new(&r, NULL) != RM_OK)
		abort();
	rc = read_answer(r, http_message(), &resp, &err);
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(rm_result_text(r) != NULL);
	FUZZ_CHECK(rc == RM_OK ||
	           strlen(err.message) < sizeof(err.message));
	(void)rm__http_retry_hint(&resp);
	rm_result_free(r);
	rm__http_response_free(&resp);
	return 0;
}
