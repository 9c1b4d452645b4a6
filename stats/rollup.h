/*
 * rollup - the per-day rollup tables the store's writer maintains, so that a
 * report over a month reads a few rows per domain and day instead of every
 * record (docs/ARCHITECTURE.md, "Report aggregation"; docs/STATISTICS.md).
 *
 *   rollup_domain    (day, direction, from_domain, authenticated) -> counters
 *   rollup_campaign  (day, direction, campaign, bulk)             -> counters
 *   rollup_findings  (day, direction, from_domain, finding)       -> n
 *
 * day is the UTC day start (every report bucket, day, week or month, is made
 * of whole UTC days). The counters are the report's measures of the records
 * of the key (enum rollup_counter); "last" is ts * 8 + DMARC policy of the
 * newest record, so its maximum gives the newest time and its policy on both
 * backends.
 *
 * A batch (struct rollup_batch) sums records in memory and writes each of its
 * keys with one upsert (INSERT ... ON CONFLICT DO UPDATE SET x = x +
 * excluded.x), so batches of several writers, or a batch written in parts,
 * add up. The writer (store.c) adds every batch of records to the rollups in
 * the same transaction as the records; the schema migration to version 5 and
 * store_rollup_rebuild() fill them from the stored records by the same code.
 * Nothing here does I/O: SQL goes through the caller's exec function.
 */
#ifndef TM_ROLLUP_H
#define TM_ROLLUP_H

#include <stddef.h>
#include <stdint.h>
#include "audit.h"
#include "buf.h"

#define ROLLUP_NSPAM 7       /* spam buckets: <0 0-1 1-3 3-5 5-10 >=10 unknown */
#define ROLLUP_NACT (ACT_LAST + 1)
#define ROLLUP_DAY 86400

/* The counter columns of rollup_domain and rollup_campaign, in order. */
enum rollup_counter {
	RC_MESSAGES, RC_SPF_PASS, RC_DKIM_PASS, RC_DKIM_ALIGNED_PASS, RC_DMARC_PASS,
	RC_SPF_ALIGNED, RC_DKIM_ALIGNED, RC_DMARC_RECORDS, RC_BULK, RC_ONE_CLICK, RC_TLS,
	RC_FORMAT_OK, RC_GMAIL, RC_YAHOO, RC_MICROSOFT, RC_RCPTS, RC_BYTES,
	RC_DMARC_FAIL,                 /* DMARC result fail */
	RC_OUT_MSGS,                   /* outbound records */
	RC_OUT_GMAIL, RC_OUT_YAHOO, RC_OUT_MICROSOFT,   /* their recipients per provider */
	RC_SPAM,                       /* ROLLUP_NSPAM buckets from here */
	RC_ACT = RC_SPAM + ROLLUP_NSPAM,   /* ROLLUP_NACT enforced actions from here */
	RC_LAST = RC_ACT + ROLLUP_NACT,    /* max(ts * 8 + dmarc_policy) */
	/* a new counter goes here, its column added by a new migration */
	ROLLUP_NCOUNTERS
};
/* the counters of schema version 5 (rollup_ddl): never changes */
#define ROLLUP_V5_COUNTERS 36

enum rollup_table { ROLLUP_DOMAIN, ROLLUP_CAMPAIGN, ROLLUP_FINDINGS };
#define ROLLUP_NTABLES 3

/* rollup_counter_name - the column name of counter i ("messages", "spam3",
 * "act_reject", "last"). */
const char *rollup_counter_name(int i);
/* rollup_table_name - "rollup_domain" ... */
const char *rollup_table_name(enum rollup_table t);
/* rollup_ddl - CREATE TABLE of the three tables as schema version 5 made
 * them (ROLLUP_V5_COUNTERS counter columns), into b. */
void rollup_ddl(buf *b);

/* rollup_spam_bucket - the spam bucket of r (ROLLUP_NSPAM - 1: unknown). */
int rollup_spam_bucket(const struct audit_record *r);
/* rollup_authenticated - the From domain's own mail: DMARC pass, an aligned
 * SPF or DKIM pass (also without a DMARC record), or mail we sent ourselves. */
int rollup_authenticated(const struct audit_record *r);
/* rollup_day - the UTC day start of ts. */
int64_t rollup_day(int64_t ts);

/* The audit columns a rollup reads (what rollup_batch_add_cols expects), at
 * most ROLLUP_MAX_COLUMNS. */
#define ROLLUP_MAX_COLUMNS 32
extern const char *const rollup_columns[];
extern const size_t rollup_ncolumns;

typedef struct rollup_batch rollup_batch;
/* exec - run one statement with text parameters; 0, or -1 with err. */
typedef int (*rollup_exec_fn)(void *arg, const char *sql, const char *const *params, int np,
                              char *err, size_t errlen);

/* rollup_batch_new - an empty batch holding at most max_keys keys; NULL
 * when out of memory. */
rollup_batch *rollup_batch_new(size_t max_keys);
void rollup_batch_free(rollup_batch *b);
/* rollup_batch_add - r's counts into the batch; -1 (nothing added) when the
 * batch is full: write it (rollup_batch_write) and add again. */
int rollup_batch_add(rollup_batch *b, const struct audit_record *r);
/* rollup_batch_add_cols - the same for a record given as the text of
 * rollup_columns (vals[i] NULL for SQL NULL). */
int rollup_batch_add_cols(rollup_batch *b, const char *const *vals);
/* rollup_batch_keys - keys held. */
size_t rollup_batch_keys(const rollup_batch *b);
/* rollup_batch_write - one upsert per key through exec, then empty the
 * batch (also on error: the caller rolls the transaction back and adds the
 * records again). 0, or -1 with err. */
int rollup_batch_write(rollup_batch *b, rollup_exec_fn exec, void *arg, char *err, size_t errlen);
/* rollup_batch_clear - forget every key. */
void rollup_batch_clear(rollup_batch *b);

#endif
