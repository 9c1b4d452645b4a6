/*
 * arckeys - ARC verification keys shared between messages; see arckeys.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "arckeys.h"
#include "buf.h"
#include "dkimcanon.h"
#include "dkimkey.h"

#define ARCKEYS_TAGS 32          /* tags of one key record */
#define ARCKEYS_MIN_RSA_BITS 1024 /* RFC 8301 */

struct arckey {
	int refs;                       /* the table's and the messages'; guarded by lock */
	int ed;
	char *rec;                      /* the joined record, as fetched */
	size_t len;
	uint64_t hash;
	EVP_PKEY *pk;                   /* NULL: why says why */
	char why[96];
	EVP_PKEY_CTX *idle[ARCKEYS_IDLE];   /* set-up RSA contexts not in use; guarded by lock */
	size_t nidle;
	unsigned long used;             /* tick of the last lookup, for eviction */
};

struct arckeys {
	pthread_mutex_t lock;
	arckey *ent[ARCKEYS_MAX];       /* guarded by lock */
	size_t n;
	unsigned long tick, hits, misses;
	EVP_MD *sha256;                 /* fetched once, read only */
};

arckeys *arckeys_new(void)
{
	arckeys *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (c->sha256 == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		EVP_MD_free(c->sha256);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	return c;
}

/* key_free - a key nobody refers to any more. */
static void key_free(arckey *k)
{
	for (size_t i = 0; i < k->nidle; i++)
		EVP_PKEY_CTX_free(k->idle[i]);
	EVP_PKEY_free(k->pk);
	free(k->rec);
	free(k);
}

/* unref - drop one reference under the lock; the key when it was the last. */
static arckey *unref(arckey *k)
{
	return --k->refs == 0 ? k : NULL;
}

void arckeys_free(arckeys *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		arckey *k = unref(c->ent[i]);
		if (k)
			key_free(k);
	}
	pthread_mutex_destroy(&c->lock);
	EVP_MD_free(c->sha256);
	free(c);
}

const EVP_MD *arckeys_sha256(const arckeys *c)
{
	return c->sha256;
}

/* decode - the EVP key of a checked record (rec,n); NULL with why. */
static EVP_PKEY *decode(const char *rec, size_t n, int ed, char *why, size_t whysz)
{
	struct dkim_tag t[ARCKEYS_TAGS];
	int nt = dkimtag_parse(rec, n, t, ARCKEYS_TAGS);
	const struct dkim_tag *p = nt < 0 ? NULL : dkimtag_get(t, nt, "p");
	if (p == NULL || p->vlen == 0) {
		snprintf(why, whysz, p ? "key revoked (empty p=)" : "key record syntax");
		return NULL;
	}
	unsigned char der[ARCKEYS_RECORD_MAX];
	long dl = dkimcanon_unb64(p->val, p->vlen, der, sizeof(der));
	EVP_PKEY *pk = NULL;
	if (dl > 0 && ed)
		pk = dl == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32) : NULL;
	else if (dl > 0) {
		const unsigned char *q = der;
		pk = d2i_PUBKEY(NULL, &q, dl);
		if (pk && (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
		           EVP_PKEY_get_bits(pk) < ARCKEYS_MIN_RSA_BITS)) {
			EVP_PKEY_free(pk);
			snprintf(why, whysz, "not an RSA key of at least %d bits (RFC 8301)",
			         ARCKEYS_MIN_RSA_BITS);
			ERR_clear_error();
			return NULL;
		}
	}
	if (pk == NULL)
		snprintf(why, whysz, "key data cannot be decoded");
	ERR_clear_error();
	return pk;
}

/* build - a new key (one reference) for the record: checked and decoded. */
static arckey *build(const char *rec, size_t n, int ed, uint64_t h)
{
	arckey *k = calloc(1, sizeof(*k));
	if (k == NULL || (k->rec = malloc(n + 1)) == NULL) {
		free(k);
		return NULL;
	}
	memcpy(k->rec, rec, n);
	k->rec[n] = '\0';
	k->len = n;
	k->hash = h;
	k->ed = ed;
	k->refs = 1;
	char out[ARCKEYS_RECORD_MAX];
	size_t ol = 0;
	if (dkimkey_check(k->rec, n, ed ? "ed25519-sha256" : "rsa-sha256", out, sizeof(out), &ol,
	                  k->why, sizeof(k->why)) == 0)
		k->pk = decode(out, ol, ed, k->why, sizeof(k->why));
	return k;
}

/* find - the entry for the record, or NULL; under the lock. */
static arckey *find(arckeys *c, const char *rec, size_t n, int ed, uint64_t h)
{
	for (size_t i = 0; i < c->n; i++) {
		arckey *k = c->ent[i];
		if (k->hash == h && k->len == n && k->ed == ed && memcmp(k->rec, rec, n) == 0)
			return k;
	}
	return NULL;
}

/* insert - keep k in the table (a reference of its own), or the entry
 * another thread inserted meanwhile; the key to hand out (referenced), and
 * in *drop a key that lost its last reference. Under the lock. */
static arckey *insert(arckeys *c, arckey *k, arckey **drop)
{
	arckey *old = find(c, k->rec, k->len, k->ed, k->hash);
	if (old) {
		old->refs++;
		*drop = unref(k);
		return old;
	}
	size_t slot = c->n;
	if (c->n == ARCKEYS_MAX) {
		slot = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->ent[i]->used < c->ent[slot]->used)
				slot = i;
		*drop = unref(c->ent[slot]);
	} else {
		c->n++;
	}
	k->refs++;
	k->used = ++c->tick;
	c->ent[slot] = k;
	return k;
}

arckey *arckeys_get(arckeys *c, const char *rec, size_t n, int ed)
{
	uint64_t h = fnv1a64(FNV64_INIT, rec, n);
	pthread_mutex_lock(&c->lock);
	arckey *k = find(c, rec, n, ed, h);
	if (k) {
		k->refs++;
		k->used = ++c->tick;
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	if (k || n > ARCKEYS_RECORD_MAX)
		return k ? k : build(rec, n, ed, h);   /* too long: checked, not kept */
	if ((k = build(rec, n, ed, h)) == NULL)
		return NULL;
	arckey *drop = NULL;
	pthread_mutex_lock(&c->lock);
	k = insert(c, k, &drop);
	pthread_mutex_unlock(&c->lock);
	if (drop)
		key_free(drop);
	return k;
}

void arckeys_put(arckeys *c, arckey *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	k = unref(k);
	pthread_mutex_unlock(&c->lock);
	if (k)
		key_free(k);
}

int arckey_ok(const arckey *k, const char **why)
{
	*why = k->pk ? "" : k->why;
	return k->pk != NULL;
}

/* rsa_ctx - a verification context for pk: PKCS#1 v1.5 over a SHA-256 digest. */
static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *pk)
{
	EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(pk, NULL);
	if (x && (EVP_PKEY_verify_init(x) != 1 ||
	          EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_PADDING) != 1 ||
	          EVP_PKEY_CTX_set_signature_md(x, EVP_sha256()) != 1)) {
		EVP_PKEY_CTX_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

/* ed_verify - Ed25519 over the digest (RFC 8463 signs the SHA-256 hash). */
static int ed_verify(EVP_PKEY *pk, const unsigned char *sig, size_t sl,
                     const unsigned char *md, size_t mdl)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m == NULL ? -1
	         : EVP_DigestVerifyInit(m, NULL, NULL, NULL, pk) != 1 ? -1
	         : EVP_DigestVerify(m, sig, sl, md, mdl) == 1;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	return ok;
}

int arckey_verify(arckeys *c, arckey *k, const unsigned char *sig, size_t sl,
                  const unsigned char *md, size_t mdl)
{
	if (k->pk == NULL)
		return 0;
	if (k->ed)
		return ed_verify(k->pk, sig, sl, md, mdl);
	EVP_PKEY_CTX *x = NULL;
	pthread_mutex_lock(&c->lock);
	if (k->nidle > 0)
		x = k->idle[--k->nidle];
	pthread_mutex_unlock(&c->lock);
	if (x == NULL && (x = rsa_ctx(k->pk)) == NULL)
		return -1;
	int ok = EVP_PKEY_verify(x, sig, sl, md, mdl) == 1;
	ERR_clear_error();
	pthread_mutex_lock(&c->lock);
	if (k->nidle < ARCKEYS_IDLE) {
		k->idle[k->nidle++] = x;
		x = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	EVP_PKEY_CTX_free(x);
	return ok;
}

void arckeys_stats(arckeys *c, struct arckeys_stats *st)
{
	pthread_mutex_lock(&c->lock);
	st->hits = c->hits;
	st->misses = c->misses;
	st->entries = c->n;
	pthread_mutex_unlock(&c->lock);
}
