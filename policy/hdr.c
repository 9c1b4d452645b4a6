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
#include "lex5322.h"

/* The protected classes (see hdr.h); the compliance entry's name is the
 * set's compliance name. Byte caps: 292 KB in all (stored twice: raw and
 * unfolded), far above real mail (ten ARC hops are about 25 KB). */
static const struct hdr_class classes[] = {
	{ "From", 0, HDR_CAP_FROM, 32 * 1024, "limits.from_fields" },
	{ "Sender", 0, HDR_CAP_SENDER, 16 * 1024, "limits.sender_fields" },
	{ "DKIM-Signature", 0, HDR_CAP_DKIM, 64 * 1024, "limits.dkim_signature_fields" },
	{ "ARC-", 1, HDR_CAP_ARC, 64 * 1024, "limits.arc_fields" },
	{ "Authentication-Results", 0, HDR_CAP_AUTHRES, 64 * 1024, "limits.authres_fields" },
	{ "List-Unsubscribe", 0, HDR_CAP_LIST_UNSUB, 16 * 1024, "limits.list_unsubscribe_fields" },
	{ "List-Unsubscribe-Post", 0, HDR_CAP_LIST_UNSUB, 4 * 1024, "limits.list_unsubscribe_fields" },
	{ NULL, 0, HDR_CAP_COMPLIANCE, 32 * 1024, "limits.compliance_fields" },
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

struct hdr_set {
	struct hdr_field *f;
	size_t count, alloc;
	size_t bytes;              /* general fields only */
	size_t max_count, max_bytes;
	size_t refused;
	const char *compliance;    /* our compliance field name, "" none (not owned) */
	size_t ccount[NCLASSES];   /* protected fields kept, per class */
	size_t cbytes[NCLASSES];
	size_t crefused[NCLASSES];
};

/* hdr_new - an empty set with the given caps (0 means the default). */
hdr_set *hdr_new(size_t max_count, size_t max_bytes)
{
	hdr_set *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->max_count = max_count ? max_count : HDR_DEFAULT_MAX_COUNT;
	h->max_bytes = max_bytes ? max_bytes : HDR_DEFAULT_MAX_BYTES;
	h->compliance = "";
	return h;
}

/* hdr_set_compliance - see hdr.h. */
void hdr_set_compliance(hdr_set *h, const char *name)
{
	h->compliance = name ? name : "";
}

/* class_index - index into classes[] of a field name, or -1. */
static int class_index(const hdr_set *h, const char *name, size_t nlen)
{
	for (size_t i = 0; i < NCLASSES; i++) {
		const char *cn = classes[i].name ? classes[i].name : h->compliance;
		size_t cl = strlen(cn);
		if (cl == 0)
			continue;
		if (classes[i].prefix ? (nlen > cl && mem_caseeq(name, cl, cn, cl))
		                      : mem_caseeq(name, nlen, cn, cl))
			return (int)i;
	}
	return -1;
}

/* hdr_class_of - see hdr.h. */
const struct hdr_class *hdr_class_of(const hdr_set *h, const char *name, size_t nlen)
{
	while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
		nlen--;     /* as hdr_add */
	int c = class_index(h, name, nlen);
	return c < 0 ? NULL : &classes[c];
}

/* hdr_refused_class - see hdr.h. */
size_t hdr_refused_class(const hdr_set *h, const char *name)
{
	int c = class_index(h, name, strlen(name));
	return c < 0 ? 0 : h->crefused[c];
}

/* hdr_reset - drop all fields, keep the caps. */
void hdr_reset(hdr_set *h)
{
	for (size_t i = 0; i < h->count; i++)
		free((char *)h->f[i].name);
	h->count = 0;
	h->bytes = 0;
	h->refused = 0;
	memset(h->ccount, 0, sizeof(h->ccount));
	memset(h->cbytes, 0, sizeof(h->cbytes));
	memset(h->crefused, 0, sizeof(h->crefused));
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
	for (size_t i = 0; i < n;) {
		size_t run = mem_linelen(v + i, n - i);
		memcpy(dst + j, v + i, run);
		j += run;
		i += run;
		while (i < n && (v[i] == '\r' || v[i] == '\n'))
			i++;
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

/* class_total - protected fields kept (not counted by the general cap). */
static size_t class_total(const hdr_set *h)
{
	size_t t = 0;
	for (size_t i = 0; i < NCLASSES; i++)
		t += h->ccount[i];
	return t;
}

/* over_cap - would a field of nlen+vlen bytes pass count or bytes? */
static int over_cap(size_t count, size_t max_count, size_t bytes, size_t max_bytes,
                    size_t nlen, size_t vlen)
{
	return count >= max_count || nlen > max_bytes || vlen > max_bytes - nlen ||
	       bytes > max_bytes - nlen - vlen;
}

/* hdr_add - store one field if its caps allow it: a protected field its
 * class's caps, any other field the general caps. */
int hdr_add(hdr_set *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
	while (nlen > 0 && is_wsp(name[nlen - 1]))
		nlen--;     /* obs-optional: "From :" names the From field */
	if (!lex_field_name(name, nlen))
		return -2;
	int c = class_index(h, name, nlen);
	if (c >= 0) {
		if (over_cap(h->ccount[c], classes[c].max_count, h->cbytes[c], classes[c].max_bytes,
		             nlen, vlen)) {
			h->crefused[c]++;
			return -3;
		}
	} else if (over_cap(h->count - class_total(h), h->max_count, h->bytes, h->max_bytes,
	                    nlen, vlen)) {
		h->refused++;
		return -1;
	}
	if (h->count == h->alloc) {
		size_t na = h->alloc ? h->alloc * 2 : 32;
		struct hdr_field *nf = realloc(h->f, na * sizeof(*nf));
		if (nf == NULL) {
			h->refused++;     /* out of memory: reported like a cap */
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
	if (c >= 0) {
		h->ccount[c]++;
		h->cbytes[c] += nlen + vlen;
	} else {
		h->bytes += nlen + vlen;
	}
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
