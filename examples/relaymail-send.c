/*
 * relaymail-send: builds one message from the command line and sends it
 * through any relaymail transport URL, or prints it with --dump.
 *
 * Secrets stay out of argv: the URL may come from RELAYMAIL_URL, the
 * password from RELAYMAIL_PASSWORD and an XOAUTH2 token from
 * RELAYMAIL_OAUTH_TOKEN.
 *
 * Exit codes follow sysexits.h: 0 sent (or dumped, or checked), 64 usage
 * error, 65 bad message input, 66 an input file cannot be read, 69
 * refused for good, 73 the file:// folder cannot be written, 75 failed
 * for now.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <relaymail.h>

/* Bodies are read whole; attachments are streamed by the library. */
#define BODY_MAX (64L * 1024 * 1024)

/* A growable list of pointers into argv. */
typedef struct strlist {
	const char **items;
	size_t count;
} strlist;

/* Options in argv order where the order shows (recipients, files). */
typedef struct options {
	const char *url;
	const char *from;
	const char *sender;
	const char *envelope_from;
	const char *subject;
	const char *text;
	const char *text_file;
	const char *html;
	const char *html_file;
	const char *message_id;
	const char *ca_file;
	strlist to, cc, bcc, reply_to, attach, inline_parts, headers;
	strlist dkim_key, dkim_selector, dkim_domain;
	int dkim_dns_record;
	int verbose;
	int dump;
	int check;
	int reproducible;
} options;

enum {
	OPT_URL = 256, OPT_FROM, OPT_SENDER, OPT_ENVELOPE_FROM, OPT_TO,
	OPT_CC, OPT_BCC, OPT_REPLY_TO, OPT_SUBJECT, OPT_TEXT, OPT_TEXT_FILE,
	OPT_HTML, OPT_HTML_FILE, OPT_ATTACH, OPT_INLINE, OPT_HEADER,
	OPT_MESSAGE_ID, OPT_CA_FILE, OPT_VERBOSE, OPT_DUMP, OPT_CHECK,
	OPT_REPRODUCIBLE, OPT_HELP, OPT_VERSION, OPT_DKIM_KEY,
	OPT_DKIM_SELECTOR, OPT_DKIM_DOMAIN, OPT_DKIM_DNS_RECORD
};

static const struct option long_opts[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "sender", required_argument, NULL, OPT_SENDER },
	{ "envelope-from", required_argument, NULL, OPT_ENVELOPE_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "cc", required_argument, NULL, OPT_CC },
	{ "bcc", required_argument, NULL, OPT_BCC },
	{ "reply-to", required_argument, NULL, OPT_REPLY_TO },
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "text", required_argument, NULL, OPT_TEXT },
	{ "text-file", required_argument, NULL, OPT_TEXT_FILE },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "html-file", required_argument, NULL, OPT_HTML_FILE },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "inline", required_argument, NULL, OPT_INLINE },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "message-id", required_argument, NULL, OPT_MESSAGE_ID },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "dump", no_argument, NULL, OPT_DUMP },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "reproducible", no_argument, NULL, OPT_REPRODUCIBLE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "dkim-key", required_argument, NULL, OPT_DKIM_KEY },
	{ "dkim-selector", required_argument, NULL, OPT_DKIM_SELECTOR },
	{ "dkim-domain", required_argument, NULL, OPT_DKIM_DOMAIN },
	{ "dkim-dns-record", no_argument, NULL, OPT_DKIM_DNS_RECORD },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"usage: relaymail-send [options]\n"
	"\n"
	"Transport:\n"
	"  --url URL            file://DIR, smtp://..., smtps://...,\n"
	"                       gmail://, sendgrid://, mailgun://, ses://,\n"
	"                       postmark://, smtp2go://, PROVIDER+smtp://,\n"
	"                       failover(A B), retry(A), roundrobin(A B)\n"
	"                       (docs/urls.md has them all)\n"
	"                       (default: $RELAYMAIL_URL; password from\n"
	"                       $RELAYMAIL_PASSWORD, XOAUTH2 token from\n"
	"                       $RELAYMAIL_OAUTH_TOKEN)\n"
	"  --ca-file FILE       trust this PEM bundle instead of the system's\n"
	"  --check              connect, authenticate and describe the server\n"
	"  --dump               print the message instead of sending it\n"
	"  --verbose            log the (redacted) transcript to stderr\n"
	"\n"
	"Message:\n"
	"  --from ADDR          From, as \"Name <a@example.com>\" or a@...\n"
	"  --sender ADDR        Sender\n"
	"  --envelope-from ADDR the SMTP MAIL FROM (bounce) address; '<>'\n"
	"                       or '' for none (bounces, auto-replies)\n"
	"  --to/--cc/--bcc ADDR recipients (repeatable, or comma lists)\n"
	"  --reply-to ADDR      Reply-To (repeatable)\n"
	"  --subject TEXT       Subject (UTF-8)\n"
	"  --text TEXT          plain text body (--text-file FILE, -: stdin)\n"
	"  --html HTML          HTML body       (--html-file FILE)\n"
	"  --attach FILE        attach a file (repeatable)\n"
	"  --inline FILE:CID    inline part, shown by <img src=\"cid:CID\">\n"
	"  --header 'Name: v'   extra header (repeatable)\n"
	"  --message-id ID      Message-ID instead of a random one\n"
	"  --reproducible       fixed boundaries, Date and Message-ID\n"
	"\n"
	"DKIM (each --dkim-key with its own selector and domain):\n"
	"  --dkim-key FILE      sign with this PEM key (repeatable)\n"
	"  --dkim-selector S    its selector (s=)\n"
	"  --dkim-domain D      its domain (d=)\n"
	"  --dkim-dns-record    print each key's DNS TXT record and exit\n"
	"\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 sent, 64 usage, 65 bad message input, 66 input\n"
	"file unreadable, 69 refused for good, 73 file:// folder not\n"
	"writable, 75 failed for now (try again later).\n";

/* ---------------------------------------------------------------------- */
/* Reporting                                                              */
/* ---------------------------------------------------------------------- */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static const char *named_escape(unsigned char c)
{
	switch (c) {
	case '\t': return "\\t";
	case '\n': return "\\n";
	case '\r': return "\\r";
	default: return NULL;
	}
}

/* Writes s to f with control bytes and DEL as escapes (\r, \x1b). */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		const char *named = named_escape(c);

		if (named != NULL)
			fputs(named, f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc(c, f);
	}
}

/*
 * Prints one line to stderr after the program's name. The line may quote
 * arguments, file names and server replies: a control byte in them could
 * rewrite the terminal, so every one is shown escaped.
 */
static void PRINTF_LIKE(1, 2) say(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fputs("relaymail-send: ", stderr);
	put_escaped(stderr, line);
	fputc('\n', stderr);
}

/*
 * Whether a failure is a local file, named by an option of the URL or
 * the command line, that could not be read: the DKIM key, a CA bundle
 * or a NAME_file= secret. The library reports those as RM_EIO with the
 * option as the field; RM_EIO on the URL itself is file:// output.
 */
static int unreadable_input(const rm_error *err)
{
	size_t n = strlen(err->field);

	if (err->code != RM_EIO)
		return 0;
	return strcmp(err->field, "dkim_key") == 0 ||
	       strcmp(err->field, "ca_file") == 0 ||
	       (n > 5 && strcmp(err->field + n - 5, "_file") == 0);
}

/*
 * Prints what a failed call said: code, field, reason, server reply,
 * and the outcome class unless status, the exit status it leads to,
 * says the fault is the invocation or a local file rather than a relay.
 */
static void report(const char *what, const rm_error *err, int status)
{
	char field[RM_ERROR_FIELD_MAX + 3] = "";

	if (err->field[0] != '\0')
		snprintf(field, sizeof(field), " [%s]", err->field);
	say("%s: %s%s%s%s", what, rm_strerror(err->code), field,
	    err->message[0] != '\0' ? ": " : "", err->message);
	if (err->reply_code != 0)
		say("server replied %d%s%s", err->reply_code,
		    err->enhanced_status[0] ? " " : "", err->enhanced_status);
	if (err->outcome != RM_OUTCOME_NONE && status != EX_USAGE &&
	    status != EX_NOINPUT)
		say("outcome: %s", rm_outcome_name(err->outcome));
}

/*
 * The exit status for a failed send, from its outcome class first. A
 * local file the transport cannot write (file://DIR with DIR missing or
 * read-only) is no relay's refusal but this machine's setup: the output
 * cannot be created. A local file it cannot read is missing input.
 */
static int exit_for(const rm_error *err)
{
	int local = err->code == RM_EIO && strcmp(err->field, "url") == 0;

	if (unreadable_input(err))
		return EX_NOINPUT;
	switch (err->outcome) {
	case RM_OUTCOME_TRANSIENT:
	case RM_OUTCOME_AMBIGUOUS:
		return EX_TEMPFAIL;
	case RM_OUTCOME_PERM_RECIPIENT:
	case RM_OUTCOME_PERM_PROVIDER:
		return local ? EX_CANTCREAT : EX_UNAVAILABLE;
	default:
		break;
	}
	switch (err->code) {
	case RM_EINVAL:
	case RM_ELIMIT:
	case RM_EIO:
		return EX_DATAERR;
	case RM_EURL:
		return EX_USAGE;
	case RM_EUNSUPPORTED:
	case RM_EAUTH:
	case RM_ETOOBIG:
	case RM_EREJECTED:
	case RM_ECERT:
	case RM_ENOTLS:
		return EX_UNAVAILABLE;
	default:
		return EX_TEMPFAIL;
	}
}

static void print_error(const char *what, const rm_error *err)
{
	report(what, err, exit_for(err));
}

static void on_log(rm_log_level level, const char *line, void *user)
{
	(void)user;
	say("[%s] %s", rm_log_level_name(level), line);
}

/* ---------------------------------------------------------------------- */
/* Parsing the command line                                               */
/* ---------------------------------------------------------------------- */

static int list_add(strlist *l, const char *item)
{
	const char **items = realloc(l->items,
	                             (l->count + 1) * sizeof(*items));

	if (items == NULL) {
		say("out of memory");
		return -1;
	}
	items[l->count++] = item;
	l->items = items;
	return 0;
}

static void free_options(options *o)
{
	free(o->to.items);
	free(o->cc.items);
	free(o->bcc.items);
	free(o->reply_to.items);
	free(o->attach.items);
	free(o->inline_parts.items);
	free(o->headers.items);
	free(o->dkim_key.items);
	free(o->dkim_selector.items);
	free(o->dkim_domain.items);
}

/* Points at the option's slot for single-valued string options. */
static const char **string_slot(options *o, int opt)
{
	switch (opt) {
	case OPT_URL: return &o->url;
	case OPT_FROM: return &o->from;
	case OPT_SENDER: return &o->sender;
	case OPT_ENVELOPE_FROM: return &o->envelope_from;
	case OPT_SUBJECT: return &o->subject;
	case OPT_TEXT: return &o->text;
	case OPT_TEXT_FILE: return &o->text_file;
	case OPT_HTML: return &o->html;
	case OPT_HTML_FILE: return &o->html_file;
	case OPT_MESSAGE_ID: return &o->message_id;
	case OPT_CA_FILE: return &o->ca_file;
	default: return NULL;
	}
}

static strlist *list_slot(options *o, int opt)
{
	switch (opt) {
	case OPT_TO: return &o->to;
	case OPT_CC: return &o->cc;
	case OPT_BCC: return &o->bcc;
	case OPT_REPLY_TO: return &o->reply_to;
	case OPT_ATTACH: return &o->attach;
	case OPT_INLINE: return &o->inline_parts;
	case OPT_HEADER: return &o->headers;
	case OPT_DKIM_KEY: return &o->dkim_key;
	case OPT_DKIM_SELECTOR: return &o->dkim_selector;
	case OPT_DKIM_DOMAIN: return &o->dkim_domain;
	default: return NULL;
	}
}

static int *flag_slot(options *o, int opt)
{
	switch (opt) {
	case OPT_VERBOSE: return &o->verbose;
	case OPT_DUMP: return &o->dump;
	case OPT_CHECK: return &o->check;
	case OPT_REPRODUCIBLE: return &o->reproducible;
	case OPT_DKIM_DNS_RECORD: return &o->dkim_dns_record;
	default: return NULL;
	}
}

/* The long name of an option, such as "text" for OPT_TEXT. */
static const char *option_name(int opt)
{
	const struct option *lo;

	for (lo = long_opts; lo->name != NULL; lo++) {
		if (lo->val == opt)
			return lo->name;
	}
	return "?";
}

/* A single-valued option given twice is refused: keeping either value
 * would silently drop the other. */
static int set_once(const char **slot, int opt, const char *arg)
{
	if (*slot != NULL) {
		say("--%s given twice: it takes one value", option_name(opt));
		return EX_USAGE;
	}
	*slot = arg;
	return 0;
}

/*
 * What getopt_long refused, said here rather than by getopt (opterr is
 * 0), so every message starts with the program's name. bad is ':' for a
 * missing value, '?' for anything else; text is the argument at fault.
 */
static int bad_option(int bad, const char *text)
{
	if (bad == ':')
		say("--%s needs a value", option_name(optopt));
	else if (optopt >= OPT_URL)
		say("--%s takes no value", option_name(optopt));
	else if (optopt != 0)
		say("unknown option '-%c'", optopt);
	else
		say("unknown or ambiguous option '%s'", text);
	fputs("Try 'relaymail-send --help'.\n", stderr);
	return EX_USAGE;
}

/* Stores one option; returns 0, or the exit status to stop with. */
static int apply_opt(options *o, int opt, const char *arg)
{
	const char **s = string_slot(o, opt);
	strlist *l = list_slot(o, opt);
	int *flag = flag_slot(o, opt);

	if (s != NULL)
		return set_once(s, opt, arg);
	if (l != NULL)
		return list_add(l, arg) == 0 ? 0 : EX_OSERR;
	if (flag != NULL) {
		*flag = 1;
		return 0;
	}
	if (opt == OPT_HELP) {
		fputs(usage_text, stdout);
		return -1;
	}
	if (opt == OPT_VERSION) {
		printf("relaymail-send %s\n", rm_version_string());
		return -1;
	}
	/* Not reached: parse_args gives getopt's refusals to bad_option. */
	return EX_SOFTWARE;
}

static int check_usage(const options *o)
{
	const char *why = NULL;

	if (o->dkim_key.count != o->dkim_selector.count ||
	    o->dkim_key.count != o->dkim_domain.count)
		why = "each --dkim-key needs one --dkim-selector and one "
		      "--dkim-domain";
	else if (o->dkim_dns_record)
		why = o->dkim_key.count ? NULL : "--dkim-dns-record needs "
		      "--dkim-key, --dkim-selector and --dkim-domain";
	else if (o->text != NULL && o->text_file != NULL)
		why = "--text and --text-file exclude each other";
	else if (o->html != NULL && o->html_file != NULL)
		why = "--html and --html-file exclude each other";
	else if (o->dump && o->check)
		why = "--dump and --check exclude each other";
	else if (!o->dump && o->url == NULL)
		why = "no transport: give --url or set RELAYMAIL_URL";
	else if (!o->check && o->from == NULL)
		why = "--from is required";
	else if (!o->check && !o->dump &&
	         o->to.count + o->cc.count + o->bcc.count == 0)
		why = "no recipient: give --to, --cc or --bcc";
	if (why == NULL)
		return 0;
	say("%s", why);
	return EX_USAGE;
}

/* Fills o from argv; returns 0, -1 when done (help), or an exit status. */
static int parse_args(options *o, int argc, char **argv)
{
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		rc = opt == '?' || opt == ':' ?
		     bad_option(opt, argv[optind - 1]) :
		     apply_opt(o, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc) {
		say("unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if (o->url == NULL)
		o->url = getenv("RELAYMAIL_URL");
	if (o->url != NULL && o->url[0] == '\0')
		o->url = NULL;
	return check_usage(o);
}

/* ---------------------------------------------------------------------- */
/* Building the message                                                   */
/* ---------------------------------------------------------------------- */

/* Appends what is left of f to *data; returns 0 or an errno value. */
static int slurp(FILE *f, char **data, size_t *used)
{
	size_t cap = 0;

	while (!feof(f)) {
		if (cap - *used < 4096) {
			char *grown = realloc(*data, cap + 65536);

			if (grown == NULL)
				return ENOMEM;
			*data = grown;
			cap += 65536;
		}
		*used += fread(*data + *used, 1, cap - *used, f);
		if (ferror(f))
			return EIO;
		if (*used > (size_t)BODY_MAX)
			return EFBIG;
	}
	return 0;
}

/* Reads a whole body file ("-" is stdin) into *out. */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *data = NULL;
	size_t used = 0;
	int e;

	if (f == NULL)
		return errno;
	e = slurp(f, &data, &used);
	if (f != stdin)
		fclose(f);
	if (e == 0 && data == NULL)
		data = calloc(1, 1);
	if (e != 0 || data == NULL) {
		free(data);
		return e != 0 ? e : ENOMEM;
	}
	*out = data;
	*len = used;
	return 0;
}

typedef int (*body_fn)(rm_message *msg, const char *text, size_t len,
                       rm_error *err);

/* Sets a body from its inline text or from its file, if either is given. */
static int set_body(rm_message *msg, const char *text, const char *path,
                    body_fn set, const char *what)
{
	rm_error err;
	char *data = NULL;
	size_t len;
	int e, rc;

	if (text == NULL && path == NULL)
		return 0;
	e = path != NULL ? read_file(path, &data, &len) : 0;
	if (e != 0) {
		say("cannot read %s file '%s': %s", what, path, strerror(e));
		return EX_NOINPUT;
	}
	rc = set(msg, data != NULL ? data : text,
	         data != NULL ? len : (size_t)-1, &err);
	free(data);
	if (rc == RM_OK)
		return 0;
	print_error(what, &err);
	return EX_DATAERR;
}

typedef int (*addr_fn)(rm_message *msg, const char *address,
                       const char *name, rm_error *err);

static int add_addresses(rm_message *msg, const strlist *l, addr_fn add,
                         const char *what)
{
	char label[64];
	rm_error err;
	size_t i;

	for (i = 0; i < l->count; i++) {
		if (add(msg, l->items[i], NULL, &err) == RM_OK)
			continue;
		snprintf(label, sizeof(label), "invalid --%s '%.30s'", what,
		         l->items[i]);
		print_error(label, &err);
		return EX_DATAERR;
	}
	return 0;
}

/* One optional single address: From, Sender. */
static int set_address(rm_message *msg, const char *addr, addr_fn set,
                       const char *what)
{
	strlist one = { &addr, 1 };

	return addr != NULL ? add_addresses(msg, &one, set, what) : 0;
}

static int set_addresses(rm_message *msg, const options *o)
{
	int rc = set_address(msg, o->from, rm_message_set_from, "from");

	if (rc == 0)
		rc = set_address(msg, o->sender, rm_message_set_sender,
		                 "sender");
	if (rc == 0)
		rc = add_addresses(msg, &o->to, rm_message_add_to, "to");
	if (rc == 0)
		rc = add_addresses(msg, &o->cc, rm_message_add_cc, "cc");
	if (rc == 0)
		rc = add_addresses(msg, &o->bcc, rm_message_add_bcc, "bcc");
	if (rc == 0)
		rc = add_addresses(msg, &o->reply_to,
		                   rm_message_add_reply_to, "reply-to");
	return rc;
}

static int attach_one(rm_message *msg, const char *path, const char *cid)
{
	rm_attachment_opts ao = RM_ATTACHMENT_OPTS_INIT;
	rm_error err;
	char label[64];

	ao.content_id = cid;
	if (rm_message_attach_file(msg, path, &ao, &err) == RM_OK)
		return 0;
	snprintf(label, sizeof(label), "cannot attach '%.40s'", path);
	print_error(label, &err);
	return err.code == RM_EIO ? EX_NOINPUT : EX_DATAERR;
}

/* --inline FILE:CID, split at the last colon (a CID has none). */
static int attach_inline(rm_message *msg, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *path;
	int rc;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		say("--inline needs FILE:CID, not '%s'", spec);
		return EX_USAGE;
	}
	path = strndup(spec, (size_t)(colon - spec));
	if (path == NULL)
		return EX_OSERR;
	rc = attach_one(msg, path, colon + 1);
	free(path);
	return rc;
}

static int attach_all(rm_message *msg, const options *o)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < o->attach.count && rc == 0; i++)
		rc = attach_one(msg, o->attach.items[i], NULL);
	for (i = 0; i < o->inline_parts.count && rc == 0; i++)
		rc = attach_inline(msg, o->inline_parts.items[i]);
	return rc;
}

/* --header "Name: value"; the spaces after the colon are not the value. */
static int add_header(rm_message *msg, const char *spec)
{
	const char *colon = strchr(spec, ':');
	const char *value;
	rm_error err;
	char *name;
	int rc;

	if (colon == NULL || colon == spec) {
		say("--header needs 'Name: value', not '%s'", spec);
		return EX_USAGE;
	}
	name = strndup(spec, (size_t)(colon - spec));
	if (name == NULL)
		return EX_OSERR;
	for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
		;
	rc = rm_message_add_header(msg, name, value, &err);
	free(name);
	if (rc == RM_OK)
		return 0;
	print_error("invalid --header", &err);
	return EX_DATAERR;
}

/* Applies a fallible single-string setter and reports its failure. */
static int set_string(rm_message *msg, const char *value,
                      int (*set)(rm_message *, const char *, rm_error *),
                      const char *what)
{
	rm_error err;

	if (value == NULL || set(msg, value, &err) == RM_OK)
		return 0;
	print_error(what, &err);
	return EX_DATAERR;
}

static int set_headers(rm_message *msg, const options *o)
{
	size_t i;
	int rc;

	rc = set_string(msg, o->subject, rm_message_set_subject,
	                "invalid --subject");
	if (rc == 0)
		rc = set_string(msg, o->envelope_from,
		                rm_message_set_envelope_from,
		                "invalid --envelope-from");
	if (rc == 0)
		rc = set_string(msg, o->message_id, rm_message_set_message_id,
		                "invalid --message-id");
	for (i = 0; i < o->headers.count && rc == 0; i++)
		rc = add_header(msg, o->headers.items[i]);
	return rc;
}

static int set_reproducible(rm_message *msg, const options *o)
{
	rm_error err;

	if (!o->reproducible ||
	    rm_message_set_reproducible(msg, 1, &err) == RM_OK)
		return 0;
	print_error("--reproducible", &err);
	return EX_SOFTWARE;
}

/* Builds the whole message; returns 0 or the exit status. */
static int build(rm_message *msg, const options *o)
{
	int rc = set_reproducible(msg, o);

	if (rc == 0)
		rc = set_addresses(msg, o);
	if (rc == 0)
		rc = set_headers(msg, o);
	if (rc == 0)
		rc = set_body(msg, o->text, o->text_file, rm_message_set_text,
		              "text");
	if (rc == 0)
		rc = set_body(msg, o->html, o->html_file, rm_message_set_html,
		              "html");
	if (rc == 0)
		rc = attach_all(msg, o);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Dump, check and send                                                   */
/* ---------------------------------------------------------------------- */

static int to_stdout(const void *data, size_t len, void *user)
{
	(void)user;
	return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

static int dump(rm_message *msg)
{
	rm_error err;

	if (rm_message_write(msg, to_stdout, NULL, &err) != RM_OK) {
		print_error("cannot write the message", &err);
		return err.code == RM_ECALLBACK ? EX_IOERR : EX_DATAERR;
	}
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

static int open_transport(const options *o, rm_transport **t)
{
	rm_transport_opts to = RM_TRANSPORT_OPTS_INIT;
	rm_error err;
	int status;

	to.log = on_log;
	to.log_level = o->verbose ? RM_LOG_DEBUG : RM_LOG_WARN;
	to.ca_file = o->ca_file;
	to.password = getenv("RELAYMAIL_PASSWORD");
	to.oauth_token = getenv("RELAYMAIL_OAUTH_TOKEN");
	if (rm_transport_open(t, o->url, &to, &err) == RM_OK)
		return 0;
	status = err.code == RM_EURL || err.code == RM_EINVAL ? EX_USAGE :
	         exit_for(&err);
	report("cannot open the transport", &err, status);
	return status;
}

static int check(rm_transport *t)
{
	rm_check_info info;
	rm_error err;

	if (rm_transport_check(t, &info, &err) != RM_OK) {
		print_error("check failed", &err);
		return exit_for(&err);
	}
	printf("transport:  %s\n", rm_transport_name(t));
	printf("greeting:   %s\n", info.greeting);
	/* HTTP APIs and folders have no EHLO keywords and no SIZE. */
	if (info.extensions[0] != '\0')
		printf("extensions: %s\n", info.extensions);
	printf("tls:        %s\n", info.tls);
	printf("auth:       %s\n", info.auth_mechanism);
	if (info.extensions[0] != '\0' || info.max_size != 0)
		printf("max size:   %llu%s\n", info.max_size,
		       info.max_size ? "" : " (no limit announced)");
	return 0;
}

static void print_recipient(const rm_recipient_status *st)
{
	const char *what = "not delivered";
	char reply[600] = "";

	if (st->accepted)
		what = "accepted";
	else if (st->outcome == RM_OUTCOME_AMBIGUOUS)
		what = "may have been delivered";
	else if (st->reply_code >= 400)
		what = "refused";
	if (st->reply_code != 0)
		snprintf(reply, sizeof(reply), " (%d%s%s %s)", st->reply_code,
		         st->enhanced_status[0] ? " " : "",
		         st->enhanced_status, st->text);
	say("recipient <%s> %s: %s%s", st->address, what,
	    rm_outcome_name(st->outcome), reply);
}

/*
 * Lists the recipients a server answered for and did not take (every
 * recipient with --verbose). When the whole send failed before any
 * server reply, the error says it once; repeating it per recipient
 * would suggest they were refused.
 */
static void print_recipients(const rm_result *r, int all)
{
	rm_recipient_status st;
	size_t i;

	for (i = 0; i < rm_result_recipient_count(r); i++) {
		if (rm_result_recipient(r, i, &st) != RM_OK)
			continue;
		if (all || (!st.accepted && st.reply_code != 0))
			print_recipient(&st);
	}
}

static void print_sent(const rm_result *r)
{
	printf("sent via %s: queue id %s, %s\n", rm_result_transport(r),
	       rm_result_queue_id(r)[0] ? rm_result_queue_id(r) : "(none)",
	       rm_result_message_id(r));
	if (rm_result_reply_code(r) != 0)
		printf("server replied %d %s %s\n", rm_result_reply_code(r),
		       rm_result_enhanced_status(r), rm_result_text(r));
}

static int send_one(rm_transport *t, rm_message *msg, int verbose)
{
	rm_result *r = NULL;
	rm_error err;
	int rc, status = 0;

	if (rm_result_new(&r, &err) != RM_OK) {
		print_error("cannot send", &err);
		return EX_OSERR;
	}
	rc = rm_send(t, msg, r, &err);
	print_recipients(r, verbose);
	if (rc == RM_OK) {
		print_sent(r);
	} else {
		print_error("not sent", &err);
		if (rm_result_reply_code(r) != 0 &&
		    strstr(err.message, rm_result_text(r)) == NULL)
			say("server said: %s", rm_result_text(r));
		if (rm_result_outcome(r) == RM_OUTCOME_AMBIGUOUS)
			say("the message may have been delivered: sending "
			    "it again may deliver it twice");
		status = exit_for(&err);
	}
	rm_result_free(r);
	return status;
}

/* ---------------------------------------------------------------------- */
/* DKIM                                                                   */
/* ---------------------------------------------------------------------- */

static int load_dkim_key(const char *path, rm_dkim_key **key)
{
	rm_error err;

	if (rm_dkim_key_load_file(key, path, &err) == RM_OK)
		return 0;
	print_error("cannot load the DKIM key", &err);
	return err.code == RM_EIO ? EX_NOINPUT : EX_DATAERR;
}

/* One signer per --dkim-key, in the order given. */
static int add_dkim(const options *o, rm_transport *t)
{
	rm_dkim_key *key = NULL;
	rm_error err;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < o->dkim_key.count; i++) {
		rc = load_dkim_key(o->dkim_key.items[i], &key);
		if (rc == 0 && rm_transport_add_dkim(t, key,
		                                     o->dkim_domain.items[i],
		                                     o->dkim_selector.items[i],
		                                     NULL, &err) != RM_OK) {
			print_error("cannot sign with DKIM", &err);
			rc = err.code == RM_EUNSUPPORTED ? EX_UNAVAILABLE :
			     EX_USAGE;
		}
		rm_dkim_key_free(key);
		key = NULL;
	}
	return rc;
}

static int print_dns_records(const options *o)
{
	rm_dkim_key *key = NULL;
	char *record = NULL;
	rm_error err;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < o->dkim_key.count; i++) {
		rc = load_dkim_key(o->dkim_key.items[i], &key);
		if (rc == 0 &&
		    rm_dkim_dns_record(key, o->dkim_domain.items[i],
		                       o->dkim_selector.items[i], &record,
		                       &err) != RM_OK) {
			print_error("cannot make the DNS record", &err);
			rc = EX_USAGE;
		}
		if (rc == 0)
			printf("%s\n", record);
		rm_free(record);
		record = NULL;
		rm_dkim_key_free(key);
		key = NULL;
	}
	return rc;
}

/* Opens the transport and checks it or sends msg through it. */
static int deliver(const options *o, rm_message *msg)
{
	rm_transport *t = NULL;
	int rc = open_transport(o, &t);

	if (rc == 0)
		rc = add_dkim(o, t);
	if (rc != 0) {
		rm_transport_close(t);
		return rc;
	}
	rc = o->check ? check(t) : send_one(t, msg, o->verbose);
	rm_transport_close(t);
	return rc;
}

static int run(const options *o)
{
	rm_message *msg = NULL;
	rm_error err;
	int rc;

	if (o->dkim_dns_record)
		return print_dns_records(o);
	if (o->check)
		return deliver(o, NULL);
	if (rm_message_new(&msg, &err) != RM_OK) {
		print_error("cannot create a message", &err);
		return EX_OSERR;
	}
	rc = build(msg, o);
	if (rc == 0)
		rc = o->dump ? dump(msg) : deliver(o, msg);
	rm_message_free(msg);
	return rc;
}

int main(int argc, char **argv)
{
	options o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = parse_args(&o, argc, argv);
	if (rc == 0)
		rc = run(&o);
	free_options(&o);
	return rc < 0 ? 0 : rc;
}
