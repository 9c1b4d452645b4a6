/*
 * buf - a bounded, growable byte buffer.
 *
 * Every append is checked against the cap given at creation; an append that
 * would pass the cap (or fails to allocate) appends nothing, returns -1 and
 * sets the sticky "overflowed" flag, so callers can report a named finding
 * instead of silently truncating. The contents are always NUL-terminated for
 * convenience, but may contain NUL bytes: use buf_len(), not strlen().
 */
#ifndef TM_BUF_H
#define TM_BUF_H

#include <stddef.h>
#include <stdarg.h>

typedef struct buf buf;

/* buf_new - create an empty buffer that may hold at most cap bytes. NULL on OOM. */
buf *buf_new(size_t cap);
/* buf_free - release b; NULL is accepted. */
void buf_free(buf *b);
/* buf_append - append n bytes; 0 on success, -1 (nothing appended) past the cap. */
int buf_append(buf *b, const void *p, size_t n);
/* buf_puts - append a NUL-terminated string. */
int buf_puts(buf *b, const char *s);
/* buf_putc - append one byte. */
int buf_putc(buf *b, int c);
/* buf_printf - append formatted text; all or nothing, -1 past the cap. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
/* buf_data - the bytes, always followed by a NUL. Never NULL. */
const char *buf_data(const buf *b);
/* buf_len - number of bytes held. */
size_t buf_len(const buf *b);
/* buf_truncate - shorten to len bytes (no-op if already shorter). */
void buf_truncate(buf *b, size_t len);
/* buf_reset - empty the buffer and clear the overflow flag. */
void buf_reset(buf *b);
/* buf_overflowed - nonzero once any append was refused. */
int buf_overflowed(const buf *b);
/* buf_steal - return the heap string (caller frees) and free b. */
char *buf_steal(buf *b);

/* Bounded string helpers for fixed arrays (never overflow, always NUL-terminate). */
/* str_copy - copy (p,n) into dst[dstsz], truncating; returns 0, or -1 if truncated. */
int str_copy(char *dst, size_t dstsz, const char *p, size_t n);
/* str_lower - lowercase ASCII in place. */
void str_lower(char *s);
/* mem_casecmp_eq - ASCII case-insensitive equality of (a,an) and (b,bn). */
int mem_caseeq(const char *a, size_t an, const char *b, size_t bn);
/* mem_linelen - bytes of (p,n) before its first CR or LF (n when none). */
size_t mem_linelen(const char *p, size_t n);
/* str_printable - copy (p,n) into dst[dstsz] replacing non-printables with '?'
 * (for logging attacker-supplied strings). */
void str_printable(char *dst, size_t dstsz, const char *p, size_t n);
/* dom_at_or_below - (d,dl) equals (base,bl) or is a subdomain of it (label-
 * wise, ASCII case-insensitive: "a.example.org" is below "example.org",
 * "badexample.org" is not). An empty base matches nothing. */
int dom_at_or_below(const char *d, size_t dl, const char *base, size_t bl);

/* dom_name_len - check (p, n) as a domain name: labels separated by single
 * dots, none empty, a label at most 63 bytes and the name at most 253 (bytes
 * of the name without a final dot). Returns that length, or -1. The flags
 * say what else the caller's grammar allows or asks:
 *   DOM_DOT    one final dot (absolute form) is allowed and not counted
 *   DOM_LDH    label bytes are letters, digits, '-' and '_' only (without
 *              it any byte but NUL and '.')
 *   DOM_8BIT   with DOM_LDH, bytes 0x80-0xff too (U-labels of SMTPUTF8)
 *   DOM_EDGE   with DOM_LDH, no '-' first or last in a label (host names)
 *   DOM_NOCAP  no 63/253-byte limits (the caller caps the copy)
 *   DOM_TWO    at least two labels (no bare top-level name) */
#define DOM_DOT   0x01u
#define DOM_LDH   0x02u
#define DOM_8BIT  0x04u
#define DOM_EDGE  0x08u
#define DOM_NOCAP 0x10u
#define DOM_TWO   0x20u
long dom_name_len(const char *p, size_t n, unsigned flags);

/* hex_value - the value of a hex digit (either case), -1 for any other byte. */
int hex_value(int c);

/* 32- and 64-bit FNV-1a over (p,n), continuing from h (start with the
 * FNV*_INIT offset basis). For table slots and sampling, never security. */
#include <stdint.h>
#define FNV32_INIT 2166136261u
#define FNV64_INIT 14695981039346656037ULL
uint32_t fnv1a32(uint32_t h, const void *p, size_t n);
uint64_t fnv1a64(uint64_t h, const void *p, size_t n);

#endif
