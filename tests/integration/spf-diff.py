#!/usr/bin/python3
"""spf-diff - differential SPF test: our evaluator (build/tools/spf-eval) against
python3-spf (pyspf) and libspf2's spfquery, on one corpus of zones and cases
served by a real unbound (tests/lib/dnsd.py).

Our result must equal the RFC 7208 answer given in CASES (with the section that
decides it). pyspf's and spfquery's answers are printed beside it; where a peer
differs from the RFC answer that is recorded as a "# diff" line, not a failure
(the point is to see where the peers disagree, and why).

pyspf is pointed at the server through dnspython's default resolver. spfquery
reads /etc/resolv.conf and always uses port 53, so when we may create Linux
namespaces (unshare) the whole test re-runs itself in a private network and
mount namespace: loopback only, our server on 127.0.0.1:53, a private
resolv.conf bind-mounted over /etc/resolv.conf. Without namespaces spfquery is
skipped (reported as SKIP), never faked.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("TM_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("TM_BUILD") or os.path.join(SRC, "build")
TMP = os.environ.get("TM_TMP") or tempfile.mkdtemp()
DNSD = os.path.join(SRC, "tests/lib/dnsd.py")
EVAL = os.path.join(BUILD, "tools/spf-eval")

ZONES = {
    "pass.example.com": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
    "cidr0.example.com": [{"TXT": "v=spf1 ip6:2001:db8::/0 ip4:0.0.0.0/0 -all"}],
    "mapped.example.com": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"}],
    "void.example.com": [{"TXT": "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com ?all"}],
    "multi.example.com": [{"TXT": ["v=spf1 ip4:192.0.2.1", " -all"]}],
    "exists.example.com": [{"TXT": "v=spf1 exists:%{ir}.ok.example.com -all"}],
    "1.2.0.192.ok.example.com": [{"A": "127.0.0.2"}],
    "redir.example.com": [{"TXT": "v=spf1 redirect=pass.example.com"}],
    "mx11.example.com": [{"TXT": "v=spf1 mx -all"}] + [{"MX": [i, "mx%d.example.com" % i]} for i in range(11)],
    "mx0.example.com": [{"A": "192.0.2.1"}],
    "dual.example.com": [{"TXT": "v=spf1 a//0 -all"}, {"A": "198.51.100.1"}, {"AAAA": "2001:db8::99"}],
    "exp.example.com": [{"TXT": "v=spf1 -all exp=why.example.com"}],
    "why.example.com": [{"TXT": "%{c} is not allowed to send for %{d}"}],
    "two.example.com": [{"TXT": "v=spf1 -all"}, {"TXT": "v=spf1 +all"}],
    "incnone.example.com": [{"TXT": "v=spf1 include:nothing.example.com -all"}],
    "nothing.example.com": [{"A": "192.0.2.9"}],
    "loop.example.com": [{"TXT": "v=spf1 include:loop.example.com -all"}],
    "nul.example.com": [{"TXT": "v=spf1 -all\0 +all"}],
    "ptr.example.com": [{"TXT": "v=spf1 ptr -all"}],
    "1.2.0.192.in-addr.arpa": [{"PTR": "host.ptr.example.com"}],
    "host.ptr.example.com": [{"A": "192.0.2.1"}],
    "macro0.example.com": [{"TXT": "v=spf1 exists:%{d0}.example.com -all"}],
}

# (name, ip, mail from, RFC 7208 answer, section that decides it)
CASES = [
    ("ip4 pass", "192.0.2.1", "a@pass.example.com", "pass", "5.6"),
    ("ip4 fail", "198.51.100.1", "a@pass.example.com", "fail", "5.6, 4.6.2"),
    ("CIDR /0", "2001:db8::5", "a@cidr0.example.com", "pass", "5.6 (ip6-cidr-length may be 0)"),
    ("IPv4-mapped IPv6 client", "::ffff:192.0.2.1", "a@mapped.example.com", "pass", "5 (IPv4-mapped addresses are IPv4)"),
    ("void lookup limit", "192.0.2.1", "a@void.example.com", "permerror", "4.6.4 (more than 2 void lookups)"),
    ("multi-string TXT", "192.0.2.1", "a@multi.example.com", "pass", "3.3 (strings joined without spaces)"),
    ("exists with %{ir}", "192.0.2.1", "a@exists.example.com", "pass", "5.7, 7.3"),
    ("redirect", "192.0.2.1", "a@redir.example.com", "pass", "6.1"),
    ("more than 10 MX names", "192.0.2.1", "a@mx11.example.com", "permerror", "4.6.4"),
    ("a//0 dual CIDR, IPv6 client", "2001:db8::1", "a@dual.example.com", "pass", "5.3, 5.6"),
    ("exp explanation", "192.0.2.1", "a@exp.example.com", "fail", "6.2"),
    ("two SPF records", "192.0.2.1", "a@two.example.com", "permerror", "4.5"),
    ("include of a domain without SPF", "192.0.2.1", "a@incnone.example.com", "permerror", "5.2"),
    ("include loop", "192.0.2.1", "a@loop.example.com", "permerror", "4.6.4 (10 DNS terms)"),
    ("NUL byte in record", "192.0.2.1", "a@nul.example.com", "permerror", "4.6.1, 12 (NUL is not in the ABNF)"),
    ("ptr validated", "192.0.2.1", "a@ptr.example.com", "pass", "5.5"),
    ("macro digit 0", "192.0.2.1", "a@macro0.example.com", "permerror", "7.1 (DIGIT must be at least one)"),
    ("no record", "192.0.2.1", "a@nothing.example.com", "none", "4.5"),
    ("malformed domain", "192.0.2.1", "a@a..example.com", "none", "4.3"),
]

PYSPF = r'''
import sys, json, dns.resolver, spf
port = int(sys.argv[1])
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = port
r.lifetime = 3
dns.resolver.default_resolver = r
out = []
for ip, s in json.loads(sys.stdin.read()):
    try:
        res = spf.check2(i=ip, s=s, h="mx.example.org")[0]
    except Exception as e:
        res = "exception:" + type(e).__name__
    out.append(res)
print(json.dumps(out))
'''

SPFQUERY_MAP = {"error": "temperror", "unknown": "permerror", "(invalid)": "permerror"}


def spfquery(ip, sender):
    p = subprocess.run(["spfquery", "-ip", ip, "-sender", sender, "-helo", "mx.example.org"],
                       capture_output=True, text=True, timeout=30)
    # spfquery may print "StartError ... EndError" blocks before the result line
    lines = [l.strip() for l in p.stdout.split("\n")]
    if os.environ.get("SPFDIFF_DEBUG"):
        sys.stderr.write(p.stdout + p.stderr)
    skip = False
    for l in lines:
        if l == "StartError":
            skip = True
        elif l == "EndError":
            skip = False
        elif not skip and l:
            return SPFQUERY_MAP.get(l, l)
    return "?"


def inner(use_ns):
    d = os.path.join(TMP, "dnsd")
    zf = os.path.join(TMP, "zones.yaml")
    import yaml
    with open(zf, "w") as f:
        yaml.safe_dump(ZONES, f)
    env = dict(os.environ)
    if use_ns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        rc = os.path.join(TMP, "resolv.conf")
        with open(rc, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
        subprocess.run(["mount", "--bind", rc, "/etc/resolv.conf"], check=True)
        env["DNSD_PORT"] = "53"
    addr = subprocess.run(["/usr/bin/python3", DNSD, "start", d, zf], check=True, env=env,
                          capture_output=True, text=True).stdout.strip()
    try:
        port = int(addr.split("@")[1])
        py = json.loads(subprocess.run(["/usr/bin/python3", "-c", PYSPF, str(port)], check=True,
                                       input=json.dumps([[c[1], c[2]] for c in CASES]),
                                       capture_output=True, text=True).stdout)
        for (name, ip, sender, want, sec), pyres in zip(CASES, py):
            p = subprocess.run([EVAL, "--dns", addr, "--ip", ip, "--helo", "mx.example.org",
                                "--mail-from", sender], capture_output=True, text=True)
            ours = p.stdout.split("\n")[0]
            lib = spfquery(ip, sender) if use_ns and shutil.which("spfquery") else "SKIP"
            line = "%s - %s: ours=%s pyspf=%s spfquery=%s (RFC 7208 %s: %s)" % (
                "ok" if ours == want else "not ok", name, ours, pyres, lib, sec, want)
            print(line)
            for peer, res in (("pyspf", pyres), ("spfquery", lib)):
                if res not in (want, "SKIP"):
                    print("# diff: %s gives %s for \"%s\"; RFC 7208 %s says %s" % (peer, res, name, sec, want))
        if name and "exp explanation" in [c[0] for c in CASES]:
            p = subprocess.run([EVAL, "--dns", addr, "--ip", "192.0.2.1", "--helo", "mx.example.org",
                                "--mail-from", "a@exp.example.com"], capture_output=True, text=True)
            got = p.stdout.split("\n")[1]
            want = "192.0.2.1 is not allowed to send for exp.example.com"
            print("%s - exp text expanded (%s)" % ("ok" if got == want else "not ok", got))
        if not use_ns:
            print("ok - spfquery # SKIP cannot create a private network namespace; spfquery only "
                  "talks to resolv.conf servers on port 53")
    finally:
        subprocess.run(["/usr/bin/python3", DNSD, "stop", d], env=env)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--in-namespace":
        inner(True)
        return 0
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        p = subprocess.run(["unshare", "-n", "-m", "/usr/bin/python3", os.path.abspath(__file__),
                            "--in-namespace"], env=dict(os.environ, TM_TMP=TMP, TM_BUILD=BUILD, TM_SRC=SRC))
        if p.returncode == 0:
            return 0
        print("# namespace run failed (%d); running without spfquery" % p.returncode)
    inner(False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
