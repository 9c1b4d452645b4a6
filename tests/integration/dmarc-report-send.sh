#!/bin/bash
# dmarc-report-send - the daily DMARC aggregate report run, end to end:
# records made by the daemon behind a private Postfix (an SQLite audit
# store), moved back one day; then the exact command of
# contrib/trustmilter-dmarc-report.service (contrib/trustmilter-dmarc-send,
# with this test's configuration and spool paths in place of the installed
# ones), which hands the report mail to Postfix's own sendmail(1) (the
# private instance, through MAIL_CONFIG), and the report arrives at the sink
# with the right counts. Also: the cron line runs the same command; a second
# run sends nothing; a mail the MTA refuses is kept and sent by the next run.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
[ -x "$BUILD/trustmilter-report" ] || fail_all "no $BUILD/trustmilter-report"
command -v sqlite3 >/dev/null || skip_all "needs sqlite3"
# The sanitizer build runs the same C code in stats-postfix; this test is about the run.
[ "${TM_SAN:-0}" = 1 ] && exit 0

pf_test_fixture
pf_test_dns "$TMP/fx/zones.yaml"
mkdir -p "$TMP/db" && chmod 777 "$TMP/db"
cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.recipient.test";
hostname = "mx.recipient.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: { inbound: { actions = ["dmarc.disposition.reject=reject"]; }; };
milter: { user = "root"; socket = "unix:$SOCK"; socket_owner = "root:postfix"; internal_networks = []; log_stderr = "yes"; };
audit: { store = "sqlite:$TMP/db/audit.db"; batch_size = 1; };
reports: { org_name = "Recipient Test"; email = "dmarc-noreply@recipient.test"; };
EOF
chmod 644 "$TMP/tm.conf"
pf_test_milter
# the report mails are submitted after the daemon stopped
pf_test_postfix "non_smtpd_milters ="

M=$TMP/fx/msgs
send() { # FILE IP HELO MAILFROM
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo "$3" --from "$4" --to bob@recipient.test \
		--xclient "ADDR=$2 NAME=[UNAVAILABLE]" --data "$1" --timeout 60 >>"$TMP/swaks.out" 2>&1
}
for i in 1 2 3; do send "$M/transactional.eml" 192.0.2.20 mta.example.test bounce@example.test; done
send "$M/spoofed.eml" 198.51.100.7 unknown.invalid security@example.test
send "$M/marketing-esp-signed.eml" 198.51.100.5 out.esp.test b-123@bounce.esp.test
pf_wait_delivered 3 60
ok $? "3 messages delivered, 2 rejected (a spoof, an unaligned ESP signature)" "$(pf_count)"
kill -TERM "$MPID"; wait "$MPID"; MPID=
n=$(sqlite3 "$TMP/db/audit.db" "SELECT count(*) FROM messages")
check "5 audit records" [ "$n" = 5 ]
# They were received "yesterday" (UTC): the run reports the day before it runs.
sqlite3 "$TMP/db/audit.db" "UPDATE messages SET ts = ts - 86400"
yesterday=$(date -u -d yesterday +%F)

# The command the service runs, with this test's paths for the installed ones.
SVC=$SRC/contrib/trustmilter-dmarc-report.service
cmd=$(sed -n 's/^ExecStart=//p' "$SVC")
cron=$(awk -F'\t' '/^[0-9]/ { print $3 }' "$SRC/contrib/trustmilter-dmarc-report.cron")
check "the cron line runs the service's command" [ -n "$cmd" ] && [ "$cmd" = "$cron" ]
check "the timer starts that service, daily" grep -q '^OnCalendar=\*-\*-\* ' "$SRC/contrib/trustmilter-dmarc-report.timer"
SPOOL=$TMP/spool
check "the service runs trustmilter-dmarc-send" [ "${cmd%% *}" = trustmilter-dmarc-send ]
cmd=$SRC/contrib/${cmd}
cmd=${cmd//\/etc\/trustmilter\/trustmilter.conf/$TMP/tm.conf}
cmd=${cmd//\/var\/lib\/trustmilter\/dmarc-reports/$SPOOL}
read -r -a argv <<<"$cmd"
# Postfix's sendmail(1) of the private instance: /usr/sbin/sendmail with MAIL_CONFIG.
run() { env PATH="$BUILD:$PATH" MAIL_CONFIG="$TMP/pf/etc" "${argv[@]}" "$@" >>"$TMP/run.out" 2>&1; }
n0=$(pf_count)
run
check "the run exits 0" [ $? = 0 ]
pf_wait_delivered $((n0 + 1)) 30
f=$(grep -l -F "Subject: Report Domain: example.test Submitter: mx.recipient.test" $(pf_delivered) 2>/dev/null | head -1)
check "a report mail reached the sink" [ -n "$f" ]
check "it is addressed to the rua address" grep -q "^X-Rcpt-Args: <dmarc-reports@example.test>" "$f"
check "it comes from reports.email" grep -q "^From: dmarc-noreply@recipient.test" "$f"
# the attachment: the XML for yesterday, 3 passing and 1 failing message
/usr/bin/python3 - "$f" "$yesterday" >"$TMP/xml.out" 2>&1 <<'PY'
import email, gzip, sys, calendar, time
import xml.etree.ElementTree as ET
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
part = [p for p in msg.walk() if p.get_content_type() == "application/gzip"][0]
root = ET.fromstring(gzip.decompress(part.get_payload(decode=True)))
ns = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
begin = int(root.find("d:report_metadata/d:date_range/d:begin", ns).text)
want = calendar.timegm(time.strptime(sys.argv[2], "%Y-%m-%d"))
rows = {}
for r in root.findall("d:record", ns):
    res = r.find("d:row/d:policy_evaluated/d:dkim", ns).text
    rows[res] = rows.get(res, 0) + int(r.find("d:row/d:count", ns).text)
print(begin == want, rows)
sys.exit(0 if begin == want and rows == {"pass": 3, "fail": 2} else 1)
PY
check "the report covers yesterday: 3 DKIM pass, 2 fail" [ $? = 0 ] || cat "$TMP/xml.out"
check "spool: nothing left to send" [ -z "$(ls -A "$SPOOL/outgoing")" ]
check "spool: report and mail kept in sent/" [ "$(ls "$SPOOL/sent" | wc -l)" = 2 ]
check "spool: the day is marked done" [ -e "$SPOOL/done/$yesterday" ]

n1=$(pf_count)
run
rc=$?
sleep 2
[ "$rc" = 0 ] && [ "$(pf_count)" = "$n1" ]
ok $? "a second run the same day sends nothing" "exit $rc, $(pf_count) delivered, $n1 before"

# The MTA refuses: the mail stays in outgoing/ and the run fails; the next run sends it.
run -f -- /bin/false
check "MTA failure: exit status 1" [ $? = 1 ]
check "MTA failure: the mail is kept in outgoing/" [ "$(ls "$SPOOL/outgoing" | grep -c '\.eml$')" = 1 ]
run
rc=$?
[ "$rc" = 0 ] && [ -z "$(ls -A "$SPOOL/outgoing")" ]
ok $? "the next run sends what was kept" "exit $rc; outgoing: $(ls -A "$SPOOL/outgoing")"
pf_wait_delivered $((n1 + 1)) 30
check "the kept mail reached the sink" [ $? = 0 ]
exit 0
