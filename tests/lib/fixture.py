#!/usr/bin/python3
"""fixture - the sample world used by the demo and the trustmilter-check tests.

build(DIR) generates DKIM keys with opendkim-genkey, writes DIR/zones.yaml for
tests/lib/dnsd.py, signs the sample messages of tests/data/samples with
python3-dkim (an independent signer) into DIR/msgs/, and writes
DIR/trustmilter.conf once the DNS server's address is known (write_conf).
CASES lists each sample with the envelope it is sent with.
"""
import os
import subprocess
import sys

import dkim

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(SRC, "tests", "data", "samples")

BASE_HDRS = [b"from", b"to", b"subject", b"date", b"message-id"]
LIST_HDRS = [b"list-id", b"list-unsubscribe", b"list-unsubscribe-post"]

# file, signing (domain, selector, headers) or None, envelope
CASES = [
    ("transactional.eml", ("example.test", "s1", BASE_HDRS),
     dict(ip="192.0.2.20", helo="mta.example.test", mail_from="bounce@example.test")),
    ("marketing-compliant.eml", ("example.test", "s1", BASE_HDRS + LIST_HDRS),
     dict(ip="192.0.2.10", helo="mta.news.example.test", mail_from="bounce@news.example.test")),
    ("marketing-uncovered.eml", ("example.test", "s1", BASE_HDRS + [b"list-id", b"list-unsubscribe"]),
     dict(ip="192.0.2.10", helo="mta.news.example.test", mail_from="bounce@news.example.test")),
    ("marketing-mailto-only.eml", ("example.test", "s1", BASE_HDRS + [b"list-id", b"list-unsubscribe"]),
     dict(ip="192.0.2.10", helo="mta.news.example.test", mail_from="bounce@news.example.test")),
    ("marketing-esp-signed.eml", ("esp.test", "e1", BASE_HDRS + LIST_HDRS),
     dict(ip="198.51.100.5", helo="out.esp.test", mail_from="b-123@bounce.esp.test")),
    ("spoofed.eml", None,
     dict(ip="198.51.100.7", helo="unknown.invalid", mail_from="security@example.test")),
    ("malformed.eml", None,
     dict(ip="192.0.2.20", helo="mta.example.test", mail_from="bounce@example.test")),
]


def genkey(d, domain, selector, bits=2048):
    """opendkim-genkey into d; returns (private PEM bytes, public TXT value)."""
    kd = os.path.join(d, "keys", domain)
    os.makedirs(kd, exist_ok=True)
    subprocess.run(["opendkim-genkey", "-b", str(bits), "-d", domain, "-s", selector, "-D", kd],
                   check=True)
    priv = open(os.path.join(kd, selector + ".private"), "rb").read()
    txt = open(os.path.join(kd, selector + ".txt")).read()
    # the .txt file holds ( "v=DKIM1; ..." "..." ) strings: join them
    parts = []
    inq = False
    cur = ""
    for ch in txt[txt.index("("):txt.rindex(")")]:
        if ch == '"':
            if inq:
                parts.append(cur)
                cur = ""
            inq = not inq
        elif inq:
            cur += ch
    return priv, "".join(parts)


def yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build(d):
    os.makedirs(os.path.join(d, "msgs"), exist_ok=True)
    keys = {}
    zones = {
        "example.test": ["TXT: " + yaml_str("v=spf1 ip4:192.0.2.0/24 -all")],
        "_dmarc.example.test": ["TXT: " + yaml_str("v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.test")],
        "news.example.test": ["TXT: " + yaml_str("v=spf1 ip4:192.0.2.10 -all"), "A: 192.0.2.10"],
        "esp.test": ["TXT: " + yaml_str("v=spf1 ip4:198.51.100.0/24 -all")],
        "bounce.esp.test": ["TXT: " + yaml_str("v=spf1 ip4:198.51.100.0/24 -all")],
        "_dmarc.esp.test": ["TXT: " + yaml_str("v=DMARC1; p=none")],
    }
    for dom, sel in (("example.test", "s1"), ("esp.test", "e1")):
        priv, pub = genkey(d, dom, sel)
        keys[(dom, sel)] = priv
        zones["%s._domainkey.%s" % (sel, dom)] = ["TXT: " + yaml_str(pub)]
    with open(os.path.join(d, "zones.yaml"), "w") as f:
        for name, recs in zones.items():
            f.write("%s:\n" % name)
            for r in recs:
                f.write("  - %s\n" % r)
    for fname, sig, _env in CASES:
        raw = open(os.path.join(SAMPLES, fname), "rb").read().replace(b"\r\n", b"\n")
        msg = raw.replace(b"\n", b"\r\n")
        if sig:
            dom, sel, hdrs = sig
            h = dkim.sign(msg, sel.encode(), dom.encode(), keys[(dom, sel)],
                          include_headers=hdrs, canonicalize=(b"relaxed", b"relaxed"))
            msg = h + msg
        with open(os.path.join(d, "msgs", fname), "wb") as f:
            f.write(msg)
    return d


def write_conf(d, dns, mode=None, name="trustmilter.conf"):
    """The configuration; mode "enforce" or "monitor" sets policy.mode (None: the default)."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write('authserv_id = "mx.recipient.test";\n'
                'hostname = "mx.recipient.test";\n'
                'dns: { forwarders = ["%s"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 2000; };\n' % dns)
        if mode:
            f.write('policy: { mode = "%s"; };\n' % mode)
    return path


def envelope_args(env):
    return ["--client-ip", env["ip"], "--helo", env["helo"], "--mail-from", env["mail_from"]]


if __name__ == "__main__":
    build(sys.argv[1])
