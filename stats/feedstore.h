/*
 * feedstore - the tables of the reports that come back about our mail,
 * next to the audit store's messages table, in both backends:
 *
 *   feedback_reports  one row per ARF report (RFC 5965): its type, the
 *                     provider, what it names, and which outbound record it
 *                     was tied to and how (match_method)
 *   dmarc_reports     one row per DMARC aggregate report (reporter, report
 *                     id, policy domain, period, published policy)
 *   dmarc_records     its rows: source IP, count, identifiers, results
 *
 * A report is stored once: ARF reports are keyed by the SHA-256 of their
 * body, aggregate reports by reporter, report id and policy domain (the
 * ingest module computes the key); a second copy changes nothing.
 * Writing goes through store_exec on a reader connection (the report tool,
 * or the daemon's feedback thread), each report in one transaction.
 */
#ifndef TM_FEEDSTORE_H
#define TM_FEEDSTORE_H

#include <stdint.h>
#include <stddef.h>

/* the migration that creates the tables (stats/store.c's list) */
#define FEEDSTORE_MIGRATION_2 \
	"CREATE TABLE feedback_reports (id TEXT NOT NULL PRIMARY KEY, ts BIGINT NOT NULL," \
	" arrival BIGINT NOT NULL, feedback_type TEXT NOT NULL, complaint INTEGER NOT NULL," \
	" provider TEXT NOT NULL, user_agent TEXT NOT NULL, reported_domain TEXT NOT NULL," \
	" source_ip TEXT NOT NULL, original_mail_from TEXT NOT NULL, original_rcpt_to TEXT NOT NULL," \
	" recipient_domain TEXT NOT NULL, message_id TEXT NOT NULL, from_domain TEXT NOT NULL," \
	" campaign TEXT NOT NULL, original TEXT NOT NULL, match_method TEXT NOT NULL," \
	" matched_ts BIGINT, matched_queue_id TEXT NOT NULL);" \
	"CREATE INDEX feedback_reports_arrival ON feedback_reports (arrival);" \
	"CREATE TABLE dmarc_reports (id TEXT NOT NULL PRIMARY KEY, ts BIGINT NOT NULL," \
	" org_name TEXT NOT NULL, email TEXT NOT NULL, report_id TEXT NOT NULL, domain TEXT NOT NULL," \
	" period_begin BIGINT NOT NULL, period_end BIGINT NOT NULL, p TEXT NOT NULL, sp TEXT NOT NULL," \
	" np TEXT NOT NULL, adkim TEXT NOT NULL, aspf TEXT NOT NULL, pct TEXT NOT NULL," \
	" records INTEGER NOT NULL);" \
	"CREATE TABLE dmarc_records (report TEXT NOT NULL, period_begin BIGINT NOT NULL," \
	" org_name TEXT NOT NULL, domain TEXT NOT NULL, source_ip TEXT NOT NULL, count BIGINT NOT NULL," \
	" disposition TEXT NOT NULL, dkim_eval TEXT NOT NULL, spf_eval TEXT NOT NULL, reason TEXT NOT NULL," \
	" header_from TEXT NOT NULL, envelope_from TEXT NOT NULL, envelope_to TEXT NOT NULL," \
	" dkim_domain TEXT NOT NULL, dkim_selector TEXT NOT NULL, dkim_result TEXT NOT NULL," \
	" spf_domain TEXT NOT NULL, spf_result TEXT NOT NULL);" \
	"CREATE INDEX dmarc_records_begin ON dmarc_records (period_begin);" \
	"CREATE INDEX dmarc_records_report ON dmarc_records (report);"

typedef struct store store;
struct arf_report;
struct aggrep;
struct aggrep_record;

/* How a complaint was tied to our outbound record. */
struct feedstore_match {
	char method[16];          /* "message_id", "campaign", "from_domain" or "none" */
	int64_t ts;               /* the matched record's time, 0 for none */
	char queue_id[64];
};

/* feedstore_match - find the outbound record an ARF report is about: by
 * Message-ID (the messages table has it from schema version 3), else the newest outbound
 * record with the same campaign key and From domain (not after the arrival
 * date), else with the same From domain only. 0 (m->method "none" when
 * nothing matched) or -1 with err. */
int feedstore_match(store *st, const struct arf_report *r, struct feedstore_match *m,
                    char *err, size_t errlen);

/* feedstore_put_arf - store one ARF report under id (ingest's key).
 * 1 stored, 0 already there, -1 with err. */
int feedstore_put_arf(store *st, const char *id, const struct arf_report *r,
                      const char *provider, const struct feedstore_match *m, int64_t now,
                      char *err, size_t errlen);

/* feedstore_put_dmarc - store an aggregate report and its records in one
 * transaction. 1 stored, 0 already there, -1 with err. */
int feedstore_put_dmarc(store *st, const char *id, const struct aggrep *a, int64_t now,
                        char *err, size_t errlen);

/* One stored ARF report, for the statistics. */
struct feedstore_arf {
	int64_t arrival;
	char feedback_type[32], provider[16];
	int complaint;
	char reported_domain[256], from_domain[256], campaign[256], match_method[16];
	char recipient_domain[256];
};

/* One stored aggregate record with its report's reporter and period. */
struct feedstore_dmarc {
	int64_t period_begin;
	char org_name[256], domain[256];
	const struct aggrep_record *rec;
};

/* feedstore_query_arf - every ARF report with since <= arrival < until. */
int feedstore_query_arf(store *st, int64_t since, int64_t until,
                        int (*cb)(void *arg, const struct feedstore_arf *r), void *arg,
                        char *err, size_t errlen);
/* feedstore_query_dmarc - every aggregate record whose report period
 * begins in [since, until). */
int feedstore_query_dmarc(store *st, int64_t since, int64_t until,
                          int (*cb)(void *arg, const struct feedstore_dmarc *r), void *arg,
                          char *err, size_t errlen);

#endif
