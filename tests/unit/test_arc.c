/*
 * test_arc - ARC set parsing and chain structure rules (RFC 8617 4.2, 5.2),
 * the AAR reading and the trusted-sealer override, without DNS: a chain whose
 * structure holds fails only at its body hash ("arc.ams_fail"). Signatures are
 * checked end to end in tests/integration/arc.py.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "arc.h"
#include "policy.h"

#define AS_FMT "i=%d; a=rsa-sha256; cv=%s; d=%s; s=s1; t=1; b=AAAA"
#define AMS_FMT "i=%d; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s1; h=from:subject; bh=AAAA; b=AAAA"

/* add - one field with a leading space, as received. */
static void add(hdr_set *h, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(hdr_set *h, const char *name, const char *fmt, ...)
{
	char v[4096] = " ";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v + 1, sizeof(v) - 1, fmt, ap);
	va_end(ap);
	hdr_add(h, name, strlen(name), v, strlen(v));
}

/* set - a complete ARC set of instance i sealed by d. */
static void set(hdr_set *h, int i, const char *d, const char *aar)
{
	add(h, "ARC-Seal", AS_FMT, i, i == 1 ? "none" : "pass", d);
	add(h, "ARC-Message-Signature", AMS_FMT, i, d);
	add(h, "ARC-Authentication-Results", "i=%d; mx.%s; %s", i, d, aar);
}

/* run - validate h without DNS; the finding name ("" for none/pass). */
static const char *run(hdr_set *h, struct arc_outcome *o)
{
	static char name[64];
	arc_verify *v = arc_new(NULL, NULL, NULL);
	arc_eoh(v, h);
	arc_body(v, (const unsigned char *)"body\r\n", 6);
	arc_eom(v, o);
	snprintf(name, sizeof(name), "%s", o->finding ? o->finding : "");
	arc_free(v);
	return name;
}

static void test_structure(void)
{
	struct arc_outcome o;
	hdr_set *h = hdr_new(1000, 1 << 20);
	add(h, "From", "a@example.test");
	T_STR(run(h, &o), "", "no ARC fields: no finding");
	T_INT(o.result, AR_NONE, "no ARC fields: none");

	set(h, 1, "lists.test", "dmarc=pass header.from=example.test");
	T_STR(run(h, &o), "arc.ams_fail", "a whole set passes the structure rules (fails at bh=)");
	T_INT(o.result, AR_FAIL, "without a key: fail");
	T_INT(o.instances, 1, "one instance");
	T_STR(o.sealer, "lists.test", "sealer of the newest instance");

	hdr_reset(h);
	set(h, 1, "a.test", "none");
	set(h, 3, "c.test", "none");
	T_STR(run(h, &o), "arc.structure", "gap: instance 2 missing");

	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Seal", AS_FMT, 1, "none", "b.test");
	T_STR(run(h, &o), "arc.structure", "two ARC-Seal i=1");

	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Authentication-Results", "i=1; x.test; none");
	T_STR(run(h, &o), "arc.structure", "two ARC-Authentication-Results i=1");

	hdr_reset(h);
	add(h, "ARC-Seal", AS_FMT, 1, "none", "a.test");
	add(h, "ARC-Authentication-Results", "i=1; a.test; none");
	T_STR(run(h, &o), "arc.structure", "set without an AMS");

	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Seal", AS_FMT, 2, "fail", "b.test");
	add(h, "ARC-Message-Signature", AMS_FMT, 2, "b.test");
	add(h, "ARC-Authentication-Results", "i=2; b.test; arc=fail");
	T_STR(run(h, &o), "arc.chain_failed", "newest cv=fail");

	hdr_reset(h);
	add(h, "ARC-Seal", AS_FMT, 1, "pass", "a.test");
	add(h, "ARC-Message-Signature", AMS_FMT, 1, "a.test");
	add(h, "ARC-Authentication-Results", "i=1; a.test; none");
	T_STR(run(h, &o), "arc.structure", "cv=pass at i=1");

	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Seal", AS_FMT, 2, "none", "b.test");
	add(h, "ARC-Message-Signature", AMS_FMT, 2, "b.test");
	add(h, "ARC-Authentication-Results", "i=2; b.test; none");
	T_STR(run(h, &o), "arc.structure", "cv=none at i=2");

	hdr_reset(h);
	add(h, "ARC-Seal", AS_FMT, 51, "pass", "a.test");
	T_STR(run(h, &o), "arc.too_many_instances", "i=51");
	hdr_reset(h);
	add(h, "ARC-Authentication-Results", "i=99999999999999999999; a.test; none");
	T_STR(run(h, &o), "arc.too_many_instances", "an enormous i= in an AAR");
	hdr_reset(h);
	add(h, "ARC-Seal", "i=0; a=rsa-sha256; cv=none; d=a.test; s=s; b=AA");
	T_STR(run(h, &o), "arc.syntax", "i=0");
	hdr_reset(h);
	add(h, "ARC-Seal", "i=x; a=rsa-sha256; cv=none; d=a.test; s=s; b=AA");
	T_STR(run(h, &o), "arc.syntax", "i=x");
	hdr_reset(h);
	add(h, "ARC-Message-Signature", "i=1; a=rsa-sha256; d=a.test; s=s; h=from; b=AA");
	T_STR(run(h, &o), "arc.syntax", "AMS without bh=");
	hdr_reset(h);
	add(h, "ARC-Seal", "i=1; i=1; a=rsa-sha256; cv=none; d=a.test; s=s; b=AA");
	T_STR(run(h, &o), "arc.syntax", "duplicate tag");
	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Seal", "i=2; a=rsa-sha256; cv=pass; d=a.test; s=s; h=from; b=AA");
	add(h, "ARC-Message-Signature", AMS_FMT, 2, "a.test");
	add(h, "ARC-Authentication-Results", "i=2; a.test; none");
	T_STR(run(h, &o), "arc.syntax", "ARC-Seal with h= (RFC 8617 4.1.3; suite as_fields_h_present)");
	hdr_reset(h);
	add(h, "ARC-Seal", "garbage without tags");
	T_STR(run(h, &o), "arc.syntax", "not a tag list");
	hdr_reset(h);
	add(h, "ARC-Authentication-Results", "i=1 mx.test; none");
	T_STR(run(h, &o), "arc.syntax", "AAR without ';' after i=");
	hdr_reset(h);
	set(h, 1, "a.test", "none");
	add(h, "ARC-Message-Signature", "i=2; a=rsa-sha256; c=bogus; d=b.test; s=s; h=from; bh=AA; b=AA");
	add(h, "ARC-Seal", AS_FMT, 2, "pass", "b.test");
	add(h, "ARC-Authentication-Results", "i=2; b.test; none");
	T_STR(run(h, &o), "arc.syntax", "unknown c=");
	hdr_reset(h);
	set(h, 1, "a.test", "none");
	char hl[1200] = "from";
	for (size_t k = 0, l = 4; k < 128; k++, l += 3)
		snprintf(hl + l, sizeof(hl) - l, ":to");
	add(h, "ARC-Message-Signature", "i=2; a=rsa-sha256; d=b.test; s=s; h=%s; bh=AA; b=AA", hl);
	add(h, "ARC-Seal", AS_FMT, 2, "pass", "b.test");
	add(h, "ARC-Authentication-Results", "i=2; b.test; none");
	T_STR(run(h, &o), "arc.syntax", "129 names in h=");
	hdr_free(h);
}

static void test_caps(void)
{
	struct arc_outcome o;
	hdr_set *h = hdr_new(1000, 1 << 20);
	/* a huge b= (past ARC_MAX_FIELD_BYTES) */
	size_t n = ARC_MAX_FIELD_BYTES + 100;
	char *big = malloc(n + 64);
	int k = snprintf(big, 64, " i=1; a=rsa-sha256; cv=none; d=a.test; s=s; b=");
	memset(big + k, 'A', n - (size_t)k);
	big[n] = '\0';
	hdr_add(h, "ARC-Seal", 8, big, n);
	add(h, "ARC-Message-Signature", AMS_FMT, 1, "a.test");
	add(h, "ARC-Authentication-Results", "i=1; a.test; none");
	T_STR(run(h, &o), "arc.syntax", "b= of %zu bytes refused", n);
	T_INT(o.result, AR_FAIL, "huge b=: fail");
	free(big);

	/* 60 instances: 180 fields, past the ARC class cap of 150 */
	hdr_reset(h);
	for (int i = 60; i >= 1; i--)
		set(h, i, "a.test", "none");
	const char *f = run(h, &o);
	T_OK(o.result == AR_FAIL && (strcmp(f, "arc.too_many_instances") == 0 ||
	                             strcmp(f, "arc.incomplete") == 0), "60 instances: fail (%s)", f);
	/* 50 instances padded behind the class cap by more ARC fields */
	hdr_reset(h);
	for (int i = 1; i <= 50; i++)
		set(h, i, "a.test", "none");
	add(h, "ARC-Authentication-Results", "i=1; padding; none");
	T_STR(run(h, &o), "arc.incomplete", "a field refused by the ARC cap: fail");
	hdr_free(h);
}

static void test_aar(void)
{
	size_t rest;
	T_INT(arc_aar_instance("i=1; mx.test; none", 18, &rest), 1, "i=1");
	T_INT(rest, 4, "rest after ';'");
	const char *s = " (c) i = 7 ; x";
	T_INT(arc_aar_instance(s, strlen(s), &rest), 7, "CFWS around i=");
	T_INT(arc_aar_instance("i=50;", 5, &rest), 50, "i=50");
	T_INT(arc_aar_instance("i=51;", 5, &rest), -1, "i=51");
	T_INT(arc_aar_instance("i=;", 3, &rest), 0, "empty i=");
	T_INT(arc_aar_instance("i=1", 3, &rest), 0, "no ';'");
	T_INT(arc_aar_instance("x=1;", 4, &rest), 0, "not i=");

	hdr_set *h = hdr_new(1000, 1 << 20);
	set(h, 1, "lists.test", "dkim=pass (good) header.d=mail.example.test header.s=s; "
	    "spf=fail smtp.mailfrom=x@example.test");
	set(h, 2, "hop.test", "spf=pass smtp.mailfrom=\"bounce@example.test\"");
	set(h, 3, "hop.test", "dmarc=pass header.from=example.test");
	set(h, 4, "hop.test", "dmarc=pass header.from=other.test; dkim=fail header.d=example.test");
	set(h, 5, "hop.test", "dmarc=fail header.from=example.test; (dkim=pass header.d=example.test)");
	arc_verify *v = arc_new(NULL, NULL, NULL);
	arc_eoh(v, h);
	T_OK(arc_aar_authenticates(v, 1, "example.test", "example.test"), "aligned dkim pass (relaxed)");
	T_OK(!arc_aar_authenticates(v, 1, "other.test", "other.test"), "dkim pass of another domain");
	T_OK(arc_aar_authenticates(v, 2, "example.test", ""), "spf pass, quoted mailfrom");
	T_OK(arc_aar_authenticates(v, 3, "example.test", "example.test"), "dmarc=pass header.from");
	T_OK(!arc_aar_authenticates(v, 3, "sub.example.test", "example.test"),
	     "dmarc pass of the parent is not the author's");
	T_OK(!arc_aar_authenticates(v, 4, "example.test", "example.test"), "pass for another From, dkim fail");
	T_OK(!arc_aar_authenticates(v, 5, "example.test", "example.test"), "a result in a comment is no result");
	T_OK(!arc_aar_authenticates(v, 9, "example.test", "example.test"), "no such instance");

	/* the override: newest sealer trusted, oldest trusted instance's AAR read */
	struct arc_outcome o = { .result = AR_PASS };
	struct policy_name t[] = { { "hop.test", 8 }, { "lists.test", 10 } };
	char who[256];
	T_OK(arc_override(v, &o, t, 2, "example.test", "example.test", who, sizeof(who)),
	     "trusted run 1..5: instance 1's AAR (an aligned dkim pass) is read");
	T_STR(who, "lists.test", "the override names instance 1's sealer");
	T_OK(!arc_override(v, &o, t + 1, 1, "example.test", "example.test", who, sizeof(who)),
	     "newest sealer not trusted: no override");
	arc_free(v);

	hdr_reset(h);
	set(h, 1, "lists.test", "dmarc=pass header.from=example.test");
	set(h, 2, "evil.test", "dmarc=pass header.from=example.test");
	set(h, 3, "hop.test", "arc=pass");
	v = arc_new(NULL, NULL, NULL);
	arc_eoh(v, h);
	T_OK(!arc_override(v, &o, t, 2, "example.test", "example.test", who, sizeof(who)),
	     "an untrusted sealer inside the run ends it: instance 3's AAR shows nothing");
	struct policy_name all[] = { { "hop.test", 8 }, { "lists.test", 10 }, { "evil.test", 9 } };
	T_OK(arc_override(v, &o, all, 3, "example.test", "example.test", who, sizeof(who)),
	     "every sealer trusted: instance 1's AAR");
	T_STR(who, "lists.test", "the sealer named is instance 1's");
	struct arc_outcome failo = { .result = AR_FAIL };
	T_OK(!arc_override(v, &failo, all, 3, "example.test", "example.test", who, sizeof(who)),
	     "never after a failed chain");
	arc_free(v);
	hdr_free(h);
}

/* ams_hlist - the AMS h= rules checked before its body hash (RFC 6376
 * 6.1.1 via RFC 8617 4.1.2; 8617 4.1.2's MUST NOT for ARC-Seal): one set
 * whose AMS signs hl; the reason of the failure. */
static const char *ams_hlist(const char *hl)
{
	static struct arc_outcome o;
	hdr_set *h = hdr_new(100, 1 << 16);
	add(h, "ARC-Seal", AS_FMT, 1, "none", "a.test");
	add(h, "ARC-Message-Signature", "i=1; a=rsa-sha256; c=relaxed/relaxed; d=a.test; s=s1; "
	    "h=%s; bh=AAAA; b=AAAA", hl);
	add(h, "ARC-Authentication-Results", "i=1; a.test; none");
	const char *f = run(h, &o);
	hdr_free(h);
	return strcmp(f, "arc.ams_fail") == 0 ? o.reason : f;
}

static void test_ams_hlist(void)
{
	T_STR(ams_hlist("from:subject"), "ARC-Message-Signature i=1: body hash mismatch",
	      "h= with From: on to the body hash");
	T_STR(ams_hlist(" Subject :\r\n\tFROM "), "ARC-Message-Signature i=1: body hash mismatch",
	      "From found in any case, FWS around names");
	T_STR(ams_hlist("to:subject"), "ARC-Message-Signature i=1: h= does not sign From (RFC 6376 6.1.1)",
	      "h= without From: fail (suite ams_fields_h_empty)");
	T_STR(ams_hlist("fromx:subject"), "ARC-Message-Signature i=1: h= does not sign From (RFC 6376 6.1.1)",
	      "a longer name is not From");
	T_STR(ams_hlist("from:to:arc-seal:subject"),
	      "ARC-Message-Signature i=1: h= signs ARC-Seal (RFC 8617 4.1.2)",
	      "h= listing ARC-Seal: fail (suite ams_fields_h_includes_as)");
	T_STR(ams_hlist("from: ARC-SEAL"), "ARC-Message-Signature i=1: h= signs ARC-Seal (RFC 8617 4.1.2)",
	      "ARC-Seal in any case");
}

int main(void)
{
	test_structure();
	test_ams_hlist();
	test_caps();
	test_aar();
	return t_done();
}
