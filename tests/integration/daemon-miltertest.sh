#!/bin/bash
# daemon-miltertest - protocol-level checks of the trustmilter daemon with
# OpenDKIM's miltertest (Lua scripts speaking the milter protocol over the
# daemon's socket): negotiated steps and actions, header insertion at the
# top, removal of forged Authentication-Results, the reject reply, direction
# from {auth_authen} and {daemon_name}, several messages and an abort on one
# connection, the queue id, a config test (-n) with file and line, the
# refusal to run as root without milter.user, and the pid file's checks.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TM_BUILD:-$SRC/build}
TMP=${TM_TMP:-$(mktemp -d /tmp/tm-test.XXXXXX)}
DNSD=$SRC/tests/lib/dnsd.py

ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
skip_all() { echo "ok - daemon-miltertest # SKIP $1"; exit 0; }
# fail_all - a broken set-up (not a missing tool) is a failure, never a skip.
fail_all() { echo "not ok - $1"; exit 1; }
[ -x "$BUILD/trustmilter" ] || skip_all "no $BUILD/trustmilter"
command -v miltertest >/dev/null || skip_all "needs miltertest"

MPID=
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	/usr/bin/python3 "$DNSD" stop "$TMP/dns" >/dev/null 2>&1
}
trap cleanup EXIT

cat >"$TMP/zones.yaml" <<'EOF'
example.test:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.example.test:
  - TXT: "v=DMARC1; p=reject"
EOF
DNS=$(/usr/bin/python3 "$DNSD" start "$TMP/dns" "$TMP/zones.yaml") || fail_all "dnsd failed"
SOCK=$TMP/tm.sock
cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: { mode = "enforce"; };
milter: {
  socket = "unix:$SOCK";
  user = "root";
  internal_networks = ["127.0.0.0/8", "10.0.0.0/8"];
  outbound_daemons = ["ORIGINATING"];
  drain_seconds = 5;
  log_stderr = "yes";
};
EOF

# Config test: a good file passes, a bad one names file and line.
"$BUILD/trustmilter" -n -c "$TMP/tm.conf" >"$TMP/n.out" 2>&1
ok $? "-n accepts a good file"
printf 'milter: {\n  drain_seconds = "x";\n};\n' >"$TMP/bad.conf"
"$BUILD/trustmilter" -n -c "$TMP/bad.conf" >"$TMP/n2.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "bad.conf:2" "$TMP/n2.out"; ok $? "-n rejects a bad file with file:line"
printf 'milter: { user = "root"; internal_networks = ["10.0.0.0/33"]; };\n' >"$TMP/bad2.conf"
"$BUILD/trustmilter" -n -c "$TMP/bad2.conf" >"$TMP/n3.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "internal_networks" "$TMP/n3.out"; ok $? "-n rejects a bad network"
printf 'milter: { user = "no-such-user-tm"; };\n' >"$TMP/bad3.conf"
"$BUILD/trustmilter" -n -c "$TMP/bad3.conf" >"$TMP/n4.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "no such user" "$TMP/n4.out"; ok $? "-n rejects an unknown milter.user"
"$BUILD/trustmilter" -V | grep -q "^trustmilter [0-9]"; ok $? "-V prints the version"

# Least privilege: started as root with milter.user empty, -n and a start
# refuse with one line; "root" must be said explicitly (the file above).
sed 's/user = "root";/user = "";/' "$TMP/tm.conf" >"$TMP/nouser.conf"
"$BUILD/trustmilter" -n -c "$TMP/nouser.conf" >"$TMP/n5.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'refusing to run as root: milter.user is empty' "$TMP/n5.out"
ok $? "-n refuses an empty milter.user as root"
timeout 10 "$BUILD/trustmilter" -f -c "$TMP/nouser.conf" >"$TMP/nouser.out" 2>&1; rc=$?
[ $rc = 1 ] && [ "$(grep -c 'refusing to run as root' "$TMP/nouser.out")" = 1 ] && [ ! -S "$SOCK" ]
ok $? "start as root with an empty milter.user: refused with one line, no socket"
if ! getent passwd trustmilter >/dev/null; then
	sed '/user = "root";/d' "$TMP/tm.conf" >"$TMP/defuser.conf"
	"$BUILD/trustmilter" -n -c "$TMP/defuser.conf" >"$TMP/n6.out" 2>&1; rc=$?
	[ $rc = 1 ] && grep -q 'milter.user "trustmilter": no such user' "$TMP/n6.out"
	ok $? "default milter.user is trustmilter: a clear error where that user is missing"
	timeout 10 "$BUILD/trustmilter" -f -c "$TMP/defuser.conf" >"$TMP/defuser.out" 2>&1; rc=$?
	[ $rc = 1 ] && grep -q 'no such user' "$TMP/defuser.out"; ok $? "start: missing milter.user is a clear error"
fi

# The pid file is written as root before the privilege drop: a symbolic or
# hard link there, or a directory others can write to, is refused.
mkdir -m 755 "$TMP/run"
echo "precious" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/run/tm.pid"
sed "s|drain_seconds = 5;|drain_seconds = 5; pidfile = \"$TMP/run/tm.pid\";|" "$TMP/tm.conf" >"$TMP/pid.conf"
timeout 10 "$BUILD/trustmilter" -f -c "$TMP/pid.conf" >"$TMP/pid1.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "symbolic link: refused" "$TMP/pid1.out" && [ "$(cat "$TMP/victim")" = precious ]
ok $? "pid file: a symbolic link is refused, its target untouched"
rm -f "$TMP/run/tm.pid"; ln "$TMP/victim" "$TMP/run/tm.pid"
timeout 10 "$BUILD/trustmilter" -f -c "$TMP/pid.conf" >"$TMP/pid2.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "one link: refused" "$TMP/pid2.out" && [ "$(cat "$TMP/victim")" = precious ]
ok $? "pid file: a hard link is refused, its target untouched"
rm -f "$TMP/run/tm.pid"; chmod 1777 "$TMP/run"
timeout 10 "$BUILD/trustmilter" -f -c "$TMP/pid.conf" >"$TMP/pid3.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "writable by others than root" "$TMP/pid3.out" && [ ! -e "$TMP/run/tm.pid" ]
ok $? "pid file: a directory writable by others is refused"
chmod 755 "$TMP/run"

"$BUILD/trustmilter" -f -c "$TMP/tm.conf" >"$TMP/milter.log" 2>&1 &
MPID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ]; ok $? "daemon listens on unix:$SOCK"

# Common Lua: connect, send one message, end of message.
cat >"$TMP/lib.lua" <<'EOF'
function open(ip, helo)
	local conn = mt.connect("unix:" .. SOCK, 20, 0.1)
	if conn == nil then error("cannot connect") end
	if ip ~= nil then
		if mt.conninfo(conn, "client.example", ip) ~= nil then error("conninfo") end
		if mt.helo(conn, helo) ~= nil then error("helo") end
	end
	return conn
end
-- all MAIL macros in one call: a second mt.macro for a step replaces the first
function message(conn, qid, from, hdrs, body, auth)
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	if mt.mailfrom(conn, from) ~= nil then error("mailfrom") end
	if mt.rcptto(conn, "<bob@recipient.test>") ~= nil then error("rcptto") end
	for _, h in ipairs(hdrs) do
		if mt.header(conn, h[1], h[2]) ~= nil then error("header " .. h[1]) end
	end
	if mt.eoh(conn) ~= nil then error("eoh") end
	if mt.bodystring(conn, body) ~= nil then error("body") end
	if mt.eom(conn) ~= nil then error("eom") end
end
GOOD = {
	{"From", " Shop <orders@example.test>"}, {"To", " bob@recipient.test"},
	{"Subject", " order"}, {"Date", " Sun, 22 Nov 2026 09:00:00 +0000"},
	{"Message-ID", " <m1@example.test>"},
}
EOF

# run_lua NAME SCRIPT - one check per script; the script calls error() on failure.
run_lua() {
	local name=$1
	printf 'dofile("%s")\n%s\n' "$TMP/lib.lua" "$2" >"$TMP/$name.lua"
	if miltertest -D SOCK="$SOCK" -s "$TMP/$name.lua" >"$TMP/$name.out" 2>&1; then
		ok 0 "$name"
	else
		ok 1 "$name"; sed 's/^/#   /' "$TMP/$name.out" | head -5
	fi
}

run_lua "negotiation: no-reply steps, leading space, header actions" '
local conn = open(nil)
for _, o in ipairs({SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_DATA,
                    SMFIP_NR_HDR, SMFIP_NR_EOH, SMFIP_NR_BODY, SMFIP_NODATA, SMFIP_NOUNKNOWN,
                    SMFIP_HDR_LEADSPC}) do
	if not mt.test_option(conn, o) then error("option not requested: " .. o) end
end
-- every step the session API takes is sent
for _, o in ipairs({SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT,
                    SMFIP_NOHDRS, SMFIP_NOEOH, SMFIP_NOBODY}) do
	if mt.test_option(conn, o) then error("option requested: " .. o) end
end
for _, a in ipairs({SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE}) do
	if not mt.test_action(conn, a) then error("action not requested: " .. a) end
end
mt.disconnect(conn)'

run_lua "pass: Authentication-Results inserted at index 0" '
local conn = open("192.0.2.20", "mta.example.test")
message(conn, "QPASS1", "<bounce@example.test>", GOOD, "hello\r\n")
if mt.getreply(conn) ~= SMFIR_CONTINUE and mt.getreply(conn) ~= SMFIR_ACCEPT then error("not accepted") end
local v = mt.getheader(conn, "Authentication-Results", 0)
if v == nil then error("no Authentication-Results") end
if string.find(v, "^ mx.recipient.test;") == nil then error("value: " .. v) end
if string.find(v, "dmarc=pass") == nil then error("no dmarc=pass: " .. v) end
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results", v, 0) then error("not at index 0") end
mt.disconnect(conn)'

run_lua "forged Authentication-Results removed" '
local conn = open("192.0.2.20", "mta.example.test")
local h = {{"Authentication-Results", " mx.recipient.test; dmarc=pass"}}
for _, x in ipairs(GOOD) do table.insert(h, x) end
message(conn, "QFORGE1", "<bounce@example.test>", h, "hello\r\n")
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then error("not deleted") end
mt.disconnect(conn)'

run_lua "dmarc reject: 550 reply with enhanced code" '
local conn = open("198.51.100.7", "unknown.invalid")
local h = {{"From", " Bank <security@example.test>"}, {"To", " bob@recipient.test"},
	{"Subject", " verify"}, {"Date", " Sun, 22 Nov 2026 09:20:00 +0000"},
	{"Message-ID", " <x1@spoof.invalid>"}}
message(conn, "QREJ1", "<security@example.test>", h, "log in\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("no reply code") end
-- (miltertest 2.11 matches MT_SMTPREPLY reliably only with all three parameters)
if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "Message rejected by sender policy") then
	error("not 550 5.7.1 with policy.reject_reply")
end
mt.disconnect(conn)'

run_lua "direction: {auth_authen} makes it outbound" '
local conn = open("198.51.100.8", "laptop")
message(conn, "QAUTH1", "<alice@example.test>", GOOD, "hi\r\n", "alice")
mt.disconnect(conn)'

run_lua "direction: {daemon_name} in outbound_daemons" '
local conn = mt.connect("unix:" .. SOCK, 20, 0.1)
mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "ORIGINATING")
if mt.conninfo(conn, "app.example", "198.51.100.9") ~= nil then error("conninfo") end
if mt.helo(conn, "app") ~= nil then error("helo") end
message(conn, "QDAEMON1", "<app@example.test>", GOOD, "hi\r\n")
mt.disconnect(conn)'

run_lua "two messages and an abort on one connection" '
local conn = open("192.0.2.20", "mta.example.test")
mt.macro(conn, SMFIC_MAIL, "i", "QABORT1")
if mt.mailfrom(conn, "<bounce@example.test>") ~= nil then error("mailfrom") end
if mt.header(conn, "From", " x@example.test") ~= nil then error("header") end
if mt.abort(conn) ~= nil then error("abort") end
message(conn, "QMULTI1", "<bounce@example.test>", GOOD, "one\r\n")
if mt.getheader(conn, "Authentication-Results", 0) == nil then error("first: no header") end
message(conn, "QMULTI2", "<bounce@example.test>", GOOD, "two\r\n")
if mt.getheader(conn, "Authentication-Results", 0) == nil then error("second: no header") end
mt.disconnect(conn)'

sleep 0.3
grep -q "QAUTH1: dir=outbound dir_reason=smtp_auth" "$TMP/milter.log"; ok $? "log: auth direction and queue id"
grep -q "QDAEMON1: dir=outbound dir_reason=daemon_name" "$TMP/milter.log"; ok $? "log: daemon_name direction"
grep -q "QPASS1: dir=inbound dir_reason=external client=192.0.2.20" "$TMP/milter.log"; ok $? "log: inbound, client from the connect argument"
grep -q "QMULTI2: " "$TMP/milter.log"; ok $? "log: second message on the connection"
[ "$(grep -c 'QABORT1' "$TMP/milter.log")" = 0 ]; ok $? "log: aborted message not logged as a verdict"

kill -TERM "$MPID"; wait "$MPID"; rc=$?; MPID=
ok $rc "SIGTERM: clean exit"
[ ! -S "$SOCK" ]; ok $? "SIGTERM: socket removed"

# Timeouts (milter.timeout = 2, milter.idle_timeout = 4): silence between
# commands longer than milter.timeout is allowed (Postfix keeps the milter
# connection for the whole SMTP session) up to milter.idle_timeout; a
# command whose first bytes came must be complete within milter.timeout of
# its first byte, even when more bytes keep arriving.
sed 's/drain_seconds = 5;/drain_seconds = 5; timeout = 2; idle_timeout = 4;/' "$TMP/tm.conf" >"$TMP/tm-t.conf"
"$BUILD/trustmilter" -f -c "$TMP/tm-t.conf" >"$TMP/milter-t.log" 2>&1 &
MPID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
cat >"$TMP/mc.py" <<'PY'
import socket, struct, sys, time
def optneg():
    return struct.pack(">IcIII", 13, b"O", 6, 0x1ff, 0x1fffff)
def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    return s
def negotiated(path):
    s = connect(path)
    s.sendall(optneg())
    r = s.recv(4096)
    return s if r[4:5] == b"O" else None
def closed_after(s):
    """seconds until the daemon closes s (None if it sends data or never closes)"""
    t0 = time.time()
    try:
        return time.time() - t0 if s.recv(4096) == b"" else None
    except (socket.timeout, ConnectionResetError):
        return None
PY
/usr/bin/python3 - "$SOCK" "$TMP" <<'PY' >"$TMP/timeouts.out" 2>&1
import socket, sys, time
sys.path.insert(0, sys.argv[2])
from mc import *
path = sys.argv[1]
# idle within the limit: negotiate, stay silent for 3 s (> timeout), negotiate again
s = negotiated(path)
time.sleep(3)
s.sendall(optneg())
again = s.recv(4096)
print("idle:", "ok" if again[4:5] == b"O" else "closed")
s.close()
# idle past the limit: closed after idle_timeout (4 s) of silence
s = negotiated(path)
t = closed_after(s)
print("idle-limit:", "closed" if t is not None and 3.5 <= t < 6.5 else "open %r" % t)
# partial: 3 bytes of a length field, then nothing: the daemon closes
s = negotiated(path)
s.sendall(b"\0\0\0")
t = closed_after(s)
print("partial:", "closed" if t is not None and t < 4 else "open")
# trickle: a 40-byte HELO one byte every 0.25 s: cut 2 s after its first byte
s = negotiated(path)
pkt = struct.pack(">Ic", 36, b"H") + b"h" * 34 + b"\0"
t0 = time.time()
cut = None
for b in pkt:
    try:
        s.send(bytes([b]))
    except OSError:
        cut = time.time() - t0
        break
    s.settimeout(0.25)
    try:
        if s.recv(4096) == b"":
            cut = time.time() - t0
            break
    except socket.timeout:
        pass
print("trickle:", "cut" if cut is not None and 1.8 <= cut < 4 else "not cut %r" % cut)
PY
grep -q "^idle: ok" "$TMP/timeouts.out"; ok $? "timeout: silence between commands longer than milter.timeout keeps the connection"
grep -q "^idle-limit: closed" "$TMP/timeouts.out"; ok $? "idle_timeout: a connection silent for milter.idle_timeout is closed"
grep -q "the MTA was silent for milter.idle_timeout (4 s)" "$TMP/milter-t.log"; ok $? "idle_timeout: logged"
grep -q "^partial: closed" "$TMP/timeouts.out"; ok $? "timeout: a partly received command is cut after milter.timeout"
grep -q "^trickle: cut" "$TMP/timeouts.out"; ok $? "timeout: a command trickled a byte at a time is cut milter.timeout after its first byte"
grep -q "a command did not arrive whole within milter.timeout (2 s)" "$TMP/milter-t.log"; ok $? "timeout: logged"
grep -v "^ok - " "$TMP/timeouts.out" | grep -v "^[a-z-]*: \(ok\|closed\|cut\)$" | sed 's/^/#   /'
kill -TERM "$MPID"; wait "$MPID"; MPID=

# milter.max_connections = 3: a fourth connection is closed at once with one
# log line (not one per refusal); once one closes a new one is served; a good
# client gets its verdict while the other places are held by slow clients.
sed 's/drain_seconds = 5;/drain_seconds = 5; max_connections = 3;/' "$TMP/tm.conf" >"$TMP/tm-c.conf"
"$BUILD/trustmilter" -f -c "$TMP/tm-c.conf" >"$TMP/milter-c.log" 2>&1 &
MPID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
/usr/bin/python3 - "$SOCK" "$TMP" <<'PY' >"$TMP/cap.out" 2>&1
import socket, sys, time
sys.path.insert(0, sys.argv[2])
from mc import *
path = sys.argv[1]
held = [negotiated(path) for _ in range(3)]
print("held:", "ok" if all(held) else "failed")
refused = 0
for _ in range(5):
    s = connect(path)
    try:
        s.sendall(optneg())
        r = s.recv(4096)
    except OSError:
        r = b""
    refused += r == b""
    s.close()
print("refused:", refused)
held.pop().close()
time.sleep(0.5)
s = negotiated(path)
print("after-close:", "served" if s else "refused")
s.close()
PY
grep -q "^held: ok" "$TMP/cap.out" && grep -q "^refused: 5" "$TMP/cap.out"; ok $? "max_connections: connections past the cap are closed at once"
[ "$(grep -c "milter.max_connections (3) reached: 1 new connection(s) refused" "$TMP/milter-c.log")" = 1 ] &&
	[ "$(grep -c "max_connections" "$TMP/milter-c.log")" = 1 ]; ok $? "max_connections: one log line for five refusals"
grep -q "^after-close: served" "$TMP/cap.out"; ok $? "max_connections: after one closes a new one is served"
grep -v "^ok - " "$TMP/cap.out" | grep -v "^\(held: ok\|refused: 5\|after-close: served\)$" | sed 's/^/#   /'
# two slow clients trickle commands (one mid-message), the third place is free
/usr/bin/python3 - "$SOCK" "$TMP" <<'PY' >"$TMP/slow.out" 2>&1 &
import socket, struct, sys, time
sys.path.insert(0, sys.argv[2])
from mc import *
path = sys.argv[1]
conns = [negotiated(path) for _ in range(2)]
pkt = struct.pack(">Ic", 200, b"B") + b"x" * 199
for i in range(len(pkt)):
    for s in conns:
        s.send(pkt[i:i + 1])
    if i == 20:
        open(sys.argv[2] + "/slow.ready", "w").close()
    time.sleep(0.05)
PY
SLOW=$!
for i in $(seq 1 100); do [ -e "$TMP/slow.ready" ] && break; sleep 0.1; done
run_lua "max_connections: a good client gets its verdict while slow clients hold the other places" '
local conn = open("192.0.2.20", "mta.example.test")
message(conn, "QSLOW1", "<bounce@example.test>", GOOD, "hello\r\n")
if mt.getreply(conn) ~= SMFIR_CONTINUE and mt.getreply(conn) ~= SMFIR_ACCEPT then error("no verdict") end
mt.disconnect(conn)'
kill "$SLOW" 2>/dev/null; wait "$SLOW" 2>/dev/null
kill -TERM "$MPID"; wait "$MPID"; MPID=
grep -q "milter.max_connections (3) reached: 4 new connection(s) refused" "$TMP/milter-c.log"; ok $? "max_connections: refusals not yet logged are logged at stop"

# milter.log_stderr: "yes" (every run above) copies each line to standard
# error; "no" keeps standard error for start-up errors only.
sed 's/log_stderr = "yes";/log_stderr = "no";/' "$TMP/tm.conf" >"$TMP/tm-q.conf"
"$BUILD/trustmilter" -f -c "$TMP/tm-q.conf" >"$TMP/milter-q.log" 2>&1 &
MPID=$!
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
run_lua "log_stderr no: a message is still evaluated" '
local conn = open("192.0.2.20", "mta.example.test")
message(conn, "QQUIET1", "<bounce@example.test>", GOOD, "Hello.\r\n")
if mt.getreply(conn) ~= SMFIR_CONTINUE and mt.getreply(conn) ~= SMFIR_ACCEPT then error("reply") end
mt.disconnect(conn)'
kill -TERM "$MPID"; wait "$MPID"; MPID=
[ "$(grep -c 'QQUIET1' "$TMP/milter-q.log")" = 0 ]; ok $? "log_stderr no: no log line on standard error"
grep -q 'QPASS1: dir=inbound' "$TMP/milter.log"; ok $? "log_stderr yes: the per-message line on standard error"
exit 0
