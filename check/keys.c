/*
 * keys - trustmilter-check --keys; see keys.h.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "keys.h"
#include "dns.h"
#include "signkeys.h"
#include "dkimcanon.h"

#define RECORD_MAX 8192
#define PUB_MAX 4096

/* published_key - the key of a record's p= (SubjectPublicKeyInfo or, for
 * k=rsa, PKCS#1 RSAPublicKey; k=ed25519 the raw 32 bytes), or NULL. */
static EVP_PKEY *published_key(const struct dkim_tag *p, int ed)
{
	unsigned char der[PUB_MAX];
	long n = dkimcanon_unb64(p->val, p->vlen, der, sizeof(der));
	if (n <= 0)
		return NULL;
	if (ed)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, (size_t)n);
	const unsigned char *q = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &q, n);
	if (k == NULL) {
		q = der;
		k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n);
	}
	return k;
}

/* t_testing - t= holds the flag y. */
static int t_testing(const struct dkim_tag *t)
{
	for (size_t i = 0; t && i < t->vlen; i++)
		if (t->val[i] == 'y' && (i == 0 || t->val[i - 1] == ':' || t->val[i - 1] == ' ') &&
		    (i + 1 == t->vlen || t->val[i + 1] == ':' || t->val[i + 1] == ' '))
			return 1;
	return 0;
}

/* judge - one published record against the key u; the verdict word. */
static const char *judge(const struct signkeys_use *u, const char *rec, size_t len, int *testing)
{
	struct dkim_tag t[32];
	int n = dkimtag_parse(rec, len, t, 32);
	if (n < 0)
		return "different (the record does not parse)";
	const struct dkim_tag *p = dkimtag_get(t, n, "p"), *k = dkimtag_get(t, n, "k");
	*testing = t_testing(dkimtag_get(t, n, "t"));
	if (p == NULL)
		return "different (no p=)";
	if (p->vlen == 0)
		return "revoked (empty p=)";
	int ed = k && k->vlen == 7 && memcmp(k->val, "ed25519", 7) == 0;
	EVP_PKEY *pk = published_key(p, ed);
	const char *v;
	if (pk == NULL)
		v = "different (p= is not a key)";
	else if (EVP_PKEY_eq(pk, u->pkey) == 1)
		v = "matching";
	else if (!ed && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) < 2048)
		v = "too-short (the published RSA key has fewer than 2048 bits)";
	else
		v = "different (another key: rotation in progress, or a mistake)";
	EVP_PKEY_free(pk);
	return v;
}

/* check_one - the TXT of u's selector, judged; 0 matching, 1 not. */
static int check_one(dns_resolver *r, const struct signkeys_use *u, const char *path, buf *out)
{
	char name[512], rec[RECORD_MAX];
	int nl = snprintf(name, sizeof(name), "%s._domainkey.%s", u->selector, u->domain);
	dns_budget b;
	dns_budget_init(&b, 0);
	dns_answer *a = nl > 0 && (size_t)nl < sizeof(name) ? dns_query(r, &b, name, (size_t)nl, DNS_T_TXT) : NULL;
	const char *v;
	int testing = 0, bad = 1;
	if (a == NULL)
		v = "temperror (no answer)";
	else if (a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET)
		v = "temperror (DNS failed temporarily)";
	else if (a->status != DNS_OK)
		v = "missing";
	else if (a->count != 1)
		v = "different (more than one TXT record)";
	else {
		long len = dns_txt_join(a->rr[0].data, a->rr[0].len, rec, sizeof(rec));
		v = len < 0 ? "different (record too long)" : judge(u, rec, (size_t)len, &testing);
		bad = strcmp(v, "matching") != 0 || testing;
	}
	dns_answer_free(a);
	buf_printf(out, "%s %s %s bits=%u %s%s (%s)\n", name, signkeys_alg_name(u->alg), v, u->bits,
	           testing ? "t=y " : "", testing ? "still set" : "", path);
	if (strcmp(v, "missing") == 0) {
		buf_printf(out, "  publish: %s IN TXT \"", name);
		signkeys_public_record(u, out);
		buf_puts(out, "\"\n");
	}
	return bad;
}

int keys_check(const tm_env *env, buf *out)
{
	const signkeys *ks = tm_env_signkeys(env);
	char err[512];
	dns_resolver *r = dns_new_conf(tm_env_conf(env), err, sizeof(err));
	if (r == NULL) {
		buf_printf(out, "resolver: %s\n", err);
		return 2;
	}
	int bad = 0;
	size_t n = signkeys_count(ks);
	if (n == 0)
		buf_puts(out, "no signing keys configured (sign.enabled, sign.keys, sign.opendkim_keytable)\n");
	for (size_t i = 0; i < n; i++) {
		struct signkeys_use u;
		const char *path;
		if (signkeys_get(ks, i, &u, &path) == 0)
			bad |= check_one(r, &u, path, out);
	}
	dns_free(r);
	return n == 0 ? 1 : bad;
}
