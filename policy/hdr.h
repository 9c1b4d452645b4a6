/*
 * hdr - the header section of one message, as received, with caps.
 *
 * Fields are stored in arrival order with their raw (folded) value and an
 * unfolded copy (CRLF/LF before WSP removed). Lookup is ASCII
 * case-insensitive on the name. The set refuses fields past max_count or past
 * max_bytes of total name+value; hdr_add() then returns -1 and the caller
 * reports "limits.headers" -- nothing is silently truncated.
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

hdr_set *hdr_new(size_t max_count, size_t max_bytes);
void hdr_free(hdr_set *h);
void hdr_reset(hdr_set *h);
/* hdr_add - append a field; 0 ok, -1 past a cap (field not stored), -2 bad name. */
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
