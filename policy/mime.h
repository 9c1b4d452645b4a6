/*
 * mime - a streaming, bounded MIME walker for the spam signals.
 *
 * It is a push parser: the session gives it the top-level Content-Type and
 * Content-Transfer-Encoding (mime_begin) and then the body in SMTP wire form,
 * in chunks of any size (mime_feed), and mime_end() at end of message. It never
 * stores the body: it keeps the facts of each part (type, charset, filename,
 * disposition, sizes) and the decoded text of text/plain and text/html parts,
 * each kind in one buffer capped at text_max bytes (parts separated by "\n").
 *
 * Caps (struct mime_limits), each with its flag in mime_facts when exceeded:
 *   max_bytes   body bytes looked at; the rest is not parsed (over_bytes)
 *   max_parts   parts whose facts are kept; later parts are skipped (over_parts)
 *   max_depth   multipart / message/rfc822 nesting (over_depth)
 *   text_max    decoded text kept per kind (text_truncated)
 * Lines longer than MIME_LINE_MAX are handled in pieces (long_lines): a
 * boundary can only start a line, and boundaries are at most 70 characters.
 *
 * Malformed input never stops the walker: bad base64 characters, a multipart
 * without boundary, part headers that never end, a missing closing boundary
 * are counted in `malformed` with the first reason kept in `malformed_why`.
 * Decoding: base64 and quoted-printable (RFC 2045 6.7, 6.8); 7bit, 8bit and
 * binary are passed through; unknown encodings are treated as 7bit. Charsets
 * are not converted: the signals look at ASCII patterns, which UTF-8 and the
 * ISO-8859 family keep.
 */
#ifndef TM_MIME_H
#define TM_MIME_H

#include <stddef.h>

#define MIME_LINE_MAX 4096          /* RFC 5322 2.1.1 allows 998; longer lines go in pieces */
#define MIME_FIELD_MAX 8192         /* one unfolded part header field; more is malformed */
#define MIME_DEPTH_HARD 64          /* boundary stack size; max_depth is capped to it */
#define MIME_BOUNDARY_MAX 72        /* RFC 2046 5.1.1: 1..70 characters */
#define MIME_TYPE_MAX 64
#define MIME_FILENAME_MAX 128

/* mime_b64_value - the 6-bit value of an RFC 2045 base64 alphabet byte,
 * -1 for any other byte ('=' padding included): the one base64 table
 * (a lookup, inlined: DKIM and ARC decode every b= and p= through it). */
extern const signed char mime_b64_table[256];
static inline int mime_b64_value(unsigned char c)
{
	return mime_b64_table[c];
}

/* Decoders on (ptr, len), for the walker's lines and for bodies held in
 * memory (feedback/fbmime). Each writes at most cap bytes to out, sets *olen
 * to the count written and returns a set of these flags: */
#define MIME_DEC_BAD  1u   /* base64: bytes outside the alphabet (skipped) */
#define MIME_DEC_OVER 2u   /* the output did not fit in cap: decoding stopped there */
#define MIME_DEC_SOFT 4u   /* quoted-printable: the input ends in a soft line break */

/* struct mime_b64 - base64 state carried from one piece of input to the
 * next; all zero to begin. */
struct mime_b64 {
	unsigned acc;
	int bits;
};

/* mime_b64_decode - base64 (RFC 2045 6.8): alphabet bytes accumulate, "="
 * ends the group (padding), white space and line ends are skipped, any
 * other byte is skipped and flagged MIME_DEC_BAD. Bits left over at the
 * end of the input stay in st for the next piece. */
unsigned mime_b64_decode(struct mime_b64 *st, const char *p, size_t n, char *out, size_t cap,
                         size_t *olen);

/* mime_qp_decode - quoted-printable (RFC 2045 6.7): "=XX" (either case) is
 * the byte, any other "=" stays as it is; white space at the end of a line
 * is not data; "=" ending a line is a soft line break (the line end is
 * dropped; at the end of the input it sets MIME_DEC_SOFT). Lines end at LF
 * (a CR before it belongs to the line end); a hard line end is copied as
 * it is (CRLF or LF). */
unsigned mime_qp_decode(const char *p, size_t n, char *out, size_t cap, size_t *olen);

struct mime_limits {
	size_t max_bytes;               /* body bytes parsed */
	size_t max_parts;               /* parts described */
	size_t max_depth;               /* nesting levels */
	size_t text_max;                /* decoded text kept per kind (plain, html) */
};

enum mime_cte { MIME_CTE_7BIT = 0, MIME_CTE_8BIT, MIME_CTE_BINARY, MIME_CTE_QP, MIME_CTE_BASE64,
                MIME_CTE_OTHER };

struct mime_part {
	char type[MIME_TYPE_MAX];        /* lowercase "text/plain"; default text/plain */
	char charset[32];               /* lowercase, "" if none */
	char filename[MIME_FILENAME_MAX]; /* from disposition filename= or type name=; printable */
	int attachment;                 /* Content-Disposition: attachment */
	enum mime_cte cte;
	unsigned depth;                 /* 0 = the message itself */
	unsigned long long decoded;     /* decoded bytes of a leaf part */
};

struct mime_facts {
	size_t nparts;                  /* parts described in parts[] */
	struct mime_part *parts;        /* max_parts entries */
	unsigned text_parts, html_parts, image_parts, attachments;
	unsigned long long scanned;     /* body bytes parsed */
	int over_bytes, over_parts, over_depth, text_truncated, long_lines;
	unsigned malformed;             /* count of problems found */
	char malformed_why[96];         /* the first problem */
};

enum mime_text { MIME_TEXT_PLAIN = 0, MIME_TEXT_HTML = 1 };

typedef struct mime_walker mime_walker;

/* mime_new - a walker with these caps; NULL on out of memory. */
mime_walker *mime_new(const struct mime_limits *lim);
/* mime_free - release m; NULL accepted. */
void mime_free(mime_walker *m);
/* mime_begin - the message's own Content-Type and Content-Transfer-Encoding
 * values (either may be NULL: text/plain, 7bit). Called once, before mime_feed;
 * mime_feed calls it with NULLs if the caller did not. */
void mime_begin(mime_walker *m, const char *ctype, size_t ctlen, const char *cte, size_t ctelen);
/* mime_feed - the next body bytes (CRLF or LF line ends). */
void mime_feed(mime_walker *m, const unsigned char *p, size_t n);
/* mime_end - the body is complete: flush the last line, check closing boundaries. */
void mime_end(mime_walker *m);
/* mime_facts - the facts so far (complete after mime_end). */
const struct mime_facts *mime_facts(const mime_walker *m);
/* mime_text - decoded text of one kind (not NUL-safe: use *len). */
const char *mime_text(const mime_walker *m, enum mime_text kind, size_t *len);

/* mime_param - the value of parameter name in a Content-Type or
 * Content-Disposition value (p,n): quoted strings decoded, RFC 2231 name*=
 * (charset'lang'%XX) and the first segment of name*0= taken. 0 and the value
 * in out (truncated to outsz), -1 if absent. */
int mime_param(const char *p, size_t n, const char *name, char *out, size_t outsz);

#endif
