/*
 * unsub - RFC 2369 List-Unsubscribe parsing and the RFC 8058 one-click
 * verdict, plus the mailbox providers' readiness on the same facts.
 *
 * Pure code: the header set, the DKIM signatures and their alignment (from
 * dmarc, sig_aligned[]) come in; the verdict and named findings go out.
 *
 * RFC 8058 one-click is COMPLIANT only when all of these hold:
 *   - exactly one List-Unsubscribe field, an RFC 2369 list of <URI>s, holding
 *     at least one https URI and no plain http URI (s3.1: "MUST contain one
 *     HTTPS URI. It MAY contain other non-HTTP/S URIs");
 *   - exactly one List-Unsubscribe-Post field whose value (unfolded, trimmed)
 *     is exactly "List-Unsubscribe=One-Click" (s3.1);
 *   - a DKIM signature that passes, names both fields in h= (s4) and whose
 *     d= aligns with the From domain (the providers' reading of s4: the
 *     signature has to vouch for the author domain).
 * Each way of failing is its own finding (prefix "unsub."), so a report can
 * say exactly what to fix.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "unsub.h"
#include "buf.h"
#include "lex5322.h"

/* skip_cfws - lex_cfws from i: the new index, or (size_t)-1 when a
 * comment is not closed (or nested too deeply). */
static size_t skip_cfws(const char *p, size_t n, size_t i)
{
	return lex_cfws(p, n, &i, NULL) == LEX_OK ? i : (size_t)-1;
}

/* uri_ok - an absolute URI: scheme ":" and printable ASCII after it. */
static int uri_ok(const char *u, size_t n)
{
	size_t i = 0;
	if (n == 0 || !isalpha((unsigned char)u[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
		i++;
	if (i >= n || u[i] != ':' || i + 1 == n)
		return 0;
	for (size_t j = i + 1; j < n; j++) {
		unsigned char c = (unsigned char)u[j];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

/* unsub_parse - RFC 2369 s2: a comma list of <URI>; CFWS between items;
 * whitespace inside the brackets (from folding) is dropped. A sub-item that
 * is not an angle-bracketed URI ends the list (s2: the rest SHOULD be
 * ignored) and sets syntax_error; so does anything after a URI other than a
 * comma. URIs past UNSUB_MAX_URIS set more; URIs of UNSUB_URI_MAX bytes or
 * more set uri_too_long; neither is stored. */
size_t unsub_parse(const char *p, size_t n, struct unsub_uris *out)
{
	memset(out, 0, offsetof(struct unsub_uris, uri));   /* uri[] is written as count grows */
	size_t i = 0;
	for (;;) {
		i = skip_cfws(p, n, i);
		if (i == (size_t)-1) {
			out->syntax_error = 1;
			break;
		}
		if (i >= n) {
			out->syntax_error = 1;     /* empty field, or a comma followed by nothing */
			break;
		}
		if (p[i] != '<') {
			out->syntax_error = 1;
			break;
		}
		size_t j = i + 1;
		while (j < n && p[j] != '>' && p[j] != '<')
			j++;
		if (j >= n || p[j] != '>') {
			out->syntax_error = 1;
			break;
		}
		/* copy without whitespace */
		char tmp[UNSUB_URI_MAX];
		size_t len = 0;
		int toolong = 0;
		for (size_t k = i + 1; k < j; k++) {
			unsigned char c = (unsigned char)p[k];
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				continue;
			if (len + 1 >= sizeof(tmp)) {
				toolong = 1;
				break;
			}
			tmp[len++] = (char)c;
		}
		if (toolong) {
			out->uri_too_long = 1;
		} else if (!uri_ok(tmp, len)) {
			out->syntax_error = 1;
		} else if (out->count >= UNSUB_MAX_URIS) {
			out->more = 1;
		} else {
			memcpy(out->uri[out->count], tmp, len);
			out->uri[out->count][len] = '\0';
			out->count++;
		}
		i = skip_cfws(p, n, j + 1);
		if (i == (size_t)-1) {
			out->syntax_error = 1;
			break;
		}
		if (i >= n)
			break;                             /* clean end */
		if (p[i] != ',') {
			out->syntax_error = 1;             /* s2: trailing text is ignored */
			break;
		}
		i++;
	}
	return out->count;
}

/* scheme_is - nonzero if uri starts with scheme ":" (case-insensitive). */
static int scheme_is(const char *uri, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(uri, scheme, n) == 0 && uri[n] == ':';
}

/* covers - nonzero if signature s names the header field in h=. */
static int covers(const struct dkim_sig *s, const char *name)
{
	if (strcasecmp(name, "List-Unsubscribe") == 0 && s->covers_list_unsubscribe)
		return 1;
	if (strcasecmp(name, "List-Unsubscribe-Post") == 0 && s->covers_list_unsubscribe_post)
		return 1;
	for (size_t i = 0; i < s->nsigned && i < DKIM_MAX_SIGNED_HEADERS; i++)
		if (strcasecmp(s->signed_headers[i], name) == 0)
			return 1;
	return 0;
}

/* unsub_outcome_reset - see unsub.h. */
void unsub_outcome_reset(struct unsub_outcome *out)
{
	memset(out, 0, offsetof(struct unsub_outcome, uris));
	memset(&out->uris, 0, offsetof(struct unsub_uris, uri));
}

/* unsub_evaluate - the RFC 8058 verdict (readiness is ready.c's). */
void unsub_evaluate(const hdr_set *h, const struct dkim_sig *sigs, size_t nsigs,
                    const int *sig_aligned, struct unsub_outcome *out, findings *f)
{
	unsub_outcome_reset(out);
	out->covered_sig = -1;
	size_t nlu = hdr_count_name(h, "List-Unsubscribe");
	size_t npost = hdr_count_name(h, "List-Unsubscribe-Post");
	out->n_list_unsubscribe = nlu;
	out->n_post = npost;
	if (nlu == 0) {
		out->verdict = UNSUB_ABSENT;
		if (npost > 0)
			findings_add(f, "unsub.post_without_list_unsubscribe",
			             "List-Unsubscribe-Post without List-Unsubscribe");
		return;
	}
	int bad = 0;
	if (nlu > 1) {
		findings_add(f, "unsub.multiple_list_unsubscribe",
		             "%zu List-Unsubscribe fields (RFC 8058 needs exactly one)", nlu);
		bad = 1;
	}
	const struct hdr_field *lu = hdr_find(h, "List-Unsubscribe", 0);
	unsub_parse(lu->unfolded, lu->ulen, &out->uris);
	if (out->uris.syntax_error) {
		findings_add(f, "unsub.syntax", "List-Unsubscribe is not a comma list of <URI> (RFC 2369)");
		bad = 1;
	}
	if (out->uris.more) {
		findings_add(f, "unsub.too_many_uris", "more than %d URIs in List-Unsubscribe", UNSUB_MAX_URIS);
		bad = 1;
	}
	if (out->uris.uri_too_long) {
		findings_add(f, "unsub.uri_too_long", "a List-Unsubscribe URI of %d bytes or more", UNSUB_URI_MAX);
		bad = 1;
	}
	for (size_t i = 0; i < out->uris.count; i++) {
		const char *u = out->uris.uri[i];
		if (scheme_is(u, "https")) out->has_https = 1;
		else if (scheme_is(u, "http")) out->has_http = 1;
		else if (scheme_is(u, "mailto")) out->has_mailto = 1;
	}
	if (!out->has_https) {
		findings_add(f, "unsub.no_https", "no https URI in List-Unsubscribe (RFC 8058 s3.1)");
		bad = 1;
	}
	if (out->has_http) {
		findings_add(f, "unsub.http_not_https",
		             "plain http URI in List-Unsubscribe (RFC 8058 s3.1 allows only https and non-HTTP URIs)");
		bad = 1;
	}
	if (npost == 0) {
		findings_add(f, "unsub.post_missing", "no List-Unsubscribe-Post field");
		bad = 1;
	} else if (npost > 1) {
		findings_add(f, "unsub.post_multiple", "%zu List-Unsubscribe-Post fields", npost);
		bad = 1;
	} else {
		const struct hdr_field *pf = hdr_find(h, "List-Unsubscribe-Post", 0);
		const char *v = pf->unfolded;
		size_t vn = pf->ulen;
		while (vn > 0 && (*v == ' ' || *v == '\t')) { v++; vn--; }
		while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == '\r' || v[vn - 1] == '\n')) vn--;
		size_t want = strlen(UNSUB_ONE_CLICK);
		if (vn != want || memcmp(v, UNSUB_ONE_CLICK, want) != 0) {
			char shown[80];
			str_printable(shown, sizeof(shown), v, vn);
			findings_add(f, "unsub.post_bad_value",
			             "List-Unsubscribe-Post is \"%s\", not \"" UNSUB_ONE_CLICK "\"", shown);
			bad = 1;
		}
	}
	/* DKIM: a passing signature covering the fields present, aligned */
	size_t ns = nsigs < DKIM_MAX_SIGS ? nsigs : DKIM_MAX_SIGS;
	int any_pass = 0, pass_cover = 0, fail_cover = 0;
	for (size_t i = 0; i < ns; i++) {
		const struct dkim_sig *s = &sigs[i];
		int cov = covers(s, "List-Unsubscribe") && (npost == 0 || covers(s, "List-Unsubscribe-Post"));
		if (s->result != AR_PASS) {
			fail_cover |= cov;
			continue;
		}
		any_pass = 1;
		if (!cov)
			continue;
		pass_cover = 1;
		if (sig_aligned && sig_aligned[i] && out->covered_sig < 0)
			out->covered_sig = (int)i;
	}
	if (!any_pass) {
		findings_add(f, "unsub.not_dkim_signed", "no passing DKIM signature%s",
		             fail_cover ? " (a failing one covers the fields)" : "");
		bad = 1;
	} else if (!pass_cover) {
		findings_add(f, "unsub.not_dkim_covered",
		             "no passing DKIM signature has List-Unsubscribe%s in h=%s",
		             npost ? " and List-Unsubscribe-Post" : "",
		             fail_cover ? " (a failing one does)" : "");
		bad = 1;
	} else if (out->covered_sig < 0) {
		findings_add(f, "unsub.signature_not_aligned",
		             "the passing DKIM signature covering List-Unsubscribe is not aligned with From");
		bad = 1;
	}
	out->verdict = bad ? UNSUB_NONCOMPLIANT : UNSUB_COMPLIANT;
}

/* unsub_verdict_name - "absent", "compliant", "noncompliant". */
const char *unsub_verdict_name(enum unsub_verdict v)
{
	switch (v) {
	case UNSUB_COMPLIANT: return "compliant";
	case UNSUB_NONCOMPLIANT: return "noncompliant";
	default: return "absent";
	}
}
