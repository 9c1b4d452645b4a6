# postfix.sh - a private, throw-away Postfix instance for integration tests.
# Source it from bash:
#
#   . "$TM_SRC/tests/lib/postfix.sh"
#   pf_setup "$TM_TMP/pf" "unix:$TM_TMP/tm.sock"    # or "inet:127.0.0.1:PORT"
#   pf_start                      # smtp-sink + postfix; stopped by pf_stop (trap EXIT)
#   swaks --server 127.0.0.1:$PF_SMTP_PORT ...
#   pf_wait_delivered 1           # wait until N messages reached the sink
#   pf_delivered                  # list of captured message files
#
# The instance has its own config_directory, queue_directory and
# data_directory under DIR, listens on a free 127.0.0.1 port only, relays
# everything to an smtp-sink on another free loopback port that writes each
# message to DIR/sink/, and logs to DIR/maillog. Nothing of the system's
# Postfix (/etc/postfix/main.cf, /var/spool/postfix, the system service) is
# used or started. Clients on 127.0.0.0/8 may use XCLIENT, so tests can
# present any client address (192.0.2.x, 2001:db8::x) to the milter.
#
# Needs root (Postfix's master runs as root; mail_owner is "postfix").
# Variables set: PF_DIR PF_SMTP_PORT PF_SINK_PORT PF_SINK_DIR PF_LOG.
# Extra main.cf settings: pf_conf "name = value" (after pf_setup, before pf_start).
# A test script that runs the daemon behind the instance uses the pf_test_*
# prologue at the end of this file instead of writing its own.

# pf_free_port - print a free TCP port on 127.0.0.1.
pf_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pf_available - 0 if Postfix and smtp-sink are installed and we are root.
pf_available() {
	[ "$(id -u)" -eq 0 ] && command -v postfix >/dev/null && command -v smtp-sink >/dev/null &&
		getent passwd postfix >/dev/null && getent group postdrop >/dev/null
}

# pf_setup DIR MILTER - write the instance's configuration.
pf_setup() {
	PF_DIR=$1
	local milter=$2
	PF_SMTP_PORT=$(pf_free_port)
	PF_SINK_PORT=$(pf_free_port)
	while [ "$PF_SINK_PORT" = "$PF_SMTP_PORT" ]; do PF_SINK_PORT=$(pf_free_port); done
	PF_SINK_DIR=$PF_DIR/sink
	PF_LOG=$PF_DIR/maillog
	mkdir -p "$PF_DIR/etc" "$PF_DIR/spool" "$PF_DIR/data" "$PF_SINK_DIR"
	# Postfix refuses queue/data directories that others can write, and
	# the path to them must be root-owned: mktemp dirs are 0700 root.
	chmod 755 "$PF_DIR"
	chown postfix "$PF_DIR/data" "$PF_SINK_DIR"
	: >"$PF_LOG"
	cat >"$PF_DIR/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $PF_DIR/etc
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $PF_DIR
maillog_file = $PF_LOG
myhostname = mta.tm-test.example
mydomain = tm-test.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
# Relay for anyone: the instance listens on loopback only, and XCLIENT'ed
# test clients (192.0.2.x) are not in mynetworks. The trailing reject only
# satisfies smtpd's start-up safety check (static:OK always matches).
smtpd_relay_restrictions = permit_mynetworks, check_client_access static:OK, reject
smtpd_recipient_restrictions =
smtpd_helo_required = no
relayhost = [127.0.0.1]:$PF_SINK_PORT
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
alias_maps =
alias_database =
append_dot_mydomain = no
message_size_limit = 20480000
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 15s
milter_content_timeout = 30s
milter_connect_macros = j {daemon_name} {daemon_addr} {client_addr} v _
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
milter_end_of_data_macros = i
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
EOF
	# Only the services a relay needs; no chroot (the private queue has no copy of /etc).
	cat >"$PF_DIR/etc/master.cf" <<EOF
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_conf "name = value" - add or override a main.cf setting.
pf_conf() {
	postconf -c "$PF_DIR/etc" -e "$1" >/dev/null
}

# pf_start - start smtp-sink and Postfix; both are stopped by pf_stop.
pf_start() {
	smtp-sink -u postfix -d "$PF_SINK_DIR/%Y%m%d%H%M%S." "127.0.0.1:$PF_SINK_PORT" 100 \
		>"$PF_DIR/sink.log" 2>&1 &
	PF_SINK_PID=$!
	# Postfix prints errors only to a terminal (else to syslog, which a test
	# machine may not have): give it one through script(1).
	if ! script -qec "postfix -c '$PF_DIR/etc' start" /dev/null >"$PF_DIR/start.log" 2>&1; then
		cat "$PF_DIR/start.log" >&2
		return 1
	fi
	# Ready when smtpd greets (an smtpd that dies at start-up would only
	# show as a closed connection) and the sink accepts connections.
	# (One python run polls for at most 10 s in all.)
	if /usr/bin/python3 - "$PF_SMTP_PORT" "$PF_SINK_PORT" 2>/dev/null <<'PY'
import socket, sys, time
end = time.monotonic() + 10
while time.monotonic() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
        s.settimeout(1)
        ok = s.recv(512).startswith(b"220")
        s.sendall(b"QUIT\r\n"); s.close()
        socket.create_connection(("127.0.0.1", int(sys.argv[2])), 1).close()
        if ok:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
	then
		return 0
	fi
	echo "postfix did not start" >&2
	cat "$PF_LOG" >&2
	return 1
}

# pf_stop - stop Postfix and the sink (safe to call twice).
pf_stop() {
	if [ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/spool/pid/master.pid" ]; then
		postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
		# "postfix stop" returns before the master has exited.
		local i
		for i in $(seq 1 50); do
			[ -f "$PF_DIR/spool/pid/master.pid" ] || break
			kill -0 "$(tr -d ' ' <"$PF_DIR/spool/pid/master.pid")" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -n "${PF_SINK_PID:-}" ]; then
		kill "$PF_SINK_PID" 2>/dev/null
		wait "$PF_SINK_PID" 2>/dev/null
		PF_SINK_PID=
	fi
}

# pf_delivered - the message files the sink has written, oldest first.
pf_delivered() {
	ls -1tr "$PF_SINK_DIR" 2>/dev/null | sed "s|^|$PF_SINK_DIR/|"
}

# pf_count - how many messages reached the sink.
pf_count() {
	ls -1 "$PF_SINK_DIR" 2>/dev/null | wc -l
}

# pf_wait_delivered N [SECONDS] - wait until at least N messages reached the sink.
pf_wait_delivered() {
	local n=$1 secs=${2:-15} i
	for i in $(seq 1 $((secs * 10))); do
		[ "$(pf_count)" -ge "$n" ] && return 0
		# Deferred mail (sink not yet up, milter tempfail) is retried quickly.
		[ $((i % 10)) -eq 0 ] && postqueue -c "$PF_DIR/etc" -f >/dev/null 2>&1
		sleep 0.1
	done
	return 1
}

# pf_queue_count - messages still in the private queue.
pf_queue_count() {
	find "$PF_DIR/spool/incoming" "$PF_DIR/spool/active" "$PF_DIR/spool/deferred" \
		"$PF_DIR/spool/hold" -type f 2>/dev/null | wc -l
}

# pf_message_headers FILE - the message's header section as Postfix sent it:
# without the X-* lines and the Received field smtp-sink puts in front.
pf_message_headers() {
	tr -d '\r' <"$1" | awk '
		state == 0 && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/ { next }
		state == 0 && /^Received: / { state = 1; next }
		state == 1 && /^[ \t]/ { next }
		/^$/ { exit }
		{ state = 2; print }'
}

# ---------------------------------------------------------------------------
# The prologue of the tests/integration scripts that run the daemon behind
# this Postfix. Such a script starts:
#
#   set -u
#   SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
#   . "$SRC/tests/lib/postfix.sh"
#   pf_test_init                    # see below; "not ok"/skip when not possible
#   pf_test_fixture                 # if it uses tests/lib/fixture.py ($TMP/fx)
#   pf_test_dns ZONES.yaml          # DNS=ADDR@PORT of a real unbound
#   pf_test_userconf                # MILTER_USER, USERCONF
#   cat >"$TMP/tm.conf" ...         # with $(pf_test_milter_conf), or milter.socket = "unix:$SOCK"
#   pf_test_milter                  # the daemon, MPID
#   pf_test_postfix [SETTING...]    # Postfix with the daemon as its milter
#
# Everything started is stopped at exit (pf_test_cleanup); a script that
# starts more processes defines test_cleanup, which is called first.

# pf_test_init - BUILD, TMP, DNSD, SOCK (the daemon's socket path) and MPID
# (empty); the TAP helpers below; "not ok" without $BUILD/trustmilter, a
# skip without root, Postfix, smtp-sink or swaks; the exit trap.
# TMP is made 0755: Postfix (user postfix) must reach the socket, and the
# daemon (user nobody after the privilege drop) must read its files.
pf_test_init() {
	BUILD=${TM_BUILD:-$SRC/build}
	TMP=${TM_TMP:-$(mktemp -d /tmp/tm-test.XXXXXX)}
	DNSD=$SRC/tests/lib/dnsd.py
	SOCK=$TMP/tm.sock
	MPID=
	PF_TEST_DNS_DIR=
	PF_TEST_NAME=$(basename "$0" .sh)

	# ok STATUS NAME [DIAGNOSTIC...] - a TAP line; on failure the
	# diagnostics follow as comment lines (at most 20). Returns 1 on failure.
	ok() {
		if [ "$1" = 0 ]; then
			echo "ok - $2"
			return 0
		fi
		echo "not ok - $2"
		shift 2
		[ $# -gt 0 ] && echo "$*" | head -20 | sed 's/^/#   /'
		return 1
	}
	# check NAME CMD... - ok when CMD succeeds.
	check() { local name=$1; shift; if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi; }
	# not CMD... - succeed when CMD fails (for check).
	not() { ! "$@"; }
	# skip_all REASON - a tool this test needs is missing: skip the script.
	skip_all() { echo "ok - $PF_TEST_NAME # SKIP $1"; exit 0; }
	# fail_all REASON - a broken set-up (not a missing tool) is a failure, never a skip.
	fail_all() { echo "not ok - $1"; exit 1; }

	[ -x "$BUILD/trustmilter" ] || fail_all "no $BUILD/trustmilter"
	pf_available || skip_all "needs root, postfix and smtp-sink"
	command -v swaks >/dev/null || skip_all "needs swaks"
	chmod 755 "$TMP"
	trap pf_test_cleanup EXIT
}

# pf_test_cleanup - the exit trap: test_cleanup (if the script has one), the
# daemon, Postfix and the sink, the DNS server.
pf_test_cleanup() {
	declare -F test_cleanup >/dev/null && test_cleanup
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	pf_stop
	[ -n "$PF_TEST_DNS_DIR" ] && /usr/bin/python3 "$DNSD" stop "$PF_TEST_DNS_DIR" >/dev/null 2>&1
	return 0
}

# pf_test_fixture - the sample world of tests/lib/fixture.py (keys, signed
# messages, zones.yaml) in $TMP/fx.
pf_test_fixture() {
	/usr/bin/python3 -c "import sys; sys.path.insert(0, '$SRC/tests/lib'); import fixture; fixture.build('$TMP/fx')" \
		>/dev/null 2>&1 || fail_all "fixture build failed"
}

# pf_test_dns ZONES [DIR] - start a real unbound (tests/lib/dnsd.py, state in
# DIR, default $TMP/dns) serving the YAML zones; DNS is its address for
# dns.forwarders. Stopped at exit.
pf_test_dns() {
	PF_TEST_DNS_DIR=${2:-$TMP/dns}
	DNS=$(/usr/bin/python3 "$DNSD" start "$PF_TEST_DNS_DIR" "$1") || fail_all "dnsd failed"
}

# pf_test_userconf - MILTER_USER and USERCONF, the milter section's user and
# socket_owner settings. The daemon drops to "nobody", except under the
# sanitizers: LeakSanitizer cannot inspect a process that changed its uid
# (it is no longer dumpable), so there it stays root.
pf_test_userconf() {
	if [ "${TM_SAN:-0}" = 1 ]; then MILTER_USER=root; else MILTER_USER=nobody; fi
	USERCONF="user = \"$MILTER_USER\"; socket_owner = \"$MILTER_USER:postfix\";"
}

# pf_test_milter_conf [SETTING...] - print the milter section of tm.conf the
# scripts share: the socket (mode 0660, owner from pf_test_userconf),
# loopback as the internal networks, timeout 30 s, the log on stderr; each
# SETTING ("name = value;") is added to it.
pf_test_milter_conf() {
	local s
	printf 'milter: {\n  socket = "unix:%s";\n  socket_mode = 432;\n  %s\n' "$SOCK" "$USERCONF"
	printf '  internal_networks = ["127.0.0.0/8", "::1/128"];\n  timeout = 30;\n  log_stderr = "yes";\n'
	for s in "$@"; do printf '  %s\n' "$s"; done
	printf '};\n'
}

# pf_test_milter - start the daemon in the foreground on $TMP/tm.conf (log
# in $TMP/milter.log; its pid in MPID) and wait for its "starting" line.
pf_test_milter() {
	"$BUILD/trustmilter" -f -c "$TMP/tm.conf" >"$TMP/milter.log" 2>&1 &
	MPID=$!
	wait_log starting || { sed 's/^/# /' "$TMP/milter.log"; fail_all "daemon did not start"; }
}

# pf_test_postfix [SETTING...] - the private Postfix (pf_setup in $TMP/pf)
# with the daemon's socket as its milter, the main.cf SETTINGs added
# (pf_conf), started; "not ok - postfix starts" and exit if it does not.
pf_test_postfix() {
	local s
	pf_setup "$TMP/pf" "unix:$SOCK"
	for s in "$@"; do pf_conf "$s"; done
	pf_start || { ok 1 "postfix starts"; exit 1; }
}

# wait_log PATTERN - wait up to 10 s for the daemon log to match.
wait_log() {
	local i
	for i in $(seq 1 100); do
		grep -q -- "$1" "$TMP/milter.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# smtp_code NAME - the reply code to the end of DATA in swaks' output $TMP/NAME.out.
smtp_code() {
	grep -E '^ *<[-~*]* +[0-9]{3}[ -]' "$TMP/$1.out" | tail -2 | head -1 | sed -E 's/^ *<[-~*]* +([0-9]{3}).*/\1/'
}

# delivered_with TEXT - the newest delivered message containing TEXT.
delivered_with() {
	local f
	for f in $(pf_delivered | tac); do
		grep -q -F -- "$1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}
