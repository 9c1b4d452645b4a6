/*
 * confcheck - validation of configuration values beyond their types (see
 * confcheck.h). Each check is a function of one value; the table says which
 * keys it applies to, so a new key with a known kind of value needs one line.
 * Action names come from verdict.c (verdict_action_parse), finding names from
 * the table in findings.c: the checks follow the code that uses the values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "confcheck.h"
#include "cidr.h"
#include "dns.h"
#include "findings.h"
#include "policy.h"
#include "rua.h"
#include "spam.h"
#include "verdict.h"
#include "lex5322.h"

/* reply_ok - "CODE X.Y.Z text" of class want ('4' or '5'), as verdict.c reads it. */
static int reply_ok(const char *reply, char want, char *why, size_t whylen)
{
	struct verdict_reply r;
	return verdict_reply_compile(reply, want, &r, why, whylen);
}

/* check_rule - "FINDING=ACTION[:CODE X.Y.Z text]": what policy.c compiles. */
static int check_rule(const char *rule, char *why, size_t whylen)
{
	struct verdict_rule r;
	return policy_rule_compile(rule, &r, why, whylen);
}

/* check_domain_rule - "DOMAIN:FINDING=ACTION[:reply]" (policy.c). */
static int check_domain_rule(const char *v, char *why, size_t whylen)
{
	struct verdict_domain_rule r;
	return policy_domain_rule_compile(v, &r, why, whylen);
}

static int check_network(const char *v, char *why, size_t whylen)
{
	struct policy_net n;
	return policy_net_compile(v, &n, why, whylen);
}

static int check_address(const char *v, char *why, size_t whylen)
{
	unsigned char ip[16];
	if (dns_ip_parse(v, ip))
		return 0;
	snprintf(why, whylen, "\"%s\" is not an IPv4 or IPv6 address", v);
	return -1;
}

static int check_domain(const char *v, char *why, size_t whylen)
{
	if (dom_name_len(v, strlen(v), DOM_LDH | DOM_EDGE) >= 0)
		return 0;
	snprintf(why, whylen, "\"%s\" is not a domain name", v);
	return -1;
}

static int check_zone(const char *v, char *why, size_t whylen)
{
	if (strcmp(v, ".") == 0 || dom_name_len(v, strlen(v), DOM_DOT | DOM_LDH | DOM_EDGE) >= 0)
		return 0;
	snprintf(why, whylen, "\"%s\" is not a DNS zone name", v);
	return -1;
}

/* check_name_or_address - spam.local_names: host names or addresses. */
static int check_name_or_address(const char *v, char *why, size_t whylen)
{
	unsigned char ip[16];
	if (dns_ip_parse(v, ip) || dom_name_len(v, strlen(v), DOM_DOT | DOM_LDH | DOM_EDGE) >= 0)
		return 0;
	snprintf(why, whylen, "\"%s\" is neither a host name nor an address", v);
	return -1;
}

/* check_forwarder - "IP" or "IP@PORT" (libunbound's forwarder syntax). */
static int check_forwarder(const char *v, char *why, size_t whylen)
{
	char ip[64];
	unsigned char b[16];
	const char *at = strrchr(v, '@');
	size_t il = at ? (size_t)(at - v) : strlen(v);
	int ok = il < sizeof(ip);
	if (ok) {
		memcpy(ip, v, il);
		ip[il] = '\0';
		ok = dns_ip_parse(ip, b) != 0;
	}
	if (ok && at) {
		char *end;
		long port = strtol(at + 1, &end, 10);
		ok = at[1] != '\0' && *end == '\0' && isdigit((unsigned char)at[1]) && port >= 1 && port <= 65535;
	}
	if (ok)
		return 0;
	snprintf(why, whylen, "\"%s\" is not IP or IP@PORT", v);
	return -1;
}

static int check_reject_reply(const char *v, char *why, size_t whylen)
{
	return reply_ok(v, '5', why, whylen);
}

static int check_tempfail_reply(const char *v, char *why, size_t whylen)
{
	return reply_ok(v, '4', why, whylen);
}

/* check_email - a plain addr-spec (the same rules as a report destination). */
static int check_email(const char *v, char *why, size_t whylen)
{
	char uri[600];
	struct rua_uri u;
	if (v[0] == '\0')
		return 0;
	int n = snprintf(uri, sizeof(uri), "mailto:%s", v);
	if (n > 0 && (size_t)n < sizeof(uri) && strchr(v, ',') == NULL && strchr(v, '%') == NULL &&
	    rua_parse(uri, (size_t)n, &u, 1) == 1 && u.status == RUA_OK)
		return 0;
	snprintf(why, whylen, "\"%s\" is not a plain address local@domain", v);
	return -1;
}

/* check_field_name - an RFC 5322 field name (printable ASCII but ':'); empty
 * allowed for the keys where empty means "none". */
static int check_field_name(const char *v, char *why, size_t whylen)
{
	if (v[0] != '\0' && !lex_field_name(v, strlen(v))) {
		snprintf(why, whylen, "\"%s\" is not a header field name", v);
		return -1;
	}
	return 0;
}

static const struct conf_check builtin[] = {
	{ "policy.inbound.actions", check_rule },
	{ "policy.outbound.actions", check_rule },
	{ "policy.domain_actions", check_domain_rule },
	{ "policy.allow_networks", check_network },
	{ "milter.internal_networks", check_network },
	{ "milter.egress_addresses", check_address },
	{ "policy.allow_senders", check_domain },
	{ "arc.trusted_sealers", check_domain },
	{ "bulk.senders", check_domain },
	{ "spam.shorteners", check_domain },
	{ "spam.local_names", check_name_or_address },
	{ "dns.forwarders", check_forwarder },
	{ "dns.transparent_zones", check_zone },
	{ "policy.reject_reply", check_reject_reply },
	{ "policy.tempfail_reply", check_tempfail_reply },
	{ "reports.email", check_email },
	{ "bulk.headers", check_field_name },
	{ "bulk.campaign_header", check_field_name },
	{ "header.compliance", check_field_name },
	{ NULL, NULL }
};

/* key_type - the type of key in the table (-1 if unknown). */
static int key_type(const char *key)
{
	for (const struct conf_key *k = conf_keys(); k->name; k++)
		if (strcmp(k->name, key) == 0)
			return (int)k->type;
	return -1;
}

/* report - one error line. */
static void report(buf *errs, const conf *c, const char *key, size_t item, const char *why)
{
	if (item)
		buf_printf(errs, "%s: %s: item %zu: %s\n", conf_where(c, key), key, item, why);
	else
		buf_printf(errs, "%s: %s: %s\n", conf_where(c, key), key, why);
}

/* run - one table of checks. */
static size_t run(const conf *c, const struct conf_check *t, buf *errs)
{
	size_t bad = 0;
	char why[512];
	for (; t && t->key; t++) {
		int type = key_type(t->key);
		if (type == CONF_LIST) {
			const char *const *items;
			size_t n = conf_list(c, t->key, &items);
			for (size_t i = 0; i < n; i++)
				if (t->fn(items[i], why, sizeof(why)) < 0) {
					report(errs, c, t->key, i + 1, why);
					bad++;
				}
		} else if (type == CONF_STR) {
			if (t->fn(conf_str(c, t->key), why, sizeof(why)) < 0) {
				report(errs, c, t->key, 0, why);
				bad++;
			}
		}
	}
	return bad;
}

/* count_cap - a list key with more items than its user takes. */
static size_t count_cap(const conf *c, const char *key, size_t max, buf *errs)
{
	const char *const *items;
	size_t n = conf_list(c, key, &items);
	if (n <= max)
		return 0;
	char why[96];
	snprintf(why, sizeof(why), "%zu items, at most %zu are used", n, max);
	report(errs, c, key, 0, why);
	return 1;
}

/* conf_check - see confcheck.h. */
size_t conf_check(const conf *c, const struct conf_check *extra, buf *errs)
{
	size_t bad = run(c, builtin, errs) + run(c, extra, errs);
	bad += count_cap(c, "dns.forwarders", DNS_MAX_FORWARDERS, errs);
	bad += count_cap(c, "dns.transparent_zones", DNS_MAX_ZONES, errs);
	char why[512];
	if (spam_conf_check(c, why, sizeof(why)) < 0) {
		buf_printf(errs, "%s: %s\n", conf_path(c), why);
		bad++;
	}
	return bad;
}
