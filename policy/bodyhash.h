/*
 * bodyhash - the DKIM body hash (RFC 6376 3.7): the body canonicalized
 * (3.4.3 simple, 3.4.4 relaxed), cut at l= when the signature has one, and
 * hashed, all while the body streams through in chunks of any size.
 *
 * Input is the body in SMTP wire form: lines end in CRLF; a CR or LF on its
 * own is an ordinary byte. Empty lines at the end are ignored, and a body
 * that does not end in CRLF gets one. An empty body is "CRLF" under simple
 * and nothing under relaxed (what libopendkim, python3-dkim and mailauth
 * hash; RFC 6376 errata 3192).
 *
 * Used by dkim.c instead of libopendkim's own body canonicalizer, which
 * handles one byte per function call and was a tenth of the milter's CPU.
 */
#ifndef TM_BODYHASH_H
#define TM_BODYHASH_H

#include <stddef.h>

#define BODYHASH_MAX 64            /* digest bytes, enough for any hash we use */

enum bodyhash_canon { BODYHASH_SIMPLE, BODYHASH_RELAXED };
enum bodyhash_alg { BODYHASH_SHA1, BODYHASH_SHA256 };

typedef struct bodyhash bodyhash;

/* bodyhash_new - limit is the l= value, or -1 for the whole body. NULL when
 * out of memory or the hash is not available. */
bodyhash *bodyhash_new(enum bodyhash_canon canon, enum bodyhash_alg alg, long long limit);
/* bodyhash_update - the next chunk (p, n) of the body. 0, or -1 when the
 * hash failed (the digest is then unusable). */
int bodyhash_update(bodyhash *h, const unsigned char *p, size_t n);
/* bodyhash_final - finish and write the digest to out; its length, or -1.
 * Once only. */
int bodyhash_final(bodyhash *h, unsigned char out[BODYHASH_MAX]);
/* bodyhash_short - after bodyhash_final: the canonicalized body was shorter
 * than l= (RFC 6376 3.5: such a signature is not valid). */
int bodyhash_short(const bodyhash *h);
void bodyhash_free(bodyhash *h);

#endif
