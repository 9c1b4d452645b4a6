/*
 * audit - the text forms of the audit record's list columns (see audit.h):
 * what the store writes and reads back. No I/O.
 */
#include <stdio.h>
#include <string.h>
#include "audit.h"
#include "buf.h"

/* audit_list_text - items joined by single spaces. */
void audit_list_text(char (*items)[AUDIT_NAME_MAX], size_t n, char *out, size_t outsz)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + off, outsz - off, "%s%s", off ? " " : "", items[i]);
		if (w < 0 || (size_t)w >= outsz - off) {
			out[off] = '\0';     /* whole items only: never a cut name */
			return;
		}
		off += (size_t)w;
	}
}

/* audit_list_parse - split on spaces into at most max items. */
size_t audit_list_parse(const char *text, char (*items)[AUDIT_NAME_MAX], size_t max)
{
	size_t n = 0;
	const char *p = text ? text : "";
	while (*p && n < max) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == 0)
			break;
		str_copy(items[n++], AUDIT_NAME_MAX, p, l);
		p += l;
	}
	return n;
}

/* audit_sigs_text - "result:d:s:flags ..." */
void audit_sigs_text(const struct audit_record *r, char *out, size_t outsz)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->nsigs; i++) {
		const struct audit_sig *a = &r->sigs[i];
		int w = snprintf(out + off, outsz - off, "%s%s:%s:%s:%s%s%s", off ? " " : "", a->result,
		                 a->domain, a->selector, a->aligned ? "a" : "", a->covers_unsub ? "u" : "",
		                 a->aligned || a->covers_unsub ? "" : "-");
		if (w < 0 || (size_t)w >= outsz - off) {
			out[off] = '\0';
			return;
		}
		off += (size_t)w;
	}
}

/* audit_sigs_parse - back into r->sigs (fields cut at the arrays' sizes). */
void audit_sigs_parse(const char *text, struct audit_record *r)
{
	r->nsigs = 0;
	const char *p = text ? text : "";
	while (*p && r->nsigs < AUDIT_MAX_SIGS) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == 0)
			break;
		const char *f[4] = { p, NULL, NULL, NULL };
		size_t fl[4] = { 0 };
		int k = 0;
		for (size_t i = 0; i < l && k < 4; i++)
			if (p[i] == ':' && k < 3)
				f[++k] = p + i + 1;
		if (k == 3) {
			fl[0] = (size_t)(f[1] - f[0] - 1);
			fl[1] = (size_t)(f[2] - f[1] - 1);
			fl[2] = (size_t)(f[3] - f[2] - 1);
			fl[3] = (size_t)(p + l - f[3]);
			struct audit_sig *a = &r->sigs[r->nsigs++];
			memset(a, 0, sizeof(*a));
			str_copy(a->result, sizeof(a->result), f[0], fl[0]);
			str_copy(a->domain, sizeof(a->domain), f[1], fl[1]);
			str_copy(a->selector, sizeof(a->selector), f[2], fl[2]);
			a->aligned = memchr(f[3], 'a', fl[3]) != NULL;
			a->covers_unsub = memchr(f[3], 'u', fl[3]) != NULL;
		}
		p += l;
	}
}
