/*
 * iprev - RFC 8601 section 2.7.3 "iprev": the client address's PTR names,
 * each checked by a forward lookup (A or AAAA) for the same address.
 *
 *   pass       a PTR name resolves back to the address (forward-confirmed)
 *   fail       PTR names exist but none resolves back to the address
 *   permerror  no PTR data (NXDOMAIN or NODATA)
 *   temperror  a DNS failure (SERVFAIL, timeout, budget) decided the result
 *   none       no usable client address (not checked)
 * At most IPREV_MAX_NAMES PTR names are checked (RFC 8601 sets no number;
 * Postfix and Sendmail check a few): each costs a query against the budget.
 */
#ifndef TM_IPREV_H
#define TM_IPREV_H

#include "dns.h"
#include "result.h"

#define IPREV_MAX_NAMES 4

struct iprev_outcome {
	enum auth_result result;      /* AR_NONE when not checked */
	char ip[64];                  /* the address checked */
	char name[256];               /* the confirmed name (pass) or the first PTR name */
	char problem[96];             /* why not pass */
};

/* iprev_check - evaluate ip (text); fills out. */
void iprev_check(dns_resolver *dns, dns_budget *budget, const char *ip, struct iprev_outcome *out);
/* iprev_reverse_name - the in-addr.arpa / ip6.arpa labels of ip, followed by
 * suffix (e.g. "in-addr.arpa" or a DNSBL zone): "2.0.0.192.suffix" or 32
 * nibbles for IPv6. Returns 4 or 6 (family), 0 if ip is not an address or it
 * does not fit. */
int iprev_reverse_name(const char *ip, const char *suffix, char *out, size_t outsz);

#endif
