/*
 * policy - the configuration compiled once, at load and at reload, into an
 * immutable typed object: what the per-message path reads instead of the
 * key/value snapshot (conf.h). Rules are parsed and checked against the
 * finding table, networks parsed into struct cidr, spam weights resolved per
 * signal, replies parsed, policy.mode and policy.dry_run folded into one
 * mode, numbers and flags typed. Strings it holds point into the snapshot,
 * of which it keeps a reference.
 *
 * Validation is one path: the per-value compilers below are the checks that
 * conf_check (trustmilter -n, every error with file and line) runs, and
 * policy_new refuses a snapshot with the first of those errors, also with
 * file and line (start, reload, trustmilter-check).
 */
#ifndef TM_POLICY_H
#define TM_POLICY_H

#include <stddef.h>
#include "conf.h"
#include "cidr.h"
#include "mime.h"
#include "spam.h"
#include "verdict.h"
#include "bulk.h"
#include "provider.h"

enum policy_mode { POLICY_MONITOR = 0, POLICY_ENFORCE };
enum policy_on_error { POLICY_ON_ERROR_TEMPFAIL = 0, POLICY_ON_ERROR_ACCEPT };

/* Index of the per-direction tables: enum direction (session.h) has the
 * same numbering, checked in session.c. */
enum policy_dir { POLICY_INBOUND = 0, POLICY_OUTBOUND = 1 };
enum policy_arc_seal { POLICY_SEAL_NEVER = 0, POLICY_SEAL_OUTBOUND, POLICY_SEAL_LISTED };

/* A network list entry: the parsed network and its text (for log lines). */
struct policy_net {
	struct cidr net;
	const char *text;
};

/* A domain list entry (policy.allow_senders). */
struct policy_name {
	const char *name;
	size_t len;
};

struct policy_spam_scores {
	long reject;                 /* 0: off */
	long quarantine;
};

struct policy {
	conf *conf;                              /* the snapshot it was built from (a reference) */
	struct verdict_rule *rules[2];           /* policy.{inbound,outbound}.actions */
	size_t nrules[2];
	struct verdict_domain_rule *domain_rules; /* policy.domain_actions */
	size_t ndomain_rules;
	struct policy_net *allow_networks;       /* policy.allow_networks */
	size_t nallow_networks;
	struct policy_net *internal_networks;    /* milter.internal_networks */
	size_t ninternal_networks;
	struct policy_name *allow_senders;       /* policy.allow_senders */
	size_t nallow_senders;
	const char *const *outbound_daemons;     /* milter.outbound_daemons */
	size_t noutbound_daemons;
	const char *egress_address;              /* first milter.egress_addresses item, or NULL */
	const char *const *feedback_arf;         /* feedback.arf_recipients */
	size_t nfeedback_arf;
	const char *const *feedback_dmarc;       /* feedback.dmarc_recipients */
	size_t nfeedback_dmarc;
	int feedback_discard;                    /* feedback.after = discard */
	struct provider_map *providers;          /* feedback.providers */
	enum policy_mode mode;                   /* policy.mode, or monitor when policy.dry_run */
	enum policy_on_error on_error;           /* policy.on_error */
	struct verdict_reply reject_reply;       /* policy.reject_reply */
	struct verdict_reply tempfail_reply;     /* policy.tempfail_reply */
	size_t header_count, header_bytes;       /* limits.header_count, limits.header_bytes */
	unsigned dns_max_queries;                /* dns.max_queries */
	int received_spf;                        /* header.received_spf */
	int spam_enabled;                        /* spam.enabled */
	struct mime_limits mime;                 /* spam.max_scan_bytes, _mime_parts, _mime_depth, _text_bytes */
	struct policy_spam_scores spam_scores[2]; /* spam.{inbound,outbound}.*_score */
	spam_settings *spam;                     /* weights per signal, lists, spam limits */
	struct bulk_settings bulk;               /* bulk.headers, bulk.senders, bulk.campaign_header */
	int arc_verify;                          /* arc.verify */
	int arc_oldest_pass;                     /* arc.oldest_pass */
	enum policy_arc_seal arc_seal;           /* arc.seal */
	struct policy_net *arc_seal_networks;    /* arc.seal_networks */
	size_t narc_seal_networks;
	const char *const *arc_seal_daemons;     /* arc.seal_daemons */
	size_t narc_seal_daemons;
	struct policy_name *arc_sealers;         /* arc.trusted_sealers */
	size_t narc_sealers;
};

/* policy_new - compile c; NULL with the first error in err ("FILE:LINE:
 * KEY: ..." as conf_check words it). Every value it compiles is checked
 * here whether or not conf_check ran first (trustmilter-check does not run
 * it); the checks of values it does not use (forwarders, listen addresses,
 * the report address) stay in conf_check only. */
struct policy *policy_new(conf *c, char *err, size_t errlen);
void policy_free(struct policy *p);

/* policy_rule_compile - "FINDING=ACTION[:CODE X.Y.Z text]", FINDING a known
 * finding or a prefix ending in '*' of one; 0, or -1 with the reason. */
int policy_rule_compile(const char *text, struct verdict_rule *r, char *why, size_t whylen);
/* policy_domain_rule_compile - "DOMAIN:FINDING=ACTION[:reply]". */
int policy_domain_rule_compile(const char *text, struct verdict_domain_rule *r, char *why,
                               size_t whylen);
/* policy_net_compile - an address or ADDRESS/LENGTH network. */
int policy_net_compile(const char *text, struct policy_net *n, char *why, size_t whylen);
/* policy_net_match - the first network of the list holding the address ip
 * (text), or NULL. */
const struct policy_net *policy_net_match(const struct policy_net *l, size_t n, const char *ip);

#endif
