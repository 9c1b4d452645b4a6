/*
 * keycache - decoded DKIM public keys, reused across messages (see keycache.h
 * for why this interposes on libcrypto's d2i_PUBKEY_bio).
 *
 * The one piece of mutable process state outside the configuration snapshot:
 * libopendkim calls d2i_PUBKEY_bio(bio, NULL) with no context of ours, so the
 * cache cannot hang off the environment. It is guarded by one mutex, held
 * only for the lookup and the insertion (never while decoding), and holds at
 * most KEYCACHE_MAX keys. A hit returns a new reference (EVP_PKEY_up_ref):
 * OpenSSL 3 keys may be shared between threads for verification once built,
 * and libopendkim frees its reference with EVP_PKEY_free as usual.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "keycache.h"
#include "buf.h"

struct entry {
	unsigned char *der;        /* the BIO's bytes, as given */
	size_t len;
	uint64_t hash;
	EVP_PKEY *key;             /* the cache's reference */
	unsigned long used;        /* tick of the last hit, for LRU eviction */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[KEYCACHE_MAX];   /* guarded by lock */
static size_t nentries;                     /* guarded by lock */
static unsigned long tick, hits, misses;    /* guarded by lock */

typedef EVP_PKEY *(*d2i_fn)(BIO *, EVP_PKEY **);
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static d2i_fn real_fn;                      /* written once under real_once */

/* find_real - libcrypto's own d2i_PUBKEY_bio, the next definition after ours. */
static void find_real(void)
{
	void *f = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
	memcpy(&real_fn, &f, sizeof(real_fn));
}

/* real_d2i - decode without the cache (unusual BIOs, long input, errors). */
static EVP_PKEY *real_d2i(BIO *bp, EVP_PKEY **a)
{
	pthread_once(&real_once, find_real);
	return real_fn != NULL ? real_fn(bp, a) : NULL;
}

/* consume - read n bytes off the BIO, as the real decoder does. */
static void consume(BIO *bp, size_t n)
{
	unsigned char scratch[512];
	while (n > 0) {
		int want = n < sizeof(scratch) ? (int)n : (int)sizeof(scratch);
		int got = BIO_read(bp, scratch, want);
		if (got <= 0)
			return;
		n -= (size_t)got;
	}
}

/* lookup - a new reference to the cached key for these bytes, or NULL. */
static EVP_PKEY *lookup(const unsigned char *der, size_t len, uint64_t h)
{
	EVP_PKEY *k = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nentries; i++) {
		struct entry *e = &cache[i];
		if (e->hash == h && e->len == len && memcmp(e->der, der, len) == 0) {
			if (EVP_PKEY_up_ref(e->key) == 1) {
				k = e->key;
				e->used = ++tick;
				hits++;
			}
			break;
		}
	}
	if (k == NULL)
		misses++;
	pthread_mutex_unlock(&lock);
	return k;
}

/* insert - keep a reference to key for these bytes (another thread may have
 * inserted the same bytes meanwhile: then keep the older one). */
static void insert(const unsigned char *der, size_t len, uint64_t h, EVP_PKEY *key)
{
	unsigned char *copy = malloc(len);
	if (copy == NULL)
		return;
	memcpy(copy, der, len);
	if (EVP_PKEY_up_ref(key) != 1) {
		free(copy);
		return;
	}
	EVP_PKEY *drop = NULL;
	unsigned char *dropder = NULL;
	pthread_mutex_lock(&lock);
	size_t slot = nentries;
	for (size_t i = 0; i < nentries; i++) {
		if (cache[i].hash == h && cache[i].len == len && memcmp(cache[i].der, der, len) == 0) {
			pthread_mutex_unlock(&lock);
			EVP_PKEY_free(key);
			free(copy);
			return;
		}
	}
	if (nentries == KEYCACHE_MAX) {
		slot = 0;
		for (size_t i = 1; i < nentries; i++)
			if (cache[i].used < cache[slot].used)
				slot = i;
		drop = cache[slot].key;
		dropder = cache[slot].der;
	} else {
		nentries++;
	}
	cache[slot] = (struct entry){ .der = copy, .len = len, .hash = h, .key = key, .used = ++tick };
	pthread_mutex_unlock(&lock);
	EVP_PKEY_free(drop);
	free(dropder);
}

/* d2i_PUBKEY_bio - libcrypto's function, with the cache in front (see keycache.h).
 * Only the form libopendkim uses is cached: a memory BIO and no reuse
 * object (a == NULL); everything else goes to the real function. */
EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	char *data = NULL;
	long len;
	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM)
		return real_d2i(bp, a);
	len = BIO_get_mem_data(bp, &data);
	if (len <= 0 || len > KEYCACHE_DER_MAX || data == NULL)
		return real_d2i(bp, a);
	const unsigned char *der = (const unsigned char *)data;
	size_t n = (size_t)len;
	uint64_t h = fnv1a64(FNV64_INIT, der, n);
	EVP_PKEY *k = lookup(der, n, h);
	if (k == NULL) {
		const unsigned char *p = der;
		k = d2i_PUBKEY(NULL, &p, len);
		if (k == NULL)
			return real_d2i(bp, a);   /* the real error, on the real path */
		insert(der, n, h, k);
	}
	consume(bp, n);
	return k;
}

/* keycache_stats - see keycache.h. */
void keycache_stats(struct keycache_stats *st)
{
	pthread_mutex_lock(&lock);
	st->hits = hits;
	st->misses = misses;
	st->entries = nentries;
	pthread_mutex_unlock(&lock);
}

/* keycache_active - see keycache.h. */
int keycache_active(void)
{
	void *bound = dlsym(RTLD_DEFAULT, "d2i_PUBKEY_bio");
	d2i_fn ours = d2i_PUBKEY_bio;
	void *o;
	memcpy(&o, &ours, sizeof(o));
	return bound == o;
}
