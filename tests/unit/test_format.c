/*
 * test_format - table tests for policy/format.c: Date and Message-ID
 * parsing, and format_check findings and outcome over whole header sets.
 */
#include <stdlib.h>
#include "t.h"
#include "format.h"
#include "buf.h"

struct dcase {
	const char *name;
	const char *in;
	int rc;             /* 0 valid, 1 weekday mismatch, -1 invalid */
	long long t;        /* want (UTC) when rc >= 0 */
	int zone;
};

static const struct dcase dcases[] = {
	{ "rfc5322 A.1.2", "Tue, 1 Jul 2003 10:52:37 +0200", 0, 1057049557, 120 },
	{ "no day-of-week", "1 Jul 2003 10:52:37 +0200", 0, 1057049557, 120 },
	{ "no seconds", "Tue, 1 Jul 2003 10:52 +0200", 0, 1057049520, 120 },
	{ "negative zone", "Fri, 21 Nov 1997 09:55:06 -0600", 0, 880127706, -360 },
	{ "before 1970", "Thu, 13 Feb 1969 23:32:54 -0330", 0, -27723426, -210 },
	{ "obs folded with comment", "Thu,\r\n 13\r\n   Feb\r\n     1969\r\n 23:32\r\n   -0330 (Newfoundland Time)",
	  0, -27723480, -210 },
	{ "obs 2-digit year GMT", "21 Nov 97 09:55:06 GMT", 0, 880106106, 0 },
	{ "2-digit year 49 is 2049", "1 Jan 49 00:00:00 +0000", 0, 2493072000LL, 0 },
	{ "3-digit year", "1 Jan 050 00:00:00 +0000", 0, -631152000, 0 },
	{ "EST", "29 Feb 2024 07:00:00 EST", 0, 1709208000, -300 },
	{ "PDT", "1 Jan 2000 00:00:00 PDT", 0, 946710000, -420 },
	{ "UT lowercase", "21 nov 1997 09:55:06 ut", 0, 880106106, 0 },
	{ "UTC accepted", "21 Nov 1997 09:55:06 UTC", 0, 880106106, 0 },
	{ "military zone is -0000", "21 Nov 1997 09:55:06 Z", 0, 880106106, 0 },
	{ "military zone Q", "21 Nov 1997 09:55:06 q", 0, 880106106, 0 },
	{ "comment after zone", "21 Nov 1997 09:55:06 +0000 (UTC)", 0, 880106106, 0 },
	{ "comments everywhere", "(a) Fri (b) , (c) 21 Nov 1997 09 (d) : 55 : 06 +0000", 0, 880106106, 0 },
	{ "leap day", "29 Feb 2024 12:00:00 -0500", 0, 1709226000, -300 },
	{ "leap second", "31 Dec 2016 23:59:60 +0000", 0, 1483228800, 0 },
	{ "single-digit day", "Sat, 1 Jan 2000 00:00:00 -0800", 0, 946713600, -480 },
	{ "two-digit day 01", "Sat, 01 Jan 2000 00:00:00 -0800", 0, 946713600, -480 },
	{ "weekday mismatch", "Mon, 1 Jul 2003 10:52:37 +0200", 1, 1057049557, 120 },
	{ "empty", "", -1, 0, 0 },
	{ "garbage", "garbage", -1, 0, 0 },
	{ "iso 8601", "2024-01-01T10:00:00Z", -1, 0, 0 },
	{ "no zone", "1 Jan 2024 10:00:00", -1, 0, 0 },
	{ "unknown zone", "1 Jan 2024 10:00:00 CET", -1, 0, 0 },
	{ "zone J", "1 Jan 2024 10:00:00 J", -1, 0, 0 },
	{ "zone 3 digits", "1 Jan 2024 10:00:00 +000", -1, 0, 0 },
	{ "zone minutes 60", "1 Jan 2024 10:00:00 +0060", -1, 0, 0 },
	{ "zone sign apart", "1 Jan 2024 10:00:00 + 0100", -1, 0, 0 },
	{ "day 32", "32 Jan 2024 10:00:00 +0000", -1, 0, 0 },
	{ "day 0", "0 Jan 2024 10:00:00 +0000", -1, 0, 0 },
	{ "29 Feb non-leap", "29 Feb 2023 10:00:00 +0000", -1, 0, 0 },
	{ "29 Feb 1900", "29 Feb 1900 10:00:00 +0000", -1, 0, 0 },
	{ "31 Apr", "31 Apr 2024 10:00:00 +0000", -1, 0, 0 },
	{ "hour 24", "1 Jan 2024 24:00:00 +0000", -1, 0, 0 },
	{ "minute 60", "1 Jan 2024 10:60 +0000", -1, 0, 0 },
	{ "second 61", "1 Jan 2024 10:00:61 +0000", -1, 0, 0 },
	{ "one-digit hour", "1 Jan 2024 1:00:00 +0000", -1, 0, 0 },
	{ "unknown month", "1 Foo 2024 10:00:00 +0000", -1, 0, 0 },
	{ "full month name", "1 January 2024 10:00:00 +0000", -1, 0, 0 },
	{ "full day name", "Monday, 1 Jan 2024 10:00:00 +0000", -1, 0, 0 },
	{ "day-of-week without comma", "Mon 1 Jan 2024 10:00:00 +0000", -1, 0, 0 },
	{ "month first", "Jan 1 2024 10:00:00 +0000", -1, 0, 0 },
	{ "year 1899", "1 Jan 1899 10:00:00 +0000", -1, 0, 0 },
	{ "1-digit year", "1 Jan 4 10:00:00 +0000", -1, 0, 0 },
	{ "5-digit year", "1 Jan 20240 10:00:00 +0000", -1, 0, 0 },
	{ "trailing junk", "1 Jan 2024 10:00:00 +0000 extra", -1, 0, 0 },
	{ "two zones", "1 Jan 2024 10:00:00 +0000 GMT", -1, 0, 0 },
	{ "unclosed comment", "1 Jan 2024 10:00:00 +0000 (oops", -1, 0, 0 },
	{ "huge number", "99999999999999999999 Jan 2024 10:00:00 +0000", -1, 0, 0 },
};

/* test_dates - the table above. */
static void test_dates(void)
{
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		time_t t = 42;
		int zone = 9999;
		int rc = format_parse_date(c->in, strlen(c->in), &t, &zone);
		T_INT(rc, c->rc, "date %s: rc", c->name);
		if (c->rc >= 0) {
			T_INT(t, c->t, "date %s: time", c->name);
			T_INT(zone, c->zone, "date %s: zone", c->name);
		} else {
			T_INT(t, 42, "date %s: time untouched", c->name);
		}
	}
	time_t t;
	const char s[] = "1 Jan 2000 00:00:00 +0000 junk";
	T_INT(format_parse_date(s, 25, &t, NULL), 0, "date: length respected");
	T_INT(format_parse_date(NULL, 0, &t, NULL), -1, "date: NULL");
}

struct mcase {
	const char *name;
	const char *in;
	const char *want;   /* NULL: invalid */
};

static const struct mcase mcases[] = {
	{ "plain", "<a@b>", "<a@b>" },
	{ "spaces", "  <abc.def@example.com>  ", "<abc.def@example.com>" },
	{ "gmail style", "<CAF+x=y_Z-1@mail.gmail.com>", "<CAF+x=y_Z-1@mail.gmail.com>" },
	{ "comment", "<a@example.com> (added by relay)", "<a@example.com>" },
	{ "folded", "\r\n <a@example.com>", "<a@example.com>" },
	{ "quoted left", "<\"quoted id\"@example.com>", "<\"quoted id\"@example.com>" },
	{ "literal right", "<a@[192.0.2.1]>", "<a@[192.0.2.1]>" },
	{ "uuid", "<0f8fad5b-d9cb-469f-a165-70867728950e@example.com>", "<0f8fad5b-d9cb-469f-a165-70867728950e@example.com>" },
	{ "empty", "", NULL },
	{ "no brackets", "a@b", NULL },
	{ "unclosed", "<a@b", NULL },
	{ "empty brackets", "<>", NULL },
	{ "no at", "<ab>", NULL },
	{ "empty left", "<@b>", NULL },
	{ "empty right", "<a@>", NULL },
	{ "double dot", "<a..b@c>", NULL },
	{ "leading dot", "<.a@c>", NULL },
	{ "trailing dot", "<a.@c>", NULL },
	{ "two ids", "<a@b> <c@d>", NULL },
	{ "space inside", "<a b@c>", NULL },
	{ "space right", "<a@b c>", NULL },
	{ "junk after", "<a@b>x", NULL },
	{ "two ats", "<a@b@c>", NULL },
	{ "unclosed literal", "<a@[b>", NULL },
	{ "unclosed comment", "<a@b> (x", NULL },
	{ "control", "<a\x01@b>", NULL },
};

/* test_msgids - the table above. */
static void test_msgids(void)
{
	char out[FORMAT_MSGID_MAX];
	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		int rc = format_parse_msgid(c->in, strlen(c->in), out, sizeof(out));
		T_INT(rc, c->want ? 0 : -1, "msgid %s: rc", c->name);
		T_STR(out, c->want ? c->want : "", "msgid %s: value", c->name);
	}
	char small[4];
	T_INT(format_parse_msgid("<a@bc>", 6, small, sizeof(small)), -1, "msgid: too long for out");
	T_STR(small, "", "msgid: out cleared");
}

#define GOOD_DATE "Date: Tue, 1 Jul 2003 10:52:37 +0200"
#define GOOD_MID "Message-ID: <1234@example.com>"

struct ccase {
	const char *name;
	const char *hdrs[24];       /* "Name: value", NULL-terminated */
	const char *want;           /* format findings in order, comma-joined */
	enum format_from status;
	const char *domain;
};

static const struct ccase ccases[] = {
	{ "good", { "From: A <a@Example.COM>", "To: b@example.net", "Subject: hi", GOOD_DATE, GOOD_MID },
	  "", FORMAT_FROM_OK, "example.com" },
	{ "case-insensitive names", { "FROM: a@example.com", "DATE: 1 Jul 2003 10:52:37 +0200", "message-id: <x@y>" },
	  "", FORMAT_FROM_OK, "example.com" },
	{ "folded from", { "From: \"Doe,\r\n John\" <jd@example.com>", GOOD_DATE, GOOD_MID },
	  "", FORMAT_FROM_OK, "example.com" },
	{ "nothing", { NULL },
	  "format.from_missing,format.date_missing,format.message_id_missing", FORMAT_FROM_MISSING, "" },
	{ "two from fields", { "From: a@example.com", "From: b@example.org", GOOD_DATE, GOOD_MID },
	  "format.from_multiple_fields,format.duplicate_from", FORMAT_FROM_MULTIPLE_FIELDS, "" },
	{ "two addresses one domain with sender", { "From: a@example.com, b@example.com", "Sender: a@example.com", GOOD_DATE, GOOD_MID },
	  "format.from_multiple_addresses", FORMAT_FROM_OK, "example.com" },
	{ "two domains no sender", { "From: a@example.com, b@example.org", GOOD_DATE, GOOD_MID },
	  "format.from_multiple_addresses,format.sender_required", FORMAT_FROM_MULTIPLE_DOMAINS, "" },
	{ "no domain", { "From: user", GOOD_DATE, GOOD_MID },
	  "format.from_no_domain", FORMAT_FROM_NO_DOMAIN, "" },
	{ "domain literal", { "From: a@[192.0.2.1]", GOOD_DATE, GOOD_MID },
	  "format.from_domain_invalid", FORMAT_FROM_BAD_DOMAIN, "" },
	{ "invalid domain chars", { "From: a@exa!mple.com", GOOD_DATE, GOOD_MID },
	  "format.from_domain_invalid", FORMAT_FROM_BAD_DOMAIN, "" },
	{ "ambiguous from", { "From: a@bank.example <b@evil.example>", GOOD_DATE, GOOD_MID },
	  "format.from_syntax,format.from_multiple_addresses,format.sender_required", FORMAT_FROM_SYNTAX, "" },
	{ "trailing garbage", { "From: a@example.com junk", GOOD_DATE, GOOD_MID },
	  "format.from_syntax", FORMAT_FROM_SYNTAX, "" },
	{ "empty group", { "From: undisclosed:;", GOOD_DATE, GOOD_MID },
	  "format.from_no_address", FORMAT_FROM_NO_ADDRESS, "" },
	{ "group of one", { "From: team: a@example.com;", GOOD_DATE, GOOD_MID },
	  "", FORMAT_FROM_OK, "example.com" },
	{ "empty from", { "From: ", GOOD_DATE, GOOD_MID },
	  "format.from_syntax,format.from_no_address", FORMAT_FROM_SYNTAX, "" },
	{ "sender two mailboxes", { "From: a@example.com", "Sender: a@example.com, b@example.com", GOOD_DATE, GOOD_MID },
	  "format.sender_invalid", FORMAT_FROM_OK, "example.com" },
	{ "sender no domain", { "From: a@example.com", "Sender: a", GOOD_DATE, GOOD_MID },
	  "format.sender_invalid", FORMAT_FROM_OK, "example.com" },
	{ "date invalid", { "From: a@example.com", "Date: yesterday", GOOD_MID },
	  "format.date_invalid", FORMAT_FROM_OK, "example.com" },
	{ "date weekday", { "From: a@example.com", "Date: Mon, 1 Jul 2003 10:52:37 +0200", GOOD_MID },
	  "format.date_weekday_mismatch", FORMAT_FROM_OK, "example.com" },
	{ "msgid missing", { "From: a@example.com", GOOD_DATE },
	  "format.message_id_missing", FORMAT_FROM_OK, "example.com" },
	{ "msgid invalid", { "From: a@example.com", GOOD_DATE, "Message-ID: 1234@example.com" },
	  "format.message_id_invalid", FORMAT_FROM_OK, "example.com" },
	{ "duplicates", { "From: a@example.com", GOOD_DATE, GOOD_DATE, GOOD_MID, GOOD_MID,
			  "Subject: a", "Subject: b", "To: x@y", "To: z@y", "Cc: c@y", "CC: d@y",
			  "Bcc: e@y", "bcc: f@y", "Reply-To: r@y", "Reply-To: s@y", "Sender: a@example.com",
			  "Sender: a@example.com", "In-Reply-To: <a@b>", "In-Reply-To: <c@d>",
			  "References: <a@b>", "References: <c@d>", "Received: x", "Received: y" },
	  "format.duplicate_date,format.duplicate_sender,format.duplicate_reply_to,format.duplicate_to,"
	  "format.duplicate_cc,format.duplicate_bcc,format.duplicate_message_id,format.duplicate_in_reply_to,"
	  "format.duplicate_references,format.duplicate_subject", FORMAT_FROM_OK, "example.com" },
	{ "8-bit subject", { "From: a@example.com", GOOD_DATE, GOOD_MID, "Subject: caf\xc3\xa9" },
	  "format.header_8bit", FORMAT_FROM_OK, "example.com" },
	{ "8-bit from display", { "From: J\xc3\xb6rg <j@example.de>", GOOD_DATE, GOOD_MID },
	  "format.header_8bit", FORMAT_FROM_OK, "example.de" },
	{ "control in subject", { "From: a@example.com", GOOD_DATE, GOOD_MID, "Subject: a\x1b[31mred" },
	  "format.header_control", FORMAT_FROM_OK, "example.com" },
	{ "unicode domain", { "From: a@\xc3\xb6.example", GOOD_DATE, GOOD_MID },
	  "format.from_domain_invalid,format.header_8bit", FORMAT_FROM_BAD_DOMAIN, "" },
};

/* load - a header set from "Name: value" strings. */
static hdr_set *load(const char *const *hdrs)
{
	hdr_set *h = hdr_new(0, 0);
	for (size_t i = 0; hdrs[i]; i++) {
		const char *c = strchr(hdrs[i], ':');
		hdr_add(h, hdrs[i], (size_t)(c - hdrs[i]), c + 1, strlen(c + 1));
	}
	return h;
}

/* names - the findings' names, comma-joined. */
static void names(const findings *f, char *out, size_t sz)
{
	buf *b = buf_new(sz);
	for (size_t i = 0; i < findings_count(f); i++)
		buf_printf(b, "%s%s", i ? "," : "", findings_get(f, i)->name);
	str_copy(out, sz, buf_data(b), buf_len(b));
	buf_free(b);
}

/* Author domains: every domain of every From field (format_authors). */
static const struct acase {
	const char *name;
	const char *hdrs[4];
	const char *authors;      /* comma-joined */
	int unreadable, incomplete;
} acases[] = {
	{ "one", { "From: a@Example.COM." }, "example.com", 0, 0 },
	{ "two fields", { "From: a@x.example", "From: b@y.example" }, "x.example,y.example", 0, 0 },
	{ "two addresses", { "From: a@x.example, b@y.example, c@X.example" }, "x.example,y.example", 0, 0 },
	{ "missing", { "Subject: s" }, "", 1, 0 },
	{ "no domain", { "From: user" }, "", 1, 0 },
	{ "one without domain", { "From: a@x.example, user" }, "x.example", 1, 0 },
	{ "unparsable", { "From: <x@example.test> <" }, "example.test", 0, 0 },
	{ "unparsable, display", { "From: \"ceo@bank.example\" (unclosed" }, "bank.example", 0, 0 },
	{ "unparsable, spaced @", { "From: x@ bank.example <" }, "bank.example", 0, 0 },
	{ "unparsable, nothing", { "From: nobody at all <" }, "", 1, 0 },
	{ "literal", { "From: a@[192.0.2.1]" }, "", 1, 0 },
	{ "nine domains", { "From: a@d1.example, a@d2.example, a@d3.example, a@d4.example, "
	                    "a@d5.example, a@d6.example, a@d7.example, a@d8.example, a@d9.example" },
	  "d1.example,d2.example,d3.example,d4.example,d5.example,d6.example,d7.example,d8.example", 0, 1 },
};

/* test_authors - the table above, plus From fields past their cap and a
 * From with more addresses than ADDR_MAX (the '@' scan still sees them). */
static void test_authors(findings *f, struct format_outcome *o)
{
	char got[2048];
	for (size_t i = 0; i < sizeof(acases) / sizeof(acases[0]); i++) {
		const struct acase *c = &acases[i];
		hdr_set *h = load(c->hdrs);
		format_check(h, f, o);
		got[0] = '\0';
		for (size_t j = 0; j < o->nauthors; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", j ? "," : "",
			         o->authors[j]);
		T_STR(got, c->authors, "authors %s: domains", c->name);
		T_INT(o->author_unreadable, c->unreadable, "authors %s: unreadable", c->name);
		T_INT(o->authors_incomplete, c->incomplete, "authors %s: incomplete", c->name);
		hdr_free(h);
	}
	hdr_set *h = hdr_new(0, 0);
	for (int i = 0; i <= HDR_CAP_FROM; i++)
		hdr_add(h, "From", 4, " a@x.example", 12);
	format_check(h, f, o);
	T_INT(o->authors_incomplete, 1, "authors: From fields past the cap make the set incomplete");
	hdr_free(h);
	buf *b = buf_new(1 << 16);
	for (int i = 0; i < ADDR_MAX; i++)
		buf_printf(b, "a%d@x.example, ", i);
	buf_puts(b, "z@bank.example");
	h = hdr_new(0, 0);
	hdr_add(h, "From", 4, buf_data(b), buf_len(b));
	format_check(h, f, o);
	T_INT(o->nauthors, 2, "authors: the address past ADDR_MAX is scanned");
	T_STR(o->authors[1], "bank.example", "authors: its domain");
	hdr_free(h);
	buf_free(b);
}

/* test_check - the table above. */
static void test_check(void)
{
	findings *f = findings_new();
	struct format_outcome *o = malloc(sizeof(*o));
	char got[2048];
	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		hdr_set *h = load(c->hdrs);
		findings_reset(f);
		format_check(h, f, o);
		names(f, got, sizeof(got));
		T_STR(got, c->want, "check %s: findings", c->name);
		T_STR(format_from_status_name(o->from_status), format_from_status_name(c->status),
		      "check %s: from status", c->name);
		T_STR(o->from_domain, c->domain, "check %s: from domain", c->name);
		hdr_free(h);
	}

	/* outcome details of the good case */
	hdr_set *h = load(ccases[0].hdrs);
	findings_reset(f);
	format_check(h, f, o);
	T_INT(o->date_status, FORMAT_DATE_OK, "outcome: date ok");
	T_INT(o->date, 1057049557, "outcome: date value");
	T_INT(o->date_zone, 120, "outcome: date zone");
	T_INT(o->msgid_status, FORMAT_MSGID_OK, "outcome: msgid ok");
	T_STR(o->message_id, "<1234@example.com>", "outcome: msgid value");
	T_INT(o->from.count, 1, "outcome: from list");
	T_STR(o->from.a[0].display, "A", "outcome: from display");
	hdr_free(h);

	/* NUL inside a value is a control byte */
	h = hdr_new(0, 0);
	hdr_add(h, "From", 4, " a@example.com", 14);
	hdr_add(h, "Subject", 7, " a\0b", 4);
	findings_reset(f);
	format_check(h, f, o);
	T_OK(findings_has(f, "format.header_control"), "NUL in a value: header_control");
	hdr_free(h);

	/* too many From addresses */
	buf *b = buf_new(1 << 16);
	for (int i = 0; i < ADDR_MAX + 4; i++)
		buf_printf(b, "%sa%d@example.com", i ? ", " : "", i);
	h = hdr_new(0, 0);
	hdr_add(h, "From", 4, buf_data(b), buf_len(b));
	findings_reset(f);
	format_check(h, f, o);
	T_OK(findings_has(f, "format.from_too_many"), "many From: from_too_many");
	T_OK(findings_has(f, "format.from_multiple_addresses"), "many From: multiple_addresses");
	T_OK(findings_has(f, "format.sender_required"), "many From: sender_required");
	T_INT(o->from_status, FORMAT_FROM_MULTIPLE_DOMAINS, "many From: no single domain (not all seen)");
	hdr_free(h);
	buf_free(b);

	test_authors(f, o);

	/* findings may be NULL */
	h = load(ccases[3].hdrs);
	format_check(h, NULL, o);
	T_INT(o->from_status, FORMAT_FROM_MISSING, "NULL findings accepted");
	hdr_free(h);

	free(o);
	findings_free(f);
}

int main(void)
{
	test_dates();
	test_msgids();
	test_check();
	return t_done();
}
