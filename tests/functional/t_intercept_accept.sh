#!/bin/bash
# t_intercept_accept: intercept_accept drains an app that cannot stop
# gracefully. demoapp takes its socket from LISTEN_FDS (no bind
# interception) and exits at once on SIGINT, dropping what it holds:
#  1. without intercept_accept, reloads under load with slow requests lose
#     requests (the negative control: the harness sees the loss);
#  2. with it, the same reloads lose none: each retiring worker's accept()
#     is held and its SIGINT waits until its last connection is answered;
#  3. an idle keep-alive connection holds the drain until stop_timeout,
#     which is then logged, and the worker is stopped anyway;
#  4. scaling down (TTOU) drains the same way;
#  5. USR2, then WINCH and QUIT to the old master, the nginx way: the old
#     master drains its own workers, and nothing is lost; this run also
#     takes the path of a kernel without WAIT_KILLABLE_RECV (< 5.19),
#     where a held accept() waits interruptibly;
#  6. the Go server (graceful, non-blocking accept) under intercept_bind and
#     intercept_accept: reloads lose nothing and every worker exits 0, so
#     a held or refused accept4() never hangs its Shutdown.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

port=$(pick_port)
url=http://127.0.0.1:$port/

# conf FILE ACCEPT STOP_TIMEOUT WORKERS
demo_conf()
{
	write_conf "$1" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP
workers = $4
ready = notify
ready_timeout = 10s
stop_signal = INT
stop_timeout = $3
intercept_accept = $2
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
}

# reloads NAME N: N HUPs under load (10% of requests take 1 s).
reloads()
{
	local name=$1 n=$2 first i
	first=$(count_log "$T/baton.log" 'starting -> active')
	load_start "$name" "$url" -c 50 --slow-fraction 0.1 --slow-ms 1000
	sleep 1
	for i in $(seq 1 "$n"); do
		baton_signal HUP
		wait_gen_active $((first + i)) 30
		sleep 0.5
	done
	sleep 1.5
	load_stop "$name"
}

# quit LOGNAME: stop baton and keep its log aside for the next run.
quit()
{
	baton_signal QUIT
	baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
	mv "$T/baton.log" "$T/$1.log"
}

# 1. Negative control: SIGINT drops the slow requests in flight.
demo_conf "$T/t.ini" no 10s 2
baton_start "$T/t.ini"
reloads plain 5
plain_lost=$(json_get plain lost)
note "without intercept_accept: $(load_summary plain)"
[ "$plain_lost" -gt 0 ] ||
	fail "5 reloads of an app that drops its connections lost nothing:" \
	    "the harness or the app is not what this test assumes"
[ "$(count_log "$T/baton.log" 'drained in')" = 0 ] ||
	fail "a worker drained without intercept_accept"
quit plain

# 2. The same with intercept_accept: nothing lost.
demo_conf "$T/t.ini" yes 10s 2
"${BATON_CMD[@]}" -t -c "$T/t.ini" || fail "baton -t refused the config"
baton_start "$T/t.ini"
fds_before=$(proc_fds "$BATON_PID" | wc -l)
reloads held 10
assert_no_loss held 500
wait_for "every old generation gone" 30 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 10 ]'
n=$(count_log "$T/baton.log" 'ready -> draining')
[ "$n" = 20 ] || fail "expected 20 workers to drain, saw $n"
n=$(count_log "$T/baton.log" 'drained in [0-9]+ ms .*: sending INT')
[ "$n" = 20 ] || fail "expected 20 drains to end idle, saw $n"
# Some drains waited for a slow request: the hold did something.
waited=$(grep -oE 'drained in [0-9]+ ms' "$T/baton.log" |
	awk '$3 >= 100 { n++ } END { print n + 0 }')
[ "$waited" -ge 1 ] ||
	fail "no drain waited for a request: were any connections held?"
note "$waited of 20 drains waited 100 ms or more for their requests"
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings logged: $(grep '\[warn\]' "$T/baton.log" | head -3)"
# The drains' copies of the workers' sockets were all closed.
fds_after=$(proc_fds "$BATON_PID" | wc -l)
[ "$fds_after" = "$fds_before" ] ||
	fail "the master had $fds_before fds, now $fds_after:" \
	    "$(proc_fds "$BATON_PID" | tr '\n' ' ')"

# 4. Scaling down drains the worker it retires.
baton_signal TTOU
wait_log "$T/baton.log" 'worker 1 pid [0-9]+: drained in' 10
wait_log "$T/baton.log" 'worker 1 pid [0-9]+: stopping -> exited' 10
quit held

# 3. An idle keep-alive connection: the drain waits for stop_timeout.
demo_conf "$T/t.ini" yes 2s 1
baton_start "$T/t.ini"
exec 7<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to $port"
printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' >&7
read -r -t 5 status <&7 || fail "no response on the kept-alive connection"
case $status in
"HTTP/1.1 200"*) ;;
*) fail "unexpected response: $status" ;;
esac
start=$(now_ms)
baton_signal HUP
wait_gen_active 2 30
wait_log "$T/baton.log" \
	'worker 0 pid [0-9]+: still holds 1 connection after stop_timeout' 10
waited=$(($(now_ms) - start))
[ "$waited" -ge 1900 ] || fail "the drain gave up after $waited ms, not 2 s"
wait_log "$T/baton.log" 'generation 1: draining -> gone' 10
exec 7<&-
http_get "$url" >/dev/null || fail "generation 2 does not answer"
quit idle

# 5. A binary upgrade; the held accept() of a kernel before Linux 5.19.
cp "$BUILD/baton" "$T/baton"
BATON_CMD=("${BATON_CMD[@]/#$BUILD\/baton/$T/baton}")
demo_conf "$T/t.ini" yes 10s 2
BATON_INTERCEPT_NO_KILLABLE=1 baton_start "$T/t.ini"
old=$BATON_PID
load_start up "$url" -c 50 --slow-fraction 0.1 --slow-ms 1000
sleep 1
kill -USR2 "$old"
await_new_master "$old"
new=$NEW_MASTER
wait_log "$T/baton.log" "baton\[$new\]: generation 2: starting -> active" 15
sleep 0.5
kill -WINCH "$old"
wait_log "$T/baton.log" "baton\[$old\]: generation 1: draining -> gone" 30
n=$(count_log "$T/baton.log" "baton\[$old\]: generation 1 worker [01] pid [0-9]+: drained in")
[ "$n" = 2 ] || fail "the old master drained $n of its 2 workers"
kill -QUIT "$old"
wait_for "old master $old exits" 30 eval "! alive $old"
sleep 1
load_stop up
assert_no_loss up 200
BATON_PID=$new
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings logged: $(grep '\[warn\]' "$T/baton.log" | head -3)"
baton_signal QUIT
wait_for "the new master exits" 30 eval "! alive $new"
mv "$T/baton.log" "$T/upgrade.log"

# 6. A graceful Go server with both interceptions.
goserver_build
write_conf "$T/go.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $GOSERVER -addr 127.0.0.1:$port
workers = 2
ready = listen
ready_timeout = 10s
stop_signal = TERM
stop_timeout = 20s
intercept_bind = yes
intercept_accept = yes
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
baton_start "$T/go.ini"
reloads go 5
assert_no_loss go 200
wait_for "every old Go generation gone" 30 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 5 ]'
n=$(count_log "$T/baton.log" 'pid [0-9]+: exited with status 0$')
[ "$n" = 10 ] || fail "expected 10 Go workers to exit 0, saw $n"
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] ||
	fail "warnings logged: $(grep '\[warn\]' "$T/baton.log" | head -3)"
quit go

pass "lost $plain_lost without intercept_accept, 0 with it (demoapp" \
    "and Go, HUP and USR2); an idle connection held the drain for" \
    "stop_timeout"
