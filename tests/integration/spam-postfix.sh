#!/bin/bash
# spam-postfix - spam score thresholds acting through policy in the daemon
# behind a real, private Postfix (tests/lib/postfix.sh): the labelled corpus
# of tests/data/spam is sent with swaks (XCLIENT presents the client
# address), reverse DNS, DNSBL and URIBL zones are served by a real unbound
# (tests/lib/dnsd.py). Blatant spam is rejected with the spam reply (score at
# spam.inbound.reject_score), phishing is junked (quarantine score: delivered
# with X-Spam-Flag: YES under policy.mode = "enforce"), clean mail
# is delivered with the score in the compliance header and iprev in
# Authentication-Results; the log line carries the score and signals.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init

cat >"$TMP/zones.yaml" <<'EOF'
10.2.0.192.in-addr.arpa:
  - PTR: mta.shop.test
mta.shop.test:
  - A: 192.0.2.10
9.113.0.203.in-addr.arpa:
  - PTR: host9.dyn.test
host9.dyn.test:
  - A: 203.0.113.99
66.100.51.198.dnsbl.test:
  - A: 127.0.0.2
spammy-pills.test.uribl.test:
  - A: 127.0.0.2
EOF
pf_test_dns "$TMP/zones.yaml"

# The corpus with today's date (dates are judged against now).
mkdir -p "$TMP/corpus"
now=$(date -R)
for f in transactional-receipt spam-money phish-paypal; do
	sed "s/@DATE@/$now/" "$SRC/tests/data/spam/$f.eml" >"$TMP/corpus/$f.eml"
done

pf_test_userconf
cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; timeout_ms = 1500;
  transparent_zones = ["test.", "invalid.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
                       "113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."]; };
spam: { dnsbl_zones = ["dnsbl.test"]; uribl_zones = ["uribl.test"]; };
policy: { mode = "enforce"; };
$(pf_test_milter_conf)
EOF
chmod 644 "$TMP/tm.conf"

send() {
	local name=$1 file=$2 ip=$3 helo=$4 mf=$5
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo "$helo" --from "$mf" --to alice@recipient.test \
		--xclient "ADDR=$ip NAME=[UNAVAILABLE]" --data "$file" --timeout 60 >"$TMP/$name.out" 2>&1
}

pf_test_milter
pf_test_postfix
ok 0 "postfix and daemon start"

# 1. clean transactional mail: delivered, score 0 in the header, iprev=pass.
send clean "$TMP/corpus/transactional-receipt.eml" 192.0.2.10 mta.shop.test bounce@shop.test
check "clean: 250" [ "$(smtp_code clean)" = 250 ]
pf_wait_delivered 1
f=$(pf_delivered | tail -1)
check "clean: compliance header has spam=0.0; signals=none" grep -q "spam=0.0; signals=none;" "$f"
check "clean: Authentication-Results has iprev=pass policy.iprev=192.0.2.10" \
	grep -q "iprev=pass (mta.shop.test) policy.iprev=192.0.2.10" "$f"
check "clean: log line with spam=0.0" wait_log "client=192.0.2.10 .*spam=0.0 signals=none"

# 2. blatant spam: score past spam.inbound.reject_score, rejected with the spam reply.
send spam "$TMP/corpus/spam-money.eml" 198.51.100.66 198.51.100.66 lucky@winner-prize.test
check "spam: 550 at end of data" [ "$(smtp_code spam)" = 550 ]
check "spam: reply from the default rule (5.7.1 Message rejected as spam)" \
	grep -q "5.7.1 Message rejected as spam" "$TMP/spam.out"
check "spam: log line with action=reject, the DNSBL and URIBL signals" \
	wait_log "action=reject.*spam.score.reject.*spam=[0-9.]* signals=.*spam.dnsbl.dnsbl.test.*spam.uribl.uribl.test"
check "spam: HELO bare IP seen by the milter" wait_log "signals=.*spam.helo.bare_ip"

# 3. phishing: score past the quarantine score; the default enforce rule
# spam.score.quarantine=junk delivers it with X-Spam-Flag: YES for the Junk folder.
send phish "$TMP/corpus/phish-paypal.eml" 203.0.113.9 secure-login.test alert@secure-login.test
check "phishing: 250 to the client" [ "$(smtp_code phish)" = 250 ]
check "phishing: logged as junk by spam.score.quarantine" wait_log "action=junk.*spam.score.quarantine"
pf_wait_delivered 2
f=$(pf_delivered | xargs grep -l -i 'paypal' 2>/dev/null | tail -1)
check "phishing: delivered" [ -n "$f" ]
check "phishing: X-Spam-Flag: YES in the delivered copy" grep -q "^X-Spam-Flag: YES" "$f"
check "phishing: compliance header says action=junk" grep -q "^X-Trustmilter: v=1; dir=inbound; action=junk;" "$f"
check "phishing: not held" [ "$(find "$TMP/pf/spool/hold" -type f 2>/dev/null | wc -l)" = 0 ]
check "clean mail: no X-Spam-Flag" not grep -q "^X-Spam-Flag" "$(pf_delivered | head -1)"
check "phishing: iprev fail in the log's signals" wait_log "signals=.*spam.rdns.not_confirmed"
exit 0
