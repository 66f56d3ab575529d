/*
 * The relay of drip_proxy.h: one thread, poll(2) on both sockets.
 */
#include "drip_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the relay waits for either side before it gives up. */
#define IDLE_MS 10000

struct drip_proxy {
	int listen_fd;
	int port;
	int target;
	size_t piece;
	size_t writes;
	pthread_t thread;
};

static int listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static int connect_loopback(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Without it the kernel would join the pieces again. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Passes what the server sent in pieces, a short pause after each so
 * that the client reads them one by one. */
static int drip(drip_proxy *p, int to, const char *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += p->piece) {
		size_t n = len - off < p->piece ? len - off : p->piece;

		if (send_all(to, buf + off, n) != 0)
			return -1;
		p->writes++;
		usleep(200);
	}
	return 0;
}

static void relay(drip_proxy *p, int client, int server)
{
	struct pollfd fds[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
	char buf[16384];

	while (poll(fds, 2, IDLE_MS) > 0) {
		ssize_t n;

		if (fds[0].revents != 0) {
			n = recv(client, buf, sizeof(buf), 0);
			if (n <= 0 || send_all(server, buf, (size_t)n) != 0)
				return;
		}
		if (fds[1].revents != 0) {
			n = recv(server, buf, sizeof(buf), 0);
			if (n <= 0 || drip(p, client, buf, (size_t)n) != 0)
				return;
		}
	}
}

static void *run(void *arg)
{
	drip_proxy *p = arg;
	int client = accept(p->listen_fd, NULL, NULL), server = -1;
	int on = 1;

	if (client >= 0) {
		setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		server = connect_loopback(p->target);
	}
	if (client >= 0 && server >= 0)
		relay(p, client, server);
	if (server >= 0)
		close(server);
	if (client >= 0)
		close(client);
	return NULL;
}

int drip_start(drip_proxy **out, int target, size_t piece)
{
	drip_proxy *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL || piece == 0)
		goto fail;
	p->target = target;
	p->piece = piece;
	p->listen_fd = listen_loopback(&p->port);
	if (p->listen_fd < 0)
		goto fail;
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		close(p->listen_fd);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	free(p);
	return -1;
}

int drip_port(const drip_proxy *p)
{
	return p->port;
}

size_t drip_stop(drip_proxy *p)
{
	size_t writes;

	if (p == NULL)
		return 0;
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	writes = p->writes;
	free(p);
	return writes;
}
