/*
 * rfc9990 - DMARC aggregate reports (RFC 9990): one XML document per UTC
 * day and policy domain, gzip-compressed in memory and written as
 * .xml.gz; with --mail also a ready-to-send MIME message (.eml) for the
 * rua= destinations that pass the external-destination check.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>
#include "dmarc.h"
#include "rua.h"
#include "report.h"

static void xml_text(buf *o, const char *s) { html_text(o, s); }

/* sig_rank - RFC 9990 signature order: aligned pass, other pass, the rest. */
static int sig_rank(const struct audit_sig *s)
{
	int pass = s->result == AR_PASS;
	return pass && s->aligned ? 0 : pass ? 1 : 2;
}

/* applied_disposition - what we did, in RFC 9990 ActionDispositionType words. */
static const char *applied_disposition(const struct audit_record *r)
{
	if (r->dmarc_result == AR_PASS)
		return r->dmarc_policy == DMARC_P_QUARANTINE || r->dmarc_policy == DMARC_P_REJECT
		       ? "pass" : "none";
	if (r->action_enforced == ACT_REJECT)
		return "reject";
	/* junk is quarantine in DMARC's words: "place into spam folder" */
	if (r->action_enforced == ACT_QUARANTINE || r->action_enforced == ACT_JUNK)
		return "quarantine";
	return "none";
}

/* record_xml - the <record> element text of r with count placeholder "@COUNT@". */
static char *record_xml(const struct audit_record *r)
{
	buf *o = xbuf_new(64 * 1024);
	const char *disp = applied_disposition(r);
	buf_puts(o, "  <record>\n    <row>\n      <source_ip>");
	xml_text(o, r->client_ip);
	buf_printf(o, "</source_ip>\n      <count>@COUNT@</count>\n      <policy_evaluated>\n"
	              "        <disposition>%s</disposition>\n        <dkim>%s</dkim>\n        <spf>%s</spf>\n",
	           disp, r->dmarc_dkim_aligned ? "pass" : "fail", r->dmarc_spf_aligned ? "pass" : "fail");
	/* a failing message not handled as the policy asked: say why (RFC 9990 reason) */
	if (r->dmarc_result == AR_FAIL &&
	    strcmp(disp, audit_enum_name(&audit_enum_dmarc_policy, (int)r->dmarc_disposition)) != 0) {
		buf_printf(o, "        <reason>\n          <type>%s</type>\n",
		           strcmp(r->dmarc_testing, "y") == 0 ? "policy_test_mode" : "local_policy");
		if (r->arc_override[0]) {
			/* RFC 8617 7.2: the trusted forwarder whose ARC results we accepted */
			buf_puts(o, "          <comment>arc=pass, trusted sealer ");
			xml_text(o, r->arc_override);
			buf_puts(o, "</comment>\n");
		}
		buf_puts(o, "        </reason>\n");
	}
	buf_puts(o, "      </policy_evaluated>\n    </row>\n    <identifiers>\n      <header_from>");
	xml_text(o, r->from_domain);
	buf_puts(o, "</header_from>\n      <envelope_from>");
	xml_text(o, r->mail_from_domain);
	buf_puts(o, "</envelope_from>\n    </identifiers>\n    <auth_results>\n");
	for (int rank = 0; rank < 3; rank++)
		for (size_t i = 0; i < r->nsigs; i++) {
			const struct audit_sig *s = &r->sigs[i];
			if (sig_rank(s) != rank)
				continue;
			buf_puts(o, "      <dkim>\n        <domain>");
			xml_text(o, s->domain);
			buf_puts(o, "</domain>\n        <selector>");
			xml_text(o, s->selector);
			buf_printf(o, "</selector>\n        <result>%s</result>\n      </dkim>\n",
			           s->result == AR_SOFTFAIL ? "fail" : result_name(s->result));
		}
	if (r->spf_domain[0]) {
		buf_puts(o, "      <spf>\n        <domain>");
		xml_text(o, r->spf_domain);
		buf_printf(o, "</domain>\n        <scope>mfrom</scope>\n        <result>%s</result>\n      </spf>\n",
		           result_name(r->spf_result));
	}
	buf_puts(o, "    </auth_results>\n  </record>\n");
	return buf_steal(o);
}

static void drow_free(void *p) { free(((struct drow *)p)->xml); }
void dreport_free(void *p) { map_free(&((struct dreport *)p)->rows, drow_free); }

/* dmarc_add - inbound messages with a DMARC verdict, by UTC day and policy domain. */
void dmarc_add(struct agg *g, const struct audit_record *r)
{
	if (r->direction != DIR_INBOUND || r->dmarc_policy_domain[0] == '\0' ||
	    (r->dmarc_result != AR_PASS && r->dmarc_result != AR_FAIL) || r->dmarc_p == DMARC_P_UNSPEC)
		return;
	char key[AUDIT_DOMAIN_MAX + 32];
	int64_t day = bucket_start(r->ts, "day");
	snprintf(key, sizeof(key), "%lld|%s", (long long)day, r->dmarc_policy_domain);
	struct dreport *d = map_get(&g->dmarc, key);
	if (d->begin == 0) {
		d->begin = day;
		snprintf(d->domain, sizeof(d->domain), "%s", r->dmarc_policy_domain);
		d->rows.vsize = sizeof(struct drow);
	}
	if (r->ts >= d->last.ts)
		d->last = *r;
	char *x = record_xml(r);
	struct drow *row = map_get(&d->rows, x);
	row->count++;
	if (row->xml == NULL)
		row->xml = x;
	else
		free(x);
}

/* gzip - (p,n) as one gzip member (level 9), deflated in memory; a new
 * heap buffer of *outlen bytes, NULL when zlib fails. */
static unsigned char *gzip(const char *p, size_t n, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (n > UINT_MAX || deflateInit2(&z, 9, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	uLong bound = deflateBound(&z, (uLong)n);
	unsigned char *out = bound <= UINT_MAX ? malloc(bound) : NULL;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	if (out == NULL || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = (size_t)z.total_out;
	deflateEnd(&z);
	return out;
}

/* write_file - (p,n) to path; 0 ok, -1 with errno. */
static int write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* b64 - base64 in 76-column lines (RFC 2045). */
static void b64(buf *o, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		             (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
		              i + 2 < n ? t[v & 63] : '=' };
		buf_append(o, q, 4);
		if ((col += 4) >= 76) {
			buf_puts(o, "\r\n");
			col = 0;
		}
	}
	if (col)
		buf_puts(o, "\r\n");
}

/* same_org - RFC 9990 section 4: no external-destination check is needed
 * when the Organizational Domain of the reported (policy) domain is the
 * Organizational Domain of the destination host; found the way the record
 * was discovered (tree walk, or the PSL in RFC 7489 mode). 1 same, 0 not
 * (or unknown: the check then decides). */
static int same_org(dns_resolver *dns, const struct dreport *d, const char *host)
{
	enum dmarc_mode m = d->last.dmarc_discovery;
	char a[256], b[256];
	if (strcasecmp(host, d->domain) == 0)
		return 1;
	if (dmarc_org_domain(dns, NULL, m, d->domain, strlen(d->domain), a, sizeof(a)) < 0 ||
	    dmarc_org_domain(dns, NULL, m, host, strlen(host), b, sizeof(b)) < 0)
		return 0;
	return strcmp(a, b) == 0;
}

/* add_to - append addr to the To: list unless it is there already. */
static void add_to(char *to, size_t tosz, const char *addr, struct rua_count *rc)
{
	size_t al = strlen(addr);
	for (const char *p = to; (p = strstr(p, addr)) != NULL; p += al)
		if ((p == to || p[-1] == ' ') && (p[al] == ',' || p[al] == '\0'))
			return;
	size_t tl = strlen(to);
	if (tl + al + 3 >= tosz)
		return;
	snprintf(to + tl, tosz - tl, "%s%s", tl ? ", " : "", addr);
	rc->sent_to++;
}

/* skipped - log one destination not used, and count it. */
static void skipped(const struct dreport *d, const char *shown, const char *why, uint64_t *counter)
{
	char dom[256];
	str_printable(dom, sizeof(dom), d->domain, strlen(d->domain));
	fprintf(stderr, "trustmilter-report: %s: rua destination \"%s\" skipped: %s\n", dom, shown, why);
	(*counter)++;
}

/* rua_dests - the To: list for the report about d: the addresses of its rua=
 * that are verified as RFC 9990 says (see docs/STATISTICS.md). */
static void rua_dests(const struct dreport *d, struct rua_count *rc, char *to, size_t tosz)
{
	struct rua_uri u[RUA_MAX_URIS + 1], ovr[RUA_MAX_URIS];
	const char *rua = d->last.dmarc_rua;
	size_t k = rua_parse(rua, strlen(rua), u, RUA_MAX_URIS + 1);
	to[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		char why[600];
		size_t novr = 0;
		switch (u[i].status) {
		case RUA_OK: break;
		case RUA_SCHEME: skipped(d, u[i].shown, u[i].reason, &rc->skip_scheme); continue;
		case RUA_TOO_MANY: skipped(d, u[i].shown, u[i].reason, &rc->skip_many); continue;
		default: skipped(d, u[i].shown, u[i].reason, &rc->skip_invalid); continue;
		}
		if (same_org(rc->dns, d, u[i].domain)) {
			rc->internal++;
			add_to(to, tosz, u[i].addr, rc);
			continue;
		}
		int a = rua_authorized(rc->dns, d->domain, u[i].domain, ovr, &novr, why, sizeof(why));
		if (a < 0) {
			skipped(d, u[i].shown, why, &rc->skip_dns);
			continue;
		}
		if (a == 0) {
			skipped(d, u[i].shown, why, &rc->skip_external);
			continue;
		}
		rc->external_ok++;
		if (novr == 0)
			add_to(to, tosz, u[i].addr, rc);
		for (size_t j = 0; j < novr; j++)
			add_to(to, tosz, ovr[j].addr, rc);
	}
	if (k == 0)
		skipped(d, "", "no rua= in the DMARC record", &rc->skip_none);
}

/* write_mail - a ready-to-send message for sendmail -t, next to the report. */
static int write_mail(const char *dir, const char *fname, const struct dreport *d, const char *rid,
                      const char *submitter, const char *email, const char *gz, size_t gzlen,
                      struct rua_count *cnt)
{
	char to[RUA_MAX_URIS * (sizeof(((struct rua_uri *)0)->addr) + 2) + 1];
	rua_dests(d, cnt, to, sizeof(to));
	if (to[0] == '\0')
		return 0;
	cnt->mailed++;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.eml", dir, fname);
	buf *o = xbuf_new(64u * 1024 * 1024);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(o, "From: %s\r\nTo: %s\r\nDate: %s\r\nSubject: Report Domain: %s Submitter: %s "
	              "Report-ID: <%s>\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
	           email, to, date, d->domain, submitter, rid, rid);
	buf_printf(o, "Content-Type: multipart/mixed; boundary=\"tm-dmarc-report\"\r\n\r\n"
	              "--tm-dmarc-report\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	              "DMARC aggregate report (RFC 9990) for %s from %s.\r\n\r\n"
	              "--tm-dmarc-report\r\nContent-Type: application/gzip\r\n"
	              "Content-Transfer-Encoding: base64\r\n"
	              "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", d->domain, submitter, fname);
	b64(o, (const unsigned char *)gz, gzlen);
	buf_puts(o, "--tm-dmarc-report--\r\n");
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(buf_data(o), 1, buf_len(o), f) == buf_len(o) ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	buf_free(o);
	return rc;
}

/* dmarc_write - one .xml.gz (and .eml with --mail) per day and policy domain. */
int dmarc_write(struct agg *g, const char *submitter, const char *org, const char *email,
                int mail)
{
	struct entry *v = map_sorted(&g->dmarc);
	int rc = 0;
	for (size_t i = 0; i < g->dmarc.n; i++) {
		struct dreport *d = v[i].val;
		const struct audit_record *l = &d->last;
		int64_t end = d->begin + 86399;
		char rid[600], fname[1024], path[4096];
		snprintf(rid, sizeof(rid), "%lld.%s@%s", (long long)d->begin, d->domain, submitter);
		snprintf(fname, sizeof(fname), "%s!%s!%lld!%lld.xml.gz", submitter, d->domain,
		         (long long)d->begin, (long long)end);
		buf *o = xbuf_new(OUT_MAX);
		buf_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n  <version>1.0</version>\n"
		            "  <report_metadata>\n    <org_name>");
		xml_text(o, org);
		buf_puts(o, "</org_name>\n    <email>");
		xml_text(o, email);
		buf_puts(o, "</email>\n    <report_id>");
		xml_text(o, rid);
		buf_printf(o, "</report_id>\n    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
		              "    </date_range>\n    <generator>trustmilter %s</generator>\n  </report_metadata>\n"
		              "  <policy_published>\n    <domain>", (long long)d->begin, (long long)end, TM_VERSION);
		xml_text(o, d->domain);
		buf_printf(o, "</domain>\n    <p>%s</p>\n", audit_enum_name(&audit_enum_dmarc_policy, (int)l->dmarc_p));
		if (l->dmarc_sp != DMARC_P_UNSPEC)
			buf_printf(o, "    <sp>%s</sp>\n", dmarc_policy_name(l->dmarc_sp));
		if (l->dmarc_np != DMARC_P_UNSPEC)
			buf_printf(o, "    <np>%s</np>\n", dmarc_policy_name(l->dmarc_np));
		buf_printf(o, "    <adkim>%s</adkim>\n    <aspf>%s</aspf>\n    <discovery_method>%s</discovery_method>\n"
		              "    <testing>%s</testing>\n  </policy_published>\n",
		           l->dmarc_adkim[0] ? l->dmarc_adkim : "r", l->dmarc_aspf[0] ? l->dmarc_aspf : "r",
		           dmarc_mode_discovery_name(l->dmarc_discovery),
		           l->dmarc_testing[0] ? l->dmarc_testing : "n");
		struct entry *rows = map_sorted(&d->rows);
		for (size_t k = 0; k < d->rows.n; k++) {
			const struct drow *row = rows[k].val;
			const char *x = row->xml, *at = strstr(x, "@COUNT@");
			buf_append(o, x, (size_t)(at - x));
			buf_printf(o, "%llu", (unsigned long long)row->count);
			buf_puts(o, at + 7);
		}
		free(rows);
		buf_puts(o, "</feedback>\n");
		snprintf(path, sizeof(path), "%s/%s", g->dmarc_dir, fname);
		size_t gzn = 0;
		unsigned char *gz = NULL;
		errno = 0;
		if (buf_overflowed(o) || (gz = gzip(buf_data(o), buf_len(o), &gzn)) == NULL ||
		    write_file(path, gz, gzn) < 0) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", path,
			        errno ? strerror(errno) : "cannot compress the report");
			rc = -1;
		} else if (mail) {
			g->rc->reports++;
			if (write_mail(g->dmarc_dir, fname, d, rid, submitter, email, (const char *)gz, gzn, g->rc) < 0) {
				fprintf(stderr, "trustmilter-report: %s.eml: cannot write\n", path);
				rc = -1;
			}
		}
		free(gz);
		buf_free(o);
	}
	free(v);
	return rc;
}

/* rua_summary - one line: reports, messages, destinations used and skipped. */
void rua_summary(const struct rua_count *c, FILE *f)
{
	fprintf(f, "dmarc-reports: reports=%llu messages=%llu recipients=%llu internal=%llu "
	           "external_verified=%llu skipped_external=%llu skipped_dns=%llu skipped_invalid=%llu "
	           "skipped_scheme=%llu skipped_too_many=%llu skipped_no_rua=%llu\n",
	        (unsigned long long)c->reports, (unsigned long long)c->mailed,
	        (unsigned long long)c->sent_to, (unsigned long long)c->internal,
	        (unsigned long long)c->external_ok, (unsigned long long)c->skip_external,
	        (unsigned long long)c->skip_dns, (unsigned long long)c->skip_invalid,
	        (unsigned long long)c->skip_scheme, (unsigned long long)c->skip_many,
	        (unsigned long long)c->skip_none);
}
