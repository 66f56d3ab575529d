/*
 * Secrets in transport URLs. One rule for every secret option NAME
 * (password, token, client_secret, refresh_token, ...): it is given as
 * NAME=VALUE, as NAME_env=VARIABLE (read from the environment) or as
 * NAME_file=PATH (the first line of the file, without its line end), and
 * at most one of those. Where the URL's own user-info part can hold the
 * same secret (the password of smtp://user:password@host), that counts
 * as one more source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SECRET_MAX 8192

/* Reads the first line of a file holding a secret. */
static int read_file(const char *field, const char *path, char **out,
                     rm_error *err)
{
	char buf[SECRET_MAX];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return rm__fail(err, RM_EIO, RM_OUTCOME_PERM_PROVIDER, field,
		                "cannot open %s %s: %s", field, path,
		                strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	*out = rm__strndup(buf, n);
	rm__wipe(buf, sizeof(buf));
	return *out != NULL ? RM_OK : RM_ENOMEM;
}

static int read_env(const char *field, const char *name, char **out,
                    rm_error *err)
{
	const char *v = getenv(name);

	if (v == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_PERM_PROVIDER,
		                field, "environment variable %s (named by "
		                "%s) is not set", name, field);
	*out = rm__strdup(v);
	return *out != NULL ? RM_OK : RM_ENOMEM;
}

/* How many times the options a, b and c appear in the URL. */
static size_t count_options(const rm__url *url, const char *a,
                            const char *b, const char *c)
{
	size_t i, n = 0;

	for (i = 0; i < url->option_count; i++) {
		const char *name = url->options[i].name;

		n += strcmp(name, a) == 0 || strcmp(name, b) == 0 ||
		     strcmp(name, c) == 0;
	}
	return n;
}

int rm__url_secret(const rm__url *url, const char *name,
                   const char *inline_value, char **out, rm_error *err)
{
	char env_name[64], file_name[64];
	const char *value, *env, *file;

	*out = NULL;
	snprintf(env_name, sizeof(env_name), "%s_env", name);
	snprintf(file_name, sizeof(file_name), "%s_file", name);
	value = rm__url_option(url, name);
	env = rm__url_option(url, env_name);
	file = rm__url_option(url, file_name);
	/* A secret given twice, even the same way, is a mistake. */
	if ((inline_value != NULL) +
	    count_options(url, name, env_name, file_name) > 1)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, name,
		                "give the %s once: %s%s=, %s= or %s=", name,
		                inline_value != NULL ? "in the URL, " : "",
		                name, env_name, file_name);
	if (env != NULL)
		return read_env(env_name, env, out, err);
	if (file != NULL)
		return read_file(file_name, file, out, err);
	if (value == NULL)
		value = inline_value;
	if (value == NULL)
		return RM_OK;
	*out = rm__strdup(value);
	return *out != NULL ? RM_OK : RM_ENOMEM;
}

void rm__secret_free(char **s)
{
	rm__free_secret(*s);
	*s = NULL;
}
