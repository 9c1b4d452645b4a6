#!/bin/bash
# docs - every finding name the code can emit is documented in docs/FINDINGS.md,
# and every configuration key is in the manual page trustmilter.conf(5).
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0; fail=0
names=$(grep -ohE '"(spf|dkim|dmarc|unsub|bulk|format|envelope|dns|limits|spam)\.[a-z0-9_.]+[a-z0-9]"' "$SRC"/policy/*.c |
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
