/*
 * verdict - the single funnel from findings and policy rules to an action.
 *
 * Rules are "FINDING=ACTION[:CODE X.Y.Z text]" (see conf.c). For every finding
 * the rules of the message's direction are searched (a domain rule for the
 * From domain replaces the direction's rule for the same pattern); the
 * strongest action over all findings wins: reject > tempfail > quarantine >
 * accept. Allowlisted mail and dry-run keep the decision for the log but
 * enforce accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "verdict.h"
#include "buf.h"

static const char *const action_names[] = {
	[ACT_ACCEPT] = "accept", [ACT_QUARANTINE] = "quarantine",
	[ACT_TEMPFAIL] = "tempfail", [ACT_REJECT] = "reject", [ACT_DISCARD] = "discard",
};

const char *verdict_action_name(enum verdict_action a)
{
	return (unsigned)a <= ACT_DISCARD ? action_names[a] : "accept";
}

int verdict_action_parse(const char *s)
{
	for (int i = 0; i <= ACT_DISCARD; i++)
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

/* action_rank - strength used to pick the winner; discard ranks with reject. */
static int action_rank(enum verdict_action a)
{
	switch (a) {
	case ACT_REJECT: case ACT_DISCARD: return 3;
	case ACT_TEMPFAIL: return 2;
	case ACT_QUARANTINE: return 1;
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

/* domain_match - d equals dom or is a subdomain of it. */
static int domain_match(const char *dom, size_t dl, const char *d)
{
	size_t n = strlen(d);
	if (n == dl)
		return mem_caseeq(dom, dl, d, n);
	return n > dl && d[n - dl - 1] == '.' && mem_caseeq(dom, dl, d + n - dl, dl);
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

/* verdict_decide - see verdict.h. */
void verdict_decide(const struct verdict_input *in, struct verdict *v)
{
	int best = -1;
	enum verdict_action best_act = ACT_ACCEPT;
	const char *best_reply = NULL;
	for (size_t i = 0; i < in->nfindings; i++) {
		const char *name = in->finding_names[i];
		int have = 0;
		enum verdict_action act = ACT_ACCEPT;
		const char *reply = NULL;
		char pat[128];
		for (size_t r = 0; r < in->nrules; r++) {
			enum verdict_action a;
			const char *rp;
			if (verdict_rule_parse(in->rules[r], pat, sizeof(pat), &a, &rp) == 0 &&
			    pattern_match(pat, name) && !have) {
				have = 1, act = a, reply = rp;
			}
		}
		for (size_t r = 0; r < in->ndomain_rules && in->from_domain; r++) {
			const char *colon = strchr(in->domain_rules[r], ':');
			enum verdict_action a;
			const char *rp;
			if (colon && domain_match(in->domain_rules[r], (size_t)(colon - in->domain_rules[r]),
			                          in->from_domain) &&
			    verdict_rule_parse(colon + 1, pat, sizeof(pat), &a, &rp) == 0 &&
			    pattern_match(pat, name)) {
				have = 1, act = a, reply = rp;
			}
		}
		if (have && action_rank(act) > best) {
			best = action_rank(act);
			best_act = act;
			best_reply = reply;
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
