/*
 * keycache - a process-wide cache of decoded DKIM public keys.
 *
 * libopendkim decodes the key of every signature it verifies with
 * d2i_PUBKEY_bio(). With OpenSSL 3 that call builds a decoder context and
 * searches the providers each time (rwlocks, dozens of allocations): measured
 * here, 43% of all instructions per message, three times the RSA verification
 * itself. keycache.c defines d2i_PUBKEY_bio, so that libopendkim's call binds
 * to it (the executable's definition interposes on libcrypto's), and returns
 * a new reference to an EVP_PKEY already decoded from the same DER bytes.
 *
 * The key is cached by its bytes, not by d=/s=: the same bytes always decode
 * to the same key, so a key rotation (new bytes, served by DNS within its
 * TTL) can never return a stale key, and no TTL is needed here. The DNS
 * record's freshness is the resolver's business.
 */
#ifndef TM_KEYCACHE_H
#define TM_KEYCACHE_H

#include <stddef.h>

/* KEYCACHE_MAX - cached keys: a receiving server sees many signing domains,
 * but the hit rate that matters comes from the busy ones; 256 RSA keys are
 * about 256 KB. The least recently used key is dropped first. */
#define KEYCACHE_MAX 256
/* KEYCACHE_DER_MAX - longest key we cache: an RSA-8192 SubjectPublicKeyInfo
 * is 1,062 bytes; longer input is decoded but not cached. */
#define KEYCACHE_DER_MAX 4096

struct keycache_stats {
	unsigned long hits, misses, entries;
};

/* keycache_stats - counters since start (for tests and the benchmark). */
void keycache_stats(struct keycache_stats *st);
/* keycache_active - 1 if the process's d2i_PUBKEY_bio is ours (so libopendkim
 * uses the cache), 0 if libcrypto's is bound first. Calling it also makes the
 * linker pull keycache.o out of the static library. */
int keycache_active(void);

#endif
