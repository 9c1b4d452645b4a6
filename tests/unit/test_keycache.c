/* test_keycache - the decoded-key cache in front of d2i_PUBKEY_bio: hits
 * return the same key for the same bytes, different bytes decode anew,
 * garbage and the uncached forms behave as libcrypto's own function, and the
 * process binds d2i_PUBKEY_bio to ours (so libopendkim uses the cache). */
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "t.h"
#include "keycache.h"

/* der_of - the SubjectPublicKeyInfo bytes of a fresh RSA key. */
static int der_of(unsigned bits, unsigned char **out)
{
	EVP_PKEY *k = EVP_RSA_gen(bits);
	if (k == NULL)
		return -1;
	*out = NULL;
	int n = i2d_PUBKEY(k, out);
	EVP_PKEY_free(k);
	return n;
}

/* decode - through a memory BIO, as libopendkim does. */
static EVP_PKEY *decode(const unsigned char *der, int n)
{
	BIO *b = BIO_new_mem_buf(der, n);
	EVP_PKEY *k = d2i_PUBKEY_bio(b, NULL);
	BIO_free(b);
	return k;
}

int main(void)
{
	T_OK(keycache_active() == 1, "d2i_PUBKEY_bio is bound to the cache");
	unsigned char *a = NULL, *b = NULL;
	int na = der_of(1024, &a), nb = der_of(1024, &b);
	T_OK(na > 0 && nb > 0, "test keys made");
	struct keycache_stats s0, s1;
	keycache_stats(&s0);
	EVP_PKEY *k1 = decode(a, na), *k2 = decode(a, na), *k3 = decode(b, nb);
	keycache_stats(&s1);
	T_OK(k1 != NULL, "first decode works");
	T_OK(k2 == k1, "same bytes: the cached key");
	T_OK(k3 != NULL && k3 != k1, "different bytes: another key");
	T_INT((long)(s1.misses - s0.misses), 2, "two misses");
	T_INT((long)(s1.hits - s0.hits), 1, "one hit");
	T_OK(k2 != NULL && EVP_PKEY_get_bits(k2) == 1024, "RSA view of a shared key");
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);

	unsigned char junk[64];
	memset(junk, 'x', sizeof(junk));
	T_OK(decode(junk, sizeof(junk)) == NULL, "garbage: NULL, as libcrypto");
	T_OK(decode(a, na / 2) == NULL, "truncated key: NULL");

	/* the reuse form (a != NULL) goes to libcrypto's function */
	BIO *bio = BIO_new_mem_buf(a, na);
	EVP_PKEY *reuse = NULL;
	EVP_PKEY *r = d2i_PUBKEY_bio(bio, &reuse);
	BIO_free(bio);
	T_OK(r != NULL && r == reuse, "reuse form decodes");
	EVP_PKEY_free(r);

	/* the BIO is consumed, as by the real decoder */
	bio = BIO_new_mem_buf(a, na);
	EVP_PKEY *k4 = d2i_PUBKEY_bio(bio, NULL);
	T_INT((long)BIO_pending(bio), 0, "BIO consumed");
	BIO_free(bio);
	EVP_PKEY_free(k4);
	OPENSSL_free(a);
	OPENSSL_free(b);
	return t_done();
}
