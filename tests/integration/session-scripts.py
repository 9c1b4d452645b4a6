#!/usr/bin/python3
"""session-scripts - scripted session cases: tests/sessions/*.script are event
scripts for tests/tools/session-run (the session API without an MTA) with
"expect" lines, checked here against a real unbound serving
tests/sessions/zones.yaml.

  expect line REGEX          some output line matches
  expect noline REGEX        no output line matches
  expect json[#N] PATH VALUE the Nth (default last) report has VALUE at PATH (dotted; numbers index arrays)
  expect finding NAME / expect nofinding NAME   (last report)
  expect logkey KEY VALUE    the last log line, read as key=value pairs (values
                             in "..." with \\" and \\\\ escapes), has KEY exactly once,
                             with VALUE; and no key twice
"""
import glob
import json
import os
import re
import subprocess
import sys

SRC = os.environ.get("TM_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("TM_BUILD", os.path.join(SRC, "build"))
TMP = os.environ.get("TM_TMP") or "/tmp/tm-sessions"
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
n = 0


def ok(cond, name, extra=""):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond and extra:
        for line in str(extra).splitlines()[:30]:
            print("#   " + line)


def lookup(obj, path):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = obj[part]
    return obj


def as_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def log_pairs(line):
    """key=value pairs of a log line after the "QUEUEID:" (None when it does not parse)."""
    pairs, i = [], line.index(": ") + 2
    while i < len(line):
        m = re.compile(r'([a-z_]+)=').match(line, i)
        if not m:
            return None
        i = m.end()
        if i < len(line) and line[i] == '"':
            v, i = "", i + 1
            while i < len(line) and line[i] != '"':
                if line[i] == "\\":
                    i += 1
                v += line[i]
                i += 1
            i += 1
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            v, i = line[i:j], j
        pairs.append((m.group(1), v))
        if i < len(line):
            if line[i] != " ":
                return None
            i += 1
    return pairs


def main():
    os.makedirs(TMP, exist_ok=True)
    dns = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(TMP, "dns"),
                          os.path.join(SRC, "tests", "sessions", "zones.yaml")],
                         capture_output=True, text=True, check=True).stdout.strip()
    conf = os.path.join(TMP, "s.conf")
    with open(conf, "w") as f:
        f.write('authserv_id = "mx.recipient.test";\n'
                'dns: { forwarders = ["%s"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 2000; };\n' % dns)
    try:
        for script in sorted(glob.glob(os.path.join(SRC, "tests", "sessions", "*.script"))):
            name = os.path.basename(script)
            p = subprocess.run([os.path.join(BUILD, "tools", "session-run"), conf, script],
                               capture_output=True, text=True, timeout=60)
            lines = p.stdout.splitlines()
            reports = [json.loads(l) for l in lines if l.startswith("{")]
            ok(p.returncode == 0 and reports, "%s: runs" % name, p.stderr[-1500:])
            for exp in open(script).read().splitlines():
                if not exp.startswith("expect "):
                    continue
                kind, _, rest = exp[7:].partition(" ")
                if kind == "line":
                    ok(any(re.search(rest, l) for l in lines), "%s: %s" % (name, exp), p.stdout)
                elif kind == "noline":
                    ok(not any(re.search(rest, l) for l in lines), "%s: %s" % (name, exp), p.stdout)
                elif kind.startswith("json"):
                    idx = int(kind[5:]) - 1 if "#" in kind else -1
                    path, _, want = rest.partition(" ")
                    try:
                        got = as_text(lookup(reports[idx], path))
                    except Exception as e:  # noqa: BLE001
                        got = "<%s>" % e
                    ok(got == want, "%s: %s" % (name, exp), "got %r" % got)
                elif kind == "logkey":
                    key, _, want = rest.partition(" ")
                    logs = [l[4:] for l in lines if l.startswith("log ")]
                    pairs = log_pairs(logs[-1]) if logs else None
                    keys = [k for k, _ in pairs or []]
                    got = [v for k, v in pairs or [] if k == key]
                    ok(pairs is not None and got == [want] and len(keys) == len(set(keys)),
                       "%s: %s" % (name, exp), "got %r from %r" % (pairs, logs[-1:]))
                elif kind in ("finding", "nofinding"):
                    have = rest in [f["name"] for f in (reports[-1]["findings"] if reports else [])]
                    ok(have == (kind == "finding"), "%s: %s" % (name, exp),
                       [f["name"] for f in reports[-1]["findings"]] if reports else p.stderr)
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(TMP, "dns")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
