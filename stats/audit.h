/*
 * audit - one audit record per message: the facts the statistics need,
 * copied out of an evaluated session into a plain struct with bounded
 * arrays, so that it can be queued, written by another thread and read back
 * from the store without touching the session again.
 *
 * The schema (docs/STATISTICS.md) is this struct: every field is one column
 * of the "messages" table, except the arrays, which are stored as text
 * (findings and signals space-separated, signatures as "result:d:s:flags").
 * Strings are printable ASCII (attacker bytes become '?'); a field that did
 * not fit its array is cut and ends in '~' -- reports count, never parse
 * free text.
 *
 * The policy core fills it (policy/record.c, at end of message) and hands it
 * to the environment's record sink; this folder (stats/) holds what is done
 * with it: the store (store.c) and the live counters (metrics.c). The
 * policy core includes this header for the type only and links none of
 * stats/.
 */
#ifndef TM_AUDIT_H
#define TM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_MAX_SIGS 8          /* = DKIM_MAX_SIGS: signatures examined per message */
#define AUDIT_MAX_FINDINGS 64     /* = FINDINGS_MAX */
#define AUDIT_MAX_SIGNALS 32      /* spam signals kept per message */
#define AUDIT_NAME_MAX 64         /* a finding or signal name */
#define AUDIT_DOMAIN_MAX 256      /* a domain name (253) plus room */
#define AUDIT_TEXT_MAX 4096       /* a list column rendered as text */

struct audit_sig {
	char result[16];              /* RFC 8601 word */
	char domain[AUDIT_DOMAIN_MAX];/* d= */
	char selector[128];           /* s= */
	int aligned;                  /* d= aligns with the From domain */
	int covers_unsub;             /* h= covers List-Unsubscribe and List-Unsubscribe-Post */
};

struct audit_record {
	int64_t ts;                   /* end of message, seconds since the epoch (UTC) */
	char host[AUDIT_DOMAIN_MAX];  /* the milter's host name (fleets: which MTA) */
	char queue_id[64];
	char direction[16];           /* "inbound" | "outbound" */
	char client_ip[64];
	char helo[AUDIT_DOMAIN_MAX];
	char mail_from_domain[AUDIT_DOMAIN_MAX]; /* "" for the null path */
	char from_domain[AUDIT_DOMAIN_MAX];      /* the single From domain, "" when none */
	char spf_result[16];
	char spf_domain[AUDIT_DOMAIN_MAX];
	size_t nsigs;
	struct audit_sig sigs[AUDIT_MAX_SIGS];
	char dmarc_result[16];        /* pass fail none temperror permerror */
	char dmarc_policy[16];        /* the p/sp/np that applies; "" without a record */
	char dmarc_disposition[16];   /* none quarantine reject */
	char dmarc_policy_domain[AUDIT_DOMAIN_MAX];
	int dmarc_spf_aligned, dmarc_dkim_aligned;
	/* the published record, for RFC 9990 policy_published ("" when absent) */
	char dmarc_p[16], dmarc_sp[16], dmarc_np[16];
	char dmarc_adkim[2], dmarc_aspf[2], dmarc_testing[2];  /* "r"/"s", "y"/"n" */
	char dmarc_discovery[16];     /* "treewalk" (RFC 9989) or "psl" (RFC 7489) */
	char dmarc_rua[512];
	char unsub_verdict[16];       /* compliant noncompliant absent */
	size_t nunsub_findings;
	char unsub_findings[16][AUDIT_NAME_MAX];
	int bulk;
	char campaign[AUDIT_DOMAIN_MAX];
	int has_spam;                 /* spam_score is meaningful (spam signals evaluated) */
	double spam_score;
	size_t nsignals;
	char signals[AUDIT_MAX_SIGNALS][AUDIT_NAME_MAX];
	char tls_version[32];         /* {tls_version}, "" when the hop was not TLS */
	char action[16];              /* what policy decided */
	char action_enforced[16];     /* what was done (accept under dry-run/allowlist) */
	int gmail_ready, yahoo_ready, microsoft_ready;
	int64_t size;                 /* header + body bytes */
	unsigned nrcpt;
	size_t nfindings;
	char findings[AUDIT_MAX_FINDINGS][AUDIT_NAME_MAX];
	char arc[16];                 /* ARC chain: pass fail none; "" when not validated */
	char arc_override[AUDIT_DOMAIN_MAX]; /* the trusted ARC sealer that overrode DMARC, or "" */
};

/* audit_findings_text - the findings as one space-separated string. */
void audit_list_text(char (*items)[AUDIT_NAME_MAX], size_t n, char *out, size_t outsz);
/* audit_list_parse - split a space-separated string back into items. */
size_t audit_list_parse(const char *text, char (*items)[AUDIT_NAME_MAX], size_t max);
/* audit_sigs_text - signatures as "result:d:s:flags" separated by spaces
 * (flags: 'a' aligned, 'u' covers both unsubscribe fields, '-' none). */
void audit_sigs_text(const struct audit_record *r, char *out, size_t outsz);
/* audit_sigs_parse - the inverse of audit_sigs_text, into r->sigs. */
void audit_sigs_parse(const char *text, struct audit_record *r);

#endif
