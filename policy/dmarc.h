/*
 * dmarc - DMARC (RFC 9989) policy discovery and evaluation, our own code on
 * the dns resolver, with an RFC 7489 mode (PSL organizational domain via
 * libpsl, pct) behind one switch.
 */
#ifndef TM_DMARC_H
#define TM_DMARC_H

#include <stddef.h>
#include "result.h"
#include "dns.h"
#include "dkim.h"

enum dmarc_mode { DMARC_MODE_RFC9989 = 0, DMARC_MODE_RFC7489 };
enum dmarc_policy { DMARC_P_UNSPEC = 0, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	int adkim_strict, aspf_strict;
	int psd;              /* 'y' 1, 'n' 0, 'u' or absent -1 */
	int testing;          /* t=y (RFC 9989) */
	int pct;              /* RFC 7489 only; 100 when absent */
	char rua[512];        /* raw rua= value */
	char ruf[512];
};

struct dmarc_input {
	const char *from_domain;           /* the single RFC5322.From domain, lowercased */
	enum auth_result spf_result;       /* SPF result for spf_domain */
	const char *spf_domain;            /* MAIL FROM domain, or HELO domain when MAIL FROM is null */
	size_t nsigs;
	const struct dkim_sig *sigs;       /* array of nsigs */
};

struct dmarc_outcome {
	enum auth_result result;           /* pass fail none temperror permerror */
	char from_domain[256];
	char policy_domain[256];           /* where the applied record was found */
	char org_domain[256];              /* organizational domain of from_domain */
	enum dmarc_policy policy;          /* the policy that applies to from_domain (p/sp/np chosen) */
	enum dmarc_policy disposition;     /* what to do: none when pass or t=y downgrades */
	int spf_aligned;
	int dkim_aligned;                  /* any passing, aligned signature */
	int sig_aligned[DKIM_MAX_SIGS];    /* per signature: d= aligns with From (record's adkim, relaxed if none) */
	int record_found;
	struct dmarc_record rec;
	char problem[256];                 /* reason for temperror/permerror/none */
};

/* dmarc_evaluate - discover the policy and evaluate; always fills out. */
int dmarc_evaluate(dns_resolver *dns, dns_budget *budget, enum dmarc_mode mode,
                   const struct dmarc_input *in, struct dmarc_outcome *out);
/* dmarc_record_parse - parse one DMARC TXT value; 0 ok, -1 not a valid record (err says why). */
int dmarc_record_parse(const char *p, size_t n, struct dmarc_record *out, char *err, size_t errlen);
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
