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
. "$SRC/tests/lib/postfix.sh"
pf_test_init

/usr/bin/python3 "$SRC/tests/lib/arcworld.py" "$TMP/w" >/dev/null 2>&1 || fail_all "ARC world build failed"
pf_test_dns "$TMP/w/zones.yaml"

pf_test_userconf
MPORT=$(pf_free_port)
cat >"$TMP/tm.conf" <<EOC
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test."]; timeout_ms = 1500; };
policy: { mode = "enforce"; };
arc: { trusted_sealers = ["lists.trusted.test"]; oldest_pass = true; };
metrics: { listen = "127.0.0.1:$MPORT"; };
$(pf_test_milter_conf)
EOC
chmod 644 "$TMP/tm.conf"

# send NAME - msgs/NAME.eml from the list's address; output in $TMP/NAME.out.
send() {
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mail.lists.trusted.test \
		--from bounce@lists.trusted.test --to bob@recipient.test \
		--xclient "ADDR=203.0.113.9 NAME=[UNAVAILABLE]" --data "$TMP/w/msgs/$1.eml" --timeout 60 \
		>"$TMP/$1.out" 2>&1
}

pf_test_milter
pf_test_postfix
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
m=$(/usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())")
grep -q '^trustmilter_auth_results_total{direction="inbound",method="arc",result="pass"} 2$' <<<"$m" &&
grep -q '^trustmilter_auth_results_total{direction="inbound",method="arc",result="fail"} 1$' <<<"$m" &&
grep -q '^trustmilter_arc_overrides_total{direction="inbound"} 1$' <<<"$m" &&
grep -q '^trustmilter_arc_sealed_total{direction="inbound"} 0$' <<<"$m"
ok $? "metrics: arc pass 2, fail 1, one override, none sealed" "$(grep arc <<<"$m")"
