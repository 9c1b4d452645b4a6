/*
 * audit-bench - CPU cost of the audit path per message: building the record
 * from an evaluated session, queueing it, and the writer thread's share of
 * writing it to an on-disk SQLite store.
 *
 *   audit-bench DBPATH [COUNT [INTERVAL_US]]
 *
 * Evaluates one message through the session API (DNS pointed at a closed
 * port, so every lookup fails at once), then builds COUNT records from that
 * session as record_message() does (malloc, audit_from_session, free) and
 * submits them to the store opened on DBPATH with the daemon's defaults
 * (waiting for the writer every 2,000 records, as no milter receives mail
 * that fast), and closes the store (which writes everything). It prints the
 * CPU time per message of the audit path: the submitting thread's time in
 * building and queueing (CLOCK_THREAD_CPUTIME_ID around those calls only)
 * plus the writer thread's (the process's CPU time less the submitting
 * thread's), and the building alone (a separate loop first).
 * INTERVAL_US > 0 sleeps that long between messages, as mail arriving at a
 * steady rate does (the writer then has fewer records per wake-up); the
 * sleeping is not counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "record.h"
#include "session.h"
#include "store.h"

/* cpu_us - CPU time of the whole process (every thread), microseconds. */
static double cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* thread_us - CPU time of the calling thread, microseconds. */
static double thread_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void quiet(void *arg, int is_error, const char *msg) { (void)arg, (void)is_error, (void)msg; }

/* evaluate - one newsletter-like message through the session API. */
static void evaluate(session *s)
{
	session_connect(s, "mail.sender.test", "192.0.2.10");
	session_helo(s, "mail.sender.test");
	session_set_macro(s, "i", "4ABCDEF123");
	session_set_macro(s, "tls_version", "TLSv1.3");
	session_mail(s, "<bounce@sender.test>");
	session_rcpt(s, "<b@recipient.test>");
	const char *h[][2] = {
		{ "From", " News <news@sender.test>" }, { "To", " b@recipient.test" },
		{ "Subject", " Weekly news" }, { "Date", " Sun, 6 Dec 2026 10:00:00 +0000" },
		{ "Message-ID", " <n1@sender.test>" }, { "List-Id", " <news.sender.test>" },
		{ "List-Unsubscribe", " <https://sender.test/u/1>, <mailto:u@sender.test>" },
		{ "List-Unsubscribe-Post", " List-Unsubscribe=One-Click" },
		{ "DKIM-Signature", " v=1; a=rsa-sha256; d=sender.test; s=s1; h=from:list-unsubscribe:"
		  "list-unsubscribe-post; bh=AAAA; b=AAAA" },
		{ "MIME-Version", " 1.0" }, { "Content-Type", " text/plain; charset=utf-8" },
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		session_header(s, h[i][0], strlen(h[i][0]), h[i][1], strlen(h[i][1]));
	session_eoh(s);
	const char *body = "Hello,\r\nthis week: https://sender.test/a https://sender.test/b\r\n";
	session_body(s, (const unsigned char *)body, strlen(body));
	session_eom(s);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: audit-bench DBPATH [COUNT]\n");
		return 2;
	}
	long n = argc > 2 ? atol(argv[2]) : 100000;
	long interval = argc > 3 ? atol(argv[3]) : 0;
	char err[512], uri[600];
	conf *c = conf_load(NULL, err, sizeof(err));
	if (c == NULL || conf_set(c, "dns.forwarders", "127.0.0.1@1", err, sizeof(err)) < 0 ||
	    conf_set(c, "dns.timeout_ms", "100", err, sizeof(err)) < 0 ||
	    conf_set(c, "hostname", "mx.recipient.test", err, sizeof(err)) < 0) {
		fprintf(stderr, "audit-bench: %s\n", err);
		return 2;
	}
	tm_env *env = tm_env_new(c, err, sizeof(err));
	conf_unref(c);
	if (env == NULL) {
		fprintf(stderr, "audit-bench: %s\n", err);
		return 2;
	}
	snprintf(uri, sizeof(uri), "sqlite:%s", argv[1]);
	store *st = store_open_conf(tm_env_conf(env), uri, tm_env_hostname(env), quiet, NULL, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "audit-bench: %s\n", err);
		return 2;
	}
	session *s = session_new(env);
	evaluate(s);
	struct audit_record *r = malloc(sizeof(*r));
	if (r == NULL || audit_from_session(s, r) < 0) {
		fprintf(stderr, "audit-bench: no evaluated message\n");
		return 2;
	}
	/* building alone, then building and queueing with the writer running */
	double t0 = thread_us();
	for (long i = 0; i < n; i++) {
		struct audit_record *m = malloc(sizeof(*m));   /* as record_message() does */
		if (m)
			audit_from_session(s, m);
		free(m);
	}
	double build = thread_us() - t0;
	double path = 0, proc0 = cpu_us(), main0 = thread_us();
	for (long i = 0; i < n; i++) {
		double a = thread_us();
		struct audit_record *m = malloc(sizeof(*m));
		if (m && audit_from_session(s, m) == 0)
			store_submit(st, m);
		free(m);
		path += thread_us() - a;
		/* the milter's mail arrives slower than this loop: let the writer
		 * keep up (waiting costs no CPU) so that nothing is dropped */
		if (i % 2000 == 1999)
			store_flush(st, 60000);
		if (interval > 0)
			usleep((useconds_t)interval);
	}
	struct store_stats ss;
	double a = thread_us();
	store_close_stats(st, &ss);
	path += thread_us() - a;
	/* the writer's CPU: the process's less this (the only other) thread's */
	double writer = (cpu_us() - proc0) - (thread_us() - main0);
	printf("messages=%ld interval_us=%ld written=%llu dropped=%llu record_bytes=%zu\n", n, interval,
	       (unsigned long long)ss.written, (unsigned long long)ss.dropped, sizeof(*r));
	printf("audit_cpu_us_per_message=%.2f build=%.2f build_and_queue=%.2f writer=%.2f\n",
	       (path + writer) / (double)n, build / (double)n, path / (double)n, writer / (double)n);
	free(r);
	session_free(s);
	tm_env_unref(env);
	return ss.dropped ? 1 : 0;
}
