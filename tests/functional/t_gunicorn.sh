#!/bin/bash
# t_gunicorn: a real third-party server, gunicorn (the Debian package), run
# under baton without interception: it takes the master's socket through
# systemd socket activation (LISTEN_FDS, LISTEN_PID = the worker's pid),
# says READY=1 on baton's notify socket, and stops gracefully on TERM.
# 20 HUPs under load, with slow requests spanning reloads: nothing lost.
. "$(dirname "$0")/lib.sh"

command -v gunicorn >/dev/null 2>&1 ||
	fail "gunicorn not found: install the gunicorn package (make deps)"
port=$(pick_port)
# gunicorn's READY=1 means "arbiter booted", before its own workers are:
# ready_delay covers their start (connections would only wait, not fail).
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = gunicorn --workers 2 --worker-class gthread --threads 16 --graceful-timeout 20 --chdir $FT_DIR/../tools wsgiapp:app
workers = 1
ready = notify
ready_delay = 1s
ready_timeout = 20s
stop_signal = TERM
stop_timeout = 25s
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
baton_start "$T/t.ini"
wpid=$(worker_pids "$BATON_PID" | head -n 1)
grep -qF "Listening at: http://127.0.0.1:$port ($wpid)" \
	"$T/baton.log" || fail "gunicorn did not take the inherited socket"
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "no answer"
load_start guni "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1
start=$(now_ms)
for i in $(seq 1 20); do
	baton_signal HUP
	wait_gen_active $((i + 1)) 40
	sleep 0.5
done
note "20 reloads took $(($(now_ms) - start)) ms"
sleep 2
load_stop guni
assert_no_loss guni 1000
[ "$(count_log "$T/baton.log" 'rolled back')" = 0 ] ||
	fail "a reload was rolled back"
wait_for "every old generation gone" 40 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 20 ]'
n=$(count_log "$T/baton.log" 'worker 0 pid [0-9]+: exited with status 0$')
[ "$n" = 20 ] || fail "expected 20 gunicorn arbiters to exit 0, saw $n"
baton_signal QUIT
baton_wait_exit 40 || fail "baton did not exit 0 after QUIT"
pass "gunicorn via LISTEN_FDS: 20 reloads, $(json_get guni requests)" \
    "requests, 0 lost"
