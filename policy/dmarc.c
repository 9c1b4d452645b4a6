/*
 * dmarc - DMARC policy discovery and evaluation (RFC 9989, with an RFC 7489
 * mode), our own code on the dns resolver.
 *
 * RFC 9989 mode follows draft-ietf-dmarc-dmarcbis-41 (the text that became
 * RFC 9989):
 *   - s4.10 DNS Tree Walk: query _dmarc.<domain>, then its parents; a domain
 *     of 8 or more labels skips to its 7 right-most labels, so a walk makes at
 *     most DMARC_WALK_MAX (8) queries. A walk stops at a record with psd=y/n.
 *   - At each name, TXT records not starting with v=DMARC1 are discarded; when
 *     several DMARC records remain, all of them are discarded (s4.10 steps 2
 *     and 6) and the walk goes on as if the name had none (outcome flag
 *     multiple_records records that this happened).
 *   - s4.10.2 Organizational Domain: among the records the walk found, longest
 *     name first: psd=n -> that name; psd=y (not at the start) -> the name one
 *     label below; otherwise the name with the fewest labels; none -> the
 *     starting domain itself.
 *   - s4.10.1 policy record: the From domain's own record, else the one at the
 *     Organizational Domain, else the PSD (psd=y) record. From a record that is
 *     not the From domain's own: np if the From domain does not exist (RFC 8020
 *     NXDOMAIN, s3.2.13 and A.4), else sp, else p.
 *   - invalid p/sp/np: p=none if rua= has a valid URI, else no DMARC (none).
 *   - t=y lowers the disposition one step; pct, rf, ri are ignored.
 *   - relaxed alignment compares the tree-walk Organizational Domains, strict
 *     compares the names.
 * RFC 7489 mode: Organizational Domain from the Public Suffix List (libpsl,
 * psl_latest(): Debian's publicsuffix file, "*" default rule); the policy is
 * looked up at the From domain then at its Organizational Domain; several
 * records at a name end discovery (s6.6.3: no DMARC); psd/np/t are not part
 * of RFC 7489 and are ignored; pct samples deterministically (see pct_apply).
 *
 * DNS failures: any tempfail while discovering the policy is temperror. When
 * a tempfail (or the query budget, or DMARC_MAX_LOOKUPS) leaves an alignment
 * unknown, the result is pass if another identifier passes aligned, otherwise
 * temperror: an exhausted budget must never turn a spoof into "no policy".
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <libpsl.h>
#include "dmarc.h"
#include "buf.h"

/* A looked-up _dmarc name (memoized per evaluation: walks share tails). */
enum lk_status { LK_NONE = 0, LK_FOUND, LK_TEMP };

struct lookup {
	char name[256];            /* the domain (without "_dmarc.") */
	enum lk_status status;
	int multiple;              /* several DMARC records: all discarded */
	int too_long;              /* the single record exceeded DMARC_RECORD_MAX */
	char reason[128];          /* for LK_TEMP */
	struct dmarc_record rec;
};

struct ctx {
	const struct dmarc_dns_view *v;
	dns_budget *budget;
	size_t n;
	unsigned queries;
	int multiple_seen;
	struct lookup lk[DMARC_MAX_LOOKUPS]; /* the first n are valid (cleared as taken); last */
};

/* The records one tree walk found, longest name first. */
struct walk {
	size_t nfound;
	const struct lookup *found[DMARC_WALK_MAX];
	size_t found_off[DMARC_WALK_MAX];  /* offset of the name inside the walked domain */
	int error;                         /* a lookup failed: the walk is incomplete */
	char reason[128];
	size_t org_off;                    /* Organizational Domain = domain + org_off */
	int psd_index;                     /* index in found[] of a psd=y record, -1 none */
};

/* ---------------------------------------------------------------- parsing */

/* is_wsp - whitespace tolerated around tags (WSP, and FWS leftovers). */
static int is_wsp(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* trim - shrink (p,n) past leading and trailing whitespace. */
static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_wsp((unsigned char)**p)) { (*p)++; (*n)--; }
	while (*n > 0 && is_wsp((unsigned char)(*p)[*n - 1])) (*n)--;
}

/* word_eq - ASCII case-insensitive match of (p,n) with a literal. */
static int word_eq(const char *p, size_t n, const char *lit)
{
	return mem_caseeq(p, n, lit, strlen(lit));
}

/* parse_request - dmarc-request ("none" / "quarantine" / "reject"), UNSPEC if invalid. */
static enum dmarc_policy parse_request(const char *p, size_t n)
{
	if (word_eq(p, n, "none")) return DMARC_P_NONE;
	if (word_eq(p, n, "quarantine")) return DMARC_P_QUARANTINE;
	if (word_eq(p, n, "reject")) return DMARC_P_REJECT;
	return DMARC_P_UNSPEC;
}

/* uri_valid - one dmarc-uri (RFC 3986 scheme ":" something, no spaces), with
 * the obsolete "!size" suffix allowed. */
static int uri_valid(const char *p, size_t n)
{
	size_t i = 0;
	if (n < 3 || !isalpha((unsigned char)p[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
		i++;
	if (i >= n || p[i] != ':' || i + 1 >= n)
		return 0;
	for (size_t j = i + 1; j < n; j++) {
		unsigned char c = (unsigned char)p[j];
		if (c <= 0x20 || c >= 0x7f || c == ',')
			return 0;
	}
	return 1;
}

/* urilist_valid - nonzero if the comma list holds at least one valid URI. */
static int urilist_valid(const char *p, size_t n)
{
	size_t i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && p[j] != ',')
			j++;
		const char *u = p + i;
		size_t un = j - i;
		trim(&u, &un);
		if (uri_valid(u, un))
			return 1;
		i = j + 1;
	}
	return 0;
}

/* value_ok - dmarc-value: 1* printable ASCII except ';' (already split on). */
static int value_ok(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

/* record_defaults - the values an absent tag stands for. */
static void record_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->psd = -1;
	r->pct = 100;
	r->p_missing = 1;
}

/* dmarc_record_parse - one DMARC record; only a missing/wrong v=DMARC1 first
 * tag rejects it (draft-41 s4.7 "v"); every other bad tag is ignored and keeps
 * its default (s4.8), except that a bad p/sp/np is remembered in
 * bad_policy_tag because s4.10.1 gives that case its own rule. Tag names and
 * keyword values are case-insensitive (RFC 5234 literals); "DMARC1" is case
 * sensitive (%s). Duplicate tags: the first occurrence wins. */
int dmarc_record_parse(const char *p, size_t n, struct dmarc_record *out, char *err, size_t errlen)
{
	unsigned seen = 0;
	enum { S_P = 1, S_SP = 2, S_NP = 4, S_ADKIM = 8, S_ASPF = 16, S_PSD = 32, S_T = 64,
	       S_PCT = 128, S_RUA = 256, S_RUF = 512 };
	record_defaults(out);
	if (err && errlen)
		err[0] = '\0';
	size_t i = 0;
	int first = 1;
	while (i <= n) {
		size_t j = i;
		while (j < n && p[j] != ';')
			j++;
		const char *seg = p + i;
		size_t sn = j - i;
		i = j + 1;
		trim(&seg, &sn);
		const char *eq = sn ? memchr(seg, '=', sn) : NULL;
		const char *name = seg, *val = NULL;
		size_t nn = sn, vn = 0;
		if (eq) {
			nn = (size_t)(eq - seg);
			val = eq + 1;
			vn = sn - nn - 1;
			trim(&name, &nn);
			trim(&val, &vn);
		}
		if (first) {
			first = 0;
			if (!eq || !word_eq(name, nn, "v") || vn != 6 || memcmp(val, "DMARC1", 6) != 0) {
				if (err && errlen)
					snprintf(err, errlen, "not a DMARC record (first tag is not v=DMARC1)");
				return -1;
			}
			continue;
		}
		if (sn == 0 || !eq || nn == 0)
			continue;               /* empty segment or not a tag: ignored */
		int alpha = 1;
		for (size_t k = 0; k < nn; k++)
			if (!isalpha((unsigned char)name[k]))
				alpha = 0;
		if (!alpha)
			continue;
		int vok = value_ok(val, vn);
		/* the first occurrence of a tag wins */
#define ONCE(bit) if (seen & (bit)) continue; seen |= (bit)
		if (word_eq(name, nn, "p")) {
			ONCE(S_P);
			out->p_missing = 0;
			out->p = vok ? parse_request(val, vn) : DMARC_P_UNSPEC;
			if (out->p == DMARC_P_UNSPEC)
				out->bad_policy_tag |= DMARC_BAD_P;
		} else if (word_eq(name, nn, "sp")) {
			ONCE(S_SP);
			out->sp = vok ? parse_request(val, vn) : DMARC_P_UNSPEC;
			if (out->sp == DMARC_P_UNSPEC)
				out->bad_policy_tag |= DMARC_BAD_SP;
		} else if (word_eq(name, nn, "np")) {
			ONCE(S_NP);
			out->np = vok ? parse_request(val, vn) : DMARC_P_UNSPEC;
			if (out->np == DMARC_P_UNSPEC)
				out->bad_policy_tag |= DMARC_BAD_NP;
		} else if (word_eq(name, nn, "adkim")) {
			ONCE(S_ADKIM);
			if (word_eq(val, vn, "s")) out->adkim_strict = 1;
		} else if (word_eq(name, nn, "aspf")) {
			ONCE(S_ASPF);
			if (word_eq(val, vn, "s")) out->aspf_strict = 1;
		} else if (word_eq(name, nn, "psd")) {
			ONCE(S_PSD);
			if (word_eq(val, vn, "y")) out->psd = 1;
			else if (word_eq(val, vn, "n")) out->psd = 0;
		} else if (word_eq(name, nn, "t")) {
			ONCE(S_T);
			if (word_eq(val, vn, "y")) out->testing = 1;
		} else if (word_eq(name, nn, "pct")) {
			ONCE(S_PCT);
			/* RFC 7489 s6.3: 1*3DIGIT, 0..100; anything else keeps 100 */
			if (vn >= 1 && vn <= 3) {
				int v = 0, ok = 1;
				for (size_t k = 0; k < vn; k++) {
					if (!isdigit((unsigned char)val[k])) ok = 0;
					else v = v * 10 + (val[k] - '0');
				}
				if (ok && v <= 100)
					out->pct = v;
			}
		} else if (word_eq(name, nn, "rua") || word_eq(name, nn, "ruf")) {
			int rua = word_eq(name, nn, "rua");
			ONCE(rua ? S_RUA : S_RUF);
			if (!vok)
				continue;
			char *dst = rua ? out->rua : out->ruf;
			if (vn >= sizeof(out->rua))
				out->uri_too_long = 1;
			else
				str_copy(dst, sizeof(out->rua), val, vn);
			if (rua)
				out->rua_valid = urilist_valid(val, vn);
		}
		/* fo, rf, ri and unknown tags: ignored (s4.7: unknown tags MUST be ignored) */
#undef ONCE
	}
	return 0;
}

/* dmarc_mode_discovery_name - see dmarc.h. */
const char *dmarc_mode_discovery_name(enum dmarc_mode m)
{
	return m == DMARC_MODE_RFC7489 ? "psl" : "treewalk";
}

/* dmarc_policy_name - the keyword for a policy value. */
const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE: return "none";
	case DMARC_P_QUARANTINE: return "quarantine";
	case DMARC_P_REJECT: return "reject";
	default: return "unspecified";
	}
}

/* dmarc_severity - see dmarc.h. */
int dmarc_severity(const struct dmarc_outcome *o)
{
	switch (o->result) {
	case AR_PASS: return 0;
	case AR_NONE: return 1;
	case AR_PERMERROR: return 2;
	case AR_TEMPERROR: return 4;
	default:
		break;
	}
	/* fail (and anything unexpected): by what the policy asks */
	return o->disposition == DMARC_P_REJECT ? 6 : o->disposition == DMARC_P_QUARANTINE ? 5 : 3;
}

/* ---------------------------------------------------------------- names */

/* norm_domain - lowercase (p,n) into out without a trailing dot; -1 if it
 * cannot be a domain name (dom_name_len: empty, empty label, label > 63,
 * name > 253, a NUL byte). */
static int norm_domain(const char *p, size_t n, char *out, size_t outsz)
{
	long l = dom_name_len(p, n, DOM_DOT);
	if (l < 0 || (size_t)l >= outsz)
		return -1;
	for (long i = 0; i < l; i++)
		out[i] = (char)tolower((unsigned char)p[i]);
	out[l] = '\0';
	return 0;
}

/* label_offsets - start offset of each label, left to right; returns count. */
static size_t label_offsets(const char *d, size_t off[128])
{
	size_t k = 0;
	off[k++] = 0;
	for (size_t i = 0; d[i] && k < 128; i++)
		if (d[i] == '.')
			off[k++] = i + 1;
	return k;
}

/* ---------------------------------------------------------------- lookups */

/* lookup - the DMARC record set at _dmarc.<domain>, memoized. NULL when the
 * per-message cap DMARC_MAX_LOOKUPS is reached. */
static const struct lookup *lookup(struct ctx *c, const char *domain)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->lk[i].name, domain) == 0)
			return &c->lk[i];
	if (c->n >= DMARC_MAX_LOOKUPS)
		return NULL;
	struct lookup *l = &c->lk[c->n++];
	memset(l, 0, sizeof(*l));
	str_copy(l->name, sizeof(l->name), domain, strlen(domain));
	char q[300];
	int qn = snprintf(q, sizeof(q), "_dmarc.%s", domain);
	if (qn < 0 || (size_t)qn >= sizeof(q)) {
		l->status = LK_NONE;     /* cannot exist: no record */
		return l;
	}
	c->queries++;
	dns_answer *a = c->v->query(c->v->ctx, c->budget, q, (size_t)qn, DNS_T_TXT);
	if (a == NULL) {
		l->status = LK_TEMP;
		str_copy(l->reason, sizeof(l->reason), "out of memory", 13);
		return l;
	}
	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NODATA: case DNS_NXDOMAIN: case DNS_BADNAME:
		l->status = LK_NONE;
		c->v->release(c->v->ctx, a);
		return l;
	default:  /* DNS_TEMPFAIL, DNS_BUDGET */
		l->status = LK_TEMP;
		snprintf(l->reason, sizeof(l->reason), "%.80s: %.40s", q,
		         a->reason ? a->reason : dns_status_name(a->status));
		c->v->release(c->v->ctx, a);
		return l;
	}
	char *txt = malloc(DMARC_RECORD_MAX);
	if (txt == NULL) {
		l->status = LK_TEMP;
		str_copy(l->reason, sizeof(l->reason), "out of memory", 13);
		c->v->release(c->v->ctx, a);
		return l;
	}
	size_t ndmarc = 0;
	for (size_t i = 0; i < a->count; i++) {
		long len = dns_txt_join(a->rr[i].data, a->rr[i].len, txt, DMARC_RECORD_MAX);
		struct dmarc_record r;
		if (len < 0) {
			/* longer than our cap (or malformed): still a DMARC record if it
			 * starts like one, so it counts for "several records" */
			size_t k = 0, off = 0;
			const unsigned char *d = a->rr[i].data;
			while (off < a->rr[i].len && k < 64) {
				size_t sl = d[off++];
				for (size_t m = 0; m < sl && off < a->rr[i].len && k < 64; m++)
					txt[k++] = (char)d[off++];
			}
			char e[8];
			if (k >= 8 && dmarc_record_parse(txt, k < 16 ? k : 16, &r, e, sizeof(e)) == 0) {
				/* prefix "v=DMARC1;..." parsed: count it, mark it unusable */
				if (ndmarc++ == 0) {
					l->rec = r;
					l->too_long = 1;
				}
			}
			continue;
		}
		if (dmarc_record_parse(txt, (size_t)len, &r, NULL, 0) == 0) {
			if (ndmarc++ == 0) {
				l->rec = r;
				l->too_long = 0;
			}
		}
	}
	free(txt);
	c->v->release(c->v->ctx, a);
	if (ndmarc == 1) {
		l->status = LK_FOUND;
	} else {
		l->status = LK_NONE;
		if (ndmarc > 1) {
			l->multiple = 1;
			c->multiple_seen = 1;
		}
	}
	return l;
}

/* tree_walk - draft-41 s4.10 from domain; fills w (records found, org domain). */
static void tree_walk(struct ctx *c, const char *domain, struct walk *w)
{
	size_t off[128];
	size_t x = label_offsets(domain, off);
	memset(w, 0, sizeof(*w));
	w->psd_index = -1;
	size_t li = 0;           /* index of the left-most label of the target */
	for (size_t q = 0; q < DMARC_WALK_MAX && li < x; q++) {
		const char *target = domain + off[li];
		const struct lookup *l = lookup(c, target);
		if (l == NULL) {
			w->error = 1;
			snprintf(w->reason, sizeof(w->reason), "more than %d DMARC lookups", DMARC_MAX_LOOKUPS);
			break;
		}
		if (l->status == LK_TEMP) {
			w->error = 1;
			snprintf(w->reason, sizeof(w->reason), "%s", l->reason);
			break;
		}
		if (l->status == LK_FOUND) {
			w->found[w->nfound] = l;
			w->found_off[w->nfound] = off[li];
			w->nfound++;
			if (l->rec.psd == 1 || l->rec.psd == 0)
				break;
		}
		/* step 4 (first step only when x >= 8) and step 7 */
		size_t remaining = x - li;
		if (remaining >= 8)
			li = x - 7;
		else
			li++;
	}
	/* s4.10.2 Organizational Domain selection, longest to shortest */
	w->org_off = 0;
	if (w->nfound == 0)
		return;
	for (size_t i = 0; i < w->nfound; i++) {
		const struct lookup *l = w->found[i];
		if (l->rec.psd == 0) {
			w->org_off = w->found_off[i];
			return;
		}
		if (l->rec.psd == 1 && w->found_off[i] != 0) {
			w->psd_index = (int)i;
			/* the name one label below the PSD */
			size_t o = w->found_off[i] - 1;  /* the dot before the PSD */
			while (o > 0 && domain[o - 1] != '.')
				o--;
			w->org_off = o;
			return;
		}
	}
	w->org_off = w->found_off[w->nfound - 1];
}

/* ---------------------------------------------------------------- PSL */

static psl_ctx_t *psl_ctx_;
static pthread_once_t psl_once_ = PTHREAD_ONCE_INIT;

/* psl_load - load the newest PSL once per process; read-only afterwards, so
 * threads share it (libpsl lookups do not modify the context). */
static void psl_load(void) { psl_ctx_ = psl_latest(NULL); }

/* dmarc_psl_org_domain - the registrable domain by the PSL, or the name itself
 * when it is a public suffix. */
int dmarc_psl_org_domain(const char *p, size_t n, char *out, size_t outsz)
{
	char d[256];
	if (norm_domain(p, n, d, sizeof(d)) < 0)
		return -1;
	pthread_once(&psl_once_, psl_load);
	const char *r = NULL;
	if (psl_ctx_)
		r = psl_registrable_domain(psl_ctx_, d);
	if (r == NULL)
		r = d;
	return str_copy(out, outsz, r, strlen(r));
}

/* ---------------------------------------------------------------- evaluation */

/* alignment results */
enum { AL_NO = 0, AL_YES = 1, AL_UNKNOWN = -1 };

struct eval {
	struct ctx *c;
	enum dmarc_mode mode;
	const char *author;
	const char *org;          /* Organizational Domain of the author */
	int org_known;
	char unknown_reason[128];
};

/* aligned - identifier alignment of id with the author domain. */
static int aligned(struct eval *e, const char *id_raw, int strict)
{
	char id[256];
	if (id_raw == NULL || norm_domain(id_raw, strlen(id_raw), id, sizeof(id)) < 0)
		return AL_NO;
	if (strcmp(id, e->author) == 0)
		return AL_YES;
	if (strict)
		return AL_NO;
	if (e->mode == DMARC_MODE_RFC7489) {
		char o[256];
		if (dmarc_psl_org_domain(id, strlen(id), o, sizeof(o)) < 0)
			return AL_NO;
		return strcmp(o, e->org) == 0 ? AL_YES : AL_NO;
	}
	if (!e->org_known)
		return AL_UNKNOWN;
	/* the Organizational Domain of id is id or one of its parents: unless
	 * org(author) is a label-suffix of id they cannot be equal (no queries) */
	if (!dom_at_or_below(id, strlen(id), e->org, strlen(e->org)))
		return AL_NO;
	struct walk w;
	tree_walk(e->c, id, &w);
	if (w.error) {
		snprintf(e->unknown_reason, sizeof(e->unknown_reason), "%s", w.reason);
		return AL_UNKNOWN;
	}
	return strcmp(id + w.org_off, e->org) == 0 ? AL_YES : AL_NO;
}

/* lower_policy - one step less: reject -> quarantine -> none. */
static enum dmarc_policy lower_policy(enum dmarc_policy p)
{
	if (p == DMARC_P_REJECT) return DMARC_P_QUARANTINE;
	if (p == DMARC_P_QUARANTINE) return DMARC_P_NONE;
	return p;
}

/* fnv1a - 32-bit FNV-1a over a string (NULL: nothing), continuing from h. */
static uint32_t fnv1a(uint32_t h, const char *s)
{
	return s ? fnv1a32(h, s, strlen(s)) : h;
}

/* pct_apply - RFC 7489 s6.6.4: apply the policy to pct% of failing messages,
 * the next lower policy to the rest. Sampling is deterministic so that a
 * re-delivery of the same message gets the same answer: the message is in
 * the sample iff FNV-1a(sample_key) mod 100 < pct (the key defaults to the
 * From and SPF domains plus the signatures' b= prefixes). pct=0 never and
 * pct=100 always applies the policy. */
static enum dmarc_policy pct_apply(const struct dmarc_input *in, int pct, enum dmarc_policy p)
{
	if (pct >= 100)
		return p;
	if (pct <= 0)
		return lower_policy(p);
	uint32_t h = FNV32_INIT;
	if (in->sample_key && in->sample_key[0]) {
		h = fnv1a(h, in->sample_key);
	} else {
		h = fnv1a(h, in->from_domain);
		h = fnv1a(h, "|");
		h = fnv1a(h, in->spf_domain);
		for (size_t i = 0; i < in->nsigs && i < DKIM_MAX_SIGS; i++) {
			h = fnv1a(h, "|");
			h = fnv1a(h, in->sigs[i].b_prefix);
		}
	}
	return (h % 100u) < (unsigned)pct ? p : lower_policy(p);
}

/* domain_exists - s3.2.13/A.4: a name exists unless the DNS says NXDOMAIN.
 * A, AAAA and MX are asked in turn and the first NOERROR answer ends it: all
 * three must say NXDOMAIN, which guards against a server that wrongly answers
 * NXDOMAIN for one type. 1 exists, 0 not, -1 tempfail (reason set). */
static int domain_exists(struct ctx *c, const char *d, char *reason, size_t rlen)
{
	static const int types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };
	for (size_t i = 0; i < 3; i++) {
		c->queries++;
		dns_answer *a = c->v->query(c->v->ctx, c->budget, d, strlen(d), types[i]);
		if (a == NULL) {
			snprintf(reason, rlen, "out of memory");
			return -1;
		}
		enum dns_status s = a->status;
		if (s == DNS_TEMPFAIL || s == DNS_BUDGET)
			snprintf(reason, rlen, "%.80s: %.40s", d, a->reason ? a->reason : dns_status_name(s));
		c->v->release(c->v->ctx, a);
		if (s == DNS_OK || s == DNS_NODATA)
			return 1;
		if (s == DNS_TEMPFAIL || s == DNS_BUDGET)
			return -1;
		if (s == DNS_BADNAME)
			return 0;
	}
	return 0;
}

/* set_result - fill result and problem. */
static void set_result(struct dmarc_outcome *out, enum auth_result r, const char *problem)
{
	out->result = r;
	if (problem)
		snprintf(out->problem, sizeof(out->problem), "%s", problem);
}

/* discover_9989 - policy record and Organizational Domain by tree walk. */
static const struct lookup *discover_9989(struct eval *e, struct dmarc_outcome *out, struct walk *w)
{
	tree_walk(e->c, e->author, w);
	const char *a = e->author;
	/* the From domain's own record is usable even if later queries failed */
	if (w->nfound > 0 && w->found_off[0] == 0) {
		if (!w->error) {
			e->org = a + w->org_off;
			e->org_known = 1;
		}
		str_copy(out->policy_domain, sizeof(out->policy_domain), a, strlen(a));
		return w->found[0];
	}
	if (w->error)
		return NULL;
	e->org = a + w->org_off;
	e->org_known = 1;
	for (size_t i = 0; i < w->nfound; i++)
		if (w->found_off[i] == w->org_off) {
			str_copy(out->policy_domain, sizeof(out->policy_domain),
			         a + w->found_off[i], strlen(a + w->found_off[i]));
			return w->found[i];
		}
	if (w->psd_index >= 0) {
		const char *pd = a + w->found_off[w->psd_index];
		str_copy(out->policy_domain, sizeof(out->policy_domain), pd, strlen(pd));
		return w->found[w->psd_index];
	}
	return NULL;
}

/* discover_7489 - RFC 7489 s6.6.3: From domain, then its PSL org domain. */
static const struct lookup *discover_7489(struct eval *e, struct dmarc_outcome *out, char *org,
                                          size_t orgsz, int *stop)
{
	*stop = 0;
	if (dmarc_psl_org_domain(e->author, strlen(e->author), org, orgsz) < 0)
		str_copy(org, orgsz, e->author, strlen(e->author));
	e->org = org;
	e->org_known = 1;
	const char *names[2] = { e->author, org };
	size_t nn = strcmp(org, e->author) == 0 ? 1 : 2;
	for (size_t i = 0; i < nn; i++) {
		const struct lookup *l = lookup(e->c, names[i]);
		if (l == NULL || l->status == LK_TEMP) {
			set_result(out, AR_TEMPERROR, l ? l->reason : "too many DMARC lookups");
			*stop = 1;
			return NULL;
		}
		if (l->multiple) {
			/* s6.6.3 step 5: several records end discovery: no DMARC */
			snprintf(out->problem, sizeof(out->problem), "several DMARC records at _dmarc.%s", names[i]);
			*stop = 1;
			return NULL;
		}
		if (l->status == LK_FOUND) {
			str_copy(out->policy_domain, sizeof(out->policy_domain), names[i], strlen(names[i]));
			return l;
		}
	}
	return NULL;
}

/* dmarc_evaluate_view - the whole evaluation through a DNS view. */
int dmarc_evaluate_view(const struct dmarc_dns_view *v, dns_budget *budget, enum dmarc_mode mode,
                        const struct dmarc_input *in, struct dmarc_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = AR_NONE;
	out->policy = DMARC_P_UNSPEC;
	out->disposition = DMARC_P_NONE;
	out->rec.psd = -1;
	out->rec.pct = 100;
	char author[256];
	if (in->from_domain == NULL || in->from_domain[0] == '\0') {
		set_result(out, AR_NONE, "no From domain");
		return 0;
	}
	str_copy(out->from_domain, sizeof(out->from_domain), in->from_domain, strlen(in->from_domain));
	if (norm_domain(in->from_domain, strlen(in->from_domain), author, sizeof(author)) < 0) {
		set_result(out, AR_PERMERROR, "From domain is not a valid domain name");
		return 0;
	}
	str_copy(out->from_domain, sizeof(out->from_domain), author, strlen(author));
	struct ctx *c = malloc(sizeof(*c));
	if (c == NULL) {
		set_result(out, AR_TEMPERROR, "out of memory");
		return -1;
	}
	memset(c, 0, offsetof(struct ctx, lk));
	c->v = v;
	c->budget = budget;
	struct eval e = { .c = c, .mode = mode, .author = author, .org = author };
	struct walk w;
	char org7489[256];
	const struct lookup *pl;
	if (mode == DMARC_MODE_RFC7489) {
		int stop;
		pl = discover_7489(&e, out, org7489, sizeof(org7489), &stop);
		if (stop && out->result == AR_TEMPERROR)
			goto done;
	} else {
		pl = discover_9989(&e, out, &w);
		if (pl == NULL && w.error) {
			set_result(out, AR_TEMPERROR, w.reason);
			goto done;
		}
	}
	str_copy(out->org_domain, sizeof(out->org_domain), e.org_known ? e.org : author,
	         strlen(e.org_known ? e.org : author));

	struct dmarc_record rec;
	int have_policy = 0;
	if (pl != NULL) {
		rec = pl->rec;
		out->record_found = 1;
		out->rec = rec;
		have_policy = 1;
		unsigned bad = (unsigned)rec.bad_policy_tag;
		if (mode == DMARC_MODE_RFC7489) {
			bad &= ~(unsigned)DMARC_BAD_NP;           /* np is not RFC 7489 */
			if (rec.p_missing)
				bad |= DMARC_BAD_P;                  /* RFC 7489: p is required */
		}
		if (pl->too_long) {
			set_result(out, AR_PERMERROR, "DMARC record longer than the 4096-byte cap");
			have_policy = 0;
		} else if (bad) {
			if (rec.rua_valid) {
				/* s4.10.1: act as if the record were p=none */
				rec.p = DMARC_P_NONE;
				rec.sp = rec.np = DMARC_P_UNSPEC;
			} else {
				snprintf(out->problem, sizeof(out->problem),
				         "invalid %s tag and no valid rua: DMARC not applied",
				         (bad & DMARC_BAD_P) ? "p" : (bad & DMARC_BAD_SP) ? "sp" : "np");
				have_policy = 0;
			}
		} else if (rec.p_missing) {
			rec.p = DMARC_P_NONE;                     /* s4.7 "p": treated as p=none */
		}
	} else if (out->problem[0] == '\0') {
		snprintf(out->problem, sizeof(out->problem), "no DMARC record");
	}

	/* alignment: the record's modes, relaxed when there is no record */
	int adkim_s = pl ? pl->rec.adkim_strict : 0, aspf_s = pl ? pl->rec.aspf_strict : 0;
	int unknown = 0;
	out->spf_aligned = 0;
	if (in->spf_result == AR_PASS) {
		int a = aligned(&e, in->spf_domain, aspf_s);
		if (a == AL_UNKNOWN) unknown = 1;
		out->spf_aligned = a == AL_YES;
	}
	size_t ns = in->nsigs < DKIM_MAX_SIGS ? in->nsigs : DKIM_MAX_SIGS;
	for (size_t i = 0; i < ns; i++) {
		int a = aligned(&e, in->sigs[i].domain, adkim_s);
		out->sig_aligned[i] = a == AL_YES;
		if (in->sigs[i].result == AR_PASS) {
			if (a == AL_UNKNOWN) unknown = 1;
			if (a == AL_YES) out->dkim_aligned = 1;
		}
	}
	if (!have_policy)
		goto done;                 /* none or permerror already set */

	/* the policy that applies to the From domain */
	enum dmarc_policy pol = rec.p;
	if (strcmp(out->policy_domain, author) != 0) {
		pol = rec.sp != DMARC_P_UNSPEC ? rec.sp : rec.p;
		if (mode == DMARC_MODE_RFC9989 && rec.np != DMARC_P_UNSPEC && rec.np != pol &&
		    !out->spf_aligned && !out->dkim_aligned) {
			/* np only matters for a failing message: ask only then */
			char reason[128];
			int ex = domain_exists(c, author, reason, sizeof(reason));
			if (ex < 0) {
				out->policy = pol;
				set_result(out, AR_TEMPERROR, reason);
				goto done;
			}
			if (ex == 0) {
				out->nonexistent = 1;
				pol = rec.np;
			}
		}
	}
	out->policy = pol;
	if (out->spf_aligned || out->dkim_aligned) {
		set_result(out, AR_PASS, NULL);
		out->problem[0] = '\0';
		out->disposition = DMARC_P_NONE;
	} else if (unknown) {
		set_result(out, AR_TEMPERROR, e.unknown_reason[0] ? e.unknown_reason
		           : "Organizational Domain unknown (DNS failure)");
	} else {
		set_result(out, AR_FAIL, NULL);
		enum dmarc_policy d = pol;
		if (mode == DMARC_MODE_RFC9989 && rec.testing)
			d = lower_policy(d);                   /* s4.7 "t": one level below */
		if (mode == DMARC_MODE_RFC7489)
			d = pct_apply(in, rec.pct, d);
		out->disposition = d;
	}
done:
	out->multiple_records = c->multiple_seen;
	out->lookups = c->queries;
	if (out->result != AR_PASS && out->result != AR_FAIL && out->problem[0] == '\0' && c->multiple_seen)
		snprintf(out->problem, sizeof(out->problem), "several DMARC records at one name (discarded)");
	free(c);
	return 0;
}

/* real_query - the view's query over the process resolver. */
static dns_answer *real_query(void *ctx, dns_budget *b, const char *name, size_t namelen, int rrtype)
{
	return dns_query((dns_resolver *)ctx, b, name, namelen, rrtype);
}

/* real_release - free an answer of real_query. */
static void real_release(void *ctx, dns_answer *a)
{
	(void)ctx;
	dns_answer_free(a);
}

/* dmarc_evaluate - evaluate through the shared resolver. */
int dmarc_evaluate(dns_resolver *dns, dns_budget *budget, enum dmarc_mode mode,
                   const struct dmarc_input *in, struct dmarc_outcome *out)
{
	struct dmarc_dns_view v = { real_query, real_release, dns };
	return dmarc_evaluate_view(&v, budget, mode, in, out);
}

/* dmarc_org_domain - see dmarc.h. */
int dmarc_org_domain(dns_resolver *dns, dns_budget *budget, enum dmarc_mode mode,
                     const char *p, size_t n, char *out, size_t outsz)
{
	char d[256];
	if (norm_domain(p, n, d, sizeof(d)) < 0)
		return -1;
	if (mode == DMARC_MODE_RFC7489)
		return dmarc_psl_org_domain(d, strlen(d), out, outsz) < 0 ? -1 : 0;
	struct dmarc_dns_view v = { real_query, real_release, dns };
	struct ctx *c = malloc(sizeof(*c));
	if (c == NULL)
		return -2;
	memset(c, 0, offsetof(struct ctx, lk));
	c->v = &v;
	c->budget = budget;
	struct walk w;
	tree_walk(c, d, &w);
	free(c);
	if (w.error)
		return -2;
	return str_copy(out, outsz, d + w.org_off, strlen(d + w.org_off)) < 0 ? -1 : 0;
}

/* result_findings - the findings of one reading's result. */
static void result_findings(const struct dmarc_outcome *d, const char *sealer, findings *f)
{
	const char *dom = d->from_domain[0] ? d->from_domain : "an unreadable author";
	switch (d->result) {
	case AR_PASS:
		break;
	case AR_NONE:
		findings_add(f, "dmarc.no_record", "no DMARC record for %s%s%s", dom,
		             d->problem[0] ? ": " : "", d->problem);
		break;
	case AR_TEMPERROR:
		findings_add(f, "dmarc.temperror", "DMARC lookup for %s failed temporarily: %s",
		             dom, d->problem);
		break;
	case AR_PERMERROR:
		findings_add(f, "dmarc.permerror", "DMARC record for %s unusable: %s",
		             dom, d->problem);
		break;
	default:
		if (d->from_domain[0])
			findings_add(f, "dmarc.fail", "neither SPF nor DKIM passed aligned with %s "
			             "(policy %s)", dom, dmarc_policy_name(d->policy));
		else
			findings_add(f, "dmarc.fail", "%s", d->problem);
		if (sealer)
			findings_add(f, "dmarc.override.arc", "policy %s of %s overridden: ARC sealed by "
			             "trusted %s", dmarc_policy_name(d->disposition), dom, sealer);
		else if (d->disposition == DMARC_P_REJECT)
			findings_add(f, "dmarc.disposition.reject", "the policy of %s asks to reject",
			             d->policy_domain[0] ? d->policy_domain : dom);
		else if (d->disposition == DMARC_P_QUARANTINE)
			findings_add(f, "dmarc.disposition.quarantine",
			             "the policy of %s asks to quarantine",
			             d->policy_domain[0] ? d->policy_domain : dom);
		break;
	}
}

/* dmarc_findings - see dmarc.h. */
void dmarc_findings(const struct dmarc_outcome *d, size_t nreadings, const struct dkim_sig *sigs,
                    size_t nsigs, const char *sealer, findings *f)
{
	if (nreadings > 1)
		findings_add(f, "dmarc.multiple_authors", "%zu author readings evaluated; the "
		             "strictest (%s for %s) applies", nreadings, result_name(d->result),
		             d->from_domain[0] ? d->from_domain : "an unreadable author");
	result_findings(d, sealer, f);
	if (nsigs && !d->dkim_aligned && d->result != AR_TEMPERROR) {
		int any_pass = 0;
		for (size_t i = 0; i < nsigs; i++)
			any_pass |= sigs[i].result == AR_PASS;
		if (any_pass)
			findings_add(f, "dkim.not_aligned", "no passing signature aligns with %s",
			             d->from_domain[0] ? d->from_domain : "the From domain");
	}
}
