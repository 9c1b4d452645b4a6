#!/bin/bash
# docs - every finding name the code can emit is documented in docs/FINDINGS.md,
# and every configuration key is in the manual page trustmilter.conf(5).
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0; fail=0
names=$(grep -ohE '"(spf|dkim|dmarc|arc|unsub|bulk|format|envelope|dns|limits|spam|feedback)\.[a-z0-9_.]+[a-z0-9]"' "$SRC"/policy/*.c "$SRC"/stats/*.c "$SRC"/feedback/*.c |
	tr -d '"' | sort -u)
for name in $names; do
	# configuration keys share prefixes with findings: skip names that are keys
	grep -qE "^[[:space:]]*\{ \"$name\"" "$SRC/policy/conf.c" && continue
	n=$((n + 1))
	if grep -qF "\`$name\`" "$SRC/docs/FINDINGS.md"; then echo "ok $n - finding $name documented"
	else echo "not ok $n - finding $name is not in docs/FINDINGS.md"; fi
done
for key in $(grep -oE '^	\{ "[a-z_.]+"' "$SRC/policy/conf.c" | cut -d'"' -f2); do
	n=$((n + 1))
	if grep -qF "$key" "$SRC/man/trustmilter.conf.5"; then echo "ok $n - key $key in trustmilter.conf(5)"
	else echo "not ok $n - key $key missing from man/trustmilter.conf.5"; fi
done
# The finding table in policy/findings.c (policy rules are checked against it by
# trustmilter -n) must hold exactly the names of docs/FINDINGS.md's finding tables,
# and every finding name the code emits (spam signals are not findings).
table=$(sed -n '/^static const char \*const known\[\] = {/,/^};/p' "$SRC/policy/findings.c" |
	grep -oE '"[a-z0-9_.]+"' | tr -d '"' | sort -u)
documented=$(awk -F'|' '/^\| name \| meaning \|/{t=1;next} /^$/{t=0} t && $2 !~ /---/ {print $2}' \
	"$SRC/docs/FINDINGS.md" | grep -oE '`[a-z0-9_.]+`' | tr -d '`' | sort -u)
signals=$(awk -F'|' '/^\| signal \|/{t=1;next} /^$/{t=0} t && $2 !~ /---/ {print $2}' \
	"$SRC/docs/FINDINGS.md" | grep -oE '`[a-z0-9_.A-Z]+`' | tr -d '`' | sort -u)
n=$((n + 1))
d=$(comm -3 <(echo "$table") <(echo "$documented"))
if [ -z "$d" ]; then echo "ok $n - finding table in policy/findings.c matches docs/FINDINGS.md"
else echo "not ok $n - finding table and docs/FINDINGS.md differ (left: table only, right: docs only):"; echo "$d" | sed 's/^/# /'; fi
emitted=$(grep -ohE '"(spf|dkim|dmarc|arc|unsub|bulk|format|envelope|dns|limits|spam|feedback)\.[a-z0-9_.]+[a-z0-9]"' \
	"$SRC"/policy/*.c "$SRC"/stats/*.c "$SRC"/feedback/*.c "$SRC"/milter/*.c "$SRC"/check/*.c "$SRC"/report/*.c | tr -d '"' | sort -u)
missing=0
for name in $emitted; do
	grep -qE "^[[:space:]]*\{ \"$name\"" "$SRC/policy/conf.c" && continue
	echo "$signals" | grep -qxF "$name" && continue
	case $name in spam.dnsbl|spam.uribl|spam.dnsbl.*|spam.uribl.*) continue;; esac
	echo "$table" | grep -qxF "$name" && continue
	n=$((n + 1)); missing=1
	echo "not ok $n - finding $name emitted by the code is not in the table of policy/findings.c"
done
[ $missing = 0 ] && { n=$((n + 1)); echo "ok $n - every emitted finding name is in the finding table"; }
# Meaning and fix: docs/FINDINGS.md's finding tables are the rows of the help
# table in policy/findings.c, as trustmilter-check --print-findings prints them.
BUILD=${TM_BUILD:-$SRC/build}
n=$((n + 1))
printed=$("$BUILD/trustmilter-check" --print-findings 2>&1 | sort)
rows=$(awk '/^\| name \| meaning \| fix \|/{t=1;next} /^$/{t=0} t && !/^\|---/' "$SRC/docs/FINDINGS.md" | sort)
d=$(comm -3 <(echo "$printed") <(echo "$rows"))
if [ -n "$printed" ] && [ -z "$d" ]; then echo "ok $n - docs/FINDINGS.md rows are the finding help table (meaning and fix)"
else
	echo "not ok $n - docs/FINDINGS.md and the help table of policy/findings.c differ (left: table, as"
	echo "#   \`trustmilter-check --print-findings\` prints it: copy that row into docs/FINDINGS.md;"
	echo "#   right: docs only: add the row to help[] in policy/findings.c or remove it):"
	echo "$d" | sed 's/^/# /'
fi
