/*
 * metrics - Prometheus counters and a loopback HTTP responder; see metrics.h.
 *
 * The responder is deliberately minimal: it reads one request (bounded size
 * and time), answers GET /metrics with the exposition text and anything else
 * with 404, and closes the connection. It binds loopback addresses only so a
 * misconfiguration cannot publish traffic figures to the network; scrape it
 * through the host's exporter proxy or an SSH tunnel if needed.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "findings.h"
#include "metrics.h"

#define METRICS_REQ_MAX 4096          /* one request's bytes; a scrape sends ~200 */
#define METRICS_REQ_TIMEOUT_MS 2000   /* a slow client cannot hold the responder longer */
#define METRICS_BODY_MAX (1 << 20)

/* the label values are the names of the record's enums (audit.h) */
static const char *const methods[] = { "spf", "dkim", "dmarc", "arc" };
#define NDIR (DIR_OUTBOUND + 1)
#define NACT (ACT_LAST + 1)
#define NMETH 4
#define NRES (AR_POLICY + 1)
#define DIR_NAME(d) session_direction_name((enum direction)(d))
/* end-of-message latency buckets (seconds): the DNS lookups of SPF, DKIM and
 * DMARC dominate, so milliseconds to the per-query deadline and beyond */
static const double lat_le[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NLAT (sizeof(lat_le) / sizeof(lat_le[0]))

struct metrics {
	uint64_t messages[NDIR][NACT];
	uint64_t auth[NDIR][NMETH][NRES];
	uint64_t bulk[NDIR], one_click[NDIR], tls[NDIR];
	uint64_t arc_override[NDIR], arc_sealed[NDIR];
	uint64_t dns_errors;
	uint64_t lat[NLAT + 1];   /* per bucket (not cumulative); the last is +Inf */
	uint64_t lat_sum_us, lat_count;
	size_t nfind;             /* the finding table's names, plus one "other" */
	uint64_t *findings;
	int64_t start_time;
	store *st;
	int fd;                   /* listening socket, -1 */
	int stop_pipe[2];
	int port;
	pthread_t thread;
	int serving;
};

metrics *metrics_new(void)
{
	metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	while (findings_known_name(m->nfind))
		m->nfind++;
	m->findings = calloc(m->nfind + 1, sizeof(uint64_t));
	if (m->findings == NULL) {
		free(m);
		return NULL;
	}
	m->fd = -1;
	m->stop_pipe[0] = m->stop_pipe[1] = -1;
	m->start_time = (int64_t)time(NULL);
	return m;
}

/* dkim_result - one result per message: pass if any signature passes, else the first's. */
static enum auth_result dkim_result(const struct audit_record *r)
{
	if (r->nsigs == 0)
		return AR_NONE;
	for (size_t i = 0; i < r->nsigs; i++)
		if (r->sigs[i].result == AR_PASS)
			return AR_PASS;
	return r->sigs[0].result;
}

/* in_range - v is a value of an enum with n values. */
static int in_range(int v, int n) { return v >= 0 && v < n; }

static void add(uint64_t *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }

/* finding_index - the name's place in the finding table; nfind ("other")
 * for a name that is not in it. A message has a few findings and the table
 * about a hundred names: a scan costs less than the DNS of one lookup. */
static size_t finding_index(const metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nfind; i++)
		if (strcmp(name, findings_known_name(i)) == 0)
			return i;
	return m->nfind;
}

/* count_latency - one message's end-of-message time into the histogram. */
static void count_latency(metrics *m, int64_t us)
{
	if (us < 0)
		us = 0;
	size_t b = 0;
	while (b < NLAT && (double)us > lat_le[b] * 1e6)
		b++;
	add(&m->lat[b]);
	__atomic_add_fetch(&m->lat_sum_us, (uint64_t)us, __ATOMIC_RELAXED);
	add(&m->lat_count);
}

/* metrics_count - bump the counters for one message. */
void metrics_count(metrics *m, const struct audit_record *r)
{
	if (m == NULL)
		return;
	int d = r->direction == DIR_OUTBOUND;
	if (in_range((int)r->action_enforced, NACT))
		add(&m->messages[d][r->action_enforced]);
	const enum auth_result w[NMETH] = { r->spf_result, dkim_result(r), r->dmarc_result, r->arc };
	for (int k = 0; k < NMETH; k++)
		if (in_range((int)w[k], NRES))
			add(&m->auth[d][k][w[k]]);
	if (r->bulk) {
		add(&m->bulk[d]);
		if (r->unsub_verdict == UNSUB_COMPLIANT)
			add(&m->one_click[d]);
	}
	if (r->tls_version[0])
		add(&m->tls[d]);
	if (r->arc_override[0])
		add(&m->arc_override[d]);
	if (r->arc_sealed)
		add(&m->arc_sealed[d]);
	count_latency(m, r->eom_us);
	for (size_t i = 0; i < r->nfindings; i++)
		add(&m->findings[finding_index(m, r->findings[i])]);
	/* a DNS error is any temporary failure of a lookup the message needed */
	for (size_t i = 0; i < r->nfindings; i++) {
		const char *f = r->findings[i];
		size_t l = strlen(f);
		if ((l > 10 && strcmp(f + l - 10, ".temperror") == 0) ||
		    strcmp(f, "dns.budget_exhausted") == 0) {
			add(&m->dns_errors);
			break;
		}
	}
}

void metrics_set_store(metrics *m, store *st)
{
	if (m)
		__atomic_store_n(&m->st, st, __ATOMIC_SEQ_CST);
}

static uint64_t get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

/* render_process - build information and the start time. */
static void render_process(const metrics *m, buf *o)
{
	buf_printf(o, "# HELP trustmilter_build_info The running version (always 1).\n"
	              "# TYPE trustmilter_build_info gauge\n"
	              "trustmilter_build_info{version=\"%s\"} 1\n"
	              "# HELP process_start_time_seconds Start time of the process since the epoch, in seconds.\n"
	              "# TYPE process_start_time_seconds gauge\n"
	              "process_start_time_seconds %lld\n", TM_VERSION, (long long)m->start_time);
}

/* render_latency - the end-of-message histogram (cumulative buckets). */
static void render_latency(metrics *m, buf *o)
{
	buf_puts(o, "# HELP trustmilter_eom_duration_seconds Time spent evaluating a message at end of "
	            "message (what the MTA waits for), DNS lookups included.\n"
	            "# TYPE trustmilter_eom_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t b = 0; b <= NLAT; b++) {
		cum += get(&m->lat[b]);
		if (b < NLAT)
			buf_printf(o, "trustmilter_eom_duration_seconds_bucket{le=\"%g\"} %llu\n", lat_le[b],
			           (unsigned long long)cum);
		else
			buf_printf(o, "trustmilter_eom_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			           (unsigned long long)cum);
	}
	buf_printf(o, "trustmilter_eom_duration_seconds_sum %.6f\n"
	              "trustmilter_eom_duration_seconds_count %llu\n",
	           (double)get(&m->lat_sum_us) / 1e6, (unsigned long long)get(&m->lat_count));
}

/* render_findings - messages per finding name: every name of the finding
 * table (a bounded label set), plus "other". */
static void render_findings(metrics *m, buf *o)
{
	buf_puts(o, "# HELP trustmilter_findings_total Messages with each finding (docs/FINDINGS.md).\n"
	            "# TYPE trustmilter_findings_total counter\n");
	for (size_t i = 0; i <= m->nfind; i++)
		buf_printf(o, "trustmilter_findings_total{finding=\"%s\"} %llu\n",
		           i < m->nfind ? findings_known_name(i) : "other",
		           (unsigned long long)get(&m->findings[i]));
}

/* render_by_direction - one counter per direction, with its help text. */
static void render_by_direction(buf *o, const char *name, const char *help, const uint64_t v[NDIR])
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (int d = 0; d < NDIR; d++)
		buf_printf(o, "%s{direction=\"%s\"} %llu\n", name, DIR_NAME(d), (unsigned long long)get(&v[d]));
}

/* metrics_render - the text exposition format, version 0.0.4. */
int metrics_render(metrics *m, buf *o)
{
	render_process(m, o);
	buf_puts(o, "# HELP trustmilter_messages_total Messages evaluated, by direction and action taken.\n"
	            "# TYPE trustmilter_messages_total counter\n");
	for (int d = 0; d < NDIR; d++)
		for (int a = 0; a < NACT; a++)
			buf_printf(o, "trustmilter_messages_total{direction=\"%s\",action=\"%s\"} %llu\n",
			           DIR_NAME(d), verdict_action_name((enum verdict_action)a),
			           (unsigned long long)get(&m->messages[d][a]));
	buf_puts(o, "# HELP trustmilter_auth_results_total Messages by authentication method and result "
	            "(dkim: pass if any signature passes).\n"
	            "# TYPE trustmilter_auth_results_total counter\n");
	for (int d = 0; d < NDIR; d++)
		for (int k = 0; k < NMETH; k++)
			for (int x = 0; x < NRES; x++)
				buf_printf(o, "trustmilter_auth_results_total{direction=\"%s\",method=\"%s\","
				           "result=\"%s\"} %llu\n", DIR_NAME(d), methods[k],
				           result_name((enum auth_result)x),
				           (unsigned long long)get(&m->auth[d][k][x]));
	render_by_direction(o, "trustmilter_bulk_messages_total", "Bulk messages.", m->bulk);
	render_by_direction(o, "trustmilter_one_click_compliant_total",
	                    "Bulk messages with compliant RFC 8058 one-click unsubscribe.", m->one_click);
	render_by_direction(o, "trustmilter_tls_messages_total", "Messages whose SMTP hop used TLS.", m->tls);
	render_by_direction(o, "trustmilter_arc_overrides_total",
	                    "Messages whose DMARC failure a trusted ARC sealer overrode.", m->arc_override);
	render_by_direction(o, "trustmilter_arc_sealed_total", "Messages we ARC-sealed.", m->arc_sealed);
	buf_printf(o, "# HELP trustmilter_dns_errors_total Messages with a temporary DNS failure.\n"
	              "# TYPE trustmilter_dns_errors_total counter\n"
	              "trustmilter_dns_errors_total %llu\n", (unsigned long long)get(&m->dns_errors));
	render_latency(m, o);
	render_findings(m, o);
	store *st = __atomic_load_n(&m->st, __ATOMIC_SEQ_CST);
	if (st) {
		struct store_stats s;
		store_get_stats(st, &s);
		buf_printf(o, "# HELP trustmilter_store_queue_depth Audit records waiting for the writer.\n"
		              "# TYPE trustmilter_store_queue_depth gauge\n"
		              "trustmilter_store_queue_depth %zu\n"
		              "# HELP trustmilter_store_queue_size Capacity of the audit queue.\n"
		              "# TYPE trustmilter_store_queue_size gauge\n"
		              "trustmilter_store_queue_size %zu\n"
		              "# HELP trustmilter_store_written_total Audit records committed.\n"
		              "# TYPE trustmilter_store_written_total counter\n"
		              "trustmilter_store_written_total %llu\n"
		              "# HELP trustmilter_store_dropped_total Audit records dropped (queue full or database unavailable).\n"
		              "# TYPE trustmilter_store_dropped_total counter\n"
		              "trustmilter_store_dropped_total %llu\n"
		              "# HELP trustmilter_store_errors_total Failed audit store transactions (retried).\n"
		              "# TYPE trustmilter_store_errors_total counter\n"
		              "trustmilter_store_errors_total %llu\n",
		           s.depth, s.queue_size, (unsigned long long)s.written,
		           (unsigned long long)s.dropped, (unsigned long long)s.errors);
	}
	return buf_overflowed(o) ? -1 : 0;
}

/* answer - read one request, write one response, close. */
static void answer(metrics *m, int c)
{
	struct timeval tv = { METRICS_REQ_TIMEOUT_MS / 1000, (METRICS_REQ_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char req[METRICS_REQ_MAX + 1];
	size_t n = 0;
	while (n < METRICS_REQ_MAX) {
		ssize_t r = read(c, req + n, METRICS_REQ_MAX - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[n] = '\0';
	buf *body = buf_new(METRICS_BODY_MAX), *out = buf_new(METRICS_BODY_MAX + 512);
	if (body == NULL || out == NULL)
		goto done;
	/* HEAD gets the headers of the GET (a monitor's "is it up?") */
	int head = strncmp(req, "HEAD ", 5) == 0;
	const char *path = req + (head ? 5 : 4);
	int ok = (head || strncmp(req, "GET ", 4) == 0) &&
	         (strncmp(path, "/metrics ", 9) == 0 || strncmp(path, "/metrics?", 9) == 0);
	if (ok)
		metrics_render(m, body);
	else
		buf_puts(body, "not found: GET /metrics\n");
	buf_printf(out, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	                "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	           ok ? "200 OK" : "404 Not Found", buf_len(body));
	if (!head)
		buf_append(out, buf_data(body), buf_len(body));
	const char *p = buf_data(out);
	size_t left = buf_len(out);
	while (left) {
		ssize_t w = write(c, p, left);
		if (w <= 0)
			break;
		p += w;
		left -= (size_t)w;
	}
done:
	buf_free(body);
	buf_free(out);
	close(c);
}

/* responder - accept loop until the stop pipe becomes readable. */
static void *responder(void *arg)
{
	metrics *m = arg;
	for (;;) {
		struct pollfd p[2] = { { m->fd, POLLIN, 0 }, { m->stop_pipe[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			int c = accept(m->fd, NULL, NULL);
			if (c >= 0)
				answer(m, c);
		}
	}
	return NULL;
}

/* listen_parse - "127.0.0.1:PORT", "[::1]:PORT" or "localhost:PORT" into a
 * socket address; -1 with a reason for anything else (loopback only). */
static int listen_parse(const char *listen_on, struct sockaddr_storage *ss, socklen_t *sl,
                        char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(listen_on, ':');
	if (colon == NULL || str_copy(host, sizeof(host), listen_on, (size_t)(colon - listen_on)) < 0) {
		snprintf(err, errlen, "metrics.listen \"%s\": use 127.0.0.1:PORT or [::1]:PORT", listen_on);
		return -1;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || colon[1] == '\0') {
		snprintf(err, errlen, "metrics.listen \"%s\": bad port", listen_on);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (strcmp(host, "localhost") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
		         (ntohl(s4->sin_addr.s_addr) >> 24) != 127) {
			snprintf(err, errlen, "metrics.listen \"%s\": only loopback addresses "
			         "(127.0.0.0/8, ::1) are allowed", listen_on);
			return -1;
		}
		*sl = sizeof(*s4);
	}
	return 0;
}

/* metrics_listen_check - see metrics.h. */
int metrics_listen_check(const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	return listen_parse(listen_on, &ss, &sl, err, errlen);
}

/* metrics_serve - parse the loopback address, bind, start the thread. */
int metrics_serve(metrics *m, const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (listen_parse(listen_on, &ss, &sl, err, errlen) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0 ||
	    pipe2(m->stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "metrics.listen \"%s\": %s", listen_on, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                         : ((struct sockaddr_in *)&ss)->sin_port);
	m->fd = fd;
	if (pthread_create(&m->thread, NULL, responder, m) != 0) {
		snprintf(err, errlen, "metrics: cannot start the responder thread");
		return -1;
	}
	m->serving = 1;
	return 0;
}

int metrics_port(const metrics *m) { return m && m->serving ? m->port : 0; }

void metrics_free(metrics *m)
{
	if (m == NULL)
		return;
	if (m->serving) {
		if (write(m->stop_pipe[1], "x", 1) < 0) {
			/* the pipe is ours and empty: cannot fail in practice */
		}
		pthread_join(m->thread, NULL);
	}
	if (m->fd >= 0)
		close(m->fd);
	for (int i = 0; i < 2; i++)
		if (m->stop_pipe[i] >= 0)
			close(m->stop_pipe[i]);
	free(m->findings);
	free(m);
}
