/*
 * test_dmarc - DMARC record parsing, tree walk, policy choice and alignment,
 * table-driven over an in-memory DNS view (no server needed).
 */
#include <stdlib.h>
#include "t.h"
#include "dmarc.h"
#include "buf.h"

/* ---------------------------------------------------------------- record parsing */

struct rcase {
	const char *name, *rec;
	int ret;
	enum dmarc_policy p, sp, np;
	int adkim_s, aspf_s, psd, t, pct, bad, rua_valid, p_missing;
};

#define N DMARC_P_NONE
#define Q DMARC_P_QUARANTINE
#define R DMARC_P_REJECT
#define U DMARC_P_UNSPEC

static const struct rcase rcases[] = {
	{ "minimal", "v=DMARC1; p=none", 0, N, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "full", "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=s; psd=n; t=y; pct=50; rua=mailto:a@example.com",
	  0, R, Q, R, 1, 1, 0, 1, 50, 0, 1, 0 },
	{ "whitespace", "  v = DMARC1 ;p = quarantine\t;  sp=none ;  ", 0, Q, N, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "tag case", "V=DMARC1; P=Reject; SP=NONE; ADKIM=S", 0, R, N, U, 1, 0, -1, 0, 100, 0, 0, 0 },
	{ "version value case sensitive", "v=dmarc1; p=reject", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "version not first", "p=reject; v=DMARC1", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "version missing", "p=reject", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "spf record", "v=spf1 -all", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "DMARC2", "v=DMARC2; p=reject", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "empty", "", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "no separator", "v=DMARC1 p=reject", -1, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "version only", "v=DMARC1", 0, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "version only trailing sep", "v=DMARC1;", 0, U, U, U, 0, 0, -1, 0, 100, 0, 0, 1 },
	{ "unknown tags ignored", "v=DMARC1; foo=bar; p=reject; x=; =y; junk", 0, R, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "invalid p", "v=DMARC1; p=bogus", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 0, 0 },
	{ "invalid p with rua", "v=DMARC1; p=bogus; rua=mailto:r@example.com", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 1, 0 },
	{ "empty p", "v=DMARC1; p=", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 0, 0 },
	{ "invalid sp", "v=DMARC1; p=none; sp=maybe", 0, N, U, U, 0, 0, -1, 0, 100, DMARC_BAD_SP, 0, 0 },
	{ "invalid np", "v=DMARC1; p=none; np=x", 0, N, U, U, 0, 0, -1, 0, 100, DMARC_BAD_NP, 0, 0 },
	{ "bad adkim keeps relaxed", "v=DMARC1; p=none; adkim=x; aspf=strict", 0, N, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "psd y", "v=DMARC1; p=reject; psd=y", 0, R, U, U, 0, 0, 1, 0, 100, 0, 0, 0 },
	{ "psd u", "v=DMARC1; p=reject; psd=u", 0, R, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "psd bad", "v=DMARC1; p=reject; psd=maybe", 0, R, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "t n", "v=DMARC1; p=reject; t=n", 0, R, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "pct bad kept 100", "v=DMARC1; p=reject; pct=150", 0, R, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "pct 0", "v=DMARC1; p=reject; pct=0", 0, R, U, U, 0, 0, -1, 0, 0, 0, 0, 0 },
	{ "duplicate p first wins", "v=DMARC1; p=none; p=reject", 0, N, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "rua invalid uri", "v=DMARC1; p=bogus; rua=not a uri", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 0, 0 },
	{ "rua list one valid", "v=DMARC1; p=bogus; rua=junk, mailto:x@example.com!10m", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 1, 0 },
	{ "rf ri fo ignored", "v=DMARC1; p=quarantine; rf=afrf; ri=86400; fo=1", 0, Q, U, U, 0, 0, -1, 0, 100, 0, 0, 0 },
	{ "control char in value", "v=DMARC1; p=re\x01ject", 0, U, U, U, 0, 0, -1, 0, 100, DMARC_BAD_P, 0, 0 },
};

static void test_records(void)
{
	for (size_t i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];
		struct dmarc_record r;
		char err[128];
		int ret = dmarc_record_parse(c->rec, strlen(c->rec), &r, err, sizeof(err));
		T_INT(ret, c->ret, "parse %s: return", c->name);
		if (ret != 0 || c->ret != 0)
			continue;
		T_OK(r.p == c->p && r.sp == c->sp && r.np == c->np, "parse %s: p/sp/np (%d %d %d)", c->name, r.p, r.sp, r.np);
		T_OK(r.adkim_strict == c->adkim_s && r.aspf_strict == c->aspf_s, "parse %s: adkim/aspf", c->name);
		T_OK(r.psd == c->psd && r.testing == c->t && r.pct == c->pct, "parse %s: psd/t/pct (%d %d %d)", c->name, r.psd, r.testing, r.pct);
		T_OK(r.bad_policy_tag == c->bad && r.rua_valid == c->rua_valid && r.p_missing == c->p_missing,
		     "parse %s: bad=%d rua_valid=%d p_missing=%d", c->name, r.bad_policy_tag, r.rua_valid, r.p_missing);
	}
	/* a record with a NUL byte: the value is invalid, not cut at the NUL */
	static const char nul[] = "v=DMARC1; p=reject\0; sp=none";
	struct dmarc_record r;
	T_INT(dmarc_record_parse(nul, sizeof(nul) - 1, &r, NULL, 0), 0, "parse NUL byte: accepted");
	T_OK(r.bad_policy_tag == DMARC_BAD_P && r.p == U && r.sp == N, "parse NUL byte: p with NUL is invalid, sp kept");
}

/* ---------------------------------------------------------------- fake DNS */

/* A zone line: "name TYPE [value]"; TYPE is TXT, A, MX, TEMP (the name and
 * names below it answer SERVFAIL/timeout) or TEMPX (that name only). */
struct fake { const char *const *zone; unsigned queries; char log[2048]; };

static int name_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return mem_caseeq(a, an, b, bn);
}

static dns_answer *fake_query(void *ctx, dns_budget *b, const char *name, size_t nl, int type)
{
	struct fake *f = ctx;
	dns_answer *a = calloc(1, sizeof(*a));
	if (nl && name[nl - 1] == '.')
		nl--;
	f->queries++;
	size_t ll = strlen(f->log);
	snprintf(f->log + ll, sizeof(f->log) - ll, "%.*s/%d ", (int)nl, name, type);
	if (b && b->max && b->used >= b->max) {
		a->status = DNS_BUDGET;
		a->reason = "budget";
		return a;
	}
	if (b)
		b->used++;
	int listed = 0;
	a->status = DNS_NXDOMAIN;
	for (const char *const *z = f->zone; *z; z++) {
		const char *sp = strchr(*z, ' ');
		size_t zn = (size_t)(sp - *z);
		const char *ty = sp + 1;
		const char *sp2 = strchr(ty, ' ');
		size_t tn = sp2 ? (size_t)(sp2 - ty) : strlen(ty);
		const char *val = sp2 ? sp2 + 1 : "";
		if (tn == 5 && memcmp(ty, "TEMPX", 5) == 0 && name_eq(*z, zn, name, nl)) {
			a->status = DNS_TEMPFAIL;   /* this name only */
			a->reason = "SERVFAIL";
			return a;
		}
		if (tn == 4 && memcmp(ty, "TEMP", 4) == 0 &&
		    (name_eq(*z, zn, name, nl) || (nl > zn && name[nl - zn - 1] == '.' && name_eq(*z, zn, name + nl - zn, zn)))) {
			a->status = DNS_TEMPFAIL;
			a->reason = "SERVFAIL";
			a->count = 0;
			return a;
		}
		if (zn > nl && (*z)[zn - nl - 1] == '.' && name_eq(*z + zn - nl, nl, name, nl))
			listed = 1;        /* a parent of a listed name: empty non-terminal */
		if (!name_eq(*z, zn, name, nl))
			continue;
		listed = 1;
		int t = tn == 3 && memcmp(ty, "TXT", 3) == 0 ? DNS_T_TXT : tn == 1 && ty[0] == 'A' ? DNS_T_A :
		        tn == 2 && memcmp(ty, "MX", 2) == 0 ? DNS_T_MX : 0;
		if (t != type || a->count >= DNS_MAX_RRS)
			continue;
		struct dns_rr *rr = &a->rr[a->count++];
		size_t vl = strlen(val);
		unsigned char *d = malloc(vl + vl / 255 + 2);
		size_t o = 0, i = 0;
		do {
			size_t chunk = vl - i > 255 ? 255 : vl - i;
			d[o++] = (unsigned char)chunk;
			memcpy(d + o, val + i, chunk);
			o += chunk;
			i += chunk;
		} while (i < vl);
		rr->data = d;
		rr->len = o;
	}
	if (a->count)
		a->status = DNS_OK;
	else if (listed)
		a->status = DNS_NODATA;
	return a;
}

static void fake_release(void *ctx, dns_answer *a)
{
	(void)ctx;
	for (size_t i = 0; i < a->count; i++)
		free((void *)a->rr[i].data);
	free(a);
}

/* ---------------------------------------------------------------- evaluation */

static const char *const z_basic[] = {
	"_dmarc.example.test TXT v=DMARC1; p=reject; sp=quarantine; np=none",
	"example.test A 192.0.2.1",
	"sub.example.test A 192.0.2.2",
	"other.test A 192.0.2.3",
	"_dmarc.strict.test TXT v=DMARC1; p=reject; adkim=s; aspf=s",
	"_dmarc.testing.test TXT v=DMARC1; p=reject; t=y",
	"_dmarc.qtesting.test TXT v=DMARC1; p=quarantine; t=y",
	"_dmarc.multi.test TXT v=DMARC1; p=reject",
	"_dmarc.multi.test TXT v=DMARC1; p=none",
	"_dmarc.sub.multi2.test TXT v=DMARC1; p=reject",
	"_dmarc.sub.multi2.test TXT v=DMARC1; p=none",
	"_dmarc.multi2.test TXT v=DMARC1; p=quarantine",
	"_dmarc.notdmarc.test TXT v=spf1 -all",
	"_dmarc.notdmarc.test TXT v=DMARC1; p=quarantine",
	"_dmarc.badp.test TXT v=DMARC1; p=bogus",
	"_dmarc.badprua.test TXT v=DMARC1; p=bogus; rua=mailto:r@badprua.test",
	"_dmarc.nop.test TXT v=DMARC1; rua=mailto:r@nop.test",
	/* psd: bank.example is a PSD with psd=y (draft B.4.3) */
	"_dmarc.bank.test TXT v=DMARC1; p=reject; psd=y",
	"_dmarc.giant.bank.test TXT v=DMARC1; p=none",
	"giant.bank.test A 192.0.2.4",
	"small.bank.test A 192.0.2.5",
	/* psd=n stops the walk: org domain below the top record */
	"_dmarc.corp.test TXT v=DMARC1; p=reject",
	"_dmarc.div.corp.test TXT v=DMARC1; p=quarantine; psd=n",
	"div.corp.test A 192.0.2.6",
	"x.div.corp.test A 192.0.2.7",
	/* intermediate record without psd: the top one is the org domain */
	"_dmarc.deep.test TXT v=DMARC1; p=reject; sp=none",
	"_dmarc.mid.deep.test TXT v=DMARC1; p=quarantine",
	"a.mid.deep.test A 192.0.2.8",
	"_dmarc.tf.test TEMP",
	"_dmarc.sub.tf2.test TEMP",
	"_dmarc.tf2.test TXT v=DMARC1; p=reject",
	"_dmarc.np.test TXT v=DMARC1; p=none; np=reject",
	"np.test A 192.0.2.9",
	"exists.np.test MX 10 mx.np.test",
	"tempexist.np.test TEMPX",
	NULL
};

struct ecase {
	const char *name;
	enum dmarc_mode mode;
	const char *from;
	enum auth_result spf; const char *spf_domain;
	enum auth_result dkim; const char *dkim_domain;  /* one signature (NULL: none) */
	enum auth_result want;
	enum dmarc_policy policy, disposition;
	const char *policy_domain, *org_domain;
	int spf_aligned, sig_aligned;
};

#define P AR_PASS
#define F AR_FAIL
#define M9 DMARC_MODE_RFC9989
#define M7 DMARC_MODE_RFC7489

static const struct ecase ecases[] = {
	{ "record at From, spf aligned pass", M9, "example.test", P, "example.test", F, NULL, P, R, N, "example.test", "example.test", 1, 0 },
	{ "record at From, relaxed dkim subdomain", M9, "example.test", F, "x.test", P, "mail.example.test", P, R, N, "example.test", "example.test", 0, 1 },
	{ "fail -> reject", M9, "example.test", F, "example.test", F, "example.test", F, R, R, "example.test", "example.test", 0, 1 },
	{ "pass dkim from other org not aligned", M9, "example.test", F, "", P, "other.test", F, R, R, "example.test", "example.test", 0, 0 },
	{ "sp for existing subdomain", M9, "sub.example.test", F, "sub.example.test", F, NULL, F, Q, Q, "example.test", "example.test", 0, 0 },
	{ "np for nonexistent subdomain", M9, "nosuch.example.test", F, "x.test", F, NULL, F, N, N, "example.test", "example.test", 0, 0 },
	{ "tree walk from deep name", M9, "a.b.c.example.test", P, "example.test", F, NULL, P, Q, N, "example.test", "example.test", 1, 0 },
	{ "tree walk relaxed spf from parent", M9, "a.b.c.example.test", P, "bounce.example.test", F, NULL, P, Q, N, "example.test", "example.test", 1, 0 },
	{ "strict spf subdomain not aligned", M9, "strict.test", P, "mail.strict.test", P, "mail.strict.test", F, R, R, "strict.test", "strict.test", 0, 0 },
	{ "strict exact aligned", M9, "strict.test", P, "strict.test", F, NULL, P, R, N, "strict.test", "strict.test", 1, 0 },
	{ "t=y reject -> quarantine", M9, "testing.test", F, "", F, NULL, F, R, Q, "testing.test", "testing.test", 0, 0 },
	{ "t=y quarantine -> none", M9, "qtesting.test", F, "", F, NULL, F, Q, N, "qtesting.test", "qtesting.test", 0, 0 },
	{ "t=y ignored in rfc7489", M7, "testing.test", F, "", F, NULL, F, R, R, "testing.test", "testing.test", 0, 0 },
	{ "multiple records -> none", M9, "multi.test", F, "", F, NULL, AR_NONE, U, N, "", "multi.test", 0, 0 },
	{ "multiple at From: walk goes on", M9, "sub.multi2.test", F, "", F, NULL, F, Q, Q, "multi2.test", "multi2.test", 0, 0 },
	{ "multiple at From rfc7489: no DMARC", M7, "sub.multi2.test", F, "", F, NULL, AR_NONE, U, N, "", "multi2.test", 0, 0 },
	{ "non-DMARC TXT ignored", M9, "notdmarc.test", F, "", F, NULL, F, Q, Q, "notdmarc.test", "notdmarc.test", 0, 0 },
	{ "invalid p no rua -> none", M9, "badp.test", F, "", F, NULL, AR_NONE, U, N, "badp.test", "badp.test", 0, 0 },
	{ "invalid p with rua -> p=none", M9, "badprua.test", F, "", F, NULL, F, N, N, "badprua.test", "badprua.test", 0, 0 },
	{ "no p -> p=none (9989)", M9, "nop.test", F, "", F, NULL, F, N, N, "nop.test", "nop.test", 0, 0 },
	{ "no p with rua -> p=none (7489)", M7, "nop.test", F, "", F, NULL, F, N, N, "nop.test", "nop.test", 0, 0 },
	{ "no record -> none", M9, "nothing.test", P, "nothing.test", P, "nothing.test", AR_NONE, U, N, "", "nothing.test", 1, 1 },
	{ "no record: subdomain signer not aligned (own org)", M9, "nothing.test", F, "", P, "mail.nothing.test", AR_NONE, U, N, "", "nothing.test", 0, 0 },
	{ "psd: org below psd=y (B.4.3)", M9, "giant.bank.test", P, "mail.giant.bank.test", P, "mail.mega.bank.test", P, N, N, "giant.bank.test", "giant.bank.test", 1, 0 },
	{ "psd: policy from PSD record", M9, "small.bank.test", F, "", F, NULL, F, R, R, "bank.test", "small.bank.test", 0, 0 },
	{ "psd: sibling under PSD not aligned", M9, "small.bank.test", F, "", P, "giant.bank.test", F, R, R, "bank.test", "small.bank.test", 0, 0 },
	{ "psd: PSD name itself", M9, "bank.test", F, "", P, "x.bank.test", F, R, R, "bank.test", "bank.test", 0, 0 },
	{ "psd=n stops walk", M9, "x.div.corp.test", F, "", P, "corp.test", F, Q, Q, "div.corp.test", "div.corp.test", 0, 0 },
	{ "psd=n relaxed within", M9, "x.div.corp.test", F, "", P, "y.div.corp.test", P, Q, N, "div.corp.test", "div.corp.test", 0, 1 },
	{ "top record is org, intermediate ignored", M9, "a.mid.deep.test", F, "", F, NULL, F, N, N, "deep.test", "deep.test", 0, 0 },
	{ "tempfail at From -> temperror", M9, "tf.test", F, "", F, NULL, AR_TEMPERROR, U, N, "", "", 0, 0 },
	{ "tempfail during walk -> temperror", M9, "sub.tf2.test", F, "", F, NULL, AR_TEMPERROR, U, N, "", "", 0, 0 },
	{ "np=reject nonexistent", M9, "gone.np.test", F, "", F, NULL, F, R, R, "np.test", "np.test", 0, 0 },
	{ "np: MX-only name exists", M9, "exists.np.test", F, "", F, NULL, F, N, N, "np.test", "np.test", 0, 0 },
	{ "np: existence tempfail -> temperror", M9, "tempexist.np.test", F, "", F, NULL, AR_TEMPERROR, N, N, "np.test", "np.test", 0, 0 },
	{ "np: pass does not ask existence", M9, "gone.np.test", P, "np.test", F, NULL, P, N, N, "np.test", "np.test", 1, 0 },
	{ "np ignored in rfc7489", M7, "gone.np.test", F, "", F, NULL, F, N, N, "np.test", "np.test", 0, 0 },
	{ "trailing dot and case", M9, "Example.TEST.", P, "EXAMPLE.test", F, NULL, P, R, N, "example.test", "example.test", 1, 0 },
	{ "invalid From domain", M9, "a..b", F, "", F, NULL, AR_PERMERROR, U, N, "", "", 0, 0 },
	{ "rfc7489 org by PSL", M7, "a.b.example.test", P, "x.example.test", F, NULL, P, Q, N, "example.test", "example.test", 1, 0 },
	{ "rfc7489 co.uk style", M7, "mail.example.co.uk", F, "", P, "example.co.uk", AR_NONE, U, N, "", "example.co.uk", 0, 1 },
};

static void test_eval(void)
{
	for (size_t i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		const struct ecase *c = &ecases[i];
		struct fake f = { .zone = z_basic };
		struct dmarc_dns_view v = { fake_query, fake_release, &f };
		struct dkim_sig sig;
		memset(&sig, 0, sizeof(sig));
		struct dmarc_input in = { .from_domain = c->from, .spf_result = c->spf, .spf_domain = c->spf_domain };
		if (c->dkim_domain) {
			sig.result = c->dkim;
			snprintf(sig.domain, sizeof(sig.domain), "%s", c->dkim_domain);
			in.nsigs = 1;
			in.sigs = &sig;
		}
		struct dmarc_outcome o;
		dmarc_evaluate_view(&v, NULL, c->mode, &in, &o);
		T_STR(result_name(o.result), result_name(c->want), "eval %s: result (%s)", c->name, o.problem);
		T_STR(dmarc_policy_name(o.policy), dmarc_policy_name(c->policy), "eval %s: policy", c->name);
		T_STR(dmarc_policy_name(o.disposition), dmarc_policy_name(c->disposition), "eval %s: disposition", c->name);
		T_STR(o.policy_domain, c->policy_domain, "eval %s: policy domain", c->name);
		T_STR(o.org_domain, c->org_domain, "eval %s: org domain", c->name);
		T_INT(o.spf_aligned, c->spf_aligned, "eval %s: spf aligned", c->name);
		if (c->dkim_domain)
			T_INT(o.sig_aligned[0], c->sig_aligned, "eval %s: sig aligned", c->name);
		T_OK(o.lookups <= 3 * DMARC_WALK_MAX + 3, "eval %s: %u queries: %s", c->name, o.lookups, f.log);
	}
}

/* The 8-query cap and label skipping of draft-41 s4.10 (its own example). */
static void test_walk_cap(void)
{
	static const char *const z[] = { "_dmarc.example.com TXT v=DMARC1; p=reject", NULL };
	struct fake f = { .zone = z };
	struct dmarc_dns_view v = { fake_query, fake_release, &f };
	struct dmarc_input in = { .from_domain = "a.b.c.d.e.f.g.h.i.j.mail.example.com", .spf_result = AR_FAIL };
	struct dmarc_outcome o;
	dmarc_evaluate_view(&v, NULL, M9, &in, &o);
	T_STR(f.log, "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com/16 _dmarc.g.h.i.j.mail.example.com/16 "
	      "_dmarc.h.i.j.mail.example.com/16 _dmarc.i.j.mail.example.com/16 _dmarc.j.mail.example.com/16 "
	      "_dmarc.mail.example.com/16 _dmarc.example.com/16 _dmarc.com/16 ", "walk: the draft's 8 queries");
	T_STR(o.policy_domain, "example.com", "walk: policy domain");
	T_STR(result_name(o.result), "fail", "walk: fail");

	/* exactly 8 labels: 8 queries, no skipping */
	struct fake f2 = { .zone = z };
	v.ctx = &f2;
	in.from_domain = "a.b.c.d.e.f.example.com";
	dmarc_evaluate_view(&v, NULL, M9, &in, &o);
	T_INT(f2.queries, 8, "walk: 8 labels -> 8 queries");

	/* a memoized walk: signatures in the same org re-use the From walk */
	struct fake f3 = { .zone = z };
	v.ctx = &f3;
	struct dkim_sig sigs[3];
	memset(sigs, 0, sizeof(sigs));
	for (int i = 0; i < 3; i++) {
		sigs[i].result = AR_PASS;
		snprintf(sigs[i].domain, sizeof(sigs[i].domain), "s%d.example.com", i);
	}
	in.from_domain = "news.example.com";
	in.nsigs = 3;
	in.sigs = sigs;
	dmarc_evaluate_view(&v, NULL, M9, &in, &o);
	T_STR(result_name(o.result), "pass", "memo: pass");
	T_INT(f3.queries, 3 + 3, "memo: 3 From walk + 1 per signature");
	T_OK(o.sig_aligned[0] && o.sig_aligned[1] && o.sig_aligned[2], "memo: all aligned");

	/* a signature outside the From org domain costs no query */
	struct fake f4 = { .zone = z };
	v.ctx = &f4;
	snprintf(sigs[0].domain, sizeof(sigs[0].domain), "evil.test");
	in.nsigs = 1;
	dmarc_evaluate_view(&v, NULL, M9, &in, &o);
	T_INT(f4.queries, 3, "foreign signer: no extra query");
	T_INT(o.sig_aligned[0], 0, "foreign signer: not aligned");

	/* budget exhausted: no lenient answer */
	struct fake f5 = { .zone = z };
	v.ctx = &f5;
	dns_budget b = { .max = 1 };
	in.from_domain = "a.news.example.com";
	in.nsigs = 0;
	dmarc_evaluate_view(&v, &b, M9, &in, &o);
	T_STR(result_name(o.result), "temperror", "budget exhausted -> temperror (%s)", o.problem);
}

/* RFC 7489 pct: deterministic sampling by key. */
static void test_pct(void)
{
	static const char *const z[] = { "_dmarc.pct.test TXT v=DMARC1; p=reject; pct=50",
	                                 "_dmarc.pct0.test TXT v=DMARC1; p=quarantine; pct=0", NULL };
	struct fake f = { .zone = z };
	struct dmarc_dns_view v = { fake_query, fake_release, &f };
	struct dmarc_input in = { .from_domain = "pct.test", .spf_result = AR_FAIL };
	struct dmarc_outcome o;
	int rej = 0, quar = 0;
	char key[32];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "<m%d@pct.test>", i);
		in.sample_key = key;
		dmarc_evaluate_view(&v, NULL, M7, &in, &o);
		if (o.disposition == R) rej++;
		if (o.disposition == Q) quar++;
	}
	T_OK(rej + quar == 200 && rej > 60 && quar > 60, "pct=50: both outcomes (%d reject, %d quarantine)", rej, quar);
	in.sample_key = "<same@pct.test>";
	dmarc_evaluate_view(&v, NULL, M7, &in, &o);
	enum dmarc_policy d1 = o.disposition;
	dmarc_evaluate_view(&v, NULL, M7, &in, &o);
	T_INT(o.disposition, d1, "pct: same key, same disposition");
	dmarc_evaluate_view(&v, NULL, M9, &in, &o);
	T_INT(o.disposition, R, "pct ignored in rfc9989");
	in.from_domain = "pct0.test";
	dmarc_evaluate_view(&v, NULL, M7, &in, &o);
	T_INT(o.disposition, N, "pct=0 quarantine -> none");
}

static void test_psl(void)
{
	static const struct { const char *in, *want; } c[] = {
		{ "a.b.example.co.uk", "example.co.uk" }, { "example.com", "example.com" },
		{ "www.Example.COM.", "example.com" }, { "x.y.example.test", "example.test" },
		{ "co.uk", "co.uk" }, { "foo.blogspot.com", "foo.blogspot.com" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char out[256] = "";
		dmarc_psl_org_domain(c[i].in, strlen(c[i].in), out, sizeof(out));
		T_STR(out, c[i].want, "psl %s", c[i].in);
	}
}

/* test_severity - the order of readings for several author domains. */
static void test_severity(void)
{
	struct dmarc_outcome o;
	memset(&o, 0, sizeof(o));
	int last = -1;
	static const struct { enum auth_result r; enum dmarc_policy d; const char *name; } seq[] = {
		{ AR_PASS, DMARC_P_UNSPEC, "pass" }, { AR_NONE, DMARC_P_UNSPEC, "none" },
		{ AR_PERMERROR, DMARC_P_UNSPEC, "permerror" }, { AR_FAIL, DMARC_P_NONE, "fail none" },
		{ AR_TEMPERROR, DMARC_P_UNSPEC, "temperror" },
		{ AR_FAIL, DMARC_P_QUARANTINE, "fail quarantine" }, { AR_FAIL, DMARC_P_REJECT, "fail reject" },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		o.result = seq[i].r;
		o.disposition = seq[i].d;
		int sv = dmarc_severity(&o);
		T_OK(sv > last, "severity: %s is stricter than the one before", seq[i].name);
		last = sv;
	}
}

int main(void)
{
	test_severity();
	test_records();
	test_eval();
	test_walk_cap();
	test_pct();
	test_psl();
	return t_done();
}
