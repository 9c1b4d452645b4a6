/*
 * policy - the configuration compiled into typed fields; see policy.h.
 *
 * Each list key is compiled item by item with the same functions that
 * conf_check runs for trustmilter -n, so a value that passes -n compiles,
 * and one that does not refuses the start or the reload with the same
 * message, file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"
#include "confcheck.h"
#include "findings.h"

/* policy_rule_compile - see policy.h. */
int policy_rule_compile(const char *text, struct verdict_rule *r, char *why, size_t whylen)
{
	const char *reply;
	if (verdict_rule_compile(text, r, &reply, why, whylen) < 0)
		return -1;
	if (r->prefix) {
		if (!findings_known_prefix(r->pattern, r->patlen)) {
			snprintf(why, whylen, "\"%s\": no finding starts with \"%s\" (docs/FINDINGS.md)",
			         text, r->pattern);
			return -1;
		}
	} else if (!findings_known(r->pattern)) {
		snprintf(why, whylen, "\"%s\": unknown finding \"%s\" (docs/FINDINGS.md)", text, r->pattern);
		return -1;
	}
	return verdict_rule_reply(text, r, reply, why, whylen);
}

/* policy_domain_rule_compile - see policy.h. */
int policy_domain_rule_compile(const char *text, struct verdict_domain_rule *r, char *why,
                               size_t whylen)
{
	const char *colon = strchr(text, ':');
	size_t dl = colon ? (size_t)(colon - text) : 0;
	memset(r, 0, sizeof(*r));
	if (colon == NULL || dom_name_len(text, dl, DOM_LDH | DOM_EDGE) < 0 || dl >= sizeof(r->domain)) {
		snprintf(why, whylen, "\"%s\" is not DOMAIN:FINDING=ACTION[:reply]", text);
		return -1;
	}
	memcpy(r->domain, text, dl);
	r->dlen = dl;
	return policy_rule_compile(colon + 1, &r->rule, why, whylen);
}

/* policy_net_compile - see policy.h. */
int policy_net_compile(const char *text, struct policy_net *n, char *why, size_t whylen)
{
	n->text = text;
	if (cidr_parse(text, &n->net))
		return 0;
	snprintf(why, whylen, "\"%s\" is not an address or ADDRESS/LENGTH network", text);
	return -1;
}

/* policy_net_match - see policy.h. */
const struct policy_net *policy_net_match(const struct policy_net *l, size_t n, const char *ip)
{
	unsigned char a[16];
	if (n == 0 || !cidr_addr(ip, a))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&l[i].net, a))
			return &l[i];
	return NULL;
}

/* struct build - compile state: the snapshot and the first error. */
struct build {
	const conf *c;
	char *err;
	size_t errlen;
	int bad;
};

/* fail - the first error, as conf_check words it ("FILE:LINE: KEY: ..."). */
static void fail(struct build *b, const char *key, size_t item, const char *why)
{
	if (b->bad++)
		return;
	if (item)
		snprintf(b->err, b->errlen, "%s: %s: item %zu: %s", conf_where(b->c, key), key, item, why);
	else
		snprintf(b->err, b->errlen, "%s: %s: %s", conf_where(b->c, key), key, why);
}

typedef int (*item_fn)(const char *text, void *out, char *why, size_t whylen);

static int rule_item(const char *t, void *o, char *w, size_t wl) { return policy_rule_compile(t, o, w, wl); }
static int domain_item(const char *t, void *o, char *w, size_t wl) { return policy_domain_rule_compile(t, o, w, wl); }
static int net_item(const char *t, void *o, char *w, size_t wl) { return policy_net_compile(t, o, w, wl); }

/* compile_list - every item of a list key through fn into a new array of
 * size-byte elements; the array (NULL when empty), its count in *n. */
static void *compile_list(struct build *b, const char *key, size_t size, item_fn fn, size_t *n)
{
	const char *const *items;
	size_t cnt = conf_list(b->c, key, &items);
	*n = 0;
	if (cnt == 0)
		return NULL;
	unsigned char *arr = calloc(cnt, size);
	if (arr == NULL) {
		fail(b, key, 0, "out of memory");
		return NULL;
	}
	char why[512];
	for (size_t i = 0; i < cnt; i++)
		if (fn(items[i], arr + i * size, why, sizeof(why)) < 0)
			fail(b, key, i + 1, why);
	*n = cnt;
	return arr;
}

/* compile_reply - a default reply key of class want. */
static void compile_reply(struct build *b, const char *key, char want, struct verdict_reply *r)
{
	char why[512];
	if (verdict_reply_compile(conf_str(b->c, key), want, r, why, sizeof(why)) < 0)
		fail(b, key, 0, why);
}

/* compile_override - arc.override_action as one more inbound rule,
 * "dmarc.override.arc=ACTION", so the verdict funnel, monitor mode and the
 * allowlists treat it as any other rule. */
static void compile_override(struct build *b, struct policy *p)
{
	size_t n = p->nrules[POLICY_INBOUND];
	struct verdict_rule *r = realloc(p->rules[POLICY_INBOUND], (n + 1) * sizeof(*r));
	if (r == NULL) {
		fail(b, "arc.override_action", 0, "out of memory");
		return;
	}
	p->rules[POLICY_INBOUND] = r;
	char text[64], why[512];
	snprintf(text, sizeof(text), "dmarc.override.arc=%s", conf_str(b->c, "arc.override_action"));
	memset(&r[n], 0, sizeof(r[n]));
	if (policy_rule_compile(text, &r[n], why, sizeof(why)) < 0)
		fail(b, "arc.override_action", 0, why);
	else
		p->nrules[POLICY_INBOUND] = n + 1;
}

/* compile_names - a list of domain names (no check beyond the list type). */
static struct policy_name *compile_names(struct build *b, const char *key, size_t *n)
{
	const char *const *l;
	size_t cnt = conf_list(b->c, key, &l);
	struct policy_name *a = NULL;
	*n = 0;
	if (cnt && (a = calloc(cnt, sizeof(*a))) == NULL)
		fail(b, key, 0, "out of memory");
	for (size_t i = 0; a && i < cnt; i++)
		a[(*n)++] = (struct policy_name){ l[i], strlen(l[i]) };
	return a;
}

/* compile_rules - the rule tables. */
static void compile_rules(struct build *b, struct policy *p)
{
	p->rules[POLICY_INBOUND] = compile_list(b, "policy.inbound.actions", sizeof(struct verdict_rule),
	                                        rule_item, &p->nrules[POLICY_INBOUND]);
	p->rules[POLICY_OUTBOUND] = compile_list(b, "policy.outbound.actions", sizeof(struct verdict_rule),
	                                         rule_item, &p->nrules[POLICY_OUTBOUND]);
	p->domain_rules = compile_list(b, "policy.domain_actions", sizeof(struct verdict_domain_rule),
	                               domain_item, &p->ndomain_rules);
	compile_override(b, p);
	compile_reply(b, "policy.reject_reply", '5', &p->reject_reply);
	compile_reply(b, "policy.tempfail_reply", '4', &p->tempfail_reply);
	p->mode = conf_bool(b->c, "policy.dry_run") || strcmp(conf_str(b->c, "policy.mode"), "enforce") != 0
		? POLICY_MONITOR : POLICY_ENFORCE;
	p->on_error = strcmp(conf_str(b->c, "policy.on_error"), "accept") == 0
		? POLICY_ON_ERROR_ACCEPT : POLICY_ON_ERROR_TEMPFAIL;
}

/* compile_lists - networks, senders, daemons, the egress address. */
static void compile_lists(struct build *b, struct policy *p)
{
	p->allow_networks = compile_list(b, "policy.allow_networks", sizeof(struct policy_net),
	                                 net_item, &p->nallow_networks);
	p->internal_networks = compile_list(b, "milter.internal_networks", sizeof(struct policy_net),
	                                    net_item, &p->ninternal_networks);
	p->allow_senders = compile_names(b, "policy.allow_senders", &p->nallow_senders);
	p->arc_sealers = compile_names(b, "arc.trusted_sealers", &p->narc_sealers);
	p->arc_seal_networks = compile_list(b, "arc.seal_networks", sizeof(struct policy_net),
	                                    net_item, &p->narc_seal_networks);
	p->narc_seal_daemons = conf_list(b->c, "arc.seal_daemons", &p->arc_seal_daemons);
	const char *seal = conf_str(b->c, "arc.seal");
	p->arc_seal = strcmp(seal, "outbound") == 0 ? POLICY_SEAL_OUTBOUND
	            : strcmp(seal, "listed") == 0 ? POLICY_SEAL_LISTED : POLICY_SEAL_NEVER;
	const char *const *l;
	size_t n;
	p->noutbound_daemons = conf_list(b->c, "milter.outbound_daemons", &p->outbound_daemons);
	p->nfeedback_arf = conf_list(b->c, "feedback.arf_recipients", &p->feedback_arf);
	p->nfeedback_dmarc = conf_list(b->c, "feedback.dmarc_recipients", &p->feedback_dmarc);
	p->feedback_discard = strcmp(conf_str(b->c, "feedback.after"), "discard") == 0;
	char why[512];
	if ((p->providers = provider_map_new(b->c, why, sizeof(why))) == NULL)
		fail(b, "feedback.providers", 0, why);
	n = conf_list(b->c, "milter.egress_addresses", &l);
	p->egress_address = n ? l[0] : NULL;
	p->bulk.nheaders = conf_list(b->c, "bulk.headers", &p->bulk.headers);
	p->bulk.nsenders = conf_list(b->c, "bulk.senders", &p->bulk.senders);
	p->bulk.campaign_header = conf_str(b->c, "bulk.campaign_header");
}

/* compile_numbers - limits, thresholds and flags. */
static void compile_numbers(struct build *b, struct policy *p)
{
	const conf *c = b->c;
	p->header_count = (size_t)conf_int(c, "limits.header_count");
	p->header_bytes = (size_t)conf_int(c, "limits.header_bytes");
	p->dns_max_queries = (unsigned)conf_int(c, "dns.max_queries");
	p->received_spf = conf_bool(c, "header.received_spf");
	p->spam_enabled = conf_bool(c, "spam.enabled");
	p->arc_verify = conf_bool(c, "arc.verify");
	p->arc_oldest_pass = conf_bool(c, "arc.oldest_pass");
	p->mime = (struct mime_limits){ .max_bytes = (size_t)conf_int(c, "spam.max_scan_bytes"),
	                                .max_parts = (size_t)conf_int(c, "spam.max_mime_parts"),
	                                .max_depth = (size_t)conf_int(c, "spam.max_mime_depth"),
	                                .text_max = (size_t)conf_int(c, "spam.max_text_bytes") };
	p->spam_scores[POLICY_INBOUND] = (struct policy_spam_scores){
		conf_int(c, "spam.inbound.reject_score"), conf_int(c, "spam.inbound.quarantine_score") };
	p->spam_scores[POLICY_OUTBOUND] = (struct policy_spam_scores){
		conf_int(c, "spam.outbound.reject_score"), conf_int(c, "spam.outbound.quarantine_score") };
}

/* policy_new - see policy.h. */
struct policy *policy_new(conf *c, char *err, size_t errlen)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->conf = conf_ref(c);
	struct build b = { c, err, errlen, 0 };
	compile_rules(&b, p);
	compile_lists(&b, p);
	compile_numbers(&b, p);
	if (!b.bad && (p->spam = spam_settings_new(c, err, errlen)) == NULL)
		b.bad = 1;
	if (b.bad) {
		policy_free(p);
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->rules[POLICY_INBOUND]);
	free(p->rules[POLICY_OUTBOUND]);
	free(p->domain_rules);
	free(p->allow_networks);
	free(p->internal_networks);
	free(p->allow_senders);
	free(p->arc_sealers);
	free(p->arc_seal_networks);
	free(p->providers);
	spam_settings_free(p->spam);
	conf_unref(p->conf);
	free(p);
}
