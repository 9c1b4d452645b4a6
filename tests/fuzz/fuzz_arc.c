/*
 * fuzz_arc - libFuzzer target: raw header text -> hdr_set -> ARC set
 * parsing and chain validation (policy/arc.c) without DNS, the rest of the
 * input as the body; then the AAR reading and the override for every
 * instance. The header text is split as fuzz_headers does: lines on LF, a
 * line starting with SP/HTAB continues the previous field, "name:value"
 * otherwise. Checks: the result is none, pass or fail; fail always has an
 * arc.* finding and a reason; pass never happens (no keys); the instance
 * count stays within RFC 8617's 50; strings are terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "policy.h"

/* headers - fields of (p,n) up to an empty line into h; the body offset. */
static size_t headers(hdr_set *h, const char *p, size_t n)
{
	size_t i = 0, ns = 0, nl = 0, vs = 0, ve = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		if (e == i || (e == i + 1 && p[i] == '\r')) {
			i = e + (e < n);
			break;
		}
		if (p[i] == ' ' || p[i] == '\t') {
			if (nl > 0)
				ve = e;
		} else {
			if (nl > 0)
				(void)hdr_add(h, p + ns, nl, p + vs, ve - vs);
			const char *c = memchr(p + i, ':', e - i);
			nl = c ? (size_t)(c - (p + i)) : 0;
			ns = i;
			vs = c ? (size_t)(c - p) + 1 : e;
			ve = e;
		}
		i = e + (e < n);
	}
	if (nl > 0)
		(void)hdr_add(h, p + ns, nl, p + vs, ve - vs);
	return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hdr_set *h = hdr_new(200, 64 * 1024);
	arc_verify *v = arc_new(NULL, NULL, NULL);
	if (h == NULL || v == NULL)
		goto out;
	size_t b = headers(h, (const char *)data, size);
	arc_eoh(v, h);
	arc_body(v, data + b, size - b);
	struct arc_outcome o;
	arc_eom(v, &o);
	if (o.result != AR_NONE && o.result != AR_FAIL)
		__builtin_trap();
	if (o.result == AR_FAIL && (o.finding == NULL || strncmp(o.finding, "arc.", 4) != 0 ||
	                            o.reason[0] == '\0'))
		__builtin_trap();
	if (o.instances > ARC_MAX_INSTANCES || strlen(o.sealer) >= sizeof(o.sealer) ||
	    strlen(o.reason) >= sizeof(o.reason))
		__builtin_trap();
	struct policy_name t[] = { { "example.org", 11 } };
	struct arc_outcome pass = o;
	pass.result = AR_PASS;
	char who[256];
	for (unsigned i = 0; i <= o.instances + 1; i++) {
		(void)arc_aar_authenticates(v, i, "example.org", "example.org");
		if (arc_override(v, &pass, t, 1, "example.org", "", who, sizeof(who)) &&
		    strlen(who) >= sizeof(who))
			__builtin_trap();
	}
out:
	arc_free(v);
	hdr_free(h);
	return 0;
}
