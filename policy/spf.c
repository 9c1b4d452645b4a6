/*
 * spf - our own RFC 7208 SPF evaluator on the shared dns resolver.
 *
 * Why not libspf2: it lacks the CVE-2023-42118 fix, the void-lookup limit,
 * CIDR /0, IPv4-mapped clients, and turns DNS failures into "invalid".
 *
 * The evaluation is check_host() of RFC 7208 section 4: fetch the one
 * "v=spf1" TXT record, check the syntax of the *whole* record first (a syntax
 * error anywhere is permerror, 4.6), then evaluate the mechanisms in order,
 * then redirect=, then exp= on fail. All limits of 4.6.4 are enforced: 10
 * DNS-querying terms across include/redirect, 2 void lookups, 10 names per
 * mx (permerror above) and ptr (the rest ignored). TXT data is handled as
 * (pointer, length) all the way, so NUL bytes cannot cut a record short.
 * Macro expansion (section 7) writes into bounded buffers only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "buf.h"
#include "spf.h"

#define SPF_TXT_MAX 65536       /* one TXT rdata joined: DNS caps rdata at 64K */
#define SPF_NAME_MAX 254        /* expanded domain for a query: 253 + NUL (4.8) */
#define SPF_DEPTH_MAX 12        /* include/redirect nesting; the 10-lookup limit stops earlier */

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

struct term {
	enum mech m;
	char qual;                  /* '+', '-', '~', '?' */
	const char *arg;            /* domain-spec or NULL */
	size_t arglen;
	int c4, c6;                 /* CIDR lengths */
	unsigned char net[16];      /* ip4 (mapped) / ip6 network */
	const char *text;           /* the whole term, for out->mechanism */
	size_t textlen;
};

struct record {
	struct term t[SPF_MAX_TERMS];
	size_t n;
	const char *redirect, *exp;
	size_t redirlen, explen;
};

struct ctx {
	dns_resolver *dns;
	dns_budget *budget;
	struct spf_macro_env env;
	char sender[512], local[256], sdomain[256], helo[256], receiver[256];
	char pname[256];
	int p_done;
	unsigned lookups, voids;
	char problem[256];
	char mechanism[256];
	char explanation[512];
	char *txt;                  /* SPF_TXT_MAX + 1 scratch for TXT joining */
};

enum { NOMATCH = -1, MATCH = -2 };

/* errf - write a reason once (the first error is the one worth reporting). */
static void errf(char *err, size_t errlen, const char *fmt, const char *p, size_t n)
{
	char tmp[128];
	if (err == NULL || errlen == 0)
		return;
	str_printable(tmp, sizeof(tmp), p ? p : "", p ? n : 0);
	snprintf(err, errlen, fmt, tmp);
}

/* ---------------------------------------------------------------- macros */

/* is_delim - RFC 7208 7.1 delimiter characters. */
static int is_delim(int c)
{
	return c && strchr(".-+,/_=", c) != NULL;
}

/* ip_dotted - %{i}: dotted quad, or 32 dot-separated nibbles for IPv6. */
static void ip_dotted(const unsigned char ip[16], int fam, char *out, size_t outsz)
{
	if (fam == 4) {
		snprintf(out, outsz, "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
		return;
	}
	size_t o = 0;
	for (int i = 0; i < 16 && o + 4 < outsz; i++) {
		o += (size_t)snprintf(out + o, outsz - o, "%s%x.%x", i ? "." : "", ip[i] >> 4, ip[i] & 15);
	}
}

/* macro_value - the raw value of macro letter c (lowercase). */
static const char *macro_value(const struct spf_macro_env *e, int c, char *tmp, size_t tmpsz)
{
	switch (c) {
	case 's': return e->sender ? e->sender : "";
	case 'l': return e->local ? e->local : "";
	case 'o': return e->sender_domain ? e->sender_domain : "";
	case 'd': return e->domain ? e->domain : "";
	case 'h': return e->helo ? e->helo : "";
	case 'r': return e->receiver && *e->receiver ? e->receiver : "unknown";
	case 'v': return e->fam == 6 ? "ip6" : "in-addr";
	case 'i':
		ip_dotted(e->ip, e->fam, tmp, tmpsz);
		return tmp;
	case 'c':
		if (e->fam == 4)
			snprintf(tmp, tmpsz, "%u.%u.%u.%u", e->ip[12], e->ip[13], e->ip[14], e->ip[15]);
		else if (inet_ntop(AF_INET6, e->ip, tmp, (socklen_t)tmpsz) == NULL)
			snprintf(tmp, tmpsz, "unknown");
		return tmp;
	case 't':
		snprintf(tmp, tmpsz, "%lld", e->now ? e->now : (long long)time(NULL));
		return tmp;
	case 'p':
		if (e->p)
			return e->p;
		if (e->p_fn)
			return e->p_fn(e->p_arg);
		return "unknown";
	}
	return "";
}

struct sink {
	char *out;          /* NULL: syntax check only */
	size_t len, cap;
	int over;
};

/* put - append n bytes to the sink, noting overflow instead of writing past cap. */
static void put(struct sink *s, const char *p, size_t n)
{
	if (s->over || n > s->cap - s->len) {
		s->over = 1;
		return;
	}
	if (s->out)
		memcpy(s->out + s->len, p, n);
	s->len += n;
}

/* put_part - append one part of a macro value, URL-escaped if asked. */
static void put_part(struct sink *s, const char *p, size_t n, int urlesc)
{
	for (size_t j = 0; j < n; j++) {
		unsigned char c = (unsigned char)p[j];
		if (urlesc && !(isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
			char hex[4];
			snprintf(hex, sizeof(hex), "%%%02X", c);
			put(s, hex, 3);
		} else {
			put(s, (const char *)&c, 1);
		}
	}
}

/* put_value - apply transformers to val and append it, URL-escaped if asked.
 * The parts are never copied into an array (a value may hold up to
 * SPF_MACRO_MAX delimiters): the kept parts are a contiguous range of val,
 * walked forwards, or backwards when reversed. */
static void put_value(struct sink *s, const char *val, unsigned digits, int rev,
                      const char *delims, int urlesc)
{
	size_t k = 1, vlen = strlen(val), i, from = 0, to = vlen, seen = 0;

	if (vlen > SPF_MACRO_MAX) {
		s->over = 1;
		return;
	}
	for (i = 0; i < vlen; i++)
		k += strchr(delims, val[i]) != NULL;
	/* after optional reversal keep the rightmost `digits` parts (7.3) */
	if (digits == 0 || digits > k)
		digits = (unsigned)k;
	if (rev) {
		/* reversed, the rightmost parts are the first `digits` parts of val */
		for (i = 0; i < vlen; i++)
			if (strchr(delims, val[i]) != NULL && ++seen == digits) {
				to = i;
				break;
			}
		for (size_t end = to, j = to; ; j--) {
			if (j == 0 || strchr(delims, val[j - 1]) != NULL) {
				put_part(s, val + j, end - j, urlesc);
				if (j == 0)
					break;
				put(s, ".", 1);
				end = j - 1;
			}
		}
		return;
	}
	for (i = 0; i < vlen && seen < k - digits; i++)
		if (strchr(delims, val[i]) != NULL && ++seen == k - digits)
			from = i + 1;
	for (size_t start = from, j = from; j <= vlen; j++) {
		if (j == vlen || strchr(delims, val[j]) != NULL) {
			put_part(s, val + start, j - start, urlesc);
			if (j == vlen)
				break;
			put(s, ".", 1);
			start = j + 1;
		}
	}
}

/* expand - parse (and with s->out, expand) a macro-string; 0 ok, -1 syntax
 * error. *last_macro_end gets the offset just past the last macro-expand. */
static int expand(const struct spf_macro_env *e, const char *p, size_t n, int explain,
                  struct sink *s, size_t *last_macro_end, char *err, size_t errlen)
{
	size_t i = 0;

	if (last_macro_end)
		*last_macro_end = (size_t)-1;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c != '%') {
			if ((c >= 0x21 && c <= 0x7e) || (explain && c == ' ')) {
				put(s, (const char *)&c, 1);
				i++;
				continue;
			}
			errf(err, errlen, "invalid character in \"%s\"", p, n);
			return -1;
		}
		if (i + 1 >= n) {
			errf(err, errlen, "lone %% at end of \"%s\"", p, n);
			return -1;
		}
		c = (unsigned char)p[i + 1];
		if (c == '%') { put(s, "%", 1); i += 2; continue; }
		if (c == '_') { put(s, " ", 1); i += 2; continue; }
		if (c == '-') { put(s, "%20", 3); i += 2; continue; }
		if (c != '{' || i + 2 >= n) {
			errf(err, errlen, "invalid macro in \"%s\"", p, n);
			return -1;
		}
		i += 2;
		int letter = (unsigned char)p[i];
		int lower = tolower(letter);
		if (!strchr("slodiphv", lower) || lower == 0) {
			if (!(explain && lower && strchr("crt", lower))) {
				errf(err, errlen, "invalid macro letter in \"%s\"", p, n);
				return -1;
			}
		}
		i++;
		unsigned digits = 0;
		int have_digits = 0, rev = 0;
		while (i < n && isdigit((unsigned char)p[i])) {
			have_digits = 1;
			if (digits <= SPF_MAX_DIGITS)
				digits = digits * 10 + (unsigned)(p[i] - '0');
			i++;
		}
		if (have_digits && digits == 0) {
			errf(err, errlen, "macro digit 0 in \"%s\"", p, n);
			return -1;
		}
		if (digits > SPF_MAX_DIGITS)
			digits = SPF_MAX_DIGITS;
		if (i < n && (p[i] == 'r' || p[i] == 'R')) {
			rev = 1;
			i++;
		}
		char delims[8];
		size_t nd = 0;
		while (i < n && is_delim((unsigned char)p[i])) {
			if (nd < sizeof(delims) - 1 && !memchr(delims, p[i], nd))
				delims[nd++] = p[i];
			i++;
		}
		delims[nd] = '\0';
		if (i >= n || p[i] != '}') {
			errf(err, errlen, "unterminated macro in \"%s\"", p, n);
			return -1;
		}
		i++;
		if (last_macro_end)
			*last_macro_end = i;
		if (s->out && e) {
			char tmp[128];
			const char *val = macro_value(e, lower, tmp, sizeof(tmp));
			put_value(s, val, have_digits ? digits : 0, rev, nd ? delims : ".",
			          letter != lower);
		}
	}
	return 0;
}

/* spf_macro_expand - see spf.h. */
long spf_macro_expand(const struct spf_macro_env *env, const char *p, size_t n, int explain,
                      char *out, size_t outsz, char *err, size_t errlen)
{
	struct sink s = { out, 0, 0, 0 };
	if (out == NULL || outsz == 0)
		return -1;
	s.cap = outsz - 1 < SPF_MACRO_MAX ? outsz - 1 : SPF_MACRO_MAX;
	if (expand(env, p, n, explain, &s, NULL, err, errlen) < 0)
		return -1;
	if (s.over) {
		if (err && errlen)
			snprintf(err, errlen, "macro expansion longer than %d bytes", SPF_MACRO_MAX);
		return -1;
	}
	out[s.len] = '\0';
	return (long)s.len;
}

/* ---------------------------------------------------------------- parsing */

/* toplabel_ok - RFC 7208 toplabel: alphanumerics and '-', not all digits,
 * starting and ending with an alphanumeric. */
static int toplabel_ok(const char *p, size_t n)
{
	int alpha = 0;
	if (n == 0 || !isalnum((unsigned char)p[0]) || !isalnum((unsigned char)p[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (isalpha(c) || c == '-')
			alpha = 1;
		else if (!isdigit(c))
			return 0;
	}
	return alpha;
}

/* domain_spec_ok - macro-string followed by domain-end (RFC 7208 section 12). */
static int domain_spec_ok(const char *p, size_t n, char *err, size_t errlen)
{
	struct sink s = { NULL, 0, (size_t)-1, 0 };
	size_t lm, q, dot;

	if (n == 0) {
		errf(err, errlen, "empty domain-spec%s", "", 0);
		return 0;
	}
	if (expand(NULL, p, n, 0, &s, &lm, err, errlen) < 0)
		return 0;
	q = n;
	if (lm == q || (p[q - 1] == '.' && lm == q - 1))
		return 1;       /* domain-end = macro-expand */
	if (p[q - 1] == '.')
		q--;
	for (dot = q; dot > 0 && p[dot - 1] != '.'; dot--)
		;
	if (dot == 0 || (lm != (size_t)-1 && lm > dot) || !toplabel_ok(p + dot, q - dot)) {
		errf(err, errlen, "bad domain-spec \"%s\"", p, n);
		return 0;
	}
	return 1;
}

/* parse_cidr - "/N" with no leading zero, N <= max; returns value or -1. */
static int parse_cidr(const char *p, size_t n, int max)
{
	int v = 0;
	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= max ? v : -1;
}

/* all_digits - nonzero if (p,n) is non-empty and only digits. */
static int all_digits(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

/* split_dual_cidr - strip a trailing [ "/" n ] [ "//" m ] from (p,*n). */
static int split_dual_cidr(const char *p, size_t *n, int *c4, int *c6)
{
	size_t len = *n, j;
	/* "//m" at the end */
	for (j = len; j > 0 && isdigit((unsigned char)p[j - 1]); j--)
		;
	if (j >= 2 && j < len && p[j - 1] == '/' && p[j - 2] == '/') {
		*c6 = parse_cidr(p + j, len - j, 128);
		if (*c6 < 0)
			return -1;
		len = j - 2;
		for (j = len; j > 0 && isdigit((unsigned char)p[j - 1]); j--)
			;
	}
	if (j >= 1 && j < len && p[j - 1] == '/' && !(j >= 2 && p[j - 2] == '/')) {
		*c4 = parse_cidr(p + j, len - j, 32);
		if (*c4 < 0)
			return -1;
		len = j - 1;
	}
	/* anything cidr-like left over ("/", "//", "/x") is an error */
	if (len > 0 && p[len - 1] == '/')
		return -1;
	*n = len;
	return 0;
}

/* is_name - RFC 7208 modifier name: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ). */
static int is_name(const char *p, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)p[0]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 1;
}

/* parse_term - one directive or modifier into rec; 0 ok, -1 syntax error. */
static int parse_term(struct record *rec, const char *p, size_t n, char *err, size_t errlen)
{
	size_t i, nl;
	struct term *t;
	static const struct { const char *name; enum mech m; } mechs[] = {
		{ "all", M_ALL }, { "include", M_INCLUDE }, { "a", M_A }, { "mx", M_MX },
		{ "ptr", M_PTR }, { "ip4", M_IP4 }, { "ip6", M_IP6 }, { "exists", M_EXISTS },
	};

	/* modifier: name "=" macro-string, recognised by '=' before any ':' or '/' */
	for (i = 0; i < n && p[i] != '=' && p[i] != ':' && p[i] != '/'; i++)
		;
	if (i < n && p[i] == '=') {
		const char *v = p + i + 1;
		size_t vn = n - i - 1;
		if (!is_name(p, i)) {
			errf(err, errlen, "bad modifier name in \"%s\"", p, n);
			return -1;
		}
		if (mem_caseeq(p, i, "redirect", 8) || mem_caseeq(p, i, "exp", 3)) {
			int is_redir = mem_caseeq(p, i, "redirect", 8);
			if ((is_redir && rec->redirect) || (!is_redir && rec->exp)) {
				errf(err, errlen, "duplicate modifier \"%s\"", p, n);
				return -1;
			}
			if (!domain_spec_ok(v, vn, err, errlen))
				return -1;
			if (is_redir) { rec->redirect = v; rec->redirlen = vn; }
			else { rec->exp = v; rec->explen = vn; }
			return 0;
		}
		/* unknown modifiers are ignored, but must be syntactically valid (6) */
		struct sink s = { NULL, 0, (size_t)-1, 0 };
		return expand(NULL, v, vn, 0, &s, NULL, err, errlen);
	}
	if (rec->n >= SPF_MAX_TERMS) {
		errf(err, errlen, "more than the maximum number of terms%s", "", 0);
		return -1;
	}
	t = &rec->t[rec->n];
	memset(t, 0, sizeof(*t));
	t->text = p;
	t->textlen = n;
	t->qual = '+';
	t->c4 = 32;
	t->c6 = 128;
	i = 0;
	if (n > 0 && strchr("+-~?", p[0])) {
		t->qual = p[0];
		i = 1;
	}
	for (nl = i; nl < n && isalnum((unsigned char)p[nl]); nl++)
		;
	size_t k;
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (mem_caseeq(p + i, nl - i, mechs[k].name, strlen(mechs[k].name)))
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0])) {
		errf(err, errlen, "unknown mechanism \"%s\"", p, n);
		return -1;
	}
	t->m = mechs[k].m;
	const char *rest = p + nl;
	size_t rn = n - nl;
	switch (t->m) {
	case M_ALL:
		if (rn != 0)
			goto bad;
		break;
	case M_INCLUDE: case M_EXISTS:
		if (rn < 1 || rest[0] != ':' || !domain_spec_ok(rest + 1, rn - 1, err, errlen))
			goto bad;
		t->arg = rest + 1;
		t->arglen = rn - 1;
		break;
	case M_PTR:
		if (rn == 0)
			break;
		if (rest[0] != ':' || !domain_spec_ok(rest + 1, rn - 1, err, errlen))
			goto bad;
		t->arg = rest + 1;
		t->arglen = rn - 1;
		break;
	case M_A: case M_MX:
		if (split_dual_cidr(rest, &rn, &t->c4, &t->c6) < 0)
			goto bad;
		if (rn == 0)
			break;
		if (rest[0] != ':' || !domain_spec_ok(rest + 1, rn - 1, err, errlen))
			goto bad;
		t->arg = rest + 1;
		t->arglen = rn - 1;
		break;
	case M_IP4: case M_IP6: {
		char ipbuf[64];
		size_t ipn, slash;
		if (rn < 2 || rest[0] != ':')
			goto bad;
		rest++;
		rn--;
		for (slash = 0; slash < rn && rest[slash] != '/'; slash++)
			;
		ipn = slash;
		if (slash < rn) {
			int v = all_digits(rest + slash + 1, rn - slash - 1)
			        ? parse_cidr(rest + slash + 1, rn - slash - 1, t->m == M_IP4 ? 32 : 128) : -1;
			if (v < 0)
				goto bad;
			if (t->m == M_IP4) t->c4 = v; else t->c6 = v;
		}
		if (ipn == 0 || ipn >= sizeof(ipbuf))
			goto bad;
		memcpy(ipbuf, rest, ipn);
		ipbuf[ipn] = '\0';
		if (t->m == M_IP4) {
			if (inet_pton(AF_INET, ipbuf, t->net + 12) != 1)
				goto bad;
			t->net[10] = t->net[11] = 0xff;
		} else {
			if (inet_pton(AF_INET6, ipbuf, t->net) != 1)
				goto bad;
		}
		break;
	}
	}
	rec->n++;
	return 0;
bad:
	errf(err, errlen, "bad mechanism \"%s\"", p, n);
	return -1;
}

/* parse_record - the whole record; 0 ok, -1 syntax error (permerror). */
static int parse_record(struct record *rec, const char *p, size_t n, char *err, size_t errlen)
{
	size_t i = 6, j;

	rec->n = 0;
	rec->redirect = rec->exp = NULL;
	rec->redirlen = rec->explen = 0;
	if (n < 6 || !mem_caseeq(p, 6, "v=spf1", 6) || (n > 6 && p[6] != ' ')) {
		errf(err, errlen, "not an SPF record%s", "", 0);
		return -1;
	}
	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		for (j = i; j < n && p[j] != ' '; j++)
			;
		if (parse_term(rec, p + i, j - i, err, errlen) < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* spf_record_check - see spf.h. */
int spf_record_check(const char *p, size_t n, char *err, size_t errlen)
{
	struct record *rec = malloc(sizeof(*rec));
	int rc;
	if (rec == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (err && errlen)
		err[0] = '\0';
	rc = parse_record(rec, p, n, err, errlen);
	free(rec);
	return rc;
}

/* ---------------------------------------------------------------- evaluation */

/* ip_in_net - does the client IP fall in net/bits (IPv4 nets as mapped, bits of the v4 part)? */
static int ip_in_net(const unsigned char ip[16], const unsigned char net[16], int bits, int v4)
{
	int off = v4 ? 12 : 0, total = bits;
	for (int i = 0; total > 0; i++, total -= 8) {
		unsigned char mask = total >= 8 ? 0xff : (unsigned char)(0xff << (8 - total));
		if ((ip[off + i] & mask) != (net[off + i] & mask))
			return 0;
	}
	return 1;
}

/* The answer query() hands out when dns_query() is out of memory (immutable). */
static const dns_answer oom_answer = { .status = DNS_TEMPFAIL, .rcode = -1, .reason = "out of memory" };

/* spf_cidr_match - exported ip_in_net for tests. */
int spf_cidr_match(const unsigned char ip[16], const unsigned char net[16], int bits, int v4)
{
	if (bits < 0 || bits > (v4 ? 32 : 128))
		return 0;
	return ip_in_net(ip, net, bits, v4);
}

/* query - dns_query wrapper that never returns NULL (OOM becomes tempfail). */
static const dns_answer *query(struct ctx *c, const char *name, int type)
{
	dns_answer *a = dns_query(c->dns, c->budget, name, strlen(name), type);
	return a ? a : &oom_answer;
}

/* release - free an answer from query(). */
static void release(const dns_answer *a)
{
	if (a != &oom_answer)
		dns_answer_free((dns_answer *)a);
}

/* problem - record the first problem text. */
static void problem(struct ctx *c, const char *fmt, const char *arg)
{
	if (c->problem[0] == '\0') {
		char tmp[200];
		str_printable(tmp, sizeof(tmp), arg, strlen(arg));
		snprintf(c->problem, sizeof(c->problem), fmt, tmp);
	}
}

/* dns_error - map a failed answer to temperror and note why. */
static int dns_error(struct ctx *c, const dns_answer *a, const char *name)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s (%s)", name, a->status == DNS_BUDGET ? "DNS budget exhausted" : a->reason ? a->reason : "error");
	problem(c, "DNS failure for %s", tmp);
	return AR_TEMPERROR;
}

/* count_lookup - one more DNS-querying term (4.6.4); permerror past 10. */
static int count_lookup(struct ctx *c)
{
	if (++c->lookups > SPF_MAX_DNS_MECH) {
		problem(c, "more than 10 DNS-querying terms%s", "");
		return AR_PERMERROR;
	}
	return 0;
}

/* count_void - a NODATA/NXDOMAIN answer to a term's lookup; permerror past 2. */
static int count_void(struct ctx *c, const dns_answer *a)
{
	if (a->status != DNS_NODATA && a->status != DNS_NXDOMAIN)
		return 0;
	if (++c->voids > SPF_MAX_VOID) {
		problem(c, "more than 2 void lookups%s", "");
		return AR_PERMERROR;
	}
	return 0;
}

/* expand_domain - expand a domain-spec and truncate from the left to 253 (4.8). */
static int expand_domain(struct ctx *c, const char *domain, const char *p, size_t n, char *out, size_t outsz)
{
	char big[SPF_MACRO_MAX + 1], err[160];
	long len;
	const char *s;

	c->env.domain = domain;
	len = spf_macro_expand(&c->env, p, n, 0, big, sizeof(big), err, sizeof(err));
	if (len < 0) {
		problem(c, "%s", err);
		return -1;
	}
	s = big;
	if (len > 0 && s[len - 1] == '.')
		len--;
	while (len > 253) {
		const char *dot = memchr(s, '.', (size_t)len);
		if (dot == NULL)
			break;
		len -= (long)(dot + 1 - s);
		s = dot + 1;
	}
	if (str_copy(out, outsz, s, (size_t)len) < 0)
		return -1;
	return 0;
}

/* addr_type - A or AAAA for the client's family. */
static int addr_type(const struct ctx *c)
{
	return c->env.fam == 6 ? DNS_T_AAAA : DNS_T_A;
}

/* addr_match - do any of a's address records fall in the client's net? */
static int addr_match(const struct ctx *c, const dns_answer *a, int c4, int c6)
{
	for (size_t i = 0; i < a->count; i++) {
		unsigned char net[16] = { 0 };
		if (c->env.fam == 4 && a->rr[i].len == 4) {
			net[10] = net[11] = 0xff;
			memcpy(net + 12, a->rr[i].data, 4);
			if (ip_in_net(c->env.ip, net, c4, 1))
				return 1;
		} else if (c->env.fam == 6 && a->rr[i].len == 16) {
			if (ip_in_net(c->env.ip, a->rr[i].data, c6, 0))
				return 1;
		}
	}
	return 0;
}

/* reverse_name - in-addr.arpa / ip6.arpa name of the client. */
static void reverse_name(const struct ctx *c, char *out, size_t outsz)
{
	const unsigned char *ip = c->env.ip;
	if (c->env.fam == 4) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", ip[15], ip[14], ip[13], ip[12]);
		return;
	}
	size_t o = 0;
	for (int i = 15; i >= 0 && o + 5 < outsz; i--)
		o += (size_t)snprintf(out + o, outsz - o, "%x.%x.", ip[i] & 15, ip[i] >> 4);
	snprintf(out + o, outsz - o, "ip6.arpa");
}

/* name_under - is name equal to or a subdomain of dom (case-insensitive, trailing dots ignored)? */
static int name_under(const char *name, const char *dom)
{
	size_t nn = strlen(name), dn = strlen(dom);
	if (nn && name[nn - 1] == '.') nn--;
	if (dn && dom[dn - 1] == '.') dn--;
	return dom_at_or_below(name, nn, dom, dn);
}

/* validated - does name resolve back to the client IP? (forward-confirmed) */
static int validated(struct ctx *c, const char *name)
{
	const dns_answer *a = query(c, name, addr_type(c));
	int ok = a->status == DNS_OK && addr_match(c, a, 32, 128);
	release(a);
	return ok;
}

/* ptr_names - the client's PTR names (at most SPF_MAX_MX_PTR); returns count, -1 on DNS error. */
static int ptr_names(struct ctx *c, char names[][256], const dns_answer **ans)
{
	char rev[128];
	const dns_answer *a;
	int k = 0;

	reverse_name(c, rev, sizeof(rev));
	a = query(c, rev, DNS_T_PTR);
	*ans = a;
	if (a->status != DNS_OK)
		return a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET ? -1 : 0;
	for (size_t i = 0; i < a->count && k < SPF_MAX_MX_PTR; i++)
		str_copy(names[k++], 256, a->rr[i].name, strlen(a->rr[i].name));
	return k;
}

/* p_macro - %{p}: a validated name, preferring the domain or its subdomains (7.3). */
static const char *p_macro(void *arg)
{
	struct ctx *c = arg;
	char names[SPF_MAX_MX_PTR][256];
	const dns_answer *a;
	int n, best = -1, rank = 0;

	if (c->p_done)
		return c->pname;
	c->p_done = 1;
	str_copy(c->pname, sizeof(c->pname), "unknown", 7);
	n = ptr_names(c, names, &a);
	release(a);
	for (int i = 0; i < n; i++) {
		int r;
		if (!validated(c, names[i]))
			continue;
		r = 1;
		if (c->env.domain && name_under(names[i], c->env.domain))
			r = mem_caseeq(names[i], strlen(names[i]), c->env.domain, strlen(c->env.domain)) ? 3 : 2;
		if (r > rank) {
			rank = r;
			best = i;
		}
	}
	if (best >= 0)
		str_copy(c->pname, sizeof(c->pname), names[best], strlen(names[best]));
	return c->pname;
}

static int check_host(struct ctx *c, const char *domain, int depth, int want_exp);

/* eval_term - evaluate one mechanism: MATCH, NOMATCH or an auth_result error. */
static int eval_term(struct ctx *c, const struct term *t, const char *domain, int depth)
{
	char target[SPF_NAME_MAX];
	const dns_answer *a;
	int rc;

	if (t->m == M_ALL)
		return MATCH;
	if (t->m == M_IP4)
		return c->env.fam == 4 && ip_in_net(c->env.ip, t->net, t->c4, 1) ? MATCH : NOMATCH;
	if (t->m == M_IP6)
		return c->env.fam == 6 && ip_in_net(c->env.ip, t->net, t->c6, 0) ? MATCH : NOMATCH;
	if ((rc = count_lookup(c)) != 0)
		return rc;
	if (t->arg) {
		if (expand_domain(c, domain, t->arg, t->arglen, target, sizeof(target)) < 0)
			return AR_PERMERROR;
	} else {
		str_copy(target, sizeof(target), domain, strlen(domain));
	}
	switch (t->m) {
	case M_INCLUDE:
		rc = check_host(c, target, depth + 1, 0);
		switch (rc) {
		case AR_PASS: return MATCH;
		case AR_FAIL: case AR_SOFTFAIL: case AR_NEUTRAL: return NOMATCH;
		case AR_TEMPERROR: return AR_TEMPERROR;
		default:
			problem(c, "include of %s gave no SPF record or an error", target);
			return AR_PERMERROR;
		}
	case M_A: case M_EXISTS:
		a = query(c, target, t->m == M_EXISTS ? DNS_T_A : addr_type(c));
		if (a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET)
			rc = dns_error(c, a, target);
		else if ((rc = count_void(c, a)) != 0)
			;
		else if (a->status != DNS_OK)
			rc = NOMATCH;
		else if (t->m == M_EXISTS)
			rc = MATCH;
		else
			rc = addr_match(c, a, t->c4, t->c6) ? MATCH : NOMATCH;
		release(a);
		return rc;
	case M_MX: {
		char names[SPF_MAX_MX_PTR][256];
		size_t k = 0;
		a = query(c, target, DNS_T_MX);
		if (a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET) {
			rc = dns_error(c, a, target);
			release(a);
			return rc;
		}
		if ((rc = count_void(c, a)) != 0 || a->status != DNS_OK) {
			release(a);
			return rc ? rc : NOMATCH;
		}
		if (a->count > SPF_MAX_MX_PTR || a->truncated_set) {
			release(a);
			problem(c, "more than 10 MX names for %s", target);
			return AR_PERMERROR;
		}
		for (size_t i = 0; i < a->count; i++)
			if (a->rr[i].name[0])   /* "." is a null MX (RFC 7505): no host */
				str_copy(names[k++], 256, a->rr[i].name, strlen(a->rr[i].name));
		release(a);
		rc = NOMATCH;
		for (size_t i = 0; i < k && rc == NOMATCH; i++) {
			const dns_answer *b = query(c, names[i], addr_type(c));
			if (b->status == DNS_TEMPFAIL || b->status == DNS_BUDGET)
				rc = dns_error(c, b, names[i]);
			else if (b->status == DNS_OK && addr_match(c, b, t->c4, t->c6))
				rc = MATCH;
			release(b);
		}
		return rc;
	}
	case M_PTR: {
		char names[SPF_MAX_MX_PTR][256];
		int n = ptr_names(c, names, &a);
		if (n >= 0 && (rc = count_void(c, a)) != 0) {
			release(a);
			return rc;
		}
		release(a);
		/* a DNS error on the PTR lookup, or on a name's address lookup, only
		 * means no match (5.5) */
		for (int i = 0; i < n; i++)
			if (name_under(names[i], target) && validated(c, names[i]))
				return MATCH;
		return NOMATCH;
	}
	default:
		return NOMATCH;
	}
}

/* qual_result - qualifier to result. */
static int qual_result(char q)
{
	switch (q) {
	case '-': return AR_FAIL;
	case '~': return AR_SOFTFAIL;
	case '?': return AR_NEUTRAL;
	default: return AR_PASS;
	}
}

#define FOUND (-1)   /* fetch_record: a record was found (AR_NONE is 0) */

/* fetch_record - the single v=spf1 TXT record of domain into *rec_text
 * (heap); returns FOUND, or an auth_result (none, temperror, permerror). */
static int fetch_record(struct ctx *c, const char *domain, char **rec_text, size_t *rec_len)
{
	const dns_answer *a = query(c, domain, DNS_T_TXT);
	int found = 0, rc = 0;

	*rec_text = NULL;
	if (a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET) {
		rc = dns_error(c, a, domain);
		release(a);
		return rc;
	}
	if (a->status != DNS_OK) {
		problem(c, "no SPF record at %s", domain);
		release(a);
		return AR_NONE;
	}
	for (size_t i = 0; i < a->count; i++) {
		long n = dns_txt_join(a->rr[i].data, a->rr[i].len, c->txt, SPF_TXT_MAX + 1);
		if (n < 6 || !mem_caseeq(c->txt, 6, "v=spf1", 6) || (n > 6 && c->txt[6] != ' '))
			continue;
		if (++found > 1)
			break;
		*rec_text = malloc((size_t)n + 1);
		if (*rec_text == NULL)
			break;
		memcpy(*rec_text, c->txt, (size_t)n + 1);
		*rec_len = (size_t)n;
	}
	release(a);
	if (found > 1) {
		free(*rec_text);
		*rec_text = NULL;
		problem(c, "more than one SPF record at %s", domain);
		return AR_PERMERROR;
	}
	if (found == 0 || *rec_text == NULL) {
		problem(c, found ? "out of memory%s" : "no SPF record at %s", found ? "" : domain);
		return found ? AR_TEMPERROR : AR_NONE;
	}
	return FOUND;
}

/* explain - fetch and expand the exp= explanation into c->explanation (6.2);
 * any failure just leaves it empty. */
static void explain(struct ctx *c, const struct record *rec, const char *domain)
{
	char target[SPF_NAME_MAX], text[SPF_MACRO_MAX + 1], err[160];
	const dns_answer *a;
	long n;

	if (expand_domain(c, domain, rec->exp, rec->explen, target, sizeof(target)) < 0)
		return;
	a = query(c, target, DNS_T_TXT);
	if (a->status == DNS_OK && a->count == 1) {
		n = dns_txt_join(a->rr[0].data, a->rr[0].len, c->txt, SPF_TXT_MAX + 1);
		c->env.domain = domain;
		if (n >= 0 && spf_macro_expand(&c->env, c->txt, (size_t)n, 1, text, sizeof(text), err, sizeof(err)) >= 0) {
			int ok = 1;
			for (const char *q = text; *q; q++)
				if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
					ok = 0;
			if (ok)
				str_copy(c->explanation, sizeof(c->explanation), text, strlen(text));
		}
	}
	release(a);
}

/* check_host - RFC 7208 section 4 for domain; returns an auth_result. */
static int check_host(struct ctx *c, const char *domain, int depth, int want_exp)
{
	struct record *rec;
	char *text = NULL, err[200] = "";
	size_t len = 0;
	int rc, result = -1;

	if (depth > SPF_DEPTH_MAX) {
		problem(c, "include/redirect nesting too deep at %s", domain);
		return AR_PERMERROR;
	}
	if ((rc = fetch_record(c, domain, &text, &len)) != FOUND)
		return rc;
	rec = malloc(sizeof(*rec));
	if (rec == NULL) {
		free(text);
		problem(c, "out of memory%s", "");
		return AR_TEMPERROR;
	}
	if (parse_record(rec, text, len, err, sizeof(err)) < 0) {
		char tmp[300];
		snprintf(tmp, sizeof(tmp), "%s: %s", domain, err);
		problem(c, "syntax error at %s", tmp);
		free(rec);
		free(text);
		return AR_PERMERROR;
	}
	for (size_t i = 0; i < rec->n && result < 0; i++) {
		rc = eval_term(c, &rec->t[i], domain, depth);
		if (rc == MATCH) {
			result = qual_result(rec->t[i].qual);
			if (depth == 0 || c->mechanism[0] == '\0')
				str_printable(c->mechanism, sizeof(c->mechanism), rec->t[i].text, rec->t[i].textlen);
		} else if (rc != NOMATCH) {
			result = rc;
		}
	}
	if (result < 0 && rec->redirect) {
		char target[SPF_NAME_MAX];
		if ((rc = count_lookup(c)) != 0)
			result = rc;
		else if (expand_domain(c, domain, rec->redirect, rec->redirlen, target, sizeof(target)) < 0)
			result = AR_PERMERROR;
		else {
			/* the redirect target's own exp= replaces ours (6.1) */
			result = check_host(c, target, depth + 1, want_exp);
			if (result == AR_NONE) {
				problem(c, "redirect to %s found no SPF record", target);
				result = AR_PERMERROR;
			}
		}
		free(rec);
		free(text);
		return result;
	}
	if (result < 0)
		result = AR_NEUTRAL;
	if (result == AR_FAIL && want_exp && rec->exp)
		explain(c, rec, domain);
	free(rec);
	free(text);
	return result;
}

/* domain_ok - RFC 7208 4.3: a multi-label domain with valid labels, not a literal. */
static int domain_ok(const char *d)
{
	return d[0] != '[' && dom_name_len(d, strlen(d), DOM_DOT | DOM_TWO) >= 0;
}

/* run - shared body of spf_check and spf_check_helo. */
static int run(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
               struct spf_outcome *out, int helo_only)
{
	struct ctx *c;
	const char *mf = req->mail_from ? req->mail_from : "";
	const char *helo = req->helo ? req->helo : "";
	const char *at;
	int fam;

	memset(out, 0, sizeof(*out));
	out->result = AR_NONE;
	snprintf(out->identity, sizeof(out->identity), helo_only ? "helo" : "mailfrom");
	c = calloc(1, sizeof(*c));
	if (c)
		c->txt = malloc(SPF_TXT_MAX + 1);
	if (c == NULL || c->txt == NULL) {
		if (c)
			free(c);
		out->result = AR_TEMPERROR;
		snprintf(out->problem, sizeof(out->problem), "out of memory");
		return 0;
	}
	c->dns = dns;
	c->budget = budget;
	fam = dns_ip_parse(req->ip, c->env.ip);
	c->env.fam = fam;
	str_copy(c->helo, sizeof(c->helo), helo, strlen(helo));
	str_copy(c->receiver, sizeof(c->receiver), req->receiver ? req->receiver : "unknown",
	         strlen(req->receiver ? req->receiver : "unknown"));
	if (helo_only || mf[0] == '\0') {
		/* null path: check postmaster@HELO (2.4) */
		snprintf(c->sender, sizeof(c->sender), "postmaster@%s", helo);
		str_copy(c->local, sizeof(c->local), "postmaster", 10);
		str_copy(c->sdomain, sizeof(c->sdomain), helo, strlen(helo));
	} else {
		at = strrchr(mf, '@');
		if (at == NULL) {
			/* no '@': the whole thing is a domain, local part postmaster (4.3) */
			str_copy(c->local, sizeof(c->local), "postmaster", 10);
			str_copy(c->sdomain, sizeof(c->sdomain), mf, strlen(mf));
		} else {
			if (at == mf)
				str_copy(c->local, sizeof(c->local), "postmaster", 10);
			else
				str_copy(c->local, sizeof(c->local), mf, (size_t)(at - mf));
			str_copy(c->sdomain, sizeof(c->sdomain), at + 1, strlen(at + 1));
		}
		snprintf(c->sender, sizeof(c->sender), "%s@%s", c->local, c->sdomain);
	}
	c->env.sender = c->sender;
	c->env.local = c->local;
	c->env.sender_domain = c->sdomain;
	c->env.helo = c->helo;
	c->env.receiver = c->receiver;
	c->env.p_fn = p_macro;
	c->env.p_arg = c;
	c->env.now = (long long)time(NULL);
	str_copy(out->sender, sizeof(out->sender), c->sender, strlen(c->sender));
	str_copy(out->domain, sizeof(out->domain), c->sdomain, strlen(c->sdomain));

	if (fam == 0) {
		out->result = AR_NONE;
		snprintf(out->problem, sizeof(out->problem), "invalid client IP address");
	} else if (!domain_ok(c->sdomain)) {
		out->result = AR_NONE;
		snprintf(out->problem, sizeof(out->problem), "not a valid domain name");
	} else {
		char dom[256];
		size_t dn = strlen(c->sdomain);
		if (dn && c->sdomain[dn - 1] == '.')
			dn--;
		str_copy(dom, sizeof(dom), c->sdomain, dn);
		out->result = (enum auth_result)check_host(c, dom, 0, 1);
		str_copy(out->problem, sizeof(out->problem), c->problem, strlen(c->problem));
	}
	if (out->result == AR_FAIL)
		str_copy(out->explanation, sizeof(out->explanation), c->explanation, strlen(c->explanation));
	if (out->result == AR_PASS || out->result == AR_FAIL || out->result == AR_SOFTFAIL ||
	    out->result == AR_NEUTRAL)
		str_copy(out->mechanism, sizeof(out->mechanism), c->mechanism, strlen(c->mechanism));
	out->dns_lookups = c->lookups;
	out->void_lookups = c->voids;
	free(c->txt);
	free(c);
	return 0;
}

/* spf_check - MAIL FROM identity (postmaster@HELO for the null path). */
int spf_check(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
              struct spf_outcome *out)
{
	return run(dns, budget, req, out, 0);
}

/* spf_check_helo - HELO identity (RFC 7208 2.3). */
int spf_check_helo(dns_resolver *dns, dns_budget *budget, const struct spf_request *req,
                   struct spf_outcome *out)
{
	return run(dns, budget, req, out, 1);
}

/* put_kv - append "; key=value" with value as a dot-atom or a quoted-string. */
static void put_kv(buf *b, const char *key, const char *val, int force_quote)
{
	int atom = !force_quote && val[0] != '\0';
	for (const char *q = val; *q && atom; q++) {
		unsigned char ch = (unsigned char)*q;
		if (!(isalnum(ch) || strchr("!#$%&'*+-/=?^_`{|}~.:", ch)))
			atom = 0;
	}
	buf_printf(b, " %s=", key);
	if (atom) {
		buf_puts(b, val);
	} else {
		buf_putc(b, '"');
		for (const char *q = val; *q; q++) {
			unsigned char ch = (unsigned char)*q;
			if (ch == '"' || ch == '\\')
				buf_putc(b, '\\');
			buf_putc(b, ch >= 0x20 && ch < 0x7f ? ch : '?');
		}
		buf_putc(b, '"');
	}
	buf_putc(b, ';');
}

/* spf_received_spf - RFC 7208 9.1 field value:
 *   result (comment) client-ip=...; envelope-from="..."; helo=...; ... */
int spf_received_spf(const struct spf_outcome *o, const struct spf_request *req,
                     char *out, size_t outsz)
{
	buf *b = buf_new(outsz ? outsz - 1 : 0);
	char ip[64], tmp[600];
	unsigned char raw[16];
	int fam, rc = 0;
	const char *recv = req->receiver && *req->receiver ? req->receiver : "unknown";

	if (b == NULL || outsz == 0) {
		buf_free(b);
		return -1;
	}
	fam = dns_ip_parse(req->ip, raw);
	if (fam == 4)
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", raw[12], raw[13], raw[14], raw[15]);
	else if (fam == 6)
		inet_ntop(AF_INET6, raw, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "unknown");
	buf_puts(b, result_name(o->result));
	str_printable(tmp, sizeof(tmp), recv, strlen(recv));
	switch (o->result) {
	case AR_PASS:
		buf_printf(b, " (%s: domain of %s designates %s as permitted sender)", tmp, o->sender, ip);
		break;
	case AR_FAIL:
		buf_printf(b, " (%s: domain of %s does not designate %s as permitted sender)", tmp, o->sender, ip);
		break;
	case AR_SOFTFAIL:
		buf_printf(b, " (%s: domain of transitioning %s does not designate %s as permitted sender)", tmp, o->sender, ip);
		break;
	case AR_NEUTRAL:
		buf_printf(b, " (%s: %s is neither permitted nor denied by domain of %s)", tmp, ip, o->sender);
		break;
	case AR_NONE:
		buf_printf(b, " (%s: domain of %s does not designate permitted sender hosts)", tmp, o->sender);
		break;
	default:
		buf_printf(b, " (%s: error in processing during lookup of %s)", tmp, o->sender);
		break;
	}
	/* comment text came from the sender: strip anything that could close or nest it */
	{
		const char *d = buf_data(b);
		size_t n = buf_len(b), open = strchr(d, '(') ? (size_t)(strchr(d, '(') - d) : n;
		char *w = (char *)d;
		for (size_t i = open + 1; i + 1 < n; i++)
			if (w[i] == '(' || w[i] == ')' || w[i] == '\\' || (unsigned char)w[i] < 0x20 || (unsigned char)w[i] > 0x7e)
				w[i] = '?';
	}
	buf_printf(b, " client-ip=%s;", ip);
	put_kv(b, "envelope-from", o->sender, 1);
	if (req->helo && *req->helo) {
		str_printable(tmp, sizeof(tmp), req->helo, strlen(req->helo));
		put_kv(b, "helo", tmp, 0);
	}
	if (o->problem[0] && (o->result == AR_PERMERROR || o->result == AR_TEMPERROR || o->result == AR_NONE))
		put_kv(b, "problem", o->problem, 1);
	if (o->mechanism[0])
		put_kv(b, "mechanism", o->mechanism, 0);
	str_printable(tmp, sizeof(tmp), recv, strlen(recv));
	put_kv(b, "receiver", tmp, 0);
	buf_printf(b, " identity=%s", o->identity[0] ? o->identity : "mailfrom");
	if (buf_overflowed(b)) {
		rc = -1;        /* a garbled field is worse than none */
		out[0] = '\0';
	} else {
		str_copy(out, outsz, buf_data(b), buf_len(b));
	}
	buf_free(b);
	return rc;
}

/* spf_findings - see spf.h. */
void spf_findings(const struct spf_outcome *o, const char *ip, findings *f)
{
	if (o->result != AR_PASS)
		findings_add(f, o->result == AR_NONE ? "spf.none" :
		             o->result == AR_FAIL ? "spf.fail" :
		             o->result == AR_SOFTFAIL ? "spf.softfail" :
		             o->result == AR_NEUTRAL ? "spf.neutral" :
		             o->result == AR_TEMPERROR ? "spf.temperror" : "spf.permerror",
		             "SPF %s for %s from %s%s%s", result_name(o->result), o->domain, ip,
		             o->problem[0] ? ": " : "", o->problem);
}
