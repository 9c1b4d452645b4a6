/*
 * rollup - see rollup.h: the counters of one record, a batch of keys summed
 * in memory, and its upserts (the same SQL text on SQLite and PostgreSQL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rollup.h"

static const char *const counter_names[RC_SPAM] = {
	"messages", "spf_pass", "dkim_pass", "dkim_aligned_pass", "dmarc_pass", "spf_aligned",
	"dkim_aligned", "dmarc_records", "bulk_msgs", "one_click", "tls", "format_ok", "gmail",
	"yahoo", "microsoft", "rcpts", "bytes", "dmarc_fail", "out_msgs", "out_gmail", "out_yahoo",
	"out_microsoft",
};

/* rollup_counter_name - see rollup.h. */
const char *rollup_counter_name(int i)
{
	static const char *const spam[ROLLUP_NSPAM] = { "spam0", "spam1", "spam2", "spam3", "spam4",
	                                                "spam5", "spam6" };
	static const char *const act[] = { "act_accept", "act_quarantine", "act_tempfail",
	                                   "act_reject", "act_discard", "act_junk" };
	_Static_assert(sizeof(act) / sizeof(act[0]) == ROLLUP_NACT, "one column per action");
	if (i >= 0 && i < RC_SPAM)
		return counter_names[i];
	if (i >= RC_SPAM && i < RC_ACT)
		return spam[i - RC_SPAM];
	if (i >= RC_ACT && i < RC_LAST)
		return act[i - RC_ACT];
	return "last";
}

static const char *const table_names[ROLLUP_NTABLES] = {
	"rollup_domain", "rollup_campaign", "rollup_findings" };
/* the key columns after day and direction */
static const char *const key3[ROLLUP_NTABLES] = { "from_domain", "campaign", "from_domain" };
static const char *const key4[ROLLUP_NTABLES] = { "authenticated", "bulk", "finding" };

const char *rollup_table_name(enum rollup_table t) { return table_names[t]; }

_Static_assert(RC_LAST == ROLLUP_V5_COUNTERS - 1, "a new action or spam bucket needs a migration");

/* rollup_ddl - see rollup.h. */
void rollup_ddl(buf *b)
{
	for (int t = 0; t < ROLLUP_NTABLES; t++) {
		buf_printf(b, "CREATE TABLE %s (day BIGINT NOT NULL, direction TEXT NOT NULL, %s TEXT NOT NULL, "
		           "%s %s NOT NULL", table_names[t], key3[t], key4[t],
		           t == ROLLUP_FINDINGS ? "TEXT" : "INTEGER");
		if (t == ROLLUP_FINDINGS)
			buf_puts(b, ", n BIGINT NOT NULL");
		else
			for (int i = 0; i < ROLLUP_V5_COUNTERS; i++)
				buf_printf(b, ", %s BIGINT NOT NULL", rollup_counter_name(i));
		buf_printf(b, ", PRIMARY KEY (day, direction, %s, %s));", key3[t], key4[t]);
	}
}

int rollup_spam_bucket(const struct audit_record *r)
{
	if (!r->has_spam)
		return ROLLUP_NSPAM - 1;
	double s = r->spam_score;
	return s < 0 ? 0 : s < 1 ? 1 : s < 3 ? 2 : s < 5 ? 3 : s < 10 ? 4 : 5;
}

int rollup_authenticated(const struct audit_record *r)
{
	return r->direction == DIR_OUTBOUND || r->dmarc_result == AR_PASS ||
	       r->dmarc_spf_aligned || r->dmarc_dkim_aligned;
}

int64_t rollup_day(int64_t ts)
{
	int64_t m = ts % ROLLUP_DAY;
	return ts - (m < 0 ? m + ROLLUP_DAY : m);
}

/* record_counts - the counters of one record (the report's measures of it,
 * report/aggregate.c measure_add, with n = 1). */
static void record_counts(const struct audit_record *r, uint64_t c[ROLLUP_NCOUNTERS])
{
	memset(c, 0, ROLLUP_NCOUNTERS * sizeof(uint64_t));
	c[RC_MESSAGES] = 1;
	c[RC_SPF_PASS] = r->spf_result == AR_PASS;
	for (size_t i = 0; i < r->nsigs && i < AUDIT_MAX_SIGS; i++)
		if (r->sigs[i].result == AR_PASS) {
			c[RC_DKIM_PASS] = 1;
			c[RC_DKIM_ALIGNED_PASS] |= r->sigs[i].aligned != 0;
		}
	c[RC_DMARC_PASS] = r->dmarc_result == AR_PASS;
	c[RC_SPF_ALIGNED] = r->dmarc_spf_aligned != 0;
	c[RC_DKIM_ALIGNED] = r->dmarc_dkim_aligned != 0;
	c[RC_DMARC_RECORDS] = r->dmarc_policy != DMARC_P_UNSPEC;
	c[RC_BULK] = r->bulk != 0;
	c[RC_ONE_CLICK] = r->bulk && r->unsub_verdict == UNSUB_COMPLIANT;
	c[RC_TLS] = r->tls_version[0] != '\0';
	c[RC_FORMAT_OK] = 1;
	for (size_t i = 0; i < r->nfindings && i < AUDIT_MAX_FINDINGS; i++)
		if (strncmp(r->findings[i], "format.", 7) == 0)
			c[RC_FORMAT_OK] = 0;
	c[RC_GMAIL] = r->gmail_ready != 0;
	c[RC_YAHOO] = r->yahoo_ready != 0;
	c[RC_MICROSOFT] = r->microsoft_ready != 0;
	c[RC_RCPTS] = r->nrcpt;
	c[RC_BYTES] = (uint64_t)(r->size > 0 ? r->size : 0);
	c[RC_DMARC_FAIL] = r->dmarc_result == AR_FAIL;
	if (r->direction == DIR_OUTBOUND) {
		c[RC_OUT_MSGS] = 1;
		c[RC_OUT_GMAIL] = r->rcpt_gmail;
		c[RC_OUT_YAHOO] = r->rcpt_yahoo;
		c[RC_OUT_MICROSOFT] = r->rcpt_microsoft;
	}
	c[RC_SPAM + rollup_spam_bucket(r)] = 1;
	if ((unsigned)r->action_enforced < ROLLUP_NACT)
		c[RC_ACT + r->action_enforced] = 1;
	c[RC_LAST] = (uint64_t)(r->ts > 0 ? r->ts : 0) * 8 + ((unsigned)r->dmarc_policy & 7);
}

const char *const rollup_columns[] = {
	"ts", "direction", "from_domain", "campaign", "spf_result", "dkim", "dmarc_result",
	"dmarc_policy", "dmarc_spf_aligned", "dmarc_dkim_aligned", "bulk", "unsub_verdict",
	"tls_version", "findings", "spam_score", "gmail_ready", "yahoo_ready", "microsoft_ready",
	"action_enforced", "size", "nrcpt", "rcpt_gmail", "rcpt_yahoo", "rcpt_microsoft",
};
const size_t rollup_ncolumns = sizeof(rollup_columns) / sizeof(rollup_columns[0]);
#define NCOLS (sizeof(rollup_columns) / sizeof(rollup_columns[0]))
_Static_assert(NCOLS <= ROLLUP_MAX_COLUMNS, "ROLLUP_MAX_COLUMNS too small");

/* One key of a batch and its sums. */
struct rkey {
	enum rollup_table t;
	int64_t day;
	enum direction dir;
	int flag;                       /* authenticated or bulk */
	char a[AUDIT_DOMAIN_MAX];       /* from_domain or campaign */
	char f[AUDIT_NAME_MAX];         /* finding */
	uint32_t hash;
	uint64_t c[ROLLUP_NCOUNTERS];   /* rollup_findings: c[0] is n */
};

struct rollup_batch {
	struct rkey *e;
	size_t n, cap, max;
	uint32_t *idx;                  /* open addressing: 0 empty, else entry + 1 */
	size_t icap;                    /* a power of two, more than 2 n */
	const struct audit_column *cols[NCOLS];
	struct audit_record *scratch;
	buf *sql[ROLLUP_NTABLES];       /* the upserts */
};

/* upsert_sql - INSERT ... ON CONFLICT (key) DO UPDATE: sums added, last the greater. */
static void upsert_sql(buf *b, enum rollup_table t)
{
	int nc = t == ROLLUP_FINDINGS ? 1 : ROLLUP_NCOUNTERS;
	buf_printf(b, "INSERT INTO %s (day, direction, %s, %s", table_names[t], key3[t], key4[t]);
	for (int i = 0; i < nc; i++)
		buf_printf(b, ", %s", t == ROLLUP_FINDINGS ? "n" : rollup_counter_name(i));
	buf_puts(b, ") VALUES ($1, $2, $3, $4");
	for (int i = 0; i < nc; i++)
		buf_printf(b, ", $%d", i + 5);
	buf_printf(b, ") ON CONFLICT (day, direction, %s, %s) DO UPDATE SET ", key3[t], key4[t]);
	for (int i = 0; i < nc; i++) {
		const char *c = t == ROLLUP_FINDINGS ? "n" : rollup_counter_name(i);
		if (i == RC_LAST && t != ROLLUP_FINDINGS)
			buf_printf(b, ", %s = CASE WHEN excluded.%s > %s.%s THEN excluded.%s ELSE %s.%s END",
			           c, c, table_names[t], c, c, table_names[t], c);
		else
			buf_printf(b, "%s%s = %s.%s + excluded.%s", i ? ", " : "", c, table_names[t], c, c);
	}
}

rollup_batch *rollup_batch_new(size_t max_keys)
{
	rollup_batch *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->max = max_keys ? max_keys : 1;
	b->scratch = malloc(sizeof(*b->scratch));
	int bad = b->scratch == NULL;
	for (size_t i = 0; i < NCOLS; i++)
		bad |= (b->cols[i] = audit_column_named(rollup_columns[i])) == NULL;
	for (int t = 0; t < ROLLUP_NTABLES; t++) {
		b->sql[t] = buf_new(8192);
		if (b->sql[t])
			upsert_sql(b->sql[t], (enum rollup_table)t);
		bad |= b->sql[t] == NULL || buf_overflowed(b->sql[t]);
	}
	if (bad) {
		rollup_batch_free(b);
		return NULL;
	}
	return b;
}

void rollup_batch_free(rollup_batch *b)
{
	if (b == NULL)
		return;
	for (int t = 0; t < ROLLUP_NTABLES; t++)
		buf_free(b->sql[t]);
	free(b->scratch);
	free(b->e);
	free(b->idx);
	free(b);
}

size_t rollup_batch_keys(const rollup_batch *b) { return b->n; }

void rollup_batch_clear(rollup_batch *b)
{
	b->n = 0;
	if (b->idx)
		memset(b->idx, 0, b->icap * sizeof(*b->idx));
}

static uint32_t key_hash(const struct rkey *k)
{
	uint32_t h = fnv1a32(2166136261u, &k->t, sizeof(k->t));
	h = fnv1a32(h, &k->day, sizeof(k->day));
	h = fnv1a32(h, &k->dir, sizeof(k->dir));
	h = fnv1a32(h, &k->flag, sizeof(k->flag));
	h = fnv1a32(h, k->a, strlen(k->a));
	return fnv1a32(h, k->f, strlen(k->f));
}

static int key_eq(const struct rkey *x, const struct rkey *y)
{
	return x->hash == y->hash && x->t == y->t && x->day == y->day && x->dir == y->dir &&
	       x->flag == y->flag && strcmp(x->a, y->a) == 0 && strcmp(x->f, y->f) == 0;
}

/* grow - room for need more keys: entries and a sparse enough index. */
static int grow(rollup_batch *b, size_t need)
{
	if (b->n + need > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		while (nc < b->n + need)
			nc *= 2;
		struct rkey *e = realloc(b->e, nc * sizeof(*e));
		if (e == NULL)
			return -1;
		b->e = e;
		b->cap = nc;
	}
	if ((b->n + need) * 2 < b->icap)
		return 0;
	size_t ic = b->icap ? b->icap * 2 : 256;
	while ((b->n + need) * 2 >= ic)
		ic *= 2;
	uint32_t *idx = calloc(ic, sizeof(*idx));
	if (idx == NULL)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		size_t s = b->e[i].hash & (ic - 1);
		while (idx[s])
			s = (s + 1) & (ic - 1);
		idx[s] = (uint32_t)i + 1;
	}
	free(b->idx);
	b->idx = idx;
	b->icap = ic;
	return 0;
}

/* lookup - the entry of key k, NULL when absent. */
static struct rkey *lookup(rollup_batch *b, const struct rkey *k)
{
	if (b->icap == 0)
		return NULL;
	for (size_t s = k->hash & (b->icap - 1); b->idx[s]; s = (s + 1) & (b->icap - 1))
		if (key_eq(&b->e[b->idx[s] - 1], k))
			return &b->e[b->idx[s] - 1];
	return NULL;
}

/* add_key - counters c into key k (inserted when new; the room is checked before). */
static void add_key(rollup_batch *b, struct rkey *k, const uint64_t *c, int nc)
{
	k->hash = key_hash(k);
	struct rkey *e = lookup(b, k);
	if (e == NULL) {
		e = &b->e[b->n];
		memcpy(e, k, offsetof(struct rkey, c));
		memset(e->c, 0, sizeof(e->c));
		size_t s = k->hash & (b->icap - 1);
		while (b->idx[s])
			s = (s + 1) & (b->icap - 1);
		b->idx[s] = (uint32_t)++b->n;
	}
	for (int i = 0; i < nc; i++)
		if (i == RC_LAST)
			e->c[i] = c[i] > e->c[i] ? c[i] : e->c[i];
		else
			e->c[i] += c[i];
}

/* rollup_batch_add - see rollup.h: room for the record's every key first. */
int rollup_batch_add(rollup_batch *b, const struct audit_record *r)
{
	size_t nf = r->nfindings < AUDIT_MAX_FINDINGS ? r->nfindings : AUDIT_MAX_FINDINGS;
	if (b->n + 2 + nf > b->max)
		return -1;
	if (grow(b, 2 + nf) < 0)
		return -1;
	uint64_t c[ROLLUP_NCOUNTERS];
	record_counts(r, c);
	struct rkey k;
	memset(&k, 0, offsetof(struct rkey, c));
	k.day = rollup_day(r->ts);
	k.dir = r->direction;
	k.t = ROLLUP_DOMAIN;
	k.flag = rollup_authenticated(r);
	str_copy(k.a, sizeof(k.a), r->from_domain, strnlen(r->from_domain, sizeof(r->from_domain)));
	add_key(b, &k, c, ROLLUP_NCOUNTERS);
	k.t = ROLLUP_CAMPAIGN;
	k.flag = r->bulk != 0;
	str_copy(k.a, sizeof(k.a), r->campaign, strnlen(r->campaign, sizeof(r->campaign)));
	add_key(b, &k, c, ROLLUP_NCOUNTERS);
	k.t = ROLLUP_FINDINGS;
	k.flag = 0;
	str_copy(k.a, sizeof(k.a), r->from_domain, strnlen(r->from_domain, sizeof(r->from_domain)));
	uint64_t one = 1;
	for (size_t i = 0; i < nf; i++) {
		str_copy(k.f, sizeof(k.f), r->findings[i], strnlen(r->findings[i], AUDIT_NAME_MAX));
		add_key(b, &k, &one, 1);
	}
	return 0;
}

int rollup_batch_add_cols(rollup_batch *b, const char *const *vals)
{
	struct audit_record *r = b->scratch;
	memset(r, 0, offsetof(struct audit_record, findings));
	r->nfindings = 0;
	for (size_t i = 0; i < NCOLS; i++)
		audit_column_parse(b->cols[i], r, vals[i]);
	return rollup_batch_add(b, r);
}

/* write_key - the upsert of one key. */
static int write_key(rollup_batch *b, const struct rkey *k, rollup_exec_fn exec, void *arg,
                     char *err, size_t errlen)
{
	char num[ROLLUP_NCOUNTERS + 1][24];
	const char *p[4 + ROLLUP_NCOUNTERS];
	int nc = k->t == ROLLUP_FINDINGS ? 1 : ROLLUP_NCOUNTERS;
	snprintf(num[ROLLUP_NCOUNTERS], sizeof(num[0]), "%lld", (long long)k->day);
	p[0] = num[ROLLUP_NCOUNTERS];
	p[1] = audit_enum_name(&audit_enum_direction, (int)k->dir);
	p[2] = k->a;
	p[3] = k->t == ROLLUP_FINDINGS ? k->f : k->flag ? "1" : "0";
	for (int i = 0; i < nc; i++) {
		snprintf(num[i], sizeof(num[i]), "%llu", (unsigned long long)k->c[i]);
		p[4 + i] = num[i];
	}
	return exec(arg, buf_data(b->sql[k->t]), p, 4 + nc, err, errlen);
}

/* key_cmp - table, day, direction, key columns: every writer upserts in the
 * same order, so concurrent writers of one PostgreSQL store wait for each
 * other instead of deadlocking. */
static int key_cmp(const void *x, const void *y)
{
	const struct rkey *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	int c = strcmp(a->a, b->a);
	if (c)
		return c;
	if (a->flag != b->flag)
		return a->flag < b->flag ? -1 : 1;
	return strcmp(a->f, b->f);
}

int rollup_batch_write(rollup_batch *b, rollup_exec_fn exec, void *arg, char *err, size_t errlen)
{
	int rc = 0;
	if (b->n > 1)
		qsort(b->e, b->n, sizeof(*b->e), key_cmp);
	for (size_t i = 0; i < b->n && rc == 0; i++)
		rc = write_key(b, &b->e[i], exec, arg, err, errlen);
	rollup_batch_clear(b);
	return rc;
}
