/*
 * spf - our own RFC 7208 SPF evaluator on the dns resolver.
 *
 * Not libspf2 (see docs/ARCHITECTURE.md). Limits: at most SPF_MAX_DNS_MECH
 * DNS-querying terms across include/redirect, SPF_MAX_VOID void lookups,
 * bounded macro expansion; IPv4-mapped IPv6 clients are treated as IPv4;
 * TXT data is handled as (pointer, length).
 */
#ifndef TM_SPF_H
#define TM_SPF_H

#include <stddef.h>
#include "result.h"
#include "dns.h"

#define SPF_MAX_DNS_MECH 10   /* RFC 7208 4.6.4 */
#define SPF_MAX_VOID 2        /* RFC 7208 4.6.4 */
#define SPF_MAX_MX_PTR 10     /* addresses looked up per mx / ptr term, RFC 7208 4.6.4 */

struct spf_request {
	const char *ip;         /* client IP as text (IPv4, IPv6, IPv4-mapped IPv6) */
	const char *helo;       /* HELO/EHLO name as given; may be NULL or "" */
	const char *mail_from;  /* envelope sender without <>; "" or NULL for the null path */
	const char *receiver;   /* our host name for %{r}; NULL = "unknown" */
};

struct spf_outcome {
	enum auth_result result;   /* pass fail softfail neutral none temperror permerror */
	char identity[16];         /* "mailfrom" or "helo" */
	char domain[256];          /* domain that was checked */
	char sender[512];          /* the full identity checked (postmaster@helo when MAIL FROM is null) */
	char mechanism[256];       /* the term that matched, if any */
	char explanation[512];     /* exp= text on fail, printable */
	char problem[256];         /* why temperror/permerror/none */
	unsigned dns_lookups;      /* DNS-querying terms used */
	unsigned void_lookups;
};

/* spf_check - evaluate the MAIL FROM identity (or postmaster@HELO when the
 * path is null). Always fills out; returns 0. */
int spf_check(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
              struct spf_outcome *out);
/* spf_check_helo - evaluate the HELO identity alone (RFC 7208 2.3). */
int spf_check_helo(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
                   struct spf_outcome *out);
/* spf_received_spf - format a Received-SPF field value (RFC 7208 9.1) into out. */
int spf_received_spf(const struct spf_outcome *o, const struct spf_request *req,
                     char *out, size_t outsz);

#endif
