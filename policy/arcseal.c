/*
 * arcseal - one ARC set added to a message; see arcseal.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arcseal.h"
#include "dkimsign.h"
#include "dkimcanon.h"
#include "bodyhash.h"
#include "buf.h"

#define HLIST_MAX 8192          /* bytes of the AMS h= list */
#define VALUE_MAX 65536         /* one field value: an AAR copies our A-R */
#define SEAL_TAGS 32            /* tags read from an arriving AMS or AS for its i= */

static const char *const names[ARCSEAL_FIELDS] = {
	"ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results" };

struct arcseal {
	struct signkeys_use key;
	const signkeys *ks;
	bodyhash *bh;
	unsigned n;                          /* the instance made, 0 before */
	char *values[ARCSEAL_FIELDS];
};

arcseal *arcseal_begin(const signkeys *ks, int *oom)
{
	*oom = 0;
	struct signkeys_use u;
	if (signkeys_seal(ks, &u) < 0)
		return NULL;
	arcseal *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->bh = bodyhash_new(BODYHASH_RELAXED, BODYHASH_SHA256, -1)) == NULL) {
		free(m);
		*oom = 1;
		return NULL;
	}
	m->key = u;
	m->ks = ks;
	return m;
}

void arcseal_body(arcseal *m, const unsigned char *p, size_t n)
{
	if (m)
		bodyhash_update(m->bh, p, n);
}

/* instance - the i= of an arriving ARC field of kind k: 1..50, 0 when
 * unreadable, -1 above ARC_MAX_INSTANCES. */
static int instance(enum arcseal_field k, const struct hdr_field *f)
{
	size_t rest;
	if (k == ARCSEAL_AAR)
		return arc_aar_instance(f->value, f->vlen, &rest);
	struct dkim_tag t[SEAL_TAGS];
	int c = dkimtag_parse(f->value, f->vlen, t, SEAL_TAGS);
	const struct dkim_tag *i = c > 0 ? dkimtag_get(t, c, "i") : NULL;
	if (i == NULL || i->vlen == 0)
		return 0;
	long v = 0;
	for (size_t j = 0; j < i->vlen; j++) {
		if (i->val[j] < '0' || i->val[j] > '9')
			return 0;
		v = v > ARC_MAX_INSTANCES ? v : v * 10 + (i->val[j] - '0');
	}
	return v > ARC_MAX_INSTANCES ? -1 : (int)v;
}

/* highest - the highest instance among the arriving ARC fields (-1: one
 * above the limit); *any: some ARC field arrived. */
static int highest(const hdr_set *h, int *any)
{
	int top = 0;
	*any = 0;
	for (int k = 0; k < ARCSEAL_FIELDS; k++) {
		const struct hdr_field *f;
		for (size_t j = 0; (f = hdr_find(h, names[k], j)) != NULL; j++) {
			int i = instance((enum arcseal_field)k, f);
			*any = 1;
			if (i < 0)
				return -1;
			top = i > top ? i : top;
		}
	}
	return top;
}

/* field_of - the first arriving field of kind k and instance i, or NULL. */
static const struct hdr_field *field_of(const hdr_set *h, enum arcseal_field k, int i)
{
	const struct hdr_field *f;
	for (size_t j = 0; (f = hdr_find(h, names[k], j)) != NULL; j++)
		if (instance(k, f) == i)
			return f;
	return NULL;
}

/* top_says_fail - does an arriving ARC-Seal of instance top say cv=fail? */
static int top_says_fail(const hdr_set *h, int top)
{
	const struct hdr_field *f;
	for (size_t j = 0; top > 0 && (f = hdr_find(h, names[ARCSEAL_AS], j)) != NULL; j++) {
		struct dkim_tag t[SEAL_TAGS];
		int c = instance(ARCSEAL_AS, f) == top ? dkimtag_parse(f->value, f->vlen, t, SEAL_TAGS) : 0;
		const struct dkim_tag *cv = c > 0 ? dkimtag_get(t, c, "cv") : NULL;
		if (cv && mem_caseeq(cv->val, cv->vlen, "fail", 4))
			return 1;
	}
	return 0;
}

/* put_field - one field relaxed into the seal's data, CRLF after it unless last. */
static int put_field(buf *d, enum arcseal_field k, const char *v, size_t n, int last)
{
	if (dkimcanon_header(d, DKIM_HC_RELAXED, names[k], strlen(names[k]), v, n) < 0)
		return -1;
	return last ? 0 : buf_append(d, "\r\n", 2);
}

/* aar - "i=N; " and the A-R value, its line ends made CRLF. */
static char *aar(unsigned n, const char *authres)
{
	buf *v = buf_new(VALUE_MAX);
	char *r = NULL;
	if (v == NULL)
		return NULL;
	buf_printf(v, "i=%u; ", n);
	for (const char *c = authres; *c; c++)
		buf_puts(v, c[0] == '\n' && (c == authres || c[-1] != '\r') ? "\r\n" : (char[]){ c[0], 0 });
	if (!buf_overflowed(v))
		r = strdup(buf_data(v));
	buf_free(v);
	return r;
}

/* finish - append b= to value v (begun with a space) signing data; the
 * value without its space, heap; NULL on failure. */
static char *finish(const arcseal *m, buf *v, buf *data)
{
	buf *b = buf_new(4096);
	char *r = NULL;
	if (b && dkimsign_put_b(&m->key, buf_data(data), buf_len(data), v, b) == 0)
		r = strdup(buf_data(v) + 1);
	buf_free(b);
	return r;
}

/* delivered - the header section as the next hop sees it below our ARC
 * set: the new DKIM-Signature fields sig[0..nsig) on top, then h; NULL when
 * a cap refuses a field (or out of memory). */
static hdr_set *delivered(const hdr_set *h, const char *const *sig, size_t nsig)
{
	hdr_set *d = hdr_new(hdr_count(h) + nsig, SIZE_MAX / 2);
	int bad = d == NULL;
	for (size_t i = 0; !bad && i < nsig; i++)
		bad = hdr_add(d, "DKIM-Signature", 14, sig[i], strlen(sig[i])) < 0;
	for (size_t i = 0; !bad && i < hdr_count(h); i++) {
		const struct hdr_field *fl = hdr_get(h, i);
		bad = hdr_add(d, fl->name, fl->nlen, fl->value, fl->vlen) < 0;
	}
	if (bad) {
		hdr_free(d);
		return NULL;
	}
	return d;
}

/* ams - the ARC-Message-Signature of instance n over h, the header section
 * as delivered; heap, NULL with a finding. */
static char *ams(const arcseal *m, const hdr_set *h, const char *bh, time_t now, findings *f)
{
	buf *hl = buf_new(HLIST_MAX), *v = buf_new(VALUE_MAX), *data = buf_new(ARC_MAX_HEADER_DATA);
	char *r = NULL, t[600];
	size_t col = 23;   /* "ARC-Message-Signature: " */
	if (hl == NULL || v == NULL || data == NULL || h == NULL) {
		findings_add(f, "arc.seal.too_big", "the header section with our DKIM-Signature exceeds "
		             "the caps: not sealed");
		goto out;
	}
	dkimsign_hlist(m->ks, h, hl);
	for (size_t i = hdr_count_name(h, "DKIM-Signature"); i > 0; i--)
		buf_puts(hl, buf_len(hl) ? ":DKIM-Signature" : "DKIM-Signature");
	buf_putc(v, ' ');
	snprintf(t, sizeof(t), "i=%u; a=%s; c=relaxed/relaxed;", m->n, signkeys_alg_name(m->key.alg));
	dkimsign_fold_put(v, &col, t, strlen(t));
	snprintf(t, sizeof(t), " d=%s; s=%s;", m->key.domain, m->key.selector);
	dkimsign_fold_put(v, &col, t, strlen(t));
	snprintf(t, sizeof(t), " t=%lld;", (long long)now);
	dkimsign_fold_put(v, &col, t, strlen(t));
	dkimsign_fold_put(v, &col, " h=", 3);
	for (const char *p = buf_data(hl); *p;) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) + 1 : strlen(p);
		dkimsign_fold_put(v, &col, p, n);
		p += n;
	}
	snprintf(t, sizeof(t), "; bh=%s;", bh);
	dkimsign_fold_put(v, &col, t, strlen(t));
	dkimsign_fold_put(v, &col, " b=", 3);
	if (buf_overflowed(hl) || buf_overflowed(v) ||
	    dkimcanon_headers(data, DKIM_HC_RELAXED, h, buf_data(hl), buf_len(hl), NULL,
	                      names[ARCSEAL_AMS], strlen(names[ARCSEAL_AMS]), buf_data(v), buf_len(v)) < 0)
		findings_add(f, "arc.seal.too_big", "the ARC-Message-Signature data exceeds the caps: "
		             "not sealed");
	else if ((r = finish(m, v, data)) == NULL)
		findings_add(f, "arc.seal.key_error", "signing the ARC-Message-Signature with d=%s "
		             "s=%s failed: not sealed", m->key.domain, m->key.selector);
out:
	buf_free(hl);
	buf_free(v);
	buf_free(data);
	return r;
}

/* seal - the ARC-Seal of instance n over sets 1..n-1 of h and the new
 * AAR and AMS; for cv=fail over the new set alone (RFC 8617 5.1.2: "as if
 * this newest ARC Set was the only set present"); heap, NULL with a finding. */
static char *seal(const arcseal *m, const hdr_set *h, enum arc_cv cv, time_t now, findings *f)
{
	buf *v = buf_new(VALUE_MAX), *data = buf_new(ARC_MAX_HEADER_DATA);
	char *r = NULL;
	int bad = v == NULL || data == NULL;
	for (unsigned i = 1; !bad && cv != ARC_CV_FAIL && i < m->n; i++)
		for (int k = ARCSEAL_AAR; k >= ARCSEAL_AS && !bad; k--) {
			const struct hdr_field *fl = field_of(h, (enum arcseal_field)k, (int)i);
			bad = fl && put_field(data, (enum arcseal_field)k, fl->value, fl->vlen, 0) < 0;
		}
	if (!bad) {
		buf_printf(v, " i=%u; a=%s; t=%lld; cv=%s;", m->n, signkeys_alg_name(m->key.alg),
		           (long long)now, arc_cv_name(cv));
		size_t col = 10 + buf_len(v);   /* "ARC-Seal:" */
		char t[600];
		snprintf(t, sizeof(t), " d=%s; s=%s;", m->key.domain, m->key.selector);
		dkimsign_fold_put(v, &col, t, strlen(t));
		dkimsign_fold_put(v, &col, " b=", 3);
		const char *a = m->values[ARCSEAL_AAR], *s = m->values[ARCSEAL_AMS];
		bad = put_field(data, ARCSEAL_AAR, a, strlen(a), 0) < 0 ||
		      put_field(data, ARCSEAL_AMS, s, strlen(s), 0) < 0 ||
		      put_field(data, ARCSEAL_AS, buf_data(v), buf_len(v), 1) < 0 || buf_overflowed(v);
	}
	if (bad)
		findings_add(f, "arc.seal.too_big", "the ARC-Seal data exceeds the caps: not sealed");
	else if ((r = finish(m, v, data)) == NULL)
		findings_add(f, "arc.seal.key_error", "signing the ARC-Seal with d=%s s=%s failed: "
		             "not sealed", m->key.domain, m->key.selector);
	buf_free(v);
	buf_free(data);
	return r;
}

/* chain_cv - the cv= of the new seal. */
static enum arc_cv chain_cv(int any, const struct arc_outcome *chain)
{
	if (!any)
		return ARC_CV_NONE;
	return chain && chain->result == AR_PASS ? ARC_CV_PASS : ARC_CV_FAIL;
}

/* drop - forget a partly made set. */
static void drop(arcseal *m)
{
	for (int k = 0; k < ARCSEAL_FIELDS; k++) {
		free(m->values[k]);
		m->values[k] = NULL;
	}
	m->n = 0;
}

int arcseal_end(arcseal *m, const hdr_set *h, const char *const *sig, size_t nsig,
                const struct arc_outcome *chain, const char *authres, time_t now, findings *f)
{
	if (m == NULL || m->n)
		return -1;
	int any, top = highest(h, &any);
	if (top < 0 || top >= ARC_MAX_INSTANCES) {
		findings_add(f, "arc.seal.limit", "the message already has %s ARC instances: not sealed",
		             top < 0 ? "more than 50" : "50");
		return -1;
	}
	if (top_says_fail(h, top)) {
		findings_add(f, "arc.seal.failed_upstream", "the ARC-Seal of instance %d says cv=fail: "
		             "not sealed", top);
		return -1;
	}
	unsigned char digest[BODYHASH_MAX];
	int dl = bodyhash_final(m->bh, digest);
	buf *bh = buf_new(128);
	m->n = (unsigned)top + 1;
	if (dl <= 0 || bh == NULL || dkimcanon_b64(bh, digest, (size_t)dl) < 0) {
		findings_add(f, "arc.seal.key_error", "the body hash failed: not sealed");
	} else if ((m->values[ARCSEAL_AAR] = aar(m->n, authres ? authres : "")) == NULL) {
		findings_add(f, "arc.seal.too_big", "the ARC-Authentication-Results value exceeds %d "
		             "bytes: not sealed", VALUE_MAX);
	} else {
		hdr_set *d = delivered(h, sig, nsig);
		if ((m->values[ARCSEAL_AMS] = ams(m, d, buf_data(bh), now, f)) != NULL)
			m->values[ARCSEAL_AS] = seal(m, h, chain_cv(any, chain), now, f);
		hdr_free(d);
	}
	buf_free(bh);
	if (m->values[ARCSEAL_AS] == NULL) {
		drop(m);
		return -1;
	}
	return 0;
}

const char *arcseal_name(enum arcseal_field k)
{
	return (unsigned)k < ARCSEAL_FIELDS ? names[k] : NULL;
}

const char *arcseal_value(const arcseal *m, enum arcseal_field k)
{
	return m && m->n && (unsigned)k < ARCSEAL_FIELDS ? m->values[k] : NULL;
}

unsigned arcseal_instance(const arcseal *m)
{
	return m ? m->n : 0;
}

void arcseal_free(arcseal *m)
{
	if (m == NULL)
		return;
	bodyhash_free(m->bh);
	drop(m);
	free(m);
}
