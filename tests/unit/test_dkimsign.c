/*
 * test_dkimsign - OpenDKIM KeyTable/SigningTable parsing (plain and refile
 * with '*' wildcards, '%'), key loading (RSA 2048 and Ed25519 accepted, RSA
 * 1024 and world-readable files refused with the file named), and the
 * signer's output: tags, h= with oversigning, bh= against an independent
 * digest (python3-dkim's, as in test_bodyhash), and a b= that verifies with
 * the public key. Interoperability with other verifiers is
 * tests/integration/dkim-sign.py.
 */
#include "t.h"
#include "tsign.h"
#include "keytable.h"
#include "signkeys.h"
#include "dkimsign.h"
#include "dkimcanon.h"

static char tmpdir[512];

static void test_tables(void)
{
	struct keytable_key k[4];
	struct keytable_sign s[4];
	char why[160];
	const char *kt = "# comment\nk1  example.com:sel1:/etc/k/1.private\n\n"
	                 "k2\t%:sel2:/etc/k/a:b.pem   # trailing\n";
	T_INT(keytable_parse_keys(kt, strlen(kt), k, 4, why, sizeof(why)), 2, "KeyTable: two keys");
	T_STR(k[0].domain, "example.com", "KeyTable: domain");
	T_STR(k[1].domain, "%", "KeyTable: %% kept for the signer");
	T_STR(k[1].path, "/etc/k/a:b.pem", "KeyTable: the path may hold ':'");
	const char *bad = "k1 example.com:sel1\n";
	T_INT(keytable_parse_keys(bad, strlen(bad), k, 4, why, sizeof(why)), -1, "KeyTable: no path refused");
	T_OK(strstr(why, "line 1") != NULL, "KeyTable: error names the line (%s)", why);
	const char *three = "a b:c:d\na b:c:d\na b:c:d\n";
	T_INT(keytable_parse_keys(three, strlen(three), k, 2, why, sizeof(why)), -1, "KeyTable: past max refused");
	const char *st = "*@example.com k1\n*@*.example.org k2\nuser@example.net k1\nexample.net k2\n";
	T_INT(keytable_parse_signing(st, strlen(st), s, 4, why, sizeof(why)), 4, "SigningTable: four entries");
	T_OK(keytable_match(&s[0], 1, "news", "EXAMPLE.com"), "refile: *@example.com matches, any case");
	T_OK(!keytable_match(&s[0], 1, "news", "sub.example.com"), "refile: *@example.com not a subdomain");
	T_OK(keytable_match(&s[1], 1, "a", "x.y.example.org"), "refile: *@*.example.org");
	T_OK(!keytable_match(&s[1], 1, "a", "example.org"), "refile: *@*.example.org not the parent");
	T_OK(keytable_match(&s[2], 0, "user", "example.net"), "plain: whole address");
	T_OK(!keytable_match(&s[2], 0, "other", "example.net"), "plain: another address");
	T_OK(keytable_match(&s[3], 0, "other", "example.net"), "plain: domain");
	const char *st3 = "a b c\n";
	T_INT(keytable_parse_signing(st3, strlen(st3), s, 4, why, sizeof(why)), -1, "SigningTable: three fields refused");
}

static signkeys *keys_for(const char *item, char *err, size_t errlen)
{
	conf *c = conf_load(NULL, err, errlen);
	if (c == NULL || conf_set(c, "sign.enabled", "true", err, errlen) < 0 ||
	    conf_set(c, "sign.keys", item, err, errlen) < 0)
		return NULL;
	signkeys *k = signkeys_new(c, err, errlen);
	conf_unref(c);
	return k;
}

static void test_keys(void)
{
	char p1[600], p2[600], p3[600], p4[600], item[1400], err[1024];
	snprintf(p1, sizeof(p1), "%s/rsa2048.pem", tmpdir);
	snprintf(p2, sizeof(p2), "%s/rsa1024.pem", tmpdir);
	snprintf(p3, sizeof(p3), "%s/ed.pem", tmpdir);
	snprintf(p4, sizeof(p4), "%s/open.pem", tmpdir);
	ts_write_key(p1, 0, 2048, 0600);
	ts_write_key(p2, 0, 1024, 0600);
	ts_write_key(p3, 1, 0, 0640);
	ts_write_key(p4, 1, 0, 0644);
	snprintf(item, sizeof(item), "example.com:r:%s,example.com:e:%s", p1, p3);
	signkeys *k = keys_for(item, err, sizeof(err));
	T_OK(k != NULL, "RSA 2048 and Ed25519 load (%s)", k ? "" : err);
	if (k) {
		T_OK(strstr(signkeys_warnings(k), "group") != NULL, "group-readable key: a warning");
		struct signkeys_use u[4];
		size_t un;
		T_INT(signkeys_for(k, "a", "example.com", u, 4, &un), 2, "dual: two keys for the domain");
		T_INT(signkeys_for(k, "a", "news.example.com", u, 4, &un), 2, "a subdomain uses the parent's keys");
		T_OK(u[0].aligned && u[1].alg == SIGNKEYS_ED25519_SHA256, "aligned, Ed25519 second");
		T_INT(signkeys_for(k, "a", "example.org", u, 4, &un), 0, "another domain: no key");
		signkeys_free(k);
	}
	snprintf(item, sizeof(item), "example.com:r:%s", p2);
	k = keys_for(item, err, sizeof(err));
	T_OK(k == NULL && strstr(err, p2) && strstr(err, "1024 bits"), "RSA 1024 refused (%s)", err);
	snprintf(item, sizeof(item), "example.com:r:%s", p4);
	k = keys_for(item, err, sizeof(err));
	T_OK(k == NULL && strstr(err, p4) && strstr(err, "others"), "world-readable refused (%s)", err);
	k = keys_for("", err, sizeof(err));
	T_OK(k == NULL && strstr(err, "no key"), "sign.enabled without keys refused (%s)", err);
	k = keys_for("example.com:r", err, sizeof(err));
	T_OK(k == NULL && strstr(err, "sign.keys"), "malformed sign.keys item refused (%s)", err);
}

static void test_sign(void)
{
	char path[600], item[700], err[1024];
	snprintf(path, sizeof(path), "%s/ed.pem", tmpdir);
	snprintf(item, sizeof(item), "Example.COM:sel:%s", path);
	signkeys *k = keys_for(item, err, sizeof(err));
	hdr_set *h = hdr_new(100, 65536);
	findings *f = findings_new();
	if (k == NULL || h == NULL || f == NULL) {
		T_OK(0, "set-up (%s)", err);
		return;
	}
	ts_news_header(h);
	ts_add(h, "List-Unsubscribe", " <https://example.com/u>");
	ts_add(h, "X-Other", " not signed");
	int oom;
	dkimsign *m = dkimsign_begin(k, h, f, &oom);
	T_OK(m != NULL, "begin: From domain has a key");
	const char *body = TS_BODY;
	dkimsign_body(m, (const unsigned char *)body, 5);
	dkimsign_body(m, (const unsigned char *)body + 5, strlen(body) - 5);
	T_INT(dkimsign_end(m, h, NULL, 0, 1700000000, f), 1, "one signature");
	const char *folded = dkimsign_value(m, 0);
	char v[8192];
	ts_unfold(folded, v, sizeof(v));
	T_OK(folded && strstr(folded, "\r\n\t") != NULL, "the value is folded with CRLF TAB");
	T_OK(strncmp(v, "v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=sel;", 63) == 0,
	     "tags in order, d= lower-cased (%s)", v);
	T_OK(strstr(v, "t=1700000000;") && strstr(v, "h=From:From:Subject:To:List-Unsubscribe:"
	                                                 "List-Unsubscribe;"),
	     "t=, h= oversigns From and List-Unsubscribe, X-Other left out");
	T_OK(strstr(v, "bh=" TS_BODY_BH ";"), "bh= as python3-dkim");
	T_OK(!strstr(v, "l="), "no l=");
	const struct dkim_sig *g = dkimsign_sig(m, 0);
	T_OK(g && g->result == AR_PASS && g->signed_here && g->covers_list_unsubscribe &&
	     strcmp(g->domain, "example.com") == 0, "the evaluators' view: passing, signed here");
	/* b= verifies: the header data again, the public key of the file */
	buf *data = buf_new(65536);
	char full[8192];
	snprintf(full, sizeof(full), " %s", folded ? folded : "");
	dkimcanon_headers(data, DKIM_HC_RELAXED, h, "From:From:Subject:To:List-Unsubscribe:List-Unsubscribe", 55,
	                  NULL, "DKIM-Signature", 14, full, strlen(full));
	T_OK(ts_ed25519_verifies(path, buf_data(data), buf_len(data), v),
	     "b= verifies (Ed25519 over the SHA-256 of the header data)");
	buf_free(data);
	/* already signed with our d= and s=: no new signature */
	dkimsign_free(m);
	m = dkimsign_begin(k, h, f, &oom);
	struct dkim_sig have = { .result = AR_PASS, .domain = "example.com", .selector = "sel" };
	T_INT(dkimsign_end(m, h, &have, 1, 1700000000, f), 0, "already signed: not again");
	dkimsign_free(m);
	/* two From fields: not signed, a finding */
	ts_add(h, "From", " other@example.com");
	m = dkimsign_begin(k, h, f, &oom);
	T_OK(m == NULL && !oom && findings_has(f, "dkim.sign.malformed"), "two From: dkim.sign.malformed");
	hdr_reset(h);
	ts_add(h, "From", " a@example.net");
	m = dkimsign_begin(k, h, f, &oom);
	T_OK(m == NULL && findings_has(f, "dkim.sign.no_key"), "no key: dkim.sign.no_key");
	findings_free(f);
	hdr_free(h);
	signkeys_free(k);
}

int main(void)
{
	if (ts_tmpdir(tmpdir, sizeof(tmpdir), "test_dkimsign") < 0)
		return t_done();
	test_tables();
	test_keys();
	test_sign();
	return t_done();
}
