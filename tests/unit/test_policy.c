/*
 * test_policy - the configuration compiler (policy.c): rules per direction,
 * domain rules, networks, replies, mode, numbers, spam weights, and the
 * errors bad values give (with the key and item), table-driven; the funnel
 * run on compiled rules in both orders.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "t.h"
#include "conf.h"
#include "policy.h"
#include "verdict.h"

/* compile - defaults with key=value set; the policy or NULL with err. */
static struct policy *compile(const char *key, const char *value, char *err, size_t errlen)
{
	conf *c = conf_load(NULL, err, errlen);
	if (c == NULL)
		return NULL;
	if (key && conf_set(c, key, value, err, errlen) != 0) {
		conf_unref(c);
		return NULL;
	}
	struct policy *p = policy_new(c, err, errlen);
	conf_unref(c);         /* the policy keeps its own reference */
	return p;
}

static void test_errors(void)
{
	static const struct { const char *key, *value, *want; } c[] = {
		{ "policy.inbound.actions", "dmarc.fail", "policy.inbound.actions: item 1: \"dmarc.fail\" is not FINDING=ACTION[:reply]" },
		{ "policy.inbound.actions", "dmarc.fail=explode", "action \"explode\" is not one of accept|quarantine|tempfail|reject|discard|junk" },
		{ "policy.outbound.actions", "spf.nope=reject", "policy.outbound.actions: item 1: \"spf.nope=reject\": unknown finding \"spf.nope\"" },
		{ "policy.inbound.actions", "nothing.*=reject", "no finding starts with \"nothing.\"" },
		{ "policy.inbound.actions", "spf.fail=junk:550 5.7.1 no", "a reply applies only to reject and tempfail" },
		{ "policy.inbound.actions", "spf.fail=reject:451 4.7.1 later", "must be a 5xx reply" },
		{ "policy.inbound.actions", "spf.fail=tempfail:hello", "is not \"CODE X.Y.Z text\"" },
		{ "policy.domain_actions", "bad domain:spf.fail=accept", "is not DOMAIN:FINDING=ACTION[:reply]" },
		{ "policy.domain_actions", "example.com:spf.nope=accept", "unknown finding \"spf.nope\"" },
		{ "policy.allow_networks", "192.0.2.0/33", "policy.allow_networks: item 1: \"192.0.2.0/33\" is not an address" },
		{ "milter.internal_networks", "10.0.0.0/8,not-a-net", "milter.internal_networks: item 2:" },
		{ "policy.reject_reply", "451 4.7.1 no", "policy.reject_reply: reply \"451 4.7.1 no\" must be a 5xx reply" },
		{ "policy.tempfail_reply", "later", "policy.tempfail_reply: reply \"later\" is not" },
		{ "spam.weights", "spam.nope=1", "spam.weights: \"spam.nope=1\" is not SIGNAL=WEIGHT" },
	};
	char err[512];
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = '\0';
		struct policy *p = compile(c[i].key, c[i].value, err, sizeof(err));
		T_OK(p == NULL, "refused: %s = %s", c[i].key, c[i].value);
		T_OK(strstr(err, c[i].want) != NULL, "error names it: %s (got \"%s\")", c[i].want, err);
		T_OK(strncmp(err, "(defaults)", 10) == 0 || strchr(err, ':') != NULL, "error has a place: %s", err);
		policy_free(p);
	}
}

static void test_values(void)
{
	char err[512];
	struct policy *p = compile(NULL, NULL, err, sizeof(err));
	T_OK(p != NULL, "defaults compile (%s)", p ? "" : err);
	if (p == NULL)
		return;
	T_INT(p->mode, POLICY_MONITOR, "monitor mode by default");
	T_INT(p->on_error, POLICY_ON_ERROR_TEMPFAIL, "on_error tempfail by default");
	T_STR(p->reject_reply.rcode, "550", "reject reply parsed");
	T_STR(p->tempfail_reply.rcode, "451", "tempfail reply parsed");
	T_OK(p->nrules[POLICY_INBOUND] > 0 && p->nrules[POLICY_OUTBOUND] > 0, "both directions have rules");
	T_OK(p->header_count > 0 && p->dns_max_queries > 0, "limits are numbers");
	policy_free(p);

	p = compile("policy.dry_run", "true", err, sizeof(err));
	T_OK(p && p->mode == POLICY_MONITOR, "dry_run folds into monitor");
	policy_free(p);
	p = compile("policy.mode", "enforce", err, sizeof(err));
	T_OK(p && p->mode == POLICY_ENFORCE, "enforce");
	policy_free(p);
	p = compile("policy.on_error", "accept", err, sizeof(err));
	T_OK(p && p->on_error == POLICY_ON_ERROR_ACCEPT, "on_error accept");
	policy_free(p);

	p = compile("arc.override_action", "junk", err, sizeof(err));
	T_OK(p && p->nrules[POLICY_INBOUND] > 0 &&
	     p->rules[POLICY_INBOUND][p->nrules[POLICY_INBOUND] - 1].action == ACT_JUNK,
	     "arc.override_action = junk");
	policy_free(p);
	p = compile("arc.trusted_sealers", "lists.example.org,fwd.example.net", err, sizeof(err));
	T_OK(p && p->narc_sealers == 2 && strcmp(p->arc_sealers[1].name, "fwd.example.net") == 0 &&
	     p->arc_sealers[1].len == 15 && p->arc_verify, "arc.trusted_sealers compiled, arc.verify on");
	policy_free(p);

	p = compile("policy.inbound.actions", "dmarc.*=accept,dmarc.fail=reject:550 5.7.26 no", err, sizeof(err));
	/* the two configured, then arc.override_action as "dmarc.override.arc=accept" */
	T_OK(p && p->nrules[POLICY_INBOUND] == 3, "two inbound rules and the ARC override's");
	if (p) {
		const struct verdict_rule *r = p->rules[POLICY_INBOUND];
		T_OK(!r[2].prefix && strcmp(r[2].pattern, "dmarc.override.arc") == 0 &&
		     r[2].action == ACT_ACCEPT, "arc.override_action compiled as the last inbound rule");
		T_OK(r[0].prefix && strcmp(r[0].pattern, "dmarc.") == 0 && r[0].patlen == 6 &&
		     r[0].action == ACT_ACCEPT && r[0].reply.rcode[0] == '\0', "prefix rule compiled");
		T_OK(!r[1].prefix && strcmp(r[1].pattern, "dmarc.fail") == 0 && r[1].action == ACT_REJECT &&
		     strcmp(r[1].reply.xcode, "5.7.26") == 0 && strcmp(r[1].reply.text, "no") == 0,
		     "exact rule with its reply compiled");
	}
	policy_free(p);

	p = compile("policy.domain_actions", "Bank.Example:dmarc.fail=reject,partner.example:spf.*=accept",
	            err, sizeof(err));
	T_OK(p && p->ndomain_rules == 2, "two domain rules");
	if (p) {
		T_OK(p->domain_rules[0].dlen == 12 && strcmp(p->domain_rules[0].domain, "Bank.Example") == 0 &&
		     p->domain_rules[0].rule.action == ACT_REJECT, "domain rule: domain and rule");
		T_OK(p->domain_rules[1].rule.prefix, "domain rule: prefix pattern");
	}
	policy_free(p);

	p = compile("policy.allow_networks", "192.0.2.0/24,2001:db8::/32,198.51.100.7", err, sizeof(err));
	T_OK(p && p->nallow_networks == 3, "three networks");
	if (p) {
		const struct policy_net *n = policy_net_match(p->allow_networks, p->nallow_networks, "192.0.2.77");
		T_OK(n && strcmp(n->text, "192.0.2.0/24") == 0, "IPv4 in a network");
		n = policy_net_match(p->allow_networks, p->nallow_networks, "::ffff:198.51.100.7");
		T_OK(n && strcmp(n->text, "198.51.100.7") == 0, "mapped IPv4 matches a bare address");
		T_OK(policy_net_match(p->allow_networks, p->nallow_networks, "2001:db8:1::5") != NULL, "IPv6 in a network");
		T_OK(policy_net_match(p->allow_networks, p->nallow_networks, "192.0.3.1") == NULL, "outside");
		T_OK(policy_net_match(p->allow_networks, p->nallow_networks, "garbage") == NULL, "bad address");
	}
	policy_free(p);

	p = compile("spam.inbound.reject_score", "12", err, sizeof(err));
	T_OK(p && p->spam_scores[POLICY_INBOUND].reject == 12, "threshold typed");
	policy_free(p);
}

/* decide - the decided action for one finding under a compiled policy. */
static enum verdict_action decide(const struct policy *p, const char *finding, const char *from)
{
	const char *names[] = { finding };
	struct verdict_input in = { .finding_names = names, .nfindings = 1,
		.rules = p->rules[POLICY_INBOUND], .nrules = p->nrules[POLICY_INBOUND],
		.domain_rules = p->domain_rules, .ndomain_rules = p->ndomain_rules, .from_domain = from,
		.reject_reply = &p->reject_reply, .tempfail_reply = &p->tempfail_reply };
	struct verdict v;
	memset(&v, 0, sizeof(v));
	verdict_decide(&in, &v);
	enum verdict_action a = v.decided;
	verdict_clear(&v);
	return a;
}

static void test_orders(void)
{
	static const struct { const char *rules, *domain, *finding, *from; enum verdict_action want; const char *name; } c[] = {
		{ "dmarc.*=accept,dmarc.fail=reject", "", "dmarc.fail", NULL, ACT_REJECT, "accept first, reject wins" },
		{ "dmarc.fail=reject,dmarc.*=accept", "", "dmarc.fail", NULL, ACT_REJECT, "reject first, reject wins" },
		{ "spf.fail=junk,spf.*=quarantine", "", "spf.fail", NULL, ACT_QUARANTINE, "quarantine beats junk" },
		{ "spf.*=quarantine,spf.fail=junk", "", "spf.fail", NULL, ACT_QUARANTINE, "quarantine beats junk, reversed" },
		{ "spf.fail=reject", "partner.example:spf.*=accept", "spf.fail", "mx.partner.example", ACT_ACCEPT, "domain rule softens" },
		{ "spf.fail=reject", "partner.example:spf.*=accept", "spf.fail", "partner.example.org", ACT_REJECT, "not a subdomain" },
		{ "dmarc.fail=junk", "bank.example:dmarc.*=quarantine,bank.example:dmarc.fail=reject", "dmarc.fail", "BANK.example", ACT_REJECT, "domain rules: strongest, any case" },
		{ "dmarc.fail=junk", "bank.example:dmarc.fail=reject,bank.example:dmarc.*=quarantine", "dmarc.fail", "bank.example", ACT_REJECT, "domain rules reversed" },
	};
	char err[512];
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		conf *k = conf_load(NULL, err, sizeof(err));
		conf_set(k, "policy.inbound.actions", c[i].rules, err, sizeof(err));
		if (c[i].domain[0])
			conf_set(k, "policy.domain_actions", c[i].domain, err, sizeof(err));
		struct policy *p = policy_new(k, err, sizeof(err));
		conf_unref(k);
		T_OK(p != NULL, "order: %s compiles", c[i].name);
		if (p)
			T_INT(decide(p, c[i].finding, c[i].from), c[i].want, "order: %s", c[i].name);
		policy_free(p);
	}
}

int main(void)
{
	test_errors();
	test_values();
	test_orders();
	return t_done();
}
