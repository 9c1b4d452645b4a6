/*
 * dkimsign - DKIM signatures (RFC 6376; rsa-sha256, and ed25519-sha256 of
 * RFC 8463) made for one outbound message, with OpenSSL directly: body hash
 * by bodyhash, header data by dkimcanon, keys from signkeys.
 *
 * dkimsign_begin at end of headers picks the keys of the From domain (one
 * From field with one address, else dkim.sign.malformed; no key:
 * dkim.sign.no_key) and starts the body hash; the body is streamed in with
 * dkimsign_body; dkimsign_end builds one DKIM-Signature value per key
 * (skipping a key whose d= and s= already sign the message with a passing
 * signature) and, for the evaluators, a struct dkim_sig for each, passing,
 * with its h= list: the message is judged as it leaves. Nothing here
 * rejects a message; every failure is a dkim.sign.* finding.
 *
 * The header list: each name of sign.headers present in the message, once
 * per instance; names also in sign.oversign once more (so that a field of
 * that name added after signing breaks the signature). l= is never used.
 */
#ifndef TM_DKIMSIGN_H
#define TM_DKIMSIGN_H

#include <stddef.h>
#include <time.h>
#include "hdr.h"
#include "dkim.h"
#include "findings.h"
#include "signkeys.h"
#include "buf.h"

#define DKIMSIGN_MAX_HEADER_BYTES (256 * 1024) /* canonical header data signed; more:
                                                 dkim.sign.too_big */

typedef struct dkimsign dkimsign;

/* dkimsign_begin - after the last header; NULL when the message is not
 * signed (with a finding when it should have been), or out of memory
 * (*oom set). */
dkimsign *dkimsign_begin(const signkeys *ks, const hdr_set *h, findings *f, int *oom);
void dkimsign_body(dkimsign *m, const unsigned char *p, size_t n);
/* dkimsign_end - sign; have[0..nhave) are the signatures that arrived with
 * the message (verified). Returns the number of signatures made. now: t=. */
size_t dkimsign_end(dkimsign *m, const hdr_set *h, const struct dkim_sig *have, size_t nhave,
                    time_t now, findings *f);
/* dkimsign_value - the i-th DKIM-Signature value made (folded with CRLF
 * TAB, no leading space), or NULL. */
const char *dkimsign_value(const dkimsign *m, size_t i);
/* dkimsign_sig - the i-th as a passing struct dkim_sig (signed_here set). */
const struct dkim_sig *dkimsign_sig(const dkimsign *m, size_t i);
void dkimsign_free(dkimsign *m);

/* The pieces ARC sealing (arcseal) shares. */
/* dkimsign_hlist - the h= names of sign.headers (and sign.oversign) present
 * in h, ':'-separated, appended to out. */
void dkimsign_hlist(const signkeys *ks, const hdr_set *h, buf *out);
/* dkimsign_fold_put - append token (t,n) to a field value, starting a
 * continuation line (CRLF TAB) before it when the line would pass 76
 * columns; *col is the current column. */
void dkimsign_fold_put(buf *b, size_t *col, const char *t, size_t n);
/* dkimsign_put_b - sign (data,n) with key u (RSA-SHA256, or Ed25519 over
 * its SHA-256, RFC 8463) and append the base64 signature to v in folded
 * lines of 64; b64 (empty, cap >= 4096) receives it unfolded. 0, or -1. */
int dkimsign_put_b(const struct signkeys_use *u, const char *data, size_t n, buf *v, buf *b64);

#endif
