/*
 * dkimsign - DKIM signing of one outbound message; see dkimsign.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "dkimsign.h"
#include "dkimcanon.h"
#include "bodyhash.h"
#include "addr.h"
#include "buf.h"

#define HLIST_MAX 8192          /* bytes of the h= list */
#define VALUE_MAX 16384         /* one DKIM-Signature value: 16384-bit RSA fits */
#define LINE_WIDTH 76

struct dkimsign {
	const signkeys *ks;
	char from_domain[ADDR_DOMAIN_MAX];   /* a KeyTable "%" domain points here */
	struct signkeys_use use[SIGNKEYS_PER_MESSAGE];
	size_t nuse;
	bodyhash *bh;
	size_t nmade;
	char *values[SIGNKEYS_PER_MESSAGE];
	struct dkim_sig sigs[SIGNKEYS_PER_MESSAGE];
};

/* author - the one author address of the one From field; 0, or -1 with a
 * finding. */
static int author(const hdr_set *h, findings *f, char *local, size_t lsz, char *domain, size_t dsz)
{
	const struct hdr_field *from = hdr_find(h, "From", 0);
	if (hdr_refused(h) || hdr_refused_class(h, "From")) {
		findings_add(f, "dkim.sign.malformed", "header fields over the caps: not signed");
		return -1;
	}
	if (from == NULL || hdr_count_name(h, "From") != 1) {
		findings_add(f, "dkim.sign.malformed", "not exactly one From field: not signed");
		return -1;
	}
	struct addr_list *l = malloc(sizeof(*l));   /* ~12 KB */
	if (l == NULL)
		return -1;
	int ok = addr_parse_list(from->unfolded, from->ulen, l) == 1 && !l->syntax_error &&
	         !l->a[0].bad && addr_domain_valid(l->a[0].domain, strlen(l->a[0].domain));
	if (ok) {
		str_copy(local, lsz, l->a[0].local, strlen(l->a[0].local));
		str_copy(domain, dsz, l->a[0].domain, strlen(l->a[0].domain));
	} else {
		findings_add(f, "dkim.sign.malformed", "the From field has not exactly one address "
		             "with a domain: not signed");
	}
	free(l);
	return ok ? 0 : -1;
}

dkimsign *dkimsign_begin(const signkeys *ks, const hdr_set *h, findings *f, int *oom)
{
	*oom = 0;
	if (!signkeys_enabled(ks))
		return NULL;
	dkimsign *m = calloc(1, sizeof(*m));
	char local[ADDR_LOCAL_MAX];
	if (m == NULL) {
		*oom = 1;
		return NULL;
	}
	m->ks = ks;
	if (author(h, f, local, sizeof(local), m->from_domain, sizeof(m->from_domain)) < 0)
		goto none;
	size_t unaligned;
	m->nuse = signkeys_for(ks, local, m->from_domain, m->use, SIGNKEYS_PER_MESSAGE, &unaligned);
	if (m->nuse == 0) {
		findings_add(f, "dkim.sign.no_key", "no signing key for %s%s", m->from_domain,
		             unaligned ? " (a SigningTable key of another domain was left out: "
		                         "sign.unaligned)" : "");
		goto none;
	}
	const struct signkeys_settings *st = signkeys_settings(ks);
	m->bh = bodyhash_new(st->bcanon == SIGNKEYS_SIMPLE ? BODYHASH_SIMPLE : BODYHASH_RELAXED,
	                     BODYHASH_SHA256, -1);
	if (m->bh == NULL) {
		*oom = 1;
		goto none;
	}
	return m;
none:
	dkimsign_free(m);
	return NULL;
}

void dkimsign_body(dkimsign *m, const unsigned char *p, size_t n)
{
	if (m && m->bh)
		bodyhash_update(m->bh, p, n);
}

/* listed - is name in the list (ASCII case-insensitive)? */
static int listed(const char *const *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (mem_caseeq(l[i], strlen(l[i]), name, strlen(name)))
			return 1;
	return 0;
}

/* dkimsign_hlist - see dkimsign.h. */
void dkimsign_hlist(const signkeys *ks, const hdr_set *h, buf *out)
{
	const struct signkeys_settings *st = signkeys_settings(ks);
	for (size_t i = 0; i < st->nheaders; i++) {
		const char *name = st->headers[i];
		size_t c = hdr_count_name(h, name);
		if (c == 0 || listed(st->headers, i, name))
			continue;
		c += listed(st->oversign, st->noversign, name);
		for (size_t k = 0; k < c; k++) {
			if (buf_len(out))
				buf_putc(out, ':');
			buf_puts(out, name);
		}
	}
}

/* dkimsign_fold_put - see dkimsign.h. */
void dkimsign_fold_put(buf *b, size_t *col, const char *t, size_t n)
{
	if (*col > 1 && *col + n > LINE_WIDTH) {
		buf_append(b, "\r\n\t", 3);
		*col = 1;
	}
	buf_append(b, t, n);
	*col += n;
}

/* tag_value - "v=1; a=...; ...; b=" folded, the h= list broken at ':'. */
static void tag_value(buf *v, const struct signkeys_use *u, const struct signkeys_settings *st,
                      const char *hl, const char *bh, time_t now)
{
	char t[600];
	size_t col = 16;   /* "DKIM-Signature: " */
	snprintf(t, sizeof(t), "v=1; a=%s; c=%s/%s;", signkeys_alg_name(u->alg),
	         st->hcanon == SIGNKEYS_SIMPLE ? "simple" : "relaxed",
	         st->bcanon == SIGNKEYS_SIMPLE ? "simple" : "relaxed");
	dkimsign_fold_put(v, &col, t, strlen(t));
	snprintf(t, sizeof(t), " d=%s;", u->domain);
	dkimsign_fold_put(v, &col, t, strlen(t));
	snprintf(t, sizeof(t), " s=%s;", u->selector);
	dkimsign_fold_put(v, &col, t, strlen(t));
	snprintf(t, sizeof(t), " t=%lld;", (long long)now);
	dkimsign_fold_put(v, &col, t, strlen(t));
	dkimsign_fold_put(v, &col, " h=", 3);
	for (const char *p = hl; *p;) {
		const char *c = strchr(p, ':');
		size_t n = c ? (size_t)(c - p) + 1 : strlen(p);
		dkimsign_fold_put(v, &col, p, n);
		p += n;
	}
	dkimsign_fold_put(v, &col, ";", 1);
	snprintf(t, sizeof(t), " bh=%s;", bh);
	dkimsign_fold_put(v, &col, t, strlen(t));
	dkimsign_fold_put(v, &col, " b=", 3);
}

/* sign_data - the signature of data with u's key into sig; its length, or
 * -1. Ed25519 signs the SHA-256 of the data (RFC 8463 3). */
static long sign_data(const struct signkeys_use *u, const char *data, size_t n,
                      unsigned char *sig, size_t sigsz)
{
	unsigned char hash[32];
	const unsigned char *in = (const unsigned char *)data;
	if (u->alg == SIGNKEYS_ED25519_SHA256) {
		if (EVP_Digest(data, n, hash, NULL, EVP_sha256(), NULL) != 1)
			return -1;
		in = hash;
		n = sizeof(hash);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = sigsz;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, u->alg == SIGNKEYS_ED25519_SHA256 ? NULL :
	                                   EVP_sha256(), NULL, u->pkey) == 1 &&
	         EVP_DigestSign(ctx, sig, &len, in, n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? (long)len : -1;
}

/* dkimsign_put_b - see dkimsign.h. */
int dkimsign_put_b(const struct signkeys_use *u, const char *data, size_t n, buf *v, buf *b64)
{
	unsigned char sig[2048];
	long sl = sign_data(u, data, n, sig, sizeof(sig));
	if (sl < 0 || dkimcanon_b64(b64, sig, (size_t)sl) < 0)
		return -1;
	for (size_t i = 0; i < buf_len(b64); i += 64) {
		buf_append(v, "\r\n\t", 3);   /* FWS inside b= is ignored by verifiers */
		buf_append(v, buf_data(b64) + i, buf_len(b64) - i < 64 ? buf_len(b64) - i : 64);
	}
	return buf_overflowed(v) ? -1 : 0;
}

/* already_signed - a passing signature with this d= and s= arrived. */
static int already_signed(const struct signkeys_use *u, const struct dkim_sig *have, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (have[i].result == AR_PASS &&
		    mem_caseeq(have[i].domain, strlen(have[i].domain), u->domain, strlen(u->domain)) &&
		    strcmp(have[i].selector, u->selector) == 0)
			return 1;
	return 0;
}

/* sig_of - the evaluators' view of a signature we made. */
static void sig_of(const struct signkeys_use *u, const char *hl, const char *b64,
                   struct dkim_sig *g)
{
	memset(g, 0, sizeof(*g));
	g->result = AR_PASS;
	g->signed_here = 1;
	str_copy(g->domain, sizeof(g->domain), u->domain, strlen(u->domain));
	str_lower(g->domain);
	str_copy(g->selector, sizeof(g->selector), u->selector, strlen(u->selector));
	const char *a = signkeys_alg_name(u->alg);
	str_copy(g->algorithm, sizeof(g->algorithm), a, strlen(a));
	g->key_bits = u->bits;
	str_copy(g->b_prefix, sizeof(g->b_prefix), b64, strlen(b64));   /* cut like dkim.c's */
	dkim_hlist_parse(hl, strlen(hl), g);
}

/* sign_one - one signature with key u; 0, or -1 with a finding. */
static int sign_one(dkimsign *m, const struct signkeys_use *u, const hdr_set *h, const char *hl,
                    const char *bh, time_t now, findings *f)
{
	const struct signkeys_settings *st = signkeys_settings(m->ks);
	buf *v = buf_new(VALUE_MAX), *data = buf_new(DKIMSIGN_MAX_HEADER_BYTES), *b = buf_new(4096);
	int rc = -1;
	if (v == NULL || data == NULL || b == NULL)
		goto out;
	buf_putc(v, ' ');   /* the field as inserted: "DKIM-Signature: v=1; ..." */
	tag_value(v, u, st, hl, bh, now);
	enum dkim_hcanon hc = st->hcanon == SIGNKEYS_SIMPLE ? DKIM_HC_SIMPLE : DKIM_HC_RELAXED;
	if (dkimcanon_headers(data, hc, h, hl, strlen(hl), NULL, "DKIM-Signature", 14,
	                      buf_data(v), buf_len(v)) < 0) {
		findings_add(f, "dkim.sign.too_big", "the signed header fields exceed %d bytes: not "
		             "signed with d=%s s=%s", DKIMSIGN_MAX_HEADER_BYTES, u->domain, u->selector);
		goto out;
	}
	if (dkimsign_put_b(u, buf_data(data), buf_len(data), v, b) < 0) {
		findings_add(f, "dkim.sign.key_error", "signing with d=%s s=%s failed", u->domain,
		             u->selector);
		goto out;
	}
	sig_of(u, hl, buf_data(b), &m->sigs[m->nmade]);
	m->values[m->nmade] = strdup(buf_data(v) + 1);
	rc = m->values[m->nmade] ? 0 : -1;
	m->nmade += rc == 0;
out:
	buf_free(v);
	buf_free(data);
	buf_free(b);
	return rc;
}

size_t dkimsign_end(dkimsign *m, const hdr_set *h, const struct dkim_sig *have, size_t nhave,
                    time_t now, findings *f)
{
	if (m == NULL || m->bh == NULL)
		return 0;
	unsigned char digest[BODYHASH_MAX];
	int dl = bodyhash_final(m->bh, digest);
	buf *hl = buf_new(HLIST_MAX), *bh = buf_new(128);
	if (dl > 0 && hl && bh && dkimcanon_b64(bh, digest, (size_t)dl) == 0) {
		dkimsign_hlist(m->ks, h, hl);
		if (buf_overflowed(hl))
			findings_add(f, "dkim.sign.too_big", "the h= list exceeds %d bytes: not signed",
			             HLIST_MAX);
		for (size_t i = 0; i < m->nuse && !buf_overflowed(hl); i++)
			if (!already_signed(&m->use[i], have, nhave))
				sign_one(m, &m->use[i], h, buf_data(hl), buf_data(bh), now, f);
	} else {
		findings_add(f, "dkim.sign.key_error", "the body hash failed: not signed");
	}
	buf_free(hl);
	buf_free(bh);
	return m->nmade;
}

const char *dkimsign_value(const dkimsign *m, size_t i)
{
	return m && i < m->nmade ? m->values[i] : NULL;
}

const struct dkim_sig *dkimsign_sig(const dkimsign *m, size_t i)
{
	return m && i < m->nmade ? &m->sigs[i] : NULL;
}

void dkimsign_free(dkimsign *m)
{
	if (m == NULL)
		return;
	bodyhash_free(m->bh);
	for (size_t i = 0; i < m->nmade; i++)
		free(m->values[i]);
	free(m);
}
