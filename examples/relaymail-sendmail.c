/*
 * relaymail-sendmail: a drop-in for /usr/sbin/sendmail that hands each
 * message to a relay through relaymail, for the programs that pipe mail
 * into sendmail (cron, PHP's mail(), git send-email, monitoring tools).
 *
 *   relaymail-sendmail [-t] [-i] [-f sender] [-F name] [-oem] [rcpt...]
 *   relaymail-sendmail -q        retries the spooled messages
 *   relaymail-sendmail -bp       lists them
 *
 * The relay URL comes from RELAYMAIL_URL, else from the last "url = ..."
 * line of ~/.relaymail, else of /etc/relaymail.conf (or only from the
 * file given with -C). A message that cannot be handed over now (the
 * relay is down or answered "try later") is written to the spool folder,
 * RELAYMAIL_SPOOL or ~/.relaymail-spool, and the program exits 0 as
 * sendmail does when it queues; -q sends it later. The manual page,
 * docs/man/relaymail-sendmail.8.md, describes every option, the
 * configuration and the spool.
 *
 * Exit codes follow sysexits.h as sendmail's do: 0 sent or spooled, 64
 * usage, 65 bad message, 67 recipients refused, 69 refused for
 * good, 71 system error, 73 cannot spool, 75 failed for now and not
 * spooled, 78 configuration error.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <relaymail.h>

#define PROG "relaymail-sendmail"

/* Largest message read from stdin or a spool file. */
#define MESSAGE_MAX (256L * 1024 * 1024)

/* Longest configuration line and spool envelope line. */
#define LINE_MAX_LEN 4096

#define SPOOL_MAGIC "relaymail-spool 1"

typedef struct options {
	int extract;          /* -t: recipients from To, Cc, Bcc */
	int dot_ends;         /* a line "." ends the input (no -i) */
	int mail_errors;      /* -oem, -oew: mail errors back */
	int quiet;            /* -oeq: no messages on stderr */
	int queue_run;        /* -q */
	int list_queue;       /* -bp */
	int verbose;          /* -v */
	const char *sender;   /* -f, -r */
	const char *fullname; /* -F */
	const char *config;   /* -C */
	char **rcpts;         /* recipient arguments */
	size_t rcpt_count;
} options;

typedef struct config {
	char *url;
	char *password;
	char *ca_file;
	char *spool;
	char *domain;
} config;

/* A message on its way: the bytes and the envelope to send them with. */
typedef struct job {
	char *data;
	size_t len;
	const char *sender;   /* envelope sender, or NULL for the header's */
	int extract;
	char **rcpts;
	size_t rcpt_count;
} job;

static int quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s with control bytes and DEL shown as \xNN: lines quote
 * arguments and message fields, which must not reach a terminal raw. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc(c, f);
	}
}

static void say(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fputs(PROG ": ", stderr);
	put_escaped(stderr, line);
	fputc('\n', stderr);
}

static void say_error(const char *what, const rm_error *err)
{
	say("%s: %s%s%s%s%s%s", what, rm_strerror(err->code),
	    err->field[0] ? " [" : "", err->field, err->field[0] ? "]" : "",
	    err->message[0] ? ": " : "", err->message);
}

/* -f '' or -f '<>': the null reverse path of a bounce or an auto-reply,
 * which nothing may answer (RFC 5321 section 4.5.5, RFC 3834 section 2). */
static int is_null_sender(const char *sender)
{
	return sender != NULL &&
	       (sender[0] == '\0' || strcmp(sender, "<>") == 0);
}

/* ---------------------------------------------------------------------- */
/* Command line                                                           */
/* ---------------------------------------------------------------------- */

static const char usage_text[] =
	"usage: " PROG " [-t] [-i|-oi] [-f sender] [-F name] [-oem|-oeq]\n"
	"       [-C config] [-v] [recipient...]\n"
	"       " PROG " -q [-v]      send the spooled messages\n"
	"       " PROG " -bp          list the spooled messages\n";

static int usage(const char *why, const char *arg)
{
	fprintf(stderr, PROG ": %s%s", why, arg ? ": " : "");
	put_escaped(stderr, arg ? arg : "");
	fprintf(stderr, "\n%s", usage_text);
	return EX_USAGE;
}

/* The value of an option such as -f: "-fvalue" or "-f value". */
static int value_of(int argc, char **argv, int *i, const char **out)
{
	if (argv[*i][2] != '\0') {
		*out = argv[*i] + 2;
		return 0;
	}
	if (*i + 1 >= argc)
		return usage("the option needs a value", argv[*i]);
	*out = argv[++*i];
	return 0;
}

/* -o options: -oi, -oeX; the other sendmail -o options are ignored. */
static int apply_o(options *o, const char *arg)
{
	if (strcmp(arg, "-oi") == 0) {
		o->dot_ends = 0;
	} else if (strncmp(arg, "-oe", 3) == 0) {
		o->mail_errors = arg[3] == 'm' || arg[3] == 'w';
		o->quiet = arg[3] == 'q';
		if (strchr("mwqpe", arg[3]) == NULL || arg[3] == '\0')
			return usage("unknown error mode", arg);
	}
	return 0;
}

/* -b modes: -bm (the default) and -bp (list the spool). */
static int apply_b(options *o, const char *arg)
{
	if (strcmp(arg, "-bm") == 0)
		return 0;
	if (strcmp(arg, "-bp") == 0) {
		o->list_queue = 1;
		return 0;
	}
	return usage("unsupported mode", arg);
}

/* Flags that may come together, as getopt allows: "-ti" is "-t -i". */
static int apply_flags(options *o, const char *arg)
{
	const char *c;

	for (c = arg + 1; *c != '\0'; c++) {
		if (*c == 't')
			o->extract = 1;
		else if (*c == 'i')
			o->dot_ends = 0;
		else if (*c == 'v')
			o->verbose = 1;
		else
			return usage("unknown option", arg);
	}
	return 0;
}

/* Options that take a value relaymail has no use for (-B, -N, -R, -V,
 * -L, -X, -h) are accepted so that callers written for sendmail work. */
static int apply_opt(options *o, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *ignored;

	switch (arg[1]) {
	case 't': case 'i': case 'v': return apply_flags(o, arg);
	case 'q': o->queue_run = 1; return 0;
	case 'f': case 'r': return value_of(argc, argv, i, &o->sender);
	case 'F': return value_of(argc, argv, i, &o->fullname);
	case 'C': return value_of(argc, argv, i, &o->config);
	case 'o': return apply_o(o, arg);
	case 'b': return apply_b(o, arg);
	case 'B': case 'N': case 'R': case 'V': case 'L': case 'X':
	case 'h':
		return value_of(argc, argv, i, &ignored);
	case 'O': case 'U': case 'm': case 'n': case 'G': case 'd':
		return 0;
	default:
		return usage("unknown option", arg);
	}
}

static int parse_args(options *o, int argc, char **argv)
{
	int i, rc = 0, only_rcpts = 0;

	o->dot_ends = 1;
	o->rcpts = calloc((size_t)argc + 1, sizeof(*o->rcpts));
	if (o->rcpts == NULL)
		return EX_OSERR;
	for (i = 1; rc == 0 && i < argc; i++) {
		if (!only_rcpts && strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (!only_rcpts && strcmp(argv[i], "--") == 0)
			only_rcpts = 1;
		else if (only_rcpts || argv[i][0] != '-' || argv[i][1] == '\0')
			o->rcpts[o->rcpt_count++] = argv[i];
		else
			rc = apply_opt(o, argc, argv, &i);
	}
	quiet = o->quiet;

	/* They go into a header line and the envelope as they are. */
	if (rc == 0 && ((o->sender && strpbrk(o->sender, "\r\n")) ||
	                (o->fullname && strpbrk(o->fullname, "\r\n"))))
		return usage("-f and -F must not hold line breaks", NULL);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Configuration                                                          */
/* ---------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && strchr(" \t\r\n", end[-1]) != NULL)
		*--end = '\0';
	return s;
}

static char **config_slot(config *c, const char *key)
{
	if (strcmp(key, "url") == 0)
		return &c->url;
	if (strcmp(key, "password") == 0)
		return &c->password;
	if (strcmp(key, "ca_file") == 0)
		return &c->ca_file;
	if (strcmp(key, "spool") == 0)
		return &c->spool;
	if (strcmp(key, "domain") == 0)
		return &c->domain;
	return NULL;
}

/* One "key = value" line; '#' starts a comment line. */
static int config_line(config *c, char *line, const char *path, int n)
{
	char *eq, *key, **slot;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		say("%s:%d: expected \"key = value\"", path, n);
		return EX_CONFIG;
	}
	*eq = '\0';
	key = trim(line);
	slot = config_slot(c, key);
	if (slot == NULL) {
		say("%s:%d: unknown key \"%s\"", path, n, key);
		return EX_CONFIG;
	}
	free(*slot);
	*slot = strdup(trim(eq + 1));
	return *slot == NULL ? EX_OSERR : 0;
}

/* Reads a configuration file; a missing file is no error unless
 * required (-C). */
static int read_config(config *c, const char *path, int required)
{
	char line[LINE_MAX_LEN];
	FILE *f;
	int n = 0, rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		say("cannot read %s: %s", path, strerror(errno));
		return EX_CONFIG;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = config_line(c, line, path, ++n);
	fclose(f);
	return rc;
}

/* Replaces *slot by the environment variable name when it is set. */
static int from_env(char **slot, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		return 0;
	free(*slot);
	*slot = strdup(v);
	return *slot == NULL ? EX_OSERR : 0;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] != '\0')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : "/";
}

static char *home_path(const char *name)
{
	const char *home = home_dir();
	size_t n = strlen(home) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", home, name);
	return p;
}

/* /etc/relaymail.conf, then ~/.relaymail (later lines win), then the
 * environment; or only the file named with -C, then the environment. */
static int load_config(config *c, const options *o)
{
	char *user = home_path(".relaymail");
	int rc;

	if (user == NULL)
		return EX_OSERR;
	if (o->config != NULL) {
		rc = read_config(c, o->config, 1);
	} else {
		rc = read_config(c, "/etc/relaymail.conf", 0);
		if (rc == 0)
			rc = read_config(c, user, 0);
	}
	free(user);
	if (rc == 0)
		rc = from_env(&c->url, "RELAYMAIL_URL");
	if (rc == 0)
		rc = from_env(&c->password, "RELAYMAIL_PASSWORD");
	if (rc == 0)
		rc = from_env(&c->spool, "RELAYMAIL_SPOOL");
	if (rc == 0 && c->spool == NULL)
		c->spool = home_path(".relaymail-spool");
	return rc == 0 && c->spool == NULL ? EX_OSERR : rc;
}

static void free_config(config *c)
{
	free(c->url);
	free(c->password);
	free(c->ca_file);
	free(c->spool);
	free(c->domain);
}

/* ---------------------------------------------------------------------- */
/* Reading the message                                                    */
/* ---------------------------------------------------------------------- */

/* 1 if the line at p (len bytes, line end included) is a lone ".". */
static int is_dot_line(const char *p, size_t len)
{
	return (len == 2 && memcmp(p, ".\n", 2) == 0) ||
	       (len == 3 && memcmp(p, ".\r\n", 3) == 0);
}

/* The length of the input up to a lone "." line, if there is one. */
static size_t cut_at_dot(const char *data, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;

		if (is_dot_line(data + pos, n) ||
		    (n == 1 && data[pos] == '.'))
			return pos;
		pos += n;
	}
	return len;
}

/* Reads all of f into *out (NUL-terminated). */
static int slurp(FILE *f, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1), *grown;

	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		if (cap >= (size_t)MESSAGE_MAX) {
			free(buf);
			say("the message is larger than %ld octets",
			    MESSAGE_MAX);
			return EX_DATAERR;
		}
		grown = realloc(buf, cap * 2 + 1);
		if (grown == NULL)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	if (buf == NULL || ferror(f)) {
		free(buf);
		say("cannot read the message: %s", strerror(errno));
		return buf == NULL ? EX_OSERR : EX_IOERR;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/*
 * An mbox "From " line (the postmark) is not a header field: it goes
 * before anything is added in front of the message, which would
 * otherwise turn it, and every field after it, into body text.
 */
static void drop_postmark(job *j)
{
	const char *nl;
	size_t skip;

	if (j->len < 5 || memcmp(j->data, "From ", 5) != 0)
		return;
	nl = memchr(j->data, '\n', j->len);
	skip = nl != NULL ? (size_t)(nl - j->data) + 1 : j->len;
	memmove(j->data, j->data + skip, j->len - skip);
	j->len -= skip;
}

/* ---------------------------------------------------------------------- */
/* Fields the message lacks                                               */
/* ---------------------------------------------------------------------- */

/* The length of the field name that starts the line at p, or 0. */
static size_t field_name(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q > ' ' && *q < 127 && *q != ':')
		q++;
	return q < end && *q == ':' ? (size_t)(q - p) : 0;
}

/* Where the value of the first header field name starts, or NULL. The
 * header ends at the first line that is not a field or continuation. */
static const char *find_field(const char *data, size_t len,
                              const char *name)
{
	const char *p = data, *end = data + len, *nl;
	size_t n, want = strlen(name);

	while (p < end) {
		n = field_name(p, end);
		if (n == 0 && *p != ' ' && *p != '\t')
			return NULL;
		if (n == want && strncasecmp(p, name, n) == 0)
			return p + n + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
	}
	return NULL;
}

static const char *domain_of(const config *c)
{
	static char host[256];

	if (c->domain != NULL && c->domain[0] != '\0')
		return c->domain;
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	return host;
}

/* Appends n bytes as one RFC 2047 B-encoded word. */
static void put_encoded_word(FILE *f, const unsigned char *s, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	fputs("=?UTF-8?B?", f);
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 |
		             (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
		             (i + 2 < n ? s[i + 2] : 0);

		fputc(b64[v >> 18 & 63], f);
		fputc(b64[v >> 12 & 63], f);
		fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? b64[v & 63] : '=', f);
	}
	fputs("?=", f);
}

/*
 * Appends name as a phrase: a quoted-string when it is printable ASCII,
 * else B-encoded words of at most 45 octets (75 characters encoded, RFC
 * 2047 section 2), cut between UTF-8 characters, on folded lines.
 */
static void put_phrase(FILE *f, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i, n = strlen(name);
	int ascii = 1;

	for (i = 0; i < n; i++)
		ascii = ascii && s[i] >= 32 && s[i] < 127;
	if (ascii) {
		fputc('"', f);
		for (i = 0; i < n; i++)
			fprintf(f, "%s%c", s[i] == '"' || s[i] == '\\' ?
			        "\\" : "", s[i]);
		fputc('"', f);
		return;
	}
	for (i = 0; i < n;) {
		size_t chunk = n - i < 45 ? n - i : 45;

		while (chunk > 1 && i + chunk < n &&
		       (s[i + chunk] & 0xC0) == 0x80)
			chunk--;
		if (i > 0)
			fputs("\r\n ", f);
		put_encoded_word(f, s + i, chunk);
		i += chunk;
	}
}

/* The From field sendmail would add: -F or the account's full name,
 * and -f or user@domain (the null sender <> is no address for From). */
static void put_from(FILE *f, const options *o, const config *c)
{
	struct passwd *pw = getpwuid(getuid());
	const char *name = o->fullname;
	char gecos[256] = "";

	if (name == NULL && pw != NULL && pw->pw_gecos != NULL) {
		snprintf(gecos, sizeof(gecos), "%s", pw->pw_gecos);
		gecos[strcspn(gecos, ",")] = '\0';
		name = gecos;
	}
	fputs("From: ", f);
	if (name != NULL && name[0] != '\0' &&
	    strpbrk(name, "\r\n") == NULL) {
		put_phrase(f, name);
		fputc(' ', f);
	}
	if (o->sender != NULL && !is_null_sender(o->sender))
		fprintf(f, "<%s>\r\n", o->sender);
	else
		fprintf(f, "<%s@%s>\r\n", pw ? pw->pw_name : "nobody",
		        domain_of(c));
}

/* RFC 5322 3.3 date-time in English, whatever the locale. */
static void put_date(FILE *f)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	                                    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	                                      "May", "Jun", "Jul", "Aug",
	                                      "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	long off;

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	fprintf(f, "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld\r\n",
	        days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	        tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	        off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static void put_message_id(FILE *f, const config *c)
{
	unsigned char rnd[8] = { 0 };
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	fprintf(f, "Message-ID: <%lld.%ld.", (long long)time(NULL),
	        (long)getpid());
	for (i = 0; i < sizeof(rnd); i++)
		fprintf(f, "%02x", rnd[i]);
	fprintf(f, "@%s>\r\n", domain_of(c));
}

/* Puts the From, Date and Message-ID the message lacks in front of it
 * (RFC 5322 3.6 asks for all three), once, so that a spooled message
 * keeps its Message-ID across retries. */
static int complete_message(job *j, const options *o, const config *c)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	if (f == NULL)
		return EX_OSERR;
	if (find_field(j->data, j->len, "From") == NULL)
		put_from(f, o, c);
	if (find_field(j->data, j->len, "Date") == NULL)
		put_date(f);
	if (find_field(j->data, j->len, "Message-ID") == NULL)
		put_message_id(f, c);
	fwrite(j->data, 1, j->len, f);
	if (fclose(f) != 0) {
		free(out);
		return EX_OSERR;
	}
	free(j->data);
	j->data = out;
	j->len = n;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Sending                                                                */
/* ---------------------------------------------------------------------- */

static void on_log(rm_log_level level, const char *line, void *user)
{
	(void)user;
	fprintf(stderr, PROG ": [%s] %s\n", rm_log_level_name(level), line);
}

static int open_transport(const config *c, int verbose, rm_transport **t)
{
	rm_transport_opts to = RM_TRANSPORT_OPTS_INIT;
	rm_error err;

	if (c->url == NULL || c->url[0] == '\0') {
		say("no relay configured: set RELAYMAIL_URL or \"url = ...\" "
		    "in ~/.relaymail or /etc/relaymail.conf");
		return EX_CONFIG;
	}
	to.log = on_log;
	to.log_level = verbose ? RM_LOG_DEBUG : RM_LOG_WARN;
	to.ca_file = c->ca_file;
	to.password = c->password;
	if (rm_transport_open(t, c->url, &to, &err) == RM_OK)
		return 0;
	say_error("cannot use the relay URL", &err);
	return EX_CONFIG;
}

/* The library's message starts with the field's name, as err->field. */
static void rename_field(rm_error *err, const char *from, const char *to)
{
	size_t n = strlen(from), to_len = strlen(to);
	size_t len = strlen(err->message);

	snprintf(err->field, sizeof(err->field), "%s", to);
	if (strncmp(err->message, from, n) != 0 || err->message[n] != ':' ||
	    len - n + to_len >= sizeof(err->message))
		return;
	memmove(err->message + to_len, err->message + n, len - n + 1);
	memcpy(err->message, to, to_len);
}

/*
 * The recipients named as arguments go into the envelope only, as Bcc
 * does; a refusal names the argument, not Bcc.
 */
static int add_recipients(const job *j, rm_message *msg, rm_error *err)
{
	size_t i;

	for (i = 0; i < j->rcpt_count; i++) {
		int rc = rm_message_add_bcc(msg, j->rcpts[i], NULL, err);

		if (rc != RM_OK) {
			rename_field(err, "bcc", "recipient");
			return rc;
		}
	}
	return RM_OK;
}

/* The message as the library sees it, with the job's envelope. */
static int make_message(const job *j, rm_message **out)
{
	rm_message *msg = NULL;
	rm_error err;
	int rc = rm_message_new_raw(&msg, j->data, j->len, &err);

	if (rc == RM_OK && !j->extract)
		rc = rm_message_clear_recipients(msg, &err);
	if (rc == RM_OK)
		rc = add_recipients(j, msg, &err);
	if (rc == RM_OK && j->sender != NULL)
		rc = rm_message_set_envelope_from(msg, j->sender, &err);
	if (rc != RM_OK) {
		say_error("cannot use the message", &err);
		rm_message_free(msg);
		return rc == RM_ENOMEM ? EX_OSERR : EX_DATAERR;
	}
	*out = msg;
	return 0;
}

/* What to do after a send. */
typedef enum verdict {
	SENT,        /* every recipient was taken */
	RETRY,       /* some or all must be tried again later */
	REFUSED      /* refused for good */
} verdict;

typedef struct attempt {
	verdict v;
	int status;          /* exit status for REFUSED */
	char **later;        /* recipients to retry (malloc'd strings) */
	size_t later_count;
	char report[1024];   /* why, for the error mail */
} attempt;

static int is_transient(rm_outcome oc)
{
	return oc == RM_OUTCOME_TRANSIENT || oc == RM_OUTCOME_AMBIGUOUS;
}

/* Keeps the recipients that were refused for now, to retry them. */
static void collect_later(const rm_result *r, attempt *a)
{
	rm_recipient_status st;
	size_t i, n = rm_result_recipient_count(r);

	a->later = calloc(n + 1, sizeof(*a->later));
	for (i = 0; a->later != NULL && i < n; i++) {
		if (rm_result_recipient(r, i, &st) != RM_OK)
			continue;
		if (!st.accepted && is_transient(st.outcome))
			a->later[a->later_count++] = strdup(st.address);
		if (!st.accepted)
			say("<%s> %s: %d %s %s", st.address,
			    is_transient(st.outcome) ? "deferred" : "refused",
			    st.reply_code, st.enhanced_status, st.text);
		if (!st.accepted && !is_transient(st.outcome))
			snprintf(a->report + strlen(a->report),
			         sizeof(a->report) - strlen(a->report),
			         "<%s> refused: %d %s\n  ", st.address,
			         st.reply_code, st.text);
	}
}

/*
 * The exit status for a send refused for good. A file:// folder that is
 * missing or cannot be written is this machine's setup, not a relay's
 * refusal: the output cannot be created, as relaymail-send says too.
 */
static int refused_status(const rm_error *err, const rm_result *r)
{
	if (err->code == RM_EIO && strcmp(err->field, "url") == 0)
		return EX_CANTCREAT;
	if (err->outcome == RM_OUTCOME_PERM_RECIPIENT &&
	    rm_result_rejected_count(r) > 0 &&
	    rm_result_rejected_count(r) == rm_result_recipient_count(r))
		return EX_NOUSER;
	if (err->code == RM_EINVAL || err->code == RM_ELIMIT)
		return EX_DATAERR;
	return EX_UNAVAILABLE;
}

/* 1 if some recipient was refused only for now. */
static int any_deferred(const rm_result *r)
{
	rm_recipient_status st;
	size_t i, n = rm_result_recipient_count(r);

	for (i = 0; i < n; i++) {
		if (rm_result_recipient(r, i, &st) == RM_OK &&
		    !st.accepted && is_transient(st.outcome))
			return 1;
	}
	return 0;
}

static void judge(int rc, const rm_error *err, const rm_result *r,
                  attempt *a)
{
	/* When no recipient took the message but some were only deferred,
	 * the send as a whole counts as refused for good; those recipients
	 * are retried all the same, as after a partial success. */
	if (rc == RM_OK || (err->outcome == RM_OUTCOME_PERM_RECIPIENT &&
	                    any_deferred(r))) {
		collect_later(r, a);
		a->v = a->later_count > 0 ? RETRY : SENT;
		if (rm_result_rejected_count(r) > a->later_count)
			a->status = EX_NOUSER;
		return;
	}
	snprintf(a->report, sizeof(a->report), "%s%s%s",
	         rm_strerror(err->code), err->message[0] ? ": " : "",
	         err->message);
	say_error("not sent", err);
	if (rm_result_reply_code(r) != 0)
		say("the relay said: %d %s %s", rm_result_reply_code(r),
		    rm_result_enhanced_status(r), rm_result_text(r));
	a->v = is_transient(err->outcome) ? RETRY : REFUSED;
	if (a->v == REFUSED)
		a->status = refused_status(err, r);
}

/* Sends the job once and says what should happen next. */
static int attempt_send(const job *j, const config *c, int verbose,
                        attempt *a)
{
	rm_transport *t = NULL;
	rm_message *msg = NULL;
	rm_result *r = NULL;
	rm_error err;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = make_message(j, &msg);
	if (rc == 0)
		rc = open_transport(c, verbose, &t);
	if (rc == 0 && rm_result_new(&r, &err) != RM_OK)
		rc = EX_OSERR;
	if (rc == 0) {
		rc = rm_send(t, msg, r, &err);
		judge(rc, &err, r, a);
		rc = 0;
	}
	rm_result_free(r);
	rm_transport_close(t);
	rm_message_free(msg);
	return rc;
}

static void free_attempt(attempt *a)
{
	size_t i;

	for (i = 0; i < a->later_count; i++)
		free(a->later[i]);
	free(a->later);
	a->later = NULL;
	a->later_count = 0;
}

/* ---------------------------------------------------------------------- */
/* Mailing errors back (-oem)                                             */
/* ---------------------------------------------------------------------- */

/* The header of the message, for the error report. */
static size_t header_len(const job *j)
{
	const char *p = j->data, *end = j->data + j->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	return (size_t)(p - j->data);
}

/* The report goes to the envelope sender, or the From of the message,
 * and comes from the same address: the one address the relay surely
 * lets this account send as. */
static int report_to(rm_message *m, const job *j, rm_error *err)
{
	const char *from = find_field(j->data, j->len, "From");
	char line[1024];
	int rc;

	if (j->sender != NULL)
		snprintf(line, sizeof(line), "%s", j->sender);
	else if (from != NULL)
		snprintf(line, sizeof(line), "%.*s",
		         (int)strcspn(from, "\r\n"), from);
	else
		return RM_EINVAL;
	rc = rm_message_add_to(m, line, NULL, err);
	if (rc == RM_OK)
		rc = rm_message_set_from(m, line, NULL, err);
	return rc;
}

static int build_report(rm_message *m, const job *j, const attempt *a)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	rm_error err;
	int rc;

	if (f == NULL)
		return RM_ENOMEM;
	fprintf(f, "Your message could not be delivered:\n\n  %s\n\n"
	        "Its header follows.\n\n%.*s", a->report,
	        (int)header_len(j), j->data);
	fclose(f);
	rc = report_to(m, j, &err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(m, "Undelivered Mail Returned to "
		                            "Sender", &err);
	if (rc == RM_OK)
		rc = rm_message_set_text(m, text, n, &err);
	free(text);
	return rc;
}

/* Mails the report back through the same relay; 0 once it is sent. */
static int mail_back(const job *j, const config *c, const attempt *a)
{
	rm_transport *t = NULL;
	rm_message *m = NULL;
	rm_error err;
	int rc;

	if (is_null_sender(j->sender)) {
		say("the error is not mailed back: the message came from the "
		    "null sender <>");
		return RM_EINVAL;
	}
	rc = rm_message_new(&m, &err);
	if (rc == RM_OK)
		rc = build_report(m, j, a);
	if (rc == RM_OK)
		rc = open_transport(c, 0, &t) == 0 ? RM_OK : RM_EURL;
	if (rc == RM_OK)
		rc = rm_send(t, m, NULL, &err);
	if (rc == RM_OK)
		say("the error was mailed back");
	else
		say("the error could not be mailed back either: %s",
		    rm_strerror(rc));
	rm_transport_close(t);
	rm_message_free(m);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The spool                                                              */
/* ---------------------------------------------------------------------- */

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	say("cannot create the spool folder %s: %s", path, strerror(errno));
	return EX_CANTCREAT;
}

/* The envelope, an empty line, then the message bytes. */
static int write_spool_file(FILE *f, const job *j, char **rcpts,
                            size_t count)
{
	size_t i;

	/* An empty line value means no -f: the null sender is kept as <>. */
	fprintf(f, "%s\nsender %s\nextract %d\n", SPOOL_MAGIC,
	        is_null_sender(j->sender) ? "<>" : j->sender ? j->sender : "",
	        rcpts == j->rcpts && j->extract);
	for (i = 0; i < count; i++)
		fprintf(f, "rcpt %s\n", rcpts[i]);
	fputc('\n', f);
	fwrite(j->data, 1, j->len, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		return -1;
	return ferror(f) ? -1 : 0;
}

/* Writes the job into a hidden temporary file in the spool, synced;
 * tmp receives its path. */
static int write_temporary(const job *j, const config *c, char **rcpts,
                           size_t count, char tmp[4096])
{
	FILE *f;
	int fd, rc = make_dir(c->spool);

	if (rc != 0)
		return rc;
	snprintf(tmp, 4096, "%s/.tmp-XXXXXX", c->spool);
	fd = mkstemp(tmp);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL || write_spool_file(f, j, rcpts, count) != 0) {
		say("cannot write to the spool %s: %s", c->spool,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		unlink(tmp);
		return EX_CANTCREAT;
	}
	fclose(f);
	return 0;
}

/* Spools the job under a new name. The name is published with link(),
 * which never replaces a file, so no spooled message can be lost to a
 * clash of names. */
static int spool(const job *j, const config *c, char **rcpts, size_t count)
{
	char tmp[4096], name[4096];
	int rc = write_temporary(j, c, rcpts, count, tmp);

	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "%s/%lld-%ld-%s.msg", c->spool,
	         (long long)time(NULL), (long)getpid(),
	         strrchr(tmp, '-') + 1);
	rc = link(tmp, name);
	if (rc != 0)
		say("cannot spool as %s: %s", name, strerror(errno));
	unlink(tmp);
	if (rc != 0)
		return EX_CANTCREAT;
	say("the message was spooled as %s; \"" PROG " -q\" retries it",
	    name);
	return 0;
}

/* Replaces the spooled file at path with the job for fewer recipients,
 * in one rename: a run killed at any moment leaves either the old file
 * or the new one, never both, so no recipient gets it twice. */
static int respool(const job *j, const config *c, char **rcpts,
                   size_t count, const char *path)
{
	char tmp[4096];
	int rc = write_temporary(j, c, rcpts, count, tmp);

	if (rc != 0)
		return rc;
	if (rename(tmp, path) != 0) {
		say("cannot replace %s: %s; the next queue run sends it to "
		    "every recipient again", path, strerror(errno));
		unlink(tmp);
		return EX_CANTCREAT;
	}
	say("%s now waits for the recipients still to be served", path);
	return 0;
}

/* Parses one envelope line of a spool file into j. */
static int spool_line(job *j, char *line)
{
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "sender ", 7) == 0) {
		j->sender = line[7] ? strdup(line + 7) : NULL;
		return line[7] && j->sender == NULL ? -1 : 0;
	}
	if (strncmp(line, "extract ", 8) == 0) {
		j->extract = line[8] == '1';
		return 0;
	}
	if (strncmp(line, "rcpt ", 5) == 0) {
		j->rcpts[j->rcpt_count] = strdup(line + 5);
		return j->rcpts[j->rcpt_count++] == NULL ? -1 : 0;
	}
	return -1;
}

static void free_job(job *j)
{
	size_t i;

	free(j->data);
	for (i = 0; i < j->rcpt_count; i++)
		free(j->rcpts[i]);
	free(j->rcpts);
	free((char *)j->sender);
}

/* Reads a spool file written by write_spool_file. */
static int read_spool_file(FILE *f, job *j)
{
	char line[LINE_MAX_LEN];
	size_t max = 10000;

	memset(j, 0, sizeof(*j));
	j->rcpts = calloc(max + 1, sizeof(*j->rcpts));
	if (j->rcpts == NULL || fgets(line, sizeof(line), f) == NULL ||
	    strncmp(line, SPOOL_MAGIC "\n", sizeof(SPOOL_MAGIC)) != 0)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && line[0] != '\n') {
		if (j->rcpt_count >= max || spool_line(j, line) != 0)
			return -1;
	}
	return slurp(f, &j->data, &j->len) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Delivering a message                                                   */
/* ---------------------------------------------------------------------- */

/* One try; on failure the message goes to the spool or comes back as
 * an error. Returns the exit status. */
static int deliver(const job *j, const config *c, const options *o)
{
	attempt a;
	int rc = attempt_send(j, c, o->verbose, &a);

	if (rc != 0)
		return rc;
	if (a.v == RETRY && a.later_count > 0)
		rc = spool(j, c, a.later, a.later_count);
	else if (a.v == RETRY)
		rc = spool(j, c, j->rcpts, j->rcpt_count);

	/* With -oem the error report by mail replaces the exit status. */
	if (rc == 0 && a.status != 0 &&
	    !(o->mail_errors && mail_back(j, c, &a) == 0))
		rc = a.status;
	free_attempt(&a);
	return rc;
}

static int send_stdin(const options *o, const config *c)
{
	job j;
	int rc;

	memset(&j, 0, sizeof(j));
	if (!o->extract && o->rcpt_count == 0)
		return usage("no recipients given (and no -t)", NULL);
	rc = slurp(stdin, &j.data, &j.len);
	if (rc != 0)
		return rc;
	drop_postmark(&j);
	if (o->dot_ends)
		j.len = cut_at_dot(j.data, j.len);
	j.sender = o->sender;
	j.extract = o->extract;
	j.rcpts = o->rcpts;
	j.rcpt_count = o->rcpt_count;
	rc = complete_message(&j, o, c);
	if (rc == 0)
		rc = deliver(&j, c, o);
	free(j.data);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Queue runs                                                             */
/* ---------------------------------------------------------------------- */

/*
 * Opens a spooled file: 0 and *out set; -1 when it is gone (another run
 * sent it); 1, said, when it cannot be used. Only a regular file is
 * read, never through a symbolic link (the spool is this user's alone),
 * and a FIFO put there is not waited on.
 */
static int open_spooled(const char *path, FILE **out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 && errno != ELOOP) {
		say("cannot read %s: %s; left alone", path, strerror(errno));
		return 1;
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		say("%s is not a regular file; left alone", path);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	*out = fdopen(fd, "r");
	if (*out != NULL)
		return 0;
	say("cannot read %s: %s; left alone", path, strerror(errno));
	close(fd);
	return 1;
}

/* A sent message leaves the spool; if it cannot, the next run sends it
 * again, which the user must hear about. */
static void remove_sent(const char *path)
{
	if (unlink(path) != 0)
		say("%s was sent but cannot be removed: %s; the next queue "
		    "run sends it again", path, strerror(errno));
}

/* 1 if path still names the file open as fd: another run may have
 * sent and removed it while this one waited for the lock. */
static int still_there(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Moves a message refused for good out of the way, into failed/. */
static void set_aside(const config *c, const char *name, const char *path)
{
	char dir[4096], dest[8192];

	snprintf(dir, sizeof(dir), "%s/failed", c->spool);
	snprintf(dest, sizeof(dest), "%s/%s", dir, name);
	if (make_dir(dir) == 0 && rename(path, dest) == 0)
		say("%s was refused for good; kept as %s", name, dest);
}

/* One try of a spooled message; returns 1 when it stays spooled. */
static int deliver_spooled(const job *j, const config *c, const options *o,
                           const char *path, const char *name)
{
	attempt a;
	int stays = 0;

	if (attempt_send(j, c, o->verbose, &a) != 0)
		return 1;
	if (a.v == RETRY && a.later_count > 0) {
		/* Some recipients took it: only the others stay. */
		respool(j, c, a.later, a.later_count, path);
		stays = 1;
	} else if (a.v == RETRY) {
		stays = 1;
	} else if (a.v == REFUSED) {
		if (o->mail_errors)
			mail_back(j, c, &a);
		set_aside(c, name, path);
	} else {
		if (a.status != 0 && o->mail_errors)
			mail_back(j, c, &a);
		remove_sent(path);
	}
	free_attempt(&a);
	return stays;
}

/* Retries one spooled file: 0 when it is gone, 1 when it stays. */
static int retry_file(const config *c, const options *o, const char *name)
{
	char path[8192];
	job j;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", c->spool, name);
	rc = open_spooled(path, &f);
	if (rc != 0)
		return rc > 0;

	/* Another queue run holds it, or has sent it already. */
	if (flock(fileno(f), LOCK_EX | LOCK_NB) != 0) {
		fclose(f);
		return 1;
	}
	if (!still_there(fileno(f), path)) {
		fclose(f);
		return 0;
	}
	if (read_spool_file(f, &j) != 0) {
		say("%s is not a spool file; left alone", path);
		free_job(&j);
		fclose(f);
		return 1;
	}
	say("retrying %s", name);
	rc = deliver_spooled(&j, c, o, path, name);
	free_job(&j);
	fclose(f);
	return rc;
}

static int is_spool_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".msg") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spooled file names, oldest first (names start with the time). */
static char **spool_names(const config *c, size_t *count)
{
	DIR *d = opendir(c->spool);
	struct dirent *e;
	char **v = NULL, **grown;
	size_t n = 0;

	*count = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!is_spool_name(e->d_name))
			continue;
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (grown == NULL)
			break;
		v = grown;
		v[n] = strdup(e->d_name);
		if (v[n] != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_name);
	*count = n;
	return v;
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A message sent must leave the spool, or every later run sends it
 * again: nothing is sent from a folder files cannot be removed from. */
static int spool_writable(const config *c)
{
	if (access(c->spool, W_OK | X_OK) == 0 || errno == ENOENT)
		return 1;
	say("cannot remove sent messages from %s: %s; nothing was sent",
	    c->spool, strerror(errno));
	return 0;
}

/* A temporary older than a day belongs to a spooling run that was killed
 * before it could answer, so its sender was never told the message was
 * taken: it is removed. Younger ones may still be being written. */
static void remove_stale_temporaries(const config *c)
{
	DIR *d = opendir(c->spool);
	struct dirent *e;
	time_t day_ago = time(NULL) - 24 * 3600;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(e->d_name, ".tmp-", 5) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st,
		            AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > day_ago)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			say("removed %s/%s, left by a run that was stopped",
			    c->spool, e->d_name);
	}
	closedir(d);
}

/* -q: every spooled message once; 75 when some are still waiting. */
static int queue_run(const config *c, const options *o)
{
	size_t i, n, left = 0;
	char **names;

	if (!spool_writable(c))
		return EX_CANTCREAT;
	remove_stale_temporaries(c);
	names = spool_names(c, &n);
	for (i = 0; i < n; i++)
		left += (size_t)retry_file(c, o, names[i]);
	free_names(names, n);
	if (left > 0)
		say("%zu message%s still spooled in %s", left,
		    left == 1 ? "" : "s", c->spool);
	return left > 0 ? EX_TEMPFAIL : 0;
}

/* -bp: one line per spooled message. */
static int list_queue(const config *c)
{
	size_t i, n;
	char **names = spool_names(c, &n);

	if (n == 0)
		printf("the spool %s is empty\n", c->spool);
	for (i = 0; i < n; i++) {
		char path[8192];
		FILE *f;
		job j;

		snprintf(path, sizeof(path), "%s/%s", c->spool, names[i]);
		if (open_spooled(path, &f) != 0)
			continue;
		if (read_spool_file(f, &j) == 0)
			printf("%s  %zu octets  from %s  to %zu "
			       "recipient%s%s\n", names[i], j.len,
			       j.sender ? j.sender : "(the From field)",
			       j.rcpt_count, j.rcpt_count == 1 ? "" : "s",
			       j.extract ? " and the header's" : "");
		else
			say("%s is not a spool file", path);
		free_job(&j);
		fclose(f);
	}
	free_names(names, n);
	return 0;
}

int main(int argc, char **argv)
{
	options o;
	config c;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	rc = parse_args(&o, argc, argv);
	if (rc == 0)
		rc = load_config(&c, &o);
	if (rc == 0 && o.list_queue)
		rc = list_queue(&c);
	else if (rc == 0 && o.queue_run)
		rc = queue_run(&c, &o);
	else if (rc == 0)
		rc = send_stdin(&o, &c);
	free_config(&c);
	free(o.rcpts);
	return rc < 0 ? 0 : rc;
}
