/*
 * fuzz_bodyhash - the DKIM body canonicalizer and hash (bodyhash.c) on
 * arbitrary bodies. The first input byte picks simple/relaxed (bit 0),
 * SHA-1/SHA-256 (bit 1), an l= cut (bit 2; its length from the second
 * byte) and the chunk size (the rest), so line ends and CRs land on every
 * kind of chunk boundary.
 */
#include <stddef.h>
#include <stdint.h>
#include "bodyhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned mode = data[0];
	long long limit = mode & 4 ? (long long)data[1] * 3 : -1;
	size_t chunk = (size_t)(mode >> 3) + 1;
	bodyhash *h = bodyhash_new(mode & 1 ? BODYHASH_RELAXED : BODYHASH_SIMPLE,
	                           mode & 2 ? BODYHASH_SHA256 : BODYHASH_SHA1, limit);
	if (h == NULL)
		return 0;
	for (size_t i = 2; i < size; i += chunk)
		bodyhash_update(h, data + i, size - i < chunk ? size - i : chunk);
	unsigned char d[BODYHASH_MAX];
	(void)bodyhash_final(h, d);
	bodyhash_free(h);
	return 0;
}
