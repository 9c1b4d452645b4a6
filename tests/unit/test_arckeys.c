/* test_arckeys - the ARC key cache: the same record bytes give the same key
 * (one check and decode), other bytes or the other algorithm a new one,
 * records that fail the checks fail with their reason (remembered too),
 * verification with reused contexts accepts a good signature every time and
 * refuses a damaged one, and keys held by a message outlive eviction. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "t.h"
#include "arckeys.h"
#include "buf.h"
#include "dkimcanon.h"

/* record_of - "v=DKIM1; k=rsa; p=..." for key into out. */
static int record_of(EVP_PKEY *key, char *out, size_t outsz)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	buf *b = buf_new(4096);
	if (n <= 0 || b == NULL || dkimcanon_b64(b, der, (size_t)n) < 0)
		return -1;
	int rc = snprintf(out, outsz, "v=DKIM1; k=rsa; p=%.*s", (int)buf_len(b), buf_data(b));
	OPENSSL_free(der);
	buf_free(b);
	return rc;
}

/* sign - the RSA PKCS#1 v1.5 signature of the SHA-256 digest md. */
static size_t sign(EVP_PKEY *key, const unsigned char *md, unsigned char *sig, size_t sz)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	size_t sl = sz;
	if (c == NULL || EVP_PKEY_sign_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(c, sig, &sl, md, 32) != 1)
		sl = 0;
	EVP_PKEY_CTX_free(c);
	return sl;
}

static void test_verify(arckeys *c, EVP_PKEY *key, const char *rec)
{
	unsigned char md[32], sig[512];
	memset(md, 0x5a, sizeof(md));
	size_t sl = sign(key, md, sig, sizeof(sig));
	T_OK(sl == 256, "signed");
	arckey *k = arckeys_get(c, rec, strlen(rec), 0);
	const char *why;
	T_OK(k && arckey_ok(k, &why), "RSA-2048 record usable");
	int good = 1;
	for (int i = 0; i < 10; i++)   /* contexts are taken from and given back to the pool */
		good &= arckey_verify(c, k, sig, sl, md, 32) == 1;
	T_OK(good, "a good signature verifies every time");
	sig[10] ^= 1;
	T_INT(arckey_verify(c, k, sig, sl, md, 32), 0, "a damaged signature does not");
	sig[10] ^= 1;
	md[0] ^= 1;
	T_INT(arckey_verify(c, k, sig, sl, md, 32), 0, "another digest does not");
	arckeys_put(c, k);
}

static void test_bad(arckeys *c)
{
	const char *why;
	static const char revoked[] = "v=DKIM1; k=rsa; p=";
	arckey *k = arckeys_get(c, revoked, strlen(revoked), 0);
	T_OK(k && !arckey_ok(k, &why) && strstr(why, "revoked"), "empty p=: revoked (%s)", k ? why : "-");
	unsigned char md[32] = { 0 }, sig[256] = { 0 };
	T_INT(arckey_verify(c, k, sig, sizeof(sig), md, 32), 0, "a revoked key verifies nothing");
	arckeys_put(c, k);
	struct arckeys_stats s0, s1;
	arckeys_stats(c, &s0);
	k = arckeys_get(c, revoked, strlen(revoked), 0);
	arckeys_stats(c, &s1);
	T_OK(k && !arckey_ok(k, &why) && s1.hits == s0.hits + 1, "the failed record is remembered");
	arckeys_put(c, k);
	static const char ed[] = "v=DKIM1; k=rsa; p=AAAA";
	k = arckeys_get(c, ed, strlen(ed), 1);
	T_OK(k && !arckey_ok(k, &why), "an RSA record for an Ed25519 signature fails (%s)", k ? why : "-");
	arckeys_put(c, k);
	static const char junk[] = "v=DKIM1; k=rsa; p=Zm9vYmFy";
	k = arckeys_get(c, junk, strlen(junk), 0);
	T_OK(k && !arckey_ok(k, &why) && strstr(why, "decoded"), "p= that is no key fails (%s)", k ? why : "-");
	arckeys_put(c, k);
}

static void test_small(arckeys *c)
{
	EVP_PKEY *key = EVP_RSA_gen(512);
	char rec[2048];
	const char *why;
	T_OK(key && record_of(key, rec, sizeof(rec)) > 0, "RSA-512 record made");
	arckey *k = arckeys_get(c, rec, strlen(rec), 0);
	T_OK(k && !arckey_ok(k, &why) && strstr(why, "RFC 8301"), "RSA-512 refused (%s)", k ? why : "-");
	arckeys_put(c, k);
	EVP_PKEY_free(key);
}

/* test_evict - more records than the table holds: a key still held stays usable. */
static void test_evict(arckeys *c, EVP_PKEY *key, const char *rec)
{
	arckey *held = arckeys_get(c, rec, strlen(rec), 0);
	char other[64];
	for (int i = 0; i < ARCKEYS_MAX + 10; i++) {
		int n = snprintf(other, sizeof(other), "v=DKIM1; k=rsa; p=; n=%d", i);
		arckeys_put(c, arckeys_get(c, other, (size_t)n, 0));
	}
	struct arckeys_stats st;
	arckeys_stats(c, &st);
	T_INT(st.entries, ARCKEYS_MAX, "the table stays at its size");
	unsigned char md[32], sig[512];
	memset(md, 7, sizeof(md));
	size_t sl = sign(key, md, sig, sizeof(sig));
	T_INT(arckey_verify(c, held, sig, sl, md, 32), 1, "a held key still verifies after eviction");
	arckeys_put(c, held);
}

int main(void)
{
	arckeys *c = arckeys_new();
	T_OK(c != NULL && arckeys_sha256(c) != NULL, "cache made, SHA-256 fetched");
	EVP_PKEY *key = EVP_RSA_gen(2048);
	char rec[4096];
	T_OK(key && record_of(key, rec, sizeof(rec)) > 0, "RSA-2048 record made");
	struct arckeys_stats s0, s1;
	arckeys_stats(c, &s0);
	arckey *a = arckeys_get(c, rec, strlen(rec), 0);
	arckey *b = arckeys_get(c, rec, strlen(rec), 0);
	arckeys_stats(c, &s1);
	T_OK(a && a == b, "the same record gives the same key");
	T_INT(s1.misses - s0.misses, 1, "one miss");
	T_INT(s1.hits - s0.hits, 1, "one hit");
	arckey *e = arckeys_get(c, rec, strlen(rec), 1);
	T_OK(e && e != a, "the same record for Ed25519 is another entry");
	arckeys_put(c, a);
	arckeys_put(c, b);
	arckeys_put(c, e);
	arckeys_put(c, NULL);
	test_verify(c, key, rec);
	test_bad(c);
	test_small(c);
	test_evict(c, key, rec);
	EVP_PKEY_free(key);
	arckeys_free(c);
	return t_done();
}
