#!/bin/bash
# t_demoapp: self-test of the tools the other tests trust: demoapp's routes,
# keep-alive, inherited listeners, readiness and graceful drain, and
# loadcheck's accounting.
. "$(dirname "$0")/lib.sh"

# threads PID: how many threads the process has.
threads()
{
	local -a t=(/proc/"$1"/task/*)
	echo ${#t[@]}
}

# elapsed_since MS: milliseconds since now_ms printed MS.
elapsed_since()
{
	echo $(( $(now_ms) - $1 ))
}

# --- routes, on a TCP and a UNIX listener bound by demoapp itself ---------
port=$(pick_port)
sock=$T/app.sock
"$DEMOAPP" --listen "127.0.0.1:$port" --listen "unix:$sock" \
	2>"$T/app.log" &
app=$!
track $app
wait_log "$T/app.log" "demoapp\[$app\]: serving 2 listeners" 10
base=http://127.0.0.1:$port

[ "$(http_get "$base/")" = ok ] || fail "GET / is not ok"
[ "$(http_get "$base/pid")" = "$app" ] || fail "GET /pid is not $app"
[ "$(http_get "$base/env?FT_TEST_TAG")" = "$FT_TEST_TAG" ] ||
	fail "GET /env?FT_TEST_TAG is wrong"
[ "$(http_status "$base/env?NO_SUCH_VARIABLE_HERE")" = 404 ] ||
	fail "GET /env of an unset variable is not 404"
[ "$(http_status "$base/nope")" = 404 ] || fail "GET /nope is not 404"
[ "$(http_get http://localhost/pid --unix-socket "$sock")" = "$app" ] ||
	fail "GET /pid over the UNIX socket is not $app"
t0=$(now_ms)
[ "$(http_get "$base/sleep?ms=300")" = ok ] || fail "GET /sleep is not ok"
ms=$(elapsed_since "$t0")
[ "$ms" -ge 300 ] || fail "/sleep?ms=300 answered after $ms ms"
note "/sleep?ms=300 took $ms ms"
curl -sS --max-time 5 -D "$T/h" -o /dev/null -H 'Connection: close' "$base/"
grep -qi '^Connection: close' "$T/h" || fail "Connection: close not honoured"
grep -qi '^Content-Length: 3' "$T/h" || fail "no Content-Length"
curl -sS --max-time 5 -D "$T/h" -o /dev/null --http1.0 "$base/"
grep -qi '^Connection: close' "$T/h" || fail "HTTP/1.0 kept alive"

# --- loadcheck's accounting ------------------------------------------------
load_start close "$base/" -c 20 --slow-fraction 0.1 --slow-ms 200
load_start ka "$base/" -c 10 --keepalive
load_start unix "unix:$sock" -c 5 --keepalive
sleep 2
load_stop close
load_stop ka
load_stop unix
assert_no_loss close 100
assert_no_loss ka 100
assert_no_loss unix 100
[ "$(json_get close connections)" = "$(json_get close requests)" ] ||
	fail "default mode did not open one connection per request"
[ "$(json_get ka connections)" = 10 ] ||
	fail "keep-alive mode opened $(json_get ka connections) connections"
[ "$(json_get ka keepalive_closed)" = 0 ] ||
	fail "keep-alive connections closed by an app that was not draining"

# A port where nothing listens: every request refused, exit 3 on loss.
free=$(pick_port)
"$LOADCHECK" -c 2 -d 0.5 --fail-on-loss --json "$T/refused.json" \
	"http://127.0.0.1:$free/" >/dev/null 2>&1
rc=$?
[ $rc = 3 ] || fail "loadcheck --fail-on-loss exited $rc, not 3"
if [ "$(json_get refused ok)" != 0 ] ||
    [ "$(json_get refused refused)" -eq 0 ]; then
	fail "refusals not counted: $(load_summary refused)"
fi
"$LOADCHECK" >/dev/null 2>&1
[ $? = 2 ] || fail "loadcheck without a target did not exit 2"
"$LOADCHECK" -c 1 ftp://x/ >/dev/null 2>&1
[ $? = 2 ] || fail "loadcheck with a bad URL did not exit 2"

# IPv6, where the loopback has it.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	2>/dev/null; then
	port6=$(pick_port)
	"$DEMOAPP" --listen "[::1]:$port6" 2>"$T/app6.log" &
	app6=$!
	track $app6
	wait_log "$T/app6.log" "serving 1 listeners" 10
	"$LOADCHECK" -c 4 -d 0.5 --json "$T/v6.json" "http://[::1]:$port6/" \
		>/dev/null 2>&1 || fail "loadcheck over IPv6 failed"
	assert_no_loss v6 10
	kill -TERM "$app6"
	wait_exit $app6 5 || fail "IPv6 demoapp did not exit 0 on SIGTERM"
fi

# --- graceful drain: the in-flight request is answered ----------------------
curl -sS --max-time 10 -D "$T/slow.h" -o "$T/slow.body" \
	"$base/sleep?ms=1500" 2>"$T/slow.err" &
cpid=$!
track $cpid
# Main thread + 2 acceptors + the connection's thread.
wait_for "demoapp to take the slow request" 5 \
	eval '[ "$(threads '"$app"')" -ge 4 ]'
t0=$(now_ms)
kill -TERM "$app"
wait_log "$T/app.log" "SIGTERM: draining \(1 connections\)" 5
# Stops accepting: the port refuses while the slow request goes on.
wait_for "the draining demoapp to stop accepting" 1 \
	eval '[ "$(http_status "$base/")" = 000 ]'
wait_exit $app 10
rc=$?
ms=$(elapsed_since "$t0")
[ $rc = 0 ] || fail "draining demoapp exited $rc"
[ "$ms" -ge 1000 ] || fail "demoapp exited after $ms ms, before its request"
[ "$ms" -lt 4000 ] || fail "drain took $ms ms"
note "drain with a 1.5 s request in flight took $ms ms"
wait_exit $cpid 10 || fail "the in-flight request failed: $(cat "$T/slow.err")"
[ "$(cat "$T/slow.body")" = ok ] || fail "in-flight request got no 'ok'"
grep -q '^HTTP/1.1 200' "$T/slow.h" || fail "in-flight request not 200"
grep -qi '^Connection: close' "$T/slow.h" ||
	fail "response during drain lacks Connection: close"
grep -q 'drained, exiting' "$T/app.log" || fail "no drain-end log line"

# --- drain when idle is prompt ---------------------------------------------
"$DEMOAPP" --listen "127.0.0.1:$port" 2>"$T/idle.log" &
app=$!
track $app
wait_log "$T/idle.log" "serving 1 listeners" 10
t0=$(now_ms)
kill -QUIT $app
wait_exit $app 3 || fail "idle demoapp did not exit 0 promptly on SIGQUIT"
note "idle drain took $(elapsed_since "$t0") ms"

# --- inherited listeners: LISTEN_FDS / LISTEN_PID ----------------------------
# exec_with_listener PORT LISTEN_PID ARGS...: bind PORT, put it on fd 3 and
# exec demoapp in place (same pid) with LISTEN_FDS=1.  LISTEN_PID "self"
# means the right pid, "none" leaves it unset.
cat >"$T/exec_with_listener.py" <<'EOF'
import os, socket, sys
port, lpid, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="http")
if lpid == "self":
    env["LISTEN_PID"] = str(os.getpid())
elif lpid != "none":
    env["LISTEN_PID"] = lpid
os.execve(args[0], args, env)
EOF
python3 "$T/exec_with_listener.py" "$port" self "$DEMOAPP" \
	2>"$T/inh.log" &
app=$!
track $app
wait_log "$T/inh.log" "demoapp\[$app\]: serving 1 listeners" 10
[ "$(http_get "$base/pid")" = "$app" ] || fail "inherited listener: wrong pid"
[ "$(http_get "$base/env?LISTEN_FDNAMES")" = http ] ||
	fail "LISTEN_FDNAMES not visible through /env"
kill -TERM "$app"
wait_exit $app 3 || fail "demoapp on an inherited listener: bad exit"

python3 "$T/exec_with_listener.py" "$port" 1 "$DEMOAPP" 2>"$T/badpid.log"
rc=$?
[ $rc = 2 ] || fail "LISTEN_PID of another process: exit $rc, not 2"
grep -q 'LISTEN_PID' "$T/badpid.log" || fail "no message about LISTEN_PID"
LISTEN_FDS=1 "$DEMOAPP" 2>"$T/nofd.log" 3</dev/null
rc=$?
[ $rc = 2 ] || fail "LISTEN_FDS on a non-socket: exit $rc, not 2"

# --- a shared listener: one of two apps drains, nothing is lost -------------
# Like baton: a parent binds once and hands the socket to two demoapps,
# then keeps no copy of its own; it stays their parent until they exit.
# usage: share.py PORT PIDFILE DEMOAPP [EXTRA ARGS FOR THE SECOND ONE]
cat >"$T/share.py" <<'EOF'
import os, socket, subprocess, sys
port, pidfile, app, extra = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1024)
fd = s.detach()
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
env = dict(os.environ, LISTEN_FDS="1")
procs = [subprocess.Popen(args, pass_fds=(3,), env=env)
         for args in ([app], [app] + extra)]
os.close(3)
with open(pidfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (procs[0].pid, procs[1].pid))
os.rename(pidfile + ".tmp", pidfile)
for p in procs:
    p.wait()
EOF
python3 "$T/share.py" "$port" "$T/share.pids" "$DEMOAPP" 2>"$T/share.log" &
sharer=$!
track $sharer
wait_for "two demoapps on one socket" 10 test -s "$T/share.pids"
read -r a b <"$T/share.pids"
track "$a" "$b"
wait_for "both demoapps serving" 10 \
	eval '[ "$(count_log "$T/share.log" "serving 1 listeners")" = 2 ]'

# Idle, both acceptors sit in a blocking accept() on the shared socket:
# SIGTERM must still get A out promptly, and B keeps serving.
t0=$(now_ms)
kill -TERM "$a"
wait_for "idle demoapp $a on a shared socket to exit" 3 eval '! alive '"$a"
note "idle drain on a shared socket took $(elapsed_since "$t0") ms"
grep -q "demoapp\[$a\]: drained, exiting" "$T/share.log" ||
	fail "demoapp $a did not drain cleanly"
[ "$(http_get "$base/pid")" = "$b" ] || fail "demoapp $b not serving"
kill -TERM "$b"
wait_exit $sharer 5 || fail "sharing parent exited $?"

# Under load: A drains while B takes over; no request may be lost, and
# kept-alive connections A closes are retried (keepalive_closed).  B starts
# accepting late, so that A surely holds kept-alive connections.
python3 "$T/share.py" "$port" "$T/share2.pids" "$DEMOAPP" \
	--ready-delay 1500 2>"$T/share2.log" &
sharer=$!
track $sharer
wait_for "two demoapps on one socket" 10 test -s "$T/share2.pids"
read -r a b <"$T/share2.pids"
track "$a" "$b"
wait_log "$T/share2.log" "demoapp\[$a\]: serving 1 listeners" 10
load_start sclose "$base/" -c 20 --slow-fraction 0.1
load_start ska "$base/" -c 10 --keepalive --slow-fraction 0.05 --rate 200
# Connections idle between requests, for A to close while draining.
load_start sidle "$base/" -c 10 --keepalive --rate 2
wait_log "$T/share2.log" "demoapp\[$b\]: serving 1 listeners" 10
sleep 0.5
kill -TERM "$a"
wait_for "demoapp $a to drain" 10 eval '! alive '"$a"
sleep 1
load_stop sclose
load_stop ska
load_stop sidle
assert_no_loss sclose 100
assert_no_loss ska 100
assert_no_loss sidle 10
[ "$(json_get sidle keepalive_closed)" -gt 0 ] ||
	fail "no idle kept-alive connection closed by the drain (or not seen)"
grep -q "demoapp\[$a\]: drained, exiting" "$T/share2.log" ||
	fail "demoapp $a did not drain cleanly"
note "kept-alive connections closed by the drain and retried:" \
    "$(json_get ska keepalive_closed) busy, $(json_get sidle keepalive_closed) idle"
kill -TERM "$b"
wait_exit $sharer 5 || fail "sharing parent exited $?"

# --- readiness: --ready-delay, then READY=1 to NOTIFY_SOCKET ---------------
cat >"$T/notify.py" <<'EOF'
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(10)
open(out + ".bound", "w").close()
t0 = time.monotonic()
msg = s.recv(4096)
with open(out, "w") as f:
    f.write("%s %d\n" % (msg.decode(), (time.monotonic() - t0) * 1000))
EOF
for ns in "$T/notify.sock" "@baton-test-$FT_TEST_TAG"; do
	rm -f "$T/notify.out" "$T/notify.out.bound"
	python3 "$T/notify.py" "$ns" "$T/notify.out" &
	npid=$!
	track $npid
	wait_for "notify listener" 5 test -e "$T/notify.out.bound"
	NOTIFY_SOCKET=$ns "$DEMOAPP" --listen "127.0.0.1:$port" \
		--ready-delay 700 2>"$T/ready.log" &
	app=$!
	track $app
	t0=$(now_ms)
	# Queued in the backlog until the delay is over, then served.
	curl -sS --retry 20 --retry-connrefused --retry-delay 0 --max-time 5 \
		"$base/" >/dev/null || fail "no answer after --ready-delay"
	wait_exit $npid 10 || fail "no READY=1 datagram on $ns"
	read -r msg ms <"$T/notify.out"
	[ "$msg" = READY=1 ] || fail "notify sent '$msg'"
	[ "$ms" -ge 500 ] || fail "READY=1 after $ms ms, before the delay"
	note "NOTIFY_SOCKET=$ns: READY=1 after $ms ms," \
	    "first answer after $(elapsed_since "$t0") ms"
	kill -TERM "$app"
	wait_exit $app 3 || fail "demoapp --ready-delay: bad exit"
done

# --- failure modes --------------------------------------------------------
"$DEMOAPP" --crash-on-start 2>"$T/crash.log"
rc=$?
[ $rc = 1 ] || fail "--crash-on-start exited $rc, not 1"
[ -s "$T/crash.log" ] || fail "--crash-on-start said nothing on stderr"
"$DEMOAPP" --exit 78 2>/dev/null
rc=$?
[ $rc = 78 ] || fail "--exit 78 exited $rc"
"$DEMOAPP" --help | grep -q -- --ready-delay || fail "--help says nothing"
"$DEMOAPP" --bogus 2>/dev/null
[ $? = 2 ] || fail "a bad option did not exit 2"

"$DEMOAPP" --listen "127.0.0.1:$port" --hang-on-start 2>"$T/hang.log" &
app=$!
track $app
wait_log "$T/hang.log" "hanging" 5
[ "$(http_status "$base/" --max-time 1)" = 000 ] ||
	fail "--hang-on-start answered a request"
kill -TERM "$app"
wait_exit $app 3
rc=$?
[ $rc = 143 ] || fail "--hang-on-start did not die of SIGTERM ($rc)"

# SIGINT: at once, even with a request in flight.
"$DEMOAPP" --listen "127.0.0.1:$port" 2>"$T/int.log" &
app=$!
track $app
wait_log "$T/int.log" "serving 1 listeners" 10
curl -s --max-time 10 "$base/sleep?ms=3000" >/dev/null &
cpid=$!
track $cpid
wait_for "demoapp to take the slow request" 5 \
	eval '[ "$(threads '"$app"')" -ge 3 ]'
t0=$(now_ms)
kill -INT $app
wait_exit $app 2
rc=$?
[ $rc = 130 ] || fail "SIGINT: exit $rc, not 130"
note "SIGINT exit took $(elapsed_since "$t0") ms"
wait_exit $cpid 10

# --drain-timeout caps the drain: exit 0 with a request still running.
"$DEMOAPP" --listen "127.0.0.1:$port" --drain-timeout 500 2>"$T/cap.log" &
app=$!
track $app
wait_log "$T/cap.log" "serving 1 listeners" 10
curl -s --max-time 10 "$base/sleep?ms=5000" >/dev/null &
cpid=$!
track $cpid
wait_for "demoapp to take the slow request" 5 \
	eval '[ "$(threads '"$app"')" -ge 3 ]'
t0=$(now_ms)
kill -TERM "$app"
wait_exit $app 3 || fail "capped drain: exit $?, not 0"
ms=$(elapsed_since "$t0")
{ [ "$ms" -ge 400 ] && [ "$ms" -lt 2500 ]; } || fail "capped drain took $ms ms"
grep -q 'drain timed out' "$T/cap.log" || fail "no drain timeout message"
wait_exit $cpid 10

pass
