/*
 * Declarations shared by the route layer's files: the composite
 * transports (route.c), their URL grammar (route_parse.c), the send loop
 * (route_send.c) and the circuit breaker with its stores
 * (route_breaker.c). Nothing here leaves the library.
 */
#ifndef RM_ROUTE_INT_H
#define RM_ROUTE_INT_H

#include <stdint.h>

#include "internal.h"

typedef enum rm__route_kind {
	RM__ROUTE_RETRY,
	RM__ROUTE_FAILOVER,
	RM__ROUTE_ROUNDROBIN,
	RM__ROUTE_WEIGHTED
} rm__route_kind;

/* ---------------------------------------------------------------------- */
/* Circuit breaker (route_breaker.c)                                      */
/* ---------------------------------------------------------------------- */

/* What the breaker knows about one wrapped transport. Times are ms since
 * the Unix epoch, from the route's clock. */
typedef struct rm__breaker_state {
	long failures;         /* consecutive failed tries */
	long long open_until;  /* skipped until then once failures >= K */
	long long probe_until; /* a probe is out until then */
} rm__breaker_state;

/* Reads and changes one state; called with the store locked. */
typedef void (*rm__breaker_fn)(rm__breaker_state *st, void *arg);

/*
 * Where breaker states live. update finds (or creates, zeroed) the state
 * of key, runs fn on it and keeps the change, as one atomic step for
 * every user of the store.
 */
typedef struct rm__breaker_store rm__breaker_store;
struct rm__breaker_store {
	int (*update)(rm__breaker_store *s, const char *key,
	              rm__breaker_fn fn, void *arg, rm_error *err);
	void (*free)(rm__breaker_store *s);
};

/* In this process only. */
int rm__breaker_store_memory(rm__breaker_store **out, rm_error *err);

/* In a file shared by every process on the machine, under flock. */
int rm__breaker_store_file(rm__breaker_store **out, const char *path,
                           rm_error *err);

typedef struct rm__breaker {
	rm__breaker_store *store;  /* NULL: the breaker is off */
	long threshold;            /* K consecutive failures open it */
	long long cooldown_ms;     /* how long it stays open */
} rm__breaker;

/*
 * 1 if the transport called key may be tried at now: the breaker is
 * closed, or its cooldown is over and this is the one probe. 0 if it is
 * to be skipped. A store that fails lets the try happen (logged).
 */
int rm__breaker_admit(rm__breaker *b, const char *key, long long now,
                      const rm__log *log);

/* Records a try: failed says whether it counts against the transport. */
void rm__breaker_record(rm__breaker *b, const char *key, int failed,
                        long long now, const rm__log *log);

void rm__breaker_free(rm__breaker *b);

/* ---------------------------------------------------------------------- */
/* Composite transports (route.c, route_parse.c)                          */
/* ---------------------------------------------------------------------- */

typedef struct rm__route_child {
	rm_transport *t;
	char *name;            /* as attempts and counters show it */
	long weight;           /* weighted(): from "URL:weight" */
	long current;          /* smooth weighted round robin state */
} rm__route_child;

typedef struct rm__route_cfg {
	long attempts;              /* retry(): tries in all */
	long long deadline_ms;      /* retry(): for all tries and waits */
	long long backoff_ms;       /* retry(): the first backoff ceiling */
	long long backoff_max_ms;   /* retry(): the largest ceiling */
	long long max_wait_ms;      /* the longest server hint honoured */
	int resend_ambiguous;       /* resend after an ambiguous outcome */
} rm__route_cfg;

typedef struct rm__route {
	rm_transport *t;            /* the composite itself */
	rm__route_kind kind;
	rm__route_cfg cfg;
	rm__route_child *children;
	size_t child_count;
	size_t cursor;              /* roundrobin(): the next first child */
	int rotation_started;       /* the rotation got its random start */
	rm__breaker breaker;
	int nested;                 /* inside another composite */
	int handed_retry;           /* the parent's current send is a retry */
	rm_now_fn now;
	rm_sleep_fn sleep;
	void *clock_user;
	rm_random_fn random;
	void *random_user;
	rm_event_fn event;
	void *event_user;
} rm__route;

/* The name of a kind, such as "failover". */
const char *rm__route_kind_name(rm__route_kind kind);

/*
 * Parses text ("kind(child child ...)?options") into r, opening every
 * child with rm_transport_open and opts. On failure r holds what was
 * opened so far, for rm__route_free.
 */
int rm__route_parse(rm__route *r, const char *text,
                    const rm_transport_opts *opts, rm_error *err);
void rm__route_free(rm__route *r);

/* The route's clock, sleep and random source (injected or the system's) */
long long rm__route_now(const rm__route *r);
void rm__route_sleep(const rm__route *r, long long ms);
uint32_t rm__route_random(const rm__route *r);

/* Passes an event to the caller's callback, if any. */
void rm__route_emit(const rm__route *r, rm_event_kind kind,
                    const rm_attempt *attempt, const rm_result *result,
                    int status);

/* ---------------------------------------------------------------------- */
/* Sending (route_send.c)                                                 */
/* ---------------------------------------------------------------------- */

int rm__route_send(rm_transport *t, rm_message *msg, rm_result *result,
                   rm_error *err);

#endif /* RM_ROUTE_INT_H */
