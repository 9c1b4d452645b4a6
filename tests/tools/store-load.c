/*
 * store-load - submit audit records to a store as a busy milter would, for
 * the crash, disk-full and fleet tests.
 *
 *   store-load URI COUNT [HOST] [FSIZE_BYTES]
 *
 * Submits COUNT records (ts = now, queue ids HOST-0..), one every 200 us, and
 * prints "submitted=N written=N dropped=N" after every 100 and at the end.
 * SIGTERM stops submitting and closes the store (which drains the queue), as
 * the daemon does. FSIZE_BYTES sets RLIMIT_FSIZE, so the database cannot grow
 * past it: the disk is "full" for this process (SIGXFSZ ignored, writes fail
 * with EFBIG). Exit 0; the counts tell the story.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "store.h"

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static void show(store *st)
{
	struct store_stats s;
	store_get_stats(st, &s);
	printf("submitted=%llu written=%llu dropped=%llu\n", (unsigned long long)s.submitted,
	       (unsigned long long)s.written, (unsigned long long)s.dropped);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *host = argc > 3 ? argv[3] : "load.test";
	if (argc > 4) {
		struct rlimit rl = { strtoul(argv[4], NULL, 10), strtoul(argv[4], NULL, 10) };
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	signal(SIGTERM, on_term);
	char err[512];
	struct store_opts o = { .queue_size = 500, .batch_size = 50, .host = host, .flush_timeout_ms = 3000 };
	store *st = store_open(argv[1], &o, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "store-load: %s\n", err);
		return 2;
	}
	long n = atol(argv[2]);
	struct audit_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.host, sizeof(r.host), "%s", host);
	r.direction = DIR_INBOUND;
	r.action = ACT_ACCEPT;
	r.action_enforced = ACT_ACCEPT;
	r.spf_result = AR_PASS;
	r.dmarc_result = AR_PASS;
	snprintf(r.from_domain, sizeof(r.from_domain), "load.test");
	snprintf(r.client_ip, sizeof(r.client_ip), "192.0.2.55");
	for (long i = 0; i < n && !stop; i++) {
		r.ts = (int64_t)time(NULL);
		snprintf(r.queue_id, sizeof(r.queue_id), "%s-%ld", host, i);
		store_submit(st, &r);
		if (i % 100 == 99)
			show(st);
		usleep(200);
	}
	struct store_stats s;
	store_close_stats(st, &s);
	printf("final submitted=%llu written=%llu dropped=%llu\n", (unsigned long long)s.submitted,
	       (unsigned long long)s.written, (unsigned long long)s.dropped);
	return 0;
}
