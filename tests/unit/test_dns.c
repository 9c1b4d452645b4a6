/* test_dns - the pure parts of policy/dns.c: TXT joining, IP parsing, name
 * validation and budget accounting (no server needed: r == NULL). */
#include <stdlib.h>
#include "t.h"
#include "dns.h"

static const struct { const char *name; const char *rdata; size_t len; long want; const char *out; } txt_cases[] = {
	{ "one string", "\x05hello", 6, 5, "hello" },
	{ "two strings joined without separator", "\x03" "abc" "\x02" "de", 7, 5, "abcde" },
	{ "zero strings", "", 0, 0, "" },
	{ "empty string", "\x00", 1, 0, "" },
	{ "NUL byte kept", "\x03" "a\0b", 4, 3, "a\0b" },
	{ "length past end", "\x05" "abc", 4, -1, NULL },
	{ "second length past end", "\x01" "a" "\x09" "b", 4, -1, NULL },
};

static const struct { const char *name; const char *ip; int fam; unsigned char last; } ip_cases[] = {
	{ "IPv4", "192.0.2.1", 4, 1 },
	{ "IPv6", "2001:db8::7", 6, 7 },
	{ "IPv4-mapped IPv6 is IPv4", "::ffff:192.0.2.9", 4, 9 },
	{ "IPv4-compatible is IPv6", "::192.0.2.9", 6, 9 },
	{ "garbage", "192.0.2", 0, 0 },
	{ "empty", "", 0, 0 },
	{ "zone id refused", "fe80::1%eth0", 0, 0 },
};

static const struct { const char *name; const char *qname; size_t len; enum dns_status want; } name_cases[] = {
	{ "empty name", "", 0, DNS_BADNAME },
	{ "root only", ".", 1, DNS_BADNAME },
	{ "empty label", "a..example.com", 14, DNS_BADNAME },
	{ "leading dot", ".example.com", 12, DNS_BADNAME },
	{ "64-char label", "a123456789012345678901234567890123456789012345678901234567890123.example.com", 76, DNS_BADNAME },
	{ "63-char label ok (no resolver: tempfail)", "a12345678901234567890123456789012345678901234567890123456789012.example.com", 75, DNS_TEMPFAIL },
	{ "trailing dot ok", "example.com.", 12, DNS_TEMPFAIL },
	{ "space and percent ok", "a b%c.example", 13, DNS_TEMPFAIL },
	{ "NUL byte in name is escaped, ok", "a\0b.example", 11, DNS_TEMPFAIL },
};

int main(void)
{
	char out[64];
	unsigned char ip[16];
	size_t i;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		long n = dns_txt_join((const unsigned char *)txt_cases[i].rdata, txt_cases[i].len, out, sizeof(out));
		T_INT(n, txt_cases[i].want, "txt_join: %s", txt_cases[i].name);
		if (txt_cases[i].out && n >= 0)
			T_OK(memcmp(out, txt_cases[i].out, (size_t)n) == 0, "txt_join bytes: %s", txt_cases[i].name);
	}
	T_INT(dns_txt_join((const unsigned char *)"\x05hello", 6, out, 5), -1, "txt_join: no room for NUL");
	T_INT(dns_txt_join((const unsigned char *)"\x05hello", 6, out, 6), 5, "txt_join: exact fit");

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		int f = dns_ip_parse(ip_cases[i].ip, ip);
		T_INT(f, ip_cases[i].fam, "ip_parse: %s", ip_cases[i].name);
		if (f)
			T_INT(ip[15], ip_cases[i].last, "ip_parse last byte: %s", ip_cases[i].name);
	}
	T_INT(dns_ip_parse(NULL, ip), 0, "ip_parse: NULL");

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		dns_answer *a = dns_query(NULL, NULL, name_cases[i].qname, name_cases[i].len, DNS_T_A);
		T_OK(a != NULL, "query answer: %s", name_cases[i].name);
		if (a)
			T_STR(dns_status_name(a->status), dns_status_name(name_cases[i].want), "name check: %s", name_cases[i].name);
		dns_answer_free(a);
	}
	{
		char longname[300];
		memset(longname, 'a', sizeof(longname));
		for (i = 63; i < sizeof(longname); i += 64)
			longname[i] = '.';
		dns_answer *a = dns_query(NULL, NULL, longname, 254, DNS_T_A);
		T_INT(a ? (int)a->status : -1, DNS_BADNAME, "name of 254 bytes is badname");
		dns_answer_free(a);
		a = dns_query(NULL, NULL, longname, 253, DNS_T_A);
		T_INT(a ? (int)a->status : -1, DNS_TEMPFAIL, "name of 253 bytes is accepted");
		dns_answer_free(a);
	}

	{
		dns_budget b;
		dns_answer *a;
		dns_budget_init(&b, 2);
		a = dns_query(NULL, &b, "x.example", 9, DNS_T_A); dns_answer_free(a);
		a = dns_query(NULL, &b, "bad..name", 9, DNS_T_A); dns_answer_free(a);
		T_INT(b.used, 1, "badname does not use budget");
		a = dns_query(NULL, &b, "y.example", 9, DNS_T_A); dns_answer_free(a);
		a = dns_query(NULL, &b, "z.example", 9, DNS_T_A);
		T_INT(a ? (int)a->status : -1, DNS_BUDGET, "third query past budget 2");
		T_STR(a ? a->reason : NULL, "budget", "budget reason");
		dns_answer_free(a);
		T_INT(b.used, 2, "budget stays at max");
		dns_budget_init(&b, 0);
		for (i = 0; i < 200; i++) {
			a = dns_query(NULL, &b, "x.example", 9, DNS_T_A);
			dns_answer_free(a);
		}
		T_INT(b.used, 200, "max 0 is unlimited");
	}
	T_STR(dns_status_name(DNS_NXDOMAIN), "nxdomain", "status name");
	dns_answer_free(NULL);
	dns_free(NULL);
	T_OK(1, "free(NULL) accepted");
	return t_done();
}
