/*
 * audit - the column table of the audit record and the text form of every
 * column (see audit.h): what the store writes and reads back. No I/O.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "buf.h"

/* ---- enums ---------------------------------------------------------------- */

/* the enum fields are read and written through int */
_Static_assert(sizeof(enum auth_result) == sizeof(int), "enum auth_result is int-sized");
_Static_assert(sizeof(enum verdict_action) == sizeof(int), "enum verdict_action is int-sized");
_Static_assert(sizeof(enum direction) == sizeof(int), "enum direction is int-sized");
_Static_assert(sizeof(enum dmarc_policy) == sizeof(int), "enum dmarc_policy is int-sized");
_Static_assert(sizeof(enum unsub_verdict) == sizeof(int), "enum unsub_verdict is int-sized");
_Static_assert(sizeof(enum dmarc_mode) == sizeof(int), "enum dmarc_mode is int-sized");

/* Adapters from int to each module's own name function (no copies of the
 * names): the record keeps the enums, the database their names. */
static const char *n_result(int v) { return result_name((enum auth_result)v); }
static const char *n_action(int v) { return verdict_action_name((enum verdict_action)v); }
static const char *n_direction(int v) { return session_direction_name((enum direction)v); }
static const char *n_discovery(int v) { return dmarc_mode_discovery_name((enum dmarc_mode)v); }
static const char *n_unsub(int v) { return unsub_verdict_name((enum unsub_verdict)v); }
/* n_policy - a policy that was not published or does not apply is "". */
static const char *n_policy(int v)
{
	return v == DMARC_P_UNSPEC ? "" : dmarc_policy_name((enum dmarc_policy)v);
}

const struct audit_enum audit_enum_result = { n_result, AR_POLICY + 1 };
const struct audit_enum audit_enum_action = { n_action, ACT_LAST + 1 };
const struct audit_enum audit_enum_direction = { n_direction, DIR_OUTBOUND + 1 };
const struct audit_enum audit_enum_dmarc_policy = { n_policy, DMARC_P_REJECT + 1 };
const struct audit_enum audit_enum_unsub = { n_unsub, UNSUB_NONCOMPLIANT + 1 };
const struct audit_enum audit_enum_discovery = { n_discovery, DMARC_MODE_RFC7489 + 1 };

const char *audit_enum_name(const struct audit_enum *e, int v)
{
	return v >= 0 && v < e->count ? e->name(v) : "";
}

int audit_enum_parse(const struct audit_enum *e, const char *s)
{
	for (int v = 0; v < e->count; v++)
		if (strcmp(e->name(v), s) == 0)
			return v;
	return 0;
}

/* ---- the column table ----------------------------------------------------- */

#define OFF(f) offsetof(struct audit_record, f)
#define T_TEXT "TEXT NOT NULL"
#define T_INT "INTEGER NOT NULL"
#define T_BIG "BIGINT NOT NULL"
/* one row per kind of column; since: the schema version that added it */
#define TEXT(col, f, v) { col, T_TEXT, AUDIT_TEXT, OFF(f), sizeof(((struct audit_record *)0)->f), 0, NULL, v }
#define ENUM(col, f, e, v) { col, T_TEXT, AUDIT_ENUM, OFF(f), 0, 0, &(e), v }
#define BOOL(col, f, v) { col, T_INT, AUDIT_BOOL, OFF(f), 0, 0, NULL, v }
#define LIST(col, f, n, v) { col, T_TEXT, AUDIT_LIST, OFF(f), \
	sizeof(((struct audit_record *)0)->f) / AUDIT_NAME_MAX, OFF(n), NULL, v }

/* The messages table. Adding a column: one line here (since = the new
 * schema version) and a migration in store.c; see docs/ARCHITECTURE.md. */
const struct audit_column audit_columns[] = {
	{ "ts", T_BIG, AUDIT_INT64, OFF(ts), 0, 0, NULL, 1 },
	TEXT("host", host, 1),
	TEXT("queue_id", queue_id, 1),
	ENUM("direction", direction, audit_enum_direction, 1),
	TEXT("client_ip", client_ip, 1),
	TEXT("helo", helo, 1),
	TEXT("mail_from_domain", mail_from_domain, 1),
	TEXT("from_domain", from_domain, 1),
	ENUM("spf_result", spf_result, audit_enum_result, 1),
	TEXT("spf_domain", spf_domain, 1),
	{ "dkim", T_TEXT, AUDIT_SIGS, OFF(sigs), 0, OFF(nsigs), NULL, 1 },
	ENUM("dmarc_result", dmarc_result, audit_enum_result, 1),
	ENUM("dmarc_policy", dmarc_policy, audit_enum_dmarc_policy, 1),
	ENUM("dmarc_disposition", dmarc_disposition, audit_enum_dmarc_policy, 1),
	TEXT("dmarc_policy_domain", dmarc_policy_domain, 1),
	BOOL("dmarc_spf_aligned", dmarc_spf_aligned, 1),
	BOOL("dmarc_dkim_aligned", dmarc_dkim_aligned, 1),
	ENUM("dmarc_p", dmarc_p, audit_enum_dmarc_policy, 1),
	ENUM("dmarc_sp", dmarc_sp, audit_enum_dmarc_policy, 1),
	ENUM("dmarc_np", dmarc_np, audit_enum_dmarc_policy, 1),
	TEXT("dmarc_adkim", dmarc_adkim, 1),
	TEXT("dmarc_aspf", dmarc_aspf, 1),
	TEXT("dmarc_testing", dmarc_testing, 1),
	ENUM("dmarc_discovery", dmarc_discovery, audit_enum_discovery, 1),
	TEXT("dmarc_rua", dmarc_rua, 1),
	ENUM("unsub_verdict", unsub_verdict, audit_enum_unsub, 1),
	LIST("unsub_findings", unsub_findings, nunsub_findings, 1),
	BOOL("bulk", bulk, 1),
	TEXT("campaign", campaign, 1),
	{ "spam_score", "DOUBLE PRECISION", AUDIT_SCORE, OFF(spam_score), 0, OFF(has_spam), NULL, 1 },
	LIST("spam_signals", signals, nsignals, 1),
	TEXT("tls_version", tls_version, 1),
	ENUM("action", action, audit_enum_action, 1),
	ENUM("action_enforced", action_enforced, audit_enum_action, 1),
	BOOL("gmail_ready", gmail_ready, 1),
	BOOL("yahoo_ready", yahoo_ready, 1),
	BOOL("microsoft_ready", microsoft_ready, 1),
	{ "size", T_BIG, AUDIT_INT64, OFF(size), 0, 0, NULL, 1 },
	{ "nrcpt", T_INT, AUDIT_UINT, OFF(nrcpt), 0, 0, NULL, 1 },
	LIST("findings", findings, nfindings, 1),
	TEXT("message_id", message_id, 3),
	{ "rcpt_gmail", T_INT, AUDIT_UINT, OFF(rcpt_gmail), 0, 0, NULL, 3 },
	{ "rcpt_yahoo", T_INT, AUDIT_UINT, OFF(rcpt_yahoo), 0, 0, NULL, 3 },
	{ "rcpt_microsoft", T_INT, AUDIT_UINT, OFF(rcpt_microsoft), 0, 0, NULL, 3 },
	{ "rcpt_other", T_INT, AUDIT_UINT, OFF(rcpt_other), 0, 0, NULL, 3 },
	ENUM("arc", arc, audit_enum_result, 4),
	TEXT("arc_override", arc_override, 4),
	{ "arc_sealed", T_INT, AUDIT_UINT, OFF(arc_sealed), 0, 0, NULL, 6 },
};
const size_t audit_ncolumns = sizeof(audit_columns) / sizeof(audit_columns[0]);
_Static_assert(sizeof(audit_columns) / sizeof(audit_columns[0]) <= AUDIT_MAX_COLUMNS,
               "AUDIT_MAX_COLUMNS too small");

/* field - the address of column c's field in r. */
#define FIELD(r, c) ((const char *)(r) + (c)->off)
#define WFIELD(r, c) ((char *)(r) + (c)->off)

/* get_int, get_size - an int or size_t member at offset off. */
static int get_int(const struct audit_record *r, size_t off)
{
	int v;
	memcpy(&v, (const char *)r + off, sizeof(v));
	return v;
}

static size_t get_size(const struct audit_record *r, size_t off)
{
	size_t v;
	memcpy(&v, (const char *)r + off, sizeof(v));
	return v;
}

const char *audit_column_text(const struct audit_column *c, const struct audit_record *r,
                              char *tmp, size_t tmpsz)
{
	int64_t i64;
	unsigned u;
	double d;
	switch (c->kind) {
	case AUDIT_TEXT:
		return FIELD(r, c);
	case AUDIT_ENUM:
		return audit_enum_name(c->en, get_int(r, c->off));
	case AUDIT_BOOL:
		return get_int(r, c->off) ? "1" : "0";
	case AUDIT_INT64:
		memcpy(&i64, FIELD(r, c), sizeof(i64));
		snprintf(tmp, tmpsz, "%lld", (long long)i64);
		return tmp;
	case AUDIT_UINT:
		memcpy(&u, FIELD(r, c), sizeof(u));
		snprintf(tmp, tmpsz, "%u", u);
		return tmp;
	case AUDIT_SCORE:
		if (!get_int(r, c->aux))
			return NULL;
		memcpy(&d, FIELD(r, c), sizeof(d));
		snprintf(tmp, tmpsz, "%.17g", d);
		return tmp;
	case AUDIT_LIST:
		audit_list_text((char (*)[AUDIT_NAME_MAX])FIELD(r, c), get_size(r, c->aux), tmp, tmpsz);
		return tmp;
	case AUDIT_SIGS:
		audit_sigs_text(r, tmp, tmpsz);
		return tmp;
	}
	return "";
}

size_t audit_column_max(const struct audit_column *c)
{
	switch (c->kind) {
	case AUDIT_TEXT:
		return c->size - 1;
	case AUDIT_LIST:
	case AUDIT_SIGS:
		return AUDIT_TEXT_MAX - 1;
	default:
		return 31;      /* a name of an enum, a number, "%.17g" */
	}
}

void audit_column_parse(const struct audit_column *c, struct audit_record *r, const char *text)
{
	const char *t = text ? text : "";
	int iv;
	unsigned u;
	int64_t i64;
	double d;
	size_t n;
	switch (c->kind) {
	case AUDIT_TEXT:
		str_copy(WFIELD(r, c), c->size, t, strlen(t));
		break;
	case AUDIT_ENUM:
	case AUDIT_BOOL:
		iv = c->kind == AUDIT_ENUM ? audit_enum_parse(c->en, t) : atoi(t);
		memcpy(WFIELD(r, c), &iv, sizeof(iv));
		break;
	case AUDIT_UINT:
		u = (unsigned)strtoul(t, NULL, 10);
		memcpy(WFIELD(r, c), &u, sizeof(u));
		break;
	case AUDIT_INT64:
		i64 = strtoll(t, NULL, 10);
		memcpy(WFIELD(r, c), &i64, sizeof(i64));
		break;
	case AUDIT_SCORE:
		iv = text != NULL;
		d = text ? strtod(text, NULL) : 0;
		memcpy(WFIELD(r, c), &d, sizeof(d));
		memcpy((char *)r + c->aux, &iv, sizeof(iv));
		break;
	case AUDIT_LIST:
		n = audit_list_parse(t, (char (*)[AUDIT_NAME_MAX])WFIELD(r, c), c->size);
		memcpy((char *)r + c->aux, &n, sizeof(n));
		break;
	case AUDIT_SIGS:
		audit_sigs_parse(t, r);
		break;
	}
}

/* audit_list_text - items joined by single spaces. */
void audit_list_text(char (*items)[AUDIT_NAME_MAX], size_t n, char *out, size_t outsz)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + off, outsz - off, "%s%s", off ? " " : "", items[i]);
		if (w < 0 || (size_t)w >= outsz - off) {
			out[off] = '\0';     /* whole items only: never a cut name */
			return;
		}
		off += (size_t)w;
	}
}

/* audit_list_parse - split on spaces into at most max items. */
size_t audit_list_parse(const char *text, char (*items)[AUDIT_NAME_MAX], size_t max)
{
	size_t n = 0;
	const char *p = text ? text : "";
	while (*p && n < max) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == 0)
			break;
		str_copy(items[n++], AUDIT_NAME_MAX, p, l);
		p += l;
	}
	return n;
}

/* audit_sigs_text - "result:d:s:flags ..." */
void audit_sigs_text(const struct audit_record *r, char *out, size_t outsz)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->nsigs; i++) {
		const struct audit_sig *a = &r->sigs[i];
		int w = snprintf(out + off, outsz - off, "%s%s:%s:%s:%s%s%s", off ? " " : "",
		                 audit_enum_name(&audit_enum_result, (int)a->result),
		                 a->domain, a->selector, a->aligned ? "a" : "", a->covers_unsub ? "u" : "",
		                 a->aligned || a->covers_unsub ? "" : "-");
		if (w < 0 || (size_t)w >= outsz - off) {
			out[off] = '\0';
			return;
		}
		off += (size_t)w;
	}
}

/* audit_sigs_parse - back into r->sigs (fields cut at the arrays' sizes). */
void audit_sigs_parse(const char *text, struct audit_record *r)
{
	r->nsigs = 0;
	const char *p = text ? text : "";
	while (*p && r->nsigs < AUDIT_MAX_SIGS) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == 0)
			break;
		const char *f[4] = { p, NULL, NULL, NULL };
		size_t fl[4] = { 0 };
		int k = 0;
		for (size_t i = 0; i < l && k < 4; i++)
			if (p[i] == ':' && k < 3)
				f[++k] = p + i + 1;
		if (k == 3) {
			fl[0] = (size_t)(f[1] - f[0] - 1);
			fl[1] = (size_t)(f[2] - f[1] - 1);
			fl[2] = (size_t)(f[3] - f[2] - 1);
			fl[3] = (size_t)(p + l - f[3]);
			struct audit_sig *a = &r->sigs[r->nsigs++];
			memset(a, 0, sizeof(*a));
			char word[16];
			str_copy(word, sizeof(word), f[0], fl[0]);
			a->result = (enum auth_result)audit_enum_parse(&audit_enum_result, word);
			str_copy(a->domain, sizeof(a->domain), f[1], fl[1]);
			str_copy(a->selector, sizeof(a->selector), f[2], fl[2]);
			a->aligned = memchr(f[3], 'a', fl[3]) != NULL;
			a->covers_unsub = memchr(f[3], 'u', fl[3]) != NULL;
		}
		p += l;
	}
}

const struct audit_column *audit_column_named(const char *name)
{
	for (size_t i = 0; i < audit_ncolumns; i++)
		if (strcmp(audit_columns[i].name, name) == 0)
			return &audit_columns[i];
	return NULL;
}
