/*
 * dns-query - drive policy/dns.c from the command line for integration tests.
 *
 *   dns-query --dns IP@PORT [--timeout-ms N] [--budget N] [--threads N --rounds N]
 *             NAME TYPE [NAME TYPE ...]
 *
 * Prints one line per query: "NAME TYPE STATUS rcode=N reason=R n=COUNT" and
 * then one line per record ("  A 192.0.2.1", "  TXT <joined, escaped>",
 * "  MX 10 mx.example.com", "  PTR name"). With --threads, every thread runs
 * the queries --rounds times and the tool checks that all threads saw the
 * same statuses, then prints "threads ok" (exit 1 otherwise).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "dns.h"

struct job {
	dns_resolver *r;
	int nq;
	char **names;
	int *types;
	int rounds;
	enum dns_status *want;
	int bad;
};

/* type_num - "A" -> 1 etc. */
static int type_num(const char *s)
{
	static const struct { const char *n; int t; } tab[] = {
		{ "A", DNS_T_A }, { "NS", DNS_T_NS }, { "CNAME", DNS_T_CNAME }, { "PTR", DNS_T_PTR },
		{ "MX", DNS_T_MX }, { "TXT", DNS_T_TXT }, { "AAAA", DNS_T_AAAA },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, s) == 0)
			return tab[i].t;
	return atoi(s);
}

/* print_bytes - bytes with non-printables as \xHH. */
static void print_bytes(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

/* print_answer - the lines described above. */
static void print_answer(const char *name, const char *type, int t, const dns_answer *a)
{
	printf("%s %s %s rcode=%d reason=%s n=%zu\n", name, type, dns_status_name(a->status),
	       a->rcode, a->reason ? a->reason : "", a->count);
	for (size_t i = 0; i < a->count; i++) {
		const struct dns_rr *rr = &a->rr[i];
		char txt[70000], ip[64];
		long n;
		switch (t) {
		case DNS_T_A:
			inet_ntop(AF_INET, rr->data, ip, sizeof(ip));
			printf("  A %s\n", ip);
			break;
		case DNS_T_AAAA:
			inet_ntop(AF_INET6, rr->data, ip, sizeof(ip));
			printf("  AAAA %s\n", ip);
			break;
		case DNS_T_TXT:
			n = dns_txt_join(rr->data, rr->len, txt, sizeof(txt));
			printf("  TXT ");
			if (n < 0)
				printf("(malformed)");
			else
				print_bytes(txt, (size_t)n);
			printf("\n");
			break;
		case DNS_T_MX:
			printf("  MX %u %s\n", rr->pref, rr->name);
			break;
		default:
			printf("  %s %s\n", type, rr->name);
		}
	}
}

/* worker - run the queries rounds times, compare with want. */
static void *worker(void *arg)
{
	struct job *j = arg;
	for (int k = 0; k < j->rounds; k++)
		for (int i = 0; i < j->nq; i++) {
			dns_answer *a = dns_query(j->r, NULL, j->names[i], strlen(j->names[i]), j->types[i]);
			if (a == NULL || a->status != j->want[i])
				j->bad++;
			dns_answer_free(a);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	struct dns_config cfg;
	dns_budget b;
	unsigned budget = 0;
	int threads = 0, rounds = 1, i, rc = 0;
	char err[256];
	dns_resolver *r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.transparent_zones[cfg.nzones++] = "test.";
	cfg.transparent_zones[cfg.nzones++] = "invalid.";
	/* libunbound answers the documentation ranges' reverse zones itself (NXDOMAIN);
	 * test data uses exactly those ranges, so let the queries through. */
	cfg.transparent_zones[cfg.nzones++] = "2.0.192.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "100.51.198.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "113.0.203.in-addr.arpa.";
	cfg.transparent_zones[cfg.nzones++] = "8.b.d.0.1.0.0.2.ip6.arpa.";
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dns") == 0 && i + 1 < argc && cfg.nforwarders < DNS_MAX_FORWARDERS)
			cfg.forwarders[cfg.nforwarders++] = argv[++i];
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			cfg.timeout_ms = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
			budget = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			break;
	}
	if (i >= argc || (argc - i) % 2 != 0) {
		fprintf(stderr, "usage: dns-query --dns IP@PORT [--timeout-ms N] [--budget N] [--threads N --rounds N] NAME TYPE...\n");
		return 2;
	}
	r = dns_new(&cfg, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "dns_new: %s\n", err);
		return 2;
	}
	dns_budget_init(&b, budget);
	int nq = (argc - i) / 2;
	char **names = calloc((size_t)nq, sizeof(*names));
	int *types = calloc((size_t)nq, sizeof(*types));
	enum dns_status *want = calloc((size_t)nq, sizeof(*want));
	if (!names || !types || !want)
		return 2;
	for (int k = 0; k < nq; k++) {
		dns_answer *a;
		names[k] = argv[i + 2 * k];
		types[k] = type_num(argv[i + 2 * k + 1]);
		a = dns_query(r, &b, names[k], strlen(names[k]), types[k]);
		if (a == NULL)
			return 2;
		want[k] = a->status;
		print_answer(names[k], argv[i + 2 * k + 1], types[k], a);
		dns_answer_free(a);
	}
	printf("budget used=%u timeouts=%u errors=%u\n", b.used, b.timeouts, b.errors);
	if (threads > 0) {
		pthread_t tid[64];
		struct job jobs[64];
		if (threads > 64)
			threads = 64;
		for (int k = 0; k < threads; k++) {
			jobs[k] = (struct job){ r, nq, names, types, rounds, want, 0 };
			pthread_create(&tid[k], NULL, worker, &jobs[k]);
		}
		int bad = 0;
		for (int k = 0; k < threads; k++) {
			pthread_join(tid[k], NULL);
			bad += jobs[k].bad;
		}
		printf(bad ? "threads bad %d\n" : "threads ok\n", bad);
		if (bad)
			rc = 1;
	}
	free(names);
	free(types);
	free(want);
	dns_free(r);
	return rc;
}
