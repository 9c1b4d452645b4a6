/*
 * dkimcanon - the DKIM header machinery shared by everything that signs or
 * verifies DKIM-style signatures itself (outbound signing, ARC): RFC 6376
 * tag-lists (3.2), header canonicalization (3.4.1 simple, 3.4.2 relaxed), the
 * signature field with its b= value removed (3.7), header selection from the
 * bottom (5.4.2), and base64 on the shared alphabet (mime_b64_value).
 *
 * Everything works on (ptr, len) and appends to a capped buf; over the cap or
 * on malformed input the functions return -1 and the caller fails the
 * signature (never passes it).
 */
#ifndef TM_DKIMCANON_H
#define TM_DKIMCANON_H

#include <stddef.h>
#include "buf.h"
#include "hdr.h"

enum dkim_hcanon { DKIM_HC_SIMPLE, DKIM_HC_RELAXED };

/* A tag of a tag-list: name and value point into the parsed text; the value
 * has its surrounding FWS removed (inner FWS is kept as received). */
struct dkim_tag {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* Names in a signed-header list (h=) that dkimcanon_headers accepts. */
#define DKIMCANON_MAX_HLIST 256

/* dkimtag_parse - the RFC 6376 3.2 tag-list (p,n) into t[max]. Tag names are
 * ALPHA *(ALPHA / DIGIT / "_"); values are VALCHARs (and 8-bit bytes, which
 * RFC 8616 allows in i=) with FWS between them. One empty tag-spec is allowed
 * at the end (a trailing ";"). Returns the count, or -1 on a syntax error, an
 * empty or duplicate tag name, or more than max tags. */
int dkimtag_parse(const char *p, size_t n, struct dkim_tag *t, size_t max);
/* dkimtag_get - the tag with this name (case-sensitive, RFC 6376 3.2), or NULL. */
const struct dkim_tag *dkimtag_get(const struct dkim_tag *t, int count, const char *name);

/* dkimcanon_header - append one field "name:value" canonicalized, without a
 * CRLF. value is as received (hdr_field.value: leading space and folding
 * kept). Simple: unchanged, except that CR, LF and CRLF become CRLF (the wire
 * form). Relaxed: name lower-cased and trimmed, value unfolded, runs of WSP
 * made one SP, WSP at both ends removed. 0, or -1 past the buffer's cap. */
int dkimcanon_header(buf *out, enum dkim_hcanon c, const char *name, size_t nlen,
                     const char *value, size_t vlen);

/* dkimcanon_strip_b - append value with the value of its b= tag removed,
 * surrounding white space included (the "b=" stays, every other byte is
 * unchanged), as RFC 6376 3.7 hashes the signature field itself. -1 past the
 * cap, or when value is not a tag-list with a b= tag. */
int dkimcanon_strip_b(buf *out, const char *value, size_t vlen);
/* dkimcanon_strip_tag - the same for a b= tag already parsed out of value by
 * dkimtag_parse (b points into value): no second parse. */
int dkimcanon_strip_tag(buf *out, const char *value, size_t vlen, const struct dkim_tag *b);

/* dkimcanon_selected - the first part of dkimcanon_headers: the fields the
 * h= list (hlist,hlen) selects, canonicalized, each followed by CRLF. -1 past
 * the cap, on an empty name or more than DKIMCANON_MAX_HLIST names. */
int dkimcanon_selected(buf *out, enum dkim_hcanon c, const hdr_set *h,
                       const char *hlist, size_t hlen, const struct hdr_field *skip);
/* dkimcanon_headers - the signed header data of RFC 6376 3.7 (and RFC 8617
 * 5.1.1 for ARC-Message-Signature) into out: for each name of the
 * colon-separated list (hlist,hlen), the next not yet used field of that name
 * counted from the bottom of h (5.4.2; a name with no instance left adds
 * nothing), canonicalized and followed by CRLF; then the signature field
 * (sname, svalue) canonicalized with its b= value stripped, without CRLF.
 * skip: a field of h never selected (the signature field itself), or NULL.
 * -1 past the cap, on an empty name or more than DKIMCANON_MAX_HLIST names,
 * or when svalue has no b= tag. */
int dkimcanon_headers(buf *out, enum dkim_hcanon c, const hdr_set *h,
                      const char *hlist, size_t hlen, const struct hdr_field *skip,
                      const char *sname, size_t snlen, const char *svalue, size_t svlen);

/* dkimcanon_b64 - append the base64 of (p,n), without line breaks. */
int dkimcanon_b64(buf *out, const unsigned char *p, size_t n);
/* dkimcanon_unb64 - decode base64 (p,n) into out[outsz], FWS ignored anywhere,
 * at most two '=' at the end. The length, or -1 on a bad character, bad
 * padding, a length that is not a whole number of quanta, or out too small. */
long dkimcanon_unb64(const char *p, size_t n, unsigned char *out, size_t outsz);

#endif
