/*
 * findings - capped list of named findings; see findings.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include "findings.h"
#include "buf.h"

struct findings {
	size_t count;
	int capped;
	struct finding f[FINDINGS_MAX];
};

findings *findings_new(void) { return calloc(1, sizeof(findings)); }
void findings_free(findings *f) { free(f); }
void findings_reset(findings *f) { f->count = 0; f->capped = 0; }
size_t findings_count(const findings *f) { return f->count; }

const struct finding *findings_get(const findings *f, size_t i)
{
	return i < f->count ? &f->f[i] : NULL;
}

/* findings_has - exact name lookup. */
int findings_has(const findings *f, const char *name)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return 1;
	return 0;
}

/* findings_has_prefix - any name starting with prefix. */
int findings_has_prefix(const findings *f, const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < f->count; i++)
		if (strncmp(f->f[i].name, prefix, n) == 0)
			return 1;
	return 0;
}

/* findings_add - the last slot is reserved for "limits.findings". */
void findings_add(findings *f, const char *name, const char *fmt, ...)
{
	if (f == NULL || findings_has(f, name))
		return;
	if (f->count >= FINDINGS_MAX - 1) {
		if (!f->capped) {
			f->capped = 1;
			struct finding *x = &f->f[FINDINGS_MAX - 1];
			str_copy(x->name, sizeof(x->name), "limits.findings", 15);
			str_copy(x->detail, sizeof(x->detail), "more findings than the list holds", 33);
			f->count = FINDINGS_MAX;
		}
		return;
	}
	struct finding *x = &f->f[f->count++];
	str_copy(x->name, sizeof(x->name), name, strlen(name));
	char tmp[FINDING_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		tmp[0] = '\0';
	str_printable(x->detail, sizeof(x->detail), tmp, strlen(tmp));
}
