/*
 * spam - the spam signal engine: named, weighted signals summed into a score.
 *
 * Each signal has a stable dotted name ("spam.helo.bare_ip"), a default
 * weight and a function in one table (spam.c): adding a signal is one entry
 * and one function. Families whose names carry a zone ("spam.dnsbl.ZONE",
 * "spam.uribl.ZONE") are one entry each. The weights can be overridden with
 * the list key spam.weights ("NAME=WEIGHT"; weight 0 turns a signal off);
 * docs/SIGNALS.md lists every signal with its meaning and default weight.
 *
 * spam_evaluate() reads facts other modules found (headers, the MIME walker's
 * part facts and decoded text, the iprev result, the envelope) and makes its
 * own DNS queries (DNS blocklists for the client, URL domain blocklists)
 * through dns.h, counted against the message's budget and against
 * spam.max_dns_queries. Connection signals (HELO, reverse DNS, DNSBL) apply
 * to inbound mail only: outbound clients are internal hosts.
 *
 * Bounded: at most SPAM_MAX_SIGNALS signals are listed (the score counts all);
 * the walker's and the URL extractor's caps, and the DNS cap, are signals
 * (spam.limits.*) when exceeded.
 */
#ifndef TM_SPAM_H
#define TM_SPAM_H

#include <stddef.h>
#include <time.h>
#include "conf.h"
#include "dns.h"
#include "hdr.h"
#include "mime.h"
#include "iprev.h"
#include "format.h"
#include "findings.h"

#define SPAM_MAX_SIGNALS 64       /* the table has ~32 entries; zones add at most 2 x 16 */
#define SPAM_NAME_MAX 128         /* "spam.dnsbl." + a zone name */
#define SPAM_REASON_MAX 160
#define SPAM_MAX_ZONES 16         /* DNSBL or URIBL zones used; more is a config error */
#define SPAM_ZONE_MAX 100         /* characters of one zone name */

struct spam_signal {
	char name[SPAM_NAME_MAX];
	double weight;
	char reason[SPAM_REASON_MAX];
};

struct spam_outcome {
	int evaluated;
	double score;                 /* sum of the weights of every signal that fired */
	size_t nsignals;
	int more;                     /* signals past SPAM_MAX_SIGNALS (counted in score) */
	unsigned dns_queries;         /* queries the engine made */
	struct spam_signal signals[SPAM_MAX_SIGNALS]; /* must stay last: see spam_outcome_reset */
};

/* spam_outcome_reset - an empty outcome (not evaluated, no signals). The
 * signal table (19 KB) is not cleared: entries are written whole as
 * nsignals grows. */
void spam_outcome_reset(struct spam_outcome *o);

/* The spam configuration compiled once per configuration snapshot:
 * weights resolved per signal, lists and limits (spam_settings_new). */
typedef struct spam_settings spam_settings;

struct spam_input {
	const spam_settings *settings;
	dns_resolver *dns;            /* NULL: no DNS signals */
	dns_budget *budget;
	int outbound;
	const char *client_ip;        /* "" when unknown */
	const char *helo;             /* "" when unknown */
	const char *our_name;         /* this host's name (HELO must not claim it) */
	const struct iprev_outcome *iprev; /* NULL when not checked */
	const hdr_set *hdrs;
	const struct format_outcome *fo; /* format_check of hdrs already run; NULL: run it here */
	const mime_walker *mime;      /* after mime_end; NULL: no body signals */
	int bulk;                     /* the message is bulk mail */
	unsigned nrcpt;               /* envelope recipients */
	time_t now;
};

/* One row of the signal table (for documentation and tests). */
struct spam_def_info {
	const char *name;             /* "spam.dnsbl" for the family spam.dnsbl.ZONE */
	double weight;
	const char *doc;
	int family;                   /* signals are named NAME.ZONE */
	int inbound_only;             /* a connection signal, not evaluated outbound */
};

/* spam_evaluate - all signals for one message into out; 0, or -1 when it
 * ran out of memory (out is then no verdict: the caller refuses to guess). */
int spam_evaluate(const struct spam_input *in, struct spam_outcome *out);
/* spam_findings - the score against the thresholds (0: off) as
 * spam.score.reject or spam.score.quarantine into f. */
void spam_findings(const struct spam_outcome *o, long reject, long quarantine, findings *f);
/* spam_conf_check - validate spam.weights, spam.dnsbl_zones, spam.uribl_zones
 * items; 0 ok, -1 with the reason in err. */
int spam_conf_check(const conf *c, char *err, size_t errlen);
/* spam_settings_new - validate (spam_conf_check) and compile the spam.*
 * keys of c, which must outlive the result; NULL with the reason in err. */
spam_settings *spam_settings_new(const conf *c, char *err, size_t errlen);
void spam_settings_free(spam_settings *st);
/* spam_table_row - row i of the signal table; 0, or -1 past the end. */
int spam_table_row(size_t i, struct spam_def_info *out);
/* spam_has - nonzero if the outcome lists a signal with this name. */
int spam_has(const struct spam_outcome *o, const char *name);
/* spam_decode_2047 - RFC 2047 encoded-words (B and Q) in (p,n) decoded into
 * out[outsz] as raw bytes, whitespace between adjacent encoded-words dropped;
 * returns the length written. */
size_t spam_decode_2047(const char *p, size_t n, char *out, size_t outsz);

#endif
