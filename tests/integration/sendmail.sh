#!/bin/bash
# sendmail - the trustmilter daemon behind a real Sendmail 8.17 (Debian's
# sendmail-bin, in a chroot made by the Sendmail harness, since it conflicts
# with Postfix as a package), over an inet and a unix socket. Sendmail's
# milter configuration is contrib/sendmail.mc.snippet: the INPUT_MAIL_FILTER
# flags and timeouts and any macro lists are read from it, and the milter
# lines of the generated sendmail.cf are compared with the snippet run
# through m4. The snippet sets no macro lists, so these passes run with
# Sendmail's stock lists (trustmilter asks for its macros itself).
# Checks: inbound pass (our Authentication-Results in the copy the sink
# received), forged Authentication-Results removed, a DMARC p=reject failure
# rejected with our 5xx (a '%' in it intact), p=quarantine held in
# Sendmail's quarantine, header and body bytes (simple/simple DKIM, 300 KB),
# three transactions in one session, outbound by SMTP AUTH ({auth_authen})
# and by a named daemon ({daemon_name}), STARTTLS in the log
# ({tls_version}), the queue id (i) in the log, and F=T: a tempfail while the
# milter is down. A last pass with long macro lists at every stage (as set
# for other milters). DNS is a real unbound on loopback (tests/lib/dnsd.py);
# messages are signed by python3-dkim.
#
# Needs root, swaks, smtp-sink, debootstrap (when the base root is missing)
# and the harness: TM_SENDMAIL_HARNESS, default ../shared/tools/sendmail-harness
# beside the source tree. The harness uses fixed ports (2587, 2588, 2626) and
# /var/tmp/sendmail-root; this test is its only user.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TM_BUILD:-$SRC/build}
TMP=${TM_TMP:-$(mktemp -d /tmp/tm-test.XXXXXX)}
DNSD=$SRC/tests/lib/dnsd.py
HARNESS=${TM_SENDMAIL_HARNESS:-$SRC/../shared/tools/sendmail-harness}
SNIPPET=$SRC/contrib/sendmail.mc.snippet
export SM_STATE=${SM_STATE:-/var/tmp/sendmail-harness}
export SM_BASE=${SM_BASE:-/var/tmp/fresh/bookworm}
FRESH=$(dirname "$SM_BASE")
MSA_PORT=2588
. "$SRC/tests/lib/postfix.sh"      # pf_free_port

ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; shift 2; [ $# -gt 0 ] && echo "$*" | head -20 | sed 's/^/#   /'; fi; }
check() { local name=$1; shift; if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi; }
not() { ! "$@"; }
skip_all() { echo "ok - sendmail # SKIP $1"; exit 0; }
# fail_all - a broken set-up (not a missing tool) is a failure, never a skip.
fail_all() { echo "not ok - $1"; exit 1; }

[ -x "$BUILD/trustmilter" ] || skip_all "no $BUILD/trustmilter"
[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$HARNESS/setup.sh" ] || skip_all "no Sendmail harness at $HARNESS"
command -v swaks >/dev/null && command -v smtp-sink >/dev/null || skip_all "needs swaks and smtp-sink"
# The ASan pass would repeat the whole Sendmail run (a minute) for the one
# daemon binary; the protocol layer runs under the sanitizers in test_mproto,
# fuzz_milter and daemon-postfix. TM_SENDMAIL_SAN=1 runs it anyway.
if [ "${TM_SAN:-0}" = 1 ] && [ "${TM_SENDMAIL_SAN:-0}" != 1 ]; then exit 0; fi

# ensure_base - the pristine Debian 12 root the harness copies. Made once,
# atomically (debootstrap into a temporary directory, then mv), and marked
# with $FRESH/.ready; a root being made by someone else is waited for (up to
# 15 minutes). A root made in place by fresh-machine-check.sh counts as ready
# once its debootstrap log says so.
base_ready() {
	[ -x "$SM_BASE/bin/sh" ] || return 1
	[ -f "$FRESH/.ready" ] || grep -q "Base system installed successfully" "$FRESH/debootstrap.log" 2>/dev/null
}
ensure_base() {
	base_ready && return 0
	local i t
	if ls -d "$FRESH"/bookworm.tmp* >/dev/null 2>&1 || [ -d "$SM_BASE" ]; then
		for i in $(seq 1 900); do
			base_ready && return 0
			sleep 1
		done
		return 1
	fi
	command -v debootstrap >/dev/null || return 1
	mkdir -p "$FRESH"
	t=$(mktemp -d "$FRESH/bookworm.tmp.XXXXXX") || return 1
	chmod 755 "$t"      # the root directory of the root (mktemp makes it 0700)
	if ! debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$t" \
		>"$FRESH/debootstrap.log" 2>&1; then
		rm -rf --one-file-system "$t"
		return 1
	fi
	if [ -d "$SM_BASE" ]; then rm -rf --one-file-system "$t"; else mv "$t" "$SM_BASE"; fi
	touch "$FRESH/.ready"
}
ensure_base || skip_all "no base root $SM_BASE (debootstrap failed or is missing; see $FRESH/debootstrap.log)"

MPID=
stop_milter() {
	[ -n "$MPID" ] || return 0
	kill "$MPID" 2>/dev/null
	wait "$MPID" 2>/dev/null
	MPID=
}
# Sendmail queues mail instead of delivering it, and then refuses
# connections, when the load average passes 8 and 12 per CPU (QueueLA,
# RefuseLA); on a busy test machine that happens. Its /proc/loadavg is
# pinned to zero while it runs (a file bound over it, as lxcfs does).
SMROOT=${SM_ROOT:-/var/tmp/sendmail-root}
pin_load() {
	printf '0.00 0.00 0.00 1/100 1\n' >"$TMP/loadavg"
	mount --bind "$TMP/loadavg" "$SMROOT/proc/loadavg"
}
unpin_load() {
	while grep -q " $SMROOT/proc/loadavg " /proc/self/mounts; do
		umount "$SMROOT/proc/loadavg" || return 1
	done
}
cleanup() {
	stop_milter
	unpin_load
	"$HARNESS/stop.sh" >>"$TMP/harness.log" 2>&1
	/usr/bin/python3 "$DNSD" stop "$TMP/dns" >/dev/null 2>&1
}
trap cleanup EXIT
unpin_load
"$HARNESS/stop.sh" >"$TMP/harness.log" 2>&1     # whatever an interrupted run left
"$HARNESS/setup.sh" none >>"$TMP/harness.log" 2>&1 ||
	{ ok 1 "harness setup.sh" "$(tail -20 "$TMP/harness.log")"; exit 1; }

# The milter configuration from the snippet: the first active
# INPUT_MAIL_FILTER line (flags, timeouts) and the macro lists it defines;
# stages it does not define keep Sendmail's defaults.
FLINE=$(grep -m1 '^INPUT_MAIL_FILTER(' "$SNIPPET")
export SM_MILTER_FLAGS SM_MILTER_TIMEOUTS
SM_MILTER_FLAGS=$(printf '%s\n' "$FLINE" | sed -n -E 's/.*[`, ]F=([A-Za-z0-9]+).*/\1/p')
SM_MILTER_TIMEOUTS=$(printf '%s\n' "$FLINE" | sed -n -E 's/.*[`, ]T=([^,'"'"']+).*/\1/p')
snippet_macros() {
	local st v
	for st in CONNECT HELO ENVFROM ENVRCPT DATA EOH EOM; do
		v=$(sed -n -E "s/^define\(\`confMILTER_MACROS_$st', \`(.*)'\)dnl\$/\1/p" "$SNIPPET")
		export "SM_MACROS_$st=${v:-default}"
	done
}
# other_macros - the harness's own lists, a superset of Sendmail's and
# Postfix's defaults (as set for other milters; i at every stage).
other_macros() {
	local st
	for st in CONNECT HELO ENVFROM ENVRCPT DATA EOH EOM; do unset "SM_MACROS_$st"; done
}
check "snippet: one active INPUT_MAIL_FILTER with F= and T=" \
	[ -n "$SM_MILTER_FLAGS" ] && [ -n "$SM_MILTER_TIMEOUTS" ]

# The sample world: keys, DKIM-signed messages, zones.
/usr/bin/python3 -c "import sys; sys.path.insert(0, '$SRC/tests/lib'); import fixture; fixture.build('$TMP/fx')" \
	>/dev/null 2>&1 || fail_all "fixture build failed"
printf 'q.test:\n  - TXT: "v=spf1 -all"\n_dmarc.q.test:\n  - TXT: "v=DMARC1; p=quarantine"\n' >>"$TMP/fx/zones.yaml"
DNS=$(/usr/bin/python3 "$DNSD" start "$TMP/dns" "$TMP/fx/zones.yaml") || fail_all "dnsd failed"
M=$TMP/fx/msgs
chmod 755 "$TMP"
mkdir -p "$TMP/sock"
chmod 755 "$TMP/sock"
if [ "${TM_SAN:-0}" = 1 ]; then USERCONF='user = "root";'; else USERCONF='user = "nobody"; socket_owner = "nobody:root";'; fi
# enforcement is opt-in (policy.mode); the rules are explicit too
MODE='mode = "enforce";'

# write_conf SOCKET OUTBOUND_DAEMONS - the daemon's configuration (the client
# is always 127.0.0.1, so no network is internal: direction comes from
# {auth_authen} and {daemon_name}).
write_conf() {
	cat >"$TMP/tm.conf.new" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: {
  $MODE
  inbound: { actions = ["dmarc.disposition.reject=reject:550 5.7.1 Rejected: 100% forged sender",
                        "dmarc.disposition.quarantine=quarantine"]; };
  outbound: { actions = []; };
};
milter: {
  socket = "$1";
  socket_mode = 432;
  $USERCONF
  internal_networks = [];
  outbound_daemons = [$2];
  drain_seconds = 5;
  log_stderr = "yes";
};
EOF
	chmod 644 "$TMP/tm.conf.new"
	mv "$TMP/tm.conf.new" "$TMP/tm.conf"
}

# start_milter SOCKET OUTBOUND_DAEMONS
start_milter() {
	write_conf "$1" "$2"
	[ -f "$TMP/milter.log" ] && cat "$TMP/milter.log" >>"$TMP/milter-all.log"
	: >"$TMP/milter.log"
	"$BUILD/trustmilter" -f -c "$TMP/tm.conf" >>"$TMP/milter.log" 2>&1 &
	MPID=$!
	wait_log "starting"
}
# wait_log PATTERN - wait up to 10 s for the daemon log to match.
wait_log() {
	local i
	for i in $(seq 1 100); do
		grep -q -E -- "$1" "$TMP/milter.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_sendmail SOCKET [ENV...] - Sendmail with the milter at SOCKET (as the harness names it).
start_sendmail() {
	local sock=$1
	shift
	unpin_load
	"$HARNESS/stop.sh" --sendmail-only >>"$TMP/harness.log" 2>&1
	env "$@" "$HARNESS/start.sh" "$sock" >>"$TMP/harness.log" 2>&1 && pin_load
}

# snippet_matches SOCKET - the milter lines of the running sendmail.cf are
# exactly what the snippet gives with m4 (its socket replaced by SOCKET).
snippet_matches() {
	local root=$SMROOT mc
	mc=$(awk -v snip="$SNIPPET" -v sock="$1" '
		/^define\(`confMILTER_MACROS_/ { next }
		/^INPUT_MAIL_FILTER\(/ {
			while ((getline l < snip) > 0) {
				if (l ~ /^INPUT_MAIL_FILTER\(/) sub(/S=[^,]*,/, "S=" sock ",", l)
				print l
			}
			next
		}
		{ print }' "$root/etc/mail/sendmail.mc")
	printf '%s\n' "$mc" >"$root/etc/mail/snippet-check.mc"
	chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin sh -c \
		'cd /etc/mail && m4 snippet-check.mc > snippet-check.cf 2>/dev/null' || return 1
	local want have
	want=$(grep -E '^(X|O InputMailFilters|O Milter\.macros)' "$root/etc/mail/snippet-check.cf" | sort)
	have=$(grep -E '^(X|O InputMailFilters|O Milter\.macros)' "$root/etc/mail/sendmail.cf" | sort)
	[ -n "$want" ] && [ "$want" = "$have" ] || { diff <(echo "$want") <(echo "$have") | sed 's/^/#   /'; return 1; }
}

# send NAME SEND-TEST-ARGS... - one message through Sendmail; the outcome
# in $TMP/NAME.out, the sink's copy in $TMP/NAME.eml.
send() {
	local name=$1
	shift
	rm -f "$SM_STATE/last-sink.eml"
	"$HARNESS/send-test.sh" --expect any --wait 20 "$@" >"$TMP/$name.out" 2>&1
	cp "$SM_STATE/last-swaks.txt" "$TMP/$name.swaks" 2>/dev/null
	if [ -f "$SM_STATE/last-sink.eml" ]; then cp "$SM_STATE/last-sink.eml" "$TMP/$name.eml"; else : >"$TMP/$name.eml"; fi
}
outcome() { sed -n -E 's/^RESULT: ([a-z-]+).*/\1/p' "$TMP/$1.out"; }
qid() { sed -n -E 's/^RESULT: .* qid=([A-Za-z0-9]+).*/\1/p' "$TMP/$1.out"; }
# logline NAME - our log line for that message (by Sendmail's queue id).
logline() {
	local q
	q=$(qid "$1")
	[ -n "$q" ] || return 1
	wait_log "]: $q: dir=" && grep -E -- "]: $q: dir=" "$TMP/milter.log" | tail -1
}
# headers NAME - the header of the delivered message, without what smtp-sink
# put before it (X-Client-Addr ... and its own Received line).
headers() {
	awk 'NR == 1 && /^X-Client-Addr:/ { skip = 1 }
	     skip && /^Received: from sendmail.test/ { skip = 2; next }
	     skip == 2 && /^[ \t]/ { next }
	     skip == 1 { next }
	     /^\r?$/ { exit }
	     { skip = 0; print }' "$TMP/$1.eml" | tr -d '\r'
}
# field_line NAME PATTERN - line number of the first header line matching PATTERN.
field_line() { headers "$1" | grep -n -m1 -E -- "$2" | cut -d: -f1; }

ours='^Authentication-Results: mx.recipient.test;'
sender=(--from bounce@example.test --to bob@recipient.test --helo mta.example.test)

# inbound_checks TAG - pass, forged A-R removal, DMARC reject.
inbound_checks() {
	local t=$1
	send "$t-pass" "${sender[@]}" --data "$M/transactional.eml"
	check "$t inbound pass: accepted and delivered" [ "$(outcome "$t-pass")" = accept ]
	check "$t inbound pass: our Authentication-Results with dmarc=pass" \
		grep -q -E "$ours.*dmarc=pass|dmarc=pass" <(headers "$t-pass" | grep -A6 -E "$ours")
	local ar from
	ar=$(field_line "$t-pass" "$ours")
	from=$(field_line "$t-pass" '^From: Alice Shop')
	check "$t inbound pass: inserted above the message's own fields" [ -n "$ar" ] && [ -n "$from" ] && [ "$ar" -lt "$from" ]
	check "$t inbound pass: compliance header added" grep -q '^X-Trustmilter: ' <(headers "$t-pass")
	local l
	l=$(logline "$t-pass")
	check "$t inbound pass: logged with Sendmail's queue id, dir=inbound" grep -q "dir=inbound dir_reason=external client=127.0.0.1" <<<"$l"

	{ printf 'Authentication-Results: mx.recipient.test; dmarc=pass header.from=example.test (FORGED-1)\r\n'
	  printf 'Authentication-Results: other.example; spf=pass (FOREIGN)\r\n'
	  printf 'Authentication-Results: mx.recipient.test; dkim=pass (FORGED-2)\r\n'
	  cat "$M/transactional.eml"; } >"$TMP/forged.eml"     # still DKIM-valid: A-R is not signed
	send "$t-forged" "${sender[@]}" --data "$TMP/forged.eml"
	check "$t forged AR: delivered" [ "$(outcome "$t-forged")" = accept ]
	check "$t forged AR: both forged fields removed" not grep -q "FORGED" "$TMP/$t-forged.eml"
	check "$t forged AR: foreign authserv-id kept" grep -q "FOREIGN" "$TMP/$t-forged.eml"
	check "$t forged AR: exactly one of ours" [ "$(headers "$t-forged" | grep -c -E "$ours")" = 1 ]

	send "$t-spoof" --from security@example.test --to bob@recipient.test --helo unknown.invalid \
		--data "$M/spoofed.eml"
	check "$t dmarc reject: 5xx to the client" [ "$(outcome "$t-spoof")" = reject ]
	check "$t dmarc reject: our reply, '%' intact (550 5.7.1 ... 100% ...)" \
		grep -q -E '^<\*\* +550 5\.7\.1 Rejected: 100% forged sender$' <(tr -d '\r' <"$TMP/$t-spoof.swaks")
	check "$t dmarc reject: logged with action=reject" wait_log "dir=inbound .*action=reject"
}

# down_check TAG - F=T: with the milter gone Sendmail tempfails, nothing is relayed.
down_check() {
	local t=$1
	stop_milter
	local n0
	n0=$(ls "$SM_STATE/sink" | wc -l)
	send "$t-down" "${sender[@]}" --data "$M/transactional.eml"
	check "$t milter down: F=T tempfails the client" [ "$(outcome "$t-down")" = tempfail ]
	check "$t milter down: 451 4.3.2" grep -q -E '^<\*\* +451 4\.3\.2' "$TMP/$t-down.swaks"
	check "$t milter down: nothing relayed" [ "$(ls "$SM_STATE/sink" | wc -l)" = "$n0" ]
}

# ---- pass 1: inet socket, the snippet (Sendmail's stock macro lists), STARTTLS, an MSA daemon
PORT=$(pf_free_port)
snippet_macros
start_milter "inet:$PORT@127.0.0.1" '"MSA-test"' || { ok 1 "inet: daemon starts" "$(cat "$TMP/milter.log")"; exit 1; }
start_sendmail "inet:$PORT@127.0.0.1" SM_TLS=1 SM_MSA_PORT=$MSA_PORT ||
	{ ok 1 "inet: sendmail starts" "$(tail -20 "$TMP/harness.log")"; exit 1; }
ok 0 "inet: daemon and Sendmail start"
check "inet: sendmail.cf milter lines are the snippet's" snippet_matches "inet:$PORT@127.0.0.1"
inbound_checks inet

# DMARC p=quarantine: accepted, then held in Sendmail's quarantine (SMFIR_QUARANTINE).
sed -e 's/security@example.test/news@q.test/' -e 's/x1@spoof/q1@spoof/' "$M/spoofed.eml" >"$TMP/q.eml"
send inet-quar --from news@q.test --to bob@recipient.test --helo unknown.invalid --data "$TMP/q.eml"
q=$(qid inet-quar)
check "inet quarantine: 250 to the client" [ -n "$q" ]
check "inet quarantine: held in Sendmail's quarantine, not relayed" \
	grep -q "^$q" <(chroot "$SMROOT" mailq -qQ 2>/dev/null)
check "inet quarantine: logged with action=quarantine" grep -q -E "]: $q: .*action=quarantine" "$TMP/milter.log"

# Header and body bytes as sent: a simple/simple signature over fields
# without a space after the colon, with several spaces, a tab and a fold
# (SMFIP_HDR_LEADSPC; folded values arrive with LF line ends), and a
# 300 KB body (several body chunks).
/usr/bin/python3 - "$TMP/fx/keys/example.test/s1.private" "$TMP/simple.eml" <<'PY'
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = (b"From:Alice Shop <orders@example.test>\r\n"
       b"To:\tbob@recipient.test\r\n"
       b"Subject:   three spaces and\r\n \ta fold\r\n"
       b"Date: Sun, 22 Nov 2026 09:00:00 +0000\r\n"
       b"Message-ID: <simple-1@example.test>\r\n"
       b"\r\n"
       b"Body line\r\n\r\n" +
       # 300 KB: Sendmail sends the body in 64 KB chunks, splitting lines
       b"".join(b"line %05d %s\r\n" % (i, b"x" * (i % 97)) for i in range(6000)))
sig = dkim.sign(msg, b"s1", b"example.test", key, canonicalize=(b"simple", b"simple"),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(sys.argv[2], "wb").write(sig + msg)
PY
send inet-simple "${sender[@]}" --data "$TMP/simple.eml"
check "inet header and body bytes: simple/simple DKIM passes through Sendmail" \
	grep -q -E "^[[:space:]]+dkim=pass header.d=example.test" <(headers inet-simple)

# Three transactions in one SMTP session, a RSET between the first two:
# each gets its own queue id ({i} is read per message), the reject of the
# second leaves the third alone.
/usr/bin/python3 - "$M/transactional.eml" "$M/spoofed.eml" >"$TMP/session.out" 2>&1 <<'PY'
import smtplib, sys
good, bad = (open(f, "rb").read() for f in sys.argv[1:3])
s = smtplib.SMTP("127.0.0.1", 2587, local_hostname="mta.example.test", timeout=60)
s.ehlo()
for name, frm, data, rset in (("one", "bounce@example.test", good, True),
                              ("two", "security@example.test", bad, False),
                              ("three", "bounce@example.test", good, False)):
    s.mail(frm)
    s.rcpt("bob@recipient.test")
    code, text = s.data(data)
    print(name, code, text.decode().split()[1] if code == 250 else text.decode())
    if rset:
        s.rset()
s.quit()
PY
q1=$(awk '$1 == "one" && $2 == 250 { print $3 }' "$TMP/session.out")
q3=$(awk '$1 == "three" && $2 == 250 { print $3 }' "$TMP/session.out")
check "one session: first and third accepted with different queue ids" \
	[ -n "$q1" ] && [ -n "$q3" ] && [ "$q1" != "$q3" ]
check "one session: the second rejected with our reply" grep -q "^two 550 5.7.1 Rejected" "$TMP/session.out"
check "one session: one log line per queue id, HELO kept for all" \
	wait_log "]: $q3: dir=inbound .*helo=mta.example.test .*action=accept" &&
	grep -q -E "]: $q1: dir=inbound .*helo=mta.example.test .*action=accept" "$TMP/milter.log"

send inet-auth "${sender[@]}" --auth --data "$M/transactional.eml"
check "inet AUTH: accepted" [ "$(outcome inet-auth)" = accept ]
check "inet AUTH: outbound by {auth_authen}" grep -q "dir=outbound dir_reason=smtp_auth" <<<"$(logline inet-auth)"

send inet-msa "${sender[@]}" --auth --data "$M/transactional.eml" -- --port "$MSA_PORT"
check "inet MSA daemon: accepted" [ "$(outcome inet-msa)" = accept ]
check "inet MSA daemon: outbound" grep -q "dir=outbound" <<<"$(logline inet-msa)"

send inet-tls "${sender[@]}" --tls --data "$M/transactional.eml"
check "inet STARTTLS: accepted and annotated" grep -q -E "$ours" <(headers inet-tls)
check "inet STARTTLS: {tls_version} in the log line" grep -q -E " tls=TLSv1\.[23]" <<<"$(logline inet-tls)"
check "inet plain SMTP: no tls= in the log line" not grep -q " tls=" <<<"$(logline inet-pass)"

down_check inet

# ---- pass 2: unix socket, the snippet
SOCK=$TMP/sock/tm.sock
start_milter "unix:$SOCK" '"MSA-test"' || { ok 1 "unix: daemon starts" "$(cat "$TMP/milter.log")"; exit 1; }
start_sendmail "unix:$SOCK" || { ok 1 "unix: sendmail starts" "$(tail -20 "$TMP/harness.log")"; exit 1; }
ok 0 "unix: daemon and Sendmail start"
check "unix: sendmail.cf milter lines are the snippet's" snippet_matches "local:/run/host-milter/tm.sock"
inbound_checks unix
# {daemon_name}: this daemon (Name=MTA-test) made outbound by a reload.
write_conf "unix:$SOCK" '"MTA-test"'
kill -USR1 "$MPID"
check "unix: reload logged" wait_log "reloaded configuration"
sed 's/order-1042@/order-1046@/' "$M/transactional.eml" >"$TMP/daemon.eml"
send unix-daemon "${sender[@]}" --data "$TMP/daemon.eml"
check "unix {daemon_name}: outbound by daemon name, no AUTH" grep -q "dir=outbound dir_reason=daemon_name" <<<"$(logline unix-daemon)"
down_check unix

# ---- pass 3: long macro lists configured (for other milters) at every stage
other_macros
PORT=$(pf_free_port)
start_milter "inet:$PORT@127.0.0.1" '"MSA-test"' || { ok 1 "lists: daemon starts" "$(cat "$TMP/milter.log")"; exit 1; }
start_sendmail "inet:$PORT@127.0.0.1" SM_TLS=1 || { ok 1 "lists: sendmail starts" "$(tail -20 "$TMP/harness.log")"; exit 1; }
send lists-pass "${sender[@]}" --data "$M/transactional.eml"
check "long macro lists: inbound pass annotated" grep -q -E "$ours" <(headers lists-pass)
check "long macro lists: logged with the queue id, dir=inbound" \
	grep -q "dir=inbound dir_reason=external client=127.0.0.1" <<<"$(logline lists-pass)"
send lists-auth "${sender[@]}" --auth --tls --data "$M/transactional.eml"
l=$(logline lists-auth)
check "long macro lists: AUTH is outbound" grep -q "dir=outbound dir_reason=smtp_auth" <<<"$l"
check "long macro lists: STARTTLS recorded" grep -q -E " tls=TLSv1\.[23]" <<<"$l"
send lists-spoof --from security@example.test --to bob@recipient.test --helo unknown.invalid --data "$M/spoofed.eml"
check "long macro lists: DMARC reject" [ "$(outcome lists-spoof)" = reject ]
stop_milter
check "no sanitizer or crash report in the daemon log" not grep -q -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer" "$TMP/milter.log" "$TMP/milter-all.log"
exit 0
