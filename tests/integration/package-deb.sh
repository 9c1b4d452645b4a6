#!/bin/bash
# package-deb - the Debian package as an administrator meets it: "make deb"
# builds trustmilter_VERSION_ARCH.deb, lintian reports no error or warning,
# and in a copy of a fresh Debian 12 root (debootstrap minbase + git, make,
# ca-certificates; cached in /var/tmp/fresh/bookworm) the README's commands:
#   apt-get install ./trustmilter_*.deb       runtime dependencies only, the
#       user, the conffile, the directories, the unit (enabled, User=)
#   Postfix installed afterwards              the trigger gives the socket
#       directory to group postfix
#   apt-get remove / install again / purge    config and data kept, then gone
#   the shipped Postfix snippet appended to main.cf, stock master.cf
#       (chrooted smtpd): a mail sent with swaks reaches the smtp-sink with
#       our Authentication-Results field.
# The daemon runs as its unit would (no systemd in a chroot): ExecStartPre and
# ExecStart of the installed unit, as its User=, with its UMask=.
# Test-only changes to the root: Postfix listens on a free loopback port
# instead of 25, relays everything to an smtp-sink, accepts XCLIENT from
# loopback (so the mail is inbound), logs to a file; a policy-rc.d stops
# service starts. Normal build only (TM_SAN=1: nothing), needs root.
set -u
[ "${TM_SAN:-0}" = 1 ] && exit 0
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=${TM_TMP:-$(mktemp -d /tmp/tm-test.XXXXXX)}
FRESH=${TM_FRESH:-/var/tmp/fresh}
BASE=$FRESH/bookworm

ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; shift 2; [ $# -gt 0 ] && echo "#   $*"; fi; }
check() { local name=$1; shift; if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi; }
not() { ! "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
both() { [ -f "$1" ] && [ -f "$2" ]; }
skip_all() { echo "ok - package-deb # SKIP $1"; exit 0; }
fail_all() { echo "not ok - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -25 "$2" | sed 's/^/#   /'; exit 1; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root"
for c in dpkg-buildpackage lintian debootstrap chroot setpriv systemd-sysusers systemd-tmpfiles; do
	command -v $c >/dev/null || skip_all "needs $c (contrib/install-deps test)"
done

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /var/tmp/tm-pkg.XXXXXX)
ROOT=$WORK/root
MPID=; SINKPID=; PF_UP=
in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
mounted_below() { awk -v r="$ROOT/" 'index($2"/", r) == 1' /proc/mounts | grep -q .; }
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	[ -n "$PF_UP" ] && in_root postfix stop >/dev/null 2>&1
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null && wait "$SINKPID" 2>/dev/null
	# processes left in the root (postfix daemons) would keep mounts busy
	local i p
	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$(for d in /proc/[0-9]*; do [ "$(readlink "$d/root" 2>/dev/null)" = "$ROOT" ] && echo "${d#/proc/}"; done)
		[ -z "$p" ] && break
		kill $p 2>/dev/null; sleep 0.5
	done
	for m in dev proc; do umount "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" 2>/dev/null; done
	# never remove a tree with something still mounted below it
	if mounted_below; then echo "# cleanup: mounts left below $ROOT, not removed" >&2
	else rm -rf --one-file-system "$WORK"; fi
}
trap cleanup EXIT

# 1. make deb, in a copy of the tree (dpkg-buildpackage writes to the parent
# directory and cleans the tree; the copy leaves build/ alone).
mkdir -p "$TMP/src"
tar -C "$SRC" --exclude=./.git --exclude=./build --exclude=./build-asan --exclude=./build-fuzz \
	--exclude='./trustmilter*.deb' --exclude=./tests/bench/out -cf - . | tar -C "$TMP/src" -xf -
make -C "$TMP/src" deb >"$TMP/deb.log" 2>&1 || fail_all "make deb" "$TMP/deb.log"
DEB=$(ls "$TMP/src"/trustmilter_*_*.deb 2>/dev/null | head -1)
VER=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
check "make deb leaves trustmilter_${VER}_$(dpkg --print-architecture).deb" \
	[ "$(basename "$DEB")" = "trustmilter_${VER}_$(dpkg --print-architecture).deb" ]
lintian --allow-root "$TMP/src"/trustmilter_*.changes >"$TMP/lintian.log" 2>&1
check "lintian: no error and no warning" not grep -qE '^[EW]: ' "$TMP/lintian.log"
grep -E '^[EW]: ' "$TMP/lintian.log" | head -10 | sed 's/^/#   /'

# 2. the fresh root: the cached base (another process may be creating it:
# wait for its .ready marker), or a new one.
# creating_base - a debootstrap into BASE runs (in our root, not one seen
# from inside a chroot).
creating_base() {
	local p
	for p in $(pgrep -x debootstrap); do
		[ /proc/$p/root -ef / ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF " $BASE" && return 0
	done
	return 1
}
if [ ! -e "$FRESH/.ready" ]; then
	mkdir -p "$FRESH"
	exec 9>"$FRESH/.lock"
	flock -w 1800 9 || fail_all "lock $FRESH/.lock"
	for i in $(seq 1 180); do
		[ -e "$FRESH/.ready" ] && break
		creating_base || break
		sleep 10
	done
	if [ ! -e "$FRESH/.ready" ] && ! creating_base; then
		if [ -x "$BASE/bin/bash" ] && [ -x "$BASE/usr/bin/git" ]; then
			touch "$FRESH/.ready"
		else
			new=$(mktemp -d "$FRESH/new.XXXXXX")
			chmod 755 "$new"   # mktemp's 0700 would be the root's "/"
			debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$new" \
				>"$FRESH/debootstrap.log" 2>&1 || { rm -rf --one-file-system "$new"; fail_all "debootstrap" "$FRESH/debootstrap.log"; }
			rm -rf --one-file-system "$BASE"
			mv "$new" "$BASE" && touch "$FRESH/.ready"
		fi
	fi
	exec 9>&-
fi
[ -e "$FRESH/.ready" ] || fail_all "no fresh root in $BASE"
cp -a "$BASE" "$ROOT" || fail_all "copy $BASE"
chmod 755 "$ROOT"   # "/" must be searchable for the trustmilter and postfix users
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc" && mount --bind /dev "$ROOT/dev" || fail_all "mount proc, dev"
# no man-db index updates (time), no service starts in the root (as in a container)
echo 'man-db man-db/auto-update boolean false' | in_root debconf-set-selections
rm -f "$ROOT/var/lib/man-db/auto-update"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp "$DEB" "$ROOT/root/"
in_root apt-get update -q >"$TMP/apt.log" 2>&1 || fail_all "apt-get update in the fresh root" "$TMP/apt.log"
in_root dpkg-query -W -f '${Package}\n' | sort >"$TMP/before"

# 3. apt-get install ./trustmilter_*.deb without Postfix
in_root sh -c "cd /root && apt-get install -y -q ./$(basename "$DEB")" >>"$TMP/apt.log" 2>&1 \
	|| fail_all "apt-get install ./$(basename "$DEB")" "$TMP/apt.log"
ok 0 "apt-get install ./$(basename "$DEB") in a fresh Debian 12 root"
in_root dpkg-query -W -f '${Package}\n' | sort >"$TMP/after"
added=$(comm -13 "$TMP/before" "$TMP/after" | tr '\n' ' ')
check "only runtime dependencies installed" not grep -qE \
	'(-dev$|^gcc|^cpp|^postfix|^postgresql|^chromium|^clang|^nodejs|^spamassassin|^opendkim$|^opendmarc|^python3)' \
	<(comm -13 "$TMP/before" "$TMP/after")
echo "#   added: $added"
st() { in_root stat -c '%U:%G %a' "$1" 2>/dev/null; }
check "system user trustmilter" quiet in_root getent passwd trustmilter
check "user trustmilter has no login shell" [ "$(in_root getent passwd trustmilter | cut -d: -f7)" = /usr/sbin/nologin ]
check "conffile /etc/trustmilter/trustmilter.conf" grep -qx ' */etc/trustmilter/trustmilter.conf [0-9a-f]*' \
	<(in_root dpkg-query -W -f '${Conffiles}\n' trustmilter)
check "/var/lib/trustmilter trustmilter:trustmilter 750" [ "$(st /var/lib/trustmilter)" = "trustmilter:trustmilter 750" ]
check "socket directory without Postfix: trustmilter:trustmilter 750" \
	[ "$(st /var/spool/postfix/trustmilter)" = "trustmilter:trustmilter 750" ]
UNIT=$ROOT/lib/systemd/system/trustmilter.service
check "unit installed" [ -f "$UNIT" ]
check "unit enabled" [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/trustmilter.service" ]
check "unit: User=trustmilter" grep -qx 'User=trustmilter' "$UNIT"
check "unit: ExecStart=/usr/sbin/trustmilter" grep -q '^ExecStart=/usr/sbin/trustmilter ' "$UNIT"
check "unit: hardened" grep -qx 'ProtectSystem=strict' "$UNIT"
check "DMARC report timer installed, not enabled" \
	bash -c "[ -f '$ROOT/lib/systemd/system/trustmilter-dmarc-report.timer' ] && [ -f '$ROOT/lib/systemd/system/trustmilter-dmarc-report.service' ] && ! ls '$ROOT'/etc/systemd/system/timers.target.wants/trustmilter-dmarc-report.timer 2>/dev/null"
check "trustmilter-dmarc-send in /usr/sbin" [ -x "$ROOT/usr/sbin/trustmilter-dmarc-send" ]
check "tmpfiles.d entry" grep -q '^d /var/lib/trustmilter 0750 trustmilter trustmilter' "$ROOT/usr/lib/tmpfiles.d/trustmilter.conf"
check "man pages" both "$ROOT/usr/share/man/man8/trustmilter.8.gz" "$ROOT/usr/share/man/man5/trustmilter.conf.5.gz"
check "docs and the Postfix snippet" both "$ROOT/usr/share/doc/trustmilter/README.md.gz" \
	"$ROOT/usr/share/doc/trustmilter/examples/postfix-main.cf.snippet"
check "daemon binary runs" quiet in_root /usr/sbin/trustmilter -V

# 4. Postfix installed afterwards (stock configuration, "Internet Site").
printf 'postfix postfix/main_mailer_type select Internet Site\npostfix postfix/mailname string mx.package.invalid\n' |
	in_root debconf-set-selections
in_root apt-get install -y -q --no-install-recommends postfix swaks >>"$TMP/apt.log" 2>&1 || fail_all "apt-get install postfix swaks" "$TMP/apt.log"
check "Postfix installed later: socket directory trustmilter:postfix 2750" \
	[ "$(st /var/spool/postfix/trustmilter)" = "trustmilter:postfix 2750" ]
check "Postfix installed later: postfix in group trustmilter" grep -qE '^trustmilter:.*[:,]postfix(,|$)' "$ROOT/etc/group"

# 5. remove keeps configuration and data; installing again (Postfix present).
echo "# local change" >>"$ROOT/etc/trustmilter/trustmilter.conf"
in_root apt-get remove -y -q trustmilter >>"$TMP/apt.log" 2>&1 || fail_all "apt-get remove" "$TMP/apt.log"
check "remove keeps /etc/trustmilter/trustmilter.conf" grep -q '^# local change' "$ROOT/etc/trustmilter/trustmilter.conf"
check "remove keeps /var/lib/trustmilter" [ -d "$ROOT/var/lib/trustmilter" ]
check "remove: binary gone" [ ! -e "$ROOT/usr/sbin/trustmilter" ]
in_root sh -c "cd /root && apt-get install -y -q ./$(basename "$DEB")" >>"$TMP/apt.log" 2>&1 \
	|| fail_all "apt-get install again" "$TMP/apt.log"
check "install again keeps the changed conffile" grep -q '^# local change' "$ROOT/etc/trustmilter/trustmilter.conf"
sed -i '/^# local change$/d' "$ROOT/etc/trustmilter/trustmilter.conf"

# 6. Postfix as the README says: the shipped snippet appended to main.cf,
# master.cf as shipped (smtpd chrooted). Test harness: a loopback port,
# everything relayed to an smtp-sink, XCLIENT from loopback, a log file.
check "stock master.cf runs smtpd chrooted" \
	[ "$(in_root postconf -M smtp/inet | awk '{print $5}')" = y ]
in_root sh -c 'cat /usr/share/doc/trustmilter/examples/postfix-main.cf.snippet >>/etc/postfix/main.cf'
PORT=$(free_port); SINK=$(free_port)
in_root postconf -e "inet_interfaces = loopback-only" "inet_protocols = ipv4" "mydestination =" \
	"relay_domains = recipient.invalid" "relayhost = [127.0.0.1]:$SINK" "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"maillog_file = /var/log/postfix.log"
in_root postconf -Me "127.0.0.1:$PORT/inet = 127.0.0.1:$PORT inet n - y - - smtpd"
in_root postconf -MX smtp/inet
check "test smtpd still chrooted" [ "$(in_root postconf -M "127.0.0.1:$PORT/inet" | awk '{print $5}')" = y ]
check "postfix check" in_root postfix check

# start_unit UNITFILE - the daemon as that systemd unit would start it:
# RuntimeDirectory, then ExecStartPre and ExecStart as User= with UMask=.
start_unit() {
	local unit=$1 user umask pre start
	val() { sed -n "s/^$1=//p" "$unit" | head -1; }
	user=$(val User); umask=$(val UMask); pre=$(val ExecStartPre); start=$(val ExecStart)
	install -d -o "$(in_root id -u "$user")" -g "$(in_root id -g "$user")" -m 755 "$ROOT/run/trustmilter"
	check "$LABEL: ExecStartPre (configuration test) as $user" quiet in_root setpriv --reuid="$user" \
		--regid="$user" --init-groups --inh-caps=-all sh -c "umask $umask; exec $pre"
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin setpriv --reuid="$user" \
		--regid="$user" --init-groups --inh-caps=-all sh -c "umask $umask; exec $start" >"$TMP/milter.log" 2>&1 &
	MPID=$!
	local sock=$ROOT/var/spool/postfix/trustmilter/trustmilter.sock i
	for i in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
	check "$LABEL: daemon listens on /var/spool/postfix/trustmilter/trustmilter.sock" [ -S "$sock" ]
	check "$LABEL: socket trustmilter:postfix 660" \
		[ "$(st /var/spool/postfix/trustmilter/trustmilter.sock)" = "trustmilter:postfix 660" ]
	local uid; uid=$(in_root id -u "$user" 2>/dev/null)
	check "$LABEL: daemon runs as $user" [ "$(stat -c %u "/proc/$MPID" 2>/dev/null)" = "${uid:-none}" ]
}
stop_unit() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null; MPID=; }

# mail ID - swaks to the chrooted smtpd as a client from 192.0.2.20 (XCLIENT);
# the copy in the sink carries our fields.
mail() {
	in_root swaks --server "127.0.0.1:$PORT" --xclient-addr 192.0.2.20 --xclient-name mta.example.invalid \
		--helo mta.example.invalid --from bounce@example.invalid --to user@recipient.invalid \
		--header "Subject: package test" --header "Message-ID: <$1@example.invalid>" \
		--body "package test" >"$TMP/swaks-$1.log" 2>&1
	check "$LABEL: swaks: message accepted (250)" grep -q '<- *250 .*queued' "$TMP/swaks-$1.log"
	local f= i
	for i in $(seq 1 150); do
		f=$(grep -l "$1@example.invalid" "$ROOT"/var/tmp/sink/* 2>/dev/null | head -1)
		[ -n "$f" ] && break; sleep 0.2
	done
	check "$LABEL: message delivered to the sink" [ -n "$f" ]
	check "$LABEL: delivered copy has our Authentication-Results with dmarc=" \
		bash -c "tr -d '\r' <'${f:-/dev/null}' | sed -n '/^Authentication-Results: /,/^[^ \t]/p' | grep -q 'dmarc='"
	check "$LABEL: delivered copy has X-Trustmilter" grep -q '^X-Trustmilter: ' "${f:-/dev/null}"
	check "$LABEL: daemon log: the message, inbound" grep -q 'dir=inbound' "$TMP/milter.log"
	check "$LABEL: Postfix log: no milter error" not grep -qiE 'milter.*(error|unavailable|connect to)' "$ROOT/var/log/postfix.log"
}

LABEL=package
start_unit "$UNIT"
mkdir -p "$ROOT/var/tmp/sink"; chown "$(in_root id -u postfix)" "$ROOT/var/tmp/sink"
chroot "$ROOT" smtp-sink -u postfix -d /var/tmp/sink/%Y%m%d%H%M%S. "127.0.0.1:$SINK" 10 >"$TMP/sink.log" 2>&1 &
SINKPID=$!
in_root /usr/lib/postfix/configure-instance.sh - >>"$TMP/pf.log" 2>&1
in_root postfix start >>"$TMP/pf.log" 2>&1 && PF_UP=1
check "postfix starts" [ -n "$PF_UP" ]
for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
mail pkg-1
stop_unit

# 7. purge removes configuration, data and the socket directory.
in_root apt-get purge -y -q trustmilter >>"$TMP/apt.log" 2>&1 || fail_all "apt-get purge" "$TMP/apt.log"
check "purge removes /etc/trustmilter" [ ! -e "$ROOT/etc/trustmilter" ]
check "purge removes /var/lib/trustmilter" [ ! -e "$ROOT/var/lib/trustmilter" ]
check "purge removes /var/spool/postfix/trustmilter" [ ! -e "$ROOT/var/spool/postfix/trustmilter" ]
check "purge keeps the system user" quiet in_root getent passwd trustmilter

# 8. the README's source install, in the same root (the runtime libraries
# are still there; the programs are built here): make install, the
# sysusers.d and tmpfiles.d entries, the socket directory; the unit as
# installed under /usr/local. The user is deleted first so that
# systemd-sysusers creates it. The host's systemd-sysusers and
# systemd-tmpfiles work on the root with --root (a minbase root has no
# systemd); with --root they take the file's path outside the root.
LABEL=source
in_root userdel trustmilter >/dev/null 2>&1; in_root groupdel trustmilter >/dev/null 2>&1
make -C "$TMP/src" install PREFIX=/usr/local DESTDIR="$ROOT" >"$TMP/install.log" 2>&1
check "make install PREFIX=/usr/local" [ $? = 0 ]
SUNIT=$ROOT/usr/local/lib/systemd/system/trustmilter.service
check "make install: unit with ExecStart=/usr/local/sbin/trustmilter" grep -q '^ExecStart=/usr/local/sbin/trustmilter ' "$SUNIT"
check "make install: docs and snippets" both "$ROOT/usr/local/share/doc/trustmilter/README.md" \
	"$ROOT/usr/local/share/doc/trustmilter/examples/postfix-main.cf.snippet"
check "systemd-sysusers /usr/local/lib/sysusers.d/trustmilter.conf" \
	quiet systemd-sysusers --root="$ROOT" "$ROOT/usr/local/lib/sysusers.d/trustmilter.conf"
check "source: user trustmilter created" quiet in_root getent passwd trustmilter
check "systemd-tmpfiles --create /usr/local/lib/tmpfiles.d/trustmilter.conf" \
	quiet systemd-tmpfiles --root="$ROOT" --create "$ROOT/usr/local/lib/tmpfiles.d/trustmilter.conf"
check "source: /var/lib/trustmilter trustmilter:trustmilter 750" [ "$(st /var/lib/trustmilter)" = "trustmilter:trustmilter 750" ]
check "install -d -o trustmilter -g postfix -m 2750 /var/spool/postfix/trustmilter" \
	in_root install -d -o trustmilter -g postfix -m 2750 /var/spool/postfix/trustmilter
start_unit "$SUNIT"
mail src-1
stop_unit
exit 0
