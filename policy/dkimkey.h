/*
 * dkimkey - the parts of RFC 6376 key retrieval that trustmilter checks
 * itself, because its own key lookup callback replaces libopendkim's: the
 * signature's query methods (q=, RFC 6376 3.5) and the key record's fitness
 * for the signature (RFC 6376 3.6.1 and 6.1.2: k= against a=, h=, s=), plus
 * the PKCS#1 RSAPublicKey form of p= that 3.6.1 names, handed to the library
 * as the SubjectPublicKeyInfo it can read.
 */
#ifndef TM_DKIMKEY_H
#define TM_DKIMKEY_H

#include <stddef.h>

/* dkimkey_query_ok - does the q= value (NULL: absent) list "dns/txt"?
 * Unrecognized methods are ignored (RFC 6376 3.5); 1 yes, 0 no usable one. */
int dkimkey_query_ok(const char *q);

/* dkimkey_check - the key record (rec,n) for a signature with algorithm alg
 * ("rsa-sha256", "ed25519-sha256", ...). On success (0) the record for the
 * library is in out[outsz] (NUL-terminated, length in *outlen): the same
 * text, or with a PKCS#1 RSA p= rewritten as SubjectPublicKeyInfo. -1 with
 * a reason in why: an unknown or inappropriate key type (k=), a hash not in
 * h=, a service type list without "email" or "*" (s=), or no room. */
int dkimkey_check(const char *rec, size_t n, const char *alg, char *out, size_t outsz,
                  size_t *outlen, char *why, size_t whylen);

#endif
