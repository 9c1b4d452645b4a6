/*
 * arcseal - one ARC set (RFC 8617 5.1) added to a message on a sealing path
 * (arc.seal): ARC-Authentication-Results, ARC-Message-Signature and
 * ARC-Seal of instance N = the highest instance already present + 1.
 *
 * The AAR is "i=N; " and our own Authentication-Results value. The AMS is
 * DKIM-like with c=relaxed/relaxed, the body hash of bodyhash (SHA-256,
 * relaxed) and h= the sign.headers present (dkimsign_hlist) plus every
 * DKIM-Signature of the message as delivered: those that arrived and the
 * ones we add in the same pass (sign first, then seal, so that the next hop
 * can verify our DKIM-Signature under our AMS); never ARC-* or
 * Authentication-Results (RFC 8617 4.1.2). The header data hashed is the
 * header section as the next hop sees it below our ARC set: our new
 * DKIM-Signature fields on top in the order given, then the fields as
 * received (the milter inserts every field it adds at the top, index 0,
 * in the verdict's order). The AS signs, relaxed, the ARC sets 1..N in increasing
 * order, AAR, AMS and AS each, the new AS last with its b= empty and no
 * CRLF (5.1.1); cv= is none when no ARC field arrived, pass when the chain
 * validated (arc.c), else fail: a failed chain is sealed as failed, never
 * repaired; but when the newest arriving ARC-Seal already says cv=fail, no
 * set is added at all (5.1 step 1: the algorithm stops there). A cv=fail
 * seal signs the new set alone, as if it were the only one (5.1.2). Keys and signing are signkeys' and
 * dkimsign's (RSA-SHA256 or Ed25519-SHA256). Nothing here rejects: every
 * failure is an arc.seal.* finding and the message leaves unsealed.
 */
#ifndef TM_ARCSEAL_H
#define TM_ARCSEAL_H

#include <stddef.h>
#include <time.h>
#include "hdr.h"
#include "arc.h"
#include "findings.h"
#include "signkeys.h"

enum arcseal_field { ARCSEAL_AS = 0, ARCSEAL_AMS, ARCSEAL_AAR };   /* insertion order, top first */
#define ARCSEAL_FIELDS 3

typedef struct arcseal arcseal;

/* arcseal_begin - after the last header: NULL when there is no seal key
 * (signkeys_seal), or out of memory (*oom set). */
arcseal *arcseal_begin(const signkeys *ks, int *oom);
void arcseal_body(arcseal *m, const unsigned char *p, size_t n);
/* arcseal_end - make the set: h the header section as received, sig[0..nsig)
 * the DKIM-Signature values (top first) added above h in the same pass, chain the
 * arriving chain's outcome (NULL: not validated, sealed as fail when ARC
 * fields are present), authres our Authentication-Results value. 0, or -1
 * with an arc.seal.* finding (i over ARC_MAX_INSTANCES, the newest seal
 * says cv=fail, signing failed, over the caps). */
int arcseal_end(arcseal *m, const hdr_set *h, const char *const *sig, size_t nsig,
                const struct arc_outcome *chain, const char *authres, time_t now, findings *f);
/* arcseal_name - "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results". */
const char *arcseal_name(enum arcseal_field k);
/* arcseal_value - the field value made (folded with CRLF TAB, no leading
 * space), or NULL before a successful arcseal_end. */
const char *arcseal_value(const arcseal *m, enum arcseal_field k);
/* arcseal_instance - N of the set made (0: none). */
unsigned arcseal_instance(const arcseal *m);
void arcseal_free(arcseal *m);

#endif
