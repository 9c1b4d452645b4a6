/*
 * html - the report as one self-contained HTML page (inline CSS and SVG,
 * no scripts, no fetches); the charts are drawn by charts.c. The page holds
 * everything the text report holds: per direction the summary, the charts,
 * the findings with meaning and fix, the --by and --group tables and the
 * scorecard with the forged lines, then the scoring method. Tables scroll
 * inside their own box on narrow screens; long names wrap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
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

static const char css[] =
	"body{font-family:sans-serif;margin:1em auto;padding:0 1em;max-width:64em;color:#222;line-height:1.35}"
	"table{border-collapse:collapse;margin:.5em 0}.scroll{overflow-x:auto;max-width:100%}"
	"td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}"
	"td:first-child,th:first-child{text-align:left;overflow-wrap:anywhere;min-width:8em}"
	"td.name{white-space:nowrap}.chart-wrap{overflow-x:auto;max-width:100%}"
	"td.text,th.text{text-align:left;min-width:12em}h2{margin-top:1.5em}h3{margin-top:1.2em}"
	".ready{color:#080}.notready{color:#b00}.forged td{color:#555;font-style:italic}"
	".nodata{padding:1em;background:#f4f4f4;border:1px dashed #aaa}"
	"svg.chart{width:100%;height:auto;max-width:760px;min-width:560px;display:block}";

/* html_table_measures - one row per bucket or group, like the text report's. */
static void html_table_measures(buf *o, const char *id, const char *what, const struct map *m, int buckets)
{
	buf_printf(o, "<div class=\"scroll\"><table id=\"%s\"><tr><th>", id);
	html_text(o, what);
	buf_puts(o, "</th><th>messages</th><th>SPF</th><th>DKIM</th><th>DMARC</th><th>DKIM aligned</th>"
	            "<th>one-click</th><th>TLS</th></tr>\n");
	struct entry *v = map_sorted(m);
	for (size_t i = 0; i < m->n; i++) {
		const struct measures *x = v[i].val;
		char d[32], p[6][16];
		if (buckets)
			day_text(atoll(v[i].key), d, sizeof(d));
		buf_puts(o, "<tr><td>");
		html_text(o, buckets ? d : v[i].key);
		buf_printf(o, "</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
		           (unsigned long long)x->messages, pct(p[0], 16, x->spf_pass, x->messages),
		           pct(p[1], 16, x->dkim_pass, x->messages), pct(p[2], 16, x->dmarc_pass, x->messages),
		           pct(p[3], 16, x->dkim_aligned, x->messages), pct(p[4], 16, x->one_click, x->bulk),
		           pct(p[5], 16, x->tls, x->messages));
	}
	free(v);
	buf_puts(o, "</table></div>\n");
}

/* html_summary - the totals of one part. */
static void html_summary(buf *o, const struct part *pa, const char *sfx)
{
	const struct measures *t = &pa->total;
	char p[8][16];
	buf_printf(o, "<div class=\"scroll\"><table id=\"summary%s\"><tr><th>measure</th><th>value</th></tr>\n"
	              "<tr><td>messages</td><td>%llu</td></tr><tr><td>bulk messages</td><td>%llu</td></tr>\n"
	              "<tr><td>SPF pass</td><td>%s</td></tr><tr><td>DKIM pass</td><td>%s</td></tr>\n"
	              "<tr><td>DMARC pass</td><td>%s</td></tr><tr><td>DKIM aligned</td><td>%s</td></tr>\n"
	              "<tr><td>SPF aligned</td><td>%s</td></tr><tr><td>one-click compliant (bulk)</td><td>%s</td></tr>\n"
	              "<tr><td>received over TLS</td><td>%s</td></tr>\n", sfx,
	           (unsigned long long)t->messages, (unsigned long long)t->bulk,
	           pct(p[0], 16, t->spf_pass, t->messages), pct(p[1], 16, t->dkim_pass, t->messages),
	           pct(p[2], 16, t->dmarc_pass, t->messages), pct(p[3], 16, t->dkim_aligned, t->messages),
	           pct(p[4], 16, t->spf_aligned, t->messages), pct(p[5], 16, t->one_click, t->bulk),
	           pct(p[6], 16, t->tls, t->messages));
	for (int i = 0; i < NACT; i++)
		buf_printf(o, "<tr><td>action %s</td><td>%llu</td></tr>\n", verdict_action_name((enum verdict_action)i), (unsigned long long)t->actions[i]);
	uint64_t pd[4];
	policy_distribution(pa, pd);
	for (int i = 0; i < 4; i++)
		buf_printf(o, "<tr><td>sending domains with DMARC %s</td><td>%llu</td></tr>\n", pol_names[i],
		           (unsigned long long)pd[i]);
	for (int i = 0; i < NSPAM; i++)
		buf_printf(o, "<tr><td>spam score %s</td><td>%llu</td></tr>\n", spam_buckets[i], (unsigned long long)t->spam[i]);
	buf_puts(o, "</table></div>\n");
}

/* html_findings - the top findings as a chart and a table with meaning and fix. */
static void html_findings(buf *o, const struct part *pa, int top, const char *sfx)
{
	size_t nf;
	struct fcount *fc = top_findings(pa, &nf);
	size_t shown = nf > (size_t)top ? (size_t)top : nf;
	buf_puts(o, "<h3>Top findings</h3>\n");
	if (shown == 0) {
		buf_puts(o, "<p class=\"nodata\">No findings in this period.</p>\n");
		free(fc);
		return;
	}
	const char **names = xcalloc(shown, sizeof(char *));
	double *vals = xcalloc(shown, sizeof(double));
	for (size_t i = 0; i < shown; i++) {
		names[i] = fc[i].name;
		vals[i] = (double)fc[i].n;
	}
	buf_puts(o, "<div class=\"chart-wrap\">");
	svg_bars(o, "top findings", names, vals, shown, vals[0], 0);
	buf_puts(o, "</div>\n");
	free(names);
	free(vals);
	buf_printf(o, "<div class=\"scroll\"><table id=\"findings%s\"><tr><th>finding</th><th>messages</th>"
	              "<th class=\"text\">meaning</th><th class=\"text\">fix</th></tr>\n", sfx);
	for (size_t i = 0; i < shown; i++) {
		const struct finding_help *h = findings_help(fc[i].name);
		buf_puts(o, "<tr><td class=\"name\">");
		html_text(o, fc[i].name);
		buf_printf(o, "</td><td>%llu</td><td class=\"text\">", (unsigned long long)fc[i].n);
		html_text(o, h ? h->meaning : "");
		buf_puts(o, "</td><td class=\"text\">");
		html_text(o, h ? h->fix : "");
		buf_puts(o, "</td></tr>\n");
	}
	buf_puts(o, "</table></div>\n");
	if (nf > shown)
		buf_printf(o, "<p>%zu more findings not shown (--top).</p>\n", nf - shown);
	free(fc);
}

/* html_campaigns - one-click compliance per campaign. */
static void html_campaigns(buf *o, const struct part *pa)
{
	buf_puts(o, "<h3>One-click compliance per campaign</h3>\n");
	if (pa->campaigns.n == 0) {
		buf_puts(o, "<p class=\"nodata\">No bulk mail in this period.</p>\n");
		return;
	}
	struct entry *v = map_sorted(&pa->campaigns);
	const char **names = xcalloc(pa->campaigns.n, sizeof(char *));
	double *vals = xcalloc(pa->campaigns.n, sizeof(double));
	for (size_t i = 0; i < pa->campaigns.n; i++) {
		const struct measures *m = v[i].val;
		names[i] = v[i].key;
		vals[i] = rate(m->one_click, m->bulk);
	}
	buf_puts(o, "<div class=\"chart-wrap\">");
	svg_bars(o, "one-click compliance per campaign", names, vals, pa->campaigns.n, 1, 1);
	buf_puts(o, "</div>\n");
	free(names);
	free(vals);
	free(v);
}

/* html_scorecard_row - one domain, and its forged or unauthenticated mail below. */
static void html_scorecard_row(buf *o, const struct srow *r)
{
	const struct measures *m = &r->d->auth, *u = &r->d->unauth;
	const char *pol = dstat_policy_name(r->d);
	buf_puts(o, "<tr><td>");
	html_text(o, r->domain);
	buf_printf(o, "</td><td>%llu</td>", (unsigned long long)m->messages);
	if (r->scored)
		buf_printf(o, "<td>%.1f</td><td>%s</td>", r->s.total, r->s.grade);
	else
		buf_puts(o, "<td>-</td><td>-</td>");
	buf_printf(o, "<td>%s</td>", pol[0] ? pol : "(none)");
	for (int k = 0; k < 3; k++) {
		char w[32];
		provider_readiness(w, sizeof(w), r->d, k);
		buf_printf(o, "<td class=\"%s\">%s</td>", strcmp(w, "ready") ? "notready" : "ready", w);
	}
	buf_puts(o, "</tr>\n");
	if (u->messages)
		buf_printf(o, "<tr class=\"forged\"><td>+ forged or unauthenticated</td><td>%llu</td>"
		              "<td colspan=\"6\" class=\"text\">not scored: %llu DMARC fail, %llu rejected, "
		              "%llu quarantined or junk</td></tr>\n", (unsigned long long)u->messages,
		           (unsigned long long)r->d->dmarc_fail, (unsigned long long)u->actions[ACT_REJECT],
		           (unsigned long long)(u->actions[ACT_QUARANTINE] + u->actions[ACT_JUNK]));
}

/* html_scorecard - the scorecard of one part, by volume or worst score. */
static void html_scorecard(buf *o, const struct part *pa, const struct opts *op, const char *sfx)
{
	buf_printf(o, "<h3>Scorecard per sending domain (authenticated mail, by %s)</h3>\n"
	              "<div class=\"scroll\"><table id=\"scorecard%s\"><tr><th>domain</th><th>authenticated messages</th>"
	              "<th>score</th><th>grade</th><th>DMARC policy</th><th>Gmail</th><th>Yahoo</th>"
	              "<th>Microsoft</th></tr>\n", op->worst ? "worst score" : "volume", sfx);
	size_t nr;
	struct srow *rows = scorecard_rows(pa, op, &nr);
	for (size_t i = 0; i < nr && (int)i < op->top; i++)
		html_scorecard_row(o, &rows[i]);
	buf_puts(o, "</table></div>\n");
	if (nr > (size_t)op->top)
		buf_printf(o, "<p>%zu more domains not shown (--top).</p>\n", nr - (size_t)op->top);
	free(rows);
}

/* html_part - one direction (or both together). */
static void html_part(buf *o, const struct agg *g, const struct part *pa)
{
	char sfx[16];
	snprintf(sfx, sizeof(sfx), "-%s", pa->name ? pa->name : "all");
	buf_printf(o, "<section class=\"part\" id=\"part%s\">\n<h2>%s</h2>\n", sfx, part_title(pa));
	if (pa->total.messages == 0) {
		buf_puts(o, "<p class=\"nodata\">No data: no mail in this period.</p>\n</section>\n");
		return;
	}
	html_summary(o, pa, sfx);
	buf_printf(o, "<h3>Pass rates by %s</h3>\n", g->o->by ? g->o->by : "day");
	buf_puts(o, "<div class=\"chart-wrap\">");
	svg_lines(o, g, pa);
	buf_puts(o, "</div>\n<p>Each point is one period. A line stops where a period has no data: no mail, "
	            "or for one-click no bulk mail. Equal values are drawn as nested lines, the widest first.</p>\n");
	html_findings(o, pa, g->o->top, sfx);
	html_campaigns(o, pa);
	if (g->o->by) {
		buf_printf(o, "<h3>By %s</h3>\n", g->o->by);
		html_table_measures(o, "by-bucket", "start", &pa->buckets, 1);
	}
	if (g->o->group) {
		buf_printf(o, "<h3>By %s</h3>\n", g->o->group);
		html_table_measures(o, "by-group", g->o->group, &pa->groups, 0);
	}
	html_scorecard(o, pa, g->o, sfx);
	buf_puts(o, "</section>\n");
}

/* out_html - one self-contained page: inline CSS and SVG, no scripts, no fetches. */
void out_html(buf *o, struct agg *g)
{
	char a[32], b[32];
	time_text(g->o->since, a, sizeof(a));
	time_text(g->o->until, b, sizeof(b));
	buf_printf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	              "<title>trustmilter report %s .. %s</title>\n<style>%s</style></head><body>\n"
	              "<h1>trustmilter report</h1>\n<p>%s .. %s", a, b, css, a, b);
	if (g->o->domain) {
		buf_puts(o, ", domain ");
		html_text(o, g->o->domain);
	}
	if (g->o->direction)
		buf_printf(o, ", %s", strcmp(g->o->direction, "outbound") == 0 ? "outbound"
		           : strcmp(g->o->direction, "both") == 0 ? "both directions" : "inbound");
	buf_printf(o, "; audit records dropped: %llu</p>\n", (unsigned long long)g->dropped);
	if (g->split) {
		html_part(o, g, &g->dir[0]);
		html_part(o, g, &g->dir[1]);
	} else {
		html_part(o, g, &g->all);
	}
	buf_puts(o, "<h2>Scoring method</h2>\n<p id=\"method\">");
	for (const char *const *l = scoring_method; *l; l++) {
		html_text(o, *l);
		buf_putc(o, ' ');
	}
	buf_puts(o, "</p>\n</body></html>\n");
}
