/*
 * reply - turn a verdict into milter modifications: header removals and
 * insertions, quarantine, an SMTP reply, and the answer for end of
 * message. The verdict itself is decided in policy/verdict.c; nothing here
 * chooses an action, it only carries one out.
 *
 * Order matters:
 *   1. removals first, each name's occurrences in descending index order.
 *      SMFIR_CHGHEADER addresses "the Nth field of this name"; removing the
 *      highest index first keeps the lower indexes valid whether the MTA
 *      renumbers after a deletion (Postfix) or not (Sendmail), and removing
 *      before inserting keeps our own Authentication-Results (same name as
 *      the forged ones we delete) out of the count.
 *   2. insertions at index 0 in reverse order, so that the fields end up at
 *      the top in the verdict's order.
 *   3. quarantine, then the reply code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "daemon.h"
#include "policy.h"
#include "buf.h"

#define REPLY_TEXT_MAX 512      /* escaped reply text: verdict.reply is < 256 bytes, '%' doubles */
#define HEADER_VALUE_MAX 65536  /* an inserted field; ours are a few hundred bytes */

/* reply_text_clean - copy s for the SMTP reply: printable ASCII only (one
 * line), '%' doubled (the milter convention, as with libmilter's
 * smfi_setreply: the MTA reads the text as a format). */
static void reply_text_clean(char *dst, size_t dstsz, const char *s)
{
	size_t o = 0;
	for (; *s != '\0' && o + 3 < dstsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%') {
			dst[o++] = '%';
			dst[o++] = '%';
		} else {
			dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
		}
	}
	dst[o] = '\0';
}

/* code_ok - nonzero if code is three digits starting with class. */
static int code_ok(const char *code, char class)
{
	return code[0] == class && code[1] >= '0' && code[1] <= '9' && code[2] >= '0' &&
	       code[2] <= '9' && code[3] == '\0';
}

/* set_reply - the SMTP reply, with a fallback code when the verdict's does
 * not match the action's class (a 4xx text on a reject would not be used,
 * and the MTA would send its generic reply). */
static void set_reply(mp_conn *mc, char class, const char *rcode, const char *xcode,
		      const char *text, const char *qid)
{
	char clean[REPLY_TEXT_MAX];
	const char *rc = rcode, *xc = xcode;
	if (!code_ok(rcode, class)) {
		rc = class == '5' ? "550" : "451";
		xc = class == '5' ? "5.7.1" : "4.7.1";
	} else if (xcode[0] != class) {
		xc = NULL;
	}
	if (xc != NULL && xc[0] == '\0')
		xc = NULL;
	reply_text_clean(clean, sizeof(clean), text);
	if (mp_setreply(mc, rc, xc, clean[0] ? clean : NULL) != 0)
		syslog(LOG_WARNING, "%s: reply %s not usable, the MTA uses its default reply",
		       qid, rc);
}

/* cmp_remove - sort key: name, then index descending. */
static int cmp_remove(const void *a, const void *b)
{
	const struct verdict_remove *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->index < y->index ? 1 : x->index > y->index ? -1 : 0;
}

/* header_value - the value as the MTA wants it: LF line breaks (the MTA
 * adds the CR), and a leading space when SMFIP_HDR_LEADSPC is in effect
 * (then the MTA inserts the value verbatim after the colon). */
static char *header_value(const char *v, int leadspc)
{
	buf *b = buf_new(HEADER_VALUE_MAX);
	if (b == NULL)
		return NULL;
	if (leadspc && v[0] != ' ' && v[0] != '\t')
		buf_putc(b, ' ');
	/* runs between CRLFs (only the CR goes) */
	for (const char *p = v; *p;) {
		const char *cr = strstr(p, "\r\n");
		size_t run = cr ? (size_t)(cr - p) : strlen(p);
		buf_append(b, p, run);
		p += run + (cr ? 1 : 0);
	}
	if (buf_overflowed(b)) {
		buf_free(b);
		return NULL;
	}
	return buf_steal(b);
}

/* edit_headers - removals then insertions; -1 if the MTA refused one. */
static int edit_headers(mp_conn *mc, const struct verdict *v, int leadspc, const char *qid)
{
	int rc = 0;
	struct verdict_remove rm[VERDICT_MAX_REMOVE];
	size_t nrm = v->nremove < VERDICT_MAX_REMOVE ? v->nremove : VERDICT_MAX_REMOVE;
	memcpy(rm, v->remove, nrm * sizeof(rm[0]));
	qsort(rm, nrm, sizeof(rm[0]), cmp_remove);
	for (size_t i = 0; i < nrm; i++) {
		if (mp_chgheader(mc, rm[i].name, rm[i].index, NULL) != 0) {
			syslog(LOG_WARNING, "%s: could not remove %s #%u", qid, rm[i].name, rm[i].index);
			rc = -1;
		}
	}
	size_t nadd = v->nadd < VERDICT_MAX_ADD ? v->nadd : VERDICT_MAX_ADD;
	for (size_t i = nadd; i-- > 0;) {
		char *val = header_value(v->add[i].value ? v->add[i].value : "", leadspc);
		if (val == NULL || mp_insheader(mc, 0, v->add[i].name, val) != 0) {
			syslog(LOG_WARNING, "%s: could not insert %s", qid, v->add[i].name);
			rc = -1;
		}
		free(val);
	}
	return rc;
}

/* reply_apply - carry out v; see daemon.h. */
enum mp_action reply_apply(mp_conn *mc, const struct verdict *v, int leadspc, const char *qid)
{
	/* Header edits go with every action that lets the message through;
	 * a rejected or deferred message is never delivered, so skip them. */
	if (v->action == ACT_ACCEPT || v->action == ACT_JUNK || v->action == ACT_QUARANTINE)
		edit_headers(mc, v, leadspc, qid);
	switch (v->action) {
	case ACT_QUARANTINE: {
		char why[REPLY_TEXT_MAX];
		reply_text_clean(why, sizeof(why), v->reason[0] ? v->reason : "trustmilter policy");
		if (mp_quarantine(mc, why) != 0)
			syslog(LOG_WARNING, "%s: quarantine refused by the MTA", qid);
		return MP_CONTINUE;
	}
	case ACT_TEMPFAIL:
		set_reply(mc, '4', v->rcode, v->xcode, v->reply, qid);
		return MP_TEMPFAIL;
	case ACT_REJECT:
		set_reply(mc, '5', v->rcode, v->xcode, v->reply, qid);
		return MP_REJECT;
	case ACT_DISCARD:
		return MP_DISCARD;
	case ACT_JUNK:      /* delivered; X-Spam-Flag is among the headers */
	case ACT_ACCEPT:
	default:
		/* CONTINUE, not ACCEPT: at end of message both accept, and
		 * CONTINUE is what lets later milters in the chain run. */
		return MP_CONTINUE;
	}
}

/* reply_on_error - policy.on_error for a message we could not evaluate,
 * with the compiled policy.tempfail_reply ("451 4.7.1 text"). */
enum mp_action reply_on_error(mp_conn *mc, const struct policy *pol, const char *qid, const char *why)
{
	int accept = pol && pol->on_error == POLICY_ON_ERROR_ACCEPT;
	syslog(LOG_ERR, "%s: cannot evaluate message (%s), on_error=%s", qid, why,
	       accept ? "accept" : "tempfail");
	if (accept)
		return MP_CONTINUE;
	const struct verdict_reply *r = pol ? &pol->tempfail_reply : NULL;
	set_reply(mc, '4', r ? r->rcode : "", r ? r->xcode : "", r ? r->text : "", qid);
	return MP_TEMPFAIL;
}
