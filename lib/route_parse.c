/*
 * The composite URL grammar:
 *
 *   composite = kind "(" *WSP child *(1*WSP child) *WSP ")"
 *               [ "?" options ] [ "#" name ]
 *   kind      = "retry" / "failover" / "roundrobin" / "weighted"
 *   child     = ( composite / URL ) [ "#" name ] [ ":" weight ]
 *
 * A URL inside a composite ends at whitespace or at the composite's ")",
 * so it may hold parentheses only percent-encoded (%28, %29). The weight
 * is required in weighted() and refused elsewhere where it cannot be a
 * URL's own port or path (see surely_weight). Options use the URL
 * query syntax: name=value pairs joined by "&".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option.h"
#include "route_int.h"

#define WEIGHT_MAX 1000
#define CHILDREN_MAX 64
/* A week: longer waits belong to a queue, not to one send. */
#define DURATION_MAX_MS (7LL * 24 * 3600 * 1000)

static const struct {
	const char *name;
	rm__route_kind kind;
} kinds[] = {
	{ "retry", RM__ROUTE_RETRY },
	{ "failover", RM__ROUTE_FAILOVER },
	{ "roundrobin", RM__ROUTE_ROUNDROBIN },
	{ "weighted", RM__ROUTE_WEIGHTED },
};

const char *rm__route_kind_name(rm__route_kind kind)
{
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(kinds); i++) {
		if (kinds[i].kind == kind)
			return kinds[i].name;
	}
	return "route";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/* The length of "kind(" at the start of text, or 0 if there is none. */
static size_t kind_at(const char *text, size_t len, rm__route_kind *kind)
{
	size_t i, n;

	for (i = 0; i < RM__ARRAY_LEN(kinds); i++) {
		n = strlen(kinds[i].name);
		if (len > n && memcmp(text, kinds[i].name, n) == 0 &&
		    text[n] == '(') {
			*kind = kinds[i].kind;
			return n + 1;
		}
	}
	return 0;
}

int rm__route_is_composite(const char *text)
{
	rm__route_kind kind;
	const char *p;

	if (text == NULL)
		return 0;
	p = skip_space(text, text + strlen(text));
	return kind_at(p, strlen(p), &kind) > 0;
}

/* A syntax error; what is the text at fault, shown with its secrets
 * masked (rm_url_mask). */
static int fail_syntax(rm_error *err, const char *why, const char *what)
{
	char *masked = NULL;
	int rc;

	rm_url_mask(what, &masked, NULL);
	rc = rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
	              "composite URL: %s: '%s'", why,
	              masked != NULL ? masked : "(URL not shown)");
	free(masked);
	return rc;
}

/* The ")" closing the "(" just before p, or NULL. */
static const char *closing_paren(const char *p)
{
	int depth = 1;

	for (; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p;
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */
/* ---------------------------------------------------------------------- */

static void set_defaults(rm__route *r)
{
	r->cfg.attempts = 3;
	r->cfg.deadline_ms = 120000;
	r->cfg.backoff_ms = 1000;
	r->cfg.backoff_max_ms = 30000;
	r->cfg.max_wait_ms = 60000;
	r->cfg.resend_ambiguous = 0;
	r->breaker.threshold = 5;
	r->breaker.cooldown_ms = 60000;
}

static int opt_duration(const rm__opt_reader *o, const char *name,
                        long long *ms)
{
	return rm__opt_duration(o, name, 0, DURATION_MAX_MS, ms);
}

/* Options only retry() reads; elsewhere they stay unused: an error. */
static int retry_options(rm__route *r, const rm__opt_reader *o)
{
	int rc = rm__opt_long(o, "attempts", 1, 100, &r->cfg.attempts);

	if (rc == RM_OK)
		rc = opt_duration(o, "deadline", &r->cfg.deadline_ms);
	if (rc == RM_OK)
		rc = opt_duration(o, "backoff", &r->cfg.backoff_ms);
	if (rc == RM_OK)
		rc = opt_duration(o, "backoff_max", &r->cfg.backoff_max_ms);
	if (rc == RM_OK)
		rc = opt_duration(o, "max_wait", &r->cfg.max_wait_ms);
	return rc;
}

static int is_retry_option(const char *name)
{
	static const char *const names[] = {
		"attempts", "deadline", "backoff", "backoff_max", "max_wait",
	};
	size_t i;

	for (i = 0; i < RM__ARRAY_LEN(names); i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

/*
 * An option no one read. The stand-in URL's route:// means nothing to
 * the caller, so the error names the composite; a retry option elsewhere
 * is most likely meant for a retry() around it.
 */
static int check_unused(const rm__route *r, const rm__url *u, rm_error *err)
{
	const char *kind = rm__route_kind_name(r->kind);
	const rm__url_opt *o;
	size_t i;

	for (i = 0; i < u->option_count; i++) {
		o = &u->options[i];
		if (o->used)
			continue;
		if (is_retry_option(o->name))
			return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
			                o->name, "%s() has no option '%s': "
			                "only retry() has; wrap it, as in "
			                "retry(%s(...))?%s=%s", kind, o->name,
			                kind, o->name, o->value);
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
		                o->name, "%s() has no option '%s'", kind,
		                o->name);
	}
	return RM_OK;
}

static int open_store(rm__route *r, const char *file, rm_error *err)
{
	if (r->breaker.threshold == 0)
		return RM_OK;
	if (file != NULL)
		return rm__breaker_store_file(&r->breaker.store, file, err);
	return rm__breaker_store_memory(&r->breaker.store, err);
}

static int read_options(rm__route *r, const rm__url *u, rm_error *err)
{
	const char *file = rm__url_option(u, "breaker_file");
	rm__opt_reader o = { u, "composite", err };
	int rc = RM_OK;

	if (r->kind == RM__ROUTE_RETRY)
		rc = retry_options(r, &o);
	if (rc == RM_OK)
		rc = rm__opt_flag(&o, "resend_ambiguous",
		                  &r->cfg.resend_ambiguous);
	if (rc == RM_OK)
		rc = rm__opt_long(&o, "breaker", 0, 1000,
		                  &r->breaker.threshold);
	if (rc == RM_OK)
		rc = opt_duration(&o, "breaker_cooldown",
		                  &r->breaker.cooldown_ms);
	if (rc == RM_OK)
		rc = check_unused(r, u, err);
	if (rc == RM_OK)
		rc = open_store(r, file, err);
	return rc;
}

/* Options are read with the URL parser, from a stand-in URL. */
static int parse_options(rm__route *r, const char *query, size_t len,
                         rm_error *err)
{
	rm__url u;
	rm__buf b;
	int rc;

	rm__buf_init(&b, 8192);
	if (rm__buf_append_str(&b, "route://composite/?") != RM_OK ||
	    rm__buf_append(&b, query, len) != RM_OK) {
		rm__buf_free(&b);
		return fail_syntax(err, "the options are too long", "?");
	}
	rc = rm__url_parse(&u, b.data, err);
	rm__buf_free(&b);
	if (rc == RM_OK)
		rc = read_options(r, &u, err);
	rm__url_free(&u);
	return rc;
}

/* After ")": optional "?options", an optional "#name", then the end. */
static int parse_suffix(rm__route *r, const char *p, rm_error *err)
{
	const char *end = p + strlen(p);
	size_t qlen = 0;
	int rc = RM_OK;

	if (*p == '?') {
		p++;
		qlen = strcspn(p, "# \t\r\n");
	}
	rc = parse_options(r, p, qlen, err);
	p += qlen;
	if (*p == '#')
		p += strcspn(p, " \t\r\n");
	if (rc == RM_OK && skip_space(p, end) != end)
		rc = fail_syntax(err, "unexpected text after the closing "
		                 "parenthesis", p);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Children                                                               */
/* ---------------------------------------------------------------------- */

typedef struct token {
	const char *p;
	size_t len;
} token;

/* The next child in [*pos, end): up to whitespace outside parentheses. */
static int next_token(const char **pos, const char *end, token *tok,
                      rm_error *err)
{
	const char *p = skip_space(*pos, end);
	int depth = 0;

	tok->p = p;
	for (; p < end && !(depth == 0 && is_space(*p)); p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			break;
	}
	tok->len = (size_t)(p - tok->p);
	*pos = p;
	if (depth != 0)
		return fail_syntax(err, "unbalanced parentheses", tok->p);
	return RM_OK;
}

/* Where a composite child's suffix begins: after its last ")". */
static size_t suffix_start(const token *tok)
{
	size_t i = tok->len;

	while (i > 0 && tok->p[i - 1] != ')')
		i--;
	return i;
}

/* The masked text of a child, for an error; NULL when out of memory. */
static char *masked_child(const token *tok)
{
	char *text = rm__strndup(tok->p, tok->len), *masked = NULL;

	if (text != NULL)
		rm_url_mask(text, &masked, NULL);
	free(text);
	return masked;
}

static int fail_child(const rm__route *r, rm_error *err, const char *fmt,
                      ...) RM__PRINTF(3, 4);

/* An RM_EURL that names the composite and the child's position. */
static int fail_child(const rm__route *r, rm_error *err, const char *fmt,
                      ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
	                "%s() transport %zu: %s",
	                rm__route_kind_name(r->kind), r->child_count + 1, why);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Where the ":digits" ending p[from, at) begins, or at if none does. */
static size_t digits_start(const char *p, size_t from, size_t at)
{
	size_t i = at;

	while (i > from && is_digit(p[i - 1]))
		i--;
	if (i == at || i < from + 1 || i < 2 || p[i - 1] != ':')
		return at;
	return i - 1;
}

/* Where a trailing ":digits" begins (at its ':'), or tok->len. */
static size_t weight_start(const token *tok)
{
	return digits_start(tok->p, suffix_start(tok), tok->len);
}

/*
 * Whether the ":digits" at tok[at] can only be a weight: it follows a
 * nested composite's ")", a #name or a port. Anywhere else it may be a
 * URL's own port or part of its path.
 */
static int surely_weight(const token *tok, size_t at)
{
	size_t from = suffix_start(tok);

	if (at == tok->len)
		return 0;
	if (at == from && from > 0)
		return 1;
	if (memchr(tok->p + from, '#', at - from) != NULL)
		return 1;
	return digits_start(tok->p, from, at) < at;
}

/* Only weighted() reads a weight; elsewhere it would become a name. */
static int refuse_weight(const rm__route *r, const token *tok,
                         rm_error *err)
{
	size_t at = weight_start(tok);

	if (!surely_weight(tok, at))
		return RM_OK;
	return fail_child(r, err, "only weighted() takes a weight ('%.*s')",
	                  (int)(tok->len - at), tok->p + at);
}

/* Whether tok[0, at) ends with a URL's host, so ":N" there is a port. */
static int ends_at_host(const token *tok, size_t at)
{
	size_t i;

	for (i = 0; i + 3 <= at; i++) {
		if (memcmp(tok->p + i, "://", 3) == 0)
			break;
	}
	if (i + 3 > at)
		return 0;
	for (i += 3; i < at; i++) {
		if (strchr("/?#()", tok->p[i]) != NULL)
			return 0;
	}
	return 1;
}

static int fail_weight_missing(const rm__route *r, const token *tok,
                               rm_error *err)
{
	char *masked = masked_child(tok);
	int rc;

	rc = fail_child(r, err, "the weight is missing in '%s': write "
	                "':weight' (1 to 1000) last, after the URL and its "
	                "#name, as in smtp://a.example:25#a:3",
	                masked != NULL ? masked : "(URL not shown)");
	free(masked);
	return rc;
}

/* A port read as the weight: the weight itself is missing. */
static int fail_port_as_weight(const rm__route *r, const token *tok,
                               size_t at, rm_error *err)
{
	char *masked = masked_child(tok);
	int rc;

	rc = fail_child(r, err, "the weight is missing ('%.*s' is the "
	                "port); write the weight after it, as in %s:1",
	                (int)(tok->len - at - 1), tok->p + at + 1,
	                masked != NULL ? masked : "URL:PORT");
	free(masked);
	return rc;
}

/* Takes ":weight" off the end of tok. */
static int take_weight(const rm__route *r, token *tok, long *weight,
                       rm_error *err)
{
	size_t at = weight_start(tok), n = tok->len - at - 1;
	char num[16];

	if (at == tok->len)
		return fail_weight_missing(r, tok, err);
	if (n >= sizeof(num))
		n = sizeof(num) - 1;
	memcpy(num, tok->p + at + 1, n);
	num[n] = '\0';
	if (rm__parse_long(num, 1, WEIGHT_MAX, weight) == RM_OK) {
		tok->len = at;
		return RM_OK;
	}
	if (!surely_weight(tok, at) && ends_at_host(tok, at))
		return fail_port_as_weight(r, tok, at, err);
	return fail_child(r, err, "a weight is 1 to 1000: '%.*s'",
	                  (int)(tok->len - at - 1), tok->p + at + 1);
}

/* Takes "#name" off the end of tok; *name is NULL when there is none. */
static int take_name(token *tok, char **name, rm_error *err)
{
	size_t from = suffix_start(tok);
	const char *hash = memchr(tok->p + from, '#', tok->len - from);
	size_t n;

	*name = NULL;
	if (hash == NULL)
		return RM_OK;
	n = tok->len - (size_t)(hash - tok->p) - 1;
	if (n == 0)
		return fail_syntax(err, "an empty #name", tok->p);
	*name = rm__strndup(hash + 1, n);
	tok->len = (size_t)(hash - tok->p);
	if (*name == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory parsing a composite URL");
	return RM_OK;
}

/*
 * A plain URL's name: scheme://host[:port][/path], leaving out the
 * credentials and options, which may hold secrets.
 */
static char *plain_name(const char *url)
{
	const char *sep = strstr(url, "://"), *host, *at, *path;
	size_t auth_len, path_len, i;
	rm__buf b;

	if (sep == NULL || strncmp(url, "file://", 7) == 0)
		return rm__strndup(url, strcspn(url, "?"));
	host = sep + 3;
	auth_len = strcspn(host, "/?#");
	at = host;
	for (i = 0; i < auth_len; i++) {
		if (host[i] == '@')
			at = host + i + 1;
	}
	path = host + auth_len;
	path_len = strcspn(path, "?#");
	if (path_len == 1)
		path_len = 0;
	rm__buf_init(&b, 4096);
	if (rm__buf_append(&b, url, (size_t)(host - url)) != RM_OK ||
	    rm__buf_append(&b, at, auth_len - (size_t)(at - host)) != RM_OK ||
	    rm__buf_append(&b, path, path_len) != RM_OK) {
		rm__buf_free(&b);
		return NULL;
	}
	return rm__buf_steal(&b);
}

/* Makes a made-up name unique among its siblings: "name[2]". */
static int unique_name(rm__route *r, char **name)
{
	size_t i;
	char *n;
	rm__buf b;

	for (i = 0; i < r->child_count; i++) {
		if (strcmp(r->children[i].name, *name) == 0)
			break;
	}
	if (i == r->child_count)
		return RM_OK;
	rm__buf_init(&b, 4096);
	if (rm__buf_printf(&b, "%s[%zu]", *name, r->child_count + 1) != RM_OK)
		return RM_ENOMEM;
	n = rm__buf_steal(&b);
	if (n == NULL)
		return RM_ENOMEM;
	free(*name);
	*name = n;
	return RM_OK;
}

static int open_child(rm__route *r, const char *url, char *name,
                      long weight, const rm_transport_opts *opts,
                      rm_error *err)
{
	rm__route_child *c = &r->children[r->child_count];
	rm_error e;
	int rc;

	rm__error_clear(&e);
	rc = rm_transport_open(&c->t, url, opts, &e);
	if (rc != RM_OK) {
		free(name);
		return rm__fail(err, rc, e.outcome, e.field[0] ? e.field : NULL,
		                "%s() transport %zu: %s",
		                rm__route_kind_name(r->kind),
		                r->child_count + 1, e.message);
	}
	if (name == NULL)
		name = c->t->backend == &rm__backend_route ?
		       rm__strdup(c->t->scheme) : plain_name(url);
	if (name == NULL || unique_name(r, &name) != RM_OK) {
		free(name);
		rm_transport_close(c->t);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory opening a composite transport");
	}
	c->name = name;
	c->weight = weight;
	r->child_count++;
	return RM_OK;
}

/* A URL with a parenthesis that does not open a composite. */
static int check_parens(const rm__route *r, const token *tok, rm_error *err)
{
	rm__route_kind kind;
	char *text, *masked = NULL;
	int rc;

	if (memchr(tok->p, '(', tok->len) == NULL &&
	    memchr(tok->p, ')', tok->len) == NULL)
		return RM_OK;
	if (kind_at(tok->p, tok->len, &kind) > 0)
		return RM_OK;
	text = rm__strndup(tok->p, tok->len);
	if (text != NULL)
		rm_url_mask(text, &masked, NULL);
	rc = rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
	              "%s() transport %zu: a URL inside a composite may "
	              "hold parentheses only percent-encoded (%%28, %%29): "
	              "'%s'", rm__route_kind_name(r->kind),
	              r->child_count + 1, masked != NULL ? masked :
	              "(URL not shown)");
	free(text);
	free(masked);
	return rc;
}

/*
 * Refuses a #name a sibling already has: attempts, counters and the
 * circuit breaker find a child by its name, so two children may not
 * share one the caller chose.
 */
static int check_name_free(const rm__route *r, const char *name,
                           rm_error *err)
{
	size_t i;

	for (i = 0; name != NULL && i < r->child_count; i++) {
		if (strcmp(r->children[i].name, name) == 0)
			return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER,
			                "url", "%s() transport %zu: the name "
			                "'%s' is already transport %zu's",
			                rm__route_kind_name(r->kind),
			                r->child_count + 1, name, i + 1);
	}
	return RM_OK;
}

static int add_child(rm__route *r, token tok, const rm_transport_opts *opts,
                     rm_error *err)
{
	long weight = 1;
	char *name = NULL, *url;
	int rc = RM_OK;

	if (r->child_count == CHILDREN_MAX)
		return fail_syntax(err, "a composite takes at most 64 "
		                   "transports", tok.p);
	if (r->kind == RM__ROUTE_WEIGHTED)
		rc = take_weight(r, &tok, &weight, err);
	else
		rc = refuse_weight(r, &tok, err);
	if (rc == RM_OK)
		rc = check_parens(r, &tok, err);
	if (rc == RM_OK)
		rc = take_name(&tok, &name, err);
	if (rc == RM_OK)
		rc = check_name_free(r, name, err);
	if (rc != RM_OK) {
		free(name);
		return rc;
	}
	url = rm__strndup(tok.p, tok.len);
	if (url == NULL) {
		free(name);
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory parsing a composite URL");
	}
	rc = open_child(r, url, name, weight, opts, err);
	free(url);
	return rc;
}

static int parse_children(rm__route *r, const char *body, const char *end,
                          const rm_transport_opts *opts, rm_error *err)
{
	const char *p = body;
	token tok;
	int rc = RM_OK;

	r->children = calloc(CHILDREN_MAX, sizeof(*r->children));
	if (r->children == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, NULL,
		                "out of memory parsing a composite URL");
	while (rc == RM_OK) {
		rc = next_token(&p, end, &tok, err);
		if (rc != RM_OK || tok.len == 0)
			break;
		rc = add_child(r, tok, opts, err);
	}
	return rc;
}

static int check_count(const rm__route *r, rm_error *err)
{
	const char *kind = rm__route_kind_name(r->kind);

	if (r->child_count == 0)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
		                "%s() needs at least one transport, as in "
		                "%s(smtp://relay.example)", kind, kind);
	if (r->kind == RM__ROUTE_RETRY && r->child_count > 1)
		return rm__fail(err, RM_EURL, RM_OUTCOME_PERM_PROVIDER, "url",
		                "retry() wraps one transport; to retry over "
		                "several, wrap them: retry(failover(a b))");
	return RM_OK;
}

int rm__route_parse(rm__route *r, const char *text,
                    const rm_transport_opts *opts, rm_error *err)
{
	const char *p = skip_space(text, text + strlen(text)), *close;
	size_t n = kind_at(p, strlen(p), &r->kind);
	int rc;

	if (n == 0)
		return fail_syntax(err, "not a composite URL", text);
	close = closing_paren(p + n);
	if (close == NULL)
		return fail_syntax(err, "unbalanced parentheses", text);
	set_defaults(r);
	rc = parse_suffix(r, close + 1, err);
	if (rc == RM_OK)
		rc = parse_children(r, p + n, close, opts, err);
	if (rc == RM_OK)
		rc = check_count(r, err);
	return rc;
}

void rm__route_free(rm__route *r)
{
	size_t i;

	for (i = 0; i < r->child_count; i++) {
		rm_transport_close(r->children[i].t);
		free(r->children[i].name);
	}
	free(r->children);
	r->children = NULL;
	r->child_count = 0;
	rm__breaker_free(&r->breaker);
}
