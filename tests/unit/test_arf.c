/*
 * test_arf - RFC 5965 feedback reports: the fields, the returned message or
 * its header section, encodings, line ends, and what is not a report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "conf.h"
#include "provider.h"
#include "arf.h"
#include "ingest.h"

static const char report_lf[] =
	"From: fbl@isp.example\n"
	"To: fbl@sender.example\n"
	"Subject: complaint\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=feedback-report;\n"
	"\tboundary=\"b1\"\n"
	"\n"
	"preamble\n"
	"--b1\n"
	"Content-Type: text/plain\n"
	"\n"
	"A complaint.\n"
	"--b1\n"
	"Content-Type: message/feedback-report\n"
	"\n"
	"Feedback-Type: Abuse\n"
	"User-Agent: ISP-FBL/3.1\n"
	"Version: 1\n"
	"Original-Mail-From: <bounce@mail.sender.example>\n"
	"Original-Rcpt-To: <someone@Gmail.com>\n"
	"Arrival-Date: Tue, 01 Dec 2026 12:00:00 +0100\n"
	"Source-IP: 192.0.2.9\n"
	"Reported-Domain: Sender.Example\n"
	"Authentication-Results: mx.isp.example;\n"
	"  dkim=pass header.d=sender.example\n"
	"\n"
	"--b1\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: \"News\" <news@Sender.Example>\n"
	"To: someone@gmail.com\n"
	"Subject: offer\n"
	"Message-ID: <m1@sender.example>\n"
	"List-Id: News <news.sender.example>\n"
	"X-Campaign: spring-26\n"
	"\n"
	"body\n"
	"--b1--\n";

static char *crlf(const char *s)
{
	char *o = malloc(2 * strlen(s) + 1), *p = o;
	for (; *s; s++) {
		if (*s == '\n')
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	return o;
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) + strlen(to) + 1;
	char *o = malloc(n);
	snprintf(o, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return o;
}

static void check_fields(const char *msg, const char *name)
{
	struct arf_report r;
	const char *err = NULL;
	T_INT(arf_parse(msg, strlen(msg), "", &r, &err), 0, "%s: parsed", name);
	T_STR(r.feedback_type, "abuse", "%s: type folded", name);
	T_INT(r.complaint, 1, "%s: a complaint", name);
	T_STR(r.user_agent, "ISP-FBL/3.1", "%s: user agent", name);
	T_STR(r.source_ip, "192.0.2.9", "%s: source IP", name);
	T_STR(r.reported_domain, "sender.example", "%s: reported domain", name);
	T_STR(r.recipient_domain, "gmail.com", "%s: recipient domain", name);
	T_INT(r.arrival_ts, 1796122800, "%s: arrival date with its zone", name);
	T_STR(r.auth_results, "mx.isp.example;  dkim=pass header.d=sender.example",
	      "%s: folded field unfolded", name);
	T_STR(r.message_id, "<m1@sender.example>", "%s: Message-ID of the original", name);
	T_STR(r.from_domain, "sender.example", "%s: From domain", name);
	T_STR(r.campaign, "News <news.sender.example>", "%s: campaign key from List-Id", name);
	T_STR(r.original, "message", "%s: whole message returned", name);
}

int main(void)
{
	struct arf_report r;
	const char *err = NULL;
	check_fields(report_lf, "LF");
	char *c = crlf(report_lf);
	check_fields(c, "CRLF");
	free(c);

	T_INT(arf_parse(report_lf, strlen(report_lf), "X-Campaign", &r, &err), 0, "campaign header");
	T_STR(r.campaign, "spring-26", "the configured campaign header comes first");

	char *h = replace(report_lf, "Content-Type: message/rfc822", "Content-Type: text/rfc822-headers");
	T_INT(arf_parse(h, strlen(h), "", &r, &err), 0, "headers only");
	T_STR(r.original, "headers", "text/rfc822-headers");
	T_STR(r.message_id, "<m1@sender.example>", "Message-ID from the header section");
	free(h);

	static const char *const types[][2] = {
		{ "fraud", "1" }, { "not-spam", "0" }, { "auth-failure", "0" }, { "virus", "0" },
		{ "other", "0" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char to[64], ty[32];
		snprintf(ty, sizeof(ty), "%s", types[i][0]);
		snprintf(to, sizeof(to), "Feedback-Type: %s", ty);
		char *m = replace(report_lf, "Feedback-Type: Abuse", to);
		T_INT(arf_parse(m, strlen(m), "", &r, &err), 0, "type %s parsed", ty);
		T_STR(r.feedback_type, ty, "type %s stored as it is", ty);
		T_INT(r.complaint, types[i][1][0] == '1', "type %s: complaint or not", ty);
		free(m);
	}

	/* base64 feedback part, no returned message, no optional fields */
	static const char b64[] =
		"Content-Type: multipart/report; report-type=\"feedback-report\"; boundary=x\n\n"
		"--x\nContent-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n\n"
		"RmVlZGJhY2stVHlwZTogYWJ1c2UNClZlcnNpb246IDENCg==\n--x--\n";
	T_INT(arf_parse(b64, strlen(b64), "", &r, &err), 0, "base64 feedback part");
	T_STR(r.feedback_type, "abuse", "decoded");
	T_STR(r.original, "none", "no returned message");
	T_STR(r.message_id, "", "no Message-ID");

	static const char not_report[] = "Content-Type: text/plain\n\nhello\n";
	T_INT(arf_parse(not_report, strlen(not_report), "", &r, &err), -1, "plain message");
	T_STR(err, "feedback.arf.not_arf", "named");
	static const char dsn[] = "Content-Type: multipart/report; report-type=delivery-status; "
		"boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nX: y\n--x--\n";
	T_INT(arf_parse(dsn, strlen(dsn), "", &r, &err), -1, "a DSN is not ARF");
	static const char nopart[] = "Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=x\n\n--x\nContent-Type: text/plain\n\nonly text\n--x--\n";
	T_INT(arf_parse(nopart, strlen(nopart), "", &r, &err), -1, "no feedback part");
	T_STR(err, "feedback.arf.no_feedback_part", "named");
	static const char notype[] = "Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=x\n\n--x\nContent-Type: message/feedback-report\n\nVersion: 1\n--x--\n";
	T_INT(arf_parse(notype, strlen(notype), "", &r, &err), -1, "no Feedback-Type");
	T_STR(err, "feedback.arf.no_feedback_type", "named");
	static const char unclosed[] = "Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=x\n\n--x\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n";
	T_INT(arf_parse(unclosed, strlen(unclosed), "", &r, &err), 0, "no close delimiter");

	/* hostile: a value with control bytes and non-ASCII is kept printable */
	char *m = replace(report_lf, "User-Agent: ISP-FBL/3.1", "User-Agent: a\x01\xc3\xa9z");
	T_INT(arf_parse(m, strlen(m), "", &r, &err), 0, "control bytes");
	T_STR(r.user_agent, "a???z", "replaced");
	free(m);

	/* the provider map: the default of feedback.providers, and a configured one */
	char why[256];
	conf *cf = conf_load(NULL, why, sizeof(why));
	struct provider_map *pm = provider_map_new(cf, why, sizeof(why));
	T_STR(ingest_provider(pm, "gmail.com"), "gmail", "provider gmail");
	T_STR(ingest_provider(pm, "AOL.com"), "yahoo", "provider yahoo (AOL)");
	T_STR(ingest_provider(pm, "hotmail.com."), "microsoft", "provider microsoft (trailing dot)");
	T_STR(ingest_provider(pm, "example.org"), "other", "provider other");
	free(pm);
	conf_set(cf, "feedback.providers", "Example.ORG=microsoft,yahoo.es=yahoo", why, sizeof(why));
	pm = provider_map_new(cf, why, sizeof(why));
	T_STR(ingest_provider(pm, "example.org"), "microsoft", "configured: example.org is Microsoft's");
	T_STR(ingest_provider(pm, "yahoo.es"), "yahoo", "configured: yahoo.es");
	T_STR(ingest_provider(pm, "gmail.com"), "other", "configured: the list replaces the default");
	free(pm);
	conf_set(cf, "feedback.providers", "example.org=aol", why, sizeof(why));
	T_OK(provider_map_new(cf, why, sizeof(why)) == NULL && strstr(why, "item 1") != NULL,
	     "configured: an unknown provider is refused");
	conf_set(cf, "feedback.providers", "=gmail", why, sizeof(why));
	T_OK(provider_map_new(cf, why, sizeof(why)) == NULL, "configured: no domain is refused");
	conf_unref(cf);
	return t_done();
}
