/*
 * arf - RFC 5965/6650 feedback reports (see arf.h).
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "arf.h"
#include "fbmime.h"
#include "buf.h"

#define FIELD_CAP 1024

/* put - printable copy of a value into a fixed field. */
static void put(char *dst, size_t dsz, const char *v)
{
	str_printable(dst, dsz, v, strlen(v));
}

int arf_is_report(const char *msg, size_t len)
{
	const char *h, *b;
	size_t hl, bl;
	char ct[FBMIME_FIELD_MAX + 1], rt[64];
	fbmime_split(msg, len, &h, &hl, &b, &bl);
	if (fbmime_field(h, hl, "Content-Type", ct, sizeof(ct)) < 0)
		return 0;
	return strncasecmp(ct, "multipart/report", 16) == 0 &&
	       fbmime_param(ct, "report-type", rt, sizeof(rt)) > 0 &&
	       strcasecmp(rt, "feedback-report") == 0;
}

/* domain_of - the lower-case domain of the (last) address in a field value:
 * what follows the last '@' up to '>', white space, ',' or ';'. */
static void domain_of(const char *v, char *out, size_t cap)
{
	const char *lt = strrchr(v, '<');
	const char *at = strrchr(lt ? lt : v, '@');
	size_t k = 0;
	out[0] = '\0';
	if (at == NULL)
		return;
	for (const char *p = at + 1; *p && !strchr("> \t,;)\"", *p) && k + 1 < cap; p++)
		out[k++] = (char)tolower((unsigned char)*p);
	out[k] = '\0';
	while (k > 0 && out[k - 1] == '.')
		out[--k] = '\0';
	str_printable(out, cap, out, strlen(out));
}

/* lower_token - the first white-space-delimited token, lower case, printable. */
static void lower_token(const char *v, char *out, size_t cap)
{
	size_t k = 0;
	for (; *v && *v != ' ' && *v != '\t' && *v != ',' && k + 1 < cap; v++)
		out[k++] = (char)tolower((unsigned char)*v);
	out[k] = '\0';
	str_printable(out, cap, out, k);
}

/* parse_date - RFC 5322 date-time (day name optional) to epoch; 0 if not one. */
static int64_t parse_date(const char *s)
{
	struct tm tm;
	const char *p = strchr(s, ',');
	p = p ? p + 1 : s;
	while (*p == ' ')
		p++;
	memset(&tm, 0, sizeof(tm));
	const char *e = strptime(p, "%d %b %Y %H:%M:%S", &tm);
	if (e == NULL)
		return 0;
	int64_t t = (int64_t)timegm(&tm);
	while (*e == ' ')
		e++;
	if ((e[0] == '+' || e[0] == '-') && isdigit((unsigned char)e[1]) && strlen(e) >= 5) {
		int z = (e[1] - '0') * 600 + (e[2] - '0') * 60 + (e[3] - '0') * 10 + (e[4] - '0');
		t += e[0] == '+' ? -(int64_t)z * 60 : (int64_t)z * 60;
	}
	return t;
}

/* feedback_fields - the machine-readable part. */
static void feedback_fields(const char *p, size_t len, struct arf_report *r)
{
	size_t pos = 0;
	char name[64], v[FIELD_CAP];
	while (fbmime_next_field(p, len, &pos, name, sizeof(name), v, sizeof(v))) {
		if (strcasecmp(name, "Feedback-Type") == 0 && !r->feedback_type[0]) {
			size_t k = 0;
			for (const char *s = v; *s && k + 1 < sizeof(r->feedback_type); s++)
				if (isalnum((unsigned char)*s) || *s == '-')
					r->feedback_type[k++] = (char)tolower((unsigned char)*s);
				else
					break;
			r->feedback_type[k] = '\0';
		} else if (strcasecmp(name, "User-Agent") == 0)
			put(r->user_agent, sizeof(r->user_agent), v);
		else if (strcasecmp(name, "Version") == 0)
			put(r->version, sizeof(r->version), v);
		else if (strcasecmp(name, "Original-Mail-From") == 0)
			put(r->original_mail_from, sizeof(r->original_mail_from), v);
		else if (strcasecmp(name, "Original-Rcpt-To") == 0 && !r->original_rcpt_to[0]) {
			put(r->original_rcpt_to, sizeof(r->original_rcpt_to), v);
			domain_of(v, r->recipient_domain, sizeof(r->recipient_domain));
		} else if (strcasecmp(name, "Arrival-Date") == 0 || strcasecmp(name, "Received-Date") == 0) {
			put(r->arrival_date, sizeof(r->arrival_date), v);
			r->arrival_ts = parse_date(v);
		} else if (strcasecmp(name, "Reported-Domain") == 0 && !r->reported_domain[0])
			lower_token(v, r->reported_domain, sizeof(r->reported_domain));
		else if (strcasecmp(name, "Source-IP") == 0)
			put(r->source_ip, sizeof(r->source_ip), v);
		else if (strcasecmp(name, "Authentication-Results") == 0 && !r->auth_results[0])
			put(r->auth_results, sizeof(r->auth_results), v);
	}
}

/* original_fields - what ties the report to our record: from the returned
 * message or its header section. */
static void original_fields(const char *p, size_t len, const char *ch, struct arf_report *r)
{
	const char *h, *b;
	size_t hl, bl;
	char v[FIELD_CAP];
	fbmime_split(p, len, &h, &hl, &b, &bl);
	if (fbmime_field(h, hl, "Message-ID", v, sizeof(v)) >= 0)
		put(r->message_id, sizeof(r->message_id), v);
	if (fbmime_field(h, hl, "From", v, sizeof(v)) >= 0)
		domain_of(v, r->from_domain, sizeof(r->from_domain));
	if (fbmime_field(h, hl, "Subject", v, sizeof(v)) >= 0)
		put(r->subject, sizeof(r->subject), v);
	if (!r->recipient_domain[0] && fbmime_field(h, hl, "To", v, sizeof(v)) >= 0)
		domain_of(v, r->recipient_domain, sizeof(r->recipient_domain));
	if (!((ch && ch[0] && fbmime_field(h, hl, ch, v, sizeof(v)) >= 0) ||
	      fbmime_field(h, hl, "List-Id", v, sizeof(v)) >= 0 ||
	      fbmime_field(h, hl, "Feedback-ID", v, sizeof(v)) >= 0))
		v[0] = '\0';
	put(r->campaign, sizeof(r->campaign), v);
}

struct arf_walk { const char *ch; struct arf_report *r; int seen_feedback; };

/* arf_leaf - the feedback part and the returned message, first of each. */
static int arf_leaf(void *arg, const struct fbmime_part *p)
{
	struct arf_walk *w = arg;
	int fb = strcmp(p->ctype, "message/feedback-report") == 0;
	int msg = strcmp(p->ctype, "message/rfc822") == 0;
	int hdrs = strcmp(p->ctype, "text/rfc822-headers") == 0;
	if ((fb && w->seen_feedback) || ((msg || hdrs) && strcmp(w->r->original, "none") != 0) ||
	    !(fb || msg || hdrs))
		return 0;
	size_t n;
	char *d = fbmime_decode(p, ARF_PART_MAX, &n);
	if (d == NULL)
		return 0;
	if (fb) {
		feedback_fields(d, n, w->r);
		w->seen_feedback = 1;
	} else {
		original_fields(d, n, w->ch, w->r);
		str_copy(w->r->original, sizeof(w->r->original), msg ? "message" : "headers",
		         7);
	}
	free(d);
	return 0;
}

int arf_parse(const char *msg, size_t len, const char *campaign_header, struct arf_report *r,
              const char **error)
{
	memset(r, 0, sizeof(*r));
	str_copy(r->original, sizeof(r->original), "none", 4);
	*error = NULL;
	if (len > ARF_MSG_MAX)
		*error = "feedback.arf.too_large";
	else if (!arf_is_report(msg, len))
		*error = "feedback.arf.not_arf";
	if (*error)
		return -1;
	struct arf_walk w = { campaign_header, r, 0 };
	fbmime_walk(msg, len, arf_leaf, &w);
	if (!w.seen_feedback)
		*error = "feedback.arf.no_feedback_part";
	else if (!r->feedback_type[0])
		*error = "feedback.arf.no_feedback_type";
	if (*error)
		return -1;
	r->complaint = strcmp(r->feedback_type, "abuse") == 0 || strcmp(r->feedback_type, "fraud") == 0;
	return 0;
}
