/*
 * aggregate - the records of a period counted into measures: the total,
 * time buckets, --group keys, findings, From domains, campaigns (and, with
 * --dmarc-reports, the RFC 9990 rows: rfc9990.c); the per-domain scorecard
 * (method in docs/STATISTICS.md: keep the two in step).
 */
#define _GNU_SOURCE 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "report.h"

const char *const spam_buckets[NSPAM] = { "<0", "0-1", "1-3", "3-5", "5-10", ">=10", "unknown" };
const char *const pol_names[4] = { "reject", "quarantine", "none", "no_record" };

/* has_prefix - does any finding start with p? */
static int any_finding(const struct audit_record *r, const char *p)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (strncmp(r->findings[i], p, strlen(p)) == 0)
			return 1;
	return 0;
}

/* spam_bucket - index into spam_buckets. */
static int spam_bucket(const struct audit_record *r)
{
	if (!r->has_spam)
		return NSPAM - 1;
	double s = r->spam_score;
	return s < 0 ? 0 : s < 1 ? 1 : s < 3 ? 2 : s < 5 ? 3 : s < 10 ? 4 : 5;
}

/* measure_add - one record into m. */
static void measure_add(struct measures *m, const struct audit_record *r, double spam_threshold)
{
	m->messages++;
	m->spf_pass += r->spf_result == AR_PASS;
	int dk = 0, dka = 0;
	for (size_t i = 0; i < r->nsigs; i++)
		if (r->sigs[i].result == AR_PASS) {
			dk = 1;
			dka |= r->sigs[i].aligned;
		}
	m->dkim_pass += dk;
	m->dkim_aligned_pass += dka;
	m->dmarc_pass += r->dmarc_result == AR_PASS;
	m->spf_aligned += r->dmarc_spf_aligned != 0;
	m->dkim_aligned += r->dmarc_dkim_aligned != 0;
	m->dmarc_records += r->dmarc_policy != DMARC_P_UNSPEC;
	if (r->bulk) {
		m->bulk++;
		m->one_click += r->unsub_verdict == UNSUB_COMPLIANT;
	}
	m->tls += r->tls_version[0] != '\0';
	m->format_ok += !any_finding(r, "format.");
	if (r->has_spam) {
		m->spam_known++;
		m->spam_flagged += r->spam_score >= spam_threshold;
	}
	m->spam[spam_bucket(r)]++;
	m->gmail += r->gmail_ready != 0;
	m->yahoo += r->yahoo_ready != 0;
	m->microsoft += r->microsoft_ready != 0;
	m->rcpts += r->nrcpt;
	m->bytes += (uint64_t)(r->size > 0 ? r->size : 0);
	if ((unsigned)r->action_enforced < NACT)
		m->actions[r->action_enforced]++;
	if (r->ts >= m->last_ts) {
		m->last_ts = r->ts;
		m->policy = r->dmarc_policy;
	}
}

/* bucket_start - start of the UTC day/week (Monday)/month holding ts. */
int64_t bucket_start(int64_t ts, const char *by)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (strcmp(by, "week") == 0)
		tm.tm_mday -= (tm.tm_wday + 6) % 7;
	else if (strcmp(by, "month") == 0)
		tm.tm_mday = 1;
	return (int64_t)timegm(&tm);
}

/* day_text - "YYYY-MM-DD" of ts (UTC). */
void day_text(int64_t ts, char *out, size_t outsz)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%d", &tm);
}

/* group_key - the record's key for --group. */
static const char *group_key(const struct audit_record *r, const char *group)
{
	if (strcmp(group, "domain") == 0)
		return r->from_domain[0] ? r->from_domain : "(no From domain)";
	if (strcmp(group, "campaign") == 0)
		return r->campaign[0] ? r->campaign : "(none)";
	if (strcmp(group, "direction") == 0)
		return session_direction_name(r->direction);
	return r->client_ip[0] ? r->client_ip : "(unknown)";
}


/* on_record - store_query callback: filter, then count everywhere. */
int on_record(void *arg, const struct audit_record *r)
{
	struct agg *g = arg;
	const struct opts *o = g->o;
	if (o->direction && strcmp(session_direction_name(r->direction), o->direction) != 0)
		return 0;
	if (o->domain && !dom_at_or_below(r->from_domain, strlen(r->from_domain), o->domain, strlen(o->domain)))
		return 0;
	measure_add(&g->total, r, o->spam_threshold);
	char bk[32];
	snprintf(bk, sizeof(bk), "%lld", (long long)bucket_start(r->ts, o->by ? o->by : "day"));
	measure_add(map_get(&g->buckets, bk), r, o->spam_threshold);
	if (o->group)
		measure_add(map_get(&g->groups, group_key(r, o->group)), r, o->spam_threshold);
	for (size_t i = 0; i < r->nfindings; i++)
		(*(uint64_t *)map_get(&g->findings, r->findings[i]))++;
	measure_add(map_get(&g->domains, r->from_domain[0] ? r->from_domain : "(no From domain)"), r,
	            o->spam_threshold);
	if (r->bulk)
		measure_add(map_get(&g->campaigns, r->campaign[0] ? r->campaign : "(none)"), r,
		            o->spam_threshold);
	if (g->dmarc_dir)
		dmarc_add(g, r);
	return 0;
}

/* rate - n/d, or -1 when d is 0. */
double rate(uint64_t n, uint64_t d) { return d ? (double)n / (double)d : -1; }

/* scorecard - the method of docs/STATISTICS.md ("Scorecard"). Weights:
 * authentication 40, DMARC enforcement 20, one-click 20, format 10, spam 10;
 * unknown components are left out and the rest scaled to 100. */
void scorecard(const struct measures *m, struct score *s)
{
	double spf = rate(m->spf_pass, m->messages), dk = rate(m->dkim_aligned_pass, m->messages),
	       dm = rate(m->dmarc_pass, m->messages);
	s->auth = spf < 0 ? -1 : (spf * 15 + dk * 15 + dm * 10) / 40;
	s->enforcement = m->policy == DMARC_P_REJECT ? 1 : m->policy == DMARC_P_QUARANTINE
	                 ? 0.75 : m->policy == DMARC_P_NONE ? 0.25 : 0;
	s->one_click = rate(m->one_click, m->bulk);
	s->format = rate(m->format_ok, m->messages);
	s->spam = m->spam_known ? 1 - rate(m->spam_flagged, m->spam_known) : -1;
	const double w[5] = { 40, 20, 20, 10, 10 };
	const double v[5] = { s->auth, s->enforcement, s->one_click, s->format, s->spam };
	double sum = 0, wsum = 0;
	for (int i = 0; i < 5; i++)
		if (v[i] >= 0) {
			sum += w[i] * v[i];
			wsum += w[i];
		}
	s->total = wsum > 0 ? 100 * sum / wsum : 0;
	/* round to one decimal so text, JSON and CSV agree */
	s->total = (double)(long long)(s->total * 10 + 0.5) / 10;
	const char *gr = s->total >= 90 ? "A" : s->total >= 80 ? "B" : s->total >= 70 ? "C"
	               : s->total >= 60 ? "D" : "F";
	snprintf(s->grade, sizeof(s->grade), "%s", gr);
}

static int fcount_cmp(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* top_findings - findings by count, descending; *n set to the number. */
struct fcount *top_findings(const struct agg *g, size_t *n)
{
	struct fcount *v = xcalloc(g->findings.n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < g->findings.cap; i++)
		if (g->findings.e[i].key)
			v[k++] = (struct fcount){ g->findings.e[i].key, *(uint64_t *)g->findings.e[i].val };
	qsort(v, k, sizeof(*v), fcount_cmp);
	*n = k;
	return v;
}

/* policy_distribution - sending domains by their DMARC policy. */
void policy_distribution(const struct agg *g, uint64_t out[4])
{
	memset(out, 0, 4 * sizeof(uint64_t));
	for (size_t i = 0; i < g->domains.cap; i++) {
		if (!g->domains.e[i].key || strcmp(g->domains.e[i].key, "(no From domain)") == 0)
			continue;
		const struct measures *m = g->domains.e[i].val;
		int k = m->policy == DMARC_P_REJECT ? 0 : m->policy == DMARC_P_QUARANTINE ? 1
		      : m->policy == DMARC_P_NONE ? 2 : 3;
		out[k]++;
	}
}

/* readiness_word - "ready" only when every message of the domain was ready. */
const char *readiness_word(uint64_t ready, uint64_t total)
{
	return total && ready == total ? "ready" : "not ready";
}
