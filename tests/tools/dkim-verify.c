/*
 * dkim-verify - drive policy/dkim.c on one message file for integration tests.
 *
 *   dkim-verify [--dns IP@PORT] [--timeout-ms N] [--budget N] [--lf-fold] FILE
 *
 * Reads an RFC 5322 message (LF or CRLF line ends; converted to CRLF), splits
 * the header into fields (unfolding only to find the name; the raw value,
 * folding included, is what the verifier gets) and feeds the body in chunks of
 * 1000 bytes. Prints one line per signature:
 *   RESULT d=DOMAIN s=SELECTOR a=ALG bits=N h=list[,...] [lu] [lup] reason
 * ("lu"/"lup" when h= covers List-Unsubscribe / List-Unsubscribe-Post), then
 * "signatures=N ignored=N refused=N". Without --dns every key is NXDOMAIN.
 * --lf-fold passes folded values with bare LF (as some MTAs do) to check the
 * normalisation. Exit 0, or 2 on usage/I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dkim.h"
#include "dns.h"

#define MAX_MSG (16 * 1024 * 1024)

/* slurp - read the file and convert line ends to CRLF. */
static char *slurp(const char *path, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *raw = malloc(cap);
	int c;
	while (raw && (c = getc(f)) != EOF) {
		if (n + 1 >= cap) {
			if (cap >= MAX_MSG) { free(raw); raw = NULL; break; }
			char *p = realloc(raw, cap * 2);
			if (!p) { free(raw); raw = NULL; break; }
			raw = p;
			cap *= 2;
		}
		raw[n++] = (char)c;
	}
	fclose(f);
	if (raw == NULL)
		return NULL;
	char *out = malloc(2 * n + 1);
	size_t k = 0;
	if (out == NULL) { free(raw); return NULL; }
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n') {
			out[k++] = '\r'; out[k++] = '\n'; i++;
		} else if (raw[i] == '\n' || raw[i] == '\r') {
			out[k++] = '\r'; out[k++] = '\n';
		} else {
			out[k++] = raw[i];
		}
	}
	free(raw);
	*outlen = k;
	return out;
}

/* feed_field - one field (raw text up to but not including its final CRLF). */
static void feed_field(dkim_verify *v, const char *p, size_t n, int lf_fold)
{
	const char *colon = memchr(p, ':', n);
	if (colon == NULL)
		return;
	size_t nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--;
	const char *val = colon + 1;
	size_t vlen = n - (size_t)(colon + 1 - p);
	if (!lf_fold) {
		dkim_verify_header(v, p, nlen, val, vlen);
		return;
	}
	char *tmp = malloc(vlen + 1);
	size_t k = 0;
	if (tmp == NULL)
		return;
	for (size_t i = 0; i < vlen; i++)
		if (!(val[i] == '\r' && i + 1 < vlen && val[i + 1] == '\n'))
			tmp[k++] = val[i];
	dkim_verify_header(v, p, nlen, tmp, k);
	free(tmp);
}

int main(int argc, char **argv)
{
	struct dns_config cfg;
	const char *file = NULL;
	unsigned budget = DNS_DEFAULT_BUDGET;
	int lf_fold = 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.transparent_zones[cfg.nzones++] = "test.";
	cfg.transparent_zones[cfg.nzones++] = "invalid.";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dns") == 0 && i + 1 < argc && cfg.nforwarders < DNS_MAX_FORWARDERS)
			cfg.forwarders[cfg.nforwarders++] = argv[++i];
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			cfg.timeout_ms = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
			budget = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--lf-fold") == 0)
			lf_fold = 1;
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fprintf(stderr, "usage: dkim-verify [--dns IP@PORT] [--timeout-ms N] [--budget N] [--lf-fold] FILE\n");
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "usage: dkim-verify [--dns IP@PORT] FILE\n");
		return 2;
	}
	size_t len = 0;
	char *msg = slurp(file, &len);
	if (msg == NULL) {
		perror(file);
		return 2;
	}
	char err[256];
	dns_resolver *r = NULL;
	if (cfg.nforwarders > 0) {
		r = dns_new(&cfg, err, sizeof(err));
		if (r == NULL) {
			fprintf(stderr, "dns_new: %s\n", err);
			return 2;
		}
	}
	dkim_engine *e = dkim_engine_new(r, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "dkim_engine_new: %s\n", err);
		return 2;
	}
	dns_budget b;
	dns_budget_init(&b, budget);
	dkim_verify *v = dkim_verify_new(e, &b);
	if (v == NULL) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	/* header: fields start at line starts not beginning with WSP */
	size_t i = 0, start = 0;
	int in_field = 0;
	while (i + 1 < len) {
		size_t eol = i;
		while (eol + 1 < len && !(msg[eol] == '\r' && msg[eol + 1] == '\n'))
			eol++;
		if (eol + 1 >= len)
			eol = len;
		if (eol == i) {            /* empty line: end of header */
			if (in_field)
				feed_field(v, msg + start, i - 2 - start, lf_fold);
			in_field = 0;
			i = eol + 2;
			break;
		}
		if (msg[i] == ' ' || msg[i] == '\t') {
			/* continuation line: part of the current field */
		} else {
			if (in_field)
				feed_field(v, msg + start, i - 2 - start, lf_fold);
			start = i;
			in_field = 1;
		}
		i = eol + 2;
	}
	if (in_field && i >= len) {
		size_t end = len;
		if (end >= start + 2 && msg[end - 2] == '\r' && msg[end - 1] == '\n')
			end -= 2;
		feed_field(v, msg + start, end - start, lf_fold);
	}
	dkim_verify_eoh(v);
	while (i < len) {
		size_t n = len - i < 1000 ? len - i : 1000;
		dkim_verify_body(v, (const unsigned char *)msg + i, n);
		i += n;
	}
	dkim_verify_eom(v);
	for (size_t k = 0; k < dkim_verify_count(v); k++) {
		const struct dkim_sig *s = dkim_verify_sig(v, k);
		printf("%s d=%s s=%s a=%s bits=%u h=", result_name(s->result), s->domain, s->selector,
		       s->algorithm, s->key_bits);
		for (size_t j = 0; j < s->nsigned; j++)
			printf("%s%s", j ? ":" : "", s->signed_headers[j]);
		printf("%s%s%s %s\n", s->signed_headers_capped ? " capped" : "",
		       s->covers_list_unsubscribe ? " lu" : "",
		       s->covers_list_unsubscribe_post ? " lup" : "", s->reason);
	}
	printf("signatures=%zu ignored=%zu refused=%zu dns_used=%u\n", dkim_verify_count(v),
	       dkim_verify_ignored(v), dkim_verify_refused(v), b.used);
	dkim_verify_free(v);
	dkim_engine_free(e);
	dns_free(r);
	free(msg);
	return 0;
}
