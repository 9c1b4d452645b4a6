/*
 * aggrep - DMARC aggregate report XML (see aggrep.h).
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/xmlreader.h>
#include "aggrep.h"
#include "buf.h"

enum { K_TEXT, K_LOWER, K_TIME, K_COUNT };
enum { IN_REPORT, IN_RECORD, IN_DKIM, IN_SPF };

struct field { const char *path; int where, kind; size_t off, size; };

#define RF(p, m, k) { p, IN_REPORT, k, offsetof(struct aggrep, m), sizeof(((struct aggrep *)0)->m) }
#define CF(p, w, m, k) { p, w, k, offsetof(struct aggrep_record, m), \
                         sizeof(((struct aggrep_record *)0)->m) }

/* paths below the root element <feedback> */
static const struct field fields[] = {
	RF("version", version, K_TEXT),
	RF("report_metadata/org_name", org_name, K_TEXT),
	RF("report_metadata/email", email, K_TEXT),
	RF("report_metadata/report_id", report_id, K_TEXT),
	RF("report_metadata/date_range/begin", begin, K_TIME),
	RF("report_metadata/date_range/end", end, K_TIME),
	RF("policy_published/domain", domain, K_LOWER),
	RF("policy_published/p", p, K_LOWER),
	RF("policy_published/sp", sp, K_LOWER),
	RF("policy_published/np", np, K_LOWER),
	RF("policy_published/adkim", adkim, K_LOWER),
	RF("policy_published/aspf", aspf, K_LOWER),
	RF("policy_published/pct", pct, K_TEXT),
	RF("policy_published/testing", testing, K_LOWER),
	CF("record/row/source_ip", IN_RECORD, source_ip, K_LOWER),
	CF("record/row/count", IN_RECORD, count, K_COUNT),
	CF("record/row/policy_evaluated/disposition", IN_RECORD, disposition, K_LOWER),
	CF("record/row/policy_evaluated/dkim", IN_RECORD, dkim_eval, K_LOWER),
	CF("record/row/policy_evaluated/spf", IN_RECORD, spf_eval, K_LOWER),
	CF("record/row/policy_evaluated/reason/type", IN_RECORD, reason, K_LOWER),
	CF("record/identifiers/header_from", IN_RECORD, header_from, K_LOWER),
	CF("record/identifiers/envelope_from", IN_RECORD, envelope_from, K_LOWER),
	CF("record/identifiers/envelope_to", IN_RECORD, envelope_to, K_LOWER),
	CF("record/auth_results/dkim/domain", IN_DKIM, dkim_domain, K_LOWER),
	CF("record/auth_results/dkim/selector", IN_DKIM, dkim_selector, K_TEXT),
	CF("record/auth_results/dkim/result", IN_DKIM, dkim_result, K_LOWER),
	CF("record/auth_results/spf/domain", IN_SPF, spf_domain, K_LOWER),
	CF("record/auth_results/spf/result", IN_SPF, spf_result, K_LOWER),
};

struct parse {
	struct aggrep *a;
	char path[AGGREP_DEPTH_MAX * 40];
	size_t plen[AGGREP_DEPTH_MAX + 1];    /* path length at each depth */
	int depth;                            /* elements open below the root */
	int ndkim, nspf;                      /* auth results of the current record */
	const char *error;
};

/* utf8_len - the length of a valid UTF-8 sequence at p (RFC 3629), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t k = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
	         : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return k;
}

/* declared_utf8 - no encoding declaration, or one naming UTF-8. */
static int declared_utf8(const char *x, size_t len)
{
	if (len < 5 || memcmp(x, "<?xml", 5) != 0)
		return 1;
	const char *end = memchr(x, '>', len);
	if (end == NULL)
		return 1;
	for (const char *p = x; p + 8 < end; p++)
		if (strncmp(p, "encoding", 8) == 0) {
			const char *q = p + 8;
			while (q < end && (*q == '=' || *q == ' ' || *q == '"' || *q == '\''))
				q++;
			return end - q >= 5 && strncasecmp(q, "utf-8", 5) == 0;
		}
	return 1;
}

/* fix_utf8 - replace every byte that does not start a valid sequence. */
static void fix_utf8(char *x, size_t len)
{
	unsigned char *p = (unsigned char *)x;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_len(p + i, len - i);
		if (k == 0) {
			p[i++] = '?';
			continue;
		}
		i += k;
	}
}

/* has_doctype - a document type declaration anywhere (case as XML demands). */
static int has_doctype(const char *x, size_t len)
{
	return memmem(x, len, "<!DOCTYPE", 9) != NULL || memmem(x, len, "<!ENTITY", 8) != NULL;
}

/* set_text - a trimmed, printable copy (lower case for K_LOWER). */
static void set_text(char *dst, size_t dsz, const char *v, int lower)
{
	size_t n = strlen(v);
	while (n > 0 && isspace((unsigned char)*v))
		v++, n--;
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	str_printable(dst, dsz, v, n);
	if (lower)
		str_lower(dst);
}

/* set_number - digits only (white space around), at most 18 of them. */
static int set_number(const char *v, uint64_t *out)
{
	while (isspace((unsigned char)*v))
		v++;
	uint64_t n = 0;
	int digits = 0;
	for (; isdigit((unsigned char)*v); v++, digits++) {
		if (digits >= 18)
			return -1;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	while (isspace((unsigned char)*v))
		v++;
	if (digits == 0 || *v)
		return -1;
	*out = n;
	return 0;
}

/* on_text - a text node: the field its path names, if any. */
static void on_text(struct parse *ps, const char *v)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];
		if (strcmp(ps->path, f->path) != 0)
			continue;
		if ((f->where == IN_DKIM && ps->ndkim != 1) || (f->where == IN_SPF && ps->nspf != 1))
			return;
		if (f->where != IN_REPORT && ps->a->nrec == 0)
			return;
		char *base = f->where == IN_REPORT ? (char *)ps->a : (char *)&ps->a->rec[ps->a->nrec - 1];
		uint64_t n;
		if (f->kind == K_TIME || f->kind == K_COUNT) {
			if (set_number(v, &n) < 0) {
				ps->error = "feedback.dmarc.bad_value";
				return;
			}
			if (f->kind == K_TIME)
				*(int64_t *)(void *)(base + f->off) = (int64_t)n;
			else
				*(uint64_t *)(void *)(base + f->off) = n;
		} else
			set_text(base + f->off, f->size, v, f->kind == K_LOWER);
		return;
	}
}

/* new_record - one more <record>, within the cap. */
static void new_record(struct parse *ps)
{
	struct aggrep *a = ps->a;
	if (a->nrec >= AGGREP_RECORDS_MAX) {
		ps->error = "feedback.dmarc.too_many_records";
		return;
	}
	if (a->nrec == a->cap) {
		size_t c = a->cap ? a->cap * 2 : 16;
		struct aggrep_record *r = realloc(a->rec, c * sizeof(*r));
		if (r == NULL) {
			ps->error = "feedback.dmarc.too_many_records";
			return;
		}
		a->rec = r;
		a->cap = c;
	}
	memset(&a->rec[a->nrec++], 0, sizeof(a->rec[0]));
	ps->ndkim = ps->nspf = 0;
}

/* on_element - an opening element below the root: extend the path. */
static void on_element(struct parse *ps, const char *name, int empty)
{
	if (ps->depth >= AGGREP_DEPTH_MAX) {
		ps->error = "feedback.dmarc.xml_invalid";
		return;
	}
	size_t at = ps->plen[ps->depth];
	int n = snprintf(ps->path + at, sizeof(ps->path) - at, "%s%s", at ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof(ps->path) - at)
		n = 0, ps->path[at] = '\0';        /* too long to be a field: matches nothing */
	if (strcmp(ps->path, "record") == 0)
		new_record(ps);
	else if (strcmp(ps->path, "record/auth_results/dkim") == 0)
		ps->ndkim++;
	else if (strcmp(ps->path, "record/auth_results/spf") == 0)
		ps->nspf++;
	if (empty)
		ps->path[at] = '\0';
	else
		ps->plen[++ps->depth] = at + (size_t)n;
}

/* on_end - a closing element below the root. */
static void on_end(struct parse *ps)
{
	if (ps->depth > 0)
		ps->path[ps->plen[--ps->depth]] = '\0';
}

/* read_all - drive the reader; the root must be <feedback>. */
static void read_all(xmlTextReaderPtr rd, struct parse *ps)
{
	int rc, root = 0;
	while (ps->error == NULL && (rc = xmlTextReaderRead(rd)) == 1) {
		int type = xmlTextReaderNodeType(rd);
		int level = xmlTextReaderDepth(rd);
		const char *name = (const char *)xmlTextReaderConstLocalName(rd);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE)
			ps->error = "feedback.dmarc.doctype";
		else if (type == XML_READER_TYPE_ELEMENT && level == 0) {
			if (root++ || name == NULL || strcmp(name, "feedback") != 0)
				ps->error = "feedback.dmarc.not_feedback";
		} else if (type == XML_READER_TYPE_ELEMENT)
			on_element(ps, name ? name : "", xmlTextReaderIsEmptyElement(rd));
		else if (type == XML_READER_TYPE_END_ELEMENT && level > 0)
			on_end(ps);
		else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) {
			const char *v = (const char *)xmlTextReaderConstValue(rd);
			if (v)
				on_text(ps, v);
		}
	}
	if (ps->error == NULL && (rc != 0 || !root))
		ps->error = "feedback.dmarc.xml_invalid";
}

/* no_errors - libxml2's error output is not ours to print. */
static void no_errors(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

/* complete - what a report cannot do without. Some reporters leave
 * org_name empty: the domain of their contact address names them then. */
static const char *complete(struct aggrep *a)
{
	const char *at = strrchr(a->email, '@');
	if (!a->org_name[0] && at && at[1])
		str_copy(a->org_name, sizeof(a->org_name), at + 1, strlen(at + 1));
	if (!a->org_name[0] || !a->report_id[0] || !a->domain[0] || a->end < a->begin)
		return "feedback.dmarc.missing_field";
	for (size_t i = 0; i < a->nrec; i++)
		if (!a->rec[i].source_ip[0] || !a->rec[i].header_from[0])
			return "feedback.dmarc.missing_field";
	return NULL;
}

int aggrep_parse(char *xml, size_t len, struct aggrep *a, const char **error)
{
	memset(a, 0, sizeof(*a));
	*error = NULL;
	if (len > AGGREP_XML_MAX || len > INT32_MAX)
		*error = "feedback.dmarc.too_large";
	else if (has_doctype(xml, len))
		*error = "feedback.dmarc.doctype";
	if (*error)
		return -1;
	if (declared_utf8(xml, len))
		fix_utf8(xml, len);
	xmlTextReaderPtr rd = xmlReaderForMemory(xml, (int)len, NULL, NULL,
	                                         XML_PARSE_NONET | XML_PARSE_NOERROR |
	                                         XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (rd == NULL) {
		*error = "feedback.dmarc.xml_invalid";
		return -1;
	}
	xmlTextReaderSetStructuredErrorHandler(rd, no_errors, NULL);
	struct parse ps;
	memset(&ps, 0, sizeof(ps));
	ps.a = a;
	read_all(rd, &ps);
	xmlFreeTextReader(rd);
	*error = ps.error ? ps.error : complete(a);
	if (*error) {
		aggrep_free(a);
		return -1;
	}
	return 0;
}

void aggrep_free(struct aggrep *a)
{
	free(a->rec);
	a->rec = NULL;
	a->nrec = a->cap = 0;
}
