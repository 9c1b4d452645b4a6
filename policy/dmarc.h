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
#include "findings.h"

enum dmarc_mode { DMARC_MODE_RFC9989 = 0, DMARC_MODE_RFC7489 };

#define DMARC_WALK_MAX 8       /* draft-41 s4.10: a tree walk makes at most 8 queries */
#define DMARC_MAX_LOOKUPS 32   /* distinct _dmarc names one message may look up: the
                                  From walk (8) + SPF walk (8) + signature walks sharing
                                  tails; past it alignment is unknown (temperror) */
#define DMARC_RECORD_MAX 4096  /* joined TXT bytes kept; real records are < 500 bytes */

/* bits of dmarc_record.bad_policy_tag */
#define DMARC_BAD_P  1
#define DMARC_BAD_SP 2
#define DMARC_BAD_NP 4
enum dmarc_policy { DMARC_P_UNSPEC = 0, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	int adkim_strict, aspf_strict;
	int psd;              /* 'y' 1, 'n' 0, 'u' or absent -1 */
	int testing;          /* t=y (RFC 9989) */
	int pct;              /* RFC 7489 only; 100 when absent */
	char rua[512];        /* raw rua= value */
	char ruf[512];
	/* added by the dmarc module (parse details evaluation needs) */
	int p_missing;        /* no p= tag (RFC 9989: as p=none; RFC 7489: invalid) */
	int bad_policy_tag;   /* DMARC_BAD_* bits: p/sp/np present with an invalid value */
	int rua_valid;        /* rua= holds at least one syntactically valid URI */
	int uri_too_long;     /* rua/ruf longer than the arrays: left empty, not cut */
};

struct dmarc_input {
	const char *from_domain;           /* the single RFC5322.From domain, lowercased */
	enum auth_result spf_result;       /* SPF result for spf_domain */
	const char *spf_domain;            /* MAIL FROM domain, or HELO domain when MAIL FROM is null */
	size_t nsigs;
	const struct dkim_sig *sigs;       /* array of nsigs */
	const char *sample_key;            /* RFC 7489 pct sampling key (e.g. Message-ID or
	                                      queue id); NULL: derived from the message's
	                                      identifiers and signatures */
};

struct dmarc_outcome {
	enum auth_result result;           /* pass fail none temperror permerror */
	char from_domain[256];
	char policy_domain[256];           /* where the applied record was found */
	char org_domain[256];              /* organizational domain of from_domain */
	enum dmarc_policy policy;          /* the policy that applies to from_domain (p/sp/np chosen) */
	enum dmarc_policy disposition;     /* what to do: none when pass or t=y downgrades */
	int spf_aligned;                   /* SPF passed and spf_domain aligns */
	int dkim_aligned;                  /* any passing, aligned signature */
	int sig_aligned[DKIM_MAX_SIGS];    /* per signature: d= aligns with From (record's adkim, relaxed if none) */
	int record_found;
	struct dmarc_record rec;
	char problem[256];                 /* reason for temperror/permerror/none */
	int multiple_records;              /* a name held several DMARC records (discarded) */
	int nonexistent;                   /* From domain found not to exist (np applied) */
	unsigned lookups;                  /* DNS queries this evaluation made */
};

/* A DNS view: dmarc_evaluate() uses dns_query(); unit tests give a table. */
struct dmarc_dns_view {
	dns_answer *(*query)(void *ctx, dns_budget *b, const char *name, size_t namelen, int rrtype);
	void (*release)(void *ctx, dns_answer *a);
	void *ctx;
};

/* dmarc_evaluate - discover the policy and evaluate; always fills out. */
int dmarc_evaluate(dns_resolver *dns, dns_budget *budget, enum dmarc_mode mode,
                   const struct dmarc_input *in, struct dmarc_outcome *out);
/* dmarc_record_parse - parse one DMARC TXT value; 0 ok, -1 not a valid record (err says why). */
int dmarc_record_parse(const char *p, size_t n, struct dmarc_record *out, char *err, size_t errlen);
/* dmarc_severity - how strict an outcome's reading is, for choosing among
 * several author domains (RFC 9989 11.5: apply the strictest): pass 0 < none 1
 * < permerror 2 < fail with disposition none 3 < temperror 4 (it may hide a
 * reject) < fail quarantine 5 < fail reject 6. */
int dmarc_severity(const struct dmarc_outcome *o);
/* dmarc_findings - the findings of the strictest reading d over nreadings
 * author readings (dmarc.multiple_authors when more than one; dmarc.fail,
 * dmarc.no_record, dmarc.temperror, dmarc.permerror, dmarc.disposition.*),
 * and dkim.not_aligned when a signature of sigs passes but none aligns.
 * sealer: the trusted ARC sealer that overrides a failing disposition
 * (dmarc.override.arc replaces dmarc.disposition.*), or NULL. */
void dmarc_findings(const struct dmarc_outcome *d, size_t nreadings, const struct dkim_sig *sigs,
                    size_t nsigs, const char *sealer, findings *f);
/* dmarc_mode_discovery_name - how the policy domain is found: "treewalk"
 * (RFC 9989) or "psl" (RFC 7489). */
const char *dmarc_mode_discovery_name(enum dmarc_mode m);
/* dmarc_policy_name - "none", "quarantine", "reject"; "unspecified" for UNSPEC. */
const char *dmarc_policy_name(enum dmarc_policy p);
/* dmarc_evaluate_view - dmarc_evaluate() through a DNS view (tests). */
int dmarc_evaluate_view(const struct dmarc_dns_view *v, dns_budget *budget, enum dmarc_mode mode,
                        const struct dmarc_input *in, struct dmarc_outcome *out);
/* dmarc_psl_org_domain - RFC 7489 organizational domain of (p,n) by the Public
 * Suffix List (with the "*" default rule) into out; 0 ok, -1 invalid/too long. */
int dmarc_psl_org_domain(const char *p, size_t n, char *out, size_t outsz);
/* dmarc_org_domain - the Organizational Domain of (p,n): RFC 9989 tree walk
 * (DNS through dns), or the PSL in RFC 7489 mode; 0 ok, -1 not a domain name,
 * -2 DNS failure (the walk could not be completed). */
int dmarc_org_domain(dns_resolver *dns, dns_budget *budget, enum dmarc_mode mode,
                     const char *p, size_t n, char *out, size_t outsz);

#endif
