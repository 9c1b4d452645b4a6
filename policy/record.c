/*
 * record - the per-message audit record (stats/audit.h), copied out of an
 * evaluated session at end of message and handed to the environment's
 * record sink (see session.h). Like render.c it is one of the session's
 * views of itself, so it reads the session's private state
 * (session_int.h); everything downstream (the sink, the queue, the store,
 * the counters, the reports) sees only the plain record.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "session_int.h"
#include "record.h"

/* audit_copy - printable ASCII copy; a cut value ends in '~' so it is visibly cut. */
void audit_copy(char *dst, size_t dstsz, const char *p, size_t n)
{
	if (dstsz == 0)
		return;
	size_t j = 0;
	for (size_t i = 0; i < n && p[i]; i++) {
		if (j + 1 >= dstsz) {
			if (dstsz >= 2)
				dst[dstsz - 2] = '~';
			break;
		}
		unsigned char c = (unsigned char)p[i];
		dst[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[j < dstsz ? j : dstsz - 1] = '\0';
}

/* cpy - audit_copy of a NUL-terminated string. */
static void cpy(char *dst, size_t dstsz, const char *s)
{
	audit_copy(dst, dstsz, s ? s : "", s ? strlen(s) : 0);
}

/* token_copy - like cpy, but also replaces the list separators (' ', ':')
 * so a value from the message cannot forge list items. */
static void token_copy(char *dst, size_t dstsz, const char *s)
{
	cpy(dst, dstsz, s);
	for (char *p = dst; *p; p++)
		if (*p == ' ' || *p == ':')
			*p = '?';
}

/* fill_dmarc - result, policy and the published record. */
static void fill_dmarc(const session *s, struct audit_record *r)
{
	const struct dmarc_outcome *d = &s->dmarc;
	r->dmarc_result = d->result;
	r->dmarc_policy = d->record_found ? d->policy : DMARC_P_UNSPEC;
	r->dmarc_disposition = d->disposition ? d->disposition : DMARC_P_NONE;
	cpy(r->dmarc_policy_domain, sizeof(r->dmarc_policy_domain), d->policy_domain);
	r->dmarc_spf_aligned = d->spf_aligned;
	r->dmarc_dkim_aligned = d->dkim_aligned;
	if (d->record_found) {
		/* RFC 9989 4.7: a missing p= is p=none; sp defaults to p, np to sp */
		r->dmarc_p = d->rec.p ? d->rec.p : DMARC_P_NONE;
		r->dmarc_sp = d->rec.sp;
		r->dmarc_np = d->rec.np;
		cpy(r->dmarc_adkim, sizeof(r->dmarc_adkim), d->rec.adkim_strict ? "s" : "r");
		cpy(r->dmarc_aspf, sizeof(r->dmarc_aspf), d->rec.aspf_strict ? "s" : "r");
		cpy(r->dmarc_testing, sizeof(r->dmarc_testing), d->rec.testing ? "y" : "n");
		cpy(r->dmarc_rua, sizeof(r->dmarc_rua), d->rec.rua);
	}
	r->dmarc_discovery = s->env->dmarc_mode;
}

/* header_bytes - bytes of the kept header section ("Name:value\r\n"). */
static int64_t header_bytes(const hdr_set *h)
{
	int64_t n = 0;
	for (size_t i = 0; i < hdr_count(h); i++) {
		const struct hdr_field *f = hdr_get(h, i);
		n += (int64_t)(f->nlen + f->vlen + 3);
	}
	return n;
}

/* audit_from_session - copy the facts of the evaluated message. */
int audit_from_session(const session *s, struct audit_record *r)
{
	memset(r, 0, sizeof(*r));
	if (!s->evaluated)
		return -1;
	r->ts = (int64_t)time(NULL);
	cpy(r->host, sizeof(r->host), s->env->hostname);
	cpy(r->queue_id, sizeof(r->queue_id), s->queue_id);
	r->direction = s->dir;
	cpy(r->client_ip, sizeof(r->client_ip), s->client_ip);
	cpy(r->helo, sizeof(r->helo), s->helo);
	cpy(r->mail_from_domain, sizeof(r->mail_from_domain), s->mf_domain);
	str_lower(r->mail_from_domain);
	cpy(r->from_domain, sizeof(r->from_domain), session_author(s));
	str_lower(r->from_domain);
	r->spf_result = s->spf.result;
	cpy(r->spf_domain, sizeof(r->spf_domain), s->spf.domain);
	str_lower(r->spf_domain);
	for (size_t i = 0; i < s->nsigs && i < AUDIT_MAX_SIGS; i++) {
		const struct dkim_sig *g = &s->sigs[i];
		struct audit_sig *a = &r->sigs[r->nsigs++];
		a->result = g->result;
		token_copy(a->domain, sizeof(a->domain), g->domain);
		str_lower(a->domain);
		token_copy(a->selector, sizeof(a->selector), g->selector);
		a->aligned = s->dmarc.sig_aligned[i];
		a->covers_unsub = g->covers_list_unsubscribe && g->covers_list_unsubscribe_post;
	}
	fill_dmarc(s, r);
	r->unsub_verdict = s->unsub.verdict;
	for (size_t i = 0; i < findings_count(s->f); i++) {
		const char *name = findings_get(s->f, i)->name;
		if (r->nfindings < AUDIT_MAX_FINDINGS)
			token_copy(r->findings[r->nfindings++], AUDIT_NAME_MAX, name);
		if ((strncmp(name, "unsub.", 6) == 0 || strncmp(name, "bulk.no_", 8) == 0) &&
		    r->nunsub_findings < sizeof(r->unsub_findings) / sizeof(r->unsub_findings[0]))
			token_copy(r->unsub_findings[r->nunsub_findings++], AUDIT_NAME_MAX, name);
	}
	r->bulk = s->bulk.bulk;
	cpy(r->campaign, sizeof(r->campaign), s->bulk.campaign);
	/* spam score and signal names (policy/spam.h); has_spam 0 with spam.enabled = false */
	r->has_spam = s->spam.evaluated;
	r->spam_score = s->spam.score;
	r->nsignals = 0;
	for (size_t i = 0; i < s->spam.nsignals && r->nsignals < AUDIT_MAX_SIGNALS; i++)
		token_copy(r->signals[r->nsignals++], AUDIT_NAME_MAX, s->spam.signals[i].name);
	cpy(r->tls_version, sizeof(r->tls_version), s->tls);
	r->action = s->v.decided;
	r->action_enforced = s->v.action;
	r->gmail_ready = s->ready.gmail.ready;
	r->yahoo_ready = s->ready.yahoo.ready;
	r->microsoft_ready = s->ready.microsoft.ready;
	r->size = header_bytes(s->hdrs) + 2 + (int64_t)s->body_bytes;
	r->nrcpt = s->nrcpt;
	const struct hdr_field *mid = hdr_find(s->hdrs, "Message-ID", 0);
	audit_copy(r->message_id, sizeof(r->message_id), mid ? mid->unfolded : "", mid ? mid->ulen : 0);
	r->rcpt_gmail = s->rcpt_prov[PROV_GMAIL];
	r->rcpt_yahoo = s->rcpt_prov[PROV_YAHOO];
	r->rcpt_microsoft = s->rcpt_prov[PROV_MICROSOFT];
	r->rcpt_other = s->rcpt_prov[PROV_OTHER];
	r->arc = s->arc ? s->arc_out.result : AR_NONE;
	cpy(r->arc_override, sizeof(r->arc_override), s->arc_override);
	str_lower(r->arc_override);
	r->arc_sealed = arcseal_instance(s->seal);
	return 0;
}
