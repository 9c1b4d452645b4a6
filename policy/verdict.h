/*
 * verdict - what to do with one message: the single funnel from facts and
 * findings plus the policy configuration to an action, headers to add and
 * fields to remove. Monitor aware (policy.mode = "monitor", or the older
 * policy.dry_run): the decided action is kept, the enforced action becomes
 * accept.
 */
#ifndef TM_VERDICT_H
#define TM_VERDICT_H

#include <stddef.h>

/* Numbering is the order of the name table (and of the statistics columns),
 * not strength: ACT_JUNK came later. Strength: accept < junk < quarantine <
 * tempfail < reject = discard (verdict.c, action_rank). */
enum verdict_action { ACT_ACCEPT = 0, ACT_QUARANTINE, ACT_TEMPFAIL, ACT_REJECT, ACT_DISCARD, ACT_JUNK };
#define ACT_LAST ACT_JUNK

#define VERDICT_MAX_ADD 5   /* A-R, compliance, Received-SPF, X-Spam-Flag */
#define VERDICT_MAX_REMOVE 128  /* every forged field the header store keeps:
                                  HDR_CAP_AUTHRES + HDR_CAP_COMPLIANCE (hdr.h) */

struct verdict_header {
	char name[64];
	char *value;        /* heap, owned by the verdict */
};

struct verdict_remove {
	char name[64];
	unsigned index;     /* 1-based occurrence among fields of that name (SMFIR_CHGHEADER) */
};

struct verdict {
	enum verdict_action action;    /* enforced */
	enum verdict_action decided;   /* what policy decided (differs in monitor mode) */
	int dry_run;                   /* monitor mode: decided, logged, not enforced */
	int hard;                      /* set after the funnel for a message that cannot be
	                                  delivered safely (limits.forged_headers): no mode,
	                                  dry-run or allowlist may soften action */
	char rcode[4];                 /* "550" */
	char xcode[12];                /* "5.7.1" */
	char reply[256];               /* SMTP reply text */
	char reason[256];              /* which finding/rule caused the action */
	size_t nadd;
	struct verdict_header add[VERDICT_MAX_ADD];     /* insert at the top, in this order */
	size_t nremove;
	struct verdict_remove remove[VERDICT_MAX_REMOVE];
};

const char *verdict_action_name(enum verdict_action a);
/* verdict_action_parse - "accept", "junk", "quarantine", "tempfail", "reject",
 * "discard"; -1 unknown. */
int verdict_action_parse(const char *s);
/* verdict_action_rank - strength of an action: accept 0 < junk < quarantine <
 * tempfail < reject = discard; the funnel keeps the strongest. */
int verdict_action_rank(enum verdict_action a);
void verdict_clear(struct verdict *v);
/* verdict_add_header - append a header to add (value copied). */
int verdict_add_header(struct verdict *v, const char *name, const char *value);



/* Input to the funnel: finding names, the rules of the message's direction,
 * the domain rules, and the facts that can soften the action. */
struct verdict_input {
	const char *const *finding_names;
	size_t nfindings;
	const char *const *rules;          /* "FINDING=ACTION[:CODE X.Y.Z text]" */
	size_t nrules;
	const char *const *domain_rules;   /* "DOMAIN:FINDING=ACTION[:reply]" */
	size_t ndomain_rules;
	const char *from_domain;           /* may be NULL */
	const char *allowlisted;           /* reason text when allowlisted, else NULL */
	int dry_run;                       /* monitor: enforce accept */
	const char *reject_reply;          /* defaults "550 5.7.1 text" */
	const char *tempfail_reply;
};

/* verdict_decide - pick the strongest action; fills action, decided, reply, reason.
 * For each finding the candidate rules are the domain rules that match the
 * From domain and the finding, or, when there are none, the direction's
 * rules that match the finding; the strongest candidate counts (order never
 * matters), and the strongest over all findings wins. */
void verdict_decide(const struct verdict_input *in, struct verdict *v);
/* verdict_set_reply - set rcode, xcode and text from "CODE X.Y.Z text" (4xx/5xx
 * with a matching class); anything else leaves the reply unchanged. */
void verdict_set_reply(struct verdict *v, const char *reply);
/* verdict_rule_parse - split one rule; 0 ok, -1 malformed (used to validate config). */
int verdict_rule_parse(const char *rule, char *pat, size_t patsz, enum verdict_action *act,
                       const char **reply);
#endif
