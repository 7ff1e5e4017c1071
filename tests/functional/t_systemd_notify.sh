#!/bin/bash
# t_systemd_notify: baton as a Type=notify service (NotifyAccess=all) under
# fakesystemd tells systemd exactly what it does, from the master's pid only:
# READY=1 once generation 1 is active; RELOADING=1 (with MONOTONIC_USEC) then
# READY=1 around a HUP, also when the reload is rolled back (STATUS= says
# so) or the workers are not notify-ready; a serving worker's crash
# updates STATUS= alone (respawning, or not respawned on exit 78); after
# USR2 the new master sends MAINPID=<its pid> and READY=1, systemd follows
# it, and the QUIT of the old master leaves the service running; a USR2
# rolled back by TERM to the new master leaves it running under the old
# one; STOPPING=1 on TERM.  No worker's message ever reaches systemd.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/systemd.sh"

port=$(pick_port)
url=http://127.0.0.1:$port
conf()
{
	write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 100 $1
workers = 2
ready = ${2:-notify}
ready_timeout = 3s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$port
EOF
}
conf ""
# A stop timeout shorter than the test: a STOPPING=1 that systemd would act
# on shows as a state change here, and fakesystemd kills the service later.
fake_start --stop-timeout 20 -- "$T/t.ini"
master=$BATON_PID

# --- start: READY=1 once generation 1 is active -----------------------
sd_wait "READY=1 from the master" \
	"^${master}[|]READY=1[|]STATUS=[^|]*generation 1" 10
# The master logs the transition before it tells systemd: if READY=1 is
# there, so must the line be.
grep -qE "baton\\[$master\\]: generation 1: starting -> active" \
	"$T/baton.log" || fail "READY=1 sent before generation 1 was active"
[ "$(fake_state)" = running ] || fail "fakesystemd state $(fake_state)"
kinds=$(sd_kinds "$master")
[ "$kinds" = READY ] || fail "master sent '$kinds' at start, want 'READY'"
note "start: $(sd_msgs | grep -E "^${master}[|]READY=1")"
http_get "$url/" >/dev/null || fail "not served after READY=1"

# --- HUP: RELOADING=1, then READY=1 once generation 2 is active --------
baton_signal HUP
fake_wait_active "$master" 2 15
sd_wait "READY=1 after the reload" \
	"^${master}[|]READY=1[|]STATUS=[^|]*generation 2" 10
kinds=$(sd_kinds "$master")
[ "$kinds" = "READY RELOADING READY" ] ||
	fail "master sent '$kinds', want 'READY RELOADING READY'"
note "reload: $(sd_msgs | grep -E "^${master}[|](RELOADING|READY)=1" |
	tail -n 2 | tr '\n' ' ')"

# --- HUP to a crashing command: rolled back, and systemd is told --------
conf --crash-on-start
baton_signal HUP
wait_log "$T/baton.log" 'generation 3: rolled back' 15
sd_wait "READY=1 with a rolled back STATUS=" \
	"^${master}[|]READY=1[|]STATUS=[^|]*rolled back" 10
kinds=$(sd_kinds "$master")
[ "$kinds" = "READY RELOADING READY RELOADING READY" ] ||
	fail "master sent '$kinds', want READY then twice RELOADING READY"
note "rollback: $(sd_msgs | grep -E "^${master}[|]READY=1" | tail -n 1)"
[ "$(fake_state)" = running ] || fail "fakesystemd state $(fake_state)"
wait_log "$T/baton.log" 'generation 3: draining -> gone' 15

# --- workers never get systemd's socket ----------------------------------
# demoapp sends READY=1 to whatever NOTIFY_SOCKET it finds: with `ready =
# delay`, baton gives its workers none, so nothing may reach systemd.
conf "" delay:200ms
baton_signal HUP
fake_wait_active "$master" 4 15
sd_wait "READY=1 after the reload to ready = delay" \
	"^${master}[|]READY=1[|]STATUS=[^|]*generation 4" 10
gen4=$(grep -oE 'generation 4 worker [0-9]+ pid [0-9]+' "$T/baton.log" |
	awk '{ print $NF }' | sort -u)
[ "$(echo "$gen4" | wc -w)" = 2 ] || fail "generation 4 workers: '$gen4'"
for pid in $gen4; do
	e=$(proc_env "$pid" NOTIFY_SOCKET) &&
		fail "worker $pid of generation 4 has NOTIFY_SOCKET=$e"
done
sd_sync
kinds=$(sd_kinds "$master")
[ "$kinds" = "READY RELOADING READY RELOADING READY RELOADING READY" ] ||
	fail "master sent '$kinds', want READY then 3 times RELOADING READY"
delays=$(sd_check_reloading "$master") || fail "$delays"
note "$(echo "$delays" | tr '\n' ';')"

# --- a serving worker dies: STATUS= says respawning, or given up ----------
# The app refuses its configuration (exit 78, EX_CONFIG) once the marker
# exists: a worker killed then is respawned once, into that exit.
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = /bin/sh -c 'test -e $T/marker && exit 78 || exec $DEMOAPP --ready-delay 100'
workers = 2
ready = delay:200ms
ready_timeout = 3s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$port
EOF
baton_signal HUP
fake_wait_active "$master" 5 15
sd_wait "READY=1 after the reload to generation 5" \
	"^${master}[|]READY=1[|]STATUS=[^|]*generation 5 serving with 2 workers" 10
wait_log "$T/baton.log" 'generation 4: draining -> gone' 15
victim=$(sed -nE 's/.*generation 5 worker 0 pid ([0-9]+): starting -> ready.*/\1/p' \
	"$T/baton.log" | tail -n 1)
[ -n "$victim" ] || fail "no ready worker 0 in generation 5"
touch "$T/marker"
kill -KILL "$victim" || fail "cannot kill worker $victim"
sd_wait "STATUS= after the crash of pid $victim" \
	"^${master}[|]STATUS=worker 0 \\(pid $victim\\) killed by signal 9 \\(KILL\\); respawning; generation 5 serving with 2 workers\$" 10
sd_wait "STATUS= after the respawn exited 78" \
	"^${master}[|]STATUS=worker 0 \\(pid [0-9]+\\) exited with status 78; not respawned \\(EX_CONFIG\\); generation 5 serving with 1 worker\$" 10
rm -f "$T/marker"
note "crash: $(sd_msgs | grep -E "^${master}[|]STATUS=worker" | tr '\n' ' ')"
sd_sync
kinds=$(sd_kinds "$master")
[ "$kinds" = "READY RELOADING READY RELOADING READY RELOADING READY RELOADING READY" ] ||
	fail "a worker's crash changed the service state: '$kinds'"

# --- USR2: the new master becomes the main pid --------------------------
baton_signal USR2
await_new_master "$BATON_PID"
new=$NEW_MASTER
note "USR2: new master pid $new"
# (It numbers its generations on from the old master's.)
fake_wait_active "$new" '[0-9]+' 20
sd_wait "MAINPID=$new from the new master" "^${new}[|](.*[|])?MAINPID=$new" 10
sd_wait "READY=1 from the new master" "^${new}[|](.*[|])?READY=1" 10
wait_for "fakesystemd to follow MAINPID=$new" 5 \
	eval '[ "$(fake_mainpid)" = "$new" ]'
kinds=$(sd_kinds "$new")
case $kinds in
"MAINPID=$new+READY" | "MAINPID=$new READY") ;;
*) fail "new master sent '$kinds', want MAINPID=$new before or with READY" ;;
esac
note "upgrade: new master sent: $(sd_msgs | grep -E "^${new}[|]" |
	grep -v FDSTORE | tr '\n' ' ')"
# The old master no longer speaks for the service.
before_quit=$(sd_count "^${master}[|]")
kill -QUIT "$master" || fail "cannot QUIT the old master"
wait_for "the old master to exit" 30 eval '! alive "$master"'
sd_sync # what the old master sent on its way out is logged
after=$(sd_msgs | grep -E "^${master}[|]" | tail -n +$((before_quit + 1)))
[ -z "$after" ] || note "old master sent after QUIT: $(echo "$after" |
	tr '\n' ' ')"
echo "$after" | grep -qE '(^|[|])STOPPING=1([|]|$)' &&
	fail "the old master sent STOPPING=1 after handing over (systemd" \
		"would stop the whole service): $after"
echo "$after" | grep -qE '(^|[|])(READY|RELOADING)=1([|]|$)|MAINPID=' &&
	fail "the old master changed the service state after handing over:" \
		"$after"
state=$(fake_state)
[ "$state" = running ] || fail "after the old master's QUIT: state $state"
alive "$FAKE_PID" || fail "fakesystemd exited with the old master"
[ "$(fake_mainpid)" = "$new" ] || fail "main pid is $(fake_mainpid), not $new"
status=$(cat "$SD/status")
note "systemd status now: $status"
case $status in
*exiting* | *"shutting down"*)
	fail "STATUS= is the old master's farewell: '$status'" ;;
esac
pid=$(http_get "$url/pid") || fail "not served after the old master left"
[ "$(proc_ppid "$pid")" = "$new" ] ||
	fail "served by pid $pid, not a worker of the new master $new"

# --- USR2, then TERM to the newest master: a rollback under systemd -----
# The newest master has become the main pid; when it goes, systemd must be
# told that the master it replaced is the main pid again before the old
# main pid exits, or it stops the whole service (KillMode=mixed kills the
# master that was to carry on), as after a crash.
kill -USR2 "$new" || fail "cannot USR2 $new"
await_new_master "$new"
newer=$NEW_MASTER
fake_wait_active "$newer" '[0-9]+' 20
wait_for "fakesystemd to follow MAINPID=$newer" 10 \
	eval '[ "$(fake_mainpid)" = "$newer" ]'
kill -TERM "$newer" || fail "cannot TERM $newer"
wait_for "the newest master to exit" 30 eval '! alive "$newer"'
wait_log "$T/baton.log" \
	"baton\\[$new\\]: upgrade: new master pid $newer .*carries on" 10
# Twice: the first marker may share a poll with the exit of the main pid,
# whose handling (a stop, if systemd was not told) comes after it.
sd_sync
sd_sync
note "rollback: newest master $newer sent: $(sd_msgs |
	grep -E "^${newer}[|]" | grep -v FDSTORE | tr '\n' ' ')"
note "rollback: master $new sent: $(sd_msgs | grep -E "^${new}[|]" |
	grep -v FDSTORE | tr '\n' ' ')"
alive "$FAKE_PID" || fail "the rollback stopped the service (fakesystemd gone)"
alive "$new" || fail "the rollback killed master $new"
state=$(fake_state)
[ "$state" = running ] || fail "after the rollback: state $state"
[ "$(fake_mainpid)" = "$new" ] ||
	fail "after the rollback the main pid is $(fake_mainpid), not $new"
sd_msgs | grep -E "^${newer}[|]" | grep -qE '(^|[|])STOPPING=1([|]|$)' &&
	fail "the rolled back master $newer sent STOPPING=1"
pid=$(http_get "$url/pid") || fail "not served after the rollback"
[ "$(proc_ppid "$pid")" = "$new" ] ||
	fail "served by pid $pid, not a worker of master $new"

# --- no worker ever talks to systemd ------------------------------------
workers=$(grep -oE 'worker [0-9]+ pid [0-9]+' "$T/baton.log" |
	awk '{ print $4 }' | sort -u | tr '\n' ' ')
senders=$(sd_msgs | cut -d'|' -f1 | sort -u | tr '\n' ' ')
for p in $senders; do
	[ "$p" = "$master" ] || [ "$p" = "$new" ] || [ "$p" = "$newer" ] ||
		fail "message from pid $p, not a master (workers: $workers)"
done
note "senders: $senders(masters $master $new $newer; workers $workers)"

# --- stop: STOPPING=1 from the main pid ---------------------------------
kill -TERM "$FAKE_PID"
wait_exit "$FAKE_PID" 30
rc=$?
[ $rc = 0 ] || fail "fakesystemd (systemctl stop) exited $rc"
alive "$new" && fail "the new master survived the stop"
kinds=$(sd_kinds "$new")
[ "${kinds##* }" = STOPPING ] ||
	fail "new master's last state change is not STOPPING: '$kinds'"
note "stop: $(sd_msgs | grep -E "^${new}[|]STOPPING=1")"
pass "READY, RELOADING/READY x3 (one rolled back), MAINPID on USR2 and" \
	"back on its rollback, STOPPING; $(sd_count .) messages, all from" \
	"the masters"
