#!/bin/bash
# t_probes: the tcp: and http:// readiness checks, and dropping to user and
# group. The app listens on a port of its own (--listen) only after a
# delay; the worker must not count as ready before that port answers, and
# a probe that never passes makes the first generation fail (exit 1).
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
admin=$(pick_port)
# A connect succeeds once the app has called listen(), and an HTTP answer
# once it accepts: demoapp accepts after --ready-delay; late.py listens late.
cat >"$T/late.py" <<EOF
import socket, time
time.sleep(1.5)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", $admin))
s.listen()
time.sleep(1000)
EOF
conf()
{
	local cmd="$DEMOAPP --ready-delay 1500 --listen 127.0.0.1:$admin"
	case $1 in tcp:*) cmd="python3 $T/late.py" ;; esac
	write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
${2:-}
[app]
command = $cmd
ready = $1
ready_timeout = 5s
stop_timeout = 5s
[listen http]
address = 127.0.0.1:$port
EOF
}

# ready_after: ms from "starting 1 worker" to "starting -> ready".
ready_after()
{
	python3 - "$T/baton.log" <<'EOF'
import re, sys
from datetime import datetime
def ts(line):
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
start = ready = None
for line in open(sys.argv[1]):
    if start is None and re.search(r"generation 1: starting 1 worker", line):
        start = ts(line)
    if ready is None and re.search(r"generation 1 worker 0 pid \d+: starting -> ready", line):
        ready = ts(line)
print(int((ready - start).total_seconds() * 1000))
EOF
}

for probe in "tcp:127.0.0.1:$admin" "http://127.0.0.1:$admin/pid"; do
	: >"$T/baton.log"
	conf "$probe"
	baton_start "$T/t.ini"
	ms=$(ready_after)
	note "ready = $probe: ready after $ms ms (the app listens after 1500 ms)"
	[ "$ms" -ge 1400 ] || fail "$probe: ready after $ms ms, before the app listened"
	baton_signal QUIT
	baton_wait_exit 20 || fail "$probe: baton did not exit 0"
done

# A probe that never passes: a 404 path, and a port nobody listens on.
for probe in "http://127.0.0.1:$admin/nothing-here" "tcp:127.0.0.1:$port"; do
	: >"$T/baton.log"
	[ "$probe" = "tcp:127.0.0.1:$port" ] && probe="tcp:127.0.0.1:$(pick_port)"
	conf "$probe"
	"${BATON_CMD[@]}" -c "$T/t.ini" >>"$T/baton.log" 2>&1 &
	pid=$!
	track "$pid"
	wait_exit "$pid" 20
	rc=$?
	[ "$rc" = 1 ] || fail "$probe: baton exited $rc, expected 1"
	grep -qE 'generation 1: rolled back: worker 0 \(pid [0-9]+\) not ready after 5.000 s' \
		"$T/baton.log" || fail "$probe: no rollback logged"
	grep -q 'the first generation failed to start, exiting' "$T/baton.log" ||
		fail "$probe: no exit reason logged"
	[ -e "$T/t.pid" ] && fail "$probe: pidfile left behind"
	note "ready = $probe: never ready, baton exited 1 after ready_timeout"
done

# user and group: the worker runs as nobody:nogroup with only that group.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	: >"$T/baton.log"
	chmod 755 "$T"
	conf "http://127.0.0.1:$admin/" "user = nobody
group = nogroup"
	baton_start "$T/t.ini"
	w=$(worker_pids "$BATON_PID")
	uid=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$w/status")
	gid=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$w/status")
	groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$w/status" | xargs)
	u=$(id -u nobody)
	g=$(getent group nogroup | cut -d: -f3)
	[ "$uid" = "$u $u $u $u" ] || fail "worker uid: $uid, expected $u"
	[ "$gid" = "$g $g $g $g" ] || fail "worker gid: $gid, expected $g"
	[ "$groups" = "$g" ] || fail "worker groups: '$groups', expected '$g'"
	[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$BATON_PID/status")" = 0 ] ||
		fail "the master itself dropped root"
	note "user = nobody: worker $w has uid $uid gid $gid groups $groups"
	baton_signal QUIT
	baton_wait_exit 20 || fail "baton did not exit 0"
else
	note "not root: user/group drop not tested"
fi
pass
