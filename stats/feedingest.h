/*
 * feedingest - one report into the store: parsed by feedback/ingest, tied
 * to our outbound record (ARF) and stored once by stats/feedstore. Shared by
 * trustmilter-report --ingest and the daemon's feedback thread (programs
 * that use it link libtmfeedback.a after libtmstats.a).
 */
#ifndef TM_FEEDINGEST_H
#define TM_FEEDINGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* What was ingested, summed over calls. */
struct feedingest_count {
	uint64_t arf, complaints, matched, dmarc, records, duplicates, refused;
};

/* How to read reports: the configuration's bulk.campaign_header and
 * feedback.providers (policy/provider). */
struct provider_map;
struct feedingest_opts {
	const char *campaign_header;
	const struct provider_map *providers;
};

/* feedingest_one - parse (p, len) and store it on st (a reader store).
 * Returns 1 stored, 0 already stored, 2 refused (why: the finding name),
 * -1 store error (why: the message). */
int feedingest_one(store *st, const char *p, size_t len, const struct feedingest_opts *o,
                   struct feedingest_count *c, char *why, size_t whylen);

#endif
