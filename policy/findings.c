/*
 * findings - capped list of named findings, and the table of every finding
 * name the code can emit; see findings.h.
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

/* Every finding name the code emits, sorted (docs/FINDINGS.md documents each;
 * tests/integration/docs.sh fails when the code, this table and the document
 * disagree). Policy rules are checked against it (trustmilter -n). */
static const char *const known[] = {
	"arc.ams_fail", "arc.chain_failed", "arc.incomplete", "arc.key", "arc.seal_fail",
	"arc.structure", "arc.syntax", "arc.temperror", "arc.too_many_instances",
	"bulk.no_list_unsubscribe", "bulk.no_one_click", "dkim.fail", "dkim.header_refused",
	"dkim.none", "dkim.not_aligned", "dkim.permerror", "dkim.policy", "dkim.temperror",
	"dkim.too_many_signatures", "dmarc.disposition.quarantine", "dmarc.disposition.reject",
	"dmarc.fail", "dmarc.multiple_authors", "dmarc.no_record", "dmarc.override.arc", "dmarc.permerror",
	"dmarc.temperror",
	"dns.budget_exhausted", "envelope.mail_from_syntax", "format.date_invalid",
	"format.date_missing", "format.date_weekday_mismatch", "format.duplicate_bcc",
	"format.duplicate_cc", "format.duplicate_date", "format.duplicate_from",
	"format.duplicate_in_reply_to", "format.duplicate_message_id",
	"format.duplicate_references", "format.duplicate_reply_to", "format.duplicate_sender",
	"format.duplicate_subject", "format.duplicate_to", "format.empty_message",
	"format.from_domain_invalid", "format.from_missing", "format.from_multiple_addresses",
	"format.from_multiple_fields", "format.from_no_address", "format.from_no_domain",
	"format.from_syntax", "format.from_too_many", "format.header_8bit",
	"format.header_control", "format.header_name", "format.header_nul",
	"format.header_syntax", "format.message_id_invalid", "format.message_id_missing",
	"format.sender_invalid", "format.sender_required", "limits.arc_fields",
	"limits.authres_fields", "limits.compliance_fields", "limits.dkim_signature_fields",
	"limits.findings", "limits.forged_headers", "limits.from_fields", "limits.headers",
	"limits.list_unsubscribe_fields", "limits.sender_fields", "spam.score.quarantine",
	"spam.score.reject", "spf.fail", "spf.neutral", "spf.none", "spf.permerror",
	"spf.softfail", "spf.temperror", "unsub.http_not_https",
	"unsub.multiple_list_unsubscribe", "unsub.no_https", "unsub.not_dkim_covered",
	"unsub.not_dkim_signed", "unsub.post_bad_value", "unsub.post_missing",
	"unsub.post_multiple", "unsub.post_without_list_unsubscribe",
	"unsub.signature_not_aligned", "unsub.syntax", "unsub.too_many_uris",
	"unsub.uri_too_long",
	NULL
};

/* findings_known - see findings.h. */
int findings_known(const char *name)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(known[i], name) == 0)
			return 1;
	return 0;
}

/* findings_known_prefix - see findings.h. */
int findings_known_prefix(const char *prefix, size_t n)
{
	for (size_t i = 0; known[i]; i++)
		if (strncmp(known[i], prefix, n) == 0)
			return 1;
	return 0;
}

/* findings_known_name - see findings.h. */
const char *findings_known_name(size_t i)
{
	return i < sizeof(known) / sizeof(known[0]) ? known[i] : NULL;
}
