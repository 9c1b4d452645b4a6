/*
 * test_core - unit tests for buf, findings, hdr, cidr, json, verdict and conf.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "t.h"
#include "buf.h"
#include "findings.h"
#include "hdr.h"
#include "cidr.h"
#include "json.h"
#include "verdict.h"
#include "conf.h"
#include "session_int.h"

static void test_buf(void)
{
	buf *b = buf_new(10);
	T_INT(buf_append(b, "0123456789", 10), 0, "buf: fill exactly to the cap");
	T_INT(buf_putc(b, 'x'), -1, "buf: one byte past the cap is refused");
	T_OK(buf_overflowed(b), "buf: overflow flag is sticky");
	T_INT(buf_len(b), 10, "buf: refused append leaves the contents");
	buf_reset(b);
	T_INT(buf_printf(b, "%s", "hello world!"), -1, "buf: printf past the cap appends nothing");
	T_INT(buf_len(b), 0, "buf: all or nothing printf");
	T_INT(buf_append(b, "a\0b", 3), 0, "buf: NUL bytes are data");
	T_INT(buf_len(b), 3, "buf: length counts NUL bytes");
	buf_free(b);
	buf_free(NULL);
	b = buf_new(1000);
	T_INT(buf_printf(b, "%s-%d", "ab", 7), 0, "buf: printf within the first allocation");
	T_INT(buf_printf(b, "%0300d|", 5), 0, "buf: printf that must grow the buffer");
	T_INT(buf_len(b), 4 + 301, "buf: length after growing printf");
	T_OK(memcmp(buf_data(b), "ab-70000", 8) == 0 && buf_data(b)[304] == '|' && buf_data(b)[305] == '\0',
	     "buf: growing printf keeps what came before and terminates");
	T_INT(buf_printf(b, "%0800d", 1), -1, "buf: printf past the cap after a partial write");
	T_INT(buf_len(b), 305, "buf: refused printf leaves the length");
	T_OK(buf_data(b)[305] == '\0', "buf: refused printf leaves the terminator");
	for (int i = 0; i < 100; i++)
		buf_putc(b, 'z');
	T_INT(buf_len(b), 405, "buf: putc grows the buffer");
	buf_free(b);
	char d[4];
	T_INT(str_copy(d, sizeof(d), "abcdef", 6), -1, "str_copy: reports truncation");
	T_STR(d, "abc", "str_copy: truncates and terminates");
	char pr[16];
	str_printable(pr, sizeof(pr), "a\r\nb\x80", 5);
	T_STR(pr, "a??b?", "str_printable: controls and 8-bit become '?'");
	T_OK(mem_caseeq("From", 4, "fROM", 4), "mem_caseeq: case-insensitive");
	T_OK(!mem_caseeq("From", 4, "Fro", 3), "mem_caseeq: lengths differ");
}

static void test_findings(void)
{
	findings *f = findings_new();
	findings_add(f, "a.b", "x %d", 1);
	findings_add(f, "a.b", "dup");
	T_INT(findings_count(f), 1, "findings: duplicates kept once");
	T_STR(findings_get(f, 0)->detail, "x 1", "findings: first detail wins");
	for (int i = 0; i < 200; i++) {
		char n[32];
		snprintf(n, sizeof(n), "n.%d", i);
		findings_add(f, n, "d");
	}
	T_INT(findings_count(f), FINDINGS_MAX, "findings: capped");
	T_OK(findings_has(f, "limits.findings"), "findings: the cap is itself a finding");
	T_OK(findings_has_prefix(f, "n."), "findings: prefix lookup");
	findings_add(f, "ctl", "a\nb");
	findings_free(f);
}

/* test_hdr_protected - protected classes survive the general caps. */
static void test_hdr_protected(void)
{
	hdr_set *h = hdr_new(2, 100);
	hdr_set_compliance(h, "X-Trustmilter");
	T_INT(hdr_add(h, "X-A", 3, "1", 1), 0, "protected: general field 1");
	T_INT(hdr_add(h, "X-B", 3, "2", 1), 0, "protected: general field 2");
	T_INT(hdr_add(h, "X-C", 3, "3", 1), -1, "protected: general count cap reached");
	static const char *const names[] = {
		"From", "sender", "DKIM-Signature", "ARC-Seal", "arc-message-signature",
		"Authentication-Results", "List-Unsubscribe", "List-Unsubscribe-Post", "x-trustmilter",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		T_INT(hdr_add(h, names[i], strlen(names[i]), " v", 2), 0,
		      "protected: %s kept past the general caps", names[i]);
	T_INT(hdr_add(h, "X-D", 3, "4", 1), -1, "protected: they do not free general room");
	T_INT(hdr_add(h, "From ", 5, " a@b", 4), 0, "protected: obs WSP before the colon");
	T_INT(hdr_count_name(h, "From"), 2, "protected: stored as From");
	T_OK(hdr_class_of(h, "From\t", 5) != NULL, "protected: class of a name with WSP after it");
	T_OK(hdr_class_of(h, "ARC", 3) == NULL, "protected: ARC- needs more than the prefix");
	T_OK(hdr_class_of(h, "Subject", 7) == NULL, "protected: Subject is not");
	T_STR(hdr_class_of(h, "X-Trustmilter", 13)->finding, "limits.compliance_fields",
	      "protected: compliance class finding");
	hdr_free(h);

	h = hdr_new(0, 0);
	size_t i;
	for (i = 0; i < HDR_CAP_FROM; i++)
		hdr_add(h, "From", 4, " a@b", 4);
	T_INT(hdr_add(h, "From", 4, " c@d", 4), -3, "protected: From count cap");
	T_INT(hdr_refused_class(h, "from"), 1, "protected: refusal counted per class");
	T_STR(hdr_class_of(h, "From", 4)->finding, "limits.from_fields", "protected: From finding");
	T_INT(hdr_refused_class(h, "Subject"), 0, "protected: unprotected name has none");
	hdr_reset(h);
	T_INT(hdr_refused_class(h, "From"), 0, "protected: reset clears the refusals");
	char *big = malloc(40 * 1024);
	memset(big, 'x', 40 * 1024);
	T_INT(hdr_add(h, "From", 4, big, 40 * 1024), -3, "protected: From byte cap");
	T_INT(hdr_add(h, "From", 4, big, 1024), 0, "protected: a smaller From still fits");
	free(big);
	hdr_free(h);
}

static void test_hdr(void)
{
	hdr_set *h = hdr_new(3, 100);
	T_INT(hdr_add(h, "Reply-To", 8, " a@b\r\n\tc", 8), 0, "hdr: add folded");
	T_STR(hdr_find(h, "reply-to", 0)->unfolded, "a@b\tc", "hdr: unfolded and trimmed");
	T_INT(hdr_add(h, "Bad Name", 8, "x", 1), -2, "hdr: space in a name refused");
	T_INT(hdr_add(h, "To", 2, "x", 1), 0, "hdr: second");
	T_INT(hdr_add(h, "To", 2, "y", 1), 0, "hdr: third");
	T_INT(hdr_add(h, "Cc", 2, "z", 1), -1, "hdr: count cap");
	T_INT(hdr_count_name(h, "TO"), 2, "hdr: count by name");
	T_STR(hdr_find(h, "to", 1)->value, "y", "hdr: nth instance");
	T_OK(hdr_find(h, "to", 2) == NULL, "hdr: past the last instance");
	T_INT(hdr_refused(h), 1, "hdr: refused counted");
	hdr_free(h);
	h = hdr_new(10, 20);
	char big[64];
	memset(big, 'x', sizeof(big));
	T_INT(hdr_add(h, "Subject", 7, big, sizeof(big)), -1, "hdr: byte cap");
	T_INT(hdr_add(h, "X", 1, "\0\0", 2), 0, "hdr: NUL bytes in a value are stored");
	hdr_free(h);
	test_hdr_protected();
}

/* test_servid - the authserv-id of an Authentication-Results value. */
static void test_servid(void)
{
	static const struct { const char *v, *want; } c[] = {
		{ " mx.example.net; dkim=pass", "mx.example.net" },
		{ "mx.example.net;", "mx.example.net" },
		{ " (comment (nested \\) still)) mx.example.net 1; none", "mx.example.net" },
		{ "\r\n\t\"mx.example\\.net\"; dmarc=pass", "mx.example.net" },
		{ " \"mx.exa\r\n mple.net \" ; none", "mx.exa mple.net" },
		{ " \"mx.example.net", "mx.example.net" },
		{ " mx.example.net(comment); none", "mx.example.net" },
		{ " \"\\m\\x\".example.net; none", "mx" },
		{ " \"mx.example.net\\", "mx.example.net" },   /* a lone backslash quotes nothing */
		{ " ((((deep)))) mx.example.net;", "mx.example.net" },
		{ " (unclosed mx.example.net; dkim=pass", NULL },
		{ " ; none", NULL },
		{ " \"\"; none", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char id[64];
		int n = authres_servid(c[i].v, strlen(c[i].v), id, sizeof(id));
		if (c[i].want == NULL) {
			T_INT(n, -1, "servid %zu: none", i);
		} else {
			T_INT(n, (int)strlen(c[i].want), "servid %zu: length", i);
			T_STR(n >= 0 ? id : "", c[i].want, "servid %zu: value", i);
		}
	}
	char small[4];
	T_INT(authres_servid(" mx.example.net;", 16, small, sizeof(small)), -1, "servid: too long");
}

static void test_cidr(void)
{
	static const struct { const char *net, *ip; int want; const char *name; } c[] = {
		{ "192.0.2.0/24", "192.0.2.77", 1, "v4 inside" },
		{ "192.0.2.0/24", "192.0.3.1", 0, "v4 outside" },
		{ "192.0.2.0/24", "::ffff:192.0.2.9", 1, "v4-mapped v6 matches v4 net" },
		{ "0.0.0.0/0", "203.0.113.1", 1, "v4 /0" },
		{ "2001:db8::/32", "2001:db8:1::5", 1, "v6 inside" },
		{ "2001:db8::/32", "2001:db9::5", 0, "v6 outside" },
		{ "198.51.100.7", "198.51.100.7", 1, "bare address" },
		{ "198.51.100.0/25", "198.51.100.200", 0, "odd prefix" },
		{ "198.51.100.0/33", "198.51.100.1", 0, "bad prefix" },
		{ "garbage", "198.51.100.1", 0, "bad network" },
		{ "198.51.100.0/24", "nonsense", 0, "bad address" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		T_INT(cidr_match(c[i].net, c[i].ip), c[i].want, "cidr: %s", c[i].name);
}

static void test_json(void)
{
	buf *b = buf_new(1024);
	jw w;
	jw_init(&w, b);
	jw_obj(&w, NULL);
	jw_strn(&w, "s", "a\"b\\\n\xff\xc3\xa9", 8);
	jw_arr(&w, "a");
	jw_int(&w, NULL, 1);
	jw_bool(&w, NULL, 0);
	jw_null(&w, NULL);
	jw_end_arr(&w);
	jw_str(&w, "n", NULL);
	jw_end_obj(&w);
	T_STR(buf_data(b), "{\"s\":\"a\\\"b\\\\\\u000a\\ufffd\xc3\xa9\",\"a\":[1,false,null],\"n\":null}",
	      "json: escapes, invalid UTF-8, nesting");
	buf_free(b);
}

/* compile_rules, compile_domain_rules - test rule texts compiled without
 * the finding table check (the tests use made-up finding names). */
static struct verdict_rule *compile_rules(const char *const *t, size_t n)
{
	static struct verdict_rule r[3][8];
	static size_t slot;
	struct verdict_rule *out = r[slot++ % 3];
	char why[256];
	for (size_t i = 0; i < n && i < 8; i++) {
		const char *reply;
		if (verdict_rule_compile(t[i], &out[i], &reply, why, sizeof(why)) < 0 ||
		    verdict_rule_reply(t[i], &out[i], reply, why, sizeof(why)) < 0)
			T_OK(0, "rule %s compiles: %s", t[i], why);
	}
	return out;
}

static struct verdict_domain_rule *compile_domain_rules(const char *const *t, size_t n)
{
	static struct verdict_domain_rule r[8];
	char why[256];
	for (size_t i = 0; i < n && i < 8; i++) {
		const char *colon = strchr(t[i], ':'), *reply;
		memset(&r[i], 0, sizeof(r[i]));
		memcpy(r[i].domain, t[i], (size_t)(colon - t[i]));
		r[i].dlen = (size_t)(colon - t[i]);
		if (verdict_rule_compile(colon + 1, &r[i].rule, &reply, why, sizeof(why)) < 0 ||
		    verdict_rule_reply(colon + 1, &r[i].rule, reply, why, sizeof(why)) < 0)
			T_OK(0, "domain rule %s compiles: %s", t[i], why);
	}
	return r;
}

static const struct verdict_reply *reply_of(const char *text)
{
	static struct verdict_reply r[2];
	static size_t slot;
	struct verdict_reply *out = &r[slot++ % 2];
	verdict_reply_parse(text, out);
	return out;
}

static void test_verdict(void)
{
	const char *rules[] = { "dmarc.disposition.reject=reject:550 5.7.26 DMARC says no",
	                        "spf.*=quarantine", "dns.temperror=tempfail" };
	const char *drules[] = { "partner.example:spf.fail=accept" };
	static const struct { const char *findings[3]; const char *from; int dry; const char *allow;
	                      int act, enforced; const char *code, *name; } c[] = {
		{ { "dmarc.disposition.reject", "spf.fail" }, "x.example", 0, NULL, ACT_REJECT, ACT_REJECT, "550", "strongest wins" },
		{ { "spf.softfail" }, "x.example", 0, NULL, ACT_QUARANTINE, ACT_QUARANTINE, "", "prefix rule" },
		{ { "spf.fail" }, "mail.partner.example", 0, NULL, ACT_ACCEPT, ACT_ACCEPT, "", "domain rule overrides" },
		{ { "dmarc.disposition.reject" }, "x.example", 1, NULL, ACT_REJECT, ACT_ACCEPT, "550", "dry run keeps decision" },
		{ { "dmarc.disposition.reject" }, "x.example", 0, "network x", ACT_REJECT, ACT_ACCEPT, "550", "allowlist" },
		{ { "dns.temperror" }, NULL, 0, NULL, ACT_TEMPFAIL, ACT_TEMPFAIL, "451", "default tempfail reply" },
		{ { "unknown.finding" }, NULL, 0, NULL, ACT_ACCEPT, ACT_ACCEPT, "", "no rule" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t nf = 0;
		while (nf < 3 && c[i].findings[nf])
			nf++;
		struct verdict_input in = { .finding_names = c[i].findings, .nfindings = nf,
			.rules = compile_rules(rules, 3), .nrules = 3,
			.domain_rules = compile_domain_rules(drules, 1), .ndomain_rules = 1,
			.from_domain = c[i].from, .allowlisted = c[i].allow, .dry_run = c[i].dry,
			.reject_reply = reply_of("550 5.7.1 no"), .tempfail_reply = reply_of("451 4.7.1 later") };
		struct verdict v;
		memset(&v, 0, sizeof(v));
		verdict_decide(&in, &v);
		T_INT(v.decided, c[i].act, "verdict: %s (decided)", c[i].name);
		T_INT(v.action, c[i].enforced, "verdict: %s (enforced)", c[i].name);
		if (c[i].code[0])
			T_STR(v.rcode, c[i].code, "verdict: %s (reply code)", c[i].name);
		verdict_clear(&v);
	}
	char pat[64];
	enum verdict_action a;
	const char *rp;
	T_INT(verdict_rule_parse("a=junk", pat, sizeof(pat), &a, &rp), 0, "verdict: junk parses");
	T_INT(a, ACT_JUNK, "verdict: junk is ACT_JUNK");
	T_STR(verdict_action_name(ACT_JUNK), "junk", "verdict: junk's name");
	T_INT(verdict_rule_parse("x=explode", pat, sizeof(pat), &a, &rp), -1, "verdict: unknown action refused");
	T_INT(verdict_rule_parse("=reject", pat, sizeof(pat), &a, &rp), -1, "verdict: empty pattern refused");
}

/* decide_one - the decided action for one finding under rules and domain rules. */
static enum verdict_action decide_one(const char *finding, const char *const *rules, size_t nr,
                                      const char *const *drules, size_t nd, const char *from,
                                      struct verdict *v)
{
	const char *names[] = { finding };
	struct verdict_input in = { .finding_names = names, .nfindings = 1,
		.rules = compile_rules(rules, nr), .nrules = nr,
		.domain_rules = compile_domain_rules(drules, nd), .ndomain_rules = nd, .from_domain = from,
		.reject_reply = reply_of("550 5.7.1 no"), .tempfail_reply = reply_of("451 4.7.1 later") };
	memset(v, 0, sizeof(*v));
	verdict_decide(&in, v);
	return v->decided;
}

/* test_verdict_order - the strongest matching rule wins whatever the order
 * of the list; a domain rule replaces the direction's rules for a finding. */
static void test_verdict_order(void)
{
	struct verdict v;
	const char *ab[] = { "dmarc.*=accept", "dmarc.fail=reject" };
	const char *ba[] = { "dmarc.fail=reject", "dmarc.*=accept" };
	T_INT(decide_one("dmarc.fail", ab, 2, NULL, 0, NULL, &v), ACT_REJECT, "order: accept rule first, reject wins");
	verdict_clear(&v);
	T_INT(decide_one("dmarc.fail", ba, 2, NULL, 0, NULL, &v), ACT_REJECT, "order: reject rule first, reject wins");
	verdict_clear(&v);
	const char *jq[] = { "spam.score.quarantine=junk", "spam.*=quarantine" };
	const char *qj[] = { "spam.*=quarantine", "spam.score.quarantine=junk" };
	T_INT(decide_one("spam.score.quarantine", jq, 2, NULL, 0, NULL, &v), ACT_QUARANTINE, "order: quarantine beats junk (junk first)");
	verdict_clear(&v);
	T_INT(decide_one("spam.score.quarantine", qj, 2, NULL, 0, NULL, &v), ACT_QUARANTINE, "order: quarantine beats junk (quarantine first)");
	verdict_clear(&v);
	const char *ja[] = { "x=accept", "x=junk" };
	T_INT(decide_one("x", ja, 2, NULL, 0, NULL, &v), ACT_JUNK, "order: junk beats accept");
	T_INT(v.action, ACT_JUNK, "order: junk enforced");
	verdict_clear(&v);
	const char *tr[] = { "x=tempfail", "x=reject:550 5.7.9 custom" };
	T_INT(decide_one("x", tr, 2, NULL, 0, NULL, &v), ACT_REJECT, "order: reject beats tempfail");
	T_STR(v.xcode, "5.7.9", "order: the winning rule's reply");
	verdict_clear(&v);
	/* domain rules replace the direction's rules for the finding, softer or harder */
	const char *dir[] = { "spf.fail=reject", "dmarc.fail=junk" };
	const char *dom[] = { "partner.example:spf.*=accept", "bank.example:dmarc.fail=reject",
	                      "bank.example:dmarc.*=quarantine" };
	T_INT(decide_one("spf.fail", dir, 2, dom, 3, "mx.partner.example", &v), ACT_ACCEPT, "domain: softens the direction's reject");
	verdict_clear(&v);
	T_INT(decide_one("dmarc.fail", dir, 2, dom, 3, "bank.example", &v), ACT_REJECT, "domain: hardens; strongest domain rule wins");
	verdict_clear(&v);
	T_INT(decide_one("dmarc.fail", dir, 2, dom, 3, "other.example", &v), ACT_JUNK, "domain: other domains keep the direction's rule");
	verdict_clear(&v);
	T_INT(decide_one("spf.fail", dir, 2, dom, 3, "bank.example", &v), ACT_REJECT, "domain: no domain rule for the finding, direction's applies");
	verdict_clear(&v);
	/* monitor: decided kept, accept enforced */
	const char *names[] = { "x" };
	struct verdict_input in = { .finding_names = names, .nfindings = 1,
		.rules = compile_rules(ja, 2), .nrules = 2, .dry_run = 1,
		.reject_reply = reply_of("550 5.7.1 no"), .tempfail_reply = reply_of("451 4.7.1 later") };
	memset(&v, 0, sizeof(v));
	verdict_decide(&in, &v);
	T_OK(v.decided == ACT_JUNK && v.action == ACT_ACCEPT && v.dry_run, "monitor: junk decided, accept enforced");
	verdict_clear(&v);
}

static void test_conf(const char *tmpdir)
{
	char err[512], path[512];
	conf *c = conf_load(NULL, err, sizeof(err));
	T_OK(c != NULL, "conf: defaults load");
	T_INT(conf_int(c, "dns.timeout_ms"), 4000, "conf: integer default");
	T_STR(conf_str(c, "dmarc.mode"), "rfc9989", "conf: string default");
	T_STR(conf_str(c, "policy.mode"), "monitor", "conf: monitor mode by default");
	T_INT(conf_bool(c, "policy.dry_run"), 0, "conf: dry_run alias off by default");
	T_STR(conf_str(c, "milter.user"), "trustmilter", "conf: a dedicated user by default");
	T_INT(conf_set(c, "policy.mode", "block", err, sizeof(err)), -1, "conf: policy.mode choice refused");
	const char *const *l;
	T_INT(conf_list(c, "policy.inbound.actions", &l), 4, "conf: list default");
	T_INT(conf_set(c, "dns.timeout_ms", "5", err, sizeof(err)), -1, "conf: below range refused");
	T_INT(conf_set(c, "dmarc.mode", "rfc1234", err, sizeof(err)), -1, "conf: choice refused");
	T_INT(conf_set(c, "nope", "1", err, sizeof(err)), -1, "conf: unknown key refused");
	conf_unref(c);
	static const struct { const char *text; int ok; const char *errpart; const char *name; } f[] = {
		{ "dns: { timeout_ms = 1500; forwarders = [\"127.0.0.1@5353\"]; };\n", 1, NULL, "valid file" },
		{ "dns: {\n timeout_ms = \"fast\";\n};\n", 0, ":2:", "wrong type names the line" },
		{ "dns: { timeut_ms = 5; };\n", 0, "unknown key", "typo is an error" },
		{ "dns: { timeout_ms = 5 \n", 0, ":2:", "syntax error names the line" },
		{ "policy: { dry_run = true; inbound: { actions = [\"a=reject\"]; }; };\n", 1, NULL, "nested groups" },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(path, sizeof(path), "%s/c%zu.conf", tmpdir, i);
		FILE *fp = fopen(path, "w");
		fputs(f[i].text, fp);
		fclose(fp);
		err[0] = '\0';
		c = conf_load(path, err, sizeof(err));
		T_INT(c != NULL, f[i].ok, "conf file: %s", f[i].name);
		if (f[i].errpart)
			T_OK(strstr(err, f[i].errpart) != NULL, "conf file: %s (message \"%s\")", f[i].name, err);
		conf_unref(c);
	}
}

/* test_findings_help - every known finding has a meaning and a fix, and the
 * help table names no finding the code does not know. */
static void test_findings_help(void)
{
	size_t missing = 0, stale = 0, i;
	const char *name;
	for (i = 0; (name = findings_known_name(i)) != NULL; i++) {
		const struct finding_help *h = findings_help(name);
		if (h == NULL || !h->meaning[0] || !h->fix[0]) {
			missing++;
			printf("# finding %s has no help row: add { \"%s\", \"what it means\", \"the one-line fix\" }"
			       " to help[] in policy/findings.c (sorted by name), and the same row"
			       " \"| `%s` | meaning | fix |\" to docs/FINDINGS.md\n", name, name, name);
		}
	}
	const struct finding_help *h;
	for (i = 0; (h = findings_help_row(i)) != NULL; i++) {
		if (!findings_known(h->name)) {
			stale++;
			printf("# help[] in policy/findings.c has a row for %s, which is not in known[]\n", h->name);
		}
		if (i && strcmp(findings_help_row(i - 1)->name, h->name) >= 0) {
			stale++;
			printf("# help[] in policy/findings.c is not sorted at %s\n", h->name);
		}
	}
	T_INT(missing, 0, "findings: every known finding has a meaning and a fix (help[])");
	T_INT(stale, 0, "findings: help[] is sorted and names only known findings");
	T_OK(findings_help("nosuch.finding") == NULL, "findings: no help for an unknown name");
	T_STR(findings_help("unsub.post_bad_value") ? findings_help("unsub.post_bad_value")->fix : NULL,
	      "set List-Unsubscribe-Post to exactly List-Unsubscribe=One-Click", "findings: help lookup");
}

int main(void)
{
	char tmpl[] = "/tmp/tm-conf-XXXXXX";
	const char *dir = mkdtemp(tmpl);
	test_buf();
	test_findings();
	test_findings_help();
	test_hdr();
	test_servid();
	test_cidr();
	test_json();
	test_verdict();
	test_verdict_order();
	test_conf(dir ? dir : "/tmp");
	return t_done();
}
