/*
 * SigV4 against AWS's signing test suite (tests/data/sigv4, one folder per
 * case): the canonical request, the string to sign, the signature and the
 * Authorization header of every case. Also the SES SMTP password.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <cmocka.h>

#include "internal.h"

#define VECTORS "tests/data/sigv4"
#define MAX_CASES 64
#define MAX_HEADERS 32

/* One parsed case: the request, the signing context, the expectations. */
typedef struct vector {
	char dir[256];
	char *request_text;
	cJSON *context;
	char method[16];
	char *path;
	char *query;
	rm__http_header headers[MAX_HEADERS];
	char *names[MAX_HEADERS];
	char *values[MAX_HEADERS];
	size_t header_count;
	const char *body;
	rm__sigv4_request req;
	rm__sigv4_key key;
} vector;

static char *read_file(const char *dir, const char *name)
{
	char path[512];
	FILE *f;
	long size;
	char *data;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = calloc(1, (size_t)size + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return data;
}

/* The request target: between the first space and the last " HTTP/". */
static void parse_request_line(vector *v, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	const char *end = line + len, *target, *q;
	char *copy;

	assert_non_null(sp);
	snprintf(v->method, sizeof(v->method), "%.*s", (int)(sp - line), line);
	while (end - 6 > sp && memcmp(end - 6, " HTTP/", 6) != 0 &&
	       memcmp(end - 5, " HTTP", 5) != 0)
		end--;
	while (end > sp && *end != ' ')
		end--;
	target = sp + 1;
	copy = rm__strndup(target, (size_t)(end - target));
	q = strchr(copy, '?');
	if (q != NULL) {
		v->query = rm__strdup(q + 1);
		copy[q - copy] = '\0';
	}
	v->path = copy;
}

/* "Name:value" lines; a line starting with white space continues the
 * previous value. */
static void add_header_line(vector *v, const char *line, size_t len)
{
	const char *colon;
	size_t n = v->header_count;

	if (line[0] == ' ' || line[0] == '\t') {
		rm__buf b;

		assert_true(n > 0);
		rm__buf_init(&b, 4096);
		rm__buf_printf(&b, "%s\n%.*s", v->values[n - 1], (int)len,
		               line);
		free(v->values[n - 1]);
		v->values[n - 1] = rm__buf_steal(&b);
		return;
	}
	colon = memchr(line, ':', len);
	assert_non_null(colon);
	assert_true(n < MAX_HEADERS);
	v->names[n] = rm__strndup(line, (size_t)(colon - line));
	v->values[n] = rm__strndup(colon + 1, len - (size_t)(colon - line) - 1);
	v->header_count++;
}

static void parse_request(vector *v)
{
	const char *p = v->request_text, *eol;
	size_t i;
	int first = 1;

	while (*p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (eol == p && !first) {
			v->body = *eol ? eol + 1 : eol;
			break;
		}
		if (first)
			parse_request_line(v, p, (size_t)(eol - p));
		else
			add_header_line(v, p, (size_t)(eol - p));
		first = 0;
		p = *eol ? eol + 1 : eol;
	}
	for (i = 0; i < v->header_count; i++) {
		v->headers[i].name = v->names[i];
		v->headers[i].value = v->values[i];
	}
}

static time_t parse_timestamp(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

static const char *json_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int json_true(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static void load_vector(vector *v)
{
	char *ctx_text = read_file(v->dir, "context.json");
	const cJSON *creds;

	v->context = cJSON_Parse(ctx_text);
	free(ctx_text);
	assert_non_null(v->context);
	v->request_text = read_file(v->dir, "request.txt");
	parse_request(v);
	creds = cJSON_GetObjectItemCaseSensitive(v->context, "credentials");
	v->key.access_key = json_string(creds, "access_key_id");
	v->key.secret_key = json_string(creds, "secret_access_key");
	/* omit_session_token: the token is added after signing, unsigned. */
	if (!json_true(v->context, "omit_session_token"))
		v->key.token = json_string(creds, "token");
	v->key.region = json_string(v->context, "region");
	v->key.service = json_string(v->context, "service");
	v->req.method = v->method;
	v->req.path = v->path;
	v->req.query = v->query;
	v->req.headers = v->headers;
	v->req.header_count = v->header_count;
	v->req.body = v->body;
	v->req.body_len = v->body != NULL ? strlen(v->body) : 0;
	v->req.when = parse_timestamp(json_string(v->context, "timestamp"));
	v->req.normalize_path = json_true(v->context, "normalize");
	v->req.content_sha256_header = json_true(v->context, "sign_body");
}

static void free_vector(vector *v)
{
	size_t i;

	for (i = 0; i < v->header_count; i++) {
		free(v->names[i]);
		free(v->values[i]);
	}
	free(v->path);
	free(v->query);
	free(v->request_text);
	cJSON_Delete(v->context);
}

/* The Authorization value in header-signed-request.txt. */
static char *expected_authorization(const char *dir)
{
	char *text = read_file(dir, "header-signed-request.txt");
	char *p = strstr(text, "\nAuthorization:"), *eol, *out;

	assert_non_null(p);
	p += strlen("\nAuthorization:");
	eol = strchr(p, '\n');
	out = rm__strndup(p, eol != NULL ? (size_t)(eol - p) : strlen(p));
	free(text);
	return out;
}

static void sigv4__vector(void **state)
{
	vector v;
	rm__buf canon, sts, auth;
	char sig[65], *want;

	memset(&v, 0, sizeof(v));
	snprintf(v.dir, sizeof(v.dir), VECTORS "/%s", (const char *)*state);
	load_vector(&v);
	rm__buf_init(&canon, 1 << 20);
	rm__buf_init(&sts, 1 << 20);
	rm__buf_init(&auth, 1 << 20);

	assert_int_equal(rm__sigv4_canonical_request(&v.req, &v.key, &canon,
	                                             NULL), RM_OK);
	want = read_file(v.dir, "header-canonical-request.txt");
	assert_string_equal(canon.data, want);
	free(want);

	assert_int_equal(rm__sigv4_string_to_sign(&v.req, &v.key, canon.data,
	                                          &sts), RM_OK);
	want = read_file(v.dir, "header-string-to-sign.txt");
	assert_string_equal(sts.data, want);
	free(want);

	assert_int_equal(rm__sigv4_signature(&v.req, &v.key, sts.data, sig),
	                 RM_OK);
	want = read_file(v.dir, "header-signature.txt");
	assert_string_equal(sig, want);
	free(want);

	assert_int_equal(rm__sigv4_sign(&v.req, &v.key, &auth), RM_OK);
	want = expected_authorization(v.dir);
	assert_string_equal(auth.data, want);
	free(want);

	rm__buf_free(&canon);
	rm__buf_free(&sts);
	rm__buf_free(&auth);
	free_vector(&v);
}

/* The derivation of the reference doc (AWS's documented algorithm). */
static void sigv4__ses_smtp_password(void **state)
{
	static const char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	char out[RM_SES_SMTP_PASSWORD_SIZE];
	rm_error err;

	(void)state;
	assert_int_equal(rm_ses_smtp_password(secret, "us-east-1", out,
	                                      sizeof(out), &err), RM_OK);
	assert_string_equal(out,
	                    "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9");
	assert_int_equal(rm_ses_smtp_password(secret, "us-west-2", out,
	                                      sizeof(out), &err), RM_OK);
	assert_string_equal(out,
	                    "BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd");
	assert_int_equal(rm_ses_smtp_password(secret, "eu-west-1", out,
	                                      sizeof(out), &err), RM_OK);
	assert_string_equal(out,
	                    "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk");
	assert_int_equal(rm_ses_smtp_password(secret, "eu-west-1", out, 44,
	                                      &err), RM_ELIMIT);
	assert_int_equal(rm_ses_smtp_password(secret, "", out, sizeof(out),
	                                      &err), RM_EINVAL);
	assert_string_equal(err.field, "region");
	assert_int_equal(rm_ses_smtp_password(secret, "eu west", out,
	                                      sizeof(out), &err), RM_EINVAL);
	assert_string_equal(err.field, "region");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder of the suite, sorted. */
static size_t list_cases(char **names, size_t max)
{
	DIR *d = opendir(VECTORS);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] != '.' && e->d_type == DT_DIR)
			names[n++] = rm__strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	return n;
}

int main(void)
{
	struct CMUnitTest tests[MAX_CASES + 1];
	char *names[MAX_CASES];
	size_t n = list_cases(names, MAX_CASES), i;
	int rc;

	if (n < 30) {
		fprintf(stderr, "test_sigv4: %s holds %zu cases; run from the "
		        "top of the tree\n", VECTORS, n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(sigv4__vector,
		                                                names[i]);

		t.name = names[i];
		tests[i] = t;
	}
	tests[n] = (struct CMUnitTest)cmocka_unit_test(
		sigv4__ses_smtp_password);
	rc = _cmocka_run_group_tests("sigv4", tests, n + 1, NULL, NULL);
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
