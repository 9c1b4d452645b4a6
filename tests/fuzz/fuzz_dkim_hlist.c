/*
 * fuzz_dkim_hlist - dkim_hlist_parse on arbitrary h= values: bounded output,
 * NUL-terminated entries, counts consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_sig s;
	size_t seen = dkim_hlist_parse((const char *)data, size, &s);
	if (s.nsigned > DKIM_MAX_SIGNED_HEADERS || s.nsigned > seen)
		__builtin_trap();
	if (seen > s.nsigned && !s.signed_headers_capped)
		__builtin_trap();
	for (size_t i = 0; i < s.nsigned; i++)
		if (strlen(s.signed_headers[i]) >= sizeof(s.signed_headers[i]) || s.signed_headers[i][0] == '\0')
			__builtin_trap();
	return 0;
}
