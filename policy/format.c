/*
 * format - RFC 5322 format findings over a header set; see format.h.
 *
 * Mailbox providers (and DMARC) need one unambiguous author domain, a Date
 * and a Message-ID that parse, and no repeated single-instance fields. This
 * module turns each departure into a named finding and extracts those facts
 * once, so spam scoring, DMARC and the compliance report read the same
 * answers. The date and msg-id parsers are strict where the RFC is (they
 * return invalid rather than guess) and accept the obsolete forms RFC 5322
 * section 4 says receivers must still understand.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "buf.h"
#include "lex5322.h"

/* ---------- small lexer shared by Date and Message-ID ---------- */

struct scan {
	const char *p;
	size_t n, pos;
};

/* skip_cfws - lex_cfws on the scan; -1 if a comment is open or too deep. */
static int skip_cfws(struct scan *s)
{
	return lex_cfws(s->p, s->n, &s->pos, NULL) == LEX_OK ? 0 : -1;
}

/* ---------- Date ---------- */

enum dtok { D_END, D_NUM, D_WORD, D_CHAR, D_BAD };

struct dtoken {
	enum dtok t;
	size_t s, len;   /* position and length in the input */
	long num;        /* D_NUM value (at most 9 digits are read) */
	char c;          /* D_CHAR */
};

/* date_next - next token: a digit run, a letter run or one punctuation byte. */
static void date_next(struct scan *s, struct dtoken *t)
{
	memset(t, 0, sizeof(*t));
	if (skip_cfws(s) < 0) {
		t->t = D_BAD;
		return;
	}
	t->s = s->pos;
	if (s->pos >= s->n) {
		t->t = D_END;
		return;
	}
	unsigned char c = (unsigned char)s->p[s->pos];
	if (isdigit(c)) {
		t->t = D_NUM;
		while (s->pos < s->n && isdigit((unsigned char)s->p[s->pos])) {
			if (s->pos - t->s < 9)
				t->num = t->num * 10 + (s->p[s->pos] - '0');
			s->pos++;
		}
	} else if (isalpha(c)) {
		t->t = D_WORD;
		while (s->pos < s->n && isalpha((unsigned char)s->p[s->pos]))
			s->pos++;
	} else {
		t->t = D_CHAR;
		t->c = (char)c;
		s->pos++;
	}
	t->len = s->pos - t->s;
}

/* word_index - position of the token in a list of names (case-insensitive), or -1. */
static int word_index(const struct scan *s, const struct dtoken *t, const char *const *names, int count)
{
	if (t->t != D_WORD)
		return -1;
	for (int i = 0; i < count; i++)
		if (mem_caseeq(s->p + t->s, t->len, names[i], strlen(names[i])))
			return i;
	return -1;
}

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Named zones of RFC 5322 4.3 (obs-zone), plus "UTC" which is common in practice. */
static const struct { const char *name; int minutes; } zone_names[] = {
	{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
};

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date. */
static long long days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

/* days_in_month - 28..31, leap years per the Gregorian rule. */
static int days_in_month(long y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* format_parse_date - see format.h. */
int format_parse_date(const char *p, size_t n, time_t *out, int *zone_out)
{
	if (p == NULL)
		return -1;
	struct scan s = { p, n, 0 };
	struct dtoken t;
	int wday = -1;

	date_next(&s, &t);
	if (t.t == D_WORD) {                         /* [day-of-week ","] */
		wday = word_index(&s, &t, day_names, 7);
		if (wday < 0)
			return -1;
		date_next(&s, &t);
		if (t.t != D_CHAR || t.c != ',')
			return -1;
		date_next(&s, &t);
	}
	if (t.t != D_NUM || t.len > 2 || t.num < 1)   /* day = 1*2DIGIT */
		return -1;
	int day = (int)t.num;
	date_next(&s, &t);
	int mon = word_index(&s, &t, month_names, 12) + 1;
	if (mon < 1)
		return -1;
	date_next(&s, &t);
	if (t.t != D_NUM || t.len < 2 || t.len > 4) /* 4 digits, obs: 2 or 3 */
		return -1;
	long year = t.num;
	if (t.len == 2)
		year += year < 50 ? 2000 : 1900;        /* RFC 5322 4.3 */
	else if (t.len == 3)
		year += 1900;
	else if (year < 1900)
		return -1;
	if (day > days_in_month(year, mon))
		return -1;

	date_next(&s, &t);                            /* time-of-day */
	if (t.t != D_NUM || t.len != 2 || t.num > 23)
		return -1;
	int hour = (int)t.num;
	date_next(&s, &t);
	if (t.t != D_CHAR || t.c != ':')
		return -1;
	date_next(&s, &t);
	if (t.t != D_NUM || t.len != 2 || t.num > 59)
		return -1;
	int min = (int)t.num, sec = 0;
	date_next(&s, &t);
	if (t.t == D_CHAR && t.c == ':') {
		date_next(&s, &t);
		if (t.t != D_NUM || t.len != 2 || t.num > 60) /* 60: leap second */
			return -1;
		sec = (int)t.num;
		date_next(&s, &t);
	}

	int zone;                                     /* zone */
	if (t.t == D_CHAR && (t.c == '+' || t.c == '-')) {
		int sign = t.c == '-' ? -1 : 1;
		size_t at = s.pos;
		date_next(&s, &t);
		if (t.t != D_NUM || t.s != at || t.len != 4 || t.num % 100 > 59)
			return -1;
		zone = sign * (int)(t.num / 100 * 60 + t.num % 100);
	} else if (t.t == D_WORD) {
		int found = 0;
		zone = 0;
		for (size_t i = 0; i < sizeof(zone_names) / sizeof(zone_names[0]) && !found; i++)
			if (mem_caseeq(p + t.s, t.len, zone_names[i].name, strlen(zone_names[i].name))) {
				zone = zone_names[i].minutes;
				found = 1;
			}
		if (!found) {
			/* military zones: RFC 5322 4.3 says treat them as -0000 */
			char c = (char)toupper((unsigned char)p[t.s]);
			if (t.len != 1 || c == 'J')
				return -1;
			zone = 0;
		}
	} else {
		return -1;
	}
	date_next(&s, &t);
	if (t.t != D_END)
		return -1;

	long long days = days_from_civil(year, mon, day);
	long long secs = days * 86400LL + hour * 3600LL + min * 60LL + sec - zone * 60LL;
	*out = (time_t)secs;
	if (zone_out)
		*zone_out = zone;
	if (wday >= 0) {
		/* 1970-01-01 was a Thursday (4) */
		long long w = (days % 7 + 7 + 4) % 7;
		if (w != wday)
			return 1;
	}
	return 0;
}

/* ---------- Message-ID ---------- */

/* format_parse_msgid - see format.h. */
int format_parse_msgid(const char *p, size_t n, char *out, size_t osz)
{
	if (osz == 0)
		return -1;
	out[0] = '\0';
	if (p == NULL)
		return -1;
	struct scan s = { p, n, 0 };
	if (skip_cfws(&s) < 0 || s.pos >= n || p[s.pos] != '<')
		return -1;
	size_t start = s.pos++;
	/* id-left: dot-atom-text, or obs-id-left's quoted-string */
	if (s.pos < n && p[s.pos] == '"') {
		if (lex_qstring(p, n, &s.pos, NULL, 0, NULL, LEX_Q_STRICT) != LEX_OK)
			return -1;
	} else {
		size_t l = lex_dot_atom_text(p, n, s.pos, 1);   /* 8-bit: RFC 6532 */
		if (l == 0)
			return -1;
		s.pos += l;
	}
	if (s.pos >= n || p[s.pos] != '@')
		return -1;
	s.pos++;
	/* id-right: dot-atom-text or no-fold-literal */
	if (s.pos < n && p[s.pos] == '[') {
		if (lex_dliteral(p, n, &s.pos, 1) != LEX_OK)
			return -1;
	} else {
		size_t l = lex_dot_atom_text(p, n, s.pos, 1);   /* 8-bit: RFC 6532 */
		if (l == 0)
			return -1;
		s.pos += l;
	}
	if (s.pos >= n || p[s.pos] != '>')
		return -1;
	size_t end = ++s.pos;
	if (skip_cfws(&s) < 0 || s.pos != n)
		return -1;
	if (str_copy(out, osz, p + start, end - start) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---------- the checks ---------- */

/* The single-instance fields of RFC 5322 3.6 (max 1), and their finding names. */
static const struct { const char *field, *finding; } single_fields[] = {
	{ "Date", "format.duplicate_date" },
	{ "From", "format.duplicate_from" },
	{ "Sender", "format.duplicate_sender" },
	{ "Reply-To", "format.duplicate_reply_to" },
	{ "To", "format.duplicate_to" },
	{ "Cc", "format.duplicate_cc" },
	{ "Bcc", "format.duplicate_bcc" },
	{ "Message-ID", "format.duplicate_message_id" },
	{ "In-Reply-To", "format.duplicate_in_reply_to" },
	{ "References", "format.duplicate_references" },
	{ "Subject", "format.duplicate_subject" },
};

/* format_from_status_name - see format.h. */
const char *format_from_status_name(enum format_from st)
{
	switch (st) {
	case FORMAT_FROM_OK: return "ok";
	case FORMAT_FROM_MISSING: return "missing";
	case FORMAT_FROM_MULTIPLE_FIELDS: return "multiple_fields";
	case FORMAT_FROM_SYNTAX: return "syntax";
	case FORMAT_FROM_NO_ADDRESS: return "no_address";
	case FORMAT_FROM_NO_DOMAIN: return "no_domain";
	case FORMAT_FROM_BAD_DOMAIN: return "bad_domain";
	case FORMAT_FROM_MULTIPLE_DOMAINS: return "multiple_domains";
	}
	return "unknown";
}

/* check_from - From count, parse, author domain; sender_required. */
static void check_from(const hdr_set *h, findings *f, struct format_outcome *out)
{
	size_t nfrom = hdr_count_name(h, "From");
	if (nfrom == 0) {
		out->from_status = FORMAT_FROM_MISSING;
		findings_add(f, "format.from_missing", "no From field");
		return;
	}
	const struct hdr_field *fld = hdr_find(h, "From", 0);
	struct addr_list *l = &out->from;
	addr_parse_list(fld->unfolded, fld->ulen, l);

	int no_domain = 0, bad_domain = 0, many_domains = l->more;
	for (size_t i = 0; i < l->count; i++) {
		const char *d = l->a[i].domain;
		if (d[0] == '\0')
			no_domain = 1;
		else if (!addr_domain_valid(d, strlen(d)))
			bad_domain = 1;
		if (i > 0 && strcmp(d, l->a[0].domain) != 0)
			many_domains = 1;
	}
	if (l->syntax_error)
		findings_add(f, "format.from_syntax", "From is not a valid mailbox-list: %s",
			     fld->unfolded);
	if (l->count == 0 && !l->more)
		findings_add(f, "format.from_no_address", "From holds no address");
	if (l->count > 1)
		findings_add(f, "format.from_multiple_addresses", "From holds %zu%s addresses",
			     l->count, l->more ? "+" : "");
	if (l->more)
		findings_add(f, "format.from_too_many", "From holds more than %d addresses", ADDR_MAX);
	if (no_domain)
		findings_add(f, "format.from_no_domain", "a From address has no domain");
	if (bad_domain)
		findings_add(f, "format.from_domain_invalid", "a From domain is not a valid domain name");
	if ((l->count > 1 || l->more) && hdr_count_name(h, "Sender") == 0)
		findings_add(f, "format.sender_required",
			     "several From addresses need a Sender field (RFC 5322 3.6.2)");

	if (nfrom > 1) {
		out->from_status = FORMAT_FROM_MULTIPLE_FIELDS;
		findings_add(f, "format.from_multiple_fields", "%zu From fields", nfrom);
	} else if (l->syntax_error) {
		out->from_status = FORMAT_FROM_SYNTAX;
	} else if (l->count == 0) {
		out->from_status = FORMAT_FROM_NO_ADDRESS;
	} else if (no_domain) {
		out->from_status = FORMAT_FROM_NO_DOMAIN;
	} else if (bad_domain) {
		out->from_status = FORMAT_FROM_BAD_DOMAIN;
	} else if (many_domains) {
		out->from_status = FORMAT_FROM_MULTIPLE_DOMAINS;
	} else {
		out->from_status = FORMAT_FROM_OK;
		str_copy(out->from_domain, sizeof(out->from_domain), l->a[0].domain,
			 strlen(l->a[0].domain));
	}
}

/* add_author - one author domain (p,n) to the set, lowercased, once; 0 added
 * or already there, -1 not a valid domain name. */
static int add_author(struct format_outcome *out, const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n >= ADDR_DOMAIN_MAX || !addr_domain_valid(p, n))
		return -1;
	for (size_t i = 0; i < out->nauthors; i++)
		if (mem_caseeq(out->authors[i], strlen(out->authors[i]), p, n))
			return 0;
	if (out->nauthors >= FORMAT_AUTHORS_MAX) {
		out->authors_incomplete = 1;
		return 0;
	}
	char *d = out->authors[out->nauthors++];
	str_copy(d, ADDR_DOMAIN_MAX, p, n);
	str_lower(d);
	return 0;
}

/* is_domain_char - what the '@' scan takes as part of a domain. */
static int is_domain_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.';
}

/* scan_at_domains - the rule for a From field that does not parse cleanly:
 * every '@' followed (after optional WSP) by a run of letters, digits, '-',
 * '_' and '.' that is a valid domain name gives an author domain, wherever it
 * stands (display name and comments included: a reader may show any of
 * them). Returns how many valid domains were seen. */
static size_t scan_at_domains(const char *p, size_t n, struct format_outcome *out)
{
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '@')
			continue;
		size_t s = i + 1;
		while (s < n && (p[s] == ' ' || p[s] == '\t'))
			s++;
		size_t e = s;
		while (e < n && is_domain_char((unsigned char)p[e]))
			e++;
		if (add_author(out, p + s, e - s) == 0)
			found++;
	}
	return found;
}

/* authors_of_field - the author domains of one From field, parsed into l. A
 * clean field gives its addresses' domains, and an address without a valid
 * domain marks the set unreadable; a field with a syntax error or more than
 * ADDR_MAX addresses also gets the '@' scan, and is unreadable only when
 * neither gives a domain. */
static void authors_of_field(const struct hdr_field *fld, const struct addr_list *l,
                             struct format_outcome *out)
{
	size_t found = 0;
	int clean = !l->syntax_error && !l->more, bad = 0;
	for (size_t i = 0; i < l->count; i++) {
		const char *d = l->a[i].domain;
		if (add_author(out, d, strlen(d)) == 0)
			found++;
		else
			bad = 1;
	}
	if (!clean)
		found += scan_at_domains(fld->unfolded, fld->ulen, out);
	/* a clean list's address without a domain is one a reader sees as such;
	 * in unparsable text only "no domain at all" is */
	if (found == 0 || (clean && bad))
		out->author_unreadable = 1;
}

/* format_authors - every author domain of every From field (the first one
 * is already parsed in out->from); see struct format_outcome. */
static void format_authors(const hdr_set *h, struct format_outcome *out)
{
	size_t nfrom = hdr_count_name(h, "From");
	if (nfrom == 0)
		out->author_unreadable = 1;
	if (hdr_refused_class(h, "From"))
		out->authors_incomplete = 1;
	if (nfrom >= 1)
		authors_of_field(hdr_find(h, "From", 0), &out->from, out);
	if (nfrom < 2)
		return;
	struct addr_list *l = malloc(sizeof(*l));   /* 12 KB: not on the stack */
	if (l == NULL) {
		out->authors_incomplete = 1;            /* unknown is read as the worst case */
		return;
	}
	for (size_t i = 1; i < nfrom; i++) {
		const struct hdr_field *fld = hdr_find(h, "From", i);
		addr_parse_list(fld->unfolded, fld->ulen, l);
		authors_of_field(fld, l, out);
	}
	free(l);
}

/* check_sender - Sender must be one mailbox (RFC 5322 3.6.2). */
static void check_sender(const hdr_set *h, findings *f)
{
	const struct hdr_field *fld = hdr_find(h, "Sender", 0);
	if (fld == NULL)
		return;
	struct addr_list l;
	addr_parse_list(fld->unfolded, fld->ulen, &l);
	if (l.syntax_error || l.count != 1 || l.more || l.a[0].domain[0] == '\0')
		findings_add(f, "format.sender_invalid", "Sender is not one mailbox: %s", fld->unfolded);
}

/* check_date - presence and syntax of the (first) Date field. */
static void check_date(const hdr_set *h, findings *f, struct format_outcome *out)
{
	const struct hdr_field *fld = hdr_find(h, "Date", 0);
	if (fld == NULL) {
		out->date_status = FORMAT_DATE_MISSING;
		findings_add(f, "format.date_missing", "no Date field");
		return;
	}
	int rc = format_parse_date(fld->unfolded, fld->ulen, &out->date, &out->date_zone);
	if (rc < 0) {
		out->date_status = FORMAT_DATE_INVALID;
		findings_add(f, "format.date_invalid", "Date is not an RFC 5322 date-time: %s",
			     fld->unfolded);
		return;
	}
	out->date_status = FORMAT_DATE_OK;
	if (rc == 1)
		findings_add(f, "format.date_weekday_mismatch",
			     "the day-of-week does not match the date: %s", fld->unfolded);
}

/* check_msgid - presence and syntax of the (first) Message-ID field. */
static void check_msgid(const hdr_set *h, findings *f, struct format_outcome *out)
{
	const struct hdr_field *fld = hdr_find(h, "Message-ID", 0);
	if (fld == NULL) {
		out->msgid_status = FORMAT_MSGID_MISSING;
		findings_add(f, "format.message_id_missing", "no Message-ID field");
		return;
	}
	if (format_parse_msgid(fld->unfolded, fld->ulen, out->message_id,
			       sizeof(out->message_id)) < 0) {
		out->msgid_status = FORMAT_MSGID_INVALID;
		findings_add(f, "format.message_id_invalid", "Message-ID is not one msg-id: %s",
			     fld->unfolded);
		return;
	}
	out->msgid_status = FORMAT_MSGID_OK;
}

/* check_bytes - 8-bit and control bytes in raw values. */
static void check_bytes(const hdr_set *h, findings *f)
{
	int seen8 = 0, seenctl = 0;
	for (size_t i = 0; i < hdr_count(h) && !(seen8 && seenctl); i++) {
		const struct hdr_field *fld = hdr_get(h, i);
		for (size_t j = 0; j < fld->vlen; j++) {
			unsigned char c = (unsigned char)fld->value[j];
			if (c >= 0x20 && c < 0x7f)
				continue;       /* the common case: one test */
			if (c >= 0x80 && !seen8) {
				seen8 = 1;
				findings_add(f, "format.header_8bit", "raw 8-bit bytes in %s", fld->name);
			} else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
				if (!seenctl)
					findings_add(f, "format.header_control",
						     "control byte 0x%02x in %s", c, fld->name);
				seenctl = 1;
			}
		}
	}
}

/* format_outcome_reset - see format.h. */
void format_outcome_reset(struct format_outcome *out)
{
	/* field by field: the address table (12 KB) is valid up to its count */
	out->from_status = 0;
	out->from_domain[0] = '\0';
	memset(&out->from, 0, offsetof(struct addr_list, a));
	out->date_status = 0;
	out->date = 0;
	out->date_zone = 0;
	out->msgid_status = 0;
	out->message_id[0] = '\0';
	out->nauthors = 0;
	out->authors_incomplete = 0;
	out->author_unreadable = 0;
}

/* format_check - see format.h. */
void format_check(const hdr_set *h, findings *f, struct format_outcome *out)
{
	format_outcome_reset(out);
	check_from(h, f, out);
	format_authors(h, out);
	check_sender(h, f);
	check_date(h, f, out);
	check_msgid(h, f, out);
	for (size_t i = 0; i < sizeof(single_fields) / sizeof(single_fields[0]); i++) {
		size_t c = hdr_count_name(h, single_fields[i].field);
		if (c > 1)
			findings_add(f, single_fields[i].finding, "%zu %s fields (RFC 5322 3.6 allows one)",
				     c, single_fields[i].field);
	}
	check_bytes(h, f);
}
