#!/usr/bin/python3
"""check-cli - trustmilter-check end to end: keys from opendkim-genkey, messages
signed by python3-dkim, zones served by a real unbound (tests/lib/dnsd.py),
JSON output checked field by field; exit codes; mbox and stdin; bad input
(each must give a finding or a clear error, never a crash or a hang)."""
import json
import re
import os
import subprocess
import sys
import time

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or "/tmp/tm-check-cli"
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import fixture  # noqa: E402

CHECK = os.path.join(BUILD, "trustmilter-check")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
n = 0


def ok(cond, name, extra=""):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond and extra:
        for line in str(extra).splitlines()[:40]:
            print("#   " + line)


def run(args, stdin=None, timeout=60):
    t = time.time()
    p = subprocess.run([CHECK] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), time.time() - t


def check_json(conf, path, env, extra=()):
    rc, out, err, _ = run(["-c", conf, "--json"] + fixture.envelope_args(env) + list(extra) + [path])
    try:
        return rc, json.loads(out.splitlines()[0]), err
    except Exception as e:  # noqa: BLE001
        return rc, {"_error": "%s: %r %r" % (e, out[:500], err[:500])}, err


def names(j):
    return [f["name"] for f in j.get("findings", [])]


def main():
    os.makedirs(TMP, exist_ok=True)
    fixture.build(TMP)
    with open(os.path.join(TMP, "zones.yaml"), "a") as f:
        f.write("timeout.test:\n  - TIMEOUT\n_dmarc.timeout.test:\n  - TIMEOUT\n"
                "servfail.test:\n  - SERVFAIL\n_dmarc.servfail.test:\n  - SERVFAIL\n")
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"),
                          os.path.join(TMP, "zones.yaml")], capture_output=True, text=True, check=True).stdout.strip()
    try:
        conf = fixture.write_conf(TMP, dns, mode="enforce")
        cases(conf)
        cli(conf)
        bad_input(conf)
        monitor(fixture.write_conf(TMP, dns, name="monitor.conf"), conf)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
    return 0


def case(conf, fname):
    env = dict((c[0], c[2]) for c in fixture.CASES)[fname]
    return check_json(conf, os.path.join(TMP, "msgs", fname), env)


def cases(conf):
    rc, j, err = case(conf, "transactional.eml")
    ok(rc == 0 and names(j) == [], "transactional: no findings, exit 0", (rc, names(j), err))
    ok(j.get("spf", {}).get("result") == "pass" and j["spf"]["domain"] == "example.test", "transactional: spf pass", j.get("spf"))
    d = j.get("dkim", [{}])
    ok(len(d) == 1 and d[0].get("result") == "pass" and d[0].get("domain") == "example.test"
       and d[0].get("selector") == "s1" and d[0].get("algorithm") == "rsa-sha256", "transactional: dkim pass", d)
    ok("from" in d[0].get("signed_headers", []) if d else False, "transactional: signed headers listed", d)
    dm = j.get("dmarc", {})
    ok(dm.get("result") == "pass" and dm.get("policy") == "reject" and dm.get("disposition") == "none"
       and dm.get("from_domain") == "example.test", "transactional: dmarc pass, p=reject", dm)
    ok(j.get("unsubscribe", {}).get("verdict") == "absent" and j.get("bulk") is False, "transactional: not bulk, no unsubscribe", j.get("unsubscribe"))
    ar = j.get("authentication_results") or ""
    ok(ar.startswith("mx.recipient.test;") and "spf=pass smtp.mailfrom=bounce@example.test" in ar
       and "dkim=pass header.d=example.test header.s=s1" in ar and "dmarc=pass" in ar and "header.from=example.test" in ar,
       "transactional: Authentication-Results", ar)
    ok(j.get("action") == "accept", "transactional: accept")

    rc, j, err = case(conf, "marketing-compliant.eml")
    u = j.get("unsubscribe", {})
    ok(u.get("verdict") == "compliant" and u.get("https") is True and u.get("covered_by") == "example.test",
       "compliant campaign: one-click compliant", (u, names(j)))
    ok(j.get("bulk") is True and j.get("campaign", "").startswith("November offers"), "compliant campaign: bulk with campaign key", j.get("campaign"))
    pr = j.get("providers", {})
    ok(all(pr.get(p, {}).get("ready") for p in ("gmail", "yahoo", "microsoft")), "compliant campaign: ready at all providers", pr)
    ok(rc == 0 and names(j) == [], "compliant campaign: no findings", names(j))
    d = j.get("dkim", [{}])[0]
    ok(d.get("covers_list_unsubscribe") and d.get("covers_list_unsubscribe_post") and d.get("aligned"),
       "compliant campaign: signature covers both fields and aligns", d)
    ok(j.get("dmarc", {}).get("policy_domain") == "example.test", "compliant campaign: policy found at the organizational domain", j.get("dmarc"))

    rc, j, err = case(conf, "marketing-uncovered.eml")
    u = j.get("unsubscribe", {})
    ok(rc == 1 and u.get("verdict") == "noncompliant" and "unsub.not_dkim_covered" in u.get("findings", []),
       "uncovered campaign: unsub.not_dkim_covered", (rc, u))
    ok("bulk.no_one_click" in names(j), "uncovered campaign: bulk.no_one_click", names(j))
    ok(j.get("providers", {}).get("gmail", {}).get("ready") is False, "uncovered campaign: not Gmail ready", j.get("providers"))
    ok(j.get("providers", {}).get("microsoft", {}).get("ready") is True, "uncovered campaign: Microsoft only needs authentication", j.get("providers"))

    rc, j, err = case(conf, "marketing-mailto-only.eml")
    pr = j.get("providers", {})
    ok(j.get("unsubscribe", {}).get("verdict") == "noncompliant" and pr.get("gmail", {}).get("ready") is False
       and pr.get("yahoo", {}).get("ready") is True, "mailto-only campaign: Yahoo ready, Gmail not", (j.get("unsubscribe"), pr))

    rc, j, err = case(conf, "marketing-esp-signed.eml")
    d = j.get("dkim", [{}])
    ok(d and d[0].get("result") == "pass" and d[0].get("domain") == "esp.test" and d[0].get("aligned") is False,
       "ESP-signed campaign: signature passes but does not align", d)
    dm = j.get("dmarc", {})
    ok(dm.get("result") == "fail" and dm.get("disposition") == "reject" and dm.get("spf_aligned") is False,
       "ESP-signed campaign: dmarc fail, disposition reject", dm)
    ok(j.get("action") == "reject" and (j.get("smtp_reply") or "").startswith("550 5.7.1"), "ESP-signed campaign: action reject with 550", (j.get("action"), j.get("smtp_reply")))
    ok("dkim.not_aligned" in names(j) and j.get("unsubscribe", {}).get("verdict") == "noncompliant",
       "ESP-signed campaign: dkim.not_aligned, one-click not compliant", (names(j), j.get("unsubscribe")))

    rc, j, err = case(conf, "spoofed.eml")
    ok(j.get("spf", {}).get("result") == "fail" and j.get("dkim") == [] and j.get("dmarc", {}).get("result") == "fail"
       and j.get("action") == "reject", "spoofed: spf fail, no dkim, dmarc fail, reject", (j.get("spf"), j.get("dmarc"), j.get("action")))
    ok("dkim.none" in names(j) and "dmarc.disposition.reject" in names(j), "spoofed: findings named", names(j))

    rc, j, err = case(conf, "malformed.eml")
    nm = names(j)
    ok(rc == 1 and any(x.startswith("format.from") for x in nm) and any("date" in x for x in nm)
       and any("message_id" in x for x in nm), "malformed: format findings", nm)
    ok(j.get("dmarc", {}).get("result") == "none" and j.get("dmarc", {}).get("from_domain") == "other.test"
       and [a["domain"] for a in j.get("dmarc", {}).get("authors", [])] == ["example.test", "other.test"]
       and "dmarc.multiple_authors" in nm,
       "malformed: no single From domain, each author domain evaluated, the strictest reported", j.get("dmarc"))

    # dry run and outbound rules through --set
    rc, j, err = case_with(conf, "spoofed.eml", ["--set", "policy.dry_run=true"])
    ok(j.get("action") == "reject" and j.get("action_enforced") == "accept" and j.get("dry_run") is True,
       "dry run: decided reject, enforced accept", (j.get("action"), j.get("action_enforced")))
    rc, j, err = case_with(conf, "marketing-uncovered.eml",
                           ["--direction", "outbound", "--set", "policy.outbound.actions=bulk.no_one_click=reject:550 5.7.9 one-click required"])
    ok(j.get("direction") == "outbound" and j.get("action") == "reject" and j.get("smtp_reply") == "550 5.7.9 one-click required",
       "outbound rule: campaign without one-click rejected with the configured reply", (j.get("direction"), j.get("action"), j.get("smtp_reply")))


def monitor(mconf, econf):
    """The shipped default (no policy.mode) is monitor: decided, shown, not enforced."""
    rc, j, err = case(mconf, "spoofed.eml")
    ok(rc == 1 and j.get("action") == "reject" and j.get("action_enforced") == "accept"
       and j.get("mode") == "monitor" and j.get("dmarc", {}).get("result") == "fail",
       "monitor by default: spoofed decided reject, enforced accept, exit 1 (findings)",
       (rc, j.get("action"), j.get("action_enforced"), j.get("mode")))
    ok("action=reject; mode=monitor;" in (j.get("compliance_header") or ""),
       "monitor by default: compliance header shows the decision and the mode", j.get("compliance_header"))
    env = dict((c[0], c[2]) for c in fixture.CASES)["spoofed.eml"]
    rc, out, err, _ = run(["-c", mconf] + fixture.envelope_args(env) + [os.path.join(TMP, "msgs", "spoofed.eml")])
    ok(rc == 1 and re.search(r"Action +reject \(dmarc.disposition.reject\)", out) and "monitor mode" in out,
       "monitor by default: text report names the decided action and monitor mode", out[-800:] + err)
    rc, j, err = case(mconf, "transactional.eml")
    ok(rc == 0 and j.get("action") == "accept" and j.get("mode") == "monitor", "monitor by default: clean mail exit 0",
       (rc, j.get("action")))
    rc, j, err = case(econf, "spoofed.eml")
    ok(rc == 1 and j.get("action") == "reject" and j.get("action_enforced") == "reject" and j.get("mode") == "enforce",
       "enforce: spoofed decided and enforced reject, exit 1", (rc, j.get("action_enforced"), j.get("mode")))
    rc, out, err, _ = run(["-c", econf] + fixture.envelope_args(env) + [os.path.join(TMP, "msgs", "spoofed.eml")])
    ok(rc == 1 and "monitor mode" not in out and "SMTP reply: 550" in out, "enforce: text report without the monitor note", out[-800:])


def case_with(conf, fname, extra):
    env = dict((c[0], c[2]) for c in fixture.CASES)[fname]
    return check_json(conf, os.path.join(TMP, "msgs", fname), env, extra)


def cli(conf):
    msgs = os.path.join(TMP, "msgs")
    rc, out, err, _ = run(["-c", conf] + fixture.envelope_args(fixture.CASES[0][2]) + [os.path.join(msgs, "transactional.eml")])
    ok(rc == 0 and "Providers" in out and "Authentication-Results:" in out and "DMARC" in out, "text report, exit 0", out + err)
    rc, out, err, _ = run(["-c", conf, "--json", os.path.join(msgs, "spoofed.eml")])
    ok(rc == 1, "findings give exit 1", (rc, err))
    rc, out, err, _ = run(["-c", conf, "/nonexistent/file.eml"])
    ok(rc == 2 and "nonexistent" in err, "missing file gives exit 2 and names it", (rc, err))
    rc, out, err, _ = run(["--no-such-option", "x"])
    ok(rc == 2, "bad option gives exit 2", rc)
    rc, out, err, _ = run(["-c", "/nonexistent.conf", "x"])
    ok(rc == 2 and "nonexistent.conf" in err, "bad config path gives exit 2", err)
    bad = os.path.join(TMP, "bad.conf")
    open(bad, "w").write("dns: {\n timeout_ms = \"x\";\n};\n")
    rc, out, err, _ = run(["-c", bad, "x"])
    ok(rc == 2 and "bad.conf:2" in err, "config error names file and line", err)
    badrule = os.path.join(TMP, "badrule.conf")
    open(badrule, "w").write("policy: {\n inbound: {\n  actions = [ \"spf.fail=reject\", \"spf.nope=reject\" ];\n };\n};\n")
    rc, out, err, _ = run(["-c", badrule, os.path.join(msgs, "transactional.eml")])
    ok(rc == 2 and "badrule.conf:3: policy.inbound.actions: item 2:" in err and "unknown finding" in err,
       "a rule that does not compile is a configuration error with file and line", (rc, err))
    data = open(os.path.join(msgs, "transactional.eml"), "rb").read()
    rc, out, err, _ = run(["-c", conf, "--json"] + fixture.envelope_args(fixture.CASES[0][2]) + ["-"], stdin=data)
    ok(rc == 0 and json.loads(out)["dkim"][0]["result"] == "pass", "standard input", (rc, out[:300], err))
    mbox = os.path.join(TMP, "two.mbox")
    with open(mbox, "wb") as f:
        for fn in ("transactional.eml", "spoofed.eml"):
            body = open(os.path.join(msgs, fn), "rb").read().replace(b"\r\n", b"\n")
            body = b"\n".join((b">" + l if l.startswith(b"From ") else l) for l in body.split(b"\n"))
            f.write(b"From bounce@example.test Sun Nov 22 09:00:00 2026\n" + body + b"\n")
    rc, out, err, _ = run(["-c", conf, "--json", "--client-ip", "192.0.2.20", mbox])
    lines = out.splitlines()
    ok(len(lines) == 2 and json.loads(lines[0])["dkim"][0]["result"] == "pass" and json.loads(lines[1])["index"] == 2,
       "mbox: two messages, the signed one still verifies", (rc, out[:500], err))
    rc, out, err, _ = run(["--print-config"])
    ok(rc == 0 and out == open(os.path.join(SRC, "conf", "trustmilter.conf")).read(),
       "conf/trustmilter.conf is what --print-config generates from the key table")


def bad_input(conf):
    env = dict(ip="192.0.2.20", helo="mta.example.test", mail_from="bounce@example.test")
    hdr = b"From: a@example.test\nTo: b@recipient.test\nDate: Sun, 22 Nov 2026 09:00:00 +0000\nMessage-ID: <x@example.test>\nSubject: s\n"
    deep = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(60))
    cases_ = [
        ("empty input", b"", None),
        ("truncated header", b"From: a@exa", None),
        ("200 KB header line", hdr + b"X-Long: " + b"a" * 200000 + b"\n\nbody\n", None),
        ("NUL bytes", hdr.replace(b"Subject: s", b"Subject: s\x00x") + b"\nbo\x00dy\n", "format.header_nul"),
        ("bare LF and CR mix", hdr.replace(b"\n", b"\r\n", 2) + b"\nbody\rline\n", None),
        ("5000 headers", hdr + b"".join(b"X-H%d: v\n" % i for i in range(5000)) + b"\nbody\n", "limits.headers"),
        ("broken base64", hdr + b"Content-Transfer-Encoding: base64\n\n!!!!####====\n", None),
        ("60-deep MIME", hdr + b"MIME-Version: 1.0\n" + deep + b"x\n", None),
        ("non-UTF-8 bytes", hdr.replace(b"Subject: s", b"Subject: \xff\xfe\xc3(") + b"\n\xff body\n", None),
        ("header line without colon", hdr + b"this is not a header\n\nbody\n", "format.header_syntax"),
        ("malformed DKIM-Signature", b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; b=!!;\n" + hdr + b"\nbody\n", None),
        ("huge DKIM z= tag", b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=s1; h=from; bh=x; b=y; z=" + b"A" * 40000 + b"\n" + hdr + b"\nbody\n", None),
    ]
    for name, data, want in cases_:
        p = os.path.join(TMP, "bad.eml")
        open(p, "wb").write(data)
        try:
            rc, out, err, secs = run(["-c", conf, "--json"] + fixture.envelope_args(env) + [p], timeout=60)
        except subprocess.TimeoutExpired:
            ok(False, "bad input: %s (hang)" % name)
            continue
        try:
            j = json.loads(out.splitlines()[0])
            good = rc in (0, 1) and "action" in j
        except Exception:  # noqa: BLE001
            j, good = {}, False
        ok(good and "ERROR: AddressSanitizer" not in err and "runtime error" not in err,
           "bad input: %s handled (exit %d)" % (name, rc), err[-2000:] + out[:300])
        if want:
            ok(want in names(j), "bad input: %s gives %s" % (name, want), names(j))
    # DNS failures: temperror, never fail
    msg = os.path.join(TMP, "t.eml")
    for dom, label in (("timeout.test", "DNS timeout"), ("servfail.test", "DNS SERVFAIL")):
        open(msg, "wb").write(hdr.replace(b"a@example.test", b"a@" + dom.encode()) + b"\nbody\n")
        rc, out, err, secs = run(["-c", conf, "--json", "--dns-timeout", "500", "--client-ip", "192.0.2.20",
                                  "--helo", "h.example.test", "--mail-from", "b@" + dom, msg])
        try:
            j = json.loads(out.splitlines()[0])
        except Exception:  # noqa: BLE001
            j = {}
        ok(j.get("spf", {}).get("result") == "temperror" and j.get("dmarc", {}).get("result") == "temperror",
           "%s: spf and dmarc temperror, not fail" % label, (j.get("spf"), j.get("dmarc"), err[-500:]))
        ok(secs < 20, "%s: bounded by the deadline (%.1fs)" % (label, secs))


if __name__ == "__main__":
    sys.exit(main())
