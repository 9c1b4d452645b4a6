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

#define STORE_QUEUE_DEFAULT 10000   /* ~10 s of a busy MTA's mail; records are ~12 KB each
                                       only while queued */
#define STORE_QUEUE_MAX 1000000     /* an upper bound for the configured queue */
#define STORE_BATCH_DEFAULT 200
#define STORE_FLUSH_DEFAULT_MS 10000
#define STORE_RETRY_MS 500          /* pause after a failed transaction */
#define STORE_LOG_EVERY_S 10        /* at most one drop/error log line per interval */
#define STORE_PRUNE_EVERY_S 3600
#define STORE_NCOLS 42

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

/* sq_connect - open the file named after "sqlite:", WAL mode. */
static void *sq_connect(const char *target, int writer, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", target, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	/* the writer waits a little for a lock (a report reading), readers longer */
	sqlite3_busy_timeout(db, writer ? 1000 : 10000);
	char *msg = NULL;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	                 &msg) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", target, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void sq_disconnect(void *c) { sqlite3_close(c); }

/* sq_run - prepare, bind text parameters, step through the rows. */
static int sq_run(void *c, const char *sql, const char *const *params, int np, row_fn fn,
                  void *arg, long *changes, char *err, size_t errlen)
{
	sqlite3 *db = c;
	sqlite3_stmt *st = NULL;
	const char *tail = sql;
	int rc = SQLITE_OK;
	/* several statements without parameters (DDL) run one after another */
	while (tail && *tail) {
		if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
			snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
			return -1;
		}
		if (st == NULL)
			break;
		for (int i = 0; i < np && i < sqlite3_bind_parameter_count(st); i++)
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
		const char *cols[STORE_NCOLS + 8];
		int stop = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int n = sqlite3_column_count(st);
			if (n > (int)(sizeof(cols) / sizeof(cols[0])))
				n = (int)(sizeof(cols) / sizeof(cols[0]));
			for (int i = 0; i < n; i++)
				cols[i] = (const char *)sqlite3_column_text(st, i);
			if (fn && fn(arg, cols, n)) {
				stop = 1;
				break;
			}
		}
		if (!stop && rc != SQLITE_DONE) {
			snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (stop)
			break;
	}
	if (changes)
		*changes = sqlite3_changes(db);
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

/* pg_run - PQexecParams (one statement) or PQexec (DDL without parameters). */
static int pg_run(void *c, const char *sql, const char *const *params, int np, row_fn fn,
                  void *arg, long *changes, char *err, size_t errlen)
{
	PGconn *pg = c;
	PGresult *r = np ? PQexecParams(pg, sql, np, NULL, params, NULL, NULL, 0) : PQexec(pg, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_err(pg, r, err, errlen);
		PQclear(r);
		return -1;
	}
	if (s == PGRES_TUPLES_OK && fn) {
		int nr = PQntuples(r), nc = PQnfields(r);
		const char *cols[STORE_NCOLS + 8];
		if (nc > (int)(sizeof(cols) / sizeof(cols[0])))
			nc = (int)(sizeof(cols) / sizeof(cols[0]));
		for (int i = 0; i < nr; i++) {
			for (int k = 0; k < nc; k++)
				cols[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
			if (fn(arg, cols, nc))
				break;
		}
	}
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

/* Column order of the messages table: the INSERT and the SELECT use it. */
static const char *const columns[STORE_NCOLS] = {
	"ts", "host", "queue_id", "direction", "client_ip", "helo", "mail_from_domain",
	"from_domain", "spf_result", "spf_domain", "dkim", "dmarc_result", "dmarc_policy",
	"dmarc_disposition", "dmarc_policy_domain", "dmarc_spf_aligned", "dmarc_dkim_aligned",
	"dmarc_p", "dmarc_sp", "dmarc_np", "dmarc_adkim", "dmarc_aspf", "dmarc_testing",
	"dmarc_discovery", "dmarc_rua", "unsub_verdict", "unsub_findings", "bulk", "campaign",
	"spam_score", "spam_signals", "tls_version", "action", "action_enforced", "gmail_ready",
	"yahoo_ready", "microsoft_ready", "size", "nrcpt", "findings", "arc", "arc_override",
};

/* Forward migrations: migrations[i] brings version i to i+1. Never edit a
 * released entry; append a new one. Types are the common subset of both. */
static const char *const migrations[] = {
	"CREATE TABLE messages ("
	" ts BIGINT NOT NULL, host TEXT NOT NULL, queue_id TEXT NOT NULL, direction TEXT NOT NULL,"
	" client_ip TEXT NOT NULL, helo TEXT NOT NULL, mail_from_domain TEXT NOT NULL,"
	" from_domain TEXT NOT NULL, spf_result TEXT NOT NULL, spf_domain TEXT NOT NULL,"
	" dkim TEXT NOT NULL, dmarc_result TEXT NOT NULL, dmarc_policy TEXT NOT NULL,"
	" dmarc_disposition TEXT NOT NULL, dmarc_policy_domain TEXT NOT NULL,"
	" dmarc_spf_aligned INTEGER NOT NULL, dmarc_dkim_aligned INTEGER NOT NULL,"
	" dmarc_p TEXT NOT NULL, dmarc_sp TEXT NOT NULL, dmarc_np TEXT NOT NULL,"
	" dmarc_adkim TEXT NOT NULL, dmarc_aspf TEXT NOT NULL, dmarc_testing TEXT NOT NULL,"
	" dmarc_discovery TEXT NOT NULL, dmarc_rua TEXT NOT NULL, unsub_verdict TEXT NOT NULL,"
	" unsub_findings TEXT NOT NULL, bulk INTEGER NOT NULL, campaign TEXT NOT NULL,"
	" spam_score DOUBLE PRECISION, spam_signals TEXT NOT NULL, tls_version TEXT NOT NULL,"
	" action TEXT NOT NULL, action_enforced TEXT NOT NULL, gmail_ready INTEGER NOT NULL,"
	" yahoo_ready INTEGER NOT NULL, microsoft_ready INTEGER NOT NULL, size BIGINT NOT NULL,"
	" nrcpt INTEGER NOT NULL, findings TEXT NOT NULL);"
	"CREATE INDEX messages_ts ON messages (ts);"
	"CREATE TABLE drops (ts BIGINT NOT NULL, host TEXT NOT NULL, count BIGINT NOT NULL);"
	"CREATE INDEX drops_ts ON drops (ts);",
	"ALTER TABLE messages ADD COLUMN arc TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN arc_override TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

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
	struct audit_record **q;      /* ring */
	size_t qcap, qhead, qlen;
	size_t inflight;              /* records in the writer's current batch */
	int stopping;
	struct timespec give_up_at;   /* during close: stop retrying after this */
	pthread_t thread;
	uint64_t submitted, written, dropped, errors;
	uint64_t drops_unsaved;       /* dropped but not yet in the drops table */
	uint64_t drops_logged;
	time_t last_log, last_prune;
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
		if (be->run(st->conn, migrations[i], NULL, 0, NULL, NULL, NULL, err, errlen) < 0 ||
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

/* rec_params - the record as text parameters in column order; bufs holds the text. */
static void rec_params(const struct audit_record *r, const char *p[STORE_NCOLS],
                       char num[12][32], char *dkim, char *uf, char *sig, char *fi)
{
	int k = 0;
	snprintf(num[0], 32, "%lld", (long long)r->ts);
	snprintf(num[1], 32, "%d", r->dmarc_spf_aligned ? 1 : 0);
	snprintf(num[2], 32, "%d", r->dmarc_dkim_aligned ? 1 : 0);
	snprintf(num[3], 32, "%d", r->bulk ? 1 : 0);
	snprintf(num[4], 32, "%.17g", r->spam_score);
	snprintf(num[5], 32, "%d", r->gmail_ready ? 1 : 0);
	snprintf(num[6], 32, "%d", r->yahoo_ready ? 1 : 0);
	snprintf(num[7], 32, "%d", r->microsoft_ready ? 1 : 0);
	snprintf(num[8], 32, "%lld", (long long)r->size);
	snprintf(num[9], 32, "%u", r->nrcpt);
	audit_sigs_text(r, dkim, AUDIT_TEXT_MAX);
	audit_list_text((char (*)[AUDIT_NAME_MAX])r->unsub_findings, r->nunsub_findings, uf, AUDIT_TEXT_MAX);
	audit_list_text((char (*)[AUDIT_NAME_MAX])r->signals, r->nsignals, sig, AUDIT_TEXT_MAX);
	audit_list_text((char (*)[AUDIT_NAME_MAX])r->findings, r->nfindings, fi, AUDIT_TEXT_MAX);
	p[k++] = num[0]; p[k++] = r->host; p[k++] = r->queue_id; p[k++] = r->direction;
	p[k++] = r->client_ip; p[k++] = r->helo; p[k++] = r->mail_from_domain; p[k++] = r->from_domain;
	p[k++] = r->spf_result; p[k++] = r->spf_domain; p[k++] = dkim; p[k++] = r->dmarc_result;
	p[k++] = r->dmarc_policy; p[k++] = r->dmarc_disposition; p[k++] = r->dmarc_policy_domain;
	p[k++] = num[1]; p[k++] = num[2]; p[k++] = r->dmarc_p; p[k++] = r->dmarc_sp;
	p[k++] = r->dmarc_np; p[k++] = r->dmarc_adkim; p[k++] = r->dmarc_aspf; p[k++] = r->dmarc_testing;
	p[k++] = r->dmarc_discovery; p[k++] = r->dmarc_rua; p[k++] = r->unsub_verdict; p[k++] = uf;
	p[k++] = num[3]; p[k++] = r->campaign; p[k++] = r->has_spam ? num[4] : NULL; p[k++] = sig;
	p[k++] = r->tls_version; p[k++] = r->action; p[k++] = r->action_enforced;
	p[k++] = num[5]; p[k++] = num[6]; p[k++] = num[7]; p[k++] = num[8]; p[k++] = num[9];
	p[k++] = fi; p[k++] = r->arc; p[k++] = r->arc_override;
}

/* insert_sql - "INSERT INTO messages (cols) VALUES ($1..$40)" into b. */
static void insert_sql(buf *b)
{
	buf_puts(b, "INSERT INTO messages (");
	for (int i = 0; i < STORE_NCOLS; i++)
		buf_printf(b, "%s%s", i ? "," : "", columns[i]);
	buf_puts(b, ") VALUES (");
	for (int i = 0; i < STORE_NCOLS; i++)
		buf_printf(b, "%s$%d", i ? "," : "", i + 1);
	buf_puts(b, ")");
}

/* write_batch - one transaction: the records and the unsaved drop count. */
static int write_batch(store *st, struct audit_record **batch, size_t n, uint64_t drops,
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
	char *text = malloc(4 * AUDIT_TEXT_MAX);
	int rc = -1;
	if (sql == NULL || text == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	insert_sql(sql);
	if (be->run(st->conn, be->begin, NULL, 0, NULL, NULL, NULL, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *p[STORE_NCOLS];
		char num[12][32];
		rec_params(batch[i], p, num, text, text + AUDIT_TEXT_MAX, text + 2 * AUDIT_TEXT_MAX,
		           text + 3 * AUDIT_TEXT_MAX);
		if (be->run(st->conn, buf_data(sql), p, STORE_NCOLS, NULL, NULL, NULL, err, errlen) < 0)
			goto rollback;
	}
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
	free(text);
	return rc;
}

/* deadline_passed - monotonic now >= t. */
static int deadline_passed(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* timed_wait - wait on cv for at most ms (CLOCK_MONOTONIC condvars). */
static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
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
		long n = store_prune(st, (int64_t)now - (int64_t)st->o.retention_days * 86400, err, sizeof(err));
		if (n < 0)
			slog(st, 1, "pruning old records failed: %s", err);
		else if (n > 0)
			slog(st, 0, "pruned %ld records older than %d days", n, st->o.retention_days);
	}
}

/* writer - the one thread that touches the database. */
static void *writer(void *arg)
{
	store *st = arg;
	size_t bcap = st->o.batch_size;
	struct audit_record **batch = calloc(bcap, sizeof(*batch));
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
	if (st->q == NULL || pthread_create(&st->thread, NULL, writer, st) != 0) {
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
	struct audit_record *c = NULL;
	pthread_mutex_lock(&st->mu);
	int full = st->qlen >= st->qcap || st->stopping;
	pthread_mutex_unlock(&st->mu);
	if (!full)
		c = malloc(sizeof(*c));   /* outside the lock: malloc may take a while */
	pthread_mutex_lock(&st->mu);
	if (c == NULL || st->qlen >= st->qcap || st->stopping) {
		st->dropped++;
		st->drops_unsaved++;
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->mu);
		free(c);
		return -1;
	}
	*c = *r;
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
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&st->mu);
	pthread_cond_signal(&st->wake);
	while ((st->qlen || st->inflight) && !deadline_passed(&end))
		pthread_cond_timedwait(&st->idle, &st->mu, &end);
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
		clock_gettime(CLOCK_MONOTONIC, &st->give_up_at);
		st->give_up_at.tv_sec += st->o.flush_timeout_ms / 1000;
		st->give_up_at.tv_nsec += (long)(st->o.flush_timeout_ms % 1000) * 1000000L;
		if (st->give_up_at.tv_nsec >= 1000000000L) {
			st->give_up_at.tv_sec++;
			st->give_up_at.tv_nsec -= 1000000000L;
		}
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

/* col - text of a column, "" for NULL. */
static const char *col(const char *const *c, int i) { return c[i] ? c[i] : ""; }

/* scpy - a column into a fixed array. */
#define SCPY(field, i) str_copy(r->field, sizeof(r->field), col(cols, i), strlen(col(cols, i)))

/* query_row - one row back into an audit_record. */
static int query_row(void *arg, const char *const *cols, int n)
{
	struct query_ctx *q = arg;
	struct audit_record *r = q->r;
	if (n < STORE_NCOLS)
		return 1;
	memset(r, 0, sizeof(*r));
	r->ts = strtoll(col(cols, 0), NULL, 10);
	SCPY(host, 1); SCPY(queue_id, 2); SCPY(direction, 3); SCPY(client_ip, 4); SCPY(helo, 5);
	SCPY(mail_from_domain, 6); SCPY(from_domain, 7); SCPY(spf_result, 8); SCPY(spf_domain, 9);
	audit_sigs_parse(col(cols, 10), r);
	SCPY(dmarc_result, 11); SCPY(dmarc_policy, 12); SCPY(dmarc_disposition, 13);
	SCPY(dmarc_policy_domain, 14);
	r->dmarc_spf_aligned = atoi(col(cols, 15));
	r->dmarc_dkim_aligned = atoi(col(cols, 16));
	SCPY(dmarc_p, 17); SCPY(dmarc_sp, 18); SCPY(dmarc_np, 19); SCPY(dmarc_adkim, 20);
	SCPY(dmarc_aspf, 21); SCPY(dmarc_testing, 22); SCPY(dmarc_discovery, 23); SCPY(dmarc_rua, 24);
	SCPY(unsub_verdict, 25);
	r->nunsub_findings = audit_list_parse(col(cols, 26), r->unsub_findings,
	                                      sizeof(r->unsub_findings) / sizeof(r->unsub_findings[0]));
	r->bulk = atoi(col(cols, 27));
	SCPY(campaign, 28);
	r->has_spam = cols[29] != NULL;
	r->spam_score = cols[29] ? strtod(cols[29], NULL) : 0;
	r->nsignals = audit_list_parse(col(cols, 30), r->signals, AUDIT_MAX_SIGNALS);
	SCPY(tls_version, 31); SCPY(action, 32); SCPY(action_enforced, 33);
	r->gmail_ready = atoi(col(cols, 34));
	r->yahoo_ready = atoi(col(cols, 35));
	r->microsoft_ready = atoi(col(cols, 36));
	r->size = strtoll(col(cols, 37), NULL, 10);
	r->nrcpt = (unsigned)strtoul(col(cols, 38), NULL, 10);
	r->nfindings = audit_list_parse(col(cols, 39), r->findings, AUDIT_MAX_FINDINGS);
	SCPY(arc, 40); SCPY(arc_override, 41);
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
	for (int i = 0; i < STORE_NCOLS; i++)
		buf_printf(sql, "%s%s", i ? "," : "", columns[i]);
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
