#!/bin/bash
# t_intercept_go: an unmodified static Go server that binds its own address
# (net.Listen), run with intercept_bind = yes and ready = listen: 50 HUPs
# under load lose nothing, every worker's bind is intercepted, and /proc
# shows the worker's descriptor is the master's very socket.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $GOSERVER -addr 127.0.0.1:$port
workers = 2
ready = listen
ready_timeout = 10s
stop_signal = TERM
stop_timeout = 20s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
"${BATON_CMD[@]}" -t -c "$T/t.ini" || fail "baton -t refused the config"
baton_start "$T/t.ini"
assert_installed 1 0
assert_installed 1 1
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
sleep 2
load_stop reload
assert_no_loss reload 1000
[ "$(count_log "$T/baton.log" 'rolled back')" = 0 ] ||
	fail "a reload was rolled back"
n=$(count_log "$T/baton.log" 'intercepted: installed \[listen http\]')
[ "$n" = 102 ] || fail "expected 102 intercepted binds (51 x 2), saw $n"
assert_installed 51 0
assert_installed 51 1
wait_for "every old generation gone" 30 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 50 ]'
# Graceful Shutdown on TERM: every retired Go worker exited 0.
n=$(count_log "$T/baton.log" 'pid [0-9]+: exited with status 0$')
[ "$n" = 100 ] || fail "expected 100 workers to exit 0 on TERM, saw $n"
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings logged: $(grep '\[warn\]' "$T/baton.log" | head -3)"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "50 reloads, $(json_get reload requests) requests, 0 lost"
