/*
 * trustmilter-report - compliance statistics from the audit store.
 *
 * Reads the records of a period with the one SELECT both store backends
 * share (store_query) and aggregates them here, in C, so that SQLite and
 * PostgreSQL give the same numbers to the last digit. Output: a text table,
 * JSON, CSV, a self-contained HTML page with inline SVG charts, and RFC 9990
 * DMARC aggregate reports (gzip-compressed XML, plus ready-to-send messages).
 * The scoring method of the per-domain scorecard is in docs/STATISTICS.md;
 * keep the two in step.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "store.h"
#include "conf.h"
#include "json.h"
#include "buf.h"
#include "dns.h"
#include "dmarc.h"
#include "rua.h"

#define MAP_MAX_KEYS 1000000      /* distinct groups/domains/findings kept; past it
                                     the rest is counted under "(other)" */
#define OUT_MAX (512u * 1024 * 1024)
#define TOP_DEFAULT 20
#define NACT 6
#define NSPAM 7

static const char *const act_names[NACT] = { "accept", "quarantine", "tempfail", "reject", "discard", "junk" };
static const char *const spam_buckets[NSPAM] = { "<0", "0-1", "1-3", "3-5", "5-10", ">=10", "unknown" };

/* ---- a small string-keyed hash map ------------------------------------ */

struct entry { char *key; void *val; };
struct map { size_t cap, n; struct entry *e; size_t vsize; };

/* fnv - FNV-1a of a string. */
static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (p == NULL) {
		fprintf(stderr, "trustmilter-report: out of memory\n");
		exit(2);
	}
	return p;
}

/* map_get - the value for key, created zeroed if absent. */
static void *map_get(struct map *m, const char *key)
{
	if (m->cap == 0 || (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct entry *ne = xcalloc(nc, sizeof(*ne));
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key) {
				size_t j = fnv(m->e[i].key) & (nc - 1);
				while (ne[j].key)
					j = (j + 1) & (nc - 1);
				ne[j] = m->e[i];
			}
		free(m->e);
		m->e = ne;
		m->cap = nc;
	}
	if (m->n >= MAP_MAX_KEYS)
		key = "(other)";
	size_t j = fnv(key) & (m->cap - 1);
	while (m->e[j].key) {
		if (strcmp(m->e[j].key, key) == 0)
			return m->e[j].val;
		j = (j + 1) & (m->cap - 1);
	}
	m->e[j].key = strdup(key);
	m->e[j].val = xcalloc(1, m->vsize);
	if (m->e[j].key == NULL) {
		fprintf(stderr, "trustmilter-report: out of memory\n");
		exit(2);
	}
	m->n++;
	return m->e[j].val;
}

/* map_sorted - entries in key order (caller frees the array). */
static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}
static struct entry *map_sorted(const struct map *m)
{
	struct entry *v = xcalloc(m->n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key)
			v[k++] = m->e[i];
	qsort(v, k, sizeof(*v), entry_cmp);
	return v;
}

static void map_free(struct map *m, void (*fv)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key) {
			free(m->e[i].key);
			if (fv)
				fv(m->e[i].val);
			free(m->e[i].val);
		}
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* ---- measures ---------------------------------------------------------- */

struct measures {
	uint64_t messages, spf_pass, dkim_pass, dkim_aligned_pass, dmarc_pass, spf_aligned,
	         dkim_aligned, dmarc_records, bulk, one_click, tls, format_ok, spam_known,
	         spam_flagged, gmail, yahoo, microsoft, rcpts, bytes;
	uint64_t actions[NACT];
	uint64_t spam[NSPAM];
	char policy[16];            /* last seen DMARC policy (scorecard) */
	int64_t last_ts;
};

struct opts {
	int64_t since, until;
	const char *by;             /* day week month or NULL */
	const char *group;          /* domain campaign direction client or NULL */
	const char *domain, *direction;
	const char *format;
	int top;
	double spam_threshold;
};

struct agg {
	const struct opts *o;
	struct measures total;
	struct map buckets;         /* bucket start (text, sortable) -> measures */
	struct map groups;          /* group key -> measures */
	struct map findings;        /* name -> uint64 */
	struct map domains;         /* From domain -> measures (scorecard) */
	struct map campaigns;       /* campaign -> measures (HTML chart) */
	uint64_t dropped;
	const char *dmarc_dir;      /* write DMARC reports here */
	struct map dmarc;           /* "day|policy domain" -> struct dreport */
	struct rua_count *rc;       /* report destinations used and skipped */
};

/* What became of the rua= destinations of the reports written with --mail:
 * every skipped one is also logged on standard error with its reason. */
struct rua_count {
	dns_resolver *dns;          /* for the external-destination check */
	uint64_t reports, mailed, sent_to;
	uint64_t internal, external_ok;
	uint64_t skip_external, skip_dns, skip_invalid, skip_scheme, skip_many, skip_none;
};

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
	m->spf_pass += strcmp(r->spf_result, "pass") == 0;
	int dk = 0, dka = 0;
	for (size_t i = 0; i < r->nsigs; i++)
		if (strcmp(r->sigs[i].result, "pass") == 0) {
			dk = 1;
			dka |= r->sigs[i].aligned;
		}
	m->dkim_pass += dk;
	m->dkim_aligned_pass += dka;
	m->dmarc_pass += strcmp(r->dmarc_result, "pass") == 0;
	m->spf_aligned += r->dmarc_spf_aligned != 0;
	m->dkim_aligned += r->dmarc_dkim_aligned != 0;
	m->dmarc_records += r->dmarc_policy[0] != '\0';
	if (r->bulk) {
		m->bulk++;
		m->one_click += strcmp(r->unsub_verdict, "compliant") == 0;
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
	for (int a = 0; a < NACT; a++)
		if (strcmp(r->action_enforced, act_names[a]) == 0)
			m->actions[a]++;
	if (r->ts >= m->last_ts) {
		m->last_ts = r->ts;
		str_copy(m->policy, sizeof(m->policy), r->dmarc_policy, strlen(r->dmarc_policy));
	}
}

/* bucket_start - start of the UTC day/week (Monday)/month holding ts. */
static int64_t bucket_start(int64_t ts, const char *by)
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
static void day_text(int64_t ts, char *out, size_t outsz)
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
		return r->direction;
	return r->client_ip[0] ? r->client_ip : "(unknown)";
}

/* domain_match - From domain equals d or is a subdomain of it. */
static int domain_match(const char *dom, const char *d)
{
	size_t a = strlen(dom), b = strlen(d);
	return (a == b && strcasecmp(dom, d) == 0) ||
	       (a > b && dom[a - b - 1] == '.' && strcasecmp(dom + a - b, d) == 0);
}

static void dmarc_add(struct agg *g, const struct audit_record *r);

/* on_record - store_query callback: filter, then count everywhere. */
static int on_record(void *arg, const struct audit_record *r)
{
	struct agg *g = arg;
	const struct opts *o = g->o;
	if (o->direction && strcmp(r->direction, o->direction) != 0)
		return 0;
	if (o->domain && !domain_match(r->from_domain, o->domain))
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

/* ---- scorecard --------------------------------------------------------- */

struct score {
	double total;               /* 0..100 over the components that are known */
	double auth, enforcement, one_click, format, spam;   /* each 0..1, -1 unknown */
	char grade[4];
};

/* rate - n/d, or -1 when d is 0. */
static double rate(uint64_t n, uint64_t d) { return d ? (double)n / (double)d : -1; }

/* scorecard - the method of docs/STATISTICS.md ("Scorecard"). Weights:
 * authentication 40, DMARC enforcement 20, one-click 20, format 10, spam 10;
 * unknown components are left out and the rest scaled to 100. */
static void scorecard(const struct measures *m, struct score *s)
{
	double spf = rate(m->spf_pass, m->messages), dk = rate(m->dkim_aligned_pass, m->messages),
	       dm = rate(m->dmarc_pass, m->messages);
	s->auth = spf < 0 ? -1 : (spf * 15 + dk * 15 + dm * 10) / 40;
	s->enforcement = strcmp(m->policy, "reject") == 0 ? 1 : strcmp(m->policy, "quarantine") == 0
	                 ? 0.75 : strcmp(m->policy, "none") == 0 ? 0.25 : 0;
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

/* ---- output helpers ---------------------------------------------------- */

/* r4 - a rate rounded to 4 decimals as text; "null"/"" when unknown. */
static void r4(char *out, size_t n, uint64_t a, uint64_t b, const char *unknown)
{
	if (b == 0)
		snprintf(out, n, "%s", unknown);
	else
		snprintf(out, n, "%.4f", (double)a / (double)b);
}

/* jrate - a rate member: number with 4 decimals, null when the base is 0. */
static void jrate(buf *o, int *first, const char *key, uint64_t a, uint64_t b)
{
	char v[32];
	r4(v, sizeof(v), a, b, "null");
	buf_printf(o, "%s\"%s\":%s", *first ? "" : ",", key, v);
	*first = 0;
}

static void jnum(buf *o, int *first, const char *key, uint64_t v)
{
	buf_printf(o, "%s\"%s\":%llu", *first ? "" : ",", key, (unsigned long long)v);
	*first = 0;
}

/* json_measures - one measures object. */
static void json_measures(buf *o, const struct measures *m)
{
	int f = 1;
	buf_putc(o, '{');
	jnum(o, &f, "messages", m->messages);
	jnum(o, &f, "spf_pass", m->spf_pass);
	jrate(o, &f, "spf_pass_rate", m->spf_pass, m->messages);
	jnum(o, &f, "dkim_pass", m->dkim_pass);
	jrate(o, &f, "dkim_pass_rate", m->dkim_pass, m->messages);
	jnum(o, &f, "dmarc_pass", m->dmarc_pass);
	jrate(o, &f, "dmarc_pass_rate", m->dmarc_pass, m->messages);
	jnum(o, &f, "spf_aligned", m->spf_aligned);
	jrate(o, &f, "spf_aligned_rate", m->spf_aligned, m->messages);
	jnum(o, &f, "dkim_aligned", m->dkim_aligned);
	jrate(o, &f, "dkim_aligned_rate", m->dkim_aligned, m->messages);
	jnum(o, &f, "bulk", m->bulk);
	jnum(o, &f, "one_click_compliant", m->one_click);
	jrate(o, &f, "one_click_rate", m->one_click, m->bulk);
	jnum(o, &f, "tls", m->tls);
	jrate(o, &f, "tls_rate", m->tls, m->messages);
	jnum(o, &f, "format_ok", m->format_ok);
	jrate(o, &f, "format_ok_rate", m->format_ok, m->messages);
	jnum(o, &f, "recipients", m->rcpts);
	jnum(o, &f, "bytes", m->bytes);
	buf_puts(o, ",\"actions\":{");
	for (int a = 0; a < NACT; a++)
		buf_printf(o, "%s\"%s\":%llu", a ? "," : "", act_names[a], (unsigned long long)m->actions[a]);
	buf_puts(o, "},\"spam_scores\":{");
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, "%s\"%s\":%llu", i ? "," : "", spam_buckets[i], (unsigned long long)m->spam[i]);
	buf_puts(o, "}}");
}

/* time_text - ISO 8601 UTC. */
static void time_text(int64_t ts, char *out, size_t n)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct fcount { const char *name; uint64_t n; };
static int fcount_cmp(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* top_findings - findings by count, descending; *n set to the number. */
static struct fcount *top_findings(const struct agg *g, size_t *n)
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
static void policy_distribution(const struct agg *g, uint64_t out[4])
{
	memset(out, 0, 4 * sizeof(uint64_t));
	for (size_t i = 0; i < g->domains.cap; i++) {
		if (!g->domains.e[i].key || strcmp(g->domains.e[i].key, "(no From domain)") == 0)
			continue;
		const struct measures *m = g->domains.e[i].val;
		int k = strcmp(m->policy, "reject") == 0 ? 0 : strcmp(m->policy, "quarantine") == 0 ? 1
		      : strcmp(m->policy, "none") == 0 ? 2 : 3;
		out[k]++;
	}
}
static const char *const pol_names[4] = { "reject", "quarantine", "none", "no_record" };

/* readiness_word - "ready" only when every message of the domain was ready. */
static const char *readiness_word(uint64_t ready, uint64_t total)
{
	return total && ready == total ? "ready" : "not ready";
}

/* ---- JSON -------------------------------------------------------------- */

static void json_score(buf *o, const char *dom, const struct measures *m)
{
	struct score s;
	scorecard(m, &s);
	buf_puts(o, "{\"domain\":");
	json_escape(o, dom, strlen(dom));
	buf_printf(o, ",\"messages\":%llu,\"score\":%.1f,\"grade\":\"%s\",\"dmarc_policy\":",
	           (unsigned long long)m->messages, s.total, s.grade);
	if (m->policy[0])
		json_escape(o, m->policy, strlen(m->policy));
	else
		buf_puts(o, "null");
	const char *cn[5] = { "authentication", "dmarc_enforcement", "one_click", "format", "spam" };
	const double cv[5] = { s.auth, s.enforcement, s.one_click, s.format, s.spam };
	buf_puts(o, ",\"components\":{");
	for (int i = 0; i < 5; i++) {
		if (cv[i] < 0)
			buf_printf(o, "%s\"%s\":null", i ? "," : "", cn[i]);
		else
			buf_printf(o, "%s\"%s\":%.4f", i ? "," : "", cn[i], cv[i]);
	}
	buf_puts(o, "},\"readiness\":{");
	const char *pn[3] = { "gmail", "yahoo", "microsoft" };
	const uint64_t pr[3] = { m->gmail, m->yahoo, m->microsoft };
	for (int i = 0; i < 3; i++) {
		char v[32];
		r4(v, sizeof(v), pr[i], m->messages, "null");
		buf_printf(o, "%s\"%s\":{\"ready\":%s,\"rate\":%s}", i ? "," : "", pn[i],
		           m->messages && pr[i] == m->messages ? "true" : "false", v);
	}
	buf_puts(o, "}}");
}

/* out_json - the whole report as one JSON object. */
static void out_json(buf *o, struct agg *g)
{
	char a[32], b[32];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	buf_printf(o, "{\"since\":\"%s\",\"until\":\"%s\",\"filters\":{\"domain\":", a, b);
	if (g->o->domain) json_escape(o, g->o->domain, strlen(g->o->domain)); else buf_puts(o, "null");
	buf_puts(o, ",\"direction\":");
	if (g->o->direction) json_escape(o, g->o->direction, strlen(g->o->direction)); else buf_puts(o, "null");
	buf_printf(o, "},\"dropped\":%llu,\"totals\":", (unsigned long long)g->dropped);
	json_measures(o, &g->total);
	buf_printf(o, ",\"by\":\"%s\",\"buckets\":[", g->o->by ? g->o->by : "day");
	struct entry *v = map_sorted(&g->buckets);
	/* keys are epoch seconds as text: sort numerically */
	for (size_t i = 0; i < g->buckets.n; i++)
		for (size_t j = i + 1; j < g->buckets.n; j++)
			if (atoll(v[j].key) < atoll(v[i].key)) {
				struct entry t = v[i]; v[i] = v[j]; v[j] = t;
			}
	for (size_t i = 0; i < g->buckets.n; i++) {
		char t[32];
		time_text(atoll(v[i].key), t, sizeof(t));
		buf_printf(o, "%s{\"start\":\"%s\",\"measures\":", i ? "," : "", t);
		json_measures(o, v[i].val);
		buf_putc(o, '}');
	}
	free(v);
	buf_puts(o, "],\"group\":");
	if (g->o->group) json_escape(o, g->o->group, strlen(g->o->group)); else buf_puts(o, "null");
	buf_puts(o, ",\"groups\":[");
	v = map_sorted(&g->groups);
	for (size_t i = 0; i < g->groups.n; i++) {
		buf_printf(o, "%s{\"key\":", i ? "," : "");
		json_escape(o, v[i].key, strlen(v[i].key));
		buf_puts(o, ",\"measures\":");
		json_measures(o, v[i].val);
		buf_putc(o, '}');
	}
	free(v);
	buf_puts(o, "],\"findings\":[");
	size_t nf;
	struct fcount *fc = top_findings(g, &nf);
	for (size_t i = 0; i < nf && (int)i < g->o->top; i++) {
		buf_printf(o, "%s{\"name\":", i ? "," : "");
		json_escape(o, fc[i].name, strlen(fc[i].name));
		buf_printf(o, ",\"count\":%llu}", (unsigned long long)fc[i].n);
	}
	free(fc);
	uint64_t pd[4];
	policy_distribution(g, pd);
	buf_puts(o, "],\"dmarc_policies\":{");
	for (int i = 0; i < 4; i++)
		buf_printf(o, "%s\"%s\":%llu", i ? "," : "", pol_names[i], (unsigned long long)pd[i]);
	buf_puts(o, "},\"scorecard\":[");
	v = map_sorted(&g->domains);
	for (size_t i = 0; i < g->domains.n; i++) {
		if (i)
			buf_putc(o, ',');
		json_score(o, v[i].key, v[i].val);
	}
	free(v);
	buf_puts(o, "]}\n");
}

/* ---- CSV --------------------------------------------------------------- */

/* csv_formula - would a spreadsheet read a cell starting here as a formula?
 * OWASP's list: '=', '+', '-', '@', tab, CR (and LF); leading spaces are
 * looked through, since some spreadsheets drop them. */
static int csv_formula(const char *s)
{
	while (*s == ' ')
		s++;
	return *s && strchr("=+-@\t\r\n", *s) != NULL;
}

/* csv_field - RFC 4180 quoting; a text cell that a spreadsheet would take
 * for a formula (a List-Id or Feedback-ID is the sender's text) gets a
 * leading single quote (OWASP CSV injection). Every text cell of every CSV
 * goes through here; numbers are written by us. */
static void csv_field(buf *o, const char *s)
{
	buf_putc(o, '"');
	if (csv_formula(s))
		buf_putc(o, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(o, '"');
		buf_putc(o, *s);
	}
	buf_putc(o, '"');
}

static void csv_row(buf *o, const char *key, const struct measures *m)
{
	char r[7][32];
	r4(r[0], 32, m->spf_pass, m->messages, "");
	r4(r[1], 32, m->dkim_pass, m->messages, "");
	r4(r[2], 32, m->dmarc_pass, m->messages, "");
	r4(r[3], 32, m->spf_aligned, m->messages, "");
	r4(r[4], 32, m->dkim_aligned, m->messages, "");
	r4(r[5], 32, m->one_click, m->bulk, "");
	r4(r[6], 32, m->tls, m->messages, "");
	csv_field(o, key);
	buf_printf(o, ",%llu,%s,%s,%s,%s,%s,%llu,%s,%s", (unsigned long long)m->messages, r[0], r[1],
	           r[2], r[3], r[4], (unsigned long long)m->bulk, r[5], r[6]);
	for (int a = 0; a < NACT; a++)
		buf_printf(o, ",%llu", (unsigned long long)m->actions[a]);
	buf_puts(o, "\r\n");
}

/* out_csv - rows: groups (--group), else buckets, plus a total row. */
static void out_csv(buf *o, struct agg *g)
{
	buf_puts(o, "key,messages,spf_pass_rate,dkim_pass_rate,dmarc_pass_rate,spf_aligned_rate,"
	            "dkim_aligned_rate,bulk,one_click_rate,tls_rate,accept,quarantine,tempfail,reject,discard,junk\r\n");
	struct map *m = g->o->group ? &g->groups : &g->buckets;
	struct entry *v = map_sorted(m);
	for (size_t i = 0; i < m->n; i++) {
		char k[300];
		if (g->o->group)
			snprintf(k, sizeof(k), "%s", v[i].key);
		else
			day_text(atoll(v[i].key), k, sizeof(k));
		csv_row(o, k, v[i].val);
	}
	free(v);
	csv_row(o, "(total)", &g->total);
}

/* ---- text -------------------------------------------------------------- */

/* pct - "97.5%" or "-". */
static const char *pct(char *out, size_t n, uint64_t a, uint64_t b)
{
	if (b == 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.1f%%", 100.0 * (double)a / (double)b);
	return out;
}

static void text_measure_row(buf *o, const char *key, const struct measures *m)
{
	char p[6][16];
	buf_printf(o, "  %-40.40s %8llu %7s %7s %7s %7s %9s %7s\n", key, (unsigned long long)m->messages,
	           pct(p[0], 16, m->spf_pass, m->messages), pct(p[1], 16, m->dkim_pass, m->messages),
	           pct(p[2], 16, m->dmarc_pass, m->messages),
	           pct(p[3], 16, m->dkim_aligned, m->messages), pct(p[4], 16, m->one_click, m->bulk),
	           pct(p[5], 16, m->tls, m->messages));
}

static void text_header(buf *o, const char *what)
{
	buf_printf(o, "  %-40s %8s %7s %7s %7s %7s %9s %7s\n", what, "messages", "SPF", "DKIM", "DMARC",
	           "DKIM-al", "one-click", "TLS");
}

/* out_text - the readable summary. */
static void out_text(buf *o, struct agg *g)
{
	char a[32], b[32], p[4][16];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	const struct measures *t = &g->total;
	buf_printf(o, "trustmilter report %s .. %s%s%s%s%s\n\n", a, b,
	           g->o->domain ? ", domain " : "", g->o->domain ? g->o->domain : "",
	           g->o->direction ? ", " : "", g->o->direction ? g->o->direction : "");
	buf_printf(o, "Messages            %llu (%llu bulk), %llu audit records dropped\n",
	           (unsigned long long)t->messages, (unsigned long long)t->bulk,
	           (unsigned long long)g->dropped);
	buf_printf(o, "SPF pass            %s   aligned %s\n", pct(p[0], 16, t->spf_pass, t->messages),
	           pct(p[1], 16, t->spf_aligned, t->messages));
	buf_printf(o, "DKIM pass           %s   aligned %s\n", pct(p[0], 16, t->dkim_pass, t->messages),
	           pct(p[1], 16, t->dkim_aligned, t->messages));
	buf_printf(o, "DMARC pass          %s\n", pct(p[0], 16, t->dmarc_pass, t->messages));
	buf_printf(o, "One-click (bulk)    %s\n", pct(p[0], 16, t->one_click, t->bulk));
	buf_printf(o, "Received over TLS   %s\n", pct(p[0], 16, t->tls, t->messages));
	buf_puts(o, "Actions            ");
	for (int i = 0; i < NACT; i++)
		buf_printf(o, " %s %llu", act_names[i], (unsigned long long)t->actions[i]);
	uint64_t pd[4];
	policy_distribution(g, pd);
	buf_puts(o, "\nDMARC policies      ");
	for (int i = 0; i < 4; i++)
		buf_printf(o, " %s %llu", pol_names[i], (unsigned long long)pd[i]);
	buf_puts(o, " (sending domains)\nSpam scores        ");
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, " %s: %llu", spam_buckets[i], (unsigned long long)t->spam[i]);
	buf_puts(o, "\n\nTop findings\n");
	size_t nf;
	struct fcount *fc = top_findings(g, &nf);
	for (size_t i = 0; i < nf && (int)i < g->o->top; i++)
		buf_printf(o, "  %8llu  %s\n", (unsigned long long)fc[i].n, fc[i].name);
	if (nf == 0)
		buf_puts(o, "  none\n");
	free(fc);
	if (g->o->by) {
		buf_printf(o, "\nBy %s\n", g->o->by);
		text_header(o, "start");
		struct entry *v = map_sorted(&g->buckets);
		for (size_t i = 0; i < g->buckets.n; i++) {
			char d[32];
			day_text(atoll(v[i].key), d, sizeof(d));
			text_measure_row(o, d, v[i].val);
		}
		free(v);
	}
	if (g->o->group) {
		buf_printf(o, "\nBy %s\n", g->o->group);
		text_header(o, g->o->group);
		struct entry *v = map_sorted(&g->groups);
		for (size_t i = 0; i < g->groups.n; i++)
			text_measure_row(o, v[i].key, v[i].val);
		free(v);
	}
	buf_printf(o, "\nScorecard (method: docs/STATISTICS.md)\n  %-40s %8s %6s %5s  %-10s %-10s %-10s %-10s\n",
	           "sending domain", "messages", "score", "grade", "DMARC p", "Gmail", "Yahoo", "Microsoft");
	struct entry *v = map_sorted(&g->domains);
	for (size_t i = 0; i < g->domains.n; i++) {
		const struct measures *m = v[i].val;
		struct score s;
		scorecard(m, &s);
		buf_printf(o, "  %-40.40s %8llu %6.1f %5s  %-10s %-10s %-10s %-10s\n", v[i].key,
		           (unsigned long long)m->messages, s.total, s.grade, m->policy[0] ? m->policy : "(none)",
		           readiness_word(m->gmail, m->messages), readiness_word(m->yahoo, m->messages),
		           readiness_word(m->microsoft, m->messages));
	}
	free(v);
}

/* ---- HTML -------------------------------------------------------------- */

/* html_text - escape for HTML text and attributes. */
static void html_text(buf *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_puts(o, "&lt;"); break;
		case '>': buf_puts(o, "&gt;"); break;
		case '&': buf_puts(o, "&amp;"); break;
		case '"': buf_puts(o, "&quot;"); break;
		case '\'': buf_puts(o, "&#39;"); break;
		default: buf_putc(o, *s);
		}
	}
}

/* svg_lines - pass rates per bucket as a line chart. */
static void svg_lines(buf *o, struct agg *g)
{
	struct entry *v = map_sorted(&g->buckets);
	size_t n = g->buckets.n;
	const int W = 720, H = 240, L = 40, B = 30;
	buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	              "role=\"img\" aria-label=\"pass rates over time\">\n", W, H + B);
	for (int y = 0; y <= 100; y += 25)
		buf_printf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
		              "<text x=\"2\" y=\"%d\" font-size=\"10\">%d%%</text>\n",
		           L, W, H - y * (H - 10) / 100, H - y * (H - 10) / 100, H - y * (H - 10) / 100 + 3, y);
	const char *names[4] = { "SPF", "DKIM", "DMARC", "one-click" };
	const char *colors[4] = { "#1f77b4", "#2ca02c", "#d62728", "#9467bd" };
	for (int k = 0; k < 4; k++) {
		buf_printf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[k]);
		for (size_t i = 0; i < n; i++) {
			const struct measures *m = v[i].val;
			double r = k == 0 ? rate(m->spf_pass, m->messages) : k == 1 ? rate(m->dkim_pass, m->messages)
			         : k == 2 ? rate(m->dmarc_pass, m->messages) : rate(m->one_click, m->bulk);
			if (r < 0)
				continue;
			double x = L + (n > 1 ? (double)i * (W - L - 10) / (double)(n - 1) : (W - L) / 2.0);
			buf_printf(o, "%.1f,%.1f ", x, H - r * (H - 10));
		}
		buf_puts(o, "\"/>\n");
		/* points too: a single bucket draws no line */
		for (size_t i = 0; i < n; i++) {
			const struct measures *m = v[i].val;
			double r = k == 0 ? rate(m->spf_pass, m->messages) : k == 1 ? rate(m->dkim_pass, m->messages)
			         : k == 2 ? rate(m->dmarc_pass, m->messages) : rate(m->one_click, m->bulk);
			if (r < 0)
				continue;
			double x = L + (n > 1 ? (double)i * (W - L - 10) / (double)(n - 1) : (W - L) / 2.0);
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>%s %.1f%%</title></circle>\n",
			           x, H - r * (H - 10), 5 - k, colors[k], names[k], r * 100);
		}
		buf_printf(o, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		              "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n",
		           L + k * 110, H + 12, colors[k], L + k * 110 + 14, H + 21, names[k]);
	}
	for (size_t i = 0; i < n; i++) {
		if (n > 10 && i % (n / 10 + 1))
			continue;
		char d[32];
		day_text(atoll(v[i].key), d, sizeof(d));
		double x = L + (n > 1 ? (double)i * (W - L - 10) / (double)(n - 1) : (W - L) / 2.0);
		buf_printf(o, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%s</text>\n",
		           x, H + 10, d);
	}
	buf_puts(o, "</svg>\n");
	free(v);
}

/* svg_bars - horizontal bars (label, value, max). */
static void svg_bars(buf *o, const char *label, const char *const *names, const double *vals,
                     size_t n, double max, int percent)
{
	const int W = 720, row = 22, L = 300;
	buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\" "
	              "aria-label=\"", W, n * row + 10);
	html_text(o, label);
	buf_puts(o, "\">\n");
	for (size_t i = 0; i < n; i++) {
		double w = max > 0 ? vals[i] / max * (W - L - 80) : 0;
		buf_printf(o, "<text x=\"%d\" y=\"%zu\" font-size=\"11\" text-anchor=\"end\">", L - 6, i * row + 15);
		char nm[64];
		snprintf(nm, sizeof(nm), "%s", names[i]);   /* long labels are cut for the chart only */
		html_text(o, nm);
		buf_printf(o, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"#4e79a7\"/>"
		              "<text x=\"%.1f\" y=\"%zu\" font-size=\"11\">", L, i * row + 3, w, L + w + 4, i * row + 15);
		if (percent)
			buf_printf(o, "%.1f%%", vals[i] * 100);
		else
			buf_printf(o, "%.0f", vals[i]);
		buf_puts(o, "</text>\n");
	}
	buf_puts(o, "</svg>\n");
}

/* out_html - one self-contained page: inline CSS and SVG, no scripts, no fetches. */
static void out_html(buf *o, struct agg *g)
{
	char a[32], b[32], p[8][16];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	const struct measures *t = &g->total;
	buf_printf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	              "<title>trustmilter report %s .. %s</title>\n<style>\n"
	              "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
	              "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
	              "h2{margin-top:1.5em}.ready{color:#080}.notready{color:#b00}\n</style></head><body>\n"
	              "<h1>trustmilter report</h1>\n<p>%s .. %s", a, b, a, b);
	if (g->o->domain) {
		buf_puts(o, ", domain ");
		html_text(o, g->o->domain);
	}
	if (g->o->direction)
		buf_printf(o, ", %s", strcmp(g->o->direction, "outbound") == 0 ? "outbound" : "inbound");
	buf_printf(o, "</p>\n<table id=\"summary\"><tr><th>measure</th><th>value</th></tr>\n"
	              "<tr><td>messages</td><td>%llu</td></tr><tr><td>bulk messages</td><td>%llu</td></tr>\n"
	              "<tr><td>SPF pass</td><td>%s</td></tr><tr><td>DKIM pass</td><td>%s</td></tr>\n"
	              "<tr><td>DMARC pass</td><td>%s</td></tr><tr><td>DKIM aligned</td><td>%s</td></tr>\n"
	              "<tr><td>SPF aligned</td><td>%s</td></tr><tr><td>one-click compliant (bulk)</td><td>%s</td></tr>\n"
	              "<tr><td>received over TLS</td><td>%s</td></tr><tr><td>audit records dropped</td><td>%llu</td></tr></table>\n",
	           (unsigned long long)t->messages, (unsigned long long)t->bulk,
	           pct(p[0], 16, t->spf_pass, t->messages), pct(p[1], 16, t->dkim_pass, t->messages),
	           pct(p[2], 16, t->dmarc_pass, t->messages), pct(p[3], 16, t->dkim_aligned, t->messages),
	           pct(p[4], 16, t->spf_aligned, t->messages), pct(p[5], 16, t->one_click, t->bulk),
	           pct(p[6], 16, t->tls, t->messages), (unsigned long long)g->dropped);
	buf_printf(o, "<h2>Pass rates by %s</h2>\n", g->o->by ? g->o->by : "day");
	svg_lines(o, g);
	size_t nf;
	struct fcount *fc = top_findings(g, &nf);
	if (nf > (size_t)g->o->top)
		nf = (size_t)g->o->top;
	const char **names = xcalloc(nf + 1, sizeof(char *));
	double *vals = xcalloc(nf + 1, sizeof(double));
	double max = 0;
	for (size_t i = 0; i < nf; i++) {
		names[i] = fc[i].name;
		vals[i] = (double)fc[i].n;
		max = vals[i] > max ? vals[i] : max;
	}
	buf_puts(o, "<h2>Top findings</h2>\n");
	svg_bars(o, "top findings", names, vals, nf, max, 0);
	free(names);
	free(vals);
	free(fc);
	struct entry *v = map_sorted(&g->campaigns);
	names = xcalloc(g->campaigns.n + 1, sizeof(char *));
	vals = xcalloc(g->campaigns.n + 1, sizeof(double));
	for (size_t i = 0; i < g->campaigns.n; i++) {
		const struct measures *m = v[i].val;
		names[i] = v[i].key;
		vals[i] = rate(m->one_click, m->bulk);
	}
	buf_puts(o, "<h2>One-click compliance per campaign</h2>\n");
	svg_bars(o, "one-click compliance per campaign", names, vals, g->campaigns.n, 1, 1);
	free(names);
	free(vals);
	free(v);
	buf_puts(o, "<h2>Actions</h2>\n<table><tr><th>action</th><th>messages</th></tr>\n");
	for (int i = 0; i < NACT; i++)
		buf_printf(o, "<tr><td>%s</td><td>%llu</td></tr>\n", act_names[i], (unsigned long long)t->actions[i]);
	uint64_t pd[4];
	policy_distribution(g, pd);
	buf_puts(o, "</table>\n<h2>DMARC policy of sending domains</h2>\n<table><tr><th>policy</th><th>domains</th></tr>\n");
	for (int i = 0; i < 4; i++)
		buf_printf(o, "<tr><td>%s</td><td>%llu</td></tr>\n", pol_names[i], (unsigned long long)pd[i]);
	buf_puts(o, "</table>\n<h2>Spam scores</h2>\n<table><tr><th>score</th><th>messages</th></tr>\n");
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, "<tr><td>%s</td><td>%llu</td></tr>\n", spam_buckets[i], (unsigned long long)t->spam[i]);
	buf_puts(o, "</table>\n<h2>Scorecard per sending domain</h2>\n<table id=\"scorecard\"><tr><th>domain</th>"
	            "<th>messages</th><th>score</th><th>grade</th><th>DMARC policy</th><th>Gmail</th><th>Yahoo</th>"
	            "<th>Microsoft</th></tr>\n");
	v = map_sorted(&g->domains);
	for (size_t i = 0; i < g->domains.n; i++) {
		const struct measures *m = v[i].val;
		struct score s;
		scorecard(m, &s);
		buf_puts(o, "<tr><td>");
		html_text(o, v[i].key);
		buf_printf(o, "</td><td>%llu</td><td>%.1f</td><td>%s</td><td>%s</td>", (unsigned long long)m->messages,
		           s.total, s.grade, m->policy[0] ? m->policy : "(none)");
		const uint64_t pr[3] = { m->gmail, m->yahoo, m->microsoft };
		for (int k = 0; k < 3; k++) {
			const char *w = readiness_word(pr[k], m->messages);
			buf_printf(o, "<td class=\"%s\">%s</td>", strcmp(w, "ready") ? "notready" : "ready", w);
		}
		buf_puts(o, "</tr>\n");
	}
	free(v);
	buf_puts(o, "</table>\n<p>Scoring method: docs/STATISTICS.md in the trustmilter sources.</p>\n</body></html>\n");
}

/* ---- DMARC aggregate reports (RFC 9990) --------------------------------- */

struct drow { uint64_t count; char *xml; };   /* one <record>, keyed by its content */
struct dreport {
	int64_t begin;
	char domain[AUDIT_DOMAIN_MAX];
	struct audit_record last;     /* newest record: policy_published */
	struct map rows;              /* row key -> struct drow */
};

static void xml_text(buf *o, const char *s) { html_text(o, s); }

/* sig_rank - RFC 9990 signature order: aligned pass, other pass, the rest. */
static int sig_rank(const struct audit_sig *s)
{
	int pass = strcmp(s->result, "pass") == 0;
	return pass && s->aligned ? 0 : pass ? 1 : 2;
}

/* applied_disposition - what we did, in RFC 9990 ActionDispositionType words. */
static const char *applied_disposition(const struct audit_record *r)
{
	if (strcmp(r->dmarc_result, "pass") == 0)
		return strcmp(r->dmarc_policy, "quarantine") == 0 || strcmp(r->dmarc_policy, "reject") == 0
		       ? "pass" : "none";
	if (strcmp(r->action_enforced, "reject") == 0)
		return "reject";
	/* junk is quarantine in DMARC's words: "place into spam folder" */
	if (strcmp(r->action_enforced, "quarantine") == 0 || strcmp(r->action_enforced, "junk") == 0)
		return "quarantine";
	return "none";
}

/* record_xml - the <record> element text of r with count placeholder "@COUNT@". */
static char *record_xml(const struct audit_record *r)
{
	buf *o = buf_new(64 * 1024);
	const char *disp = applied_disposition(r);
	buf_puts(o, "  <record>\n    <row>\n      <source_ip>");
	xml_text(o, r->client_ip);
	buf_printf(o, "</source_ip>\n      <count>@COUNT@</count>\n      <policy_evaluated>\n"
	              "        <disposition>%s</disposition>\n        <dkim>%s</dkim>\n        <spf>%s</spf>\n",
	           disp, r->dmarc_dkim_aligned ? "pass" : "fail", r->dmarc_spf_aligned ? "pass" : "fail");
	/* a failing message not handled as the policy asked: say why (RFC 9990 reason) */
	if (strcmp(r->dmarc_result, "fail") == 0 && strcmp(disp, r->dmarc_disposition) != 0)
		buf_printf(o, "        <reason>\n          <type>%s</type>\n        </reason>\n",
		           strcmp(r->dmarc_testing, "y") == 0 ? "policy_test_mode" : "local_policy");
	buf_puts(o, "      </policy_evaluated>\n    </row>\n    <identifiers>\n      <header_from>");
	xml_text(o, r->from_domain);
	buf_puts(o, "</header_from>\n      <envelope_from>");
	xml_text(o, r->mail_from_domain);
	buf_puts(o, "</envelope_from>\n    </identifiers>\n    <auth_results>\n");
	for (int rank = 0; rank < 3; rank++)
		for (size_t i = 0; i < r->nsigs; i++) {
			const struct audit_sig *s = &r->sigs[i];
			if (sig_rank(s) != rank)
				continue;
			buf_puts(o, "      <dkim>\n        <domain>");
			xml_text(o, s->domain);
			buf_puts(o, "</domain>\n        <selector>");
			xml_text(o, s->selector);
			buf_printf(o, "</selector>\n        <result>%s</result>\n      </dkim>\n",
			           strcmp(s->result, "softfail") == 0 ? "fail" : s->result);
		}
	if (r->spf_domain[0]) {
		buf_puts(o, "      <spf>\n        <domain>");
		xml_text(o, r->spf_domain);
		buf_printf(o, "</domain>\n        <scope>mfrom</scope>\n        <result>%s</result>\n      </spf>\n",
		           r->spf_result);
	}
	buf_puts(o, "    </auth_results>\n  </record>\n");
	return buf_steal(o);
}

static void drow_free(void *p) { free(((struct drow *)p)->xml); }
static void dreport_free(void *p) { map_free(&((struct dreport *)p)->rows, drow_free); }

/* dmarc_add - inbound messages with a DMARC verdict, by UTC day and policy domain. */
static void dmarc_add(struct agg *g, const struct audit_record *r)
{
	if (strcmp(r->direction, "inbound") != 0 || r->dmarc_policy_domain[0] == '\0' ||
	    (strcmp(r->dmarc_result, "pass") != 0 && strcmp(r->dmarc_result, "fail") != 0) ||
	    r->dmarc_p[0] == '\0')
		return;
	char key[AUDIT_DOMAIN_MAX + 32];
	int64_t day = bucket_start(r->ts, "day");
	snprintf(key, sizeof(key), "%lld|%s", (long long)day, r->dmarc_policy_domain);
	struct dreport *d = map_get(&g->dmarc, key);
	if (d->begin == 0) {
		d->begin = day;
		snprintf(d->domain, sizeof(d->domain), "%s", r->dmarc_policy_domain);
		d->rows.vsize = sizeof(struct drow);
	}
	if (r->ts >= d->last.ts)
		d->last = *r;
	char *x = record_xml(r);
	struct drow *row = map_get(&d->rows, x);
	row->count++;
	if (row->xml == NULL)
		row->xml = x;
	else
		free(x);
}

/* gz_write - the bytes to path as gzip. */
static int gz_write(const char *path, const char *p, size_t n)
{
	gzFile z = gzopen(path, "wb9");
	if (z == NULL)
		return -1;
	int ok = gzwrite(z, p, (unsigned)n) == (int)n;
	return gzclose(z) == Z_OK && ok ? 0 : -1;
}

/* b64 - base64 in 76-column lines (RFC 2045). */
static void b64(buf *o, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		             (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
		              i + 2 < n ? t[v & 63] : '=' };
		buf_append(o, q, 4);
		if ((col += 4) >= 76) {
			buf_puts(o, "\r\n");
			col = 0;
		}
	}
	if (col)
		buf_puts(o, "\r\n");
}

/* same_org - RFC 9990 section 4: no external-destination check is needed
 * when the Organizational Domain of the reported (policy) domain is the
 * Organizational Domain of the destination host; found the way the record
 * was discovered (tree walk, or the PSL in RFC 7489 mode). 1 same, 0 not
 * (or unknown: the check then decides). */
static int same_org(dns_resolver *dns, const struct dreport *d, const char *host)
{
	enum dmarc_mode m = strcmp(d->last.dmarc_discovery, "psl") == 0 ? DMARC_MODE_RFC7489
	                                                                : DMARC_MODE_RFC9989;
	char a[256], b[256];
	if (strcasecmp(host, d->domain) == 0)
		return 1;
	if (dmarc_org_domain(dns, NULL, m, d->domain, strlen(d->domain), a, sizeof(a)) < 0 ||
	    dmarc_org_domain(dns, NULL, m, host, strlen(host), b, sizeof(b)) < 0)
		return 0;
	return strcmp(a, b) == 0;
}

/* add_to - append addr to the To: list unless it is there already. */
static void add_to(char *to, size_t tosz, const char *addr, struct rua_count *rc)
{
	size_t al = strlen(addr);
	for (const char *p = to; (p = strstr(p, addr)) != NULL; p += al)
		if ((p == to || p[-1] == ' ') && (p[al] == ',' || p[al] == '\0'))
			return;
	size_t tl = strlen(to);
	if (tl + al + 3 >= tosz)
		return;
	snprintf(to + tl, tosz - tl, "%s%s", tl ? ", " : "", addr);
	rc->sent_to++;
}

/* skipped - log one destination not used, and count it. */
static void skipped(const struct dreport *d, const char *shown, const char *why, uint64_t *counter)
{
	char dom[256];
	str_printable(dom, sizeof(dom), d->domain, strlen(d->domain));
	fprintf(stderr, "trustmilter-report: %s: rua destination \"%s\" skipped: %s\n", dom, shown, why);
	(*counter)++;
}

/* rua_dests - the To: list for the report about d: the addresses of its rua=
 * that are verified as RFC 9990 says (see docs/STATISTICS.md). */
static void rua_dests(const struct dreport *d, struct rua_count *rc, char *to, size_t tosz)
{
	struct rua_uri u[RUA_MAX_URIS + 1], ovr[RUA_MAX_URIS];
	const char *rua = d->last.dmarc_rua;
	size_t k = rua_parse(rua, strlen(rua), u, RUA_MAX_URIS + 1);
	to[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		char why[600];
		size_t novr = 0;
		switch (u[i].status) {
		case RUA_OK: break;
		case RUA_SCHEME: skipped(d, u[i].shown, u[i].reason, &rc->skip_scheme); continue;
		case RUA_TOO_MANY: skipped(d, u[i].shown, u[i].reason, &rc->skip_many); continue;
		default: skipped(d, u[i].shown, u[i].reason, &rc->skip_invalid); continue;
		}
		if (same_org(rc->dns, d, u[i].domain)) {
			rc->internal++;
			add_to(to, tosz, u[i].addr, rc);
			continue;
		}
		int a = rua_authorized(rc->dns, d->domain, u[i].domain, ovr, &novr, why, sizeof(why));
		if (a < 0) {
			skipped(d, u[i].shown, why, &rc->skip_dns);
			continue;
		}
		if (a == 0) {
			skipped(d, u[i].shown, why, &rc->skip_external);
			continue;
		}
		rc->external_ok++;
		if (novr == 0)
			add_to(to, tosz, u[i].addr, rc);
		for (size_t j = 0; j < novr; j++)
			add_to(to, tosz, ovr[j].addr, rc);
	}
	if (k == 0)
		skipped(d, "", "no rua= in the DMARC record", &rc->skip_none);
}

/* write_mail - a ready-to-send message for sendmail -t, next to the report. */
static int write_mail(const char *dir, const char *fname, const struct dreport *d, const char *rid,
                      const char *submitter, const char *email, const char *gz, size_t gzlen,
                      struct rua_count *cnt)
{
	char to[RUA_MAX_URIS * (sizeof(((struct rua_uri *)0)->addr) + 2) + 1];
	rua_dests(d, cnt, to, sizeof(to));
	if (to[0] == '\0')
		return 0;
	cnt->mailed++;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.eml", dir, fname);
	buf *o = buf_new(64u * 1024 * 1024);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(o, "From: %s\r\nTo: %s\r\nDate: %s\r\nSubject: Report Domain: %s Submitter: %s "
	              "Report-ID: <%s>\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
	           email, to, date, d->domain, submitter, rid, rid);
	buf_printf(o, "Content-Type: multipart/mixed; boundary=\"tm-dmarc-report\"\r\n\r\n"
	              "--tm-dmarc-report\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	              "DMARC aggregate report (RFC 9990) for %s from %s.\r\n\r\n"
	              "--tm-dmarc-report\r\nContent-Type: application/gzip\r\n"
	              "Content-Transfer-Encoding: base64\r\n"
	              "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", d->domain, submitter, fname);
	b64(o, (const unsigned char *)gz, gzlen);
	buf_puts(o, "--tm-dmarc-report--\r\n");
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(buf_data(o), 1, buf_len(o), f) == buf_len(o) ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	buf_free(o);
	return rc;
}

/* read_file - whole file into a heap buffer. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	buf *b = buf_new(OUT_MAX);
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(b, tmp, k);
	fclose(f);
	*n = buf_len(b);
	return buf_steal(b);
}

/* dmarc_write - one .xml.gz (and .eml with --mail) per day and policy domain. */
static int dmarc_write(struct agg *g, const char *submitter, const char *org, const char *email,
                       int mail)
{
	struct entry *v = map_sorted(&g->dmarc);
	int rc = 0;
	for (size_t i = 0; i < g->dmarc.n; i++) {
		struct dreport *d = v[i].val;
		const struct audit_record *l = &d->last;
		int64_t end = d->begin + 86399;
		char rid[600], fname[1024], path[4096];
		snprintf(rid, sizeof(rid), "%lld.%s@%s", (long long)d->begin, d->domain, submitter);
		snprintf(fname, sizeof(fname), "%s!%s!%lld!%lld.xml.gz", submitter, d->domain,
		         (long long)d->begin, (long long)end);
		buf *o = buf_new(OUT_MAX);
		buf_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n  <version>1.0</version>\n"
		            "  <report_metadata>\n    <org_name>");
		xml_text(o, org);
		buf_puts(o, "</org_name>\n    <email>");
		xml_text(o, email);
		buf_puts(o, "</email>\n    <report_id>");
		xml_text(o, rid);
		buf_printf(o, "</report_id>\n    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
		              "    </date_range>\n    <generator>trustmilter %s</generator>\n  </report_metadata>\n"
		              "  <policy_published>\n    <domain>", (long long)d->begin, (long long)end, TM_VERSION);
		xml_text(o, d->domain);
		buf_printf(o, "</domain>\n    <p>%s</p>\n", l->dmarc_p);
		if (l->dmarc_sp[0])
			buf_printf(o, "    <sp>%s</sp>\n", l->dmarc_sp);
		if (l->dmarc_np[0])
			buf_printf(o, "    <np>%s</np>\n", l->dmarc_np);
		buf_printf(o, "    <adkim>%s</adkim>\n    <aspf>%s</aspf>\n    <discovery_method>%s</discovery_method>\n"
		              "    <testing>%s</testing>\n  </policy_published>\n",
		           l->dmarc_adkim[0] ? l->dmarc_adkim : "r", l->dmarc_aspf[0] ? l->dmarc_aspf : "r",
		           l->dmarc_discovery[0] ? l->dmarc_discovery : "treewalk",
		           l->dmarc_testing[0] ? l->dmarc_testing : "n");
		struct entry *rows = map_sorted(&d->rows);
		for (size_t k = 0; k < d->rows.n; k++) {
			const struct drow *row = rows[k].val;
			const char *x = row->xml, *at = strstr(x, "@COUNT@");
			buf_append(o, x, (size_t)(at - x));
			buf_printf(o, "%llu", (unsigned long long)row->count);
			buf_puts(o, at + 7);
		}
		free(rows);
		buf_puts(o, "</feedback>\n");
		snprintf(path, sizeof(path), "%s/%s", g->dmarc_dir, fname);
		if (buf_overflowed(o) || gz_write(path, buf_data(o), buf_len(o)) < 0) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", path, strerror(errno));
			rc = -1;
		} else if (mail) {
			size_t gzn;
			char *gz = slurp(path, &gzn);
			g->rc->reports++;
			if (gz == NULL || write_mail(g->dmarc_dir, fname, d, rid, submitter, email, gz, gzn, g->rc) < 0) {
				fprintf(stderr, "trustmilter-report: %s.eml: cannot write\n", path);
				rc = -1;
			}
			free(gz);
		}
		buf_free(o);
	}
	free(v);
	return rc;
}

/* report_dns - the resolver for the external-destination check, configured
 * like the daemon's (dns.forwarders, dns.transparent_zones, dns.timeout_ms). */
static dns_resolver *report_dns(const conf *c, char *err, size_t errlen)
{
	struct dns_config dc = { .timeout_ms = (unsigned)conf_int(c, "dns.timeout_ms"),
	                         .use_resolv_conf = 1 };
	const char *const *items;
	size_t n = conf_list(c, "dns.forwarders", &items);
	for (size_t i = 0; i < n && i < DNS_MAX_FORWARDERS; i++)
		dc.forwarders[dc.nforwarders++] = items[i];
	n = conf_list(c, "dns.transparent_zones", &items);
	for (size_t i = 0; i < n && i < DNS_MAX_ZONES; i++)
		dc.transparent_zones[dc.nzones++] = items[i];
	return dns_new(&dc, err, errlen);
}

/* rua_summary - one line: reports, messages, destinations used and skipped. */
static void rua_summary(const struct rua_count *c, FILE *f)
{
	fprintf(f, "dmarc-reports: reports=%llu messages=%llu recipients=%llu internal=%llu "
	           "external_verified=%llu skipped_external=%llu skipped_dns=%llu skipped_invalid=%llu "
	           "skipped_scheme=%llu skipped_too_many=%llu skipped_no_rua=%llu\n",
	        (unsigned long long)c->reports, (unsigned long long)c->mailed,
	        (unsigned long long)c->sent_to, (unsigned long long)c->internal,
	        (unsigned long long)c->external_ok, (unsigned long long)c->skip_external,
	        (unsigned long long)c->skip_dns, (unsigned long long)c->skip_invalid,
	        (unsigned long long)c->skip_scheme, (unsigned long long)c->skip_many,
	        (unsigned long long)c->skip_none);
}

/* ---- command line ------------------------------------------------------ */

/* parse_time - "7d" "24h" "30m" "2w" (ago), "@EPOCH", "YYYY-MM-DD[THH:MM[:SS]]" (UTC), "now". */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
	char *end;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '@') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno || *end || end == s + 1)
			return -1;
		*out = v;
		return 0;
	}
	if (isdigit((unsigned char)s[0])) {
		long long v = strtoll(s, &end, 10);
		if (end != s && end[1] == '\0' && strchr("smhdw", end[0])) {
			long mult = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
			          : end[0] == 'd' ? 86400 : 604800;
			if (v < 0 || v > 100LL * 365 * 86400 / mult)
				return -1;
			*out = now - v * mult;
			return 0;
		}
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *r = strptime(s, "%Y-%m-%d", &tm);
	if (r && *r == 'T')
		r = strptime(r + 1, "%H:%M", &tm);
	if (r && *r == ':')
		r = strptime(r + 1, "%S", &tm);
	if (r == NULL || (*r && strcmp(r, "Z") != 0))
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: trustmilter-report [options]\n"
	      "  -c, --config FILE        configuration (audit.store, reports.*, hostname)\n"
	      "      --store URI          audit store (overrides audit.store): sqlite:PATH, PATH, postgresql://...\n"
	      "      --since T            start: 7d, 24h, 2w, YYYY-MM-DD[THH:MM[:SS]] (UTC), @EPOCH (default 7d)\n"
	      "      --until T            end (exclusive; default now)\n"
	      "      --by day|week|month  time buckets\n"
	      "      --group domain|campaign|direction|client\n"
	      "      --domain D           only this From domain (and its subdomains)\n"
	      "      --direction inbound|outbound\n"
	      "      --format text|json|csv|html   (default text)\n"
	      "      --top N              findings listed (default 20)\n"
	      "  -o, --output FILE        write here instead of standard output\n"
	      "      --dmarc-reports DIR  write RFC 9990 aggregate reports (inbound) into DIR\n"
	      "      --mail               with --dmarc-reports: also a ready-to-send .eml per report\n"
	      "      --submitter DOMAIN   reporting domain (default: hostname)\n"
	      "  -V, --version\n", f);
}

/* set_or_die - configuration override. */
static const char *one_of(const char *v, const char *const *choices, const char *what)
{
	for (size_t i = 0; choices[i]; i++)
		if (strcmp(v, choices[i]) == 0)
			return v;
	fprintf(stderr, "trustmilter-report: bad %s \"%s\"\n", what, v);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, 0, 'c' }, { "store", 1, 0, 'S' }, { "since", 1, 0, 's' }, { "until", 1, 0, 'u' },
		{ "by", 1, 0, 'b' }, { "group", 1, 0, 'g' }, { "domain", 1, 0, 'd' }, { "direction", 1, 0, 'D' },
		{ "format", 1, 0, 'f' }, { "top", 1, 0, 't' }, { "output", 1, 0, 'o' },
		{ "dmarc-reports", 1, 0, 'R' }, { "mail", 0, 0, 'M' }, { "submitter", 1, 0, 'U' },
		{ "version", 0, 0, 'V' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	static const char *const bys[] = { "day", "week", "month", NULL };
	static const char *const groups[] = { "domain", "campaign", "direction", "client", NULL };
	static const char *const dirs[] = { "inbound", "outbound", NULL };
	static const char *const formats[] = { "text", "json", "csv", "html", NULL };
	struct opts o = { .format = "text", .top = TOP_DEFAULT, .spam_threshold = 5.0 };
	const char *cfgpath = NULL, *uri = NULL, *since = "7d", *until = "now", *output = NULL,
	           *dmarc_dir = NULL, *submitter = NULL;
	int mail = 0, c;
	while ((c = getopt_long(argc, argv, "c:o:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'S': uri = optarg; break;
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'b': o.by = one_of(optarg, bys, "--by"); break;
		case 'g': o.group = one_of(optarg, groups, "--group"); break;
		case 'd': o.domain = optarg; break;
		case 'D': o.direction = one_of(optarg, dirs, "--direction"); break;
		case 'f': o.format = one_of(optarg, formats, "--format"); break;
		case 't': o.top = atoi(optarg) > 0 ? atoi(optarg) : TOP_DEFAULT; break;
		case 'o': output = optarg; break;
		case 'R': dmarc_dir = optarg; break;
		case 'M': mail = 1; break;
		case 'U': submitter = optarg; break;
		case 'V': printf("trustmilter-report %s\n", TM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	int64_t now = (int64_t)time(NULL);
	if (parse_time(since, now, &o.since) < 0 || parse_time(until, now, &o.until) < 0) {
		fprintf(stderr, "trustmilter-report: bad time in --since/--until\n");
		return 2;
	}
	if (strcmp(until, "now") == 0)
		o.until = now + 1;      /* "now" includes this second's mail: until is exclusive */
	char err[1024];
	conf *cf = conf_load(cfgpath, err, sizeof(err));
	if (cf == NULL) {
		fprintf(stderr, "trustmilter-report: %s\n", err);
		return 2;
	}
	char u2[4096], host[256];
	if (uri == NULL)
		uri = conf_str(cf, "audit.store");
	if (uri == NULL || uri[0] == '\0') {
		fprintf(stderr, "trustmilter-report: no audit store: set audit.store or use --store\n");
		conf_unref(cf);
		return 2;
	}
	int plain = strncmp(uri, "sqlite:", 7) && strncmp(uri, "postgres", 8) && strncmp(uri, "pg:", 3);
	snprintf(u2, sizeof(u2), "%s%s", plain ? "sqlite:" : "", uri);
	const char *hn = conf_str(cf, "hostname");
	if (hn[0])
		snprintf(host, sizeof(host), "%s", hn);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	char org[256], email[512];
	snprintf(org, sizeof(org), "%s", conf_str(cf, "reports.org_name")[0] ? conf_str(cf, "reports.org_name") : host);
	if (conf_str(cf, "reports.email")[0])
		snprintf(email, sizeof(email), "%s", conf_str(cf, "reports.email"));
	else
		snprintf(email, sizeof(email), "postmaster@%s", host);
	struct rua_count rc_rua = { 0 };
	if (dmarc_dir && mail && (rc_rua.dns = report_dns(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "trustmilter-report: resolver: %s\n", err);
		conf_unref(cf);
		return 2;
	}
	store *st = store_open_reader(u2, err, sizeof(err));
	conf_unref(cf);
	if (st == NULL) {
		fprintf(stderr, "trustmilter-report: %s\n", err);
		return 2;
	}
	struct agg g = { .o = &o, .dmarc_dir = dmarc_dir, .rc = &rc_rua };
	g.buckets.vsize = g.groups.vsize = g.domains.vsize = g.campaigns.vsize = sizeof(struct measures);
	g.findings.vsize = sizeof(uint64_t);
	g.dmarc.vsize = sizeof(struct dreport);
	if (store_query(st, o.since, o.until, on_record, &g, err, sizeof(err)) < 0 ||
	    store_query_drops(st, o.since, o.until, &g.dropped, err, sizeof(err)) < 0) {
		fprintf(stderr, "trustmilter-report: %s\n", err);
		store_close(st);
		dns_free(rc_rua.dns);
		return 2;
	}
	store_close(st);
	int rc = 0;
	if (dmarc_dir) {
		if (mkdir(dmarc_dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", dmarc_dir, strerror(errno));
			rc = 2;
		} else if (dmarc_write(&g, submitter ? submitter : host, org, email, mail) < 0)
			rc = 2;
		if (mail)
			rua_summary(&rc_rua, !output && strcmp(o.format, "text") != 0 ? stderr : stdout);
		dns_free(rc_rua.dns);
	}
	if (!dmarc_dir || output || strcmp(o.format, "text") != 0) {
		buf *out = buf_new(OUT_MAX);
		if (strcmp(o.format, "json") == 0)
			out_json(out, &g);
		else if (strcmp(o.format, "csv") == 0)
			out_csv(out, &g);
		else if (strcmp(o.format, "html") == 0)
			out_html(out, &g);
		else
			out_text(out, &g);
		FILE *f = output ? fopen(output, "wb") : stdout;
		if (f == NULL || fwrite(buf_data(out), 1, buf_len(out), f) != buf_len(out) ||
		    (output && fclose(f) != 0)) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", output ? output : "stdout", strerror(errno));
			rc = 2;
		}
		buf_free(out);
	}
	map_free(&g.buckets, NULL);
	map_free(&g.groups, NULL);
	map_free(&g.findings, NULL);
	map_free(&g.domains, NULL);
	map_free(&g.campaigns, NULL);
	map_free(&g.dmarc, dreport_free);
	return rc;
}
