/*
 * store - the audit store: a bounded queue, one writer thread, batched
 * transactions, and a backend table (SQLite, PostgreSQL); see store.h.
 *
 * Why this shape: mail must never wait for statistics. The milter's threads
 * only copy a record into the queue under a mutex (no I/O); the writer does
 * all database work. Both backends speak the same SQL text ($1..$n
 * parameters work in SQLite too, numbered in order), values travel as text,
 * and the reports read the same SELECT on both, so a fleet on PostgreSQL and
 * a single host on SQLite give identical numbers for identical mail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include <libpq-fe.h>
#include "store.h"
#include "buf.h"
#include "conf.h"
#include "feedstore.h"
#include "rollup.h"

#define STORE_QUEUE_DEFAULT 10000   /* ~10 s of a busy MTA's mail; a queued record is
                                       its row text, ~1 KB */
#define STORE_QUEUE_MAX 1000000     /* an upper bound for the configured queue */
#define STORE_BATCH_DEFAULT 200
#define STORE_FLUSH_DEFAULT_MS 10000
#define STORE_RETRY_MS 500          /* pause after a failed transaction */
#define STORE_LINGER_MS 1000        /* wait this long for a full batch: one commit for
                                       many records instead of one per message */
#define STORE_LOG_EVERY_S 10        /* at most one drop/error log line per interval */
#define STORE_PRUNE_EVERY_S 3600
#define STORE_ROLLUP_KEYS 65536     /* rollup keys summed in memory before they are written */
#define STORE_ROLLUP_FILL_KEYS 262144 /* the same while filling from stored records: a
                                       longer time range is split in halves */

/* ---- backends ---------------------------------------------------------- */

/* row callback: cols[i] is NULL for SQL NULL */
typedef int (*row_fn)(void *arg, const char *const *cols, int ncols);

struct backend {
	const char *name;
	const char *ddl_messages_extra;    /* nothing backend specific yet */
	void *(*connect)(const char *target, int writer, char *err, size_t errlen);
	void (*disconnect)(void *c);
	/* run sql with text parameters (NULL = SQL NULL); rows to fn if given */
	int (*run)(void *c, const char *sql, const char *const *params, int np,
	           row_fn fn, void *arg, long *changes, char *err, size_t errlen);
	int (*lock_schema)(void *c, char *err, size_t errlen);  /* inside BEGIN */
	const char *begin;
	int (*healthy)(void *c);           /* 0: reconnect before the next try */
};

/* sqlite ---- */

#define SQ_CACHE 8                  /* prepared statements kept per connection */

/* A SQLite connection keeps its few parameterised statements (the INSERT of
 * every record above all) prepared: parsing the 40-column INSERT again for
 * every row cost more than executing it. */
struct sq_conn {
	sqlite3 *db;
	struct { char *sql; sqlite3_stmt *st; } cache[SQ_CACHE];
	unsigned next;                /* round robin replacement */
};

/* sq_connect - open the file named after "sqlite:", WAL mode. */
static void *sq_connect(const char *target, int writer, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	struct sq_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                 SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", target, db && c ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		free(c);
		return NULL;
	}
	/* the writer waits a little for a lock (a report reading), readers longer */
	sqlite3_busy_timeout(db, writer ? 1000 : 10000);
	char *msg = NULL;
	/* WAL with synchronous=NORMAL: a commit does not wait for fsync; a power
	 * loss may lose the last transactions, never corrupt the file
	 * (docs/STATISTICS.md, durability) */
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	                 &msg) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", target, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		free(c);
		return NULL;
	}
	c->db = db;
	return c;
}

static void sq_disconnect(void *p)
{
	struct sq_conn *c = p;
	if (c == NULL)
		return;
	for (int i = 0; i < SQ_CACHE; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->db);
	free(c);
}

/* sq_cached - the prepared statement for sql (one statement with
 * parameters), from the cache or newly prepared into it; NULL on error. */
static sqlite3_stmt *sq_cached(struct sq_conn *c, const char *sql, char *err, size_t errlen)
{
	for (int i = 0; i < SQ_CACHE; i++)
		if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
			return c->cache[i].st;
	sqlite3_stmt *st = NULL;
	char *copy = strdup(sql);
	if (copy == NULL || sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK || st == NULL) {
		snprintf(err, errlen, "sqlite: %s", copy ? sqlite3_errmsg(c->db) : "out of memory");
		free(copy);
		sqlite3_finalize(st);
		return NULL;
	}
	unsigned k = c->next++ % SQ_CACHE;
	sqlite3_finalize(c->cache[k].st);
	free(c->cache[k].sql);
	c->cache[k].sql = copy;
	c->cache[k].st = st;
	return st;
}

/* sq_steps - bind, step through the rows to fn, reset; 0, or -1 with err. */
static int sq_steps(sqlite3 *db, sqlite3_stmt *st, const char *const *params, int np, row_fn fn,
                    void *arg, int *stop, char *err, size_t errlen)
{
	int rc;
	for (int i = 0; i < np && i < sqlite3_bind_parameter_count(st); i++)
		sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
	const char *cols[AUDIT_MAX_COLUMNS + 8];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		if (n > (int)(sizeof(cols) / sizeof(cols[0])))
			n = (int)(sizeof(cols) / sizeof(cols[0]));
		for (int i = 0; i < n; i++)
			cols[i] = (const char *)sqlite3_column_text(st, i);
		if (fn && fn(arg, cols, n)) {
			*stop = 1;
			break;
		}
	}
	int bad = !*stop && rc != SQLITE_DONE;
	if (bad)
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);   /* the parameters' memory is the caller's */
	return bad ? -1 : 0;
}

/* sq_run - one statement with parameters (prepared once, cached), or
 * several statements without (DDL), one after another. */
static int sq_run(void *p, const char *sql, const char *const *params, int np, row_fn fn,
                  void *arg, long *changes, char *err, size_t errlen)
{
	struct sq_conn *c = p;
	int stop = 0;
	if (np > 0) {
		sqlite3_stmt *st = sq_cached(c, sql, err, errlen);
		if (st == NULL || sq_steps(c->db, st, params, np, fn, arg, &stop, err, errlen) < 0)
			return -1;
	}
	const char *tail = np > 0 ? "" : sql;
	while (!stop && tail && *tail) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(c->db, tail, -1, &st, &tail) != SQLITE_OK) {
			snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(c->db));
			return -1;
		}
		if (st == NULL)
			break;
		int rc = sq_steps(c->db, st, NULL, 0, fn, arg, &stop, err, errlen);
		sqlite3_finalize(st);
		if (rc < 0)
			return -1;
	}
	if (changes)
		*changes = sqlite3_changes(c->db);
	return 0;
}

static int sq_lock_schema(void *c, char *err, size_t errlen)
{
	(void)c, (void)err, (void)errlen;
	return 0;     /* BEGIN IMMEDIATE already holds the write lock */
}

static int sq_healthy(void *c) { (void)c; return 1; }

/* postgresql ---- */

/* pg_notice - libpq prints NOTICEs ("relation exists, skipping") to stderr: silence. */
static void pg_notice(void *arg, const char *msg) { (void)arg, (void)msg; }

/* pg_connect - libpq conninfo or URI. */
static void *pg_connect(const char *target, int writer, char *err, size_t errlen)
{
	(void)writer;
	PGconn *pg = PQconnectdb(target);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		char m[512];
		str_copy(m, sizeof(m), pg ? PQerrorMessage(pg) : "out of memory",
		         strlen(pg ? PQerrorMessage(pg) : "out of memory"));
		m[strcspn(m, "\n")] = '\0';
		snprintf(err, errlen, "postgresql: %s", m);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, pg_notice, NULL);
	return pg;
}

static void pg_disconnect(void *c) { PQfinish(c); }

/* pg_err - the first line of libpq's message. */
static void pg_err(PGconn *pg, const PGresult *r, char *err, size_t errlen)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(pg);
	char tmp[512];
	str_copy(tmp, sizeof(tmp), m, strlen(m));
	tmp[strcspn(tmp, "\n")] = '\0';
	snprintf(err, errlen, "postgresql: %s", tmp);
}

/* pg_rows - the rows of one result to fn (until it returns nonzero: *stop). */
static void pg_rows(PGresult *r, row_fn fn, void *arg, int *stop)
{
	int nr = PQntuples(r), nc = PQnfields(r);
	const char *cols[AUDIT_MAX_COLUMNS + 8];
	if (nc > (int)(sizeof(cols) / sizeof(cols[0])))
		nc = (int)(sizeof(cols) / sizeof(cols[0]));
	for (int i = 0; i < nr && !*stop; i++) {
		for (int k = 0; k < nc; k++)
			cols[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
		*stop = fn(arg, cols, nc) != 0;
	}
}

/* pg_stream - one statement with parameters whose rows go to fn one at a
 * time (libpq's single-row mode): a report over millions of records never
 * holds the whole result in memory. */
static int pg_stream(PGconn *pg, const char *sql, const char *const *params, int np, row_fn fn,
                     void *arg, long *changes, char *err, size_t errlen)
{
	if (!PQsendQueryParams(pg, sql, np, NULL, params, NULL, NULL, 0)) {
		pg_err(pg, NULL, err, errlen);
		return -1;
	}
	PQsetSingleRowMode(pg);
	int stop = 0, bad = 0;
	PGresult *r;
	while ((r = PQgetResult(pg)) != NULL) {   /* drained to the end, also after a stop */
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_SINGLE_TUPLE && !stop)
			pg_rows(r, fn, arg, &stop);
		else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK && !bad) {
			pg_err(pg, r, err, errlen);
			bad = 1;
		} else if (s != PGRES_SINGLE_TUPLE && changes)
			*changes = atol(PQcmdTuples(r));
		PQclear(r);
	}
	return bad ? -1 : 0;
}

/* pg_run - PQexecParams (one statement; streamed when rows go to fn) or
 * PQexec (DDL without parameters). */
static int pg_run(void *c, const char *sql, const char *const *params, int np, row_fn fn,
                  void *arg, long *changes, char *err, size_t errlen)
{
	PGconn *pg = c;
	if (np && fn)
		return pg_stream(pg, sql, params, np, fn, arg, changes, err, errlen);
	PGresult *r = np ? PQexecParams(pg, sql, np, NULL, params, NULL, NULL, 0) : PQexec(pg, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_err(pg, r, err, errlen);
		PQclear(r);
		return -1;
	}
	int stop = 0;
	if (s == PGRES_TUPLES_OK && fn)
		pg_rows(r, fn, arg, &stop);
	if (changes)
		*changes = atol(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

/* pg_lock_schema - two milters starting at once must not both migrate. */
static int pg_lock_schema(void *c, char *err, size_t errlen)
{
	return pg_run(c, "SELECT pg_advisory_xact_lock(7630477)", NULL, 0, NULL, NULL, NULL, err, errlen);
}

static int pg_healthy(void *c) { return PQstatus(c) == CONNECTION_OK; }

static const struct backend backends[] = {
	{ "sqlite", "", sq_connect, sq_disconnect, sq_run, sq_lock_schema, "BEGIN IMMEDIATE", sq_healthy },
	{ "postgresql", "", pg_connect, pg_disconnect, pg_run, pg_lock_schema, "BEGIN", pg_healthy },
};

/* ---- schema ------------------------------------------------------------ */

/* Forward migrations: migrations[i] brings version i to i+1. First the
 * columns of audit_columns[] (audit.c) whose "since" is i+1 are created
 * (CREATE TABLE messages for version 1, ALTER TABLE messages ADD COLUMN
 * after), then the SQL text here runs. Never edit a released entry or the
 * type of a released column; append. Types are the common subset of both
 * backends. */
static const char *const migrations[] = {
	"CREATE INDEX messages_ts ON messages (ts);"
	"CREATE TABLE drops (ts BIGINT NOT NULL, host TEXT NOT NULL, count BIGINT NOT NULL);"
	"CREATE INDEX drops_ts ON drops (ts);",
	FEEDSTORE_MIGRATION_2,        /* feedback reports, DMARC aggregate reports (feedstore.c) */
	/* 3: message_id and recipients per provider (audit.c); complaints match by Message-ID */
	"CREATE INDEX messages_message_id ON messages (message_id);",
	/* 4: the ARC result and the trusted sealer of an override (audit.c) */
	"",
	/* 5: the rollup tables (rollup.c: rollup_ddl), filled from the stored records by
	 * run_migration */
	"",
	/* 6: the instance of the ARC set we added (audit.c) */
	"",
};
#define ROLLUP_VERSION 5
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION, "one migration per schema version");

/* ---- the store --------------------------------------------------------- */

struct store {
	const struct backend *be;
	char *target;                 /* path or conninfo */
	void *conn;
	int writer;                   /* a writer thread runs */
	struct store_opts o;
	char host[256];
	pthread_mutex_t mu;
	pthread_cond_t wake;          /* writer: work or stop */
	pthread_cond_t idle;          /* flushers: queue drained */
	char **q;                     /* ring of rows (row_encode) */
	size_t qcap, qhead, qlen;
	size_t inflight;              /* records in the writer's current batch */
	int stopping;
	int flushing;                 /* store_flush callers waiting: write now */
	struct timespec give_up_at;   /* during close: stop retrying after this */
	pthread_t thread;
	uint64_t submitted, written, dropped, errors;
	uint64_t drops_unsaved;       /* dropped but not yet in the drops table */
	uint64_t drops_logged;
	time_t last_log, last_prune;
	rollup_batch *rb;             /* writer: the rollups of the batch */
	size_t rcol[ROLLUP_MAX_COLUMNS];  /* rollup_columns[i] is audit column rcol[i] */
};

/* slog - one line to the configured logger. */
static void slog(store *st, int is_error, const char *fmt, ...)
{
	char m[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (st->o.log)
		st->o.log(st->o.log_arg, is_error, m);
	else
		fprintf(stderr, "trustmilter: audit store: %s\n", m);
}

/* pick_backend - URI scheme to backend and target. */
static const struct backend *pick_backend(const char *uri, const char **target)
{
	if (strncmp(uri, "sqlite:", 7) == 0) {
		*target = uri + 7;
		if (strncmp(*target, "//", 2) == 0)     /* sqlite:///path */
			*target += 2;
		return &backends[0];
	}
	if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
		*target = uri;
		return &backends[1];
	}
	if (strncmp(uri, "pg:", 3) == 0) {
		*target = uri + 3;
		return &backends[1];
	}
	return NULL;
}

/* store_columns_ddl - the DDL creating the columns that version adds, into b. */
void store_columns_ddl(buf *b, int version)
{
	int first = 1;
	for (size_t i = 0; i < audit_ncolumns; i++) {
		const struct audit_column *c = &audit_columns[i];
		if (c->since != version)
			continue;
		if (version == 1)
			buf_printf(b, "%s %s %s", first ? "CREATE TABLE messages (" : ",", c->name, c->sql_type);
		else    /* rows already there get the zero value: NOT NULL needs a default */
			buf_printf(b, "ALTER TABLE messages ADD COLUMN %s %s%s;", c->name, c->sql_type,
			           !strstr(c->sql_type, "NOT NULL") ? "" :
			           c->kind == AUDIT_TEXT || c->kind == AUDIT_ENUM || c->kind == AUDIT_LIST ||
			           c->kind == AUDIT_SIGS ? " DEFAULT ''" : " DEFAULT 0");
		first = 0;
	}
	if (version == 1 && !first)
		buf_puts(b, ");");
}

/* be_exec - a statement without rows on the store's connection (rollup_exec_fn). */
static int be_exec(void *arg, const char *sql, const char *const *params, int np, char *err,
                   size_t errlen)
{
	store *st = arg;
	return st->be->run(st->conn, sql, params, np, NULL, NULL, NULL, err, errlen);
}

struct fill_ctx { rollup_batch *b; int full; long n; };

/* fill_row - one stored record (rollup_columns) into the batch; stops when full. */
static int fill_row(void *arg, const char *const *cols, int n)
{
	struct fill_ctx *f = arg;
	if (n < (int)rollup_ncolumns)
		return 1;
	if (rollup_batch_add_cols(f->b, cols) < 0) {
		f->full = 1;
		return 1;
	}
	f->n++;
	return 0;
}

/* fill_range - the rollups of the records with lo <= ts < hi (whose rollup
 * rows are not there); a range with too many keys is split in halves. The
 * number of records, or -1 with err. */
static long fill_range(store *st, rollup_batch *b, const char *sel, int64_t lo, int64_t hi,
                       char *err, size_t errlen)
{
	struct fill_ctx f = { b, 0, 0 };
	char a[32], z[32];
	snprintf(a, sizeof(a), "%lld", (long long)lo);
	snprintf(z, sizeof(z), "%lld", (long long)hi);
	const char *p[2] = { a, z };
	if (st->be->run(st->conn, sel, p, 2, fill_row, &f, NULL, err, errlen) < 0)
		return -1;
	if (!f.full)
		return rollup_batch_write(b, be_exec, st, err, errlen) < 0 ? -1 : f.n;
	rollup_batch_clear(b);
	if (hi - lo < 2) {
		snprintf(err, errlen, "too many rollup keys in one second");
		return -1;
	}
	int64_t mid = lo + (hi - lo) / 2;
	long x = fill_range(st, b, sel, lo, mid, err, errlen), y = x < 0 ? -1 :
	         fill_range(st, b, sel, mid, hi, err, errlen);
	return y < 0 ? -1 : x + y;
}

/* minmax_row - min(ts), max(ts); none when NULL. */
static int minmax_row(void *arg, const char *const *cols, int n)
{
	int64_t *v = arg;
	if (n >= 2 && cols[0] && cols[1]) {
		v[0] = strtoll(cols[0], NULL, 10);
		v[1] = strtoll(cols[1], NULL, 10);
		v[2] = 1;
	}
	return 1;
}

/* rollup_fill - (inside a transaction) the rollup rows of the UTC days
 * touching [since, until) deleted and computed again from the stored
 * records, day by day. The number of records, or -1 with err. */
static long rollup_fill(store *st, int64_t since, int64_t until, char *err, size_t errlen)
{
	int64_t lo = rollup_day(since), hi = rollup_day(until - 1) + ROLLUP_DAY, mm[3] = { 0, 0, 0 };
	char a[32], z[32];
	snprintf(a, sizeof(a), "%lld", (long long)lo);
	snprintf(z, sizeof(z), "%lld", (long long)hi);
	const char *p[2] = { a, z };
	buf *sql = buf_new(2048);
	rollup_batch *b = rollup_batch_new(STORE_ROLLUP_FILL_KEYS);
	long total = -1;
	if (sql == NULL || b == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int t = 0; t < ROLLUP_NTABLES; t++) {
		buf_reset(sql);
		buf_printf(sql, "DELETE FROM %s WHERE day >= $1 AND day < $2", rollup_table_name((enum rollup_table)t));
		if (st->be->run(st->conn, buf_data(sql), p, 2, NULL, NULL, NULL, err, errlen) < 0)
			goto out;
	}
	if (st->be->run(st->conn, "SELECT min(ts), max(ts) FROM messages WHERE ts >= $1 AND ts < $2",
	                p, 2, minmax_row, mm, NULL, err, errlen) < 0)
		goto out;
	buf_reset(sql);
	buf_puts(sql, "SELECT ");
	for (size_t i = 0; i < rollup_ncolumns; i++)
		buf_printf(sql, "%s%s", i ? ", " : "", rollup_columns[i]);
	buf_puts(sql, " FROM messages WHERE ts >= $1 AND ts < $2");
	total = 0;
	for (int64_t d = rollup_day(mm[0]); mm[2] && d <= mm[1] && total >= 0; d += ROLLUP_DAY) {
		long n = fill_range(st, b, buf_data(sql), d, d + ROLLUP_DAY, err, errlen);
		total = n < 0 ? -1 : total + n;
	}
out:
	rollup_batch_free(b);
	buf_free(sql);
	return total;
}

/* store_rollup_rebuild - see store.h: rollup_fill in one transaction. */
long store_rollup_rebuild(store *st, int64_t since, int64_t until, char *err, size_t errlen)
{
	const struct backend *be = st->be;
	if (be->run(st->conn, be->begin, NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		return -1;
	long n = rollup_fill(st, since, until, err, errlen);
	if (n >= 0 && be->run(st->conn, "COMMIT", NULL, 0, NULL, NULL, NULL, err, errlen) == 0)
		return n;
	char e2[64];
	be->run(st->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, e2, sizeof(e2));
	return -1;
}

/* run_migration - bring the schema from version i to i+1 (inside the transaction). */
static int run_migration(store *st, size_t i, char *err, size_t errlen)
{
	buf *ddl = buf_new(16384);
	if (ddl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	store_columns_ddl(ddl, (int)i + 1);
	buf_puts(ddl, migrations[i]);
	if (i + 1 == ROLLUP_VERSION)
		rollup_ddl(ddl);
	/* a version with nothing to do runs nothing: PostgreSQL refuses an
	 * empty query (PGRES_EMPTY_QUERY) */
	int rc = buf_overflowed(ddl) ? -1 : buf_len(ddl) == 0 ? 0 :
	         st->be->run(st->conn, buf_data(ddl), NULL, 0, NULL, NULL, NULL, err, errlen);
	if (buf_overflowed(ddl))
		snprintf(err, errlen, "schema text too long");
	buf_free(ddl);
	/* an upgraded store is complete: the rollups of the records already there */
	if (rc == 0 && i + 1 == ROLLUP_VERSION)
		rc = rollup_fill(st, INT64_MIN / 2, INT64_MAX / 2, err, errlen) < 0 ? -1 : 0;
	return rc;
}

/* version_row - read max(version). */
static int version_row(void *arg, const char *const *cols, int n)
{
	*(int *)arg = n > 0 && cols[0] ? atoi(cols[0]) : 0;
	return 1;
}

/* migrate - create or bring the schema forward, in one locked transaction. */
static int migrate(store *st, char *err, size_t errlen)
{
	const struct backend *be = st->be;
	/* the common case needs no write lock: a milter can start while another
	 * process (a report, the other milters of a fleet) is writing */
	int v = -1;
	char e0[256];
	if (be->run(st->conn, "SELECT max(version) FROM schema_version", NULL, 0, version_row, &v,
	            NULL, e0, sizeof(e0)) == 0 && v == (int)NMIGRATIONS)
		return 0;
	if (be->run(st->conn, be->begin, NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		return -1;
	v = 0;
	if (be->lock_schema(st->conn, err, errlen) < 0 ||
	    be->run(st->conn, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	            NULL, 0, NULL, NULL, NULL, err, errlen) < 0 ||
	    be->run(st->conn, "SELECT max(version) FROM schema_version", NULL, 0, version_row, &v,
	            NULL, err, errlen) < 0)
		goto fail;
	if (v > (int)NMIGRATIONS) {
		snprintf(err, errlen, "database schema version %d is newer than this program's (%d)",
		         v, (int)NMIGRATIONS);
		goto fail;
	}
	for (size_t i = (size_t)v; i < NMIGRATIONS; i++) {
		char ver[16];
		snprintf(ver, sizeof(ver), "%zu", i + 1);
		const char *p[1] = { ver };
		if (run_migration(st, i, err, errlen) < 0 ||
		    be->run(st->conn, "DELETE FROM schema_version", NULL, 0, NULL, NULL, NULL, err, errlen) < 0 ||
		    be->run(st->conn, "INSERT INTO schema_version (version) VALUES ($1)", p, 1, NULL, NULL,
		            NULL, err, errlen) < 0)
			goto fail;
	}
	if (be->run(st->conn, "COMMIT", NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		goto fail;
	return 0;
fail:;
	char e2[64];
	be->run(st->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, e2, sizeof(e2));
	return -1;
}

/* store_exec - one statement (or parameterless DDL) on the owner's connection. */
int store_exec(store *st, const char *sql, const char *const *params, int np,
               int (*fn)(void *arg, const char *const *cols, int ncols), void *arg,
               long *changes, char *err, size_t errlen)
{
	if (strcmp(sql, "BEGIN") == 0)
		sql = st->be->begin;
	return st->be->run(st->conn, sql, params, np, fn, arg, changes, err, errlen);
}

/* store_schema_version - the recorded version. */
int store_schema_version(store *st)
{
	int v = -1;
	char err[256];
	if (st->be->run(st->conn, "SELECT max(version) FROM schema_version", NULL, 0, version_row, &v,
	                NULL, err, sizeof(err)) < 0)
		return -1;
	return v;
}

/* open_common - backend, connection, schema. */
static store *open_common(const char *uri, int writer, char *err, size_t errlen)
{
	const char *target;
	const struct backend *be = uri ? pick_backend(uri, &target) : NULL;
	if (be == NULL) {
		snprintf(err, errlen, "audit store \"%s\": use sqlite:/path or postgresql://...",
		         uri ? uri : "");
		return NULL;
	}
	store *st = calloc(1, sizeof(*st));
	if (st == NULL || (st->target = strdup(target)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->be = be;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->wake, NULL);
	pthread_cond_init(&st->idle, NULL);
	st->conn = be->connect(st->target, writer, err, errlen);
	if (st->conn == NULL || migrate(st, err, errlen) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

store *store_open_reader(const char *uri, char *err, size_t errlen)
{
	return open_common(uri, 0, err, errlen);
}

const char *store_backend_name(const store *st) { return st->be->name; }

/* Rows: a queued record is its columns' text, encoded at submit time (the
 * milter thread formats, the writer only binds): per column a flag byte,
 * 'v' (value) or 'n' (SQL NULL), then the text and a NUL. */

/* row_encode - r as a row, malloc'ed; NULL when out of memory. */
static char *row_encode(const struct audit_record *r)
{
	size_t max = 1;
	for (size_t i = 0; i < audit_ncolumns; i++)
		max += 2 + audit_column_max(&audit_columns[i]);
	char *row = malloc(max), tmp[AUDIT_TEXT_MAX];
	if (row == NULL)
		return NULL;
	size_t off = 0;
	for (size_t i = 0; i < audit_ncolumns; i++) {
		const char *t = audit_column_text(&audit_columns[i], r, tmp, sizeof(tmp));
		size_t l = t ? strnlen(t, max - off - 2) : 0;
		row[off++] = t ? 'v' : 'n';
		memcpy(row + off, t ? t : "", l);
		off += l;
		row[off++] = '\0';
	}
	char *fit = realloc(row, off);
	return fit ? fit : row;
}

/* row_params - the row's columns as text parameters (pointers into row). */
static void row_params(const char *row, const char *p[AUDIT_MAX_COLUMNS])
{
	for (size_t i = 0; i < audit_ncolumns; i++) {
		p[i] = row[0] == 'v' ? row + 1 : NULL;
		row += 2 + strlen(row + 1);
	}
}

/* insert_sql - "INSERT INTO messages (cols) VALUES ($1..$n)" into b. */
static void insert_sql(buf *b)
{
	buf_puts(b, "INSERT INTO messages (");
	for (size_t i = 0; i < audit_ncolumns; i++)
		buf_printf(b, "%s%s", i ? "," : "", audit_columns[i].name);
	buf_puts(b, ") VALUES (");
	for (size_t i = 0; i < audit_ncolumns; i++)
		buf_printf(b, "%s$%zu", i ? "," : "", i + 1);
	buf_puts(b, ")");
}

/* rollup_row - one record's row (row_params) into the batch's rollups,
 * written first when the batch holds too many keys. */
static int rollup_row(store *st, const char *const *p, char *err, size_t errlen)
{
	const char *v[ROLLUP_MAX_COLUMNS];
	for (size_t k = 0; k < rollup_ncolumns; k++)
		v[k] = p[st->rcol[k]];
	if (rollup_batch_add_cols(st->rb, v) == 0)
		return 0;
	if (rollup_batch_write(st->rb, be_exec, st, err, errlen) < 0)
		return -1;
	if (rollup_batch_add_cols(st->rb, v) == 0)
		return 0;
	snprintf(err, errlen, "rollup batch: out of memory");
	return -1;
}

/* write_batch - one transaction: the records and the unsaved drop count. */
static int write_batch(store *st, char **batch, size_t n, uint64_t drops,
                       char *err, size_t errlen)
{
	const struct backend *be = st->be;
	if (!be->healthy(st->conn)) {
		be->disconnect(st->conn);
		st->conn = be->connect(st->target, 1, err, errlen);
		if (st->conn == NULL)
			return -1;
	}
	buf *sql = buf_new(4096);
	int rc = -1;
	if (sql == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	insert_sql(sql);
	if (be->run(st->conn, be->begin, NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		goto out;
	rollup_batch_clear(st->rb);
	for (size_t i = 0; i < n; i++) {
		const char *p[AUDIT_MAX_COLUMNS];
		row_params(batch[i], p);
		if (be->run(st->conn, buf_data(sql), p, (int)audit_ncolumns, NULL, NULL, NULL, err, errlen) < 0 ||
		    rollup_row(st, p, err, errlen) < 0)
			goto rollback;
	}
	if (rollup_batch_write(st->rb, be_exec, st, err, errlen) < 0)
		goto rollback;
	if (drops) {
		char ts[32], cnt[32];
		snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
		snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)drops);
		const char *p[3] = { ts, st->host, cnt };
		if (be->run(st->conn, "INSERT INTO drops (ts, host, count) VALUES ($1, $2, $3)", p, 3,
		            NULL, NULL, NULL, err, errlen) < 0)
			goto rollback;
	}
	if (be->run(st->conn, "COMMIT", NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:;
	char e2[64];
	be->run(st->conn, "ROLLBACK", NULL, 0, NULL, NULL, NULL, e2, sizeof(e2));
out:
	buf_free(sql);
	return rc;
}

/* deadline_passed - monotonic now >= t. */
static int deadline_passed(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* deadline_in - the monotonic time ms from now. */
static struct timespec deadline_in(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* timed_wait - wait on cv for at most ms (CLOCK_MONOTONIC condvars). */
static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, unsigned ms)
{
	struct timespec t = deadline_in(ms);
	pthread_cond_timedwait(cv, mu, &t);
}

/* housekeeping - drop log lines and retention pruning (writer thread, unlocked). */
static void housekeeping(store *st)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&st->mu);
	uint64_t dropped = st->dropped, logged = st->drops_logged;
	int log_now = dropped != logged && now - st->last_log >= STORE_LOG_EVERY_S;
	if (log_now) {
		st->drops_logged = dropped;
		st->last_log = now;
	}
	pthread_mutex_unlock(&st->mu);
	if (log_now)
		slog(st, 1, "%llu audit records dropped (queue of %zu full or database unavailable), "
		     "%llu in total", (unsigned long long)(dropped - logged), st->qcap,
		     (unsigned long long)dropped);
	if (st->o.retention_days > 0 && now - st->last_prune >= STORE_PRUNE_EVERY_S) {
		st->last_prune = now;
		char err[512];
		/* at a UTC day start, so that the rollups and the records agree */
		long n = store_prune(st, rollup_day((int64_t)now - (int64_t)st->o.retention_days * 86400),
		                     err, sizeof(err));
		if (n < 0)
			slog(st, 1, "pruning old records failed: %s", err);
		else if (n > 0)
			slog(st, 0, "pruned %ld records older than %d days", n, st->o.retention_days);
	}
}

/* linger - (locked) with a partial batch queued, wait up to STORE_LINGER_MS
 * for a full one; a flush or close writes at once. */
static void linger(store *st)
{
	struct timespec end = deadline_in(STORE_LINGER_MS);
	while (st->qlen > 0 && st->qlen < st->o.batch_size && !st->stopping && !st->flushing &&
	       !deadline_passed(&end))
		pthread_cond_timedwait(&st->wake, &st->mu, &end);
}

/* writer - the one thread that touches the database. */
static void *writer(void *arg)
{
	store *st = arg;
	size_t bcap = st->o.batch_size;
	char **batch = calloc(bcap, sizeof(*batch));
	size_t n = 0;
	int failing = 0;
	if (batch == NULL)
		abort();        /* start-up allocation; nothing sensible to do */
	pthread_mutex_lock(&st->mu);
	for (;;) {
		if (n == 0) {
			while (st->qlen == 0 && !st->stopping && st->drops_unsaved == 0) {
				timed_wait(&st->wake, &st->mu, 1000);
				pthread_mutex_unlock(&st->mu);
				housekeeping(st);
				pthread_mutex_lock(&st->mu);
			}
			if (st->stopping && st->qlen == 0 && st->drops_unsaved == 0)
				break;
			linger(st);
			while (n < bcap && st->qlen) {
				batch[n++] = st->q[st->qhead];
				st->qhead = (st->qhead + 1) % st->qcap;
				st->qlen--;
			}
			st->inflight = n;
		}
		uint64_t drops = st->drops_unsaved;
		pthread_mutex_unlock(&st->mu);
		char err[512];
		int rc = write_batch(st, batch, n, drops, err, sizeof(err));
		housekeeping(st);
		pthread_mutex_lock(&st->mu);
		if (rc == 0) {
			if (failing)
				slog(st, 0, "writing audit records again");
			failing = 0;
			st->written += n;
			st->drops_unsaved -= drops;
			for (size_t i = 0; i < n; i++)
				free(batch[i]);
			n = 0;
			st->inflight = 0;
			if (st->qlen == 0)
				pthread_cond_broadcast(&st->idle);
			continue;
		}
		st->errors++;
		if (!failing)
			slog(st, 1, "writing %zu audit records failed (will retry): %s", n, err);
		failing = 1;
		if (st->stopping && deadline_passed(&st->give_up_at)) {
			/* closing and the database stays unavailable: count the rest as lost */
			uint64_t lost = n + st->qlen;
			for (size_t i = 0; i < n; i++)
				free(batch[i]);
			while (st->qlen) {
				free(st->q[st->qhead]);
				st->qhead = (st->qhead + 1) % st->qcap;
				st->qlen--;
			}
			st->dropped += lost;
			slog(st, 1, "giving up at shutdown: %llu audit records and %llu drop counts not "
			     "written: %s", (unsigned long long)lost, (unsigned long long)st->drops_unsaved, err);
			st->drops_unsaved = 0;
			n = st->inflight = 0;
			pthread_cond_broadcast(&st->idle);
			break;
		}
		timed_wait(&st->wake, &st->mu, STORE_RETRY_MS);
	}
	pthread_cond_broadcast(&st->idle);
	pthread_mutex_unlock(&st->mu);
	free(batch);
	return NULL;
}

/* store_open - open, migrate, prune once, start the writer. */
store *store_open(const char *uri, const struct store_opts *o, char *err, size_t errlen)
{
	store *st = open_common(uri, 1, err, errlen);
	if (st == NULL)
		return NULL;
	st->o = *o;
	if (st->o.queue_size == 0)
		st->o.queue_size = STORE_QUEUE_DEFAULT;
	if (st->o.queue_size > STORE_QUEUE_MAX)
		st->o.queue_size = STORE_QUEUE_MAX;
	if (st->o.batch_size == 0)
		st->o.batch_size = STORE_BATCH_DEFAULT;
	if (st->o.flush_timeout_ms == 0)
		st->o.flush_timeout_ms = STORE_FLUSH_DEFAULT_MS;
	str_copy(st->host, sizeof(st->host), o->host ? o->host : "", o->host ? strlen(o->host) : 0);
	st->o.host = NULL;
	st->qcap = st->o.queue_size;
	st->q = calloc(st->qcap, sizeof(*st->q));
	st->rb = rollup_batch_new(STORE_ROLLUP_KEYS);
	for (size_t k = 0; k < rollup_ncolumns; k++) {
		const struct audit_column *c = audit_column_named(rollup_columns[k]);
		if (c)
			st->rcol[k] = (size_t)(c - audit_columns);
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->idle);
	pthread_cond_init(&st->wake, &ca);
	pthread_cond_init(&st->idle, &ca);
	pthread_condattr_destroy(&ca);
	st->last_log = 0;
	st->last_prune = 0;
	if (st->q == NULL || st->rb == NULL || pthread_create(&st->thread, NULL, writer, st) != 0) {
		snprintf(err, errlen, "cannot start the audit writer: %s", st->q ? strerror(errno) : "out of memory");
		store_close(st);
		return NULL;
	}
	st->writer = 1;
	return st;
}

/* store_submit - copy into the queue, or count a drop. Never waits for I/O. */
int store_submit(store *st, const struct audit_record *r)
{
	if (st == NULL || !st->writer)
		return -1;
	char *c = NULL;
	pthread_mutex_lock(&st->mu);
	int full = st->qlen >= st->qcap || st->stopping;
	pthread_mutex_unlock(&st->mu);
	if (!full)
		c = row_encode(r);        /* outside the lock: formatting and malloc take a while */
	pthread_mutex_lock(&st->mu);
	if (c == NULL || st->qlen >= st->qcap || st->stopping) {
		st->dropped++;
		st->drops_unsaved++;
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->mu);
		free(c);
		return -1;
	}
	st->q[(st->qhead + st->qlen) % st->qcap] = c;
	st->qlen++;
	st->submitted++;
	if (st->qlen >= st->o.batch_size || st->qlen == 1)
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

/* store_flush - wait for an empty queue and no batch in flight. */
int store_flush(store *st, unsigned timeout_ms)
{
	if (st == NULL || !st->writer)
		return 0;
	struct timespec end = deadline_in(timeout_ms);
	pthread_mutex_lock(&st->mu);
	st->flushing++;
	pthread_cond_signal(&st->wake);
	while ((st->qlen || st->inflight) && !deadline_passed(&end))
		pthread_cond_timedwait(&st->idle, &st->mu, &end);
	st->flushing--;
	int rc = st->qlen || st->inflight ? -1 : 0;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* close_inner - drain (bounded), stop the writer, final counters to out, free. */
static void close_inner(store *st, struct store_stats *out)
{
	if (st->writer) {
		pthread_mutex_lock(&st->mu);
		st->stopping = 1;
		st->give_up_at = deadline_in(st->o.flush_timeout_ms);
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
		housekeeping(st);
		if (st->dropped)
			slog(st, 0, "closed: %llu records written, %llu dropped",
			     (unsigned long long)st->written, (unsigned long long)st->dropped);
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		out->submitted = st->submitted;
		out->written = st->written;
		out->dropped = st->dropped;
		out->errors = st->errors;
		out->queue_size = st->qcap;
	}
	if (st->conn)
		st->be->disconnect(st->conn);
	free(st->q);
	rollup_batch_free(st->rb);
	free(st->target);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->idle);
	free(st);
}

/* store_close - drain (bounded), stop the writer, close the connection. */
void store_close(store *st)
{
	if (st)
		close_inner(st, NULL);
}

/* store_close_stats - store_close(), and say what was written and lost. */
void store_close_stats(store *st, struct store_stats *out)
{
	if (st)
		close_inner(st, out);
	else
		memset(out, 0, sizeof(*out));
}

void store_get_stats(store *st, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	out->submitted = st->submitted;
	out->written = st->written;
	out->dropped = st->dropped;
	out->errors = st->errors;
	out->depth = st->qlen + st->inflight;
	out->queue_size = st->qcap;
	pthread_mutex_unlock(&st->mu);
}

/* ---- reading ----------------------------------------------------------- */

struct query_ctx {
	int (*cb)(void *arg, const struct audit_record *r);
	void *arg;
	struct audit_record *r;
};

/* query_row - one row back into an audit_record, column by column. */
static int query_row(void *arg, const char *const *cols, int n)
{
	struct query_ctx *q = arg;
	struct audit_record *r = q->r;
	if (n < (int)audit_ncolumns)
		return 1;
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < audit_ncolumns; i++)
		audit_column_parse(&audit_columns[i], r, cols[i]);
	return q->cb(q->arg, r);
}

/* store_query - the one SELECT both backends run for every report. */
int store_query(store *st, int64_t since, int64_t until,
                int (*cb)(void *arg, const struct audit_record *r), void *arg,
                char *err, size_t errlen)
{
	buf *sql = buf_new(4096);
	struct query_ctx q = { cb, arg, malloc(sizeof(struct audit_record)) };
	int rc = -1;
	if (sql == NULL || q.r == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	buf_puts(sql, "SELECT ");
	for (size_t i = 0; i < audit_ncolumns; i++)
		buf_printf(sql, "%s%s", i ? "," : "", audit_columns[i].name);
	buf_puts(sql, " FROM messages WHERE ts >= $1 AND ts < $2 ORDER BY ts, host, queue_id");
	char a[32], b[32];
	snprintf(a, sizeof(a), "%lld", (long long)since);
	snprintf(b, sizeof(b), "%lld", (long long)until);
	const char *p[2] = { a, b };
	rc = st->be->run(st->conn, buf_data(sql), p, 2, query_row, &q, NULL, err, errlen);
out:
	buf_free(sql);
	free(q.r);
	return rc;
}

/* sum_row - one integer result. */
static int sum_row(void *arg, const char *const *cols, int n)
{
	*(uint64_t *)arg = n > 0 && cols[0] ? strtoull(cols[0], NULL, 10) : 0;
	return 1;
}

int store_query_drops(store *st, int64_t since, int64_t until, uint64_t *out,
                      char *err, size_t errlen)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "%lld", (long long)since);
	snprintf(b, sizeof(b), "%lld", (long long)until);
	const char *p[2] = { a, b };
	*out = 0;
	return st->be->run(st->conn, "SELECT sum(count) FROM drops WHERE ts >= $1 AND ts < $2", p, 2,
	                   sum_row, out, NULL, err, errlen);
}

/* store_prune - retention: delete old records and drop counts. */
long store_prune(store *st, int64_t before, char *err, size_t errlen)
{
	char a[32];
	snprintf(a, sizeof(a), "%lld", (long long)before);
	const char *p[1] = { a };
	long n = 0, m = 0;
	if (st->be->run(st->conn, "DELETE FROM messages WHERE ts < $1", p, 1, NULL, NULL, &n, err, errlen) < 0 ||
	    st->be->run(st->conn, "DELETE FROM drops WHERE ts < $1", p, 1, NULL, NULL, &m, err, errlen) < 0)
		return -1;
	/* the rollup days that end at the cut or before: a day the cut falls
	 * into keeps its rollup rows (housekeeping cuts at a day start) */
	char d[32], sql[128];
	snprintf(d, sizeof(d), "%lld", (long long)(before - ROLLUP_DAY));
	const char *pd[1] = { d };
	for (int t = 0; t < ROLLUP_NTABLES; t++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE day <= $1", rollup_table_name((enum rollup_table)t));
		if (st->be->run(st->conn, sql, pd, 1, NULL, NULL, NULL, err, errlen) < 0)
			return -1;
	}
	return n;
}

/* store_open_conf - open the configured store with the audit.* settings. */
store *store_open_conf(const conf *c, const char *uri, const char *host,
                       void (*log)(void *arg, int is_error, const char *msg), void *log_arg,
                       char *err, size_t errlen)
{
	err[0] = '\0';
	if (uri == NULL)
		uri = conf_str(c, "audit.store");
	if (uri == NULL || uri[0] == '\0')
		return NULL;
	struct store_opts o = {
		.queue_size = (size_t)conf_int(c, "audit.queue_size"),
		.batch_size = (size_t)conf_int(c, "audit.batch_size"),
		.retention_days = (int)conf_int(c, "audit.retention_days"),
		.flush_timeout_ms = (unsigned)conf_int(c, "audit.flush_seconds") * 1000u,
		.host = host, .log = log, .log_arg = log_arg,
	};
	return store_open(uri, &o, err, errlen);
}
