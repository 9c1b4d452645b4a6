#!/bin/bash
# arc-postfix - the trusted-forwarder override through the daemon behind a
# real, private Postfix (tests/lib/postfix.sh), enforce mode: a message from
# a p=reject domain, forwarded by a mailing list that rewrote the subject and
# footer (the author's DKIM broken) and ARC-sealed with a trusted key
# (arc.trusted_sealers), is delivered with the override visible in
# Authentication-Results, the compliance header and the log line; the same
# message sealed by an untrusted domain, or with its chain broken after
# sealing, gets the normal DMARC action (550). Chains are sealed by
# python3-dkim's arc_sign (tests/lib/arcworld.py); DNS is a real unbound on
# loopback (tests/lib/dnsd.py).
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TM_BUILD:-$SRC/build}
TMP=${TM_TMP:-$(mktemp -d /tmp/tm-test.XXXXXX)}
DNSD=$SRC/tests/lib/dnsd.py
. "$SRC/tests/lib/postfix.sh"

ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
check() { local name=$1; shift; if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi; }
skip_all() { echo "ok - arc-postfix # SKIP $1"; exit 0; }
fail_all() { echo "not ok - $1"; exit 1; }

[ -x "$BUILD/trustmilter" ] || fail_all "no $BUILD/trustmilter"
pf_available || skip_all "needs root, postfix and smtp-sink"
command -v swaks >/dev/null || skip_all "needs swaks"

chmod 755 "$TMP"
MPID=
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	pf_stop
	/usr/bin/python3 "$DNSD" stop "$TMP/dns" >/dev/null 2>&1
}
trap cleanup EXIT

/usr/bin/python3 "$SRC/tests/lib/arcworld.py" "$TMP/w" >/dev/null 2>&1 || fail_all "ARC world build failed"
DNS=$(/usr/bin/python3 "$DNSD" start "$TMP/dns" "$TMP/w/zones.yaml") || fail_all "dnsd failed"

SOCK=$TMP/tm.sock
if [ "${TM_SAN:-0}" = 1 ]; then USERCONF='user = "root"; socket_owner = "root:postfix";'
else USERCONF='user = "nobody"; socket_owner = "nobody:postfix";'; fi
cat >"$TMP/tm.conf" <<EOC
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test."]; timeout_ms = 1500; };
policy: { mode = "enforce"; };
arc: { trusted_sealers = ["lists.trusted.test"]; oldest_pass = true; };
milter: {
  socket = "unix:$SOCK";
  socket_mode = 432;
  $USERCONF
  internal_networks = ["127.0.0.0/8", "::1/128"];
  timeout = 30;
  log_stderr = "yes";
};
EOC
chmod 644 "$TMP/tm.conf"

wait_log() {
	local i
	for i in $(seq 1 100); do
		grep -q -- "$1" "$TMP/milter.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# send NAME - msgs/NAME.eml from the list's address; output in $TMP/NAME.out.
send() {
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mail.lists.trusted.test \
		--from bounce@lists.trusted.test --to bob@recipient.test \
		--xclient "ADDR=203.0.113.9 NAME=[UNAVAILABLE]" --data "$TMP/w/msgs/$1.eml" --timeout 60 \
		>"$TMP/$1.out" 2>&1
}
smtp_code() {
	grep -E '^ *<[-~*]* +[0-9]{3}[ -]' "$TMP/$1.out" | tail -2 | head -1 | sed -E 's/^ *<[-~*]* +([0-9]{3}).*/\1/'
}
delivered_with() {
	local f
	for f in $(pf_delivered | tac); do
		grep -q -F -- "$1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}

"$BUILD/trustmilter" -f -c "$TMP/tm.conf" >"$TMP/milter.log" 2>&1 &
MPID=$!
wait_log "starting" || { sed 's/^/# /' "$TMP/milter.log"; fail_all "daemon did not start"; }
pf_setup "$TMP/pf" "unix:$SOCK"
pf_start || fail_all "postfix starts"
ok 0 "postfix and daemon start"

# Only the first message is ever delivered: the three share one Message-ID
# (the list's seal signs it, so it stays as it is).
send trusted
check "trusted list: 250" [ "$(smtp_code trusted)" = 250 ]
pf_wait_delivered 1
f=$(delivered_with "[team] meeting notes")
check "trusted list: delivered" [ -n "$f" ]
ar=$(tr -d '\r' <"${f:-/dev/null}" | sed -n '/^Authentication-Results: mx.recipient.test/,/^[^ \t]/p' | tr -d '\n\t')
check "trusted list: arc=pass in our Authentication-Results" grep -q "arc=pass" <<<"$ar"
check "trusted list: dmarc=fail ... policy.dmarc=reject shown" grep -q "dmarc=fail.*policy.dmarc=reject" <<<"$ar"
check "trusted list: the override is named" grep -q "overridden by local policy: ARC sealed by trusted lists.trusted.test" <<<"$ar"
check "trusted list: header.oldest-pass and smtp.remote-ip" grep -q "smtp.remote-ip=203.0.113.9 header.oldest-pass=0" <<<"$ar"
check "trusted list: compliance header lists dmarc.override.arc" \
	grep -q "dmarc.override.arc" <(tr -d '\r' <"${f:-/dev/null}" | sed -n '/^X-Trustmilter:/,/^[^ \t]/p')
check "trusted list: log line arc=pass arc_override=lists.trusted.test action=accept" \
	wait_log "arc=pass arc_override=lists.trusted.test"

send untrusted
check "untrusted sealer: 550 (DMARC reject)" [ "$(smtp_code untrusted)" = 550 ]
check "untrusted sealer: not delivered" [ "$(pf_delivered | wc -l)" = 1 ]
send broken
check "chain broken after sealing: 550 (DMARC reject)" [ "$(smtp_code broken)" = 550 ]
check "chain broken: logged arc=fail" wait_log "arc=fail"
check "the daemon is still running" kill -0 "$MPID"
