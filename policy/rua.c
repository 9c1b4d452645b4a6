/*
 * rua - DMARC aggregate report destinations: parsing the rua= URI list and
 * the RFC 9990 external-destination check. See rua.h for the rules; the
 * principle is that a destination is used only when there is exactly one
 * reading of it, so a report never goes to an address the domain did not
 * plainly name (or a third party did not plainly accept).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "rua.h"
#include "buf.h"
#include "lex5322.h"
#include "dmarc.h"

#define RUA_URI_MAX 512       /* one URI as written; a whole rua= value is capped at 512 */

/* skip - mark u skipped with a reason. */
static void skip(struct rua_uri *u, enum rua_status st, const char *reason)
{
	u->status = st;
	u->addr[0] = '\0';
	u->domain = NULL;
	snprintf(u->reason, sizeof(u->reason), "%s", reason);
}

/* uri_char - RFC 3986 unreserved / sub-delims / ":" / "@" / "%" (pct-encoded
 * checked separately): the bytes a mailto: URI may hold before decoding.
 * "/" and "?" are left out on purpose: "?" starts hfields (not supported) and
 * "/" has no place in a mailto: address; "!" must be encoded in a DMARC URI
 * (RFC 9989 dmarc-uri), so a bare one that is not the size suffix is an error. */
static int uri_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~$&'()*+,;=:@%", c) != NULL);
}

/* size_suffix - length of an obsolete "!" 1*DIGIT [k/m/g/t] at the end of
 * (p,n) (RFC 7489 / RFC 9989 obs-dmarc-report-size), 0 if there is none. */
static size_t size_suffix(const char *p, size_t n)
{
	size_t i = n;
	if (i > 0 && p[i - 1] && strchr("kmgtKMGT", p[i - 1]))
		i--;
	size_t digits_end = i;
	while (i > 0 && isdigit((unsigned char)p[i - 1]))
		i--;
	if (i == digits_end || i == 0 || p[i - 1] != '!')
		return 0;
	return n - (i - 1);
}

/* pct_decode - RFC 6068 / 3986 percent-decoding of (p,n) into out[outsz];
 * returns the length, or -1 for a bad escape, a decoded byte outside
 * printable ASCII, or an output that does not fit. */
static long pct_decode(const char *p, size_t n, char *out, size_t outsz)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int a = hex_value((unsigned char)p[i + 1]), b = hex_value((unsigned char)p[i + 2]);
			if (a < 0 || b < 0)
				return -1;
			c = (unsigned char)(a * 16 + b);
			i += 2;
			if (c < 0x21 || c > 0x7e)
				return -1;
		}
		if (j + 1 >= outsz)
			return -1;
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return (long)j;
}

/* host_ok - a host name of at least two labels of letters, digits, '-'
 * (not at either end) and '_' (found in real report hosts); no domain
 * literal, no trailing dot, no bare top-level name. */
static int host_ok(const char *p, size_t n)
{
	return n <= RUA_DOMAIN_MAX && dom_name_len(p, n, DOM_LDH | DOM_EDGE | DOM_TWO) >= 0;
}

/* local_ok - a dot-atom local part: atext runs separated by single dots. */
static int local_ok(const char *p, size_t n)
{
	return n > 0 && n <= RUA_LOCAL_MAX && lex_dot_atom_text(p, n, 0, 0) == n;
}

/* parse_one - one URI (p,n), white space already trimmed. */
static void parse_one(const char *p, size_t n, struct rua_uri *u)
{
	char dec[RUA_URI_MAX];
	str_printable(u->shown, sizeof(u->shown), p, n);
	u->status = RUA_OK;
	n -= size_suffix(p, n);
	if (n < 7 || strncasecmp(p, "mailto:", 7) != 0) {
		const char *colon = memchr(p, ':', n);
		skip(u, colon ? RUA_SCHEME : RUA_INVALID, colon ? "not a mailto: URI" : "not a URI");
		return;
	}
	p += 7;
	n -= 7;
	for (size_t i = 0; i < n; i++)
		if (!uri_char((unsigned char)p[i])) {
			skip(u, RUA_INVALID, p[i] == '?' ? "mailto: header fields are not supported"
			                                 : "character not allowed in a URI");
			return;
		}
	long dn = pct_decode(p, n, dec, sizeof(dec));
	if (dn < 0) {
		skip(u, RUA_INVALID, "bad percent-encoding");
		return;
	}
	const char *at = memchr(dec, '@', (size_t)dn);
	if (at == NULL || memchr(at + 1, '@', (size_t)dn - (size_t)(at + 1 - dec)) != NULL) {
		skip(u, RUA_INVALID, at ? "more than one @" : "no @");
		return;
	}
	size_t ll = (size_t)(at - dec), hl = (size_t)dn - ll - 1;
	if (!local_ok(dec, ll)) {
		skip(u, RUA_INVALID, "local part is not a plain dot-atom");
		return;
	}
	if (!host_ok(at + 1, hl)) {
		skip(u, RUA_INVALID, "domain is not a host name");
		return;
	}
	memcpy(u->addr, dec, (size_t)dn + 1);
	for (size_t i = ll + 1; i < (size_t)dn; i++)
		u->addr[i] = (char)tolower((unsigned char)u->addr[i]);
	u->domain = u->addr + ll + 1;
}

/* rua_parse - see rua.h. */
size_t rua_parse(const char *p, size_t n, struct rua_uri *out, size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		size_t e = i;
		while (e < n && p[e] != ',')
			e++;
		size_t a = i, b = e;
		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		struct rua_uri *u = &out[k++];
		memset(u, 0, sizeof(*u));
		if (k > RUA_MAX_URIS) {
			str_printable(u->shown, sizeof(u->shown), p + a, b - a);
			skip(u, RUA_TOO_MANY, "more than 8 URIs");
		} else if (b == a) {
			skip(u, RUA_INVALID, "empty URI");
		} else if (b - a >= RUA_URI_MAX) {
			str_printable(u->shown, sizeof(u->shown), p + a, b - a);
			skip(u, RUA_INVALID, "URI too long");
		} else {
			parse_one(p + a, b - a, u);
		}
		i = e + 1;
	}
	return k;
}

/* confirming - a TXT record beginning "v=DMARC1" that parses as DMARC tags
 * (RFC 9990 step 6); its rua= into rua[ruasz] ("" when none). */
static int confirming(const char *txt, size_t n, char *rua, size_t ruasz)
{
	struct dmarc_record r;
	rua[0] = '\0';
	if (n < 8 || memcmp(txt, "v=DMARC1", 8) != 0)
		return 0;
	if (dmarc_record_parse(txt, n, &r, NULL, 0) != 0)
		return 0;
	str_copy(rua, ruasz, r.rua, strlen(r.rua));
	return 1;
}

/* rua_authorized - see rua.h. */
int rua_authorized(dns_resolver *dns, const char *domain, const char *host,
                   struct rua_uri *ovr, size_t *novr, char *why, size_t whylen)
{
	char name[512], txt[DMARC_RECORD_MAX], rua[512] = "";
	int found = 0;
	if (novr)
		*novr = 0;
	int len = snprintf(name, sizeof(name), "%s._report._dmarc.%s", domain, host);
	if (len < 0 || (size_t)len >= sizeof(name) || len > 253) {
		snprintf(why, whylen, "%s._report._dmarc.%s is too long for DNS", domain, host);
		return -1;
	}
	dns_answer *a = dns_query(dns, NULL, name, (size_t)len, DNS_T_TXT);
	if (a == NULL || a->status == DNS_TEMPFAIL || a->status == DNS_BUDGET) {
		snprintf(why, whylen, "%s TXT: %s", name, a ? a->reason ? a->reason : "temporary failure" : "out of memory");
		dns_answer_free(a);
		return -1;
	}
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		long tl = dns_txt_join(a->rr[i].data, a->rr[i].len, txt, sizeof(txt));
		char r[512];
		if (tl > 0 && confirming(txt, (size_t)tl, r, sizeof(r))) {
			if (!found || (rua[0] == '\0' && r[0]))
				str_copy(rua, sizeof(rua), r, strlen(r));
			found = 1;
		}
	}
	dns_answer_free(a);
	if (!found) {
		snprintf(why, whylen, "no v=DMARC1 record at %s", name);
		return 0;
	}
	if (rua[0] && novr && ovr) {
		/* step 9: the consumer's own rua= replaces ours, on the same host only */
		struct rua_uri tmp[RUA_MAX_URIS];
		size_t k = rua_parse(rua, strlen(rua), tmp, RUA_MAX_URIS);
		for (size_t i = 0; i < k; i++) {
			if (tmp[i].status != RUA_OK)
				continue;
			if (strcasecmp(tmp[i].domain, host) != 0) {
				snprintf(why, whylen, "override rua at %s names another host", name);
				*novr = 0;
				return 0;
			}
			ovr[*novr] = tmp[i];
			ovr[*novr].domain = ovr[*novr].addr + (tmp[i].domain - tmp[i].addr);
			(*novr)++;
		}
		if (*novr == 0) {
			snprintf(why, whylen, "override rua at %s has no usable address", name);
			return 0;
		}
	}
	return 1;
}
