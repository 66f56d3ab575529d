/*
 * Mailbox addresses: the parser behind every address the caller gives,
 * and the addr-spec form that goes into headers and SMTP paths.
 *
 * Standards: RFC 5322 (3.2.3 atext, 3.2.4 quoted-string, 3.4 mailbox,
 * 3.4.1 addr-spec), RFC 5321 (4.1.2 Dot-string and Quoted-string,
 * 4.5.3.1 size limits), RFC 6531 and 6532 (UTF-8 local parts), RFC 5890
 * and 5891 (A-labels for domain labels only).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "internal.h"

/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2. */
#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define LABEL_MAX 63

/* Longest list text accepted in one call, a bound on the parser's work. */
#define LIST_MAX (1024 * 1024)

void rm__mailbox_free(rm__mailbox *mb)
{
	if (mb == NULL)
		return;
	free(mb->name);
	free(mb->local);
	free(mb->domain);
	free(mb->domain_ascii);
	memset(mb, 0, sizeof(*mb));
}

void rm__mailbox_free_array(rm__mailbox *mbs, size_t count)
{
	size_t i;

	for (i = 0; mbs != NULL && i < count; i++)
		rm__mailbox_free(&mbs[i]);
	free(mbs);
}

int rm__mailbox_copy(rm__mailbox *dst, const rm__mailbox *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = rm__strdup(src->name);
	dst->local = rm__strdup(src->local);
	dst->domain = rm__strdup(src->domain);
	dst->domain_ascii = rm__strdup(src->domain_ascii);
	dst->utf8_local = src->utf8_local;
	if ((src->name && !dst->name) || !dst->local || !dst->domain ||
	    !dst->domain_ascii) {
		rm__mailbox_free(dst);
		return RM_ENOMEM;
	}
	return RM_OK;
}

int rm__mailbox_same(const rm__mailbox *a, const rm__mailbox *b)
{
	return strcmp(a->local, b->local) == 0 &&
	       rm__strcaseeq(a->domain_ascii, b->domain_ascii);
}

/* ---------------------------------------------------------------------- */
/* Local parts                                                            */
/* ---------------------------------------------------------------------- */

/* RFC 5322 3.2.3 atext; bytes of UTF-8 sequences count as atext in
 * RFC 6532 3.2 and are checked for validity elsewhere. */
static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80 ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 if s is a dot-atom of atext (UTF-8 allowed). */
static int is_dot_atom_utf8(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return 0;
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int rm__is_dot_atom(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return is_dot_atom_utf8(s, len);
}

/* Unquotes a quoted local part "..." (RFC 5322 3.2.4) into *out. */
static int unquote_local(const char *s, size_t len, char **out)
{
	rm__buf b;
	size_t i;
	int rc = RM_OK;

	rm__buf_init(&b, len);
	for (i = 1; rc == RM_OK && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			rc = RM_EINVAL;
		else if (c == '\\' && i + 2 < len)
			c = (unsigned char)s[++i];
		else if (c == '\\')
			rc = RM_EINVAL;
		if (rc == RM_OK && c < 0x20 && c != '\t')
			rc = RM_EINVAL;
		if (rc == RM_OK)
			rc = rm__buf_append_byte(&b, (char)c);
	}
	if (rc == RM_OK && b.len == 0)
		rc = RM_EINVAL;
	if (rc != RM_OK) {
		rm__buf_free(&b);
		return rc;
	}
	*out = rm__buf_steal(&b);
	return RM_OK;
}

static int parse_local(const char *s, size_t len, const char *field,
                       rm__mailbox *mb, rm_error *err)
{
	size_t i;

	if (len > 1 && s[0] == '"' && s[len - 1] == '"') {
		if (unquote_local(s, len, &mb->local) != RM_OK)
			return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
			                "%s: the quoted local part is "
			                "malformed", field);
	} else if (is_dot_atom_utf8(s, len)) {
		mb->local = rm__strndup(s, len);
		if (mb->local == NULL)
			return RM_ENOMEM;
	} else {
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the local part '%.*s' is not a valid "
		                "dot-atom or quoted string (RFC 5322 3.4.1)",
		                field, (int)(len > 64 ? 64 : len), s);
	}
	if (strlen(mb->local) > LOCAL_MAX)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the local part is longer than %d octets "
		                "(RFC 5321 4.5.3.1.1)", field, LOCAL_MAX);
	for (i = 0; mb->local[i] != '\0'; i++)
		if ((unsigned char)mb->local[i] >= 0x80)
			mb->utf8_local = 1;
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* Domains                                                                */
/* ---------------------------------------------------------------------- */

static int is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* 1 if s is dot-separated LDH labels of 1 to 63 octets (RFC 5321 4.1.2). */
static int is_ascii_domain(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || strlen(s) > DOMAIN_MAX)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_ldh(*s) || (label == 0 && *s == '-'))
			return 0;
		if (++label > LABEL_MAX)
			return 0;
	}
	return label > 0 && s[-1] != '-';
}

/* An address literal: [IPv4] or [IPv6:...] (RFC 5321 4.1.3). */
static int is_address_literal(const char *s, size_t len)
{
	unsigned char addr[16];
	char text[64];

	if (len < 3 || len >= sizeof(text) + 2 || s[0] != '[' ||
	    s[len - 1] != ']')
		return 0;
	memcpy(text, s + 1, len - 2);
	text[len - 2] = '\0';
	if (rm__strncaseeq(text, "IPv6:", 5))
		return inet_pton(AF_INET6, text + 5, addr) == 1;
	return inet_pton(AF_INET, text, addr) == 1;
}

static int has_high_bytes(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* Converts a UTF-8 domain to A-labels (IDNA2008 with UTS 46 mapping). */
static int to_a_labels(const char *domain, const char *field,
                       char **out, rm_error *err)
{
	char *ascii = NULL;
	int rc = idn2_to_ascii_8z(domain, &ascii,
	                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);

	if (rc != IDN2_OK)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the domain '%s' is not a valid "
		                "international domain name: %s", field,
		                domain, idn2_strerror(rc));
	*out = rm__strdup(ascii);
	idn2_free(ascii);
	return *out == NULL ? RM_ENOMEM : RM_OK;
}

static int parse_domain(const char *s, size_t len, const char *field,
                        rm__mailbox *mb, rm_error *err)
{
	int rc;

	mb->domain = rm__strndup(s, len);
	if (mb->domain == NULL)
		return RM_ENOMEM;
	if (is_address_literal(s, len)) {
		mb->domain_ascii = rm__strdup(mb->domain);
		return mb->domain_ascii == NULL ? RM_ENOMEM : RM_OK;
	}
	if (has_high_bytes(s, len)) {
		rc = to_a_labels(mb->domain, field, &mb->domain_ascii, err);
		if (rc != RM_OK)
			return rc;
	} else {
		mb->domain_ascii = rm__strdup(mb->domain);
		if (mb->domain_ascii == NULL)
			return RM_ENOMEM;
	}
	if (!is_ascii_domain(mb->domain_ascii))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: '%s' is not a valid domain (labels of "
		                "letters, digits and hyphens, RFC 5321 4.1.2)",
		                field, mb->domain);
	return RM_OK;
}

/* ---------------------------------------------------------------------- */
/* One mailbox                                                            */
/* ---------------------------------------------------------------------- */

/* The position of the first c outside quoted strings (whose quoted-pairs
 * are skipped); len if there is none. */
static size_t find_unquoted(const char *s, size_t len, char c)
{
	size_t i;
	int quoted = 0;

	for (i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == c)
			return i;
	}
	return len;
}

static int check_name(const char *name, const char *field, rm_error *err)
{
	return rm__check_header_text(name, strlen(name), field, err);
}

static int parse_addr_spec(const char *s, size_t len, const char *field,
                           rm__mailbox *mb, rm_error *err)
{
	/* The "@" that ends the local part, past a quoted local part. */
	size_t at = find_unquoted(s, len, '@');
	int rc;

	if (len == 0)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the address is empty", field);
	if (at == len)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: '%.*s' has no '@' (expected "
		                "local@domain)", field,
		                (int)(len > 64 ? 64 : len), s);
	rc = parse_local(s, at, field, mb, err);
	if (rc == RM_OK)
		rc = parse_domain(s + at + 1, len - at - 1, field, mb, err);
	return rc;
}

/* Checks the whole input: no line breaks or NUL, valid UTF-8. */
static int check_input(const char *s, size_t len, const char *field,
                       rm_error *err)
{
	if (rm__has_crlf_nul(s, len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s contains CR, LF or NUL; refused so that no "
		                "header or SMTP command can be injected",
		                field);
	if (!rm__utf8_valid(s, len))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s is not valid UTF-8", field);
	return RM_OK;
}

static int finish_mailbox(int rc, rm__mailbox *tmp, rm__mailbox *out,
                          const char *field, rm_error *err)
{
	if (rc == RM_ENOMEM)
		rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		         "out of memory parsing %s", field);
	if (rc != RM_OK) {
		rm__mailbox_free(tmp);
		return rc;
	}
	*out = *tmp;
	return RM_OK;
}

/* Trims white space; also strips one pair of angle brackets. */
static void trim_addr(const char **s, size_t *len)
{
	while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
	if (*len >= 2 && (*s)[0] == '<' && (*s)[*len - 1] == '>') {
		(*s)++;
		*len -= 2;
	}
}

int rm__address_parse_one(const char *addr, const char *name,
                          const char *field, rm__mailbox *out,
                          rm_error *err)
{
	rm__mailbox tmp;
	size_t len;
	int rc;

	if (addr == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the address is NULL", field);
	memset(&tmp, 0, sizeof(tmp));
	len = strlen(addr);
	rc = check_input(addr, len, field, err);
	if (rc == RM_OK && name != NULL)
		rc = check_name(name, field, err);
	if (rc != RM_OK)
		return rc;

	trim_addr(&addr, &len);
	rc = parse_addr_spec(addr, len, field, &tmp, err);
	if (rc == RM_OK && name != NULL && name[0] != '\0') {
		tmp.name = rm__strdup(name);
		if (tmp.name == NULL)
			rc = RM_ENOMEM;
	}
	return finish_mailbox(rc, &tmp, out, field, err);
}

/* ---------------------------------------------------------------------- */
/* Lists: "a@b, Name <c@d>, \"Doe, Jo\" <j@e>"                            */
/* ---------------------------------------------------------------------- */

/* Replaces comments (RFC 5322 3.2.2) outside quoted strings by spaces.
 * Returns 0 if quotes, comments or angle brackets do not balance. */
static int blank_comments(char *s)
{
	int quoted = 0, depth = 0;

	for (; *s != '\0'; s++) {
		if ((quoted || depth > 0) && *s == '\\' && s[1] != '\0') {
			if (depth > 0)
				s[0] = s[1] = ' ';
			s++;
		} else if (!quoted && *s == '(') {
			depth++;
			*s = ' ';
		} else if (!quoted && depth > 0 && *s == ')') {
			depth--;
			*s = ' ';
		} else if (depth > 0) {
			*s = ' ';
		} else if (*s == '"') {
			quoted = !quoted;
		}
	}
	return !quoted && depth == 0;
}

/* The end of the element starting at s: the next comma outside quoted
 * strings and angle brackets (comments are already blanked). */
static size_t element_len(const char *s)
{
	size_t i;
	int quoted = 0, angle = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (quoted && s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '<')
			angle = 1;
		else if (!quoted && s[i] == '>')
			angle = 0;
		else if (!quoted && !angle && s[i] == ',')
			return i;
	}
	return i;
}

/* The display name of a phrase: quoted strings unquoted, runs of white
 * space outside them made one space, ends trimmed. */
static char *phrase_text(const char *s, size_t len)
{
	rm__buf b;
	size_t i;
	int quoted = 0, space = 0;

	rm__buf_init(&b, len + 1);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (quoted && c == '\\' && i + 1 < len) {
			c = s[++i];
		} else if (c == '"') {
			quoted = !quoted;
			continue;
		} else if (!quoted && (c == ' ' || c == '\t')) {
			space = b.len > 0;
			continue;
		}
		if (space)
			rm__buf_append_byte(&b, ' ');
		space = 0;
		rm__buf_append_byte(&b, c);
	}
	return rm__buf_steal(&b);
}

/* Finds the ">" closing the angle-addr at lt; only white space may
 * follow it. Returns 0 if there is no such ">". */
static int find_gt(const char *s, size_t len, size_t lt, size_t *gt)
{
	size_t i = lt + 1;

	while (i < len && s[i] != '>')
		i++;
	if (i == len)
		return 0;
	*gt = i;
	for (i++; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int parse_element(const char *s, size_t len, const char *field,
                         rm__mailbox *out, rm_error *err)
{
	size_t lt = find_unquoted(s, len, '<'), gt = 0;
	char *addr, *name = NULL;
	int rc;

	if (lt != len && !find_gt(s, len, lt, &gt))
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: '<' without a matching '>' at the end of "
		                "the mailbox", field);
	if (lt == len) {
		addr = rm__strndup(s, len);
	} else {
		addr = rm__strndup(s + lt + 1, gt - lt - 1);
		name = phrase_text(s, lt);
	}
	if (addr == NULL || (lt != len && name == NULL))
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		              "out of memory parsing %s", field);
	else
		rc = rm__address_parse_one(addr, name, field, out, err);
	free(addr);
	free(name);
	return rc;
}

/* Splits the blanked text into elements; returns their count. */
static size_t split_elements(const char *s, size_t *starts, size_t *lens,
                             size_t max)
{
	size_t n = 0, i = 0;

	for (;;) {
		size_t l = element_len(s + i);

		if (n < max) {
			starts[n] = i;
			lens[n] = l;
		}
		n++;
		if (s[i + l] == '\0')
			return n;
		i += l + 1;
	}
}

static int parse_elements(const char *s, const char *field,
                          const size_t *starts, const size_t *lens,
                          size_t n, rm__mailbox *mbs, rm_error *err)
{
	char name[RM_ERROR_FIELD_MAX];
	size_t i;
	int rc = RM_OK;

	for (i = 0; rc == RM_OK && i < n; i++) {
		const char *e = s + starts[i];
		size_t l = lens[i];

		if (n > 1)
			snprintf(name, sizeof(name), "%s[%zu]", field, i);
		else
			snprintf(name, sizeof(name), "%s", field);
		trim_addr(&e, &l);
		if (l == 0)
			rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, name,
			              "%s: empty address in the list", name);
		else
			rc = parse_element(e, l, name, &mbs[i], err);
		if (rc != RM_OK)
			rm__mailbox_free_array(mbs, i);
	}
	return rc;
}

static int parse_blanked(const char *s, const char *field,
                         rm__mailbox **out, size_t *count, rm_error *err)
{
	size_t n = split_elements(s, NULL, NULL, 0);
	size_t *starts = calloc(n, sizeof(*starts));
	size_t *lens = calloc(n, sizeof(*lens));
	rm__mailbox *mbs = calloc(n, sizeof(*mbs));
	int rc;

	if (starts == NULL || lens == NULL || mbs == NULL) {
		rc = rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		              "out of memory parsing %s", field);
		free(mbs);
	} else {
		split_elements(s, starts, lens, n);
		rc = parse_elements(s, field, starts, lens, n, mbs, err);
	}
	free(starts);
	free(lens);
	if (rc == RM_OK) {
		*out = mbs;
		*count = n;
	}
	return rc;
}

int rm__address_parse_list(const char *text, const char *field,
                           rm__mailbox **out, size_t *count, rm_error *err)
{
	char *copy;
	int rc;

	if (text == NULL)
		return rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		                "%s: the address is NULL", field);
	if (strlen(text) > LIST_MAX)
		return rm__fail(err, RM_ELIMIT, RM_OUTCOME_NONE, field,
		                "%s: the address list is longer than %d octets",
		                field, LIST_MAX);
	rc = check_input(text, strlen(text), field, err);
	if (rc != RM_OK)
		return rc;

	copy = rm__strdup(text);
	if (copy == NULL)
		return rm__fail(err, RM_ENOMEM, RM_OUTCOME_NONE, field,
		                "out of memory parsing %s", field);
	if (!blank_comments(copy))
		rc = rm__fail(err, RM_EINVAL, RM_OUTCOME_NONE, field,
		              "%s: unbalanced quotes or parentheses", field);
	else
		rc = parse_blanked(copy, field, out, count, err);
	free(copy);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */
/* ---------------------------------------------------------------------- */

int rm__mailbox_addr_spec(const rm__mailbox *mb, int smtputf8, rm__buf *out)
{
	size_t len = strlen(mb->local);
	int rc;

	if (rm__has_crlf_nul(mb->local, len))
		return RM_EINVAL;
	if (mb->utf8_local && !smtputf8)
		return RM_EUNSUPPORTED;
	/* A Dot-string, else a Quoted-string (RFC 5321 4.1.2). */
	if (is_dot_atom_utf8(mb->local, len))
		rc = rm__buf_append(out, mb->local, len);
	else
		rc = rm__buf_append_quoted(out, mb->local, len);
	if (rc == RM_OK)
		rc = rm__buf_append_byte(out, '@');
	if (rc == RM_OK)
		rc = rm__buf_append_str(out, smtputf8 ? mb->domain :
		                        mb->domain_ascii);
	return rc;
}
