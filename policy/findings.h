/*
 * findings - a capped list of named findings about one message.
 *
 * A finding has a stable dotted name (documented in docs/FINDINGS.md, e.g.
 * "dmarc.fail", "unsub.not_dkim_covered") and a short human detail. The list
 * holds at most FINDINGS_MAX entries; the entry past the cap is replaced by a
 * single "limits.findings" finding so nothing is silently lost. Adding the same
 * name twice keeps only the first (the detail of the first occurrence wins).
 */
#ifndef TM_FINDINGS_H
#define TM_FINDINGS_H

#include <stddef.h>

#define FINDINGS_MAX 64          /* more than any sane message produces */
#define FINDING_NAME_MAX 64
#define FINDING_DETAIL_MAX 256

typedef struct findings findings;

struct finding {
	char name[FINDING_NAME_MAX];
	char detail[FINDING_DETAIL_MAX];
};

findings *findings_new(void);
void findings_free(findings *f);
void findings_reset(findings *f);
/* findings_add - add a finding; detail is printf-style; attacker text is made printable. */
void findings_add(findings *f, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t findings_count(const findings *f);
const struct finding *findings_get(const findings *f, size_t i);
/* findings_has - nonzero if a finding with this exact name is present. */
int findings_has(const findings *f, const char *name);
/* findings_has_prefix - nonzero if any finding name starts with prefix. */
int findings_has_prefix(const findings *f, const char *prefix);

/* findings_known - is name one of the finding names the code emits? */
int findings_known(const char *name);
/* findings_known_prefix - does any known finding name start with (prefix,n)? */
int findings_known_prefix(const char *prefix, size_t n);
/* findings_known_name - the i-th known name (NULL past the end), for tests. */
const char *findings_known_name(size_t i);

/* What a finding means and the one-line fix, for people: the trustmilter-check
 * report, the statistics, the compliance report's findings table and
 * docs/FINDINGS.md (tests/integration/docs.sh keeps the document equal to it). */
struct finding_help {
	const char *name, *meaning, *fix;
};
/* findings_help - the help row of a known finding name, NULL for others. */
const struct finding_help *findings_help(const char *name);
/* findings_help_row - the i-th help row (NULL past the end), sorted by name. */
const struct finding_help *findings_help_row(size_t i);

#endif
