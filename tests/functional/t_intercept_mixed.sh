#!/bin/bash
# t_intercept_mixed: O_NONBLOCK belongs to the listening socket, which
# every worker shares. A reload from the Go server (non-blocking socket) to
# python's http.server (blocking) and back applies each new caller's choice
# and says once per worker that the generations disagree; both apps serve.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
mkdir -p "$T/www"
echo ok >"$T/www/index.html"
# conf COMMAND
conf()
{
	write_conf "$T/t.ini" <<EOF2
[app]
command = $1
workers = 2
ready = listen
ready_timeout = 30s
stop_signal = INT
stop_timeout = 10s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
EOF2
}
# nonblock: is the master's socket O_NONBLOCK now (from fdinfo)?
nonblock()
{
	local pid flags
	pid=$(installed_pid "$1" 0)
	flags=$(awk '/^flags:/ {print $2}' \
		"/proc/$pid/fdinfo/$(installed_fd "$1" 0)")
	echo $(( (8#$flags & 8#4000) != 0 ))
}
conf "$GOSERVER -addr 127.0.0.1:$port"
baton_start "$T/t.ini"
[ "$(nonblock 1)" = 1 ] || fail "Go's socket is not non-blocking"
conf "python3 -m http.server --bind 127.0.0.1 --directory $T/www $port"
baton_signal HUP
wait_gen_active 2 20
[ "$(nonblock 2)" = 0 ] || fail "python's socket is not blocking"
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "python answers not"
n=$(count_log "$T/baton.log" "generation 2 worker [01] pid [0-9]+: \[listen http\]: wants the socket blocking, [12] other workers? wanted it non-blocking: O_NONBLOCK is shared by every worker, it is now blocking")
{ [ "$n" -ge 1 ] && [ "$n" -le 2 ]; } ||
	fail "expected the disagreement logged once or twice (one per" \
	    "worker that flipped the flag), saw $n"
wait_log "$T/baton.log" 'generation 1: draining -> gone' 20
conf "$GOSERVER -addr 127.0.0.1:$port"
baton_signal HUP
wait_gen_active 3 20
[ "$(nonblock 3)" = 1 ] || fail "Go's socket is not non-blocking again"
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "Go answers not"
wait_log "$T/baton.log" "generation 3 worker [01] pid [0-9]+: \[listen http\]: wants the socket non-blocking, [12] other workers? wanted it blocking" 5
assert_installed 3 0
assert_installed 3 1
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "Go -> python -> Go: O_NONBLOCK followed the new generation, logged"
