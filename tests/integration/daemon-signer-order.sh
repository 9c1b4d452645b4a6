#!/bin/bash
# daemon-signer-order - what Postfix shows a later milter of an earlier
# milter's changes: OpenDKIM (signing) first in smtpd_milters, trustmilter
# second, outbound mail. trustmilter must see the DKIM-Signature OpenDKIM
# added and judge the message as it will leave: signature passes, aligns,
# covers both unsubscribe fields, one-click compliant. This is the order the
# README recommends for outbound checking.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
command -v opendkim >/dev/null || skip_all "needs opendkim"
OPID=
test_cleanup() { [ -n "$OPID" ] && kill "$OPID" 2>/dev/null && wait "$OPID" 2>/dev/null; }

pf_test_fixture
pf_test_dns "$TMP/fx/zones.yaml"

# OpenDKIM signs for example.test with the fixture's key, including both
# unsubscribe fields; inet socket on loopback.
OPORT=$(pf_free_port)
KEY=$TMP/fx/keys/example.test/s1.private
chmod 600 "$KEY"
printf '%s\n' "Mode s" "Domain example.test" "SubDomains yes" "Selector s1" "KeyFile $KEY" \
	"Socket inet:$OPORT@127.0.0.1" "Canonicalization relaxed/relaxed" \
	"SignHeaders From,To,Subject,Date,Message-ID,List-Id,List-Unsubscribe,List-Unsubscribe-Post" \
	"InternalHosts 127.0.0.1" "Syslog no" "RequireSafeKeys no" "UserID root" \
	"PidFile $TMP/opendkim.pid" >"$TMP/opendkim.conf"
opendkim -f -x "$TMP/opendkim.conf" >"$TMP/opendkim.log" 2>&1 &
OPID=$!

printf '%s\n' 'authserv_id = "mx.sender.test";' \
	"dns: { forwarders = [\"$DNS\"]; transparent_zones = [\"test.\", \"invalid.\"]; timeout_ms = 1500; };" \
	"milter: { socket = \"unix:$SOCK\"; user = \"root\"; socket_owner = \"root:postfix\"; log_stderr = \"yes\";" \
	'          internal_networks = ["127.0.0.0/8"]; egress_addresses = ["192.0.2.10"]; };' >"$TMP/tm.conf"
pf_test_milter
for i in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$OPORT") 2>/dev/null && break; sleep 0.1; done
pf_test_postfix "smtpd_milters = inet:127.0.0.1:$OPORT, unix:$SOCK"

swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mta.news.example.test --from bounce@news.example.test \
	--to bob@recipient.test --data "$SRC/tests/data/samples/marketing-compliant.eml" --timeout 60 >"$TMP/send.out" 2>&1
if ! pf_wait_delivered 1; then
	ok 1 "message delivered" "$(tail -5 "$TMP/send.out")" "$(tail -5 "$PF_LOG" 2>/dev/null)"
	exit 1
fi
f=$(pf_delivered | head -1)
ok 0 "message delivered"
# the header section, one line per field
h=$(sed '/^\r\{0,1\}$/q' "$f" | tr -d '\r' | awk '/^[^ \t]/ { if (l != "") print l; l = $0; next } { l = l " " $0 } END { print l }')
echo "$h" | grep -q '^DKIM-Signature:.*d=example.test'
ok $? "OpenDKIM signed the message" "$(echo "$h" | head -5)"
echo "$h" | grep -q '^Authentication-Results: mx.sender.test;.*dkim=pass header.d=example.test header.s=s1'
ok $? "trustmilter saw the earlier milter's DKIM-Signature and verified it" "$(echo "$h" | grep -i '^Authentication-Results')"
echo "$h" | grep -q '^X-Trustmilter: v=1; dir=outbound;.*one-click=compliant;.*gmail=ready;'
ok $? "outbound: one-click compliant and Gmail ready as the message leaves" "$(echo "$h" | grep '^X-Trustmilter')"
echo "$h" | grep -q 'spf=pass smtp.mailfrom=bounce@news.example.test'
ok $? "outbound SPF judged for the egress address" "$(echo "$h" | grep -i '^Authentication-Results')"
