#!/bin/bash
# t_stdio_closed: started with stdin, stdout and stderr closed (as by a
# careless init script), the master puts /dev/null on 0-2 before it opens
# anything, so its own descriptors (the event loop's, the log file) never
# take those numbers; it logs to its file, serves, reloads, and stops.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
log = $T/baton.log
[app]
command = $DEMOAPP
workers = 1
ready = notify
[listen http]
address = 127.0.0.1:$port
EOF2
"${BATON_CMD[@]}" -c "$T/t.ini" <&- >&- 2>&- &
BATON_PID=$!
track "$BATON_PID"
wait_log "$T/baton.log" 'generation 1: starting -> active' 20
for fd in 0 1 2; do
	link=$(readlink "/proc/$BATON_PID/fd/$fd") ||
		fail "the master has no fd $fd"
	[ "$link" = /dev/null ] || fail "the master's fd $fd is $link, not /dev/null"
done
# The log file is the master's own, above 2.
logfd=$(proc_fds "$BATON_PID" | awk -v f="$T/baton.log" '$2 == f {print $1}')
{ [ -n "$logfd" ] && [ "$logfd" -gt 2 ]; } || fail "log file fd '$logfd'"
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "not serving"
baton_signal HUP
wait_gen_active 2
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0"
pass "fds 0-2 on /dev/null, log on fd $logfd, reload and stop as usual"
