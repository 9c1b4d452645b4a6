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
import html as html_mod
import io
import json
import os
import pwd
import re
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
    scorecard(sqlite_uri, msgs)
    store_and_dates()
    dmarc_reports(sqlite_uri, msgs)
    html(sqlite_uri)
    days_uri = days_store(conf)
    directions(days_uri)
    html_pages(days_uri)


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


def authenticated(j):
    """The scorecard's rule: DMARC pass, an aligned SPF or DKIM pass, or our own outbound mail."""
    d = j["dmarc"]
    return (j.get("direction") == "outbound" or d["result"] == "pass" or bool(d.get("spf_aligned"))
            or bool(d.get("dkim_aligned")))


def scorecard(uri, msgs):
    want = {}
    for j, _t in msgs:
        dom = j["dmarc"]["from_domain"] or "(no From domain)"
        w = want.setdefault(dom, dict(auth=0, unauth=0, dmarc_fail=0, rejected=0))
        if authenticated(j):
            w["auth"] += 1
        else:
            w["unauth"] += 1
            w["dmarc_fail"] += j["dmarc"]["result"] == "fail"
            w["rejected"] += j["action_enforced"] == "reject"
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "json", "--direction", "inbound"])
    sc = dict((x["domain"], x) for x in json.loads(out)["scorecard"]) if rc == 0 else {}
    got = dict((d, dict(auth=x["authenticated"], unauth=x["unauthenticated"]["messages"],
                        dmarc_fail=x["unauthenticated"]["dmarc_fail"], rejected=x["unauthenticated"]["rejected"]))
               for d, x in sc.items())
    ok(got == want, "scorecard: authenticated and forged mail counted apart per domain", (got, want))
    forged = [d for d, w in want.items() if w["unauth"] and w["rejected"]]
    ok(forged and all(sc[d]["unauthenticated"]["rejected"] > 0 for d in forged),
       "scorecard: spoofing that DMARC rejected is on its own line (%s)" % forged, sc)
    only_forged = [d for d, w in want.items() if w["auth"] == 0]
    ok(all(sc[d]["score"] is None and sc[d]["grade"] is None for d in only_forged),
       "scorecard: a domain with no authenticated mail gets no score (%d)" % len(only_forged))
    # every authenticated message of example.test is ready at Microsoft: ready, forged mail notwithstanding
    ex = [j for j, _t in msgs if j["dmarc"]["from_domain"] == "example.test" and authenticated(j)]
    ms = all(j["providers"]["microsoft"]["ready"] for j in ex)
    ok(ex and sc.get("example.test", {}).get("readiness", {}).get("microsoft", {}).get("ready") == ms,
       "scorecard: readiness from authenticated mail only", sc.get("example.test"))
    vol = [x["messages"] for x in json.loads(out)["scorecard"]]
    ok(vol == sorted(vol, reverse=True), "scorecard: sorted by volume", vol)
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "json", "--direction", "inbound",
                           "--sort", "worst"])
    rows = json.loads(out)["scorecard"] if rc == 0 else []
    scores = [x["score"] for x in rows if x["score"] is not None]
    ok(rows and scores == sorted(scores) and all(x["score"] is None for x in rows[len(scores):]),
       "--sort worst: lowest score first, unscored last", [(x["domain"], x["score"]) for x in rows])
    rc, out, err = report(["--store", uri, "--since", "1d", "--format", "json", "--top", "1"])
    j = json.loads(out) if rc == 0 else {}
    ok(len(j.get("scorecard", [])) == 1 and j.get("scorecard_domains") == len(want) and len(j.get("findings", [])) == 1,
       "--top 1: one scorecard row and one finding (of %d domains)" % len(want), out[:400])
    rc, out, err = report(["--store", uri, "--since", "1d", "--top", "1"])
    ok(rc == 0 and "more domains not shown: --top" in out and out.count("  + forged/unauthenticated") <= 1,
       "--top in the text scorecard", out[-1500:])
    ok("fix: " in out and "Scoring method" in out and "authenticated mail only" in out,
       "text report: findings with meaning and fix, the scoring method explained", out[-2500:])


def store_and_dates():
    missing = os.path.join(TMP, "typo", "audit.db")
    os.makedirs(os.path.dirname(missing), exist_ok=True)
    rc, out, err = report(["--store", missing])
    ok(rc == 2 and "audit.db" in err and "--create" in err and not os.path.exists(missing),
       "--store with a path that does not exist is refused, nothing created", (rc, err))
    rc, out, err = report(["--store", missing, "--create", "--format", "json"])
    ok(rc == 0 and json.loads(out)["totals"]["messages"] == 0 and os.path.exists(missing),
       "--create starts an empty store", (rc, err))
    for bad in ("2026-11-31", "2026-02-29", "2026-13-01", "2026-12-06T24:00", "2026-12-06T12:60"):
        rc, out, err = report(["--store", missing, "--since", bad])
        ok(rc == 2 and "bad time" in err, "--since %s is an error" % bad, (rc, err))
    rc, out, err = report(["--store", missing, "--since", "2024-02-29", "--until", "2026-12-31T23:59:59"])
    ok(rc == 0, "real dates are taken (2024-02-29, 23:59:59)", err)


def days_store(conf):
    """A store over ten days: inbound and outbound, bulk mail on some days only."""
    path = os.path.join(TMP, "days.db")
    uri = "sqlite:" + path
    byname = dict((c[0], c[2]) for c in fixture.CASES)
    plan = [("marketing-compliant.eml", 9, "inbound"), ("transactional.eml", 9, "inbound"),
            ("spoofed.eml", 8, "inbound"), ("marketing-uncovered.eml", 7, "inbound"),
            ("transactional.eml", 5, "inbound"), ("transactional.eml", 4, "inbound"),
            ("marketing-compliant.eml", 2, "inbound"), ("marketing-mailto-only.eml", 1, "inbound"),
            ("transactional.eml", 6, "outbound"), ("marketing-compliant.eml", 3, "outbound")]
    import sqlite3
    for i, (fname, ago, direction) in enumerate(plan):
        args = [CHECK, "-c", conf, "--json", "--record", uri, "--direction", direction, "--macro", "i=D%d" % i]
        p = subprocess.run(args + fixture.envelope_args(byname[fname]) + [os.path.join(TMP, "msgs", fname)],
                           capture_output=True, text=True, timeout=60)
        db = sqlite3.connect(path)
        db.execute("UPDATE messages SET ts = ts - ? WHERE queue_id = ?", (ago * 86400, "D%d" % i))
        db.commit()
        db.close()
        if p.returncode == 2:
            ok(False, "days store: %s" % fname, p.stderr)
    # the timestamps were moved behind the writer's back: its rollups follow
    rc, out, err = report(["--store", uri, "--rebuild-rollups"])
    ok(rc == 0 and "rollups rebuilt from %d records" % len(plan) in out,
       "days store: --rebuild-rollups after moving the records", out + err)
    return uri


def directions(uri):
    rc, out, err = report(["--store", uri, "--since", "14d", "--format", "json"])
    j = json.loads(out) if rc == 0 else {}
    d = j.get("directions", {})
    ok(j.get("totals", {}).get("messages") == 10 and d.get("inbound", {}).get("totals", {}).get("messages") == 8
       and d.get("outbound", {}).get("totals", {}).get("messages") == 2,
       "JSON: both together at the top, inbound (8) and outbound (2) apart", out[:300])
    out_sc = d.get("outbound", {}).get("scorecard", [])
    ok(out_sc and all(x["authenticated"] == x["messages"] for x in out_sc),
       "outbound: our own mail is authenticated by definition", out_sc)
    rc, out, err = report(["--store", uri, "--since", "14d", "--by", "day"])
    ok(rc == 0 and "== Inbound mail (sent to us)" in out and "== Outbound mail (sent by us)" in out
       and out.index("Inbound") < out.index("Outbound"), "text: inbound and outbound reported apart by default", out[:800])
    rc, out, err = report(["--store", uri, "--since", "14d", "--direction", "both", "--format", "json"])
    j = json.loads(out) if rc == 0 else {}
    ok(j.get("totals", {}).get("messages") == 10 and "directions" not in j, "--direction both: mixed, on request", out[:300])
    rc, out, err = report(["--store", uri, "--since", "14d", "--direction", "outbound"])
    ok(rc == 0 and "== Outbound mail" in out and "Inbound mail" not in out, "--direction outbound: that part only", out[:500])


# A check run inside the page: tables present, no text wider than its box, no
# SVG label outside its viewBox or over another label, the page no wider than
# the window. Results go into the DOM, read back with --dump-dom.
PAGE_CHECK = r"""<script>
(function () {
  var out = {tables: [], overflow: [], clipped: [], overlap: [], nodata: 0, docw: 0, winw: window.innerWidth};
  document.querySelectorAll('table').forEach(function (t) { out.tables.push(t.id); });
  out.nodata = document.querySelectorAll('.nodata').length;
  document.querySelectorAll('td,th,p,h1,h2,h3,pre').forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) out.overflow.push(e.tagName + ': ' + e.textContent.slice(0, 60));
  });
  document.querySelectorAll('svg').forEach(function (s, si) {
    var vb = s.viewBox.baseVal, boxes = [];
    s.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 ||
          b.y + b.height > vb.y + vb.height + 0.5) out.clipped.push(si + ': ' + t.textContent);
      boxes.push([b, t.textContent]);
    });
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i][0], c = boxes[j][0];
      if (a.x < c.x + c.width - 0.5 && c.x < a.x + a.width - 0.5 && a.y < c.y + c.height - 0.5 && c.y < a.y + a.height - 0.5)
        out.overlap.push(si + ': ' + boxes[i][1] + ' / ' + boxes[j][1]);
    }
  });
  out.docw = document.documentElement.scrollWidth;
  var pre = document.createElement('pre');
  pre.id = 'tm-page-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def page_check(chromium, page, width, height):
    """Load page (a copy with PAGE_CHECK, the CSP that forbids scripts taken out) at width x height."""
    home = os.path.join(TMP, "chromium")
    os.makedirs(home, exist_ok=True)
    t = open(page).read()
    t = t.replace("default-src 'none'; style-src 'unsafe-inline'", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
    probe = page + ".%d.html" % width
    open(probe, "w").write(t.replace("</body>", PAGE_CHECK + "</body>"))
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + home + "/ud2",
                        "--window-size=%d,%d" % (width, height), "--virtual-time-budget=3000", "--dump-dom",
                        "file://" + probe], capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=home))
    m = re.search(r'<pre id="tm-page-check">(.*?)</pre>', p.stdout, re.S)
    if not m:
        return None, p.stderr[-800:]
    return json.loads(html_mod.unescape(m.group(1))), ""


def screenshot(chromium, page, png, width, height):
    home = os.path.join(TMP, "chromium")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + home + "/ud3",
                    "--hide-scrollbars", "--screenshot=" + png, "--window-size=%d,%d" % (width, height),
                    "file://" + page], capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=home))
    return os.path.exists(png) and os.path.getsize(png) > 10000


def html_pages(uri):
    pages = {
        "overview": ["--since", "14d", "--by", "day"],
        "campaigns": ["--since", "14d", "--by", "day", "--group", "campaign", "--direction", "inbound"],
        "empty": ["--since", "2000-01-01", "--until", "2000-01-08"],
    }
    files = {}
    for name, args in pages.items():
        f = os.path.join(TMP, "report-%s.html" % name)
        rc, out, err = report(["--store", uri, "--format", "html", "-o", f] + args)
        files[name] = f
        ok(rc == 0 and os.path.exists(f), "HTML %s written" % name, err)
    t = open(files["campaigns"]).read()
    ok('id="by-group"' in t and 'id="by-bucket"' in t and 'id="scorecard-inbound"' in t and 'id="findings-inbound"' in t,
       "HTML has the --group and --by tables, findings and scorecard of the text report")
    ok("fix" in t and "Scoring method" in t and "authenticated mail only" in t and "% not ready" in t,
       "HTML: findings with fix, readiness with the failing share, the scoring method inside")
    ok(t.count("<polyline") > 4, "HTML: a series with days without data is drawn as separate pieces (gaps)")
    t = open(files["overview"]).read()
    ok('id="part-inbound"' in t and 'id="part-outbound"' in t, "HTML: inbound and outbound sections")
    t = open(files["empty"]).read()
    ok(t.count('class="nodata"') == 2 and "<svg" not in t, "HTML: an empty period says 'no data', draws no chart")
    chromium = shutil.which("chromium")
    ok(chromium is not None, "chromium is installed (contrib/install-deps, test set)")
    if chromium is None:
        return
    for name, f in files.items():
        for width, height, label in ((1366, 900, "laptop"), (390, 844, "phone")):
            r, err = page_check(chromium, f, width, height)
            if r is None:
                ok(False, "%s at %s width: page check ran" % (name, label), err)
                continue
            want = {"overview": ["summary-inbound", "findings-inbound", "by-bucket", "scorecard-inbound",
                                 "summary-outbound", "scorecard-outbound"],
                    "campaigns": ["summary-inbound", "findings-inbound", "by-bucket", "by-group", "scorecard-inbound"],
                    "empty": []}[name]
            ok(all(x in r["tables"] for x in want) and (name != "empty" or r["nodata"] == 2),
               "%s at %s width: the tables are there" % (name, label), r["tables"])
            ok(not r["overflow"] and r["docw"] <= r["winw"], "%s at %s width: no text overflows its box, "
               "page no wider than the window" % (name, label), (r["overflow"], r["docw"], r["winw"]))
            ok(not r["clipped"] and not r["overlap"], "%s at %s width: chart labels inside the chart, none overlapping"
               % (name, label), (r["clipped"], r["overlap"]))
    if os.environ.get("TM_SCREENSHOTS"):   # docs/report-*.png are made with TM_SCREENSHOTS=DIR
        d = os.environ["TM_SCREENSHOTS"]
        screenshot(chromium, files["overview"], os.path.join(d, "report-overview.png"), 1280, 2600)
        screenshot(chromium, files["campaigns"], os.path.join(d, "report-campaigns.png"), 1280, 2600)
        screenshot(chromium, files["campaigns"], os.path.join(d, "report-phone.png"), 390, 2400)


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
