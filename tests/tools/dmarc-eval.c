/*
 * dmarc-eval - drive policy/dmarc.c from the command line for integration tests.
 *
 *   dmarc-eval --dns IP@PORT [--timeout-ms N] [--budget N] [--mode rfc9989|rfc7489]
 *              --from DOMAIN [--spf RESULT:DOMAIN] [--dkim RESULT:DOMAIN ...]
 *              [--sample-key KEY]
 *
 * Prints one line of key=value facts (result, policy, disposition,
 * policy_domain, org_domain, spf_aligned, dkim_aligned, sig_aligned as a
 * comma list, record_found, multiple, nonexistent, lookups), then
 * "problem=TEXT". Exit 0, or 2 on usage/resolver errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmarc.h"

/* parse_result - RFC 8601 word to enum. */
static int parse_result(const char *s, size_t n, enum auth_result *r)
{
	static const struct { const char *w; enum auth_result r; } t[] = {
		{ "none", AR_NONE }, { "pass", AR_PASS }, { "fail", AR_FAIL }, { "softfail", AR_SOFTFAIL },
		{ "neutral", AR_NEUTRAL }, { "temperror", AR_TEMPERROR }, { "permerror", AR_PERMERROR },
		{ "policy", AR_POLICY },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].w) == n && strncmp(t[i].w, s, n) == 0) {
			*r = t[i].r;
			return 0;
		}
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: dmarc-eval --dns IP@PORT [--mode rfc9989|rfc7489] --from DOMAIN "
	        "[--spf RESULT:DOMAIN] [--dkim RESULT:DOMAIN ...] [--budget N] [--timeout-ms N] [--sample-key K]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct dns_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.transparent_zones[0] = "test.";
	cfg.transparent_zones[1] = "invalid.";
	cfg.nzones = 2;
	enum dmarc_mode mode = DMARC_MODE_RFC9989;
	struct dmarc_input in;
	memset(&in, 0, sizeof(in));
	in.spf_result = AR_NONE;
	in.spf_domain = "";
	static struct dkim_sig sigs[DKIM_MAX_SIGS];
	size_t nsigs = 0;
	unsigned budget = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (strcmp(a, "--dns") == 0) {
			cfg.forwarders[0] = v;
			cfg.nforwarders = 1;
		} else if (strcmp(a, "--timeout-ms") == 0) {
			cfg.timeout_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--budget") == 0) {
			budget = (unsigned)atoi(v);
		} else if (strcmp(a, "--mode") == 0) {
			if (strcmp(v, "rfc9989") == 0) mode = DMARC_MODE_RFC9989;
			else if (strcmp(v, "rfc7489") == 0) mode = DMARC_MODE_RFC7489;
			else return usage();
		} else if (strcmp(a, "--from") == 0) {
			in.from_domain = v;
		} else if (strcmp(a, "--sample-key") == 0) {
			in.sample_key = v;
		} else if (strcmp(a, "--spf") == 0 || strcmp(a, "--dkim") == 0) {
			const char *c = strchr(v, ':');
			enum auth_result r;
			if (c == NULL || parse_result(v, (size_t)(c - v), &r) < 0)
				return usage();
			if (a[2] == 's') {
				in.spf_result = r;
				in.spf_domain = c + 1;
			} else {
				if (nsigs >= DKIM_MAX_SIGS)
					return usage();
				sigs[nsigs].result = r;
				snprintf(sigs[nsigs].domain, sizeof(sigs[nsigs].domain), "%s", c + 1);
				nsigs++;
			}
		} else {
			return usage();
		}
	}
	if (in.from_domain == NULL || cfg.nforwarders == 0)
		return usage();
	in.sigs = sigs;
	in.nsigs = nsigs;
	char err[256];
	dns_resolver *r = dns_new(&cfg, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "dmarc-eval: %s\n", err);
		return 2;
	}
	dns_budget b;
	dns_budget_init(&b, budget);
	struct dmarc_outcome *o = malloc(sizeof(*o));
	if (o == NULL)
		return 2;
	dmarc_evaluate(r, &b, mode, &in, o);
	printf("result=%s policy=%s disposition=%s policy_domain=%s org_domain=%s spf_aligned=%d dkim_aligned=%d sig_aligned=",
	       result_name(o->result), dmarc_policy_name(o->policy), dmarc_policy_name(o->disposition),
	       o->policy_domain[0] ? o->policy_domain : "-", o->org_domain[0] ? o->org_domain : "-",
	       o->spf_aligned, o->dkim_aligned);
	for (size_t i = 0; i < nsigs; i++)
		printf("%s%d", i ? "," : "", o->sig_aligned[i]);
	if (nsigs == 0)
		printf("-");
	printf(" record_found=%d multiple=%d nonexistent=%d lookups=%u\n", o->record_found,
	       o->multiple_records, o->nonexistent, o->lookups);
	printf("problem=%s\n", o->problem);
	free(o);
	dns_free(r);
	return 0;
}
