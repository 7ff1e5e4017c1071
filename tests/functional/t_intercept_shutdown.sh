#!/bin/bash
# t_intercept_shutdown: a worker calling shutdown(SHUT_RDWR) on its
# listener, as some servers do to wake their own accept loop, would stop
# the shared socket for every worker of every generation. Under
# intercept_bind it is answered 0 without touching the socket: both
# workers go on serving, under load, nothing lost. The contrast: the same
# call on an inherited socket without interception stops the listener.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
write_conf "$T/t.ini" <<EOF2
[app]
command = $GOSERVER -addr 127.0.0.1:$port -shutdown-listener 0
workers = 2
ready = listen
ready_timeout = 10s
stop_timeout = 20s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
EOF2
baton_start "$T/t.ini"
wait_log "$T/baton.log" "generation 1 worker 0 pid [0-9]+: shutdown\(fd [0-9]+\) on \[listen http\] answered without touching the shared socket" 10
wait_log "$T/baton.log" 'goserver: pid [0-9]+: shutdown\(fd [0-9]+, SHUT_RDWR\) returned <nil>' 10
assert_installed 1 0
assert_installed 1 1
load_start shut "http://127.0.0.1:$port/" -c 50
sleep 3
load_stop shut
assert_no_loss shut 1000
# Both workers, the one that shut down included, still accept.
w0=$(installed_pid 1 0)
w1=$(installed_pid 1 1)
declare -A seen=()
for _ in $(seq 1 200); do
	p=$(http_get "http://127.0.0.1:$port/pid") || fail "a request failed"
	seen[$p]=1
	[ -n "${seen[$w0]:-}" ] && [ -n "${seen[$w1]:-}" ] && break
done
[ -n "${seen[$w0]:-}" ] || fail "worker 0 (pid $w0) answers no more"
[ -n "${seen[$w1]:-}" ] || fail "worker 1 (pid $w1) answers no more"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"

# Contrast, without interception: an app shutting down its inherited fd 3.
port2=$(pick_port)
write_conf "$T/t2.ini" <<EOF2
[app]
command = python3 -c "import socket, time; s = socket.socket(fileno=3); s.shutdown(socket.SHUT_RDWR); time.sleep(60)"
ready = delay:1s
ready_timeout = 10s
[listen http]
address = 127.0.0.1:$port2
EOF2
: >"$T/baton.log"
baton_start "$T/t2.ini"
[ "$(http_status "http://127.0.0.1:$port2/")" = 000 ] ||
	fail "the listener survived a shutdown() without interception"
note "without interception, one worker's shutdown() stopped the listener"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "shutdown() on the installed socket: both workers served" \
    "$(json_get shut requests) requests, 0 lost"
