/*
 * test_feedstore - the report tables in a real SQLite file: migration,
 * storing once, matching a complaint to an outbound record, reading back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "t.h"
#include "store.h"
#include "feedstore.h"
#include "arf.h"
#include "aggrep.h"

static void outbound(struct audit_record *r, int64_t ts, const char *qid, const char *dom,
                     const char *campaign)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	snprintf(r->host, sizeof(r->host), "mx1.test");
	snprintf(r->queue_id, sizeof(r->queue_id), "%s", qid);
	r->direction = DIR_OUTBOUND;
	snprintf(r->from_domain, sizeof(r->from_domain), "%s", dom);
	snprintf(r->campaign, sizeof(r->campaign), "%s", campaign);
	r->nrcpt = 1;
}

static int count_arf(void *arg, const struct feedstore_arf *r)
{
	(*(int *)arg)++;
	return r == NULL;
}

static int sum_dmarc(void *arg, const struct feedstore_dmarc *r)
{
	*(uint64_t *)arg += r->rec->count;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/test_feedstore.XXXXXX", uri[300], err[512];
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(uri, sizeof(uri), "sqlite:%s/a.db", dir);
	store *st = store_open(uri, &(struct store_opts){ 0 }, err, sizeof(err));
	T_OK(st != NULL, "store opened: %s", st ? "" : err);
	struct audit_record r;
	outbound(&r, 1000, "Q1", "sender.example", "News <news.sender.example>");
	store_submit(st, &r);
	outbound(&r, 2000, "Q2", "sender.example", "other");
	store_submit(st, &r);
	store_close(st);

	st = store_open_reader(uri, err, sizeof(err));
	T_INT(store_schema_version(st), STORE_SCHEMA_VERSION, "schema version");
	struct arf_report a;
	memset(&a, 0, sizeof(a));
	snprintf(a.feedback_type, sizeof(a.feedback_type), "abuse");
	a.complaint = 1;
	a.arrival_ts = 1500;
	snprintf(a.from_domain, sizeof(a.from_domain), "sender.example");
	snprintf(a.campaign, sizeof(a.campaign), "News <news.sender.example>");
	snprintf(a.original, sizeof(a.original), "headers");
	struct feedstore_match m;
	T_INT(feedstore_match(st, &a, &m, err, sizeof(err)), 0, "match ran");
	T_STR(m.method, "campaign", "matched by campaign and From domain");
	T_STR(m.queue_id, "Q1", "the campaign's record");
	T_INT(feedstore_put_arf(st, "id1", &a, "gmail", &m, 5000, err, sizeof(err)), 1, "stored");
	T_INT(feedstore_put_arf(st, "id1", &a, "gmail", &m, 5000, err, sizeof(err)), 0, "stored once");

	snprintf(a.campaign, sizeof(a.campaign), "unknown campaign");
	a.arrival_ts = 0;
	feedstore_match(st, &a, &m, err, sizeof(err));
	T_STR(m.method, "from_domain", "else by From domain");
	T_STR(m.queue_id, "Q2", "the newest record of the domain");
	snprintf(a.from_domain, sizeof(a.from_domain), "never-sent.example");
	feedstore_match(st, &a, &m, err, sizeof(err));
	T_STR(m.method, "none", "mail we never sent: unmatched");
	T_INT(feedstore_put_arf(st, "id2", &a, "other", &m, 5000, err, sizeof(err)), 1, "stored unmatched");
	int n = 0;
	feedstore_query_arf(st, 0, 10000, count_arf, &n, err, sizeof(err));
	T_INT(n, 2, "two ARF reports read back");

	struct aggrep g;
	memset(&g, 0, sizeof(g));
	snprintf(g.org_name, sizeof(g.org_name), "Receiver");
	snprintf(g.report_id, sizeof(g.report_id), "r1");
	snprintf(g.domain, sizeof(g.domain), "sender.example");
	g.begin = 100;
	g.end = 200;
	struct aggrep_record rec[2];
	memset(rec, 0, sizeof(rec));
	snprintf(rec[0].source_ip, sizeof(rec[0].source_ip), "192.0.2.1");
	rec[0].count = 5;
	snprintf(rec[1].source_ip, sizeof(rec[1].source_ip), "192.0.2.2");
	rec[1].count = 7;
	g.rec = rec;
	g.nrec = 2;
	T_INT(feedstore_put_dmarc(st, "d1", &g, 5000, err, sizeof(err)), 1, "aggregate report stored");
	T_INT(feedstore_put_dmarc(st, "d1", &g, 5000, err, sizeof(err)), 0, "aggregate report stored once");
	uint64_t sum = 0;
	feedstore_query_dmarc(st, 0, 1000, sum_dmarc, &sum, err, sizeof(err));
	T_INT(sum, 12, "records read back once");
	store_close(st);
	char path[300];
	snprintf(path, sizeof(path), "%s/a.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return t_done();
}
