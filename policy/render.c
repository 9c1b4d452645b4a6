/*
 * render - what trustmilter-check prints and the daemon logs for a message:
 * the JSON object (docs/JSON.md), the human report, the one-line log entry.
 * All three read the same evaluated session, so they never disagree.
 */
#include <stdio.h>
#include <string.h>
#include "session_int.h"
#include "json.h"

/* unfold_copy - header values carry LF+TAB folds; JSON and text show one line. */
static void put_unfolded(jw *w, const char *key, const char *v)
{
	char tmp[16384];
	size_t j = 0;
	for (const char *p = v; p && *p && j + 1 < sizeof(tmp); p++) {
		if (*p == '\n')
			continue;
		tmp[j++] = *p == '\t' ? ' ' : *p;
	}
	tmp[j] = '\0';
	jw_str(w, key, v ? tmp : NULL);
}

/* json_spf - the "spf" member. */
static void json_spf(jw *w, const session *s)
{
	jw_obj(w, "spf");
	jw_str(w, "result", result_name(s->spf.result));
	jw_str(w, "domain", s->spf.domain);
	jw_str(w, "identity", s->spf.identity[0] ? s->spf.identity : "mailfrom");
	jw_str(w, "client_ip", s->spf_ip);
	jw_str(w, "mechanism", s->spf.mechanism);
	jw_str(w, "explanation", s->spf.explanation);
	jw_str(w, "problem", s->spf.problem);
	jw_end_obj(w);
}

/* json_dkim - the "dkim" array. */
static void json_dkim(jw *w, const session *s)
{
	jw_arr(w, "dkim");
	for (size_t i = 0; i < s->nsigs; i++) {
		const struct dkim_sig *g = &s->sigs[i];
		jw_obj(w, NULL);
		jw_str(w, "result", result_name(g->result));
		jw_str(w, "domain", g->domain);
		jw_str(w, "selector", g->selector);
		jw_str(w, "algorithm", g->algorithm);
		jw_int(w, "key_bits", g->key_bits);
		jw_arr(w, "signed_headers");
		for (size_t k = 0; k < g->nsigned; k++)
			jw_str(w, NULL, g->signed_headers[k]);
		jw_end_arr(w);
		jw_str(w, "identity", g->identity);
		jw_str(w, "b", g->b_prefix);
		jw_str(w, "reason", g->reason);
		jw_bool(w, "signed_here", g->signed_here);
		jw_bool(w, "aligned", s->dmarc.sig_aligned[i]);
		jw_bool(w, "covers_list_unsubscribe", g->covers_list_unsubscribe);
		jw_bool(w, "covers_list_unsubscribe_post", g->covers_list_unsubscribe_post);
		jw_end_obj(w);
	}
	jw_end_arr(w);
}

/* json_dmarc - the "dmarc" member. */
static void json_dmarc(jw *w, const session *s)
{
	const struct dmarc_outcome *d = &s->dmarc;
	jw_obj(w, "dmarc");
	jw_str(w, "result", result_name(d->result));
	jw_str(w, "from_domain", session_author(s));
	jw_str(w, "policy", d->record_found ? dmarc_policy_name(d->policy) : NULL);
	jw_str(w, "disposition", dmarc_policy_name(d->disposition ? d->disposition : DMARC_P_NONE));
	jw_str(w, "policy_domain", d->policy_domain);
	jw_str(w, "org_domain", d->org_domain);
	jw_bool(w, "spf_aligned", d->spf_aligned);
	jw_bool(w, "dkim_aligned", d->dkim_aligned);
	if (d->record_found) {
		jw_obj(w, "record");
		jw_str(w, "p", dmarc_policy_name(d->rec.p));
		jw_str(w, "sp", d->rec.sp ? dmarc_policy_name(d->rec.sp) : NULL);
		jw_str(w, "np", d->rec.np ? dmarc_policy_name(d->rec.np) : NULL);
		jw_str(w, "adkim", d->rec.adkim_strict ? "s" : "r");
		jw_str(w, "aspf", d->rec.aspf_strict ? "s" : "r");
		jw_str(w, "psd", d->rec.psd == 1 ? "y" : d->rec.psd == 0 ? "n" : "u");
		jw_bool(w, "t", d->rec.testing);
		jw_int(w, "pct", d->rec.pct);
		jw_str(w, "rua", d->rec.rua);
		jw_end_obj(w);
	} else {
		jw_null(w, "record");
	}
	jw_str(w, "problem", d->problem);
	jw_arr(w, "authors");
	for (size_t i = 0; i < s->nauthors; i++) {
		const struct dmarc_author *a = &s->authors[i];
		jw_obj(w, NULL);
		jw_str(w, "domain", a->domain);
		jw_str(w, "result", result_name(a->result));
		jw_str(w, "disposition", dmarc_policy_name(a->disposition ? a->disposition
		                                                          : DMARC_P_NONE));
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_end_obj(w);
}

/* unsub_shown - the RFC 8058 verdict for people: "unknown" (could not
 * check) when it is noncompliant only because no DKIM key could be fetched. */
static const char *unsub_shown(const session *s)
{
	int pass = 0, tmp = 0;
	for (size_t i = 0; i < s->nsigs; i++) {
		pass |= s->sigs[i].result == AR_PASS;
		tmp |= s->sigs[i].result == AR_TEMPERROR;
	}
	if (s->unsub.verdict == UNSUB_NONCOMPLIANT && !pass && tmp)
		return "unknown";
	return unsub_verdict_name(s->unsub.verdict);
}

/* json_arc - the "arc" member (null when arc.verify is off). */
static void json_arc(jw *w, const session *s)
{
	if (s->arc == NULL) {
		jw_null(w, "arc");
		return;
	}
	const struct arc_outcome *a = &s->arc_out;
	jw_obj(w, "arc");
	jw_str(w, "result", result_name(a->result));
	jw_int(w, "instances", a->instances);
	jw_str(w, "sealer", a->sealer[0] ? a->sealer : NULL);
	if (a->result == AR_PASS && a->oldest_pass >= 0)
		jw_int(w, "oldest_pass", a->oldest_pass);
	else
		jw_null(w, "oldest_pass");
	jw_str(w, "reason", a->reason[0] ? a->reason : NULL);
	jw_str(w, "override", s->arc_override[0] ? s->arc_override : NULL);
	if (arcseal_instance(s->seal))
		jw_int(w, "sealed", arcseal_instance(s->seal));
	else
		jw_null(w, "sealed");
	jw_end_obj(w);
}

/* json_unsub - the "unsubscribe" member: verdict, findings, URIs. */
static void json_unsub(jw *w, const session *s)
{
	const struct unsub_outcome *u = &s->unsub;
	jw_obj(w, "unsubscribe");
	jw_str(w, "verdict", unsub_shown(s));
	jw_arr(w, "findings");
	for (size_t i = 0; i < findings_count(s->f); i++) {
		const struct finding *x = findings_get(s->f, i);
		if (strncmp(x->name, "unsub.", 6) == 0 || strncmp(x->name, "bulk.no_", 8) == 0)
			jw_str(w, NULL, x->name);
	}
	jw_end_arr(w);
	jw_arr(w, "uris");
	for (size_t i = 0; i < u->uris.count; i++)
		jw_str(w, NULL, u->uris.uri[i]);
	jw_end_arr(w);
	jw_bool(w, "https", u->has_https);
	jw_bool(w, "mailto", u->has_mailto);
	if (u->covered_sig >= 0 && (size_t)u->covered_sig < s->nsigs)
		jw_str(w, "covered_by", s->sigs[u->covered_sig].domain);
	else
		jw_null(w, "covered_by");
	jw_end_obj(w);
}

/* readiness_status - "ready", "not_ready" or "unknown" (could not check). */
static const char *readiness_status(const struct readiness *r)
{
	return r->ready ? "ready" : r->unknown ? "unknown" : "not_ready";
}

/* json_providers - readiness per provider: ready is null when it could not
 * be checked; missing lists every requirement missing or not checked. */
static void json_providers(jw *w, const session *s)
{
	const struct { const char *name; const struct readiness *r; } p[] = {
		{ "gmail", &s->ready.gmail }, { "yahoo", &s->ready.yahoo }, { "microsoft", &s->ready.microsoft } };
	jw_obj(w, "providers");
	for (size_t i = 0; i < 3; i++) {
		jw_obj(w, p[i].name);
		if (p[i].r->unknown)
			jw_null(w, "ready");
		else
			jw_bool(w, "ready", p[i].r->ready);
		jw_str(w, "status", readiness_status(p[i].r));
		jw_arr(w, "missing");
		for (size_t k = 0; k < p[i].r->nwhy; k++)
			jw_str(w, NULL, p[i].r->why[k]);
		jw_end_arr(w);
		jw_end_obj(w);
	}
	jw_end_obj(w);
}

/* json_spam - the "spam" member: score and signals; null when not run. */
static void json_spam(jw *w, const session *s)
{
	if (!s->spam.evaluated) {
		jw_null(w, "spam");
		return;
	}
	jw_obj(w, "spam");
	jw_num(w, "score", s->spam.score);
	jw_arr(w, "signals");
	for (size_t i = 0; i < s->spam.nsignals; i++) {
		jw_obj(w, NULL);
		jw_str(w, "name", s->spam.signals[i].name);
		jw_num(w, "weight", s->spam.signals[i].weight);
		jw_str(w, "reason", s->spam.signals[i].reason);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_bool(w, "more", s->spam.more);
	jw_end_obj(w);
	if (s->iprev.result != AR_NONE) {
		jw_obj(w, "iprev");
		jw_str(w, "result", result_name(s->iprev.result));
		jw_str(w, "ip", s->iprev.ip);
		jw_str(w, "name", s->iprev.name);
		jw_str(w, "problem", s->iprev.problem);
		jw_end_obj(w);
	} else {
		jw_null(w, "iprev");
	}
}

/* session_report_json - one object, one line. */
int session_report_json(const session *s, buf *out)
{
	jw w;
	jw_init(&w, out);
	jw_obj(&w, NULL);
	if (s->source[0]) {
		jw_str(&w, "file", s->source);
		jw_int(&w, "index", (long long)s->source_index);
	}
	jw_str(&w, "queue_id", s->queue_id);
	jw_str(&w, "direction", s->dir == DIR_OUTBOUND ? "outbound" : "inbound");
	jw_obj(&w, "envelope");
	jw_str(&w, "client_ip", s->client_ip);
	jw_str(&w, "helo", s->helo);
	jw_str(&w, "mail_from", s->mail_from);
	jw_int(&w, "rcpt_count", s->nrcpt);
	jw_end_obj(&w);
	jw_arr(&w, "from");
	for (size_t i = 0; i < s->fo.from.count; i++) {
		jw_obj(&w, NULL);
		jw_str(&w, "local", s->fo.from.a[i].local);
		jw_str(&w, "domain", s->fo.from.a[i].domain);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	json_spf(&w, s);
	json_dkim(&w, s);
	json_dmarc(&w, s);
	json_arc(&w, s);
	json_unsub(&w, s);
	jw_bool(&w, "bulk", s->bulk.bulk);
	jw_str(&w, "bulk_reason", s->bulk.bulk ? s->bulk.reason : NULL);
	jw_str(&w, "campaign", s->bulk.campaign[0] ? s->bulk.campaign : NULL);
	json_providers(&w, s);
	json_spam(&w, s);
	jw_arr(&w, "findings");
	for (size_t i = 0; i < findings_count(s->f); i++) {
		jw_obj(&w, NULL);
		jw_str(&w, "name", findings_get(s->f, i)->name);
		jw_str(&w, "detail", findings_get(s->f, i)->detail);
		const struct finding_help *h = findings_help(findings_get(s->f, i)->name);
		jw_str(&w, "fix", h ? h->fix : NULL);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_str(&w, "action", verdict_action_name(s->v.decided));
	jw_str(&w, "action_enforced", verdict_action_name(s->v.action));
	jw_bool(&w, "dry_run", s->v.dry_run);
	jw_str(&w, "mode", s->v.dry_run ? "monitor" : "enforce");
	jw_str(&w, "action_reason", s->v.reason[0] ? s->v.reason : NULL);
	if (s->v.decided == ACT_REJECT || s->v.decided == ACT_TEMPFAIL) {
		char r[300];
		snprintf(r, sizeof(r), "%s %s %s", s->v.rcode, s->v.xcode, s->v.reply);
		jw_str(&w, "smtp_reply", r);
	} else {
		jw_null(&w, "smtp_reply");
	}
	put_unfolded(&w, "authentication_results", s->authres);
	put_unfolded(&w, "compliance_header", s->compliance);
	jw_obj(&w, "dns");
	jw_int(&w, "queries", s->budget.used);
	jw_int(&w, "budget", s->budget.max);
	jw_end_obj(&w);
	jw_end_obj(&w);
	return buf_overflowed(out) ? -1 : 0;
}

/* text_line - "Label      text" rows of the human report. */
static void text_row(buf *o, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void text_row(buf *o, const char *label, const char *fmt, ...)
{
	va_list ap;
	buf_printf(o, "  %-12s ", label);
	va_start(ap, fmt);
	buf_vprintf(o, fmt, ap);
	va_end(ap);
	buf_putc(o, '\n');
}

/* session_report_text - the human report. */
int session_report_text(const session *s, buf *o)
{
	text_row(o, "Envelope", "client %s, helo %s, mail from <%s>, %s",
	         s->client_ip[0] ? s->client_ip : "-", s->helo[0] ? s->helo : "-", s->mail_from,
	         s->dir == DIR_OUTBOUND ? "outbound" : "inbound");
	text_row(o, "From", "%s", s->fo.from_domain[0] ? s->fo.from_domain : "(no single From domain)");
	text_row(o, "SPF", "%s  %s%s%s%s", result_name(s->spf.result), s->spf.domain,
	         s->spf.mechanism[0] ? ", matched " : "", s->spf.mechanism,
	         s->spf.problem[0] ? (s->spf.result == AR_PASS ? "" : "") : "");
	if (s->spf.problem[0] && s->spf.result != AR_PASS)
		text_row(o, "", "%s", s->spf.problem);
	if (s->nsigs == 0)
		text_row(o, "DKIM", "none  (no signature)");
	for (size_t i = 0; i < s->nsigs; i++) {
		const struct dkim_sig *g = &s->sigs[i];
		text_row(o, i ? "" : "DKIM", "%s  d=%s s=%s %s %u bits%s%s%s%s", result_name(g->result),
		         g->domain, g->selector, g->algorithm, g->key_bits,
		         s->dmarc.sig_aligned[i] ? ", aligned" : ", not aligned",
		         g->covers_list_unsubscribe && g->covers_list_unsubscribe_post ?
		         ", signs both unsubscribe fields" : "",
		         g->reason[0] && g->result != AR_PASS ? ": " : "",
		         g->result != AR_PASS ? g->reason : "");
	}
	const struct dmarc_outcome *d = &s->dmarc;
	if (d->record_found)
		text_row(o, "DMARC", "%s  policy %s (record at %s), disposition %s; SPF %s, DKIM %s",
		         result_name(d->result), dmarc_policy_name(d->policy), d->policy_domain,
		         dmarc_policy_name(d->disposition ? d->disposition : DMARC_P_NONE),
		         d->spf_aligned ? "aligned" : "not aligned", d->dkim_aligned ? "aligned" : "not aligned");
	else
		text_row(o, "DMARC", "%s  %s", result_name(d->result), d->problem);
	if (s->arc_override[0])
		text_row(o, "", "overridden by local policy: ARC sealed by trusted %s", s->arc_override);
	if (s->arc)
		text_row(o, "ARC", "%s  %u instance%s%s%s", result_name(s->arc_out.result),
		         s->arc_out.instances, s->arc_out.instances == 1 ? "" : "s",
		         s->arc_out.reason[0] ? ": " : "", s->arc_out.reason);
	text_row(o, "Unsubscribe", "%s%s%s", unsub_shown(s),
	         s->unsub.has_https ? ", https" : "", s->unsub.has_mailto ? ", mailto" : "");
	text_row(o, "Bulk", "%s%s%s%s%s", s->bulk.bulk ? "yes (" : "no", s->bulk.bulk ? s->bulk.reason : "",
	         s->bulk.bulk ? ")" : "", s->bulk.campaign[0] ? ", campaign " : "", s->bulk.campaign);
	const struct { const char *name; const struct readiness *r; } p[] = {
		{ "Gmail", &s->ready.gmail }, { "Yahoo", &s->ready.yahoo }, { "Microsoft", &s->ready.microsoft } };
	for (size_t i = 0; i < 3; i++) {
		text_row(o, i ? "" : "Providers", "%-9s %s", p[i].name, p[i].r->ready ? "ready"
		         : p[i].r->unknown ? "could not check" : "not ready");
		for (size_t k = 0; k < p[i].r->nwhy; k++)
			text_row(o, "", "          - %s", p[i].r->why[k]);
	}
	if (s->spam.evaluated) {
		text_row(o, "Spam", "score %.1f%s", s->spam.score, s->spam.nsignals ? "" : ", no signals");
		for (size_t i = 0; i < s->spam.nsignals; i++)
			text_row(o, "", "%+5.1f %s: %s", s->spam.signals[i].weight, s->spam.signals[i].name,
			         s->spam.signals[i].reason);
	}
	size_t n = findings_count(s->f);
	if (n == 0)
		text_row(o, "Findings", "none");
	for (size_t i = 0; i < n; i++) {
		const struct finding_help *h = findings_help(findings_get(s->f, i)->name);
		text_row(o, i ? "" : "Findings", "%s: %s", findings_get(s->f, i)->name,
		         findings_get(s->f, i)->detail);
		if (h)
			text_row(o, "", "  fix: %s", h->fix);
	}
	text_row(o, "Action", "%s%s%s%s", verdict_action_name(s->v.decided),
	         s->v.reason[0] ? " (" : "", s->v.reason, s->v.reason[0] ? ")" : "");
	if (s->v.decided == ACT_REJECT || s->v.decided == ACT_TEMPFAIL)
		text_row(o, "", "SMTP reply: %s %s %s", s->v.rcode, s->v.xcode, s->v.reply);
	if (s->v.dry_run && s->v.decided != ACT_ACCEPT)
		text_row(o, "", "monitor mode: only annotated, the message is delivered");
	if (s->authres)
		buf_printf(o, "  Authentication-Results: %s\n", s->authres);
	return buf_overflowed(o) ? -1 : 0;
}

/* log_safe - a byte that may stand in a log value without quotes: printable,
 * and none of space, '=', '"', '\\' that would end the value or start a key. */
static int log_safe(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '=' && c != '"' && c != '\\';
}

/* log_value - " key=value" for the log line, value bounded to cap bytes.
 * A value with only safe bytes is written as it is ("-" when empty); any
 * other is quoted, with '"' and '\\' escaped and control and non-ASCII bytes
 * replaced by '?', so an attacker's string (a HELO "x spf=pass") can never
 * add a key of its own: one message yields exactly one of each key.
 * quote != 0 quotes even a safe value (reason= is always quoted). */
static void log_value(buf *o, const char *key, const char *v, size_t cap, int quote)
{
	size_t n = strlen(v), i;
	if (n > cap)
		n = cap;
	buf_printf(o, " %s=", key);
	if (n == 0 && !quote) {
		buf_putc(o, '-');
		return;
	}
	for (i = 0; i < n && log_safe((unsigned char)v[i]); i++)
		;
	if (i == n && !quote) {
		buf_append(o, v, n);
		return;
	}
	buf_putc(o, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			buf_putc(o, '\\');
		buf_putc(o, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	buf_putc(o, '"');
}

/* session_log_line - "QUEUEID: key=value ..." with printable, bounded values;
 * every value an outsider can choose goes through log_value. */
int session_log_line(const session *s, buf *o)
{
	char q[64], mf[124], dk[400];
	size_t dl = 0;
	str_printable(q, sizeof(q), s->queue_id, strlen(s->queue_id));
	for (size_t i = 0; q[i]; i++)
		if (!log_safe((unsigned char)q[i]))
			q[i] = '?';           /* the queue id leads the line: never quoted, never split */
	buf_printf(o, "%s: dir=%s", q, s->dir == DIR_OUTBOUND ? "outbound" : "inbound");
	if (s->dir_reason[0])
		log_value(o, "dir_reason", s->dir_reason, 64, 0);
	log_value(o, "client", s->client_ip, 64, 0);
	log_value(o, "helo", s->helo, 80, 0);
	snprintf(mf, sizeof(mf), "<%.*s>", 118, s->mail_from);
	log_value(o, "mailfrom", mf, sizeof(mf), 0);
	log_value(o, "from", session_author(s), 80, 0);
	buf_printf(o, " spf=%s", result_name(s->spf.result));
	dk[0] = '\0';
	for (size_t i = 0; i < s->nsigs && i < 4 && dl < sizeof(dk); i++) {
		int k = snprintf(dk + dl, sizeof(dk) - dl, "%s%s/%.63s", i ? "," : "",
		                 result_name(s->sigs[i].result), s->sigs[i].domain);
		if (k < 0)
			break;
		dl += (size_t)k;
	}
	log_value(o, "dkim", s->nsigs ? dk : "none", sizeof(dk), 0);
	buf_printf(o, " dmarc=%s policy=%s", result_name(s->dmarc.result),
	           s->dmarc.record_found ? dmarc_policy_name(s->dmarc.policy) : "-");
	if (s->arc)
		buf_printf(o, " arc=%s", result_name(s->arc_out.result));
	if (s->arc_override[0])
		log_value(o, "arc_override", s->arc_override, 80, 0);
	if (arcseal_instance(s->seal))
		buf_printf(o, " arc_sealed=%u", arcseal_instance(s->seal));
	buf_printf(o, " bulk=%s unsub=%s action=%s%s", s->bulk.bulk ? "yes" : "no",
	           unsub_verdict_name(s->unsub.verdict), verdict_action_name(s->v.decided),
	           s->v.dry_run ? " mode=monitor" : "");
	if (s->v.reason[0])
		log_value(o, "reason", s->v.reason, 127, 1);
	buf_puts(o, " findings=");
	size_t n = findings_count(s->f);
	if (n == 0)
		buf_puts(o, "none");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(o, ',');
		buf_puts(o, findings_get(s->f, i)->name);
	}
	if (s->spam.evaluated) {
		buf_printf(o, " spam=%.1f signals=", s->spam.score);
		if (s->spam.nsignals == 0)
			buf_puts(o, "none");
		for (size_t i = 0; i < s->spam.nsignals; i++) {
			if (i)
				buf_putc(o, ',');
			buf_puts(o, s->spam.signals[i].name);
		}
	}
	buf_printf(o, " dns_queries=%u size=%llu rcpts=%u", s->budget.used, s->body_bytes, s->nrcpt);
	if (s->tls[0])       /* {tls_version}: the client used STARTTLS */
		log_value(o, "tls", s->tls, 31, 0);
	return 0;
}

/* session_finding_count - see session.h. */
size_t session_finding_count(const session *s) { return findings_count(s->f); }

/* session_finding_name - see session.h. */
const char *session_finding_name(const session *s, size_t i)
{
	const struct finding *f = findings_get(s->f, i);
	return f ? f->name : NULL;
}

/* session_readiness - see session.h. */
const char *session_readiness(const session *s, int provider)
{
	const struct readiness *r[3] = { &s->ready.gmail, &s->ready.yahoo, &s->ready.microsoft };
	return provider >= 0 && provider < 3 ? readiness_status(r[provider]) : NULL;
}
