#!/bin/bash
# daemon-postfix - the trustmilter daemon behind a real, private Postfix:
# annotation, removal of forged Authentication-Results, DMARC reject with the
# configured reply, junk (X-Spam-Flag) and quarantine (hold queue) in enforce
# mode, outbound direction, reload (good and bad file) with dry-run, the
# shipped monitor mode (a p=reject failure is delivered, the decision shown),
# SIGTERM with messages in flight (none lost), daemon mode with pid file and
# the privilege drop, and a dead DNS server (tempfail or annotation, never a
# reject).
# Messages are signed by python3-dkim (tests/lib/fixture.py); DNS is a real
# unbound on loopback (tests/lib/dnsd.py).
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
# the daemon started in daemon mode (milter.pidfile)
test_cleanup() { [ -f "$TMP/tm.pid" ] && kill "$(cat "$TMP/tm.pid")" 2>/dev/null; }

# The sample world: keys, signed messages, zones; plus names that time out.
pf_test_fixture
printf 'slow.test:\n  - TIMEOUT\n_dmarc.slow.test:\n  - TIMEOUT\n' >>"$TMP/fx/zones.yaml"
printf 'q.test:\n  - TXT: "v=spf1 -all"\n_dmarc.q.test:\n  - TXT: "v=DMARC1; p=quarantine"\n' >>"$TMP/fx/zones.yaml"
pf_test_dns "$TMP/fx/zones.yaml"

# Under the sanitizers the daemon stays root: LeakSanitizer cannot inspect a
# process that changed its uid (it is no longer dumpable).
pf_test_userconf

# write_conf AUTHSERV DRYRUN [MODE [POLICY_LINES]] - the daemon's configuration;
# MODE "enforce" or "monitor" sets policy.mode ("-" or none: the default, monitor).
write_conf() {
	local mode=""
	[ -n "${3:-}" ] && [ "$3" != - ] && mode="mode = \"$3\";"
	cat >"$TMP/tm.conf.new" <<EOF
authserv_id = "$1";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: { dry_run = $2; $mode ${4:-} };
$(pf_test_milter_conf "pidfile = \"$TMP/tm.pid\";" "drain_seconds = 20;")
EOF
	chmod 644 "$TMP/tm.conf.new"
	mv "$TMP/tm.conf.new" "$TMP/tm.conf"
}


# wait_reloads N - wait up to 5 s until the daemon logged its Nth reload.
wait_reloads() {
	local i
	for i in $(seq 1 50); do
		[ "$(grep -c 'reloaded configuration' "$TMP/milter.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# send NAME FILE IP HELO MAILFROM - one message through Postfix; output in $TMP/NAME.out.
send() {
	local name=$1 file=$2 ip=$3 helo=$4 mf=$5 x=()
	[ "$ip" != - ] && x=(--xclient "ADDR=$ip NAME=[UNAVAILABLE]")
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo "$helo" --from "$mf" --to bob@recipient.test \
		"${x[@]}" --data "$file" --timeout 60 >"$TMP/$name.out" 2>&1
}

write_conf mx.recipient.test false enforce
pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon start"

M=$TMP/fx/msgs
# 1. inbound, SPF+DKIM+DMARC pass: annotated at the top, delivered.
send pass "$M/transactional.eml" 192.0.2.20 mta.example.test bounce@example.test
check "inbound pass: 250" [ "$(smtp_code pass)" = 250 ]
pf_wait_delivered 1
f=$(delivered_with "order-1042@example.test")
first=$(pf_message_headers "$f" | head -1)
check "inbound pass: our Authentication-Results is the first field" \
	[ "${first#Authentication-Results: mx.recipient.test;}" != "$first" ]
check "inbound pass: dmarc=pass in it" grep -q "dmarc=pass" "$f"
check "inbound pass: compliance header added" grep -q "^X-Trustmilter: " "$f"
check "log: one line with dir=inbound" wait_log "dir=inbound.*client=192.0.2.20"

# 1b. a HELO with spaces (Postfix passes the joined arguments on) cannot add
# keys to the log line: the value is quoted, so there is exactly one spf=.
# (a spoofed message, refused, so the delivery counts below stay as they are)
sed 's/x1@spoof/helo1@spoof/' "$M/spoofed.eml" >"$TMP/helo.eml"
send helo "$TMP/helo.eml" 198.51.100.7 'x spf=pass dkim=pass/evil' security@example.test
check "log injection: refused as before (550)" [ "$(smtp_code helo)" = 550 ]
check "log injection: the HELO is logged quoted" wait_log 'helo="x spf=pass dkim=pass/evil"'
line=$(grep 'helo="x spf=pass' "$TMP/milter.log" | tail -1)
unq=$(printf '%s' "$line" | sed -E 's/"([^"\\]|\\.)*"/Q/g')
check "log injection: exactly one spf= key in the line" [ "$(printf '%s' "$unq" | grep -o ' spf=' | wc -l)" = 1 ]
check "log injection: exactly one dkim= key in the line" [ "$(printf '%s' "$unq" | grep -o ' dkim=' | wc -l)" = 1 ]
check "log injection: the real SPF result is fail" grep -q 'helo="x spf=pass dkim=pass/evil".* spf=fail ' <<<"$line"

# 2. forged Authentication-Results with our authserv-id is removed, others kept.
{ printf 'Authentication-Results: mx.recipient.test; dmarc=pass header.from=example.test (FORGED)\r\n'
  printf 'Authentication-Results: other.example; spf=pass (FOREIGN)\r\n'
  sed 's/order-1042@/order-1043@/' "$M/transactional.eml"; } >"$TMP/forged.eml"
send forged "$TMP/forged.eml" 192.0.2.20 mta.example.test bounce@example.test
pf_wait_delivered 2
f=$(delivered_with "order-1043@example.test")
check "forged AR: delivered" [ -n "$f" ]
check "forged AR: removed" not grep -q "FORGED" "$f"
check "forged AR: foreign authserv-id kept" grep -q "FOREIGN" "$f"
check "forged AR: exactly one of ours" [ "$(grep -c '^Authentication-Results: mx.recipient.test' "$f")" = 1 ]

# 3. DMARC p=reject failure: the configured 5xx reaches the client.
send spoof "$M/spoofed.eml" 198.51.100.7 unknown.invalid security@example.test
check "dmarc reject: 550 at end of data" [ "$(smtp_code spoof)" = 550 ]
check "dmarc reject: reply text from policy.reject_reply" grep -q "5.7.1" "$TMP/spoof.out"
check "dmarc reject: not delivered" not delivered_with "x1@spoof.invalid"
check "dmarc reject: logged with action=reject" wait_log "action=reject"

# 3b. DMARC p=quarantine failure under the default enforce rules
# (dmarc.disposition.quarantine=junk): delivered, flagged for the Junk folder.
sed -e 's/security@example.test/news@q.test/' -e 's/x1@spoof/j1@spoof/' "$M/spoofed.eml" >"$TMP/j.eml"
send junk "$TMP/j.eml" 198.51.100.7 unknown.invalid news@q.test
check "dmarc junk: 250 to the client" [ "$(smtp_code junk)" = 250 ]
pf_wait_delivered 3
f=$(delivered_with "j1@spoof.invalid")
check "dmarc junk: delivered" [ -n "$f" ]
check "dmarc junk: X-Spam-Flag: YES in the delivered copy" grep -q "^X-Spam-Flag: YES" "$f"
check "dmarc junk: compliance header says action=junk" grep -q "^X-Trustmilter: v=1; dir=inbound; action=junk;" "$f"
check "dmarc junk: dmarc=fail annotated" grep -q "dmarc=fail" "$f"
check "dmarc junk: logged with action=junk" wait_log "action=junk reason=\"dmarc.disposition.quarantine\""
check "dmarc junk: not held" [ "$(find "$TMP/pf/spool/hold" -type f 2>/dev/null | wc -l)" = 0 ]
f=$(delivered_with "order-1042@example.test")
check "pass: no X-Spam-Flag" not grep -q "^X-Spam-Flag" "$f"

# 3c. quarantine: a rule that holds (dmarc.disposition.quarantine=quarantine):
# accepted, then held by Postfix (smfi_quarantine) until postsuper -H.
write_conf mx.recipient.test false enforce \
	'inbound: { actions = ["dmarc.disposition.reject=reject", "dmarc.disposition.quarantine=quarantine"]; };'
kill -USR1 "$MPID"
wait_reloads 1
sed -e 's/security@example.test/news@q.test/' -e 's/x1@spoof/q1@spoof/' "$M/spoofed.eml" >"$TMP/q.eml"
send quar "$TMP/q.eml" 198.51.100.7 unknown.invalid news@q.test
check "dmarc quarantine: 250 to the client" [ "$(smtp_code quar)" = 250 ]
sleep 0.5
check "dmarc quarantine: message is in Postfix's hold queue" \
	[ "$(find "$TMP/pf/spool/hold" -type f 2>/dev/null | wc -l)" -ge 1 ]
check "dmarc quarantine: not delivered" not delivered_with "q1@spoof.invalid"
n0=$(pf_count)
postsuper -c "$TMP/pf/etc" -H ALL >/dev/null 2>&1
postqueue -c "$TMP/pf/etc" -f >/dev/null 2>&1
pf_wait_delivered $((n0 + 1))
check "dmarc quarantine: postsuper -H releases it for delivery" delivered_with "q1@spoof.invalid"

# 4. from an internal network (no XCLIENT: 127.0.0.1) the message is outbound.
sed 's/order-1042@/order-1044@/' "$M/transactional.eml" >"$TMP/out.eml"
send outbound "$TMP/out.eml" - mta.example.test bounce@example.test
check "outbound: 250" [ "$(smtp_code outbound)" = 250 ]
check "outbound: direction from internal_networks" wait_log "dir=outbound dir_reason=internal_network"

# 5. SIGUSR1 with a good file: new authserv-id and dry-run take effect
# (policy.dry_run, the older name of monitor mode, wins over enforce).
write_conf mx2.recipient.test true enforce
kill -USR1 "$MPID"
check "reload: logged" wait_reloads 2
sed 's/x1@spoof/x2@spoof/' "$M/spoofed.eml" >"$TMP/spoof2.eml"
c=$(pf_count)
send dry "$TMP/spoof2.eml" 198.51.100.7 unknown.invalid security@example.test
check "dry-run: 250 instead of 550" [ "$(smtp_code dry)" = 250 ]
pf_wait_delivered $((c + 1))
f=$(delivered_with "x2@spoof.invalid")
check "dry-run: annotated with the new authserv-id" grep -q "^Authentication-Results: mx2.recipient.test" "$f"
check "dry-run: dmarc=fail annotated" grep -q "dmarc=fail" "$f"
check "dry-run: logged as decided reject" wait_log "action=reject mode=monitor"

# 5b. the shipped default, monitor mode (no policy.mode, no dry_run): the
# p=reject failure is delivered with dmarc=fail, the decided action in the
# compliance header and the log, and nothing flags it as junk.
write_conf mx3.recipient.test false
kill -USR1 "$MPID"
wait_reloads 3
sed 's/x1@spoof/m1@spoof/' "$M/spoofed.eml" >"$TMP/mon.eml"
c=$(pf_count)
send mon "$TMP/mon.eml" 198.51.100.7 unknown.invalid security@example.test
check "monitor: 250 instead of 550" [ "$(smtp_code mon)" = 250 ]
pf_wait_delivered $((c + 1))
f=$(delivered_with "m1@spoof.invalid")
check "monitor: delivered" [ -n "$f" ]
check "monitor: annotated by the new configuration" grep -q "^Authentication-Results: mx3.recipient.test" "$f"
check "monitor: dmarc=fail annotated" grep -q "dmarc=fail" "$f"
check "monitor: decided action in the compliance header" \
	grep -q "^X-Trustmilter: v=1; dir=inbound; action=reject; mode=monitor;" "$f"
check "monitor: no X-Spam-Flag" not grep -q "^X-Spam-Flag" "$f"
check "monitor: logged with the decision and the mode" \
	wait_log "dmarc=fail policy=reject .*action=reject mode=monitor reason=\"dmarc.disposition.reject\""
sed -e 's/security@example.test/news@q.test/' -e 's/x1@spoof/m2@spoof/' "$M/spoofed.eml" >"$TMP/mon2.eml"
c=$(pf_count)
send mon2 "$TMP/mon2.eml" 198.51.100.7 unknown.invalid news@q.test
pf_wait_delivered $((c + 1))
f=$(delivered_with "m2@spoof.invalid")
check "monitor: p=quarantine failure delivered without X-Spam-Flag" \
	eval '[ -n "$f" ] && ! grep -q "^X-Spam-Flag" "$f" && grep -q "action=junk; mode=monitor;" "$f"'
check "monitor: nothing held" [ "$(find "$TMP/pf/spool/hold" -type f 2>/dev/null | wc -l)" = 0 ]

# 6. SIGUSR1 with a bad file: the running configuration stays.
printf 'authserv_id = "broken";\npolicy: { dry_run = maybe; };\n' >"$TMP/tm.conf"
kill -USR1 "$MPID"
check "bad reload: logged with the reason" wait_log "reload failed, keeping"
sed 's/x1@spoof/x3@spoof/' "$M/spoofed.eml" >"$TMP/spoof3.eml"
c=$(pf_count)
send dry2 "$TMP/spoof3.eml" 198.51.100.7 unknown.invalid security@example.test
check "bad reload: old config still in force (monitor: 250)" [ "$(smtp_code dry2)" = 250 ]
pf_wait_delivered $((c + 1))
f=$(delivered_with "x3@spoof.invalid")
check "bad reload: old authserv-id still used" grep -q "^Authentication-Results: mx3.recipient.test" "$f"
write_conf mx2.recipient.test true enforce

# 7. SIGTERM while messages are in flight (their DNS takes 1.5 s per lookup):
# every message ends delivered or deferred to the client, none is lost.
n0=$(pf_count)
pids=()
for i in 1 2 3; do
	sed -e "s/order-1042@/slow-$i@/" -e "s/orders@example.test/news@slow.test/" "$M/transactional.eml" >"$TMP/slow$i.eml"
	send "slow$i" "$TMP/slow$i.eml" 192.0.2.30 mta.slow.test "b@slow.test" &
	pids+=($!)
done
# SIGTERM once all three are at end of data: Postfix's cleanup has logged
# their Message-IDs (the bodies are tiny) and the milter is doing its DNS work.
for i in $(seq 1 100); do
	[ "$(grep -c 'message-id=<slow-' "$PF_LOG")" -ge 3 ] && break
	sleep 0.1
done
sleep 0.3
kill -TERM "$MPID"
for p in "${pids[@]}"; do wait "$p"; done
wait "$MPID"; rc=$?
MPID=
check "sigterm: daemon exits 0 after the drain" [ "$rc" = 0 ]
check "sigterm: drain logged" grep -q "draining" "$TMP/milter.log"
accepted=0; lost=0
for i in 1 2 3; do
	c=$(smtp_code "slow$i")
	case "$c" in
	250) accepted=$((accepted + 1)); pf_wait_delivered $((n0 + accepted)) 10 || lost=$((lost + 1));;
	4??) ;;
	*) lost=$((lost + 1));;
	esac
done
check "sigterm: no message lost (each 250 and delivered, or 4xx)" [ "$lost" = 0 ]
check "sigterm: in-flight messages finished with 250" [ "$accepted" = 3 ]
check "sigterm: drain ended before its deadline" not grep -q "still running" "$TMP/milter.log"
send down "$M/transactional.eml" 192.0.2.20 mta.example.test bounce@example.test
check "milter down: Postfix tempfails (milter_default_action)" [ "$(smtp_code down)" = 451 ]

# 8. daemon mode: the parent returns once the daemon is ready; pid file.
write_conf mx.recipient.test false enforce
"$BUILD/trustmilter" -c "$TMP/tm.conf"; rc=$?
check "daemon mode: start returns 0" [ "$rc" = 0 ]
check "daemon mode: pid file names a live process" kill -0 "$(cat "$TMP/tm.pid" 2>/dev/null)"
"$BUILD/trustmilter" -c "$TMP/tm.conf" 2>"$TMP/second.err"; rc=$?
check "daemon mode: a second instance refuses the live socket" [ "$rc" != 0 ]
if [ "${TM_SAN:-0}" != 1 ]; then
	check "daemon mode: runs as milter.user" [ "$(ps -o user= -p "$(cat "$TMP/tm.pid")")" = nobody ]
	u=$(id -u nobody)
	check "daemon mode: /proc Uid (real, effective, saved, fs) all milter.user's" \
		grep -qE "^Uid:[[:space:]]+$u[[:space:]]+$u[[:space:]]+$u[[:space:]]+$u\$" "/proc/$(cat "$TMP/tm.pid")/status"
	g=$(id -g nobody)
	check "daemon mode: /proc Gid all milter.user's group" \
		grep -qE "^Gid:[[:space:]]+$g[[:space:]]+$g[[:space:]]+$g[[:space:]]+$g\$" "/proc/$(cat "$TMP/tm.pid")/status"
fi

# 9. DNS server gone: a temporary error, or an annotation, never a reject.
/usr/bin/python3 "$DNSD" stop "$TMP/dns" >/dev/null 2>&1
sed 's/order-1042@/order-1045@/' "$M/transactional.eml" >"$TMP/nodns.eml"
send nodns "$TMP/nodns.eml" 192.0.2.20 mta.example.test bounce@example.test
c=$(smtp_code nodns)
case "$c" in 250|4??) r=0;; *) r=1;; esac
ok $r "dns down: 250 or 4xx, never 5xx (got $c)"
check "dns down: daemon still running" kill -0 "$(cat "$TMP/tm.pid")"

pid=$(cat "$TMP/tm.pid")
kill -TERM "$pid"
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "daemon mode: SIGTERM stops it" not kill -0 "$pid" 2>/dev/null
exit 0
