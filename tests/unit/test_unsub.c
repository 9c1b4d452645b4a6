/*
 * test_unsub - RFC 2369 List-Unsubscribe parsing and the RFC 8058 verdict,
 * table-driven: each case is a header set, DKIM signatures and the exact set
 * of unsub.* findings expected.
 */
#include <stdlib.h>
#include "t.h"
#include "unsub.h"
#include "ready.h"
#include "buf.h"

/* ---------------------------------------------------------------- parsing */

struct pcase {
	const char *name, *value;
	size_t count;
	int syntax, more, toolong;
	const char *first, *second;
};

static const struct pcase pcases[] = {
	{ "one https", "<https://example.test/u?id=1>", 1, 0, 0, 0, "https://example.test/u?id=1", NULL },
	{ "mailto and https", "<mailto:u@example.test?subject=unsub>, <https://example.test/u>", 2, 0, 0, 0,
	  "mailto:u@example.test?subject=unsub", "https://example.test/u" },
	{ "folded between", "<mailto:u@example.test>,\r\n\t<https://example.test/u>", 2, 0, 0, 0, "mailto:u@example.test", "https://example.test/u" },
	{ "folded inside URI", "<https://example.test/\r\n very/long>", 1, 0, 0, 0, "https://example.test/very/long", NULL },
	{ "comments", "(unsubscribe) <https://example.test/u> (one (nested) click) , (x)<mailto:a@example.test>", 2, 0, 0, 0,
	  "https://example.test/u", "mailto:a@example.test" },
	{ "quoted pair in comment", "(a \\) b) <https://example.test/u>", 1, 0, 0, 0, "https://example.test/u", NULL },
	{ "no angle brackets", "https://example.test/u", 0, 1, 0, 0, NULL, NULL },
	{ "missing close bracket", "<https://example.test/u", 0, 1, 0, 0, NULL, NULL },
	{ "second item bare", "<https://example.test/u>, mailto:x@example.test", 1, 1, 0, 0, "https://example.test/u", NULL },
	{ "trailing text", "<https://example.test/u> please click", 1, 1, 0, 0, "https://example.test/u", NULL },
	{ "trailing comma", "<https://example.test/u>,", 1, 1, 0, 0, "https://example.test/u", NULL },
	{ "empty", "", 0, 1, 0, 0, NULL, NULL },
	{ "only comment", " (nothing) ", 0, 1, 0, 0, NULL, NULL },
	{ "unclosed comment", "<https://example.test/u> (oops", 1, 1, 0, 0, "https://example.test/u", NULL },
	{ "empty brackets", "<>", 0, 1, 0, 0, NULL, NULL },
	{ "not a URI", "<just text>", 0, 1, 0, 0, NULL, NULL },
	{ "nested bracket", "<https://a<b>", 0, 1, 0, 0, NULL, NULL },
	{ "nine URIs", "<a:1>,<a:2>,<a:3>,<a:4>,<a:5>,<a:6>,<a:7>,<a:8>,<a:9>", 8, 0, 1, 0, "a:1", "a:2" },
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		struct unsub_uris *u = malloc(sizeof(*u));
		size_t n = unsub_parse(c->value, strlen(c->value), u);
		T_INT(n, c->count, "parse %s: count", c->name);
		T_OK(u->syntax_error == c->syntax && u->more == c->more && u->uri_too_long == c->toolong,
		     "parse %s: flags syntax=%d more=%d toolong=%d", c->name, u->syntax_error, u->more, u->uri_too_long);
		if (c->first)
			T_STR(n > 0 ? u->uri[0] : "", c->first, "parse %s: first URI", c->name);
		if (c->second)
			T_STR(n > 1 ? u->uri[1] : "", c->second, "parse %s: second URI", c->name);
		free(u);
	}
	/* a URI at the cap is refused whole, never cut */
	size_t big = UNSUB_URI_MAX + 10;
	char *v = malloc(big + 3);
	v[0] = '<';
	memcpy(v + 1, "https://", 8);
	memset(v + 9, 'a', big - 8);
	v[big + 1] = '>';
	v[big + 2] = '\0';
	struct unsub_uris *u = malloc(sizeof(*u));
	T_INT(unsub_parse(v, strlen(v), u), 0, "parse long URI: not kept");
	T_INT(u->uri_too_long, 1, "parse long URI: flagged");
	/* NUL bytes inside the value: not a URI character */
	static const char nul[] = "<https://example.test/\0u>";
	T_INT(unsub_parse(nul, sizeof(nul) - 1, u), 0, "parse NUL in URI: rejected");
	T_INT(u->syntax_error, 1, "parse NUL in URI: syntax error");
	free(u);
	free(v);
}

/* ---------------------------------------------------------------- verdict */

#define LU "List-Unsubscribe"
#define LUP "List-Unsubscribe-Post"
#define GOOD_LU "<mailto:u@example.test>, <https://example.test/u?x=1>"
#define ONE "List-Unsubscribe=One-Click"

struct sigspec { enum auth_result r; int cov_lu, cov_post, aligned; };

struct vcase {
	const char *name;
	const char *hdrs[8];          /* name, value pairs, NULL-terminated */
	struct sigspec sigs[3];
	size_t nsigs;
	enum unsub_verdict verdict;
	const char *findings;         /* space-separated, exact set of unsub.* */
	int gmail, yahoo, microsoft;
	int covered;
};

#define S_OK { AR_PASS, 1, 1, 1 }

static const struct vcase vcases[] = {
	{ "compliant", { LU, GOOD_LU, LUP, ONE, NULL }, { S_OK }, 1, UNSUB_COMPLIANT, "", 1, 1, 1, 0 },
	{ "compliant https only, folded", { LU, "\r\n <https://example.test/u>", LUP, " " ONE " ", NULL }, { S_OK }, 1,
	  UNSUB_COMPLIANT, "", 1, 1, 1, 0 },
	{ "compliant second signature", { LU, GOOD_LU, LUP, ONE, NULL },
	  { { AR_PASS, 1, 1, 0 }, { AR_PASS, 1, 1, 1 } }, 2, UNSUB_COMPLIANT, "", 1, 1, 1, 1 },
	{ "absent", { "Subject", "hi", NULL }, { S_OK }, 1, UNSUB_ABSENT, "", 0, 0, 1, -1 },
	{ "absent, no auth", { NULL }, { { 0 } }, 0, UNSUB_ABSENT, "", 0, 0, 0, -1 },
	{ "post without list-unsubscribe", { LUP, ONE, NULL }, { S_OK }, 1, UNSUB_ABSENT,
	  "unsub.post_without_list_unsubscribe", 0, 0, 1, -1 },
	{ "mailto only", { LU, "<mailto:u@example.test>", NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.no_https unsub.post_missing", 0, 1, 1, 0 },
	{ "http only", { LU, "<http://example.test/u>", LUP, ONE, NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.no_https unsub.http_not_https", 0, 0, 1, 0 },
	{ "http beside https", { LU, "<https://example.test/u>, <http://example.test/u>", LUP, ONE, NULL }, { S_OK }, 1,
	  UNSUB_NONCOMPLIANT, "unsub.http_not_https", 0, 0, 1, 0 },
	{ "https without post", { LU, "<https://example.test/u>", NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.post_missing", 0, 0, 1, 0 },
	{ "post value case", { LU, GOOD_LU, LUP, "list-unsubscribe=one-click", NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.post_bad_value", 0, 1, 1, 0 },
	{ "post value inner spaces", { LU, GOOD_LU, LUP, "List-Unsubscribe = One-Click", NULL }, { S_OK }, 1,
	  UNSUB_NONCOMPLIANT, "unsub.post_bad_value", 0, 1, 1, 0 },
	{ "post value extra pair", { LU, GOOD_LU, LUP, ONE "&x=1", NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.post_bad_value", 0, 1, 1, 0 },
	{ "post twice", { LU, GOOD_LU, LUP, ONE, LUP, ONE, NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.post_multiple", 0, 1, 1, 0 },
	{ "list-unsubscribe twice", { LU, GOOD_LU, "list-unsubscribe", "<https://other.test/u>", LUP, ONE, NULL }, { S_OK }, 1,
	  UNSUB_NONCOMPLIANT, "unsub.multiple_list_unsubscribe", 0, 0, 1, 0 },
	{ "syntax error", { LU, "https://example.test/u", LUP, ONE, NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.syntax unsub.no_https", 0, 0, 1, 0 },
	{ "syntax error after mailto", { LU, "<mailto:u@example.test> junk", NULL }, { S_OK }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.syntax unsub.no_https unsub.post_missing", 0, 0, 1, 0 },
	{ "too many uris", { LU, "<https://e.test/1>,<a:2>,<a:3>,<a:4>,<a:5>,<a:6>,<a:7>,<a:8>,<a:9>", LUP, ONE, NULL }, { S_OK }, 1,
	  UNSUB_NONCOMPLIANT, "unsub.too_many_uris", 0, 0, 1, 0 },
	{ "unsigned", { LU, GOOD_LU, LUP, ONE, NULL }, { { 0 } }, 0, UNSUB_NONCOMPLIANT, "unsub.not_dkim_signed", 0, 1, 0, -1 },
	{ "covered by failing signature", { LU, GOOD_LU, LUP, ONE, NULL }, { { AR_FAIL, 1, 1, 1 } }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.not_dkim_signed", 0, 1, 0, -1 },
	{ "uncovered", { LU, GOOD_LU, LUP, ONE, NULL }, { { AR_PASS, 0, 0, 1 } }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.not_dkim_covered", 0, 1, 1, -1 },
	{ "post uncovered", { LU, GOOD_LU, LUP, ONE, NULL }, { { AR_PASS, 1, 0, 1 } }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.not_dkim_covered", 0, 1, 1, -1 },
	{ "passing uncovered, failing covered", { LU, GOOD_LU, LUP, ONE, NULL },
	  { { AR_PASS, 0, 0, 1 }, { AR_FAIL, 1, 1, 1 } }, 2, UNSUB_NONCOMPLIANT, "unsub.not_dkim_covered", 0, 1, 1, -1 },
	{ "covered by unaligned signature", { LU, GOOD_LU, LUP, ONE, NULL }, { { AR_PASS, 1, 1, 0 } }, 1, UNSUB_NONCOMPLIANT,
	  "unsub.signature_not_aligned", 0, 1, 0, -1 },
	{ "aligned one uncovered, unaligned one covered", { LU, GOOD_LU, LUP, ONE, NULL },
	  { { AR_PASS, 0, 0, 1 }, { AR_PASS, 1, 1, 0 } }, 2, UNSUB_NONCOMPLIANT, "unsub.signature_not_aligned", 0, 1, 1, -1 },
};

static void test_verdict(void)
{
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		hdr_set *h = hdr_new(HDR_DEFAULT_MAX_COUNT, HDR_DEFAULT_MAX_BYTES);
		for (size_t k = 0; c->hdrs[k]; k += 2)
			hdr_add(h, c->hdrs[k], strlen(c->hdrs[k]), c->hdrs[k + 1], strlen(c->hdrs[k + 1]));
		struct dkim_sig sigs[3];
		int aligned[3] = { 0 };
		memset(sigs, 0, sizeof(sigs));
		int dkim_auth = 0;
		for (size_t k = 0; k < c->nsigs; k++) {
			sigs[k].result = c->sigs[k].r;
			snprintf(sigs[k].domain, sizeof(sigs[k].domain), "example.test");
			/* coverage through h= names (the dkim module's flags are a shortcut) */
			if (c->sigs[k].cov_lu)
				snprintf(sigs[k].signed_headers[sigs[k].nsigned++], 64, "list-unsubscribe");
			if (c->sigs[k].cov_post)
				snprintf(sigs[k].signed_headers[sigs[k].nsigned++], 64, "list-unsubscribe-post");
			aligned[k] = c->sigs[k].aligned;
			if (c->sigs[k].r == AR_PASS && c->sigs[k].aligned)
				dkim_auth = 1;
		}
		findings *f = findings_new();
		struct unsub_outcome *o = malloc(sizeof(*o));
		unsub_evaluate(h, sigs, c->nsigs, aligned, o, f);
		T_STR(unsub_verdict_name(o->verdict), unsub_verdict_name(c->verdict), "verdict %s", c->name);
		char got[512] = "";
		for (size_t k = 0; k < findings_count(f); k++) {
			const struct finding *x = findings_get(f, k);
			size_t l = strlen(got);
			snprintf(got + l, sizeof(got) - l, "%s%s", l ? " " : "", x->name);
		}
		T_STR(got, c->findings, "findings %s", c->name);
		/* the unsubscribe part of readiness (ready.c); Microsoft's asks only
		 * for authentication (c->microsoft: an aligned passing signature) */
		T_OK(ready_unsub_gmail(o) == c->gmail && ready_unsub_yahoo(o) == c->yahoo &&
		     dkim_auth == c->microsoft, "readiness %s: gmail=%d yahoo=%d microsoft=%d", c->name,
		     ready_unsub_gmail(o), ready_unsub_yahoo(o), dkim_auth);
		T_INT(o->covered_sig, c->covered, "covered_sig %s", c->name);
		free(o);
		findings_free(f);
		hdr_free(h);
	}
	/* the dkim module's covers_* flags count as coverage too */
	hdr_set *h = hdr_new(HDR_DEFAULT_MAX_COUNT, HDR_DEFAULT_MAX_BYTES);
	hdr_add(h, LU, strlen(LU), GOOD_LU, strlen(GOOD_LU));
	hdr_add(h, LUP, strlen(LUP), ONE, strlen(ONE));
	struct dkim_sig s;
	memset(&s, 0, sizeof(s));
	s.result = AR_PASS;
	s.covers_list_unsubscribe = s.covers_list_unsubscribe_post = 1;
	int al = 1;
	struct unsub_outcome *o = malloc(sizeof(*o));
	unsub_evaluate(h, &s, 1, &al, o, NULL);
	T_STR(unsub_verdict_name(o->verdict), "compliant", "covers_* flags: compliant");
	/* sig_aligned NULL: nothing is aligned */
	unsub_evaluate(h, &s, 1, NULL, o, NULL);
	T_STR(unsub_verdict_name(o->verdict), "noncompliant", "sig_aligned NULL: noncompliant");
	free(o);
	hdr_free(h);
}

int main(void)
{
	test_parse();
	test_verdict();
	return t_done();
}
