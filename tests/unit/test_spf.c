/* test_spf - policy/spf.c without DNS: record syntax (RFC 7208 section 12 ABNF,
 * 4.6), macro expansion (the RFC 7208 7.4 examples and more) and CIDR matching. */
#include <stdlib.h>
#include "t.h"
#include "spf.h"

static const struct { const char *name; const char *rec; int ok; } rec_cases[] = {
	{ "minimal", "v=spf1", 1 },
	{ "all", "v=spf1 -all", 1 },
	{ "case-insensitive version and mechanism", "V=SpF1 ~ALL", 1 },
	{ "trailing and double spaces", "v=spf1  a  -all ", 1 },
	{ "version needs a space", "v=spf1-all", 0 },
	{ "every mechanism", "v=spf1 a mx ptr include:_spf.example.com exists:%{i}.x.example.com ip4:192.0.2.0/24 ip6:2001:db8::/32 ?all", 1 },
	{ "a with domain and dual cidr", "v=spf1 a:example.com/24//64", 1 },
	{ "a with only ip6 cidr", "v=spf1 a//0", 1 },
	{ "mx cidr /0", "v=spf1 mx/0", 1 },
	{ "cidr4 33", "v=spf1 a/33", 0 },
	{ "cidr4 leading zero", "v=spf1 ip4:192.0.2.0/024", 0 },
	{ "cidr6 129", "v=spf1 ip6:2001:db8::/129", 0 },
	{ "ip4 dual cidr", "v=spf1 ip4:192.0.2.1//32", 0 },
	{ "ip4 short", "v=spf1 ip4:192.0.2", 0 },
	{ "ip4 port", "v=spf1 ip4:192.0.2.1:25", 0 },
	{ "ip4 without address", "v=spf1 ip4", 0 },
	{ "ip6 bad", "v=spf1 ip6:2001:db8::g", 0 },
	{ "ptr cidr", "v=spf1 ptr/24", 0 },
	{ "include without domain", "v=spf1 include", 0 },
	{ "include empty domain", "v=spf1 include:", 0 },
	{ "include cidr", "v=spf1 include:example.com/24", 0 },
	{ "exists cidr", "v=spf1 exists:example.com/24", 0 },
	{ "all with argument", "v=spf1 -all:x", 0 },
	{ "all dot", "v=spf1 -all.", 0 },
	{ "unknown mechanism", "v=spf1 foo", 0 },
	{ "redirect as mechanism", "v=spf1 redirect:example.com", 0 },
	{ "unknown modifier ignored", "v=spf1 moo.cow-far_out=man:dog/cat -all", 1 },
	{ "modifier name bad", "v=spf1 moo.cow/far_out=man -all", 0 },
	{ "empty modifier name", "v=spf1 =all", 0 },
	{ "unknown modifier bad macro", "v=spf1 foo=%abc", 0 },
	{ "redirect twice", "v=spf1 redirect=a.example.com redirect=b.example.com", 0 },
	{ "exp twice", "v=spf1 exp=a.example.com exp=b.example.com", 0 },
	{ "exp empty", "v=spf1 exp=", 0 },
	{ "numeric toplabel", "v=spf1 a:example.123", 0 },
	{ "only toplabel", "v=spf1 a:museum", 0 },
	{ "dash toplabel", "v=spf1 a:example.x-y", 1 },
	{ "toplabel trailing dot", "v=spf1 a:example.com.", 1 },
	{ "domain-end macro", "v=spf1 exists:%{l}.%{d}", 1 },
	{ "colon in domain", "v=spf1 a:foo:bar/baz.example.com", 1 },
	{ "control char", "v=spf1 a:ctrl.example.com\rptr -all", 0 },
	{ "non-ascii", "v=spf1 \x80" "a -all", 0 },
	{ "macro c outside exp", "v=spf1 exists:%{c}.example.com", 0 },
	{ "macro digit 0", "v=spf1 exists:%{d0}.example.com", 0 },
	{ "lone percent", "v=spf1 exists:%.example.com", 0 },
	{ "unterminated macro", "v=spf1 exists:%{d.example.com", 0 },
	{ "dorky sentinel-like literal", "v=spf1 exists:%%.example.com", 1 },
};

struct mcase { const char *name; const char *in; int explain; const char *want; };
static const struct mcase m4[] = {   /* RFC 7208 7.4, IPv4 client 192.0.2.3 */
	{ "7.4 s", "%{s}", 0, "strong-bad@email.example.com" },
	{ "7.4 o", "%{o}", 0, "email.example.com" },
	{ "7.4 d", "%{d}", 0, "email.example.com" },
	{ "7.4 d4", "%{d4}", 0, "email.example.com" },
	{ "7.4 d3", "%{d3}", 0, "email.example.com" },
	{ "7.4 d2", "%{d2}", 0, "example.com" },
	{ "7.4 d1", "%{d1}", 0, "com" },
	{ "7.4 dr", "%{dr}", 0, "com.example.email" },
	{ "7.4 d2r", "%{d2r}", 0, "example.email" },
	{ "7.4 l", "%{l}", 0, "strong-bad" },
	{ "7.4 l-", "%{l-}", 0, "strong.bad" },
	{ "7.4 lr", "%{lr}", 0, "strong-bad" },
	{ "7.4 lr-", "%{lr-}", 0, "bad.strong" },
	{ "7.4 l1r-", "%{l1r-}", 0, "strong" },
	{ "7.4 ir v", "%{ir}.%{v}._spf.%{d2}", 0, "3.2.0.192.in-addr._spf.example.com" },
	{ "7.4 lr- lp", "%{lr-}.lp._spf.%{d2}", 0, "bad.strong.lp._spf.example.com" },
	{ "7.4 lr- ir", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0, "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "7.4 ir l1r-", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0, "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "7.4 trusted", "%{d2}.trusted-domains.example.net", 0, "example.com.trusted-domains.example.net" },
	{ "escapes %% %_ %-", "a%%b%_c%-d", 0, "a%b c%20d" },
	{ "uppercase URL-escapes", "%{S}", 0, "strong-bad%40email.example.com" },
	{ "h", "%{h}", 0, "mx.example.org" },
	{ "p without DNS is unknown", "%{p}", 0, "unknown" },
	{ "c in exp", "from %{c} at %{r}", 1, "from 192.0.2.3 at mx.example.net" },
	{ "t in exp", "%{t}", 1, "1700000000" },
	{ "many delimiters", "%{l+-}", 0, "strong.bad" },
	{ "digits above parts keep all", "%{d200}", 0, "email.example.com" },
	{ "huge digit value is bounded", "%{d99999999999999999999}", 0, "email.example.com" },
};
static const struct mcase m6[] = {   /* RFC 7208 7.4, IPv6 client 2001:db8::cb01 */
	{ "7.4 ipv6 ir v", "%{ir}.%{v}._spf.%{d2}", 0,
	  "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com" },
	{ "ipv6 c", "%{c}", 1, "2001:db8::cb01" },
};
static const struct { const char *name; const char *in; int explain; } merr[] = {
	{ "c outside exp", "%{c}", 0 },
	{ "r outside exp", "%{r}", 0 },
	{ "t outside exp", "%{t}", 0 },
	{ "unknown letter", "%{x}", 0 },
	{ "digit zero", "%{d0}", 0 },
	{ "lone percent", "abc%", 0 },
	{ "percent letter", "%a", 0 },
	{ "unterminated", "%{d", 0 },
	{ "space outside exp", "a b", 0 },
	{ "bad delimiter", "%{d:}", 0 },
};

int main(void)
{
	char err[256], out[SPF_MACRO_MAX + 1];
	size_t i;
	struct spf_macro_env e;

	for (i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
		int rc = spf_record_check(rec_cases[i].rec, strlen(rec_cases[i].rec), err, sizeof(err));
		T_INT(rc == 0, rec_cases[i].ok, "record: %s", rec_cases[i].name);
	}
	{
		static const char nul[] = "v=spf1 a\0 -all";
		T_INT(spf_record_check(nul, sizeof(nul) - 1, err, sizeof(err)), -1, "record: NUL byte is a syntax error, not the end");
	}

	memset(&e, 0, sizeof(e));
	e.sender = "strong-bad@email.example.com";
	e.local = "strong-bad";
	e.sender_domain = "email.example.com";
	e.domain = "email.example.com";
	e.helo = "mx.example.org";
	e.receiver = "mx.example.net";
	e.now = 1700000000;
	e.fam = dns_ip_parse("192.0.2.3", e.ip);
	for (i = 0; i < sizeof(m4) / sizeof(m4[0]); i++) {
		long n = spf_macro_expand(&e, m4[i].in, strlen(m4[i].in), m4[i].explain, out, sizeof(out), err, sizeof(err));
		T_STR(n >= 0 ? out : err, m4[i].want, "macro: %s", m4[i].name);
	}
	e.fam = dns_ip_parse("2001:db8::cb01", e.ip);
	for (i = 0; i < sizeof(m6) / sizeof(m6[0]); i++) {
		long n = spf_macro_expand(&e, m6[i].in, strlen(m6[i].in), m6[i].explain, out, sizeof(out), err, sizeof(err));
		T_STR(n >= 0 ? out : err, m6[i].want, "macro: %s", m6[i].name);
	}
	for (i = 0; i < sizeof(merr) / sizeof(merr[0]); i++)
		T_INT(spf_macro_expand(&e, merr[i].in, strlen(merr[i].in), merr[i].explain, out, sizeof(out), err, sizeof(err)),
		      -1, "macro error: %s", merr[i].name);
	{
		/* 300 x %{s} would be ~8 KB: refused, not truncated */
		char big[1000] = "";
		for (i = 0; i < 200; i++)
			memcpy(big + 4 * i, "%{s}", 4);
		T_INT(spf_macro_expand(&e, big, 800, 0, out, sizeof(out), err, sizeof(err)), -1, "macro: expansion over SPF_MACRO_MAX is an error");
		T_INT(spf_macro_expand(&e, "%{s}", 4, 0, out, 10, err, sizeof(err)), -1, "macro: small output buffer is an error");
	}
	{
		/* a value made of delimiters: 1,025 is the old parts-array boundary,
		 * SPF_MACRO_MAX the most a value may hold */
		static const size_t ndots[] = { 1024, 1025, 1026, 1500, SPF_MACRO_MAX - 2 };
		static char local[SPF_MACRO_MAX + 1], want[SPF_MACRO_MAX + 1];
		struct spf_macro_env d = e;
		for (i = 0; i < sizeof(ndots) / sizeof(ndots[0]); i++) {
			size_t nd = ndots[i];
			local[0] = 'x';
			memset(local + 1, '.', nd);
			local[nd + 1] = 'y';
			local[nd + 2] = '\0';
			d.local = local;
			long n = spf_macro_expand(&d, "%{l}", 4, 0, out, sizeof(out), err, sizeof(err));
			T_INT(n == (long)nd + 2 && strcmp(out, local) == 0, 1, "macro: %zu delimiters kept", nd);
			n = spf_macro_expand(&d, "%{l1}", 5, 0, out, sizeof(out), err, sizeof(err));
			T_STR(n >= 0 ? out : err, "y", "macro: %zu delimiters, rightmost part", nd);
			n = spf_macro_expand(&d, "%{l1r}", 6, 0, out, sizeof(out), err, sizeof(err));
			T_STR(n >= 0 ? out : err, "x", "macro: %zu delimiters, reversed rightmost part", nd);
			n = spf_macro_expand(&d, "%{l2r}", 6, 0, out, sizeof(out), err, sizeof(err));
			T_STR(n >= 0 ? out : err, ".x", "macro: %zu delimiters, two reversed parts", nd);
			n = spf_macro_expand(&d, "%{lr}", 5, 0, out, sizeof(out), err, sizeof(err));
			want[0] = 'y';
			memset(want + 1, '.', nd);
			want[nd + 1] = 'x';
			want[nd + 2] = '\0';
			T_INT(n == (long)nd + 2 && strcmp(out, want) == 0, 1, "macro: %zu delimiters reversed", nd);
			n = spf_macro_expand(&d, "%{l-}", 5, 0, out, sizeof(out), err, sizeof(err));
			T_INT(n == (long)nd + 2 && strcmp(out, local) == 0, 1, "macro: %zu delimiters, other delimiter", nd);
		}
		memset(local, '.', SPF_MACRO_MAX);
		local[SPF_MACRO_MAX] = '\0';
		d.local = local;
		T_INT(spf_macro_expand(&d, "%{lr}", 5, 0, out, sizeof(out), err, sizeof(err)), SPF_MACRO_MAX,
		      "macro: SPF_MACRO_MAX delimiters, reversed");
		T_INT(spf_macro_expand(&d, "%{l3}", 5, 0, out, sizeof(out), err, sizeof(err)), 2,
		      "macro: SPF_MACRO_MAX delimiters, three empty parts");
		T_INT(spf_macro_expand(&d, "%{l}x", 5, 0, out, sizeof(out), err, sizeof(err)), -1,
		      "macro: SPF_MACRO_MAX delimiters plus one byte is too long");
	}

	{
		static const struct { const char *name, *ip, *net; int bits, v4, want; } cidr[] = {
			{ "v4 /32 equal", "192.0.2.1", "192.0.2.1", 32, 1, 1 },
			{ "v4 /32 differ", "192.0.2.1", "192.0.2.2", 32, 1, 0 },
			{ "v4 /24", "192.0.2.200", "192.0.2.0", 24, 1, 1 },
			{ "v4 /25 outside", "192.0.2.200", "192.0.2.0", 25, 1, 0 },
			{ "v4 /0 matches anything", "198.51.100.7", "192.0.2.0", 0, 1, 1 },
			{ "v4 /1", "10.0.0.1", "127.0.0.0", 1, 1, 1 },
			{ "v4-mapped client as v4", "::ffff:192.0.2.5", "192.0.2.0", 24, 1, 1 },
			{ "v6 /128", "2001:db8::1", "2001:db8::1", 128, 0, 1 },
			{ "v6 /33", "2001:db8:8000::", "2001:db8::", 33, 0, 0 },
			{ "v6 /32", "2001:db8:ffff::1", "2001:db8::", 32, 0, 1 },
			{ "v6 /0", "2001:db8::1", "::", 0, 0, 1 },
			{ "v6 /127 odd bits", "2001:db8::3", "2001:db8::2", 127, 0, 1 },
			{ "bits out of range", "192.0.2.1", "192.0.2.1", 33, 1, 0 },
		};
		for (i = 0; i < sizeof(cidr) / sizeof(cidr[0]); i++) {
			unsigned char a[16], b[16];
			dns_ip_parse(cidr[i].ip, a);
			dns_ip_parse(cidr[i].net, b);
			T_INT(spf_cidr_match(a, b, cidr[i].bits, cidr[i].v4), cidr[i].want, "cidr: %s", cidr[i].name);
		}
	}

	{
		struct spf_outcome o;
		struct spf_request rq = { "192.0.2.1", "mx.example.org", "user@example.com", "mx.example.net" };
		char hdr[1024];
		memset(&o, 0, sizeof(o));
		o.result = AR_PASS;
		snprintf(o.identity, sizeof(o.identity), "mailfrom");
		snprintf(o.sender, sizeof(o.sender), "user@example.com");
		snprintf(o.mechanism, sizeof(o.mechanism), "ip4:192.0.2.0/24");
		T_INT(spf_received_spf(&o, &rq, hdr, sizeof(hdr)), 0, "received-spf: fits");
		T_STR(hdr, "pass (mx.example.net: domain of user@example.com designates 192.0.2.1 as permitted sender)"
		      " client-ip=192.0.2.1; envelope-from=\"user@example.com\"; helo=mx.example.org;"
		      " mechanism=ip4:192.0.2.0/24; receiver=mx.example.net; identity=mailfrom", "received-spf: pass");
		snprintf(o.sender, sizeof(o.sender), "a\"b(c)@example.com");
		o.result = AR_FAIL;
		spf_received_spf(&o, &rq, hdr, sizeof(hdr));
		T_OK(strstr(hdr, "envelope-from=\"a\\\"b(c)@example.com\"") != NULL, "received-spf: quoted envelope-from");
		T_OK(strstr(hdr, "of a\"b?c?@example.com does not") != NULL, "received-spf: comment cannot be closed by sender");
		T_INT(spf_received_spf(&o, &rq, hdr, 20), -1, "received-spf: too small is -1");
		T_INT((long)strlen(hdr), 0, "received-spf: too small gives an empty string, not a garbled one");
	}

	{
		/* evaluation without a resolver: DNS fails -> temperror; bad input -> none */
		struct spf_outcome o;
		struct spf_request rq = { "192.0.2.1", "mx.example.org", "user@example.com", NULL };
		spf_check(NULL, NULL, &rq, &o);
		T_STR(result_name(o.result), "temperror", "check: DNS failure is temperror");
		rq.mail_from = "user@a..example.com";
		spf_check(NULL, NULL, &rq, &o);
		T_STR(result_name(o.result), "none", "check: empty label is none");
		rq.mail_from = "";
		rq.helo = "[192.0.2.1]";
		spf_check(NULL, NULL, &rq, &o);
		T_STR(result_name(o.result), "none", "check: null path with literal HELO is none");
		T_STR(o.sender, "postmaster@[192.0.2.1]", "check: null path uses postmaster@HELO");
		rq.mail_from = "@example.net";
		spf_check(NULL, NULL, &rq, &o);
		T_STR(o.sender, "postmaster@example.net", "check: empty local part is postmaster");
		rq.ip = "not-an-ip";
		spf_check(NULL, NULL, &rq, &o);
		T_STR(result_name(o.result), "none", "check: bad client IP is none");
	}
	return t_done();
}
