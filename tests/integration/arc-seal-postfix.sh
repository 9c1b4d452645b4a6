#!/bin/bash
# arc-seal-postfix - ARC sealing (arc.seal) through the daemon behind a real,
# private Postfix (tests/lib/postfix.sh): with arc.seal = "listed" and the
# list server's address in arc.seal_networks, a list message already sealed
# once (python3-dkim's arc_sign, tests/lib/arcworld.py) leaves with our
# ARC set i=2 cv=pass, a message without ARC with i=1 cv=none, a chain broken
# before it arrived with cv=fail; mail from another client is not sealed.
# Each sealed message as delivered is verified by python3-dkim's arc_verify
# and by trustmilter-check; DNS is a real unbound on loopback (tests/lib/dnsd.py).
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init

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
arc: { seal = "listed"; seal_networks = ["203.0.113.0/24"]; seal_key = "seal.tm.test:t1:$KEY"; };
$(pf_test_milter_conf)
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
# peer FILE - python3-dkim arc_verify's cv (keys from the zone file).
peer() {
	/usr/bin/python3 - "$1" "$W/zones.yaml" <<'PY'
import re, sys, dkim
m = re.sub(rb"\r?\n", b"\r\n", open(sys.argv[1], "rb").read())
z, name = {}, None
for line in open(sys.argv[2]):
    if not line.startswith(" "):
        name = line.strip().rstrip(":")
    elif "TXT:" in line:
        z[name + "."] = line.split("TXT:", 1)[1].strip().strip('"').encode()
f = lambda n, timeout=5: z.get(n.decode() if isinstance(n, bytes) else n)
cv, _r, why = dkim.arc_verify(m, dnsfunc=f)
print((cv or b"fail").decode())
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
