/*
 * fuzz_dkimcanon - tag-list parsing, b= stripping, both canonicalizations,
 * header selection with the input as h= list, and base64 decoding on
 * arbitrary bytes (not NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dkimcanon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct dkim_tag t[16];
	int n = dkimtag_parse(p, size, t, 16);
	for (int i = 0; i < n; i++)
		if (t[i].name < p || t[i].name + t[i].nlen > p + size || t[i].val + t[i].vlen > p + size)
			abort();
	buf *b = buf_new(4 * size + 256);
	hdr_set *h = hdr_new(16, 65536);
	if (b == NULL || h == NULL)
		goto out;
	hdr_add(h, "From", 4, " a@example.com", 14);
	hdr_add(h, "Subject", 7, p, size);
	hdr_add(h, "DKIM-Signature", 14, " v=1; b=x", 9);
	(void)dkimcanon_strip_b(b, p, size);
	(void)dkimcanon_header(b, DKIM_HC_RELAXED, p, size, p, size);
	(void)dkimcanon_header(b, DKIM_HC_SIMPLE, p, size, p, size);
	buf_reset(b);
	(void)dkimcanon_headers(b, DKIM_HC_RELAXED, h, p, size, NULL, "DKIM-Signature", 14, p, size);
	unsigned char out[256];
	long m = dkimcanon_unb64(p, size, out, sizeof(out));
	if (m > (long)sizeof(out))
		abort();
out:
	buf_free(b);
	hdr_free(h);
	return 0;
}
