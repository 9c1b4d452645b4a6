/*
 * format - RFC 5322 format checks over one message's header set.
 *
 * format_check() looks at the fields mailbox providers judge (one From with
 * one author domain, a valid Date and Message-ID, no repeated single-instance
 * fields, clean bytes) and reports what it finds as "format.*" findings. It
 * also hands back the facts other evaluators need: the From author domain
 * (only when there is exactly one, per DMARC, RFC 9989 5.3.1 -- otherwise
 * from_status says why not), the parsed From list, the Date and the
 * Message-ID. It never guesses: a From that parses differently depending on
 * how one reads it (from_status FORMAT_FROM_SYNTAX) has no author domain, and
 * deciding what that means (reject, score) is the verdict's job. For that it
 * also collects every author domain any From field could be read as
 * (authors[]; see format_authors in format.c), so that DMARC can apply the
 * strictest of them (docs/ARCHITECTURE.md, "Hostile input").
 *
 * Findings (stable names):
 *   format.from_missing            no From field (RFC 5322 3.6)
 *   format.from_multiple_fields    more than one From field (RFC 5322 3.6)
 *   format.from_syntax             the From field is not a clean mailbox-list
 *   format.from_no_address         From holds no address (empty, empty group)
 *   format.from_multiple_addresses From holds more than one address
 *   format.from_too_many           From holds more than ADDR_MAX addresses
 *   format.from_no_domain          a From address has no domain ("From: user")
 *   format.from_domain_invalid     a From domain is a literal or not a valid name
 *   format.sender_required         several From addresses but no Sender (3.6.2)
 *   format.sender_invalid          Sender is not exactly one mailbox with a domain
 *   format.date_missing            no Date field (RFC 5322 3.6)
 *   format.date_invalid            Date is not an RFC 5322 3.3/4.3 date-time
 *   format.date_weekday_mismatch   day-of-week is not the one the date implies (3.3)
 *   format.message_id_missing      no Message-ID field (RFC 5322 3.6.4 SHOULD)
 *   format.message_id_invalid      Message-ID is not one msg-id (RFC 5322 3.6.4)
 *   format.duplicate_<field>       a single-instance field appears more than once
 *                                  (RFC 5322 3.6: date, from, sender, reply_to, to,
 *                                  cc, bcc, message_id, in_reply_to, references,
 *                                  subject)
 *   format.header_8bit             raw non-ASCII bytes in a field value (only
 *                                  legal with SMTPUTF8, RFC 6532)
 *   format.header_control          control bytes (NUL, ESC, ...) in a field value
 */
#ifndef TM_FORMAT_H
#define TM_FORMAT_H

#include <stddef.h>
#include <time.h>
#include "addr.h"
#include "hdr.h"
#include "findings.h"

/* Distinct author domains collected from all From fields and evaluated by
 * DMARC; RFC 9989 11.5 asks receivers to limit them. Past it the set is
 * incomplete (authors_incomplete) and read as the worst case. */
#define FORMAT_AUTHORS_MAX 8

/* A msg-id cannot be folded (RFC 5322 3.6.4), so it fits one 998-octet line. */
#define FORMAT_MSGID_MAX 1000

enum format_from {
	FORMAT_FROM_OK = 0,           /* one author domain: from_domain is set */
	FORMAT_FROM_MISSING,          /* no From field */
	FORMAT_FROM_MULTIPLE_FIELDS,  /* more than one From field */
	FORMAT_FROM_SYNTAX,           /* the first From field has a syntax error */
	FORMAT_FROM_NO_ADDRESS,       /* no address at all */
	FORMAT_FROM_NO_DOMAIN,        /* an address without a domain */
	FORMAT_FROM_BAD_DOMAIN,       /* a domain literal or invalid domain name */
	FORMAT_FROM_MULTIPLE_DOMAINS, /* addresses with different domains, or too many */
};

enum format_date { FORMAT_DATE_OK = 0, FORMAT_DATE_MISSING, FORMAT_DATE_INVALID };
enum format_msgid { FORMAT_MSGID_OK = 0, FORMAT_MSGID_MISSING, FORMAT_MSGID_INVALID };

struct format_outcome {
	enum format_from from_status;
	/* the author domain, lowercased, no trailing dot; "" unless FORMAT_FROM_OK.
	 * Several addresses that all share one domain still give one author
	 * domain (FORMAT_FROM_OK, with format.from_multiple_addresses). */
	char from_domain[ADDR_DOMAIN_MAX];
	struct addr_list from;        /* the first From field, parsed (count 0 if none) */
	enum format_date date_status;
	time_t date;                  /* seconds since the epoch (UTC) when FORMAT_DATE_OK */
	int date_zone;                /* the zone as written, minutes east of UTC */
	enum format_msgid msgid_status;
	char message_id[FORMAT_MSGID_MAX]; /* "<left@right>", CFWS removed, when OK */
	/* Every author domain a reader could take from the message (format_authors
	 * in format.c says how they are collected), for DMARC's strictest reading. */
	size_t nauthors;
	char authors[FORMAT_AUTHORS_MAX][ADDR_DOMAIN_MAX]; /* lowercased, no trailing dot */
	int authors_incomplete;       /* From fields refused by their cap, or more distinct
	                               * domains than FORMAT_AUTHORS_MAX: one may be missing */
	int author_unreadable;        /* no From, or a From field or address that gives
	                               * no valid domain */
};

/* format_outcome_reset - an empty outcome (nothing checked); the address
 * table is not cleared, only its count. */
void format_outcome_reset(struct format_outcome *out);
/* format_check - run all checks on h, add findings to f (may be NULL), fill out. */
void format_check(const hdr_set *h, findings *f, struct format_outcome *out);

/* format_parse_date - parse an RFC 5322 date-time (3.3, obsolete forms of 4.3:
 * 2- and 3-digit years, UT/GMT/EST/... and military zones, CFWS anywhere,
 * plus "UTC"); seconds and day-of-week are optional. Returns 0 and sets *t
 * (UTC) and *zone (minutes east, may be NULL) if valid, 1 if valid but the
 * day-of-week does not match the date, -1 if invalid (*t untouched). */
int format_parse_date(const char *p, size_t n, time_t *t, int *zone);

/* format_parse_msgid - parse one RFC 5322 msg-id with optional CFWS around;
 * 0 and "<left@right>" in out[osz] if valid, -1 otherwise (out ""). */
int format_parse_msgid(const char *p, size_t n, char *out, size_t osz);

/* format_from_status_name - short text for logs ("ok", "missing", ...). */
const char *format_from_status_name(enum format_from s);

#endif
