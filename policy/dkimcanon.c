/*
 * dkimcanon - RFC 6376 tag-lists, header canonicalization, b= stripping,
 * header selection and base64 for our own signer and the ARC verifier.
 */
#include <stdint.h>
#include <string.h>
#include "dkimcanon.h"
#include "mime.h"

/* fws - white space as it appears in folded fields (WSP and line ends). */
static const unsigned char fws_tab[256] = { [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1 };
static int fws(unsigned char c)
{
	return fws_tab[c];
}

static int alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int alnumpunc(unsigned char c)
{
	return alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static size_t skip_fws(const char *p, size_t n, size_t i)
{
	while (i < n && fws((unsigned char)p[i]))
		i++;
	return i;
}

/* Byte classes of a tag value, by table (a b= value is some hundred bytes
 * and every signature is parsed): C_FWS, C_VAL (RFC 6376 VALCHAR, %x21-3A /
 * %x3C-7E, plus 8-bit bytes, RFC 8616), 0 for a byte no value has; ';' ends
 * the value. */
enum { C_FWS = 1, C_VAL = 2, C_END = 4 };
#define CL16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char vclass[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, C_FWS, C_FWS, 0, 0, C_FWS, 0, 0,   /* HT, LF, CR */
	CL16(0),
	C_FWS, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL,          /* SP, 0x21.. */
	C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL,
	C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL,          /* 0x30.. */
	C_VAL, C_VAL, C_VAL, C_END, C_VAL, C_VAL, C_VAL, C_VAL,          /* ';' */
	CL16(C_VAL), CL16(C_VAL), CL16(C_VAL),                            /* 0x40..0x6f */
	C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL,          /* 0x70.. */
	C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, C_VAL, 0,              /* DEL */
	CL16(C_VAL), CL16(C_VAL), CL16(C_VAL), CL16(C_VAL),              /* 8-bit (RFC 8616) */
	CL16(C_VAL), CL16(C_VAL), CL16(C_VAL), CL16(C_VAL),
};

/* tag_value - the value from i (after the FWS that follows '=') to the next
 * ';' or the end: its bounds without trailing FWS, and where it ends (at the
 * ';' or n). -1 on a byte no value has. */
static int tag_value(const char *p, size_t n, size_t i, size_t *vs, size_t *ve, size_t *end)
{
	size_t last = i;
	*vs = i;
	for (; i < n; i++) {
		unsigned k = vclass[(unsigned char)p[i]];
		if (k == C_VAL)
			last = i + 1;
		else if (k != C_FWS)
			break;
	}
	if (i < n && p[i] != ';')
		return -1;
	*ve = last;
	*end = i;
	return 0;
}

/* dkimtag_parse - see dkimcanon.h. */
int dkimtag_parse(const char *p, size_t n, struct dkim_tag *t, size_t max)
{
	size_t i = 0;
	int count = 0;
	for (;;) {
		i = skip_fws(p, n, i);
		if (i == n)
			return count;
		if (!alpha((unsigned char)p[i]))
			return -1;
		size_t ns = i;
		while (i < n && alnumpunc((unsigned char)p[i]))
			i++;
		size_t nl = i - ns;
		i = skip_fws(p, n, i);
		if (i == n || p[i] != '=')
			return -1;
		size_t vs, ve, end;
		if (tag_value(p, n, skip_fws(p, n, i + 1), &vs, &ve, &end) < 0)
			return -1;
		for (int j = 0; j < count; j++)
			if (t[j].nlen == nl && memcmp(t[j].name, p + ns, nl) == 0)
				return -1;
		if ((size_t)count >= max)
			return -1;
		t[count++] = (struct dkim_tag){ p + ns, nl, p + vs, ve - vs };
		if (end == n)
			return count;
		i = end + 1;
	}
}

/* dkimtag_get - see dkimcanon.h. */
const struct dkim_tag *dkimtag_get(const struct dkim_tag *t, int count, const char *name)
{
	size_t l = strlen(name);
	for (int i = 0; i < count; i++)
		if (t[i].nlen == l && memcmp(t[i].name, name, l) == 0)
			return &t[i];
	return NULL;
}

/* simple_value - the value with CR, LF and CRLF made CRLF. */
static void simple_value(buf *out, const char *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t run = mem_linelen(v + i, n - i);
		buf_append(out, v + i, run);
		i += run;
		if (i < n) {
			buf_append(out, "\r\n", 2);
			i += v[i] == '\r' && i + 1 < n && v[i + 1] == '\n' ? 2 : 1;
		}
	}
}

/* relaxed_value - unfolded (CR and LF deleted), WSP runs made one SP, no WSP
 * at either end. */
static void relaxed_value(buf *out, const char *v, size_t n)
{
	int space = 0, any = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == ' ' || c == '\t') {
			space = 1;
			i++;
			continue;
		}
		if (space && any)
			buf_putc(out, ' ');
		space = 0;
		size_t run = 1;
		while (i + run < n && !fws((unsigned char)v[i + run]))
			run++;
		buf_append(out, v + i, run);
		any = 1;
		i += run;
	}
}

/* dkimcanon_header - see dkimcanon.h. */
int dkimcanon_header(buf *out, enum dkim_hcanon c, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
	if (c == DKIM_HC_SIMPLE) {
		buf_append(out, name, nlen);
		buf_putc(out, ':');
		simple_value(out, value, vlen);
		return buf_overflowed(out) ? -1 : 0;
	}
	size_t a = skip_fws(name, nlen, 0), b = nlen;
	while (b > a && fws((unsigned char)name[b - 1]))
		b--;
	for (size_t i = a; i < b; i++) {
		unsigned char ch = (unsigned char)name[i];
		buf_putc(out, ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
	}
	buf_putc(out, ':');
	relaxed_value(out, value, vlen);
	return buf_overflowed(out) ? -1 : 0;
}

/* dkimcanon_strip_b - see dkimcanon.h. */
int dkimcanon_strip_b(buf *out, const char *value, size_t vlen)
{
	struct dkim_tag t[64];
	int nt = dkimtag_parse(value, vlen, t, 64);
	const struct dkim_tag *b = nt > 0 ? dkimtag_get(t, nt, "b") : NULL;
	if (b == NULL)
		return -1;
	return dkimcanon_strip_tag(out, value, vlen, b);
}

/* dkimcanon_strip_tag - see dkimcanon.h. */
int dkimcanon_strip_tag(buf *out, const char *value, size_t vlen, const struct dkim_tag *b)
{
	size_t eq = (size_t)(b->name - value) + b->nlen;
	while (value[eq] != '=')
		eq++;
	size_t end = eq + 1;
	while (end < vlen && value[end] != ';')
		end++;
	buf_append(out, value, eq + 1);
	buf_append(out, value + end, vlen - end);
	return buf_overflowed(out) ? -1 : 0;
}

/* A name of the h= list, trimmed. */
struct hname {
	const char *p;
	size_t n;
};

/* split_hlist - the names of (p,n) into names[DKIMCANON_MAX_HLIST]; the count or -1. */
static int split_hlist(const char *p, size_t n, struct hname *names)
{
	int count = 0;
	size_t i = 0;
	for (;;) {
		size_t s = i;
		while (i < n && p[i] != ':')
			i++;
		size_t a = skip_fws(p, i, s), b = i;
		while (b > a && fws((unsigned char)p[b - 1]))
			b--;
		if (b == a || count >= DKIMCANON_MAX_HLIST)
			return -1;
		names[count++] = (struct hname){ p + a, b - a };
		if (i == n)
			return count;
		i++;
	}
}

/* select_field - the k-th (0-based) field named (name) counted from the
 * bottom of h, skip excluded; NULL when there are not that many. */
static const struct hdr_field *select_field(const hdr_set *h, struct hname name, size_t k,
                                            const struct hdr_field *skip)
{
	for (size_t i = hdr_count(h); i-- > 0;) {
		const struct hdr_field *f = hdr_get(h, i);
		if (f == skip || !mem_caseeq(f->name, f->nlen, name.p, name.n))
			continue;
		if (k-- == 0)
			return f;
	}
	return NULL;
}

/* dkimcanon_selected - see dkimcanon.h. */
int dkimcanon_selected(buf *out, enum dkim_hcanon c, const hdr_set *h,
                       const char *hlist, size_t hlen, const struct hdr_field *skip)
{
	struct hname names[DKIMCANON_MAX_HLIST];
	int nn = split_hlist(hlist, hlen, names);
	if (nn < 0)
		return -1;
	for (int i = 0; i < nn; i++) {
		size_t k = 0;
		for (int j = 0; j < i; j++)
			k += mem_caseeq(names[j].p, names[j].n, names[i].p, names[i].n);
		const struct hdr_field *f = select_field(h, names[i], k, skip);
		if (f == NULL)
			continue;
		if (dkimcanon_header(out, c, f->name, f->nlen, f->value, f->vlen) < 0 ||
		    buf_append(out, "\r\n", 2) < 0)
			return -1;
	}
	return 0;
}

/* dkimcanon_headers - see dkimcanon.h. */
int dkimcanon_headers(buf *out, enum dkim_hcanon c, const hdr_set *h,
                      const char *hlist, size_t hlen, const struct hdr_field *skip,
                      const char *sname, size_t snlen, const char *svalue, size_t svlen)
{
	if (dkimcanon_selected(out, c, h, hlist, hlen, skip) < 0)
		return -1;
	buf *stripped = buf_new(svlen + 1);
	if (stripped == NULL)
		return -1;
	int rc = dkimcanon_strip_b(stripped, svalue, svlen);
	if (rc == 0)
		rc = dkimcanon_header(out, c, sname, snlen, buf_data(stripped), buf_len(stripped));
	buf_free(stripped);
	return rc;
}

/* dkimcanon_b64 - see dkimcanon.h. */
int dkimcanon_b64(buf *out, const unsigned char *p, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { abc[v >> 18], abc[(v >> 12) & 63],
		              i + 1 < n ? abc[(v >> 6) & 63] : '=', i + 2 < n ? abc[v & 63] : '=' };
		buf_append(out, q, 4);
	}
	return buf_overflowed(out) ? -1 : 0;
}

/* dkimcanon_unb64 - see dkimcanon.h. The alphabet first: FWS and padding
 * are the exceptions. */
long dkimcanon_unb64(const char *p, size_t n, unsigned char *out, size_t outsz)
{
	size_t o = 0, syms = 0, pad = 0;
	uint32_t acc = 0;
	unsigned q = 0;                  /* symbols in acc */
	for (size_t i = 0; i < n; i++) {
		/* four symbols of the alphabet at a quantum's start: one step */
		if (q == 0 && pad == 0 && n - i >= 4) {
			const unsigned char *s = (const unsigned char *)p + i;
			int a = mime_b64_value(s[0]), b = mime_b64_value(s[1]);
			int c = mime_b64_value(s[2]), d = mime_b64_value(s[3]);
			if ((a | b | c | d) >= 0) {
				if (o + 3 > outsz)
					return -1;
				uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
				out[o++] = (unsigned char)(w >> 16);
				out[o++] = (unsigned char)(w >> 8);
				out[o++] = (unsigned char)w;
				syms += 4;
				i += 3;
				continue;
			}
		}
		unsigned char c = (unsigned char)p[i];
		int v = mime_b64_value(c);
		if (v >= 0 && pad == 0) {
			acc = (acc << 6) | (uint32_t)v;
			if (++q == 4) {
				if (o + 3 > outsz)
					return -1;
				out[o++] = (unsigned char)(acc >> 16);
				out[o++] = (unsigned char)(acc >> 8);
				out[o++] = (unsigned char)acc;
				acc = 0;
				q = 0;
			}
			syms++;
			continue;
		}
		if (fws(c))
			continue;
		if (c != '=' || ++pad > 2)
			return -1;
		syms++;
	}
	if (syms % 4 != 0)
		return -1;
	if (pad > 0) {
		/* the last quantum: 4 - pad symbols carry 3 - pad bytes */
		size_t keep = 3 - pad;
		acc <<= 6 * pad;
		if (o + keep > outsz)
			return -1;
		for (size_t k = 0; k < keep; k++)
			out[o++] = (unsigned char)(acc >> (16 - 8 * k));
	}
	return (long)o;
}
