#!/bin/bash
# t_intercept_ipv6: a [::]:PORT listener (v6only = no) and a Go server
# started with -addr :PORT, which Go binds as [::]:PORT dual-stack: the
# bind is intercepted, the worker serves IPv4 and IPv6 clients on the
# master's socket, and reloads under load lose nothing.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
write_conf "$T/t.ini" <<EOF2
[app]
command = $GOSERVER -addr :$port
workers = 2
ready = listen
ready_timeout = 10s
stop_timeout = 20s
intercept_bind = yes
[listen http]
address = [::]:$port
v6only = no
EOF2
baton_start "$T/t.ini"
grep -qE "generation 1 worker 0 pid [0-9]+: bind\(fd [0-9]+, \[::\]:$port\) intercepted: installed \[listen http\]" \
	"$T/baton.log" || fail "no [::]:$port bind intercepted"
assert_installed 1 0
assert_installed 1 1
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "no answer on IPv4"
[ "$(http_get "http://[::1]:$port/")" = ok ] || fail "no answer on IPv6"
load_start v6 "http://[::1]:$port/" -c 20 --slow-fraction 0.1 --slow-ms 500
load_start v4 "http://127.0.0.1:$port/" -c 20 --slow-fraction 0.1 \
	--slow-ms 500
sleep 1
for i in 1 2 3 4 5; do
	baton_signal HUP
	wait_gen_active $((i + 1)) 20
	sleep 0.3
done
sleep 1
load_stop v6
load_stop v4
assert_no_loss v6 100
assert_no_loss v4 100
assert_installed 6 0
assert_installed 6 1
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "Go :$port on [::]:$port, 5 reloads, IPv4 and IPv6 clients, 0 lost"
