/*
 * rollagg - the report's measures from the per-day rollup tables that the
 * store's writer maintains (stats/rollup.h): a 30-day report reads a few
 * rows per From domain and day instead of every record. Each rollup row
 * becomes a struct measures added (measures_add) into the same maps the C
 * aggregation fills (aggregate.c), after the same filters (agg_parts), so
 * the output is that of --aggregate c and sql byte for byte
 * (tests/integration/report-sqlagg.py compares the three).
 *
 * The whole UTC days of the period come from the rollups; the hours before
 * the first and after the last day start (a --since 7d that is not a day
 * start) from one GROUP BY over those records (sqlagg.c). The spam flag is a
 * sum of buckets, so the threshold must be a bucket boundary; --group client
 * has no rollup, and neither has a campaign's From domain (rollagg_can).
 * See docs/ARCHITECTURE.md ("Report aggregation").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "buf.h"
#include "report.h"

/* The lower bounds of spam buckets 1..5 (spam_buckets): a threshold there
 * flags that bucket and the ones above. */
static const double spam_bounds[] = { 0, 1, 3, 5, 10 };
#define NBOUNDS (sizeof(spam_bounds) / sizeof(spam_bounds[0]))

/* first_flagged - the first flagged bucket for threshold t, -1 when t is no bound. */
static int first_flagged(double t)
{
	for (size_t i = 0; i < NBOUNDS; i++)
		if (t == spam_bounds[i])
			return (int)i + 1;
	return -1;
}

/* rollagg_can - see report.h. */
int rollagg_can(const struct opts *o)
{
	if (o->group && strcmp(o->group, "client") == 0)
		return 0;
	if (o->domain && ((o->group && strcmp(o->group, "campaign") == 0) || strcmp(o->format, "html") == 0))
		return 0;
	return first_flagged(o->spam_threshold) > 0;
}

struct rollagg_ctx {
	struct agg *g;
	int flagged;                /* first_flagged */
};

/* row_measures - counters cols[0..ROLLUP_NCOUNTERS) into m. */
static void row_measures(const char *const *cols, int flagged, struct measures *m)
{
	uint64_t c[ROLLUP_NCOUNTERS];
	for (int i = 0; i < ROLLUP_NCOUNTERS; i++)
		c[i] = cols[i] ? strtoull(cols[i], NULL, 10) : 0;
	memset(m, 0, sizeof(*m));
	*m = (struct measures){
		.messages = c[RC_MESSAGES], .spf_pass = c[RC_SPF_PASS], .dkim_pass = c[RC_DKIM_PASS],
		.dkim_aligned_pass = c[RC_DKIM_ALIGNED_PASS], .dmarc_pass = c[RC_DMARC_PASS],
		.spf_aligned = c[RC_SPF_ALIGNED], .dkim_aligned = c[RC_DKIM_ALIGNED],
		.dmarc_records = c[RC_DMARC_RECORDS], .bulk = c[RC_BULK], .one_click = c[RC_ONE_CLICK],
		.tls = c[RC_TLS], .format_ok = c[RC_FORMAT_OK], .gmail = c[RC_GMAIL], .yahoo = c[RC_YAHOO],
		.microsoft = c[RC_MICROSOFT], .rcpts = c[RC_RCPTS], .bytes = c[RC_BYTES],
		.policy = (enum dmarc_policy)(c[RC_LAST] % 8), .last_ts = (int64_t)(c[RC_LAST] / 8),
	};
	for (int i = 0; i < NSPAM; i++) {
		m->spam[i] = c[RC_SPAM + i];
		if (i != NSPAM - 1)
			m->spam_known += m->spam[i];
		if (i >= flagged && i != NSPAM - 1)
			m->spam_flagged += m->spam[i];
	}
	for (int i = 0; i < NACT; i++)
		m->actions[i] = c[RC_ACT + i];
}

/* is_out - a direction column: outbound? */
static int is_out(const char *s)
{
	return audit_enum_parse(&audit_enum_direction, s ? s : "") == DIR_OUTBOUND;
}

/* domain_row - rollup_domain: day, direction, from_domain, authenticated,
 * counters; into the total, its day's bucket, the domain and direction
 * groups and the scorecard's domain. */
static int domain_row(void *arg, const char *const *cols, int n)
{
	struct rollagg_ctx *q = arg;
	if (n < 4 + ROLLUP_NCOUNTERS)
		return 1;
	const char *dom = cols[2] ? cols[2] : "";
	int out = is_out(cols[1]), auth = cols[3] && atoi(cols[3]);
	struct part *ps[2];
	size_t np = agg_parts(q->g, out, dom, ps);
	if (np == 0)
		return 0;
	struct measures m;
	row_measures(cols + 4, q->flagged, &m);
	const struct opts *o = q->g->o;
	char bk[32];
	int64_t day = cols[0] ? strtoll(cols[0], NULL, 10) : 0;
	snprintf(bk, sizeof(bk), "%lld", (long long)bucket_start(day, o->by ? o->by : "day"));
	const char *dkey = dom[0] ? dom : "(no From domain)";
	uint64_t fail = strtoull(cols[4 + RC_DMARC_FAIL] ? cols[4 + RC_DMARC_FAIL] : "0", NULL, 10);
	for (size_t i = 0; i < np; i++) {
		struct part *p = ps[i];
		measures_add(&p->total, &m);
		measures_add(map_get(&p->buckets, bk), &m);
		if (o->group && strcmp(o->group, "domain") == 0)
			measures_add(map_get(&p->groups, dkey), &m);
		else if (o->group && strcmp(o->group, "direction") == 0)
			measures_add(map_get(&p->groups, session_direction_name(out ? DIR_OUTBOUND : DIR_INBOUND)), &m);
		struct dstat *d = map_get(&p->domains, dkey);
		measures_add(auth ? &d->auth : &d->unauth, &m);
		if (!auth)
			d->dmarc_fail += fail;
		if (out) {
			d->fb.out_msgs += m.messages;
			for (int k = 0; k < 3; k++)
				d->fb.out[k] += strtoull(cols[4 + RC_OUT_GMAIL + k] ? cols[4 + RC_OUT_GMAIL + k] : "0",
				                         NULL, 10);
		}
	}
	return 0;
}

/* campaign_row - rollup_campaign: day, direction, campaign, bulk, counters;
 * --group campaign counts every record, the campaigns chart the bulk ones. */
static int campaign_row(void *arg, const char *const *cols, int n)
{
	struct rollagg_ctx *q = arg;
	if (n < 4 + ROLLUP_NCOUNTERS)
		return 1;
	struct part *ps[2];
	size_t np = agg_parts(q->g, is_out(cols[1]), "", ps);
	struct measures m;
	row_measures(cols + 4, q->flagged, &m);
	const char *key = cols[2] && cols[2][0] ? cols[2] : "(none)";
	int bulk = cols[3] && atoi(cols[3]);
	for (size_t i = 0; i < np; i++) {
		if (q->g->o->group && strcmp(q->g->o->group, "campaign") == 0)
			measures_add(map_get(&ps[i]->groups, key), &m);
		if (bulk)
			measures_add(map_get(&ps[i]->campaigns, key), &m);
	}
	return 0;
}

/* finding_row - direction, from_domain, finding, n. */
static int finding_row(void *arg, const char *const *cols, int n)
{
	struct rollagg_ctx *q = arg;
	if (n < 4 || cols[2] == NULL)
		return 1;
	struct part *ps[2];
	size_t np = agg_parts(q->g, is_out(cols[0]), cols[1] ? cols[1] : "", ps);
	uint64_t c = cols[3] ? strtoull(cols[3], NULL, 10) : 0;
	for (size_t i = 0; i < np; i++)
		*(uint64_t *)map_get(&ps[i]->findings, cols[2]) += c;
	return 0;
}

/* run - one query over the days [lo, hi). */
static int run(store *st, const char *sql, int64_t lo, int64_t hi,
               int (*fn)(void *, const char *const *, int), struct rollagg_ctx *q, char *err, size_t errlen)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "%lld", (long long)lo);
	snprintf(b, sizeof(b), "%lld", (long long)hi);
	const char *p[2] = { a, b };
	return store_exec(st, sql, p, 2, fn, q, NULL, err, errlen);
}

/* counters_select - "SELECT day, direction, k3, k4, <counters> FROM table". */
static void counters_select(buf *b, enum rollup_table t, const char *k3, const char *k4)
{
	buf_printf(b, "SELECT day, direction, %s, %s", k3, k4);
	for (int i = 0; i < ROLLUP_NCOUNTERS; i++)
		buf_printf(b, ", %s", rollup_counter_name(i));
	buf_printf(b, " FROM %s WHERE day >= $1 AND day < $2", rollup_table_name(t));
}

/* days - the rollups of the whole days [lo, hi). */
static int days(store *st, struct agg *g, int64_t lo, int64_t hi, char *err, size_t errlen)
{
	const struct opts *o = g->o;
	struct rollagg_ctx q = { g, first_flagged(o->spam_threshold) };
	buf *sql = xbuf_new(8192);
	counters_select(sql, ROLLUP_DOMAIN, "from_domain", "authenticated");
	int rc = run(st, buf_data(sql), lo, hi, domain_row, &q, err, errlen);
	if (rc == 0 && ((o->group && strcmp(o->group, "campaign") == 0) || strcmp(o->format, "html") == 0)) {
		buf_reset(sql);
		counters_select(sql, ROLLUP_CAMPAIGN, "campaign", "bulk");
		rc = run(st, buf_data(sql), lo, hi, campaign_row, &q, err, errlen);
	}
	if (rc == 0) {
		/* without --domain the From domain of a finding is not needed: '' */
		buf_reset(sql);
		buf_printf(sql, "SELECT direction, %s, finding, sum(n) FROM rollup_findings WHERE day >= $1"
		           " AND day < $2 GROUP BY direction, %s finding", o->domain ? "from_domain" : "''",
		           o->domain ? "from_domain," : "");
		rc = run(st, buf_data(sql), lo, hi, finding_row, &q, err, errlen);
	}
	buf_free(sql);
	return rc;
}

/* rollagg_query - see report.h: whole days from the rollups, the hours at
 * the edges of the period through sqlagg. */
int rollagg_query(store *st, struct agg *g, char *err, size_t errlen)
{
	int64_t since = g->o->since, until = g->o->until;
	int64_t d0 = rollup_day(since) == since ? since : rollup_day(since) + ROLLUP_DAY,
	        d1 = rollup_day(until);
	if (until <= since)
		return 0;
	if (d0 >= d1)
		return sqlagg_query(st, g, since, until, err, errlen);
	if (since < d0 && sqlagg_query(st, g, since, d0, err, errlen) < 0)
		return -1;
	if (days(st, g, d0, d1, err, errlen) < 0)
		return -1;
	return d1 < until ? sqlagg_query(st, g, d1, until, err, errlen) : 0;
}
