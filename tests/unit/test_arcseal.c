/*
 * test_arcseal - the ARC set of policy/arcseal.c: the seal key (arc.seal_key,
 * required by arc.seal, refused like sign.keys), the three values (AAR with
 * i=N and our A-R, AMS tags, h= without ARC fields, bh= as python3-dkim), an
 * ARC-Seal whose b= verifies over AAR, AMS and AS of every instance in order,
 * N and cv= from the arriving chain (none, pass, fail kept), no set above
 * a newest cv=fail, and the 50-instance limit. Interoperability: tests/integration/arc-seal.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "t.h"
#include "signkeys.h"
#include "arcseal.h"
#include "dkimcanon.h"

static char tmpdir[512];

static void write_key(const char *path, mode_t mode)
{
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = fopen(path, "w");
	if (p && f)
		PEM_write_PrivateKey(f, p, NULL, NULL, 0, NULL, NULL);
	if (f)
		fclose(f);
	chmod(path, mode);
	EVP_PKEY_free(p);
}

static signkeys *keys_with(const char *seal, const char *key, char *err, size_t errlen)
{
	conf *c = conf_load(NULL, err, errlen);
	if (c == NULL || conf_set(c, "arc.seal", seal, err, errlen) < 0 ||
	    conf_set(c, "arc.seal_key", key, err, errlen) < 0)
		return NULL;
	signkeys *k = signkeys_new(c, err, errlen);
	conf_unref(c);
	return k;
}

static void test_keys(const char *good)
{
	char bad[600], item[700], err[1024];
	signkeys *k = keys_with("outbound", "", err, sizeof(err));
	T_OK(k == NULL && strstr(err, "arc.seal_key"), "arc.seal without arc.seal_key refused (%s)", err);
	snprintf(bad, sizeof(bad), "%s/open.pem", tmpdir);
	write_key(bad, 0644);
	snprintf(item, sizeof(item), "example.com:sel:%s", bad);
	k = keys_with("listed", item, err, sizeof(err));
	T_OK(k == NULL && strstr(err, bad), "world-readable seal key refused, file named (%s)", err);
	k = keys_with("listed", "example.com:sel", err, sizeof(err));
	T_OK(k == NULL && strstr(err, "arc.seal_key"), "malformed arc.seal_key refused (%s)", err);
	snprintf(item, sizeof(item), "example.com:sel:%s", good);
	k = keys_with("never", item, err, sizeof(err));
	struct signkeys_use u;
	T_OK(k && signkeys_seal(k, &u) == 0 && u.alg == SIGNKEYS_ED25519_SHA256 && !signkeys_enabled(k),
	     "seal key loaded without sign.enabled");
	signkeys_free(k);
	k = keys_with("never", "", err, sizeof(err));
	T_OK(k && signkeys_seal(k, &u) < 0, "no seal key: signkeys_seal -1");
	signkeys_free(k);
}

static void add(hdr_set *h, const char *name, const char *value)
{
	hdr_add(h, name, strlen(name), value, strlen(value));
}

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void unfold(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; in && in[i] && o + 1 < outsz; i++)
		if (in[i] != '\r' && in[i] != '\n' && in[i] != '\t')
			out[o++] = in[i];
	out[o] = '\0';
}

/* seal_verifies - the b= of the new ARC-Seal over the sets of h and the new one. */
static int seal_verifies(const arcseal *m, const hdr_set *h, const char *keyfile, unsigned n)
{
	static const char *const kinds[3] = { "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal" };
	buf *d = buf_new(1 << 20);
	for (unsigned i = 1; i < n; i++)
		for (int k = 0; k < 3; k++) {
			const struct hdr_field *f = hdr_find(h, kinds[k], i - 1);   /* added in order */
			dkimcanon_header(d, DKIM_HC_RELAXED, f->name, f->nlen, f->value, f->vlen);
			buf_append(d, "\r\n", 2);
		}
	const char *aar = arcseal_value(m, ARCSEAL_AAR), *ams = arcseal_value(m, ARCSEAL_AMS);
	const char *as = arcseal_value(m, ARCSEAL_AS);
	dkimcanon_header(d, DKIM_HC_RELAXED, kinds[0], strlen(kinds[0]), aar, strlen(aar));
	buf_append(d, "\r\n", 2);
	dkimcanon_header(d, DKIM_HC_RELAXED, kinds[1], strlen(kinds[1]), ams, strlen(ams));
	buf_append(d, "\r\n", 2);
	buf *stripped = buf_new(65536);
	dkimcanon_strip_b(stripped, as, strlen(as));
	dkimcanon_header(d, DKIM_HC_RELAXED, kinds[2], strlen(kinds[2]), buf_data(stripped), buf_len(stripped));
	const char *b = strstr(as, " b=");
	unsigned char sig[128], hash[32];
	long sl = b ? dkimcanon_unb64(b + 3, strlen(b + 3), sig, sizeof(sig)) : -1;
	FILE *fp = fopen(keyfile, "r");
	EVP_PKEY *pk = fp ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
	if (fp)
		fclose(fp);
	EVP_Digest(buf_data(d), buf_len(d), hash, NULL, EVP_sha256(), NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = pk && sl == 64 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	         EVP_DigestVerify(ctx, sig, (size_t)sl, hash, sizeof(hash)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	buf_free(d);
	buf_free(stripped);
	return ok;
}

/* run - seal h (body as in test_dkimsign) with chain outcome c; the set or NULL. */
static arcseal *run(const signkeys *k, const hdr_set *h, const struct arc_outcome *c, findings *f)
{
	int oom;
	arcseal *m = arcseal_begin(k, &oom);
	const char *body = "Hello  world \t\r\n\r\n\r\n";
	arcseal_body(m, (const unsigned char *)body, 7);
	arcseal_body(m, (const unsigned char *)body + 7, strlen(body) - 7);
	if (arcseal_end(m, h, c, "mx.test;\n\tspf=pass smtp.mailfrom=a@example.org", 1700000000, f) < 0) {
		arcseal_free(m);
		return NULL;
	}
	return m;
}

static void test_seal(const char *keyfile)
{
	char item[700], err[1024], v[8192];
	snprintf(item, sizeof(item), "Seal.Example:s1:%s", keyfile);
	signkeys *k = keys_with("listed", item, err, sizeof(err));
	hdr_set *h = hdr_new(200, 1 << 20);
	findings *f = findings_new();
	if (k == NULL || h == NULL || f == NULL) {
		T_OK(0, "set-up (%s)", err);
		return;
	}
	add(h, "From", " News <news@example.com>");
	add(h, "To", " a@example.org");
	add(h, "Subject", " Hi");
	add(h, "DKIM-Signature", " v=1; d=example.com; b=abc");
	add(h, "Authentication-Results", " other.test; spf=pass");
	arcseal *m = run(k, h, NULL, f);
	T_OK(m && arcseal_instance(m) == 1, "no ARC fields: instance 1");
	unfold(arcseal_value(m, ARCSEAL_AAR), v, sizeof(v));
	T_STR(v, "i=1; mx.test;spf=pass smtp.mailfrom=a@example.org", "AAR: i=1; and our A-R (line ends CRLF)");
	T_OK(strstr(arcseal_value(m, ARCSEAL_AAR), "\r\n\t") != NULL, "AAR folded with CRLF TAB");
	unfold(arcseal_value(m, ARCSEAL_AMS), v, sizeof(v));
	T_OK(starts(v, "i=1; a=ed25519-sha256; c=relaxed/relaxed; d=seal.example; s=s1; t=1700000000;"),
	     "AMS tags (%s)", v);
	T_OK(strstr(v, "h=From:From:Subject:To:DKIM-Signature;") != NULL, "AMS h=: sign.headers, DKIM-Signature, "
	     "no A-R");
	T_OK(strstr(v, "bh=yGIXoM91E1DiKjvCBcC8NlWyw54TdfMQ08sdtwtOO4I=;") != NULL, "AMS bh= as python3-dkim");
	unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(starts(v, "i=1; a=ed25519-sha256; t=1700000000; cv=none; d=seal.example; s=s1; b="),
	     "AS tags, cv=none (%s)", v);
	T_OK(m && seal_verifies(m, h, keyfile, 1), "AS b= verifies over AAR, AMS, AS");
	T_STR(arcseal_name(ARCSEAL_AS), "ARC-Seal", "insertion order: ARC-Seal first");
	/* continue: add the set made as instance 1, then seal 2 on a pass */
	add(h, "ARC-Authentication-Results", arcseal_value(m, ARCSEAL_AAR));
	add(h, "ARC-Message-Signature", arcseal_value(m, ARCSEAL_AMS));
	add(h, "ARC-Seal", arcseal_value(m, ARCSEAL_AS));
	arcseal_free(m);
	struct arc_outcome pass = { .result = AR_PASS, .instances = 1 };
	m = run(k, h, &pass, f);
	unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 2 && strstr(v, "cv=pass;"), "i=2 cv=pass on a passing chain");
	unfold(arcseal_value(m, ARCSEAL_AMS), v, sizeof(v));
	T_OK(strstr(v, "ARC-") == NULL, "AMS h= never names ARC fields");
	T_OK(m && seal_verifies(m, h, keyfile, 2), "AS i=2 b= verifies over sets 1 and 2");
	arcseal_free(m);
	struct arc_outcome fail = { .result = AR_FAIL, .instances = 1 };
	m = run(k, h, &fail, f);
	unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 2 && strstr(v, "cv=fail;"), "failed chain: cv=fail, not repaired");
	T_OK(m && seal_verifies(m, h, keyfile, 1) && !seal_verifies(m, h, keyfile, 2),
	     "cv=fail: the AS signs the new set alone (RFC 8617 5.1.2)");
	arcseal_free(m);
	m = run(k, h, NULL, f);
	unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && strstr(v, "cv=fail;"), "ARC fields but no validation: cv=fail");
	arcseal_free(m);
	/* the newest arriving seal says cv=fail: no set at all (RFC 8617 5.1
	 * step 1); an older cv=fail under a newer seal is sealed as failed */
	add(h, "ARC-Seal", " i=2; a=rsa-sha256; cv=FAIL; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &fail, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.failed_upstream"),
	     "newest seal cv=fail: arc.seal.failed_upstream, no set");
	add(h, "ARC-Seal", " i=3; a=rsa-sha256; cv=pass; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &fail, f);
	unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 4 && strstr(v, "cv=fail;") &&
	     !findings_has(f, "arc.seal.failed_upstream"), "cv=fail below the newest seal: sealed cv=fail");
	arcseal_free(m);
	/* the limit */
	add(h, "ARC-Seal", " i=50; a=rsa-sha256; cv=pass; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &pass, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.limit"), "instance 50 present: arc.seal.limit, no set");
	hdr_reset(h);
	add(h, "From", " a@example.com");
	add(h, "ARC-Message-Signature", " i=99999999999999999999; a=rsa-sha256; b=x");
	findings_reset(f);
	m = run(k, h, &pass, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.limit"), "enormous i=: arc.seal.limit");
	findings_free(f);
	hdr_free(h);
	signkeys_free(k);
}

int main(void)
{
	const char *t = getenv("TM_TMP");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_arcseal.XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		T_OK(0, "mkdtemp %s", tmpdir);
		return t_done();
	}
	char key[600];
	snprintf(key, sizeof(key), "%s/ed.pem", tmpdir);
	write_key(key, 0600);
	test_keys(key);
	test_seal(key);
	return t_done();
}
