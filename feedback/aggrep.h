/*
 * aggrep - DMARC aggregate reports: the XML of RFC 9990 and of the older
 * RFC 7489 appendix C schema (namespace prefixes ignored), read with
 * libxml2's streaming reader so memory follows the record cap, not the
 * document.
 *
 * Safety: the XML is refused above AGGREP_XML_MAX bytes and when it holds
 * a document type declaration (no report needs one; entity definitions are
 * how "billion laughs" starts); the reader runs with XML_PARSE_NONET and
 * without XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE, so no
 * entity is expanded and nothing is fetched. More than AGGREP_RECORDS_MAX
 * records refuse the whole report.
 *
 * Quirks of real reporters: result and disposition values are folded to
 * lower case ("PASS"), empty elements (an empty <reason>) are absent
 * values, bytes that are not UTF-8 are replaced with '?' before parsing
 * when the document is UTF-8. Broken XML is an error and nothing of the
 * report is kept.
 */
#ifndef TM_AGGREP_H
#define TM_AGGREP_H

#include <stddef.h>
#include <stdint.h>

#define AGGREP_XML_MAX (32u << 20)
#define AGGREP_RECORDS_MAX 20000
#define AGGREP_DEPTH_MAX 16

struct aggrep_record {
	char source_ip[64];
	uint64_t count;
	char disposition[16], dkim_eval[16], spf_eval[16], reason[32];
	char header_from[256], envelope_from[256], envelope_to[256];
	char dkim_domain[256], dkim_selector[64], dkim_result[16];
	char spf_domain[256], spf_result[16];
};

struct aggrep {
	char version[16], org_name[256], email[256], report_id[256];
	int64_t begin, end;
	char domain[256], p[16], sp[16], np[16], adkim[4], aspf[4], pct[8], testing[4];
	struct aggrep_record *rec;     /* nrec records (malloc'ed) */
	size_t nrec, cap;
};

/* aggrep_parse - parse the XML (len bytes; the buffer is modified: bytes
 * that are not UTF-8 are replaced). 0 with *a filled (free with
 * aggrep_free), or -1 with *error a finding name: feedback.dmarc.too_large,
 * feedback.dmarc.doctype, feedback.dmarc.xml_invalid,
 * feedback.dmarc.not_feedback, feedback.dmarc.missing_field,
 * feedback.dmarc.bad_value, feedback.dmarc.too_many_records. */
int aggrep_parse(char *xml, size_t len, struct aggrep *a, const char **error);
void aggrep_free(struct aggrep *a);

#endif
