/*
 * ingest - one report, whatever its form, parsed: an ARF message, a mail
 * carrying a DMARC aggregate report (plain, gzip or zip attachment, or the
 * body itself), or a bare report file (.xml, .xml.gz, .zip). The daemon
 * and trustmilter-report --ingest both come here; storing is
 * stats/feedstore's job.
 */
#ifndef TM_INGEST_H
#define TM_INGEST_H

#include <stddef.h>
#include "arf.h"
#include "aggrep.h"

#define INGEST_INPUT_MAX (16u << 20)     /* a report message or file above this is refused */
#define INGEST_ATTACH_MAX (8u << 20)     /* a decoded attachment */

enum ingest_kind { INGEST_NONE, INGEST_ARF, INGEST_DMARC };

struct ingest_result {
	enum ingest_kind kind;
	const char *error;          /* a finding name when the report was refused */
	char id[65];                /* SHA-256 (hex): ARF of the body, DMARC of org/id/domain */
	struct arf_report arf;
	struct aggrep agg;          /* kind INGEST_DMARC: free with ingest_free */
};

/* ingest_parse - classify and parse (p, len). Returns kind; INGEST_NONE
 * with error set when it is not a report we read (feedback.report.unknown)
 * or the report is refused (the parser's finding). */
enum ingest_kind ingest_parse(const char *p, size_t len, const char *campaign_header,
                              struct ingest_result *r);
void ingest_free(struct ingest_result *r);

/* ingest_provider - the mailbox provider of a recipient domain in m
 * (feedback.providers, policy/provider): "gmail", "yahoo", "microsoft", else "other". */
struct provider_map;
const char *ingest_provider(const struct provider_map *m, const char *domain);

#endif
