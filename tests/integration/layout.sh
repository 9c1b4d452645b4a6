#!/bin/bash
# layout - the policy core does no I/O of its own beyond DNS: libtmpolicy.a
# starts no thread, opens no socket and calls neither SQLite nor libpq; no
# policy/ source includes stats/ beyond the record type (audit.h); programs
# and tests that do not use stats/ do not link SQLite or libpq.
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TM_BUILD:-$SRC/build}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
lib=$B/libtmpolicy.a
if [ ! -f "$lib" ]; then nok "$lib exists"; exit 1; fi
undef=$(nm -A -u "$lib" 2>/dev/null)
for pat in pthread_create socket bind listen accept accept4 connect 'sqlite3_[a-z_0-9]*' 'PQ[a-zA-Z]*' 'gz[a-z]*' 'deflate[A-Za-z0-9]*' 'inflate[A-Za-z0-9]*' 'xml[A-Za-z]*'; do
	hits=$(echo "$undef" | grep -E " U ${pat}(@.*)?$" | sed 's/^.*libtmpolicy.a://' | sort -u | tr '\n' ' ')
	if [ -z "$hits" ]; then ok "libtmpolicy.a does not call $pat"
	else nok "libtmpolicy.a calls $pat: $hits"; fi
done
bad=$(grep -lE '#include "(store|metrics)\.h"' "$SRC"/policy/*.c "$SRC"/policy/*.h 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then ok "policy/ includes neither store.h nor metrics.h"
else nok "policy/ includes stats/ code headers: $bad"; fi
bad=$(grep -lE '#include (<libxml|"(arf|aggrep|unpack|fbmime|ingest|feedstore)\.h")' "$SRC"/policy/*.c "$SRC"/policy/*.h 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then ok "policy/ includes neither libxml2 nor the feedback parsers"
else nok "policy/ includes feedback code: $bad"; fi
for f in stats/store.c stats/metrics.c stats/audit.h stats/feedstore.c feedback/arf.c feedback/aggrep.c \
	feedback/unpack.c check/main.c report/main.c milter/main.c; do
	if [ -f "$SRC/$f" ]; then ok "$f in its folder"; else nok "$f missing"; fi
done
if grep -qE 'filter-out[^)]*\.c' "$SRC/Makefile"; then nok "the Makefile picks sources without exceptions (filter-out found)"
else ok "the Makefile picks sources without exceptions"; fi
for p in tests/test_core tests/test_dkim tools/session-run; do
	l=$(ldd "$B/$p" 2>/dev/null | grep -oE 'lib(sqlite3|pq)\.so' | sort -u | tr '\n' ' ')
	if [ -z "$l" ]; then ok "$p links neither SQLite nor libpq"
	else nok "$p links $l"; fi
done
for p in trustmilter trustmilter-check trustmilter-report; do
	[ -x "$B/$p" ] || continue
	if ldd "$B/$p" | grep -q 'libsqlite3\.so'; then ok "$p links SQLite (the store)"
	else nok "$p does not link SQLite"; fi
done
