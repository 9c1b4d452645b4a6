/*
 * dkim - DKIM verification (RFC 6376, RFC 8301, RFC 8463) on libopendkim,
 * with every key lookup going through our resolver (dns.h).
 *
 * How the key lookup reaches our resolver: libopendkim's DNS hooks
 * (dkim_dns_set_query_*) are called with the library-wide service handle only,
 * never with the message handle, so the per-message dns_budget could reach
 * them only through a global or a thread-local. The key lookup callback
 * (dkim_set_key_lookup) is called with the message's DKIM handle, whose user
 * context (dkim_set_user_context) is our dkim_verify: it runs dns_query(TXT)
 * with the message's budget and hands the joined TXT record to the library.
 * The DNS hooks are still installed, answering DKIM_DNS_ERROR, so that the
 * library can never fall back to its own libc resolver.
 *
 * The callback records per signature what DNS said (key_note): a TEMPFAIL
 * (SERVFAIL, timeout, budget) is reported to the library as "not found" (the
 * only answer that keeps it processing the other signatures) and turned back
 * into temperror when the results are read; NXDOMAIN/NODATA is permerror.
 *
 * Malformed DKIM-Signature fields: the library marks their tag set "bad" and
 * dkim_header() returns DKIM_STAT_SYNTAX; with DKIM_LIBFLAGS_BADSIGHANDLES
 * they still appear in the signature list (in header order), so we remember
 * which fields were bad, tell the library to ignore them in the prescreen
 * callback (no DNS spent on them) and report permerror with the parse error.
 * Signatures past DKIM_MAX_SIGS are ignored the same way and counted.
 *
 * The body never reaches the library: at end of headers it has verified
 * the header signatures, and for each one that passed we hash the body
 * ourselves (bodyhash.c: libopendkim's canonicalizer costs a function call
 * per byte). At end of message the library compares its hash of an empty
 * body; for those signatures our comparison with bh= replaces its body
 * verdict (classify).
 *
 * Never calls dkim_ohdrs() (heap overflow on a z= tag over 32 KB, OpenDKIM
 * issue #433); header fields are capped before the library sees them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>

/* libopendkim declares a function dkim_verify(), our header a type of that
 * name: hide the library's declaration and bind to its symbol by asm label. */
#define dkim_verify tm_odkim_verify_unused
#include <opendkim/dkim.h>
#undef dkim_verify
extern DKIM *odkim_verify(DKIM_LIB *lib, const unsigned char *id, void *memclosure,
                          DKIM_STAT *statp) __asm__("dkim_verify");

#include <openssl/evp.h>
#include "dkim.h"
#include "buf.h"
#include "keycache.h"
#include "bodyhash.h"
#include "dkimkey.h"
#include "lex5322.h"

#define KEY_RECORD_MAX 4096   /* joined TXT key record we accept; the library's own
                               * buffer is 1 KB (BUFRSZ), so this is only a parse bound */
#define ED25519_BITS 256
#define RSA_MIN_BITS 1024     /* RFC 8301 section 3.2 */

struct dkim_engine {
	DKIM_LIB *lib;
	dns_resolver *dns;        /* NULL: every key is "not found" (fuzzing) */
};

enum key_state { KEY_FOUND = 1, KEY_NONE, KEY_TEMP, KEY_PERM };

/* key_note - what the DNS said for the key of one signature. */
struct key_note {
	const DKIM_SIGINFO *sig;
	enum key_state st;
	char reason[96];
};

/* body - our body hash for one signature whose header signature verified. */
struct body {
	const DKIM_SIGINFO *sig;
	bodyhash *h;
	int match;                /* at end of message: the hash equals bh= */
	int short_l;              /* the body was shorter than l= */
};

/* sigfield - one DKIM-Signature field as fed, in header order. */
struct sigfield {
	int bad;                  /* the library could not parse its tag list */
	char reason[96];
};

struct dkim_verify {
	dkim_engine *e;
	dns_budget *budget;
	DKIM *dkim;               /* NULL if the library refused to make a handle */
	buf *field;               /* scratch: "Name:value" with CRLF line ends */
	size_t header_bytes, nfields, refused;
	int state;                /* 0 headers, 1 body, 2 done */
	int broken;               /* the library failed; reason in libfail */
	char libfail[128];
	size_t nsigfields;        /* DKIM-Signature fields fed (all, also past the cap) */
	size_t refused_sigs;      /* DKIM-Signature fields refused (over a cap) */
	struct sigfield sf[DKIM_MAX_SIGS];
	size_t nnotes;
	struct key_note notes[DKIM_MAX_SIGS];
	size_t nbodies;
	struct body bodies[DKIM_MAX_SIGS];
	size_t count, ignored;
	struct dkim_sig sigs[DKIM_MAX_SIGS];
};

/* copy_text - bounded, printable copy of a library string (may be NULL). */
static void copy_text(char *dst, size_t dstsz, const unsigned char *s)
{
	if (s == NULL) {
		dst[0] = '\0';
		return;
	}
	str_printable(dst, dstsz, (const char *)s, strlen((const char *)s));
}

/* dns_refuse_start - DNS hook: the library must never resolve by itself. */
static int dns_refuse_start(void *srv, int type, unsigned char *query, unsigned char *ans,
                            size_t buflen, void **qh)
{
	(void)srv; (void)type; (void)query; (void)ans; (void)buflen;
	*qh = NULL;
	return DKIM_DNS_ERROR;
}

/* dns_refuse_wait - DNS hook companion of dns_refuse_start. */
static int dns_refuse_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error,
                           int *dnssec)
{
	(void)srv; (void)qh; (void)to; (void)bytes; (void)dnssec;
	if (error != NULL)
		*error = 0;
	return DKIM_DNS_ERROR;
}

/* dns_refuse_cancel - DNS hook companion of dns_refuse_start. */
static int dns_refuse_cancel(void *srv, void *qh)
{
	(void)srv; (void)qh;
	return DKIM_DNS_SUCCESS;
}

/* dns_refuse_init - DNS hook: nothing to start, our handle is set already. */
static int dns_refuse_init(void **srv)
{
	(void)srv;
	return -1;
}

/* dns_refuse_close - DNS hook: the handle is the engine, freed by us. */
static void dns_refuse_close(void *srv)
{
	(void)srv;
}

/* note_add - the key_note for sig, created if new; NULL when full. */
static struct key_note *note_add(dkim_verify *v, const DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->nnotes; i++)
		if (v->notes[i].sig == sig)
			return &v->notes[i];
	if (v->nnotes >= DKIM_MAX_SIGS)
		return NULL;
	struct key_note *n = &v->notes[v->nnotes++];
	memset(n, 0, sizeof(*n));
	n->sig = sig;
	return n;
}

/* note_find - the key_note for sig or NULL. */
static const struct key_note *note_find(const dkim_verify *v, const DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->nnotes; i++)
		if (v->notes[i].sig == sig)
			return &v->notes[i];
	return NULL;
}

/* key_lookup - libopendkim key callback: TXT at s._domainkey.d via dns_query. */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *out, size_t outlen)
{
	dkim_verify *v = dkim_get_user_context(dkim);
	if (v == NULL || outlen < 2)
		return DKIM_CBSTAT_ERROR;
	struct key_note *kn = note_add(v, sig);
	if (kn == NULL)
		return DKIM_CBSTAT_ERROR;   /* cannot happen: at most DKIM_MAX_SIGS processed */
	if (v->e->dns == NULL) {
		kn->st = KEY_NONE;
		snprintf(kn->reason, sizeof(kn->reason), "no key (no resolver)");
		return DKIM_CBSTAT_NOTFOUND;
	}
	/* Our callback replaces the library's query-method dispatch, so q= is
	 * checked here: without "dns/txt" there is no usable method (RFC 6376
	 * 3.5) and no query is made. */
	const char *q = (const char *)dkim_sig_gettagvalue(sig, 0, (unsigned char *)"q");
	if (!dkimkey_query_ok(q)) {
		char shown[48];
		str_printable(shown, sizeof(shown), q, strlen(q));
		kn->st = KEY_PERM;
		snprintf(kn->reason, sizeof(kn->reason), "no usable query method (q=%s)", shown);
		return DKIM_CBSTAT_NOTFOUND;
	}
	const char *s = (const char *)dkim_sig_getselector(sig);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	char name[600];
	int n = snprintf(name, sizeof(name), "%s._domainkey.%s", s ? s : "", d ? d : "");
	if (s == NULL || d == NULL || n < 0 || (size_t)n >= sizeof(name)) {
		kn->st = KEY_PERM;
		snprintf(kn->reason, sizeof(kn->reason), "invalid key name");
		return DKIM_CBSTAT_NOTFOUND;
	}
	dns_answer *a = dns_query(v->e->dns, v->budget, name, (size_t)n, DNS_T_TXT);
	if (a == NULL) {
		kn->st = KEY_TEMP;
		snprintf(kn->reason, sizeof(kn->reason), "key lookup: out of memory");
		return DKIM_CBSTAT_NOTFOUND;
	}
	DKIM_CBSTAT ret = DKIM_CBSTAT_NOTFOUND;
	switch (a->status) {
	case DNS_OK: {
		if (a->count > 1 || a->truncated_set) {
			/* RFC 6376 3.6.2.2 lets a verifier pick one; we do not guess
			 * (design: ambiguity is a finding), as libopendkim itself. */
			kn->st = KEY_PERM;
			snprintf(kn->reason, sizeof(kn->reason), "multiple key records");
			break;
		}
		char rec[KEY_RECORD_MAX];
		long len = dns_txt_join(a->rr[0].data, a->rr[0].len, rec, sizeof(rec));
		if (len < 0 || (size_t)len >= outlen) {
			kn->st = KEY_PERM;
			snprintf(kn->reason, sizeof(kn->reason), "key record too long or malformed");
			break;
		}
		if (memchr(rec, '\0', (size_t)len) != NULL) {
			kn->st = KEY_PERM;
			snprintf(kn->reason, sizeof(kn->reason), "key record contains NUL");
			break;
		}
		/* k=, h=, s= against the signature; PKCS#1 p= made readable */
		size_t ol;
		const char *alg = (const char *)dkim_sig_gettagvalue(sig, 0, (unsigned char *)"a");
		if (dkimkey_check(rec, (size_t)len, alg, (char *)out, outlen, &ol, kn->reason,
		                  sizeof(kn->reason)) < 0) {
			kn->st = KEY_PERM;
			out[0] = '\0';
			break;
		}
		kn->st = KEY_FOUND;
		ret = DKIM_CBSTAT_CONTINUE;
		break;
	}
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		kn->st = KEY_NONE;
		snprintf(kn->reason, sizeof(kn->reason), "no key record (%s)", dns_status_name(a->status));
		break;
	case DNS_BADNAME:
		kn->st = KEY_PERM;
		snprintf(kn->reason, sizeof(kn->reason), "invalid key name");
		break;
	case DNS_BUDGET:
		kn->st = KEY_TEMP;
		snprintf(kn->reason, sizeof(kn->reason), "key lookup: dns query budget exhausted");
		break;
	case DNS_TEMPFAIL:
	default:
		kn->st = KEY_TEMP;
		snprintf(kn->reason, sizeof(kn->reason), "key lookup: %s",
		         a->reason ? a->reason : dns_status_name(a->status));
		break;
	}
	dns_answer_free(a);
	return ret;
}

/* prescreen - ignore malformed signatures and those past DKIM_MAX_SIGS. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	dkim_verify *v = dkim_get_user_context(dkim);
	for (int i = 0; i < nsigs; i++) {
		size_t u = (size_t)i;
		if (u >= DKIM_MAX_SIGS || (v != NULL && u < v->nsigfields && v->sf[u].bad))
			dkim_sig_ignore(sigs[i]);
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* dkim_engine_new - one libopendkim handle with our callbacks and options. */
dkim_engine *dkim_engine_new(dns_resolver *dns, char *err, size_t errlen)
{
	dkim_engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->dns = dns;
	/* Decoded keys are reused across messages through keycache's
	 * d2i_PUBKEY_bio (OpenSSL 3's decoder was 43% of our CPU per message);
	 * the call also links keycache.o in. Without it (a static libcrypto,
	 * say) libopendkim decodes every key itself: slower, same results. */
	(void)keycache_active();
	e->lib = dkim_init(NULL, NULL);
	if (e->lib == NULL) {
		snprintf(err, errlen, "dkim_init failed");
		free(e);
		return NULL;
	}
	uint32_t flags = 0;
	unsigned minbits = RSA_MIN_BITS;
	unsigned timeout = DNS_DEFAULT_TIMEOUT_MS / 1000;
	/* h= must include From (RFC 6376 5.4); the array option takes the
	 * array itself with len == sizeof(char **), else it fails silently. */
	const char *required[] = { "from", NULL };
	int bad = 0;
	bad |= dkim_options(e->lib, DKIM_OP_GETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK;
	/* BADSIGHANDLES: malformed signatures stay visible (reported as
	 * permerror) and a missing From does not make the handle unusable.
	 * Not FIXCRLF: its copy loop stops at NUL but keeps the original
	 * length; we normalise line ends ourselves. */
	flags |= DKIM_LIBFLAGS_BADSIGHANDLES;
	flags &= ~(uint32_t)(DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_VERIFYONE | DKIM_LIBFLAGS_ACCEPTV05 |
	                     DKIM_LIBFLAGS_ACCEPTDK | DKIM_LIBFLAGS_STRICTHDRS | DKIM_LIBFLAGS_TMPFILES |
	                     DKIM_LIBFLAGS_KEEPFILES | DKIM_LIBFLAGS_EOHCHECK | DKIM_LIBFLAGS_CACHE);
	bad |= dkim_options(e->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK;
	bad |= dkim_options(e->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits, sizeof(minbits)) != DKIM_STAT_OK;
	bad |= dkim_options(e->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout, sizeof(timeout)) != DKIM_STAT_OK;
	bad |= dkim_options(e->lib, DKIM_OP_SETOPT, DKIM_OPTS_REQUIREDHDRS, (void *)required,
	                    sizeof(char **)) != DKIM_STAT_OK;
	bad |= dkim_set_key_lookup(e->lib, key_lookup) != DKIM_STAT_OK;
	bad |= dkim_set_prescreen(e->lib, prescreen) != DKIM_STAT_OK;
	if (bad) {
		snprintf(err, errlen, "libopendkim refused an option");
		dkim_close(e->lib);
		free(e);
		return NULL;
	}
	/* shut the default libc resolver down (if dkim_init made one), then
	 * install ours; close must not free our handle (dkim_close calls it) */
	(void)dkim_dns_close(e->lib);
	dkim_dns_set_init(e->lib, dns_refuse_init);
	dkim_dns_set_close(e->lib, dns_refuse_close);
	(void)dkim_dns_set_query_service(e->lib, e);
	dkim_dns_set_query_start(e->lib, dns_refuse_start);
	dkim_dns_set_query_waitreply(e->lib, dns_refuse_wait);
	dkim_dns_set_query_cancel(e->lib, dns_refuse_cancel);
	return e;
}

/* dkim_engine_free - release e (NULL accepted); no verify may be open. */
void dkim_engine_free(dkim_engine *e)
{
	if (e == NULL)
		return;
	dkim_close(e->lib);
	free(e);
}

/* dkim_verify_new - per-message state; NULL on out of memory. */
dkim_verify *dkim_verify_new(dkim_engine *e, dns_budget *budget)
{
	if (e == NULL)
		return NULL;
	/* sigs[] (40 KB, last) is not cleared: each entry is written whole at
	 * end of message before count covers it */
	dkim_verify *v = malloc(sizeof(*v));
	if (v == NULL)
		return NULL;
	memset(v, 0, offsetof(dkim_verify, sigs));
	v->e = e;
	v->budget = budget;
	/* CRLF normalisation can double a value's length in the worst case */
	v->field = buf_new(DKIM_MAX_FIELD_BYTES);
	if (v->field == NULL) {
		free(v);
		return NULL;
	}
	DKIM_STAT st = DKIM_STAT_OK;
	v->dkim = odkim_verify(e->lib, (const unsigned char *)"trustmilter", NULL, &st);
	if (v->dkim == NULL) {
		v->broken = 1;
		snprintf(v->libfail, sizeof(v->libfail), "dkim_verify: %s", dkim_getresultstr(st));
	} else if (dkim_set_user_context(v->dkim, v) != DKIM_STAT_OK) {
		v->broken = 1;
		snprintf(v->libfail, sizeof(v->libfail), "dkim_set_user_context failed");
	}
	return v;
}

/* dkim_verify_free - release v (NULL accepted). */
void dkim_verify_free(dkim_verify *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	for (size_t i = 0; i < v->nbodies; i++)
		bodyhash_free(v->bodies[i].h);
	buf_free(v->field);
	free(v);
}

/* lib_fail - remember the first library failure. */
static void lib_fail(dkim_verify *v, const char *what, DKIM_STAT st)
{
	if (v->broken)
		return;
	v->broken = 1;
	const char *e = v->dkim ? dkim_geterror(v->dkim) : NULL;
	snprintf(v->libfail, sizeof(v->libfail), "%s: %s%s%s", what, dkim_getresultstr(st),
	         e && *e ? ": " : "", e ? e : "");
}

/* dkim_verify_header - feed one field as "Name:value" with CRLF line ends. */
int dkim_verify_header(dkim_verify *v, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (v == NULL || v->state != 0)
		return -1;
	int is_sig = mem_caseeq(name, nlen, "DKIM-Signature", 14);
	if (!lex_field_name(name, nlen) || (vlen > 0 && memchr(value, '\0', vlen) != NULL) ||
	    v->nfields >= DKIM_MAX_FIELDS)
		goto refused;
	buf_reset(v->field);
	buf_append(v->field, name, nlen);
	buf_putc(v->field, ':');
	/* runs between line ends are copied whole; CR, LF and CRLF become CRLF */
	for (size_t i = 0; i < vlen;) {
		size_t run = mem_linelen(value + i, vlen - i);
		buf_append(v->field, value + i, run);
		i += run;
		if (i < vlen) {
			buf_append(v->field, "\r\n", 2);
			i += value[i] == '\r' && i + 1 < vlen && value[i + 1] == '\n' ? 2 : 1;
		}
	}
	size_t len = buf_len(v->field);
	if (buf_overflowed(v->field) || len > DKIM_MAX_HEADER_BYTES - v->header_bytes)
		goto refused;
	v->header_bytes += len;
	v->nfields++;
	if (is_sig)
		v->nsigfields++;
	if (v->broken)
		return 0;
	/* dkim_header wants a mutable buffer; the scratch buffer is ours */
	DKIM_STAT st = dkim_header(v->dkim, (unsigned char *)(uintptr_t)buf_data(v->field), len);
	if (st == DKIM_STAT_SYNTAX && is_sig) {
		/* the field is stored, its tag set marked bad */
		if (v->nsigfields <= DKIM_MAX_SIGS) {
			struct sigfield *f = &v->sf[v->nsigfields - 1];
			const char *e = dkim_geterror(v->dkim);
			f->bad = 1;
			copy_text(f->reason, sizeof(f->reason),
			          (const unsigned char *)(e && *e ? e : "malformed signature"));
		}
		return 0;
	}
	if (st != DKIM_STAT_OK) {
		lib_fail(v, "dkim_header", st);
		return -1;
	}
	return 0;

refused:
	/* never fed, so absent from the library's list: reported on its own */
	v->refused++;
	if (is_sig)
		v->refused_sigs++;
	return -1;
}

/* body_start - a body hash for sig, whose header signature verified:
 * its body canonicalization, hash and l= as the library parsed them. */
static int body_start(dkim_verify *v, DKIM_SIGINFO *sig)
{
	dkim_canon_t hc = DKIM_CANON_SIMPLE, bc = DKIM_CANON_SIMPLE;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	if (dkim_sig_getcanons(sig, &hc, &bc) != DKIM_STAT_OK ||
	    dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return -1;
	long long limit = -1;
	const unsigned char *l = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"l");
	if (l != NULL) {
		/* the library accepted the tag: digits only; larger than any
		 * body we could receive is the same as no cut */
		limit = 0;
		for (; *l >= '0' && *l <= '9'; l++)
			limit = limit > (LLONG_MAX - 9) / 10 ? LLONG_MAX : limit * 10 + (*l - '0');
	}
	struct body *b = &v->bodies[v->nbodies];
	b->sig = sig;
	b->match = b->short_l = 0;
	b->h = bodyhash_new(bc == DKIM_CANON_RELAXED ? BODYHASH_RELAXED : BODYHASH_SIMPLE,
	                    alg == DKIM_SIGN_RSASHA1 ? BODYHASH_SHA1 : BODYHASH_SHA256, limit);
	if (b->h == NULL)
		return -1;
	v->nbodies++;
	return 0;
}

/* dkim_verify_eoh - end of headers. The library verifies the header
 * signatures here; the body hash is ours (bodyhash.c), so the body is
 * hashed only for signatures that verified, and never by the library. */
int dkim_verify_eoh(dkim_verify *v)
{
	if (v == NULL || v->state != 0)
		return -1;
	v->state = 1;
	if (v->broken)
		return -1;
	DKIM_STAT st = dkim_eoh(v->dkim);
	if (st == DKIM_STAT_NOSIG)
		return 0;
	if (st != DKIM_STAT_OK) {
		lib_fail(v, "dkim_eoh", st);
		return -1;
	}
	DKIM_SIGINFO **list = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(v->dkim, &list, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (int i = 0; i < nsigs && i < DKIM_MAX_SIGS; i++) {
		unsigned flags = dkim_sig_getflags(list[i]);
		if ((flags & DKIM_SIGFLAG_PASSED) && !(flags & DKIM_SIGFLAG_IGNORE) &&
		    body_start(v, list[i]) != 0) {
			lib_fail(v, "body hash", DKIM_STAT_NORESOURCE);
			return -1;
		}
	}
	return 0;
}

/* dkim_verify_body - one body chunk in wire form. */
int dkim_verify_body(dkim_verify *v, const unsigned char *p, size_t n)
{
	if (v == NULL || v->state != 1)
		return -1;
	if (v->broken || n == 0)
		return 0;
	for (size_t i = 0; i < v->nbodies; i++)
		if (bodyhash_update(v->bodies[i].h, p, n) != 0) {
			lib_fail(v, "body hash", DKIM_STAT_INTERNAL);
			return -1;
		}
	return 0;
}

/* bh_equal - the digest (d, dn) in base64 against the bh= value, whose
 * folding whitespace does not count. */
static int bh_equal(const unsigned char *d, int dn, const unsigned char *bh)
{
	unsigned char enc[BODYHASH_MAX * 2];
	if (bh == NULL || dn <= 0 || EVP_EncodeBlock(enc, d, dn) <= 0)
		return 0;
	const unsigned char *e = enc;
	for (; *bh != '\0'; bh++) {
		if (*bh == ' ' || *bh == '\t' || *bh == '\r' || *bh == '\n')
			continue;
		if (*bh != *e++)
			return 0;
	}
	return *e == '\0';
}

/* bodies_finish - compare every body hash with its signature's bh=. */
static void bodies_finish(dkim_verify *v)
{
	for (size_t i = 0; i < v->nbodies; i++) {
		struct body *b = &v->bodies[i];
		unsigned char d[BODYHASH_MAX];
		int dn = bodyhash_final(b->h, d);
		b->match = bh_equal(d, dn, dkim_sig_gettagvalue((DKIM_SIGINFO *)(uintptr_t)b->sig, 0,
		                                                (unsigned char *)"bh"));
		b->short_l = bodyhash_short(b->h);
	}
}

/* body_of - our body hash for sig, or NULL. */
static const struct body *body_of(const dkim_verify *v, const DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->nbodies; i++)
		if (v->bodies[i].sig == sig)
			return &v->bodies[i];
	return NULL;
}

/* dkim_hlist_parse - see dkim.h. */
size_t dkim_hlist_parse(const char *p, size_t n, struct dkim_sig *s)
{
	size_t seen = 0, i = 0;
	s->nsigned = 0;
	s->signed_headers_capped = 0;
	s->covers_list_unsubscribe = 0;
	s->covers_list_unsubscribe_post = 0;
	while (i <= n) {
		size_t start = i;
		while (i < n && p[i] != ':')
			i++;
		size_t a = start, b = i;
		while (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r' || p[a] == '\n'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r' || p[b - 1] == '\n'))
			b--;
		if (b > a) {
			seen++;
			if (mem_caseeq(p + a, b - a, "list-unsubscribe", 16))
				s->covers_list_unsubscribe = 1;
			else if (mem_caseeq(p + a, b - a, "list-unsubscribe-post", 21))
				s->covers_list_unsubscribe_post = 1;
			if (s->nsigned < DKIM_MAX_SIGNED_HEADERS) {
				char *dst = s->signed_headers[s->nsigned++];
				size_t k = 0;
				for (size_t j = a; j < b; j++) {
					if (k + 1 >= sizeof(s->signed_headers[0])) {
						s->signed_headers_capped = 1;
						break;
					}
					unsigned char u = (unsigned char)p[j];
					/* printable for logs; NUL can never end an entry early */
					dst[k++] = (char)(u < 33 || u > 126 ? '?' : tolower(u));
				}
				dst[k] = '\0';
			} else {
				s->signed_headers_capped = 1;
			}
		}
		i++;   /* past ':' (or past the end, ending the loop) */
	}
	return seen;
}

/* fill_tags - d=, s=, a=, i=, b= prefix and h= of one signature. */
static void fill_tags(DKIM_SIGINFO *sig, struct dkim_sig *out)
{
	copy_text(out->domain, sizeof(out->domain), dkim_sig_gettagvalue(sig, 0, (unsigned char *)"d"));
	str_lower(out->domain);
	copy_text(out->selector, sizeof(out->selector), dkim_sig_gettagvalue(sig, 0, (unsigned char *)"s"));
	copy_text(out->identity, sizeof(out->identity), dkim_sig_gettagvalue(sig, 0, (unsigned char *)"i"));
	/* a= as written (the library's code defaults to rsa-sha1 when unparsed) */
	copy_text(out->algorithm, sizeof(out->algorithm), dkim_sig_gettagvalue(sig, 0, (unsigned char *)"a"));
	str_lower(out->algorithm);
	const unsigned char *b = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"b");
	size_t k = 0;
	for (; b != NULL && *b != '\0' && k + 1 < sizeof(out->b_prefix); b++) {
		unsigned char c = *b;
		if (isalnum(c) || c == '+' || c == '/' || c == '=')
			out->b_prefix[k++] = (char)c;
	}
	out->b_prefix[k] = '\0';
	const unsigned char *h = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"h");
	if (h != NULL)
		dkim_hlist_parse((const char *)h, strlen((const char *)h), out);
}

/* set_result - result plus reason. */
static void set_result(struct dkim_sig *out, enum auth_result r, const char *reason)
{
	out->result = r;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

/* classify - the RFC 8601 result of one examined signature. */
static void classify(dkim_verify *v, DKIM_SIGINFO *sig, size_t idx, struct dkim_sig *out)
{
	if (idx < v->nsigfields && v->sf[idx].bad) {
		set_result(out, AR_PERMERROR, v->sf[idx].reason);
		return;
	}
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	int bh = dkim_sig_getbh(sig);
	/* The library saw no body: for a header signature that verified, its
	 * own body verdict (BADSIG for a mismatch, TOOLARGE_L for l= past the
	 * end) is about an empty body; ours replaces it. Other errors (t=s
	 * subdomain, required header unsigned) stand. */
	const struct body *b = body_of(v, sig);
	if ((flags & DKIM_SIGFLAG_PASSED) && b != NULL) {
		bh = b->match ? DKIM_SIGBH_MATCH : DKIM_SIGBH_MISMATCH;
		if (err == DKIM_SIGERROR_BADSIG || err == DKIM_SIGERROR_TOOLARGE_L ||
		    err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)
			err = b->short_l ? DKIM_SIGERROR_TOOLARGE_L :
			      b->match ? DKIM_SIGERROR_OK : DKIM_SIGERROR_BADSIG;
	}
	unsigned bits = 0;
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->key_bits = bits;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	(void)dkim_sig_getsignalg(sig, &alg);
	if (alg == DKIM_SIGN_ED25519SHA256 && (flags & DKIM_SIGFLAG_PASSED))
		out->key_bits = ED25519_BITS;   /* the library reports no size for ed25519 */
	const struct key_note *kn = note_find(v, sig);

	if (flags & DKIM_SIGFLAG_IGNORE) {
		set_result(out, AR_PERMERROR, "signature ignored");
	} else if (kn != NULL && kn->st == KEY_TEMP) {
		set_result(out, AR_TEMPERROR, kn->reason);
	} else if (kn != NULL && kn->st == KEY_PERM) {
		set_result(out, AR_PERMERROR, kn->reason);
	} else if (err == DKIM_SIGERROR_NOKEY) {
		set_result(out, AR_PERMERROR, kn != NULL && kn->reason[0] ? kn->reason : "no key");
	} else if (err == DKIM_SIGERROR_KEYFAIL) {
		set_result(out, AR_TEMPERROR, "key lookup failed");
	} else if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH &&
	           (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)) {
		set_result(out, AR_PASS, "");
	} else if (bh == DKIM_SIGBH_MISMATCH) {
		set_result(out, AR_FAIL, "body hash mismatch");
	} else if (err == DKIM_SIGERROR_BADSIG) {
		set_result(out, AR_FAIL, "signature did not verify");
	} else if (err == DKIM_SIGERROR_KEYTOOSMALL) {
		set_result(out, AR_POLICY, "key too short (RFC 8301)");
	} else if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN) {
		set_result(out, AR_PERMERROR, "not verified");
	} else {
		const char *s = dkim_sig_geterrorstr(err);
		set_result(out, AR_PERMERROR, s ? s : "signature error");
	}

	/* RFC 8301 3.1 and 3.2: rsa-sha1 and RSA keys under 1024 bits are
	 * never valid. Checked on our side too, whatever the library did. */
	if (out->result == AR_PASS && alg == DKIM_SIGN_RSASHA1)
		set_result(out, AR_POLICY, "rsa-sha1 not accepted (RFC 8301)");
	else if (out->result == AR_PASS && alg != DKIM_SIGN_ED25519SHA256 &&
	         (out->key_bits == 0 || out->key_bits < RSA_MIN_BITS))
		set_result(out, AR_POLICY, "key too short (RFC 8301)");
}

/* dkim_verify_eom - finish the library run and read every examined signature. */
int dkim_verify_eom(dkim_verify *v)
{
	if (v == NULL || v->state == 2)
		return -1;
	if (v->state == 0 && dkim_verify_eoh(v) < 0 && !v->broken)
		return -1;
	v->state = 2;
	if (!v->broken)
		bodies_finish(v);
	int rc = 0;
	DKIM_SIGINFO **list = NULL;
	int nsigs = 0;
	if (v->dkim != NULL) {
		if (!v->broken) {
			_Bool testkey = 0;
			DKIM_STAT st = dkim_eom(v->dkim, &testkey);
			/* per-signature outcomes (BADSIG, NOKEY, CANTVRFY...) are read
			 * below; only resource/internal errors fail the run */
			if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL || st == DKIM_STAT_INVALID)
				lib_fail(v, "dkim_eom", st);
		}
		if (dkim_getsiglist(v->dkim, &list, &nsigs) != DKIM_STAT_OK) {
			list = NULL;
			nsigs = 0;
		}
	}
	size_t n = nsigs > 0 ? (size_t)nsigs : 0;
	/* a list not matching the fields we fed cannot be trusted for the
	 * "bad field" mapping: then every bad mark is dropped */
	if (n != v->nsigfields)
		for (size_t i = 0; i < DKIM_MAX_SIGS; i++)
			v->sf[i].bad = 0;
	if (n == 0 && v->nsigfields > 0 && v->broken) {
		/* signatures present, library gave up: report, never drop */
		n = v->nsigfields;
		v->count = n < DKIM_MAX_SIGS ? n : DKIM_MAX_SIGS;
		v->ignored = n - v->count;
		for (size_t i = 0; i < v->count; i++) {
			memset(&v->sigs[i], 0, sizeof(v->sigs[i]));
			set_result(&v->sigs[i], AR_TEMPERROR, v->libfail);
		}
		return -1;
	}
	v->count = n < DKIM_MAX_SIGS ? n : DKIM_MAX_SIGS;
	v->ignored = n - v->count;
	for (size_t i = 0; i < v->count; i++) {
		struct dkim_sig *out = &v->sigs[i];
		memset(out, 0, sizeof(*out));
		fill_tags(list[i], out);
		int bad = i < v->nsigfields && v->sf[i].bad;
		if (!v->broken && !bad && !(dkim_sig_getflags(list[i]) & DKIM_SIGFLAG_IGNORE)) {
			/* finishes the body hash check; idempotent after dkim_eom */
			DKIM_STAT st = dkim_sig_process(v->dkim, list[i]);
			if (st != DKIM_STAT_OK) {
				set_result(out, AR_TEMPERROR, dkim_getresultstr(st));
				rc = -1;
				continue;
			}
		}
		if (v->broken) {
			set_result(out, AR_TEMPERROR, v->libfail);
			rc = -1;
			continue;
		}
		classify(v, list[i], i, out);
	}
	/* refused DKIM-Signature fields are still signatures: permerror */
	for (size_t i = 0; i < v->refused_sigs; i++) {
		if (v->count >= DKIM_MAX_SIGS) {
			v->ignored++;
			continue;
		}
		struct dkim_sig *out = &v->sigs[v->count++];
		memset(out, 0, sizeof(*out));
		set_result(out, AR_PERMERROR, "DKIM-Signature field refused (over a size cap or malformed)");
	}
	return v->broken ? -1 : rc;
}

/* dkim_verify_count - signatures examined (at most DKIM_MAX_SIGS). */
size_t dkim_verify_count(const dkim_verify *v)
{
	return v ? v->count : 0;
}

/* dkim_verify_sig - the i-th examined signature, NULL past the end. */
const struct dkim_sig *dkim_verify_sig(const dkim_verify *v, size_t i)
{
	if (v == NULL || i >= v->count)
		return NULL;
	return &v->sigs[i];
}

/* dkim_verify_ignored - signatures beyond DKIM_MAX_SIGS. */
size_t dkim_verify_ignored(const dkim_verify *v)
{
	return v ? v->ignored : 0;
}

/* dkim_verify_refused - header fields not fed. */
size_t dkim_verify_refused(const dkim_verify *v)
{
	return v ? v->refused : 0;
}

/* dkim_verify_results - see dkim.h. */
size_t dkim_verify_results(const dkim_verify *v, const struct dkim_sig **sigs, findings *f)
{
	size_t n = dkim_verify_count(v);
	n = n < DKIM_MAX_SIGS ? n : DKIM_MAX_SIGS;
	*sigs = dkim_verify_sig(v, 0);
	if (*sigs == NULL)
		n = 0;
	if (dkim_verify_ignored(v))
		findings_add(f, "dkim.too_many_signatures", "%zu signatures beyond the first %d ignored",
		             dkim_verify_ignored(v), DKIM_MAX_SIGS);
	if (dkim_verify_refused(v))
		findings_add(f, "dkim.header_refused", "%zu header fields were not given to the DKIM "
		             "verifier (cap, invalid name or NUL byte)", dkim_verify_refused(v));
	for (size_t i = 0; i < n; i++) {
		const struct dkim_sig *g = &(*sigs)[i];
		if (g->result == AR_PASS)
			continue;
		findings_add(f, g->result == AR_TEMPERROR ? "dkim.temperror" :
		             g->result == AR_PERMERROR ? "dkim.permerror" :
		             g->result == AR_POLICY ? "dkim.policy" : "dkim.fail",
		             "signature d=%s s=%s: %s", g->domain, g->selector,
		             g->reason[0] ? g->reason : result_name(g->result));
	}
	return n;
}
