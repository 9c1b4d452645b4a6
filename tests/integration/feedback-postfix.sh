#!/bin/bash
# feedback-postfix - reports come back as mail, through a real Postfix: a
# campaign goes out through trustmilter (outbound, SQLite audit store), then
# ARF complaints about some of its messages (by Message-ID) and a DMARC
# aggregate report (gzip attachment) come in as mail to the configured report
# mailboxes (feedback.arf_recipients, feedback.dmarc_recipients). The
# daemon's feedback thread stores them, and trustmilter-report --feedback
# shows exactly the expected complaint rates and receiver figures. With
# feedback.after = "discard" (after a reload) a report is stored and not
# delivered; ordinary mail to other recipients is untouched.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/lib/postfix.sh"
pf_test_init
command -v sqlite3 >/dev/null || skip_all "needs sqlite3"

pf_test_fixture
pf_test_dns "$TMP/fx/zones.yaml"
DB=$TMP/db/audit.db
mkdir -p "$TMP/db" "$TMP/in" && chmod 777 "$TMP/db"
pf_test_userconf
# write_conf AFTER - the configuration, with feedback.after = AFTER
write_conf() {
	cat >"$TMP/tm.conf" <<EOF
authserv_id = "mx.news.example.test";
hostname = "mx.news.example.test";
dns: { forwarders = ["$DNS"]; transparent_zones = ["test.", "invalid."]; timeout_ms = 1500; };
policy: { mode = "enforce"; };
milter: { socket = "unix:$SOCK"; $USERCONF internal_networks = ["127.0.0.0/8"]; drain_seconds = 20; log_stderr = "yes"; };
audit: { store = "sqlite:$DB"; batch_size = 5; };
feedback: { arf_recipients = ["FBL@news.example.test"]; dmarc_recipients = ["dmarc-rua@news.example.test"];
            after = "$1"; };
EOF
	chmod 644 "$TMP/tm.conf"
}
write_conf deliver
pf_test_milter
pf_test_postfix

# send FILE TO... - one message; from 127.0.0.1 (an internal network:
# outbound) unless XC is set to an external client address (inbound)
XC=
send() {
	local f=$1 to
	shift
	to=$(IFS=,; echo "$*")
	local x=()
	[ -n "$XC" ] && x=(--xclient "ADDR=$XC NAME=[UNAVAILABLE]")
	swaks --server "127.0.0.1:$PF_SMTP_PORT" --helo mta.news.example.test --from bounce@news.example.test \
		--to "$to" "${x[@]}" --data "$f" --timeout 60 >"$f.out" 2>&1
}

# 1. the campaign: 20 messages of the list "Weekly", each to one Gmail, one
# Yahoo and one Outlook.com recipient (60 recipients), 5 transactional ones
# to Gmail only
for i in $(seq 1 20); do
	printf 'From: News <news@news.example.test>\r\nTo: subscriber@example.net\r\nSubject: weekly %d\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <w%d@news.example.test>\r\nList-Id: Weekly <weekly.news.example.test>\r\nList-Unsubscribe: <https://news.example.test/u/%d>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nhello %d\r\n' \
		"$i" "$i" "$i" "$i" >"$TMP/out$i.eml"
	send "$TMP/out$i.eml" "s$i@gmail.com" "s$i@yahoo.com" "s$i@outlook.com"
done
for i in $(seq 1 5); do
	printf 'From: <receipts@news.example.test>\r\nTo: c%d@gmail.com\r\nSubject: receipt %d\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <t%d@news.example.test>\r\n\r\nthanks\r\n' \
		"$i" "$i" "$i" >"$TMP/tx$i.eml"
	send "$TMP/tx$i.eml" "c$i@gmail.com"
done
pf_wait_delivered 25 120
ok $? "the campaign went out: 25 messages delivered" "$(pf_count)"
for _ in $(seq 100); do
	c=$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE direction = 'outbound'" 2>/dev/null)
	[ "${c:-0}" = 25 ] && break
	sleep 0.2
done
[ "${c:-0}" = 25 ]
ok $? "25 outbound audit records ($c)"

# 2. the reports, made here: ARF complaints referencing the Message-IDs of
# sent messages, and a DMARC aggregate report as a gzip attachment
/usr/bin/python3 - "$TMP/in" <<'PYEOF'
import gzip, sys, time
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
d = sys.argv[1]
def arf(name, rcpt, msgid, ftype="abuse", ua="Yahoo!-Mail-Feedback/2.0"):
    arrival = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    m = ("From: feedback@fbl.isp.test\r\nTo: fbl@news.example.test\r\nSubject: FW: weekly\r\n"
         "Message-ID: <%s@fbl.isp.test>\r\nDate: %s\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
         "--b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: %s\r\n"
         "User-Agent: %s\r\nVersion: 1\r\nOriginal-Mail-From: <bounce@news.example.test>\r\n"
         "Original-Rcpt-To: <%s>\r\nArrival-Date: %s\r\nReported-Domain: news.example.test\r\n"
         "Source-IP: 192.0.2.10\r\n\r\n"
         "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: News <news@news.example.test>\r\n"
         "To: redacted\r\nSubject: weekly\r\nMessage-ID: %s\r\n"
         "List-Id: Weekly <weekly.news.example.test>\r\n\r\n--b1--\r\n"
         % (name, arrival, ftype, ua, rcpt, arrival, msgid))
    open("%s/%s.eml" % (d, name), "w", newline="").write(m)
arf("c1", "s1@yahoo.com", "<w1@news.example.test>")
arf("c2", "s2@yahoo.com", "<w2@news.example.test>")
arf("c3", "s3@yahoo.com", "<w3@news.example.test>", ftype="not-spam")
arf("c4", "s4@outlook.com", "<w4@news.example.test>", ua="Microsoft JMRP")
arf("c5", "s5@yahoo.com", "<w5@news.example.test>")      # sent after the reload (discard)
now = int(time.time())
rec = ("<record><row><source_ip>%s</source_ip><count>%d</count><policy_evaluated>"
       "<disposition>none</disposition><dkim>%s</dkim><spf>%s</spf></policy_evaluated></row>"
       "<identifiers><header_from>news.example.test</header_from></identifiers>"
       "<auth_results><spf><domain>news.example.test</domain><result>%s</result></spf></auth_results></record>")
xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><report_metadata><org_name>receiver.test</org_name>"
       "<email>noreply-dmarc@receiver.test</email><report_id>rid-4711</report_id><date_range><begin>%d</begin>"
       "<end>%d</end></date_range></report_metadata><policy_published><domain>news.example.test</domain>"
       "<adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>%s%s</feedback>\n"
       % (now - 3600, now, rec % ("192.0.2.10", 15, "pass", "pass", "pass"),
          rec % ("198.51.100.7", 5, "fail", "fail", "fail")))
m = MIMEMultipart()
m["From"] = "noreply-dmarc@receiver.test"
m["To"] = "dmarc-rua@news.example.test"
m["Subject"] = "Report Domain: news.example.test Submitter: receiver.test Report-ID: rid-4711"
m["Message-ID"] = "<rid-4711@receiver.test>"
m.attach(MIMEText("DMARC aggregate report.\n"))
a = MIMEApplication(gzip.compress(xml.encode()), "gzip")
a.add_header("Content-Disposition", "attachment", filename="receiver.test!news.example.test!%d!%d.xml.gz" % (now - 3600, now))
m.attach(a)
open(d + "/agg.eml", "w", newline="").write(m.as_string().replace("\n", "\r\n"))
PYEOF
ok $? "reports written (4 ARF, 1 aggregate report)"
XC=192.0.2.50
for c in c1 c2 c3; do send "$TMP/in/$c.eml" fbl@news.example.test; done
send "$TMP/in/c4.eml" FBL@news.example.test
send "$TMP/in/agg.eml" dmarc-rua@news.example.test
pf_wait_delivered 30 120
ok $? "feedback.after = deliver: the 5 report messages are delivered" "$(pf_count)"
for _ in $(seq 150); do
	[ "$(grep -c 'feedback report stored' "$TMP/milter.log")" -ge 5 ] && break
	sleep 0.2
done
s=$(grep -c 'feedback report stored' "$TMP/milter.log")
[ "$s" = 5 ] && [ "$(grep -c 'feedback report stored: arf complaint' "$TMP/milter.log")" = 3 ]
ok $? "the feedback thread stored 5 reports, 3 of them complaints ($s)" "$(grep feedback "$TMP/milter.log")"

# feedback_json - the --feedback view as JSON
feedback_json() {
	"$BUILD/trustmilter-report" --store "sqlite:$DB" --feedback --since 7d --format json 2>&1
}
j=$(feedback_json)
/usr/bin/python3 - "$j" <<'PYEOF'
import json, sys
j = json.loads(sys.argv[1])
t = lambda name, key: {r[key]: r for r in j[name]}
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(j["reports"] == 4 and j["complaints"] == 3, "4 reports, 3 complaints")
p = t("providers", "provider")
want(p["yahoo"]["outbound"] == 20 and p["yahoo"]["reports"] == 3 and p["yahoo"]["complaints"] == 2
     and abs(p["yahoo"]["complaint_rate"] - 0.1) < 1e-9 and p["yahoo"]["readiness"] == "not ready", "yahoo 2/20")
want(p["microsoft"]["outbound"] == 20 and p["microsoft"]["complaints"] == 1
     and abs(p["microsoft"]["complaint_rate"] - 0.05) < 1e-9, "microsoft 1/20")
want(p["gmail"]["outbound"] == 25 and p["gmail"]["reports"] == 0 and p["gmail"]["readiness"] == "unknown",
     "gmail 25 sent, unknown")
c = t("campaigns", "campaign")
w = c.get("Weekly <weekly.news.example.test>", {})
want(w.get("outbound") == 20 and w.get("complaints") == 3 and abs(w.get("complaint_rate", 0) - 0.15) < 1e-9,
     "campaign Weekly 3/20")
d = t("from_domains", "from_domain")
want(d["news.example.test"]["outbound"] == 25 and d["news.example.test"]["complaints"] == 3
     and abs(d["news.example.test"]["complaint_rate"] - 0.12) < 1e-9, "news.example.test 3/25")
m = t("match_methods", "match_method")
want(m.get("message_id", {}).get("reports") == 4 and len(m) == 1, "all 4 matched by Message-ID")
ft = t("feedback_types", "feedback_type")
want(ft["abuse"]["reports"] == 3 and ft["not-spam"]["reports"] == 1, "abuse 3, not-spam 1")
r = t("receiver_domains", "domain").get("news.example.test", {})
want(r.get("messages") == 20 and r.get("failing") == 5, "receivers: 20 messages, 5 failing")
print("# feedback view ok" if not bad else "# wrong: " + ", ".join(bad))
sys.exit(1 if bad else 0)
PYEOF
ok $? "trustmilter-report --feedback: exact complaint rates and receiver figures" "$j"

# 3. feedback.after = discard, taken at a reload
write_conf discard
kill -USR1 "$MPID"
for _ in $(seq 100); do grep -q "reloaded configuration" "$TMP/milter.log" && break; sleep 0.1; done
send "$TMP/in/c5.eml" fbl@news.example.test
cp "$TMP/in/c3.eml" "$TMP/in/c3b.eml"
send "$TMP/in/c3b.eml" fbl@news.example.test ops@news.example.test   # a person too: delivered
XC=
printf 'From: <receipts@news.example.test>\r\nTo: c9@gmail.com\r\nSubject: receipt 9\r\nMessage-ID: <t9@news.example.test>\r\n\r\nthanks\r\n' >"$TMP/tx9.eml"
send "$TMP/tx9.eml" c9@gmail.com
pf_wait_delivered 32 60
for _ in $(seq 150); do
	[ "$(grep -c 'feedback report stored' "$TMP/milter.log")" -ge 6 ] && break
	sleep 0.2
done
sleep 1
[ "$(pf_count)" = 32 ] && [ "$(grep -c 'feedback report stored' "$TMP/milter.log")" = 6 ] &&
	grep -q "250 .*Ok" "$TMP/in/c5.eml.out" && grep -q "feedback report already stored" "$TMP/milter.log"
ok $? "feedback.after = discard: the report is accepted and stored, not delivered; one also to a person and other mail are" \
	"$(pf_count) delivered; $(grep feedback "$TMP/milter.log" | tail -3)"
j=$(feedback_json)
echo "$j" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j["reports"] == 5 and j["complaints"] == 4 else 1)'
ok $? "the discarded report is in the statistics (5 reports, 4 complaints)" "$j"
sqlite3 "$DB" "SELECT action FROM messages WHERE message_id = '<c5@fbl.isp.test>'" | grep -qx discard
ok $? "its audit record says discard"

# 4. the main report: the scorecard's complaint component and provider
# readiness of the outbound domain use the complaint rates
j=$("$BUILD/trustmilter-report" --store "sqlite:$DB" --since 7d --direction outbound --format json 2>&1)
/usr/bin/python3 - "$j" <<'PYEOF'
import json, sys
j = json.loads(sys.argv[1])
r = {x["domain"]: x for x in j["scorecard"]}["news.example.test"]
rd, bad = r["readiness"], []
if r["messages"] != 26 or r["components"]["complaints"] != 0.0:
    bad.append("26 messages, complaint component 0 (4/26 complaints)")
y, m, g = rd["yahoo"], rd["microsoft"], rd["gmail"]
if (y["outbound"], y["feedback_reports"], y["complaints"], y["complaint_rate"], y["status"]) != (20, 4, 3, 0.15, "not ready"):
    bad.append("yahoo 3/20 not ready")
if (m["outbound"], m["complaints"], m["complaint_rate"], m["complaint_status"]) != (20, 1, 0.05, "not ready"):
    bad.append("microsoft 1/20 not ready")
if g["outbound"] != 26 or g["complaint_status"] != "unknown" or g["status"] == "ready":
    bad.append("gmail: no feedback, unknown, never ready")
print("# scorecard ok" if not bad else "# wrong: " + ", ".join(bad))
sys.exit(1 if bad else 0)
PYEOF
ok $? "trustmilter-report scorecard: complaint component and provider readiness from the complaint rates" "$j"
t=$("$BUILD/trustmilter-report" --store "sqlite:$DB" --since 7d --direction outbound 2>&1)
echo "$t" | grep -E '^  news\.example\.test .* not ready +not ready *$' >/dev/null &&
	echo "$t" | grep -q "complaints 10 (our own"
ok $? "text scorecard: Yahoo and Microsoft not ready; the method names the complaint component" "$t"

kill -TERM "$MPID"; wait "$MPID"; MPID=
grep -q "feedback reports: 5 ARF (4 complaints, 5 matched), 1 DMARC, 1 already stored, 0 refused, 0 dropped" \
	"$TMP/milter.log"
ok $? "SIGTERM: the feedback thread stops with its counts (nothing refused or dropped)" "$(tail -5 "$TMP/milter.log")"
