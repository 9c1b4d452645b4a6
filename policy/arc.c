/*
 * arc - ARC (RFC 8617) chain validation; see arc.h.
 *
 * The fields are not copied: the sets point into the message's hdr_set,
 * which lives until the next message. Every failure is recorded once (the
 * first one wins) with its finding name and reason, and ends the work:
 * nothing after a failure can turn the chain into a pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include "arc.h"
#include "arckeys.h"
#include "buf.h"
#include "bodyhash.h"
#include "dkimcanon.h"
#include "lex5322.h"
#include "policy.h"

#define ARC_MAX_TAGS 32          /* tags in one AS or AMS (RFC 8617 uses at most 12) */
#define ARC_SIG_MAX 1100         /* signature bytes: an 8192-bit RSA signature is 1024 */
#define ARC_KEY_RECORD_MAX ARCKEYS_RECORD_MAX  /* joined TXT key record */
#define ARC_AAR_PAIRS 32         /* key=value pairs read from one AAR resinfo */
#define ARC_MAX_SIGNED 128       /* h= names of one AMS: real ones sign about 10-20; each
                                  * name is a walk over the header, so this bounds the time */

enum kind { K_AS = 0, K_AMS, K_AAR };
enum vres { V_OK = 0, V_SIG, V_KEY, V_TEMP };

struct tagv { const char *p; size_t n; };

/* The tags of one AS or AMS that validation uses; btag is the b= tag as
 * parsed (to strip its value without parsing the field again). */
struct arc_sig {
	struct tagv a, b, bh, c, d, s, h, l, cv;
	struct dkim_tag btag;
};

struct arc_set {
	const struct hdr_field *f[3];   /* by enum kind */
	struct arc_sig as, ams;
	enum arc_cv cv;
	int hrelaxed;                   /* AMS header canonicalization */
	int bh;                         /* body hash slot of the AMS, -1 none */
};

struct bh_slot {
	int relaxed;
	long long limit;
	bodyhash *h;
	unsigned char digest[BODYHASH_MAX];
	int len;                        /* digest length, -1 failed */
	int is_short;
};

struct key_ent {
	char d[256], s[128];
	int ed;                         /* an Ed25519 key */
	arckey *k;                      /* a reference into the key cache; NULL: err says why */
	enum vres err;
	char why[96];
};

struct arc_verify {
	dns_resolver *dns;
	dns_budget *budget;
	const hdr_set *h;
	int eoh_done;
	int want_oldest;                /* arc_want_oldest_pass */
	int any;                        /* ARC fields seen */
	unsigned n;                     /* highest instance */
	const char *finding;            /* the first failure */
	char reason[160];
	struct arc_set sets[ARC_MAX_INSTANCES + 1];   /* 1-based */
	struct bh_slot bh[ARC_MAX_BODYHASH];
	size_t nbh;
	struct key_ent keys[ARC_MAX_KEYS];
	size_t nkeys;
	arckeys *cache;                 /* the shared key cache (or own, when own) */
	int own;
	EVP_MD_CTX *md, *run;           /* SHA-256 of the header data; the running seal hash */
	unsigned char seal_md[ARC_MAX_INSTANCES + 1][32];   /* what the AS of each instance signs */
	signed char seal_st[ARC_MAX_INSTANCES + 1];         /* SEAL_* */
	buf *data, *tmp;
	buf *sel;                       /* the newest AMS's selected fields, canonical */
	unsigned sel_of;                /* the instance sel was made for, 0 none */
};

/* seal_st values: the digest of an AS's data is not computed (an internal
 * failure), computed, or the data is over ARC_MAX_HEADER_DATA. */
enum { SEAL_NONE = 0, SEAL_OK, SEAL_TOO_LARGE };

static const char *const kind_name[] = { "ARC-Seal", "ARC-Message-Signature",
                                         "ARC-Authentication-Results" };

/* arc_cv_name - see arc.h. */
const char *arc_cv_name(enum arc_cv cv)
{
	return cv == ARC_CV_PASS ? "pass" : cv == ARC_CV_FAIL ? "fail" : "none";
}

/* fail - record the first failure. */
static void fail(arc_verify *v, const char *finding, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(arc_verify *v, const char *finding, const char *fmt, ...)
{
	if (v->finding)
		return;
	v->finding = finding;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

arc_verify *arc_new(dns_resolver *dns, dns_budget *budget, arckeys *keys)
{
	arc_verify *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->dns = dns;
	v->budget = budget;
	v->cache = keys;
	if (keys == NULL) {
		v->cache = arckeys_new();
		v->own = 1;
	}
	v->md = EVP_MD_CTX_new();
	v->run = EVP_MD_CTX_new();
	v->data = buf_new(ARC_MAX_HEADER_DATA);
	v->tmp = buf_new(ARC_MAX_FIELD_BYTES + 64);
	if (v->cache == NULL || v->md == NULL || v->run == NULL || v->data == NULL || v->tmp == NULL) {
		arc_free(v);
		return NULL;
	}
	return v;
}

void arc_free(arc_verify *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nbh; i++)
		bodyhash_free(v->bh[i].h);
	for (size_t i = 0; i < v->nkeys; i++)
		arckeys_put(v->cache, v->keys[i].k);
	if (v->own)
		arckeys_free(v->cache);
	EVP_MD_CTX_free(v->md);
	EVP_MD_CTX_free(v->run);
	buf_free(v->data);
	buf_free(v->tmp);
	buf_free(v->sel);
	free(v);
}

/* arc_want_oldest_pass - see arc.h. */
void arc_want_oldest_pass(arc_verify *v, int on)
{
	v->want_oldest = on != 0;
}

/* kind_of - which ARC field a name is, or -1. */
static int kind_of(const char *name, size_t nlen)
{
	for (int k = 0; k < 3; k++)
		if (mem_caseeq(name, nlen, kind_name[k], strlen(kind_name[k])))
			return k;
	return -1;
}

/* instance_value - (p,n) as an instance number: 1..50, 0 not a number,
 * -1 a number above ARC_MAX_INSTANCES. */
static int instance_value(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	unsigned long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		x = x * 10 + (unsigned long)(p[i] - '0');
		if (x > ARC_MAX_INSTANCES)
			return -1;
	}
	return x == 0 ? 0 : (int)x;
}

/* arc_aar_instance - see arc.h. */
int arc_aar_instance(const char *p, size_t n, size_t *rest)
{
	size_t i = 0;
	*rest = n;
	if (lex_cfws(p, n, &i, NULL) != LEX_OK || i + 1 >= n || p[i] != 'i')
		return 0;
	i++;
	if (lex_cfws(p, n, &i, NULL) != LEX_OK || i >= n || p[i] != '=')
		return 0;
	i++;
	if (lex_cfws(p, n, &i, NULL) != LEX_OK)
		return 0;
	size_t s = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	int inst = instance_value(p + s, i - s);
	if (inst <= 0)
		return inst;
	if (lex_cfws(p, n, &i, NULL) != LEX_OK || i >= n || p[i] != ';')
		return 0;
	*rest = i + 1;
	return inst;
}

/* tag_take - the value of tag name, if present. */
static void tag_take(const struct dkim_tag *t, int nt, const char *name, struct tagv *out)
{
	const struct dkim_tag *x = dkimtag_get(t, nt, name);
	out->p = x ? x->val : NULL;
	out->n = x ? x->vlen : 0;
}

/* sig_parse - the tags of an AS or AMS; the instance, 0 on a syntax error
 * (reason set), -1 above the limit. */
static int sig_parse(arc_verify *v, int kind, const struct hdr_field *f, struct arc_sig *g)
{
	struct dkim_tag t[ARC_MAX_TAGS];
	int nt = dkimtag_parse(f->value, f->vlen, t, ARC_MAX_TAGS);
	if (nt < 0) {
		fail(v, "arc.syntax", "%s: not a valid tag list", kind_name[kind]);
		return 0;
	}
	struct tagv i;
	tag_take(t, nt, "i", &i);
	tag_take(t, nt, "a", &g->a);
	tag_take(t, nt, "b", &g->b);
	tag_take(t, nt, "d", &g->d);
	tag_take(t, nt, "s", &g->s);
	tag_take(t, nt, "bh", &g->bh);
	tag_take(t, nt, "c", &g->c);
	tag_take(t, nt, "h", &g->h);
	tag_take(t, nt, "l", &g->l);
	tag_take(t, nt, "cv", &g->cv);
	const struct dkim_tag *b = dkimtag_get(t, nt, "b");
	if (b)
		g->btag = *b;
	int inst = i.p ? instance_value(i.p, i.n) : 0;
	if (inst == 0) {
		fail(v, "arc.syntax", "%s: no valid i= tag", kind_name[kind]);
		return 0;
	}
	if (kind == K_AS && g->h.p) {
		fail(v, "arc.syntax", "ARC-Seal i=%d has an h= tag (RFC 8617 4.1.3)", inst);
		return 0;
	}
	int miss = !g->a.p || !g->b.p || !g->d.p || !g->s.p || g->d.n == 0 || g->s.n == 0 ||
	           (kind == K_AMS ? !g->bh.p || !g->h.p : !g->cv.p);
	if (inst > 0 && miss) {
		fail(v, "arc.syntax", "%s i=%d: a required tag is missing", kind_name[kind], inst);
		return 0;
	}
	return inst;
}

/* cv_value - the cv= word, or -1. */
static int cv_value(const struct tagv *cv)
{
	if (mem_caseeq(cv->p, cv->n, "none", 4))
		return ARC_CV_NONE;
	if (mem_caseeq(cv->p, cv->n, "pass", 4))
		return ARC_CV_PASS;
	if (mem_caseeq(cv->p, cv->n, "fail", 4))
		return ARC_CV_FAIL;
	return -1;
}

/* add_field - one ARC field into its set; -1 on a failure (recorded). */
static int add_field(arc_verify *v, int kind, const struct hdr_field *f)
{
	if (f->vlen > ARC_MAX_FIELD_BYTES) {
		fail(v, "arc.syntax", "%s longer than %d bytes", kind_name[kind], ARC_MAX_FIELD_BYTES);
		return -1;
	}
	struct arc_sig g;
	memset(&g, 0, sizeof(g));
	size_t rest;
	int inst = kind == K_AAR ? arc_aar_instance(f->value, f->vlen, &rest)
	                         : sig_parse(v, kind, f, &g);
	if (inst < 0) {
		fail(v, "arc.too_many_instances", "%s with an instance above %d", kind_name[kind],
		     ARC_MAX_INSTANCES);
		return -1;
	}
	if (inst == 0) {
		fail(v, "arc.syntax", "%s without a valid instance", kind_name[kind]);
		return -1;
	}
	struct arc_set *s = &v->sets[inst];
	if (s->f[kind] != NULL) {
		fail(v, "arc.structure", "two %s fields with i=%d", kind_name[kind], inst);
		return -1;
	}
	s->f[kind] = f;
	if (kind == K_AS)
		s->as = g;
	else if (kind == K_AMS)
		s->ams = g;
	if ((unsigned)inst > v->n)
		v->n = (unsigned)inst;
	return 0;
}

/* check_chain - RFC 8617 5.2 steps 2 and 3 over the collected sets. */
static int check_chain(arc_verify *v)
{
	const struct arc_set *top = &v->sets[v->n];
	if (top->f[K_AS] && cv_value(&top->as.cv) == ARC_CV_FAIL) {
		fail(v, "arc.chain_failed", "the ARC-Seal of instance %u says cv=fail", v->n);
		return -1;
	}
	for (unsigned i = 1; i <= v->n; i++) {
		struct arc_set *s = &v->sets[i];
		for (int k = 0; k < 3; k++)
			if (s->f[k] == NULL) {
				fail(v, "arc.structure", "instance %u has no %s (sets 1..%u needed)", i,
				     kind_name[k], v->n);
				return -1;
			}
		int cv = cv_value(&s->as.cv);
		int want = i == 1 ? ARC_CV_NONE : ARC_CV_PASS;
		if (cv != want) {
			fail(v, cv == ARC_CV_FAIL ? "arc.chain_failed" : "arc.structure",
			     "the ARC-Seal of instance %u says cv=%.*s, not %s", i,
			     (int)(s->as.cv.n > 16 ? 16 : s->as.cv.n), s->as.cv.p, arc_cv_name(want));
			return -1;
		}
		s->cv = (enum arc_cv)cv;
	}
	return 0;
}

/* canon_of - "simple"/"relaxed" (p,n): 1 relaxed, 0 simple, -1 neither. */
static int canon_of(const char *p, size_t n)
{
	if (mem_caseeq(p, n, "relaxed", 7))
		return 1;
	return mem_caseeq(p, n, "simple", 6) ? 0 : -1;
}

/* body_slot - the body hash slot for (relaxed, limit), created when new;
 * -1 when they are all taken or out of memory. */
static int body_slot(arc_verify *v, int relaxed, long long limit)
{
	for (size_t i = 0; i < v->nbh; i++)
		if (v->bh[i].relaxed == relaxed && v->bh[i].limit == limit)
			return (int)i;
	if (v->nbh >= ARC_MAX_BODYHASH)
		return -1;
	struct bh_slot *b = &v->bh[v->nbh];
	b->h = bodyhash_new(relaxed ? BODYHASH_RELAXED : BODYHASH_SIMPLE, BODYHASH_SHA256, limit);
	if (b->h == NULL)
		return -1;
	b->relaxed = relaxed;
	b->limit = limit;
	return (int)v->nbh++;
}

/* ams_setup - header canonicalization and body hash of one AMS; -1 on a
 * syntax error (recorded). */
static int ams_setup(arc_verify *v, unsigned i)
{
	struct arc_set *s = &v->sets[i];
	const struct tagv *c = &s->ams.c;
	int hc = 0, bc = 0;
	if (c->p) {
		const char *slash = memchr(c->p, '/', c->n);
		size_t hn = slash ? (size_t)(slash - c->p) : c->n;
		hc = canon_of(c->p, hn);
		bc = slash ? canon_of(slash + 1, c->n - hn - 1) : 0;
	}
	long long limit = -1;
	if (s->ams.l.p) {
		limit = 0;
		for (size_t k = 0; k < s->ams.l.n; k++) {
			char d = s->ams.l.p[k];
			if (d < '0' || d > '9' || k >= 18)
				hc = -1;
			else
				limit = limit * 10 + (d - '0');
		}
	}
	size_t names = 1;
	for (size_t k = 0; k < s->ams.h.n; k++)
		names += s->ams.h.p[k] == ':';
	if (names > ARC_MAX_SIGNED) {
		fail(v, "arc.syntax", "ARC-Message-Signature i=%u: more than %d names in h=", i,
		     ARC_MAX_SIGNED);
		return -1;
	}
	if (hc < 0 || bc < 0 || (s->ams.l.p && s->ams.l.n == 0)) {
		fail(v, "arc.syntax", "ARC-Message-Signature i=%u: bad c= or l=", i);
		return -1;
	}
	s->hrelaxed = hc;
	s->bh = body_slot(v, bc, limit);
	return 0;
}

/* arc_eoh - see arc.h. */
int arc_eoh(arc_verify *v, const hdr_set *h)
{
	if (v->eoh_done)
		return 0;
	v->eoh_done = 1;
	v->h = h;
	for (size_t i = 0; i < hdr_count(h) && v->finding == NULL; i++) {
		const struct hdr_field *f = hdr_get(h, i);
		int k = kind_of(f->name, f->nlen);
		if (k < 0)
			continue;
		v->any = 1;
		(void)add_field(v, k, f);
	}
	if (hdr_refused_class(h, "ARC-Seal")) {
		v->any = 1;
		fail(v, "arc.incomplete", "ARC fields were refused by the header caps");
	}
	if (!v->any || v->finding)
		return 0;
	if (check_chain(v) < 0)
		return 0;
	for (unsigned i = 1; i <= v->n; i++)
		if (ams_setup(v, i) < 0)
			return 0;
	return 0;
}

/* arc_body - see arc.h. */
void arc_body(arc_verify *v, const unsigned char *p, size_t n)
{
	if (v->finding)
		return;
	for (size_t i = 0; i < v->nbh; i++)
		if (bodyhash_update(v->bh[i].h, p, n) < 0)
			v->bh[i].len = -1;
}

/* key_name_ok - d= and s= usable in a key name. */
static int key_name_ok(const struct tagv *d, const struct tagv *s)
{
	return d->n > 0 && d->n < 254 && s->n > 0 && s->n < 128 &&
	       !memchr(d->p, '\0', d->n) && !memchr(s->p, '\0', s->n);
}

/* key_fetch - TXT at s._domainkey.d, checked and decoded into e. */
static void key_fetch(arc_verify *v, struct key_ent *e)
{
	e->err = V_KEY;
	if (v->dns == NULL) {
		snprintf(e->why, sizeof(e->why), "no key (no resolver)");
		return;
	}
	char name[400];
	int nl = snprintf(name, sizeof(name), "%s._domainkey.%s", e->s, e->d);
	dns_answer *a = dns_query(v->dns, v->budget, name, (size_t)nl, DNS_T_TXT);
	if (a == NULL) {
		e->err = V_TEMP;
		snprintf(e->why, sizeof(e->why), "key lookup: out of memory");
		return;
	}
	if (a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET) {
		e->err = V_TEMP;
		snprintf(e->why, sizeof(e->why), "key lookup: %s", a->reason ? a->reason
		         : dns_status_name(a->status));
	} else if (a->status != DNS_OK) {
		snprintf(e->why, sizeof(e->why), "no key record (%s)", dns_status_name(a->status));
	} else if (a->count != 1) {
		snprintf(e->why, sizeof(e->why), "multiple key records");
	} else {
		char rec[ARC_KEY_RECORD_MAX];
		long len = dns_txt_join(a->rr[0].data, a->rr[0].len, rec, sizeof(rec));
		const char *why;
		if (len < 0 || memchr(rec, '\0', (size_t)len))
			snprintf(e->why, sizeof(e->why), "key record too long or malformed");
		else if ((e->k = arckeys_get(v->cache, rec, (size_t)len, e->ed)) == NULL) {
			e->err = V_TEMP;
			snprintf(e->why, sizeof(e->why), "key: out of memory");
		} else if (arckey_ok(e->k, &why))
			e->err = V_OK;
		else
			snprintf(e->why, sizeof(e->why), "%s", why);
	}
	dns_answer_free(a);
}

/* key_get - the key for (d, s) and algorithm, fetched once per message. */
static const struct key_ent *key_get(arc_verify *v, const struct arc_sig *g, int ed)
{
	static const struct key_ent too_many = { .err = V_KEY, .why = "too many keys in one chain" };
	static const struct key_ent bad_name = { .err = V_KEY, .why = "invalid key name" };
	if (!key_name_ok(&g->d, &g->s))
		return &bad_name;
	char d[256], s[128];
	str_copy(d, sizeof(d), g->d.p, g->d.n);
	str_copy(s, sizeof(s), g->s.p, g->s.n);
	for (size_t i = 0; i < v->nkeys; i++) {
		const struct key_ent *e = &v->keys[i];
		if (e->ed == ed && strcasecmp(e->d, d) == 0 && strcmp(e->s, s) == 0)
			return e;
	}
	if (v->nkeys >= ARC_MAX_KEYS)
		return &too_many;
	struct key_ent *e = &v->keys[v->nkeys++];
	memcpy(e->d, d, sizeof(d));
	memcpy(e->s, s, sizeof(s));
	e->ed = ed;
	key_fetch(v, e);
	return e;
}

/* sig_verify - g's b= over the SHA-256 digest md of its header data with
 * its key (RSA-SHA256, or Ed25519 over the digest, RFC 8463); V_OK or why. */
static enum vres sig_verify(arc_verify *v, const struct arc_sig *g, const unsigned char *md,
                            char *why, size_t whysz)
{
	int ed;
	if (mem_caseeq(g->a.p, g->a.n, "rsa-sha256", 10))
		ed = 0;
	else if (mem_caseeq(g->a.p, g->a.n, "ed25519-sha256", 14))
		ed = 1;
	else {
		snprintf(why, whysz, "algorithm not accepted (RFC 8617 4.1.3, RFC 8301)");
		return V_SIG;
	}
	unsigned char sig[ARC_SIG_MAX];
	long sl = dkimcanon_unb64(g->b.p, g->b.n, sig, sizeof(sig));
	if (sl <= 0) {
		snprintf(why, whysz, "b= is empty, not base64 or longer than %d bytes", ARC_SIG_MAX);
		return V_SIG;
	}
	const struct key_ent *e = key_get(v, g, ed);
	if (e->err != V_OK) {
		snprintf(why, whysz, "%s", e->why);
		return e->err;
	}
	int ok = arckey_verify(v->cache, e->k, sig, (size_t)sl, md, 32);
	if (ok <= 0)
		snprintf(why, whysz, ok == 0 ? "signature did not verify"
		         : "signature verification could not be set up");
	return ok > 0 ? V_OK : ok == 0 ? V_SIG : V_TEMP;
}

/* body_ok - the AMS's bh= against its body hash. */
static int body_ok(const arc_verify *v, const struct arc_set *s)
{
	if (s->bh < 0 || v->bh[s->bh].len <= 0 || v->bh[s->bh].is_short)
		return 0;
	unsigned char want[BODYHASH_MAX + 8];
	long wl = dkimcanon_unb64(s->ams.bh.p, s->ams.bh.n, want, sizeof(want));
	return wl == v->bh[s->bh].len && memcmp(want, v->bh[s->bh].digest, (size_t)wl) == 0;
}

/* hlist_has - does the h= list name this field (case-insensitive, FWS
 * around the names ignored)? */
static int hlist_has(const struct tagv *h, const char *name)
{
	size_t i = 0, nl = strlen(name);
	while (i < h->n) {
		const char *c = memchr(h->p + i, ':', h->n - i);
		size_t e = c ? (size_t)(c - h->p) : h->n, s = i, t = e;
		while (s < t && strchr(" \t\r\n", h->p[s]))
			s++;
		while (t > s && strchr(" \t\r\n", h->p[t - 1]))
			t--;
		if (mem_caseeq(h->p + s, t - s, name, nl))
			return 1;
		i = e + 1;
	}
	return 0;
}

/* ams_verify - RFC 8617 5.1.2 / RFC 6376 3.7 for the AMS of instance i. An
 * AMS whose h= leaves out From (RFC 6376 6.1.1: PERMFAIL, and 8617 4.1.2
 * gives the AMS DKIM's semantics) or lists ARC-Seal (8617 4.1.2: MUST NOT,
 * so no conforming sealer made it) does not validate. */
/* same_selection - do the AMSs of instances a and b select the same header
 * fields in the same form: the same h= bytes and header canonicalization,
 * and h= not naming ARC-Message-Signature (each AMS skips only itself). */
static int same_selection(const arc_verify *v, unsigned a, unsigned b)
{
	const struct arc_set *x = &v->sets[a], *y = &v->sets[b];
	return x->hrelaxed == y->hrelaxed && x->ams.h.n == y->ams.h.n &&
	       memcmp(x->ams.h.p, y->ams.h.p, x->ams.h.n) == 0 &&
	       !hlist_has(&x->ams.h, "arc-message-signature");
}

/* ams_selected - the header fields the AMS of instance i selects, canonical,
 * into v->data. With the oldest-pass value wanted, the newest AMS's are kept
 * in v->sel and an older AMS that selects the same (same_selection) takes
 * them from there instead of canonicalizing them again. */
static int ams_selected(arc_verify *v, unsigned i, enum dkim_hcanon hc)
{
	const struct arc_set *s = &v->sets[i];
	if (v->sel_of != 0 && v->sel_of != i && same_selection(v, v->sel_of, i))
		return buf_append(v->data, buf_data(v->sel), buf_len(v->sel));
	if (dkimcanon_selected(v->data, hc, v->h, s->ams.h.p, s->ams.h.n, s->f[K_AMS]) < 0)
		return -1;
	if (i != v->n || !v->want_oldest || v->n < 2)
		return 0;
	if (v->sel == NULL && (v->sel = buf_new(ARC_MAX_HEADER_DATA)) == NULL)
		return 0;       /* no copy: the older AMSs canonicalize their own */
	buf_reset(v->sel);
	if (buf_append(v->sel, buf_data(v->data), buf_len(v->data)) == 0)
		v->sel_of = i;
	return 0;
}

static enum vres ams_verify(arc_verify *v, unsigned i, char *why, size_t whysz)
{
	const struct arc_set *s = &v->sets[i];
	if (!hlist_has(&s->ams.h, "from")) {
		snprintf(why, whysz, "h= does not sign From (RFC 6376 6.1.1)");
		return V_SIG;
	}
	if (hlist_has(&s->ams.h, "arc-seal")) {
		snprintf(why, whysz, "h= signs ARC-Seal (RFC 8617 4.1.2)");
		return V_SIG;
	}
	if (!body_ok(v, s)) {
		snprintf(why, whysz, "body hash mismatch");
		return V_SIG;
	}
	const struct hdr_field *f = s->f[K_AMS];
	enum dkim_hcanon hc = s->hrelaxed ? DKIM_HC_RELAXED : DKIM_HC_SIMPLE;
	buf_reset(v->data);
	buf_reset(v->tmp);
	if (ams_selected(v, i, hc) < 0 ||
	    dkimcanon_strip_tag(v->tmp, f->value, f->vlen, &s->ams.btag) < 0 ||
	    dkimcanon_header(v->data, hc, f->name, f->nlen, buf_data(v->tmp), buf_len(v->tmp)) < 0) {
		snprintf(why, whysz, "h= list malformed or signed header data too large");
		return V_SIG;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdl = 0;
	int ok = EVP_DigestInit_ex2(v->md, arckeys_sha256(v->cache), NULL) == 1 &&
	         EVP_DigestUpdate(v->md, buf_data(v->data), buf_len(v->data)) == 1 &&
	         EVP_DigestFinal_ex(v->md, md, &mdl) == 1 && mdl == 32;
	ERR_clear_error();
	if (!ok) {
		snprintf(why, whysz, "header hash failed");
		return V_TEMP;
	}
	return sig_verify(v, &s->ams, md, why, whysz);
}

/* hash_field - f relaxed into the digest x (RFC 8617 5.1.1): with its b=
 * value stripped and no CRLF when b is given (the AS being verified), else
 * whole with CRLF; its length added to *total. -1 on a failure. */
static int hash_field(arc_verify *v, EVP_MD_CTX *x, const struct hdr_field *f,
                      const struct dkim_tag *b, size_t *total)
{
	buf_reset(v->data);
	const char *val = f->value;
	size_t vl = f->vlen;
	if (b) {
		buf_reset(v->tmp);
		if (dkimcanon_strip_tag(v->tmp, f->value, f->vlen, b) < 0)
			return -1;
		val = buf_data(v->tmp);
		vl = buf_len(v->tmp);
	}
	if (dkimcanon_header(v->data, DKIM_HC_RELAXED, f->name, f->nlen, val, vl) < 0 ||
	    (!b && buf_append(v->data, "\r\n", 2) < 0))
		return -1;
	*total += buf_len(v->data);
	return EVP_DigestUpdate(x, buf_data(v->data), buf_len(v->data)) == 1 ? 0 : -1;
}

/* seal_digests - the digest of what the AS of every instance signs (RFC
 * 8617 5.1.1: the AAR, AMS and AS of instances 1..i in that order, relaxed,
 * the AS of i with its b= value stripped and no CRLF) in one pass: every
 * set is canonicalized and hashed once into a running hash, which is copied
 * and finished with the stripped AS at each instance. Data over
 * ARC_MAX_HEADER_DATA is SEAL_TOO_LARGE. */
static void seal_digests(arc_verify *v)
{
	memset(v->seal_st, SEAL_NONE, sizeof(v->seal_st));
	size_t total = 0;
	if (EVP_DigestInit_ex2(v->run, arckeys_sha256(v->cache), NULL) != 1)
		goto out;
	for (unsigned i = 1; i <= v->n; i++) {
		const struct arc_set *s = &v->sets[i];
		if (hash_field(v, v->run, s->f[K_AAR], NULL, &total) < 0 ||
		    hash_field(v, v->run, s->f[K_AMS], NULL, &total) < 0 ||
		    EVP_MD_CTX_copy_ex(v->md, v->run) != 1)
			break;
		size_t mine = total;
		unsigned mdl = 0;
		if (hash_field(v, v->md, s->f[K_AS], &s->as.btag, &mine) < 0 ||
		    EVP_DigestFinal_ex(v->md, v->seal_md[i], &mdl) != 1 || mdl != 32)
			break;
		v->seal_st[i] = mine > ARC_MAX_HEADER_DATA ? SEAL_TOO_LARGE : SEAL_OK;
		if (i < v->n && hash_field(v, v->run, s->f[K_AS], NULL, &total) < 0)
			break;
	}
out:
	ERR_clear_error();
}

/* seal_verify - the AS of instance i (after seal_digests). */
static enum vres seal_verify(arc_verify *v, unsigned i, char *why, size_t whysz)
{
	if (v->seal_st[i] != SEAL_OK) {
		snprintf(why, whysz, v->seal_st[i] == SEAL_TOO_LARGE ? "sealed header data too large"
		         : "sealed header data could not be hashed");
		return v->seal_st[i] == SEAL_TOO_LARGE ? V_SIG : V_TEMP;
	}
	return sig_verify(v, &v->sets[i].as, v->seal_md[i], why, whysz);
}

/* fail_v - a verification failure as the finding of its kind. */
static void fail_v(arc_verify *v, enum vres r, const char *what, unsigned i, const char *why)
{
	fail(v, r == V_TEMP ? "arc.temperror" : r == V_KEY ? "arc.key" : what,
	     "%s i=%u: %s", strcmp(what, "arc.seal_fail") == 0 ? "ARC-Seal" : "ARC-Message-Signature",
	     i, why);
}

/* oldest_pass - RFC 8617 5.2 steps 5-6 after the AMS of N validated: 0
 * when every older AMS validates too, else the lowest instance from which
 * all AMS up to N validate. */
static int oldest_pass(arc_verify *v)
{
	char why[128];
	for (unsigned i = v->n - 1; i >= 1; i--)
		if (ams_verify(v, i, why, sizeof(why)) != V_OK)
			return (int)i + 1;
	return 0;
}

/* finish_bodies - the digests of every body hash. */
static void finish_bodies(arc_verify *v)
{
	for (size_t i = 0; i < v->nbh; i++) {
		struct bh_slot *b = &v->bh[i];
		if (b->len == 0)
			b->len = bodyhash_final(b->h, b->digest);
		else
			b->len = -1;
		b->is_short = b->len > 0 && bodyhash_short(b->h);
	}
}

/* arc_eom - see arc.h. */
void arc_eom(arc_verify *v, struct arc_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->oldest_pass = -1;
	out->instances = v->n;
	if (v->n && v->sets[v->n].f[K_AS])
		(void)arc_sealer(v, v->n, out->sealer, sizeof(out->sealer));
	finish_bodies(v);
	if (!v->any) {
		out->result = AR_NONE;
		return;
	}
	char why[128];
	enum vres r;
	if (!v->finding && (r = ams_verify(v, v->n, why, sizeof(why))) != V_OK)
		fail_v(v, r, "arc.ams_fail", v->n, why);
	if (!v->finding)
		seal_digests(v);
	for (unsigned i = v->n; i >= 1 && !v->finding; i--)
		if ((r = seal_verify(v, i, why, sizeof(why))) != V_OK)
			fail_v(v, r, "arc.seal_fail", i, why);
	/* only for a chain that holds, and only when asked for: it costs one
	 * more verification per older instance, and nothing else reads it */
	int oldest = v->finding || !v->want_oldest ? -1 : oldest_pass(v);
	if (v->finding) {
		out->result = AR_FAIL;
		out->finding = v->finding;
		str_copy(out->reason, sizeof(out->reason), v->reason, strlen(v->reason));
		return;
	}
	out->result = AR_PASS;
	out->oldest_pass = oldest;
}

/* arc_sealer - see arc.h. */
int arc_sealer(const arc_verify *v, unsigned i, char *out, size_t outsz)
{
	if (i == 0 || i > v->n || v->sets[i].f[K_AS] == NULL || v->sets[i].as.d.p == NULL) {
		if (outsz)
			out[0] = '\0';
		return -1;
	}
	str_printable(out, outsz, v->sets[i].as.d.p, v->sets[i].as.d.n);
	return 0;
}

/* One "key=value" of an Authentication-Results resinfo. */
struct kv { const char *k; size_t kn; const char *v; size_t vn; };

/* aar_token - the length of a token at i (up to CFWS, ';', '=', quotes). */
static size_t aar_token(const char *p, size_t n, size_t i)
{
	size_t s = i;
	while (i < n && !strchr(" \t\r\n;=()\"", p[i]) && p[i] != '\0')
		i++;
	return i - s;
}

/* aar_resinfo - the key=value pairs of one resinfo from *pos up to ';' or
 * the end; the count (at most max), *pos past the ';'. Quoted values are
 * taken without their quotes (no quoted-pair in a domain or result). */
static size_t aar_resinfo(const char *p, size_t n, size_t *pos, struct kv *out, size_t max)
{
	size_t i = *pos, c = 0;
	while (i < n) {
		if (lex_cfws(p, n, &i, NULL) != LEX_OK || i >= n)
			break;
		if (p[i] == ';') {
			i++;
			break;
		}
		size_t kl = aar_token(p, n, i);
		struct kv x = { p + i, kl, NULL, 0 };
		i += kl ? kl : 1;
		if (lex_cfws(p, n, &i, NULL) != LEX_OK || i >= n || p[i] != '=')
			continue;
		i++;
		if (lex_cfws(p, n, &i, NULL) != LEX_OK || i >= n)
			break;
		if (p[i] == '"') {
			size_t s = ++i;
			while (i < n && p[i] != '"')
				i++;
			x.v = p + s;
			x.vn = i - s;
			i += i < n;
		} else {
			x.vn = aar_token(p, n, i);
			x.v = p + i;
			i += x.vn;
		}
		if (c < max && kl)
			out[c++] = x;
	}
	*pos = i;
	return c;
}

/* kv_get - the value of key in pairs (from index 1: 0 is method=result). */
static const struct kv *kv_get(const struct kv *x, size_t c, const char *key)
{
	for (size_t i = 1; i < c; i++)
		if (mem_caseeq(x[i].k, x[i].kn, key, strlen(key)))
			return &x[i];
	return NULL;
}

/* below - the domain of (p,n) (after an '@' if any) is at or below base. */
static int below(const struct kv *x, const char *base)
{
	if (x == NULL)
		return 0;
	const char *at = memchr(x->v, '@', x->vn);
	const char *d = at ? at + 1 : x->v;
	size_t dl = at ? x->vn - (size_t)(at + 1 - x->v) : x->vn;
	return dom_at_or_below(d, dl, base, strlen(base));
}

/* resinfo_authenticates - one resinfo of an AAR, for arc_aar_authenticates. */
static int resinfo_authenticates(const struct kv *x, size_t c, const char *from, const char *org)
{
	if (c == 0 || !mem_caseeq(x[0].v, x[0].vn, "pass", 4))
		return 0;
	if (mem_caseeq(x[0].k, x[0].kn, "dmarc", 5)) {
		const struct kv *hf = kv_get(x, c, "header.from");
		return hf && mem_caseeq(hf->v, hf->vn, from, strlen(from));
	}
	if (mem_caseeq(x[0].k, x[0].kn, "dkim", 4))
		return below(kv_get(x, c, "header.d"), org) || below(kv_get(x, c, "header.i"), org);
	if (mem_caseeq(x[0].k, x[0].kn, "spf", 3))
		return below(kv_get(x, c, "smtp.mailfrom"), org);
	return 0;
}

/* arc_aar_authenticates - see arc.h. */
int arc_aar_authenticates(const arc_verify *v, unsigned i, const char *from, const char *org)
{
	if (i == 0 || i > v->n || v->sets[i].f[K_AAR] == NULL || from[0] == '\0')
		return 0;
	if (org == NULL || org[0] == '\0')
		org = from;
	const struct hdr_field *f = v->sets[i].f[K_AAR];
	size_t pos;
	if (arc_aar_instance(f->value, f->vlen, &pos) <= 0)
		return 0;
	struct kv x[ARC_AAR_PAIRS];
	(void)aar_resinfo(f->value, f->vlen, &pos, x, ARC_AAR_PAIRS);   /* authserv-id */
	while (pos < f->vlen) {
		size_t c = aar_resinfo(f->value, f->vlen, &pos, x, ARC_AAR_PAIRS);
		if (resinfo_authenticates(x, c, from, org))
			return 1;
	}
	return 0;
}

/* trusted - is instance i sealed by one of the trusted domains? */
static int trusted(const arc_verify *v, unsigned i, const struct policy_name *t, size_t n)
{
	char d[256];
	if (arc_sealer(v, i, d, sizeof(d)) < 0)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (dom_at_or_below(d, strlen(d), t[k].name, t[k].len))
			return 1;
	return 0;
}

/* arc_override - see arc.h. */
int arc_override(const arc_verify *v, const struct arc_outcome *o, const struct policy_name *t,
                 size_t n, const char *from, const char *org, char *out, size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	if (o->result != AR_PASS || v->n == 0 || !trusted(v, v->n, t, n))
		return 0;
	unsigned k = v->n;
	while (k > 1 && trusted(v, k - 1, t, n))
		k--;
	if (!arc_aar_authenticates(v, k, from, org))
		return 0;
	return arc_sealer(v, k, out, outsz) == 0;
}
