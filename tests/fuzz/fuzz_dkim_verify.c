/*
 * fuzz_dkim_verify - the whole DKIM verify path (our header feeding, the
 * library's signature parsing and header canonicalisation, result reading)
 * on arbitrary input, without DNS (every key is "not found", so no header
 * signature verifies and our body hash never starts: fuzz_bodyhash covers it).
 *
 * Input: an RFC 5322 message; the header ends at the first empty line (CRLF
 * or LF), fields start at lines not beginning with SP/HT, the body is fed in
 * chunks whose size comes from the first input byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dkim.h"

/* engine - one per process, as in the daemon (static state is fine here). */
static dkim_engine *engine(void)
{
	static dkim_engine *e;
	char err[128];
	if (e == NULL)
		e = dkim_engine_new(NULL, err, sizeof(err));
	return e;
}

/* field - feed one field (p, n) without its final line end. */
static void field(dkim_verify *v, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (colon == NULL)
		return;
	size_t nlen = (size_t)(colon - p);
	dkim_verify_header(v, p, nlen, colon + 1, n - nlen - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dkim_engine *e = engine();
	if (e == NULL || size < 1)
		return 0;
	size_t chunk = (size_t)data[0] * 7 + 1;
	const char *m = (const char *)data + 1;
	size_t len = size - 1;
	dkim_verify *v = dkim_verify_new(e, NULL);
	if (v == NULL)
		return 0;
	size_t i = 0, start = 0;
	int in = 0;
	while (i < len) {
		size_t eol = i;
		while (eol < len && m[eol] != '\n')
			eol++;
		size_t end = eol;                 /* line without its line end */
		if (end > i && m[end - 1] == '\r')
			end--;
		if (end == i) {                   /* empty line */
			if (in)
				field(v, m + start, (i >= 2 && m[i - 2] == '\r' ? i - 2 : i - 1) - start);
			in = 0;
			i = eol + 1;
			break;
		}
		if (m[i] != ' ' && m[i] != '\t') {
			if (in)
				field(v, m + start, (m[i - 2] == '\r' ? i - 2 : i - 1) - start);
			start = i;
			in = 1;
		}
		i = eol + 1;
	}
	if (in && i >= len)
		field(v, m + start, len - start);
	dkim_verify_eoh(v);
	while (i < len) {
		size_t n = len - i < chunk ? len - i : chunk;
		dkim_verify_body(v, (const unsigned char *)m + i, n);
		i += n;
	}
	dkim_verify_eom(v);
	for (size_t k = 0; k < dkim_verify_count(v); k++) {
		const struct dkim_sig *s = dkim_verify_sig(v, k);
		if (s == NULL || s->nsigned > DKIM_MAX_SIGNED_HEADERS || strlen(s->reason) >= sizeof(s->reason))
			__builtin_trap();
	}
	dkim_verify_free(v);
	return 0;
}
