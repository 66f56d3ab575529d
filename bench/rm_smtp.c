/*
 * rm_smtp: sends N messages through relaymail over one or more reused
 * connections (any transport URL: smtp://, sendgrid://, failover(...))
 * and prints what it measured on one line:
 *
 *   elapsed=SECONDS sent=N rss_base_kb=K rss_peak_kb=K rss_anon_kb=K
 *   rss_file_kb=K
 *
 *   rm_smtp --url URL --count N [--threads T] [--body FILE]
 *           [--attach FILE] [--fresh]
 *
 * --fresh opens a new transport for every message and closes it after
 * (one thread), and adds ms_median=MS: the median time of one
 * open-send-close, to see what a first send through a route costs.
 *
 * Each thread opens its own transport and sends count/threads messages,
 * building a fresh message for each send as an application would. The
 * clock starts before the first connection and stops after the last
 * reply, so connecting, EHLO and STARTTLS are inside the figure.
 * rss_base_kb is the peak resident size once the body is loaded and
 * before any send; rss_peak_kb is the peak at the end; rss_anon_kb and
 * rss_file_kb split the resident size at the end into the program's own
 * memory (heap, stacks) and mapped files (the program and its shared
 * libraries).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <relaymail.h>

#define THREADS_MAX 64

typedef struct config {
	const char *url;
	const char *body_file;
	const char *attach;
	long count;
	long threads;
	int fresh;
	char *body;
	size_t body_len;
} config;

typedef struct worker {
	const config *cfg;
	double *latency;       /* --fresh: seconds per message */
	long count;
	int failed;
	pthread_t id;
} worker;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The peak resident size of this program's memory, VmHWM. getrusage()'s
 * ru_maxrss would not do: Linux carries it over exec from the parent,
 * so a child of a larger harness reports the harness's peak.
 */
static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(key);
	long kb = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kb;
}

static long peak_rss_kb(void)
{
	return status_kb("VmHWM");
}

static int report(const char *what, const rm_error *err)
{
	fprintf(stderr, "rm_smtp: %s: %s [%s] %s\n", what,
	        rm_strerror(err->code), err->field, err->message);
	return -1;
}

/* One message as an application builds it: From, To, Subject, text. */
static int build(const config *cfg, rm_message **out, rm_error *err)
{
	rm_message *m = NULL;
	int rc = rm_message_new(&m, err);

	if (rc == RM_OK)
		rc = rm_message_set_from(m, "bench@example.com", NULL, err);
	if (rc == RM_OK)
		rc = rm_message_add_to(m, "sink@example.com", NULL, err);
	if (rc == RM_OK)
		rc = rm_message_set_subject(m, "relaymail bench", err);
	if (rc == RM_OK)
		rc = rm_message_set_text(m, cfg->body, cfg->body_len, err);
	if (rc == RM_OK && cfg->attach != NULL)
		rc = rm_message_attach_file(m, cfg->attach, NULL, err);
	if (rc != RM_OK) {
		rm_message_free(m);
		return report("building the message", err);
	}
	*out = m;
	return 0;
}

static int send_all(worker *w, rm_transport *t)
{
	rm_error err;
	long i;

	for (i = 0; i < w->count; i++) {
		rm_message *m;
		int rc;

		if (build(w->cfg, &m, &err) != 0)
			return -1;
		rc = rm_send(t, m, NULL, &err);
		rm_message_free(m);
		if (rc != RM_OK)
			return report("sending", &err);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* --fresh: every message on a transport of its own. */
static int send_fresh(worker *w)
{
	rm_transport *t;
	rm_error err;
	long i;

	for (i = 0; i < w->count; i++) {
		double t0 = now_s();
		int rc;

		if (rm_transport_open(&t, w->cfg->url, NULL, &err) != RM_OK)
			return report("opening the transport", &err);
		w->count = 1;
		rc = send_all(w, t);
		w->count = w->cfg->count;
		rm_transport_close(t);
		if (rc != 0)
			return -1;
		w->latency[i] = now_s() - t0;
	}
	qsort(w->latency, (size_t)w->count, sizeof(double), cmp_double);
	return 0;
}

static void *run_worker(void *arg)
{
	worker *w = arg;
	rm_transport *t = NULL;
	rm_error err;

	if (w->cfg->fresh) {
		w->failed = send_fresh(w) != 0;
		return NULL;
	}
	if (rm_transport_open(&t, w->cfg->url, NULL, &err) != RM_OK) {
		report("opening the transport", &err);
		w->failed = 1;
		return NULL;
	}
	if (send_all(w, t) != 0)
		w->failed = 1;
	rm_transport_close(t);
	return NULL;
}

static int load_body(config *cfg)
{
	FILE *f;
	long n;

	if (cfg->body_file == NULL) {
		cfg->body = strdup("relaymail bench\n");
		cfg->body_len = strlen(cfg->body);
		return 0;
	}
	f = fopen(cfg->body_file, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		perror(cfg->body_file);
		return -1;
	}
	rewind(f);
	cfg->body = malloc((size_t)n + 1);
	cfg->body_len = fread(cfg->body, 1, (size_t)n, f);
	fclose(f);
	return 0;
}

/* Stores the value of option k; 0 if k is not one that takes a value. */
static int set_option(config *cfg, const char *k, const char *v)
{
	if (strcmp(k, "--url") == 0)
		cfg->url = v;
	else if (strcmp(k, "--count") == 0)
		cfg->count = strtol(v, NULL, 10);
	else if (strcmp(k, "--threads") == 0)
		cfg->threads = strtol(v, NULL, 10);
	else if (strcmp(k, "--body") == 0)
		cfg->body_file = v;
	else if (strcmp(k, "--attach") == 0)
		cfg->attach = v;
	else
		return 0;
	return 1;
}

static int parse_args(int argc, char **argv, config *cfg)
{
	int i = 1;

	while (i < argc) {
		if (strcmp(argv[i], "--fresh") == 0) {
			cfg->fresh = 1;
			i++;
		} else if (i + 1 < argc &&
		           set_option(cfg, argv[i], argv[i + 1])) {
			i += 2;
		} else {
			break;
		}
	}
	if (i < argc || cfg->url == NULL || cfg->count < 1 ||
	    cfg->threads < 1 || cfg->threads > THREADS_MAX ||
	    (cfg->fresh && cfg->threads != 1)) {
		fputs("usage: rm_smtp --url URL --count N [--threads T] "
		      "[--body FILE] [--attach FILE] [--fresh]\n", stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	config cfg = { NULL, NULL, NULL, 0, 1, 0, NULL, 0 };
	worker w[THREADS_MAX];
	long i, sent = 0, base;
	int failed = 0;
	double t0;

	if (parse_args(argc, argv, &cfg) != 0 || load_body(&cfg) != 0)
		return 2;
	base = peak_rss_kb();
	t0 = now_s();
	for (i = 0; i < cfg.threads; i++) {
		w[i].cfg = &cfg;
		w[i].failed = 0;
		w[i].latency = NULL;
		w[i].count = cfg.count / cfg.threads +
		             (i < cfg.count % cfg.threads ? 1 : 0);
		if (cfg.fresh)
			w[i].latency = calloc((size_t)cfg.count, sizeof(double));
		if (cfg.threads == 1)
			run_worker(&w[i]);
		else
			pthread_create(&w[i].id, NULL, run_worker, &w[i]);
	}
	for (i = 0; i < cfg.threads; i++) {
		if (cfg.threads > 1)
			pthread_join(w[i].id, NULL);
		failed |= w[i].failed;
		sent += w[i].failed ? 0 : w[i].count;
	}
	printf("elapsed=%.6f sent=%ld rss_base_kb=%ld rss_peak_kb=%ld "
	       "rss_anon_kb=%ld rss_file_kb=%ld\n", now_s() - t0, sent, base,
	       peak_rss_kb(), status_kb("RssAnon"), status_kb("RssFile"));
	if (cfg.fresh && !failed)
		printf("ms_median=%.3f\n", w[0].latency[cfg.count / 2] * 1e3);
	free(w[0].latency);
	free(cfg.body);
	return failed ? 1 : 0;
}
