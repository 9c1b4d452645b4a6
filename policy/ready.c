/*
 * ready - provider readiness; see ready.h.
 */
#include <string.h>
#include "ready.h"
#include "buf.h"

int ready_unsub_gmail(const struct unsub_outcome *u)
{
	return u->verdict == UNSUB_COMPLIANT;
}

int ready_unsub_yahoo(const struct unsub_outcome *u)
{
	return ready_unsub_gmail(u) || (u->n_list_unsubscribe == 1 && !u->uris.syntax_error &&
	                                !u->uris.more && u->has_mailto);
}

/* add - one requirement missing (unknown 0) or not checked (1) to the
 * providers in mask (1 Gmail, 2 Yahoo, 4 Microsoft). */
static void add(struct ready_outcome *out, unsigned mask, int unknown, const char *why)
{
	struct readiness *p[3] = { &out->gmail, &out->yahoo, &out->microsoft };
	for (int i = 0; i < 3; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (p[i]->nwhy < READINESS_WHY_MAX)
			str_copy(p[i]->why[p[i]->nwhy++], sizeof(p[i]->why[0]), why, strlen(why));
		if (!unknown)
			p[i]->unknown = -1;    /* something is known missing: "not ready" wins */
		else if (p[i]->unknown == 0)
			p[i]->unknown = 1;
	}
}

/* auth - SPF, DKIM and DMARC, each listed; a DNS failure or an SPF check
 * without a client address is "not checked", never "missing". Nonzero when
 * something was not checked. */
static int auth(const struct ready_input *in, struct ready_outcome *out)
{
	int spf_unknown = !in->spf_checked || in->spf == AR_TEMPERROR;
	if (!in->spf_checked)
		add(out, 7, 1, "SPF not checked: no client address");
	else if (in->spf == AR_TEMPERROR)
		add(out, 7, 1, "SPF could not be checked (DNS failure)");
	else if (in->spf != AR_PASS)
		add(out, 7, 0, "SPF does not pass");
	int dkim_unknown = !in->dkim_pass && in->dkim_temperror;
	if (dkim_unknown)
		add(out, 7, 1, "DKIM could not be checked (key lookup failed)");
	else if (!in->dkim_pass)
		add(out, 7, 0, "no passing DKIM signature");
	int unknown = spf_unknown || dkim_unknown;
	if (in->dmarc == AR_TEMPERROR)
		add(out, 7, 1, "DMARC could not be checked (DNS failure)");
	else if (!in->dmarc_record)
		add(out, 7, 0, "no DMARC record");
	else if (in->dmarc != AR_PASS)
		add(out, 7, unknown, unknown ? "DMARC does not pass with what could be checked"
		                             : "DMARC does not pass aligned");
	return unknown || in->dmarc == AR_TEMPERROR;
}

/* ready_evaluate - authentication for all three (Microsoft asks for SPF,
 * DKIM and DMARC; a working unsubscribe is only recommended there), then
 * format and the unsubscribe rules of Gmail and Yahoo for bulk mail. */
void ready_evaluate(const struct ready_input *in, struct ready_outcome *out)
{
	memset(out, 0, sizeof(*out));
	int unknown = auth(in, out);
	if (!in->format_ok)
		add(out, 3, 0, "RFC 5322 format findings");
	if (in->bulk && !ready_unsub_gmail(in->unsub))
		add(out, 1, unknown && in->unsub->verdict != UNSUB_ABSENT,
		    "bulk mail without RFC 8058 one-click unsubscribe covered by an aligned DKIM signature");
	if (in->bulk && !ready_unsub_yahoo(in->unsub))
		add(out, 2, 0, "bulk mail without a usable List-Unsubscribe");
	struct readiness *p[3] = { &out->gmail, &out->yahoo, &out->microsoft };
	for (int i = 0; i < 3; i++) {
		p[i]->ready = p[i]->nwhy == 0;
		p[i]->unknown = p[i]->unknown > 0;
	}
}
