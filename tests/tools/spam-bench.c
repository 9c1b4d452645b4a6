/*
 * spam-bench - CPU cost of the spam engine alone (no DNS): the MIME walk of
 * the body, URL extraction and every table signal, N times over one message.
 *   build/tools/spam-bench FILE [N]   -> "spam engine: X us/message (N runs, B bytes)"
 * make bench runs it on the 20 KB HTML catalogue (tests/bench/run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "spam.h"
#include "buf.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spam-bench FILE [N]\n");
		return 2;
	}
	long n = argc > 2 ? atol(argv[2]) : 2000;
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL) {
		perror(argv[1]);
		return 2;
	}
	buf *m = buf_new(64u << 20);
	char tmp[65536];
	size_t r;
	while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(m, tmp, r);
	fclose(f);
	/* header section and body in wire form (CRLF) */
	buf *body = buf_new(128u << 20);
	hdr_set *h = hdr_new(HDR_DEFAULT_MAX_COUNT, HDR_DEFAULT_MAX_BYTES);
	const char *p = buf_data(m), *end = p + buf_len(m);
	char field[16384];
	size_t fl = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t c = l && p[l - 1] == '\r' ? l - 1 : l;
		if (c == 0 || ((p[0] != ' ' && p[0] != '\t') && fl)) {
			const char *colon = memchr(field, ':', fl);
			if (colon)
				hdr_add(h, field, (size_t)(colon - field), colon + 1, fl - (size_t)(colon + 1 - field));
			fl = 0;
		}
		p += l + (nl != NULL);
		if (c == 0)
			break;
		if (fl + c + 2 < sizeof(field)) {
			if (fl)
				memcpy(field + fl, "\r\n", 2), fl += 2;
			memcpy(field + fl, nl ? nl - l : p - l, c);
			fl += c;
		}
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t c = l && p[l - 1] == '\r' ? l - 1 : l;
		buf_append(body, p, c);
		buf_append(body, "\r\n", 2);
		p += l + (nl != NULL);
	}
	char err[256];
	conf *cf = conf_load(NULL, err, sizeof(err));
	const struct hdr_field *ct = hdr_find(h, "Content-Type", 0), *te = hdr_find(h, "Content-Transfer-Encoding", 0);
	struct mime_limits ml = { (size_t)conf_int(cf, "spam.max_scan_bytes"), (size_t)conf_int(cf, "spam.max_mime_parts"),
	                          (size_t)conf_int(cf, "spam.max_mime_depth"), (size_t)conf_int(cf, "spam.max_text_bytes") };
	spam_settings *st = spam_settings_new(cf, err, sizeof(err));
	struct spam_outcome *o = malloc(sizeof(*o));
	clock_t t0 = clock();
	for (long i = 0; i < n; i++) {
		mime_walker *w = mime_new(&ml);
		mime_begin(w, ct ? ct->unfolded : NULL, ct ? ct->ulen : 0, te ? te->unfolded : NULL, te ? te->ulen : 0);
		for (size_t off = 0; off < buf_len(body); off += 8192) {   /* milter-sized chunks */
			size_t k = buf_len(body) - off < 8192 ? buf_len(body) - off : 8192;
			mime_feed(w, (const unsigned char *)buf_data(body) + off, k);
		}
		mime_end(w);
		struct spam_input in = { .settings = st, .client_ip = "192.0.2.10", .helo = "mta.shop.test",
		                         .our_name = "mx.recipient.test", .hdrs = h, .mime = w, .bulk = 1,
		                         .nrcpt = 1, .now = time(NULL) };
		spam_evaluate(&in, o);
		mime_free(w);
	}
	double us = (double)(clock() - t0) / CLOCKS_PER_SEC * 1e6 / (double)n;
	printf("spam engine: %.0f us/message (%ld runs, %zu bytes, score %.1f, %zu signals)\n", us, n,
	       buf_len(m), o->score, o->nsignals);
	free(o);
	spam_settings_free(st);
	conf_unref(cf);
	hdr_free(h);
	buf_free(body);
	buf_free(m);
	return 0;
}
