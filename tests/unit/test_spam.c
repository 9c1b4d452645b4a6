/*
 * test_spam - the signal engine without DNS: each case is a header set, a
 * body and an envelope, with the signals that must fire and those that must
 * not; plus weight overrides, thresholds' config checks, RFC 2047 decoding
 * and the table's invariants.
 */
#include <stdlib.h>
#include <time.h>
#include "t.h"
#include "spam.h"
#include "buf.h"

struct scase {
	const char *name;
	const char *headers;          /* "Name: value\n" lines */
	const char *body;             /* LF lines */
	const char *helo, *ip;
	int bulk, outbound;
	unsigned nrcpt;
	const char *want;             /* comma list of signals that must fire */
	const char *not;              /* comma list that must not */
};

#define STD "From: Shop <news@shop.example>\nTo: you@example.net\nDate: @NOW@\nMessage-ID: <a@shop.example>\n"

static const struct scase cases[] = {
	{ "clean plain", STD "Subject: Your receipt\n", "Thanks for your order.\n", "mta.shop.example", "192.0.2.1",
	  0, 0, 1, "", "spam.header.date_missing,spam.header.to_missing,spam.body.html_only,spam.helo.not_fqdn" },
	{ "missing headers", "From: a@b.example\nSubject: hi\n", "x\n", "mx.b.example", "192.0.2.1", 0, 0, 1,
	  "spam.header.date_missing,spam.header.message_id_missing,spam.header.to_missing", "" },
	{ "invalid headers", "From: a@b.example\nTo: x@y.example\nDate: yesterday\nMessage-ID: nope\n", "x\n",
	  "mx.b.example", "192.0.2.1", 0, 0, 1, "spam.header.date_invalid,spam.header.message_id_invalid", "" },
	{ "date future", "From: a@b.example\nTo: x@y.example\nDate: Fri, 1 Jan 2100 00:00:00 +0000\n", "x\n",
	  "", "", 0, 0, 1, "spam.header.date_future", "spam.header.date_past" },
	{ "date past", "From: a@b.example\nTo: x@y.example\nDate: Fri, 1 Jan 2010 00:00:00 +0000\n", "x\n",
	  "", "", 0, 0, 1, "spam.header.date_past", "spam.header.date_future" },
	{ "helo bare ip", STD, "x\n", "192.0.2.1", "192.0.2.1", 0, 0, 1, "spam.helo.bare_ip", "spam.helo.not_fqdn" },
	{ "helo literal is fine", STD, "x\n", "[192.0.2.1]", "192.0.2.1", 0, 0, 1, "",
	  "spam.helo.bare_ip,spam.helo.not_fqdn,spam.helo.ours" },
	{ "helo not fqdn", STD, "x\n", "DESKTOP-PC", "192.0.2.1", 0, 0, 1, "spam.helo.not_fqdn", "" },
	{ "helo ours", STD, "x\n", "MX.Recipient.TEST.", "192.0.2.1", 0, 0, 1, "spam.helo.ours", "" },
	{ "helo our address", STD, "x\n", "[203.0.113.25]", "192.0.2.1", 0, 0, 1, "spam.helo.ours", "" },
	{ "outbound skips connection signals", STD, "x\n", "192.0.2.1", "192.0.2.1", 0, 1, 1, "",
	  "spam.helo.bare_ip" },
	{ "display name address", "From: \"service@paypal.com\" <x@phish.example>\nTo: a@b.example\n", "x\n",
	  "", "", 0, 0, 1, "spam.from.display_address", "" },
	{ "display name encoded address", "From: =?utf-8?Q?support=40bank.example?= <x@phish.example>\nTo: a@b.example\n",
	  "x\n", "", "", 0, 0, 1, "spam.from.display_address", "" },
	{ "display name same org", "From: \"news@shop.example\" <news@mail.shop.example>\nTo: a@b.example\n", "x\n",
	  "", "", 0, 0, 1, "", "spam.from.display_address" },
	{ "reply-to other domain in bulk", STD "Reply-To: r@other.example\nPrecedence: bulk\n", "x\n", "", "", 1, 0, 1,
	  "spam.reply_to.other_domain", "" },
	{ "reply-to other domain not bulk", STD "Reply-To: r@other.example\n", "x\n", "", "", 0, 0, 1, "",
	  "spam.reply_to.other_domain" },
	{ "many recipients", STD "Cc: a@x.example, b@x.example, c@x.example\n", "x\n", "", "", 0, 0, 30,
	  "spam.header.many_recipients", "" },
	{ "subject caps and punctuation", STD "Subject: =?utf-8?B?RlJFRSBNT05FWSBOT1chISE=?=\n", "x\n", "", "", 0, 0, 1,
	  "spam.subject.all_caps,spam.subject.punctuation", "" },
	{ "short caps subject", STD "Subject: FYI: RE SALE\n", "x\n", "", "", 0, 0, 1, "", "spam.subject.all_caps" },
	{ "html only, image heavy", STD "Content-Type: text/html\n", "<img src=\"http://198.51.100.9/a.png\">"
	  "<a href=\"https://bit.ly/x\">Buy</a>\n", "", "", 0, 0, 1,
	  "spam.body.html_only,spam.body.image_heavy,spam.url.shortener", "spam.url.ip_address" },
	{ "ip URL and mismatch", STD "Content-Type: text/html\n",
	  "<a href=\"http://198.51.100.9/login\">https://www.bank.example/login</a>\n", "", "", 0, 0, 1,
	  "spam.url.ip_address,spam.url.text_mismatch", "" },
	{ "executable double extension", STD "Content-Type: multipart/mixed; boundary=b\n",
	  "--b\n\nsee attached\n--b\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\n"
	  "Content-Transfer-Encoding: base64\n\nTVqQ\n--b--\n", "", "", 0, 0, 1,
	  "spam.attachment.executable,spam.attachment.double_extension", "" },
	{ "plain executable", STD "Content-Type: multipart/mixed; boundary=b\n",
	  "--b\n\nx\n--b\nContent-Disposition: attachment; filename=setup.exe\n\nMZ\n--b--\n", "", "", 0, 0, 1,
	  "spam.attachment.executable", "spam.attachment.double_extension" },
	{ "bulk without visible unsubscribe", STD "List-Id: <l.shop.example>\n", "Buy things at https://shop.example/\n",
	  "", "", 1, 0, 1, "spam.body.no_unsubscribe_link", "" },
	{ "bulk with unsubscribe", STD "List-Id: <l.shop.example>\n", "Unsubscribe: https://shop.example/u\n",
	  "", "", 1, 0, 1, "", "spam.body.no_unsubscribe_link" },
	{ "malformed mime", STD "Content-Type: multipart/mixed; boundary=b\n", "--b\n\nunterminated\n", "", "", 0, 0, 1,
	  "spam.mime.malformed", "" },
};

static void run_case(const conf *c, const struct scase *sc)
{
	char err_[256];
	hdr_set *h = hdr_new(100, 65536);
	char now[64];
	time_t t = time(NULL);
	strftime(now, sizeof(now), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&t));
	const char *ct = NULL, *te = NULL;
	size_t ctl = 0;
	for (const char *p = sc->headers; *p;) {
		size_t l = strcspn(p, "\n");
		const char *colon = memchr(p, ':', l);
		char val[512];
		snprintf(val, sizeof(val), "%.*s", (int)(l - (size_t)(colon + 1 - p)), colon + 1);
		char *at = strstr(val, "@NOW@");
		if (at) {
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(at - val), val, now, at + 5);
			snprintf(val, sizeof(val), "%s", tmp);
		}
		hdr_add(h, p, (size_t)(colon - p), val, strlen(val));
		if (strncmp(p, "Content-Type:", 13) == 0) {
			ct = colon + 1;
			ctl = l - 13;
		}
		p += l + (p[l] == '\n');
	}
	struct mime_limits ml = { 1 << 20, 50, 8, 65536 };
	mime_walker *m = mime_new(&ml);
	mime_begin(m, ct, ctl, te, 0);
	buf *b = buf_new(1 << 16);
	for (const char *p = sc->body; *p; p++) {
		if (*p == '\n')
			buf_putc(b, '\r');
		buf_putc(b, *p);
	}
	mime_feed(m, (const unsigned char *)buf_data(b), buf_len(b));
	mime_end(m);
	spam_settings *st = spam_settings_new(c, err_, sizeof(err_));
	struct spam_input in = { .settings = st, .outbound = sc->outbound, .client_ip = sc->ip, .helo = sc->helo,
	                         .our_name = "mx.recipient.test", .hdrs = h, .mime = m, .bulk = sc->bulk,
	                         .nrcpt = sc->nrcpt, .now = t };
	struct spam_outcome *o = malloc(sizeof(*o));
	spam_evaluate(&in, o);
	char got[2048] = "";
	double sum = 0;
	for (size_t i = 0; i < o->nsignals; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "", o->signals[i].name);
		sum += o->signals[i].weight;
	}
	for (const char *p = sc->want; *p;) {
		size_t l = strcspn(p, ",");
		char n[128];
		snprintf(n, sizeof(n), "%.*s", (int)l, p);
		T_OK(spam_has(o, n), "%s: %s fires (got %s)", sc->name, n, got);
		p += l + (p[l] == ',');
	}
	for (const char *p = sc->not; *p;) {
		size_t l = strcspn(p, ",");
		char n[128];
		snprintf(n, sizeof(n), "%.*s", (int)l, p);
		T_OK(!spam_has(o, n), "%s: %s does not fire (got %s)", sc->name, n, got);
		p += l + (p[l] == ',');
	}
	T_OK(sum > o->score - 1e-9 && sum < o->score + 1e-9, "%s: score %.1f is the sum", sc->name, o->score);
	free(o);
	spam_settings_free(st);
	buf_free(b);
	mime_free(m);
	hdr_free(h);
}

static void test_weights(void)
{
	char err[256];
	conf *c = conf_load(NULL, err, sizeof(err));
	T_INT(conf_set(c, "spam.weights", "spam.header.to_missing=0,spam.header.date_missing=7.5", err, sizeof(err)), 0,
	      "weights set");
	T_INT(spam_conf_check(c, err, sizeof(err)), 0, "weights valid");
	hdr_set *h = hdr_new(10, 4096);
	hdr_add(h, "From", 4, " a@b.example", 12);
	spam_settings *st = spam_settings_new(c, err, sizeof(err));
	T_OK(st != NULL, "weights compile");
	struct spam_input in = { .settings = st, .client_ip = "", .helo = "", .hdrs = h, .now = time(NULL) };
	struct spam_outcome *o = malloc(sizeof(*o));
	spam_evaluate(&in, o);
	T_OK(!spam_has(o, "spam.header.to_missing"), "weight 0 turns a signal off");
	T_OK(spam_has(o, "spam.header.date_missing") && o->score >= 7.5, "weight override applies (%.1f)", o->score);
	free(o);
	spam_settings_free(st);
	hdr_free(h);
	static const struct { const char *key, *val; int ok; } cc[] = {
		{ "spam.weights", "spam.nope=1", -1 },
		{ "spam.weights", "spam.header.to_missing", -1 },
		{ "spam.weights", "spam.header.to_missing=abc", -1 },
		{ "spam.weights", "spam.header.to_missing=1000", -1 },
		{ "spam.weights", "spam.dnsbl.zen.example=5", 0 },
		{ "spam.dnsbl_zones", "dnsbl.example,dnsbl.example:127.0.0.2=5,other.example.=2.5", 0 },
		{ "spam.dnsbl_zones", "dnsbl.example:notanip=5", -1 },
		{ "spam.dnsbl_zones", "bad..zone", -1 },
		{ "spam.uribl_zones", "uribl.example=x", -1 },
	};
	for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
		conf *k = conf_load(NULL, err, sizeof(err));
		conf_set(k, cc[i].key, cc[i].val, err, sizeof(err));
		T_INT(spam_conf_check(k, err, sizeof(err)), cc[i].ok, "config check %s = %s", cc[i].key, cc[i].val);
		spam_settings *ks = spam_settings_new(k, err, sizeof(err));
		T_INT(ks != NULL ? 0 : -1, cc[i].ok, "settings compile %s = %s", cc[i].key, cc[i].val);
		spam_settings_free(ks);
		conf_unref(k);
	}
	conf_unref(c);
}

static void test_table(void)
{
	struct spam_def_info d, e;
	size_t n = 0;
	int ok = 1;
	for (size_t i = 0; spam_table_row(i, &d) == 0; i++, n++) {
		ok &= strncmp(d.name, "spam.", 5) == 0 && d.doc && d.doc[0] && d.weight >= 0;
		for (size_t j = 0; j < i; j++) {
			spam_table_row(j, &e);
			ok &= strcmp(d.name, e.name) != 0;
		}
	}
	T_OK(ok && n >= 30, "table: %zu rows, unique spam.* names, documented", n);
}

static void test_2047(void)
{
	static const struct { const char *in, *out; } c[] = {
		{ "plain", "plain" },
		{ "=?utf-8?B?SGVsbG8=?= =?utf-8?Q?_world?=", "Hello world" },
		{ "a =?iso-8859-1?q?caf=E9?= b", "a caf\xe9 b" },
		{ "=?broken", "=?broken" },
		{ "=?x?Z?abc?=", "=?x?Z?abc?=" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char out[64];
		spam_decode_2047(c[i].in, strlen(c[i].in), out, sizeof(out));
		T_STR(out, c[i].out, "rfc2047 \"%s\"", c[i].in);
	}
}

int main(void)
{
	char err[256];
	conf *c = conf_load(NULL, err, sizeof(err));
	conf_set(c, "spam.local_names", "203.0.113.25", err, sizeof(err));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(c, &cases[i]);
	conf_unref(c);
	test_weights();
	test_table();
	test_2047();
	return t_done();
}
