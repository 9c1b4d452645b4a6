/*
 * store-gen - fill an audit store with varied records as fast as the
 * writer takes them, for comparing the report's aggregations and for the
 * report benchmark.
 *
 *   store-gen URI COUNT END_EPOCH DAYS [SEED]
 *
 * Writes COUNT records with timestamps spread over the DAYS days before
 * END_EPOCH, from a fixed pseudo-random sequence (SEED, default 1): both
 * directions, 2,000 From domains (a few large), campaigns, client
 * addresses, every SPF/DKIM/DMARC outcome, one-click verdicts, findings,
 * spam scores (some unknown), sizes and recipients. A domain keeps its
 * DMARC policy. Prints "written=N dropped=N"; exit 0 only when none was
 * dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

/* next - a 64-bit LCG (Knuth's MMIX constants); the high bits. */
static uint32_t next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static const char *const names[] = {
	"format.date_missing", "format.message_id_missing", "unsub.post_bad_value",
	"unsub.no_https", "dkim.sig_expired", "spf.permerror", "bulk.no_list_unsubscribe",
	"dmarc.no_record", "format.from_multiple", "spam.url_shortener",
};
#define NFIND (sizeof(names) / sizeof(names[0]))

/* fill - record i of the sequence. */
static void fill(struct audit_record *r, uint64_t *s, long i, int64_t end, int days)
{
	memset(r, 0, sizeof(*r));
	r->ts = end - 1 - (int64_t)(next(s) % (uint32_t)(days * 86400));
	snprintf(r->host, sizeof(r->host), "mx%u.gen.test", next(s) % 3);
	snprintf(r->queue_id, sizeof(r->queue_id), "Q%ld", i);
	r->direction = next(s) % 10 == 0 ? DIR_OUTBOUND : DIR_INBOUND;
	uint32_t d = next(s) % 100 < 50 ? next(s) % 20 : next(s) % 2000;
	if (d != 7)
		snprintf(r->from_domain, sizeof(r->from_domain), "d%u.example", d);
	snprintf(r->client_ip, sizeof(r->client_ip), "192.0.2.%u", next(s) % 250);
	static const enum auth_result res[] = { AR_PASS, AR_PASS, AR_PASS, AR_FAIL, AR_SOFTFAIL, AR_NONE };
	r->spf_result = res[next(s) % 6];
	r->nsigs = next(s) % 3;
	for (size_t k = 0; k < r->nsigs; k++) {
		r->sigs[k].result = res[next(s) % 6];
		r->sigs[k].aligned = next(s) % 2;
		snprintf(r->sigs[k].domain, sizeof(r->sigs[k].domain), "d%u.example", d);
		snprintf(r->sigs[k].selector, sizeof(r->sigs[k].selector), "s%zu", k);
	}
	r->dmarc_policy = (enum dmarc_policy)(d % 4);
	r->dmarc_result = r->dmarc_policy == DMARC_P_UNSPEC ? AR_NONE : res[next(s) % 5];
	r->dmarc_spf_aligned = next(s) % 3 == 0;
	r->dmarc_dkim_aligned = next(s) % 3 == 0;
	r->bulk = next(s) % 5 < 2;
	if (r->bulk && next(s) % 4)
		snprintf(r->campaign, sizeof(r->campaign), "c%u", next(s) % 40);
	r->unsub_verdict = (enum unsub_verdict)(next(s) % 3);
	if (next(s) % 3)
		snprintf(r->tls_version, sizeof(r->tls_version), next(s) % 2 ? "TLSv1.3" : "TLSv1.2");
	r->nfindings = next(s) % 4 == 0 ? next(s) % 3 + 1 : 0;
	for (size_t k = 0; k < r->nfindings; k++)
		snprintf(r->findings[k], sizeof(r->findings[k]), "%s", names[next(s) % NFIND]);
	r->has_spam = next(s) % 10 < 7;
	r->spam_score = r->has_spam ? ((double)(next(s) % 1600) - 200) / 100 : 0;
	r->action_enforced = (enum verdict_action)(next(s) % 8 < 6 ? ACT_ACCEPT : next(s) % 4);
	r->action = r->action_enforced;
	r->gmail_ready = next(s) % 4 != 0;
	r->yahoo_ready = next(s) % 4 != 0;
	r->microsoft_ready = next(s) % 3 != 0;
	r->size = next(s) % 100 == 0 ? -1 : (int64_t)(next(s) % 200000);
	r->nrcpt = 1 + next(s) % 5;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: store-gen URI COUNT END_EPOCH DAYS [SEED]\n");
		return 2;
	}
	long n = atol(argv[2]);
	int64_t end = atoll(argv[3]);
	int days = atoi(argv[4]) > 0 ? atoi(argv[4]) : 1;
	uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
	char err[512];
	struct store_opts o = { .queue_size = 20000, .batch_size = 5000, .host = "gen.test",
	                        .flush_timeout_ms = 600000 };
	store *st = store_open(argv[1], &o, err, sizeof(err));
	struct audit_record *r = malloc(sizeof(*r));
	if (st == NULL || r == NULL) {
		fprintf(stderr, "store-gen: %s\n", st ? "out of memory" : err);
		return 2;
	}
	for (long i = 0; i < n; i++) {
		fill(r, &seed, i, end, days);
		store_submit(st, r);
		if (i % 10000 == 9999)
			store_flush(st, 600000);   /* never more than half the queue waiting */
	}
	struct store_stats s;
	store_close_stats(st, &s);
	free(r);
	printf("written=%llu dropped=%llu\n", (unsigned long long)s.written, (unsigned long long)s.dropped);
	return s.dropped ? 1 : 0;
}
