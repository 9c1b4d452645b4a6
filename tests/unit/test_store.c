/*
 * test_store - audit record text columns, the SQLite store (round trip,
 * schema version, batches, drops when the queue is full or the database is
 * locked, retention), the session -> audit record path, and the Prometheus
 * counters and their loopback responder.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "audit.h"
#include "record.h"
#include "store.h"
#include "metrics.h"
#include "findings.h"
#include "session.h"

static char dir[256];

/* sink - the record sink the daemon sets: store and counters. */
struct sink_args { store *st; metrics *m; };
static void sink(void *arg, const struct audit_record *r)
{
	struct sink_args *a = arg;
	store_submit(a->st, r);
	metrics_count(a->m, r);
}

/* mkrec - a record with distinguishable fields. */
static void mkrec(struct audit_record *r, int64_t ts, const char *qid, const char *dom)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	snprintf(r->host, sizeof(r->host), "mx1.test");
	snprintf(r->queue_id, sizeof(r->queue_id), "%s", qid);
	r->direction = DIR_INBOUND;
	snprintf(r->client_ip, sizeof(r->client_ip), "192.0.2.1");
	snprintf(r->from_domain, sizeof(r->from_domain), "%s", dom);
	r->spf_result = AR_PASS;
	r->dmarc_result = AR_PASS;
	r->action = ACT_ACCEPT;
	r->action_enforced = ACT_ACCEPT;
	r->nsigs = 2;
	r->sigs[0].result = AR_PASS;
	snprintf(r->sigs[0].domain, 256, "%s", dom);
	snprintf(r->sigs[0].selector, 128, "s1");
	r->sigs[0].aligned = r->sigs[0].covers_unsub = 1;
	r->sigs[1].result = AR_FAIL;
	snprintf(r->sigs[1].domain, 256, "esp.test");
	snprintf(r->sigs[1].selector, 128, "e1");
	r->nfindings = 2;
	snprintf(r->findings[0], AUDIT_NAME_MAX, "dkim.fail");
	snprintf(r->findings[1], AUDIT_NAME_MAX, "spf.none");
	r->has_spam = 1;
	r->spam_score = 2.5;
	r->size = 1234;
	r->nrcpt = 3;
}

struct collect { int n; struct audit_record last; };
static int collect(void *arg, const struct audit_record *r)
{
	struct collect *c = arg;
	c->n++;
	c->last = *r;
	return 0;
}

static void quiet(void *arg, int is_error, const char *msg) { (void)arg, (void)is_error, (void)msg; }

static void test_text_columns(void)
{
	struct audit_record r, back;
	mkrec(&r, 1, "Q1", "example.test");
	char t[AUDIT_TEXT_MAX];
	audit_sigs_text(&r, t, sizeof(t));
	T_STR(t, "pass:example.test:s1:au fail:esp.test:e1:-", "signatures as text");
	memset(&back, 0, sizeof(back));
	audit_sigs_parse(t, &back);
	T_INT(back.nsigs, 2, "signatures parsed back");
	T_OK(back.sigs[0].aligned && back.sigs[0].covers_unsub && !back.sigs[1].aligned, "signature flags parsed back");
	T_STR(back.sigs[1].selector, "e1", "selector parsed back");
	audit_list_text(r.findings, r.nfindings, t, sizeof(t));
	T_STR(t, "dkim.fail spf.none", "findings as text");
	char items[4][AUDIT_NAME_MAX];
	T_INT(audit_list_parse("  a  b c d e", items, 4), 4, "list parse stops at the cap");
	char dst[8];
	audit_copy(dst, sizeof(dst), "ab\x01\xff" "cdefgh", 10);
	T_STR(dst, "ab??cd~", "audit_copy: printable, cut marked");
}

/* fill_all - a record with every column away from its zero value. */
static void fill_all(struct audit_record *r)
{
	mkrec(r, 1700000000, "QALL", "all.test");
	r->direction = DIR_OUTBOUND;
	snprintf(r->helo, sizeof(r->helo), "helo.all.test");
	snprintf(r->mail_from_domain, sizeof(r->mail_from_domain), "bounce.all.test");
	r->spf_result = AR_SOFTFAIL;
	snprintf(r->spf_domain, sizeof(r->spf_domain), "bounce.all.test");
	r->sigs[1].result = AR_TEMPERROR;
	r->dmarc_result = AR_FAIL;
	r->dmarc_policy = DMARC_P_QUARANTINE;
	r->dmarc_disposition = DMARC_P_REJECT;
	snprintf(r->dmarc_policy_domain, sizeof(r->dmarc_policy_domain), "all.test");
	r->dmarc_spf_aligned = r->dmarc_dkim_aligned = 1;
	r->dmarc_p = DMARC_P_REJECT;
	r->dmarc_sp = DMARC_P_QUARANTINE;
	r->dmarc_np = DMARC_P_NONE;
	snprintf(r->dmarc_adkim, sizeof(r->dmarc_adkim), "s");
	snprintf(r->dmarc_aspf, sizeof(r->dmarc_aspf), "s");
	snprintf(r->dmarc_testing, sizeof(r->dmarc_testing), "y");
	r->dmarc_discovery = DMARC_MODE_RFC7489;
	snprintf(r->dmarc_rua, sizeof(r->dmarc_rua), "mailto:rua@all.test");
	r->unsub_verdict = UNSUB_NONCOMPLIANT;
	r->nunsub_findings = 2;
	snprintf(r->unsub_findings[0], AUDIT_NAME_MAX, "unsub.no_post");
	snprintf(r->unsub_findings[1], AUDIT_NAME_MAX, "bulk.no_list_unsubscribe");
	r->bulk = 1;
	snprintf(r->campaign, sizeof(r->campaign), "list.all.test");
	r->spam_score = -1.25;
	r->nsignals = 2;
	snprintf(r->signals[0], AUDIT_NAME_MAX, "url.shortener");
	snprintf(r->signals[1], AUDIT_NAME_MAX, "subject.caps");
	snprintf(r->tls_version, sizeof(r->tls_version), "TLSv1.3");
	r->action = ACT_REJECT;
	r->action_enforced = ACT_JUNK;
	r->gmail_ready = r->yahoo_ready = r->microsoft_ready = 1;
	r->size = 5000000000LL;
	r->nrcpt = 4000000000u;
	snprintf(r->message_id, sizeof(r->message_id), "<id.1@example.test>");
	r->rcpt_gmail = 1;
	r->rcpt_yahoo = 2;
	r->rcpt_microsoft = 3;
	r->rcpt_other = 4000000000u;
	r->arc = AR_FAIL;
	snprintf(r->arc_override, sizeof(r->arc_override), "lists.example.test");
	r->arc_sealed = 7;
}

struct only { struct audit_record r; int n; };
static int only(void *arg, const struct audit_record *r)
{
	struct only *o = arg;
	o->r = *r;
	o->n++;
	return 0;
}

/* same_columns - every column of a and b has the same text (the table decides what a column is). */
static int same_columns(const struct audit_record *a, const struct audit_record *b, const char *what)
{
	static char ta[AUDIT_TEXT_MAX], tb[AUDIT_TEXT_MAX];
	int same = 1;
	for (size_t i = 0; i < audit_ncolumns; i++) {
		const char *x = audit_column_text(&audit_columns[i], a, ta, sizeof(ta));
		const char *y = audit_column_text(&audit_columns[i], b, tb, sizeof(tb));
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0)) {
			printf("# %s: column %s: \"%s\" != \"%s\"\n", what, audit_columns[i].name, x ? x : "NULL",
			       y ? y : "NULL");
			same = 0;
		}
	}
	return same;
}

/* The schema of version 1 as it was released, before the column table: the
 * generated DDL must stay this text, so new and old databases agree. */
static const char *const ddl_v1 =
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
	" nrcpt INTEGER NOT NULL, findings TEXT NOT NULL);";

/* test_columns - the column table: released DDL, every column through
 * SQLite and back, a database created by the released DDL, unknown names. */
static void test_columns(void)
{
	buf *b = buf_new(16384);
	store_columns_ddl(b, 1);
	T_STR(buf_data(b), ddl_v1, "version 1 DDL from the column table is the released text");
	buf_free(b);
	struct audit_record zero, all;
	memset(&zero, 0, sizeof(zero));
	fill_all(&all);
	char ta[AUDIT_TEXT_MAX], tb[AUDIT_TEXT_MAX];
	size_t differ = 0;
	for (size_t i = 0; i < audit_ncolumns; i++) {
		const char *x = audit_column_text(&audit_columns[i], &zero, ta, sizeof(ta));
		const char *y = audit_column_text(&audit_columns[i], &all, tb, sizeof(tb));
		differ += (x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0);
	}
	T_INT(differ, audit_ncolumns, "the test record sets every one of the %zu columns", audit_ncolumns);

	/* a database made by the released schema (a file of an older version) */
	char path[300], uri[320], err[512];
	snprintf(path, sizeof(path), "%s/v1.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	sqlite3 *db = NULL;
	char sql[4096];
	snprintf(sql, sizeof(sql), "%s CREATE INDEX messages_ts ON messages (ts);"
	         "CREATE TABLE drops (ts BIGINT NOT NULL, host TEXT NOT NULL, count BIGINT NOT NULL);"
	         "CREATE INDEX drops_ts ON drops (ts);"
	         "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);"
	         "INSERT INTO messages VALUES (1700000001,'h','QODD','sideways','192.0.2.9','','','odd.test',"
	         "'bogus','','maybe:odd.test:s:a pass:odd.test:s2:-','pass','whatever','','',0,1,'reject','',"
	         "'','r','r','n','nowhere','','strange','',0,'',NULL,'','','frobnicate','reject',0,0,0,10,1,'');",
	         ddl_v1);
	int okdb = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	T_OK(okdb, "a database with the released schema and one odd row");
	struct store_opts o = { .queue_size = 10, .batch_size = 5, .host = "mx1.test", .log = quiet };
	store *st = store_open(uri, &o, err, sizeof(err));
	T_OK(st != NULL, "the released schema opens (%s)", st ? "" : err);
	if (st == NULL)
		return;
	T_INT(store_submit(st, &all), 0, "submit the full record");
	T_INT(store_flush(st, 10000), 0, "written");
	struct only got = { .n = 0 };
	T_INT(store_query(st, 1700000000, 1700000001, only, &got, err, sizeof(err)), 0, "read back");
	T_INT(got.n, 1, "one record");
	T_OK(same_columns(&all, &got.r, "sqlite"), "every column round-trips through SQLite");
	T_OK(got.r.size == all.size && got.r.nrcpt == all.nrcpt && got.r.spam_score == all.spam_score &&
	     got.r.direction == DIR_OUTBOUND && got.r.action_enforced == ACT_JUNK &&
	     got.r.sigs[1].result == AR_TEMPERROR && got.r.dmarc_discovery == DMARC_MODE_RFC7489,
	     "typed fields round-trip (64-bit size, unsigned count, score, enums)");
	/* names this program does not know read back as the enum's 0, never a crash */
	got.n = 0;
	T_INT(store_query(st, 1700000001, 1700000002, only, &got, err, sizeof(err)), 0, "read the odd row");
	T_INT(got.n, 1, "odd row read");
	T_OK(got.r.direction == DIR_INBOUND && got.r.spf_result == AR_NONE && got.r.dmarc_policy == DMARC_P_UNSPEC &&
	     got.r.dmarc_discovery == DMARC_MODE_RFC9989 && got.r.unsub_verdict == UNSUB_ABSENT &&
	     got.r.action == ACT_ACCEPT && got.r.action_enforced == ACT_REJECT && got.r.dmarc_p == DMARC_P_REJECT,
	     "unknown names read as the zero value, known ones as themselves");
	T_OK(got.r.nsigs == 2 && got.r.sigs[0].result == AR_NONE && got.r.sigs[1].result == AR_PASS &&
	     !got.r.has_spam, "unknown signature result is none; NULL score is no score");
	store_close(st);
}

static void test_roundtrip(void)
{
	char uri[512], err[512];
	snprintf(uri, sizeof(uri), "sqlite:%s/rt.db", dir);
	struct store_opts o = { .queue_size = 1000, .batch_size = 7, .host = "mx1.test", .log = quiet };
	store *st = store_open(uri, &o, err, sizeof(err));
	T_OK(st != NULL, "store_open sqlite (%s)", st ? "" : err);
	if (st == NULL)
		return;
	T_INT(store_schema_version(st), STORE_SCHEMA_VERSION, "schema version recorded");
	T_STR(store_backend_name(st), "sqlite", "backend name");
	struct audit_record r;
	for (int i = 0; i < 50; i++) {
		char q[16];
		snprintf(q, sizeof(q), "Q%d", i);
		mkrec(&r, 1000 + i, q, i % 2 ? "a.test" : "b.test");
		int rc = store_submit(st, &r);    /* T_OK evaluates its condition twice */
		T_OK(rc == 0, "submit %d", i);
	}
	T_INT(store_flush(st, 10000), 0, "flush drains the queue");
	struct store_stats s;
	store_get_stats(st, &s);
	T_INT(s.written, 50, "50 written in batches of 7");
	T_INT(s.dropped, 0, "nothing dropped");
	struct collect c = { 0 };
	T_INT(store_query(st, 1010, 1020, collect, &c, err, sizeof(err)), 0, "query");
	T_INT(c.n, 10, "query returns the period [since, until)");
	T_STR(c.last.queue_id, "Q19", "oldest first, last is Q19");
	T_INT(c.last.nsigs, 2, "signatures round trip");
	T_OK(c.last.has_spam && c.last.spam_score == 2.5, "spam score round trip");
	T_INT(c.last.nfindings, 2, "findings round trip");
	T_INT(c.last.size, 1234, "size round trip");
	T_INT(c.last.nrcpt, 3, "recipients round trip");
	T_INT(store_prune(st, 1040, err, sizeof(err)), 40, "prune deletes records older than the cut");
	store_close(st);
	/* reopening keeps the data and the version */
	store *rd = store_open_reader(uri, err, sizeof(err));
	T_OK(rd != NULL, "reopen as reader");
	if (rd) {
		c.n = 0;
		store_query(rd, 0, 1 << 30, collect, &c, err, sizeof(err));
		T_INT(c.n, 10, "10 records left after pruning");
		store_close(rd);
	}
	/* a database from the future is refused, not damaged */
	sqlite3 *db;
	char path[512];
	snprintf(path, sizeof(path), "%s/rt.db", dir);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	rd = store_open_reader(uri, err, sizeof(err));
	T_OK(rd == NULL && strstr(err, "newer"), "newer schema refused (%s)", err);
	store_close(rd);
	T_OK(store_open_reader("mysql://x", err, sizeof(err)) == NULL, "unknown scheme refused");
}

static void test_locked(void)
{
	char uri[600], path[512], err[512];
	snprintf(path, sizeof(path), "%s/locked.db", dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	struct store_opts o = { .queue_size = 100, .batch_size = 10, .host = "mx1.test", .log = quiet,
	                        .flush_timeout_ms = 20000 };
	store *st = store_open(uri, &o, err, sizeof(err));
	T_OK(st != NULL, "open for the lock test");
	if (st == NULL)
		return;
	sqlite3 *db;
	sqlite3_open(path, &db);
	T_INT(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK, "another process locks the database");
	struct audit_record r;
	int dropped = 0;
	/* the writer takes at most one batch out of the queue before it blocks on
	 * the lock: at most queue + batch records are held, the rest are dropped */
	for (int i = 0; i < 300; i++) {
		mkrec(&r, 5000 + i, "L", "c.test");
		if (store_submit(st, &r) < 0)
			dropped++;
		if (i == 0)
			usleep(200000);    /* let the writer take the first record and block */
	}
	T_OK(dropped >= 300 - 100 - 10 && dropped <= 300 - 100, "submits return at once while locked; %d dropped", dropped);
	struct store_stats s;
	store_get_stats(st, &s);
	T_INT(s.dropped, dropped, "drops counted");
	int fr = store_flush(st, 1500);
	T_OK(fr < 0, "flush times out while the lock is held");
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	T_INT(store_flush(st, 20000), 0, "after the lock is released everything queued is written");
	store_get_stats(st, &s);
	T_INT(s.written, 300 - dropped, "what was accepted is recorded");
	T_OK(s.errors > 0, "failed transactions counted (%llu)", (unsigned long long)s.errors);
	store_close(st);
	sqlite3_close(db);
	store *rd = store_open_reader(uri, err, sizeof(err));
	uint64_t d = 0;
	store_query_drops(rd, 0, (int64_t)time(NULL) + 10, &d, err, sizeof(err));
	T_INT(d, dropped, "drop count stored in the drops table");
	store_close(rd);
}

static void test_session(void)
{
	char err[512], uri[512];
	conf *c = conf_load(NULL, err, sizeof(err));
	conf_set(c, "dns.forwarders", "127.0.0.1@1", err, sizeof(err));
	conf_set(c, "dns.timeout_ms", "100", err, sizeof(err));
	conf_set(c, "hostname", "mx.recipient.test", err, sizeof(err));
	tm_env *env = tm_env_new(c, err, sizeof(err));
	conf_unref(c);
	T_OK(env != NULL, "env");
	if (env == NULL)
		return;
	snprintf(uri, sizeof(uri), "sqlite:%s/session.db", dir);
	store *st = store_open_conf(tm_env_conf(env), uri, tm_env_hostname(env), quiet, NULL, err, sizeof(err));
	metrics *m = metrics_new();
	T_OK(st != NULL, "store_open_conf");
	struct sink_args sink_to = { st, m };
	tm_env_set_record_sink(env, sink, &sink_to);
	metrics_set_store(m, st);
	session *s = session_new(env);
	session_connect(s, "client.test", "");
	session_helo(s, "client.test");
	session_set_macro(s, "i", "ABC123");
	session_set_macro(s, "tls_version", "TLSv1.3");
	session_mail(s, "<a@sender.test>");
	session_rcpt(s, "<b@recipient.test>");
	session_rcpt(s, "<c@recipient.test>");
	const char *h[][2] = { { "From", " A <a@sender.test>" }, { "List-Id", " <list.sender.test>" },
	                       { "Subject", " hi" } };
	for (size_t i = 0; i < 3; i++)
		session_header(s, h[i][0], strlen(h[i][0]), h[i][1], strlen(h[i][1]));
	session_eoh(s);
	session_body(s, (const unsigned char *)"body\r\n", 6);
	session_eom(s);
	session_free(s);
	store_flush(st, 10000);
	struct collect col = { 0 };
	store_query(st, 0, (int64_t)time(NULL) + 10, collect, &col, err, sizeof(err));
	T_INT(col.n, 1, "the message was recorded through the session API");
	T_STR(col.last.queue_id, "ABC123", "queue id");
	T_STR(col.last.host, "mx.recipient.test", "host");
	T_STR(col.last.from_domain, "sender.test", "From domain");
	T_STR(col.last.mail_from_domain, "sender.test", "envelope sender domain");
	T_STR(col.last.tls_version, "TLSv1.3", "TLS version");
	T_INT(col.last.nrcpt, 2, "recipient count");
	T_OK(col.last.bulk && strstr(col.last.campaign, "list.sender.test"), "bulk, campaign from List-Id");
	T_STR(session_direction_name(col.last.direction), "inbound", "direction");
	T_OK(col.last.size > 40, "size counted (%lld)", (long long)col.last.size);
	buf *b = buf_new(1 << 20);
	metrics_render(m, b);
	T_OK(strstr(buf_data(b), "trustmilter_messages_total{direction=\"inbound\",action=\"accept\"} 1\n") != NULL,
	     "counter: one inbound accepted message");
	T_OK(strstr(buf_data(b), "trustmilter_tls_messages_total{direction=\"inbound\"} 1\n") != NULL, "counter: TLS");
	T_OK(strstr(buf_data(b), "trustmilter_store_written_total 1\n") != NULL, "gauge: store written");
	T_OK(strstr(buf_data(b), "trustmilter_store_queue_depth 0\n") != NULL, "gauge: queue depth");
	char want[256];
	snprintf(want, sizeof(want), "trustmilter_build_info{version=\"%s\"} 1\n", TM_VERSION);
	T_OK(strstr(buf_data(b), want) != NULL, "build info with the version");
	const char *st_line = strstr(buf_data(b), "\nprocess_start_time_seconds ");
	long long started = st_line ? atoll(st_line + 28) : 0;
	T_OK(started > 1700000000 && started <= (long long)time(NULL), "process start time (%lld)", started);
	T_OK(strstr(buf_data(b), "trustmilter_eom_duration_seconds_bucket{le=\"+Inf\"} 1\n") &&
	     strstr(buf_data(b), "trustmilter_eom_duration_seconds_count 1\n") &&
	     strstr(buf_data(b), "# TYPE trustmilter_eom_duration_seconds histogram\n"),
	     "latency histogram: one message");
	size_t labels = 0, nk = 0;
	for (const char *q = buf_data(b); (q = strstr(q, "trustmilter_findings_total{finding=\"")) != NULL; q++)
		labels++;
	while (findings_known_name(nk))
		nk++;
	T_INT(labels, nk + 1, "findings counted by name: the finding table plus \"other\"");
	T_OK(col.last.nfindings > 0, "the message has findings");
	if (col.last.nfindings > 0) {
		snprintf(want, sizeof(want), "trustmilter_findings_total{finding=\"%s\"} 1\n", col.last.findings[0]);
		T_OK(strstr(buf_data(b), want) != NULL, "finding %s counted once", col.last.findings[0]);
	}
	/* the responder on a free loopback port */
	int sr = metrics_serve(m, "10.1.2.3:9469", err, sizeof(err));
	T_OK(sr < 0 && strstr(err, "loopback"),
	     "non-loopback listen address refused");
	T_INT(metrics_serve(m, "127.0.0.1:0", err, sizeof(err)), 0, "serve on 127.0.0.1, port 0");
	int port = metrics_port(m);
	T_OK(port > 0, "bound port %d", port);
	const char *reqs[3] = { "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
	                        "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n" };
	for (int k = 0; k < 3; k++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		char resp[65536];
		size_t n = 0;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    write(fd, reqs[k], strlen(reqs[k])) > 0) {
			ssize_t r;
			while (n < sizeof(resp) - 1 && (r = read(fd, resp + n, sizeof(resp) - 1 - n)) > 0)
				n += (size_t)r;
		}
		resp[n] = '\0';
		close(fd);
		if (k == 0)
			T_OK(strncmp(resp, "HTTP/1.0 200", 12) == 0 && strstr(resp, "trustmilter_messages_total{") &&
			     strstr(resp, "text/plain; version=0.0.4"), "GET /metrics answers the exposition text");
		else if (k == 1)
			T_OK(strncmp(resp, "HTTP/1.0 404", 12) == 0, "other paths get 404");
		else
			T_OK(strncmp(resp, "HTTP/1.0 200", 12) == 0 && strstr(resp, "Content-Length: ") &&
			     strstr(resp, "\r\n\r\n") && strstr(resp, "\r\n\r\n")[4] == '\0',
			     "HEAD /metrics: the headers, no body");
	}
	buf_free(b);
	tm_env_unref(env);
	metrics_free(m);
	store_close(st);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tm-test-store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_text_columns();
	test_roundtrip();
	test_columns();
	test_locked();
	test_session();
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
