/*
 * arckeys - ARC verification keys shared by the messages of one
 * configuration (tm_env): the key record checked (dkimkey_check), its p=
 * decoded into an EVP_PKEY and, for RSA, verification contexts set up once
 * (PKCS#1 v1.5 over a SHA-256 digest) and reused. Setting a context up
 * searches OpenSSL's providers (the signature method, then the digest by
 * name): it cost more than the record checks and the decoding together, per
 * key and message.
 *
 * A key is found by the bytes of its joined TXT record and the signature's
 * algorithm, never by d=/s=: the record still comes from DNS for every
 * message (its freshness is the resolver's business), and a changed record is
 * a different key. Records that fail the checks are remembered with their
 * reason too (the same bytes always fail the same way).
 *
 * Thread-safe: one mutex, held only for the lookup, the insertion and taking
 * or returning a context (never while decoding or verifying). A context is
 * used by one thread at a time; keys are shared, which OpenSSL 3 allows for
 * verification. At most ARCKEYS_MAX records; the least recently used goes
 * first (a key still in use by a message lives until that message ends).
 */
#ifndef TM_ARCKEYS_H
#define TM_ARCKEYS_H

#include <stddef.h>
#include <openssl/types.h>

#define ARCKEYS_MAX 256          /* records remembered */
#define ARCKEYS_RECORD_MAX 4096  /* longest joined key record */
#define ARCKEYS_IDLE 4           /* idle verification contexts kept per key */

typedef struct arckeys arckeys;
typedef struct arckey arckey;

struct arckeys_stats {
	unsigned long hits, misses, entries;
};

/* arckeys_new - an empty cache; NULL out of memory. */
arckeys *arckeys_new(void);
/* arckeys_free - the cache and every key no message holds. */
void arckeys_free(arckeys *c);

/* arckeys_get - the key of the joined TXT record (rec,n) for a signature
 * with Ed25519 (ed) or RSA: a reference the caller gives back with
 * arckeys_put. A record that fails the checks (dkimkey_check; an RSA key
 * under 1024 bits, RFC 8301; p= that does not decode) gives a key for which
 * arckey_ok is 0, with the reason. NULL only out of memory. */
arckey *arckeys_get(arckeys *c, const char *rec, size_t n, int ed);
/* arckeys_put - give back a reference (NULL is ignored). */
void arckeys_put(arckeys *c, arckey *k);

/* arckey_ok - 1 when k holds a usable key; else 0 and why it does not. */
int arckey_ok(const arckey *k, const char **why);

/* arckey_verify - sig over the SHA-256 digest md (mdl bytes): RSA PKCS#1
 * v1.5, or Ed25519 over the digest (RFC 8463). 1 valid, 0 not, -1 when the
 * verification could not be set up (out of memory). */
int arckey_verify(arckeys *c, arckey *k, const unsigned char *sig, size_t sl,
                  const unsigned char *md, size_t mdl);

/* arckeys_sha256 - SHA-256 fetched once for the cache's users (EVP_MD_fetch:
 * EVP_sha256() looks the implementation up again on every digest). */
const EVP_MD *arckeys_sha256(const arckeys *c);

/* arckeys_stats - lookups since arckeys_new (tests, the benchmark). */
void arckeys_stats(arckeys *c, struct arckeys_stats *st);

#endif
