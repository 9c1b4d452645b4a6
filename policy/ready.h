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

/* One provider's readiness: every requirement that is missing or could not
 * be checked (a DNS failure, no client address) is listed. */
#define READINESS_WHY_MAX 8
struct readiness {
	int ready;
	int unknown;              /* nothing known missing, something unchecked: "could not check" */
	size_t nwhy;
	char why[READINESS_WHY_MAX][128];
};

struct ready_outcome {
	struct readiness gmail, yahoo, microsoft;
};

/* What the readiness is read from. */
struct ready_input {
	enum auth_result spf;            /* SPF result (AR_NONE: not evaluated) */
	int spf_checked;                 /* SPF had a client address to check */
	int dkim_pass;                   /* some DKIM signature passes */
	int dkim_temperror;              /* some DKIM key lookup failed */
	int dmarc_record;                /* a DMARC record was found */
	enum auth_result dmarc;          /* the DMARC result */
	int format_ok;                   /* no format.* finding */
	int bulk;                        /* bulk mail (bulk.h) */
	const struct unsub_outcome *unsub;
};

/* ready_evaluate - the three providers' readiness, every missing item listed. */
void ready_evaluate(const struct ready_input *in, struct ready_outcome *out);
/* ready_unsub_gmail - Gmail's unsubscribe rule: RFC 8058 one-click exactly. */
int ready_unsub_gmail(const struct unsub_outcome *u);
/* ready_unsub_yahoo - Yahoo's: one-click, or one valid List-Unsubscribe
 * field with a mailto: URI. */
int ready_unsub_yahoo(const struct unsub_outcome *u);

#endif
