#!/usr/bin/python3
"""report-sqlagg - the report's SQL aggregation (--aggregate sql: one GROUP BY
query) against the record-by-record C aggregation, on the same records.

tests/tools/store-gen writes the same varied records (both directions,
2,000 From domains, campaigns, every authentication outcome, findings, spam
scores, some unknown) into SQLite and into a real PostgreSQL server started
here on loopback (tests/integration/stats.py's pg_start). For every option set
(buckets, each --group, --direction, --domain, --sort, --top) the text and
JSON reports of both aggregations on both backends must be byte for byte the
same."""
import importlib.util
import os
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


def gen(uri):
    r = subprocess.run([BUILD + "/tools/store-gen", uri, str(RECORDS), str(END), str(DAYS), "7"],
                       capture_output=True, text=True, timeout=1200)
    return r.returncode == 0 and ("written=%d dropped=0" % RECORDS) in r.stdout, r.stdout + r.stderr


def report(uri, agg, args):
    r = subprocess.run([BUILD + "/trustmilter-report", "--store", uri, "--since", "@%d" % (END - DAYS * 86400),
                        "--until", "@%d" % END, "--aggregate", agg] + args, capture_output=True, timeout=600)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


OPTION_SETS = [
    [], ["--by", "week", "--group", "domain"], ["--by", "month", "--group", "campaign", "--top", "100"],
    ["--group", "direction", "--direction", "both"], ["--group", "client", "--direction", "inbound"],
    ["--direction", "outbound", "--sort", "worst", "--top", "500"], ["--domain", "d3.example", "--group", "domain"],
    ["--top", "3000", "--group", "domain"],
]


def compare(stores):
    for args in OPTION_SETS:
        for fmt in ("text", "json"):
            outs = {}
            for label, uri in stores:
                for agg in ("c", "sql"):
                    outs[(label, agg)] = report(uri, agg, args + ["--format", fmt])
            ref = outs[(stores[0][0], "c")]
            ok(ref[0] == 0 and len(ref[1]) > 200, "%s %s: the C report of %s" % (fmt, " ".join(args) or "(defaults)",
               stores[0][0]), ref[2])
            for k, v in outs.items():
                ok(v == ref, "%s %s: %s with --aggregate %s gives the same report as C on %s" %
                   (fmt, " ".join(args) or "(defaults)", k[0], k[1], stores[0][0]),
                   v[2] + "\n".join(l for l in (v[1].decode(errors="replace").splitlines()[:5])))


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
    finally:
        stats.pg_stop(pg)
    print("1..%d" % stats.n)


if __name__ == "__main__":
    sys.exit(main())
