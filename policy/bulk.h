/*
 * bulk - is this bulk (marketing, list) mail, why, and which campaign?
 */
#ifndef TM_BULK_H
#define TM_BULK_H

#include "hdr.h"
#include "findings.h"
#include "unsub.h"

/* The compiled bulk.* keys (struct policy holds one). */
struct bulk_settings {
	const char *const *headers;   /* bulk.headers */
	size_t nheaders;
	const char *const *senders;   /* bulk.senders */
	size_t nsenders;
	const char *campaign_header;  /* bulk.campaign_header ("" none) */
};

struct bulk_outcome {
	int bulk;
	char reason[128];     /* first signal found: "precedence: bulk", "list-id", ... */
	char campaign[256];   /* campaign key: configured header, List-Id, Feedback-ID; printable */
};

/* bulk_detect - Precedence bulk/list/junk, List-Id, List-Unsubscribe,
 * Feedback-ID, configured headers and sender domains. */
void bulk_detect(const hdr_set *h, const struct bulk_settings *set, const char *from_domain,
                 struct bulk_outcome *out);
/* bulk_findings - bulk mail without compliant RFC 8058 one-click
 * unsubscribe (bulk.no_list_unsubscribe, bulk.no_one_click) into f. */
void bulk_findings(const struct bulk_outcome *o, enum unsub_verdict unsub, findings *f);

#endif
