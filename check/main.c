/*
 * trustmilter-check - run the policy core on message files, no MTA needed.
 *
 * Each file (or "-" for standard input) holds one RFC 5322 message or an
 * mbox; every message is fed through exactly the session events the milter
 * sees (connect, helo, mail, rcpt, headers, end of headers, body in CRLF
 * wire form, end of message). Output: a human report, or one JSON object per
 * message per line (--json). Exit status: 0 every message without findings,
 * 1 some message has findings, 2 usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <errno.h>
#include "session.h"
#include "buf.h"
#include "store.h"
#include "findings.h"
#include "received.h"
#include "keys.h"

#define INPUT_MAX (256u * 1024 * 1024)  /* one input file; a bigger mbox should be split */
#define BODY_CHUNK 65536                /* like an MTA's body chunks */
#define RCPT_MAX 1000
#define TALLY_MAX 256                   /* distinct names counted in the summary; more: "(other)" */
#define SUBJECT_SHOWN 100               /* bytes of Subject in a message's label */
#define RECEIVED_FIELD_MAX 8192         /* one Received: field read by --from-received */

/* A count per name, for the campaign summary. */
struct tally_entry {
	char name[FINDING_NAME_MAX];
	size_t count;
};
struct tally {
	size_t n, other;
	struct tally_entry e[TALLY_MAX];
};

/* What an mbox or several files add up to. */
struct summary {
	size_t messages;
	struct tally actions, findings, providers[3];
};

struct opts {
	const char *client_ip, *helo, *mail_from, *direction;
	const char *rcpt[RCPT_MAX];
	size_t nrcpt;
	const char *macros[32];       /* "NAME=VALUE" as the MTA would send them */
	size_t nmacros;
	int json, quiet;
	int from_received;            /* client IP and HELO from the topmost Received: */
	int summary;                  /* --summary: also for one message, and in JSON */
	int keys;                     /* --keys: check every signing key against DNS */
	int sign;                     /* --sign: print the message with its new DKIM-Signature fields */
	int seal;                     /* --seal: print the message with its new ARC set (arc.seal_key) */
};

/* usage - print help to f. */
static void usage(FILE *f)
{
	fputs("usage: trustmilter-check [options] FILE...   (\"-\" reads standard input)\n"
	      "  -c, --config FILE      configuration file (same as the daemon's)\n"
	      "      --client-ip IP     SMTP client address (SPF); none: SPF is not checked\n"
	      "      --helo NAME        HELO/EHLO name\n"
	      "      --from-received    client IP and HELO from the topmost Received: field with a\n"
	      "                         client (added by your own provider to a saved test send)\n"
	      "      --mail-from ADDR   envelope sender; default: Return-Path, then the mbox From_ line\n"
	      "      --rcpt ADDR        envelope recipient (repeatable)\n"
	      "      --direction D      inbound (default) or outbound\n"
	      "      --macro NAME=VALUE an MTA macro, e.g. tls_version=TLSv1.3, i=QUEUEID\n"
	      "      --dns IP[@PORT]    DNS server to use (repeatable; overrides dns.forwarders)\n"
	      "      --dns-timeout MS   per-query DNS deadline in milliseconds\n"
	      "      --authserv-id ID   authserv-id for Authentication-Results\n"
	      "      --dmarc-mode M     rfc9989 (default) or rfc7489\n"
	      "      --set KEY=VALUE    override any configuration key\n"
	      "      --json             one JSON object per message per line (docs/JSON.md)\n"
	      "      --sign             sign as outbound mail (sign.* keys) and print each message\n"
	      "                         with its new DKIM-Signature fields instead of a report\n"
	      "      --seal             add an ARC set (arc.seal_key) to each message and print it\n"
	      "                         with its new fields (with --sign: and DKIM-Signature)\n"
	      "      --keys             check every signing key against its selector's TXT record\n"
	      "                         (matching, different, missing + record to publish,\n"
	      "                         too-short, revoked, t=y); no FILE needed\n"
	      "      --record URI       also write each message's audit record to a store\n"
	      "                         (sqlite:PATH, a plain PATH, or postgresql://...)\n"
	      "      --summary          campaign summary also for one message, and in JSON (last line)\n"
	      "      --print-config     print the annotated example configuration\n"
	      "      --print-findings   print every finding with its meaning and fix (Markdown rows)\n"
	      "  -q, --quiet            no output, exit status only\n"
	      "  -V, --version          print the version\n"
	      "exit status: 0 no findings, 1 findings, 2 usage or I/O error\n", f);
}

/* read_all - whole file or stdin, capped. NULL with errno-style message. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "trustmilter-check: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf *b = buf_new(INPUT_MAX);
	char tmp[65536];
	size_t n;
	while (b && (n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_append(b, tmp, n) < 0)
			break;
	int bad = b == NULL || buf_overflowed(b) || ferror(f);
	if (bad)
		fprintf(stderr, "trustmilter-check: %s: %s\n", path,
		        b && buf_overflowed(b) ? "larger than 256 MiB" : "read error");
	if (f != stdin)
		fclose(f);
	if (bad) {
		buf_free(b);
		return NULL;
	}
	*len = buf_len(b);
	return buf_steal(b);
}

/* line_end - end of the line starting at p (index of '\n' or n), and the content length. */
static size_t next_line(const char *p, size_t n, size_t *content)
{
	const char *nl = memchr(p, '\n', n);
	size_t end = nl ? (size_t)(nl - p) : n;
	*content = end > 0 && p[end - 1] == '\r' ? end - 1 : end;
	return nl ? end + 1 : n;
}

/* feed_header - one field: name up to the colon, raw value with CRLF folds. */
static void feed_header(session *s, buf *field)
{
	const char *p = buf_data(field);
	size_t n = buf_len(field);
	const char *colon = memchr(p, ':', n);
	size_t nl = (size_t)(colon - p);
	while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
		nl--;
	session_header(s, p, nl, colon + 1, n - (size_t)(colon + 1 - p));
}

/* feed_body - body lines in CRLF wire form, in chunks. */
static void feed_body(session *s, const char *p, size_t n, buf *chunk)
{
	size_t off = 0, c;
	buf_reset(chunk);
	while (off < n) {
		size_t adv = next_line(p + off, n - off, &c);
		buf_append(chunk, p + off, c);
		if (adv > c || off + adv < n)
			buf_append(chunk, "\r\n", 2);
		off += adv;
		if (buf_len(chunk) >= BODY_CHUNK) {
			session_body(s, (const unsigned char *)buf_data(chunk), buf_len(chunk));
			buf_reset(chunk);
		}
	}
	if (buf_len(chunk))
		session_body(s, (const unsigned char *)buf_data(chunk), buf_len(chunk));
}

/* return_path - the Return-Path value as a path, for a default MAIL FROM. */
static int return_path(const char *p, size_t n, char *out, size_t outsz)
{
	size_t off = 0, c;
	while (off < n) {
		size_t adv = next_line(p + off, n - off, &c);
		if (c == 0)
			break;
		if (c > 12 && strncasecmp(p + off, "Return-Path:", 12) == 0) {
			const char *v = p + off + 12;
			size_t vl = c - 12;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			return str_copy(out, outsz, v, vl) == 0 ? 1 : 0;
		}
		off += adv;
	}
	return 0;
}

/* tally_add - one more of name. */
static void tally_add(struct tally *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0) {
			t->e[i].count++;
			return;
		}
	if (t->n == TALLY_MAX) {
		t->other++;
		return;
	}
	str_copy(t->e[t->n].name, sizeof(t->e[0].name), name, strlen(name));
	t->e[t->n++].count = 1;
}

/* header_field - the unfolded value of the first field named name (no colon)
 * in the header section, printable, cut to outsz - 1 bytes; 0 if absent. */
static int header_field(const char *p, size_t n, const char *name, char *out, size_t outsz)
{
	size_t off = 0, c, nl = strlen(name);
	while (off < n) {
		size_t adv = next_line(p + off, n - off, &c);
		if (c == 0)
			return 0;
		if (c > nl && p[off + nl] == ':' && strncasecmp(p + off, name, nl) == 0) {
			char tmp[RECEIVED_FIELD_MAX];
			size_t k = 0;
			const char *v = p + off + nl + 1;
			size_t vl = c - nl - 1;
			for (;;) {                      /* the value and its continuation lines */
				for (size_t i = 0; i < vl && k < sizeof(tmp) - 1; i++)
					tmp[k++] = v[i] == '\t' ? ' ' : v[i];
				off += adv;
				if (off >= n || (p[off] != ' ' && p[off] != '\t'))
					break;
				adv = next_line(p + off, n - off, &c);
				v = p + off;
				vl = c;
			}
			size_t a = 0;
			while (a < k && tmp[a] == ' ')
				a++;
			str_printable(out, outsz, tmp + a, k - a);
			return 1;
		}
		off += adv;
	}
	return 0;
}

/* from_received - --from-received: the topmost Received: field that names a
 * client ("from NAME (... [IP])"). That is the field the receiving side (the
 * recipient's own provider) added when it took the message in; fields above
 * it without a from clause are its internal hops, and the fields below were
 * written by servers before it, which the sender controls: never read. */
static int from_received(const char *p, size_t n, struct received *rc)
{
	size_t off = 0, c;
	while (off < n) {
		size_t adv = next_line(p + off, n - off, &c);
		if (c == 0)
			break;
		if (c > 9 && strncasecmp(p + off, "Received:", 9) == 0) {
			char v[RECEIVED_FIELD_MAX];
			if (header_field(p + off, n - off, "Received", v, sizeof(v)) &&
			    received_parse(v, strlen(v), rc) == 0)
				return 0;
		}
		off += adv;
	}
	memset(rc, 0, sizeof(*rc));
	return -1;
}

/* summary_add - one checked message into the campaign summary. */
static void summary_add(struct summary *sum, const session *s, const struct verdict *v)
{
	sum->messages++;
	tally_add(&sum->actions, verdict_action_name(v->decided));
	for (size_t i = 0; i < session_finding_count(s); i++)
		tally_add(&sum->findings, session_finding_name(s, i));
	for (int i = 0; i < 3; i++)
		tally_add(&sum->providers[i], session_readiness(s, i));
}

/* put_signed - --sign, --seal: the DKIM-Signature and ARC fields the
 * verdict adds, in its order and the line ends of the message (CRLF when
 * its first line has one), then the message unchanged. */
static void put_signed(const struct verdict *v, const char *p, size_t n, buf *out)
{
	const char *nl = memchr(p, '\n', n);
	int crlf = nl && nl > p && nl[-1] == '\r';
	for (size_t i = 0; i < v->nadd; i++) {
		if (strcmp(v->add[i].name, "DKIM-Signature") != 0 && strncmp(v->add[i].name, "ARC-", 4) != 0)
			continue;
		buf_printf(out, "%s: ", v->add[i].name);
		for (const char *c = v->add[i].value; *c; c++)
			if (!(c[0] == '\r' && c[1] == '\n'))
				buf_puts(out, c[0] == '\n' && crlf ? "\r\n" : (char[]){ c[0], 0 });
		buf_puts(out, crlf ? "\r\n" : "\n");
	}
	buf_append(out, p, n);
}

/* check_message - drive one session over one message. Returns the number of findings. */
static int check_message(tm_env *env, const struct opts *o, const char *file, size_t index,
                         const char *p, size_t n, const char *envfrom, buf *out, struct summary *sum)
{
	session *s = session_new(env);
	buf *field = buf_new(16u * 1024 * 1024), *chunk = buf_new(BODY_CHUNK + 4096);
	if (s == NULL || field == NULL || chunk == NULL) {
		fprintf(stderr, "trustmilter-check: out of memory\n");
		exit(2);
	}
	session_set_source(s, file, index);
	session_set_direction(s, o->sign || (o->direction && strcmp(o->direction, "outbound") == 0)
	                      ? DIR_OUTBOUND : DIR_INBOUND, "command line");
	session_set_seal(s, o->seal);
	struct received rc = { 0 };
	const char *ip = o->client_ip, *helo = o->helo;
	if (o->from_received) {
		if (from_received(p, n, &rc) == 0) {
			ip = ip ? ip : rc.ip;
			helo = helo ? helo : rc.helo;
		} else {
			fprintf(stderr, "trustmilter-check: %s%s%.0zu: no Received: field with a client address;"
			        " SPF is not checked\n", file, index ? " #" : "", index);
		}
	}
	session_connect(s, "unknown", ip);
	for (size_t i = 0; i < o->nmacros; i++) {
		char name[64];
		const char *eq = strchr(o->macros[i], '=');
		if (eq && str_copy(name, sizeof(name), o->macros[i], (size_t)(eq - o->macros[i])) == 0)
			session_set_macro(s, name, eq + 1);
	}
	session_helo(s, helo ? helo : "");
	char rp[512] = "";
	const char *mf = o->mail_from;
	if (mf == NULL && return_path(p, n, rp, sizeof(rp)))
		mf = rp;
	if (mf == NULL)
		mf = envfrom ? envfrom : "<>";
	session_mail(s, mf);
	for (size_t i = 0; i < o->nrcpt; i++)
		session_rcpt(s, o->rcpt[i]);
	size_t off = 0, c;
	int in_field = 0;
	while (off < n) {
		size_t adv = next_line(p + off, n - off, &c);
		const char *line = p + off;
		if (c == 0) {                       /* end of the header section */
			off += adv;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && in_field) {
			buf_append(field, "\r\n", 2);
			buf_append(field, line, c);
		} else if (memchr(line, ':', c) && line[0] != ':') {
			if (in_field)
				feed_header(s, field);
			buf_reset(field);
			buf_append(field, line, c);
			in_field = 1;
		} else {                            /* not a header: the body starts here */
			session_add_finding(s, "format.header_syntax",
			                    "a line in the header section is not a header field");
			break;
		}
		off += adv;
	}
	if (in_field)
		feed_header(s, field);
	if (off == 0 && n == 0)
		session_add_finding(s, "format.empty_message", "the message is empty");
	session_eoh(s);
	feed_body(s, p + off, n - off, chunk);
	const struct verdict *v = session_eom(s);
	summary_add(sum, s, v);
	if (o->sign || o->seal) {
		put_signed(v, p, n, out);
	} else if (o->json) {
		session_report_json(s, out);
		buf_putc(out, '\n');
	} else {
		char subj[SUBJECT_SHOWN + 1] = "";
		header_field(p, n, "Subject", subj, sizeof(subj));
		if (index)
			buf_printf(out, "== %s #%zu: %s\n", file, index, subj[0] ? subj : "(no Subject)");
		else
			buf_printf(out, "== %s: %s\n", file, subj[0] ? subj : "(no Subject)");
		session_report_text(s, out);
		buf_putc(out, '\n');
	}
	buf *tmp = buf_new(1 << 20);
	int nf = 0;
	if (tmp) {
		session_log_line(s, tmp);
		const char *fl = strstr(buf_data(tmp), " findings=");
		nf = fl && strncmp(fl + 10, "none", 4) != 0;
		buf_free(tmp);
	}
	buf_free(field);
	buf_free(chunk);
	session_free(s);
	return nf;
}

/* xbuf_new - buf_new, or exit 2 when memory is exhausted. */
static buf *xbuf_new(size_t cap)
{
	buf *b = buf_new(cap);
	if (b == NULL) {
		fprintf(stderr, "trustmilter-check: out of memory\n");
		exit(2);
	}
	return b;
}

/* is_from_line - an mbox separator "From " at the start of a line. */
static int is_from_line(const char *p, size_t n) { return n >= 5 && memcmp(p, "From ", 5) == 0; }

/* check_file - one message, or every message of an mbox. */
static int check_file(tm_env *env, const struct opts *o, const char *path, int *any_findings,
                      struct summary *sum)
{
	size_t n;
	char *data = read_all(path, &n);
	if (data == NULL)
		return -1;
	buf *out = xbuf_new(64u * 1024 * 1024);
	if (!is_from_line(data, n)) {
		*any_findings |= check_message(env, o, path, 0, data, n, NULL, out, sum);
	} else {
		/* mbox: split at "From " lines; unquote ">From " (mboxrd) into a copy */
		size_t off = 0, idx = 0;
		buf *msg = xbuf_new(INPUT_MAX);
		while (off < n) {
			size_t c, adv = next_line(data + off, n - off, &c);
			char envfrom[512] = "";
			const char *sp = memchr(data + off + 5, ' ', c > 5 ? c - 5 : 0);
			str_copy(envfrom, sizeof(envfrom), data + off + 5,
			         sp ? (size_t)(sp - data - off - 5) : (c > 5 ? c - 5 : 0));
			off += adv;
			buf_reset(msg);
			while (off < n) {
				adv = next_line(data + off, n - off, &c);
				if (is_from_line(data + off, c))
					break;
				const char *l = data + off;
				size_t len = adv, q = 0;
				while (q < c && l[q] == '>')
					q++;
				if (q && is_from_line(l + q, c - q))
					l++, len--;         /* mboxrd: one level of quoting less */
				buf_append(msg, l, len);
				off += adv;
			}
			/* the blank line before the next From_ belongs to the separator */
			size_t ml = buf_len(msg);
			if (ml >= 2 && memcmp(buf_data(msg) + ml - 2, "\n\n", 2) == 0)
				buf_truncate(msg, ml - 1);
			*any_findings |= check_message(env, o, path, ++idx, buf_data(msg), buf_len(msg),
			                               envfrom, out, sum);
		}
		buf_free(msg);
	}
	if (!o->quiet)
		fwrite(buf_data(out), 1, buf_len(out), stdout);
	buf_free(out);
	free(data);
	return 0;
}

/* tally_cmp - most first, then by name. */
static int tally_cmp(const void *a, const void *b)
{
	const struct tally_entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* tally_text - "name N, name N" most first, into out. */
static void tally_text(buf *out, struct tally *t, const char *sep)
{
	qsort(t->e, t->n, sizeof(t->e[0]), tally_cmp);
	for (size_t i = 0; i < t->n; i++)
		buf_printf(out, "%s%s %zu", i ? sep : "", t->e[i].name, t->e[i].count);
	if (t->other)
		buf_printf(out, "%s(other) %zu", t->n ? sep : "", t->other);
	if (t->n == 0 && t->other == 0)
		buf_puts(out, "none");
}

/* tally_json - {"name":N,...} most first. */
static void tally_json(buf *out, struct tally *t)
{
	qsort(t->e, t->n, sizeof(t->e[0]), tally_cmp);
	buf_putc(out, '{');
	for (size_t i = 0; i < t->n; i++)
		buf_printf(out, "%s\"%s\":%zu", i ? "," : "", t->e[i].name, t->e[i].count);
	if (t->other)
		buf_printf(out, "%s\"(other)\":%zu", t->n ? "," : "", t->other);
	buf_putc(out, '}');
}

/* print_summary - the campaign summary: messages, actions, readiness per
 * provider, findings with their fix. Names are ours (finding table, actions),
 * never message text, so they need no escaping. */
static void print_summary(struct summary *sum, int json)
{
	static const char *const pn[3] = { "gmail", "yahoo", "microsoft" };
	buf *out = xbuf_new(1 << 20);
	if (json) {
		buf_printf(out, "{\"summary\":{\"messages\":%zu,\"actions\":", sum->messages);
		tally_json(out, &sum->actions);
		buf_puts(out, ",\"providers\":{");
		for (int i = 0; i < 3; i++) {
			buf_printf(out, "%s\"%s\":", i ? "," : "", pn[i]);
			tally_json(out, &sum->providers[i]);
		}
		buf_puts(out, "},\"findings\":");
		tally_json(out, &sum->findings);
		buf_puts(out, "}}\n");
	} else {
		buf_printf(out, "== Campaign summary: %zu message%s\n  Actions      ", sum->messages,
		           sum->messages == 1 ? "" : "s");
		tally_text(out, &sum->actions, ", ");
		for (int i = 0; i < 3; i++) {
			buf_printf(out, "\n  %-12s ", pn[i]);
			tally_text(out, &sum->providers[i], ", ");
		}
		buf_puts(out, "\n  Findings     ");
		qsort(sum->findings.e, sum->findings.n, sizeof(sum->findings.e[0]), tally_cmp);
		if (sum->findings.n == 0)
			buf_puts(out, "none\n");
		for (size_t i = 0; i < sum->findings.n; i++) {
			const struct finding_help *h = findings_help(sum->findings.e[i].name);
			buf_printf(out, "%s%zu x %s\n", i ? "               " : "", sum->findings.e[i].count,
			           sum->findings.e[i].name);
			if (h)
				buf_printf(out, "                 fix: %s\n", h->fix);
		}
	}
	fwrite(buf_data(out), 1, buf_len(out), stdout);
	buf_free(out);
}

/* print_findings - --print-findings: the finding table as the Markdown rows
 * of docs/FINDINGS.md (tests/integration/docs.sh compares the two). */
static void print_findings(void)
{
	const struct finding_help *h;
	for (size_t i = 0; (h = findings_help_row(i)) != NULL; i++)
		printf("| `%s` | %s | %s |\n", h->name, h->meaning, h->fix);
}

/* set_or_die - apply a configuration override or exit 2. */
static void set_or_die(conf *c, const char *key, const char *value)
{
	char err[512];
	if (conf_set(c, key, value, err, sizeof(err)) < 0) {
		fprintf(stderr, "trustmilter-check: %s\n", err);
		exit(2);
	}
}

/* record_sink - --record: every message's audit record queued for the store. */
static void record_sink(void *arg, const struct audit_record *r)
{
	store_submit(arg, r);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, 0, 'c' }, { "client-ip", 1, 0, 'i' }, { "helo", 1, 0, 'H' },
		{ "mail-from", 1, 0, 'm' }, { "rcpt", 1, 0, 'r' }, { "direction", 1, 0, 'd' },
		{ "dns", 1, 0, 'D' }, { "dns-timeout", 1, 0, 'T' }, { "authserv-id", 1, 0, 'a' },
		{ "dmarc-mode", 1, 0, 'M' }, { "set", 1, 0, 's' }, { "json", 0, 0, 'j' },
		{ "print-config", 0, 0, 'P' }, { "record", 1, 0, 'R' }, { "macro", 1, 0, 'X' }, { "from-received", 0, 0, 'F' },
		{ "summary", 0, 0, 'S' }, { "sign", 0, 0, 'g' }, { "seal", 0, 0, 'L' }, { "keys", 0, 0, 'K' }, { "print-findings", 0, 0, 'G' }, { "quiet", 0, 0, 'q' }, { "version", 0, 0, 'V' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	struct opts o = { 0 };
	const char *cfgpath = NULL, *record = NULL;
	const char *sets[64];
	size_t nsets = 0;
	char dns[2048] = "";
	size_t dnslen = 0;
	int c;
	while ((c = getopt_long(argc, argv, "c:qVh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'i': o.client_ip = optarg; break;
		case 'H': o.helo = optarg; break;
		case 'm': o.mail_from = optarg; break;
		case 'r': if (o.nrcpt < RCPT_MAX) o.rcpt[o.nrcpt++] = optarg; break;
		case 'd':
			if (strcmp(optarg, "inbound") && strcmp(optarg, "outbound")) {
				fprintf(stderr, "trustmilter-check: --direction must be inbound or outbound\n");
				return 2;
			}
			o.direction = optarg;
			break;
		case 'D': {
			int w = snprintf(dns + dnslen, sizeof(dns) - dnslen, "%s%s", dnslen ? "," : "", optarg);
			if (w < 0 || (size_t)w >= sizeof(dns) - dnslen) {
				fprintf(stderr, "trustmilter-check: too many --dns servers\n");
				return 2;
			}
			dnslen += (size_t)w;
			break;
		}
		case 'j': o.json = 1; break;
		case 'g': o.sign = 1; break;
		case 'L': o.seal = 1; break;
		case 'K': o.keys = 1; break;
		case 'R': record = optarg; break;
		case 'X':
			if (o.nmacros >= sizeof(o.macros) / sizeof(o.macros[0]) || !strchr(optarg, '=')) {
				fprintf(stderr, "trustmilter-check: --macro NAME=VALUE (at most 32)\n");
				return 2;
			}
			o.macros[o.nmacros++] = optarg;
			break;
		case 'P': {
			buf *ex = xbuf_new(1 << 20);
			conf_write_example(ex);
			fwrite(buf_data(ex), 1, buf_len(ex), stdout);
			buf_free(ex);
			return 0;
		}
		case 'q': o.quiet = 1; break;
		case 'F': o.from_received = 1; break;
		case 'S': o.summary = 1; break;
		case 'G': print_findings(); return 0;
		case 'V': printf("trustmilter-check %s\n", TM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 'T': case 'a': case 'M': case 's':
			if (nsets + 1 >= sizeof(sets) / sizeof(sets[0]))
				return 2;
			sets[nsets++] = c == 'T' ? "dns.timeout_ms" : c == 'a' ? "authserv_id"
			              : c == 'M' ? "dmarc.mode" : NULL;
			sets[nsets++] = optarg;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc && !o.keys) {
		usage(stderr);
		return 2;
	}
	char err[1024];
	conf *cf = conf_load(cfgpath, err, sizeof(err));
	if (cf == NULL) {
		fprintf(stderr, "trustmilter-check: %s\n", err);
		return 2;
	}
	if (dnslen)
		set_or_die(cf, "dns.forwarders", dns);
	if (o.sign || o.keys)
		set_or_die(cf, "sign.enabled", "true");
	for (size_t i = 0; i < nsets; i += 2) {
		if (sets[i]) {
			set_or_die(cf, sets[i], sets[i + 1]);
			continue;
		}
		char key[128];
		const char *eq = strchr(sets[i + 1], '=');
		if (eq == NULL || str_copy(key, sizeof(key), sets[i + 1], (size_t)(eq - sets[i + 1])) < 0) {
			fprintf(stderr, "trustmilter-check: --set needs KEY=VALUE\n");
			return 2;
		}
		set_or_die(cf, key, eq + 1);
	}
	if (o.seal && conf_str(cf, "arc.seal_key")[0] == '\0') {
		fprintf(stderr, "trustmilter-check: --seal needs arc.seal_key (DOMAIN:SELECTOR:KEYFILE)\n");
		return 2;
	}
	tm_env *env = tm_env_new(cf, err, sizeof(err));
	conf_unref(cf);
	if (env == NULL) {
		fprintf(stderr, "trustmilter-check: %s\n", err);
		return 2;
	}
	if (o.keys) {
		buf *kb = xbuf_new(1 << 20);
		int kr = keys_check(env, kb);
		fwrite(buf_data(kb), 1, buf_len(kb), stdout);
		buf_free(kb);
		tm_env_unref(env);
		return kr;
	}
	store *st = NULL;
	if (record) {
		char uri[4096];
		int plain = strncmp(record, "sqlite:", 7) && strncmp(record, "postgres", 8) &&
		            strncmp(record, "pg:", 3);
		snprintf(uri, sizeof(uri), "%s%s", plain ? "sqlite:" : "", record);
		st = store_open_conf(tm_env_conf(env), uri, tm_env_hostname(env), NULL, NULL, err, sizeof(err));
		if (st == NULL) {
			fprintf(stderr, "trustmilter-check: %s\n", err);
			tm_env_unref(env);
			return 2;
		}
		tm_env_set_record_sink(env, record_sink, st);
	}
	int io_error = 0, any_findings = 0;
	struct summary *sum = calloc(1, sizeof(*sum));
	if (sum == NULL) {
		fprintf(stderr, "trustmilter-check: out of memory\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (check_file(env, &o, argv[i], &any_findings, sum) < 0)
			io_error = 1;
	if (!o.quiet && (o.summary || (!o.json && sum->messages > 1)))
		print_summary(sum, o.json);
	free(sum);
	tm_env_unref(env);
	if (st) {
		struct store_stats ss;
		store_close_stats(st, &ss);
		if (ss.dropped) {
			fprintf(stderr, "trustmilter-check: %llu audit records could not be written\n",
			        (unsigned long long)ss.dropped);
			io_error = 1;
		}
	}
	fflush(stdout);
	return io_error ? 2 : any_findings ? 1 : 0;
}
