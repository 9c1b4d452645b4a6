/*
 * test_dkimcanon - tag-lists, header canonicalization (RFC 6376 3.4 and its
 * examples), b= stripping, header selection from the bottom, base64.
 */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "dkimcanon.h"

#define S(lit) lit, sizeof(lit) - 1

static char *canon(enum dkim_hcanon c, const char *name, const char *value)
{
	static char out[512];
	buf *b = buf_new(sizeof(out) - 1);
	int rc = dkimcanon_header(b, c, name, strlen(name), value, strlen(value));
	snprintf(out, sizeof(out), "%s", rc < 0 ? "(error)" : buf_data(b));
	buf_free(b);
	return out;
}

static void test_tags(void)
{
	struct dkim_tag t[8];
	int n = dkimtag_parse(S(" v=1; a=rsa-sha256;\r\n\tb=abc\r\n def ; h = from : to ;"), t, 8);
	T_INT(n, 4, "tag-list with FWS and a trailing ';'");
	const struct dkim_tag *b = dkimtag_get(t, n, "b");
	T_OK(b && b->vlen == 9 && memcmp(b->val, "abc\r\n def", 9) == 0, "value keeps inner FWS, loses outer");
	const struct dkim_tag *h = dkimtag_get(t, n, "h");
	T_OK(h && h->vlen == 9 && memcmp(h->val, "from : to", 9) == 0, "FWS around '=' removed");
	T_OK(dkimtag_get(t, n, "B") == NULL, "tag names are case-sensitive");
	T_INT(dkimtag_parse(S("a=1; a=2"), t, 8), -1, "duplicate tag refused");
	T_INT(dkimtag_parse(S("a=1;; b=2"), t, 8), -1, "empty tag-spec in the middle refused");
	T_INT(dkimtag_parse(S("1a=1"), t, 8), -1, "name must start with a letter");
	T_INT(dkimtag_parse(S("a"), t, 8), -1, "missing '='");
	T_INT(dkimtag_parse(S("a=x\0y"), t, 8), -1, "NUL in a value");
	T_INT(dkimtag_parse(S("a=x\x01y"), t, 8), -1, "control byte in a value");
	T_INT(dkimtag_parse(S("i=\xc3\xa9@example.com"), t, 8), 1, "8-bit value (RFC 8616)");
	T_INT(dkimtag_parse(S("a=;b="), t, 8), 2, "empty values");
	T_INT(dkimtag_parse(S("a=1;b=2;c=3"), t, 2), -1, "more tags than room");
	T_INT(dkimtag_parse(S(""), t, 8), 0, "empty list");
}

static void test_canon(void)
{
	/* RFC 6376 3.4.5's example header fields */
	T_STR(canon(DKIM_HC_RELAXED, "A", " X"), "a:X", "relaxed: name lower-cased, space dropped");
	T_STR(canon(DKIM_HC_RELAXED, "B ", " Y\t\r\n\tZ  "), "b:Y Z", "relaxed: folding and WSP runs");
	T_STR(canon(DKIM_HC_SIMPLE, "B ", " Y\t\r\n\tZ  "), "B : Y\t\r\n\tZ  ", "simple: unchanged");
	T_STR(canon(DKIM_HC_SIMPLE, "Subject", " a\n b"), "Subject: a\r\n b", "simple: LF made CRLF");
	T_STR(canon(DKIM_HC_RELAXED, "Subject", " a\r\nb"), "subject:ab", "relaxed: CRLF deleted, not a space");
	T_STR(canon(DKIM_HC_RELAXED, "X", "   "), "x:", "relaxed: all-space value");
	buf *small = buf_new(4);
	T_INT(dkimcanon_header(small, DKIM_HC_RELAXED, S("Subject"), S(" hello")), -1, "over the cap");
	buf_free(small);
}

static void test_strip(void)
{
	buf *b = buf_new(256);
	T_INT(dkimcanon_strip_b(b, S(" v=1; bh=xyz; b=ab\r\n cd ;d=x")), 0, "strip b=");
	T_STR(buf_data(b), " v=1; bh=xyz; b=;d=x", "b= value and its FWS removed, bh= kept");
	buf_reset(b);
	T_INT(dkimcanon_strip_b(b, S("v=1; b=abc")), 0, "b= last");
	T_STR(buf_data(b), "v=1; b=", "b= last stripped");
	buf_reset(b);
	T_INT(dkimcanon_strip_b(b, S("v=1; bh=abc")), -1, "no b= tag");
	T_INT(dkimcanon_strip_b(b, S("v=1; b=a; b=c")), -1, "two b= tags");
	buf_free(b);
}

static void test_select(void)
{
	hdr_set *h = hdr_new(64, 65536);
	hdr_add(h, S("From"), S(" a@example.com"));
	hdr_add(h, S("To"), S(" one"));
	hdr_add(h, S("To"), S(" two"));
	hdr_add(h, S("DKIM-Signature"), S(" v=1; d=x; b=zzz"));
	buf *b = buf_new(4096);
	const struct hdr_field *sig = hdr_find(h, "DKIM-Signature", 0);
	int rc = dkimcanon_headers(b, DKIM_HC_RELAXED, h, S("to : From: TO:to:subject"), sig,
	                           sig->name, sig->nlen, sig->value, sig->vlen);
	T_INT(rc, 0, "select headers");
	T_STR(buf_data(b), "to:two\r\nfrom:a@example.com\r\nto:one\r\ndkim-signature:v=1; d=x; b=",
	      "bottom-up per name, missing instances add nothing, signature last without CRLF");
	buf_reset(b);
	T_INT(dkimcanon_headers(b, DKIM_HC_RELAXED, h, S("from::to"), sig, sig->name, sig->nlen,
	                        sig->value, sig->vlen), -1, "empty name in h=");
	buf_reset(b);
	T_INT(dkimcanon_headers(b, DKIM_HC_RELAXED, h, S("dkim-signature"), sig, sig->name, sig->nlen,
	                        sig->value, sig->vlen), 0, "own field skipped");
	T_STR(buf_data(b), "dkim-signature:v=1; d=x; b=", "the skipped field is not selected");
	char many[DKIMCANON_MAX_HLIST * 2 + 8];
	size_t k = 0;
	for (int i = 0; i <= DKIMCANON_MAX_HLIST; i++) {
		many[k++] = 'a';
		many[k++] = ':';
	}
	buf_reset(b);
	T_INT(dkimcanon_headers(b, DKIM_HC_RELAXED, h, many, k - 1, sig, sig->name, sig->nlen,
	                        sig->value, sig->vlen), -1, "too many names");
	buf_free(b);
	hdr_free(h);
}

static void test_b64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		buf *b = buf_new(64);
		dkimcanon_b64(b, (const unsigned char *)plain[i], strlen(plain[i]));
		T_STR(buf_data(b), enc[i], "base64 of \"%s\" (RFC 4648 10)", plain[i]);
		unsigned char out[16];
		long n = dkimcanon_unb64(enc[i], strlen(enc[i]), out, sizeof(out));
		T_OK(n == (long)strlen(plain[i]) && memcmp(out, plain[i], (size_t)n) == 0, "decode \"%s\"", enc[i]);
		buf_free(b);
	}
	unsigned char out[16];
	T_INT(dkimcanon_unb64(S("Zm9v\r\n YmFy"), out, sizeof(out)), 6, "FWS ignored");
	T_INT(dkimcanon_unb64(S("Zm9vY"), out, sizeof(out)), -1, "partial quantum");
	T_INT(dkimcanon_unb64(S("Zg=a"), out, sizeof(out)), -1, "data after padding");
	T_INT(dkimcanon_unb64(S("Z==="), out, sizeof(out)), -1, "three '='");
	T_INT(dkimcanon_unb64(S("Zm9v!"), out, sizeof(out)), -1, "bad character");
	T_INT(dkimcanon_unb64(S("Zm9vYmFy"), out, 5), -1, "output too small");
}

int main(void)
{
	test_tags();
	test_canon();
	test_strip();
	test_select();
	test_b64();
	return t_done();
}
