#!/bin/bash
# t_rollback: a HUP to a command that crashes on start, and to one that
# hangs and never gets ready, is rolled back under load: nothing is lost,
# the rollback is logged, and the very same worker processes go on serving.
# A HUP to a fixed config afterwards works again.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
url=http://127.0.0.1:$port
conf()
{
	write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 100 $1
workers = 2
ready = notify
ready_timeout = 3s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$port
EOF
}
conf ""
baton_start "$T/t.ini"
pids=$(worker_pids "$BATON_PID" | tr '\n' ' ')
note "generation 1 workers: $pids"
load_start rb "$url/" -c 50 --slow-fraction 0.1 --slow-ms 1500
sleep 1

conf --crash-on-start
baton_signal HUP
wait_log "$T/baton.log" \
	'generation 2: rolled back: worker [0-9] exited with status 1 before it was ready; generation 1 keeps serving' 15
wait_log "$T/baton.log" 'generation 2: draining -> gone' 15
sleep 1

conf --hang-on-start
baton_signal HUP
wait_log "$T/baton.log" \
	'generation 3: rolled back: worker [0-9] \(pid [0-9]+\) not ready after 3.000 s; generation 1 keeps serving' 15
wait_log "$T/baton.log" 'generation 3: draining -> gone' 15
sleep 1

now=$(worker_pids "$BATON_PID" | tr '\n' ' ')
[ "$now" = "$pids" ] || fail "workers changed: $pids -> $now"
for i in 1 2 3 4; do
	pid=$(http_get "$url/pid") || fail "no answer after the rollbacks"
	[[ " $pids" == *" $pid "* ]] || fail "pid $pid is not an original worker"
done
grep -q 'generation 1: active -> draining' "$T/baton.log" &&
	fail "generation 1 was retired by a failed reload"

# A good config again: generation 4 takes over.
conf ""
baton_signal HUP
wait_gen_active 4 15
wait_log "$T/baton.log" 'generation 1: draining -> gone' 20
sleep 1
load_stop rb
assert_no_loss rb 500
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0"
pass "crash and hang rolled back, same pids ($pids), 0 lost"
