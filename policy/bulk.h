/*
 * bulk - is this bulk (marketing, list) mail, why, and which campaign?
 */
#ifndef TM_BULK_H
#define TM_BULK_H

#include "hdr.h"
#include "conf.h"

struct bulk_outcome {
	int bulk;
	char reason[128];     /* first signal found: "precedence: bulk", "list-id", ... */
	char campaign[256];   /* campaign key: configured header, List-Id, Feedback-ID; printable */
};

/* bulk_detect - Precedence bulk/list/junk, List-Id, List-Unsubscribe,
 * Feedback-ID, configured headers and sender domains. */
void bulk_detect(const hdr_set *h, const conf *c, const char *from_domain, struct bulk_outcome *out);

#endif
