#!/bin/bash
# arc-seal-postfix - ARC sealing (arc.seal) through the daemon behind a real,
# private Postfix (tests/lib/postfix.sh): with arc.seal = "listed" and the
# list server's address in arc.seal_networks, a list message already sealed
# once (python3-dkim's arc_sign, tests/lib/arcworld.py) leaves with our
# ARC set i=2 cv=pass, a message without ARC with i=1 cv=none, a chain broken
# before it arrived with cv=fail; mail from another client is not sealed.
# Each sealed message as delivered is verified by python3-dkim's arc_verify
# and by trustmilter-check; DNS is a real unbound on loopback (tests/lib/dnsd.py).
# An outbound message (an internal client, also in arc.seal_networks) is
# DKIM-signed and sealed in one pass: as delivered, python3-dkim's verify and
# arc_verify, npm mailauth 4.13.3 and trustmilter-check pass it, and the AMS
# h= names our DKIM-Signature. The log line carries arc_sealed=N and the
# SQLite audit record the column arc_sealed (0 when not sealed).
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
mkdir -p "$TMP/db" && chmod 777 "$TMP/db"

# the ARC world plus our sealing key (seal.tm.test, selector t1) and the messages
W=$TMP/w
/usr/bin/python3 - "$SRC/tests/lib" "$W" <<'PY' || fail_all "ARC world build failed"
import os, sys
sys.path.insert(0, sys.argv[1])
import arcworld
arcworld.SEALERS = arcworld.SEALERS + (("seal.tm.test", "t1"),)
d = sys.argv[2]
os.makedirs(d, exist_ok=True)
w = arcworld.World(d)
arcworld.write_messages(w, d)
plain = arcworld.list_rewrite(w.dkim_sign(arcworld.ORIG))
for name, mid in (("plain", b"n2"), ("other", b"n3")):
    with open(os.path.join(d, "msgs", name + ".eml"), "wb") as f:
        f.write(plain.replace(b"<n1@orig.test>", b"<" + mid + b"@orig.test>"))
with open(os.path.join(d, "msgs", "outbound.eml"), "wb") as f:
    f.write(b"From: News <news@seal.tm.test>\r\nTo: bob@recipient.test\r\nSubject: news\r\n"
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <n5@orig.test>\r\n\r\n"
            b"The news of the day.\r\n")
p = os.path.join(d, "msgs", "broken.eml")
m = open(p, "rb").read()
open(p, "wb").write(m.replace(b"<n1@orig.test>", b"<n4@orig.test>"))
PY
KEY=$W/keys/seal.tm.test/t1.private
pf_test_dns "$W/zones.yaml"

pf_test_userconf
chown "$MILTER_USER" "$KEY"
chmod 600 "$KEY"
chmod 755 "$W" "$W/keys" "$W/keys/seal.tm.test"
cat >"$TMP/tm.conf" <<EOC
authserv_id = "mx.forwarder.test";
hostname = "mx.forwarder.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test."]; timeout_ms = 1500; };
policy: { mode = "monitor"; };
spam: { enabled = false; };
arc: { seal = "listed"; seal_networks = ["203.0.113.0/24", "192.0.2.77/32"]; seal_key = "seal.tm.test:t1:$KEY"; };
sign: { enabled = true; keys = ["seal.tm.test:t1:$KEY"]; };
audit: { store = "sqlite:$TMP/db/audit.db"; batch_size = 1; };
$(pf_test_milter_conf | sed 's|"::1/128"\]|"::1/128", "192.0.2.77/32"]|')
EOC
chmod 644 "$TMP/tm.conf"
printf 'authserv_id = "mx.recipient.test";\ndns: { forwarders = ["%s"]; transparent_zones = ["test."]; timeout_ms = 1500; };\n' \
	"$DNS" >"$TMP/verify.conf"

# send NAME IP - msgs/NAME.eml from the list's address and client IP.
send() {
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mail.lists.trusted.test \
		--from bounce@lists.trusted.test --to bob@recipient.test \
		--xclient "ADDR=$2 NAME=[UNAVAILABLE]" --data "$W/msgs/$1.eml" --timeout 60 \
		>"$TMP/$1.out" 2>&1
}
# seal_of FILE - "i cv d" of the topmost ARC-Seal.
seal_of() {
	/usr/bin/python3 - "$1" <<'PY'
import re, sys
m = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
f = re.search(rb"^ARC-Seal:(.*?)\n(?=\S)", m, re.M | re.S)
t = dict(re.findall(rb"(\w+)=([^;]*)", re.sub(rb"\s+", b"", f.group(1)))) if f else {}
print(" ".join(t.get(k, b"").decode() for k in (b"i", b"cv", b"d")) if f else "")
PY
}
# peer FILE [signed] - python3-dkim arc_verify's cv (keys from the zone file);
# signed: "h=N dkim=V arc=CV mailauth=ARC/DKIM...", N the DKIM-Signature names
# in the topmost AMS h=, V python3-dkim's verify of the top DKIM-Signature, and
# npm mailauth's ARC and DKIM results.
peer() {
	/usr/bin/python3 - "$1" "$W/zones.yaml" "${2:-}" "$DNS" "$SRC/tests/lib/mailauth-arc.js" <<'PY'
import json, re, subprocess, sys, dkim
m = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
z, name = {}, None
for line in open(sys.argv[2]):
    if not line.startswith(" "):
        name = line.strip().rstrip(":")
    elif "TXT:" in line:
        z[name + "."] = line.split("TXT:", 1)[1].strip().strip('"').encode()
f = lambda n, timeout=5: z.get(n.decode() if isinstance(n, bytes) else n)
cv, _r, why = dkim.arc_verify(m, dnsfunc=f)
if sys.argv[3] != "signed":
    print((cv or b"fail").decode())
    sys.exit(0)
ams = re.search(rb"^ARC-Message-Signature:(.*?)\r\n(?=\S)", m, re.M | re.S)
h = re.search(rb"\bh=([^;]*);", re.sub(rb"\s+", b"", ams.group(1))) if ams else None
open(sys.argv[1] + ".crlf", "wb").write(m)
try:
    r = subprocess.run(["node", sys.argv[5], "verify", sys.argv[4], sys.argv[1] + ".crlf"],
                       capture_output=True, timeout=60)
    ma = json.loads(r.stdout)
    ma = "%s/%s" % (ma["arc"], ",".join(ma["dkim"]))
except Exception:  # noqa: BLE001
    ma = "error"
print("h=%d dkim=%s arc=%s mailauth=%s" % (h.group(1).lower().split(b":").count(b"dkim-signature") if h else 0,
                                          dkim.verify(m, dnsfunc=f), (cv or b"fail").decode(), ma))
PY
}
# ours FILE - trustmilter-check's ARC result and instance count.
ours() {
	"$BUILD/trustmilter-check" -c "$TMP/verify.conf" --json "$1" 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.stdin.readline())["arc"]; print(a["result"], a["instances"])'
}

pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon (sealing) start"

n=0
# expect NAME IP MID WANT-SEAL WANT-PEER WANT-OURS
expect() {
	send "$1" "$2"
	n=$((n + 1))
	pf_wait_delivered "$n"
	local f
	f=$(delivered_with "<$3@orig.test>")
	check "$1: delivered" [ -n "$f" ]
	local s
	s=$(seal_of "${f:-/dev/null}")
	check "$1: sealed '$4' (got '$s')" [ "$s" = "$4" ]
	[ -z "$5" ] && return
	local p o
	p=$(peer "${f:-/dev/null}")
	check "$1: python3-dkim arc_verify says $5 (got $p)" [ "$p" = "$5" ]
	o=$(ours "${f:-/dev/null}")
	check "$1: trustmilter verifies it: $6 (got $o)" [ "$o" = "$6" ]
}
expect trusted 203.0.113.9 n1 "2 pass seal.tm.test" pass "pass 2"
expect plain 203.0.113.9 n2 "1 none seal.tm.test" pass "pass 1"
expect broken 203.0.113.9 n4 "2 fail seal.tm.test" fail "fail 2"
expect other 198.51.100.7 n3 "" "" ""
f=$(delivered_with "<n1@orig.test>")
order=$(tr -d '\r' <"${f:-/dev/null}" | grep -oE '^(ARC-[A-Za-z-]+: i=[0-9]+|Authentication-Results)' | head -4 | tr '\n' ',')
check "our ARC set is above the arriving one, in the order AS, AMS, AAR, then A-R ($order)" \
	[ "$order" = "ARC-Seal: i=2,ARC-Message-Signature: i=2,ARC-Authentication-Results: i=2,Authentication-Results," ]
check "the daemon is still running" kill -0 "$MPID"

# signed and sealed in one pass (outbound from 192.0.2.77)
send outbound 192.0.2.77
n=$((n + 1))
pf_wait_delivered "$n"
f=$(delivered_with "<n5@orig.test>")
check "outbound: delivered" [ -n "$f" ]
MA=$SRC/build/npm/mailauth-4.13.3
if [ ! -e "$MA/node_modules/mailauth/package.json" ] && command -v npm >/dev/null; then
	timeout 120 npm install --prefix "$MA" --no-audit --no-fund --silent mailauth@4.13.3 >/dev/null 2>&1
fi
v=$(NODE_PATH=$MA/node_modules peer "${f:-/dev/null}" signed)
check "outbound: AMS h= names our DKIM-Signature; python3-dkim verify and arc_verify, mailauth pass ($v)" \
	[ "$v" = "h=1 dkim=True arc=pass mailauth=pass/pass" ]
o=$(ours "${f:-/dev/null}")
check "outbound: trustmilter verifies the chain: pass 1 (got $o)" [ "$o" = "pass 1" ]
# the log line and the audit record name the instance sealed
check "log: arc_sealed=2 for the list message, none for the unsealed one" \
	sh -c "grep -q 'from=orig.test .*arc=pass arc_sealed=2 ' '$TMP/milter.log' &&
	       [ \$(grep -c 'arc_sealed=' '$TMP/milter.log') = 4 ]"
kill -TERM "$MPID"; wait "$MPID"; MPID=
a=$(sqlite3 "$TMP/db/audit.db" "SELECT message_id || '=' || arc_sealed FROM messages ORDER BY message_id" | tr '\n' ' ')
check "audit: arc_sealed per message ($a)" \
	[ "$a" = "<n1@orig.test>=2 <n2@orig.test>=1 <n3@orig.test>=0 <n4@orig.test>=2 <n5@orig.test>=1 " ]
