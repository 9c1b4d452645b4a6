/*
 * session_int - the session's state, shared by session.c (events and
 * evaluation), render.c (JSON, text, log line) and authres.c (the headers we
 * add). Nothing outside the policy core includes this file.
 *
 * Each evaluator owns its outcome and adds its own findings (format_check,
 * spf_findings, dkim_verify_results, dmarc_findings, unsub_evaluate,
 * bulk_findings, spam_findings); ready_evaluate reads the outcomes. The
 * session keeps the outcomes, orchestrates in dependency order and decides.
 */
#ifndef TM_SESSION_INT_H
#define TM_SESSION_INT_H

#include "session.h"
#include "hdr.h"
#include "addr.h"
#include "dns.h"
#include "spf.h"
#include "dkim.h"
#include "dmarc.h"
#include "unsub.h"
#include "findings.h"
#include "provider.h"
#include "verdict.h"
#include "mime.h"
#include "iprev.h"
#include "spam.h"
#include "format.h"
#include "bulk.h"
#include "ready.h"
#include "policy.h"
#include "signkeys.h"
#include "dkimsign.h"
#include "arcseal.h"
#include "arc.h"
#include "fbcap.h"

struct tm_env {
	int refs;
	conf *conf;
	struct policy *pol;        /* the configuration compiled (the per-message path reads this) */
	dns_resolver *dns;
	dkim_engine *dkim;
	arckeys *arckeys;          /* ARC verification keys shared by the messages (arckeys.h) */
	signkeys *sign;            /* DKIM signing keys and settings (sign.*) */
	enum dmarc_mode dmarc_mode;
	char authserv_id[256];
	char hostname[256];
	const char *compliance_name; /* header.compliance (in conf): read for every header field */
	size_t compliance_len;
	tm_record_sink record_sink; /* the audit record of every message goes here, or NULL */
	void *record_arg;           /* its argument (not owned; outlives reloads) */
};

/* One author domain's DMARC reading (several when the From is ambiguous). */
struct dmarc_author {
	char domain[ADDR_DOMAIN_MAX];      /* "" for a From that gives no domain */
	enum auth_result result;
	enum dmarc_policy disposition;
};
#define SESSION_MAX_AUTHORS (FORMAT_AUTHORS_MAX + 1)  /* + the unreadable/unevaluated reading */

struct session {
	tm_env *env;
	/* connection */
	char client_host[256];
	char client_ip[64];
	char helo[256];
	enum direction dir;
	char dir_reason[128];
	char queue_id[64];
	char auth[128];
	char tls[32];
	char daemon[64];
	int seal_always;           /* session_set_seal */
	char source[512];
	size_t source_index;
	/* message */
	int in_message;
	unsigned long msg_count;
	char mail_from[512];
	char mf_domain[256];
	int mf_null;
	int mf_bad;
	unsigned nrcpt;
	unsigned rcpt_prov[PROV_N];   /* recipients per mailbox provider (provider.h) */
	fbcap *fb;                 /* the copy of a report message (inbound, to a report mailbox) */
	unsigned fb_rcpt;          /* recipients that are report mailboxes */
	hdr_set *hdrs;
	dkim_verify *dkim;
	dkimsign *sign;            /* outbound signing of this message, or NULL */
	arcseal *seal;             /* the ARC set this message gets (arc.seal), or NULL */
	struct dkim_sig *sigs_signed; /* our signatures then the arrived ones (s->sigs), or NULL */
	dns_budget budget;
	findings *f;
	unsigned long long body_bytes;
	unsigned ar_seen;          /* Authentication-Results fields seen (for removal index) */
	unsigned comp_seen;        /* compliance header fields seen (for removal index) */
	unsigned ar_removed;       /* forged Authentication-Results noted for removal */
	unsigned comp_removed;     /* compliance fields noted for removal */
	int failed;                /* an internal error (allocation): eom gives policy.on_error */
	struct verdict v;
	/* results, valid after eom; the single From domain is fo.from_domain */
	int evaluated;
	struct spf_outcome spf;
	char spf_ip[64];           /* the address SPF was evaluated for */
	int spf_evaluated;
	size_t nsigs;
	const struct dkim_sig *sigs; /* nsigs results, owned by dkim (kept until the next message) */
	struct dmarc_outcome dmarc;       /* the strictest reading over every author domain */
	int dmarc_evaluated;
	size_t nauthors;                  /* readings considered (dmarc_author each) */
	struct dmarc_author authors[SESSION_MAX_AUTHORS];
	struct bulk_outcome bulk;  /* bulk mail, why, the campaign key */
	struct ready_outcome ready; /* per-provider bulk-sender readiness */
	mime_walker *mime;         /* the body's MIME walk for the spam signals (NULL: spam off) */
	int mime_begun;
	struct iprev_outcome iprev; /* RFC 8601 iprev of the client (AR_NONE: not checked) */
	arc_verify *arc;           /* the message's ARC validation (NULL: arc.verify off) */
	struct arc_outcome arc_out; /* valid after eom when arc is set */
	char arc_override[256];    /* the trusted sealer whose ARC results overrode DMARC, or "" */
	char *authres;             /* Authentication-Results value (after the field name) */
	char *compliance;          /* compliance header value */
	/* Last, from fo on: large outcomes whose tables are valid up to their
	 * counts; session_new clears only their heads (the *_reset functions). */
	struct format_outcome fo;  /* the header format checks of this message (eval_from);
	                            * fo.from is the first From field, parsed */
	struct unsub_outcome unsub;
	struct spam_outcome spam;  /* score and signals (spam.evaluated 0: not run) */
};

/* session_author - the author domain to show: the single From domain, else
 * the domain of the strictest DMARC reading ("" when none could be read). */
static inline const char *session_author(const session *s)
{
	return s->fo.from_domain[0] ? s->fo.from_domain : s->dmarc.from_domain;
}

/* authres_build - the Authentication-Results value for s (heap string). */
char *authres_build(const session *s);
/* compliance_build - the compliance header value for s (heap string). */
char *compliance_build(const session *s);
/* authres_quote - append v as an RFC 8601 value: a token, or a quoted-string. */
void authres_value(buf *b, const char *v);
/* authres_servid - the authserv-id of an Authentication-Results value, into
 * out, after CFWS and quoted-string decoding; its length, or -1 (authres.c). */
int authres_servid(const char *v, size_t n, char *out, size_t outsz);

#endif
