/*
 * unsub - RFC 2369 List-Unsubscribe parsing and the RFC 8058 one-click verdict.
 *
 * Pure functions, no DNS: the DKIM results and alignment come from the dkim
 * and dmarc evaluators. Each way of failing is its own named finding
 * (docs/FINDINGS.md, prefix "unsub.").
 */
#ifndef TM_UNSUB_H
#define TM_UNSUB_H

#include <stddef.h>
#include "hdr.h"
#include "dkim.h"
#include "findings.h"

#define UNSUB_MAX_URIS 8       /* URIs kept from one List-Unsubscribe (real ones hold 1-2) */
#define UNSUB_URI_MAX 2048     /* bytes per URI incl. NUL: the common URL length limit */
#define UNSUB_ONE_CLICK "List-Unsubscribe=One-Click"  /* RFC 8058 s3.1, the only value */

enum unsub_verdict { UNSUB_ABSENT = 0, UNSUB_COMPLIANT, UNSUB_NONCOMPLIANT };

struct unsub_uris {
	size_t count;
	int more;                  /* more than UNSUB_MAX_URIS */
	int syntax_error;
	int uri_too_long;          /* a URI of UNSUB_URI_MAX bytes or more (not kept) */
	char uri[UNSUB_MAX_URIS][UNSUB_URI_MAX]; /* the first count are valid; last (not cleared) */
};

struct unsub_outcome {
	enum unsub_verdict verdict;        /* RFC 8058 one-click */
	int has_https, has_mailto, has_http;
	int covered_sig;                   /* index of the passing aligned covering signature, -1 none */
	size_t n_list_unsubscribe;         /* List-Unsubscribe fields seen */
	size_t n_post;                     /* List-Unsubscribe-Post fields seen */
	struct unsub_uris uris;            /* last: its URI table is not cleared */
};

/* unsub_parse - parse an RFC 2369 List-Unsubscribe value (comma list of
 * <URI> with comments and folding); returns count of URIs. */
size_t unsub_parse(const char *p, size_t n, struct unsub_uris *out);
/* unsub_outcome_reset - an empty outcome (verdict 0, no URIs); the URI
 * table is not cleared, only its count. */
void unsub_outcome_reset(struct unsub_outcome *out);
/* unsub_evaluate - RFC 8058 verdict. sig_aligned[i] says whether sigs[i].domain
 * aligns with the From domain. Findings are added to f. */
void unsub_evaluate(const hdr_set *h, const struct dkim_sig *sigs, size_t nsigs,
                    const int *sig_aligned, struct unsub_outcome *out, findings *f);
const char *unsub_verdict_name(enum unsub_verdict v);

#endif
