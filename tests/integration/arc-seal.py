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
import base64
import hashlib
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


def gened(dom, sel):
    """An Ed25519 key (openssl) and its RFC 8463 record, served by the test zones."""
    path = os.path.join(D, "keys", dom, sel + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    rec = "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    W.txt["%s._domainkey.%s." % (sel, dom)] = rec.encode()
    with open(W.zones, "a") as f:
        f.write("%s._domainkey.%s:\n  - TXT: %s\n" % (sel, dom, arcworld.fixture.yaml_str(rec)))
    return path


try:
    EDKEY = gened(SEALER[0], "ed1")
except Exception as e:  # noqa: BLE001
    tap(False, "Ed25519 sealing key made (openssl)", e)
    sys.exit(1)
try:
    addr = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(D, "dnsd"), W.zones],
                          check=True, capture_output=True, text=True).stdout.strip()
except Exception as e:  # noqa: BLE001
    tap(False, "dnsd started", e)
    sys.exit(1)


def stop():
    subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(D, "dnsd")], capture_output=True)


def conf(name, extra="", sel=SEALER[1], key=KEY, sign=""):
    path = os.path.join(D, name)
    with open(path, "w") as f:
        f.write('authserv_id = "mx.forwarder.test";\nhostname = "mx.forwarder.test";\n'
                'dns: { forwarders = ["%s"]; transparent_zones = ["test."]; timeout_ms = 2000; };\n'
                'spam: { enabled = false; };\n'
                'arc: { seal_key = "%s:%s:%s"; %s };\n' % (addr, SEALER[0], sel, key, extra))
        if sign:
            f.write('sign: { enabled = true; keys = ["%s:%s"]; };\n' % (SEALER[0], sign))
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


def tm_seal(msg, name, conf_path=CONF, args=("--seal",)):
    r = run(msg, list(args), name, conf_path)
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


def all_verify(msg, name, want="pass", peer=True):
    """peer=False: a chain with an Ed25519 seal, which mailauth 4.13.3 cannot
    verify (it checks an Ed25519 ARC-Seal over the unhashed data, not over
    its SHA-256 as RFC 8463 and its own signer do: lib/arc/index.js)."""
    v = verdicts(msg, name.replace(" ", "_"))
    tap(v[0].split()[0] == want and (v[1] == want or not peer) and v[2] == want,
        "%s: python3-dkim, %strustmilter say %s" % (name, "mailauth and " if peer else "", want),
        "got %s" % (v,))


def top_set(msg):
    """The i= and cv= of the topmost ARC-Seal, and the AAR of that instance."""
    m = re.search(rb"^ARC-Seal: i=(\d+);.*?cv=(\w+);", msg, re.M | re.S)
    if m is None:
        return None, None, b""
    a = re.search(rb"^ARC-Authentication-Results: i=" + m.group(1) + rb";(.*?)\r?\n(?=\S)", msg,
                  re.M | re.S)
    return int(m.group(1)), m.group(2).decode(), a.group(1) if a else b""


def ams_hlist(msg):
    """The lower-cased names of the topmost ARC-Message-Signature's h=."""
    m = re.search(rb"^ARC-Message-Signature: (.*?)\r?\n(?=\S)", msg, re.M | re.S)
    h = re.search(rb"\bh=([^;]*);", re.sub(rb"\s+", b"", m.group(1))) if m else None
    return h.group(1).decode().lower().split(":") if h else []


OUT = (b"From: News <news@seal.tm.test>\r\nTo: bob@example.org\r\nSubject: news\r\n"
       b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <out1@seal.tm.test>\r\n\r\n"
       b"The news of the day.\r\n")

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
    # 8. signed and sealed in one pass: our new DKIM-Signature is under our AMS
    for kind, skey in (("rsa", "%s:%s" % (SEALER[1], KEY)), ("ed25519", "ed1:" + EDKEY)):
        c_sign = conf("sign-%s.conf" % kind, sign=skey)
        ss, err = tm_seal(OUT, "sign-seal-" + kind, c_sign, ("--sign", "--seal"))
        ams_h = ams_hlist(ss)
        pv = dkim.verify(ss, dnsfunc=W.dnsfunc)
        out, merr = mailauth(["verify"], ss)
        try:
            md = json.loads(out).get("dkim", [])
        except ValueError:
            md = ["error: " + merr]
        tap(ss.startswith(b"ARC-Seal: i=1;") and ams_h.count("dkim-signature") == 1 and pv and
            md[:1] == ["pass"],
            "--sign --seal (%s): AMS h= names our new DKIM-Signature, which python3-dkim and "
            "mailauth verify" % kind, err + "h=%s python3-dkim=%s mailauth=%s\n" % (ams_h, pv, md)
            + ss.decode(errors="replace")[:3000])
        all_verify(ss, "signed and sealed (%s)" % kind)
        # our DKIM-Signature changed after sealing: the AMS breaks
        bent = re.sub(rb"^(DKIM-Signature:(?:[^\n]|\n[ \t])*?\st=)1", rb"\g<1>2", ss, count=1, flags=re.M)
        v = verdicts(bent, "bent-" + kind)
        tap(bent != ss and v[0].split()[0] == "fail" and "ARC-Message-Signature" in v[0] and
            v[1] == "fail" and v[2] == "fail",
            "our DKIM-Signature changed after sealing (%s): the AMS fails for all three" % kind,
            "got %s" % (v,))
    # 9. Ed25519 seals (RFC 8463 keys), alone and in chains mixed with RSA.
    # python3-dkim 1.1.4 accepts only rsa-sha256 in ARC fields (its
    # ARC_HASH_ALGORITHMS) although RFC 8617 takes DKIM's a= values; with
    # ed25519-sha256 added to that table its RFC 8463 code checks our seals.
    dkim.crypto.ARC_HASH_ALGORITHMS[b"ed25519-sha256"] = hashlib.sha256
    c_ed = conf("ed.conf", sel="ed1", key=EDKEY)
    e1, err = tm_seal(listed, "ed-first", c_ed)
    tap(top_set(e1)[:2] == (1, "none") and b"a=ed25519-sha256;" in e1.split(b"\r\n\r\n")[0],
        "Ed25519 seal i=1: a=ed25519-sha256", err + e1.decode(errors="replace")[:1500])
    all_verify(e1, "trustmilter Ed25519 i=1", peer=False)
    e2, err = tm_seal(one, "ed-above-python", c_ed)
    tap(top_set(e2)[:2] == (2, "pass"), "python3-dkim RSA i=1, trustmilter Ed25519 i=2: cv=pass", err)
    all_verify(e2, "python3-dkim RSA i=1 + trustmilter Ed25519 i=2", peer=False)
    e3, err = tm_seal(s1, "ed-above-ours", c_ed)
    tap(top_set(e3)[:2] == (2, "pass"), "trustmilter RSA i=1, trustmilter Ed25519 i=2: cv=pass", err)
    all_verify(e3, "trustmilter RSA i=1 + trustmilter Ed25519 i=2", peer=False)
    e4, err = tm_seal(e3, "rsa-above-ed")
    tap(top_set(e4)[:2] == (3, "pass"), "RSA i=3 above Ed25519 i=2: cv=pass", err)
    all_verify(e4, "RSA, Ed25519, RSA: 3 hops", peer=False)
    # a bent Ed25519 seal fails: the verifiers really check it
    eb = re.sub(rb"^(ARC-Seal: i=1;(?:[^\n]|\n[ \t])*?\sb=\s*)([A-Za-z0-9+/])", lambda m: m.group(1) +
                (b"A" if m.group(2) != b"A" else b"B"), e1, count=1, flags=re.M)
    all_verify(eb, "Ed25519 seal with a changed b=", "fail", peer=False)
finally:
    stop()

sys.exit(1 if failed else 0)
