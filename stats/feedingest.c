/*
 * feedingest - one report into the store; see feedingest.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "feedingest.h"
#include "feedstore.h"
#include "ingest.h"

/* put_arf - tie a complaint to our record and store it. */
static int put_arf(store *st, const struct ingest_result *r, const struct feedingest_opts *o,
                   struct feedingest_count *c, int64_t now, char *why, size_t whylen)
{
	struct feedstore_match m;
	if (feedstore_match(st, &r->arf, &m, why, whylen) != 0)
		return -1;
	int put = feedstore_put_arf(st, r->id, &r->arf, ingest_provider(o->providers, r->arf.recipient_domain),
	                            &m, now, why, whylen);
	if (put == 1) {
		c->arf++;
		c->complaints += r->arf.complaint ? 1u : 0u;
		c->matched += strcmp(m.method, "none") ? 1u : 0u;
	}
	return put;
}

int feedingest_one(store *st, const char *p, size_t len, const struct feedingest_opts *o,
                   struct feedingest_count *c, char *why, size_t whylen)
{
	struct ingest_result *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	int put;
	int64_t now = (int64_t)time(NULL);
	enum ingest_kind k = ingest_parse(p, len, o->campaign_header, r);
	if (k == INGEST_ARF) {
		put = put_arf(st, r, o, c, now, why, whylen);
	} else if (k == INGEST_DMARC) {
		put = feedstore_put_dmarc(st, r->id, &r->agg, now, why, whylen);
		if (put == 1) {
			c->dmarc++;
			c->records += r->agg.nrec;
		}
	} else {
		c->refused++;
		snprintf(why, whylen, "%s", r->error ? r->error : "feedback.report.unknown");
		put = 2;
	}
	if (put == 0)
		c->duplicates++;
	ingest_free(r);
	free(r);
	return put;
}
