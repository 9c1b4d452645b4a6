/*
 * fuzz_rua - rua_parse on arbitrary bytes (not NUL-terminated): every URI it
 * reports usable must be a plain "local@host" of printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rua_uri u[RUA_MAX_URIS + 1];
	size_t k = rua_parse((const char *)data, size, u, RUA_MAX_URIS + 1);
	if (k > RUA_MAX_URIS + 1)
		abort();
	for (size_t i = 0; i < k; i++) {
		if (u[i].status != RUA_OK)
			continue;
		const char *at = strchr(u[i].addr, '@');
		if (at == NULL || strchr(at + 1, '@') || u[i].domain != at + 1)
			abort();
		for (const char *p = u[i].addr; *p; p++)
			if (*p <= ' ' || *p >= 0x7f || strchr("\"(),<>[]\\;:", *p))
				abort();
	}
	return 0;
}
