/*
 * bulk - bulk-mail detection and the campaign key.
 *
 * The signals are those mailbox providers use to call mail "bulk": list
 * headers (RFC 2369, RFC 2919), Precedence (RFC 3834 section 3.1.8 notes its
 * use), Feedback-ID (Gmail's feedback loop), plus what the operator
 * configures. The first signal found is reported as the reason.
 */
#include <string.h>
#include <stdio.h>
#include "bulk.h"
#include "buf.h"

/* domain_in - d equals or is below one of the listed domains. */
static int domain_in(const char *d, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dom_at_or_below(d, strlen(d), l[i], strlen(l[i])))
			return 1;
	return 0;
}

/* set_reason - keep the first reason only. */
static void set_reason(struct bulk_outcome *o, const char *r)
{
	if (!o->bulk) {
		o->bulk = 1;
		str_copy(o->reason, sizeof(o->reason), r, strlen(r));
	}
}

/* campaign_from - printable copy of a header's unfolded value. */
static int campaign_from(const hdr_set *h, const char *name, struct bulk_outcome *o)
{
	const struct hdr_field *f = hdr_find(h, name, 0);
	if (f == NULL || f->ulen == 0)
		return 0;
	str_printable(o->campaign, sizeof(o->campaign), f->unfolded, f->ulen);
	return 1;
}

void bulk_detect(const hdr_set *h, const struct bulk_settings *set, const char *from_domain,
                 struct bulk_outcome *o)
{
	memset(o, 0, sizeof(*o));
	const struct hdr_field *p = hdr_find(h, "Precedence", 0);
	if (p && (mem_caseeq(p->unfolded, p->ulen, "bulk", 4) || mem_caseeq(p->unfolded, p->ulen, "list", 4) ||
	          mem_caseeq(p->unfolded, p->ulen, "junk", 4))) {
		char r[64];
		snprintf(r, sizeof(r), "precedence: %.*s", (int)p->ulen, p->unfolded);
		str_lower(r);
		set_reason(o, r);
	}
	if (hdr_find(h, "List-Id", 0))
		set_reason(o, "list-id");
	if (hdr_find(h, "List-Unsubscribe", 0))
		set_reason(o, "list-unsubscribe");
	if (hdr_find(h, "Feedback-ID", 0))
		set_reason(o, "feedback-id");
	for (size_t i = 0; i < set->nheaders; i++)
		if (hdr_find(h, set->headers[i], 0)) {
			char r[128];
			snprintf(r, sizeof(r), "header %s", set->headers[i]);
			set_reason(o, r);
		}
	if (from_domain && from_domain[0] && domain_in(from_domain, set->senders, set->nsenders))
		set_reason(o, "configured sender");
	const char *ch = set->campaign_header;
	if (!(ch[0] && campaign_from(h, ch, o)) && !campaign_from(h, "List-Id", o))
		campaign_from(h, "Feedback-ID", o);
}

/* bulk_findings - see bulk.h. */
void bulk_findings(const struct bulk_outcome *o, enum unsub_verdict unsub, findings *f)
{
	if (o->bulk && unsub != UNSUB_COMPLIANT)
		findings_add(f, unsub == UNSUB_ABSENT ? "bulk.no_list_unsubscribe" : "bulk.no_one_click",
		             "bulk mail (%s) without compliant RFC 8058 one-click unsubscribe", o->reason);
}
