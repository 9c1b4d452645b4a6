/*
 * complaints - complaint feedback in the main report: the period's ARF
 * reports (stats/feedstore) are counted into the scorecard's domains next
 * to the outbound mail they are about, and give the scorecard's complaint
 * component and the complaint side of provider readiness (the thresholds
 * of the bulk-sender rules: above 0.3% not ready, above 0.1% a warning).
 */
#include <stdio.h>
#include <string.h>
#include "report.h"
#include "store.h"
#include "feedstore.h"

static const char *const prov[3] = { "gmail", "yahoo", "microsoft" };

/* count_into - one report into the domain's row of part p, when the part
 * has outbound mail of that domain (complaints are about our own mail). */
static void count_into(struct part *p, const struct feedstore_arf *r, const char *dom)
{
	struct dstat *d = map_find(&p->domains, dom);
	if (d == NULL || d->fb.out_msgs == 0)
		return;
	d->fb.all_reports++;
	d->fb.all_complaints += r->complaint ? 1u : 0u;
	for (int k = 0; k < 3; k++)
		if (strcmp(r->provider, prov[k]) == 0) {
			d->fb.reports[k]++;
			d->fb.complaints[k] += r->complaint ? 1u : 0u;
		}
}

static int on_arf(void *arg, const struct feedstore_arf *r)
{
	struct agg *g = arg;
	const char *dom = r->from_domain[0] ? r->from_domain : r->reported_domain;
	if (g->use_all)
		count_into(&g->all, r, dom);
	if (g->split)
		count_into(&g->dir[1], r, dom);
	return 0;
}

int complaints_add(store *st, struct agg *g, char *err, size_t errlen)
{
	return feedstore_query_arf(st, g->o->since, g->o->until, on_arf, g, err, errlen);
}

const char *complaint_word(uint64_t complaints, uint64_t reports, uint64_t sent)
{
	if (reports == 0 || sent == 0)
		return "unknown";
	double r = (double)complaints / (double)sent;
	return r > COMPLAINT_FAIL ? "not ready" : r > COMPLAINT_WARN ? "warning" : "ok";
}

double complaint_score(const struct fbstat *f)
{
	if (f->out_msgs == 0 || f->all_reports == 0)
		return -1;
	double r = (double)f->all_complaints / (double)f->out_msgs;
	return r > COMPLAINT_FAIL ? 0 : r > COMPLAINT_WARN ? 0.5 : 1;
}

const char *provider_readiness(char *out, size_t n, const struct dstat *d, int k)
{
	const struct measures *m = &d->auth;
	const uint64_t ready[3] = { m->gmail, m->yahoo, m->microsoft };
	readiness_text(out, n, ready[k], m->messages);
	if (d->fb.out[k] == 0)
		return out;
	const char *w = complaint_word(d->fb.complaints[k], d->fb.reports[k], d->fb.out[k]);
	if (strcmp(w, "not ready") == 0)
		snprintf(out, n, "not ready");
	else if (strcmp(out, "ready") == 0 && strcmp(w, "ok") != 0)
		snprintf(out, n, "%s", w);
	return out;
}
