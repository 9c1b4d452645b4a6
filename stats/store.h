/*
 * store - the audit store: where audit records go, and where reports read
 * them from.
 *
 * Backends (a table, chosen by the URI):
 *   sqlite:/var/lib/trustmilter/audit.db    SQLite in WAL mode (the default)
 *   postgresql://user@127.0.0.1:5432/db     PostgreSQL through libpq (fleets);
 *   postgres://... and "host=... dbname=..." conninfo strings work too
 * Both hold the same schema (docs/STATISTICS.md), created on first open and
 * migrated forward; the schema_version table records the version.
 *
 * Writing: store_open() starts one writer thread. store_submit() copies the
 * record into a bounded queue and returns at once: it never blocks and never
 * fails the message. When the queue is full the record is dropped and
 * counted; the writer logs drop counts and stores them in the "drops" table
 * so reports show them. The writer commits batches in one transaction; a
 * failed batch (database locked, disk full) is kept and retried while new
 * records fill the queue, so a long outage turns into counted drops, never
 * into waiting mail. store_close() drains the queue (bounded by
 * flush_timeout_ms) and stops the thread.
 *
 * Reading: store_open_reader() opens without a writer thread; store_query()
 * streams the records of a period to a callback (PostgreSQL too: libpq's
 * single-row mode, so memory does not grow with the period). Thread safety: submit and
 * stats from any thread; everything else from the owner.
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "audit.h"
#include "buf.h"

#define STORE_SCHEMA_VERSION 6

typedef struct store store;

struct store_opts {
	size_t queue_size;        /* records waiting for the writer; 0: 10000 */
	size_t batch_size;        /* records per transaction; 0: 200 */
	int retention_days;       /* 0: keep everything */
	unsigned flush_timeout_ms;/* store_close() gives up after this; 0: 10000 */
	const char *host;         /* host name written with drop counts */
	/* log - one line about the store (errors, drops); NULL: stderr */
	void (*log)(void *arg, int is_error, const char *msg);
	void *log_arg;
};

struct store_stats {
	uint64_t submitted;       /* records accepted into the queue */
	uint64_t written;         /* records committed */
	uint64_t dropped;         /* records lost: queue full, or given up at close */
	uint64_t errors;          /* failed transactions (each retried) */
	size_t depth;             /* records waiting now */
	size_t queue_size;
};

/* store_open - open (create, migrate) and start the writer; NULL with err. */
store *store_open(const char *uri, const struct store_opts *o, char *err, size_t errlen);
/* store_open_reader - open (create, migrate) for reading; no writer thread. */
store *store_open_reader(const char *uri, char *err, size_t errlen);
/* store_submit - queue a copy of r; 0 queued, -1 dropped (counted). Never blocks. */
int store_submit(store *st, const struct audit_record *r);
/* store_flush - wait until everything submitted so far is committed or dropped
 * (at most timeout_ms); 0 when the queue is empty, -1 on timeout. */
int store_flush(store *st, unsigned timeout_ms);
/* store_close - flush, stop the writer, close; NULL is accepted. */
void store_close(store *st);
void store_get_stats(store *st, struct store_stats *out);
/* store_close_stats - store_close(), returning the final counters. */
void store_close_stats(store *st, struct store_stats *out);
/* store_backend_name - "sqlite" or "postgresql". */
const char *store_backend_name(const store *st);

/* store_query - call cb for every record with since <= ts < until (oldest
 * first); cb returns nonzero to stop. 0 ok, -1 with err. */
int store_query(store *st, int64_t since, int64_t until,
                int (*cb)(void *arg, const struct audit_record *r), void *arg,
                char *err, size_t errlen);
/* store_query_drops - sum of dropped records logged in [since, until). */
int store_query_drops(store *st, int64_t since, int64_t until, uint64_t *out,
                      char *err, size_t errlen);
/* store_prune - delete records older than before, and the rollup rows of
 * the UTC days that end at before or earlier (a day before falls into keeps
 * its rollup rows); returns records deleted or -1. */
long store_prune(store *st, int64_t before, char *err, size_t errlen);
/* store_rollup_rebuild - in one transaction, the rollup rows of the UTC days
 * touching [since, until) computed again from the stored records (for
 * records written by other means than the writer, e.g. a bulk copy). The
 * number of records read, or -1 with err. On a reader only. */
long store_rollup_rebuild(store *st, int64_t since, int64_t until, char *err, size_t errlen);
/* store_exec - run sql (text parameters $1..$np, NULL = SQL NULL) on the
 * connection of a reader (store_open_reader); rows go to fn (cols[i] NULL
 * for SQL NULL; nonzero stops). "BEGIN" starts the backend's write
 * transaction. For the tables of other modules (stats/feedstore.c); never
 * on a store whose writer thread runs. 0 ok, -1 with err. */
int store_exec(store *st, const char *sql, const char *const *params, int np,
               int (*fn)(void *arg, const char *const *cols, int ncols), void *arg,
               long *changes, char *err, size_t errlen);
/* store_columns_ddl - the DDL that schema version adds to the messages
 * table, generated from the column table (audit.h), appended to b. */
void store_columns_ddl(buf *b, int version);
/* store_schema_version - the version recorded in the database, -1 on error. */
int store_schema_version(store *st);

struct conf;
/* store_open_conf - the store configured by audit.* (uri overrides
 * audit.store when not NULL). NULL with err[0] == '\0' when none is configured,
 * NULL with err on failure. */
store *store_open_conf(const struct conf *c, const char *uri, const char *host,
                       void (*log)(void *arg, int is_error, const char *msg), void *log_arg,
                       char *err, size_t errlen);

#endif
