#!/bin/bash
# t_reload_50: 50 HUPs under load lose nothing. 50 clients, a new connection
# per request, 10% of requests take 1.5 s and so span several reloads: the
# draining generation must finish them while the new one takes new ones.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 100
workers = 2
ready = notify
ready_timeout = 10s
stop_timeout = 20s
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF
baton_start "$T/t.ini"
load_start reload "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1
start=$(now_ms)
for i in $(seq 1 50); do
	baton_signal HUP
	wait_gen_active $((i + 1)) 30
	sleep 0.2
done
note "50 reloads took $(($(now_ms) - start)) ms"
# Let the slow requests of the last retired generation complete.
sleep 2
load_stop reload
assert_no_loss reload 1000
[ "$(count_log "$T/baton.log" 'rolled back')" = 0 ] ||
	fail "a reload was rolled back"
wait_for "every old generation gone" 30 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 50 ]'
n=$(worker_pids "$BATON_PID" | wc -l)
[ "$n" = 2 ] || fail "expected 2 workers at the end, found $n"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "50 reloads, $(json_get reload requests) requests, 0 lost"
