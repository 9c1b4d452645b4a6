#!/usr/bin/python3
"""dkim-sign.py - outbound DKIM signing (policy/dkimsign.c through
trustmilter-check --sign) checked by three verifiers: python3-dkim, Perl
Mail::DKIM (tests/lib/mail-dkim-verify.pl, keys from the test DNS server) and
our own verifier (trustmilter-check --json on the signed output).

Keys: RSA 2048 from opendkim-genkey (PKCS#1 PEM) and Ed25519 from openssl genpkey
(PKCS#8 PEM), published by tests/lib/dnsd.py. Cases: RSA, Ed25519, dual (one
domain, two keys), relaxed/relaxed, simple/simple, relaxed/simple, with and
without a final CRLF, an 8-bit body, long folded headers, List-Unsubscribe(-Post)
covered and oversigned; the evaluators see the new signature (DMARC pass,
RFC 8058 compliant); a From domain without a key stays unsigned with
dkim.sign.no_key; a message already signed with our d=/s= is not signed again;
the same keys through OpenDKIM's KeyTable and refile SigningTable; 1024-bit,
world-readable and missing key files refused with the file named.
"""
import atexit
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

import dkim

SRC = os.environ.get("TM_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("TM_BUILD") or os.path.join(SRC, "build")
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp()
CHECK = os.path.join(BUILD, "trustmilter-check")
DNSD = ["/usr/bin/python3", os.path.join(SRC, "tests/lib/dnsd.py")]
PERL = os.path.join(SRC, "tests/lib/mail-dkim-verify.pl")
DOM = "example.test"
failed = 0


def tap(ok, name, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        failed += 1
        for line in str(detail).splitlines()[:40]:
            print("# " + line)


KD = os.path.join(TMP, "signkeys")
os.makedirs(KD, exist_ok=True)
ZONE = {}


def genrsa(bits, sel):
    subprocess.run(["opendkim-genkey", "-b", str(bits), "-d", DOM, "-s", sel, "-D", KD],
                   check=True, stderr=subprocess.DEVNULL)
    path = os.path.join(KD, sel + ".private")
    os.chmod(path, 0o600)
    txt = open(os.path.join(KD, sel + ".txt")).read()
    return path, "".join(re.findall(r'"([^"]*)"', txt))


def gened(sel):
    path = os.path.join(KD, sel + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path], check=True)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return path, "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()


try:
    RSA, rec = genrsa(2048, "rsa")
    ZONE["rsa._domainkey." + DOM] = rec
    ED, rec = gened("ed")
    ZONE["ed._domainkey." + DOM] = rec
    WEAK, WEAKREC = genrsa(1024, "weak")
    NEW, _ = gened("new")
    tap(True, "keys made (opendkim-genkey RSA 2048, openssl Ed25519)")
except Exception as e:  # noqa: BLE001
    tap(False, "keys made", e)
    print("1..%d" % 1)
    sys.exit(1)

ZONE["_dmarc." + DOM] = "v=DMARC1; p=reject"
# for --keys: another key's record, t=y, a short key, (no record for "new")
ZONE["diff._domainkey." + DOM] = ZONE["rsa._domainkey." + DOM]
ZONE["testing._domainkey." + DOM] = ZONE["ed._domainkey." + DOM] + "; t=y"
ZONE["short._domainkey." + DOM] = WEAKREC
with open(os.path.join(TMP, "sign-zones.yaml"), "w") as f:
    for name, txt in ZONE.items():
        f.write("%s:\n  - TXT: %s\n" % (name, json.dumps(txt)))
D = os.path.join(TMP, "sign-dnsd")
r = subprocess.run(DNSD + ["start", D, os.path.join(TMP, "sign-zones.yaml")],
                   capture_output=True, text=True)
ADDR = r.stdout.strip()
tap(r.returncode == 0 and "@" in ADDR, "dnsd started", r.stderr)
atexit.register(lambda: subprocess.run(DNSD + ["stop", D], capture_output=True))


def conf(name, lines):
    p = os.path.join(TMP, name)
    with open(p, "w") as f:
        f.write('dns: { forwarders = ["%s"]; transparent_zones = ["test."]; };\n' % ADDR)
        f.write("authserv_id = \"mx.example.test\";\n")
        f.write("\n".join(lines) + "\n")
    return p


def sign_conf(keys, canon="relaxed/relaxed"):
    return conf("sign-%s-%s.conf" % ("-".join(k[0] for k in keys), canon.replace("/", "-")),
                ['sign: { enabled = true; canonicalization = "%s";' % canon,
                 '  keys = [%s]; };' % ", ".join('"%s:%s:%s"' % (DOM, s, p) for s, p in keys)])


def run(args, data):
    return subprocess.run([CHECK] + args, input=data, capture_output=True)


HDRS = ("From: Sender <news@example.test>\r\nTo: a@example.org\r\nSubject: Hello\r\n"
        "Date: Sun, 06 Dec 2026 18:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
BODY = "Hello  world \t\r\nsecond line\r\n\r\n\r\n"
MSG = (HDRS + "\r\n" + BODY).encode()
LISTMSG = (HDRS + "List-Unsubscribe: <https://example.test/u/1>, <mailto:u@example.test>\r\n"
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nList-Id: <news.example.test>\r\n"
           "Precedence: bulk\r\n\r\n" + BODY).encode()
LONG = ("From: news@example.test\r\nTo: " + ",\r\n    ".join("user%d@example.org" % i for i in range(40)) +
        "\r\nSubject: a long subject " + "word " * 30 + "\r\n\tcontinued\r\nDate: Sun, 06 Dec 2026 "
        "18:00:00 +0000\r\nMessage-ID: <long@example.test>\r\n\r\nbody\r\n").encode()
EIGHT = (HDRS.replace("Hello", "Gr\u00fc\u00dfe") + "Content-Transfer-Encoding: 8bit\r\n\r\n"
         "Stra\u00dfe \u00e4\u00f6\u00fc \u20ac\r\n").encode()
NOCRLF = (HDRS + "\r\nno final line end").encode()
LF = MSG.replace(b"\r\n", b"\n")


def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    return ZONE.get(n.rstrip("."), "").encode()


def crlf(m):
    return re.sub(rb"\r?\n", b"\r\n", m)


def py_verify(m):
    m = crlf(m)
    n = len(re.findall(rb"(?im)^DKIM-Signature:", m))
    ok = all(dkim.DKIM(m).verify(idx=i, dnsfunc=dnsfunc) for i in range(n))
    return ok and n > 0, n


def perl_verify(m):
    r = subprocess.run(["perl", PERL, ADDR], input=m, capture_output=True, text=False)
    out = r.stdout.decode()
    lines = out.split("\n")[:-1]
    # Debian 12's Mail::DKIM (1.20230212) knows no ed25519-sha256: it must call
    # such a signature invalid for that reason, never pass or fail it
    rsa = [l for l in lines if "a=ed25519-sha256" not in l]
    ed = [l for l in lines if "a=ed25519-sha256" in l]
    ok = bool(rsa or ed) and all(l.startswith("pass") for l in rsa) and \
        all(l.startswith("invalid") and "unsupported" in l for l in ed)
    return ok, out + r.stderr.decode()


def our_verify(m):
    r = run(["--json", "--set", "authserv_id=mx.example.test", "--dns", ADDR,
             "--set", "dns.transparent_zones=test.", "-"], m)
    try:
        j = json.loads(r.stdout.decode().splitlines()[0])
    except Exception:  # noqa: BLE001
        return False, r.stdout.decode() + r.stderr.decode()
    sigs = j.get("dkim", [])
    return bool(sigs) and all(s["result"] == "pass" for s in sigs), json.dumps(sigs)


CASES = [
    ("rsa relaxed", [("rsa", RSA)], "relaxed/relaxed", MSG, 1),
    ("ed25519 relaxed", [("ed", ED)], "relaxed/relaxed", MSG, 1),
    ("dual rsa+ed25519", [("rsa", RSA), ("ed", ED)], "relaxed/relaxed", MSG, 2),
    ("rsa simple/simple", [("rsa", RSA)], "simple/simple", MSG, 1),
    ("ed25519 simple/simple", [("ed", ED)], "simple/simple", MSG, 1),
    ("rsa relaxed/simple", [("rsa", RSA)], "relaxed/simple", MSG, 1),
    ("no final CRLF relaxed", [("rsa", RSA)], "relaxed/relaxed", NOCRLF, 1),
    ("no final CRLF simple", [("ed", ED)], "simple/simple", NOCRLF, 1),
    ("LF line ends", [("rsa", RSA)], "relaxed/relaxed", LF, 1),
    ("8-bit body", [("rsa", RSA), ("ed", ED)], "relaxed/relaxed", EIGHT, 2),
    ("8-bit body simple", [("rsa", RSA)], "simple/simple", EIGHT, 1),
    ("long folded headers relaxed", [("rsa", RSA)], "relaxed/relaxed", LONG, 1),
    ("long folded headers simple", [("ed", ED)], "simple/simple", LONG, 1),
    ("list headers", [("rsa", RSA)], "relaxed/relaxed", LISTMSG, 1),
]

signed = {}
for name, keys, canon, msg, want in CASES:
    r = run(["-c", sign_conf(keys, canon), "--sign", "-"], msg)
    out = r.stdout
    n = len(re.findall(rb"(?im)^DKIM-Signature:", out))
    tap(r.returncode in (0, 1) and n == want and out.endswith(msg), name + ": signed (%d)" % want,
        r.stderr.decode() + out.decode(errors="replace")[:2000])
    ok, _ = py_verify(out)
    tap(ok, name + ": python3-dkim verifies", out.decode(errors="replace")[:1500])
    ok, detail = perl_verify(out)
    tap(ok, name + ": Mail::DKIM verifies", detail)
    ok, detail = our_verify(out)
    tap(ok, name + ": our verifier verifies", detail)
    signed[name] = out

# h= of the list message: From and the list fields oversigned
m = re.search(rb"h=([^;]*);", signed["list headers"])
h = re.sub(rb"\s", b"", m.group(1)).decode().lower().split(":") if m else []
tap(h.count("from") == 2 and h.count("list-unsubscribe") == 2 and
    h.count("list-unsubscribe-post") == 2 and h.count("list-id") == 2 and
    "subject" in h and "precedence" not in h and "l=" not in signed["list headers"].decode(),
    "h= oversigns From and the list fields, no l=", h)

# the evaluators judge the message as it leaves
r = run(["-c", sign_conf([("rsa", RSA)]), "--direction", "outbound", "--json", "-"], LISTMSG)
try:
    j = json.loads(r.stdout.decode().splitlines()[0])
    d = j["dkim"][0]
    ok = (d["result"] == "pass" and d.get("signed_here") is True and d["aligned"] and
          d["covers_list_unsubscribe_post"] and j["dmarc"]["result"] == "pass" and
          "dkim.none" not in [f["name"] for f in j["findings"]])
except Exception as e:  # noqa: BLE001
    ok, j = False, e
tap(ok, "outbound JSON: new signature passes, aligned, covers List-Unsubscribe-Post; DMARC pass",
    str(j)[:3000])
ar = j.get("headers", {}) if isinstance(j, dict) else {}
tap("signed here" in json.dumps(j), "Authentication-Results/JSON say the signature was made here",
    json.dumps(ar)[:1500])

# no key for the From domain: unsigned, finding
other = MSG.replace(b"news@example.test", b"news@other.test")
r = run(["-c", sign_conf([("rsa", RSA)]), "--sign", "-"], other)
r2 = run(["-c", sign_conf([("rsa", RSA)]), "--direction", "outbound", "--json", "-"], other)
tap(r.stdout == other and b"dkim.sign.no_key" in r2.stdout, "no key: unsigned, dkim.sign.no_key",
    r.stdout.decode()[:500] + r2.stdout.decode()[:2000])

# already signed with our d= and s=: not signed twice; a second key still signs
once = signed["rsa relaxed"]
r = run(["-c", sign_conf([("rsa", RSA)]), "--sign", "-"], once)
tap(r.stdout == once, "already signed with our d=/s=: not signed again", r.stdout.decode()[:1500])
r = run(["-c", sign_conf([("rsa", RSA), ("ed", ED)]), "--sign", "-"], once)
n = len(re.findall(rb"(?im)^DKIM-Signature:", r.stdout))
tap(n == 2 and py_verify(r.stdout)[0], "already signed: the other key adds its signature",
    r.stdout.decode()[:2000])

# OpenDKIM KeyTable + refile SigningTable
kt = os.path.join(TMP, "KeyTable")
st = os.path.join(TMP, "SigningTable")
with open(kt, "w") as f:
    f.write("# keys\nrsakey  %s:rsa:%s\nedkey %%:ed:%s\n" % (DOM, RSA, ED))
with open(st, "w") as f:
    f.write("*@example.test rsakey\n*@sub.example.test edkey\n")
kc = conf("sign-keytable.conf", ['sign: { enabled = true; opendkim_keytable = "%s";' % kt,
                                 '  opendkim_signingtable = "refile:%s"; };' % st])
r = run(["-c", kc, "--sign", "-"], MSG)
tap(b"s=rsa;" in r.stdout and py_verify(r.stdout)[0] and perl_verify(r.stdout)[0],
    "KeyTable + refile SigningTable: signs and verifies", r.stderr.decode() + r.stdout.decode()[:1500])
r = run(["-c", kc, "--sign", "-"], MSG.replace(b"news@example.test", b"x@sub.example.test"))
tap(b"d=sub.example.test;" in r.stdout and b"s=ed;" in r.stdout,
    "KeyTable %: the From domain is d=", r.stdout.decode()[:1500])
with open(st, "w") as f:
    f.write("example.test rsakey\n")
kc2 = conf("sign-keytable-plain.conf", ['sign: { enabled = true; opendkim_keytable = "%s";' % kt,
                                        '  opendkim_signingtable = "%s"; };' % st])
r = run(["-c", kc2, "--sign", "-"], MSG)
tap(b"s=rsa;" in r.stdout and py_verify(r.stdout)[0], "plain SigningTable: signs and verifies",
    r.stderr.decode() + r.stdout.decode()[:1000])

# refused keys, with the file named
r = run(["-c", sign_conf([("weak", WEAK)]), "--sign", "-"], MSG)
tap(r.returncode == 2 and WEAK.encode() in r.stderr and b"1024 bits" in r.stderr,
    "1024-bit RSA key refused, file named", r.stderr.decode())
os.chmod(ED, 0o604)
r = run(["-c", sign_conf([("ed", ED)]), "--sign", "-"], MSG)
os.chmod(ED, 0o600)
tap(r.returncode == 2 and ED.encode() in r.stderr and b"others" in r.stderr,
    "world-readable key refused, file named", r.stderr.decode())
r = run(["-c", sign_conf([("nope", os.path.join(KD, "missing.pem"))]), "--sign", "-"], MSG)
tap(r.returncode == 2 and b"missing.pem" in r.stderr, "missing key file refused, file named",
    r.stderr.decode())

# trustmilter-check --keys: every key against DNS
kc = sign_conf([("rsa", RSA), ("ed", ED), ("new", NEW), ("diff", ED), ("testing", ED), ("short", RSA)])
r = run(["-c", kc, "--keys"], b"")
out = r.stdout.decode()
lines = {l.split()[0].split(".")[0]: l for l in out.splitlines() if "._domainkey." in l and not l.startswith(" ")}
tap(r.returncode == 1 and "matching" in lines.get("rsa", "") and "matching" in lines.get("ed", ""),
    "--keys: published keys matching", out)
pub = re.search(r'publish: new\._domainkey\.example\.test IN TXT "([^"]*)"', out)
tap("missing" in lines.get("new", "") and pub is not None,
    "--keys: missing key, record to publish printed", out)
if pub:
    # the printed record is the key: sign with it, publish it, verify
    ZONE["new._domainkey." + DOM] = pub.group(1)
    r2 = run(["-c", sign_conf([("new", NEW)]), "--sign", "-"], MSG)
    tap(py_verify(r2.stdout)[0], "--keys: the printed record verifies signatures of that key",
        pub.group(1))
tap("different" in lines.get("diff", ""), "--keys: another key published: different", out)
tap("t=y" in lines.get("testing", "") and "matching" in lines.get("testing", ""),
    "--keys: t=y still set reported", out)
tap("too-short" in lines.get("short", ""), "--keys: published key too short", out)

sys.exit(1 if failed else 0)
