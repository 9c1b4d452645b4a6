/*
 * fuzz_headers - libFuzzer target: raw header text -> hdr_set -> format_check.
 *
 * The input is split into lines on LF (a CR before it is kept in the value,
 * as a milter might hand it over); a line starting with SP/HTAB continues the
 * previous field, anything else is "name: value" (a line without a colon is
 * dropped, as the MTA would not pass it on). The whole input is also given
 * to the Date and Message-ID parsers directly, and to the authserv-id
 * reader of Authentication-Results. Checks: outcome strings are terminated,
 * from_domain is set exactly when the status is OK, the author domains are
 * within their cap, valid and lowercase, and the authserv-id fits and has
 * the length returned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "session_int.h"

/* flush - add the pending field (name [ns,nl), value [vs,ve)) to h. */
static void flush(hdr_set *h, const char *p, size_t ns, size_t nl, size_t vs, size_t ve)
{
	if (nl > 0)
		(void)hdr_add(h, p + ns, nl, p + vs, ve - vs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	if (size)
		memcpy(p, data, size);

	hdr_set *h = hdr_new(200, 64 * 1024);
	if (h)
		hdr_set_compliance(h, "X-Trustmilter");
	findings *f = findings_new();
	struct format_outcome *o = malloc(sizeof(*o));
	if (h == NULL || f == NULL || o == NULL)
		goto out;

	size_t ns = 0, nl = 0, vs = 0, ve = 0, i = 0;
	while (i < size) {
		size_t e = i;
		while (e < size && p[e] != '\n')
			e++;
		if (p[i] == ' ' || p[i] == '\t') {
			if (nl > 0)
				ve = e;     /* folded: the value runs on, line break included */
		} else {
			flush(h, p, ns, nl, vs, ve);
			nl = 0;
			const char *c = memchr(p + i, ':', e - i);
			if (c != NULL) {
				ns = i;
				nl = (size_t)(c - (p + i));
				vs = (size_t)(c - p) + 1;
				ve = e;
			}
		}
		i = e < size ? e + 1 : e;
	}
	flush(h, p, ns, nl, vs, ve);

	format_check(h, f, o);
	if (memchr(o->from_domain, '\0', sizeof(o->from_domain)) == NULL ||
	    memchr(o->message_id, '\0', sizeof(o->message_id)) == NULL)
		abort();
	if ((o->from_status == FORMAT_FROM_OK) != (o->from_domain[0] != '\0'))
		abort();
	if (o->from.count > ADDR_MAX)
		abort();
	if (o->nauthors > FORMAT_AUTHORS_MAX)
		abort();
	for (size_t i = 0; i < o->nauthors; i++) {
		const char *d = o->authors[i];
		if (memchr(d, '\0', ADDR_DOMAIN_MAX) == NULL || !addr_domain_valid(d, strlen(d)))
			abort();
		for (; *d; d++)
			if (*d >= 'A' && *d <= 'Z')
				abort();
	}
	if (o->from_status == FORMAT_FROM_OK &&
	    (o->nauthors != 1 || o->author_unreadable || strcmp(o->authors[0], o->from_domain) != 0))
		abort();

	char id[64];
	int il = authres_servid(p, size, id, sizeof(id));
	if (il == 0 || il >= (int)sizeof(id) || (il > 0 && strlen(id) > (size_t)il))
		abort();

	time_t t;
	int zone;
	(void)format_parse_date(p, size, &t, &zone);
	char mid[64];
	(void)format_parse_msgid(p, size, mid, sizeof(mid));
out:
	free(o);
	findings_free(f);
	hdr_free(h);
	free(p);
	return 0;
}
