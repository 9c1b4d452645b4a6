/*
 * report - the parts of trustmilter-report, shared between its files:
 *
 *   main.c       the command line: options, the store query, the output
 *   aggregate.c  the records of a period counted into measures (total, buckets,
 *                groups, findings, domains, campaigns); the per-domain scorecard
 *   formats.c    the text table, JSON and CSV
 *   html.c       the self-contained HTML page (its charts are in charts.c)
 *   charts.c     inline SVG charts for the HTML page
 *   rfc9990.c    DMARC aggregate reports (RFC 9990): XML per day and policy
 *                domain, gzip in memory, ready-to-send MIME messages for the
 *                verified rua= destinations
 *   sqlagg.c     --aggregate sql: one GROUP BY over the records, rows counted
 *                as weighted records (struct wrec)
 *   rollagg.c    --aggregate rollup: the per-day rollup tables the store's
 *                writer maintains (stats/rollup.c), rows added as measures
 *   feedin.c     --ingest: saved ARF and DMARC aggregate reports into the store
 *   feedback.c   the complaint and receiver views (feedback reports from the store)
 *   map.c        a small string-keyed hash map; allocation that ends the
 *                program when memory is exhausted (xcalloc, xbuf_new)
 *
 * The scoring method of the per-domain scorecard is in docs/STATISTICS.md;
 * keep the two in step.
 */
#ifndef TM_REPORT_H
#define TM_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "audit.h"
#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "feedingest.h"
#include "rollup.h"

#define OUT_MAX (512u * 1024 * 1024)
#define NACT (ACT_LAST + 1)   /* enum verdict_action, named by verdict_action_name */
#define NSPAM 7
_Static_assert(NSPAM == ROLLUP_NSPAM && NACT == ROLLUP_NACT, "the rollups count what the report shows");

extern const char *const spam_buckets[NSPAM];
extern const char *const pol_names[4];
extern const char *const scoring_method[];

struct entry { char *key; void *val; };
struct map { size_t cap, n; struct entry *e; size_t vsize; };

/* The counters from messages to bytes are consecutive (measures_add). */
struct measures {
	uint64_t messages, spf_pass, dkim_pass, dkim_aligned_pass, dmarc_pass, spf_aligned,
	         dkim_aligned, dmarc_records, bulk, one_click, tls, format_ok, spam_known,
	         spam_flagged, gmail, yahoo, microsoft, rcpts, bytes;
	uint64_t actions[NACT];
	uint64_t spam[NSPAM];
	enum dmarc_policy policy;   /* last seen DMARC policy (scorecard); UNSPEC: none */
	int64_t last_ts;
};

struct opts {
	int64_t since, until;
	const char *by;             /* day week month or NULL */
	const char *group;          /* domain campaign direction client or NULL */
	const char *domain;
	const char *direction;      /* inbound outbound (a filter), both, or NULL: each apart */
	const char *format;
	int top;
	int worst;                  /* scorecard: worst score first instead of volume */
	double spam_threshold;
};

/* One sending domain. Its score and readiness count only its authenticated
 * mail: DMARC pass, an aligned SPF or DKIM pass, or our own outbound mail.
 * The rest (forged or unauthenticated mail using the name) is counted apart,
 * so spoofing that DMARC stopped never lowers the real sender's grade. */
/* What complaint feedback says about one domain's outbound mail
 * (complaints.c): providers indexed gmail, yahoo, microsoft. */
struct fbstat {
	uint64_t out_msgs;          /* outbound messages of the domain */
	uint64_t out[3];            /* their recipients at each provider */
	uint64_t reports[3];        /* ARF reports from each provider's feedback loop */
	uint64_t complaints[3];     /* of them abuse or fraud */
	uint64_t all_reports, all_complaints;  /* from every feedback loop, "other" included */
};

struct dstat {
	struct measures auth;
	struct measures unauth;
	uint64_t dmarc_fail;        /* of unauth: DMARC fail (spoofing caught) */
	struct fbstat fb;
};

/* The measures of one direction (or of both together). */
struct part {
	const char *name;           /* "inbound", "outbound", or NULL: both */
	struct measures total;
	struct map buckets;         /* bucket start (text, sortable) -> measures */
	struct map groups;          /* group key -> measures */
	struct map findings;        /* name -> uint64 */
	struct map domains;         /* From domain -> struct dstat (scorecard) */
	struct map campaigns;       /* campaign -> measures (HTML chart) */
};

struct agg {
	const struct opts *o;
	struct part all;            /* every record that passed the filters */
	struct part dir[2];         /* inbound, outbound: without --direction */
	int use_all, split;         /* which parts are counted */
	uint64_t dropped;
	const char *dmarc_dir;      /* write DMARC reports here */
	struct map dmarc;           /* "day|policy domain" -> struct dreport */
	struct rua_count *rc;       /* report destinations used and skipped */
};

/* What became of the rua= destinations of the reports written with --mail:
 * every skipped one is also logged on standard error with its reason. */
struct rua_count {
	dns_resolver *dns;          /* for the external-destination check */
	uint64_t reports, mailed, sent_to;
	uint64_t internal, external_ok;
	uint64_t skip_external, skip_dns, skip_invalid, skip_scheme, skip_many, skip_none;
};

struct score {
	double total;               /* 0..100 over the components that are known */
	double auth, enforcement, one_click, format, spam, complaints;   /* each 0..1, -1 unknown */
	char grade[4];
};

struct drow { uint64_t count; char *xml; };   /* one <record>, keyed by its content */
struct dreport {
	int64_t begin;
	char domain[AUDIT_DOMAIN_MAX];
	struct audit_record last;     /* newest record: policy_published */
	struct map rows;              /* row key -> struct drow */
};

/* A weighted record: n records alike in everything the measures read, as
 * r (the newest of them: r->ts), with the sums of their recipients and
 * (non-negative) sizes and their spam bucket (spam_buckets) and flag. The C
 * aggregation counts each record with n = 1; the SQL one (sqlagg.c) one
 * GROUP BY row. */
struct wrec {
	const struct audit_record *r;
	uint64_t n, rcpts, bytes;
	int spam_bucket, spam_flagged;
	uint64_t out[3];            /* outbound: the sums of rcpt_gmail, _yahoo, _microsoft */
};

/* How the records are aggregated (--aggregate). */
enum report_agg { REPORT_AGG_AUTO, REPORT_AGG_ROLLUP, REPORT_AGG_SQL, REPORT_AGG_C };

struct fcount { const char *name; uint64_t n; };

/* One scorecard row: scored is 0 when the domain sent no authenticated mail. */
struct srow { const char *domain; const struct dstat *d; struct score s; int scored; };


/* map.c */
void *xcalloc(size_t n, size_t sz);
void *map_get(struct map *m, const char *key);
void *map_find(const struct map *m, const char *key);
struct entry *map_sorted(const struct map *m);
void map_free(struct map *m, void (*fv)(void *));
/* xbuf_new - buf_new(cap), or the program ends ("out of memory", status 2). */
buf *xbuf_new(size_t cap);

/* aggregate.c */
int64_t bucket_start(int64_t ts, const char *by);
void day_text(int64_t ts, char *out, size_t outsz);
void agg_init(struct agg *g, const struct opts *o);
void agg_free(struct agg *g);
int on_record(void *arg, const struct audit_record *r);
/* agg_add - count a weighted record: n messages alike in every measured
 * field (r), with their summed recipients and bytes; r->ts is the newest. */
void agg_add(struct agg *g, const struct wrec *w);
/* agg_parts - the parts that mail of direction out (1: outbound) from
 * from_domain counts in, after the --direction and --domain filters: 0, 1
 * or 2 of them into ps. */
size_t agg_parts(struct agg *g, int out, const char *from_domain, struct part *ps[2]);
/* measures_add - src's counters added to dst; its policy taken when its
 * newest record is not older than dst's. */
void measures_add(struct measures *dst, const struct measures *src);
double rate(uint64_t n, uint64_t d);
void scorecard(const struct measures *m, struct score *s);
struct fcount *top_findings(const struct part *p, size_t *n);
void policy_distribution(const struct part *p, uint64_t out[4]);
/* dstat_policy_name - a domain's last seen DMARC policy, authenticated mail first; "" for none. */
const char *dstat_policy_name(const struct dstat *d);
/* scorecard_rows - every domain, by volume or (o->worst) worst score first. */
struct srow *scorecard_rows(const struct part *p, const struct opts *o, size_t *n);
/* readiness_text - "ready", "12.5% not ready" or "-" (no authenticated mail). */
const char *readiness_text(char *out, size_t n, uint64_t ready, uint64_t total);
/* part_title - "Inbound mail (sent to us)" and so on. */
const char *part_title(const struct part *p);

/* formats.c */
void time_text(int64_t ts, char *out, size_t n);
void out_json(buf *o, struct agg *g);
void out_csv(buf *o, struct agg *g);
const char *pct(char *out, size_t n, uint64_t a, uint64_t b);
void out_text(buf *o, struct agg *g);
void csv_field(buf *o, const char *s);

/* html.c */
void html_text(buf *o, const char *s);
void out_html(buf *o, struct agg *g);

/* charts.c */
void svg_lines(buf *o, const struct agg *g, const struct part *p);
void svg_bars(buf *o, const char *label, const char *const *names, const double *vals,
             size_t n, double max, int percent);

/* rfc9990.c */
void dreport_free(void *p);
void dmarc_add(struct agg *g, const struct audit_record *r);
int dmarc_write(struct agg *g, const char *submitter, const char *org, const char *email,
                int mail);
void rua_summary(const struct rua_count *c, FILE *f);

typedef struct store store;

/* sqlagg.c: the measures of [since, until) by one GROUP BY query instead of
 * every record (--aggregate sql); not with --dmarc-reports. 0, or -1 with err. */
int sqlagg_query(store *st, struct agg *g, int64_t since, int64_t until, char *err, size_t errlen);

/* rollagg.c: the measures of the period from the per-day rollup tables
 * (--aggregate rollup); the hours of a period that does not start or end at
 * a UTC day start through sqlagg_query. rollagg_can - can they answer o: not
 * with --group client, with a spam threshold on a bucket boundary, and with
 * --domain not when the campaigns are shown (--group campaign, HTML).
 * rollagg_query - 0, or -1 with err. */
int rollagg_can(const struct opts *o);
int rollagg_query(store *st, struct agg *g, char *err, size_t errlen);

/* feedin.c */
int feedin_path(store *st, const char *path, const struct feedingest_opts *fo, struct feedingest_count *c);
void feedin_summary(const struct feedingest_count *c, FILE *f);

/* complaints.c: complaint rates in the scorecard and provider readiness */
#define COMPLAINT_WARN 0.001      /* above 0.1%: warning */
#define COMPLAINT_FAIL 0.003      /* above 0.3%: not ready (Gmail, Yahoo) */
/* complaints_add - the period's ARF reports into the scorecard's domains. */
int complaints_add(store *st, struct agg *g, char *err, size_t errlen);
/* complaint_word - "ok", "warning", "not ready", or "unknown" (no reports). */
const char *complaint_word(uint64_t complaints, uint64_t reports, uint64_t sent);
/* complaint_score - the scorecard component: 1 at most 0.1%, 0.5 at most
 * 0.3%, else 0; -1 (left out) without outbound mail or without any report. */
double complaint_score(const struct fbstat *f);
/* provider_readiness - the scorecard's readiness cell of provider k (0
 * gmail, 1 yahoo, 2 microsoft): readiness_text of the authenticated mail,
 * and for a domain with outbound mail to the provider its complaint rate
 * too: above 0.3% "not ready", above 0.1% "warning", without feedback from
 * the provider "unknown" (never "ready"). */
const char *provider_readiness(char *out, size_t n, const struct dstat *d, int k);

/* feedback.c: the complaint and receiver views (--feedback) in o->format */
int feedback_view(store *st, const struct opts *o, dns_resolver *dns, buf *out, char *err,
                  size_t errlen);

#endif
