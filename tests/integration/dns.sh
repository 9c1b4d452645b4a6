#!/bin/bash
# dns.sh - policy/dns.c against a real unbound (tests/lib/dnsd.py) on loopback:
# NOERROR, NXDOMAIN, NODATA, TIMEOUT within the deadline, SERVFAIL, budget,
# multi-string TXT, TXT with NUL/CR/LF, a name with a space, CNAME, MX, PTR,
# and many threads sharing one resolver.
set -u
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TM_BUILD:-$SRC/build}
TMP=${TM_TMP:-$(mktemp -d)}
Q=$BUILD/tools/dns-query
D=$TMP/dnsd
trap '/usr/bin/python3 "$SRC/tests/lib/dnsd.py" stop "$D"' EXIT

cat >"$TMP/zones.yaml" <<'Z'
example.com:
  - TXT: "v=spf1 -all"
  - A: 192.0.2.1
  - AAAA: "2001:db8::1"
  - MX: [10, mx.example.com]
multi.example.com:
  - TXT: ["v=spf1 ", "ip4:192.0.2.1", " -all"]
nul.example.com:
  - TXT: "a\0b\r\nc"
sp ace.example.com:
  - TXT: "space"
alias.example.com:
  - CNAME: example.com
sub.deep.example.org:
  - A: 192.0.2.7
slow.example.com:
  - A: 192.0.2.9
  - TIMEOUT
broken.example.com:
  - SERVFAIL
5.2.0.192.in-addr.arpa:
  - PTR: Host.Example.com
Z
ADDR=$(/usr/bin/python3 "$SRC/tests/lib/dnsd.py" start "$D" "$TMP/zones.yaml") || { echo "not ok - dnsd start"; exit 1; }
echo "ok - dnsd started at $ADDR"

check() { # name, expected regex (grep -E), dns-query args...
	local name=$1 re=$2; shift 2
	local out
	out=$("$Q" --dns "$ADDR" "$@" 2>&1)
	if printf '%s\n' "$out" | grep -qE -- "$re"; then echo "ok - $name"
	else echo "not ok - $name"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}
check "NOERROR A" '^  A 192\.0\.2\.1$' example.com A
check "NOERROR AAAA" '^  AAAA 2001:db8::1$' example.com AAAA
check "MX preference and name" '^  MX 10 mx\.example\.com$' example.com MX
check "NXDOMAIN" '^nx\.example\.com A nxdomain rcode=3' nx.example.com A
check "NODATA (name exists, no such type)" '^example\.com PTR nodata rcode=0' example.com PTR
check "NODATA for empty non-terminal" '^deep\.example\.org A nodata' deep.example.org A
check "multi-string TXT joined without separator" '^  TXT v=spf1 ip4:192\.0\.2\.1 -all$' multi.example.com TXT
check "TXT with NUL CR LF" '^  TXT a\\x00b\\x0d\\x0ac$' nul.example.com TXT
check "name with a space queried literally" '^  TXT space$' "sp ace.example.com" TXT
check "CNAME followed" '^  A 192\.0\.2\.1$' alias.example.com A
check "SERVFAIL/REFUSED is tempfail" '^broken\.example\.com A tempfail' broken.example.com A
check "PTR keeps case" '^  PTR Host\.Example\.com$' 5.2.0.192.in-addr.arpa PTR
check "transparent test. zone reaches the server" '^x\.test A nxdomain rcode=3' x.test A
check "empty label is badname" '^a\.\.example\.com A badname' a..example.com A
check "64-char label is badname" 'badname' a123456789012345678901234567890123456789012345678901234567890123.example.com A
check "listed type before TIMEOUT answers" '^  A 192\.0\.2\.9$' slow.example.com A
check "budget exhausted" '^example\.com AAAA budget' --budget 2 example.com A example.com MX example.com AAAA
check "budget counts" '^budget used=2 ' --budget 2 example.com A example.com MX example.com AAAA

t0=$(date +%s%N)
out=$("$Q" --dns "$ADDR" --timeout-ms 400 slow.example.com TXT 2>&1)
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
if printf '%s\n' "$out" | grep -q '^slow.example.com TXT tempfail rcode=-1 reason=timeout' && [ "$ms" -lt 1500 ]; then
	echo "ok - TIMEOUT returns tempfail near the deadline (${ms} ms for 400 ms)"
else
	echo "not ok - TIMEOUT (${ms} ms)"; printf '%s\n' "$out" | sed 's/^/# /'
fi
check "after a timeout the forwarder still answers" '^  A 192\.0\.2\.1$' --timeout-ms 300 slow.example.com TXT example.com A

check "16 threads share one resolver" '^threads ok$' --threads 16 --rounds 20 \
	example.com A nx.example.com A example.com PTR multi.example.com TXT broken.example.com A
check "threads with timeouts mixed in" '^threads ok$' --timeout-ms 300 --threads 8 --rounds 2 \
	example.com A slow.example.com TXT nx.example.com A
