/*
 * audit - one audit record per message: the facts the statistics need,
 * copied out of an evaluated session into a plain struct with bounded
 * arrays, so that it can be queued, written by another thread and read back
 * from the store without touching the session again.
 *
 * The schema (docs/STATISTICS.md) is the column table audit_columns[]
 * (audit.c): one row per column of the "messages" table with its name, SQL
 * type, where it lives in the struct and how it becomes text. The store's
 * DDL, INSERT and SELECT, and the row reader, iterate that table; nothing
 * maps columns by position. Enumerations are C enums in the record and text
 * in the database, through the one name function of each enum (result_name,
 * verdict_action_name, ...); a name the program does not know reads back as
 * the enum's value 0 (none, accept, inbound, unspecified, absent, treewalk).
 * The arrays are stored as text (findings and signals space-separated,
 * signatures as "result:d:s:flags"). Strings are printable ASCII (attacker
 * bytes become '?'); a field that did not fit its array is cut and ends in
 * '~' -- reports count, never parse free text.
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
#include "result.h"     /* enum auth_result, result_name */
#include "verdict.h"    /* enum verdict_action, verdict_action_name */
#include "dmarc.h"      /* enum dmarc_policy, enum dmarc_mode */
#include "unsub.h"      /* enum unsub_verdict */
#include "session.h"    /* enum direction */

#define AUDIT_MAX_SIGS 8          /* = DKIM_MAX_SIGS: signatures examined per message */
#define AUDIT_MAX_FINDINGS 64     /* = FINDINGS_MAX */
#define AUDIT_MAX_SIGNALS 32      /* spam signals kept per message */
#define AUDIT_NAME_MAX 64         /* a finding or signal name */
#define AUDIT_DOMAIN_MAX 256      /* a domain name (253) plus room */
#define AUDIT_TEXT_MAX 4096       /* a list column rendered as text */
#define AUDIT_MAX_COLUMNS 64      /* capacity of the column table (audit_ncolumns) */

struct audit_sig {
	enum auth_result result;
	char domain[AUDIT_DOMAIN_MAX];/* d= */
	char selector[128];           /* s= */
	int aligned;                  /* d= aligns with the From domain */
	int covers_unsub;             /* h= covers List-Unsubscribe and List-Unsubscribe-Post */
};

struct audit_record {
	int64_t ts;                   /* end of message, seconds since the epoch (UTC) */
	int64_t eom_us;               /* time spent evaluating at end of message (µs); for the
	                                 latency histogram, not stored */
	char host[AUDIT_DOMAIN_MAX];  /* the milter's host name (fleets: which MTA) */
	char queue_id[64];
	enum direction direction;
	char client_ip[64];
	char helo[AUDIT_DOMAIN_MAX];
	char mail_from_domain[AUDIT_DOMAIN_MAX]; /* "" for the null path */
	char from_domain[AUDIT_DOMAIN_MAX];      /* the single From domain, "" when none */
	enum auth_result spf_result;
	char spf_domain[AUDIT_DOMAIN_MAX];
	size_t nsigs;
	struct audit_sig sigs[AUDIT_MAX_SIGS];
	enum auth_result dmarc_result; /* pass fail none temperror permerror */
	enum dmarc_policy dmarc_policy; /* the p/sp/np that applies; UNSPEC ("") without a record */
	enum dmarc_policy dmarc_disposition; /* none quarantine reject */
	char dmarc_policy_domain[AUDIT_DOMAIN_MAX];
	int dmarc_spf_aligned, dmarc_dkim_aligned;
	/* the published record, for RFC 9990 policy_published (UNSPEC, "", when absent) */
	enum dmarc_policy dmarc_p, dmarc_sp, dmarc_np;
	char dmarc_adkim[2], dmarc_aspf[2], dmarc_testing[2];  /* "r"/"s", "y"/"n" */
	enum dmarc_mode dmarc_discovery; /* "treewalk" (RFC 9989) or "psl" (RFC 7489) */
	char dmarc_rua[512];
	enum unsub_verdict unsub_verdict; /* compliant noncompliant absent */
	size_t nunsub_findings;
	char unsub_findings[16][AUDIT_NAME_MAX];
	int bulk;
	char campaign[AUDIT_DOMAIN_MAX];
	int has_spam;                 /* spam_score is meaningful (spam signals evaluated) */
	double spam_score;
	size_t nsignals;
	char signals[AUDIT_MAX_SIGNALS][AUDIT_NAME_MAX];
	char tls_version[32];         /* {tls_version}, "" when the hop was not TLS */
	enum verdict_action action;   /* what policy decided */
	enum verdict_action action_enforced; /* what was done (accept under dry-run/allowlist) */
	int gmail_ready, yahoo_ready, microsoft_ready;
	int64_t size;                 /* header + body bytes */
	unsigned nrcpt;
	char message_id[AUDIT_DOMAIN_MAX];     /* the Message-ID field's value, "" without one */
	unsigned rcpt_gmail, rcpt_yahoo, rcpt_microsoft, rcpt_other;  /* nrcpt per provider */
	enum auth_result arc;                  /* ARC chain: pass fail (none: no ARC set, or not verified) */
	char arc_override[AUDIT_DOMAIN_MAX];   /* the trusted ARC sealer that overrode DMARC, or "" */
	unsigned arc_sealed;                   /* the i= of the ARC set we added (arc.seal), 0: none */
	size_t nfindings;
	char findings[AUDIT_MAX_FINDINGS][AUDIT_NAME_MAX];
};

/* How a column's value is kept in the record and written as text. */
enum audit_kind {
	AUDIT_TEXT,     /* char[size], written as is */
	AUDIT_INT64,    /* int64_t, decimal */
	AUDIT_UINT,     /* unsigned, decimal */
	AUDIT_BOOL,     /* int, written 0 or 1 */
	AUDIT_ENUM,     /* an enum, written as its name (en) */
	AUDIT_SCORE,    /* double, "%.17g"; SQL NULL when the int flag at aux is 0 */
	AUDIT_LIST,     /* char[size][AUDIT_NAME_MAX], count (size_t) at aux; space-separated */
	AUDIT_SIGS,     /* the signatures (sigs, nsigs): audit_sigs_text */
};

/* An enum's names: the name function its module exports, and the values. */
struct audit_enum {
	const char *(*name)(int v);   /* value -> name, for 0 <= v < count */
	int count;
};

/* One column of the messages table. */
struct audit_column {
	const char *name;             /* column name */
	const char *sql_type;         /* SQL type and constraint, the same in SQLite and PostgreSQL */
	enum audit_kind kind;
	size_t off;                   /* offsetof(struct audit_record, field) */
	size_t size;                  /* AUDIT_TEXT: sizeof the array; AUDIT_LIST: its items */
	size_t aux;                   /* AUDIT_LIST: offset of the count; AUDIT_SCORE: of the flag */
	const struct audit_enum *en;  /* AUDIT_ENUM */
	int since;                    /* the schema version (store.c migrations) that added it */
};

/* The columns, in table order (the order of the INSERT and the SELECT). */
extern const struct audit_column audit_columns[];
extern const size_t audit_ncolumns;

/* The enums of the record, for the counters and the reports. */
extern const struct audit_enum audit_enum_result, audit_enum_action, audit_enum_direction,
	audit_enum_dmarc_policy, audit_enum_unsub, audit_enum_discovery;

/* audit_enum_name - the name of v ("" when out of range). */
const char *audit_enum_name(const struct audit_enum *e, int v);
/* audit_enum_parse - the value named s; 0 for a name this program does not know. */
int audit_enum_parse(const struct audit_enum *e, const char *s);

/* audit_column_text - column c of r as text: a pointer into r or into tmp
 * (at least AUDIT_TEXT_MAX bytes), or NULL for SQL NULL. */
const char *audit_column_text(const struct audit_column *c, const struct audit_record *r,
                              char *tmp, size_t tmpsz);
/* audit_column_max - the longest text column c can have, without the NUL. */
size_t audit_column_max(const struct audit_column *c);
/* audit_column_named - the column called name, NULL if there is none. */
const struct audit_column *audit_column_named(const char *name);
/* audit_column_parse - the inverse: text (NULL = SQL NULL) into r's field;
 * strings are cut at the array's size, an unknown enum name reads as 0. */
void audit_column_parse(const struct audit_column *c, struct audit_record *r, const char *text);

/* audit_list_text - items (findings, signals) as one space-separated string. */
void audit_list_text(char (*items)[AUDIT_NAME_MAX], size_t n, char *out, size_t outsz);
/* audit_list_parse - split a space-separated string back into items. */
size_t audit_list_parse(const char *text, char (*items)[AUDIT_NAME_MAX], size_t max);
/* audit_sigs_text - signatures as "result:d:s:flags" separated by spaces
 * (flags: 'a' aligned, 'u' covers both unsubscribe fields, '-' none). */
void audit_sigs_text(const struct audit_record *r, char *out, size_t outsz);
/* audit_sigs_parse - the inverse of audit_sigs_text, into r->sigs. */
void audit_sigs_parse(const char *text, struct audit_record *r);

#endif
