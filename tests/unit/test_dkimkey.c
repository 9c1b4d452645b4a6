/*
 * test_dkimkey - q= methods and key record checks (RFC 6376 3.5, 3.6.1,
 * 6.1.2) without DNS; the PKCS#1 rewrite is checked end to end in
 * tests/integration/dkim-verify.py with keys from opendkim-genkey.
 */
#include <string.h>
#include "t.h"
#include "dkimkey.h"

struct kcase {
	const char *name, *rec, *alg;
	int ok;
	const char *why;     /* substring of the reason when refused */
};

static const struct kcase kc[] = {
	{ "rsa key, rsa-sha256", "v=DKIM1; k=rsa; p=AAAA", "rsa-sha256", 0, NULL },
	{ "no k= means rsa", "v=DKIM1; p=AAAA", "rsa-sha256", 0, NULL },
	{ "no k= with ed25519", "v=DKIM1; p=AAAA", "ed25519-sha256", -1, "inappropriate key algorithm" },
	{ "k=rsa with ed25519", "v=DKIM1; k=rsa; p=AAAA", "ed25519-sha256", -1, "k=rsa for a=ed25519-sha256" },
	{ "k=ed25519 with rsa", "v=DKIM1; k=ed25519; p=AAAA", "rsa-sha256", -1, "inappropriate key algorithm" },
	{ "k=ed25519 with ed25519", "k = ed25519 ; p=AAAA", "ed25519-sha256", 0, NULL },
	{ "unknown k=", "k=dsa; p=AAAA", "rsa-sha256", -1, "unknown key type k=dsa" },
	{ "K= upper case is another tag", "K=ed25519; p=AAAA", "rsa-sha256", 0, NULL },
	{ "h=sha256", "h=sha256; p=AAAA", "rsa-sha256", 0, NULL },
	{ "h=sha1 for sha256", "h=sha1; p=AAAA", "rsa-sha256", -1, "inappropriate hash algorithm" },
	{ "h= list with spaces", "h=sha1 : sha256; p=AAAA", "rsa-sha256", 0, NULL },
	{ "h=sha256x is not sha256", "h=sha256x; p=AAAA", "rsa-sha256", -1, "hash" },
	{ "s=*", "s=*; p=AAAA", "rsa-sha256", 0, NULL },
	{ "s=email", "s=email; p=AAAA", "rsa-sha256", 0, NULL },
	{ "s=tlsrpt:email", "s=tlsrpt:email; p=AAAA", "rsa-sha256", 0, NULL },
	{ "s=tlsrpt", "s=tlsrpt; p=AAAA", "rsa-sha256", -1, "not for email" },
	{ "s= empty", "s=; p=AAAA", "rsa-sha256", -1, "not for email" },
	{ "SPKI p= kept as is", "p=MCowBQYDK2VwAyEA", "rsa-sha256", 0, NULL },
	{ "revoked (empty p=)", "v=DKIM1; p=", "rsa-sha256", 0, NULL },
	{ "bad PKCS#1 (SEQUENCE INTEGER, truncated)", "p=MAYCAQ==", "rsa-sha256", -1, "key syntax" },
};

int main(void)
{
	T_INT(dkimkey_query_ok(NULL), 1, "q= absent: dns/txt");
	T_INT(dkimkey_query_ok("dns/txt"), 1, "q=dns/txt");
	T_INT(dkimkey_query_ok("http:dns/txt"), 1, "q=http:dns/txt: unknown method ignored");
	T_INT(dkimkey_query_ok(" dns/txt "), 1, "q= with white space");
	T_INT(dkimkey_query_ok("http"), 0, "q=http: none usable");
	T_INT(dkimkey_query_ok("dns/special"), 0, "q=dns/special: none usable");
	T_INT(dkimkey_query_ok("dns"), 0, "q=dns: not dns/txt");
	T_INT(dkimkey_query_ok("dns/txtx"), 0, "q=dns/txtx: not dns/txt");
	T_INT(dkimkey_query_ok(""), 0, "q= empty: none usable");
	for (size_t i = 0; i < sizeof(kc) / sizeof(kc[0]); i++) {
		char out[1024], why[128] = "";
		size_t ol = 0;
		int rc = dkimkey_check(kc[i].rec, strlen(kc[i].rec), kc[i].alg, out, sizeof(out), &ol, why, sizeof(why));
		T_INT(rc, kc[i].ok, "%s (%s)", kc[i].name, why);
		if (rc == 0)
			T_STR(out, kc[i].rec, "%s: record handed on unchanged", kc[i].name);
		else
			T_OK(strstr(why, kc[i].why) != NULL, "%s: reason \"%s\"", kc[i].name, why);
	}
	char small[8], why[128];
	size_t ol;
	T_INT(dkimkey_check("v=DKIM1; p=AAAA", 15, "rsa-sha256", small, sizeof(small), &ol, why, sizeof(why)), -1,
	      "no room for the record: refused, not cut");
	return t_done();
}
