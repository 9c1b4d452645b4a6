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

/* series_rate - the rate of series k in one bucket, -1 when it has no base. */
static double series_rate(const struct measures *m, int k)
{
	return k == 0 ? rate(m->spf_pass, m->messages) : k == 1 ? rate(m->dkim_pass, m->messages)
	     : k == 2 ? rate(m->dmarc_pass, m->messages) : rate(m->one_click, m->bulk);
}

/* bucket_x - x of bucket i of n inside the plot. */
static double bucket_x(size_t i, size_t n)
{
	return LL + (n > 1 ? (double)i * (LW - LL - LR) / (double)(n - 1) : (LW - LL - LR) / 2.0);
}

/* line_series - one series: polylines broken at buckets without data, and points. */
static void line_series(buf *o, const struct entry *v, size_t n, int k)
{
	static const char *const names[4] = { "SPF", "DKIM", "DMARC", "one-click" };
	static const char *const colors[4] = { "#1f77b4", "#2ca02c", "#d62728", "#9467bd" };
	static const char *const dash[4] = { "", " stroke-dasharray=\"8 4\"", " stroke-dasharray=\"2 3\"",
	                                     " stroke-dasharray=\"12 3 3 3\"" };
	int open = 0;
	for (size_t i = 0; i < n; i++) {
		double r = series_rate(v[i].val, k);
		if (r < 0) {
			if (open)
				buf_puts(o, "\"/>\n");
			open = 0;
			continue;
		}
		if (!open)
			buf_printf(o, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
			           colors[k], dash[k]);
		open = 1;
		buf_printf(o, "%.1f,%.1f ", bucket_x(i, n), 10 + (1 - r) * (LH - 10));
	}
	if (open)
		buf_puts(o, "\"/>\n");
	for (size_t i = 0; i < n; i++) {
		double r = series_rate(v[i].val, k);
		if (r >= 0)
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>%s %.1f%%</title></circle>\n",
			           bucket_x(i, n), 10 + (1 - r) * (LH - 10), 5 - k, colors[k], names[k], r * 100);
	}
	buf_printf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
	              "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
	           LL + k * 130, LL + k * 130 + 28, LH + 42, LH + 42, colors[k], dash[k], LL + k * 130 + 32,
	           LH + 46, names[k]);
}

/* svg_lines - pass rates per bucket of one part as a line chart. */
void svg_lines(buf *o, const struct agg *g, const struct part *p)
{
	(void)g;
	struct entry *v = map_sorted(&p->buckets);   /* keys: epoch seconds of equal width */
	size_t n = p->buckets.n;
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
		day_text(atoll(v[i].key), d, sizeof(d));
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
