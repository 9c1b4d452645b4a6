#!/usr/bin/python3
"""spam - the spam signal engine end to end on the labelled corpus of
tests/data/spam (tests/data/spam/manifest.json: class, envelope, the signals
that must fire and those that must not), through trustmilter-check --json,
with reverse DNS, DNS blocklist (IPv4 and IPv6 forms, return codes mapped to
weights, the 127.255.255.x error code) and URL domain blocklist zones served
by a real unbound (tests/lib/dnsd.py).

Asserts: expected signals per message; the score is the sum of the listed
weights; the compliance header and Authentication-Results (iprev) carry the
result; thresholds become spam.score.* findings and act through the policy
(reject/junk); the classes order (clean transactional and marketing
below phishing and blatant spam); outbound skips connection signals; the DNS
cap is a signal; docs/SIGNALS.md lists the signal table exactly.

Then SpamAssassin (Debian's spamassassin, `spamassassin -L -t`: local tests
only) scores the same corpus; its class ordering is asserted too and the
per-message comparison is printed as TAP comments (docs/SIGNALS.md discusses
the disagreements). Skipped under TM_SAN=1 (it does not exercise our code) and
when spamassassin is not installed.
"""
import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
import time

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or "/tmp/tm-spam"
CHECK = os.path.join(BUILD, "trustmilter-check")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
CORPUS = os.path.join(SRC, "tests", "data", "spam")
n = 0
failed = 0

ZONES = """
10.2.0.192.in-addr.arpa:
  - PTR: mta.shop.test
mta.shop.test:
  - A: 192.0.2.10
20.2.0.192.in-addr.arpa:
  - PTR: out.esp.test
out.esp.test:
  - A: 192.0.2.20
9.113.0.203.in-addr.arpa:
  - PTR: host9.dyn.test
host9.dyn.test:
  - A: 203.0.113.99
66.100.51.198.dnsbl.test:
  - A: 127.0.0.2
  - A: 127.0.0.4
67.100.51.198.dnsbl.test:
  - A: 127.0.0.2
9.113.0.203.dnsbl.test:
  - A: 127.0.0.9
10.2.0.192.dnsbl.test:
  - A: 127.255.255.254
6.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.test:
  - A: 127.0.0.2
spammy-pills.test.uribl.test:
  - A: 127.0.0.2
slowbl.test:
  - TIMEOUT
"""


def ok(cond, name, extra=""):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond:
        failed += 1
        for line in str(extra).splitlines()[:30]:
            print("#   " + line)


def write_conf(path, dns, extra="", timeout=2000):
    with open(path, "w") as f:
        f.write('authserv_id = "mx.recipient.test";\nhostname = "mx.recipient.test";\n'
                'dns: { forwarders = ["%s"]; timeout_ms = %d;\n'
                '  transparent_zones = ["test.", "invalid.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",\n'
                '                       "113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."]; };\n'
                'spam: { dnsbl_zones = ["dnsbl.test:127.0.0.2=3", "dnsbl.test:127.0.0.4=5"];\n'
                '        uribl_zones = ["uribl.test"]; %s };\n' % (dns, timeout, extra))
    return path


def prepare(tmp):
    """Copy the corpus with @DATE@ replaced by the current date (dates are judged against now)."""
    d = os.path.join(tmp, "corpus")
    os.makedirs(d, exist_ok=True)
    now = email.utils.formatdate(time.time() - 600, localtime=False)
    for f in os.listdir(CORPUS):
        if f.endswith(".eml"):
            data = open(os.path.join(CORPUS, f), "rb").read().replace(b"@DATE@", now.encode())
            open(os.path.join(d, f), "wb").write(data)
    return d


def check(conf, path, env, extra=()):
    args = [CHECK, "-c", conf, "--json", "--client-ip", env["ip"], "--helo", env["helo"],
            "--mail-from", env["mail_from"]] + list(extra) + [path]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout.splitlines()[0])
    except Exception:  # noqa: BLE001
        return {"_error": p.stdout[:400] + p.stderr[:400]}


def sa_one(path, home):
    """spamassassin -L -t on one message: (score, tests)."""
    p = subprocess.run(["spamassassin", "-L", "-t", "-x"], stdin=open(path, "rb"), capture_output=True,
                       timeout=120, env=dict(os.environ, HOME=home))
    head = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n", 1)[0]
    head = re.sub(r"\n[ \t]+", " ", head)
    m = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+) required=[\d.]+ tests=(.*?) autolearn", head, flags=re.M)
    if not m:
        return None, p.stderr.decode("utf-8", "replace")[-300:]
    return float(m.group(1)), re.sub(r"\s+", "", m.group(2))


def sa_scores(corpus, manifest):
    """Every message through spamassassin, four at a time; score and tests per file."""
    from concurrent.futures import ThreadPoolExecutor
    home = os.path.join(TMP, "sa-home")
    os.makedirs(home, exist_ok=True)
    t = time.time()
    files = [m["file"] for m in manifest]
    with ThreadPoolExecutor(4) as ex:
        res = list(ex.map(lambda f: sa_one(os.path.join(corpus, f), home), files))
    took = time.time() - t
    scores = dict((f, r[0]) for f, r in zip(files, res) if r[0] is not None)
    tests = dict((f, r[1]) for f, r in zip(files, res))
    return scores, tests, took, 0, "\n".join(str(r[1]) for r in res if r[0] is None)


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def main():
    os.makedirs(TMP, exist_ok=True)
    manifest = json.load(open(os.path.join(CORPUS, "manifest.json")))
    zones = os.path.join(TMP, "zones.yaml")
    open(zones, "w").write(ZONES)
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"), zones],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        corpus = prepare(TMP)
        conf = write_conf(os.path.join(TMP, "tm.conf"), dns)
        ours = corpus_checks(conf, corpus, manifest)
        extra_checks(dns, corpus, manifest)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
    docs_check()
    spamassassin(corpus, manifest, ours)
    return 1 if failed else 0


def corpus_checks(conf, corpus, manifest):
    scores = {}
    for m in manifest:
        j = check(conf, os.path.join(corpus, m["file"]), m)
        sp = j.get("spam") or {}
        sigs = {s["name"]: s for s in sp.get("signals", [])}
        got = ",".join(sorted(sigs)) or "none"
        for s in m.get("signals", []):
            ok(s in sigs, "%s: %s fires" % (m["file"], s), got + "\n" + json.dumps(j)[:600])
        for s in m.get("not", []):
            ok(s not in sigs, "%s: %s does not fire" % (m["file"], s), got)
        if m.get("exact"):
            ok(sorted(sigs) == sorted(m["signals"]), "%s: exactly the expected signals" % m["file"], got)
        for name, w in m.get("weights", {}).items():
            ok(sigs.get(name, {}).get("weight") == w, "%s: %s weighs %s" % (m["file"], name, w), sigs.get(name))
        total = sum(s["weight"] for s in sigs.values())
        ok(abs(total - sp.get("score", -1)) < 1e-6, "%s: score %.1f is the sum of the weights" % (m["file"], total))
        ok(all(s.get("reason") for s in sigs.values()), "%s: every signal has a reason" % m["file"])
        ch = j.get("compliance_header", "")
        ok(("spam=%.1f;" % sp.get("score", -1)) in ch and "signals=" in ch, "%s: compliance header spam=" % m["file"], ch)
        if "action" in m:
            ok(j.get("action") == m["action"], "%s: action %s" % (m["file"], m["action"]),
               "%s %s" % (j.get("action"), j.get("action_reason")))
        if "iprev" in m:
            ar = j.get("authentication_results", "")
            ok("iprev=%s" % m["iprev"] in ar and "policy.iprev=%s" % m["ip"] in ar and
               (j.get("iprev") or {}).get("result") == m["iprev"],
               "%s: iprev=%s in Authentication-Results and JSON" % (m["file"], m["iprev"]), ar)
        scores[m["file"]] = sp.get("score", 0)
        print("# %-28s %-13s score %5.1f  %s" % (m["file"], m["class"], sp.get("score", 0), got))
    by = {}
    for m in manifest:
        by.setdefault(m["class"], []).append(scores[m["file"]])
    clean = by["transactional"] + by["marketing"]
    bad = by["phishing"] + by["spam"]
    ok(max(clean) < min(bad), "class order: every clean message scores below every phishing/spam one",
       json.dumps(scores))
    ok(mean(by["transactional"]) <= mean(by["marketing"]) < mean(by["phishing"]) and
       mean(by["marketing"]) < mean(by["spam"]),
       "class order: mean transactional <= marketing < phishing, spam",
       dict((k, mean(v)) for k, v in by.items()))
    return scores


def extra_checks(dns, corpus, manifest):
    env = dict((m["file"], m) for m in manifest)
    # outbound: connection signals are for inbound clients only; outbound thresholds are off
    j = check(os.path.join(TMP, "tm.conf"), os.path.join(corpus, "spam-malware.eml"), env["spam-malware.eml"],
              ["--direction", "outbound"])
    names = [s["name"] for s in (j.get("spam") or {}).get("signals", [])]
    ok("spam.attachment.executable" in names and not any(x.startswith(("spam.helo", "spam.rdns", "spam.dnsbl"))
                                                       for x in names) and j.get("iprev") is None,
       "outbound: content signals only, no iprev", names)
    ok(j.get("action") == "accept", "outbound: thresholds off by default", j.get("action"))
    # outbound threshold set: the outbound rule acts
    conf2 = write_conf(os.path.join(TMP, "tm-out.conf"), dns, "outbound: { reject_score = 5; };")
    j = check(conf2, os.path.join(corpus, "spam-malware.eml"), env["spam-malware.eml"], ["--direction", "outbound"])
    ok(j.get("action") == "reject" and "550 5.7.1" in (j.get("smtp_reply") or ""),
       "outbound: reject_score acts through policy.outbound.actions", (j.get("action"), j.get("smtp_reply")))
    # the DNS cap is a signal, and no more queries are made
    conf3 = write_conf(os.path.join(TMP, "tm-cap.conf"), dns, "max_dns_queries = 1;")
    j = check(conf3, os.path.join(corpus, "spam-money.eml"), env["spam-money.eml"])
    sp = j.get("spam") or {}
    names = [s["name"] for s in sp.get("signals", [])]
    ok("spam.limits.dns" in names and "spam.uribl.uribl.test" not in names, "DNS cap: spam.limits.dns", names)
    # weights from the configuration; weight 0 turns a signal (and its query) off
    conf4 = write_conf(os.path.join(TMP, "tm-w.conf"), dns,
                       'weights = ["spam.dnsbl.dnsbl.test=0", "spam.helo.bare_ip=7.5"];')
    j = check(conf4, os.path.join(corpus, "spam-money.eml"), env["spam-money.eml"])
    sigs = dict((s["name"], s["weight"]) for s in (j.get("spam") or {}).get("signals", []))
    ok("spam.dnsbl.dnsbl.test" not in sigs and sigs.get("spam.helo.bare_ip") == 7.5, "weights override", sigs)
    # dry run: decided reject, enforced accept
    conf5 = write_conf(os.path.join(TMP, "tm-dry.conf"), dns, "")
    with open(conf5, "a") as f:
        f.write("policy: { mode = \"enforce\"; dry_run = true; };\n")
    j = check(conf5, os.path.join(corpus, "spam-money.eml"), env["spam-money.eml"])
    ok(j.get("action") == "reject" and j.get("action_enforced") == "accept", "dry run: only annotated",
       (j.get("action"), j.get("action_enforced")))
    # a blocklist that does not answer: two timeouts stop the lookups (no stall per URL domain)
    conf7 = os.path.join(TMP, "tm-slow.conf")
    write_conf(conf7, dns, "", timeout=700)
    with open(conf7) as f:
        text = f.read().replace('"dnsbl.test:127.0.0.2=3", "dnsbl.test:127.0.0.4=5"', '"slowbl.test"').replace(
            'uribl_zones = ["uribl.test"]', 'uribl_zones = ["slowbl.test", "uribl.test"]')
    open(conf7, "w").write(text)
    t = time.time()
    j = check(conf7, os.path.join(corpus, "spam-money.eml"), env["spam-money.eml"])
    took = time.time() - t
    names = [s["name"] for s in (j.get("spam") or {}).get("signals", [])]
    ok("spam.limits.dns" in names and "spam.uribl.uribl.test" not in names and took < 5,
       "dead blocklist: stops after two timeouts (%.1f s), spam.limits.dns" % took, names)
    # spam off: no member, no header key
    conf6 = write_conf(os.path.join(TMP, "tm-off.conf"), dns, "enabled = false;")
    j = check(conf6, os.path.join(corpus, "spam-money.eml"), env["spam-money.eml"])
    ok(j.get("spam") is None and "spam=" not in j.get("compliance_header", "x"), "spam.enabled = false",
       j.get("compliance_header"))


def docs_check():
    table = subprocess.run([os.path.join(BUILD, "tools", "spam-table")], capture_output=True, text=True).stdout
    doc = open(os.path.join(SRC, "docs", "SIGNALS.md")).read()
    missing = [r for r in table.splitlines() if r not in doc]
    ok(table and not missing, "docs/SIGNALS.md lists every signal with its default weight", "\n".join(missing))


def spamassassin(corpus, manifest, ours):
    if os.environ.get("TM_SAN") == "1":
        print("ok %d - # SKIP SpamAssassin comparison under sanitizers" % (n + 1))
        return
    if shutil.which("spamassassin") is None:
        print("ok %d - # SKIP spamassassin not installed (contrib/install-deps)" % (n + 1))
        return
    sa, tests, took, rc, err = sa_scores(corpus, manifest)
    ok(len(sa) == len(manifest), "spamassassin -L -t scored every message (%.1f s)" % took, err)
    if len(sa) != len(manifest):
        return
    print("# %-28s %-13s %8s %8s  %s" % ("message", "class", "ours", "SA", "SA tests"))
    for m in manifest:
        f = m["file"]
        print("# %-28s %-13s %8.1f %8.1f  %s" % (f, m["class"], ours[f], sa[f], tests.get(f, "")))
    by = {}
    for m in manifest:
        by.setdefault(m["class"], []).append(sa[m["file"]])
    clean = by["transactional"] + by["marketing"]
    bad = by["phishing"] + by["spam"]
    ok(mean(clean) < mean(bad), "SpamAssassin: clean classes score below phishing/spam on average",
       dict((k, mean(v)) for k, v in by.items()))
    ok(mean(by["transactional"]) < mean(by["spam"]), "SpamAssassin: transactional below blatant spam",
       dict((k, mean(v)) for k, v in by.items()))


if __name__ == "__main__":
    sys.exit(main())
