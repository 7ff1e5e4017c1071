#!/bin/bash
# t_intercept_upgrade: a worker's notifications stay with the master that
# spawned it. After USR2 the new master intercepts its own generation's
# binds; a bind made afterwards by a worker of the old master (the Go
# server listens again on SIGUSR1) is still served by the old master, with
# the shared socket. Then WINCH and QUIT to the old one, the nginx way:
# nothing lost under load.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
cp "$BUILD/baton" "$T/baton"
BATON_CMD=("${BATON_CMD[@]/#$BUILD\/baton/$T/baton}")
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $GOSERVER -addr 127.0.0.1:$port -listen-on-usr1
workers = 2
ready = listen
ready_timeout = 10s
stop_timeout = 20s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
EOF2
baton_start "$T/t.ini"
old=$BATON_PID
assert_installed 1 0
load_start up "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1
kill -USR2 "$old"
await_new_master "$old"
new=$NEW_MASTER
wait_log "$T/baton.log" "baton\[$new\]: generation 2: starting -> active" 15
for w in 0 1; do
	grep -qE "baton\[$new\]: generation 2 worker $w pid [0-9]+: bind\(fd [0-9]+, 127.0.0.1:$port\) intercepted" \
		"$T/baton.log" || fail "new master did not intercept worker $w"
done
BATON_PID=$new
assert_installed 2 0
assert_installed 2 1

# An old worker binds again now: only the old master can answer it.
w=$(installed_pid 1 0)
kill -USR1 "$w"
wait_log "$T/baton.log" "goserver: pid $w: USR1: listening again: fd [0-9]+, error <nil>" 10
fd=$(grep -oE "goserver: pid $w: USR1: listening again: fd [0-9]+" \
	"$T/baton.log" | awk '{print $NF}')
[ "$(sock_inode "$w" "$fd")" = "$(sock_inode "$w" 3)" ] ||
	fail "old worker $w: fd $fd is not the shared socket"
master_inodes "$old" | grep -qx "$(sock_inode "$w" "$fd")" ||
	fail "old worker $w: fd $fd is not the old master's socket"
note "old master $old served its worker $w's bind after the upgrade (fd $fd)"

kill -WINCH "$old"
wait_log "$T/baton.log" "baton\[$old\]: generation 1: draining -> gone" 30
kill -QUIT "$old"
wait_for "old master $old exits" 30 eval "! alive $old"
sleep 2
load_stop up
assert_no_loss up 500
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings: $(grep '\[warn\]' "$T/baton.log" | head -3)"
baton_signal QUIT
wait_for "the new master exits" 30 eval "! alive $new"
grep -q "baton\[$new\]: master pid $new: exiting with status 0" "$T/baton.log" ||
	fail "the new master did not exit 0"
pass "upgrade under interception: each master served its own workers," \
    "$(json_get up requests) requests, 0 lost"
