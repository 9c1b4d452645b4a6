#!/bin/bash
# stats-crash - the audit store under stress, with a real SQLite file:
#  - SIGTERM in the middle of a batch: everything submitted is recorded;
#  - SIGKILL in the middle: the database stays intact and everything the
#    writer reported as committed is there;
#  - a full disk (RLIMIT_FSIZE): submitting never blocks, records are dropped
#    and counted, the writer gives up cleanly at shutdown;
#  - a locked database: the same, and after the lock the queue is written and
#    the drop count lands in the drops table, which trustmilter-report shows.
SRC=${TM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${TM_BUILD:-$SRC/build}
T=${TM_TMP:-$(mktemp -d)}
LOAD=$B/tools/store-load
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && echo "$3" | sed 's/^/#   /'; fi; }
pids=""
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done' EXIT
count() { sqlite3 "$1" "SELECT count(*) FROM messages"; }

# wait_written FILE N - until the tool reports at least N written (or 10 s)
wait_written() {
	for _ in $(seq 100); do
		w=$(grep -o 'written=[0-9]*' "$1" 2>/dev/null | tail -1 | cut -d= -f2)
		[ -n "$w" ] && [ "$w" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# SIGTERM mid-run
"$LOAD" "sqlite:$T/term.db" 100000 term.test >"$T/term.out" 2>"$T/term.err" & p=$!; pids="$pids $p"
wait_written "$T/term.out" 300
kill -TERM $p; wait $p
final=$(grep '^final' "$T/term.out")
sub=$(echo "$final" | sed 's/.*submitted=\([0-9]*\).*/\1/')
[ "$(count "$T/term.db")" = "$sub" ] && echo "$final" | grep -q 'dropped=0'
ok $? "SIGTERM mid-batch: all $sub submitted records are in the database" "$final $(count "$T/term.db") $(cat "$T/term.err")"

# SIGKILL mid-run
"$LOAD" "sqlite:$T/kill.db" 100000 kill.test >"$T/kill.out" 2>"$T/kill.err" & p=$!; pids="$pids $p"
wait_written "$T/kill.out" 300
kill -KILL $p; wait $p 2>/dev/null
w=$(grep -o 'written=[0-9]*' "$T/kill.out" | tail -1 | cut -d= -f2)
[ "$(sqlite3 "$T/kill.db" 'PRAGMA integrity_check')" = ok ]
ok $? "SIGKILL mid-batch: database intact"
c=$(count "$T/kill.db")
[ "$c" -ge "$w" ]
ok $? "SIGKILL mid-batch: all $w records reported committed are there ($c)"

# full disk: the file may not grow past 256 KB (the schema fits, 3000 records do not)
"$LOAD" "sqlite:$T/full.db" 3000 full.test 262144 >"$T/full.out" 2>"$T/full.err"
final=$(grep '^final' "$T/full.out")
echo "$final" | grep -q 'submitted=.* written=[0-9]* dropped=[1-9]'
ok $? "full disk: records dropped and counted, the run completes" "$final $(cat "$T/full.err")"
w=$(echo "$final" | sed 's/.*written=\([0-9]*\).*/\1/')
[ "$(count "$T/full.db")" = "$w" ] && [ "$(sqlite3 "$T/full.db" 'PRAGMA integrity_check')" = ok ]
ok $? "full disk: the $w written records are intact"
grep -q 'failed (will retry)' "$T/full.err" && grep -q 'giving up at shutdown' "$T/full.err"
ok $? "full disk: failure and give-up are logged" "$(cat "$T/full.err")"

# locked database: another process holds the write lock for 2.5 s while the
# milter submits (its store opens without needing the lock)
"$LOAD" "sqlite:$T/lock.db" 1 warmup >/dev/null 2>&1
(sqlite3 "$T/lock.db" "BEGIN EXCLUSIVE; INSERT INTO drops VALUES (0, 'locker', 0);" ".shell sleep 2.5" "COMMIT;" >/dev/null 2>&1) & lp=$!; pids="$pids $lp"
sleep 0.3
"$LOAD" "sqlite:$T/lock.db" 2000 lock.test >"$T/lock.out" 2>"$T/lock.err"
wait $lp
final=$(grep '^final' "$T/lock.out")
dropped=$(echo "$final" | sed 's/.*dropped=\([0-9]*\).*/\1/')
written=$(echo "$final" | sed 's/.*written=\([0-9]*\).*/\1/')
[ "$dropped" -gt 0 ] && [ "$((dropped + written))" = 2000 ]
ok $? "locked database: submits never wait; $dropped dropped, $written written" "$final $(cat "$T/lock.err")"
[ "$(sqlite3 "$T/lock.db" "SELECT count(*) FROM messages WHERE host = 'lock.test'")" = "$written" ]
ok $? "locked database: what was accepted into the queue is recorded"
d=$("$B/trustmilter-report" --store "sqlite:$T/lock.db" --since 1h --format json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["dropped"])')
[ "$d" = "$dropped" ]
ok $? "trustmilter-report shows the $dropped dropped records" "$d"
