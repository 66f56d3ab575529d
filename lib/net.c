/*
 * TCP connections with a deadline on every wait: connect, read and write
 * all go through poll(2) on a non-blocking socket, so no call can hang
 * past the timeout the caller chose. IPv4 and IPv6 are both tried, in the
 * order the resolver gives (RFC 6724), until one address accepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "smtp_int.h"

int64_t rm__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rm__net_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int64_t left = deadline - rm__now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return RM_EIO;
	}
}

void rm__conn_init(rm__conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int rm__conn_is_open(const rm__conn *c)
{
	return c->fd >= 0;
}

static void describe_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a != NULL)
		inet_ntop(sa->sa_family, a, host, sizeof(host));
	snprintf(buf, size, "%s", host);
}

/* Waits for a non-blocking connect; returns 0 or an errno value. */
static int finish_connect(int fd, long timeout_ms)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	int rc = rm__net_wait(fd, POLLOUT, rm__now_ms() + timeout_ms);

	if (rc == 0)
		return ETIMEDOUT;
	if (rc < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		return errno;
	return soerr;
}

/* Connects to one address; returns the socket or -errno. */
static int try_address(const struct addrinfo *ai, long timeout_ms)
{
	int one = 1, e;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	                SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return -errno;
	/* Commands and message blocks leave as whole writes; waiting for
	 * the peer's delayed ACK (Nagle) would only add latency. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	e = errno == EINPROGRESS ? finish_connect(fd, timeout_ms) : errno;
	if (e == 0)
		return fd;
	close(fd);
	return -e;
}

static int resolve(const char *host, int port, struct addrinfo **res,
                   rm_error *err)
{
	struct addrinfo hints;
	char service[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, res);
	if (rc != 0)
		return rm__fail(err, RM_ERESOLVE, RM_OUTCOME_TRANSIENT, "host",
		                "cannot resolve '%s': %s", host,
		                gai_strerror(rc));
	return RM_OK;
}

int rm__conn_open(rm__conn *c, const char *host, int port, long timeout_ms,
                  const rm__log *log, rm_error *err)
{
	struct addrinfo *res, *ai;
	char addr[INET6_ADDRSTRLEN] = "";
	int fd = -1, last = 0, tried = 0;
	int rc = resolve(host, port, &res, err);

	if (rc != RM_OK)
		return rc;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		describe_addr(ai->ai_addr, addr, sizeof(addr));
		rm__logf(log, RM_LOG_DEBUG, "connecting to %s port %d", addr,
		         port);
		fd = try_address(ai, timeout_ms);
		tried++;
		if (fd < 0) {
			last = -fd;
			rm__logf(log, RM_LOG_INFO, "connect to %s port %d: %s",
			         addr, port, strerror(last));
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return rm__fail(err, RM_ECONNECT, RM_OUTCOME_TRANSIENT, "host",
		                "cannot connect to %s port %d (%d address%s "
		                "tried): %s", host, port, tried,
		                tried == 1 ? "" : "es", strerror(last));
	rm__conn_init(c);
	c->fd = fd;
	snprintf(c->where, sizeof(c->where), strchr(host, ':') != NULL ?
	         "[%s]:%d" : "%s:%d", host, port);
	return RM_OK;
}

static int fail_io(rm__conn *c, int code, const char *what, rm_error *err)
{
	return rm__fail(err, code, RM_OUTCOME_TRANSIENT, NULL, "%s %s: %s",
	                what, c->where, code == RM_ETIMEDOUT ? "timed out" :
	                code == RM_ECLOSED ? "connection closed by server" :
	                strerror(errno));
}

static int plain_read(rm__conn *c, void *buf, size_t len, size_t *got,
                      int64_t deadline, rm_error *err)
{
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, 0);
		int w;

		if (n > 0) {
			*got = (size_t)n;
			return RM_OK;
		}
		if (n == 0)
			return fail_io(c, RM_ECLOSED, "reading from", err);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail_io(c, RM_ECLOSED, "reading from", err);
		w = rm__net_wait(c->fd, POLLIN, deadline);
		if (w <= 0)
			return fail_io(c, w == 0 ? RM_ETIMEDOUT : RM_ECLOSED,
			               "reading from", err);
	}
}

int rm__conn_read(rm__conn *c, void *buf, size_t len, size_t *got,
                  int64_t deadline, rm_error *err)
{
	*got = 0;
	if (c->fd < 0)
		return rm__fail(err, RM_ECLOSED, RM_OUTCOME_TRANSIENT, NULL,
		                "the connection is closed");
	if (c->tls != NULL)
		return rm__tls_read(c->tls, buf, len, got, deadline, err);
	return plain_read(c, buf, len, got, deadline, err);
}

static int plain_write(rm__conn *c, const char *p, size_t len,
                       int64_t deadline, rm_error *err)
{
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		int w;

		c->writes++;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return fail_io(c, RM_ECLOSED, "writing to", err);
		w = rm__net_wait(c->fd, POLLOUT, deadline);
		if (w <= 0)
			return fail_io(c, w == 0 ? RM_ETIMEDOUT : RM_ECLOSED,
			               "writing to", err);
	}
	return RM_OK;
}

int rm__conn_write(rm__conn *c, const void *data, size_t len,
                   int64_t deadline, rm_error *err)
{
	if (c->fd < 0)
		return rm__fail(err, RM_ECLOSED, RM_OUTCOME_TRANSIENT, NULL,
		                "the connection is closed");
	if (c->tls != NULL) {
		c->writes++;
		return rm__tls_write(c->tls, data, len, deadline, err);
	}
	return plain_write(c, data, len, deadline, err);
}

int rm__conn_start_tls(rm__conn *c, rm__tls_config *cfg, const char *name,
                       int64_t deadline, rm_error *err)
{
	return rm__tls_start(&c->tls, cfg, c->fd, name, deadline, c->where,
	                     err);
}

void rm__conn_close(rm__conn *c, int notify)
{
	if (c->tls != NULL)
		rm__tls_free(c->tls, notify);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int rm__conn_local_literal(const rm__conn *c, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0)
		return RM_EIO;
	describe_addr((struct sockaddr *)&ss, addr, sizeof(addr));
	/* RFC 5321 section 4.1.3: IPv6 literals carry an "IPv6:" tag. */
	snprintf(buf, size, "[%s%s]", ss.ss_family == AF_INET6 ? "IPv6:" : "",
	         addr);
	return RM_OK;
}
