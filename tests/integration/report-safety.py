#!/usr/bin/python3
"""report-safety - trustmilter-report cannot be turned against third parties
or against the people who open its output.

DMARC aggregate reports with --mail: messages from domains whose DMARC records
name hostile, external, authorized, unauthorized and overriding rua=
destinations go through trustmilter-check --record into SQLite (DNS from a
real unbound, tests/lib/dnsd.py); the ready-to-send .eml files must be
addressed only as RFC 9990 section 4 allows (external destinations only after
<domain>._report._dmarc.<host> TXT v=DMARC1), every skipped destination is
logged with a reason and counted in the summary line. CSV: campaign keys from
List-Id/Feedback-ID that start like a spreadsheet formula are neutralised."""
import csv
import glob
import io
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp(prefix="tm-report-safety.")
CHECK = os.path.join(BUILD, "trustmilter-check")
REPORT = os.path.join(BUILD, "trustmilter-report")
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


# domain -> rua= value of its DMARC record (every message from it fails DMARC)
RUA = {
    "internal.test": "mailto:dmarc@internal.test, mailto:agg@reports.internal.test!10m",
    "evil.test": "mailto:victim@third.test(@evil.test",
    "plain-external.test": "mailto:victim@third.test",
    "extok.test": "mailto:rep@collector.test",
    "extno.test": "mailto:rep@collector.test",
    "override.test": "mailto:rep@collector.test",
    "overevil.test": "mailto:rep@collector.test",
    "https.test": "https://collector.test/dmarc",
    "dnsfail.test": "mailto:rep@broken.test",
    "mixed.test": "mailto:a@mixed.test%2Cvictim@third.test, mailto:ok@mixed.test, mailto:x@y.test?cc=victim@third.test",
}

ZONES = "\n".join(
    "%s:\n  - TXT: \"v=spf1 -all\"\n_dmarc.%s:\n  - TXT: \"v=DMARC1; p=reject; rua=%s\"" % (d, d, r)
    for d, r in RUA.items()) + """
extok.test._report._dmarc.collector.test:
  - TXT: "v=DMARC1"
extno.test._report._dmarc.collector.test:
  - TXT: "v=spf1 -all"
override.test._report._dmarc.collector.test:
  - TXT: "v=DMARC1; rua=mailto:other@collector.test"
overevil.test._report._dmarc.collector.test:
  - TXT: "v=DMARC1; rua=mailto:victim@third.test"
dnsfail.test._report._dmarc.broken.test:
  - SERVFAIL
campaign.test:
  - TXT: "v=spf1 -all"
"""

CAMPAIGNS = [("List-Id", "=cmd|' /C calc'!A0"), ("List-Id", "+1+1 <a.campaign.test>"),
             ("Feedback-ID", "-2+3:x:y:z"), ("Feedback-ID", "@SUM(1+1)*cmd"),
             ("List-Id", "\tTAB <t.campaign.test>"), ("List-Id", "News <news.campaign.test>")]


def message(dom, i, extra=""):
    return ("From: <x@%s>\r\nTo: <bob@recipient.test>\r\nSubject: t\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <m%d@%s>\r\n%s\r\nhello\r\n" % (dom, i, dom, extra))


def check(conf, store, dom, i, extra=""):
    path = os.path.join(TMP, "m%d.eml" % i)
    open(path, "w", newline="").write(message(dom, i, extra))
    return subprocess.run([CHECK, "-c", conf, "--json", "--client-ip", "198.51.100.7", "--helo", "mx.sender.test",
                           "--mail-from", "x@" + dom, "--macro", "i=Q%d" % i, "--record", store, path],
                          capture_output=True, text=True, timeout=60)


def main():
    os.makedirs(TMP, exist_ok=True)
    zones = os.path.join(TMP, "zones.yaml")
    open(zones, "w").write(ZONES)
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"), zones],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        conf = os.path.join(TMP, "tm.conf")
        open(conf, "w").write('hostname = "mx.recipient.test";\n'
                              'dns: { forwarders = ["%s"]; transparent_zones = ["test."]; timeout_ms = 2000; };\n' % dns)
        store = "sqlite:" + os.path.join(TMP, "audit.db")
        i = 0
        for dom in RUA:
            p = check(conf, store, dom, i)
            ok('"result":"fail"' in p.stdout.replace(" ", "") and p.returncode in (0, 1),
               "%s: recorded with dmarc=fail" % dom, p.stdout[:300] + p.stderr)
            i += 1
        for name, value in CAMPAIGNS:
            p = check(conf, store, "campaign.test", i, "%s: %s\r\nPrecedence: bulk\r\n" % (name, value))
            ok(p.returncode in (0, 1), "campaign %r recorded" % value, p.stderr)
            i += 1
        reports(conf, store)
        csv_cells(conf, store)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
    return 0


def reports(conf, store):
    out_dir = os.path.join(TMP, "dmarc")
    p = subprocess.run([REPORT, "-c", conf, "--store", store, "--since", "1d", "--dmarc-reports", out_dir,
                        "--mail", "--submitter", "mx.recipient.test"], capture_output=True, text=True, timeout=120)
    ok(p.returncode == 0, "trustmilter-report --dmarc-reports --mail runs", p.stderr)
    to = {}
    for f in glob.glob(os.path.join(out_dir, "*.eml")):
        dom = os.path.basename(f).split("!")[1]
        t = open(f, newline="").read()
        heads = t.split("\r\n\r\n", 1)[0]
        m = re.search(r"^To: (.*)$", heads, re.M)
        to[dom] = sorted(a.strip() for a in m.group(1).split(",")) if m else None
        ok(len(re.findall(r"^(To|Cc|Bcc):", heads, re.M | re.I)) == 1, "%s: one To and no Cc/Bcc" % dom, heads)
    allto = " ".join(" ".join(v or []) for v in to.values())
    ok("third.test" not in allto and "third.test" not in "".join(
        open(f).read() for f in glob.glob(os.path.join(out_dir, "*.eml"))),
       "no report message names victim@third.test anywhere", to)
    ok(to.get("internal.test") == ["agg@reports.internal.test", "dmarc@internal.test"],
       "same Organizational Domain (and a subdomain, !size ignored): both addresses", to.get("internal.test"))
    ok("evil.test" not in to, "mailto:victim@third.test(@evil.test: no message", to.get("evil.test"))
    ok("plain-external.test" not in to, "external destination without authorization: no message")
    ok(to.get("extok.test") == ["rep@collector.test"], "external destination authorized by TXT v=DMARC1: used",
       to.get("extok.test"))
    ok("extno.test" not in to, "external destination whose TXT is not v=DMARC1: no message")
    ok(to.get("override.test") == ["other@collector.test"], "authorizing record's rua= on the same host replaces ours",
       to.get("override.test"))
    ok("overevil.test" not in to, "authorizing record's rua= naming another host: no message to either")
    ok("https.test" not in to, "https: rua: no message")
    ok("dnsfail.test" not in to, "DNS failure of the check: no message")
    ok(to.get("mixed.test") == ["ok@mixed.test"], "only the plain address of a mixed list",
       to.get("mixed.test"))
    err = p.stderr
    for dom, why in (("evil.test", "more than one @|not a host name|not allowed"),
                     ("plain-external.test", "no v=DMARC1 record at plain-external.test._report._dmarc.third.test"),
                     ("extno.test", "no v=DMARC1 record"), ("overevil.test", "another host"),
                     ("https.test", "not a mailto"), ("dnsfail.test", "_report._dmarc.broken.test"),
                     ("mixed.test", "header fields")):
        ok(re.search(r"^trustmilter-report: %s: rua destination .* skipped: .*(%s)" % (re.escape(dom), why), err, re.M),
           "%s: skipped destination logged with its reason" % dom, err)
    m = re.search(r"^dmarc-reports: (.*)$", p.stdout, re.M)
    counts = dict(kv.split("=") for kv in m.group(1).split()) if m else {}
    want = {"reports": "10", "messages": "4", "recipients": "5", "internal": "3", "external_verified": "2",
            "skipped_external": "3", "skipped_dns": "1", "skipped_invalid": "3", "skipped_scheme": "1",
            "skipped_too_many": "0"}
    ok(all(counts.get(k) == v for k, v in want.items()), "summary line counts every destination",
       (counts, want, p.stdout))


def csv_cells(conf, store):
    p = subprocess.run([REPORT, "-c", conf, "--store", store, "--since", "1d", "--format", "csv", "--group", "campaign"],
                       capture_output=True, text=True, timeout=60)
    rows = list(csv.reader(io.StringIO(p.stdout)))
    keys = [r[0] for r in rows[1:]]
    ok(p.returncode == 0 and len(keys) >= len(CAMPAIGNS), "CSV by campaign", p.stdout + p.stderr)
    bad = [k for k in keys if k[:1] in ("=", "+", "-", "@", "\t", "\r")]
    ok(not bad, "no CSV cell starts with = + - @ tab or CR", bad)
    ok(any(k.startswith("'=cmd|") for k in keys), "a formula-like List-Id gets a leading quote", keys)
    ok(any(k.startswith("'@SUM") for k in keys) and any(k.startswith("'-2+3") for k in keys),
       "formula-like Feedback-IDs get a leading quote", keys)
    ok(any(k.startswith("News") for k in keys), "an ordinary List-Id is left alone", keys)
    raw = [l for l in p.stdout.splitlines() if "cmd|" in l]
    ok(raw and raw[0].startswith("\"'="), "the neutralised cell is quoted in the file", raw)


if __name__ == "__main__":
    sys.exit(main())
