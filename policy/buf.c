/*
 * buf - bounded byte buffer; see buf.h for the contract.
 *
 * Growth doubles the allocation up to the cap. All size arithmetic is checked
 * before it is done, so a hostile length can never wrap around.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include "buf.h"

struct buf {
	char *data;
	size_t len;
	size_t alloc;     /* bytes allocated, always > len (room for the NUL) */
	size_t cap;       /* maximum len */
	int overflowed;
};

/* buf_new - empty buffer with a 64-byte start. */
buf *buf_new(size_t cap)
{
	buf *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->alloc = cap < 63 ? cap + 1 : 64;
	b->data = malloc(b->alloc);
	if (b->data == NULL) {
		free(b);
		return NULL;
	}
	b->data[0] = '\0';
	b->cap = cap;
	return b;
}

/* buf_free - release, NULL accepted. */
void buf_free(buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b);
}

/* buf_reserve - make room for n more bytes plus NUL, within the cap. */
static int buf_reserve(buf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n) {
		b->overflowed = 1;
		return -1;
	}
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t na = b->alloc;
	while (na < need)
		na = na > (b->cap + 1) / 2 ? b->cap + 1 : na * 2;
	char *p = realloc(b->data, na);
	if (p == NULL) {
		b->overflowed = 1;
		return -1;
	}
	b->data = p;
	b->alloc = na;
	return 0;
}

/* buf_append - all or nothing append. */
int buf_append(buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* buf_puts - append a C string. */
int buf_puts(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* buf_putc - append one byte. */
int buf_putc(buf *b, int c)
{
	if (b->len + 1 < b->alloc && b->len < b->cap) {
		b->data[b->len++] = (char)c;
		b->data[b->len] = '\0';
		return 0;
	}
	char ch = (char)c;
	return buf_append(b, &ch, 1);
}

/* buf_vprintf - format into the free space; only when that is too small,
 * grow and format a second time. */
int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b->alloc - b->len;    /* > 0: alloc > len always */
	int n = vsnprintf(b->data + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n >= 0 && (size_t)n < room && (size_t)n <= b->cap && b->len <= b->cap - (size_t)n) {
		b->len += (size_t)n;
		return 0;
	}
	b->data[b->len] = '\0';            /* undo a partial or over-cap write */
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_printf - formatted append. */
int buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *buf_data(const buf *b) { return b->data; }
size_t buf_len(const buf *b) { return b->len; }
int buf_overflowed(const buf *b) { return b->overflowed; }

/* buf_truncate - shorten, never lengthen. */
void buf_truncate(buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* buf_reset - empty and clear the flag, keeping the allocation. */
void buf_reset(buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
	b->overflowed = 0;
}

/* buf_steal - hand the string to the caller. */
char *buf_steal(buf *b)
{
	char *p = b->data;
	free(b);
	return p;
}

/* str_copy - bounded copy of (p,n) into a fixed array. */
int str_copy(char *dst, size_t dstsz, const char *p, size_t n)
{
	if (dstsz == 0)
		return -1;
	size_t m = n < dstsz - 1 ? n : dstsz - 1;
	if (m)
		memcpy(dst, p, m);
	dst[m] = '\0';
	return m == n ? 0 : -1;
}

/* str_lower - ASCII lowercase in place. */
void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* mem_caseeq - ASCII case-insensitive equality. */
int mem_caseeq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* mem_linelen - see buf.h; memchr rather than a loop per byte. */
size_t mem_linelen(const char *p, size_t n)
{
	const char *lf = n ? memchr(p, '\n', n) : NULL;
	size_t m = lf ? (size_t)(lf - p) : n;
	const char *cr = m ? memchr(p, '\r', m) : NULL;
	return cr ? (size_t)(cr - p) : m;
}

/* str_printable - copy for logs: non-printable bytes become '?'. */
void str_printable(char *dst, size_t dstsz, const char *p, size_t n)
{
	if (dstsz == 0)
		return;
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)p[i];
		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[j] = '\0';
}

/* dom_label_byte - may c stand in a label under flags (dom_name_len)? */
static int dom_label_byte(unsigned char c, unsigned flags)
{
	if (!(flags & DOM_LDH))
		return c != '\0' && c != '.';
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || ((flags & DOM_8BIT) && c >= 0x80);
}

/* dom_name_len - see buf.h. */
long dom_name_len(const char *p, size_t n, unsigned flags)
{
	if ((flags & DOM_DOT) && n > 1 && p[n - 1] == '.')
		n--;
	if (n == 0 || (!(flags & DOM_NOCAP) && n > 253))
		return -1;
	size_t lab = 0, labels = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (lab == 0 || (!(flags & DOM_NOCAP) && lab > 63))
				return -1;
			if ((flags & DOM_EDGE) && (p[i - 1] == '-' || p[i - lab] == '-'))
				return -1;
			lab = 0;
			labels++;
		} else if (dom_label_byte((unsigned char)p[i], flags)) {
			lab++;
		} else {
			return -1;
		}
	}
	if ((flags & DOM_TWO) && labels < 2)
		return -1;
	return (long)n;
}

/* dom_at_or_below - see buf.h. */
int dom_at_or_below(const char *d, size_t dl, const char *base, size_t bl)
{
	if (bl == 0 || dl < bl)
		return 0;
	if (dl > bl && d[dl - bl - 1] != '.')
		return 0;
	return mem_caseeq(d + dl - bl, bl, base, bl);
}

/* fnv1a32 - see buf.h. */
uint32_t fnv1a32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* fnv1a64 - see buf.h. */
uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* hex_value - see buf.h. */
int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
