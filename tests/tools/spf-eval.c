/*
 * spf-eval - evaluate one SPF check with policy/spf.c (for integration tests).
 *
 *   spf-eval --dns IP@PORT [--timeout-ms N] --ip IP --helo H --mail-from M
 *            [--receiver R] [--default-exp TEXT] [--helo-identity] [--header]
 *
 * Prints the result word on line 1 and the explanation on line 2 (on fail:
 * the exp= text, else --default-exp; empty otherwise); the problem, if any,
 * goes to stderr. --header adds a third line with the Received-SPF value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spf.h"

int main(int argc, char **argv)
{
	struct dns_config cfg;
	struct spf_request req = { NULL, NULL, NULL, NULL };
	struct spf_outcome out;
	const char *defexp = "";
	int helo_id = 0, header = 0;
	char err[256];
	dns_resolver *r;
	dns_budget b;

	memset(&cfg, 0, sizeof(cfg));
	cfg.transparent_zones[cfg.nzones++] = "test.";
	cfg.transparent_zones[cfg.nzones++] = "invalid.";
	/* libunbound answers these reverse zones itself; test data lives there */
	cfg.transparent_zones[cfg.nzones++] = "2.0.192.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "100.51.198.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "113.0.203.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "8.b.d.0.1.0.0.2.ip6.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "168.192.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "10.in-addr.arpa.";
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--helo-identity") == 0) { helo_id = 1; continue; }
		if (strcmp(argv[i], "--header") == 0) { header = 1; continue; }
		if (v == NULL) {
			fprintf(stderr, "spf-eval: %s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--dns") == 0 && cfg.nforwarders < DNS_MAX_FORWARDERS)
			cfg.forwarders[cfg.nforwarders++] = v;
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			cfg.timeout_ms = (unsigned)atoi(v);
		else if (strcmp(argv[i], "--ip") == 0)
			req.ip = v;
		else if (strcmp(argv[i], "--helo") == 0)
			req.helo = v;
		else if (strcmp(argv[i], "--mail-from") == 0)
			req.mail_from = v;
		else if (strcmp(argv[i], "--receiver") == 0)
			req.receiver = v;
		else if (strcmp(argv[i], "--default-exp") == 0)
			defexp = v;
		else {
			fprintf(stderr, "usage: spf-eval --dns IP@PORT [--timeout-ms N] --ip IP --helo H --mail-from M [--receiver R] [--default-exp T] [--helo-identity] [--header]\n");
			return 2;
		}
		i++;
	}
	if (req.ip == NULL) {
		fprintf(stderr, "spf-eval: --ip is required\n");
		return 2;
	}
	r = dns_new(&cfg, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "spf-eval: %s\n", err);
		return 2;
	}
	dns_budget_init(&b, DNS_DEFAULT_BUDGET);
	if (helo_id)
		spf_check_helo(r, &b, &req, &out);
	else
		spf_check(r, &b, &req, &out);
	printf("%s\n", result_name(out.result));
	printf("%s\n", out.result == AR_FAIL ? (out.explanation[0] ? out.explanation : defexp) : "");
	if (header) {
		char hdr[2048];
		spf_received_spf(&out, &req, hdr, sizeof(hdr));
		printf("%s\n", hdr);
	}
	if (out.problem[0])
		fprintf(stderr, "problem: %s\n", out.problem);
	fprintf(stderr, "lookups=%u voids=%u mechanism=%s\n", out.dns_lookups, out.void_lookups, out.mechanism);
	dns_free(r);
	return 0;
}
