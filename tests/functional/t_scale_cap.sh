#!/bin/bash
# t_scale_cap: TTIN has a bound. Under RLIMIT_NPROC = 4 (prlimit), a
# generation of 2 grows to 4 workers and no further: each TTIN beyond is
# logged once as refused and ignored, the master keeps serving, and TTOU
# still works.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || skip "prlimit (util-linux) is missing"
port=$(pick_port)
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP
workers = 2
ready = notify
[listen http]
address = 127.0.0.1:$port
EOF2
BATON_CMD=(prlimit --nproc=4:4 -- "${BATON_CMD[@]}")
baton_start "$T/t.ini"

# ttin N_LINES: one TTIN, then wait for the N-th "scale:" line.
ttin()
{
	baton_signal TTIN
	wait_for "scale line $1" 10 \
		eval '[ "$(count_log "$T/baton.log" "scale: ")" -ge '"$1"' ]'
}
for i in 1 2 3 4; do
	ttin "$i"
done
[ "$(count_log "$T/baton.log" 'scale: refused beyond 4 workers \(RLIMIT_NPROC\)')" = 2 ] ||
	fail "expected 2 refusals: $(grep 'scale: ' "$T/baton.log")"
n=$(worker_pids "$BATON_PID" | wc -l)
[ "$n" = 4 ] || fail "$n workers, expected 4"
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "not serving"
baton_signal TTOU
wait_log "$T/baton.log" 'scale: generation 1 now has 3 workers' 10
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0"
pass "TTIN stopped at 4 workers under RLIMIT_NPROC 4, 2 refusals logged"
