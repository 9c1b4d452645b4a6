/*
 * fuzz_unpack - the gzip and zip readers on arbitrary bytes: the output
 * never passes the cap, an error is always named.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unpack.h"

#define CAP (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	const char *err;
	char *out = unpack_report(data, size, CAP, &n, &err);
	if (out) {
		if (n > CAP || out[n] != '\0')
			abort();
		free(out);
	} else if (err == NULL || strncmp(err, "feedback.unpack.", 16) != 0)
		abort();
	return 0;
}
