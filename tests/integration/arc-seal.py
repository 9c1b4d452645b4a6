#!/usr/bin/python3
"""arc-seal.py - ARC sealing (policy/arcseal.c, RFC 8617 5.1) through
trustmilter-check --seal against a real unbound (tests/lib/dnsd.py), in the
test world of tests/lib/arcworld.py.

Every chain trustmilter seals is verified by three independent verifiers:
python3-dkim's arc_verify, npm mailauth 4.13.3 (tests/lib/mailauth-arc.js) and
trustmilter's own (policy/arc.c). Cases: a first hop (i=1 cv=none) on a
message without ARC; i=2 cv=pass above a python3-dkim seal; mailauth seals
i=3 above ours and all three verify the 3-hop chain; python3-dkim seals above
a trustmilter i=1 and a mailauth i=1; a broken chain (body changed after the
seal) is sealed with cv=fail and never repaired; a message already at i=50
is not sealed (arc.seal.limit, delivered); the sealing path of arc.seal =
"listed" with arc.seal_networks, "outbound", and arc.seal_daemons; the
ARC-Authentication-Results copies our Authentication-Results with i=N.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import dkim

SRC = os.environ.get("TM_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TM_BUILD") or os.path.join(SRC, "build")
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp()
CHECK = os.path.join(BUILD, "trustmilter-check")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
D = os.path.join(TMP, "arc-seal")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import arcworld  # noqa: E402

failed = 0


def tap(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:40]:
            print("# " + line)


SEALER = ("seal.tm.test", "t1")
arcworld.SEALERS = arcworld.SEALERS + (SEALER,)
shutil.rmtree(D, ignore_errors=True)
os.makedirs(D, exist_ok=True)
W = arcworld.World(D)
KEY = os.path.join(D, "keys", SEALER[0], SEALER[1] + ".private")
os.chmod(KEY, 0o600)
try:
    addr = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(D, "dnsd"), W.zones],
                          check=True, capture_output=True, text=True).stdout.strip()
except Exception as e:  # noqa: BLE001
    tap(False, "dnsd started", e)
    sys.exit(1)


def stop():
    subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(D, "dnsd")], capture_output=True)


def conf(name, extra=""):
    path = os.path.join(D, name)
    with open(path, "w") as f:
        f.write('authserv_id = "mx.forwarder.test";\nhostname = "mx.forwarder.test";\n'
                'dns: { forwarders = ["%s"]; transparent_zones = ["test."]; timeout_ms = 2000; };\n'
                'spam: { enabled = false; };\n'
                'arc: { seal_key = "%s:%s:%s"; %s };\n' % (addr, SEALER[0], SEALER[1], KEY, extra))
    return path


CONF = conf("seal.conf")
CONF_LISTED = conf("listed.conf", 'seal = "listed"; seal_networks = ["203.0.113.0/24"];')
ARGS = ["--client-ip", "203.0.113.9", "--helo", "mail.lists.trusted.test",
        "--mail-from", "bounce@lists.trusted.test"]


def run(msg, args, name, conf_path=CONF):
    p = os.path.join(D, name + ".eml")
    with open(p, "wb") as f:
        f.write(msg)
    return subprocess.run([CHECK, "-c", conf_path] + ARGS + args + [p], capture_output=True, timeout=60)


def tm_seal(msg, name):
    r = run(msg, ["--seal"], name)
    return r.stdout, r.stderr.decode(errors="replace")


def ours(msg, name):
    r = run(msg, ["--json"], name)
    try:
        return json.loads(r.stdout.decode().splitlines()[0])
    except Exception:  # noqa: BLE001
        return {"_error": (r.stdout + r.stderr).decode(errors="replace")}


def mailauth_peer():
    node = shutil.which("node")
    base = os.path.join(SRC, "build", "npm", "mailauth-4.13.3")
    mod = os.path.join(base, "node_modules", "mailauth", "package.json")
    if node and shutil.which("npm") and not os.path.exists(mod):
        os.makedirs(base, exist_ok=True)
        try:
            subprocess.run(["npm", "install", "--prefix", base, "--no-audit", "--no-fund", "--silent",
                            "mailauth@4.13.3"], capture_output=True, timeout=90)
        except subprocess.TimeoutExpired:
            pass
    if not node or not os.path.exists(mod):
        return None
    return node, dict(os.environ, NODE_PATH=os.path.join(base, "node_modules"))


PEER = mailauth_peer()


def mailauth(args, msg):
    if PEER is None:
        return b"", "node, npm or mailauth@4.13.3 not available"
    p = os.path.join(D, "peer.eml")
    with open(p, "wb") as f:
        f.write(msg)
    r = subprocess.run([PEER[0], os.path.join(SRC, "tests", "lib", "mailauth-arc.js"), args[0], addr, p]
                       + args[1:], capture_output=True, env=PEER[1], timeout=60)
    return r.stdout, r.stderr.decode(errors="replace")


def verdicts(msg, name):
    """(python3-dkim, mailauth, ours) chain results of msg."""
    cv, _res, why = dkim.arc_verify(msg, dnsfunc=W.dnsfunc)
    out, err = mailauth(["verify"], msg)
    try:
        ma = json.loads(out)["arc"]
    except (ValueError, KeyError):
        ma = "error: " + err
    j = ours(msg, name + "-verify")
    return ((cv or b"fail").decode() + (" (%s)" % why if cv != b"pass" else ""), ma,
            (j.get("arc") or {}).get("result", j.get("_error")))


def all_verify(msg, name, want="pass"):
    v = verdicts(msg, name.replace(" ", "_"))
    tap(v[0].split()[0] == want and v[1] == want and v[2] == want,
        "%s: python3-dkim, mailauth and trustmilter say %s" % (name, want), "got %s" % (v,))


def top_set(msg):
    """The i= and cv= of the topmost ARC-Seal, and the AAR of that instance."""
    m = re.search(rb"^ARC-Seal: i=(\d+);.*?cv=(\w+);", msg, re.M | re.S)
    if m is None:
        return None, None, b""
    a = re.search(rb"^ARC-Authentication-Results: i=" + m.group(1) + rb";(.*?)\r?\n(?=\S)", msg,
                  re.M | re.S)
    return int(m.group(1)), m.group(2).decode(), a.group(1) if a else b""


try:
    signed = W.dkim_sign(arcworld.ORIG)
    listed = arcworld.list_rewrite(signed)
    # 1. first hop
    s1, err = tm_seal(listed, "first")
    i, cv, aar = top_set(s1)
    tap(i == 1 and cv == "none", "first hop: i=1 cv=none", err + s1.decode(errors="replace")[:2000])
    tap(b"mx.forwarder.test" in aar and b"dkim=" in aar and b"dmarc=" in aar and b"spf=" in aar,
        "the ARC-Authentication-Results copies our Authentication-Results", aar)
    all_verify(s1, "trustmilter i=1")
    # 2. above a python3-dkim seal
    one = W.seal(listed, "lists.trusted.test", arcworld.AR_GOOD)
    s2, err = tm_seal(one, "second")
    i, cv, _ = top_set(s2)
    tap(i == 2 and cv == "pass", "python3-dkim i=1, trustmilter i=2: cv=pass", err)
    all_verify(s2, "python3-dkim i=1 + trustmilter i=2")
    # 3. mailauth above ours
    s3, err = mailauth(["seal", "hop3.test", "h3", os.path.join(D, "keys", "hop3.test", "h3.private"), "0"],
                       s2)
    tap(top_set(s3)[0] == 3, "mailauth seals i=3 above trustmilter's i=2", err)
    all_verify(s3, "python3-dkim, trustmilter, mailauth: 3 hops")
    s4, err = tm_seal(s3, "fourth")
    tap(top_set(s4)[:2] == (4, "pass"), "trustmilter seals i=4 above mailauth's i=3", err)
    all_verify(s4, "4 hops ending with trustmilter")
    # 4. python3-dkim above ours, and ours above a mailauth i=1 (list rewrite by mailauth)
    p2 = W.seal(s1, "hop.test", "dmarc=fail header.from=orig.test", arc="pass")
    all_verify(p2, "trustmilter i=1 + python3-dkim i=2")
    m1, err = mailauth(["seal", "lists.trusted.test", "l1",
                        os.path.join(D, "keys", "lists.trusted.test", "l1.private"), "1"], signed)
    t2, err2 = tm_seal(m1, "above-mailauth")
    tap(top_set(t2)[:2] == (2, "pass"), "mailauth i=1, trustmilter i=2: cv=pass", err + err2)
    all_verify(t2, "mailauth i=1 + trustmilter i=2")
    # 5. a broken chain is sealed as failed, never repaired
    broken = one + b"added after sealing\r\n"
    sb, err = tm_seal(broken, "broken")
    tap(top_set(sb)[:2] == (2, "fail"), "broken chain: sealed i=2 with cv=fail", err)
    all_verify(sb, "the chain sealed with cv=fail", "fail")
    # 6. at i=50 already: no seal, a finding, delivered
    fifty = one.replace(b"i=1;", b"i=50;")
    r = run(fifty, ["--json"], "fifty-listed", CONF_LISTED)
    j = json.loads(r.stdout.decode().splitlines()[0]) if r.returncode in (0, 1) and r.stdout else {}
    names = [x["name"] for x in j.get("findings", [])]
    tap("arc.seal.limit" in names and (j.get("arc") or {}).get("sealed", 0) is None and
        not j.get("action_reason", "").startswith("arc.seal"),
        "i=50 already: arc.seal.limit, not sealed, never the reason of the action", (r.stdout + r.stderr).decode(errors="replace")[:3000])
    s50, _ = tm_seal(fifty, "fifty-seal")
    tap(top_set(s50)[0] == 50, "i=50 already: --seal adds no ARC set", s50[:600])
    # 7. the sealing path: arc.seal = "listed" with the client in arc.seal_networks
    r = run(listed, ["--json"], "listed", CONF_LISTED)
    try:
        j = json.loads(r.stdout.decode().splitlines()[0])
    except Exception:  # noqa: BLE001
        j = {}
    r2 = run(listed, ["--json", "--client-ip", "198.51.100.7"], "not-listed", CONF_LISTED)
    try:
        j2 = json.loads(r2.stdout.decode().splitlines()[0])
    except Exception:  # noqa: BLE001
        j2 = {}
    tap((j.get("arc") or {}).get("sealed") == 1 and (j2.get("arc") or {}).get("sealed", 0) is None,
        "arc.seal = listed: a client in arc.seal_networks is sealed (i=1), another is not",
        json.dumps([j.get("arc"), j2.get("arc")]) + (r.stderr + r2.stderr).decode())
    # arc.seal = "outbound": outbound mail is sealed, inbound not; arc.seal_daemons
    c_out = conf("outbound.conf", 'seal = "outbound";')
    c_dmn = conf("daemons.conf", 'seal = "listed"; seal_daemons = ["listsrv"];')
    got = []
    for cpath, extra in ((c_out, ["--direction", "outbound"]), (c_out, ["--direction", "inbound"]),
                         (c_dmn, ["--macro", "daemon_name=listsrv"]), (c_dmn, ["--macro", "daemon_name=smtpd"])):
        r = run(listed, ["--json"] + extra, "path", cpath)
        try:
            got.append((json.loads(r.stdout.decode().splitlines()[0]).get("arc") or {}).get("sealed"))
        except Exception:  # noqa: BLE001
            got.append("error: " + r.stderr.decode(errors="replace"))
    tap(got == [1, None, 1, None], "arc.seal = outbound seals outbound mail only; arc.seal_daemons "
        "matches {daemon_name}", got)
    bad = conf("nokey.conf")
    with open(bad) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(re.sub(r'seal_key = "[^"]*";', 'seal = "outbound";', text))
    r = run(listed, ["--json"], "nokey", bad)
    tap(r.returncode == 2 and b"arc.seal_key" in r.stderr, "arc.seal without arc.seal_key: refused",
        r.stderr)
finally:
    stop()

sys.exit(1 if failed else 0)
