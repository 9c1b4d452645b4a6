/*
 * fuzz_urls - the URL extractor on arbitrary bytes: as HTML, as plain text,
 * and the host and link-text host parsers on the same input; the URL cap
 * must hold and every kept host must be a NUL-terminated printable string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "urls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct url_set *u = urls_new(16);
	if (u == NULL)
		return 0;
	urls_scan_html(u, p, size);
	urls_scan_text(u, p, size);
	if (u->count > 16)
		abort();
	for (size_t i = 0; i < u->count; i++)
		if (strlen(u->items[i].host) >= URL_HOST_MAX || strlen(u->items[i].url) >= URL_TEXT_MAX)
			abort();
	urls_free(u);
	char h[URL_HOST_MAX];
	int ip;
	urls_host(p, size, h, sizeof(h), &ip);
	urls_text_host(p, size, h, sizeof(h));
	return 0;
}
