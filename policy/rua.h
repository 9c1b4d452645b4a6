/*
 * rua - DMARC aggregate report destinations (RFC 9990 section 3, "Verifying
 * External Destinations"; RFC 9989 dmarc-urilist; RFC 6068 mailto).
 *
 * rua_parse() turns the rua= value of a DMARC record into the mail addresses
 * a report may go to, and says of every other URI why it is skipped. Only
 * mailto: URIs; the address is percent-decoded (RFC 6068) and must then be a
 * plain RFC 5322 addr-spec: a dot-atom local part and a host name, no
 * comments, display names, quoted strings, domain literals, hfields ("?"),
 * second "@" or bytes outside printable ASCII. The obsolete "!size" suffix
 * (RFC 7489) is accepted and ignored. Anything else is skipped, never guessed.
 *
 * rua_authorized() is the external-destination check: a TXT record at
 * <reported-domain>._report._dmarc.<destination-host> beginning "v=DMARC1".
 */
#ifndef TM_RUA_H
#define TM_RUA_H

#include <stddef.h>
#include "dns.h"

#define RUA_MAX_URIS 8        /* URIs of one rua= value looked at; more are skipped */
#define RUA_LOCAL_MAX 64      /* RFC 5321 4.5.3.1.1 */
#define RUA_DOMAIN_MAX 253

enum rua_status {
	RUA_OK = 0,           /* a usable mailto: address */
	RUA_SCHEME,           /* not mailto: (https: and others are not supported) */
	RUA_INVALID,          /* not a URI / not an addr-spec after decoding */
	RUA_TOO_MANY          /* past RUA_MAX_URIS */
};

struct rua_uri {
	enum rua_status status;
	char addr[RUA_LOCAL_MAX + 1 + RUA_DOMAIN_MAX + 1]; /* "local@domain" (domain lowercased) when OK */
	const char *domain;   /* points into addr after the "@" when OK */
	char reason[96];      /* why skipped */
	char shown[120];      /* the URI as written, printable and bounded, for logs */
};

/* rua_parse - parse the rua value (p,n) into out[max]; returns the number of
 * URIs filled (each OK or skipped with a reason). Never fails. */
size_t rua_parse(const char *p, size_t n, struct rua_uri *out, size_t max);

/* rua_authorized - RFC 9990 external-destination check for reports about
 * domain sent to host: 1 authorized, 0 not, -1 DNS failure or name too long
 * (not authorized now). A confirming record's own rua= (step 9) is parsed
 * into ovr[*novr] when novr is not NULL; an override naming another host
 * makes the whole destination unauthorized (0). */
int rua_authorized(dns_resolver *dns, const char *domain, const char *host,
                   struct rua_uri *ovr, size_t *novr, char *why, size_t whylen);

#endif
