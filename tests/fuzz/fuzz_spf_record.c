/* fuzz_spf_record - libFuzzer target over the SPF record parser and the macro
 * expander (no DNS). The first byte picks the mode; the rest is the input:
 *   0: a whole record ("v=spf1 " is prepended when missing)
 *   1: a macro-string as in a domain-spec, IPv4 client
 *   2: an explain-string (exp= text), IPv6 client */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], out[SPF_MACRO_MAX + 1];
	struct spf_macro_env e;

	if (size < 1)
		return 0;
	int mode = data[0] % 3;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	if (mode == 0) {
		char *rec = malloc(n + 7);
		if (rec == NULL)
			return 0;
		memcpy(rec, "v=spf1 ", 7);
		memcpy(rec + 7, p, n);
		spf_record_check(rec, n + 7, err, sizeof(err));
		spf_record_check(rec + 7, n, err, sizeof(err));
		free(rec);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.sender = "strong-bad@email.example.com";
	e.local = "strong-bad";
	e.sender_domain = "email.example.com";
	e.domain = "email.example.com";
	e.helo = "mx.example.org";
	e.now = 1700000000;
	e.fam = dns_ip_parse(mode == 1 ? "192.0.2.3" : "2001:db8::cb01", e.ip);
	spf_macro_expand(&e, p, n, mode == 2, out, sizeof(out), err, sizeof(err));
	spf_macro_expand(&e, p, n, mode == 2, out, 16, err, sizeof(err));
	return 0;
}
