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

/* The scoring method, printed in every text and HTML report so that a reader
 * needs no other file; docs/STATISTICS.md ("Scorecard") says the same. */
const char *const scoring_method[] = {
	"Each sending (From) domain is scored 0-100 on its authenticated mail only: DMARC pass,",
	"an aligned SPF or DKIM pass, or mail we sent ourselves (outbound). Forged and",
	"unauthenticated mail using the name is counted on its own line and never lowers the score.",
	"Components (weight): authentication 40 = (15 x SPF pass + 15 x aligned DKIM pass",
	"+ 10 x DMARC pass) / 40; DMARC enforcement 20 = last seen policy: reject 1,",
	"quarantine 0.75, none 0.25, no record 0; one-click unsubscribe 20 = share of bulk",
	"messages that are RFC 8058 compliant; RFC 5322 format 10 = share without format",
	"findings; spam 10 = 1 - share with a spam score of 5 or more; complaints 10 (our own",
	"outbound mail, with feedback loop reports stored) = 1 at a complaint rate of at most",
	"0.1%, 0.5 at most 0.3%, else 0.",
	"A component with no data (no bulk mail, no spam scores) is left out and the other",
	"weights scaled to 100. Grade: A >= 90, B >= 80, C >= 70, D >= 60, else F.",
	"Provider readiness: ready when every authenticated message was ready for the provider;",
	"otherwise the share of those messages that was not. For a domain's outbound mail the",
	"provider's complaint rate counts too: above 0.3% not ready, above 0.1% warning, and",
	"without reports from its feedback loop unknown (never ready).",
	NULL
};

/* has_prefix - does any finding start with p? */
static int any_finding(const struct audit_record *r, const char *p)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (strncmp(r->findings[i], p, strlen(p)) == 0)
			return 1;
	return 0;
}

/* spam_bucket - index into spam_buckets (the rollups' definition, stats/rollup.c). */
static int spam_bucket(const struct audit_record *r)
{
	return rollup_spam_bucket(r);
}

/* measure_add - one weighted record (see struct wrec) into m. */
static void measure_add(struct measures *m, const struct wrec *w)
{
	const struct audit_record *r = w->r;
	uint64_t n = w->n;
	m->messages += n;
	m->spf_pass += n * (r->spf_result == AR_PASS);
	int dk = 0, dka = 0;
	for (size_t i = 0; i < r->nsigs; i++)
		if (r->sigs[i].result == AR_PASS) {
			dk = 1;
			dka |= r->sigs[i].aligned;
		}
	m->dkim_pass += n * (uint64_t)dk;
	m->dkim_aligned_pass += n * (uint64_t)dka;
	m->dmarc_pass += n * (r->dmarc_result == AR_PASS);
	m->spf_aligned += n * (r->dmarc_spf_aligned != 0);
	m->dkim_aligned += n * (r->dmarc_dkim_aligned != 0);
	m->dmarc_records += n * (r->dmarc_policy != DMARC_P_UNSPEC);
	if (r->bulk) {
		m->bulk += n;
		m->one_click += n * (r->unsub_verdict == UNSUB_COMPLIANT);
	}
	m->tls += n * (r->tls_version[0] != '\0');
	m->format_ok += n * !any_finding(r, "format.");
	if (w->spam_bucket != NSPAM - 1) {
		m->spam_known += n;
		m->spam_flagged += n * (uint64_t)w->spam_flagged;
	}
	m->spam[w->spam_bucket] += n;
	m->gmail += n * (r->gmail_ready != 0);
	m->yahoo += n * (r->yahoo_ready != 0);
	m->microsoft += n * (r->microsoft_ready != 0);
	m->rcpts += w->rcpts;
	m->bytes += w->bytes;
	if ((unsigned)r->action_enforced < NACT)
		m->actions[r->action_enforced] += n;
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


/* authenticated - does the record show the From domain's own mail: DMARC
 * pass, an aligned SPF or DKIM pass (also without a DMARC record), or mail
 * we sent ourselves? One definition with the rollups (stats/rollup.c). */
static int authenticated(const struct audit_record *r)
{
	return rollup_authenticated(r);
}

/* measures_add - see report.h. */
void measures_add(struct measures *dst, const struct measures *src)
{
	const uint64_t *a = &src->messages;
	uint64_t *b = &dst->messages;
	/* the counters from messages to bytes are consecutive uint64_t */
	for (size_t i = 0; i <= (size_t)(&src->bytes - &src->messages); i++)
		b[i] += a[i];
	for (size_t i = 0; i < NACT; i++)
		dst->actions[i] += src->actions[i];
	for (size_t i = 0; i < NSPAM; i++)
		dst->spam[i] += src->spam[i];
	if (src->messages && src->last_ts >= dst->last_ts) {
		dst->last_ts = src->last_ts;
		dst->policy = src->policy;
	}
}

/* part_add - one record into every measure of one part. */
static void part_add(struct part *p, const struct opts *o, const struct wrec *w)
{
	const struct audit_record *r = w->r;
	measure_add(&p->total, w);
	char bk[32];
	snprintf(bk, sizeof(bk), "%lld", (long long)bucket_start(r->ts, o->by ? o->by : "day"));
	measure_add(map_get(&p->buckets, bk), w);
	if (o->group)
		measure_add(map_get(&p->groups, group_key(r, o->group)), w);
	for (size_t i = 0; i < r->nfindings; i++)
		*(uint64_t *)map_get(&p->findings, r->findings[i]) += w->n;
	struct dstat *d = map_get(&p->domains, r->from_domain[0] ? r->from_domain : "(no From domain)");
	if (authenticated(r)) {
		measure_add(&d->auth, w);
	} else {
		measure_add(&d->unauth, w);
		d->dmarc_fail += w->n * (r->dmarc_result == AR_FAIL);
	}
	if (r->direction == DIR_OUTBOUND) {
		d->fb.out_msgs += w->n;
		for (int k = 0; k < 3; k++)
			d->fb.out[k] += w->out[k];
	}
	if (r->bulk)
		measure_add(map_get(&p->campaigns, r->campaign[0] ? r->campaign : "(none)"), w);
}

/* part_init - empty maps with their value sizes. */
static void part_init(struct part *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->buckets.vsize = p->groups.vsize = p->campaigns.vsize = sizeof(struct measures);
	p->domains.vsize = sizeof(struct dstat);
	p->findings.vsize = sizeof(uint64_t);
}

static void part_free(struct part *p)
{
	map_free(&p->buckets, NULL);
	map_free(&p->groups, NULL);
	map_free(&p->findings, NULL);
	map_free(&p->domains, NULL);
	map_free(&p->campaigns, NULL);
}

/* agg_init - which parts are counted: --direction inbound|outbound filters
 * and "both" mixes (one part); without it each direction is its own part,
 * plus the mixed one for JSON and CSV, whose top level stays both together. */
void agg_init(struct agg *g, const struct opts *o)
{
	g->o = o;
	/* a --direction filter names the one part after that direction */
	int one = o->direction && strcmp(o->direction, "both") != 0;
	part_init(&g->all, one ? (strcmp(o->direction, "outbound") == 0 ? "outbound" : "inbound") : NULL);
	part_init(&g->dir[0], "inbound");
	part_init(&g->dir[1], "outbound");
	g->split = o->direction == NULL;
	g->use_all = !g->split || strcmp(o->format, "json") == 0 || strcmp(o->format, "csv") == 0;
	g->dmarc.vsize = sizeof(struct dreport);
}

void agg_free(struct agg *g)
{
	part_free(&g->all);
	part_free(&g->dir[0]);
	part_free(&g->dir[1]);
	map_free(&g->dmarc, dreport_free);
}

/* agg_parts - see report.h. */
size_t agg_parts(struct agg *g, int out, const char *from_domain, struct part *ps[2])
{
	const struct opts *o = g->o;
	if (o->direction && strcmp(o->direction, "both") != 0 && out != (strcmp(o->direction, "outbound") == 0))
		return 0;
	if (o->domain && !dom_at_or_below(from_domain, strlen(from_domain), o->domain, strlen(o->domain)))
		return 0;
	size_t n = 0;
	if (g->use_all)
		ps[n++] = &g->all;
	if (g->split)
		ps[n++] = &g->dir[out];
	return n;
}

/* agg_add - one weighted record (see report.h): filter, then count everywhere. */
void agg_add(struct agg *g, const struct wrec *w)
{
	const struct audit_record *r = w->r;
	struct part *ps[2];
	size_t np = agg_parts(g, r->direction == DIR_OUTBOUND, r->from_domain, ps);
	for (size_t i = 0; i < np; i++)
		part_add(ps[i], g->o, w);
	if (np && g->dmarc_dir)
		dmarc_add(g, r);
}

/* on_record - store_query callback: one record of weight 1. */
int on_record(void *arg, const struct audit_record *r)
{
	struct agg *g = arg;
	struct wrec w = { r, 1, r->nrcpt, (uint64_t)(r->size > 0 ? r->size : 0),
	                  spam_bucket(r), r->has_spam && r->spam_score >= g->o->spam_threshold,
	                  { r->rcpt_gmail, r->rcpt_yahoo, r->rcpt_microsoft } };
	agg_add(g, &w);
	return 0;
}

/* rate - n/d, or -1 when d is 0. */
double rate(uint64_t n, uint64_t d) { return d ? (double)n / (double)d : -1; }

/* score_total - the weighted mean of the known components, and the grade.
 * Weights: authentication 40, DMARC enforcement 20, one-click 20, format 10,
 * spam 10, complaints 10; unknown components are left out and the rest
 * scaled to 100. */
static void score_total(struct score *s)
{
	const double w[6] = { 40, 20, 20, 10, 10, 10 };
	const double v[6] = { s->auth, s->enforcement, s->one_click, s->format, s->spam, s->complaints };
	double sum = 0, wsum = 0;
	for (int i = 0; i < 6; i++)
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

/* scorecard - the method of docs/STATISTICS.md ("Scorecard") for the
 * measures alone (the complaint component unknown). */
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
	s->complaints = -1;
	score_total(s);
}

static int fcount_cmp(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* top_findings - findings by count, descending; *n set to the number. */
struct fcount *top_findings(const struct part *p, size_t *n)
{
	struct fcount *v = xcalloc(p->findings.n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < p->findings.cap; i++)
		if (p->findings.e[i].key)
			v[k++] = (struct fcount){ p->findings.e[i].key, *(uint64_t *)p->findings.e[i].val };
	qsort(v, k, sizeof(*v), fcount_cmp);
	*n = k;
	return v;
}

/* dstat_policy - the domain's DMARC policy as last seen, authenticated mail first. */
static enum dmarc_policy dstat_policy(const struct dstat *d)
{
	return d->auth.messages ? d->auth.policy : d->unauth.policy;
}

/* dstat_policy_name - that policy's name, "" when none was seen. */
const char *dstat_policy_name(const struct dstat *d)
{
	enum dmarc_policy p = dstat_policy(d);
	return p == DMARC_P_UNSPEC ? "" : dmarc_policy_name(p);
}

/* policy_distribution - sending domains by their DMARC policy. */
void policy_distribution(const struct part *p, uint64_t out[4])
{
	memset(out, 0, 4 * sizeof(uint64_t));
	for (size_t i = 0; i < p->domains.cap; i++) {
		if (!p->domains.e[i].key || strcmp(p->domains.e[i].key, "(no From domain)") == 0)
			continue;
		enum dmarc_policy pol = dstat_policy(p->domains.e[i].val);
		int k = pol == DMARC_P_REJECT ? 0 : pol == DMARC_P_QUARANTINE ? 1 : pol == DMARC_P_NONE ? 2 : 3;
		out[k]++;
	}
}

static int srow_volume_cmp(const void *a, const void *b)
{
	const struct srow *x = a, *y = b;
	uint64_t vx = x->d->auth.messages + x->d->unauth.messages,
	         vy = y->d->auth.messages + y->d->unauth.messages;
	if (vx != vy)
		return vx < vy ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* srow_worst_cmp - lowest score first; domains without a score after all scored ones. */
static int srow_worst_cmp(const void *a, const void *b)
{
	const struct srow *x = a, *y = b;
	if (x->scored != y->scored)
		return x->scored ? -1 : 1;
	if (x->scored && x->s.total != y->s.total)
		return x->s.total < y->s.total ? -1 : 1;
	return srow_volume_cmp(a, b);
}

/* scorecard_rows - see report.h. */
struct srow *scorecard_rows(const struct part *p, const struct opts *o, size_t *n)
{
	struct srow *v = xcalloc(p->domains.n, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < p->domains.cap; i++) {
		if (!p->domains.e[i].key)
			continue;
		struct srow *r = &v[k++];
		r->domain = p->domains.e[i].key;
		r->d = p->domains.e[i].val;
		r->scored = r->d->auth.messages > 0;
		if (r->scored) {
			scorecard(&r->d->auth, &r->s);
			r->s.complaints = complaint_score(&r->d->fb);
			score_total(&r->s);
		}
	}
	qsort(v, k, sizeof(*v), o->worst ? srow_worst_cmp : srow_volume_cmp);
	*n = k;
	return v;
}

/* readiness_text - see report.h: the failing share, so "not ready" says how far. */
const char *readiness_text(char *out, size_t n, uint64_t ready, uint64_t total)
{
	if (total == 0)
		snprintf(out, n, "-");
	else if (ready == total)
		snprintf(out, n, "ready");
	else
		snprintf(out, n, "%.1f%% not ready", 100.0 * (double)(total - ready) / (double)total);
	return out;
}

/* part_title - the heading of one part of the report. */
const char *part_title(const struct part *p)
{
	if (p->name == NULL)
		return "All mail";
	return strcmp(p->name, "outbound") == 0 ? "Outbound mail (sent by us)" : "Inbound mail (sent to us)";
}
