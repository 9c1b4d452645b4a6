#!/bin/bash
# dkim-sign-postfix - outbound DKIM signing through a real, private Postfix:
# mail from an internal network (outbound) leaves with our DKIM-Signature on
# top, which python3-dkim verifies against the test DNS server's key; mail on
# the inbound path (XCLIENT from outside) is not signed; mail that already
# carries our verifying signature is not signed twice.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init

K=$TMP/skeys
mkdir -p "$K"
opendkim-genkey -b 2048 -d sign.test -s rsa -D "$K" 2>/dev/null || fail_all "opendkim-genkey failed"
REC=$(grep -o '"[^"]*"' "$K/rsa.txt" | tr -d '"\n')
printf 'rsa._domainkey.sign.test:\n  - TXT: "%s"\n_dmarc.sign.test:\n  - TXT: "v=DMARC1; p=reject"\nsign.test:\n  - TXT: "v=spf1 ip4:127.0.0.1 -all"\n' \
	"$REC" >"$TMP/szones.yaml"
pf_test_dns "$TMP/szones.yaml" "$TMP/sdns"

pf_test_userconf
chown "$MILTER_USER" "$K/rsa.private"
chmod 640 "$K/rsa.private"    # group-readable: loaded, with a warning
chmod 755 "$K"
cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.sign.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test."]; timeout_ms = 1500; };
sign: { enabled = true; keys = ["sign.test:rsa:$K/rsa.private"]; };
milter: {
  socket = "unix:$SOCK";
  socket_mode = 432;
  $USERCONF
  internal_networks = ["127.0.0.0/8", "::1/128"];
  log_stderr = "yes";
};
EOF
chmod 644 "$TMP/tm.conf"
pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon (signing) start"
check "group-readable key: warning logged, file named" grep -q "sign: $K/rsa.private: private key readable by its group" "$TMP/milter.log"

send() {   # send NAME FILE IP
	local x=()
	[ "$3" != - ] && x=(--xclient "ADDR=$3 NAME=[UNAVAILABLE]")
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mta.sign.test --from news@sign.test \
		--to bob@recipient.test "${x[@]}" --data "$2" --timeout 60 >"$TMP/$1.out" 2>&1
}
delivered_with() {
	local f
	for f in $(pf_delivered | tac); do grep -q -F -- "$1" "$f" && { echo "$f"; return 0; }; done
	return 1
}
verify() {   # verify FILE - every DKIM-Signature verifies (python3-dkim, key from the zone file)
	/usr/bin/python3 - "$1" "$REC" <<'PY'
import re, sys, dkim
m = open(sys.argv[1], "rb").read()
m = re.sub(rb"\r?\n", b"\r\n", m)
n = len(re.findall(rb"(?im)^DKIM-Signature:", m))
f = lambda name, timeout=5: sys.argv[2].encode() if name.rstrip(b".") == b"rsa._domainkey.sign.test" else b""
sys.exit(0 if n and all(dkim.DKIM(m).verify(idx=i, dnsfunc=f) for i in range(n)) else 1)
PY
}

msg() {   # msg ID - a message from news@sign.test
	printf 'From: News <news@sign.test>\r\nTo: bob@recipient.test\r\nSubject: offer %s\r\nDate: Sun, 06 Dec 2026 18:00:00 +0000\r\nMessage-ID: <%s@sign.test>\r\nList-Unsubscribe: <https://sign.test/u/%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nPrecedence: bulk\r\n\r\nHello  there\r\nbye\r\n' "$1" "$1" "$1"
}

# 1. outbound (127.0.0.1, an internal network): signed on top, verifies
msg out1 >"$TMP/out1.eml"
send out1 "$TMP/out1.eml" -
pf_wait_delivered 1
f=$(delivered_with "out1@sign.test")
check "outbound: delivered" [ -n "$f" ]
first=$(pf_message_headers "$f" | grep -v '^[ \t]' | head -1)
check "outbound: our DKIM-Signature on top" [ "${first%%:*}" = "DKIM-Signature" ]
check "outbound: d=sign.test s=rsa" grep -q "d=sign.test;" "$f"
check "outbound: python3-dkim verifies it" verify "$f"
check "outbound: Authentication-Results shows it (signed here)" grep -q "dkim=pass (signed here)" "$f"
check "outbound: compliance header one-click compliant" grep -q "one-click=compliant" "$f"

# 2. inbound (XCLIENT from outside): not signed
msg in1 >"$TMP/in1.eml"
send in1 "$TMP/in1.eml" 192.0.2.20
pf_wait_delivered 2
f=$(delivered_with "in1@sign.test")
check "inbound: delivered" [ -n "$f" ]
check "inbound: not signed" not grep -q -i "^DKIM-Signature:" "$f"

# 3. already signed with our d= and s=: not signed again
f=$(delivered_with "out1@sign.test")
tr -d '\r' <"$f" | sed -e '/^X-Client-Addr:/d' -e '/^X-Client-Proto:/d' -e '/^X-Helo-Args:/d' \
	-e '/^X-Mail-Args:/d' -e '/^X-Rcpt-Args:/d' >"$TMP/again.eml"
send again "$TMP/again.eml" -
pf_wait_delivered 3
n=$(pf_count)
f=$(pf_delivered | tail -1)
check "already signed: delivered" grep -q "out1@sign.test" "$f"
check "already signed: one DKIM-Signature, not two" [ "$(grep -c -i '^DKIM-Signature:' "$f")" = 1 ]
check "already signed: still verifies" verify "$f"
check "daemon log: outbound messages logged" grep -q "dir=outbound" "$TMP/milter.log"

# 4. reload with a world-readable key: refused, the running keys stay and sign
cp "$K/rsa.private" "$K/open.private"
chmod 644 "$K/open.private"
sed "s|$K/rsa.private|$K/open.private|" "$TMP/tm.conf" >"$TMP/tm.conf.new" && mv "$TMP/tm.conf.new" "$TMP/tm.conf"
chmod 644 "$TMP/tm.conf"
kill -USR1 "$MPID"
for i in $(seq 1 50); do grep -q "reload failed" "$TMP/milter.log" && break; sleep 0.1; done
check "reload with a world-readable key: refused, file named" \
	grep -q "reload failed, keeping the running configuration: .*open.private.*others" "$TMP/milter.log"
msg out2 >"$TMP/out2.eml"
c=$(pf_count)
send out2 "$TMP/out2.eml" -
pf_wait_delivered $((c + 1))
f=$(delivered_with "out2@sign.test")
check "after the refused reload: still signed with the old key" verify "$f"
