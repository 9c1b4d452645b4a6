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

/* set - one provider's verdict with the first missing item. */
static void set(struct readiness *r, const char *missing)
{
	r->ready = missing == NULL;
	str_copy(r->why, sizeof(r->why), missing ? missing : "", missing ? strlen(missing) : 0);
}

/* ready_evaluate - authentication for all three (Microsoft asks for SPF,
 * DKIM and DMARC; a working unsubscribe is only recommended there), then
 * format and the unsubscribe rules of Gmail and Yahoo for bulk mail. */
void ready_evaluate(const struct ready_input *in, struct ready_outcome *out)
{
	const char *auth = NULL;
	if (in->spf != AR_PASS)
		auth = "SPF does not pass";
	else if (!in->dkim_pass)
		auth = "no passing DKIM signature";
	else if (!in->dmarc_record)
		auth = "no DMARC record";
	else if (in->dmarc != AR_PASS)
		auth = "DMARC does not pass aligned";
	set(&out->microsoft, auth);
	const char *g = auth, *y = auth;
	if (!g && !in->format_ok)
		g = y = "RFC 5322 format findings";
	if (!g && in->bulk && !ready_unsub_gmail(in->unsub))
		g = "bulk mail without RFC 8058 one-click unsubscribe covered by an aligned DKIM signature";
	if (!y && in->bulk && !ready_unsub_yahoo(in->unsub))
		y = "bulk mail without a usable List-Unsubscribe";
	set(&out->gmail, g);
	set(&out->yahoo, y);
}
