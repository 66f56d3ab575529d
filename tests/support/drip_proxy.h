/*
 * A loopback TCP relay for one connection that passes what the client
 * sends at once and what the server sends in pieces of a few bytes, each
 * its own write: a stand-in for a slow or oddly segmenting network, so
 * that a reader must put records and lines together from fragments.
 */
#ifndef DRIP_PROXY_H
#define DRIP_PROXY_H

#include <stddef.h>

typedef struct drip_proxy drip_proxy;

/* Listens on 127.0.0.1 and relays the first connection to
 * 127.0.0.1:target, the server's bytes piece bytes at a time.
 * Returns 0 on success. */
int drip_start(drip_proxy **out, int target, size_t piece);
int drip_port(const drip_proxy *p);
/* Waits for the relay to end (either side closed) and frees it;
 * returns how many writes the server's bytes took to reach the client. */
size_t drip_stop(drip_proxy *p);

#endif /* DRIP_PROXY_H */
