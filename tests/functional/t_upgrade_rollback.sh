#!/bin/bash
# t_upgrade_rollback: every way a USR2 upgrade can fail, under load. In
# each the old master restores PIDFILE, its generation goes on serving, and
# nothing is lost:
#   (a) the new binary is broken (exits at once),
#   (b) the new config is invalid,
#   (c) the new generation never gets ready,
#   (d) WINCH, then HUP to the old master (nginx's rollback),
#   (e) TERM to the new master after WINCH: the old master respawns alone.
# Also: a USR2 while an upgrade is pending is refused with a reason, and
# upgrade_retire_old = yes has the new master QUIT the old one.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
url=http://127.0.0.1:$port
cp "$BUILD/baton" "$T/baton"
BATON_CMD=("${BATON_CMD[@]/#$BUILD\/baton/$T/baton}")
conf()
{
	write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
${2:-}
[app]
command = $DEMOAPP --ready-delay 100 ${1:-}
workers = 2
ready = notify
ready_timeout = 3s
stop_timeout = 20s
[listen http]
address = 127.0.0.1:$port
EOF
}
# new_master OLD: the pid of the last master OLD started.
new_master()
{
	grep -oE "baton\[$1\]: upgrade: started new master pid [0-9]+" \
		"$T/baton.log" | tail -n 1 | awk '{print $NF}'
}
# usr2: send USR2 to the old master and wait for it to start a new one.
usr2()
{
	local before
	before=$(count_log "$T/baton.log" "baton\[$BATON_PID\]: upgrade: started new master")
	kill -USR2 "$BATON_PID"
	wait_for "a new master" 10 eval "[ \$(count_log $T/baton.log 'baton\[$BATON_PID\]: upgrade: started new master') -gt $before ]"
}
# rolled_back: how many upgrades the old master reported as rolled back.
rolled_back()
{
	count_log "$T/baton.log" "baton\[$BATON_PID\]: upgrade: $T/t.pid restored"
}
# old_workers: the old master's children but the new master.
old_workers()
{
	worker_pids "$BATON_PID" | grep -vx "${new:-0}" || true
}
assert_serving()
{
	local pid
	[ "$(cat "$T/t.pid" 2>/dev/null)" = "$BATON_PID" ] ||
		fail "$1: pidfile does not hold the old master $BATON_PID"
	[ -e "$T/t.pid.oldbin" ] && fail "$1: .oldbin left behind"
	for _ in 1 2 3; do
		pid=$(http_get "$url/pid") || fail "$1: no answer"
		[[ " $(worker_pids "$BATON_PID" | tr '\n' ' ')" == *" $pid "* ]] ||
			fail "$1: pid $pid is not a worker of the old master"
	done
	note "$1: rolled back, pidfile holds $BATON_PID, its workers serve"
}

conf ""
baton_start "$T/t.ini"
load_start rb "$url/" -c 50 --slow-fraction 0.1 --slow-ms 1500
sleep 1

# (a) A broken binary at the path baton was started from.
mv "$T/baton" "$T/baton.good"
printf '#!/bin/sh\necho "broken build" >&2\nexit 1\n' >"$T/baton"
chmod +x "$T/baton"
kill -USR2 "$BATON_PID"
wait_for "(a) rollback" 10 eval '[ "$(rolled_back)" = 1 ]'
grep -qE "upgrade: new master pid [0-9]+ exited with status 1" "$T/baton.log" ||
	fail "(a) the new master's failure is not logged"
assert_serving "(a) broken binary"
mv "$T/baton.good" "$T/baton"

# (b) An invalid config for the new master.
conf "" "bogus_key = 1"
kill -USR2 "$BATON_PID"
wait_for "(b) rollback" 10 eval '[ "$(rolled_back)" = 2 ]'
grep -q "t.ini:3: bogus_key: unknown key in \[baton\]" "$T/baton.log" ||
	fail "(b) the config error is not logged"
assert_serving "(b) invalid config"

# (c) The new generation never gets ready.
conf --hang-on-start
usr2
new=$(new_master "$BATON_PID")
wait_for "(c) rollback" 15 eval '[ "$(rolled_back)" = 3 ]'
grep -qE "baton\[$new\]: generation [0-9]+: rolled back: .*not ready after 3.000 s" \
	"$T/baton.log" || fail "(c) the new master's rollback is not logged"
assert_serving "(c) never ready"

# (d) WINCH, then HUP to the old master: its workers come back.
conf ""
usr2
new=$(new_master "$BATON_PID")
track "$new"
wait_log "$T/baton.log" "baton\[$new\]: generation [0-9]+: starting -> active" 10
# A second USR2 while this one is pending is refused, with the reason.
kill -USR2 "$BATON_PID"
wait_log "$T/baton.log" "baton\[$BATON_PID\]: upgrade: refused: the new master pid $new" 5
kill -USR2 "$new"
wait_log "$T/baton.log" "baton\[$new\]: upgrade: refused: the master this one replaced \(pid $BATON_PID\) still runs" 5
kill -WINCH "$BATON_PID"
wait_for "(d) old workers retired" 30 eval '[ -z "$(old_workers)" ]'
kill -HUP "$BATON_PID"
wait_log "$T/baton.log" "baton\[$BATON_PID\]: reload: upgrade in progress and no generation serves" 5
wait_for "(d) old workers back" 10 eval '[ "$(old_workers | wc -l)" = 2 ]'
wait_log "$T/baton.log" "baton\[$BATON_PID\]: generation [0-9]+: starting -> active" 10
kill -QUIT "$new"
wait_for "(d) rollback" 30 eval '[ "$(rolled_back)" = 4 ]'
assert_serving "(d) WINCH then HUP"

# (e) WINCH, then TERM to the new master: the old one serves by itself.
usr2
new=$(new_master "$BATON_PID")
track "$new"
wait_log "$T/baton.log" "baton\[$new\]: generation [0-9]+: starting -> active" 10
kill -WINCH "$BATON_PID"
wait_for "(e) old workers retired" 30 eval '[ -z "$(old_workers)" ]'
kill -TERM "$new"
wait_for "(e) rollback" 30 eval '[ "$(rolled_back)" = 5 ]'
wait_log "$T/baton.log" "baton\[$BATON_PID\]: upgrade: no generation serves \(WINCH\): starting one" 5
wait_for "(e) old workers back" 10 eval '[ "$(old_workers | wc -l)" = 2 ]'
sleep 0.5
assert_serving "(e) TERM to the new master"

# upgrade_retire_old = yes: the new master QUITs the old one once ready.
conf "" "upgrade_retire_old = yes"
usr2
new=$(new_master "$BATON_PID")
track "$new"
wait_log "$T/baton.log" "baton\[$new\]: upgrade: ready; upgrade_retire_old: sending QUIT to the old master pid $BATON_PID" 15
wait_for "(f) old master exits" 30 eval "! alive $BATON_PID"
[ "$(cat "$T/t.pid")" = "$new" ] || fail "(f) pidfile does not hold $new"
[ -e "$T/t.pid.oldbin" ] && fail "(f) .oldbin left behind"
note "(f) upgrade_retire_old: $BATON_PID quit by itself, $new serves"
BATON_PID=$new
sleep 2
load_stop rb
assert_no_loss rb 500
kill -QUIT "$BATON_PID"
wait_for "the last master exits" 30 eval "! alive $BATON_PID"
pass "5 failed upgrades rolled back and one retire_old upgrade, 0 lost"
