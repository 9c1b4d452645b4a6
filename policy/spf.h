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
#include "findings.h"

#define SPF_MAX_DNS_MECH 10   /* RFC 7208 4.6.4 */
#define SPF_MAX_VOID 2        /* RFC 7208 4.6.4 */
#define SPF_MAX_MX_PTR 10     /* addresses looked up per mx / ptr term, RFC 7208 4.6.4 */
#define SPF_MACRO_MAX 2048    /* bytes of one expanded macro-string; more is permerror
                                 (a term of 64K "%{s}" must not grow without bound) */
#define SPF_MAX_TERMS 256     /* terms per record; a record with more is permerror
                                 (real records have a few dozen at most) */
#define SPF_MAX_DIGITS 255    /* largest macro DIGIT transformer kept; more parts than
                                 a domain can have, RFC 7208 7.1 asks for >= 127 */

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
/* spf_findings - the finding of a result other than pass (spf.none,
 * spf.fail, ...) for o, evaluated for the address ip, into f. */
void spf_findings(const struct spf_outcome *o, const char *ip, findings *f);
/* spf_check_helo - evaluate the HELO identity alone (RFC 7208 2.3). */
int spf_check_helo(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
                   struct spf_outcome *out);
/* Macro expansion environment (RFC 7208 7.3), exposed for tests and fuzzing. */
struct spf_macro_env {
	const char *sender;         /* s: <sender> */
	const char *local;          /* l: local-part of <sender> */
	const char *sender_domain;  /* o: domain of <sender> */
	const char *domain;         /* d: current <domain> */
	unsigned char ip[16];       /* i, c, v: client IP (IPv4 as IPv4-mapped) */
	int fam;                    /* 4 or 6 */
	const char *helo;           /* h */
	const char *receiver;       /* r; NULL = "unknown" */
	const char *p;              /* p: validated name, NULL = ask p_fn, else "unknown" */
	const char *(*p_fn)(void *arg);
	void *p_arg;
	long long now;              /* t */
};

/* spf_macro_expand - expand the macro-string (p,n) into out[outsz] (NUL-terminated).
 * explain != 0 parses an explain-string (spaces, c/r/t allowed). Returns the length,
 * or -1 with a reason in err on a syntax error or when the result would pass
 * SPF_MACRO_MAX / outsz. Does no DNS (unless env->p_fn does). */
long spf_macro_expand(const struct spf_macro_env *env, const char *p, size_t n, int explain,
                      char *out, size_t outsz, char *err, size_t errlen);
/* spf_record_check - syntax-check an SPF record (the joined TXT text, starting with
 * "v=spf1"); 0 valid, -1 permerror with a reason in err. No DNS. */
int spf_record_check(const char *p, size_t n, char *err, size_t errlen);

/* spf_cidr_match - does ip fall in net/bits? v4 != 0 compares the IPv4 part
 * (bytes 12..15 of the mapped form) with bits <= 32, else all 16 bytes. */
int spf_cidr_match(const unsigned char ip[16], const unsigned char net[16], int bits, int v4);

/* spf_received_spf - format a Received-SPF field value (RFC 7208 9.1) into out. */
int spf_received_spf(const struct spf_outcome *o, const struct spf_request *req,
                     char *out, size_t outsz);

#endif
