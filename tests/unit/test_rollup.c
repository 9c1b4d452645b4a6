/*
 * test_rollup - the writer's rollups (stats/rollup.c): one record's
 * counters, a batch summing records alike into one upsert per key, a full
 * batch, and on a SQLite store: the rollups the writer keeps beside the
 * records, retention pruning at and inside a day, and the rebuild.
 */
#include <stdlib.h>
#include <unistd.h>
#include "t.h"
#include "rollup.h"
#include "store.h"

#define D0 1764892800LL     /* 2025-12-05 00:00 UTC */

/* mkrec - an inbound record of dom at ts. */
static void mkrec(struct audit_record *r, int64_t ts, const char *dom, int policy)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	snprintf(r->host, sizeof(r->host), "mx.test");
	snprintf(r->queue_id, sizeof(r->queue_id), "Q%lld", (long long)ts);
	r->direction = DIR_INBOUND;
	snprintf(r->from_domain, sizeof(r->from_domain), "%s", dom);
	r->spf_result = AR_PASS;
	r->dmarc_result = AR_PASS;
	r->dmarc_policy = (enum dmarc_policy)policy;
	r->nsigs = 1;
	r->sigs[0].result = AR_PASS;
	r->sigs[0].aligned = 1;
	r->bulk = 1;
	r->unsub_verdict = UNSUB_COMPLIANT;
	snprintf(r->campaign, sizeof(r->campaign), "spring");
	r->nfindings = 2;
	snprintf(r->findings[0], AUDIT_NAME_MAX, "format.date_missing");
	snprintf(r->findings[1], AUDIT_NAME_MAX, "spf.none");
	r->has_spam = 1;
	r->spam_score = 6;
	r->size = 100;
	r->nrcpt = 2;
}

/* The upserts a batch wrote: table, the key and the first counter. */
struct call { char table[32]; char dom[64]; long long day, first, last; int np; };
struct calls { struct call c[32]; int n; };

static int capture(void *arg, const char *sql, const char *const *p, int np, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct calls *cs = arg;
	if (cs->n == 32)
		return -1;
	struct call *c = &cs->c[cs->n++];
	sscanf(sql, "INSERT INTO %31s", c->table);
	snprintf(c->dom, sizeof(c->dom), "%s", np > 2 ? p[2] : "");
	c->day = atoll(p[0]);
	c->first = atoll(p[4]);
	c->last = atoll(p[np - 1]);
	c->np = np;
	return 0;
}

static void test_batch(void)
{
	struct audit_record *r = malloc(sizeof(*r));
	rollup_batch *b = rollup_batch_new(100);
	struct calls cs = { .n = 0 };
	char err[256];
	T_OK(b != NULL && r != NULL, "a batch");
	mkrec(r, D0 + 10, "a.example", DMARC_P_NONE);
	T_INT(rollup_batch_add(b, r), 0, "first record added");
	mkrec(r, D0 + 20, "a.example", DMARC_P_REJECT);
	T_INT(rollup_batch_add(b, r), 0, "second record of the same keys added");
	T_INT(rollup_batch_keys(b), 4, "two records alike: domain, campaign and two finding keys");
	mkrec(r, D0 + 86400 + 5, "b.example", DMARC_P_QUARANTINE);
	r->direction = DIR_OUTBOUND;
	r->rcpt_gmail = 2;
	rollup_batch_add(b, r);
	T_INT(rollup_batch_keys(b), 8, "a record of another day and domain: four more");
	T_INT(rollup_batch_write(b, capture, &cs, err, sizeof(err)), 0, "written");
	T_INT(cs.n, 8, "one upsert per key");
	T_INT(rollup_batch_keys(b), 0, "the batch is empty after writing");
	T_STR(cs.c[0].table, "rollup_domain", "upserts in table order");
	T_STR(cs.c[0].dom, "a.example", "then by day");
	T_INT(cs.c[0].first, 2, "the two records summed");
	T_INT(cs.c[0].last, (D0 + 20) * 8 + DMARC_P_REJECT, "last: the newest record and its policy");
	T_INT(cs.c[0].np, 4 + ROLLUP_NCOUNTERS, "every counter a parameter");
	T_INT(cs.c[1].day, D0 + 86400, "the day start");
	T_STR(cs.c[4].table, "rollup_findings", "findings last");
	T_INT(cs.c[4].first, 2, "a finding counted per record");
	rollup_batch_free(b);
	b = rollup_batch_new(3);
	T_INT(rollup_batch_add(b, r), -1, "a record needing more keys than the batch has: refused");
	T_INT(rollup_batch_keys(b), 0, "nothing added");
	rollup_batch_free(b);
	free(r);
}

static int sum_row(void *arg, const char *const *cols, int n)
{
	*(long long *)arg = n > 0 && cols[0] ? atoll(cols[0]) : 0;
	return 1;
}

/* total - one number from sql with the day parameter. */
static long long total(store *st, const char *sql, long long day)
{
	char d[32], err[256];
	snprintf(d, sizeof(d), "%lld", day);
	const char *p[1] = { d };
	long long v = -1;
	if (store_exec(st, sql, p, 1, sum_row, &v, NULL, err, sizeof(err)) < 0)
		printf("# %s\n", err);
	return v;
}

static void test_store(void)
{
	char path[256], uri[300], err[512];
	snprintf(path, sizeof(path), "/tmp/test_rollup.%d.db", (int)getpid());
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	unlink(path);
	struct store_opts o = { .batch_size = 7, .host = "t" };
	store *st = store_open(uri, &o, err, sizeof(err));
	T_OK(st != NULL, "a store with a writer (%s)", st ? "" : err);
	if (st == NULL)
		return;
	struct audit_record *r = malloc(sizeof(*r));
	for (int day = 0; day < 3; day++)
		for (int i = 0; i < 10; i++) {
			mkrec(r, D0 + day * 86400 + i * 3600, i % 3 ? "a.example" : "b.example", DMARC_P_NONE);
			store_submit(st, r);
		}
	store_close(st);
	free(r);
	st = store_open_reader(uri, err, sizeof(err));
	T_OK(st != NULL, "reopened");
	if (st == NULL)
		return;
	const char *rd = "SELECT sum(messages) FROM rollup_domain WHERE day = $1";
	const char *rf = "SELECT sum(n) FROM rollup_findings WHERE day = $1";
	const char *rm = "SELECT count(*) FROM messages WHERE ts >= $1 AND ts < $1 + 86400";
	for (int day = 0; day < 3; day++) {
		T_INT(total(st, rd, D0 + day * 86400), 10, "day %d: every record in rollup_domain", day);
		T_INT(total(st, rf, D0 + day * 86400), 20, "day %d: every finding in rollup_findings", day);
	}
	T_INT(total(st, "SELECT sum(messages) FROM rollup_campaign WHERE day >= $1", D0), 30, "rollup_campaign");
	T_INT(store_prune(st, D0 + 86400 + 3 * 3600, err, sizeof(err)), 13, "pruned inside a day");
	T_INT(total(st, "SELECT count(*) FROM rollup_domain WHERE day = $1", D0), 0,
	      "the day before the cut: its rollups pruned");
	T_INT(total(st, rd, D0 + 86400), 10, "the day the cut falls into keeps its rollups");
	T_INT(total(st, rm, D0 + 86400), 7, "while its records are pruned");
	T_INT(store_rollup_rebuild(st, D0 + 86400, D0 + 86400 + 1, err, sizeof(err)), 7, "that day rebuilt");
	T_INT(total(st, rd, D0 + 86400), 7, "its rollups match its records again");
	T_INT(total(st, rd, D0 + 2 * 86400), 10, "other days untouched");
	T_INT(store_prune(st, D0 + 2 * 86400, err, sizeof(err)), 7, "pruned at a day start");
	T_INT(total(st, "SELECT count(*) FROM rollup_domain WHERE day < $1", D0 + 2 * 86400), 0,
	      "the days before: no rollups");
	T_INT(total(st, rd, D0 + 2 * 86400), 10, "the day after the cut kept");
	store_close(st);
	unlink(path);
	snprintf(uri, sizeof(uri), "%s-wal", path);
	unlink(uri);
	snprintf(uri, sizeof(uri), "%s-shm", path);
	unlink(uri);
}

int main(void)
{
	test_batch();
	test_store();
	return t_done();
}
