#!/bin/bash
# t_intercept_python: `python3 -m http.server --bind 127.0.0.1 PORT`, which
# binds its own socket and knows nothing of inherited ones, run with
# intercept_bind = yes and ready = listen: 50 HUPs under load, 0 lost.
# Every worker's bind is intercepted and /proc shows its descriptor is the
# master's socket.
#
# http.server cannot stop gracefully: on SIGINT its main thread may be
# between accept() and handing the connection to a thread, and drops it
# (on SIGTERM it dies with everything it holds). intercept_accept makes up
# for it: a retiring worker's accept() is held, and its stop signal waits
# until it holds no connection. The negative control first: 10 HUPs without
# intercept_accept lose requests (none refused: the socket is always
# there), which is the app's own doing.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

port=$(pick_port)
mkdir -p "$T/www"
echo ok >"$T/www/index.html"

# py_conf INTERCEPT_ACCEPT
py_conf()
{
	write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = python3 -m http.server --bind 127.0.0.1 --directory $T/www $port
workers = 2
ready = listen
ready_timeout = 30s
stop_signal = INT
stop_timeout = 5s
intercept_bind = yes
intercept_accept = $1
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
}

# hups NAME N: N HUPs under load (50 clients, a connection per request).
hups()
{
	local i
	load_start "$1" "http://127.0.0.1:$port/" -c 50
	sleep 1
	start=$(now_ms)
	for i in $(seq 1 "$2"); do
		baton_signal HUP
		wait_gen_active $((i + 1)) 30
		sleep 0.2
	done
	note "$2 reloads took $(($(now_ms) - start)) ms"
	sleep 2
	load_stop "$1"
	wait_for "every old generation gone" 30 \
		eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = '"$2"' ]'
	[ "$(count_log "$T/baton.log" 'rolled back')" = 0 ] ||
		fail "a reload was rolled back"
}

# The negative control.
py_conf no
baton_start "$T/t.ini"
hups plain 10
plain_lost=$(json_get plain lost)
note "without intercept_accept: $(load_summary plain)"
[ "$plain_lost" -gt 0 ] ||
	fail "10 reloads of http.server lost nothing without intercept_accept"
for k in refused timeout; do
	[ "$(json_get plain $k)" = 0 ] ||
		fail "$k is not 0: the socket was not always there:" \
		    "$(load_summary plain)"
done
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
mv "$T/baton.log" "$T/plain.log"

# The proof: 50 HUPs, 0 lost.
py_conf yes
baton_start "$T/t.ini"
assert_installed 1 0
assert_installed 1 1
hups held 50
assert_no_loss held 1000
n=$(count_log "$T/baton.log" 'intercepted: installed \[listen http\]')
[ "$n" = 102 ] || fail "expected 102 intercepted binds (51 x 2), saw $n"
assert_installed 51 0
assert_installed 51 1
n=$(count_log "$T/baton.log" 'drained in [0-9]+ ms .*: sending INT')
[ "$n" = 100 ] || fail "expected 100 retired workers to drain, saw $n"
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings logged: $(grep '\[warn\]' "$T/baton.log" | head -3)"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "50 reloads, $(json_get held requests) requests, 0 lost" \
    "($plain_lost lost in 10 without intercept_accept, 0 refused)"
