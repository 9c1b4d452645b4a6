/*
 * html - the report as one self-contained HTML page (inline CSS and SVG,
 * no scripts, no fetches); the charts are drawn by charts.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* html_text - escape for HTML text and attributes. */
void html_text(buf *o, const char *s)
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

/* out_html - one self-contained page: inline CSS and SVG, no scripts, no fetches. */
void out_html(buf *o, struct agg *g)
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
		buf_printf(o, "<tr><td>%s</td><td>%llu</td></tr>\n", verdict_action_name((enum verdict_action)i), (unsigned long long)t->actions[i]);
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
		           s.total, s.grade, m->policy != DMARC_P_UNSPEC ? dmarc_policy_name(m->policy) : "(none)");
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
