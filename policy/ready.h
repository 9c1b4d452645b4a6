/*
 * ready - bulk-sender readiness per mailbox provider (the 2024 rules of
 * Gmail and Yahoo, Microsoft's 2025 high-volume sender rules), from the
 * other evaluators' outcomes. The one place readiness is decided.
 */
#ifndef TM_READY_H
#define TM_READY_H

#include <stddef.h>
#include "result.h"
#include "unsub.h"

/* One provider's readiness. */
struct readiness {
	int ready;
	char why[256];            /* the first thing missing, "" when ready */
};

struct ready_outcome {
	struct readiness gmail, yahoo, microsoft;
};

/* What the readiness is read from. */
struct ready_input {
	enum auth_result spf;            /* SPF result (AR_NONE: not evaluated) */
	int dkim_pass;                   /* some DKIM signature passes */
	int dmarc_record;                /* a DMARC record was found */
	enum auth_result dmarc;          /* the DMARC result */
	int format_ok;                   /* no format.* finding */
	int bulk;                        /* bulk mail (bulk.h) */
	const struct unsub_outcome *unsub;
};

/* ready_evaluate - the three providers' readiness. */
void ready_evaluate(const struct ready_input *in, struct ready_outcome *out);
/* ready_unsub_gmail - Gmail's unsubscribe rule: RFC 8058 one-click exactly. */
int ready_unsub_gmail(const struct unsub_outcome *u);
/* ready_unsub_yahoo - Yahoo's: one-click, or one valid List-Unsubscribe
 * field with a mailto: URI. */
int ready_unsub_yahoo(const struct unsub_outcome *u);

#endif
