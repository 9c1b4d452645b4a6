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

#define VERDICT_MAX_ADD 12  /* ARC set (3), DKIM-Signature (4, SIGNKEYS_PER_MESSAGE), A-R,
                               compliance, Received-SPF, X-Spam-Flag */
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



/* A reply "CODE X.Y.Z text", parsed once (rcode[0] == '\0': none). */
struct verdict_reply {
	char rcode[4];
	char xcode[12];
	char text[256];
};

#define VERDICT_PATTERN_MAX 128   /* bytes of a rule's FINDING pattern, NUL included */
#define VERDICT_DOMAIN_MAX 254    /* bytes of a domain rule's DOMAIN, NUL included */

/* One compiled rule "PATTERN=ACTION[:reply]": PATTERN is a finding name, or
 * a prefix when it ends in '*' (kept here without the '*'). */
struct verdict_rule {
	char pattern[VERDICT_PATTERN_MAX];
	size_t patlen;
	int prefix;
	enum verdict_action action;
	struct verdict_reply reply;        /* rcode[0] == '\0': the default reply */
};

/* One compiled domain rule "DOMAIN:PATTERN=ACTION[:reply]". */
struct verdict_domain_rule {
	char domain[VERDICT_DOMAIN_MAX];
	size_t dlen;
	struct verdict_rule rule;
};

/* Input to the funnel: finding names, the compiled rules of the message's
 * direction, the compiled domain rules, and the facts that can soften the
 * action. */
struct verdict_input {
	const char *const *finding_names;
	size_t nfindings;
	const struct verdict_rule *rules;
	size_t nrules;
	const struct verdict_domain_rule *domain_rules;
	size_t ndomain_rules;
	const char *from_domain;           /* may be NULL */
	const char *allowlisted;           /* reason text when allowlisted, else NULL */
	int dry_run;                       /* monitor: enforce accept */
	const struct verdict_reply *reject_reply;   /* defaults "550 5.7.1 text" (may be NULL) */
	const struct verdict_reply *tempfail_reply;
};

/* verdict_decide - pick the strongest action; fills action, decided, reply, reason.
 * For each finding the candidate rules are the domain rules that match the
 * From domain and the finding, or, when there are none, the direction's
 * rules that match the finding; the strongest candidate counts (order never
 * matters), and the strongest over all findings wins. No parsing: the rules
 * were compiled at load (policy.c). */
void verdict_decide(const struct verdict_input *in, struct verdict *v);
/* verdict_reply_parse - "CODE X.Y.Z text" (4xx/5xx with a matching class)
 * into r; 0 ok, -1 (r cleared) for anything else or NULL. */
int verdict_reply_parse(const char *reply, struct verdict_reply *r);
/* verdict_apply_reply - set rcode, xcode and text from r; a NULL or empty r
 * leaves the reply unchanged. */
void verdict_apply_reply(struct verdict *v, const struct verdict_reply *r);
/* verdict_set_reply - verdict_reply_parse then verdict_apply_reply. */
void verdict_set_reply(struct verdict *v, const char *reply);
/* verdict_rule_parse - split one rule; 0 ok, -1 malformed (used to validate config). */
int verdict_rule_parse(const char *rule, char *pat, size_t patsz, enum verdict_action *act,
                       const char **reply);
/* verdict_reply_compile - a configured reply that must be of class want
 * ('4' or '5'): 0 ok, -1 with the reason in why. */
int verdict_reply_compile(const char *reply, char want, struct verdict_reply *r, char *why,
                          size_t whylen);
/* verdict_rule_compile - "PATTERN=ACTION[:reply]" into r, the reply text
 * (or NULL) into *reply: 0 ok, -1 with the reason in why (malformed,
 * unknown action). Finding names are checked by the caller (policy.c),
 * then the reply by verdict_rule_reply. */
int verdict_rule_compile(const char *text, struct verdict_rule *r, const char **reply,
                         char *why, size_t whylen);
/* verdict_rule_reply - the rule's reply (NULL: none): only reject and
 * tempfail take one, of their class. 0 ok, -1 with the reason in why. */
int verdict_rule_reply(const char *text, struct verdict_rule *r, const char *reply, char *why,
                       size_t whylen);
#endif
