/*
 * feedback - trustmilter-report --feedback: what comes back about our mail.
 *
 *   complaints  ARF reports of the period against the outbound records of
 *               the same period: per mailbox provider (with the readiness
 *               word of docs/STATISTICS.md), per campaign, per From domain,
 *               per day; feedback types and how reports were matched
 *   receivers   DMARC aggregate reports per own domain: volume, DMARC pass,
 *               aligned SPF and DKIM, what p=quarantine/reject would block,
 *               by source IP and by receiver
 *
 * Everything is first counted into tables of cells (a count, a rate of two
 * counts, or text) and then written by one writer per format, so the four
 * formats cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "store.h"
#include "feedstore.h"
#include "aggrep.h"
#include "json.h"
#include "provider.h"
#include "iprev.h"

#define FB_COLS 8

static const char *const providers[] = { "gmail", "yahoo", "microsoft", "other" };  /* enum provider */
#define NPROV (sizeof(providers) / sizeof(providers[0]))

enum cell_kind { C_INT, C_RATE, C_TEXT };
struct cell { enum cell_kind k; uint64_t n, d; char t[300]; };
struct row { struct cell c[FB_COLS]; };
struct table {
	const char *id, *title;
	const char *cols[FB_COLS];
	size_t ncols, n, cap;
	struct row *rows;
};

struct rate_count { uint64_t sent, reports, complaints; };
struct recv_count { uint64_t msgs, pass, spf, dkim, fail; };

struct fb {
	const struct opts *o;
	dns_resolver *dns;                        /* --rdns: names of the sources listed */
	struct map prov, camp, dom, day;          /* struct rate_count */
	struct map types, match;                  /* uint64_t */
	struct map rdom, rsrc, rrecv;             /* struct recv_count */
	uint64_t reports, complaints;
};

/* ---- counting ---------------------------------------------------------- */

static int in_domain(const struct opts *o, const char *d)
{
	return o->domain == NULL || dom_at_or_below(d, strlen(d), o->domain, strlen(o->domain));
}

/* provider_counts - the record's recipients per provider (gmail, yahoo,
 * microsoft, other); -1 when the record does not say. */
static int provider_counts(const struct audit_record *r, uint64_t per[NPROV])
{
	_Static_assert(NPROV == PROV_N, "providers[] follows enum provider");
	per[PROV_GMAIL] = r->rcpt_gmail;
	per[PROV_YAHOO] = r->rcpt_yahoo;
	per[PROV_MICROSOFT] = r->rcpt_microsoft;
	per[PROV_OTHER] = r->rcpt_other;
	/* a record of schema version 2 or older has no per-provider counts */
	return r->rcpt_gmail + r->rcpt_yahoo + r->rcpt_microsoft + r->rcpt_other ? 0 : -1;
}

/* on_outbound - the denominators: outbound messages of the period. */
static int on_outbound(void *arg, const struct audit_record *r)
{
	struct fb *f = arg;
	if (r->direction != DIR_OUTBOUND || !in_domain(f->o, r->from_domain))
		return 0;
	char day[32];
	day_text(r->ts, day, sizeof(day));
	((struct rate_count *)map_get(&f->camp, r->campaign[0] ? r->campaign : "(none)"))->sent++;
	((struct rate_count *)map_get(&f->dom, r->from_domain[0] ? r->from_domain : "(none)"))->sent++;
	((struct rate_count *)map_get(&f->day, day))->sent++;
	uint64_t per[NPROV] = { 0 };
	if (provider_counts(r, per) == 0)
		for (size_t i = 0; i < NPROV; i++)
			((struct rate_count *)map_get(&f->prov, providers[i]))->sent += per[i];
	return 0;
}

static void add_rate(struct map *m, const char *key, int complaint)
{
	struct rate_count *c = map_get(m, key);
	c->reports++;
	c->complaints += complaint ? 1u : 0u;
}

static int on_arf(void *arg, const struct feedstore_arf *r)
{
	struct fb *f = arg;
	if (!in_domain(f->o, r->from_domain[0] ? r->from_domain : r->reported_domain))
		return 0;
	char day[32];
	day_text(r->arrival, day, sizeof(day));
	f->reports++;
	f->complaints += r->complaint ? 1u : 0u;
	(*(uint64_t *)map_get(&f->types, r->feedback_type[0] ? r->feedback_type : "(none)"))++;
	(*(uint64_t *)map_get(&f->match, r->match_method))++;
	add_rate(&f->prov, r->provider, r->complaint);
	add_rate(&f->camp, r->campaign[0] ? r->campaign : "(none)", r->complaint);
	add_rate(&f->dom, r->from_domain[0] ? r->from_domain : "(none)", r->complaint);
	add_rate(&f->day, day, r->complaint);
	return 0;
}

static void add_recv(struct map *m, const char *key, const struct aggrep_record *r)
{
	struct recv_count *c = map_get(m, key);
	int spf = strcmp(r->spf_eval, "pass") == 0, dkim = strcmp(r->dkim_eval, "pass") == 0;
	c->msgs += r->count;
	c->spf += spf ? r->count : 0;
	c->dkim += dkim ? r->count : 0;
	c->pass += spf || dkim ? r->count : 0;
	c->fail += spf || dkim ? 0 : r->count;
}

static int on_dmarc(void *arg, const struct feedstore_dmarc *d)
{
	struct fb *f = arg;
	const char *dom = d->rec->header_from[0] ? d->rec->header_from : d->domain;
	if (!in_domain(f->o, dom))
		return 0;
	char k[600];
	add_recv(&f->rdom, dom, d->rec);
	snprintf(k, sizeof(k), "%s\t%s", dom, d->rec->source_ip);
	add_recv(&f->rsrc, k, d->rec);
	snprintf(k, sizeof(k), "%s\t%s", dom, d->org_name);
	add_recv(&f->rrecv, k, d->rec);
	return 0;
}

/* ---- tables ------------------------------------------------------------ */

static struct row *add_row(struct table *t)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		struct row *r = realloc(t->rows, t->cap * sizeof(*r));
		if (r == NULL) {
			fprintf(stderr, "trustmilter-report: out of memory\n");
			exit(2);
		}
		t->rows = r;
	}
	memset(&t->rows[t->n], 0, sizeof(t->rows[0]));
	return &t->rows[t->n++];
}

static void c_int(struct cell *c, uint64_t n) { c->k = C_INT; c->n = n; }
static void c_rate(struct cell *c, uint64_t n, uint64_t d) { c->k = C_RATE; c->n = n; c->d = d; }
static void c_text(struct cell *c, const char *s) { c->k = C_TEXT; str_copy(c->t, sizeof(c->t), s, strlen(s)); }

/* readiness - the complaint word for a provider (docs/STATISTICS.md). */
static const char *readiness(const struct rate_count *c)
{
	return complaint_word(c->complaints, c->reports, c->sent);
}

static void rate_table(struct table *t, struct map *m, int with_readiness)
{
	struct entry *v = map_sorted(m);
	for (size_t i = 0; i < m->n; i++) {
		const struct rate_count *c = v[i].val;
		struct row *r = add_row(t);
		c_text(&r->c[0], v[i].key);
		c_int(&r->c[1], c->sent);
		c_int(&r->c[2], c->reports);
		c_int(&r->c[3], c->complaints);
		c_rate(&r->c[4], c->complaints, c->sent);
		if (with_readiness)
			c_text(&r->c[5], readiness(c));
	}
	free(v);
}

static void count_table(struct table *t, struct map *m)
{
	struct entry *v = map_sorted(m);
	for (size_t i = 0; i < m->n; i++) {
		struct row *r = add_row(t);
		c_text(&r->c[0], v[i].key);
		c_int(&r->c[1], *(uint64_t *)v[i].val);
	}
	free(v);
}

/* recv_table - keys "domain\tX" (or a domain); failing rows first when by_fail. */
static int by_fail(const void *a, const void *b)
{
	const struct recv_count *x = ((const struct entry *)a)->val, *y = ((const struct entry *)b)->val;
	if (x->fail != y->fail)
		return x->fail < y->fail ? 1 : -1;
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* rdns - the source's name: forward-confirmed (RFC 8601 iprev), else the
 * first PTR name followed by "?"; "" without a resolver or a name. */
static void rdns(dns_resolver *dns, const char *ip, char *out, size_t n)
{
	struct iprev_outcome io;
	dns_budget b;
	out[0] = '\0';
	if (dns == NULL)
		return;
	dns_budget_init(&b, 12);
	iprev_check(dns, &b, ip, &io);
	if (io.name[0])
		snprintf(out, n, "%s%s", io.name, io.result == AR_PASS ? "" : "?");
}

static void recv_table(struct table *t, struct map *m, int two_keys, int top, dns_resolver *dns)
{
	struct entry *v = map_sorted(m);
	if (two_keys)
		qsort(v, m->n, sizeof(*v), by_fail);
	for (size_t i = 0; i < m->n && (!two_keys || (int)i < top); i++) {
		const struct recv_count *c = v[i].val;
		struct row *r = add_row(t);
		char k[600];
		str_copy(k, sizeof(k), v[i].key, strlen(v[i].key));
		char *tab = strchr(k, '\t');
		if (tab)
			*tab++ = '\0';
		size_t j = 0;
		c_text(&r->c[j++], k);
		if (two_keys)
			c_text(&r->c[j++], tab ? tab : "");
		c_int(&r->c[j++], c->msgs);
		c_rate(&r->c[j++], c->pass, c->msgs);
		c_rate(&r->c[j++], c->spf, c->msgs);
		c_rate(&r->c[j++], c->dkim, c->msgs);
		c_int(&r->c[j++], c->fail);
		if (!two_keys)
			c_rate(&r->c[j++], c->fail, c->msgs);
		if (two_keys && t->ncols == 8) {           /* the sources: their names */
			char name[300];
			rdns(dns, tab ? tab : "", name, sizeof(name));
			c_text(&r->c[j++], name);
		}
	}
	free(v);
}

#define NTABLES 9

static void build(struct fb *f, struct table *t)
{
	static const struct table spec[NTABLES] = {
		{ "providers", "Complaint rate per mailbox provider", { "provider", "outbound", "reports",
		  "complaints", "complaint_rate", "readiness" }, 6, 0, 0, NULL },
		{ "campaigns", "Complaint rate per campaign", { "campaign", "outbound", "reports",
		  "complaints", "complaint_rate" }, 5, 0, 0, NULL },
		{ "from_domains", "Complaint rate per From domain", { "from_domain", "outbound",
		  "reports", "complaints", "complaint_rate" }, 5, 0, 0, NULL },
		{ "days", "Complaint rate per day", { "day", "outbound", "reports", "complaints",
		  "complaint_rate" }, 5, 0, 0, NULL },
		{ "feedback_types", "Feedback reports by type", { "feedback_type", "reports" }, 2, 0, 0, NULL },
		{ "match_methods", "Feedback reports by match", { "match_method", "reports" }, 2, 0, 0, NULL },
		{ "receiver_domains", "What receivers see, per own domain", { "domain", "messages",
		  "dmarc_pass", "spf_aligned", "dkim_aligned", "failing", "blocked_by_enforcement" }, 7, 0, 0, NULL },
		{ "receiver_sources", "Sources by failing volume", { "domain", "source_ip", "messages",
		  "dmarc_pass", "spf_aligned", "dkim_aligned", "failing", "name" }, 8, 0, 0, NULL },
		{ "receivers", "Receivers by failing volume", { "domain", "receiver", "messages",
		  "dmarc_pass", "spf_aligned", "dkim_aligned", "failing" }, 7, 0, 0, NULL },
	};
	for (size_t i = 0; i < NTABLES; i++)
		t[i] = spec[i];
	for (size_t i = 0; i < NPROV; i++)
		map_get(&f->prov, providers[i]);          /* every provider, even without data */
	rate_table(&t[0], &f->prov, 1);
	rate_table(&t[1], &f->camp, 0);
	rate_table(&t[2], &f->dom, 0);
	rate_table(&t[3], &f->day, 0);
	count_table(&t[4], &f->types);
	count_table(&t[5], &f->match);
	recv_table(&t[6], &f->rdom, 0, 0, NULL);
	recv_table(&t[7], &f->rsrc, 1, f->o->top, f->dns);
	recv_table(&t[8], &f->rrecv, 1, f->o->top, NULL);
}

/* ---- writers ----------------------------------------------------------- */

/* cell_text - a cell as text: rates as percentages with two decimals. */
static const char *cell_text(const struct cell *c, char *out, size_t n)
{
	if (c->k == C_INT)
		snprintf(out, n, "%llu", (unsigned long long)c->n);
	else if (c->k == C_RATE && c->d == 0)
		snprintf(out, n, "-");
	else if (c->k == C_RATE)
		snprintf(out, n, "%.2f%%", 100.0 * (double)c->n / (double)c->d);
	else
		snprintf(out, n, "%s", c->t);
	return out;
}

static void write_text(buf *o, const struct table *t, const struct fb *f)
{
	char a[32], b[32], s[320];
	time_text(f->o->since, a, sizeof(a));
	time_text(f->o->until, b, sizeof(b));
	buf_printf(o, "trustmilter feedback %s .. %s\n\nfeedback reports: %llu, complaints: %llu\n",
	           a, b, (unsigned long long)f->reports, (unsigned long long)f->complaints);
	for (size_t i = 0; i < NTABLES; i++) {
		size_t w[FB_COLS] = { 0 };
		for (size_t c = 0; c < t[i].ncols; c++) {
			w[c] = strlen(t[i].cols[c]);
			for (size_t r = 0; r < t[i].n; r++) {
				size_t l = strlen(cell_text(&t[i].rows[r].c[c], s, sizeof(s)));
				w[c] = l > w[c] ? l : w[c];
			}
			if (w[c] > 60)
				w[c] = 60;
		}
		buf_printf(o, "\n%s\n", t[i].title);
		for (size_t c = 0; c < t[i].ncols; c++)
			buf_printf(o, c ? "  %*s" : "  %-*s", (int)w[c], t[i].cols[c]);
		buf_puts(o, "\n");
		for (size_t r = 0; r < t[i].n; r++) {
			for (size_t c = 0; c < t[i].ncols; c++) {
				const struct cell *ce = &t[i].rows[r].c[c];
				cell_text(ce, s, sizeof(s));
				buf_printf(o, ce->k == C_TEXT ? "  %-*.60s" : "  %*s", (int)w[c], s);
			}
			buf_puts(o, "\n");
		}
	}
}

static void write_json(buf *o, const struct table *t, const struct fb *f)
{
	char a[32], b[32];
	jw w;
	jw_init(&w, o);
	time_text(f->o->since, a, sizeof(a));
	time_text(f->o->until, b, sizeof(b));
	jw_obj(&w, NULL);
	jw_str(&w, "since", a);
	jw_str(&w, "until", b);
	jw_int(&w, "reports", (long long)f->reports);
	jw_int(&w, "complaints", (long long)f->complaints);
	for (size_t i = 0; i < NTABLES; i++) {
		jw_arr(&w, t[i].id);
		for (size_t r = 0; r < t[i].n; r++) {
			jw_obj(&w, NULL);
			for (size_t c = 0; c < t[i].ncols; c++) {
				const struct cell *ce = &t[i].rows[r].c[c];
				if (ce->k == C_INT)
					jw_int(&w, t[i].cols[c], (long long)ce->n);
				else if (ce->k == C_RATE && ce->d)
					jw_num(&w, t[i].cols[c], (double)ce->n / (double)ce->d);
				else if (ce->k == C_RATE)
					jw_null(&w, t[i].cols[c]);
				else
					jw_str(&w, t[i].cols[c], ce->t);
			}
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
	}
	jw_end_obj(&w);
	buf_puts(o, "\n");
}

/* write_csv - one table after another: a header row, then the rows, each
 * led by the table's id. */
static void write_csv(buf *o, const struct table *t)
{
	char s[320];
	for (size_t i = 0; i < NTABLES; i++) {
		buf_puts(o, "table");
		for (size_t c = 0; c < t[i].ncols; c++)
			buf_printf(o, ",%s", t[i].cols[c]);
		buf_puts(o, "\r\n");
		for (size_t r = 0; r < t[i].n; r++) {
			buf_puts(o, t[i].id);
			for (size_t c = 0; c < t[i].ncols; c++) {
				const struct cell *ce = &t[i].rows[r].c[c];
				buf_putc(o, ',');
				if (ce->k == C_TEXT)
					csv_field(o, ce->t);
				else if (ce->k == C_RATE && ce->d)
					buf_printf(o, "%.6f", (double)ce->n / (double)ce->d);
				else if (ce->k == C_INT)
					buf_puts(o, cell_text(ce, s, sizeof(s)));
			}
			buf_puts(o, "\r\n");
		}
	}
}

static void write_html(buf *o, const struct table *t, const struct fb *f)
{
	char a[32], b[32], s[320];
	time_text(f->o->since, a, sizeof(a));
	time_text(f->o->until, b, sizeof(b));
	buf_printf(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>trustmilter feedback"
	           "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
	           "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.2em .6em}td.n{text-align:right}"
	           "</style></head><body>\n<h1>Feedback %s .. %s</h1>\n<p>feedback reports: %llu, "
	           "complaints: %llu</p>\n", a, b, (unsigned long long)f->reports,
	           (unsigned long long)f->complaints);
	for (size_t i = 0; i < NTABLES; i++) {
		buf_printf(o, "<h2>%s</h2>\n<table id=\"%s\"><tr>", t[i].title, t[i].id);
		for (size_t c = 0; c < t[i].ncols; c++)
			buf_printf(o, "<th>%s</th>", t[i].cols[c]);
		buf_puts(o, "</tr>\n");
		for (size_t r = 0; r < t[i].n; r++) {
			buf_puts(o, "<tr>");
			for (size_t c = 0; c < t[i].ncols; c++) {
				const struct cell *ce = &t[i].rows[r].c[c];
				buf_puts(o, ce->k == C_TEXT ? "<td>" : "<td class=\"n\">");
				html_text(o, cell_text(ce, s, sizeof(s)));
				buf_puts(o, "</td>");
			}
			buf_puts(o, "</tr>\n");
		}
		buf_puts(o, "</table>\n");
	}
	buf_puts(o, "<p>Method: docs/STATISTICS.md in the trustmilter sources.</p>\n</body></html>\n");
}

int feedback_view(store *st, const struct opts *o, dns_resolver *dns, buf *out, char *err,
                  size_t errlen)
{
	struct fb f = { .o = o, .dns = dns };
	f.prov.vsize = f.camp.vsize = f.dom.vsize = f.day.vsize = sizeof(struct rate_count);
	f.types.vsize = f.match.vsize = sizeof(uint64_t);
	f.rdom.vsize = f.rsrc.vsize = f.rrecv.vsize = sizeof(struct recv_count);
	int rc = -1;
	if (store_query(st, o->since, o->until, on_outbound, &f, err, errlen) == 0 &&
	    feedstore_query_arf(st, o->since, o->until, on_arf, &f, err, errlen) == 0 &&
	    feedstore_query_dmarc(st, o->since, o->until, on_dmarc, &f, err, errlen) == 0) {
		struct table t[NTABLES];
		build(&f, t);
		if (strcmp(o->format, "json") == 0)
			write_json(out, t, &f);
		else if (strcmp(o->format, "csv") == 0)
			write_csv(out, t);
		else if (strcmp(o->format, "html") == 0)
			write_html(out, t, &f);
		else
			write_text(out, t, &f);
		for (size_t i = 0; i < NTABLES; i++)
			free(t[i].rows);
		rc = 0;
	}
	struct map *maps[] = { &f.prov, &f.camp, &f.dom, &f.day, &f.types, &f.match, &f.rdom,
	                       &f.rsrc, &f.rrecv };
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		map_free(maps[i], NULL);
	return rc;
}
