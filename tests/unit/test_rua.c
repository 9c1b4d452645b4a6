/*
 * test_rua - DMARC rua= destinations: the URI list parser with hostile
 * values. Each case gives the rua value and, per URI, the address that may be
 * used ("" when skipped) and the status.
 */
#include <string.h>
#include "t.h"
#include "rua.h"

struct rcase {
	const char *name, *value;
	size_t n;                    /* URIs reported */
	const char *addr[4];         /* "" = skipped */
	enum rua_status st[4];
};

static const struct rcase cases[] = {
	{ "plain", "mailto:dmarc@example.test", 1, { "dmarc@example.test" }, { RUA_OK } },
	{ "upper-case scheme and domain", "MAILTO:Dmarc@Example.TEST", 1, { "Dmarc@example.test" }, { RUA_OK } },
	{ "two with white space", "mailto:a@x.test , \tmailto:b@y.test", 2,
	  { "a@x.test", "b@y.test" }, { RUA_OK, RUA_OK } },
	{ "size suffix", "mailto:a@x.test!10m,mailto:b@y.test!5", 2, { "a@x.test", "b@y.test" }, { RUA_OK, RUA_OK } },
	{ "percent-encoded local part", "mailto:d%2Bmarc@x.test", 1, { "d+marc@x.test" }, { RUA_OK } },
	{ "comment trick with second @", "mailto:victim@third.party(@evil.example", 1, { "" }, { RUA_INVALID } },
	{ "encoded second @", "mailto:victim%40third.party@evil.example", 1, { "" }, { RUA_INVALID } },
	{ "display name", "mailto:Victim <victim@third.party>", 1, { "" }, { RUA_INVALID } },
	{ "encoded display name", "mailto:Victim%20%3Cvictim@third.party%3E", 1, { "" }, { RUA_INVALID } },
	{ "comment in local part", "mailto:(x)victim@third.party", 1, { "" }, { RUA_INVALID } },
	{ "quoted local part", "mailto:%22a%20b%22@x.test", 1, { "" }, { RUA_INVALID } },
	{ "encoded comma: two addresses", "mailto:a@x.test%2Cvictim@third.party", 1, { "" }, { RUA_INVALID } },
	{ "hfields", "mailto:a@x.test?cc=victim@third.party", 1, { "" }, { RUA_INVALID } },
	{ "encoded CRLF header injection", "mailto:a@x.test%0D%0ABcc:victim@third.party", 1, { "" }, { RUA_INVALID } },
	{ "NUL", "mailto:a%00@x.test", 1, { "" }, { RUA_INVALID } },
	{ "non-ASCII", "mailto:\xc3\xa9@x.test", 1, { "" }, { RUA_INVALID } },
	{ "encoded non-ASCII", "mailto:%C3%A9@x.test", 1, { "" }, { RUA_INVALID } },
	{ "bad escape", "mailto:a%4@x.test", 1, { "" }, { RUA_INVALID } },
	{ "escape at the end", "mailto:a@x.test%", 1, { "" }, { RUA_INVALID } },
	{ "domain literal", "mailto:a@[192.0.2.1]", 1, { "" }, { RUA_INVALID } },
	{ "single-label domain", "mailto:a@localhost", 1, { "" }, { RUA_INVALID } },
	{ "trailing dot", "mailto:a@x.test.", 1, { "" }, { RUA_INVALID } },
	{ "empty label", "mailto:a@x..test", 1, { "" }, { RUA_INVALID } },
	{ "hyphen at label end", "mailto:a@x-.test", 1, { "" }, { RUA_INVALID } },
	{ "no @", "mailto:example.test", 1, { "" }, { RUA_INVALID } },
	{ "empty local part", "mailto:@x.test", 1, { "" }, { RUA_INVALID } },
	{ "dot at local start", "mailto:.a@x.test", 1, { "" }, { RUA_INVALID } },
	{ "double dot in local part", "mailto:a..b@x.test", 1, { "" }, { RUA_INVALID } },
	{ "bare bang", "mailto:a!b@x.test", 1, { "" }, { RUA_INVALID } },
	{ "bad size suffix", "mailto:a@x.test!m", 1, { "" }, { RUA_INVALID } },
	{ "space inside", "mailto:a b@x.test", 1, { "" }, { RUA_INVALID } },
	{ "https scheme", "https://reports.example.test/dmarc", 1, { "" }, { RUA_SCHEME } },
	{ "no scheme", "dmarc@example.test", 1, { "" }, { RUA_INVALID } },
	{ "empty between commas", "mailto:a@x.test,,mailto:b@y.test", 3,
	  { "a@x.test", "", "b@y.test" }, { RUA_OK, RUA_INVALID, RUA_OK } },
	{ "good after bad", "mailto:v@third.party(@e.example, mailto:ok@e.example", 2,
	  { "", "ok@e.example" }, { RUA_INVALID, RUA_OK } },
	{ "long local part", "mailto:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.test", 1,
	  { "" }, { RUA_INVALID } },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		struct rua_uri u[RUA_MAX_URIS + 1];
		size_t k = rua_parse(c->value, strlen(c->value), u, RUA_MAX_URIS + 1);
		T_INT(k, c->n, "%s: URI count", c->name);
		for (size_t j = 0; j < k && j < c->n; j++) {
			T_INT(u[j].status, c->st[j], "%s: URI %zu status (%s)", c->name, j, u[j].reason);
			T_STR(u[j].status == RUA_OK ? u[j].addr : "", c->addr[j], "%s: URI %zu address", c->name, j);
			if (u[j].status == RUA_OK)
				T_OK(u[j].domain && u[j].domain[-1] == '@', "%s: URI %zu domain after the @", c->name, j);
			else
				T_OK(u[j].reason[0] != '\0', "%s: URI %zu has a reason", c->name, j);
		}
	}
}

/* test_caps - more than RUA_MAX_URIS, a long value, and the array bound. */
static void test_caps(void)
{
	char v[4096] = "";
	size_t vl = 0;
	for (int i = 0; i < 12; i++)
		vl += (size_t)snprintf(v + vl, sizeof(v) - vl, "%smailto:r%d@x.test", i ? "," : "", i);
	struct rua_uri u[RUA_MAX_URIS + 1];
	size_t k = rua_parse(v, strlen(v), u, RUA_MAX_URIS + 1);
	T_INT(k, RUA_MAX_URIS + 1, "12 URIs: the array bound holds");
	T_INT(u[RUA_MAX_URIS - 1].status, RUA_OK, "12 URIs: the 8th is used");
	T_INT(u[RUA_MAX_URIS].status, RUA_TOO_MANY, "12 URIs: the 9th is skipped as too many");
	memset(v, 'a', 3000);
	memcpy(v, "mailto:", 7);
	memcpy(v + 2990, "@x.test", 8);
	k = rua_parse(v, strlen(v), u, 2);
	T_INT(k == 1 && u[0].status == RUA_INVALID, 1, "a 3000-byte URI is skipped");
	k = rua_parse("", 0, u, 2);
	T_INT(k, 0, "empty value: nothing");
	k = rua_parse("mailto:a@x.test", 15, u, 0);
	T_INT(k, 0, "no room: nothing written");
	k = rua_parse("mailto:a\0b@x.test", 17, u, 2);
	T_INT(k == 1 && u[0].status == RUA_INVALID, 1, "a raw NUL inside is not a URI character");
	/* not NUL-terminated: the length is the end */
	k = rua_parse("mailto:a@x.testXYZ", 15, u, 2);
	T_STR(k == 1 ? u[0].addr : "", "a@x.test", "the value is (pointer, length)");
}

int main(void)
{
	test_cases();
	test_caps();
	return t_done();
}
