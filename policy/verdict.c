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

/* pattern_match - exact name, or prefix when the pattern ends in '*'. */
static int pattern_match(const char *pat, const char *name)
{
	size_t pl = strlen(pat);
	if (pl && pat[pl - 1] == '*')
		return strncmp(pat, name, pl - 1) == 0;
	return strcmp(pat, name) == 0;
}

/* verdict_set_reply - parse "CODE X.Y.Z text" into the verdict; a reply that
 * is not of that form (or NULL) leaves the verdict's reply unchanged. */
void verdict_set_reply(struct verdict *v, const char *reply)
{
	char code[8] = "", x[16] = "";
	int off = 0;
	if (reply && sscanf(reply, "%3[0-9] %11[0-9.]%n", code, x, &off) == 2 &&
	    strlen(code) == 3 && (code[0] == '4' || code[0] == '5') && x[0] == code[0]) {
		const char *text = reply + off;
		while (*text == ' ')
			text++;
		str_copy(v->rcode, sizeof(v->rcode), code, 3);
		str_copy(v->xcode, sizeof(v->xcode), x, strlen(x));
		str_copy(v->reply, sizeof(v->reply), text, strlen(text));
	}
}

/* struct pick - the strongest rule found so far for one finding. */
struct pick {
	int have;
	enum verdict_action act;
	const char *reply;
};

/* pick_rule - consider one rule "PATTERN=ACTION[:reply]" for the finding
 * name; keep it if it matches and is stronger than what p holds. */
static void pick_rule(struct pick *p, const char *rule, const char *name)
{
	char pat[128];
	enum verdict_action a;
	const char *rp;
	if (verdict_rule_parse(rule, pat, sizeof(pat), &a, &rp) != 0 || !pattern_match(pat, name))
		return;
	if (!p->have || verdict_action_rank(a) > verdict_action_rank(p->act)) {
		p->have = 1;
		p->act = a;
		p->reply = rp;
	}
}

/* pick_for - the strongest candidate rule for one finding: among the
 * matching domain rules if there is one, else among the direction's. */
static struct pick pick_for(const struct verdict_input *in, const char *name)
{
	struct pick p = { 0, ACT_ACCEPT, NULL };
	for (size_t r = 0; r < in->ndomain_rules && in->from_domain; r++) {
		const char *dr = in->domain_rules[r], *colon = strchr(dr, ':');
		if (colon && dom_at_or_below(in->from_domain, strlen(in->from_domain), dr, (size_t)(colon - dr)))
			pick_rule(&p, colon + 1, name);
	}
	if (p.have)
		return p;
	for (size_t r = 0; r < in->nrules; r++)
		pick_rule(&p, in->rules[r], name);
	return p;
}

/* verdict_decide - see verdict.h. */
void verdict_decide(const struct verdict_input *in, struct verdict *v)
{
	int best = -1;
	enum verdict_action best_act = ACT_ACCEPT;
	const char *best_reply = NULL;
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
	const char *def = best_act == ACT_TEMPFAIL ? in->tempfail_reply : in->reject_reply;
	verdict_set_reply(v, def);
	verdict_set_reply(v, best_reply);
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
