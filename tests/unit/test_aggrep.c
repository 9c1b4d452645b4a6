/*
 * test_aggrep - DMARC aggregate report XML: both schemas, reporters' quirks,
 * and hostile documents (entities, doctype, depth, record flood).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "aggrep.h"

static const char rfc9990[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
	"  <version>1.0</version>\n"
	"  <report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email>\n"
	"    <report_id>abc-1</report_id><date_range><begin>1700000000</begin>"
	"<end>1700086399</end></date_range></report_metadata>\n"
	"  <policy_published><domain>Example.COM</domain><p>reject</p><sp>none</sp>"
	"<np>reject</np><adkim>s</adkim><aspf>r</aspf><testing>n</testing>"
	"<discovery_method>treewalk</discovery_method></policy_published>\n"
	"  <record><row><source_ip>192.0.2.5</source_ip><count>7</count>"
	"<policy_evaluated><disposition>REJECT</disposition><dkim>FAIL</dkim><spf>Pass</spf>"
	"<reason><type></type><comment/></reason></policy_evaluated></row>"
	"<identifiers><header_from>example.com</header_from><envelope_from>bounce.example.com"
	"</envelope_from><envelope_to>receiver.example</envelope_to></identifiers>"
	"<auth_results><dkim><domain>example.com</domain><selector>s1</selector>"
	"<result>Fail</result></dkim><dkim><domain>other.example</domain><result>pass</result>"
	"</dkim><spf><domain>bounce.example.com</domain><scope>mfrom</scope>"
	"<result>PASS</result></spf></auth_results></record>\n"
	"  <record><row><source_ip> 2001:db8::1 </source_ip><count>3</count>"
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>"
	"</policy_evaluated></row><identifiers><header_from>example.com</header_from>"
	"</identifiers><auth_results/></record>\n"
	"</feedback>\n";

static const char rfc7489[] =
	"<?xml version=\"1.0\"?><feedback><report_metadata><org_name>old</org_name>"
	"<email>x@old.example</email><report_id>9</report_id><date_range><begin>10</begin>"
	"<end>20</end></date_range></report_metadata><policy_published><domain>d.example</domain>"
	"<adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>"
	"</feedback>";

/* parse - a copy of s through the parser (the parser may rewrite bytes). */
static int parse(const char *s, size_t n, struct aggrep *a, const char **err)
{
	char *c = malloc(n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	int rc = aggrep_parse(c, n, a, err);
	free(c);
	return rc;
}

static void refused(const char *s, const char *want, const char *name)
{
	struct aggrep a;
	const char *err = NULL;
	T_INT(parse(s, strlen(s), &a, &err), -1, "%s: refused", name);
	T_STR(err, want, "%s: %s", name, want);
	T_OK(a.rec == NULL && a.nrec == 0, "%s: nothing kept", name);
}

/* flood - a report with n records. */
static char *flood(size_t n, size_t *len)
{
	static const char head[] = "<feedback><report_metadata><org_name>f</org_name><report_id>1"
		"</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>"
		"<policy_published><domain>f.example</domain></policy_published>";
	static const char rec[] = "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
		"</row><identifiers><header_from>f.example</header_from></identifiers></record>";
	size_t cap = sizeof(head) + n * (sizeof(rec) - 1) + 32;
	char *b = malloc(cap), *p = b;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, rec, sizeof(rec) - 1);
		p += sizeof(rec) - 1;
	}
	p += snprintf(p, cap - (size_t)(p - b), "</feedback>");
	*len = (size_t)(p - b);
	return b;
}

int main(void)
{
	struct aggrep a;
	const char *err = NULL;
	T_INT(parse(rfc9990, strlen(rfc9990), &a, &err), 0, "RFC 9990 report parsed");
	T_STR(a.org_name, "Receiver", "org_name");
	T_STR(a.report_id, "abc-1", "report_id");
	T_STR(a.domain, "example.com", "policy domain in lower case");
	T_INT(a.begin, 1700000000, "begin");
	T_INT(a.end, 1700086399, "end");
	T_STR(a.p, "reject", "p");
	T_STR(a.np, "reject", "np (RFC 9990)");
	T_INT(a.nrec, 2, "two records");
	T_STR(a.rec[0].disposition, "reject", "upper-case disposition folded");
	T_STR(a.rec[0].dkim_eval, "fail", "upper-case dkim folded");
	T_STR(a.rec[0].spf_eval, "pass", "mixed-case spf folded");
	T_STR(a.rec[0].reason, "", "empty reason is absent");
	T_INT(a.rec[0].count, 7, "count");
	T_STR(a.rec[0].dkim_domain, "example.com", "first DKIM result kept");
	T_STR(a.rec[0].dkim_result, "fail", "first DKIM result's value");
	T_STR(a.rec[0].spf_result, "pass", "SPF result");
	T_STR(a.rec[0].envelope_from, "bounce.example.com", "envelope_from");
	T_STR(a.rec[1].source_ip, "2001:db8::1", "source_ip trimmed");
	T_STR(a.rec[1].dkim_domain, "", "no auth results");
	aggrep_free(&a);

	T_INT(parse(rfc7489, strlen(rfc7489), &a, &err), 0, "RFC 7489 report without records");
	T_STR(a.pct, "100", "pct");
	T_INT(a.nrec, 0, "no records");
	aggrep_free(&a);

	static const char bad_utf8[] = "<feedback><report_metadata><org_name>caf\xe9</org_name>"
		"<report_id>1</report_id><date_range><begin>1</begin><end>2</end></date_range>"
		"</report_metadata><policy_published><domain>u.example</domain></policy_published>"
		"<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row><identifiers>"
		"<header_from>bad\x91</header_from></identifiers></record></feedback>";
	T_INT(parse(bad_utf8, strlen(bad_utf8), &a, &err), 0, "invalid UTF-8 replaced, report kept");
	T_STR(a.org_name, "caf?", "invalid byte replaced");
	T_STR(a.rec[0].header_from, "bad?", "invalid byte in a record replaced");
	aggrep_free(&a);

	static const char no_org[] = "<feedback><report_metadata><org_name></org_name>"
		"<email>dmarc@Reporter.example</email><report_id>1</report_id><date_range><begin>1"
		"</begin><end>2</end></date_range></report_metadata><policy_published><domain>x.example"
		"</domain></policy_published></feedback>";
	T_INT(parse(no_org, strlen(no_org), &a, &err), 0, "empty org_name");
	T_STR(a.org_name, "Reporter.example", "named by its contact address");
	aggrep_free(&a);

	refused("<feedback><report_metadata><org_name>x</org_name>", "feedback.dmarc.xml_invalid",
	        "truncated XML");
	refused("<feedback><report_metadata><email><bad@x></email></report_metadata></feedback>",
	        "feedback.dmarc.xml_invalid", "broken element");
	refused("not xml at all", "feedback.dmarc.xml_invalid", "text");
	refused("", "feedback.dmarc.xml_invalid", "empty");
	refused("<report><x/></report>", "feedback.dmarc.not_feedback", "other root");
	refused("<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
	        "</report_metadata><policy_published><domain>d</domain></policy_published><record>"
	        "<row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>",
	        "feedback.dmarc.missing_field", "record without header_from");
	refused("<feedback><report_metadata><org_name>o</org_name></report_metadata>"
	        "<policy_published><domain>d</domain></policy_published></feedback>",
	        "feedback.dmarc.missing_field", "no report_id");
	refused("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
	        "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><feedback><report_metadata>"
	        "<org_name>&lol2;</org_name></report_metadata></feedback>",
	        "feedback.dmarc.doctype", "billion laughs");
	refused("<!DOCTYPE feedback SYSTEM \"http://attacker.example/x.dtd\"><feedback/>",
	        "feedback.dmarc.doctype", "external DTD");
	refused("<feedback><report_metadata><org_name>&amp;&ext;</org_name></report_metadata></feedback>",
	        "feedback.dmarc.xml_invalid", "undeclared entity");
	refused("<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
	        "<date_range><begin>x1</begin><end>2</end></date_range></report_metadata>"
	        "<policy_published><domain>d</domain></policy_published></feedback>",
	        "feedback.dmarc.bad_value", "begin not a number");
	refused("<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
	        "<date_range><begin>5</begin><end>2</end></date_range></report_metadata>"
	        "<policy_published><domain>d</domain></policy_published></feedback>",
	        "feedback.dmarc.missing_field", "period ends before it begins");
	char deep[2048];
	size_t dl = (size_t)snprintf(deep, sizeof(deep), "<feedback>");
	for (int i = 0; i < 40; i++)
		dl += (size_t)snprintf(deep + dl, sizeof(deep) - dl, "<a>");
	dl += (size_t)snprintf(deep + dl, sizeof(deep) - dl, "x");
	for (int i = 0; i < 40; i++)
		dl += (size_t)snprintf(deep + dl, sizeof(deep) - dl, "</a>");
	snprintf(deep + dl, sizeof(deep) - dl, "</feedback>");
	refused(deep, "feedback.dmarc.xml_invalid", "nesting deeper than the cap");

	size_t n;
	char *f = flood(AGGREP_RECORDS_MAX, &n);
	T_INT(parse(f, n, &a, &err), 0, "%d records: the cap is allowed", AGGREP_RECORDS_MAX);
	T_INT(a.nrec, AGGREP_RECORDS_MAX, "all records kept");
	aggrep_free(&a);
	free(f);
	f = flood(100000, &n);
	T_INT(parse(f, n, &a, &err), -1, "100000 records refused");
	T_STR(err, "feedback.dmarc.too_many_records", "named");
	free(f);
	char *huge = malloc(AGGREP_XML_MAX + 2);
	memset(huge, ' ', AGGREP_XML_MAX + 1);
	T_INT(aggrep_parse(huge, AGGREP_XML_MAX + 1, &a, &err), -1, "XML over the size cap refused");
	T_STR(err, "feedback.dmarc.too_large", "named");
	free(huge);
	return t_done();
}
