/*
 * formats - the report as a text table, one JSON object or CSV rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
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

static void json_score(buf *o, const char *dom, const struct measures *m)
{
	struct score s;
	scorecard(m, &s);
	buf_puts(o, "{\"domain\":");
	json_escape(o, dom, strlen(dom));
	buf_printf(o, ",\"messages\":%llu,\"score\":%.1f,\"grade\":\"%s\",\"dmarc_policy\":",
	           (unsigned long long)m->messages, s.total, s.grade);
	if (m->policy != DMARC_P_UNSPEC)
		json_escape(o, dmarc_policy_name(m->policy), strlen(dmarc_policy_name(m->policy)));
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
void out_json(buf *o, struct agg *g)
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

/* out_text - the readable summary. */
void out_text(buf *o, struct agg *g)
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
		buf_printf(o, " %s %llu", verdict_action_name((enum verdict_action)i), (unsigned long long)t->actions[i]);
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
		           (unsigned long long)m->messages, s.total, s.grade, m->policy != DMARC_P_UNSPEC ? dmarc_policy_name(m->policy) : "(none)",
		           readiness_word(m->gmail, m->messages), readiness_word(m->yahoo, m->messages),
		           readiness_word(m->microsoft, m->messages));
	}
	free(v);
}
