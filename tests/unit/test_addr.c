/*
 * test_addr - table tests for the RFC 5322 address-list parser, RFC 5321
 * path parser and domain syntax check (policy/addr.c).
 *
 * List results are rendered as "local@domain" (+ " 'display'" when there is
 * one, + " !bad" for a malformed address), joined with ", ".
 */
#include <stdlib.h>
#include "t.h"
#include "addr.h"
#include "buf.h"

struct lcase {
	const char *name;
	const char *in;
	const char *want;   /* rendering of the stored addresses */
	int syntax;         /* want syntax_error */
	int more;           /* want more */
};

static const struct lcase lcases[] = {
	{ "plain", "user@example.com", "user@example.com", 0, 0 },
	{ "plain with spaces", "  user@example.com  ", "user@example.com", 0, 0 },
	{ "domain lowercased", "User@EXAMPLE.Com", "User@example.com", 0, 0 },
	{ "trailing dot dropped", "a@example.com.", "a@example.com", 0, 0 },
	{ "angle only", "<a@example.com>", "a@example.com", 0, 0 },
	{ "display atom", "John <john@example.com>", "john@example.com 'John'", 0, 0 },
	{ "display words", "John  Q.  Public <jqp@example.com>", "jqp@example.com 'John Q. Public'", 0, 0 },
	{ "display quoted comma", "\"Doe, John\" <john@example.com>", "john@example.com 'Doe, John'", 0, 0 },
	{ "display quoted-pair", "\"A \\\"B\\\" C\" <a@b.example>", "a@b.example 'A \"B\" C'", 0, 0 },
	{ "display quoted angle", "\"evil@x.example <a@y.example>\" <me@z.example>", "me@z.example 'evil@x.example <a@y.example>'", 0, 0 },
	{ "display mixed", "Dr. \"Who\" <who@tardis.example>", "who@tardis.example 'Dr. Who'", 0, 0 },
	{ "encoded word kept", "=?utf-8?q?J=C3=B6rg?= <j@example.de>", "j@example.de '=?utf-8?q?J=C3=B6rg?='", 0, 0 },
	{ "utf8 display", "J\xc3\xb6rg <j@example.de>", "j@example.de 'J??rg'", 0, 0 },
	{ "utf8 local kept", "j\xc3\xb6rg@example.de", "j\xc3\xb6rg@example.de", 0, 0 },
	{ "comment after", "a@example.com (Alice)", "a@example.com", 0, 0 },
	{ "comment nested", "a@example.com (x (y) z)", "a@example.com", 0, 0 },
	{ "comment everywhere", "(c) a (c) . (c) b (c) @ (c) example (c) . (c) com (c)", "a.b@example.com", 0, 0 },
	{ "comment with parens escaped", "a@example.com (x \\) y)", "a@example.com", 0, 0 },
	{ "comment inside angle", "<(c)a@example.com(c)>", "a@example.com", 0, 0 },
	{ "unclosed comment", "a@example.com (oops", "a@example.com", 1, 0 },
	{ "quoted local", "\"john doe\"@example.com", "\"john doe\"@example.com", 0, 0 },
	{ "quoted local with at", "\"a@b\"@example.com", "\"a@b\"@example.com", 0, 0 },
	{ "two addresses", "a@x.example, b@y.example", "a@x.example, b@y.example", 0, 0 },
	{ "two named", "A <a@x.example>, \"B, b\" <b@y.example>", "a@x.example 'A', b@y.example 'B, b'", 0, 0 },
	{ "empty elements", "a@x.example,, ,b@y.example,", "a@x.example, b@y.example", 0, 0 },
	{ "group empty", "undisclosed-recipients:;", "", 0, 0 },
	{ "group two", "team: a@x.example, b@y.example;", "a@x.example, b@y.example", 0, 0 },
	{ "group then address", "team: a@x.example;, c@z.example", "a@x.example, c@z.example", 0, 0 },
	{ "group unclosed", "team: a@x.example", "a@x.example", 1, 0 },
	{ "group nested", "g1: g2: a@x.example;;", "a@x.example", 1, 0 },
	{ "stray semicolon", "a@x.example; b@y.example", "a@x.example, b@y.example", 1, 0 },
	{ "no domain bare", "user", "user@", 0, 0 },
	{ "no domain angle", "<user>", "user@", 0, 0 },
	{ "no domain named", "User <user>", "user@ 'User'", 0, 0 },
	{ "phrase only", "John Smith", "JohnSmith@ !bad", 1, 0 },
	{ "null angle", "<>", "@ !bad", 1, 0 },
	{ "at domain only", "@example.com", "@example.com !bad", 1, 0 },
	{ "empty domain", "a@", "a@ !bad", 1, 0 },
	{ "double dot domain", "a@x..example", "a@x..example !bad", 1, 0 },
	{ "leading dot domain", "a@.example", "a@.example !bad", 1, 0 },
	{ "local dots tolerated", "a..b.@example.com", "a..b.@example.com", 0, 0 },
	{ "domain literal", "a@[192.0.2.1]", "a@[192.0.2.1]", 0, 0 },
	{ "domain literal v6", "<a@[IPv6:2001:DB8::1]>", "a@[ipv6:2001:db8::1]", 0, 0 },
	{ "domain literal unclosed", "a@[192.0.2.1", "a@[192.0.2.1 !bad", 1, 0 },
	{ "source route", "<@r1.example,@r2.example:a@b.example>", "a@b.example", 0, 0 },
	{ "source route broken", "<@r1.example a@b.example>", "a@b.example !bad", 1, 0 },
	{ "trailing garbage", "a@example.com junk", "a@example.com", 1, 0 },
	{ "addr then angle", "a@bank.example <b@evil.example>", "a@bank.example, b@evil.example !bad", 1, 0 },
	{ "two angles", "X <a@bank.example> <b@evil.example>", "a@bank.example 'X', b@evil.example !bad", 1, 0 },
	{ "unclosed angle", "X <a@example.com, b@y.example", "a@example.com 'X' !bad, b@y.example", 1, 0 },
	{ "unclosed angle then close", "<a@example.com junk> , b@y.example", "a@example.com !bad, b@y.example", 1, 0 },
	{ "stray gt", "a@example.com>", "a@example.com", 1, 0 },
	{ "space in domain", "a@exa mple.com", "a@exa", 1, 0 },
	{ "unterminated quote", "\"abc <a@example.com>", "\"abc <a@example.com>@ !bad", 1, 0 },
	{ "control byte", "a\x01@example.com", "a@example.com !bad", 1, 0 },
	{ "folded", "John\r\n Doe\r\n <jd@example.com>", "jd@example.com 'John Doe'", 0, 0 },
	{ "empty", "", "", 1, 0 },
	{ "only spaces", "   ", "", 1, 0 },
	{ "only comment", "(nobody)", "", 1, 0 },
	{ "comma only", ",", "", 1, 0 },
	{ "angle in local gt", "a>b@example.com", "ab@example.com !bad", 1, 0 },
};

/* render - the list as one string for comparison. */
static void render(const struct addr_list *l, char *out, size_t sz)
{
	buf *b = buf_new(sz);
	for (size_t i = 0; i < l->count; i++) {
		const struct addr *a = &l->a[i];
		buf_printf(b, "%s%s@%s", i ? ", " : "", a->local, a->domain);
		if (a->display[0])
			buf_printf(b, " '%s'", a->display);
		if (a->bad)
			buf_puts(b, " !bad");
	}
	str_copy(out, sz, buf_data(b), buf_len(b));
	buf_free(b);
}

/* test_lists - the table above. */
static void test_lists(void)
{
	struct addr_list l;
	char got[4096];
	for (size_t i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++) {
		const struct lcase *c = &lcases[i];
		size_t n = addr_parse_list(c->in, strlen(c->in), &l);
		render(&l, got, sizeof(got));
		T_INT(n, l.count, "list %s: return value is count", c->name);
		T_STR(got, c->want, "list %s: addresses", c->name);
		T_INT(l.syntax_error, c->syntax, "list %s: syntax_error", c->name);
		T_INT(l.more, c->more, "list %s: more", c->name);
	}
}

/* test_list_limits - caps, long fields, no NUL termination. */
static void test_list_limits(void)
{
	struct addr_list l;
	buf *b = buf_new(1 << 20);
	for (int i = 0; i < 40; i++)
		buf_printf(b, "%su%d@d%d.example", i ? ", " : "", i, i);
	addr_parse_list(buf_data(b), buf_len(b), &l);
	T_INT(l.count, ADDR_MAX, "cap: count stops at ADDR_MAX");
	T_INT(l.more, 1, "cap: more set");
	T_INT(l.syntax_error, 0, "cap: no syntax error");
	T_STR(l.a[ADDR_MAX - 1].domain, "d15.example", "cap: last stored address");

	buf_reset(b);
	buf_puts(b, "a@");
	for (int i = 0; i < 300; i++)
		buf_puts(b, "x");
	buf_puts(b, ".example");
	addr_parse_list(buf_data(b), buf_len(b), &l);
	T_INT(l.count, 1, "long domain: still one address");
	T_INT(l.a[0].bad, 1, "long domain: bad");
	T_INT(l.syntax_error, 1, "long domain: syntax error");

	buf_reset(b);
	buf_puts(b, "\"");
	for (int i = 0; i < 400; i++)
		buf_puts(b, "N");
	buf_puts(b, "\" <a@example.com>");
	addr_parse_list(buf_data(b), buf_len(b), &l);
	T_INT(l.syntax_error, 0, "long display: no syntax error");
	T_INT(strlen(l.a[0].display), ADDR_DISPLAY_MAX - 1, "long display: filled");
	T_STR(l.a[0].display + ADDR_DISPLAY_MAX - 4, "...", "long display: marked as cut");

	/* deep comments: linear, no recursion */
	buf_reset(b);
	buf_puts(b, "a@example.com ");
	for (int i = 0; i < 100000; i++)
		buf_putc(b, '(');
	for (int i = 0; i < 100000; i++)
		buf_putc(b, ')');
	addr_parse_list(buf_data(b), buf_len(b), &l);
	T_INT(l.count, 1, "deep comment: parsed");
	T_INT(l.syntax_error, 0, "deep comment: balanced is fine");

	/* huge list of junk */
	buf_reset(b);
	for (int i = 0; i < 100000; i++)
		buf_puts(b, "<>@;:");
	addr_parse_list(buf_data(b), buf_len(b), &l);
	T_INT(l.syntax_error, 1, "huge junk: syntax error");
	T_INT(l.count, ADDR_MAX, "huge junk: capped");
	buf_free(b);

	/* (pointer, length): bytes past n are never read */
	const char s[] = "a@example.comXYZ";
	addr_parse_list(s, 13, &l);
	T_STR(l.a[0].domain, "example.com", "length respected");
	const char z[] = { 'a', '@', 'x', '\0', 'y', '.', 'e' };
	addr_parse_list(z, sizeof(z), &l);
	T_INT(l.syntax_error, 1, "embedded NUL: syntax error");
	T_STR(l.a[0].domain, "x", "embedded NUL: domain before it");
	addr_parse_list(NULL, 0, &l);
	T_INT(l.count, 0, "NULL input: no address");
}

struct pcase {
	const char *name;
	const char *in;
	int rc;
	const char *local, *domain;
};

static const struct pcase pcases[] = {
	{ "angle", "<a@example.com>", 0, "a", "example.com" },
	{ "bare", "a@example.com", 0, "a", "example.com" },
	{ "null", "<>", 0, "", "" },
	{ "null spaces", " <> ", 0, "", "" },
	{ "trailing spaces", "<a@example.com>  \t", 0, "a", "example.com" },
	{ "case", "<John.Doe@Example.COM>", 0, "John.Doe", "example.com" },
	{ "trailing dot", "<a@example.com.>", 0, "a", "example.com" },
	{ "source route", "<@r1.example,@r2.example:a@example.com>", 0, "a", "example.com" },
	{ "source route one", "<@r1.example:a@example.com>", 0, "a", "example.com" },
	{ "quoted local", "<\"a b\"@example.com>", 0, "\"a b\"", "example.com" },
	{ "quoted local escape", "<\"a\\\"b\"@example.com>", 0, "\"a\\\"b\"", "example.com" },
	{ "address literal", "<a@[192.0.2.1]>", 0, "a", "[192.0.2.1]" },
	{ "postmaster", "<postmaster>", 0, "postmaster", "" },
	{ "plus tag", "<a+tag=x@example.com>", 0, "a+tag=x", "example.com" },
	{ "utf8", "<\xc3\xb6@\xc3\xb6.example>", 0, "\xc3\xb6", "\xc3\xb6.example" },
	{ "empty", "", -1, "", "" },
	{ "spaces only", "   ", -1, "", "" },
	{ "unclosed", "<a@example.com", -1, "", "" },
	{ "unopened", "a@example.com>", -1, "", "" },
	{ "esmtp param", "<a@example.com> SIZE=100", -1, "", "" },
	{ "space inside", "<a b@example.com>", -1, "", "" },
	{ "empty local", "<@example.com>", -1, "", "" },
	{ "empty domain", "<a@>", -1, "", "" },
	{ "double at", "<a@b@example.com>", -1, "", "" },
	{ "double dot domain", "<a@x..example>", -1, "", "" },
	{ "bad route", "<@r1.example,a@example.com>", -1, "", "" },
	{ "route no colon", "<@r1.example>", -1, "", "" },
	{ "unclosed quote", "<\"ab@example.com>", -1, "", "" },
	{ "bad literal", "<a@[192.0.2.1>", -1, "", "" },
	{ "nested angle", "<<a@example.com>>", -1, "", "" },
};

/* test_paths - the table above, plus short output buffers. */
static void test_paths(void)
{
	char l[ADDR_LOCAL_MAX], d[ADDR_DOMAIN_MAX];
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		int rc = addr_parse_path(c->in, strlen(c->in), l, sizeof(l), d, sizeof(d));
		T_INT(rc, c->rc, "path %s: rc", c->name);
		T_STR(l, c->local, "path %s: local", c->name);
		T_STR(d, c->domain, "path %s: domain", c->name);
	}
	char sl[4], sd[4];
	T_INT(addr_parse_path("<abcd@x.example>", 16, sl, sizeof(sl), sd, sizeof(sd)), -1,
	      "path: local too long for the buffer is -1");
	T_INT(addr_parse_path("<a@x.example>", 13, sl, sizeof(sl), sd, sizeof(sd)), -1,
	      "path: domain too long for the buffer is -1");
	T_STR(sl, "", "path: outputs cleared on -1");
}

struct dcase {
	const char *name;
	const char *in;
	int valid;
};

static const struct dcase dcases[] = {
	{ "simple", "example.com", 1 },
	{ "trailing dot", "example.com.", 1 },
	{ "single label", "localhost", 1 },
	{ "underscore", "_dmarc.example.com", 1 },
	{ "dkim", "sel._domainkey.example.com", 1 },
	{ "hyphen inside", "a-b.example", 1 },
	{ "digits label", "123.example", 1 },
	{ "upper", "EXAMPLE.COM", 1 },
	{ "empty", "", 0 },
	{ "dot", ".", 0 },
	{ "leading dot", ".example.com", 0 },
	{ "double dot", "a..example", 0 },
	{ "two trailing dots", "example.com..", 0 },
	{ "leading hyphen", "-a.example", 0 },
	{ "trailing hyphen", "a-.example", 0 },
	{ "space", "a b.example", 0 },
	{ "literal", "[192.0.2.1]", 0 },
	{ "ipv4", "192.0.2.1", 0 },
	{ "utf8", "\xc3\xb6.example", 0 },
	{ "at", "a@example.com", 0 },
};

/* test_domains - the table above plus the length limits. */
static void test_domains(void)
{
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++)
		T_INT(addr_domain_valid(dcases[i].in, strlen(dcases[i].in)), dcases[i].valid,
		      "domain %s", dcases[i].name);
	char d[300];
	memset(d, 'a', 63);
	memcpy(d + 63, ".example", 9);
	T_INT(addr_domain_valid(d, strlen(d)), 1, "domain: 63-char label");
	memset(d, 'a', 64);
	memcpy(d + 64, ".example", 9);
	T_INT(addr_domain_valid(d, strlen(d)), 0, "domain: 64-char label");
	/* 253 = 63+1+63+1+63+1+61 */
	memset(d, 'a', 253);
	d[63] = d[127] = d[191] = '.';
	T_INT(addr_domain_valid(d, 253), 1, "domain: 253 chars");
	d[253] = '.';
	T_INT(addr_domain_valid(d, 254), 1, "domain: 253 chars plus trailing dot");
	d[253] = 'a';
	T_INT(addr_domain_valid(d, 254), 0, "domain: 254 chars");
	T_INT(addr_domain_valid(NULL, 0), 0, "domain: NULL");
}

/* test_dom_name_len - the one domain-name check under each caller's flags. */
static void test_dom_name_len(void)
{
	static const struct { const char *d; unsigned flags; long want; } c[] = {
		{ "example.org", 0, 11 },
		{ "example.org.", 0, -1 },                        /* final dot only with DOM_DOT */
		{ "example.org.", DOM_DOT, 11 },
		{ ".", DOM_DOT, -1 },
		{ "a..b", 0, -1 },
		{ "", 0, -1 },
		{ "ex ample.org", 0, 12 },                        /* any byte without DOM_LDH */
		{ "ex ample.org", DOM_LDH, -1 },
		{ "_dmarc.example.org", DOM_LDH | DOM_EDGE, 18 },
		{ "-a.example.org", DOM_LDH, 14 },
		{ "-a.example.org", DOM_LDH | DOM_EDGE, -1 },
		{ "a-.example.org", DOM_LDH | DOM_EDGE, -1 },
		{ "b\xc3\xbc" "cher.example", DOM_LDH, -1 },
		{ "b\xc3\xbc" "cher.example", DOM_LDH | DOM_8BIT, 15 },
		{ "localhost", DOM_TWO, -1 },
		{ "mx.example", DOM_TWO, 10 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		T_INT(dom_name_len(c[i].d, strlen(c[i].d), c[i].flags), c[i].want,
		      "dom_name_len \"%s\" flags 0x%x", c[i].d, c[i].flags);
	char d[300];
	memset(d, 'a', 64);
	memcpy(d + 64, ".example", 9);
	T_INT(dom_name_len(d, strlen(d), 0), -1, "dom_name_len: 64-byte label");
	T_INT(dom_name_len(d, strlen(d), DOM_NOCAP), 72, "dom_name_len: 64-byte label, no caps");
}

int main(void)
{
	test_lists();
	test_list_limits();
	test_paths();
	test_domains();
	test_dom_name_len();
	return t_done();
}
