/*
 * fuzz_mime - the MIME walker on arbitrary bytes: the input's first line is
 * the top-level Content-Type, the second its Content-Transfer-Encoding, the
 * rest the body, fed in chunks whose sizes come from the first byte; small
 * caps so that every cap is reached. The decoded texts then go through the
 * URL extractor, as in the session. The whole input also goes through the
 * exported base64 and quoted-printable decoders with a cap from the first
 * byte: never more than the cap, never more than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mime.h"
#include "urls.h"

/* decoders - mime_b64_decode and mime_qp_decode on (p, n), capped. */
static void decoders(const char *p, size_t n, size_t cap)
{
	char *out = malloc(cap ? cap : 1);
	if (out == NULL)
		return;
	struct mime_b64 st = { 0, 0 };
	size_t k = (size_t)-1;
	unsigned r = mime_b64_decode(&st, p, n, out, cap, &k);
	if (k > cap || k > n || ((r & MIME_DEC_OVER) && k != cap) || st.bits < 0 || st.bits >= 8)
		abort();
	k = (size_t)-1;
	r = mime_qp_decode(p, n, out, cap, &k);
	if (k > cap || k > n || ((r & MIME_DEC_OVER) && k != cap) || (r & MIME_DEC_BAD))
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decoders((const char *)data, size, size ? (size_t)data[0] : 0);
	const uint8_t *nl1 = memchr(data, '\n', size);
	size_t l1 = nl1 ? (size_t)(nl1 - data) : size;
	const uint8_t *rest = nl1 ? nl1 + 1 : data + size;
	size_t rl = size - (size_t)(rest - data);
	const uint8_t *nl2 = memchr(rest, '\n', rl);
	size_t l2 = nl2 ? (size_t)(nl2 - rest) : 0;
	const uint8_t *body = nl2 ? nl2 + 1 : rest;
	size_t bl = size - (size_t)(body - data);
	struct mime_limits lim = { 1 << 16, 16, 6, 4096 };
	mime_walker *m = mime_new(&lim);
	if (m == NULL)
		return 0;
	mime_begin(m, (const char *)data, l1, nl2 ? (const char *)rest : NULL, l2);
	size_t chunk = size ? (size_t)(data[0] % 64) + 1 : 1;
	for (size_t off = 0; off < bl; off += chunk)
		mime_feed(m, body + off, bl - off < chunk ? bl - off : chunk);
	mime_end(m);
	const struct mime_facts *f = mime_facts(m);
	if (f->nparts > lim.max_parts)
		abort();
	struct url_set *u = urls_new(8);
	size_t pl, hl;
	const char *pt = mime_text(m, MIME_TEXT_PLAIN, &pl);
	const char *ht = mime_text(m, MIME_TEXT_HTML, &hl);
	if (pl > lim.text_max || hl > lim.text_max)
		abort();
	if (u) {
		urls_scan_text(u, pt, pl);
		urls_scan_html(u, ht, hl);
		if (u->count > 8)
			abort();
	}
	urls_free(u);
	mime_free(m);
	return 0;
}
