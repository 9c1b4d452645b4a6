/*
 * trustmilter-report - compliance statistics from the audit store.
 *
 * Reads the period from the per-day rollup tables the store's writer keeps
 * (rollagg.c, the default when they can answer), from one GROUP BY that
 * folds alike records (sqlagg.c, --aggregate sql) or record by record with
 * the one SELECT both store backends share (store_query, --aggregate c), and
 * counts them into the same measures here, in C, so that SQLite and
 * PostgreSQL give the same numbers to the last digit. Output: a text table,
 * JSON, CSV, a self-contained HTML page with inline SVG charts, and RFC 9990
 * DMARC aggregate reports (gzip-compressed XML, plus ready-to-send messages).
 * The scoring method of the per-domain scorecard is in docs/STATISTICS.md;
 * keep the two in step.
 */
#define _GNU_SOURCE 1
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store.h"
#include "conf.h"
#include "buf.h"
#include "report.h"
#include "dns.h"
#include "provider.h"

#define TOP_DEFAULT 20

/* parse_time - "7d" "24h" "30m" "2w" (ago), "@EPOCH", "YYYY-MM-DD[THH:MM[:SS]]" (UTC), "now". */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
	char *end;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '@') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno || *end || end == s + 1)
			return -1;
		*out = v;
		return 0;
	}
	if (isdigit((unsigned char)s[0])) {
		long long v = strtoll(s, &end, 10);
		if (end != s && end[1] == '\0' && strchr("smhdw", end[0])) {
			long mult = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
			          : end[0] == 'd' ? 86400 : 604800;
			if (v < 0 || v > 100LL * 365 * 86400 / mult)
				return -1;
			*out = now - v * mult;
			return 0;
		}
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *r = strptime(s, "%Y-%m-%d", &tm);
	if (r && *r == 'T')
		r = strptime(r + 1, "%H:%M", &tm);
	if (r && *r == ':')
		r = strptime(r + 1, "%S", &tm);
	if (r == NULL || (*r && strcmp(r, "Z") != 0))
		return -1;
	struct tm want = tm;
	*out = (int64_t)timegm(&tm);
	/* timegm normalises 2026-11-31 to 2026-12-01: a date that moved was not a date */
	if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon || tm.tm_mday != want.tm_mday ||
	    tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
		return -1;
	return 0;
}

/* store_exists - a SQLite store must exist unless --create was given: a
 * mistyped path would otherwise become a new empty database and an all-zero
 * report. PostgreSQL URIs name a server; the server answers for them. */
static int store_exists(const char *uri, int create)
{
	if (create || strncmp(uri, "sqlite:", 7) != 0)
		return 1;
	struct stat sb;
	if (stat(uri + 7, &sb) == 0)
		return 1;
	fprintf(stderr, "trustmilter-report: %s: %s (use --create to start an empty store)\n",
	        uri + 7, strerror(errno));
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: trustmilter-report [options]\n"
	      "  -c, --config FILE        configuration (audit.store, reports.*, hostname)\n"
	      "      --store URI          audit store (overrides audit.store): sqlite:PATH, PATH, postgresql://...\n"
	      "      --create             create the SQLite store if it does not exist (else an error)\n"
	      "      --since T            start: 7d, 24h, 2w, YYYY-MM-DD[THH:MM[:SS]] (UTC), @EPOCH (default 7d)\n"
	      "      --until T            end (exclusive; default now)\n"
	      "      --by day|week|month  time buckets\n"
	      "      --group domain|campaign|direction|client\n"
	      "      --domain D           only this From domain (and its subdomains)\n"
	      "      --direction D        inbound or outbound only, or both mixed (default: each apart)\n"
	      "      --format text|json|csv|html   (default text)\n"
	      "      --top N              findings, groups and scorecard domains listed (default 20)\n"
	      "      --sort volume|worst  scorecard order: most mail first (default) or worst score first\n"
	      "      --aggregate rollup|sql|c   read the per-day rollup tables (default when they\n"
	      "                           can answer), let the database group alike records\n"
	      "                           (GROUP BY; the default otherwise), or count record by record\n"
	      "      --rebuild-rollups    compute the rollup tables again from the stored records\n"
	      "                           (of --since/--until when given, else of every day)\n"
	      "  -o, --output FILE        write here instead of standard output\n"
	      "      --dmarc-reports DIR  write RFC 9990 aggregate reports (inbound) into DIR\n"
	      "      --mail               with --dmarc-reports: also a ready-to-send .eml per report\n"
	      "      --submitter DOMAIN   reporting domain (default: hostname)\n"
	      "      --feedback           complaint rates (ARF) and what receivers see (DMARC aggregate\n"
	      "                           reports) instead of the message statistics\n"
	      "      --rdns               with --feedback: the sources' names (reverse DNS, forward-confirmed)\n"
	      "      --ingest PATH        store saved ARF and DMARC aggregate reports (file, directory,\n"
	      "                           mbox or - for standard input) instead of reporting\n"
	      "  -V, --version\n", f);
}

/* set_or_die - configuration override. */
static const char *one_of(const char *v, const char *const *choices, const char *what)
{
	for (size_t i = 0; choices[i]; i++)
		if (strcmp(v, choices[i]) == 0)
			return v;
	fprintf(stderr, "trustmilter-report: bad %s \"%s\"\n", what, v);
	exit(2);
}

/* run_ingest - --ingest: every path into the store; 2 on a store error,
 * 1 when a report was refused, else 0. */
static int run_ingest(store *st, const char *const *paths, size_t n, const struct feedingest_opts *fo)
{
	struct feedingest_count fc = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (feedin_path(st, paths[i], fo, &fc) < 0)
			rc = 2;
	store_close(st);
	feedin_summary(&fc, stdout);
	return rc ? rc : fc.refused ? 1 : 0;
}

/* run_rebuild - --rebuild-rollups: the rollup rows of the period (or of
 * every day) computed again from the stored records. */
static int run_rebuild(store *st, int64_t since, int64_t until)
{
	char err[1024];
	long n = store_rollup_rebuild(st, since, until, err, sizeof(err));
	store_close(st);
	if (n < 0) {
		fprintf(stderr, "trustmilter-report: rebuilding the rollups: %s\n", err);
		return 2;
	}
	printf("rollups rebuilt from %ld records\n", n);
	return 0;
}

/* agg_kind - the --aggregate choice. */
static enum report_agg agg_kind(const char *v)
{
	return strcmp(v, "rollup") == 0 ? REPORT_AGG_ROLLUP : strcmp(v, "sql") == 0 ? REPORT_AGG_SQL
	       : REPORT_AGG_C;
}

/* run_feedback - --feedback: the views to output (or standard output). */
static int run_feedback(store *st, const struct opts *o, dns_resolver *dns, const char *output)
{
	char err[1024];
	buf *out = xbuf_new(OUT_MAX);
	int rc = feedback_view(st, o, dns, out, err, sizeof(err));
	store_close(st);
	dns_free(dns);
	if (rc < 0)
		fprintf(stderr, "trustmilter-report: %s\n", err);
	FILE *f = output ? fopen(output, "wb") : stdout;
	if (rc == 0 && (f == NULL || fwrite(buf_data(out), 1, buf_len(out), f) != buf_len(out) ||
	                (output && fclose(f) != 0))) {
		fprintf(stderr, "trustmilter-report: %s: %s\n", output ? output : "stdout", strerror(errno));
		rc = -1;
	}
	buf_free(out);
	return rc < 0 ? 2 : 0;
}

/* aggregate - the records of the period into g: from the rollup tables
 * (rollagg.c) when asked or by default when they can answer, else by one
 * GROUP BY (sqlagg.c), or record by record. The RFC 9990 rows need every
 * record: --dmarc-reports always reads them one by one. */
static int aggregate(store *st, struct agg *g, enum report_agg how, char *err, size_t errlen)
{
	if (g->dmarc_dir)
		how = REPORT_AGG_C;
	if (how == REPORT_AGG_AUTO)
		how = rollagg_can(g->o) ? REPORT_AGG_ROLLUP : REPORT_AGG_SQL;
	if (how == REPORT_AGG_ROLLUP && !rollagg_can(g->o))
		how = REPORT_AGG_SQL;
	if (how == REPORT_AGG_ROLLUP)
		return rollagg_query(st, g, err, errlen);
	if (how == REPORT_AGG_SQL)
		return sqlagg_query(st, g, g->o->since, g->o->until, err, errlen);
	return store_query(st, g->o->since, g->o->until, on_record, g, err, errlen);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, 0, 'c' }, { "store", 1, 0, 'S' }, { "since", 1, 0, 's' }, { "until", 1, 0, 'u' },
		{ "by", 1, 0, 'b' }, { "group", 1, 0, 'g' }, { "domain", 1, 0, 'd' }, { "direction", 1, 0, 'D' },
		{ "format", 1, 0, 'f' }, { "top", 1, 0, 't' }, { "output", 1, 0, 'o' },
		{ "dmarc-reports", 1, 0, 'R' }, { "mail", 0, 0, 'M' }, { "submitter", 1, 0, 'U' }, { "create", 0, 0, 'C' }, { "sort", 1, 0, 'O' },
		{ "ingest", 1, 0, 'I' }, { "feedback", 0, 0, 'F' }, { "rdns", 0, 0, 'r' }, { "aggregate", 1, 0, 'A' },
		{ "rebuild-rollups", 0, 0, 'B' }, { "version", 0, 0, 'V' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	static const char *const bys[] = { "day", "week", "month", NULL };
	static const char *const groups[] = { "domain", "campaign", "direction", "client", NULL };
	const char *const dirs[] = { session_direction_name(DIR_INBOUND), session_direction_name(DIR_OUTBOUND),
	                             "both", NULL };
	static const char *const sorts[] = { "volume", "worst", NULL };
	static const char *const aggs[] = { "rollup", "sql", "c", NULL };
	static const char *const formats[] = { "text", "json", "csv", "html", NULL };
	struct opts o = { .format = "text", .top = TOP_DEFAULT, .spam_threshold = 5.0 };
	const char *cfgpath = NULL, *uri = NULL, *since = "7d", *until = "now", *output = NULL,
	           *dmarc_dir = NULL, *submitter = NULL;
	const char *ingest[64];
	size_t ningest = 0;
	int mail = 0, create = 0, feedback = 0, rdns = 0, rebuild = 0, span = 0, c;
	enum report_agg how = REPORT_AGG_AUTO;
	while ((c = getopt_long(argc, argv, "c:o:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'S': uri = optarg; break;
		case 's': since = optarg; span = 1; break;
		case 'u': until = optarg; span = 1; break;
		case 'b': o.by = one_of(optarg, bys, "--by"); break;
		case 'g': o.group = one_of(optarg, groups, "--group"); break;
		case 'd': o.domain = optarg; break;
		case 'D': o.direction = one_of(optarg, dirs, "--direction"); break;
		case 'f': o.format = one_of(optarg, formats, "--format"); break;
		case 't': o.top = atoi(optarg) > 0 ? atoi(optarg) : TOP_DEFAULT; break;
		case 'o': output = optarg; break;
		case 'R': dmarc_dir = optarg; break;
		case 'M': mail = 1; break;
		case 'C': create = 1; break;
		case 'O': o.worst = strcmp(one_of(optarg, sorts, "--sort"), "worst") == 0; break;
		case 'F': feedback = 1; break;
		case 'r': rdns = 1; break;
		case 'A': how = agg_kind(one_of(optarg, aggs, "--aggregate")); break;
		case 'B': rebuild = 1; break;
		case 'U': submitter = optarg; break;
		case 'I':
			if (ningest == sizeof(ingest) / sizeof(ingest[0])) {
				fprintf(stderr, "trustmilter-report: too many --ingest paths\n");
				return 2;
			}
			ingest[ningest++] = optarg;
			break;
		case 'V': printf("trustmilter-report %s\n", TM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* with --ingest, the other arguments are more paths (a shell glob) */
	while (ningest && optind < argc && ningest < sizeof(ingest) / sizeof(ingest[0]))
		ingest[ningest++] = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	int64_t now = (int64_t)time(NULL);
	if (parse_time(since, now, &o.since) < 0 || parse_time(until, now, &o.until) < 0) {
		fprintf(stderr, "trustmilter-report: bad time in --since/--until\n");
		return 2;
	}
	if (strcmp(until, "now") == 0)
		o.until = now + 1;      /* "now" includes this second's mail: until is exclusive */
	char err[1024];
	conf *cf = conf_load(cfgpath, err, sizeof(err));
	if (cf == NULL) {
		fprintf(stderr, "trustmilter-report: %s\n", err);
		return 2;
	}
	char u2[4096], host[256];
	if (uri == NULL)
		uri = conf_str(cf, "audit.store");
	if (uri == NULL || uri[0] == '\0') {
		fprintf(stderr, "trustmilter-report: no audit store: set audit.store or use --store\n");
		conf_unref(cf);
		return 2;
	}
	int plain = strncmp(uri, "sqlite:", 7) && strncmp(uri, "postgres", 8) && strncmp(uri, "pg:", 3);
	snprintf(u2, sizeof(u2), "%s%s", plain ? "sqlite:" : "", uri);
	const char *hn = conf_str(cf, "hostname");
	if (hn[0])
		snprintf(host, sizeof(host), "%s", hn);
	else if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	char org[256], email[512];
	snprintf(org, sizeof(org), "%s", conf_str(cf, "reports.org_name")[0] ? conf_str(cf, "reports.org_name") : host);
	if (conf_str(cf, "reports.email")[0])
		snprintf(email, sizeof(email), "%s", conf_str(cf, "reports.email"));
	else
		snprintf(email, sizeof(email), "postmaster@%s", host);
	struct rua_count rc_rua = { 0 };
	if (((dmarc_dir && mail) || (feedback && rdns)) &&
	    (rc_rua.dns = dns_new_conf(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "trustmilter-report: resolver: %s\n", err);
		conf_unref(cf);
		return 2;
	}
	char campaign_header[256];
	snprintf(campaign_header, sizeof(campaign_header), "%s", conf_str(cf, "bulk.campaign_header"));
	struct provider_map *pm = provider_map_new(cf, err, sizeof(err));
	if (pm == NULL) {
		fprintf(stderr, "trustmilter-report: feedback.providers: %s\n", err);
		conf_unref(cf);
		dns_free(rc_rua.dns);
		return 2;
	}
	err[0] = '\0';
	store *st = store_exists(u2, create) ? store_open_reader(u2, err, sizeof(err)) : NULL;
	conf_unref(cf);
	if (st == NULL) {
		if (err[0])
			fprintf(stderr, "trustmilter-report: %s\n", err);
		dns_free(rc_rua.dns);
		free(pm);
		return 2;
	}
	if (ningest) {
		struct feedingest_opts fo = { campaign_header, pm };
		int r = run_ingest(st, ingest, ningest, &fo);
		free(pm);
		return r;
	}
	free(pm);
	if (rebuild)
		return run_rebuild(st, span ? o.since : INT64_MIN / 2, span ? o.until : INT64_MAX / 2);
	if (feedback)
		return run_feedback(st, &o, rc_rua.dns, output);
	struct agg g = { .dmarc_dir = dmarc_dir, .rc = &rc_rua };
	agg_init(&g, &o);
	if (aggregate(st, &g, how, err, sizeof(err)) < 0 ||
	    store_query_drops(st, o.since, o.until, &g.dropped, err, sizeof(err)) < 0 ||
	    complaints_add(st, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "trustmilter-report: %s\n", err);
		store_close(st);
		dns_free(rc_rua.dns);
		return 2;
	}
	store_close(st);
	int rc = 0;
	if (dmarc_dir) {
		if (mkdir(dmarc_dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", dmarc_dir, strerror(errno));
			rc = 2;
		} else if (dmarc_write(&g, submitter ? submitter : host, org, email, mail) < 0)
			rc = 2;
		if (mail)
			rua_summary(&rc_rua, !output && strcmp(o.format, "text") != 0 ? stderr : stdout);
		dns_free(rc_rua.dns);
	}
	if (!dmarc_dir || output || strcmp(o.format, "text") != 0) {
		buf *out = xbuf_new(OUT_MAX);
		if (strcmp(o.format, "json") == 0)
			out_json(out, &g);
		else if (strcmp(o.format, "csv") == 0)
			out_csv(out, &g);
		else if (strcmp(o.format, "html") == 0)
			out_html(out, &g);
		else
			out_text(out, &g);
		FILE *f = output ? fopen(output, "wb") : stdout;
		if (f == NULL || fwrite(buf_data(out), 1, buf_len(out), f) != buf_len(out) ||
		    (output && fclose(f) != 0)) {
			fprintf(stderr, "trustmilter-report: %s: %s\n", output ? output : "stdout", strerror(errno));
			rc = 2;
		}
		buf_free(out);
	}
	agg_free(&g);
	return rc;
}

