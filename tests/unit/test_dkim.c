/*
 * test_dkim - h= parsing and the verify path without DNS (every key is
 * "not found"): unsigned messages, malformed signatures, caps, API misuse.
 * Signatures that verify are covered by tests/integration/dkim-verify.py.
 */
#include <stdlib.h>
#include "t.h"
#include "dkim.h"
#include "buf.h"

struct hcase {
	const char *name;
	const char *h;
	size_t seen;
	const char *joined;   /* signed_headers joined with ':' */
	int lu, lup, capped;
};

static const struct hcase hcases[] = {
	{ "simple list", "from:to:subject", 3, "from:to:subject", 0, 0, 0 },
	{ "case folded", "From:TO:Subject", 3, "from:to:subject", 0, 0, 0 },
	{ "FWS around names", " from : to\r\n\t: subject ", 3, "from:to:subject", 0, 0, 0 },
	{ "empty names skipped", "from::to:", 2, "from:to", 0, 0, 0 },
	{ "empty value", "", 0, "", 0, 0, 0 },
	{ "list-unsubscribe only", "from:List-Unsubscribe", 2, "from:list-unsubscribe", 1, 0, 0 },
	{ "both unsubscribe fields", "from:list-unsubscribe:LIST-UNSUBSCRIBE-POST", 3,
	  "from:list-unsubscribe:list-unsubscribe-post", 1, 1, 0 },
	{ "post only", "from:list-unsubscribe-post", 2, "from:list-unsubscribe-post", 0, 1, 0 },
	{ "prefix is not the field", "from:list-unsubscribe-postx:list-unsub", 3,
	  "from:list-unsubscribe-postx:list-unsub", 0, 0, 0 },
	{ "oversigned duplicates kept", "from:from:to", 3, "from:from:to", 0, 0, 0 },
	{ "control bytes made printable", "fr\001om", 1, "fr?om", 0, 0, 0 },
};

/* join - signed_headers with ':' into out. */
static void join(const struct dkim_sig *s, char *out, size_t outsz)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->nsigned; i++) {
		int n = snprintf(out + k, outsz - k, "%s%s", i ? ":" : "", s->signed_headers[i]);
		if (n < 0 || (size_t)n >= outsz - k)
			return;
		k += (size_t)n;
	}
}

static void test_hlist(void)
{
	for (size_t i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
		const struct hcase *c = &hcases[i];
		struct dkim_sig s;
		char out[4096];
		memset(&s, 0x55, sizeof(s));
		size_t seen = dkim_hlist_parse(c->h, strlen(c->h), &s);
		join(&s, out, sizeof(out));
		T_INT(seen, c->seen, "hlist %s: count", c->name);
		T_STR(out, c->joined, "hlist %s: names", c->name);
		T_INT(s.covers_list_unsubscribe, c->lu, "hlist %s: covers list-unsubscribe", c->name);
		T_INT(s.covers_list_unsubscribe_post, c->lup, "hlist %s: covers list-unsubscribe-post", c->name);
		T_INT(s.signed_headers_capped, c->capped, "hlist %s: capped", c->name);
	}
	/* past the cap: names kept up to the cap, covers flags still see all */
	buf *b = buf_new(100000);
	for (int i = 0; i < DKIM_MAX_SIGNED_HEADERS + 5; i++)
		buf_printf(b, "x-h%d:", i);
	buf_puts(b, "List-Unsubscribe-Post");
	struct dkim_sig s;
	size_t seen = dkim_hlist_parse(buf_data(b), buf_len(b), &s);
	T_INT(seen, DKIM_MAX_SIGNED_HEADERS + 6, "hlist over cap: all seen");
	T_INT(s.nsigned, DKIM_MAX_SIGNED_HEADERS, "hlist over cap: kept at the cap");
	T_INT(s.signed_headers_capped, 1, "hlist over cap: capped flag");
	T_INT(s.covers_list_unsubscribe_post, 1, "hlist over cap: covers flag beyond the cap");
	buf_free(b);
	/* a name longer than an entry */
	char longname[200];
	memset(longname, 'a', sizeof(longname));
	seen = dkim_hlist_parse(longname, sizeof(longname), &s);
	T_INT(seen, 1, "hlist long name: seen");
	T_INT(s.signed_headers_capped, 1, "hlist long name: capped");
	T_INT(strlen(s.signed_headers[0]), sizeof(s.signed_headers[0]) - 1, "hlist long name: truncated entry");
	/* not NUL-terminated input is read by length only */
	char nonul[4] = { 'f', 'r', 'o', 'm' };
	seen = dkim_hlist_parse(nonul, sizeof(nonul), &s);
	T_STR(s.signed_headers[0], "from", "hlist unterminated input");
}

/* run - feed a message given as (name, value) pairs and a body. */
static dkim_verify *run(dkim_engine *e, const char *const *hdrs, const char *body)
{
	dkim_verify *v = dkim_verify_new(e, NULL);
	for (size_t i = 0; hdrs[i] != NULL; i += 2)
		dkim_verify_header(v, hdrs[i], strlen(hdrs[i]), hdrs[i + 1], strlen(hdrs[i + 1]));
	dkim_verify_eoh(v);
	dkim_verify_body(v, (const unsigned char *)body, strlen(body));
	dkim_verify_eom(v);
	return v;
}

#define SIG_OK " v=1; a=rsa-sha256; c=relaxed/relaxed; d=Example.TEST; s=sel;\r\n\th=from:to:list-unsubscribe; i=@example.test; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"

static void test_verify(void)
{
	char err[128];
	dkim_engine *e = dkim_engine_new(NULL, err, sizeof(err));
	T_OK(e != NULL, "engine without resolver");
	if (e == NULL)
		return;

	static const char *const unsigned_msg[] = { "From", " a@example.test", "To", " b@example.org", NULL };
	dkim_verify *v = run(e, unsigned_msg, "hi\r\n");
	T_INT(dkim_verify_count(v), 0, "unsigned: no signatures");
	T_OK(dkim_verify_sig(v, 0) == NULL, "unsigned: sig(0) is NULL");
	dkim_verify_free(v);

	static const char *const nokey[] = { "DKIM-Signature", SIG_OK, "From", " a@example.test", NULL };
	v = run(e, nokey, "\r\n");
	T_INT(dkim_verify_count(v), 1, "no key: one signature");
	const struct dkim_sig *s = dkim_verify_sig(v, 0);
	if (s != NULL) {
		T_STR(result_name(s->result), "permerror", "no key: permerror");
		T_STR(s->domain, "example.test", "no key: d= lowercased");
		T_STR(s->selector, "sel", "no key: s=");
		T_STR(s->algorithm, "rsa-sha256", "no key: a=");
		T_STR(s->identity, "@example.test", "no key: i=");
		T_STR(s->b_prefix, "AbCdEfGhIjKlMnO", "no key: b= prefix");
		T_INT(s->covers_list_unsubscribe, 1, "no key: covers list-unsubscribe");
		T_INT(s->covers_list_unsubscribe_post, 0, "no key: not list-unsubscribe-post");
		T_OK(strstr(s->reason, "no key") != NULL, "no key: reason (%s)", s->reason);
	}
	dkim_verify_free(v);

	static const char *const bad[] = {
		"DKIM-Signature", " v=1; a=rsa-sha256; d=example.test; s=x; h=from; bh=; b=; junk",
		"DKIM-Signature", " v=1; d=example.test",
		"dkim-signature", " ;;;",
		"From", " a@example.test", NULL };
	v = run(e, bad, "\r\n");
	T_INT(dkim_verify_count(v), 3, "malformed: three signatures");
	for (size_t i = 0; i < dkim_verify_count(v); i++) {
		s = dkim_verify_sig(v, i);
		T_STR(result_name(s->result), "permerror", "malformed %zu: permerror (%s)", i, s->reason);
		T_OK(s->reason[0] != '\0', "malformed %zu: has a reason", i);
	}
	dkim_verify_free(v);

	/* more than DKIM_MAX_SIGS: counted, not examined */
	v = dkim_verify_new(e, NULL);
	for (int i = 0; i < DKIM_MAX_SIGS + 3; i++)
		dkim_verify_header(v, "DKIM-Signature", 14, SIG_OK, strlen(SIG_OK));
	dkim_verify_header(v, "From", 4, " a@example.test", 15);
	dkim_verify_eoh(v);
	dkim_verify_eom(v);
	T_INT(dkim_verify_count(v), DKIM_MAX_SIGS, "too many: examined at the cap");
	T_INT(dkim_verify_ignored(v), 3, "too many: rest counted as ignored");
	dkim_verify_free(v);

	/* refused fields: bad names, NUL, too long; a refused signature is reported */
	v = dkim_verify_new(e, NULL);
	T_INT(dkim_verify_header(v, "Bad Name", 8, " x", 2), -1, "refuse: space in name");
	T_INT(dkim_verify_header(v, "", 0, " x", 2), -1, "refuse: empty name");
	T_INT(dkim_verify_header(v, "A:B", 3, " x", 2), -1, "refuse: colon in name");
	T_INT(dkim_verify_header(v, "Subject", 7, " a\0b", 4), -1, "refuse: NUL in value");
	char *huge = malloc(DKIM_MAX_FIELD_BYTES + 10);
	memset(huge, 'z', DKIM_MAX_FIELD_BYTES + 10);
	memcpy(huge, " v=1; z=", 8);
	T_INT(dkim_verify_header(v, "DKIM-Signature", 14, huge, DKIM_MAX_FIELD_BYTES + 10), -1,
	      "refuse: field over DKIM_MAX_FIELD_BYTES");
	free(huge);
	T_INT(dkim_verify_header(v, "From", 4, " a@example.test", 15), 0, "accept: From");
	T_INT(dkim_verify_body(v, (const unsigned char *)"x", 1), -1, "body before eoh refused");
	T_INT(dkim_verify_eoh(v), 0, "eoh");
	T_INT(dkim_verify_header(v, "To", 2, " x", 2), -1, "header after eoh refused");
	T_INT(dkim_verify_eom(v), 0, "eom");
	T_INT(dkim_verify_refused(v), 5, "refused counted");
	T_INT(dkim_verify_count(v), 1, "refused signature still reported");
	s = dkim_verify_sig(v, 0);
	if (s != NULL)
		T_STR(result_name(s->result), "permerror", "refused signature: permerror");
	T_INT(dkim_verify_eom(v), -1, "second eom refused");
	dkim_verify_free(v);

	/* total header bytes cap */
	v = dkim_verify_new(e, NULL);
	char *val = malloc(60000);
	memset(val, 'y', 60000);
	size_t ok = 0;
	for (int i = 0; i < 40; i++)
		ok += dkim_verify_header(v, "X-Filler", 8, val, 60000) == 0;
	free(val);
	T_INT(ok, DKIM_MAX_HEADER_BYTES / 60009, "header byte cap: fields accepted up to the cap");
	T_INT(dkim_verify_refused(v), 40 - ok, "header byte cap: rest refused");
	dkim_verify_free(v);

	/* bare LF / CR line ends in a value are accepted (normalised) */
	static const char *const lf[] = { "DKIM-Signature", " v=1; a=rsa-sha256; d=example.test;\n\ts=sel; h=from;\r\tbh=x; b=y",
	                                  "From", " a@example.test", NULL };
	v = run(e, lf, "");
	T_INT(dkim_verify_count(v), 1, "bare LF folding: parsed");
	s = dkim_verify_sig(v, 0);
	if (s != NULL)
		T_STR(s->selector, "sel", "bare LF folding: s=");
	dkim_verify_free(v);

	dkim_verify_free(NULL);
	dkim_engine_free(e);
	dkim_engine_free(NULL);
}

int main(void)
{
	test_hlist();
	test_verify();
	return t_done();
}
