#!/usr/bin/python3
"""dmarc.py - policy/dmarc.c against a real unbound (tests/lib/dnsd.py) on loopback,
through build/tools/dmarc-eval, plus a differential check of the RFC 7489 mode
against npm mailauth 4.13.3 (installed once into build/npm/ when the npm
registry answers quickly; skipped otherwise).

Covers: record at the From domain; tree walk to the organizational domain;
sp for existing subdomains; np for non-existent ones; psd=y at a public-suffix
like name; t=y; strict vs relaxed; several records; SERVFAIL and TIMEOUT ->
temperror; no record -> none; the 8-query walk cap; RFC 7489 mode with
co.uk names (PSL) where RFC 9989's tree walk decides differently.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("TM_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TM_BUILD") or os.path.join(SRC, "build")
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp()
EVAL = os.path.join(BUILD, "tools", "dmarc-eval")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
D = os.path.join(TMP, "dnsd")
failed = 0

ZONES = r'''
example.test:
  - A: 192.0.2.1
_dmarc.example.test:
  - TXT: "v=DMARC1; p=reject; sp=quarantine; np=none"
sub.example.test:
  - A: 192.0.2.2
_dmarc.strict.test:
  - TXT: "v=DMARC1; p=reject; adkim=s; aspf=s"
_dmarc.testing.test:
  - TXT: "v=DMARC1; p=reject; t=y"
_dmarc.multi.test:
  - TXT: "v=DMARC1; p=reject"
  - TXT: "v=DMARC1; p=none"
_dmarc.split.test:
  - TXT: ["v=DMARC1; ", "p=quarantine"]
_dmarc.bank.test:
  - TXT: "v=DMARC1; p=reject; psd=y"
_dmarc.giant.bank.test:
  - TXT: "v=DMARC1; p=none"
small.bank.test:
  - A: 192.0.2.5
_dmarc.np.test:
  - TXT: "v=DMARC1; p=none; np=reject"
np.test:
  - A: 192.0.2.9
exists.np.test:
  - MX: [10, mx.np.test]
_dmarc.tf.test:
  - SERVFAIL
_dmarc.slow.test:
  - TIMEOUT
_dmarc.example.com:
  - TXT: "v=DMARC1; p=reject"
_dmarc.example.co.uk:
  - TXT: "v=DMARC1; p=quarantine"
_dmarc.co.uk:
  - TXT: "v=DMARC1; p=none"
_dmarc.pct.test:
  - TXT: "v=DMARC1; p=reject; pct=0"
_dmarc.lower.test:
  - TXT: "v=dmarc1; p=reject"
_dmarc.multi2.test:
  - TXT: "v=DMARC1; p=quarantine"
_dmarc.sub.multi2.test:
  - TXT: "v=DMARC1; p=reject"
  - TXT: "v=DMARC1; p=none"
'''


def tap(ok, name, detail=""):
    global failed
    if ok:
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s" % name)
        for line in detail.splitlines():
            print("#   %s" % line)


def run_eval(addr, mode, frm, spf=None, dkim=(), extra=()):
    args = [EVAL, "--dns", addr, "--timeout-ms", "1000", "--mode", mode, "--from", frm]
    if spf:
        args += ["--spf", spf]
    for d in dkim:
        args += ["--dkim", d]
    args += list(extra)
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    facts = {}
    lines = p.stdout.splitlines()
    if lines:
        for kv in lines[0].split(" "):
            k, _, v = kv.partition("=")
            facts[k] = v
    facts["_out"] = p.stdout + p.stderr
    return facts


# name, mode, from, spf, dkim list, expected facts
CASES = [
    ("record at From, aligned SPF pass", "rfc9989", "example.test", "pass:example.test", [],
     dict(result="pass", policy="reject", disposition="none", policy_domain="example.test", org_domain="example.test", spf_aligned="1")),
    ("record at From, fail -> reject", "rfc9989", "example.test", "fail:example.test", ["fail:example.test"],
     dict(result="fail", policy="reject", disposition="reject")),
    ("tree walk a.b.c.example.test -> _dmarc.example.test", "rfc9989", "a.b.c.example.test", "pass:bounce.example.test", [],
     dict(result="pass", policy_domain="example.test", org_domain="example.test", spf_aligned="1")),
    ("sp for existing subdomain", "rfc9989", "sub.example.test", "fail:x.test", [],
     dict(result="fail", policy="quarantine", disposition="quarantine", nonexistent="0")),
    ("np for non-existent subdomain", "rfc9989", "nosuch.example.test", "fail:x.test", [],
     dict(result="fail", policy="none", disposition="none", nonexistent="1")),
    ("np=reject for non-existent subdomain", "rfc9989", "gone.np.test", None, [],
     dict(result="fail", policy="reject", disposition="reject", nonexistent="1")),
    ("np not used for MX-only subdomain", "rfc9989", "exists.np.test", None, [],
     dict(result="fail", policy="none", nonexistent="0")),
    ("psd=y: org domain below the PSD", "rfc9989", "giant.bank.test", "pass:mail.giant.bank.test", ["pass:mail.mega.bank.test"],
     dict(result="pass", policy="none", policy_domain="giant.bank.test", org_domain="giant.bank.test", spf_aligned="1", sig_aligned="0")),
    ("psd=y: PSD policy for a domain without record", "rfc9989", "small.bank.test", None, ["pass:giant.bank.test"],
     dict(result="fail", policy="reject", policy_domain="bank.test", org_domain="small.bank.test", sig_aligned="0")),
    ("t=y lowers reject to quarantine", "rfc9989", "testing.test", None, [],
     dict(result="fail", policy="reject", disposition="quarantine")),
    ("strict: subdomain not aligned", "rfc9989", "strict.test", "pass:mail.strict.test", ["pass:mail.strict.test"],
     dict(result="fail", spf_aligned="0", sig_aligned="0", disposition="reject")),
    ("relaxed: subdomain aligned", "rfc9989", "example.test", None, ["pass:mail.example.test", "fail:example.test", "pass:other.test"],
     dict(result="pass", dkim_aligned="1", sig_aligned="1,1,0")),
    ("several records -> discarded, none", "rfc9989", "multi.test", "pass:multi.test", [],
     dict(result="none", multiple="1", record_found="0")),
    ("several records at From: walk continues", "rfc9989", "sub.multi2.test", None, [],
     dict(result="fail", policy="quarantine", policy_domain="multi2.test", multiple="1")),
    ("multi-string TXT joined", "rfc9989", "split.test", None, [],
     dict(result="fail", policy="quarantine")),
    ("v=dmarc1 (wrong case) is not a record", "rfc9989", "lower.test", None, [],
     dict(result="none", record_found="0")),
    ("SERVFAIL -> temperror", "rfc9989", "tf.test", "pass:tf.test", [],
     dict(result="temperror")),
    ("TIMEOUT -> temperror", "rfc9989", "slow.test", "pass:slow.test", [],
     dict(result="temperror")),
    ("no record -> none", "rfc9989", "nothing.test", "pass:nothing.test", [],
     dict(result="none", record_found="0", org_domain="nothing.test")),
    ("draft s4.10 walk: 8 queries", "rfc9989", "a.b.c.d.e.f.g.h.i.j.mail.example.com", None, [],
     dict(result="fail", policy_domain="example.com", lookups="8")),
    ("rfc9989: tree walk org for co.uk name is co.uk (record at _dmarc.co.uk)", "rfc9989", "mail.example.co.uk", None, ["pass:other.example.co.uk"],
     dict(result="pass", policy="none", policy_domain="co.uk", org_domain="co.uk", sig_aligned="1")),
    ("rfc7489: PSL org for co.uk name", "rfc7489", "mail.example.co.uk", None, ["pass:other.example.co.uk"],
     dict(result="pass", policy="quarantine", policy_domain="example.co.uk", org_domain="example.co.uk", sig_aligned="1")),
    ("rfc7489: t=y ignored", "rfc7489", "testing.test", None, [],
     dict(result="fail", disposition="reject")),
    ("rfc7489: pct=0 lowers reject", "rfc7489", "pct.test", None, [],
     dict(result="fail", policy="reject", disposition="quarantine")),
    ("rfc7489: several records at From end discovery", "rfc7489", "sub.multi2.test", None, [],
     dict(result="none", multiple="1")),
    ("rfc7489: np not used", "rfc7489", "gone.np.test", None, [],
     dict(result="fail", policy="none")),
]


def main():
    if not os.access(EVAL, os.X_OK):
        tap(False, "dmarc-eval built", EVAL)
        return
    zf = os.path.join(TMP, "zones.yaml")
    with open(zf, "w") as f:
        f.write(ZONES)
    p = subprocess.run(["/usr/bin/python3", DNSD, "start", D, zf], capture_output=True, text=True, timeout=30)
    addr = p.stdout.strip()
    if p.returncode != 0 or not re.match(r"^127\.0\.0\.1@\d+$", addr):
        tap(False, "dnsd start", p.stdout + p.stderr)
        return
    tap(True, "dnsd started")
    try:
        for name, mode, frm, spf, dkim, want in CASES:
            got = run_eval(addr, mode, frm, spf, dkim)
            bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
            tap(not bad, name, "mismatch (got, want): %r\n%s" % (bad, got["_out"]))
        got = run_eval(addr, "rfc9989", "a.b.c.d.example.test", "fail:x.test", extra=["--budget", "2"])
        tap(got.get("result") == "temperror", "budget exhausted -> temperror", got["_out"])
        differential(addr)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", D], capture_output=True, timeout=30)


# Differential cases for the RFC 7489 mode against mailauth 4.13.3. Where the
# two disagree on purpose, "expect" holds mailauth's answer and "why" the
# RFC 7489 section that decides for our answer.
DIFF = [
    dict(name="aligned pass", from_="example.test", spf="pass:example.test", dkim=[]),
    dict(name="fail reject", from_="example.test", spf="fail:example.test", dkim=["fail:example.test"]),
    dict(name="subdomain sp", from_="sub.example.test", spf=None, dkim=[]),
    dict(name="deep subdomain org lookup", from_="a.b.c.example.test", spf="pass:x.example.test", dkim=[]),
    dict(name="relaxed dkim", from_="example.test", spf=None, dkim=["pass:mail.example.test"]),
    dict(name="unaligned dkim", from_="example.test", spf=None, dkim=["pass:other.test"]),
    dict(name="no record", from_="nothing.test", spf="pass:nothing.test", dkim=[]),
    dict(name="co.uk PSL org", from_="mail.example.co.uk", spf=None, dkim=["pass:other.example.co.uk"]),
    dict(name="servfail temperror", from_="tf.test", spf="pass:tf.test", dkim=[]),
    dict(name="several records at From", from_="multi.test", spf=None, dkim=[]),
    dict(name="strict alignment", from_="strict.test", spf="pass:mail.strict.test", dkim=[],
         expect=dict(result="pass"),
         why="RFC 7489 s3.1.2/s3.1.1: aspf=s needs an exact match; mailauth 4.13.3 passes "
             "an options object as its 'strict' flag and then falls back to relaxed"),
    dict(name="several records at From, one at org", from_="sub.multi2.test", spf=None, dkim=[],
         expect=dict(result="fail"),
         why="RFC 7489 s6.6.3 step 5: several records end policy discovery (no DMARC); "
             "mailauth goes on to the organizational domain"),
    dict(name="v=dmarc1 lowercase", from_="lower.test", spf=None, dkim=[],
         expect=dict(result="fail"),
         why="RFC 7489 s6.4: dmarc-version is %x44 %x4d %x41 %x52 %x43 %x31, case-sensitive; "
             "mailauth matches /^v=DMARC1/i"),
]


def differential(addr):
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        print("ok - mailauth differential # SKIP node/npm not installed")
        return
    base = os.path.join(SRC, "build", "npm", "mailauth-4.13.3")
    mod = os.path.join(base, "node_modules", "mailauth", "package.json")
    if not os.path.exists(mod):
        os.makedirs(base, exist_ok=True)
        try:
            subprocess.run([npm, "install", "--prefix", base, "--no-audit", "--no-fund", "--silent", "mailauth@4.13.3"],
                           capture_output=True, timeout=90)
        except subprocess.TimeoutExpired:
            pass
    if not os.path.exists(mod):
        print("ok - mailauth differential # SKIP npm install mailauth@4.13.3 failed or too slow")
        return
    cases = []
    for c in DIFF:
        j = {"from": c["from_"], "dkim": []}
        if c["spf"]:
            r, _, d = c["spf"].partition(":")
            j["spf"] = {"result": r, "domain": d}
        for s in c["dkim"]:
            r, _, d = s.partition(":")
            j["dkim"].append({"result": r, "domain": d})
        cases.append(j)
    env = dict(os.environ, NODE_PATH=os.path.join(base, "node_modules"))
    p = subprocess.run([node, os.path.join(SRC, "tests", "lib", "mailauth-dmarc.js"), addr],
                       input=json.dumps(cases), capture_output=True, text=True, timeout=60, env=env)
    try:
        peer = json.loads(p.stdout)
    except ValueError:
        tap(False, "mailauth peer ran", p.stdout + p.stderr)
        return
    for c, theirs in zip(DIFF, peer):
        ours = run_eval(addr, "rfc7489", c["from_"], c["spf"], c["dkim"])
        want = c.get("expect")
        mine = {"result": ours.get("result")}
        if ours.get("result") in ("pass", "fail"):
            mine["policy"] = ours.get("policy")
        theirs_cmp = {"result": theirs["result"]}
        if theirs["result"] in ("pass", "fail"):
            theirs_cmp["policy"] = theirs.get("policy")
        if want is None:
            tap(mine == theirs_cmp, "mailauth differential: %s" % c["name"],
                "ours %r, mailauth %r\n%s" % (mine, theirs_cmp, ours["_out"]))
        else:
            same_as_doc = all(theirs.get(k) == v for k, v in want.items())
            tap(same_as_doc and mine != theirs_cmp,
                "mailauth differential: %s (documented difference: %s)" % (c["name"], c["why"]),
                "ours %r, mailauth %r" % (mine, theirs_cmp))


main()
print("# %d failed" % failed)
sys.exit(1 if failed else 0)
