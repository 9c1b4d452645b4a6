/*
 * charts - inline SVG charts for the HTML page: pass rates over time
 * (lines) and horizontal bars. Every chart scales to its box (viewBox, width
 * 100%), keeps every label inside the viewBox, breaks a line where a bucket
 * has no data (no bulk mail is no one-click rate, not 0%), and tells series
 * apart by dash pattern and marker as well as colour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

#define LW 760             /* line chart viewBox width */
#define LH 220             /* plot height */
#define LL 48              /* left margin: the "100%" labels */
#define LR 40              /* right margin: half of the last date label */

#define CHART_PERIODS_MAX 400  /* more periods than this: only those with mail are drawn */

/* One period of the line chart; m is NULL when the period had no mail. */
struct period { int64_t start; const struct measures *m; };

/* series_rate - the rate of series k in one period, -1 when it has no base. */
static double series_rate(const struct measures *m, int k)
{
	if (m == NULL)
		return -1;
	return k == 0 ? rate(m->spf_pass, m->messages) : k == 1 ? rate(m->dkim_pass, m->messages)
	     : k == 2 ? rate(m->dmarc_pass, m->messages) : rate(m->one_click, m->bulk);
}

/* bucket_x - x of period i of n inside the plot. */
static double bucket_x(size_t i, size_t n)
{
	return LL + (n > 1 ? (double)i * (LW - LL - LR) / (double)(n - 1) : (LW - LL - LR) / 2.0);
}

static int period_cmp(const void *a, const void *b)
{
	const struct period *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* next_start - the start of the period after the one starting at t. */
static int64_t next_start(int64_t t, const char *by)
{
	int64_t step = strcmp(by, "week") == 0 ? 7 * 86400 : strcmp(by, "month") == 0 ? 32 * 86400 : 86400;
	return bucket_start(t + step + 3600, by);
}

/* periods - every period of the report from its first to its last bucket
 * (so one without mail is a gap on the chart), or only those with mail
 * when that would be more than CHART_PERIODS_MAX. Caller frees. */
static struct period *periods(const struct agg *g, const struct part *p, size_t *n)
{
	const char *by = g->o->by ? g->o->by : "day";
	struct period *have = xcalloc(p->buckets.n, sizeof(*have));
	size_t k = 0;
	for (size_t i = 0; i < p->buckets.cap; i++)
		if (p->buckets.e[i].key)
			have[k++] = (struct period){ atoll(p->buckets.e[i].key), p->buckets.e[i].val };
	qsort(have, k, sizeof(*have), period_cmp);
	int64_t first = bucket_start(g->o->since, by), last = g->o->until - 1;
	size_t count = 0;
	for (int64_t t = first; t <= last && count <= CHART_PERIODS_MAX; t = next_start(t, by))
		count++;
	if (count > CHART_PERIODS_MAX || k == 0 || have[0].start < first) {
		*n = k;
		return have;
	}
	struct period *all = xcalloc(count, sizeof(*all));
	size_t j = 0, i = 0;
	for (int64_t t = first; i < count; t = next_start(t, by), i++) {
		all[i].start = t;
		while (j < k && have[j].start < t)
			j++;
		if (j < k && have[j].start == t)
			all[i].m = have[j].m;
	}
	free(have);
	*n = count;
	return all;
}

/* line_series - one series: polylines broken at periods without data, and
 * points. Widths fall with k and the widest is drawn first, so equal values
 * show as nested lines instead of hiding each other. */
static void line_series(buf *o, const struct period *v, size_t n, int k)
{
	static const char *const names[4] = { "SPF", "DKIM", "DMARC", "one-click" };
	static const char *const colors[4] = { "#74a9cf", "#2ca02c", "#d62728", "#6a3d9a" };
	static const char *const width[4] = { "9", "6", "3.5", "1.5" };
	static const char *const dash[4] = { "", "", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 2\"" };
	int open = 0;
	for (size_t i = 0; i < n; i++) {
		double r = series_rate(v[i].m, k);
		if (r < 0) {
			if (open)
				buf_puts(o, "\"/>\n");
			open = 0;
			continue;
		}
		if (!open)
			buf_printf(o, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"",
			           colors[k], width[k], dash[k]);
		open = 1;
		buf_printf(o, "%.1f,%.1f ", bucket_x(i, n), 10 + (1 - r) * (LH - 10));
	}
	if (open)
		buf_puts(o, "\"/>\n");
	for (size_t i = 0; i < n; i++) {
		double r = series_rate(v[i].m, k);
		if (r >= 0)
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>%s %.1f%%</title></circle>\n",
			           bucket_x(i, n), 10 + (1 - r) * (LH - 10), 6 - k, colors[k], names[k], r * 100);
	}
	buf_printf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s/>"
	              "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
	           LL + k * 130, LL + k * 130 + 28, LH + 42, LH + 42, colors[k], width[k], dash[k], LL + k * 130 + 32,
	           LH + 46, names[k]);
}

/* svg_lines - pass rates per period of one part as a line chart. */
void svg_lines(buf *o, const struct agg *g, const struct part *p)
{
	size_t n;
	struct period *v = periods(g, p, &n);
	buf_printf(o, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	              "role=\"img\" aria-label=\"pass rates over time\">\n", LW, LH + 56);
	for (int y = 0; y <= 100; y += 25) {
		int yy = 10 + (100 - y) * (LH - 10) / 100;
		buf_printf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
		              "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%d%%</text>\n",
		           LL, LW - LR, yy, yy, LL - 6, yy + 4, y);
	}
	for (int k = 0; k < 4; k++)
		line_series(o, v, n, k);
	size_t step = n > 8 ? (n + 7) / 8 : 1;   /* at most 8 date labels: no overlap */
	for (size_t i = 0; i < n; i++) {
		if (i % step && i != n - 1)
			continue;
		if (i != n - 1 && n - 1 - i < step)
			continue;                          /* keep room for the last label */
		char d[32];
		day_text(v[i].start, d, sizeof(d));
		buf_printf(o, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n",
		           bucket_x(i, n), LH + 18, d);
	}
	buf_puts(o, "</svg>\n");
	free(v);
}

/* svg_bars - horizontal bars, each with its label above it (never cut at the
 * left edge, whatever its length), the value after the bar. */
void svg_bars(buf *o, const char *label, const char *const *names, const double *vals,
              size_t n, double max, int percent)
{
	const int W = 760, row = 34, VW = 90;
	buf_printf(o, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %zu\" role=\"img\" "
	              "aria-label=\"", W, n * row + 6);
	html_text(o, label);
	buf_puts(o, "\">\n");
	for (size_t i = 0; i < n; i++) {
		double w = max > 0 ? vals[i] / max * (W - VW) : 0;
		char nm[81];
		size_t len = strlen(names[i]);
		if (len > 80)                         /* long labels are cut for the chart only */
			snprintf(nm, sizeof(nm), "%.77s...", names[i]);
		else
			snprintf(nm, sizeof(nm), "%s", names[i]);
		buf_printf(o, "<text x=\"0\" y=\"%zu\" font-size=\"12\">", i * row + 12);
		html_text(o, nm);
		buf_printf(o, "</text><rect x=\"0\" y=\"%zu\" width=\"%.1f\" height=\"14\" fill=\"#4e79a7\"/>"
		              "<text x=\"%.1f\" y=\"%zu\" font-size=\"12\">", i * row + 16, w, w + 4, i * row + 28);
		if (percent)
			buf_printf(o, "%.1f%%", vals[i] * 100);
		else
			buf_printf(o, "%.0f", vals[i]);
		buf_puts(o, "</text>\n");
	}
	buf_puts(o, "</svg>\n");
}
