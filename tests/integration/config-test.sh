#!/bin/bash
# config-test.sh - trustmilter -n validates everything it can without the
# network: rule finding names against the table of known findings (a prefix
# ending in '*' must match one), rule actions (from verdict.c's names) and
# replies, networks, addresses, domain names, DNS forwarders (IP@PORT), DNS
# zones, listen addresses (milter.socket, metrics.listen). Each error names
# the file and the line of the setting; every error is listed; the exit
# status is non-zero. A start with such a file fails, and so does a reload
# (the running configuration stays).
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TM_BUILD:-$SRC/build}
TMP=${TM_TMP:-$(mktemp -d)}
TM=$BUILD/trustmilter
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# conf LINES... - a configuration file whose line 2 onwards are the arguments.
# The daemon's user is named (-n as root refuses an empty or missing one):
# inside the file's own milter group, or in one added after the last line.
conf() {
	printf 'authserv_id = "mx.example.test";\n' >"$TMP/t.conf"
	printf '%s\n' "$@" | sed 's/^milter: {/milter: { user = "nobody";/' >>"$TMP/t.conf"
	grep -q '^milter: {' "$TMP/t.conf" || printf 'milter: { user = "nobody"; };\n' >>"$TMP/t.conf"
}
# expect_error NAME PATTERN LINES... - -n fails and prints PATTERN (with file:line).
expect_error() {
	local name=$1 pat=$2; shift 2
	conf "$@"
	"$TM" -n -c "$TMP/t.conf" >"$TMP/out" 2>&1
	local rc=$?
	if [ $rc -ne 0 ] && grep -qE -- "$pat" "$TMP/out" && ! grep -q "configuration OK" "$TMP/out"; then
		ok 0 "$name"
	else
		ok 1 "$name"; sed 's/^/#   /' "$TMP/out"; echo "#   rc=$rc"
	fi
}
expect_ok() {
	local name=$1; shift
	conf "$@"
	"$TM" -n -c "$TMP/t.conf" >"$TMP/out" 2>&1
	local rc=$?
	if [ $rc -eq 0 ] && grep -q "configuration OK" "$TMP/out"; then ok 0 "$name"
	else ok 1 "$name"; sed 's/^/#   /' "$TMP/out"; fi
}
F="$TMP/t.conf"

expect_ok "a clean configuration is OK"
expect_ok "rules with known findings, a prefix, replies of the right class" \
	'policy: { inbound: { actions = ["dmarc.fail=reject:550 5.7.1 no", "unsub.*=quarantine",' \
	'  "dns.budget_exhausted=tempfail:451 4.7.1 later", "spam.score.*=accept"]; }; };'
expect_error "misspelled finding in a rule (dmarc.fial)" \
	"^$F:2: policy.inbound.actions: item 1: \"dmarc.fial=reject\": unknown finding \"dmarc.fial\"" \
	'policy: { inbound: { actions = ["dmarc.fial=reject"]; }; };'
expect_error "prefix matching no finding" "^$F:2: policy.outbound.actions: .*no finding starts with \"dmarx\\.\"" \
	'policy: { outbound: { actions = ["dmarx.*=reject"]; }; };'
expect_error "unknown action, with the list of actions" \
	"^$F:2: .*action \"rejekt\" is not one of accept\\|quarantine\\|tempfail\\|reject\\|discard" \
	'policy: { inbound: { actions = ["dmarc.fail=rejekt"]; }; };'
expect_error "rule without =" "^$F:2: .*is not FINDING=ACTION" 'policy: { inbound: { actions = ["dmarc.fail"]; }; };'
expect_error "reject with a 4xx reply" "^$F:2: .*must be a 5xx reply" \
	'policy: { inbound: { actions = ["dmarc.fail=reject:451 4.7.1 later"]; }; };'
expect_error "malformed reply" "^$F:2: .*is not \"CODE X.Y.Z text\"" \
	'policy: { inbound: { actions = ["dmarc.fail=reject:go away"]; }; };'
expect_error "reply on quarantine" "^$F:2: .*a reply applies only to reject and tempfail" \
	'policy: { inbound: { actions = ["dmarc.fail=quarantine:550 5.7.1 x"]; }; };'
expect_error "domain rule: bad domain" "^$F:2: policy.domain_actions: item 1: .*is not DOMAIN:FINDING" \
	'policy: { domain_actions = ["not a domain:dmarc.fail=reject"]; };'
expect_error "domain rule: unknown finding" "^$F:2: policy.domain_actions: .*unknown finding \"dmarc.nope\"" \
	'policy: { domain_actions = ["example.test:dmarc.nope=reject"]; };'
expect_error "invalid network (allow_networks)" "^$F:3: policy.allow_networks: item 2: \"10.0.0.0/33\"" \
	'policy: {' '  allow_networks = ["192.0.2.0/24", "10.0.0.0/33"]; };'
expect_error "invalid network (internal_networks)" "^$F:2: milter.internal_networks: item 1: \"fe80::/200\"" \
	'milter: { internal_networks = ["fe80::/200"]; };'
expect_error "invalid address (egress_addresses)" "^$F:2: milter.egress_addresses: item 1: \"192.0.2.300\"" \
	'milter: { egress_addresses = ["192.0.2.300"]; };'
expect_error "invalid domain (allow_senders)" "^$F:2: policy.allow_senders: item 1: \"exa mple.test\"" \
	'policy: { allow_senders = ["exa mple.test"]; };'
expect_error "forwarder with a bad port" "^$F:2: dns.forwarders: item 1: \"127.0.0.1@99999\" is not IP or IP@PORT" \
	'dns: { forwarders = ["127.0.0.1@99999"]; };'
expect_error "forwarder that is a name" "^$F:2: dns.forwarders: item 2: \"dns.example\"" \
	'dns: { forwarders = ["127.0.0.1@5353", "dns.example"]; };'
expect_ok "IPv6 forwarder with a port" 'dns: { forwarders = ["::1@5353", "192.0.2.53"]; };'
expect_error "too many forwarders" "^$F:2: dns.forwarders: 9 items, at most 8" \
	'dns: { forwarders = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8", "192.0.2.9"]; };'
expect_error "bad transparent zone" "^$F:2: dns.transparent_zones: item 1: \"te st.\"" \
	'dns: { transparent_zones = ["te st."]; };'
expect_error "non-loopback metrics.listen" "^$F:2: metrics.listen: .*only loopback addresses" \
	'metrics: { listen = "0.0.0.0:9469"; };'
expect_error "metrics.listen without a port" "^$F:2: metrics.listen: .*(bad port|use 127.0.0.1:PORT)" \
	'metrics: { listen = "127.0.0.1"; };'
expect_ok "loopback metrics.listen" 'metrics: { listen = "[::1]:9469"; };'
expect_error "bad milter.socket" "^$F:2: milter.socket: \"tcp:25\": want unix:/path" 'milter: { socket = "tcp:25"; };'
expect_error "policy.reject_reply must be 5xx" "^$F:2: policy.reject_reply: .*must be a 5xx" \
	'policy: { reject_reply = "451 4.7.1 later"; };'
expect_error "reports.email with a display name" "^$F:2: reports.email: \"Reports <r@example.test>\" is not a plain address" \
	'reports: { email = "Reports <r@example.test>"; };'
expect_ok "plain reports.email" 'reports: { email = "dmarc-reports@example.test"; };'
expect_error "header field name with a colon" "^$F:2: header.compliance: \"X-Bad: x\" is not a header field name" \
	'header: { compliance = "X-Bad: x"; };'
expect_error "bad spam weight (spam.weights)" "spam" 'spam: { weights = ["spam.nonexistent=3"]; };'

# every error at once, each with its own line, and the count
conf 'policy: { inbound: { actions = ["dmarc.fial=reject"]; };' \
	'  allow_networks = ["10.0.0.0/33"]; };' \
	'metrics: { listen = "0.0.0.0:9469"; };' \
	'dns: { forwarders = ["nonsense"]; };'
"$TM" -n -c "$F" >"$TMP/out" 2>&1
rc=$?
ok "$([ $rc -ne 0 ] && grep -q "^$F:2: " "$TMP/out" && grep -q "^$F:3: " "$TMP/out" &&
	grep -q "^$F:4: " "$TMP/out" && grep -q "^$F:5: " "$TMP/out" &&
	grep -q "4 configuration errors" "$TMP/out"; echo $?)" "four errors listed, each with its line, and counted"
[ $rc -ne 0 ] || cat "$TMP/out" | sed 's/^/#   /'

# a start with such a file fails with the first error
conf 'policy: { inbound: { actions = ["dmarc.fial=reject"]; }; };' \
	"milter: { socket = \"unix:$TMP/s.sock\"; pidfile = \"$TMP/tm.pid\"; };"
timeout 20 "$TM" -f -c "$F" >"$TMP/start.out" 2>&1
rc=$?
ok "$([ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "dmarc.fial" "$TMP/start.out"; echo $?)" "start refuses the configuration (rc=$rc)"
exit 0
