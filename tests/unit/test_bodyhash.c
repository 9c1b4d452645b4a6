/*
 * test_bodyhash - the DKIM body hash against digests computed independently:
 * python3-dkim's canonicalize_body (dkim.canonicalization Simple/Relaxed)
 * and hashlib, base64. Every case is run whole and in chunks of 1 and 3
 * bytes (line ends and CRs split across chunks).
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include "t.h"
#include "bodyhash.h"

struct vec {
	const char *body;
	size_t len;
	enum bodyhash_canon canon;
	enum bodyhash_alg alg;
	long long limit;
	const char *want;        /* base64 digest */
	const char *what;
};

#define B(s) s, sizeof(s) - 1
static const struct vec vecs[] = {
	{ B(""), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", "simple: empty body is CRLF" },
	{ B(""), BODYHASH_RELAXED, BODYHASH_SHA256, -1,
	  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "relaxed: empty body is nothing" },
	{ B("\r\n\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", "simple: only empty lines" },
	{ B("\r\n\r\n"), BODYHASH_RELAXED, BODYHASH_SHA1, -1,
	  "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "relaxed sha1: only empty lines" },
	{ B("Hello  world \t\r\n\r\n\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "4Xttj1pMdlGUQpqHCwQRR8n0ApVZCV6N9D3Qn9JsRck=", "simple: trailing empty lines go, WSP stays" },
	{ B("Hello  world \t\r\n\r\n\r\n"), BODYHASH_RELAXED, BODYHASH_SHA256, -1,
	  "yGIXoM91E1DiKjvCBcC8NlWyw54TdfMQ08sdtwtOO4I=", "relaxed: WSP runs and line-end WSP" },
	{ B("Hello  world \t\r\n\r\n\r\n"), BODYHASH_RELAXED, BODYHASH_SHA1, -1,
	  "8OGcy6jNUKQojDaO62VcUk/tz18=", "relaxed sha1" },
	{ B(" \t leading\r\n  \r\nx\r\n\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "VymSvciWqLTKOQCoSIfWCk76Z+hIlGuP+j2FQTyJQUU=", "simple: inner blank lines stay" },
	{ B(" \t leading\r\n  \r\nx\r\n\r\n"), BODYHASH_RELAXED, BODYHASH_SHA256, -1,
	  "kc77XtcJZWBbouXwlygD5FJeRpBHBUJzgI834CBIgDQ=", "relaxed: leading WSP is one SP, WSP-only line empty" },
	{ B(" \t leading\r\n  \r\nx\r\n\r\n"), BODYHASH_RELAXED, BODYHASH_SHA256, 5,
	  "4+PEDNooJHDW66zsgZfgwGxDNHWeuNX4YWvjcfwXcr0=", "relaxed: l=5" },
	{ B("a\rb\nc \r\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "HoNAsOAQY9zGHj9XkDdwFXxghqkMlBwpBP6UVIXyDPU=", "simple: bare CR and LF are content" },
	{ B("a\rb\nc \r\r\n"), BODYHASH_RELAXED, BODYHASH_SHA256, -1,
	  "HoNAsOAQY9zGHj9XkDdwFXxghqkMlBwpBP6UVIXyDPU=", "relaxed: bare CR and LF are content" },
	{ B("a\rb\nc \r\r\n"), BODYHASH_RELAXED, BODYHASH_SHA256, 5,
	  "glJeVT4VY1Q7hPTyK4iFtR9VkIrxtgNk4vzZFHsh6tE=", "relaxed: l=5 inside" },
	{ B("line\r\nlast\r"), BODYHASH_SIMPLE, BODYHASH_SHA256, -1,
	  "KKTVK5/Z7m9EtN6V+mDPZpe55ht77JejflcFH6nCpcQ=", "simple: CR at the very end, CRLF added" },
	{ B("Hello  world \t\r\n\r\n\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, 5,
	  "GF+NsyJx/iX1Yab8k4suJkMG7DBO2lGAB9F2SCY4GWk=", "simple: l=5" },
	{ B("Hello  world \t\r\n\r\n\r\n"), BODYHASH_SIMPLE, BODYHASH_SHA256, 1000,
	  "4Xttj1pMdlGUQpqHCwQRR8n0ApVZCV6N9D3Qn9JsRck=", "simple: l= past the end hashes the whole" },
	/* RFC 6376 3.4.4 (a): WSP at the end of a line goes, also on a last
	 * line without CRLF (python3-dkim keeps it there: "abc \r\n") */
	{ B("abc \t"), BODYHASH_RELAXED, BODYHASH_SHA256, -1,
	  "VSuraGTHp7aaUC7RhUuSRcDhow8AiqoLKB2mJYX9sCU=", "relaxed: WSP on an unterminated last line" },
};

/* run - one vector in chunks of chunk bytes (0: whole); base64 into out. */
static void run(const struct vec *v, size_t chunk, char *out, size_t outsz)
{
	out[0] = '\0';
	bodyhash *h = bodyhash_new(v->canon, v->alg, v->limit);
	if (h == NULL)
		return;
	size_t step = chunk ? chunk : (v->len ? v->len : 1);
	for (size_t i = 0; i < v->len; i += step)
		bodyhash_update(h, (const unsigned char *)v->body + i, v->len - i < step ? v->len - i : step);
	unsigned char d[BODYHASH_MAX];
	int n = bodyhash_final(h, d);
	bodyhash_free(h);
	unsigned char enc[BODYHASH_MAX * 2];
	if (n > 0 && outsz > (size_t)4 * ((size_t)n + 2) / 3 + 1) {
		EVP_EncodeBlock(enc, d, n);
		snprintf(out, outsz, "%s", (const char *)enc);
	}
}

int main(void)
{
	static const size_t chunks[] = { 0, 1, 3 };
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			char got[128];
			run(&vecs[i], chunks[c], got, sizeof(got));
			T_STR(got, vecs[i].want, "%s (chunks of %zu)", vecs[i].what, chunks[c]);
		}
	/* l= past the end of the body: the signature is not valid (RFC 6376 3.5) */
	static const struct { long long limit; int want; } cut[] = { { -1, 0 }, { 5, 0 }, { 16, 0 }, { 17, 1 } };
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		bodyhash *s = bodyhash_new(BODYHASH_SIMPLE, BODYHASH_SHA256, cut[i].limit);
		bodyhash_update(s, (const unsigned char *)"Hello  world \t\r\n\r\n", 18);
		unsigned char dd[BODYHASH_MAX];
		bodyhash_final(s, dd);
		T_INT(bodyhash_short(s), cut[i].want, "l=%lld against a 16-byte canonical body", cut[i].limit);
		bodyhash_free(s);
	}
	/* a large body: many output blocks */
	bodyhash *h = bodyhash_new(BODYHASH_RELAXED, BODYHASH_SHA256, -1);
	for (int i = 0; i < 10000; i++)
		bodyhash_update(h, (const unsigned char *)"word  word\r\n", 12);
	unsigned char d[BODYHASH_MAX];
	T_INT(bodyhash_final(h, d), 32, "sha256 digest length over 120 KB");
	bodyhash_free(h);
	return t_done();
}
