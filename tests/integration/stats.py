#!/usr/bin/python3
"""stats - the audit store and trustmilter-report end to end.

A known set of messages (the signed samples of tests/lib/fixture.py, DNS from a
real unbound) goes through trustmilter-check --record (the session API) into
SQLite and into a real PostgreSQL server started here on loopback; the JSON
report must give exactly the counts and rates computed from the per-message
JSON of the same messages, and both backends must give the same report. Then:
two writers into one PostgreSQL database at once, RFC 9990 aggregate reports
validated with xmllint against the schema, the HTML page loaded in headless
Chromium (screenshot, no console messages), CSV and text output."""
import csv
import glob
import gzip
import io
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp(prefix="tm-stats.")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import fixture  # noqa: E402

CHECK = os.path.join(BUILD, "trustmilter-check")
REPORT = os.path.join(BUILD, "trustmilter-report")
LOAD = os.path.join(BUILD, "tools", "store-load")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
XSD = os.path.join(SRC, "tests", "data", "dmarc-xml-0.2.xsd")
n = 0


def ok(cond, name, extra=""):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond and extra:
        for line in str(extra).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# the message set: (sample, macros); round A has TLS on the first four
def feed_list():
    out = []
    for i, (fname, _sig, env) in enumerate(fixture.CASES):
        out.append((fname, env, ["tls_version=TLSv1.3"] if i < 4 else []))
    byname = dict((c[0], c[2]) for c in fixture.CASES)
    for fname in ("marketing-compliant.eml", "marketing-compliant.eml", "transactional.eml"):
        out.append((fname, byname[fname], []))
    return out


def run_check(conf, fname, env, macros, idx, record=None):
    args = [CHECK, "-c", conf, "--json"] + fixture.envelope_args(env)
    for m in macros + ["i=Q%d" % idx]:
        args += ["--macro", m]
    if record:
        args += ["--record", record]
    p = subprocess.run(args + [os.path.join(TMP, "msgs", fname)], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expected(msgs):
    """Totals computed from the per-message JSON (the oracle)."""
    e = dict(messages=0, spf_pass=0, dkim_pass=0, dmarc_pass=0, spf_aligned=0, dkim_aligned=0,
             bulk=0, one_click_compliant=0, tls=0, actions={}, findings={}, domains={})
    for j, tls in msgs:
        e["messages"] += 1
        e["spf_pass"] += j["spf"]["result"] == "pass"
        e["dkim_pass"] += any(d["result"] == "pass" for d in j["dkim"])
        e["dmarc_pass"] += j["dmarc"]["result"] == "pass"
        e["spf_aligned"] += bool(j["dmarc"].get("spf_aligned"))
        e["dkim_aligned"] += bool(j["dmarc"].get("dkim_aligned"))
        e["bulk"] += bool(j["bulk"])
        e["one_click_compliant"] += bool(j["bulk"]) and j["unsubscribe"]["verdict"] == "compliant"
        e["tls"] += tls
        a = j["action_enforced"]
        e["actions"][a] = e["actions"].get(a, 0) + 1
        for f in j["findings"]:
            e["findings"][f["name"]] = e["findings"].get(f["name"], 0) + 1
        d = j["dmarc"]["from_domain"] or "(no From domain)"
        e["domains"][d] = e["domains"].get(d, 0) + 1
    return e


def report(args, timeout=60):
    p = subprocess.run([REPORT] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check_report(label, store, e):
    rc, out, err = report(["--store", store, "--since", "1d", "--until", "now",
                           "--format", "json", "--group", "domain"])
    try:
        j = json.loads(out)
    except Exception as ex:  # noqa: BLE001
        ok(False, "%s: report is JSON" % label, (rc, out[:500], err, ex))
        return None
    t = j["totals"]
    for k in ("messages", "spf_pass", "dkim_pass", "dmarc_pass", "spf_aligned", "dkim_aligned", "bulk",
              "one_click_compliant", "tls"):
        ok(t[k] == e[k], "%s: %s = %d" % (label, k, e[k]), (t[k], e[k]))
    for k, num, den in (("spf_pass_rate", "spf_pass", "messages"), ("dkim_pass_rate", "dkim_pass", "messages"),
                        ("dmarc_pass_rate", "dmarc_pass", "messages"), ("tls_rate", "tls", "messages"),
                        ("one_click_rate", "one_click_compliant", "bulk")):
        want = round(e[num] / e[den], 4)
        ok(abs(t[k] - want) < 1e-9, "%s: %s = %.4f" % (label, k, want), (t[k], want))
    acts = dict((a, t["actions"].get(a, 0)) for a in t["actions"] if t["actions"].get(a))
    ok(acts == e["actions"], "%s: actions taken" % label, (acts, e["actions"]))
    fj = dict((f["name"], f["count"]) for f in j["findings"])
    ok(fj == e["findings"], "%s: finding counts" % label, (fj, e["findings"]))
    gj = dict((g["key"], g["measures"]["messages"]) for g in j["groups"])
    ok(gj == e["domains"], "%s: messages per sending domain" % label, (gj, e["domains"]))
    ok(j["dropped"] == 0, "%s: no dropped records" % label, j["dropped"])
    sc = dict((s["domain"], s) for s in j["scorecard"])
    ok(set(sc) == set(e["domains"]), "%s: a scorecard row per sending domain" % label, list(sc))
    return j


def pg_start():
    """initdb + pg_ctl on a free loopback port, as the postgres user when root."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        return None
    b = bins[-1]
    d = tempfile.mkdtemp(prefix="tm-pg.")
    user = None
    if os.getuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(d, user.pw_uid, user.pw_gid)
    os.chmod(d, 0o700)
    port = free_port()

    def as_pg(cmd):
        pre = (lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid))) if user else None
        return subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pre, timeout=120, cwd="/")
    r = as_pg([b + "/initdb", "-D", d + "/data", "-U", "tm", "--auth=trust", "-E", "UTF8", "--no-locale"])
    if r.returncode != 0:
        return dict(dir=d, error=r.stderr, bin=b, as_pg=as_pg)
    r = as_pg([b + "/pg_ctl", "-D", d + "/data", "-l", d + "/log", "-w", "-t", "60", "start", "-o",
               "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off" % (port, d)])
    return dict(dir=d, port=port, bin=b, as_pg=as_pg, error=None if r.returncode == 0 else r.stderr + r.stdout)


def pg_stop(pg):
    if pg and pg.get("port"):
        pg["as_pg"]([pg["bin"] + "/pg_ctl", "-D", pg["dir"] + "/data", "-m", "immediate", "-w", "stop"])
    if pg:
        shutil.rmtree(pg["dir"], ignore_errors=True)


def main():
    os.makedirs(TMP, exist_ok=True)
    fixture.build(TMP)
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"),
                          os.path.join(TMP, "zones.yaml")], capture_output=True, text=True, check=True).stdout.strip()
    pg = None
    try:
        conf = fixture.write_conf(TMP, dns, mode="enforce")
        pg = pg_start()
        body(conf, pg)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
        pg_stop(pg)
    return 0


def body(conf, pg):
    sqlite_uri = "sqlite:" + os.path.join(TMP, "audit.db")
    pg_uri = "postgresql://tm@127.0.0.1:%d/postgres" % pg["port"] if pg and not pg.get("error") else None
    ok(pg_uri is not None, "PostgreSQL server started on loopback", pg and pg.get("error"))
    msgs = []
    for idx, (fname, env, macros) in enumerate(feed_list()):
        rc, out, err = run_check(conf, fname, env, macros, idx, sqlite_uri)
        try:
            j = json.loads(out.splitlines()[0])
        except Exception:  # noqa: BLE001
            ok(False, "check --record %s" % fname, (rc, out[:300], err))
            continue
        msgs.append((j, 1 if macros else 0))
        if pg_uri:
            rc2, _o, err2 = run_check(conf, fname, env, macros, idx, pg_uri)
            if rc2 == 2:
                ok(False, "check --record postgresql %s" % fname, err2)
    ok(len(msgs) == 10, "ten messages checked and recorded", len(msgs))
    e = expected(msgs)
    ok(e["actions"].get("reject") == 2 and e["tls"] == 4 and e["bulk"] == 6,
       "the message set: 2 rejected, 4 over TLS, 6 bulk", e)
    js = check_report("sqlite", sqlite_uri, e)
    if pg_uri:
        jp = check_report("postgresql", pg_uri, e)
        strip = (lambda j: {k: v for k, v in j.items() if k not in ("since", "until")}) if js and jp else None
        ok(strip and strip(js) == strip(jp), "SQLite and PostgreSQL give the same report")
        fleet(pg_uri)
    other_outputs(sqlite_uri, e)
    dmarc_reports(sqlite_uri, msgs)
    html(sqlite_uri)


def fleet(pg_uri):
    """Two milters (store-load processes, different hosts) write into one database at once."""
    procs = [subprocess.Popen([LOAD, pg_uri, "400", h], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for h in ("mx1.fleet.test", "mx2.fleet.test")]
    outs = [p.communicate(timeout=120) for p in procs]
    finals = [o[0].strip().splitlines()[-1] if o[0].strip() else "" for o in outs]
    ok(all(f == "final submitted=400 written=400 dropped=0" for f in finals),
       "fleet: two writers, each 400 records written", (finals, [o[1] for o in outs]))
    rc, out, err = report(["--store", pg_uri, "--since", "1d", "--format", "json", "--group", "client",
                           "--domain", "load.test"])
    j = json.loads(out) if rc == 0 else {}
    ok(j.get("totals", {}).get("messages") == 800, "fleet: one report covers both milters (800)",
       (rc, out[:300], err))


def other_outputs(uri, e):
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "csv", "--group", "campaign"])
    rows = list(csv.reader(io.StringIO(out)))
    ok(rc == 0 and rows[0][0] == "key" and rows[-1][0] == "(total)" and int(rows[-1][1]) == e["messages"],
       "CSV: header, campaign rows, total row", (rc, out[:400], err))
    rc, out, err = report(["--store", uri, "--since", "1d", "--by", "day", "--group", "domain"])
    ok(rc == 0 and "Messages            %d" % e["messages"] in out and "Scorecard" in out and "By day" in out,
       "text report", out[:600] + err)
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "json", "--direction", "outbound"])
    ok(rc == 0 and json.loads(out)["totals"]["messages"] == 0, "direction filter", out[:200])
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "json", "--domain", "example.test"])
    want = sum(v for k, v in e["domains"].items() if k == "example.test" or k.endswith(".example.test"))
    ok(rc == 0 and json.loads(out)["totals"]["messages"] == want, "domain filter includes subdomains (%d)" % want, out[:200])
    rc, out, err = report(["--store", uri, "--since", "2000-01-01", "--until", "2000-01-02", "--format", "json"])
    ok(rc == 0 and json.loads(out)["totals"]["messages"] == 0, "absolute period with no mail", out[:200])
    rc, out, err = report(["--store", uri, "--since", "yesterday-ish"])
    ok(rc == 2 and "bad time" in err, "bad --since is a usage error", (rc, err))
    rc, out, err = report(["--store", "sqlite:/nonexistent/dir/x.db"])
    ok(rc == 2 and "nonexistent" in err, "unreadable store is an error naming it", (rc, err))


def dmarc_reports(uri, msgs):
    out_dir = os.path.join(TMP, "dmarc")
    rc, out, err = report(["--store", uri, "--since", "1d", "--dmarc-reports", out_dir, "--mail",
                           "--submitter", "mx.recipient.test"])
    files = sorted(glob.glob(os.path.join(out_dir, "*.xml.gz")))
    ok(rc == 0 and files, "DMARC aggregate reports written", (rc, err, os.listdir(out_dir) if os.path.isdir(out_dir) else None))
    want = {}
    for j, _t in msgs:
        d = j["dmarc"]
        if d["result"] in ("pass", "fail") and d.get("policy_domain") and d.get("record"):
            want[d["policy_domain"]] = want.get(d["policy_domain"], 0) + 1
    got = {}
    for f in files:
        name = os.path.basename(f)
        parts = name[:-len(".xml.gz")].split("!")
        ok(len(parts) == 4 and parts[0] == "mx.recipient.test" and int(parts[3]) - int(parts[2]) == 86399,
           "file name receiver!domain!begin!end.xml.gz: %s" % name)
        xml = gzip.open(f).read()
        plain = os.path.join(TMP, name[:-3])
        open(plain, "wb").write(xml)
        p = subprocess.run(["xmllint", "--noout", "--schema", XSD, plain], capture_output=True, text=True)
        ok(p.returncode == 0, "%s validates against the RFC 9990 schema" % name, p.stderr)
        import xml.etree.ElementTree as ET
        ns = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
        root = ET.fromstring(xml)
        dom = root.find("d:policy_published/d:domain", ns).text
        got[dom] = sum(int(c.text) for c in root.findall("d:record/d:row/d:count", ns))
    ok(got == want, "message counts per policy domain match", (got, want))
    emls = glob.glob(os.path.join(out_dir, "*.eml"))
    ok(any("example.test" in x for x in emls), "ready-to-send message for the rua address", emls)
    for x in emls:
        t = open(x).read()
        ok("To: dmarc-reports@example.test" in t and "Subject: Report Domain: example.test Submitter: mx.recipient.test Report-ID: <" in t
           and "Content-Type: application/gzip" in t, "report message headers (RFC 9990 subject, gzip part)", t[:600])


def html(uri):
    page = os.path.join(TMP, "report.html")
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "html", "-o", page])
    t = open(page).read() if os.path.exists(page) else ""
    ok(rc == 0 and t.count("<svg") >= 3, "HTML with three inline SVG charts", (rc, err))
    ok("src=" not in t and "href=" not in t and "<script" not in t and "@import" not in t,
       "HTML fetches nothing (no src, href, script, @import)")
    chromium = shutil.which("chromium")
    if chromium is None:
        print("ok - # SKIP chromium is not installed")
        return
    home = os.path.join(TMP, "chromium")
    os.makedirs(home, exist_ok=True)

    def load(path, shot):
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + home + "/ud",
                            "--screenshot=" + shot, "--window-size=1000,2400", "--virtual-time-budget=2000",
                            "--enable-logging=stderr", "--v=0", "file://" + path],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=home))
        console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
        return p.returncode, console, p.stderr
    # negative control: the console detector sees a script error
    bad = os.path.join(TMP, "bad.html")
    open(bad, "w").write("<html><body><script>undefined_fn();</script></body></html>")
    rc, console, err = load(bad, os.path.join(home, "bad.png"))
    if rc != 0 and not os.path.exists(os.path.join(home, "bad.png")):
        print("ok - # SKIP chromium cannot start: " + err.strip().splitlines()[-1] if err.strip() else "")
        return
    ok(console, "control: a page with a script error shows up on the console", err[-500:])
    shot = os.path.join(TMP, "report.png")
    rc, console, err = load(page, shot)
    ok(rc == 0 and not console, "headless Chromium loads the report without console messages", "\n".join(console) or err[-800:])
    size = os.path.getsize(shot) if os.path.exists(shot) else 0
    ok(size > 20000, "screenshot taken (%d bytes)" % size)


if __name__ == "__main__":
    sys.exit(main())
