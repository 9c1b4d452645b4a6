/*
 * dkimkey - query method and key record checks for DKIM (see dkimkey.h).
 *
 * The key record is a tag list (RFC 6376 3.2): "tag = value" separated by
 * ";", with folding white space around names, "=" and values. Lists inside
 * values (h=, s=, t=, q=) are separated by ":". Records are (pointer,
 * length); libopendkim parses the record again for the rest (v=, p=, t=).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "dkimkey.h"
#include "buf.h"

#define KEY_DER_MAX 2048      /* an RSA-8192 key is about 1,050 bytes of DER */

static int wsp(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* trim - (p,n) without surrounding white space. */
static void trim(const char **p, size_t *n)
{
	while (*n > 0 && wsp((unsigned char)**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && wsp((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* tag_find - the value of tag name in the tag list (p,n), trimmed; the
 * offset of the value in *off. 1 found, 0 not. */
static int tag_find(const char *p, size_t n, const char *name, const char **v, size_t *vl, size_t *off)
{
	size_t i = 0, nl = strlen(name);
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != ';')
			e++;
		const char *eq = memchr(p + i, '=', e - i);
		if (eq != NULL) {
			const char *t = p + i;
			size_t tl = (size_t)(eq - t);
			trim(&t, &tl);
			if (tl == nl && memcmp(t, name, nl) == 0) {
				*v = eq + 1;
				*vl = (size_t)(p + e - *v);
				trim(v, vl);
				if (off)
					*off = (size_t)(*v - p);
				return 1;
			}
		}
		i = e + 1;
	}
	return 0;
}

/* list_has - does the ":"-separated list (p,n) hold item (exact, trimmed)? */
static int list_has(const char *p, size_t n, const char *item)
{
	size_t i = 0, il = strlen(item);
	while (i <= n) {
		size_t e = i;
		while (e < n && p[e] != ':')
			e++;
		const char *t = p + i;
		size_t tl = e - i;
		trim(&t, &tl);
		if (tl == il && memcmp(t, item, il) == 0)
			return 1;
		i = e + 1;
	}
	return 0;
}

/* dkimkey_query_ok - see dkimkey.h. */
int dkimkey_query_ok(const char *q)
{
	return q == NULL || list_has(q, strlen(q), "dns/txt");
}

/* pkcs1_to_spki - if the base64 p= value (v,vl) is a PKCS#1 RSAPublicKey,
 * its SubjectPublicKeyInfo in base64 into b64[b64sz]; returns the length,
 * 0 when p= is not PKCS#1 (left to the library), -1 when it cannot be
 * converted. Only the structure is looked at first (SEQUENCE then INTEGER:
 * PKCS#1; SEQUENCE then SEQUENCE: already SPKI), so the usual form costs no
 * decoding here. */
static long pkcs1_to_spki(const char *v, size_t vl, char *b64, size_t b64sz)
{
	unsigned char clean[(KEY_DER_MAX / 3 + 1) * 4 + 4], der[KEY_DER_MAX + 4];
	size_t cl = 0, pad = 0;
	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char)v[i];
		if (wsp(c))
			continue;
		if (cl + 1 >= sizeof(clean))
			return 0;       /* longer than any key we read: the library decides */
		clean[cl++] = c;
		pad = c == '=' ? pad + 1 : 0;
	}
	if (cl < 8 || cl % 4 != 0 || pad > 2)
		return 0;       /* not base64 we can read: the library decides */
	int dl = EVP_DecodeBlock(der, clean, (int)cl);
	if (dl < 4)
		return 0;
	dl -= (int)pad;
	/* outer SEQUENCE, its length (short or long form), then the first tag */
	size_t hdr = der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f);
	if (der[0] != 0x30 || hdr >= (size_t)dl || der[hdr] != 0x02)
		return 0;
	const unsigned char *pp = der;
	EVP_PKEY *k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &pp, dl);
	if (k == NULL)
		return -1;
	unsigned char *spki = NULL;
	int sl = i2d_PUBKEY(k, &spki);
	EVP_PKEY_free(k);
	long r = -1;
	if (sl > 0 && (size_t)(sl + 2) / 3 * 4 + 1 <= b64sz)
		r = EVP_EncodeBlock((unsigned char *)b64, spki, sl);
	OPENSSL_free(spki);
	return r;
}

/* put - append (p,n) to out at *o, -1 when it does not fit (with the NUL). */
static int put(char *out, size_t outsz, size_t *o, const char *p, size_t n)
{
	if (n >= outsz - *o)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/* dkimkey_check - see dkimkey.h. */
int dkimkey_check(const char *rec, size_t n, const char *alg, char *out, size_t outsz,
                  size_t *outlen, char *why, size_t whylen)
{
	const char *v;
	size_t vl, off = 0;
	char shown[64];
	const char *ktype = "rsa", *hash = NULL;
	if (alg == NULL)
		alg = "";
	if (strncmp(alg, "rsa-", 4) == 0)
		hash = alg + 4;
	else if (strncmp(alg, "ed25519-", 8) == 0) {
		ktype = "ed25519";
		hash = alg + 8;
	}
	/* k= (default rsa) must be the key type of a= (RFC 6376 6.1.2 step 6) */
	const char *k = "rsa";
	size_t kl = 3;
	if (tag_find(rec, n, "k", &v, &vl, NULL)) {
		k = v;
		kl = vl;
	}
	if (!((kl == 3 && memcmp(k, "rsa", 3) == 0) || (kl == 7 && memcmp(k, "ed25519", 7) == 0))) {
		str_printable(shown, sizeof(shown), k, kl);
		snprintf(why, whylen, "unknown key type k=%s", shown);
		return -1;
	}
	if (hash != NULL && (kl != strlen(ktype) || memcmp(k, ktype, kl) != 0)) {
		str_printable(shown, sizeof(shown), k, kl);
		snprintf(why, whylen, "inappropriate key algorithm (k=%s for a=%s)", shown, alg);
		return -1;
	}
	/* h= lists the hashes the key may be used with (6.1.2 step 6) */
	if (hash != NULL && tag_find(rec, n, "h", &v, &vl, NULL) && !list_has(v, vl, hash)) {
		str_printable(shown, sizeof(shown), v, vl);
		snprintf(why, whylen, "inappropriate hash algorithm (h=%s for a=%s)", shown, alg);
		return -1;
	}
	/* s= service types: "email" or "*", else the record is not for us (3.6.1) */
	if (tag_find(rec, n, "s", &v, &vl, NULL) && !list_has(v, vl, "email") && !list_has(v, vl, "*")) {
		str_printable(shown, sizeof(shown), v, vl);
		snprintf(why, whylen, "key record not for email (s=%s)", shown);
		return -1;
	}
	/* p= as PKCS#1 RSAPublicKey (3.6.1 names it): SubjectPublicKeyInfo for the library */
	char spki[(KEY_DER_MAX / 3 + 1) * 4 + 4];
	long sl = 0;
	if (kl == 3 && tag_find(rec, n, "p", &v, &vl, &off) && vl > 0)
		sl = pkcs1_to_spki(v, vl, spki, sizeof(spki));
	if (sl < 0) {
		snprintf(why, whylen, "key syntax error (PKCS#1 key unreadable)");
		return -1;
	}
	size_t o = 0;
	out[0] = '\0';
	if (outsz == 0 ||
	    (sl == 0 && put(out, outsz, &o, rec, n) < 0) ||
	    (sl > 0 && (put(out, outsz, &o, rec, off) < 0 || put(out, outsz, &o, spki, (size_t)sl) < 0 ||
	                put(out, outsz, &o, v + vl, n - off - vl) < 0))) {
		snprintf(why, whylen, "key record too long");
		return -1;
	}
	*outlen = o;
	return 0;
}
