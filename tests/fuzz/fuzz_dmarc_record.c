/*
 * fuzz_dmarc_record - dmarc_record_parse on arbitrary bytes, then a whole
 * evaluation whose every _dmarc TXT answer is those bytes (split into
 * 255-byte character-strings), with the From domain taken from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dmarc.h"

struct fz { const uint8_t *d; size_t n; };

static dns_answer *fz_query(void *ctx, dns_budget *b, const char *name, size_t nl, int type)
{
	struct fz *f = ctx;
	(void)b;
	dns_answer *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	if (type != DNS_T_TXT || nl < 7 || memcmp(name, "_dmarc.", 7) != 0) {
		a->status = (nl & 1) ? DNS_NXDOMAIN : DNS_NODATA;
		return a;
	}
	if (f->n > 0 && f->d[0] == 'T') {
		a->status = DNS_TEMPFAIL;
		a->reason = "fuzz";
		return a;
	}
	size_t cap = f->n + f->n / 255 + 2;
	unsigned char *r = malloc(cap);
	size_t o = 0, i = 0;
	do {
		size_t c = f->n - i > 255 ? 255 : f->n - i;
		r[o++] = (unsigned char)c;
		memcpy(r + o, f->d + i, c);
		o += c;
		i += c;
	} while (i < f->n);
	a->rr[0].data = r;
	a->rr[0].len = o;
	a->count = 1;
	a->status = DNS_OK;
	return a;
}

static void fz_release(void *ctx, dns_answer *a)
{
	(void)ctx;
	for (size_t i = 0; i < a->count; i++)
		free((void *)a->rr[i].data);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r;
	char err[128];
	dmarc_record_parse((const char *)data, size, &r, err, sizeof(err));

	struct fz f = { data, size };
	struct dmarc_dns_view v = { fz_query, fz_release, &f };
	static const char *const froms[] = { "a.b.c.d.e.f.g.h.i.example.test", "example.test", "x.example.co.uk" };
	struct dkim_sig sig;
	memset(&sig, 0, sizeof(sig));
	sig.result = AR_PASS;
	memcpy(sig.domain, "mail.example.test", 18);
	struct dmarc_input in = { .from_domain = froms[size % 3], .spf_result = (size & 4) ? AR_PASS : AR_FAIL,
	                          .spf_domain = "bounce.example.test", .nsigs = 1, .sigs = &sig };
	struct dmarc_outcome o;
	dmarc_evaluate_view(&v, NULL, (size & 8) ? DMARC_MODE_RFC7489 : DMARC_MODE_RFC9989, &in, &o);
	return 0;
}
