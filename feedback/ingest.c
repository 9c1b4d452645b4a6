/*
 * ingest - classify a report and run its parser (see ingest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/sha.h>
#include "ingest.h"
#include "fbmime.h"
#include "unpack.h"
#include "buf.h"
#include "provider.h"

/* hex_sha256 - the SHA-256 of (p, len) as 64 hex digits. */
static void hex_sha256(const void *p, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(p, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* dmarc_id - the report's identity: reporter, report id, policy domain. */
static void dmarc_id(const struct aggrep *a, char out[65])
{
	char k[800];
	int n = snprintf(k, sizeof(k), "%s\n%s\n%s", a->org_name, a->report_id, a->domain);
	hex_sha256(k, n < 0 ? 0 : (size_t)n < sizeof(k) ? (size_t)n : sizeof(k) - 1, out);
}

/* ends_with - case-insensitive suffix test. */
static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* parse_file - report bytes (plain, gzip or zip XML). */
static enum ingest_kind parse_file(const char *p, size_t len, struct ingest_result *r)
{
	size_t n;
	char *xml = unpack_report((const unsigned char *)p, len, AGGREP_XML_MAX, &n, &r->error);
	if (xml == NULL)
		return INGEST_NONE;
	int rc = aggrep_parse(xml, n, &r->agg, &r->error);
	free(xml);
	if (rc < 0)
		return INGEST_NONE;
	dmarc_id(&r->agg, r->id);
	r->kind = INGEST_DMARC;
	return INGEST_DMARC;
}

/* is_report_part - a part that may hold the aggregate report. */
static int is_report_part(const struct fbmime_part *p)
{
	static const char *const types[] = {
		"application/gzip", "application/x-gzip", "application/zip",
		"application/x-zip-compressed", "application/x-zip", "text/xml", "application/xml",
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(p->ctype, types[i]) == 0)
			return 1;
	char v[FBMIME_FIELD_MAX + 1], name[256];
	name[0] = '\0';
	if (fbmime_field(p->hdr, p->hlen, "Content-Type", v, sizeof(v)) < 0 ||
	    fbmime_param(v, "name", name, sizeof(name)) < 0) {
		if (fbmime_field(p->hdr, p->hlen, "Content-Disposition", v, sizeof(v)) >= 0)
			fbmime_param(v, "filename", name, sizeof(name));
	}
	return ends_with(name, ".xml") || ends_with(name, ".gz") || ends_with(name, ".zip");
}

struct find { const struct fbmime_part *found; struct fbmime_part part; };

static int find_leaf(void *arg, const struct fbmime_part *p)
{
	struct find *f = arg;
	if (!is_report_part(p))
		return 0;
	f->part = *p;
	f->found = &f->part;
	return 1;
}

/* looks_like_file - a bare report rather than a message. */
static int looks_like_file(const char *p, size_t len)
{
	size_t i = 0;
	if (len >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
	    (unsigned char)p[2] == 0xbf)
		i = 3;                              /* UTF-8 byte order mark */
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return unpack_kind_of((const unsigned char *)p, len) != UNPACK_PLAIN ||
	       (i < len && p[i] == '<');
}

/* parse_mail_dmarc - the first attachment that can be the report. */
static enum ingest_kind parse_mail_dmarc(const char *p, size_t len, struct ingest_result *r)
{
	struct find f = { NULL, { 0 } };
	fbmime_walk(p, len, find_leaf, &f);
	if (f.found == NULL) {
		r->error = "feedback.report.unknown";
		return INGEST_NONE;
	}
	size_t n;
	char *d = fbmime_decode(f.found, INGEST_ATTACH_MAX, &n);
	if (d == NULL) {
		r->error = "feedback.unpack.too_large";
		return INGEST_NONE;
	}
	enum ingest_kind k = parse_file(d, n, r);
	free(d);
	return k;
}

enum ingest_kind ingest_parse(const char *p, size_t len, const char *campaign_header,
                              struct ingest_result *r)
{
	memset(r, 0, sizeof(*r));
	if (len > INGEST_INPUT_MAX) {
		r->error = "feedback.report.too_large";
		return INGEST_NONE;
	}
	if (looks_like_file(p, len))
		return parse_file(p, len, r);
	if (arf_is_report(p, len)) {
		if (arf_parse(p, len, campaign_header, &r->arf, &r->error) < 0)
			return INGEST_NONE;
		const char *h, *b;
		size_t hl, bl;
		fbmime_split(p, len, &h, &hl, &b, &bl);
		hex_sha256(b, bl, r->id);
		r->kind = INGEST_ARF;
		return INGEST_ARF;
	}
	return parse_mail_dmarc(p, len, r);
}

void ingest_free(struct ingest_result *r)
{
	aggrep_free(&r->agg);
}

const char *ingest_provider(const struct provider_map *m, const char *domain)
{
	return provider_name(provider_of_domain(m, domain, strlen(domain)));
}
