#!/bin/bash
# t_upgrade: 10 binary upgrades in a row under load, each the nginx way:
# USR2 to the master, wait for the new master's generation, WINCH then QUIT
# to the old one. Nothing is lost; at each step PIDFILE and PIDFILE.oldbin
# hold the right pids; no process is left behind.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
# The binary is run from a copy: an upgrade execs whatever is at that path.
cp "$BUILD/baton" "$T/baton"
BATON_CMD=("${BATON_CMD[@]/#$BUILD\/baton/$T/baton}")
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 200
workers = 2
ready = notify
ready_timeout = 10s
stop_timeout = 20s
[listen http]
address = 127.0.0.1:$port
EOF
baton_start "$T/t.ini"
load_start up "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1
old=$BATON_PID
for i in $(seq 1 10); do
	[ "$(cat "$T/t.pid")" = "$old" ] || fail "step $i: pidfile is not $old"
	kill -USR2 "$old"
	await_new_master "$old"
	new=$NEW_MASTER
	wait_log "$T/baton.log" "baton\[$new\]: generation [0-9]+: starting -> active" 15
	wait_for "step $i: pidfile holds the new master" 5 \
		eval "[ \"\$(cat $T/t.pid 2>/dev/null)\" = $new ]"
	[ "$(cat "$T/t.pid.oldbin")" = "$old" ] ||
		fail "step $i: $T/t.pid.oldbin does not hold $old"
	kill -WINCH "$old"
	wait_log "$T/baton.log" "baton\[$old\]: generation [0-9]+: draining -> gone" 30
	kill -QUIT "$old"
	wait_for "step $i: old master $old exits" 30 eval "! alive $old"
	[ -e "$T/t.pid.oldbin" ] && fail "step $i: .oldbin left after QUIT"
	[ "$(cat "$T/t.pid")" = "$new" ] || fail "step $i: pidfile lost"
	note "step $i: master $old -> $new"
	old=$new
	sleep 0.3
done
BATON_PID=$old
sleep 2
load_stop up
assert_no_loss up 1000
# One master, one generation of 2 workers, and nothing else of ours.
n=$(worker_pids "$BATON_PID" | wc -l)
[ "$n" = 2 ] || fail "expected 2 workers under the last master, found $n"
gens=$(grep -oE 'generation [0-9]+: starting -> active' "$T/baton.log" | wc -l)
[ "$gens" = 11 ] || fail "expected 11 generations, saw $gens"
kill -QUIT "$BATON_PID"
wait_for "the last master exits" 30 eval "! alive $BATON_PID"
[ -e "$T/t.pid" ] && fail "pidfile left after the last QUIT"
pass "10 upgrades, $(json_get up requests) requests, 0 lost"
