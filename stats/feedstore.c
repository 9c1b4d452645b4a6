/*
 * feedstore - ARF and DMARC aggregate report tables (see feedstore.h).
 * The SQL is the common subset of SQLite and PostgreSQL, values travel as
 * text, like the messages table's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "feedstore.h"
#include "store.h"
#include "arf.h"
#include "aggrep.h"
#include "buf.h"

#define NUM 32

static int first_row(void *arg, const char *const *cols, int n)
{
	struct feedstore_match *m = arg;
	if (n >= 2 && cols[0]) {
		m->ts = strtoll(cols[0], NULL, 10);
		str_copy(m->queue_id, sizeof(m->queue_id), cols[1] ? cols[1] : "",
		         cols[1] ? strlen(cols[1]) : 0);
		m->method[0] = '+';            /* found: the caller names the method */
	}
	return 1;
}

/* try_match - one query; 1 when a row was found. */
static int try_match(store *st, const char *sql, const char *const *p, int np,
                     struct feedstore_match *m, const char *method, char *err, size_t errlen)
{
	m->method[0] = '\0';
	if (store_exec(st, sql, p, np, first_row, m, NULL, err, errlen) < 0)
		return -1;
	if (m->method[0] != '+')
		return 0;
	str_copy(m->method, sizeof(m->method), method, strlen(method));
	return 1;
}

int feedstore_match(store *st, const struct arf_report *r, struct feedstore_match *m,
                    char *err, size_t errlen)
{
	char until[NUM];
	memset(m, 0, sizeof(*m));
	/* an Arrival-Date can be a little ahead of our clock; none: any time */
	snprintf(until, sizeof(until), "%lld",
	         r->arrival_ts > 0 ? (long long)r->arrival_ts + 3600 : (long long)INT64_MAX / 2);
	int rc = 0;
	if (r->message_id[0]) {
		const char *p[2] = { r->message_id, until };
		rc = try_match(st, "SELECT ts, queue_id FROM messages WHERE direction = 'outbound'"
		               " AND message_id = $1 AND ts <= $2 ORDER BY ts DESC LIMIT 1", p, 2, m,
		               "message_id", err, errlen);
	}
	if (rc == 0 && r->campaign[0] && r->from_domain[0]) {
		const char *p[3] = { r->campaign, r->from_domain, until };
		rc = try_match(st, "SELECT ts, queue_id FROM messages WHERE direction = 'outbound'"
		               " AND campaign = $1 AND from_domain = $2 AND ts <= $3"
		               " ORDER BY ts DESC LIMIT 1", p, 3, m, "campaign", err, errlen);
	}
	if (rc == 0 && r->from_domain[0]) {
		const char *p[2] = { r->from_domain, until };
		rc = try_match(st, "SELECT ts, queue_id FROM messages WHERE direction = 'outbound'"
		               " AND from_domain = $1 AND ts <= $2 ORDER BY ts DESC LIMIT 1", p, 2, m,
		               "from_domain", err, errlen);
	}
	if (rc == 0) {
		memset(m, 0, sizeof(*m));
		str_copy(m->method, sizeof(m->method), "none", 4);
	}
	return rc < 0 ? -1 : 0;
}

/* in_tx - run sql inside the open transaction; roll back on error. */
static int in_tx(store *st, const char *sql, const char *const *p, int np, long *changes,
                 char *err, size_t errlen)
{
	if (store_exec(st, sql, p, np, NULL, NULL, changes, err, errlen) == 0)
		return 0;
	char e2[64];
	store_exec(st, "ROLLBACK", NULL, 0, NULL, NULL, NULL, e2, sizeof(e2));
	return -1;
}

int feedstore_put_arf(store *st, const char *id, const struct arf_report *r,
                      const char *provider, const struct feedstore_match *m, int64_t now,
                      char *err, size_t errlen)
{
	char ts[NUM], arr[NUM], cpl[NUM], mts[NUM];
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	snprintf(arr, sizeof(arr), "%lld", (long long)(r->arrival_ts > 0 ? r->arrival_ts : now));
	snprintf(cpl, sizeof(cpl), "%d", r->complaint ? 1 : 0);
	snprintf(mts, sizeof(mts), "%lld", (long long)m->ts);
	const char *p[19] = {
		id, ts, arr, r->feedback_type, cpl, provider, r->user_agent, r->reported_domain,
		r->source_ip, r->original_mail_from, r->original_rcpt_to, r->recipient_domain,
		r->message_id, r->from_domain, r->campaign, r->original, m->method,
		m->ts ? mts : NULL, m->queue_id,
	};
	long n = 0;
	if (store_exec(st, "INSERT INTO feedback_reports (id, ts, arrival, feedback_type, complaint,"
	               " provider, user_agent, reported_domain, source_ip, original_mail_from,"
	               " original_rcpt_to, recipient_domain, message_id, from_domain, campaign,"
	               " original, match_method, matched_ts, matched_queue_id) VALUES ($1, $2, $3,"
	               " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
	               " ON CONFLICT (id) DO NOTHING", p, 19, NULL, NULL, &n, err, errlen) < 0)
		return -1;
	return n > 0 ? 1 : 0;
}

/* put_record - one aggregate record. */
static int put_record(store *st, const char *id, const struct aggrep *a,
                      const struct aggrep_record *r, char *err, size_t errlen)
{
	char beg[NUM], cnt[NUM];
	snprintf(beg, sizeof(beg), "%lld", (long long)a->begin);
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)r->count);
	const char *p[18] = {
		id, beg, a->org_name, a->domain, r->source_ip, cnt, r->disposition, r->dkim_eval,
		r->spf_eval, r->reason, r->header_from, r->envelope_from, r->envelope_to,
		r->dkim_domain, r->dkim_selector, r->dkim_result, r->spf_domain, r->spf_result,
	};
	return in_tx(st, "INSERT INTO dmarc_records (report, period_begin, org_name, domain,"
	             " source_ip, count, disposition, dkim_eval, spf_eval, reason, header_from,"
	             " envelope_from, envelope_to, dkim_domain, dkim_selector, dkim_result,"
	             " spf_domain, spf_result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	             " $11, $12, $13, $14, $15, $16, $17, $18)", p, 18, NULL, err, errlen);
}

int feedstore_put_dmarc(store *st, const char *id, const struct aggrep *a, int64_t now,
                        char *err, size_t errlen)
{
	char ts[NUM], beg[NUM], end[NUM], nrec[NUM];
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	snprintf(beg, sizeof(beg), "%lld", (long long)a->begin);
	snprintf(end, sizeof(end), "%lld", (long long)a->end);
	snprintf(nrec, sizeof(nrec), "%zu", a->nrec);
	const char *p[15] = {
		id, ts, a->org_name, a->email, a->report_id, a->domain, beg, end, a->p, a->sp, a->np,
		a->adkim, a->aspf, a->pct, nrec,
	};
	long n = 0;
	if (store_exec(st, "BEGIN", NULL, 0, NULL, NULL, NULL, err, errlen) < 0 ||
	    in_tx(st, "INSERT INTO dmarc_reports (id, ts, org_name, email, report_id, domain,"
	          " period_begin, period_end, p, sp, np, adkim, aspf, pct, records) VALUES ($1, $2,"
	          " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
	          " ON CONFLICT (id) DO NOTHING", p, 15, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; n > 0 && i < a->nrec; i++)
		if (put_record(st, id, a, &a->rec[i], err, errlen) < 0)
			return -1;
	if (in_tx(st, "COMMIT", NULL, 0, NULL, err, errlen) < 0)
		return -1;
	return n > 0 ? 1 : 0;
}

#define COPY(dst, i) str_copy(dst, sizeof(dst), cols[i] ? cols[i] : "", cols[i] ? strlen(cols[i]) : 0)

struct arf_q { int (*cb)(void *, const struct feedstore_arf *); void *arg; };

static int arf_row(void *arg, const char *const *cols, int n)
{
	struct arf_q *q = arg;
	struct feedstore_arf r;
	if (n < 10)
		return 1;
	memset(&r, 0, sizeof(r));
	r.arrival = cols[0] ? strtoll(cols[0], NULL, 10) : 0;
	COPY(r.feedback_type, 1);
	r.complaint = cols[2] && atoi(cols[2]) != 0;
	COPY(r.provider, 3);
	COPY(r.reported_domain, 4);
	COPY(r.from_domain, 5);
	COPY(r.campaign, 6);
	COPY(r.match_method, 7);
	COPY(r.recipient_domain, 8);
	return q->cb(q->arg, &r);
}

int feedstore_query_arf(store *st, int64_t since, int64_t until,
                        int (*cb)(void *arg, const struct feedstore_arf *r), void *arg,
                        char *err, size_t errlen)
{
	char a[NUM], b[NUM];
	snprintf(a, sizeof(a), "%lld", (long long)since);
	snprintf(b, sizeof(b), "%lld", (long long)until);
	const char *p[2] = { a, b };
	struct arf_q q = { cb, arg };
	return store_exec(st, "SELECT arrival, feedback_type, complaint, provider, reported_domain,"
	                  " from_domain, campaign, match_method, recipient_domain, id"
	                  " FROM feedback_reports WHERE arrival >= $1 AND arrival < $2"
	                  " ORDER BY arrival, id", p, 2, arf_row, &q, NULL, err, errlen);
}

struct dm_q { int (*cb)(void *, const struct feedstore_dmarc *); void *arg; };

static int dmarc_row(void *arg, const char *const *cols, int n)
{
	struct dm_q *q = arg;
	struct aggrep_record rec;
	struct feedstore_dmarc r;
	if (n < 16)
		return 1;
	memset(&rec, 0, sizeof(rec));
	memset(&r, 0, sizeof(r));
	r.period_begin = cols[0] ? strtoll(cols[0], NULL, 10) : 0;
	COPY(r.org_name, 1);
	COPY(r.domain, 2);
	COPY(rec.source_ip, 3);
	rec.count = cols[4] ? strtoull(cols[4], NULL, 10) : 0;
	COPY(rec.disposition, 5);
	COPY(rec.dkim_eval, 6);
	COPY(rec.spf_eval, 7);
	COPY(rec.header_from, 8);
	COPY(rec.envelope_from, 9);
	COPY(rec.envelope_to, 10);
	COPY(rec.dkim_domain, 11);
	COPY(rec.dkim_result, 12);
	COPY(rec.spf_domain, 13);
	COPY(rec.spf_result, 14);
	COPY(rec.reason, 15);
	r.rec = &rec;
	return q->cb(q->arg, &r);
}

int feedstore_query_dmarc(store *st, int64_t since, int64_t until,
                          int (*cb)(void *arg, const struct feedstore_dmarc *r), void *arg,
                          char *err, size_t errlen)
{
	char a[NUM], b[NUM];
	snprintf(a, sizeof(a), "%lld", (long long)since);
	snprintf(b, sizeof(b), "%lld", (long long)until);
	const char *p[2] = { a, b };
	struct dm_q q = { cb, arg };
	return store_exec(st, "SELECT period_begin, org_name, domain, source_ip, count, disposition,"
	                  " dkim_eval, spf_eval, header_from, envelope_from, envelope_to, dkim_domain,"
	                  " dkim_result, spf_domain, spf_result, reason FROM dmarc_records"
	                  " WHERE period_begin >= $1 AND period_begin < $2"
	                  " ORDER BY period_begin, org_name, domain, source_ip", p, 2, dmarc_row, &q,
	                  NULL, err, errlen);
}
