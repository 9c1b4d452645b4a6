/*
 * fuzz_dkimkey - dkimkey_check on arbitrary key records (not NUL-terminated)
 * for each signature algorithm, and dkimkey_query_ok on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dkimkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const algs[] = { "rsa-sha256", "rsa-sha1", "ed25519-sha256", "x", NULL };
	char out[1024], why[128];
	size_t ol;
	for (size_t i = 0; i < 5; i++) {
		if (dkimkey_check((const char *)data, size, algs[i], out, sizeof(out), &ol, why, sizeof(why)) == 0 &&
		    (ol >= sizeof(out) || out[ol] != '\0'))
			abort();
	}
	char *q = malloc(size + 1);
	if (q == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	(void)dkimkey_query_ok(q);
	free(q);
	return 0;
}
