/*
 * Helpers shared by the SMTP transport tests (see smtp_test_util.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_test_util.h"

static void capture(rm_log_level level, const char *line, void *user)
{
	st_run *x = user;
	size_t n = strlen(line);
	char *p = realloc(x->log, x->log_len + n + 2);

	(void)level;
	if (p == NULL)
		return;
	memcpy(p + x->log_len, line, n);
	p[x->log_len + n] = '\n';
	x->log_len += n + 1;
	p[x->log_len] = '\0';
	x->log = p;
}

/* Copies fmt with "{port}" replaced by the port number. */
static void expand_port(char *out, size_t size, const char *fmt, int port)
{
	const char *mark = strstr(fmt, "{port}");

	if (mark == NULL) {
		snprintf(out, size, "%s", fmt);
		return;
	}
	snprintf(out, size, "%.*s%d%s", (int)(mark - fmt), fmt, port,
	         mark + strlen("{port}"));
}

int st_start(st_run *x, const fs_step *script, const fs_tls *tls)
{
	memset(x, 0, sizeof(*x));
	if (fake_smtp_start(&x->fs, script, tls) != 0)
		return -1;
	rm_result_new(&x->r, NULL);
	x->log = calloc(1, 1);
	return 0;
}

int st_connect(st_run *x, const char *url_fmt, int port)
{
	rm_transport_opts o = RM_TRANSPORT_OPTS_INIT;
	char url[1024];

	o.log = capture;
	o.log_user = x;
	o.log_level = RM_LOG_DEBUG;
	expand_port(url, sizeof(url), url_fmt, port);
	x->rc = rm_transport_open(&x->t, url, &o, &x->err);
	return x->rc;
}

int st_open_url(st_run *x, const fs_step *script, const fs_tls *tls,
                const char *url_fmt)
{
	if (st_start(x, script, tls) != 0)
		return -1;
	return st_connect(x, url_fmt, fake_smtp_port(x->fs));
}

int st_open(st_run *x, const fs_step *script, const fs_tls *tls,
            const char *scheme, const char *userinfo, const char *query)
{
	char fmt[900];

	snprintf(fmt, sizeof(fmt), "%s://%s127.0.0.1:{port}?ehlo=client.example"
	         "%s%s", scheme, userinfo, query[0] != '\0' ? "&" : "", query);
	return st_open_url(x, script, tls, fmt);
}

int st_send(st_run *x, rm_message *msg)
{
	x->rc = rm_send(x->t, msg, x->r, &x->err);
	rm_message_free(msg);
	return x->rc;
}

void st_close(st_run *x)
{
	rm_transport_close(x->t);
	x->t = NULL;
	if (x->fs != NULL)
		fake_smtp_wait(x->fs);
}

void st_free(st_run *x)
{
	st_close(x);
	fake_smtp_free(x->fs);
	rm_result_free(x->r);
	free(x->log);
	memset(x, 0, sizeof(*x));
}

rm_message *st_message(const char *to, const char *text)
{
	rm_message *m = NULL;

	if (rm_message_new(&m, NULL) != RM_OK ||
	    rm_message_set_from(m, "a@example.com", NULL, NULL) != RM_OK ||
	    rm_message_add_to(m, to, NULL, NULL) != RM_OK ||
	    rm_message_set_subject(m, "Test", NULL) != RM_OK ||
	    rm_message_set_text(m, text, (size_t)-1, NULL) != RM_OK ||
	    rm_message_set_reproducible(m, 1, NULL) != RM_OK) {
		rm_message_free(m);
		return NULL;
	}
	return m;
}

char *st_unstuff(const char *data, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t i = 0, n = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		const char *lf = memchr(data + i, '\n', len - i);
		size_t line = lf != NULL ? (size_t)(lf - (data + i)) + 1 :
		              len - i;

		if (line == 3 && memcmp(data + i, ".\r\n", 3) == 0)
			break;
		if (data[i] == '.') {
			i++;
			line--;
		}
		memcpy(out + n, data + i, line);
		n += line;
		i += line;
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}
