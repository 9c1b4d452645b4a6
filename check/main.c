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
#include "keys.h"

#define INPUT_MAX (256u * 1024 * 1024)  /* one input file; a bigger mbox should be split */
#define BODY_CHUNK 65536                /* like an MTA's body chunks */
#define RCPT_MAX 1000

struct opts {
	const char *client_ip, *helo, *mail_from, *direction;
	const char *rcpt[RCPT_MAX];
	size_t nrcpt;
	const char *macros[32];       /* "NAME=VALUE" as the MTA would send them */
	size_t nmacros;
	int json, quiet;
	int keys;                     /* --keys: check every signing key against DNS */
	int sign;                     /* --sign: print the message with its new DKIM-Signature fields */
};

/* usage - print help to f. */
static void usage(FILE *f)
{
	fputs("usage: trustmilter-check [options] FILE...   (\"-\" reads standard input)\n"
	      "  -c, --config FILE      configuration file (same as the daemon's)\n"
	      "      --client-ip IP     SMTP client address (SPF); none: SPF is not checked\n"
	      "      --helo NAME        HELO/EHLO name\n"
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
	      "      --keys             check every signing key against its selector's TXT record\n"
	      "                         (matching, different, missing + record to publish,\n"
	      "                         too-short, revoked, t=y); no FILE needed\n"
	      "      --record URI       also write each message's audit record to a store\n"
	      "                         (sqlite:PATH, a plain PATH, or postgresql://...)\n"
	      "      --print-config     print the annotated example configuration\n"
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

/* put_signed - --sign: the DKIM-Signature fields the verdict adds, in the
 * line ends of the message (CRLF when its first line has one), then the
 * message unchanged. */
static void put_signed(const struct verdict *v, const char *p, size_t n, buf *out)
{
	const char *nl = memchr(p, '\n', n);
	int crlf = nl && nl > p && nl[-1] == '\r';
	for (size_t i = 0; i < v->nadd; i++) {
		if (strcmp(v->add[i].name, "DKIM-Signature") != 0)
			continue;
		buf_puts(out, "DKIM-Signature: ");
		for (const char *c = v->add[i].value; *c; c++)
			if (!(c[0] == '\r' && c[1] == '\n'))
				buf_puts(out, c[0] == '\n' && crlf ? "\r\n" : (char[]){ c[0], 0 });
		buf_puts(out, crlf ? "\r\n" : "\n");
	}
	buf_append(out, p, n);
}

/* check_message - drive one session over one message. Returns the number of findings. */
static int check_message(tm_env *env, const struct opts *o, const char *file, size_t index,
                         const char *p, size_t n, const char *envfrom, buf *out)
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
	session_connect(s, "unknown", o->client_ip);
	for (size_t i = 0; i < o->nmacros; i++) {
		char name[64];
		const char *eq = strchr(o->macros[i], '=');
		if (eq && str_copy(name, sizeof(name), o->macros[i], (size_t)(eq - o->macros[i])) == 0)
			session_set_macro(s, name, eq + 1);
	}
	session_helo(s, o->helo ? o->helo : "");
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
	if (o->sign) {
		put_signed(v, p, n, out);
	} else if (o->json) {
		session_report_json(s, out);
		buf_putc(out, '\n');
	} else {
		if (index)
			buf_printf(out, "== %s #%zu\n", file, index);
		else
			buf_printf(out, "== %s\n", file);
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
static int check_file(tm_env *env, const struct opts *o, const char *path, int *any_findings)
{
	size_t n;
	char *data = read_all(path, &n);
	if (data == NULL)
		return -1;
	buf *out = xbuf_new(64u * 1024 * 1024);
	if (!is_from_line(data, n)) {
		*any_findings |= check_message(env, o, path, 0, data, n, NULL, out);
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
			                               envfrom, out);
		}
		buf_free(msg);
	}
	if (!o->quiet)
		fwrite(buf_data(out), 1, buf_len(out), stdout);
	buf_free(out);
	free(data);
	return 0;
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
		{ "dmarc-mode", 1, 0, 'M' }, { "set", 1, 0, 's' }, { "json", 0, 0, 'j' }, { "sign", 0, 0, 'S' }, { "keys", 0, 0, 'K' },
		{ "print-config", 0, 0, 'P' }, { "record", 1, 0, 'R' }, { "macro", 1, 0, 'X' }, { "quiet", 0, 0, 'q' }, { "version", 0, 0, 'V' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
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
		case 'S': o.sign = 1; break;
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
	for (int i = optind; i < argc; i++)
		if (check_file(env, &o, argv[i], &any_findings) < 0)
			io_error = 1;
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
