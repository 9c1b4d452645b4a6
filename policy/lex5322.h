/*
 * lex5322 - the RFC 5322 lexical pieces every header parser needs: CFWS
 * (white space, line breaks, nested comments), atext, atoms, dot-atom-text,
 * quoted strings with quoted-pairs, domain literals, and field names.
 *
 * Every function works on (ptr, len) untrusted input, never reads past len,
 * never recurses, and reports an unfinished construct as a result, never by
 * reading further. The rules, decided against the sender:
 *  - An unclosed comment, quoted string or domain literal runs to the end of
 *    the input and is an error (LEX_UNCLOSED): nothing after an open "(" is
 *    ever read as an address, an id or a URI.
 *  - Comments nest up to LEX_COMMENT_DEPTH_MAX levels; a deeper one is an
 *    error (LEX_TOO_DEEP) and likewise swallows the rest of the input. The
 *    nesting is a counter, not recursion, so the cap is about meaning, not
 *    stack: it is set so that any comment that fits the default header
 *    budget (HDR_DEFAULT_MAX_BYTES, 256 KB) is read in full, as RFC 5322
 *    sets no limit, and only a larger configured budget can reach it.
 *  - A backslash as the very last byte of a comment, quoted string or
 *    literal quotes nothing; the construct is then unclosed.
 * The callers map an error to the finding or result they already report
 * (addr: syntax error; format: invalid field; unsub: syntax error; authres:
 * no authserv-id). docs/CONFORMANCE.md lists these rules.
 */
#ifndef TM_LEX5322_H
#define TM_LEX5322_H

#include <stddef.h>

#define LEX_COMMENT_DEPTH_MAX 131072   /* 2 bytes a level: 256 KB */

enum lex_rc {
	LEX_OK = 0,
	LEX_UNCLOSED = -1,   /* comment, quoted string or literal not closed */
	LEX_TOO_DEEP = -2,   /* comments nested deeper than LEX_COMMENT_DEPTH_MAX */
	LEX_BAD = -3,        /* a byte the strict form does not allow */
	LEX_TOO_LONG = -4    /* decoded text does not fit the output */
};

/* lex_is_atext - RFC 5322 atext (ASCII only). */
int lex_is_atext(unsigned char c);
/* lex_is_atext8 - atext plus 8-bit bytes (RFC 6532 UTF-8 in headers). */
int lex_is_atext8(unsigned char c);

/* lex_comment - *pos on a '(': move past the matching ')'. Comments nest up
 * to max_depth levels (LEX_COMMENT_DEPTH_MAX for a header's CFWS; a caller
 * that expects only shallow comments gives its own, smaller cap); deeper is
 * LEX_TOO_DEEP. quoted-pairs quote any byte. On an error *pos is len, except
 * LEX_BAD: *pos was not on a '(' (it is left as it is). */
int lex_comment(const char *p, size_t len, size_t *pos, size_t max_depth);

/* lex_cfws - skip CFWS from *pos. LEX_OK with *pos on the first byte that
 * is not CFWS (or len); on an error *pos is len. *skipped (may be NULL) is
 * set nonzero when anything was skipped. */
int lex_cfws(const char *p, size_t len, size_t *pos, int *skipped);

/* lex_atom - length of the atext run at i (0 if none); utf8 admits 8-bit
 * bytes. */
size_t lex_atom(const char *p, size_t len, size_t i, int utf8);

/* lex_dot_atom_text - length of a dot-atom-text at i: atext runs joined by
 * single dots, no leading, trailing or double dot; 0 if there is none. */
size_t lex_dot_atom_text(const char *p, size_t len, size_t i, int utf8);

/* lex_qstring - *pos on a '"': move past the closing quote. quoted-pairs
 * give their second byte. With out, the content (quoted-pairs resolved,
 * everything else verbatim) is written there NUL-terminated and its length
 * stored in *olen, also on LEX_UNCLOSED (the text up to len). Flags:
 * LEX_Q_STRICT refuses control bytes (also after a backslash): LEX_BAD;
 * LEX_Q_UNFOLD leaves out the CR and LF bytes of folding (not quoted ones). */
#define LEX_Q_STRICT 1u
#define LEX_Q_UNFOLD 2u
int lex_qstring(const char *p, size_t len, size_t *pos, char *out, size_t outsz,
                size_t *olen, unsigned flags);

/* lex_dliteral - *pos on a '[': move past the closing ']'. Lenient: quoted-
 * pairs are honoured (obs-dtext). strict: RFC 5322 dtext only (no white
 * space, no backslash, no '['), as in a msg-id's no-fold-literal. */
int lex_dliteral(const char *p, size_t len, size_t *pos, int strict);

/* lex_field_name - RFC 5322 field-name: one or more printable ASCII bytes
 * except ':'. */
int lex_field_name(const char *p, size_t len);

#endif
