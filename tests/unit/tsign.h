/*
 * tsign.h - helpers shared by the signing unit tests (test_dkimsign,
 * test_arcseal): a scratch directory, key files made with OpenSSL, header
 * fields, unfolding, and the check of an Ed25519 b= value against the
 * private key file. Header-only like t.h: static inline, so a test uses
 * what it needs.
 */
#ifndef TM_TSIGN_H
#define TM_TSIGN_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "t.h"
#include "hdr.h"
#include "dkimcanon.h"

/* TS_BODY - the test message body; TS_BODY_BH its relaxed body hash as
 * python3-dkim computes it (as in test_bodyhash). */
#define TS_BODY "Hello  world \t\r\n\r\n\r\n"
#define TS_BODY_BH "yGIXoM91E1DiKjvCBcC8NlWyw54TdfMQ08sdtwtOO4I="

/* ts_tmpdir - a new directory $TM_TMP/NAME.XXXXXX (or under /tmp) in dir;
 * -1 and a "not ok" line if it cannot be made. */
static inline int ts_tmpdir(char *dir, size_t dirsz, const char *name)
{
	const char *t = getenv("TM_TMP");
	snprintf(dir, dirsz, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
	if (mkdtemp(dir) != NULL)
		return 0;
	T_OK(0, "mkdtemp %s", dir);
	return -1;
}

/* ts_write_key - a new key (Ed25519 when ed, else RSA of bits) as PKCS#8
 * PEM in path, with the file mode given. */
static inline void ts_write_key(const char *path, int ed, unsigned bits, mode_t mode)
{
	EVP_PKEY *p = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
	                 : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	FILE *f = fopen(path, "w");
	if (p && f)
		PEM_write_PrivateKey(f, p, NULL, NULL, 0, NULL, NULL);
	if (f)
		fclose(f);
	chmod(path, mode);
	EVP_PKEY_free(p);
}

/* ts_add - one header field (value as received, with its leading space). */
static inline void ts_add(hdr_set *h, const char *name, const char *value)
{
	hdr_add(h, name, strlen(name), value, strlen(value));
}

/* ts_news_header - the fields every signing test starts from: From
 * (news@example.com), To and Subject. */
static inline void ts_news_header(hdr_set *h)
{
	ts_add(h, "From", " News <news@example.com>");
	ts_add(h, "To", " a@example.org");
	ts_add(h, "Subject", " Hi");
}

/* ts_unfold - in without CR, LF and TAB (in may be NULL: ""). */
static inline void ts_unfold(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; in && in[i] && o + 1 < outsz; i++)
		if (in[i] != '\r' && in[i] != '\n' && in[i] != '\t')
			out[o++] = in[i];
	out[o] = '\0';
}

/* ts_ed25519_verifies - 1 if the b= value (the last tag) in the tag-list tags is
 * an Ed25519 signature (RFC 8463: over the SHA-256 of data) made with the
 * key in keyfile. */
static inline int ts_ed25519_verifies(const char *keyfile, const void *data, size_t len, const char *tags)
{
	const char *b = strstr(tags, " b=");
	unsigned char sig[128], hash[32];
	long sl = b ? dkimcanon_unb64(b + 3, strlen(b + 3), sig, sizeof(sig)) : -1;
	FILE *fp = fopen(keyfile, "r");
	EVP_PKEY *pk = fp ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
	if (fp)
		fclose(fp);
	EVP_Digest(data, len, hash, NULL, EVP_sha256(), NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = pk && ctx && sl == 64 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	         EVP_DigestVerify(ctx, sig, (size_t)sl, hash, sizeof(hash)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

#endif
