/*
 * relaymail-sink: a small SMTP server for loopback testing. It stores each
 * message it accepts as DIR/N.eml (dot-unstuffed, as received) and its
 * envelope as DIR/N.json, and never relays anything.
 *
 *   relaymail-sink --dir DIR [--listen 127.0.0.1] [--port N|0]
 *                  [--port-file FILE] [--max-messages N] [--max-size BYTES]
 *
 * Standards: RFC 5321 (SMTP), RFC 1870 (SIZE), RFC 2920 (PIPELINING),
 * RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 2034 and RFC 3463
 * (enhanced status codes).
 *
 * Sessions are served one after the other; every read waits at most
 * --timeout seconds. Every line is read into a bounded buffer, so garbage
 * of any length costs a fixed amount of memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <relaymail.h>

/* RFC 5321 section 4.5.3.1.4 says 512; extension parameters need more. */
#define CMD_LINE_MAX 2048
/* RFC 5321 section 4.5.3.1.6: 1000 octets with the CRLF. */
#define TEXT_LINE_MAX 998
#define RCPT_MAX 1000
#define PATH_MAX_LEN 1024
#define ERRORS_MAX 20
#define READ_CHUNK 8192

typedef struct config {
	const char *dir;
	const char *listen;
	const char *port_file;
	long port;
	long max_messages;
	long max_size;
	long timeout;
	int allow_remote;
	int quiet;
} config;

/* A connection: the socket and a buffer of bytes read but not used. */
typedef struct conn {
	int fd;
	long timeout;
	size_t start;
	size_t end;
	char buf[READ_CHUNK];
} conn;

/* One mail transaction and the session state around it. */
typedef struct session {
	conn c;
	const config *cfg;
	char helo[256];
	int esmtp;
	int has_mail;
	int smtputf8;
	int body_8bit;
	char mail_from[PATH_MAX_LEN];
	char *rcpts[RCPT_MAX];
	size_t rcpt_count;
	int errors;
	int quit;
} session;

/* What DATA saw besides the bytes themselves. */
typedef struct data_info {
	unsigned long long size;
	int too_big;
	int long_line;
	int bare_lf;
	int eight_bit;
	int last_cr;   /* the previous piece ended in CR */
} data_info;

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static volatile sig_atomic_t stopping;
static long stored_count;
static long last_stored;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void say(const config *cfg, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void say(const config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->quiet)
		return;
	va_start(ap, fmt);
	fputs("relaymail-sink: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* Reading and writing lines                                              */
/* ---------------------------------------------------------------------- */

static int fill(conn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, (int)(c->timeout * 1000)) <= 0 || stopping)
		return -1;
	n = read(c->fd, c->buf, sizeof(c->buf));
	if (n <= 0)
		return -1;
	c->start = 0;
	c->end = (size_t)n;
	return 0;
}

/*
 * Copies bytes up to and including the next LF into out (at most cap - 1
 * of them, NUL-terminated). *complete says whether the LF was reached;
 * a longer line comes back in pieces. Returns the length, or -1 when the
 * peer is gone or silent for too long.
 */
static long read_piece(conn *c, char *out, size_t cap, int *complete)
{
	size_t len = 0;

	*complete = 0;
	while (len + 1 < cap) {
		char ch;

		if (c->start == c->end && fill(c) != 0)
			return -1;
		ch = c->buf[c->start++];
		out[len++] = ch;
		if (ch == '\n') {
			*complete = 1;
			break;
		}
	}
	out[len] = '\0';
	return (long)len;
}

/* Reads a command line; an overlong one is drained and reported as 0. */
static long read_command(conn *c, char *out, size_t cap)
{
	int complete;
	long len = read_piece(c, out, cap, &complete);
	char scratch[256];

	if (len < 0 || complete)
		return len;
	while (!complete) {
		if (read_piece(c, scratch, sizeof(scratch), &complete) < 0)
			return -1;
	}
	out[0] = '\0';
	return 0;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int reply(session *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int reply(session *s, const char *fmt, ...)
{
	char line[CMD_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	memcpy(line + n, "\r\n", 3);
	return send_all(s->c.fd, line, (size_t)n + 2);
}

/* ---------------------------------------------------------------------- */
/* Small text helpers                                                     */
/* ---------------------------------------------------------------------- */

static int starts_with_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static void chomp(char *line)
{
	size_t len = strlen(line);

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
}

static int has_8bit(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

static int parse_number(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at s, or 0 (RFC 3629 section 4). */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80)
		return 2;
	if (s[0] >= 0xE0 && s[0] <= 0xEF && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80 && !(s[0] == 0xE0 && s[1] < 0xA0) &&
	    !(s[0] == 0xED && s[1] >= 0xA0))
		return 3;
	if (s[0] >= 0xF0 && s[0] <= 0xF4 && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 &&
	    !(s[0] == 0xF0 && s[1] < 0x90) && !(s[0] == 0xF4 && s[1] >= 0x90))
		return 4;
	return 0;
}

/* Writes s as a JSON string; invalid UTF-8 becomes U+FFFD. */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7F)
			fprintf(f, "\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", f);
		else
			fwrite(p, 1, n, f);
		p += n != 0 ? n : 1;
	}
	fputc('"', f);
}

/* ---------------------------------------------------------------------- */
/* Storing messages                                                       */
/* ---------------------------------------------------------------------- */

static void dir_path(const session *s, char *out, size_t size,
                     const char *prefix, long n, const char *ext)
{
	snprintf(out, size, "%s/%s%ld.%s", s->cfg->dir, prefix, n, ext);
}

/* The next N with no N.eml in the folder yet; refusals use none up. */
static long next_number(const session *s)
{
	char path[PATH_MAX];
	struct stat st;
	long n = last_stored;

	do {
		n++;
		dir_path(s, path, sizeof(path), "", n, "eml");
	} while (stat(path, &st) == 0);
	return n;
}

static void write_envelope(FILE *f, const session *s, const data_info *d)
{
	size_t i;

	fputs("{\"mail_from\": ", f);
	json_string(f, s->mail_from);
	fputs(", \"rcpt_to\": [", f);
	for (i = 0; i < s->rcpt_count; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, s->rcpts[i]);
	}
	fputs("], \"helo\": ", f);
	json_string(f, s->helo);
	fprintf(f, ", \"esmtp\": %s, \"smtputf8\": %s, \"body_8bitmime\": %s",
	        s->esmtp ? "true" : "false", s->smtputf8 ? "true" : "false",
	        s->body_8bit ? "true" : "false");
	fprintf(f, ", \"size\": %llu, \"bare_lf\": %s, \"eight_bit_data\": "
	        "%s}\n", d->size, d->bare_lf ? "true" : "false",
	        d->eight_bit ? "true" : "false");
}

/* Writes N.json through a temporary name, so readers see it whole. */
static int store_envelope(const session *s, long n, const data_info *d)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int bad;

	dir_path(s, tmp, sizeof(tmp), ".tmp-", n, "json");
	dir_path(s, path, sizeof(path), "", n, "json");
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	write_envelope(f, s, d);
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* DATA                                                                   */
/* ---------------------------------------------------------------------- */

/* Notes what one piece of a line says about the message. */
static void inspect_piece(data_info *d, const char *p, size_t len,
                          size_t line_len, int complete)
{
	size_t i;

	for (i = 0; i < len && !d->eight_bit; i++) {
		if ((unsigned char)p[i] >= 0x80)
			d->eight_bit = 1;
	}
	if (line_len > TEXT_LINE_MAX + 2)
		d->long_line = 1;
	if (complete && !(len >= 2 ? p[len - 2] == '\r' : d->last_cr))
		d->bare_lf = 1;
	d->last_cr = len > 0 && p[len - 1] == '\r';
}

/* Appends one piece to the file unless the size limit was passed. */
static void keep_piece(FILE *f, const session *s, data_info *d,
                       const char *p, size_t len)
{
	d->size += len;
	if (s->cfg->max_size > 0 &&
	    d->size > (unsigned long long)s->cfg->max_size)
		d->too_big = 1;
	if (!d->too_big && f != NULL)
		fwrite(p, 1, len, f);
}

/*
 * Reads the message up to the lone "." line, removing the extra leading
 * dot of each stuffed line (RFC 5321 section 4.5.2). Returns -1 when the
 * connection is lost.
 */
static int receive_data(session *s, FILE *f, data_info *d)
{
	char piece[READ_CHUNK];
	size_t line_len = 0;
	int complete = 1;

	for (;;) {
		int at_start = complete;
		long n = read_piece(&s->c, piece, sizeof(piece), &complete);
		const char *p = piece;

		if (n < 0)
			return -1;
		if (at_start && strcmp(piece, ".\r\n") == 0)
			return 0;
		line_len = at_start ? (size_t)n : line_len + (size_t)n;
		inspect_piece(d, piece, (size_t)n, line_len, complete);
		if (at_start && piece[0] == '.') {
			p++;
			n--;
		}
		keep_piece(f, s, d, p, (size_t)n);
	}
}

static void free_rcpts(session *s)
{
	size_t i;

	for (i = 0; i < s->rcpt_count; i++)
		free(s->rcpts[i]);
	s->rcpt_count = 0;
}

static void reset_transaction(session *s)
{
	free_rcpts(s);
	s->has_mail = 0;
	s->smtputf8 = 0;
	s->body_8bit = 0;
	s->mail_from[0] = '\0';
}

/* The final reply after the lone ".", once the message is judged. */
static int finish_data(session *s, const data_info *d, int stored, long n)
{
	if (d->too_big)
		return reply(s, "552 5.3.4 Message size exceeds the limit of "
		             "%ld bytes", s->cfg->max_size);
	if (d->long_line)
		return reply(s, "554 5.6.0 Message has a line over %d octets "
		             "(RFC 5321 section 4.5.3.1.6)", TEXT_LINE_MAX);
	if (!stored)
		return reply(s, "451 4.3.0 Could not store the message");
	stored_count++;
	last_stored = n;
	say(s->cfg, "stored %ld.eml (%llu bytes) from <%s>, %zu recipient(s)",
	    n, d->size, s->mail_from, s->rcpt_count);
	return reply(s, "250 2.0.0 Ok: queued as %ld", n);
}

/* Receives into .tmp-N.eml and publishes N.eml and N.json if all is well. */
static int store_data(session *s, data_info *d, int *stored, long *n)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int rc, bad;

	*n = next_number(s);
	dir_path(s, tmp, sizeof(tmp), ".tmp-", *n, "eml");
	dir_path(s, path, sizeof(path), "", *n, "eml");
	f = fopen(tmp, "w");
	rc = receive_data(s, f, d);
	if (f == NULL)
		return rc;
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rc != 0 || d->too_big || d->long_line) {
		unlink(tmp);
		return rc;
	}
	if (store_envelope(s, *n, d) == 0 && rename(tmp, path) == 0)
		*stored = 1;
	else
		unlink(tmp);
	return 0;
}

static int cmd_data(session *s, const char *arg)
{
	data_info d;
	int stored = 0;
	long n = 0;

	(void)arg;
	if (!s->has_mail)
		return reply(s, "503 5.5.1 Error: need MAIL command");
	if (s->rcpt_count == 0)
		return reply(s, "554 5.5.1 Error: no valid recipients");
	if (reply(s, "354 End data with <CR><LF>.<CR><LF>") != 0)
		return -1;
	memset(&d, 0, sizeof(d));
	if (store_data(s, &d, &stored, &n) != 0)
		return -1;
	if (finish_data(s, &d, stored, n) != 0)
		return -1;
	reset_transaction(s);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* MAIL and RCPT                                                          */
/* ---------------------------------------------------------------------- */

/*
 * Splits "<path> params" into the path (without brackets) and the rest.
 * A quoted local part may hold ">" (RFC 5321 section 4.1.2).
 */
static int split_path(const char *arg, char *path, size_t cap,
                      const char **params)
{
	const char *p = arg, *end;
	int quoted = 0;
	size_t len;

	while (*p == ' ')
		p++;
	if (*p++ != '<')
		return -1;
	for (end = p; *end != '\0' && (quoted || *end != '>'); end++) {
		if (*end == '\\' && quoted && end[1] != '\0')
			end++;
		else if (*end == '"')
			quoted = !quoted;
	}
	if (*end != '>')
		return -1;
	len = (size_t)(end - p);
	if (len >= cap)
		return -1;
	memcpy(path, p, len);
	path[len] = '\0';
	*params = end + 1;
	return 0;
}

/* Applies one MAIL parameter; returns a reply to send on error, or NULL. */
static const char *mail_param(session *s, const char *param,
                              long long *size)
{
	if (strcasecmp(param, "SMTPUTF8") == 0)
		s->smtputf8 = 1;
	else if (strcasecmp(param, "BODY=8BITMIME") == 0)
		s->body_8bit = 1;
	else if (strcasecmp(param, "BODY=7BIT") == 0)
		s->body_8bit = 0;
	else if (starts_with_ci(param, "SIZE=")) {
		char *end;

		errno = 0;
		*size = strtoll(param + 5, &end, 10);
		if (errno != 0 || *end != '\0' || *size < 0)
			return "501 5.5.4 Bad SIZE parameter";
	} else
		return "555 5.5.4 Unsupported MAIL parameter";
	return NULL;
}

/* Applies the space-separated parameters after MAIL FROM:<path>. */
static const char *mail_params(session *s, const char *params)
{
	char tok[CMD_LINE_MAX];
	long long size = 0;
	const char *why = NULL;

	while (*params != '\0' && why == NULL) {
		size_t len = strcspn(params, " ");

		if (len > 0) {
			memcpy(tok, params, len);
			tok[len] = '\0';
			why = mail_param(s, tok, &size);
		}
		params += len + (params[len] == ' ');
	}
	if (why == NULL && s->cfg->max_size > 0 && size > s->cfg->max_size)
		why = "552 5.3.4 Message size exceeds fixed maximum size";
	return why;
}

static int cmd_mail(session *s, const char *arg)
{
	const char *params, *why;

	if (s->helo[0] == '\0')
		return reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->has_mail)
		return reply(s, "503 5.5.1 Error: nested MAIL command");
	if (!starts_with_ci(arg, "FROM:") ||
	    split_path(arg + 5, s->mail_from, sizeof(s->mail_from),
	               &params) != 0)
		return reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
	why = s->esmtp ? mail_params(s, params)
	      : (*params != '\0' ? "555 5.5.4 No parameters after HELO"
	                         : NULL);
	if (why == NULL && has_8bit(s->mail_from) && !s->smtputf8)
		why = "553 5.6.7 Non-ASCII address needs SMTPUTF8";
	if (why != NULL) {
		reset_transaction(s);
		return reply(s, "%s", why);
	}
	s->has_mail = 1;
	return reply(s, "250 2.1.0 Ok");
}

static int cmd_rcpt(session *s, const char *arg)
{
	char path[PATH_MAX_LEN];
	const char *params;

	if (!s->has_mail)
		return reply(s, "503 5.5.1 Error: need MAIL command");
	if (!starts_with_ci(arg, "TO:") ||
	    split_path(arg + 3, path, sizeof(path), &params) != 0 ||
	    path[0] == '\0')
		return reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
	if (*params != '\0')
		return reply(s, "555 5.5.4 Unsupported RCPT parameter");
	if (has_8bit(path) && !s->smtputf8)
		return reply(s, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
	if (s->rcpt_count == RCPT_MAX)
		return reply(s, "452 4.5.3 Too many recipients");
	s->rcpts[s->rcpt_count] = strdup(path);
	if (s->rcpts[s->rcpt_count] == NULL)
		return reply(s, "452 4.3.1 Out of memory");
	s->rcpt_count++;
	return reply(s, "250 2.1.5 Ok");
}

/* ---------------------------------------------------------------------- */
/* The other commands                                                     */
/* ---------------------------------------------------------------------- */

static int greet(session *s, const char *arg, int esmtp)
{
	if (*arg == '\0' || strlen(arg) >= sizeof(s->helo))
		return reply(s, "501 5.5.4 Syntax: %s hostname",
		             esmtp ? "EHLO" : "HELO");
	reset_transaction(s);
	snprintf(s->helo, sizeof(s->helo), "%s", arg);
	s->esmtp = esmtp;
	if (!esmtp)
		return reply(s, "250 relaymail-sink");
	return reply(s, "250-relaymail-sink greets %s", arg) ||
	       reply(s, "250-PIPELINING") ||
	       reply(s, "250-SIZE %ld", s->cfg->max_size) ||
	       reply(s, "250-8BITMIME") ||
	       reply(s, "250-SMTPUTF8") ||
	       reply(s, "250 ENHANCEDSTATUSCODES");
}

static int cmd_ehlo(session *s, const char *arg)
{
	return greet(s, arg, 1);
}

static int cmd_helo(session *s, const char *arg)
{
	return greet(s, arg, 0);
}

static int cmd_rset(session *s, const char *arg)
{
	(void)arg;
	reset_transaction(s);
	return reply(s, "250 2.0.0 Ok");
}

static int cmd_noop(session *s, const char *arg)
{
	(void)arg;
	return reply(s, "250 2.0.0 Ok");
}

static int cmd_quit(session *s, const char *arg)
{
	(void)arg;
	s->quit = 1;
	return reply(s, "221 2.0.0 Bye");
}

static int cmd_vrfy(session *s, const char *arg)
{
	(void)arg;
	return reply(s, "252 2.5.2 Cannot verify; send some mail");
}

static int cmd_help(session *s, const char *arg)
{
	(void)arg;
	return reply(s, "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP "
	             "VRFY HELP QUIT");
}

static const struct {
	const char *name;
	int (*run)(session *s, const char *arg);
} commands[] = {
	{ "EHLO", cmd_ehlo }, { "HELO", cmd_helo }, { "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt }, { "DATA", cmd_data }, { "RSET", cmd_rset },
	{ "NOOP", cmd_noop }, { "QUIT", cmd_quit }, { "VRFY", cmd_vrfy },
	{ "HELP", cmd_help },
};

/* Runs one command line; unknown verbs count towards the error limit. */
static int dispatch(session *s, char *line)
{
	size_t i, verb_len = strcspn(line, " ");
	const char *arg = line + verb_len;

	while (*arg == ' ')
		arg++;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (verb_len == strlen(commands[i].name) &&
		    strncasecmp(line, commands[i].name, verb_len) == 0)
			return commands[i].run(s, arg);
	}
	s->errors++;
	return reply(s, "500 5.5.2 Error: command not recognized");
}

static void serve(session *s)
{
	char line[CMD_LINE_MAX];

	if (reply(s, "220 %s ESMTP relaymail-sink ready",
	          s->cfg->listen) != 0)
		return;
	while (!s->quit && !stopping) {
		long n = read_command(&s->c, line, sizeof(line));

		if (n < 0)
			return;
		chomp(line);
		if (n == 0 && reply(s, "500 5.5.2 Error: line too long") != 0)
			return;
		if (n > 0 && dispatch(s, line) != 0)
			return;
		if (s->errors >= ERRORS_MAX) {
			reply(s, "421 4.7.0 Too many errors, closing");
			return;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Listening                                                              */
/* ---------------------------------------------------------------------- */

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static int bind_to(const struct addrinfo *ai, const config *cfg)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 16) != 0) {
		fprintf(stderr, "relaymail-sink: cannot listen on %s port "
		        "%ld: %s\n", cfg->listen, cfg->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_listener(const config *cfg)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	const char *host = cfg->listen;
	int fd;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%ld", cfg->port);
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr, "relaymail-sink: --listen needs a numeric IP "
		        "address, not '%s'\n", cfg->listen);
		return -1;
	}
	if (!cfg->allow_remote && !is_loopback(ai->ai_addr)) {
		fprintf(stderr, "relaymail-sink: %s is not a loopback "
		        "address; add --allow-remote to listen there\n",
		        cfg->listen);
		freeaddrinfo(ai);
		return -1;
	}
	fd = bind_to(ai, cfg);
	freeaddrinfo(ai);
	return fd;
}

static long bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Writes the port through a temporary name: readers never see half. */
static int write_port_file(const char *path, long port)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void run_session(int client, const config *cfg)
{
	session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(client);
		return;
	}
	s->c.fd = client;
	s->c.timeout = cfg->timeout;
	s->cfg = cfg;
	serve(s);
	reset_transaction(s);
	close(client);
	free(s);
}

/* Waits for a client; wakes each second to notice a stop request. */
static int wait_client(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	while (!stopping) {
		if (poll(&p, 1, 1000) > 0)
			return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	}
	errno = EINTR;
	return -1;
}

static int accept_loop(int fd, const config *cfg)
{
	while (!stopping) {
		int client = wait_client(fd);

		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("relaymail-sink: accept");
			return EX_OSERR;
		}
		run_session(client, cfg);
		if (cfg->max_messages > 0 && stored_count >= cfg->max_messages)
			break;
	}
	return EX_OK;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */
/* ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: relaymail-sink --dir DIR [options]\n"
	      "  --dir DIR            store N.eml and N.json here\n"
	      "  --listen ADDR        address to listen on (127.0.0.1)\n"
	      "  --port N             port, 0 for any free one (2525)\n"
	      "  --port-file FILE     write the bound port to FILE\n"
	      "  --max-messages N     exit after N stored messages\n"
	      "  --max-size BYTES     SIZE limit (33554432, 0: none)\n"
	      "  --timeout SECONDS    idle limit per read (300)\n"
	      "  --allow-remote       allow a non-loopback --listen\n"
	      "  --quiet              log nothing to stderr\n"
	      "  --help, --version\n", f);
}

static const struct option long_opts[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "port", required_argument, NULL, 'p' },
	{ "port-file", required_argument, NULL, 'P' },
	{ "max-messages", required_argument, NULL, 'm' },
	{ "max-size", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "allow-remote", no_argument, NULL, 'R' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int number_opt(const char *name, const char *text, long max,
                      long *out)
{
	if (parse_number(text, 0, max, out) == 0)
		return 0;
	fprintf(stderr, "relaymail-sink: --%s needs a number from 0 to %ld, "
	        "not '%s'\n", name, max, text);
	return -1;
}

/* Applies one option; returns -1 on a bad value, 1 to exit at once. */
static int apply_opt(config *cfg, int opt, const char *arg)
{
	switch (opt) {
	case 'd': cfg->dir = arg; return 0;
	case 'l': cfg->listen = arg; return 0;
	case 'P': cfg->port_file = arg; return 0;
	case 'R': cfg->allow_remote = 1; return 0;
	case 'q': cfg->quiet = 1; return 0;
	case 'p': return number_opt("port", arg, 65535, &cfg->port);
	case 'm': return number_opt("max-messages", arg, LONG_MAX,
	                            &cfg->max_messages);
	case 's': return number_opt("max-size", arg, LONG_MAX,
	                            &cfg->max_size);
	case 't': return number_opt("timeout", arg, 86400, &cfg->timeout);
	case 'h': usage(stdout); return 1;
	case 'V': printf("relaymail-sink %s\n", rm_version_string());
	          return 1;
	default: usage(stderr); return -1;
	}
}

/* Returns -1 on a usage error, 1 when done (help), 0 to go on. */
static int parse_args(config *cfg, int argc, char **argv)
{
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		rc = apply_opt(cfg, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc || cfg->dir == NULL) {
		fputs(optind < argc ? "relaymail-sink: unexpected argument\n"
		      : "relaymail-sink: --dir is required\n", stderr);
		return -1;
	}
	if (cfg->timeout == 0)
		cfg->timeout = 1;
	return 0;
}

static int prepare_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "relaymail-sink: cannot create %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "relaymail-sink: %s is not a folder\n", dir);
		return -1;
	}
	return 0;
}

/* SIGTERM and SIGINT interrupt accept() and poll(): no SA_RESTART. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int start(const config *cfg)
{
	int fd, rc;
	long port;

	if (prepare_dir(cfg->dir) != 0)
		return EX_CANTCREAT;
	fd = open_listener(cfg);
	if (fd < 0)
		return EX_UNAVAILABLE;
	port = bound_port(fd);
	if (cfg->port_file != NULL &&
	    write_port_file(cfg->port_file, port) != 0) {
		fprintf(stderr, "relaymail-sink: cannot write %s: %s\n",
		        cfg->port_file, strerror(errno));
		close(fd);
		return EX_CANTCREAT;
	}
	say(cfg, "listening on %s port %ld, storing into %s", cfg->listen,
	    port, cfg->dir);
	rc = accept_loop(fd, cfg);
	close(fd);
	say(cfg, "stopped after %ld message(s)", stored_count);
	return rc;
}

int main(int argc, char **argv)
{
	config cfg;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1";
	cfg.port = 2525;
	cfg.max_size = 32L * 1024 * 1024;
	cfg.timeout = 300;
	rc = parse_args(&cfg, argc, argv);
	if (rc != 0)
		return rc < 0 ? EX_USAGE : EX_OK;
	catch_signals();
	return start(&cfg);
}
