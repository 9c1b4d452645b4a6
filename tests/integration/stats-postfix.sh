#!/bin/bash
# stats-postfix - statistics through the real path: a private Postfix, the
# trustmilter daemon with an SQLite audit store and the metrics endpoint, the
# signed samples (tests/lib/fixture.py) sent with swaks. Then: the Prometheus
# counters are scrapeable and exact; SIGTERM flushes the queue; the JSON
# report has exactly the expected counts, one record per accepted message.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init

pf_test_fixture
pf_test_dns "$TMP/fx/zones.yaml"
MPORT=$(pf_free_port)
mkdir -p "$TMP/db" && chmod 777 "$TMP/db"
pf_test_userconf
cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: { mode = "enforce"; };
milter: { socket = "unix:$SOCK"; $USERCONF internal_networks = []; drain_seconds = 20; log_stderr = "yes"; };
audit: { store = "sqlite:$TMP/db/audit.db"; batch_size = 3; };
metrics: { listen = "127.0.0.1:$MPORT"; };
EOF
chmod 644 "$TMP/tm.conf"
pf_test_milter
pf_test_postfix

M=$TMP/fx/msgs
sent=0
send() { # FILE IP HELO MAILFROM
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo "$3" --from "$4" --to bob@recipient.test \
		--xclient "ADDR=$2 NAME=[UNAVAILABLE]" --data "$1" --timeout 60 >"$TMP/s$sent.out" 2>&1
	sent=$((sent + 1))
}
for i in 1 2 3; do send "$M/transactional.eml" 192.0.2.20 mta.example.test bounce@example.test; done
for i in 1 2; do send "$M/marketing-compliant.eml" 192.0.2.10 mta.news.example.test bounce@news.example.test; done
send "$M/marketing-uncovered.eml" 192.0.2.10 mta.news.example.test bounce@news.example.test
send "$M/spoofed.eml" 198.51.100.7 unknown.invalid security@example.test
pf_wait_delivered 6 60
ok $? "6 messages delivered, 1 rejected" "$(pf_count)"

m=$(curl -s "http://127.0.0.1:$MPORT/metrics" 2>/dev/null || /usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())")
echo "$m" | grep -q '^trustmilter_messages_total{direction="inbound",action="accept"} 6$' &&
echo "$m" | grep -q '^trustmilter_messages_total{direction="inbound",action="reject"} 1$' &&
echo "$m" | grep -q '^trustmilter_auth_results_total{direction="inbound",method="dmarc",result="pass"} 6$'
ok $? "metrics: scrapeable, 6 accepted, 1 rejected, 6 DMARC pass" "$m"

kill -TERM "$MPID"; wait "$MPID"; MPID=
grep -q "audit store: 7 records written, 0 dropped" "$TMP/milter.log"
ok $? "SIGTERM: the audit queue is flushed (7 written, 0 dropped)" "$(tail -5 "$TMP/milter.log")"

j=$("$BUILD/trustmilter-report" --store "sqlite:$TMP/db/audit.db" --since 1h --format json --group domain)
/usr/bin/python3 - "$j" <<'EOF'
import json, sys
j = json.loads(sys.argv[1]); t = j["totals"]
want = dict(messages=7, spf_pass=6, dkim_pass=6, dmarc_pass=6, bulk=3, one_click_compliant=2, tls=0)
bad = {k: (t[k], v) for k, v in want.items() if t[k] != v}
bad.update({"reject": (t["actions"]["reject"], 1)} if t["actions"]["reject"] != 1 else {})
bad.update({"one_click_rate": (t["one_click_rate"], 0.6667)} if t["one_click_rate"] != 0.6667 else {})
g = {x["key"]: x["measures"]["messages"] for x in j["groups"]}
if g != {"example.test": 4, "news.example.test": 3}:
    bad["groups"] = g
print("# report ok" if not bad else bad)
sys.exit(1 if bad else 0)
EOF
ok $? "report: exact counts and rates for the mail sent through Postfix" "$j"
q=$(sqlite3 "$TMP/db/audit.db" "SELECT count(DISTINCT queue_id) FROM messages WHERE queue_id <> 'NOQUEUE'")
[ "$q" = 7 ]
ok $? "every record carries its Postfix queue id ($q distinct)"
