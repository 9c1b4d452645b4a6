#!/usr/bin/python3
"""report-sqlagg - the report's aggregations against each other on the same
records: the per-day rollup tables (--aggregate rollup, the default), one
GROUP BY query (--aggregate sql) and the record-by-record C aggregation.

tests/tools/store-gen writes the same varied records (both directions,
2,000 From domains, campaigns, every authentication outcome, findings, spam
scores, some unknown) into SQLite and into a real PostgreSQL server started
here on loopback (tests/integration/stats.py's pg_start). For every option set
(buckets, each --group, --direction, --domain, --sort, --top, a period that
does not start or end at a day start) the text and JSON reports (CSV and HTML
for some) of the three aggregations on both backends must be byte for byte
the same. Then: a version-4 store that already holds records is migrated
(the rollups filled from them), and two writers fill one store at once; the
rollup report must still be the C report. (Retention pruning of the rollups:
tests/unit/test_rollup.c.)"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp(prefix="tm-sqlagg.")
RECORDS = int(os.environ.get("SQLAGG_RECORDS", "30000"))
END = 1764979200          # 2025-12-06 00:00 UTC
DAYS = 30

spec = importlib.util.spec_from_file_location("stats", os.path.join(SRC, "tests/integration/stats.py"))
stats = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stats)
ok = stats.ok          # the TAP line writer of stats.py (its counter: stats.n)


def gen(uri, seed="7", records=RECORDS):
    r = subprocess.run([BUILD + "/tools/store-gen", uri, str(records), str(END), str(DAYS), seed],
                       capture_output=True, text=True, timeout=1200)
    return r.returncode == 0 and ("written=%d dropped=0" % records) in r.stdout, r.stdout + r.stderr


def report(uri, agg, args):
    if "--since" not in args:
        args = ["--since", "@%d" % (END - DAYS * 86400), "--until", "@%d" % END] + args
    r = subprocess.run([BUILD + "/trustmilter-report", "--store", uri, "--aggregate", agg] + args,
                       capture_output=True, timeout=600)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


OPTION_SETS = [
    [], ["--by", "week", "--group", "domain"], ["--by", "month", "--group", "campaign", "--top", "100"],
    ["--group", "direction", "--direction", "both"], ["--group", "client", "--direction", "inbound"],
    ["--direction", "outbound", "--sort", "worst", "--top", "500"], ["--domain", "d3.example", "--group", "domain"],
    ["--top", "3000", "--group", "domain"], ["--by", "day", "--direction", "inbound", "--group", "campaign"],
    ["--since", "@%d" % (END - 20 * 86400 + 5 * 3600), "--until", "@%d" % (END - 2 * 86400 - 7200), "--group", "domain"],
    ["--since", "@%d" % (END - 86400 + 600), "--until", "@%d" % (END - 3600)],
]
# option sets also compared in CSV and HTML
ALL_FORMATS = (0, 1, 2, 6, 8)


def compare(stores):
    for i, args in enumerate(OPTION_SETS):
        for fmt in ("text", "json", "csv", "html") if i in ALL_FORMATS else ("text", "json"):
            outs = {}
            for label, uri in stores:
                for agg in ("c", "sql", "rollup"):
                    outs[(label, agg)] = report(uri, agg, args + ["--format", fmt])
            ref = outs[(stores[0][0], "c")]
            ok(ref[0] == 0 and len(ref[1]) > 200, "%s %s: the C report of %s" % (fmt, " ".join(args) or "(defaults)",
               stores[0][0]), ref[2])
            for k, v in outs.items():
                ok(v == ref, "%s %s: %s with --aggregate %s gives the same report as C on %s" %
                   (fmt, " ".join(args) or "(defaults)", k[0], k[1], stores[0][0]),
                   v[2] + "\n".join(l for l in (v[1].decode(errors="replace").splitlines()[:5])))


def psql(pg, sql, db="postgres"):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg["port"]),
                        "-U", "tm", "-At", db, "-c", sql], capture_output=True, text=True, timeout=300)
    return r.returncode == 0, r.stdout + r.stderr


# version 6 added the column arc_sealed, version 5 the rollup tables
DOWNGRADE = ("ALTER TABLE messages DROP COLUMN arc_sealed; DROP TABLE rollup_domain; DROP TABLE rollup_campaign; DROP TABLE rollup_findings; "
             "UPDATE schema_version SET version = 4")
SHORT = [[], ["--group", "domain", "--format", "json"], ["--group", "campaign", "--format", "html"]]


def same_as_c(label, uri, what):
    for args in SHORT:
        c = report(uri, "c", args)
        r = report(uri, "rollup", args)
        ok(c[0] == 0 and r == c, "%s: %s: the rollup report is the C report (%s)" % (label, what, " ".join(args)),
           r[2] + c[2])


def migration(db, pg, pguri):
    """a version-4 store with records: its rollups are filled when it is opened"""
    old = os.path.join(TMP, "sqlagg-v4.db")
    shutil.copyfile(db, old)
    r = subprocess.run(["sqlite3", old, DOWNGRADE], capture_output=True, text=True)
    ok(r.returncode == 0, "sqlite: a version-4 store made", r.stderr)
    same_as_c("sqlite", old, "after the migration from version 4")
    r = subprocess.run(["sqlite3", old, "SELECT version FROM schema_version; SELECT sum(messages) FROM rollup_domain"],
                       capture_output=True, text=True)
    ok(r.stdout.split() == ["6", str(RECORDS)], "sqlite: migrated to version 6, every record in the rollups", r.stdout)
    if pguri:
        good, out = psql(pg, DOWNGRADE)
        ok(good, "postgresql: a version-4 store made", out)
        same_as_c("postgresql", pguri, "after the migration from version 4")


def two_writers(pg):
    """two store-gen processes (two writers) fill one store at once"""
    targets = [("sqlite", "sqlite:" + os.path.join(TMP, "sqlagg-two.db"))]
    if os.path.exists(targets[0][1][7:]):
        os.unlink(targets[0][1][7:])
    if pg and not pg.get("error"):
        good, out = psql(pg, "CREATE DATABASE two")
        ok(good, "postgresql: a database for two writers", out)
        targets.append(("postgresql", "postgresql://tm@127.0.0.1:%d/two" % pg["port"]))
    for label, uri in targets:
        procs = [subprocess.Popen([BUILD + "/tools/store-gen", uri, str(RECORDS // 2), str(END), str(DAYS), seed],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for seed in ("11", "12")]
        outs = [p.communicate(timeout=1200)[0] for p in procs]
        ok(all("written=%d dropped=0" % (RECORDS // 2) in o for o in outs),
           "%s: two writers at once wrote every record" % label, "\n".join(outs))
        same_as_c(label, uri, "two writers")


def main():
    db = os.path.join(TMP, "sqlagg.db")
    if os.path.exists(db):
        os.unlink(db)
    good, out = gen("sqlite:" + db)
    ok(good, "store-gen wrote %d records into SQLite" % RECORDS, out)
    stores = [("sqlite", db)]
    pg = stats.pg_start()
    try:
        ok(pg is not None and not pg.get("error"), "a PostgreSQL server started",
           pg.get("error") if pg else "no PostgreSQL binaries")
        if pg and not pg.get("error"):
            uri = "postgresql://tm@127.0.0.1:%d/postgres" % pg["port"]
            good, out = gen(uri)
            ok(good, "store-gen wrote %d records into PostgreSQL" % RECORDS, out)
            stores.append(("postgresql", uri))
        compare(stores)
        migration(db, pg, stores[1][1] if len(stores) > 1 else None)
        two_writers(pg)
    finally:
        stats.pg_stop(pg)
    print("1..%d" % stats.n)


if __name__ == "__main__":
    sys.exit(main())
