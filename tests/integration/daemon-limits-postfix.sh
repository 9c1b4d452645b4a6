#!/bin/bash
# daemon-limits-postfix - the connection limits behind a real, private
# Postfix (milter_default_action = tempfail): with milter.max_connections = 4
# and three places held by clients that trickle a command a byte at a time,
# mail through Postfix still gets its verdict; with all four places held,
# Postfix's milter connection is closed at once, the message is deferred
# (451, nothing lost) and the daemon logs one line; once a place is free
# again mail is evaluated again; the trickling clients are cut after
# milter.timeout although their bytes keep coming.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
HOLD=
test_cleanup() { [ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null && wait "$HOLD" 2>/dev/null; }

pf_test_fixture
pf_test_dns "$TMP/fx/zones.yaml"

cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
milter: {
  socket = "unix:$SOCK";
  socket_mode = 438;
  internal_networks = ["127.0.0.0/8", "::1/128"];
  timeout = 8;
  max_connections = 4;
  user = "root";
  log_stderr = "yes";
};
EOF
pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon start"

# send NAME FILE - one message through Postfix; output in $TMP/NAME.out.
send() {
	sed "s/order-1042@/$1@/" "$TMP/fx/msgs/transactional.eml" >"$TMP/$1.eml"
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mta.example.test --from bounce@example.test \
		--to bob@recipient.test --xclient "ADDR=192.0.2.20 NAME=[UNAVAILABLE]" \
		--data "$TMP/$1.eml" --timeout 60 >"$TMP/$1.out" 2>&1
}
# evaluated NAME - the message was delivered with our Authentication-Results.
evaluated() {
	local f i
	for i in $(seq 1 100); do
		for f in $(pf_delivered); do
			grep -q "$1@" "$f" && grep -q "^Authentication-Results: mx.recipient.test;" "$f" &&
				grep -q "dmarc=pass" "$f" && return 0
		done
		sleep 0.1
	done
	return 1
}

# hold N - N clients on the milter socket that negotiate, then trickle a
# body chunk one byte every 0.2 s; $TMP/hold.ready once all are connected,
# $TMP/hold.out says how many the daemon cut and when.
hold() {
	rm -f "$TMP/hold.ready"
	/usr/bin/python3 - "$SOCK" "$1" "$TMP" >"$TMP/hold.out" 2>&1 <<'PY' &
import socket, struct, sys, time
path, n, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(5)
    s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1ff, 0x1fffff))
    s.recv(4096)
    conns.append(s)
open(tmp + "/hold.ready", "w").close()
pkt = struct.pack(">Ic", 400, b"B") + b"x" * 399
t0 = time.time()
cut = {}
for b in pkt:
    for i, s in enumerate(conns):
        if i in cut:
            continue
        try:
            s.send(bytes([b]))
            s.setblocking(False)
            if s.recv(4096) == b"":
                cut[i] = time.time() - t0
        except BlockingIOError:
            pass
        except OSError:
            cut[i] = time.time() - t0
        s.setblocking(True)
    if len(cut) == n:
        break
    time.sleep(0.2)
print("cut %d of %d after %s s" % (len(cut), n, " ".join("%.1f" % t for t in sorted(cut.values()))))
PY
	HOLD=$!
	for i in $(seq 1 100); do [ -e "$TMP/hold.ready" ] && break; sleep 0.1; done
}

# 1. three of four places held by trickling clients: mail is still evaluated.
hold 3
send room
check "three slow clients hold places: mail gets its verdict (250)" [ "$(smtp_code room)" = 250 ]
check "three slow clients hold places: delivered with Authentication-Results" evaluated room
wait "$HOLD"; HOLD=
check "the trickling clients were cut after milter.timeout (8 s) although bytes kept coming" \
	grep -qE "^cut 3 of 3 after ([7-9]|1[01])\.[0-9] ([7-9]|1[01])\.[0-9] ([7-9]|1[01])\.[0-9] s" "$TMP/hold.out"
check "the cut is logged" grep -q "a command did not arrive whole within milter.timeout (8 s)" "$TMP/milter.log"

# 2. all four places held: Postfix's connection is refused, the message deferred.
hold 4
send full
check "max_connections reached: Postfix defers the message (451, milter_default_action)" \
	[ "$(smtp_code full)" = 451 ]
check "max_connections reached: logged once" \
	[ "$(grep -c "milter.max_connections (4) reached" "$TMP/milter.log")" = 1 ]
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null; HOLD=
sleep 0.5

# 3. places free again: mail is evaluated again.
send again
check "after the slow clients left: mail gets its verdict (250)" [ "$(smtp_code again)" = 250 ]
check "after the slow clients left: delivered with Authentication-Results" evaluated again
exit 0
