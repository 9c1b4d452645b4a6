/*
 * verdict - the single funnel from findings and policy rules to an action.
 *
 * Rules are "FINDING=ACTION[:CODE X.Y.Z text]" (see conf.c). For every finding
 * the rules that match it are the candidates: the domain rules for the From
 * domain (or a parent) when any of them matches the finding, else the rules
 * of the message's direction. A domain rule thus replaces the direction's
 * rules for that finding, in either direction of strength (a partner's
 * spf.fail=accept softens, a bank's dmarc.*=reject hardens). Among the
 * candidates, and then over all findings, the strongest action wins:
 * reject = discard > tempfail > quarantine > junk > accept, so the order of
 * the rules in a list never changes the result (on equal strength the first
 * rule's reply is kept). Allowlisted mail and monitor mode keep the decision
 * for the log but enforce accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "verdict.h"
#include "buf.h"

static const char *const action_names[] = {
	[ACT_ACCEPT] = "accept", [ACT_QUARANTINE] = "quarantine",
	[ACT_TEMPFAIL] = "tempfail", [ACT_REJECT] = "reject", [ACT_DISCARD] = "discard",
	[ACT_JUNK] = "junk",
};

const char *verdict_action_name(enum verdict_action a)
{
	return (unsigned)a <= ACT_LAST ? action_names[a] : "accept";
}

int verdict_action_parse(const char *s)
{
	for (int i = 0; i <= ACT_LAST; i++)
		if (strcmp(s, action_names[i]) == 0)
			return i;
	return -1;
}

/* verdict_clear - free owned header values and zero everything. */
void verdict_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->nadd; i++)
		free(v->add[i].value);
	memset(v, 0, sizeof(*v));
}

/* verdict_add_header - remember a header to insert. */
int verdict_add_header(struct verdict *v, const char *name, const char *value)
{
	if (v->nadd >= VERDICT_MAX_ADD)
		return -1;
	char *copy = strdup(value);
	if (copy == NULL)
		return -1;
	str_copy(v->add[v->nadd].name, sizeof(v->add[v->nadd].name), name, strlen(name));
	v->add[v->nadd++].value = copy;
	return 0;
}

/* verdict_action_rank - see verdict.h: discard ranks with reject; junk
 * (delivered, marked for the Junk folder) is weaker than quarantine (held,
 * seen by nobody until released). */
int verdict_action_rank(enum verdict_action a)
{
	switch (a) {
	case ACT_REJECT: case ACT_DISCARD: return 4;
	case ACT_TEMPFAIL: return 3;
	case ACT_QUARANTINE: return 2;
	case ACT_JUNK: return 1;
	default: return 0;
	}
}

/* verdict_rule_parse - split "PATTERN=ACTION[:reply]"; 0 ok, -1 malformed. */
int verdict_rule_parse(const char *rule, char *pat, size_t patsz, enum verdict_action *act,
                       const char **reply)
{
	const char *eq = strchr(rule, '=');
	if (eq == NULL || eq == rule)
		return -1;
	if (str_copy(pat, patsz, rule, (size_t)(eq - rule)) < 0)
		return -1;
	const char *a = eq + 1;
	size_t al = strcspn(a, ":");
	char an[16];
	if (str_copy(an, sizeof(an), a, al) < 0)
		return -1;
	int ai = verdict_action_parse(an);
	if (ai < 0)
		return -1;
	*act = (enum verdict_action)ai;
	*reply = a[al] == ':' ? a + al + 1 : NULL;
	return 0;
}

/* rule_match - exact name, or prefix for a pattern that ended in '*'. */
static int rule_match(const struct verdict_rule *r, const char *name)
{
	if (r->prefix)
		return strncmp(r->pattern, name, r->patlen) == 0;
	return strcmp(r->pattern, name) == 0;
}

/* verdict_reply_parse - see verdict.h. */
int verdict_reply_parse(const char *reply, struct verdict_reply *r)
{
	char code[8] = "", x[16] = "";
	int off = 0;
	memset(r, 0, sizeof(*r));
	if (reply && sscanf(reply, "%3[0-9] %11[0-9.]%n", code, x, &off) == 2 &&
	    strlen(code) == 3 && (code[0] == '4' || code[0] == '5') && x[0] == code[0]) {
		const char *text = reply + off;
		while (*text == ' ')
			text++;
		str_copy(r->rcode, sizeof(r->rcode), code, 3);
		str_copy(r->xcode, sizeof(r->xcode), x, strlen(x));
		str_copy(r->text, sizeof(r->text), text, strlen(text));
		return 0;
	}
	return -1;
}

/* verdict_apply_reply - see verdict.h. */
void verdict_apply_reply(struct verdict *v, const struct verdict_reply *r)
{
	if (r == NULL || r->rcode[0] == '\0')
		return;
	memcpy(v->rcode, r->rcode, sizeof(v->rcode));
	memcpy(v->xcode, r->xcode, sizeof(v->xcode));
	memcpy(v->reply, r->text, sizeof(v->reply));
}

/* verdict_set_reply - parse "CODE X.Y.Z text" into the verdict; a reply that
 * is not of that form (or NULL) leaves the verdict's reply unchanged. */
void verdict_set_reply(struct verdict *v, const char *reply)
{
	struct verdict_reply r;
	if (verdict_reply_parse(reply, &r) == 0)
		verdict_apply_reply(v, &r);
}

/* action_list - "accept|quarantine|..." from the name table. */
static void action_list(char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i <= ACT_LAST; i++) {
		int k = snprintf(out + o, outsz - o, "%s%s", i ? "|" : "", action_names[i]);
		if (k < 0 || (size_t)k >= outsz - o)
			break;
		o += (size_t)k;
	}
}

/* verdict_reply_compile - see verdict.h. */
int verdict_reply_compile(const char *reply, char want, struct verdict_reply *r, char *why,
                          size_t whylen)
{
	if (verdict_reply_parse(reply, r) < 0) {
		snprintf(why, whylen, "reply \"%s\" is not \"CODE X.Y.Z text\" (4xx or 5xx, same class)", reply);
		return -1;
	}
	if (r->rcode[0] != want) {
		snprintf(why, whylen, "reply \"%s\" must be a %cxx reply", reply, want);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

/* verdict_rule_compile - see verdict.h. */
int verdict_rule_compile(const char *text, struct verdict_rule *r, const char **reply,
                         char *why, size_t whylen)
{
	enum verdict_action act;
	memset(r, 0, sizeof(*r));
	const char *eq = strchr(text, '=');
	if (eq == NULL || eq == text) {
		snprintf(why, whylen, "\"%s\" is not FINDING=ACTION[:reply]", text);
		return -1;
	}
	if (verdict_rule_parse(text, r->pattern, sizeof(r->pattern), &act, reply) < 0) {
		char acts[160];
		action_list(acts, sizeof(acts));
		size_t al = strcspn(eq + 1, ":");
		snprintf(why, whylen, "\"%s\": action \"%.*s\" is not one of %s", text, (int)al, eq + 1, acts);
		return -1;
	}
	r->action = act;
	r->patlen = strlen(r->pattern);
	if (r->patlen > 0 && r->pattern[r->patlen - 1] == '*') {
		r->prefix = 1;
		r->pattern[--r->patlen] = '\0';
	}
	return 0;
}

/* verdict_rule_reply - see verdict.h. */
int verdict_rule_reply(const char *text, struct verdict_rule *r, const char *reply, char *why,
                       size_t whylen)
{
	if (reply == NULL)
		return 0;
	if (r->action != ACT_REJECT && r->action != ACT_TEMPFAIL) {
		snprintf(why, whylen, "\"%s\": a reply applies only to reject and tempfail", text);
		return -1;
	}
	char w[200];
	if (verdict_reply_compile(reply, r->action == ACT_REJECT ? '5' : '4', &r->reply, w, sizeof(w)) < 0) {
		snprintf(why, whylen, "\"%s\": %s", text, w);
		return -1;
	}
	return 0;
}

/* struct pick - the strongest rule found so far for one finding. */
struct pick {
	int have;
	enum verdict_action act;
	const struct verdict_reply *reply;
};

/* pick_rule - keep rule r if it matches the finding name and is stronger
 * than what p holds. */
static void pick_rule(struct pick *p, const struct verdict_rule *r, const char *name)
{
	if (!rule_match(r, name))
		return;
	if (!p->have || verdict_action_rank(r->action) > verdict_action_rank(p->act)) {
		p->have = 1;
		p->act = r->action;
		p->reply = &r->reply;
	}
}

/* pick_for - the strongest candidate rule for one finding: among the
 * matching domain rules if there is one, else among the direction's. */
static struct pick pick_for(const struct verdict_input *in, const char *name)
{
	struct pick p = { 0, ACT_ACCEPT, NULL };
	for (size_t r = 0; r < in->ndomain_rules && in->from_domain; r++) {
		const struct verdict_domain_rule *dr = &in->domain_rules[r];
		if (dom_at_or_below(in->from_domain, strlen(in->from_domain), dr->domain, dr->dlen))
			pick_rule(&p, &dr->rule, name);
	}
	if (p.have)
		return p;
	for (size_t r = 0; r < in->nrules; r++)
		pick_rule(&p, &in->rules[r], name);
	return p;
}

/* verdict_decide - see verdict.h. */
void verdict_decide(const struct verdict_input *in, struct verdict *v)
{
	int best = -1;
	enum verdict_action best_act = ACT_ACCEPT;
	const struct verdict_reply *best_reply = NULL;
	for (size_t i = 0; i < in->nfindings; i++) {
		const char *name = in->finding_names[i];
		struct pick p = pick_for(in, name);
		if (p.have && verdict_action_rank(p.act) > best) {
			best = verdict_action_rank(p.act);
			best_act = p.act;
			best_reply = p.reply;
			snprintf(v->reason, sizeof(v->reason), "%s", name);
		}
	}
	v->decided = best_act;
	v->action = best_act;
	verdict_apply_reply(v, best_act == ACT_TEMPFAIL ? in->tempfail_reply : in->reject_reply);
	verdict_apply_reply(v, best_reply);
	if (in->allowlisted && best_act != ACT_ACCEPT) {
		v->action = ACT_ACCEPT;
		snprintf(v->reason + strlen(v->reason), sizeof(v->reason) - strlen(v->reason),
		         " (allowlisted: %s)", in->allowlisted);
	}
	if (in->dry_run) {
		v->dry_run = 1;
		v->action = ACT_ACCEPT;
	}
}
