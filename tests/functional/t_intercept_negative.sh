#!/bin/bash
# t_intercept_negative: the negative control of bind interception. The same
# Go server that binds its own address, without intercept_bind: its bind()
# meets the master's socket and fails with EADDRINUSE. A reload to that
# config fails visibly and rolls back while the intercepted generation
# keeps serving (nothing lost); a master started with it exits 1.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
# conf INTERCEPT READY: the same app and listener either way.
conf()
{
	write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = $GOSERVER -addr 127.0.0.1:$port
workers = 2
ready = $2
ready_timeout = 10s
stop_timeout = 20s
intercept_bind = $1
[listen http]
address = 127.0.0.1:$port
EOF2
}
conf yes listen
baton_start "$T/t.ini"
assert_installed 1 0
load_start neg "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1

# Without interception the app is on its own: bind() fails.
conf no delay:2s
baton_signal HUP
wait_log "$T/baton.log" 'generation 2: rolled back: worker [01] exited with status 1 before it was ready; generation 1 keeps serving' 20
wait_log "$T/baton.log" 'goserver: listen tcp 127.0.0.1:[0-9]+: bind: address already in use' 5
wait_log "$T/baton.log" 'generation 2: draining -> gone' 20
[ "$(count_log "$T/baton.log" 'generation 2 worker [01] pid [0-9]+: bind\(')" = 0 ] ||
	fail "generation 2 was intercepted without intercept_bind"
note "without intercept_bind: $(grep -m1 -oE 'goserver: listen tcp .*' "$T/baton.log")"

# Back to interception: the next reload takes over as usual.
conf yes listen
baton_signal HUP
wait_gen_active 3 20
assert_installed 3 0
assert_installed 3 1
sleep 1
load_stop neg
assert_no_loss neg 200
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"

# A master started without interception never gets its first generation
# ready: it says why and exits 1.
port2=$(pick_port)
write_conf "$T/t2.ini" <<EOF2
[app]
command = $GOSERVER -addr 127.0.0.1:$port2
ready = delay:2s
ready_timeout = 10s
[listen http]
address = 127.0.0.1:$port2
EOF2
"${BATON_CMD[@]}" -c "$T/t2.ini" >"$T/t2.log" 2>&1 &
pid2=$!
track "$pid2"
wait_exit "$pid2" 20
rc=$?
[ "$rc" = 1 ] || { cat "$T/t2.log" >&2; fail "master without interception exited $rc, not 1"; }
grep -q 'bind: address already in use' "$T/t2.log" ||
	fail "the app's EADDRINUSE is not in the log"
pass "without intercept_bind: EADDRINUSE, rollback with 0 lost of" \
    "$(json_get neg requests), and a failed start (exit 1)"
