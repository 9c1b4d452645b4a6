/*
 * charts - inline SVG charts for the HTML page: pass rates over time
 * (lines) and horizontal bars.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* svg_lines - pass rates per bucket as a line chart. */
void svg_lines(buf *o, struct agg *g)
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
void svg_bars(buf *o, const char *label, const char *const *names, const double *vals,
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
