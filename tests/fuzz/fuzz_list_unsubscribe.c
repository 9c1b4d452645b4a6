/*
 * fuzz_list_unsubscribe - unsub_parse on arbitrary bytes, and the verdict on
 * a header set whose List-Unsubscribe / List-Unsubscribe-Post values are cut
 * from the input at its first 0xff byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unsub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unsub_uris *u = malloc(sizeof(*u));
	unsub_parse((const char *)data, size, u);
	free(u);

	const uint8_t *cut = memchr(data, 0xff, size);
	size_t n1 = cut ? (size_t)(cut - data) : size;
	hdr_set *h = hdr_new(HDR_DEFAULT_MAX_COUNT, HDR_DEFAULT_MAX_BYTES);
	hdr_add(h, "List-Unsubscribe", 16, (const char *)data, n1);
	if (cut)
		hdr_add(h, "List-Unsubscribe-Post", 21, (const char *)cut + 1, size - n1 - 1);
	struct dkim_sig s;
	memset(&s, 0, sizeof(s));
	s.result = AR_PASS;
	s.covers_list_unsubscribe = 1;
	s.covers_list_unsubscribe_post = size & 1;
	int al = (size & 2) != 0;
	struct unsub_outcome *o = malloc(sizeof(*o));
	findings *f = findings_new();
	unsub_evaluate(h, &s, 1, &al, o, f);
	findings_free(f);
	free(o);
	hdr_free(h);
	return 0;
}
