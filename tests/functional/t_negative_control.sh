#!/bin/bash
# t_negative_control: proves the harness sees loss where there is some
# (naive kill-and-restart of an app that binds its own socket) and invents
# none where there is none (the same app left alone).
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
url=http://127.0.0.1:$port/
APP=

# The naive deployment: the app binds the port itself, so between the old
# process going and the new one binding, nobody owns the socket.
app_start()
{
	"$DEMOAPP" --listen "127.0.0.1:$port" 2>>"$T/app.log" &
	APP=$!
	track "$APP"
	wait_for "demoapp serving on $port" 10 http_get "$url"
}

# 1. Control: no restarts, no loss.
app_start
load_start control "$url" -c 50 --slow-fraction 0.1
sleep 4
load_stop control
assert_no_loss control 100

# 2. Five SIGKILL restarts about a second apart: in-flight and queued
# requests die with the process, new ones are refused in the gap.
load_start kill "$url" -c 50 --slow-fraction 0.1
sleep 1
for _ in 1 2 3 4 5; do
	kill -KILL "$APP"
	wait_exit "$APP" 5
	app_start
	sleep 1
done
load_stop kill
kill_lost=$(json_get kill lost)
note "SIGKILL restarts: $(load_summary kill)"
[ "$kill_lost" -gt 0 ] || fail "harness saw no loss across 5 SIGKILL restarts"

# 3. Five SIGTERM-then-start restarts: the app drains its in-flight
# requests, but nobody listens from its close() until the new bind.
load_start term "$url" -c 50 --slow-fraction 0.1
sleep 1
for _ in 1 2 3 4 5; do
	kill -TERM "$APP"
	wait_exit "$APP" 10 || fail "demoapp did not drain and exit 0 ($?)"
	app_start
	sleep 1
done
load_stop term
term_lost=$(json_get term lost)
term_refused=$(json_get term refused)
note "SIGTERM restarts: $(load_summary term)"
[ "$term_lost" -gt 0 ] || fail "harness saw no loss across 5 SIGTERM restarts"
[ "$term_refused" -gt 0 ] ||
	fail "harness saw no refused connection in the SIGTERM restart gaps"

kill -TERM "$APP"
wait_exit "$APP" 10 || fail "demoapp did not exit 0 on SIGTERM ($?)"
pass "control lost 0; SIGKILL restarts lost $kill_lost;" \
    "SIGTERM restarts lost $term_lost ($term_refused refused)"
