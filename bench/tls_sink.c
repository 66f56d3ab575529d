/*
 * tls_sink: a loopback SMTP sink that offers STARTTLS (OpenSSL), for the
 * benchmark of SMTP over TLS. Like Postfix's smtp-sink it accepts every
 * command, throws the messages away and answers pipelined commands in
 * one write; unlike it, it can upgrade the session to TLS. Plain and
 * TLS sessions go to the same server, so the two figures compare the
 * client and nothing else.
 *
 *   tls_sink --cert PEM --key PEM [--port N] [--port-file FILE]
 *            [--ciphers OPENSSL-CIPHER-LIST]
 *
 * --ciphers makes the sink choose from that list in its own order (server
 * preference); without it the client's preference wins, as with Postfix's
 * default (tls_preempt_cipherlist = no).
 *
 * One process per connection (fork), 127.0.0.1 only; it runs until
 * killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IN_MAX (256 * 1024)
#define OUT_MAX 4096

typedef struct session {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char in[IN_MAX];
	size_t len, pos;
	char out[OUT_MAX];
	size_t out_len;
	int in_data;
} session;

static int raw_read(session *s, char *buf, size_t room)
{
	ssize_t n;

	if (s->ssl != NULL) {
		int r = SSL_read(s->ssl, buf, (int)room);

		return r > 0 ? r : -1;
	}
	n = read(s->fd, buf, room);
	return n > 0 ? (int)n : -1;
}

static int flush_out(session *s)
{
	size_t done = 0;

	while (done < s->out_len) {
		ssize_t n;

		if (s->ssl != NULL)
			n = SSL_write(s->ssl, s->out + done,
			              (int)(s->out_len - done));
		else
			n = write(s->fd, s->out + done, s->out_len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	s->out_len = 0;
	return 0;
}

static int reply(session *s, const char *text)
{
	size_t n = strlen(text);

	if (s->out_len + n > OUT_MAX && flush_out(s) != 0)
		return -1;
	memcpy(s->out + s->out_len, text, n);
	s->out_len += n;
	return 0;
}

/* Moves unread bytes to the front and reads more; replies go first. */
static int fill(session *s)
{
	int n;

	if (flush_out(s) != 0)
		return -1;
	memmove(s->in, s->in + s->pos, s->len - s->pos);
	s->len -= s->pos;
	s->pos = 0;
	if (s->len == IN_MAX)
		return -1;
	n = raw_read(s, s->in + s->len, IN_MAX - s->len);
	if (n <= 0)
		return -1;
	s->len += (size_t)n;
	return 0;
}

/* The next line (with its LF) or NULL after the peer went away. */
static char *next_line(session *s, size_t *len)
{
	for (;;) {
		char *start = s->in + s->pos;
		char *lf = memchr(start, '\n', s->len - s->pos);

		if (lf != NULL) {
			*len = (size_t)(lf - start) + 1;
			s->pos += *len;
			return start;
		}
		if (fill(s) != 0)
			return NULL;
	}
}

static int start_tls(session *s)
{
	if (reply(s, "220 2.0.0 Ready to start TLS\r\n") != 0 ||
	    flush_out(s) != 0)
		return -1;

	/* RFC 3207 section 4.2: nothing sent before the handshake counts. */
	s->len = s->pos = 0;
	s->ssl = SSL_new(s->ctx);
	SSL_set_fd(s->ssl, s->fd);
	return SSL_accept(s->ssl) == 1 ? 0 : -1;
}

static int ehlo(session *s)
{
	reply(s, "250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
	if (s->ssl == NULL)
		reply(s, "250-STARTTLS\r\n");
	return reply(s, "250 ENHANCEDSTATUSCODES\r\n");
}

static int command(session *s, const char *line)
{
	if (strncasecmp(line, "EHLO", 4) == 0)
		return ehlo(s);
	if (strncasecmp(line, "HELO", 4) == 0)
		return reply(s, "250 tls-sink\r\n");
	if (strncasecmp(line, "STARTTLS", 8) == 0 && s->ssl == NULL)
		return start_tls(s);
	if (strncasecmp(line, "MAIL", 4) == 0)
		return reply(s, "250 2.1.0 Ok\r\n");
	if (strncasecmp(line, "RCPT", 4) == 0)
		return reply(s, "250 2.1.5 Ok\r\n");
	if (strncasecmp(line, "DATA", 4) == 0) {
		s->in_data = 1;
		return reply(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	}
	if (strncasecmp(line, "QUIT", 4) == 0) {
		reply(s, "221 2.0.0 Bye\r\n");
		flush_out(s);
		return -1;
	}
	if (strncasecmp(line, "RSET", 4) == 0 ||
	    strncasecmp(line, "NOOP", 4) == 0)
		return reply(s, "250 2.0.0 Ok\r\n");
	return reply(s, "502 5.5.2 Error: command not recognized\r\n");
}

static void serve(session *s)
{
	char *line;
	size_t len;

	if (reply(s, "220 tls-sink ESMTP\r\n") != 0)
		return;
	while ((line = next_line(s, &len)) != NULL) {
		if (s->in_data) {
			if (len == 3 && memcmp(line, ".\r\n", 3) == 0) {
				s->in_data = 0;
				reply(s, "250 2.0.0 Ok: queued as BENCH\r\n");
			}
			continue;
		}
		line[len - 1] = '\0';
		if (command(s, line) != 0)
			break;
	}
}

static int listen_on(int port, const char *port_file)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 128) != 0) {
		perror("tls_sink: listen");
		exit(1);
	}
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	if (port_file != NULL && (f = fopen(port_file, "w")) != NULL) {
		fprintf(f, "%d\n", ntohs(sa.sin_port));
		fclose(f);
	}
	return fd;
}

static SSL_CTX *make_ctx(const char *cert, const char *key,
                         const char *ciphers)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx != NULL && ciphers != NULL) {
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
		if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
			ctx = NULL;
	}
	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	/* One read per burst of records instead of header, then body: the
	 * sink should cost the clients as little as it can. */
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

static void child(int fd, SSL_CTX *ctx)
{
	session *s = calloc(1, sizeof(*s));
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	s->fd = fd;
	s->ctx = ctx;
	serve(s);
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *port_file = NULL;
	const char *ciphers = NULL;
	int port = 0, lfd, i;
	SSL_CTX *ctx;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cert") == 0)
			cert = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
		else if (strcmp(argv[i], "--ciphers") == 0)
			ciphers = argv[i + 1];
	}
	if (cert == NULL || key == NULL) {
		fputs("usage: tls_sink --cert PEM --key PEM [--port N] "
		      "[--port-file FILE] [--ciphers LIST]\n", stderr);
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	ctx = make_ctx(cert, key, ciphers);
	lfd = listen_on(port, port_file);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			child(fd, ctx);
		}
		close(fd);
	}
}
