/*
 * sqlagg - the report's measures counted where the data is: one GROUP BY
 * query (the same text on SQLite and PostgreSQL) folds the records of the
 * period into rows of records alike in every field a measure reads, and
 * each row is counted by the C aggregation (aggregate.c) as one weighted
 * record (struct wrec). The C code stays the one definition of every
 * measure; the database does the scanning and the counting of alike rows.
 *
 * The key columns are named here and read back through the audit column
 * table (stats/audit.c), so a row parses exactly as store_query's would.
 * The spam score is not a key (it is nearly unique per message): the query
 * gives its bucket (spam_buckets) and whether it reaches the threshold.
 * Used with --aggregate sql; --dmarc-reports needs every record and keeps
 * the record-by-record path. See docs/ARCHITECTURE.md ("Report aggregation").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "buf.h"
#include "report.h"

/* The columns a measure, a filter or a group key reads. "client_ip" is a
 * key only for --group client; otherwise it is selected as ''. */
static const char *const key_columns[] = {
	"direction", "from_domain", "campaign", "client_ip", "spf_result", "dkim",
	"dmarc_result", "dmarc_policy", "dmarc_spf_aligned", "dmarc_dkim_aligned", "bulk",
	"unsub_verdict", "tls_version", "findings", "gmail_ready", "yahoo_ready",
	"microsoft_ready", "action_enforced",
};
#define NKEYS (sizeof(key_columns) / sizeof(key_columns[0]))
#define NTAIL 9     /* spam bucket, spam flag, count, recipients, bytes, newest ts,
                       recipients at gmail, yahoo, microsoft */

struct sqlagg_ctx {
	struct agg *g;
	const struct audit_column *cols[NKEYS];
	struct audit_record *r;
};

/* num - an unsigned decimal column (NULL: 0). */
static uint64_t num(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

/* on_group - one GROUP BY row: the keys back into a record, then counted. */
static int on_group(void *arg, const char *const *cols, int n)
{
	struct sqlagg_ctx *q = arg;
	if (n < (int)(1 + NKEYS + NTAIL))
		return 1;
	struct audit_record *r = q->r;
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < NKEYS; i++)
		audit_column_parse(q->cols[i], r, cols[1 + i]);
	const char *const *t = cols + 1 + NKEYS;
	r->ts = (int64_t)strtoll(t[5] ? t[5] : "0", NULL, 10);
	uint64_t b = num(t[0]);
	struct wrec w = { r, num(t[2]), num(t[3]), num(t[4]), b < NSPAM ? (int)b : NSPAM - 1,
	                  num(t[1]) != 0, { num(t[6]), num(t[7]), num(t[8]) } };
	agg_add(q->g, &w);
	return 0;
}

/* sqlagg_sql - the query: day, keys, spam bucket and flag, count, sums, newest. */
static void sqlagg_sql(buf *sql, const struct opts *o)
{
	int client = o->group && strcmp(o->group, "client") == 0;
	buf_puts(sql, "SELECT ts - ts % 86400");
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(key_columns[i], "client_ip") == 0 && !client)
			buf_puts(sql, ", ''");
		else
			buf_printf(sql, ", %s", key_columns[i]);
	buf_printf(sql, ", CASE WHEN spam_score IS NULL THEN %d WHEN spam_score < 0 THEN 0"
	           " WHEN spam_score < 1 THEN 1 WHEN spam_score < 3 THEN 2 WHEN spam_score < 5"
	           " THEN 3 WHEN spam_score < 10 THEN 4 ELSE 5 END", NSPAM - 1);
	buf_printf(sql, ", CASE WHEN spam_score >= %.17g THEN 1 ELSE 0 END", o->spam_threshold);
	buf_puts(sql, ", count(*), sum(nrcpt), sum(CASE WHEN size > 0 THEN size ELSE 0 END), max(ts),"
	         " sum(rcpt_gmail), sum(rcpt_yahoo), sum(rcpt_microsoft) FROM messages WHERE ts >= $1 AND ts < $2 GROUP BY 1");
	for (size_t i = 0; i < NKEYS + 2; i++)
		buf_printf(sql, ", %zu", i + 2);
	/* newest group last, as store_query gives records oldest first (the
	 * last seen DMARC policy) */
	buf_printf(sql, " ORDER BY %zu", 1 + NKEYS + 6);
}

/* sqlagg_query - see report.h. */
int sqlagg_query(store *st, struct agg *g, int64_t since, int64_t until, char *err, size_t errlen)
{
	struct sqlagg_ctx q = { .g = g, .r = malloc(sizeof(struct audit_record)) };
	buf *sql = buf_new(2048);
	int rc = -1;
	if (q.r == NULL || sql == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if ((q.cols[i] = audit_column_named(key_columns[i])) == NULL) {
			snprintf(err, errlen, "no audit column %s", key_columns[i]);
			goto out;
		}
	sqlagg_sql(sql, g->o);
	char a[32], b[32];
	snprintf(a, sizeof(a), "%lld", (long long)since);
	snprintf(b, sizeof(b), "%lld", (long long)until);
	const char *p[2] = { a, b };
	rc = store_exec(st, buf_data(sql), p, 2, on_group, &q, NULL, err, errlen);
out:
	buf_free(sql);
	free(q.r);
	return rc;
}
