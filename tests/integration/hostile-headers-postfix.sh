#!/bin/bash
# hostile-headers-postfix - header tricks that once bought a better verdict,
# sent through a real, private Postfix to the daemon:
#   - 1,000 junk fields (limits.header_count) or three ~87 KB junk fields
#     (limits.header_bytes) in front of a spoofed From of a p=reject domain;
#   - two From fields, and an unparsable From, naming that domain;
#   - 17 forged Authentication-Results and 17 forged compliance fields, and a
#     quoted-pair spelling of our authserv-id: all removed before delivery;
#   - more forged results than the removal list holds: rejected.
# Enforcement and the reject rules are set explicitly, so the test holds
# whatever the defaults.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init

pf_test_fixture
printf 'nodmarc.test:\n  - TXT: "v=spf1 -all"\n' >>"$TMP/fx/zones.yaml"
pf_test_dns "$TMP/fx/zones.yaml"

pf_test_userconf

# policy_conf - the policy section: enforcement and explicit reject rules.
policy_conf() {
	printf 'policy: { mode = "enforce"; inbound: { actions = ["dmarc.disposition.reject=reject", "dmarc.disposition.quarantine=quarantine"]; }; };\n'
}

cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
$(policy_conf)
$(pf_test_milter_conf)
EOF
chmod 644 "$TMP/tm.conf"
"$BUILD/trustmilter" -n -c "$TMP/tm.conf" >"$TMP/check.out" 2>&1 || { sed 's/^/# /' "$TMP/check.out"; echo "not ok - the test's configuration is accepted"; exit 1; }

send() {
	local name=$1 file=$2 ip=$3 helo=$4 mf=$5
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo "$helo" --from "$mf" --to bob@recipient.test \
		--xclient "ADDR=$ip NAME=[UNAVAILABLE]" --data "$file" --timeout 60 >"$TMP/$name.out" 2>&1
}

pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon start"

# spoof NAME MSGID - a spoofed message of the p=reject domain example.test
# (sent from outside its SPF record, unsigned); header fields come from stdin.
spoof() {
	{ cat; printf 'To: bob@recipient.test\r\nSubject: Verify your account\r\n'
	  printf 'Date: Sun, 22 Nov 2026 09:20:00 +0000\r\nMessage-ID: <%s@spoof.invalid>\r\n\r\n' "$2"
	  printf 'Please log in.\r\n'; } >"$TMP/$1.eml"
	send "$1" "$TMP/$1.eml" 198.51.100.7 unknown.invalid security@example.test
}
FROM='From: Example Bank <security@example.test>\r\n'

# 0. the plain spoof is rejected (the baseline the tricks must not improve on).
printf "$FROM" | spoof plain p0
check "plain spoof: 550" [ "$(smtp_code plain)" = 550 ]

# 1. 1,000 junk fields in front of From.
for i in $(seq 1 1000); do printf 'X-Junk-%d: padding\r\n' "$i"; done | { cat; printf "$FROM"; } | spoof count p1
check "1000 junk fields + spoofed From: 550" [ "$(smtp_code count)" = 550 ]
check "1000 junk fields: logged dmarc=fail, action=reject" wait_log "from=example.test .*dmarc=fail.*action=reject"

# 2. large junk fields in front of From that fill limits.header_bytes
#    (262,144), then fields of a few bytes that use up whatever room is left
#    (Postfix's own Received field, which the milter sees too, has no fixed
#    size), so the From field is past the general cap. Postfix keeps only
#    about 60 KB of one field (the rest of a longer one is dropped before the
#    milter sees it), so four 55 KB fields and one of 40 KB stand in for the
#    three ~87 KB fields of the original report.
big() { local i; printf 'X-Junk-%s: x' "$1"; for i in $(seq 1 "$2"); do printf '\r\n %0997d' 0; done; printf '\r\n'; }
{ big 1 55; big 2 55; big 3 55; big 4 55; big 5 40; for i in $(seq 1 600); do printf 'X-F: ab\r\n'; done
  printf "$FROM"; } | spoof bytes p2
check "262 KB of junk fields + spoofed From: 550" [ "$(smtp_code bytes)" = 550 ]
check "262 KB of junk fields: the byte cap was reached" \
	[ "$(grep -c 'findings=limits.headers.*dmarc.disposition.reject' "$TMP/milter.log")" = 2 ]

# 3. two From fields, the spoofed one second.
printf "From: friend@nodmarc.test\r\n$FROM" | spoof twofrom p3
check "two From fields: 550" [ "$(smtp_code twofrom)" = 550 ]

# 4. an unparsable From naming the domain.
printf 'From: <security@example.test> <\r\n' | spoof unparsable p4
check "unparsable From: 550" [ "$(smtp_code unparsable)" = 550 ]

# 4b. obsolete syntax: WSP between the field name and the colon.
printf 'From : Example Bank <security@example.test>\r\n' | spoof obsfrom p5
check "From with WSP before the colon: 550" [ "$(smtp_code obsfrom)" = 550 ]

# 5. 17 forged Authentication-Results and 17 forged compliance fields on a
#    good message, plus our id as a quoted-string with a quoted-pair.
M=$TMP/fx/msgs
{ for i in $(seq 1 17); do
	printf 'Authentication-Results: mx.recipient.test; dkim=pass header.d=example.test; dmarc=pass (FORGED-AR-%d)\r\n' "$i"
	printf 'X-Trustmilter: v=1; action=accept; findings=none (FORGED-TM-%d)\r\n' "$i"
  done
  printf 'Authentication-Results: "mx.recipient\\.test"; dmarc=pass (FORGED-QP)\r\n'
  printf 'Authentication-Results: (ours) "MX.Recipient.Test"; dmarc=pass (FORGED-QS)\r\n'
  printf 'Authentication-Results : mx.recipient.test; dmarc=pass (FORGED-WSP)\r\n'
  printf 'Authentication-Results: other.example; spf=pass (FOREIGN)\r\n'
  sed 's/order-1042@/order-2042@/' "$M/transactional.eml"; } >"$TMP/forged.eml"
send forged "$TMP/forged.eml" 192.0.2.20 mta.example.test bounce@example.test
check "forged results: 250" [ "$(smtp_code forged)" = 250 ]
pf_wait_delivered 1
f=$(delivered_with "order-2042@example.test")
check "forged results: delivered" [ -n "$f" ]
check "forged results: no forged Authentication-Results left" not grep -q "FORGED-AR" "${f:-/dev/null}"
check "forged results: no forged compliance field left" not grep -q "FORGED-TM" "${f:-/dev/null}"
check "forged results: quoted-pair spelling of our id removed" not grep -q "FORGED-QP" "${f:-/dev/null}"
check "forged results: quoted-string spelling of our id removed" not grep -q "FORGED-QS" "${f:-/dev/null}"
check "forged results: name with WSP before the colon removed" not grep -q "FORGED-WSP" "${f:-/dev/null}"
check "forged results: foreign authserv-id kept" grep -q "FOREIGN" "${f:-/dev/null}"
check "forged results: exactly one Authentication-Results of ours" \
	[ "$(grep -c '^Authentication-Results: mx.recipient.test' "${f:-/dev/null}")" = 1 ]
check "forged results: exactly one compliance field" [ "$(grep -c '^X-Trustmilter:' "${f:-/dev/null}")" = 1 ]
check "forged results: ours says dmarc=pass" grep -q "dmarc=pass" "${f:-/dev/null}"

# 6. more forged results than the removal list holds (64): rejected.
{ for i in $(seq 1 65); do printf 'Authentication-Results: mx.recipient.test; dmarc=pass\r\n'; done
  sed 's/order-1042@/order-2043@/' "$M/transactional.eml"; } >"$TMP/overflow.eml"
send overflow "$TMP/overflow.eml" 192.0.2.20 mta.example.test bounce@example.test
check "65 forged results: 550" [ "$(smtp_code overflow)" = 550 ]
check "65 forged results: not delivered" not delivered_with "order-2043@example.test"

check "no spoof was delivered" not delivered_with "spoof.invalid"
exit 0
