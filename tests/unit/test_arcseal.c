/*
 * test_arcseal - the ARC set of policy/arcseal.c: the seal key (arc.seal_key,
 * required by arc.seal, refused like sign.keys), the three values (AAR with
 * i=N and our A-R, AMS tags, h= without ARC fields, bh= as python3-dkim), an
 * ARC-Seal whose b= verifies over AAR, AMS and AS of every instance in order,
 * N and cv= from the arriving chain (none, pass, fail kept), no set above
 * a newest cv=fail, and the 50-instance limit. Interoperability: tests/integration/arc-seal.py.
 */
#include "t.h"
#include "tsign.h"
#include "signkeys.h"
#include "arcseal.h"
#include "dkimcanon.h"

static char tmpdir[512];

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
	ts_write_key(bad, 1, 0, 0644);
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

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
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
	int ok = ts_ed25519_verifies(keyfile, buf_data(d), buf_len(d), as);
	buf_free(d);
	buf_free(stripped);
	return ok;
}

/* run_signed - seal h (body as in test_dkimsign) with chain outcome c and
 * our new DKIM-Signature values sig[0..nsig) above h; the set or NULL. */
static arcseal *run_signed(const signkeys *k, const hdr_set *h, const char *const *sig, size_t nsig,
                           const struct arc_outcome *c, findings *f)
{
	int oom;
	arcseal *m = arcseal_begin(k, &oom);
	const char *body = TS_BODY;
	arcseal_body(m, (const unsigned char *)body, 7);
	arcseal_body(m, (const unsigned char *)body + 7, strlen(body) - 7);
	if (arcseal_end(m, h, sig, nsig, c, "mx.test;\n\tspf=pass smtp.mailfrom=a@example.org", 1700000000, f) < 0) {
		arcseal_free(m);
		return NULL;
	}
	return m;
}

/* run - run_signed without new signatures. */
static arcseal *run(const signkeys *k, const hdr_set *h, const struct arc_outcome *c, findings *f)
{
	return run_signed(k, h, NULL, 0, c, f);
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
	ts_news_header(h);
	ts_add(h, "DKIM-Signature", " v=1; d=example.com; b=abc");
	ts_add(h, "Authentication-Results", " other.test; spf=pass");
	arcseal *m = run(k, h, NULL, f);
	T_OK(m && arcseal_instance(m) == 1, "no ARC fields: instance 1");
	ts_unfold(arcseal_value(m, ARCSEAL_AAR), v, sizeof(v));
	T_STR(v, "i=1; mx.test;spf=pass smtp.mailfrom=a@example.org", "AAR: i=1; and our A-R (line ends CRLF)");
	T_OK(strstr(arcseal_value(m, ARCSEAL_AAR), "\r\n\t") != NULL, "AAR folded with CRLF TAB");
	ts_unfold(arcseal_value(m, ARCSEAL_AMS), v, sizeof(v));
	T_OK(starts(v, "i=1; a=ed25519-sha256; c=relaxed/relaxed; d=seal.example; s=s1; t=1700000000;"),
	     "AMS tags (%s)", v);
	T_OK(strstr(v, "h=From:From:Subject:To:DKIM-Signature;") != NULL, "AMS h=: sign.headers, DKIM-Signature, "
	     "no A-R");
	T_OK(strstr(v, "bh=" TS_BODY_BH ";") != NULL, "AMS bh= as python3-dkim");
	ts_unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(starts(v, "i=1; a=ed25519-sha256; t=1700000000; cv=none; d=seal.example; s=s1; b="),
	     "AS tags, cv=none (%s)", v);
	T_OK(m && seal_verifies(m, h, keyfile, 1), "AS b= verifies over AAR, AMS, AS");
	T_STR(arcseal_name(ARCSEAL_AS), "ARC-Seal", "insertion order: ARC-Seal first");
	/* our own new DKIM-Signature is covered: named in h= once more, hashed */
	const char *ours[1] = { "v=1; a=rsa-sha256; d=example.com; s=out;\r\n\tb=ourown" };
	arcseal *ms = run_signed(k, h, ours, 1, NULL, f);
	char vs[8192], va[8192];
	ts_unfold(ms ? arcseal_value(ms, ARCSEAL_AMS) : "", vs, sizeof(vs));
	ts_unfold(m ? arcseal_value(m, ARCSEAL_AMS) : "", va, sizeof(va));
	T_OK(strstr(vs, "h=From:From:Subject:To:DKIM-Signature:DKIM-Signature;") != NULL,
	     "AMS h= names our new DKIM-Signature too (%s)", vs);
	T_OK(strstr(vs, " b=") && strstr(va, " b=") && strcmp(strstr(vs, " b="), strstr(va, " b=")) != 0,
	     "the AMS with our DKIM-Signature differs");
	arcseal_free(ms);
	/* the DKIM-Signature class is full: ours does not fit, so no seal */
	hdr_set *full = hdr_new(200, 1 << 20);
	ts_add(full, "From", " a@example.com");
	for (int i = 0; i < HDR_CAP_DKIM; i++)
		ts_add(full, "DKIM-Signature", " v=1; d=example.com; b=abc");
	findings_reset(f);
	ms = run_signed(k, full, ours, 1, NULL, f);
	T_OK(ms == NULL && findings_has(f, "arc.seal.too_big"), "no room for our DKIM-Signature: "
	     "arc.seal.too_big, not sealed");
	hdr_free(full);
	/* continue: add the set made as instance 1, then seal 2 on a pass */
	ts_add(h, "ARC-Authentication-Results", arcseal_value(m, ARCSEAL_AAR));
	ts_add(h, "ARC-Message-Signature", arcseal_value(m, ARCSEAL_AMS));
	ts_add(h, "ARC-Seal", arcseal_value(m, ARCSEAL_AS));
	arcseal_free(m);
	struct arc_outcome pass = { .result = AR_PASS, .instances = 1 };
	m = run(k, h, &pass, f);
	ts_unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 2 && strstr(v, "cv=pass;"), "i=2 cv=pass on a passing chain");
	ts_unfold(arcseal_value(m, ARCSEAL_AMS), v, sizeof(v));
	T_OK(strstr(v, "ARC-") == NULL, "AMS h= never names ARC fields");
	T_OK(m && seal_verifies(m, h, keyfile, 2), "AS i=2 b= verifies over sets 1 and 2");
	arcseal_free(m);
	struct arc_outcome fail = { .result = AR_FAIL, .instances = 1 };
	m = run(k, h, &fail, f);
	ts_unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 2 && strstr(v, "cv=fail;"), "failed chain: cv=fail, not repaired");
	T_OK(m && seal_verifies(m, h, keyfile, 1) && !seal_verifies(m, h, keyfile, 2),
	     "cv=fail: the AS signs the new set alone (RFC 8617 5.1.2)");
	arcseal_free(m);
	m = run(k, h, NULL, f);
	ts_unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && strstr(v, "cv=fail;"), "ARC fields but no validation: cv=fail");
	arcseal_free(m);
	/* the newest arriving seal says cv=fail: no set at all (RFC 8617 5.1
	 * step 1); an older cv=fail under a newer seal is sealed as failed */
	ts_add(h, "ARC-Seal", " i=2; a=rsa-sha256; cv=FAIL; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &fail, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.failed_upstream"),
	     "newest seal cv=fail: arc.seal.failed_upstream, no set");
	ts_add(h, "ARC-Seal", " i=3; a=rsa-sha256; cv=pass; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &fail, f);
	ts_unfold(arcseal_value(m, ARCSEAL_AS), v, sizeof(v));
	T_OK(m && arcseal_instance(m) == 4 && strstr(v, "cv=fail;") &&
	     !findings_has(f, "arc.seal.failed_upstream"), "cv=fail below the newest seal: sealed cv=fail");
	arcseal_free(m);
	/* the limit */
	ts_add(h, "ARC-Seal", " i=50; a=rsa-sha256; cv=pass; d=x.test; s=a; b=abc");
	findings_reset(f);
	m = run(k, h, &pass, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.limit"), "instance 50 present: arc.seal.limit, no set");
	hdr_reset(h);
	ts_add(h, "From", " a@example.com");
	ts_add(h, "ARC-Message-Signature", " i=99999999999999999999; a=rsa-sha256; b=x");
	findings_reset(f);
	m = run(k, h, &pass, f);
	T_OK(m == NULL && findings_has(f, "arc.seal.limit"), "enormous i=: arc.seal.limit");
	findings_free(f);
	hdr_free(h);
	signkeys_free(k);
}

int main(void)
{
	if (ts_tmpdir(tmpdir, sizeof(tmpdir), "test_arcseal") < 0)
		return t_done();
	char key[600];
	snprintf(key, sizeof(key), "%s/ed.pem", tmpdir);
	ts_write_key(key, 1, 0, 0600);
	test_keys(key);
	test_seal(key);
	return t_done();
}
