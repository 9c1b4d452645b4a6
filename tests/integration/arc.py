#!/usr/bin/python3
"""arc.py - ARC chain validation (policy/arc.c, RFC 8617) and the trusted-forwarder
override, through trustmilter-check against a real unbound (tests/lib/dnsd.py), on
chains sealed by an independent sealer (python3-dkim's arc_sign), 1, 2 and 3 hops.

Checks (with the audit record and the RFC 9990 report of an override): a mailing list that rewrote Subject and footer (the author's DKIM broken,
DMARC p=reject failing) and sealed with a trusted key -> arc=pass, dmarc.override.arc,
accepted in enforce mode with the override in Authentication-Results; the same
sealed by an untrusted domain -> rejected; a body changed after sealing, a
tampered ARC-Authentication-Results, a removed set (gap), cv=fail at the top, an
untrusted hop above the trusted one, an AAR showing no authentication -> no
override, rejected; 2- and 3-hop chains pass with header.oldest-pass; a chain
whose older AMS no longer validates gives oldest-pass > 0. Every sealed message
is also verified by python3-dkim's arc_verify and the results compared. With npm
mailauth 4.13.3 (installed into build/npm/ as dmarc.py does; skipped without Node):
a list hop sealed by mailauth, chains mixing arc_sign and mailauth hops, and
mailauth's verdict on every chain compared with ours.
"""
import glob
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import dkim

SRC = os.environ.get("TM_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TM_BUILD") or os.path.join(SRC, "build")
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp()
CHECK = os.path.join(BUILD, "trustmilter-check")
REPORT = os.path.join(BUILD, "trustmilter-report")
DNSD = os.path.join(SRC, "tests", "lib", "dnsd.py")
D = os.path.join(TMP, "arc")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import arcworld  # noqa: E402  (keys, zones, arc_sign hops)

failed = 0


def tap(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:40]:
            print("# " + line)


os.makedirs(D, exist_ok=True)
W = arcworld.World(D)
try:
    addr = subprocess.run(["/usr/bin/python3", DNSD, "start", os.path.join(D, "dnsd"),
                           W.zones], check=True, capture_output=True,
                          text=True).stdout.strip()
except Exception as e:  # noqa: BLE001
    tap(False, "dnsd started", e)
    sys.exit(1)


def stop():
    subprocess.run(["/usr/bin/python3", DNSD, "stop", os.path.join(D, "dnsd")], capture_output=True)


def conf(trusted, name, arc_extra=""):
    path = os.path.join(D, name)
    with open(path, "w") as f:
        f.write('authserv_id = "mx.recipient.test";\nhostname = "mx.recipient.test";\n'
                'dns: { forwarders = ["%s"]; transparent_zones = ["test."]; timeout_ms = 2000; };\n'
                'policy: { mode = "enforce"; };\n'
                'spam: { enabled = false; };\n'
                'arc: { trusted_sealers = [%s]; %s};\n'
                % (addr, ", ".join('"%s"' % t for t in trusted), arc_extra))
    return path


CONF_TRUST = conf(["lists.trusted.test", "hop.test", "hop3.test"], "trusted.conf", "oldest_pass = true; ")
CONF_TRUST_NOOLD = conf(["lists.trusted.test", "hop.test", "hop3.test"], "trusted-noold.conf", "oldest_pass = false; ")
CONF_NONE = conf([], "untrusted.conf")

ORIG, AR_GOOD, list_rewrite = arcworld.ORIG, arcworld.AR_GOOD, arcworld.list_rewrite
dkim_sign, seal = W.dkim_sign, W.seal


def check(msg, conf_path, name):
    p = os.path.join(D, name + ".eml")
    with open(p, "wb") as f:
        f.write(msg)
    r = subprocess.run([CHECK, "-c", conf_path, "--json", "--client-ip", "203.0.113.9",
                        "--helo", "mail.lists.trusted.test", "--mail-from",
                        "bounce@lists.trusted.test", p], capture_output=True, text=True, timeout=60)
    try:
        return json.loads(r.stdout.splitlines()[0])
    except Exception:  # noqa: BLE001
        return {"_error": r.stdout + r.stderr}


def peer(msg):
    cv, _res, why = dkim.arc_verify(msg, dnsfunc=W.dnsfunc)
    return (cv or b"fail").decode(), why


def names(j):
    return [x["name"] for x in j.get("findings", [])]


def expect(name, msg, conf_path, arc, override, action, peer_cv=None, oldest=None):
    j = check(msg, conf_path, name.replace(" ", "_"))
    a = j.get("arc") or {}
    ok = a.get("result") == arc and j.get("action") == action and \
        ("dmarc.override.arc" in names(j)) == override
    if override:
        ok = ok and "dmarc.disposition.reject" not in names(j) and \
            "overridden by local policy" in (j.get("authentication_results") or "") and \
            "dmarc=fail" in j["authentication_results"] and "policy.dmarc=reject" in j["authentication_results"]
    if oldest is not None:
        ok = ok and a.get("oldest_pass") == oldest and \
            ("header.oldest-pass=%d" % oldest) in (j.get("authentication_results") or "")
    tap(ok, name, json.dumps({k: j.get(k) for k in ("arc", "action", "authentication_results", "_error")},
                             indent=1) + "\nfindings: %s" % names(j))
    if peer_cv is not None:
        cv, why = peer(msg)
        tap(cv == peer_cv and (peer_cv == "pass") == (arc == "pass"),
            name + ": python3-dkim arc_verify agrees (%s)" % peer_cv, "peer %s (%s), ours %s" % (cv, why, arc))
    return j


def mailauth_peer():
    """node and mailauth 4.13.3 (installed once into build/npm/, as dmarc.py does), or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    base = os.path.join(SRC, "build", "npm", "mailauth-4.13.3")
    mod = os.path.join(base, "node_modules", "mailauth", "package.json")
    if node and npm and not os.path.exists(mod):
        os.makedirs(base, exist_ok=True)
        try:
            subprocess.run([npm, "install", "--prefix", base, "--no-audit", "--no-fund", "--silent",
                            "mailauth@4.13.3"], capture_output=True, timeout=90)
        except subprocess.TimeoutExpired:
            pass
    if not node or not os.path.exists(mod):
        return None
    return node, dict(os.environ, NODE_PATH=os.path.join(base, "node_modules"))


def mailauth(peer, args, msg):
    p = os.path.join(D, "peer.eml")
    with open(p, "wb") as f:
        f.write(msg)
    r = subprocess.run([peer[0], os.path.join(SRC, "tests", "lib", "mailauth-arc.js"), args[0], addr, p]
                       + args[1:], capture_output=True, env=peer[1], timeout=60)
    return r.stdout, r.stderr.decode(errors="replace")


def mailauth_cases(signed, chains):
    """Chains sealed by mailauth verified by us; ours (arc_sign's) verified by mailauth."""
    peer = mailauth_peer()
    if peer is None:
        print("ok - mailauth interoperability # SKIP node/npm or mailauth@4.13.3 not available")
        return
    key = lambda dom: os.path.join(D, "keys", dom, W.keys[dom][0] + ".private")  # noqa: E731
    sealed, err = mailauth(peer, ["seal", "lists.trusted.test", "l1", key("lists.trusted.test"), "1"], signed)
    tap(sealed.startswith(b"ARC-"), "mailauth seals a list hop", err)
    expect("mailauth-sealed list hop (trusted): pass, override", sealed, CONF_TRUST, "pass", True,
           "accept", "pass", 0)
    mixed, err = mailauth(peer, ["seal", "hop.test", "h1", key("hop.test"), "0"], chains["1 hop"])
    expect("arc_sign hop 1 + mailauth hop 2: pass", mixed, CONF_TRUST, "pass", True, "accept", "pass", 0)
    third = seal(mixed, "hop3.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("arc_sign, mailauth, arc_sign: 3 hops pass", third, CONF_TRUST, "pass", True, "accept", "pass", 0)
    chains = dict(chains, **{"mailauth list hop": sealed, "mixed 2 hops": mixed, "mixed 3 hops": third})
    for name, msg in chains.items():
        out, err = mailauth(peer, ["verify"], msg)
        try:
            theirs = json.loads(out)["arc"]
        except (ValueError, KeyError):
            theirs = "error: " + err
        mine = (check(msg, CONF_TRUST, "peer").get("arc") or {}).get("result")
        tap(theirs == mine, "mailauth 4.13.3 agrees on %s (%s)" % (name, mine), "mailauth %s, ours %s" % (theirs, mine))


try:
    signed = dkim_sign(ORIG)
    listed = list_rewrite(signed)
    one = seal(listed, "lists.trusted.test", AR_GOOD)
    expect("no ARC: arc=none, DMARC reject stands", listed, CONF_TRUST, "none", False, "reject")
    expect("1 hop, trusted list: arc=pass, override accepts", one, CONF_TRUST, "pass", True, "accept",
           "pass", 0)
    expect("1 hop, sealer not trusted: DMARC reject", one, CONF_NONE, "pass", False, "reject")
    untrusted = seal(listed, "fwd.untrusted.test", AR_GOOD)
    expect("1 hop, untrusted sealer domain: DMARC reject", untrusted, CONF_TRUST, "pass", False,
           "reject", "pass")
    expect("body changed after sealing: arc=fail, reject", one + b"extra line\r\n", CONF_TRUST, "fail",
           False, "reject", "fail")
    tampered = re.sub(rb"(ARC-Authentication-Results: i=1;.*?)spf=pass", rb"\1spf=none", one,
                      count=1, flags=re.S)
    expect("tampered ARC-Authentication-Results: arc=fail (seal), reject", tampered, CONF_TRUST,
           "fail", False, "reject", "fail")
    failing_ar = seal(listed, "lists.trusted.test", "dkim=fail header.d=orig.test; spf=fail "
                      "smtp.mailfrom=alice@orig.test; dmarc=fail header.from=orig.test")
    expect("trusted sealer saw DMARC fail: no override", failing_ar, CONF_TRUST, "pass", False,
           "reject", "pass")
    two = seal(one, "hop.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("2 hops, both trusted: pass, override from the oldest trusted AAR", two, CONF_TRUST, "pass",
           True, "accept", "pass", 0)
    # arc.oldest_pass off: the same override, no oldest-pass value claimed
    j = expect("2 hops, arc.oldest_pass off: pass and override", two, CONF_TRUST_NOOLD, "pass",
               True, "accept")
    tap((j.get("arc") or {}).get("oldest_pass", "absent") is None and
        "arc=pass" in (j.get("authentication_results") or "") and
        "header.oldest-pass" not in (j.get("authentication_results") or ""),
        "2 hops, arc.oldest_pass off: no header.oldest-pass, JSON oldest_pass null",
        json.dumps(j.get("arc")) + " " + str(j.get("authentication_results")))
    three = seal(two, "hop3.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("3 hops: pass, oldest-pass 0", three, CONF_TRUST, "pass", True, "accept", "pass", 0)
    mixed = seal(one, "fwd.untrusted.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("untrusted newest hop above a trusted list: no override", mixed, CONF_TRUST, "pass", False,
           "reject", "pass")
    above = seal(mixed, "hop.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("untrusted hop inside the run: its AAR is never read, no override", above, CONF_TRUST,
           "pass", False, "reject", "pass")
    # a hop that rewrote the body after the first seal: the newest AMS passes,
    # the first one no longer does -> oldest-pass 2
    rewritten = one + b"second footer\r\n"
    hop2 = seal(rewritten, "hop.test", "dmarc=fail header.from=orig.test", arc="pass")
    expect("body rewritten by hop 2: pass with oldest-pass 2", hop2, CONF_TRUST, "pass", True, "accept",
           "pass", 2)
    # structure: remove the ARC set of instance 1 from a 2-hop chain (a gap)
    gap = re.sub(rb"ARC-Seal: i=1;.*?\r\n(?=\S)", b"", two, count=1, flags=re.S)
    expect("missing ARC-Seal i=1: arc=fail", gap, CONF_TRUST, "fail", False, "reject", "fail")
    cvfail = seal(one, "hop.test", "dmarc=fail header.from=orig.test", arc="fail")
    expect("newest seal says cv=fail: arc=fail", cvfail, CONF_TRUST, "fail", False, "reject", "fail")
    dup = re.sub(rb"(ARC-Authentication-Results: i=1;[^\r]*\r\n)", rb"\1\1", one, count=1)
    expect("duplicate ARC-Authentication-Results i=1: arc=fail", dup, CONF_TRUST, "fail", False, "reject")
    big = one.replace(b"ARC-Seal: i=1;", b"ARC-Seal: i=51;", 1)
    expect("i=51: arc=fail", big, CONF_TRUST, "fail", False, "reject")
    # the audit record and the RFC 9990 aggregate report of an overridden message
    db = os.path.join(D, "audit.db")
    with open(os.path.join(D, "rec.eml"), "wb") as f:
        f.write(one)
    subprocess.run([CHECK, "-c", CONF_TRUST, "-q", "--record", db, "--client-ip", "203.0.113.9",
                    "--mail-from", "bounce@lists.trusted.test", os.path.join(D, "rec.eml")], timeout=60)
    try:
        row = sqlite3.connect(db).execute("SELECT arc, arc_override, dmarc_disposition, action "
                                          "FROM messages").fetchall()
    except sqlite3.Error as e:
        row = [str(e)]
    tap(row == [("pass", "lists.trusted.test", "reject", "accept")],
        "audit record: arc=pass, arc_override names the sealer", row)
    out = os.path.join(D, "dmarc-reports")
    rep = subprocess.run([REPORT, "--store", db, "--since", "1d", "--dmarc-reports", out,
                          "--submitter", "mx.recipient.test"], capture_output=True, text=True, timeout=60)
    xml = b"".join(gzip.open(x).read() for x in glob.glob(os.path.join(out, "*.xml.gz")))
    tap(b"<type>local_policy</type>" in xml and b"trusted sealer lists.trusted.test" in xml and
        b"<disposition>none</disposition>" in xml,
        "RFC 9990 report: policy_override local_policy with a comment naming the sealer",
        rep.stdout + rep.stderr + xml.decode(errors="replace"))
    mailauth_cases(signed, {"1 hop": one, "2 hops": two, "3 hops": three, "broken body": one + b"x\r\n",
                            "gap": gap, "cv=fail": cvfail, "tampered AAR": tampered})
    monitor = conf(["lists.trusted.test"], "monitor.conf")
    with open(monitor) as f:
        text = f.read().replace('"enforce"', '"monitor"')
    with open(monitor, "w") as f:
        f.write(text)
    j = check(one, monitor, "monitor")
    tap(j.get("action") == "accept" and "dmarc.override.arc" in names(j),
        "monitor mode: the override is shown too", json.dumps(j.get("arc")))
finally:
    stop()

sys.exit(1 if failed else 0)
