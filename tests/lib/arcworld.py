"""arcworld - the ARC test world shared by tests/integration/arc.py and
arc-postfix.sh: keys (opendkim-genkey) for an author domain with p=reject
(orig.test), a trusted list (lists.trusted.test), an untrusted forwarder
(fwd.untrusted.test) and two more hops; the zones for tests/lib/dnsd.py;
the original message signed by its author, the list's rewrite (subject tag
and footer) and one ARC hop sealed by python3-dkim's arc_sign.

    python3 arcworld.py DIR   -> DIR/zones.yaml and DIR/msgs/*.eml
"""
import os
import sys

import dkim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402

ORIG = (b"From: Alice <alice@orig.test>\r\nTo: list@lists.trusted.test\r\n"
        b"Subject: meeting notes\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <n1@orig.test>\r\n\r\nThe notes are attached.\r\n")
AR_GOOD = ("dkim=pass header.d=orig.test header.s=s1; spf=pass smtp.mailfrom=alice@orig.test; "
           "dmarc=pass header.from=orig.test")
SEALERS = (("orig.test", "s1"), ("lists.trusted.test", "l1"), ("fwd.untrusted.test", "u1"),
           ("hop.test", "h1"), ("hop3.test", "h3"))


class World:
    def __init__(self, d):
        self.keys, self.txt = {}, {}
        zone = {
            "orig.test": ["TXT: " + fixture.yaml_str("v=spf1 ip4:192.0.2.0/24 -all")],
            "_dmarc.orig.test": ["TXT: " + fixture.yaml_str("v=DMARC1; p=reject")],
            "lists.trusted.test": ["TXT: " + fixture.yaml_str("v=spf1 ip4:203.0.113.0/24 -all")],
        }
        for dom, sel in SEALERS:
            priv, pub = fixture.genkey(d, dom, sel)
            self.keys[dom] = (sel, priv)
            zone["%s._domainkey.%s" % (sel, dom)] = ["TXT: " + fixture.yaml_str(pub)]
            self.txt["%s._domainkey.%s." % (sel, dom)] = pub.encode()
        self.zones = os.path.join(d, "zones.yaml")
        with open(self.zones, "w") as f:
            for name, recs in zone.items():
                f.write("%s:\n" % name)
                for r in recs:
                    f.write("  - %s\n" % r)

    def dkim_sign(self, msg):
        sel, priv = self.keys["orig.test"]
        return dkim.sign(msg, sel.encode(), b"orig.test", priv,
                         canonicalize=(b"relaxed", b"relaxed")) + msg

    def seal(self, msg, dom, results, arc=None):
        """One hop: its own Authentication-Results (with arc= for cv), then an ARC set."""
        sel, priv = self.keys[dom]
        srv = ("mx." + dom).encode()
        ar = results + ("; arc=%s" % arc if arc else "")
        msg = b"Authentication-Results: " + srv + b"; " + ar.encode() + b"\r\n" + msg
        return b"".join(dkim.arc_sign(msg, sel.encode(), dom.encode(), priv, srv)) + msg

    def dnsfunc(self, name, timeout=5):
        return self.txt.get(name.decode() if isinstance(name, bytes) else name)


def list_rewrite(msg):
    """What a mailing list does: subject tag and footer (the author's DKIM breaks)."""
    msg = msg.replace(b"Subject: meeting notes", b"Subject: [team] meeting notes")
    return msg + b"-- \r\nteam mailing list\r\n"


def write_messages(w, d):
    """The Postfix test's messages: trusted seal, untrusted seal, broken chain."""
    os.makedirs(os.path.join(d, "msgs"), exist_ok=True)
    listed = list_rewrite(w.dkim_sign(ORIG))
    trusted = w.seal(listed, "lists.trusted.test", AR_GOOD)
    msgs = {
        "trusted.eml": trusted,
        "untrusted.eml": w.seal(listed, "fwd.untrusted.test", AR_GOOD),
        "broken.eml": trusted + b"added after sealing\r\n",
    }
    for name, m in msgs.items():
        with open(os.path.join(d, "msgs", name), "wb") as f:
            f.write(m)


if __name__ == "__main__":
    write_messages(World(sys.argv[1]), sys.argv[1])
