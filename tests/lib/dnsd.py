#!/usr/bin/python3
"""dnsd - a test DNS server: a real unbound on a loopback port serving YAML zone data.

Usage:
    /usr/bin/python3 tests/lib/dnsd.py start DIR ZONES.yaml   -> prints "127.0.0.1@PORT"
    /usr/bin/python3 tests/lib/dnsd.py stop DIR
    /usr/bin/python3 tests/lib/dnsd.py conf DIR ZONES.yaml    -> only write DIR/unbound.conf

ZONES.yaml maps owner names to a list of records, in the format of the RFC 7208
test suite's "zonedata" (a mapping with a "zonedata" key is accepted too):

    example.com:
      - TXT: "v=spf1 -all"
      - TXT: ["multi", "string"]   # several character-strings in one TXT record
      - TXT: []                    # a TXT record with zero strings
      - TXT: NONE                  # no TXT record (and no TXT made from SPF:)
      - SPF: "v=spf1 -all"         # served as TXT (unless the name lists TXT) and as type 99
      - A: 192.0.2.1
      - AAAA: "2001:db8::1"
      - MX: [10, mx.example.com]
      - PTR: host.example.com
      - CNAME: other.example.com
      - TIMEOUT                    # no reply at all for types not listed for the name
      - SERVFAIL                   # error reply (REFUSED) for types not listed

Names not listed are NXDOMAIN; listed names without the asked type, and parents of
listed names, get NOERROR/NODATA. TIMEOUT maps to unbound's "deny" local zone (drop
queries without local data), SERVFAIL to "refuse"; both cover the names below them
unless those are listed themselves. Strings may hold any byte (NUL, CR, LF): they are
written as \\DDD escapes. Python str values are encoded as UTF-8, bytes values as is.
"""
import os
import signal
import socket
import subprocess
import sys
import time

TTL = 60          # short: tests that reuse a name across servers should not see stale data
MAX_CHARSTR = 255  # one DNS character-string; longer TXT strings are split (joined again by readers)
START_TIMEOUT = 10.0


def die(msg):
    sys.stderr.write("dnsd: %s\n" % msg)
    sys.exit(2)


def to_bytes(v):
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8")


def esc_name(name):
    """Name in zone-file text: bytes outside [A-Za-z0-9-_*] (except label dots) as \\DDD."""
    b = to_bytes(name)
    if b in (b"", b"."):
        return "."
    out = []
    for c in b:
        ch = chr(c)
        if ch.isascii() and (ch.isalnum() or ch in "-_*."):
            out.append(ch)
        else:
            out.append("\\%03d" % c)
    s = "".join(out)
    if not s.endswith("."):
        s += "."
    return s


def esc_str(v):
    """One TXT string (any bytes) as quoted zone-file text, split into <=255-byte pieces."""
    b = to_bytes(v)
    pieces = [b[i:i + MAX_CHARSTR] for i in range(0, len(b), MAX_CHARSTR)] or [b""]
    out = []
    for p in pieces:
        s = "".join(chr(c) if 0x20 < c < 0x7f and chr(c) not in "\"'\\;()"
                    else ("\\%03d" % c) for c in p)
        out.append('"%s"' % s)
    return " ".join(out)


def load_zones(path):
    import yaml
    with open(path, "rb") as f:
        data = yaml.safe_load(f)
    if data is None:
        data = {}
    if isinstance(data, dict) and "zonedata" in data and isinstance(data["zonedata"], dict):
        data = data["zonedata"]
    if not isinstance(data, dict):
        die("%s: expected a mapping of names to record lists" % path)
    return data


def build_conf(d, zones, port):
    """Return the unbound.conf text for zones served on 127.0.0.1@port."""
    lines = [
        "server:",
        "  interface: 127.0.0.1@%d" % port,
        "  port: %d" % port,
        "  do-ip4: yes",
        "  do-ip6: no",
        "  do-udp: yes",
        "  do-tcp: yes",
        "  do-daemonize: no",
        '  username: ""',
        '  chroot: ""',
        '  directory: "%s"' % d,
        '  logfile: "%s"' % os.path.join(d, "unbound.log"),
        '  pidfile: ""',
        "  use-syslog: no",
        "  verbosity: 1",
        "  num-threads: 1",
        "  so-reuseport: no",
        '  module-config: "iterator"',
        "  access-control: 127.0.0.0/8 allow",
        "  ratelimit: 0",
        "  ip-ratelimit: 0",
        "  minimal-responses: yes",
        "  qname-minimisation: no",
        "  hide-identity: yes",
        "  hide-version: yes",
        '  local-zone: "." static',
    ]
    kinds = {}      # name(lower, escaped) -> "deny" / "refuse" / None
    datas = []      # (escaped name, rr text)
    for owner, recs in zones.items():
        name = esc_name(owner)
        key = name.lower()
        if recs is None:
            recs = []
        if not isinstance(recs, list):
            recs = [recs]
        kind = None
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in recs)
        for r in recs:
            if isinstance(r, str):
                w = r.strip().upper()
                if w == "TIMEOUT":
                    kind = "deny"
                elif w == "SERVFAIL":
                    kind = "refuse"
                else:
                    die("%s: unknown marker %r" % (owner, r))
                continue
            if not isinstance(r, dict):
                die("%s: bad record %r" % (owner, r))
            for t, v in r.items():
                t = str(t).upper()
                if t in ("TXT", "SPF"):
                    if v == "NONE":
                        continue
                    strs = v if isinstance(v, list) else [v]
                    if strs:
                        rd = " ".join(esc_str(s) for s in strs)
                    else:
                        rd = None
                    types = ["TXT"] if t == "TXT" else (["TYPE99"] + ([] if has_txt else ["TXT"]))
                    for ty in types:
                        if rd is None:
                            num = 16 if ty == "TXT" else 99
                            datas.append((name, "TYPE%d \\# 0" % num))
                        elif ty == "TYPE99":
                            datas.append((name, "SPF %s" % rd))
                        else:
                            datas.append((name, "TXT %s" % rd))
                elif t == "A":
                    socket.inet_pton(socket.AF_INET, str(v))
                    datas.append((name, "A %s" % v))
                elif t == "AAAA":
                    socket.inet_pton(socket.AF_INET6, str(v))
                    datas.append((name, "AAAA %s" % v))
                elif t == "MX":
                    if not isinstance(v, list) or len(v) != 2:
                        die("%s: MX wants [pref, name]" % owner)
                    datas.append((name, "MX %d %s" % (int(v[0]), esc_name(v[1]))))
                elif t in ("PTR", "CNAME", "NS"):
                    datas.append((name, "%s %s" % (t, esc_name(v))))
                else:
                    die("%s: unsupported type %s" % (owner, t))
        kinds[key] = kind
    # Listed names below a TIMEOUT/SERVFAIL name get their own static zone, so the
    # parent's deny/refuse does not swallow their NODATA answers.
    special = [k for k, v in kinds.items() if v]
    for key, kind in kinds.items():
        if kind:
            lines.append('  local-zone: "%s" %s' % (key, kind))
        elif any(key != s and key.endswith("." + s) or (s == "." and key != ".") for s in special):
            lines.append('  local-zone: "%s" static' % key)
    for name, rr in datas:
        lines.append("  local-data: '%s %d IN %s'" % (name, TTL, rr))
    lines.append("remote-control:")
    lines.append("  control-enable: no")
    return "\n".join(lines) + "\n"


def free_port():
    """A loopback port free for both UDP and TCP (or $DNSD_PORT: a private
    network namespace may want port 53 for programs that read resolv.conf)."""
    if os.environ.get("DNSD_PORT"):
        return int(os.environ["DNSD_PORT"])
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        u.close()
        t.close()
        return port
    die("no free port")


def probe(port):
    """True when something answers a DNS query on 127.0.0.1@port (any rcode)."""
    q = bytes.fromhex("abcd01000001000000000000") + b"\x05probe\x07invalid\x00\x00\x01\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(512)
        return len(r) >= 12 and r[0:2] == b"\xab\xcd"
    except OSError:
        return False
    finally:
        s.close()


def cmd_start(d, zfile):
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    zones = load_zones(zfile)
    pidfile = os.path.join(d, "unbound.pid")
    if os.path.exists(pidfile):
        cmd_stop(d)
    for attempt in range(5):
        port = free_port()
        conf = os.path.join(d, "unbound.conf")
        with open(conf, "w") as f:
            f.write(build_conf(d, zones, port))
        chk = subprocess.run(["unbound-checkconf", conf], capture_output=True, text=True)
        if chk.returncode != 0:
            die("unbound-checkconf: %s%s" % (chk.stdout, chk.stderr))
        log = open(os.path.join(d, "unbound.stderr"), "ab")
        p = subprocess.Popen(["unbound", "-d", "-c", conf], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, start_new_session=True)
        log.close()
        with open(pidfile, "w") as f:
            f.write("%d\n" % p.pid)
        with open(os.path.join(d, "port"), "w") as f:
            f.write("%d\n" % port)
        end = time.time() + START_TIMEOUT
        while time.time() < end:
            if p.poll() is not None:
                break
            if probe(port):
                print("127.0.0.1@%d" % port)
                sys.stdout.flush()
                return 0
            time.sleep(0.02)
        if p.poll() is None:
            p.kill()
            p.wait()
        os.unlink(pidfile)
        # port raced away or startup failed: try another port
    try:
        with open(os.path.join(d, "unbound.log")) as f:
            sys.stderr.write(f.read()[-2000:])
    except OSError:
        pass
    die("unbound did not start")


def cmd_stop(d):
    pidfile = os.path.join(d, "unbound.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            # reap if it is our child (it is not normally: start exits)
            time.sleep(0.01)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.unlink(pidfile)
    except OSError:
        pass
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "start" and len(argv) == 4:
        return cmd_start(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "stop":
        return cmd_stop(os.path.abspath(argv[2]))
    if len(argv) == 4 and argv[1] == "conf":
        sys.stdout.write(build_conf(os.path.abspath(argv[2]), load_zones(argv[3]), 53))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
