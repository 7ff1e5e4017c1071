#!/bin/bash
# t_slow_start: an app that needs 3 s before READY=1. The old generation
# serves alone until the new one is ready (every /pid answer meanwhile comes
# from an old worker), is retired only after, and nothing is lost.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
url=http://127.0.0.1:$port
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 3000
workers = 2
ready = notify
ready_timeout = 20s
stop_timeout = 20s
[listen http]
address = 127.0.0.1:$port
EOF
baton_start "$T/t.ini"
old=" $(worker_pids "$BATON_PID" | tr '\n' ' ')"
note "generation 1 workers:$old"
load_start slow "$url/" -c 50 --slow-fraction 0.1 --slow-ms 1500
sleep 1
baton_signal HUP
wait_log "$T/baton.log" 'generation 2: starting [0-9]+ workers' 10

# While generation 2 starts, every answer must come from generation 1.
answers=0
while ! grep -q 'generation 2: starting -> active' "$T/baton.log"; do
	pid=$(http_get "$url/pid") ||
		fail "no answer while generation 2 was starting"
	if [[ $old != *" $pid "* ]] &&
		! grep -q 'generation 2: starting -> active' "$T/baton.log"; then
		fail "pid $pid answered before generation 2 was ready"
	fi
	answers=$((answers + 1))
	[ "$answers" -lt 1000 ] || fail "generation 2 never became active"
	sleep 0.05
done
note "$answers answers, all from generation 1, while generation 2 started"
[ "$answers" -ge 10 ] ||
	fail "generation 2 was active too early ($answers answers)"

# The old generation was retired only after the new one was active.
active=$(grep -n 'generation 2: starting -> active' "$T/baton.log" | cut -d: -f1)
draining=$(grep -n 'generation 1: active -> draining' "$T/baton.log" | cut -d: -f1)
{ [ -n "$draining" ] && [ "$draining" -gt "$active" ]; } ||
	fail "generation 1 drained (line $draining) before 2 was active (line $active)"
wait_log "$T/baton.log" 'generation 1: draining -> gone' 30
new=" $(worker_pids "$BATON_PID" | tr '\n' ' ')"
for i in 1 2 3 4; do
	pid=$(http_get "$url/pid") || fail "no answer after the reload"
	[[ $new == *" $pid "* ]] || fail "pid $pid is not in generation 2 ($new)"
done
sleep 1
load_stop slow
assert_no_loss slow 200
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0"
pass "$answers answers from generation 1 during the 3 s start"
