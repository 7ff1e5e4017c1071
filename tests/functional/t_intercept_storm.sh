#!/bin/bash
# t_intercept_storm: a signal storm at the app while it binds. The Go
# server listens and closes 200 times before the listener it serves, while
# another thread floods the binding thread with SIGURG (tgkill): binds are
# interrupted while the master handles them and restart (Go's handlers are
# SA_RESTART). Every worker still ends with the master's socket installed
# and serves. Run twice: with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (this
# kernel), and without it, as on Linux < 5.19, where a signal can also
# interrupt a call the master already answered: ADDFD done, reply not yet.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
run()
{
	local name=$1 port sent withdrawn
	port=$(pick_port)
	: >"$T/baton.log"
	write_conf "$T/t.ini" <<EOF2
[app]
command = $GOSERVER -addr 127.0.0.1:$port -rebind 200 -storm
workers = 2
ready = listen
ready_timeout = 20s
stop_timeout = 10s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
EOF2
	BATON_CMD=("${BATON_CMD[@]}" -d)
	baton_start "$T/t.ini"
	for w in 0 1; do
		wait_log "$T/baton.log" "goserver: pid $(installed_pid 1 $w) listening on 127.0.0.1:$port fd [0-9]+ \(binds 201" 30
		assert_installed 1 $w
	done
	[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "no answer"
	sent=$(grep -oE 'signals sent while binding [0-9]+' "$T/baton.log" |
		awk '{s += $NF} END {print s + 0}')
	[ "$sent" -gt 1000 ] || fail "$name: only $sent signals were sent"
	[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
		fail "$name: warnings: $(grep '\[warn\]' "$T/baton.log" | head -3)"
	baton_signal QUIT
	baton_wait_exit 30 || fail "$name: baton did not exit 0 after QUIT"
	withdrawn=$(grep -oE '[0-9]+ notifications were withdrawn' \
		"$T/baton.log" | awk '{s += $1} END {print s + 0}')
	note "$name: 402 binds under $sent signals: $withdrawn notifications" \
	    "withdrawn by a signal and restarted;" \
	    "$(count_log "$T/baton.log" 'again on the installed') binds" \
	    "restarted after the socket was installed"
	WITHDRAWN[$name]=$withdrawn
	BATON_PID=
}
declare -A WITHDRAWN=()
run killable
BATON_INTERCEPT_NO_KILLABLE=1 run interruptible
# Without WAIT_KILLABLE_RECV restarts are certain under this storm.
[ "${WITHDRAWN[interruptible]}" -gt 0 ] ||
	fail "no bind was ever interrupted: the storm did not test anything"
pass "sockets installed after ${WITHDRAWN[killable]} and" \
    "${WITHDRAWN[interruptible]} restarted notifications"
