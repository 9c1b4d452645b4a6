/*
 * authres - the header fields trustmilter adds: RFC 8601
 * Authentication-Results and the compliance header (docs/HEADERS.md).
 *
 * Values are folded with LF+TAB at about 76 columns so no line comes near the
 * RFC 5322 limit of 998 even with several signatures; MTAs turn LF into CRLF.
 * Every property value is written as an RFC 8601 token when it is one and as
 * a quoted-string otherwise; comments are stripped of parentheses and
 * backslashes so a hostile domain or reason cannot unbalance them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "session_int.h"
#include "lex5322.h"

#define AR_MAX (16 * 1024)   /* far above 8 signatures' worth of properties */

struct fold { buf *b; size_t col; };

/* fold_seg - append a segment, folding first if the line would get long. */
static void fold_seg(struct fold *f, const char *seg, size_t n)
{
	if (f->col > 8 && f->col + n > 76) {
		buf_puts(f->b, "\n\t");
		f->col = 8;
		while (n && *seg == ' ')
			seg++, n--;
	}
	buf_append(f->b, seg, n);
	f->col += n;
}

/* fold_begin - the output and scratch buffers of one header value; -1 out of memory. */
static int fold_begin(struct fold *f, buf **seg, size_t col)
{
	f->b = buf_new(AR_MAX);
	f->col = col;
	*seg = buf_new(AR_MAX);
	if (f->b != NULL && *seg != NULL)
		return 0;
	buf_free(f->b);
	buf_free(*seg);
	return -1;
}

/* fold_end - flush the last segment; the value (heap), or NULL when it overflowed. */
static char *fold_end(struct fold *f, buf *seg)
{
	fold_seg(f, buf_data(seg), buf_len(seg));
	buf_free(seg);
	if (buf_overflowed(f->b)) {
		buf_free(f->b);
		return NULL;
	}
	return buf_steal(f->b);
}

/* fold_buf - append the contents of a scratch buffer as one segment. */
static void fold_buf(struct fold *f, buf *seg)
{
	fold_seg(f, buf_data(seg), buf_len(seg));
	buf_reset(seg);
}

/* is_token_char - RFC 2045 token characters, plus '@' for pvalue forms. */
static int is_value_char(unsigned char c)
{
	return c > 32 && c < 127 && !strchr("()<>,;:\\\"/[]?=", c);
}

/* authres_value - a token, a user@domain pvalue, or a quoted-string. */
void authres_value(buf *b, const char *v)
{
	int plain = *v != '\0';
	for (const unsigned char *p = (const unsigned char *)v; *p && plain; p++)
		plain = is_value_char(*p) || *p == '/';
	if (plain) {
		buf_puts(b, v);
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, (*p >= 32 && *p < 127) ? *p : '?');
	}
	buf_putc(b, '"');
}

/* comment - "(text)" with parentheses and backslashes removed. */
static void comment(buf *b, const char *text)
{
	buf_puts(b, " (");
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p != '(' && *p != ')' && *p != '\\')
			buf_putc(b, (*p >= 32 && *p < 127) ? *p : '?');
	buf_putc(b, ')');
}

/* authres_servid - the authserv-id after leading CFWS (RFC 8601 2.2: a
 * value, i.e. an RFC 2045 token or an RFC 5322 quoted-string). A
 * quoted-string is decoded: quoted-pairs give their character, folding is
 * dropped, and an unclosed one runs to the end (read as the sender would like
 * it read). A token ends at ';', '(' , '"' or whitespace. Returns the length
 * written to out (NUL-terminated), -1 when there is no id or it does not fit. */
int authres_servid(const char *v, size_t n, char *out, size_t outsz)
{
	size_t i = 0, o = 0;
	if (lex_cfws(v, n, &i, NULL) != LEX_OK || i >= n || outsz == 0)
		return -1;
	if (v[i] == '"') {
		/* unclosed: the text up to the end is the id */
		int rc = lex_qstring(v, n, &i, out, outsz, &o, LEX_Q_UNFOLD);
		if (rc != LEX_OK && rc != LEX_UNCLOSED)
			return -1;
	} else {
		for (; i < n && !strchr(";( \t\r\n\"", v[i]) && v[i] != '\0'; i++) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = v[i];
		}
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;           /* FWS before the closing quote */
	size_t s = 0;
	while (s < o && (out[s] == ' ' || out[s] == '\t'))
		s++;
	memmove(out, out + s, o - s);
	o -= s;
	out[o] = '\0';
	return o ? (int)o : -1;
}

/* spf_part - "spf=RESULT smtp.mailfrom=..." or smtp.helo for the null path. */
static void spf_part(const session *s, buf *seg)
{
	buf_printf(seg, "spf=%s", result_name(s->spf.result));
	if (!s->spf_evaluated) {
		comment(seg, s->spf.problem[0] ? s->spf.problem : "not checked");
		return;
	}
	if (s->spf.problem[0] && s->spf.result != AR_PASS)
		comment(seg, s->spf.problem);
	if (strcmp(s->spf.identity, "helo") == 0 || s->mail_from[0] == '\0') {
		buf_puts(seg, " smtp.helo=");
		authres_value(seg, s->helo[0] ? s->helo : s->spf.domain);
	} else {
		buf_puts(seg, " smtp.mailfrom=");
		authres_value(seg, s->mail_from);
	}
}

/* prop - " name=value" when value is not empty. */
static void prop(buf *seg, const char *name, const char *value)
{
	if (value[0] == '\0')
		return;
	buf_putc(seg, ' ');
	buf_puts(seg, name);
	buf_putc(seg, '=');
	authres_value(seg, value);
}

/* dkim_part - one signature. */
static void dkim_part(const struct dkim_sig *g, buf *seg)
{
	buf_printf(seg, "dkim=%s", result_name(g->result));
	if (g->signed_here)
		comment(seg, "signed here");
	if (g->result != AR_PASS)
		prop(seg, "reason", g->reason);
	prop(seg, "header.d", g->domain);
	prop(seg, "header.s", g->selector);
	prop(seg, "header.a", g->algorithm);
	prop(seg, "header.b", g->b_prefix);
}

/* dmarc_part - result, policy comment, header.from. */
static void dmarc_part(const session *s, buf *seg)
{
	const struct dmarc_outcome *d = &s->dmarc;
	buf_printf(seg, "dmarc=%s", result_name(d->result));
	if (d->record_found) {
		char c[128];
		snprintf(c, sizeof(c), "p=%s sp=%s dis=%s", dmarc_policy_name(d->rec.p),
		         dmarc_policy_name(d->rec.sp ? d->rec.sp : d->rec.p),
		         dmarc_policy_name(d->disposition ? d->disposition : DMARC_P_NONE));
		comment(seg, c);
	} else if (d->problem[0]) {
		comment(seg, d->problem);
	}
	prop(seg, "header.from", session_author(s));
	if (d->record_found)
		prop(seg, "policy.dmarc", dmarc_policy_name(d->policy));
	if (s->arc_override[0]) {
		char c[320];
		snprintf(c, sizeof(c), "overridden by local policy: ARC sealed by trusted %s",
		         s->arc_override);
		comment(seg, c);
	}
}

/* arc_part - RFC 8617 10: "arc=RESULT (comment) smtp.remote-ip=IP
 * header.oldest-pass=N". */
static void arc_part(const session *s, buf *seg)
{
	const struct arc_outcome *a = &s->arc_out;
	buf_printf(seg, " arc=%s", result_name(a->result));
	if (a->result == AR_FAIL)
		comment(seg, a->reason);
	else if (a->result == AR_PASS) {
		char c[320];
		snprintf(c, sizeof(c), "i=%u sealer %s", a->instances, a->sealer);
		comment(seg, c);
	}
	if (a->result != AR_NONE)
		prop(seg, "smtp.remote-ip", s->client_ip);
	if (a->result == AR_PASS && a->oldest_pass >= 0)   /* -1: not determined */
		buf_printf(seg, " header.oldest-pass=%d", a->oldest_pass);
	buf_putc(seg, ';');
}

/* authres_build - the whole Authentication-Results value. */
char *authres_build(const session *s)
{
	struct fold f;
	buf *seg;
	if (fold_begin(&f, &seg, 24) < 0)
		return NULL;
	authres_value(seg, s->env->authserv_id);
	buf_putc(seg, ';');
	fold_buf(&f, seg);
	buf_putc(seg, ' ');
	spf_part(s, seg);
	buf_putc(seg, ';');
	fold_buf(&f, seg);
	if (s->nsigs == 0) {
		fold_seg(&f, " dkim=none;", 11);
	}
	for (size_t i = 0; i < s->nsigs; i++) {
		buf_putc(seg, ' ');
		dkim_part(&s->sigs[i], seg);
		buf_putc(seg, ';');
		fold_buf(&f, seg);
	}
	if (s->arc) {
		arc_part(s, seg);
		fold_buf(&f, seg);
	}
	buf_putc(seg, ' ');
	dmarc_part(s, seg);
	if (s->iprev.result != AR_NONE) {
		/* RFC 8601 2.7.3: iprev with the client address as policy.iprev */
		buf_putc(seg, ';');
		fold_buf(&f, seg);
		buf_printf(seg, " iprev=%s", result_name(s->iprev.result));
		comment(seg, s->iprev.result == AR_PASS ? s->iprev.name : s->iprev.problem);
		prop(seg, "policy.iprev", s->iprev.ip);
	}
	return fold_end(&f, seg);
}

/* ready_word - a provider's readiness in the compliance header: "unknown"
 * when nothing is known to be missing but something could not be checked
 * (a DNS failure, no client address). */
static const char *ready_word(const struct readiness *r)
{
	return r->ready ? "ready" : r->unknown ? "unknown" : "not-ready";
}

/* compliance_build - "v=1; dir=...; action=...; bulk=...; one-click=...;
 * gmail=...; yahoo=...; microsoft=...; findings=a,b" (docs/HEADERS.md). */
char *compliance_build(const session *s)
{
	struct fold f;
	buf *seg;
	if (fold_begin(&f, &seg, 15) < 0)
		return NULL;
	buf_printf(seg, "v=1; dir=%s;", s->dir == DIR_OUTBOUND ? "outbound" : "inbound");
	fold_buf(&f, seg);
	buf_printf(seg, " action=%s;", verdict_action_name(s->v.decided));
	fold_buf(&f, seg);
	if (s->v.dry_run) {
		/* decided, not carried out (policy.mode = "monitor") */
		buf_puts(seg, " mode=monitor;");
		fold_buf(&f, seg);
	}
	buf_printf(seg, " bulk=%s;", s->bulk.bulk ? "yes" : "no");
	fold_buf(&f, seg);
	buf_printf(seg, " one-click=%s;", unsub_verdict_name(s->unsub.verdict));
	fold_buf(&f, seg);
	buf_printf(seg, " gmail=%s; yahoo=%s; microsoft=%s;", ready_word(&s->ready.gmail),
	           ready_word(&s->ready.yahoo), ready_word(&s->ready.microsoft));
	fold_buf(&f, seg);
	if (s->spam.evaluated) {
		/* "spam=SCORE; signals=a,b" (docs/HEADERS.md) */
		buf_printf(seg, " spam=%.1f; signals=%s", s->spam.score, s->spam.nsignals ? "" : "none");
		for (size_t i = 0; i < s->spam.nsignals; i++) {
			if (i)
				buf_putc(seg, ',');
			buf_puts(seg, s->spam.signals[i].name);
			fold_buf(&f, seg);
		}
		buf_putc(seg, ';');
		fold_buf(&f, seg);
	}
	size_t n = findings_count(s->f);
	buf_printf(seg, " findings=%s", n ? "" : "none");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(seg, ',');
		buf_puts(seg, findings_get(s->f, i)->name);
		fold_buf(&f, seg);
	}
	return fold_end(&f, seg);
}
