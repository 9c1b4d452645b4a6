/*
 * hdr - the header section of one message, as received, with caps.
 *
 * Fields are stored in arrival order with their raw (folded) value and an
 * unfolded copy (CRLF/LF before WSP removed). Lookup is ASCII
 * case-insensitive on the name. The set refuses fields past max_count or past
 * max_bytes of total name+value; hdr_add() then returns -1 and the caller
 * reports "limits.headers" -- nothing is silently truncated.
 *
 * Protected fields: the fields that authentication and the verdict rest on
 * (From, Sender, DKIM-Signature, ARC-*, Authentication-Results,
 * List-Unsubscribe, List-Unsubscribe-Post and our own compliance field) are
 * kept whatever the general caps say, so padding the header section with junk
 * cannot push them out. Each class has its own count and byte cap instead
 * (hdr_classes below, HDR_CAP_*); past it hdr_add() returns -3 and the
 * caller reports the class's finding (struct hdr_class.finding), and
 * hdr_refused_class() tells the evaluators that fields of that class are
 * missing. Protected fields do not count against the general caps.
 */
#ifndef TM_HDR_H
#define TM_HDR_H

#include <stddef.h>

#define HDR_DEFAULT_MAX_COUNT 1000      /* real mail has < 100; thousands is an attack */
#define HDR_DEFAULT_MAX_BYTES (256*1024) /* RFC 5322 lines are <= 998; allow long DKIM/ARC sets */

struct hdr_field {
	const char *name;     /* NUL-terminated copy, exact case */
	size_t nlen;
	const char *value;    /* raw value as received (leading space kept), NUL-terminated copy */
	size_t vlen;
	const char *unfolded; /* value with folding removed and leading/trailing WSP trimmed */
	size_t ulen;
};

typedef struct hdr_set hdr_set;

/* Per-class caps of the protected fields. Real mail has one From and Sender,
 * a few signatures and results; the caps (with the byte caps in hdr.c, 292 KB
 * in all) bound memory while leaving room far above real mail. */
#define HDR_CAP_FROM 16            /* From fields; more than one is already a finding */
#define HDR_CAP_SENDER 16
#define HDR_CAP_DKIM 64            /* DKIM-Signature; the verifier examines 8 (DKIM_MAX_SIGS) */
#define HDR_CAP_ARC 150            /* ARC-*: 50 instances (RFC 8617 4.2.1) of 3 fields */
#define HDR_CAP_AUTHRES 64         /* Authentication-Results */
#define HDR_CAP_LIST_UNSUB 8       /* List-Unsubscribe, and List-Unsubscribe-Post */
#define HDR_CAP_COMPLIANCE 64      /* our compliance field (header.compliance) */

/* One class of protected fields. */
struct hdr_class {
	const char *name;        /* field name, or NULL for the compliance field */
	int prefix;              /* name is a prefix ("ARC-") */
	size_t max_count;        /* fields of this class kept */
	size_t max_bytes;        /* name+value bytes of this class kept */
	const char *finding;     /* reported when a field of the class is refused */
};

hdr_set *hdr_new(size_t max_count, size_t max_bytes);
/* hdr_set_compliance - the name of our compliance field (protected); "" none.
 * The name is not copied: it must outlive the set (it lives in the config). */
void hdr_set_compliance(hdr_set *h, const char *name);
/* hdr_class_of - the protected class of a field name, or NULL. */
const struct hdr_class *hdr_class_of(const hdr_set *h, const char *name, size_t nlen);
/* hdr_refused_class - fields of this name's protected class refused by the
 * class cap (0 for an unprotected name). */
size_t hdr_refused_class(const hdr_set *h, const char *name);
void hdr_free(hdr_set *h);
void hdr_reset(hdr_set *h);
/* hdr_add - append a field; 0 ok, -1 past a general cap (field not stored),
 * -2 bad name, -3 a protected field past its class cap (not stored). A name
 * with WSP before the colon (RFC 5322 4.5.8 obs-optional, "From :") is stored
 * and classified without that WSP, as a reader of the message would. */
int hdr_add(hdr_set *h, const char *name, size_t nlen, const char *value, size_t vlen);
size_t hdr_count(const hdr_set *h);
const struct hdr_field *hdr_get(const hdr_set *h, size_t i);
/* hdr_count_name - how many fields have this name. */
size_t hdr_count_name(const hdr_set *h, const char *name);
/* hdr_find - the nth (0-based, top to bottom) field with this name, or NULL. */
const struct hdr_field *hdr_find(const hdr_set *h, const char *name, size_t nth);
/* hdr_refused - how many fields were refused by the caps. */
size_t hdr_refused(const hdr_set *h);

#endif
