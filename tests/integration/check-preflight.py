#!/usr/bin/python3
"""check-preflight - trustmilter-check as a marketer uses it on a saved test
send: --from-received takes the client address and HELO from the topmost
Received: field that names a client (a forged one further down is ignored),
every missing requirement is listed per provider, a DNS failure or an
unchecked SPF reads "could not check" (JSON status "unknown", ready null),
every finding carries its fix (the same text as docs/FINDINGS.md), messages
are labelled by Subject, and an mbox ends with a campaign summary. Signed
samples from tests/lib/fixture.py, DNS from a real unbound (tests/lib/dnsd.py)."""
import json
import os
import subprocess
import sys

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or "/tmp/tm-check-preflight"
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
    sys.stdout.flush()


def run(args, timeout=60):
    p = subprocess.run([CHECK] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def first_json(out):
    try:
        return json.loads(out.splitlines()[0])
    except Exception:  # noqa: BLE001
        return {}


def saved(fname, top):
    """A message as "show original" saves it: the receiving side's fields on top."""
    raw = open(os.path.join(TMP, "msgs", fname), "rb").read()
    p = os.path.join(TMP, "saved-" + fname)
    open(p, "wb").write(top + raw)
    return p


def main():
    os.makedirs(TMP, exist_ok=True)
    fixture.build(TMP)
    with open(os.path.join(TMP, "zones.yaml"), "a") as f:
        f.write("timeout.test:\n  - TIMEOUT\n_dmarc.timeout.test:\n  - TIMEOUT\n")
    try:
        dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"),
                              os.path.join(TMP, "zones.yaml")], capture_output=True, text=True, check=True).stdout.strip()
    except Exception as e:  # noqa: BLE001
        ok(False, "DNS server started", e)
        return 1
    try:
        conf = fixture.write_conf(TMP, dns, mode="enforce")
        from_received(conf)
        readiness(conf)
        fixes(conf)
        campaign(conf)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
    return 0


def from_received(conf):
    top = (b"Return-Path: <bounce@example.test>\r\n"
           b"Received: by 2002:a05:7300:1234:b0:1a with SMTP id x1;\r\n        Sun, 6 Dec 2026 10:00:01 -0800 (PST)\r\n"
           b"Received: from mta.example.test (mta.example.test.\r\n        [192.0.2.20])\r\n"
           b"        by mx.recipient.test with ESMTPS id abc for <me@recipient.test>;\r\n"
           b"        Sun, 06 Dec 2026 10:00:00 -0800 (PST)\r\n"
           b"Received: from forged.example (forged.example [203.0.113.66]) by mta.example.test;\r\n"
           b"        Sun, 06 Dec 2026 09:59:00 -0800\r\n")
    p = saved("transactional.eml", top)
    rc, out, err = run(["-c", conf, "--json", "--from-received", p])
    j = first_json(out)
    ok(j.get("spf", {}).get("result") == "pass" and j.get("spf", {}).get("domain") == "example.test",
       "--from-received: SPF checked with the client of the topmost Received: (pass)", (j.get("spf"), err))
    ok(all(j.get("providers", {}).get(x, {}).get("status") == "ready" for x in ("gmail", "yahoo", "microsoft")),
       "--from-received: the saved test send is ready at every provider", j.get("providers"))
    rc, out, err = run(["-c", conf, "--from-received", p])
    ok("client 192.0.2.20, helo mta.example.test, mail from <bounce@example.test>" in out,
       "--from-received: client, HELO and Return-Path envelope sender (not the forged deeper hop)", out[:400])
    rc, out, err = run(["-c", conf, "--json", "--from-received", "--client-ip", "203.0.113.9", p])
    ok(first_json(out).get("spf", {}).get("result") == "fail", "--client-ip overrides --from-received", out[:300])
    p2 = saved("marketing-compliant.eml", b"Received: by internal.example with SMTP id 1;\r\n Sun, 6 Dec 2026\r\n")
    rc, out, err = run(["-c", conf, "--json", "--from-received", p2])
    ok("no Received: field with a client address" in err and first_json(out).get("action"),
       "--from-received without a usable field: said on stderr, message still checked", (rc, err, out[:200]))


def readiness(conf):
    msgs = os.path.join(TMP, "msgs")
    rc, out, err = run(["-c", conf, "--json", os.path.join(msgs, "marketing-compliant.eml")])
    pr = first_json(out).get("providers", {})
    g = pr.get("gmail", {})
    ok(g.get("status") == "unknown" and g.get("ready") is None and
       any("SPF not checked" in m for m in g.get("missing", [])),
       "no client address: could not check (status unknown, ready null), not 'not ready'", pr)
    rc, out, err = run(["-c", conf, os.path.join(msgs, "marketing-compliant.eml")])
    ok("could not check" in out and "not ready" not in out, "text: could not check", out[:1500])
    # no DKIM, no List-Unsubscribe-Post, format findings: every requirement listed
    bad = os.path.join(TMP, "bulk-unsigned.eml")
    open(bad, "wb").write(b"From: news@example.test\r\nTo: me@recipient.test\r\nSubject: Offers\r\n"
                          b"Precedence: bulk\r\nList-Unsubscribe: <https://example.test/u/1>\r\n\r\nbody\r\n")
    env = fixture.CASES[0][2]
    rc, out, err = run(["-c", conf, "--json"] + fixture.envelope_args(env) + [bad])
    j = first_json(out)
    g = j.get("providers", {}).get("gmail", {})
    ok(g.get("status") == "not_ready" and g.get("ready") is False and
       "no passing DKIM signature" in g.get("missing", []) and "RFC 5322 format findings" in g.get("missing", []) and
       any("one-click" in m for m in g.get("missing", [])),
       "every missing requirement listed for Gmail (DKIM, format, one-click)", g)
    # DNS failure: could not check, never "not ready" or "noncompliant"
    t = os.path.join(TMP, "timeout.eml")
    open(t, "wb").write(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=timeout.test; s=s1;\r\n"
                        b" h=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n"
                        b"From: a@timeout.test\r\nTo: b@recipient.test\r\nDate: Sun, 22 Nov 2026 09:00:00 +0000\r\n"
                        b"Message-ID: <x@timeout.test>\r\nSubject: s\r\n\r\nbody\r\n")
    rc, out, err = run(["-c", conf, "--json", "--dns-timeout", "500", "--client-ip", "192.0.2.20",
                        "--helo", "h.example.test", "--mail-from", "b@timeout.test", t])
    pr = first_json(out).get("providers", {})
    ok(all(pr.get(x, {}).get("status") == "unknown" and pr.get(x, {}).get("ready") is None
           for x in ("gmail", "yahoo", "microsoft")),
       "DNS timeout: every provider 'could not check' (unknown)", pr)
    ch = first_json(out).get("compliance_header") or ""
    ok("gmail=unknown; yahoo=unknown; microsoft=unknown;" in ch,
       "DNS timeout: the compliance header says unknown, not not-ready", ch)
    rc, out, err = run(["-c", conf, "--json"] + fixture.envelope_args(env) + [bad])
    ch = first_json(out).get("compliance_header") or ""
    ok("gmail=not-ready;" in ch, "something known missing: the compliance header says not-ready", ch)


def fixes(conf):
    rows = {}
    rc, out, err = run(["--print-findings"])
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        rows[cells[1].strip("`")] = cells[3]
    ok(rc == 0 and len(rows) > 60 and all(rows.values()), "--print-findings: a fix for every finding (%d)" % len(rows))
    env = dict(dict((c[0], c[2]) for c in fixture.CASES)["spoofed.eml"])
    p = os.path.join(TMP, "msgs", "spoofed.eml")
    rc, out, err = run(["-c", conf, "--json"] + fixture.envelope_args(env) + [p])
    fs = first_json(out).get("findings", [])
    ok(fs and all(f.get("fix") == rows.get(f["name"]) for f in fs),
       "JSON: every finding carries the fix of the finding table", fs)
    rc, out, err = run(["-c", conf] + fixture.envelope_args(env) + [p])
    ok(fs and ("  fix: " + rows.get(fs[0]["name"], "?")) in out, "text: the fix under the finding", out[-1500:])


def campaign(conf):
    msgs = os.path.join(TMP, "msgs")
    mbox = os.path.join(TMP, "campaign.mbox")
    with open(mbox, "wb") as f:
        for fn in ("marketing-compliant.eml", "marketing-uncovered.eml", "marketing-compliant.eml"):
            body = open(os.path.join(msgs, fn), "rb").read().replace(b"\r\n", b"\n")
            body = b"\n".join((b">" + line if line.startswith(b"From ") else line) for line in body.split(b"\n"))
            f.write(b"From bounce@example.test Sun Nov 22 09:00:00 2026\n" + body + b"\n")
    env = fixture.CASES[0][2]
    rc, out, err = run(["-c", conf] + fixture.envelope_args(env) + [mbox])
    subj = [line for line in out.splitlines() if line.startswith("== " + mbox + " #")]
    ok(len(subj) == 3 and all(": " in s and "(no Subject)" not in s for s in subj),
       "mbox: each message labelled by its Subject", subj)
    tail = out[out.find("== Campaign summary"):]
    ok("== Campaign summary: 3 messages" in out and "not_ready 1" in tail and "ready 2" in tail
       and "1 x unsub.not_dkim_covered" in tail and "fix: " in tail,
       "mbox: campaign summary with verdicts, readiness and findings", tail[:1500])
    rc, out, err = run(["-c", conf, "--json", "--summary"] + fixture.envelope_args(env) + [mbox])
    lines = out.splitlines()
    try:
        s = json.loads(lines[-1])["summary"]
    except Exception:  # noqa: BLE001
        s = {}
    ok(len(lines) == 4 and s.get("messages") == 3 and s.get("providers", {}).get("gmail", {}).get("ready") == 2
       and s.get("findings", {}).get("unsub.not_dkim_covered") == 1,
       "--json --summary: one object per message, then the summary", out[-800:])
    rc, out, err = run(["-c", conf, "--json"] + fixture.envelope_args(env) + [mbox])
    ok(len(out.splitlines()) == 3, "--json without --summary: one object per message only", out[-300:])


if __name__ == "__main__":
    sys.exit(main())
