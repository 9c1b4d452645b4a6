#!/usr/bin/python3
"""feedback-ingest - ARF complaints and DMARC aggregate reports through
trustmilter-report --ingest into a real SQLite file (and a real PostgreSQL
server), and the --feedback views read back exactly.

Outbound mail is recorded with trustmilter-check --direction outbound --record
(the session API, DNS from a real unbound); complaints written after RFC 5965
are ingested from an mbox and matched to those records. parsedmarc's public
sample reports (tests/data/dmarc-reports) are ingested and the receiver view
is compared with totals that Python's own XML parser computes from the same
files. trustmilter's own RFC 9990 reports round-trip through the parser.
Bombs (gzip, zip, entity expansion, 100000 records, oversize) are refused with
their finding names and bounded memory; ingesting twice stores once."""
import email
import glob
import gzip
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp(prefix="tm-feedback.")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import fixture  # noqa: E402
import stats  # noqa: E402  (pg_start, pg_stop)

CHECK = os.path.join(BUILD, "trustmilter-check")
REPORT = os.path.join(BUILD, "trustmilter-report")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
SAMPLES = os.path.join(SRC, "tests", "data", "dmarc-reports")
n = 0


def ok(cond, name, extra=""):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond and extra:
        for line in str(extra).splitlines()[:30]:
            print("#   " + line)
    sys.stdout.flush()


def report(args, timed=False):
    cmd = ([ "/usr/bin/time", "-f", "maxrss %M"] if timed else []) + [REPORT] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


# ---- outbound mail: 400 of one campaign, 100 of another, 100 from a second domain
PROVIDER_RCPT = ["someone@yahoo.com", "someone@gmail.com", "someone@outlook.com"]


def outbound_messages(d):
    os.makedirs(d, exist_ok=True)
    files = []
    for i in range(600):
        if i < 400:
            frm, lid = "news@news.sender.test", "Weekly <weekly.news.sender.test>"
        elif i < 500:
            frm, lid = "news@news.sender.test", "Daily <daily.news.sender.test>"
        else:
            frm, lid = "hello@other.sender.test", None
        rcpt = PROVIDER_RCPT[i % 3]
        p = os.path.join(d, "m%03d.eml" % i)
        with open(p, "w") as f:
            f.write("From: %s\nTo: %s\nSubject: offer %d\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n"
                    "Message-ID: <m%d@sender.test>\n%s\nhello\n"
                    % (frm, rcpt, i, i, ("List-Id: %s\n" % lid) if lid else ""))
        files.append((p, rcpt))
    return files


def record_outbound(conf, files, uri):
    # one trustmilter-check run per recipient set (the recipient is an envelope fact)
    for rcpt in PROVIDER_RCPT:
        batch = [p for p, r in files if r == rcpt]
        p = subprocess.run([CHECK, "-c", conf, "-q", "--direction", "outbound", "--client-ip", "192.0.2.20",
                            "--helo", "mta.sender.test", "--mail-from", "bounce@sender.test", "--rcpt", rcpt,
                            "--record", uri] + batch, capture_output=True, text=True, timeout=600)
        if p.returncode == 2:
            return p.stderr
    return None


def arf(rcpt, frm, list_id, ftype="abuse", arrival=None, msgid=None):
    arrival = arrival or time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    lid = ("List-Id: %s\r\n" % list_id) if list_id else ""
    return ("From: fbl@isp.test\r\nTo: fbl@sender.test\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
            "--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: %s\r\n"
            "User-Agent: test-fbl/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <%s>\r\nArrival-Date: %s\r\n"
            "Source-IP: 192.0.2.20\r\n\r\n"
            "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: <%s>\r\nTo: redacted\r\n"
            "Subject: offer\r\nMessage-ID: %s\r\n%s\r\n--b--\r\n"
            % (ftype, rcpt, arrival, frm, msgid or "<x%d@sender.test>" % abs(hash((rcpt, frm, list_id, ftype))),
               lid))


def complaints_mbox(path):
    msgs = [
        arf("a@yahoo.com", "news@news.sender.test", "Weekly <weekly.news.sender.test>"),
        arf("b@yahoo.com", "news@news.sender.test", "Weekly <weekly.news.sender.test>", msgid="<m3@sender.test>"),
        arf("c@yahoo.com", "news@news.sender.test", "Weekly <weekly.news.sender.test>", "not-spam"),
        arf("d@outlook.com", "hello@other.sender.test", None),
        arf("e@yahoo.com", "ceo@never-sent.test", None),
    ]
    with open(path, "w") as f:
        for m in msgs:
            f.write("From MAILER-DAEMON Mon Nov 30 10:00:00 2026\n" + m.replace("\r\n", "\n") + "\n")


def table(j, name, key):
    return dict((r[key], r) for r in j[name])


def check_complaints(uri, tag):
    rc, out, err = report(["--store", uri, "--feedback", "--since", "30d", "--format", "json"])
    try:
        j = json.loads(out)
    except Exception:  # noqa: BLE001
        ok(False, "%s: --feedback JSON" % tag, (rc, out[:300], err))
        return None
    ok(j["reports"] == 5 and j["complaints"] == 4, "%s: 5 reports, 4 complaints" % tag, j)
    camp = table(j, "campaigns", "campaign")
    w = camp.get("Weekly <weekly.news.sender.test>", {})
    ok(w.get("outbound") == 400 and w.get("complaints") == 2 and abs(w.get("complaint_rate", 0) - 0.005) < 1e-9,
       "%s: campaign Weekly: 2 complaints / 400 outbound = 0.50%%" % tag, w)
    d = table(j, "from_domains", "from_domain")
    ok(d.get("news.sender.test", {}).get("outbound") == 500 and d["news.sender.test"]["complaints"] == 2
       and d["news.sender.test"]["reports"] == 3, "%s: From domain news.sender.test: 2/500" % tag, d)
    ok(d.get("other.sender.test", {}).get("complaints") == 1 and d["other.sender.test"]["outbound"] == 100,
       "%s: From domain other.sender.test: 1/100" % tag, d)
    ok(d.get("never-sent.test", {}).get("outbound") == 0, "%s: mail we never sent: no outbound" % tag, d)
    m = table(j, "match_methods", "match_method")
    ok(m.get("message_id", {}).get("reports") == 1 and m.get("campaign", {}).get("reports") == 2
       and m.get("from_domain", {}).get("reports") == 1 and m.get("none", {}).get("reports") == 1,
       "%s: matched by Message-ID 1, campaign 2, From domain 1, none 1" % tag, m)
    t = table(j, "feedback_types", "feedback_type")
    ok(t.get("abuse", {}).get("reports") == 4 and t.get("not-spam", {}).get("reports") == 1,
       "%s: abuse 4, not-spam 1 (stored as what they are)" % tag, t)
    p = table(j, "providers", "provider")
    ok(p["gmail"]["readiness"] == "unknown" and p["gmail"]["reports"] == 0 and p["gmail"]["outbound"] == 200,
       "%s: gmail: 200 outbound, no feedback loop reports, readiness unknown" % tag, p)
    y = p["yahoo"]
    ok(y["outbound"] == 200 and y["complaints"] == 3 and y["reports"] == 4
       and abs(y["complaint_rate"] - 0.015) < 1e-9 and y["readiness"] == "not ready",
       "%s: yahoo: 3 complaints / 200 outbound = 1.5%%, not ready" % tag, y)
    ms = p["microsoft"]
    ok(ms["outbound"] == 200 and ms["complaints"] == 1 and abs(ms["complaint_rate"] - 0.005) < 1e-9
       and ms["readiness"] == "not ready", "%s: microsoft: 1 / 200 = 0.5%%, not ready" % tag, ms)
    return j


# ---- DMARC aggregate reports: an independent oracle with Python's XML parser
def sample_xml(path):
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zip"):
        z = zipfile.ZipFile(io.BytesIO(data))
        return z.read(z.namelist()[0])
    if path.endswith(".eml"):
        msg = email.message_from_bytes(data)
        for part in msg.walk():
            fn = part.get_filename() or ""
            if part.get_content_type() in ("application/gzip", "application/zip", "application/x-zip-compressed",
                                           "text/xml", "application/xml") or fn.endswith((".gz", ".zip", ".xml")):
                b = part.get_payload(decode=True)
                if b[:2] == b"\x1f\x8b":   # one member; some reporters add bytes after it
                    return zlib.decompressobj(16 + 15).decompress(b)
                if b[:2] == b"PK":
                    z = zipfile.ZipFile(io.BytesIO(b))
                    return z.read(z.namelist()[0])
                return b
    return data


def oracle(paths):
    dom = {}
    for p in paths:
        x = sample_xml(p)
        x = re.sub(rb"[\x80-\xff]", b"?", x) if b"bad_byte" in x else x
        root = ET.fromstring(x)
        for rec in root.iter():
            if rec.tag.split("}")[-1] != "record":
                continue
            def find(path):
                e = rec
                for name in path.split("/"):
                    e = next((c for c in e if c.tag.split("}")[-1] == name), None)
                    if e is None:
                        return ""
                return (e.text or "").strip()
            hf = find("identifiers/header_from").lower()
            cnt = int(find("row/count"))
            spf = find("row/policy_evaluated/spf").lower() == "pass"
            dk = find("row/policy_evaluated/dkim").lower() == "pass"
            e = dom.setdefault(hf, dict(messages=0, pass_=0, spf=0, dkim=0, fail=0))
            e["messages"] += cnt
            e["pass_"] += cnt if spf or dk else 0
            e["spf"] += cnt if spf else 0
            e["dkim"] += cnt if dk else 0
            e["fail"] += 0 if spf or dk else cnt
    return dom


REFUSED = {"ikea.xml": "feedback.dmarc.not_feedback", "invalid_xml.xml": "feedback.dmarc.xml_invalid",
           "SOURCE": "feedback.report.unknown"}


def check_dmarc(uri, tag):
    rc, out, err = report(["--store", uri, "--ingest", SAMPLES])
    good = sorted(p for p in glob.glob(os.path.join(SAMPLES, "*")) if os.path.basename(p) not in REFUSED)
    ok(rc == 1 and "%d DMARC aggregate reports" % len(good) in out and "%d refused" % len(REFUSED) in out,
       "%s: parsedmarc samples: %d stored, %d refused" % (tag, len(good), len(REFUSED)), (rc, out, err))
    for name, finding in sorted(REFUSED.items()):
        ok("%s: refused: %s" % (name, finding) in err, "%s: %s refused with %s" % (tag, name, finding), err)
    rc, out, err = report(["--store", uri, "--ingest", SAMPLES])
    ok("0 DMARC aggregate reports" in out and "%d duplicates" % len(good) in out,
       "%s: ingesting again stores nothing (%d duplicates)" % (tag, len(good)), out)
    rc, out, err = report(["--store", uri, "--feedback", "--since", "1970-01-01", "--format", "json"])
    j = json.loads(out)
    got = table(j, "receiver_domains", "domain")
    want = oracle(good)
    for d, e in sorted(want.items()):
        g = got.get(d, {})
        same = (g.get("messages") == e["messages"] and g.get("failing") == e["fail"]
                and abs((g.get("dmarc_pass") or 0) - e["pass_"] / e["messages"]) < 1e-6
                and abs((g.get("spf_aligned") or 0) - e["spf"] / e["messages"]) < 1e-6
                and abs((g.get("dkim_aligned") or 0) - e["dkim"] / e["messages"]) < 1e-6)
        ok(same, "%s: receivers of %s: %d messages, %d failing, rates as Python's parser counts them"
           % (tag, d, e["messages"], e["fail"]), (g, e))
    ok(sorted(got) == sorted(want), "%s: the same own domains" % tag, (sorted(got), sorted(want)))
    return j


def bombs(d, uri):
    os.makedirs(d, exist_ok=True)
    zeros = b"\0" * (200 << 20)
    open(os.path.join(d, "bomb.xml.gz"), "wb").write(gzip.compress(zeros, 9))
    with zipfile.ZipFile(os.path.join(d, "bomb.xml.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("r.xml", zeros)
    del zeros
    open(os.path.join(d, "laughs.xml"), "w").write(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
        "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10) for i in range(1, 10)) +
        ']><feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>')
    rec = ("<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row>"
           "<identifiers><header_from>f.test</header_from></identifiers></record>")
    head = ("<feedback><report_metadata><org_name>f</org_name><report_id>1</report_id><date_range>"
            "<begin>1</begin><end>2</end></date_range></report_metadata><policy_published>"
            "<domain>f.test</domain></policy_published>")
    open(os.path.join(d, "flood.xml"), "w").write(head + rec * 100000 + "</feedback>")
    open(os.path.join(d, "huge.xml"), "w").write(head + " " * (17 << 20) + "</feedback>")
    # 200 MiB of zeros reach the 32 MiB cap before the ratio cap; a smaller
    # bomb is stopped by the ratio (tests/unit/test_unpack.c)
    open(os.path.join(d, "ratio.xml.gz"), "wb").write(gzip.compress(b"\0" * (20 << 20), 9))
    want = {"bomb.xml.gz": "feedback.unpack.too_large", "bomb.xml.zip": "feedback.unpack.too_large",
            "ratio.xml.gz": "feedback.unpack.bomb",
            "laughs.xml": "feedback.dmarc.doctype", "flood.xml": "feedback.dmarc.too_many_records",
            "huge.xml": "feedback.report.too_large"}
    t0 = time.time()
    rc, out, err = report(["--store", uri, "--ingest", d], timed=True)
    secs = time.time() - t0
    for name, finding in sorted(want.items()):
        ok("%s: refused: %s" % (name, finding) in err, "%s refused with %s" % (name, finding), err)
    ok("0 DMARC aggregate reports" in out and "6 refused" in out, "no bomb stored", out)
    m = re.search(r"maxrss (\d+)", err)
    rss = int(m.group(1)) // 1024 if m else -1
    limit = 600 if os.environ.get("TM_SAN") == "1" else 200
    ok(0 < rss < limit, "bombs: peak memory %d MB (limit %d MB), %.1f s" % (rss, limit, secs), err[-300:])


def round_trip(conf, uri):
    """trustmilter's own RFC 9990 reports through its own parser."""
    for idx, (fname, _sig, env) in enumerate(fixture.CASES):
        subprocess.run([CHECK, "-c", conf, "-q", "--record", uri, "--macro", "i=R%d" % idx]
                       + fixture.envelope_args(env) + [os.path.join(TMP, "msgs", fname)],
                       capture_output=True, timeout=60)
    out_dir = os.path.join(TMP, "own-reports")
    rc, out, err = report(["-c", conf, "--store", uri, "--since", "1d", "--dmarc-reports", out_dir])
    files = sorted(glob.glob(os.path.join(out_dir, "*.xml.gz")))
    ok(rc == 0 and files, "own RFC 9990 reports written (%d)" % len(files), (rc, out, err))
    rc, out, err = report(["--store", uri, "--ingest"] + files)
    ok(rc == 0 and "%d DMARC aggregate reports" % len(files) in out, "own reports ingested", (rc, out, err))
    want = 0
    for f in files:
        for c in ET.fromstring(gzip.decompress(open(f, "rb").read())).iter():
            if c.tag.split("}")[-1] == "count":
                want += int(c.text)
    db = sqlite3.connect(uri[len("sqlite:"):])
    got = db.execute("SELECT sum(count) FROM dmarc_records WHERE report IN (SELECT id FROM dmarc_reports"
                     " WHERE org_name = 'mx.recipient.test')").fetchone()[0]
    ok(got == want and want > 0, "own reports round-trip: %s messages stored, %d in the XML" % (got, want))
    # --rdns: the sources' names, forward-confirmed or marked "?"
    conf2 = os.path.join(TMP, "rdns.conf")
    with open(conf) as f:
        text = f.read().replace('transparent_zones = ["test.", "invalid."]',
                                'transparent_zones = ["test.", "invalid.", "2.0.192.in-addr.arpa."]')
    open(conf2, "w").write(text)
    rc, out, err = report(["-c", conf2, "--store", uri, "--feedback", "--rdns", "--since", "1d",
                           "--domain", "example.test", "--format", "json"])
    try:
        src = dict((r["source_ip"], r["name"]) for r in json.loads(out)["receiver_sources"])
    except Exception:  # noqa: BLE001
        src = {}
    ok(src.get("192.0.2.20") == "mta-out.example.test" and src.get("192.0.2.10") == "forged.example.test?",
       "--rdns: confirmed name, unconfirmed name marked", (src, err))


def main():
    os.makedirs(TMP, exist_ok=True)
    fixture.build(TMP)
    with open(os.path.join(TMP, "zones.yaml"), "a") as f:   # names of a source, for --rdns
        f.write("20.2.0.192.in-addr.arpa:\n  - PTR: mta-out.example.test\n"
                "mta-out.example.test:\n  - A: 192.0.2.20\n"
                "10.2.0.192.in-addr.arpa:\n  - PTR: forged.example.test\n")
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"),
                          os.path.join(TMP, "zones.yaml")], capture_output=True, text=True, check=True).stdout.strip()
    pg = None
    try:
        conf = fixture.write_conf(TMP, dns, mode="enforce")
        pg = stats.pg_start()
        body(conf, pg)
    except Exception as e:  # noqa: BLE001
        ok(False, "the test ran to its end", repr(e))
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
        stats.pg_stop(pg)
    return 0


def body(conf, pg):
    uri = "sqlite:" + os.path.join(TMP, "audit.db")
    files = outbound_messages(os.path.join(TMP, "out"))
    e = record_outbound(conf, files, uri)
    ok(e is None, "600 outbound messages recorded in SQLite", e)
    mbox = os.path.join(TMP, "complaints.mbox")
    complaints_mbox(mbox)
    rc, out, err = report(["--store", uri, "--ingest", mbox])
    ok(rc == 0 and "5 ARF reports (4 complaints, 4 matched" in out, "mbox of 5 ARF reports ingested", (rc, out, err))
    rc, out, err = report(["--store", uri, "--ingest", mbox])
    ok("0 ARF reports" in out and "5 duplicates" in out, "the same mbox again stores nothing", out)
    js = check_complaints(uri, "sqlite")
    dj = check_dmarc(uri, "sqlite")
    for fmt, needle in (("text", "0.50%"), ("csv", "0.005000"), ("html", "<td class=\"n\">0.50%</td>")):
        rc, out, err = report(["--store", uri, "--feedback", "--since", "30d", "--format", fmt])
        ok(rc == 0 and needle in out, "--feedback --format %s shows the campaign rate" % fmt, out[:400])
    bombs(os.path.join(TMP, "bombs"), uri)
    round_trip(conf, uri)
    pg_uri = "postgresql://tm@127.0.0.1:%d/postgres" % pg["port"] if pg and not pg.get("error") else None
    ok(pg_uri is not None, "PostgreSQL server started on loopback", pg and pg.get("error"))
    if pg_uri is None:
        return
    e = record_outbound(conf, files, pg_uri)
    ok(e is None, "600 outbound messages recorded in PostgreSQL", e)
    rc, out, err = report(["--store", pg_uri, "--ingest", mbox])
    ok(rc == 0 and "5 ARF reports (4 complaints, 4 matched" in out, "postgresql: mbox ingested", (rc, out, err))
    jp = check_complaints(pg_uri, "postgresql")
    dp = check_dmarc(pg_uri, "postgresql")
    strip = lambda j: {k: v for k, v in (j or {}).items() if k not in ("since", "until")}
    ok(strip(jp) == strip(js), "complaint views of SQLite and PostgreSQL are identical")
    ok(dp["receiver_domains"] == dj["receiver_domains"] and dp["receiver_sources"] == dj["receiver_sources"],
       "receiver views of SQLite and PostgreSQL are identical")


if __name__ == "__main__":
    sys.exit(main())
