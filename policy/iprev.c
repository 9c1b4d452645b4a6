/*
 * iprev - forward-confirmed reverse DNS (RFC 8601 2.7.3); see iprev.h.
 */
#include <stdio.h>
#include <string.h>
#include "iprev.h"
#include "buf.h"

/* iprev_reverse_name - reversed octets (IPv4) or nibbles (IPv6) plus suffix. */
int iprev_reverse_name(const char *ip, const char *suffix, char *out, size_t outsz)
{
	unsigned char a[16];
	int fam = dns_ip_parse(ip, a);
	int w;
	if (fam == 4) {
		w = snprintf(out, outsz, "%u.%u.%u.%u.%s", a[15], a[14], a[13], a[12], suffix);
	} else if (fam == 6) {
		static const char hx[] = "0123456789abcdef";
		char nib[65];
		size_t j = 0;
		for (int i = 15; i >= 0; i--) {
			nib[j++] = hx[a[i] & 0xf];
			nib[j++] = '.';
			nib[j++] = hx[a[i] >> 4];
			nib[j++] = '.';
		}
		nib[j] = '\0';
		w = snprintf(out, outsz, "%s%s", nib, suffix);
	} else {
		return 0;
	}
	return w > 0 && (size_t)w < outsz ? fam : 0;
}

/* confirms - does name resolve (A or AAAA, per family) to the address? -1 on temporary failure. */
static int confirms(dns_resolver *dns, dns_budget *budget, const char *name, int fam,
                    const unsigned char addr[16])
{
	dns_answer *an = dns_query(dns, budget, name, strlen(name), fam == 4 ? DNS_T_A : DNS_T_AAAA);
	if (an == NULL)
		return -1;
	int r = 0;
	if (an->status == DNS_TEMPFAIL || an->status == DNS_BUDGET)
		r = -1;
	for (size_t i = 0; i < an->count && r == 0; i++) {
		const struct dns_rr *rr = &an->rr[i];
		if (fam == 4 && rr->len == 4 && memcmp(rr->data, addr + 12, 4) == 0)
			r = 1;
		else if (fam == 6 && rr->len == 16 && memcmp(rr->data, addr, 16) == 0)
			r = 1;
	}
	dns_answer_free(an);
	return r;
}

/* iprev_check - PTR, then a forward lookup per name until one confirms. */
void iprev_check(dns_resolver *dns, dns_budget *budget, const char *ip, struct iprev_outcome *out)
{
	memset(out, 0, sizeof(*out));
	unsigned char addr[16];
	char rev[128];
	int fam = dns_ip_parse(ip, addr);
	if (fam == 0 || iprev_reverse_name(ip, fam == 4 ? "in-addr.arpa" : "ip6.arpa", rev, sizeof(rev)) == 0) {
		out->result = AR_NONE;
		snprintf(out->problem, sizeof(out->problem), "no client address");
		return;
	}
	str_copy(out->ip, sizeof(out->ip), ip, strlen(ip));
	dns_answer *an = dns_query(dns, budget, rev, strlen(rev), DNS_T_PTR);
	if (an == NULL || an->status == DNS_TEMPFAIL || an->status == DNS_BUDGET) {
		out->result = AR_TEMPERROR;
		snprintf(out->problem, sizeof(out->problem), "PTR lookup failed: %s",
		         an ? an->reason ? an->reason : dns_status_name(an->status) : "out of memory");
		dns_answer_free(an);
		return;
	}
	if (an->status != DNS_OK || an->count == 0) {
		out->result = AR_PERMERROR;
		snprintf(out->problem, sizeof(out->problem), "no PTR record for %s", ip);
		dns_answer_free(an);
		return;
	}
	int temp = 0;
	str_copy(out->name, sizeof(out->name), an->rr[0].name, strlen(an->rr[0].name));
	for (size_t i = 0; i < an->count && i < IPREV_MAX_NAMES; i++) {
		int c = confirms(dns, budget, an->rr[i].name, fam, addr);
		if (c == 1) {
			out->result = AR_PASS;
			str_copy(out->name, sizeof(out->name), an->rr[i].name, strlen(an->rr[i].name));
			dns_answer_free(an);
			return;
		}
		if (c < 0) {
			temp = 1;        /* one timeout is enough: do not stall on the others */
			break;
		}
	}
	dns_answer_free(an);
	out->result = temp ? AR_TEMPERROR : AR_FAIL;
	snprintf(out->problem, sizeof(out->problem), temp ? "forward lookup of %.80s failed temporarily"
	         : "%.80s does not resolve back to the address", out->name);
}
