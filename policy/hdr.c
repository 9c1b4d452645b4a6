/*
 * hdr - the header section of one message with count and byte caps; see hdr.h.
 *
 * Each field is one heap block holding name, raw value and unfolded value, so
 * a field is freed in one call and pointers stay valid while the set lives.
 */
#include <stdlib.h>
#include <string.h>
#include "hdr.h"
#include "buf.h"

struct hdr_set {
	struct hdr_field *f;
	size_t count, alloc;
	size_t bytes;
	size_t max_count, max_bytes;
	size_t refused;
};

/* hdr_new - an empty set with the given caps (0 means the default). */
hdr_set *hdr_new(size_t max_count, size_t max_bytes)
{
	hdr_set *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->max_count = max_count ? max_count : HDR_DEFAULT_MAX_COUNT;
	h->max_bytes = max_bytes ? max_bytes : HDR_DEFAULT_MAX_BYTES;
	return h;
}

/* hdr_reset - drop all fields, keep the caps. */
void hdr_reset(hdr_set *h)
{
	for (size_t i = 0; i < h->count; i++)
		free((char *)h->f[i].name);
	h->count = 0;
	h->bytes = 0;
	h->refused = 0;
}

/* hdr_free - release, NULL accepted. */
void hdr_free(hdr_set *h)
{
	if (h == NULL)
		return;
	hdr_reset(h);
	free(h->f);
	free(h);
}

/* is_wsp - RFC 5322 WSP. */
static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* unfold - copy value without CR/LF, trimming WSP at both ends; returns length. */
static size_t unfold(char *dst, const char *v, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		dst[j++] = v[i];
	}
	size_t s = 0;
	while (s < j && is_wsp(dst[s]))
		s++;
	while (j > s && is_wsp(dst[j - 1]))
		j--;
	memmove(dst, dst + s, j - s);
	dst[j - s] = '\0';
	return j - s;
}

/* name_ok - RFC 5322 field name: printable ASCII except colon, non-empty. */
static int name_ok(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':')
			return 0;
	}
	return 1;
}

/* hdr_add - store one field if both caps allow it. */
int hdr_add(hdr_set *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (!name_ok(name, nlen))
		return -2;
	if (h->count >= h->max_count || nlen > h->max_bytes || vlen > h->max_bytes - nlen ||
	    h->bytes > h->max_bytes - nlen - vlen) {
		h->refused++;
		return -1;
	}
	if (h->count == h->alloc) {
		size_t na = h->alloc ? h->alloc * 2 : 32;
		struct hdr_field *nf = realloc(h->f, na * sizeof(*nf));
		if (nf == NULL) {
			h->refused++;
			return -1;
		}
		h->f = nf;
		h->alloc = na;
	}
	/* name NUL value NUL unfolded NUL; sizes bounded by max_bytes above */
	char *blk = malloc(nlen + 2 * vlen + 3);
	if (blk == NULL) {
		h->refused++;
		return -1;
	}
	memcpy(blk, name, nlen);
	blk[nlen] = '\0';
	char *v = blk + nlen + 1;
	if (vlen)
		memcpy(v, value, vlen);
	v[vlen] = '\0';
	char *u = v + vlen + 1;
	size_t ulen = unfold(u, value, vlen);
	struct hdr_field *f = &h->f[h->count++];
	f->name = blk;
	f->nlen = nlen;
	f->value = v;
	f->vlen = vlen;
	f->unfolded = u;
	f->ulen = ulen;
	h->bytes += nlen + vlen;
	return 0;
}

size_t hdr_count(const hdr_set *h) { return h->count; }
size_t hdr_refused(const hdr_set *h) { return h->refused; }

const struct hdr_field *hdr_get(const hdr_set *h, size_t i)
{
	return i < h->count ? &h->f[i] : NULL;
}

/* hdr_count_name - fields with this name, case-insensitively. */
size_t hdr_count_name(const hdr_set *h, const char *name)
{
	size_t n = strlen(name), c = 0;
	for (size_t i = 0; i < h->count; i++)
		if (mem_caseeq(h->f[i].name, h->f[i].nlen, name, n))
			c++;
	return c;
}

/* hdr_find - nth field of that name from the top. */
const struct hdr_field *hdr_find(const hdr_set *h, const char *name, size_t nth)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < h->count; i++)
		if (mem_caseeq(h->f[i].name, h->f[i].nlen, name, n) && nth-- == 0)
			return &h->f[i];
	return NULL;
}
