/*
 * formats - the report as a text table, one JSON object or CSV rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "findings.h"
#include "report.h"

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
		buf_printf(o, "%s\"%s\":%llu", a ? "," : "", verdict_action_name((enum verdict_action)a), (unsigned long long)m->actions[a]);
	buf_puts(o, "},\"spam_scores\":{");
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, "%s\"%s\":%llu", i ? "," : "", spam_buckets[i], (unsigned long long)m->spam[i]);
	buf_puts(o, "}}");
}

/* time_text - ISO 8601 UTC. */
void time_text(int64_t ts, char *out, size_t n)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* json_readiness - ready (every authenticated message), rate and failing
 * share; for outbound mail the provider's complaint figures and the
 * readiness word with them (provider_readiness). */
static void json_readiness(buf *o, const struct dstat *d)
{
	const struct measures *m = &d->auth;
	const char *pn[3] = { "gmail", "yahoo", "microsoft" };
	const uint64_t pr[3] = { m->gmail, m->yahoo, m->microsoft };
	buf_puts(o, ",\"readiness\":{");
	for (int i = 0; i < 3; i++) {
		char v[32], f[32], c[32], w[32];
		r4(v, sizeof(v), pr[i], m->messages, "null");
		r4(f, sizeof(f), m->messages - pr[i], m->messages, "null");
		r4(c, sizeof(c), d->fb.complaints[i], d->fb.out[i], "null");
		buf_printf(o, "%s\"%s\":{\"ready\":%s,\"rate\":%s,\"failing\":%s,\"outbound\":%llu,"
		              "\"feedback_reports\":%llu,\"complaints\":%llu,\"complaint_rate\":%s,"
		              "\"complaint_status\":\"%s\",\"status\":\"%s\"}", i ? "," : "", pn[i],
		           m->messages && pr[i] == m->messages ? "true" : "false", v, f,
		           (unsigned long long)d->fb.out[i], (unsigned long long)d->fb.reports[i],
		           (unsigned long long)d->fb.complaints[i], d->fb.reports[i] ? c : "null",
		           complaint_word(d->fb.complaints[i], d->fb.reports[i], d->fb.out[i]),
		           provider_readiness(w, sizeof(w), d, i));
	}
	buf_putc(o, '}');
}

/* json_score - one scorecard row: the score of the authenticated mail, and
 * the unauthenticated mail apart. */
static void json_score(buf *o, const struct srow *r)
{
	const struct measures *m = &r->d->auth, *u = &r->d->unauth;
	buf_puts(o, "{\"domain\":");
	json_escape(o, r->domain, strlen(r->domain));
	buf_printf(o, ",\"messages\":%llu,\"authenticated\":%llu,", (unsigned long long)(m->messages + u->messages),
	           (unsigned long long)m->messages);
	if (r->scored)
		buf_printf(o, "\"score\":%.1f,\"grade\":\"%s\"", r->s.total, r->s.grade);
	else
		buf_puts(o, "\"score\":null,\"grade\":null");
	buf_puts(o, ",\"dmarc_policy\":");
	const char *pol = dstat_policy_name(r->d);
	if (pol[0])
		json_escape(o, pol, strlen(pol));
	else
		buf_puts(o, "null");
	const char *cn[6] = { "authentication", "dmarc_enforcement", "one_click", "format", "spam",
	                      "complaints" };
	const double cv[6] = { r->s.auth, r->s.enforcement, r->s.one_click, r->s.format, r->s.spam,
	                       r->s.complaints };
	buf_puts(o, ",\"components\":{");
	for (int i = 0; i < 6; i++) {
		if (!r->scored || cv[i] < 0)
			buf_printf(o, "%s\"%s\":null", i ? "," : "", cn[i]);
		else
			buf_printf(o, "%s\"%s\":%.4f", i ? "," : "", cn[i], cv[i]);
	}
	buf_putc(o, '}');
	json_readiness(o, r->d);
	buf_printf(o, ",\"unauthenticated\":{\"messages\":%llu,\"dmarc_fail\":%llu,\"rejected\":%llu,"
	              "\"quarantined\":%llu}}", (unsigned long long)u->messages,
	           (unsigned long long)r->d->dmarc_fail, (unsigned long long)u->actions[ACT_REJECT],
	           (unsigned long long)(u->actions[ACT_QUARANTINE] + u->actions[ACT_JUNK]));
}

/* sorted_buckets - bucket entries by time (their keys are epoch seconds as text). */
static struct entry *sorted_buckets(const struct part *p)
{
	struct entry *v = map_sorted(&p->buckets);
	for (size_t i = 0; i < p->buckets.n; i++)
		for (size_t j = i + 1; j < p->buckets.n; j++)
			if (atoll(v[j].key) < atoll(v[i].key)) {
				struct entry t = v[i]; v[i] = v[j]; v[j] = t;
			}
	return v;
}

/* json_findings - the top findings with their meaning and fix. */
static void json_findings(buf *o, const struct part *p, int top)
{
	size_t nf;
	struct fcount *fc = top_findings(p, &nf);
	buf_puts(o, "\"findings\":[");
	for (size_t i = 0; i < nf && (int)i < top; i++) {
		const struct finding_help *h = findings_help(fc[i].name);
		buf_printf(o, "%s{\"name\":", i ? "," : "");
		json_escape(o, fc[i].name, strlen(fc[i].name));
		buf_printf(o, ",\"count\":%llu,\"meaning\":", (unsigned long long)fc[i].n);
		json_escape(o, h ? h->meaning : "", h ? strlen(h->meaning) : 0);
		buf_puts(o, ",\"fix\":");
		json_escape(o, h ? h->fix : "", h ? strlen(h->fix) : 0);
		buf_putc(o, '}');
	}
	buf_printf(o, "],\"findings_distinct\":%zu", nf);
	free(fc);
}

/* json_part - the members of one part: totals, buckets, groups, findings,
 * policies, scorecard. */
static void json_part(buf *o, const struct agg *g, const struct part *p)
{
	buf_puts(o, "\"totals\":");
	json_measures(o, &p->total);
	buf_printf(o, ",\"by\":\"%s\",\"buckets\":[", g->o->by ? g->o->by : "day");
	struct entry *v = sorted_buckets(p);
	for (size_t i = 0; i < p->buckets.n; i++) {
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
	v = map_sorted(&p->groups);
	for (size_t i = 0; i < p->groups.n; i++) {
		buf_printf(o, "%s{\"key\":", i ? "," : "");
		json_escape(o, v[i].key, strlen(v[i].key));
		buf_puts(o, ",\"measures\":");
		json_measures(o, v[i].val);
		buf_putc(o, '}');
	}
	free(v);
	buf_puts(o, "],");
	json_findings(o, p, g->o->top);
	uint64_t pd[4];
	policy_distribution(p, pd);
	buf_puts(o, ",\"dmarc_policies\":{");
	for (int i = 0; i < 4; i++)
		buf_printf(o, "%s\"%s\":%llu", i ? "," : "", pol_names[i], (unsigned long long)pd[i]);
	buf_printf(o, "},\"scorecard_sort\":\"%s\",\"scorecard_domains\":%zu,\"scorecard\":[",
	           g->o->worst ? "worst" : "volume", p->domains.n);
	size_t nr;
	struct srow *rows = scorecard_rows(p, g->o, &nr);
	for (size_t i = 0; i < nr && (int)i < g->o->top; i++) {
		if (i)
			buf_putc(o, ',');
		json_score(o, &rows[i]);
	}
	free(rows);
	buf_putc(o, ']');
}

/* out_json - the whole report as one JSON object: the top level counts the
 * mail of both directions (or the --direction chosen); without --direction
 * "directions" holds the same members for inbound and outbound apart. */
void out_json(buf *o, struct agg *g)
{
	char a[32], b[32];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	buf_printf(o, "{\"since\":\"%s\",\"until\":\"%s\",\"filters\":{\"domain\":", a, b);
	if (g->o->domain) json_escape(o, g->o->domain, strlen(g->o->domain)); else buf_puts(o, "null");
	buf_puts(o, ",\"direction\":");
	if (g->o->direction) json_escape(o, g->o->direction, strlen(g->o->direction)); else buf_puts(o, "null");
	buf_printf(o, "},\"dropped\":%llu,", (unsigned long long)g->dropped);
	json_part(o, g, &g->all);
	if (g->split) {
		buf_puts(o, ",\"directions\":{");
		for (int i = 0; i < 2; i++) {
			buf_printf(o, "%s\"%s\":{", i ? "," : "", g->dir[i].name);
			json_part(o, g, &g->dir[i]);
			buf_putc(o, '}');
		}
		buf_putc(o, '}');
	}
	buf_puts(o, "}\n");
}

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
void csv_field(buf *o, const char *s)
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
void out_csv(buf *o, struct agg *g)
{
	buf_puts(o, "key,messages,spf_pass_rate,dkim_pass_rate,dmarc_pass_rate,spf_aligned_rate,"
	            "dkim_aligned_rate,bulk,one_click_rate,tls_rate,accept,quarantine,tempfail,reject,discard,junk\r\n");
	struct map *m = g->o->group ? &g->all.groups : &g->all.buckets;
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
	csv_row(o, "(total)", &g->all.total);
}

/* pct - "97.5%" or "-". */
const char *pct(char *out, size_t n, uint64_t a, uint64_t b)
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

/* text_findings - the top findings, each with its meaning and fix. */
static void text_findings(buf *o, const struct part *p, int top)
{
	buf_puts(o, "\nTop findings (meaning; fix)\n");
	size_t nf;
	struct fcount *fc = top_findings(p, &nf);
	for (size_t i = 0; i < nf && (int)i < top; i++) {
		const struct finding_help *h = findings_help(fc[i].name);
		buf_printf(o, "  %8llu  %s\n", (unsigned long long)fc[i].n, fc[i].name);
		if (h)
			buf_printf(o, "            %s\n            fix: %s\n", h->meaning, h->fix);
	}
	if (nf == 0)
		buf_puts(o, "  none\n");
	else if (nf > (size_t)top)
		buf_printf(o, "  (%zu more not shown: --top)\n", nf - (size_t)top);
	free(fc);
}

/* text_table - one measures row per bucket or group. */
static void text_table(buf *o, const char *title, const char *what, const struct map *m, int buckets)
{
	buf_printf(o, "\nBy %s\n", title);
	text_header(o, what);
	struct entry *v = map_sorted(m);
	for (size_t i = 0; i < m->n; i++) {
		char d[32];
		if (buckets)
			day_text(atoll(v[i].key), d, sizeof(d));
		text_measure_row(o, buckets ? d : v[i].key, v[i].val);
	}
	free(v);
}

/* text_scorecard - authenticated mail scored; the rest on its own line. */
static void text_scorecard(buf *o, const struct part *p, const struct opts *op)
{
	buf_printf(o, "\nScorecard of authenticated mail (by %s; method at the end)\n"
	              "  %-40s %8s %6s %5s  %-10s %-17s %-17s %-17s\n", op->worst ? "worst score" : "volume",
	           "sending domain", "messages", "score", "grade", "DMARC p", "Gmail", "Yahoo", "Microsoft");
	size_t nr;
	struct srow *rows = scorecard_rows(p, op, &nr);
	for (size_t i = 0; i < nr && (int)i < op->top; i++) {
		const struct srow *r = &rows[i];
		const struct measures *m = &r->d->auth, *u = &r->d->unauth;
		char sc[16], rd[3][32];
		snprintf(sc, sizeof(sc), r->scored ? "%.1f" : "-", r->s.total);
		const char *pol = dstat_policy_name(r->d);
		buf_printf(o, "  %-40.40s %8llu %6s %5s  %-10s %-17s %-17s %-17s\n", r->domain,
		           (unsigned long long)m->messages, sc, r->scored ? r->s.grade : "-",
		           pol[0] ? pol : "(none)", provider_readiness(rd[0], 32, r->d, 0),
		           provider_readiness(rd[1], 32, r->d, 1), provider_readiness(rd[2], 32, r->d, 2));
		if (u->messages)
			buf_printf(o, "  %-40.40s %8llu  not authenticated: %llu DMARC fail, %llu rejected, "
			              "%llu quarantined or junk\n", "  + forged/unauthenticated",
			           (unsigned long long)u->messages, (unsigned long long)r->d->dmarc_fail,
			           (unsigned long long)u->actions[ACT_REJECT],
			           (unsigned long long)(u->actions[ACT_QUARANTINE] + u->actions[ACT_JUNK]));
	}
	if (nr > (size_t)op->top)
		buf_printf(o, "  (%zu more domains not shown: --top)\n", nr - (size_t)op->top);
	free(rows);
}

/* text_part - the summary, tables and scorecard of one part. */
static void text_part(buf *o, const struct agg *g, const struct part *pa)
{
	char p[4][16];
	const struct measures *t = &pa->total;
	buf_printf(o, "Messages            %llu (%llu bulk)\n", (unsigned long long)t->messages,
	           (unsigned long long)t->bulk);
	if (t->messages == 0) {
		buf_puts(o, "  no data: no mail in this period\n");
		return;
	}
	buf_printf(o, "SPF pass            %s   aligned %s\n", pct(p[0], 16, t->spf_pass, t->messages),
	           pct(p[1], 16, t->spf_aligned, t->messages));
	buf_printf(o, "DKIM pass           %s   aligned %s\n", pct(p[0], 16, t->dkim_pass, t->messages),
	           pct(p[1], 16, t->dkim_aligned, t->messages));
	buf_printf(o, "DMARC pass          %s\n", pct(p[0], 16, t->dmarc_pass, t->messages));
	buf_printf(o, "One-click (bulk)    %s\n", pct(p[0], 16, t->one_click, t->bulk));
	buf_printf(o, "Received over TLS   %s\n", pct(p[0], 16, t->tls, t->messages));
	buf_puts(o, "Actions            ");
	for (int i = 0; i < NACT; i++)
		buf_printf(o, " %s %llu", verdict_action_name((enum verdict_action)i), (unsigned long long)t->actions[i]);
	uint64_t pd[4];
	policy_distribution(pa, pd);
	buf_puts(o, "\nDMARC policies      ");
	for (int i = 0; i < 4; i++)
		buf_printf(o, " %s %llu", pol_names[i], (unsigned long long)pd[i]);
	buf_puts(o, " (sending domains)\nSpam scores        ");
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, " %s: %llu", spam_buckets[i], (unsigned long long)t->spam[i]);
	buf_putc(o, '\n');
	text_findings(o, pa, g->o->top);
	if (g->o->by)
		text_table(o, g->o->by, "start", &pa->buckets, 1);
	if (g->o->group)
		text_table(o, g->o->group, g->o->group, &pa->groups, 0);
	text_scorecard(o, pa, g->o);
}

/* out_text - the readable summary: each direction apart unless --direction. */
void out_text(buf *o, struct agg *g)
{
	char a[32], b[32];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	buf_printf(o, "trustmilter report %s .. %s%s%s%s%s\n", a, b,
	           g->o->domain ? ", domain " : "", g->o->domain ? g->o->domain : "",
	           g->o->direction ? ", " : "", g->o->direction ? g->o->direction : "");
	buf_printf(o, "Audit records dropped: %llu\n", (unsigned long long)g->dropped);
	if (g->split) {
		for (int i = 0; i < 2; i++) {
			buf_printf(o, "\n== %s\n", part_title(&g->dir[i]));
			text_part(o, g, &g->dir[i]);
		}
	} else {
		buf_printf(o, "\n== %s\n", part_title(&g->all));
		text_part(o, g, &g->all);
	}
	buf_puts(o, "\nScoring method\n");
	for (const char *const *l = scoring_method; *l; l++)
		buf_printf(o, "  %s\n", *l);
}
