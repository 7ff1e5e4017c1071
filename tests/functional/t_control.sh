#!/bin/bash
# t_control: the control socket and batonctl, under load. A reload exits 0
# and the new generation serves; a crashing build, a hanging one and a bad
# config each exit 1 with the reason as logged, the old generation serving;
# two reloads at once report the generations that include them; status
# --json matches /proc; scale changes the live count; another uid is
# refused; garbage, silence, a 1 MiB line, binary data and 200 clients at
# once are refused or dropped, with 0 requests lost and the master still
# answering. `baton -s reload` goes through the socket the same way (0 on
# a good build, 1 with the logged reason on a crashing one, 2 unreachable;
# -n does not wait) and `baton -s more|fewer` scale. A file, a directory
# or a symlink at the control path stops both -t and the start with a
# clear error.
. "$(dirname "$0")/lib.sh"

BATONCTL=$BUILD/batonctl
port=$(pick_port)
url=http://127.0.0.1:$port
# Reachable by the other uid of the permission test: only the socket's
# own mode keeps it out.
chmod 0711 "$T"
sock=$T/ctl.sock
conf()
{
	write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
control = $sock
[app]
command = $DEMOAPP --ready-delay 100 $1
workers = 2
ready = notify
ready_timeout = 3s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$port
EOF2
}

# ctl ARGS...: batonctl bounded in time; output in $T/ctl.out, status in rc.
ctl()
{
	timeout 60 "$BATONCTL" -S "$sock" "$@" >"$T/ctl.out" 2>&1
	rc=$?
	note "batonctl $* -> $rc: $(head -c 300 "$T/ctl.out" | tr '\n' ' ')"
}

# --- what is at the control path ------------------------------------------
conf ""
for kind in file dir symlink; do
	rm -rf "$sock"
	case $kind in
	file) echo keep >"$sock"; want="is a regular file" ;;
	dir) mkdir "$sock"; want="is a directory" ;;
	symlink) ln -s "$T/elsewhere" "$sock"; want="is a symbolic link" ;;
	esac
	out=$("${BATON_CMD[@]}" -c "$T/t.ini" -t 2>&1) &&
		fail "-t accepted a $kind at the control path"
	[[ $out == *"control: $sock $want, not a socket"* ]] ||
		fail "-t with a $kind: unclear error: $out"
	timeout 20 "${BATON_CMD[@]}" -c "$T/t.ini" >"$T/start.log" 2>&1 &&
		fail "baton started with a $kind at the control path"
	grep -q "control: $sock $want, not a socket" "$T/start.log" ||
		fail "start with a $kind: unclear error: $(cat "$T/start.log")"
	[ -e "$T/elsewhere" ] && fail "the symlink was followed"
	case $kind in
	file) [ "$(cat "$sock")" = keep ] || fail "the file was changed" ;;
	dir) [ -d "$sock" ] || fail "the directory was removed" ;;
	symlink) [ -L "$sock" ] || fail "the symlink was removed" ;;
	esac
done
rm -rf "$sock"
note "file, directory and symlink refused at -t and at start"

# A stale socket (nobody listens) is replaced.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
[ -S "$sock" ] || fail "could not make a stale socket"
baton_start "$T/t.ini"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), not 600"
load_start ctl "$url/" -c 40 --slow-fraction 0.1 --slow-ms 1500
sleep 1

# --- reload outcomes ------------------------------------------------------
# -c finds the socket through the config file; -S names it (used below:
# a broken config, the case under test, cannot name it).
timeout 20 "$BATONCTL" -c "$T/t.ini" reload >"$T/ctl.out" 2>&1
rc=$?
[ $rc = 0 ] || fail "reload exited $rc"
grep -q 'generation 2 is active' "$T/ctl.out" || fail "reload: $(cat "$T/ctl.out")"
grep -q 'generation 2: starting -> active' "$T/baton.log" ||
	fail "batonctl returned before generation 2 was active"
for _ in 1 2 3 4; do
	pid=$(http_get "$url/pid") || fail "no answer after the reload"
	[ "$(proc_env "$pid" BATON_GENERATION)" = 2 ] ||
		fail "pid $pid is not of generation 2"
done

conf --crash-on-start
ctl reload
[ $rc = 1 ] || fail "crashing build: reload exited $rc"
reason=$(sed -n 's/^batonctl: reload: //p' "$T/ctl.out")
[[ $reason =~ ^generation\ 3:\ rolled\ back:\ worker\ [0-9]\ exited\ with\ status\ 1\ before\ it\ was\ ready$ ]] ||
	fail "crashing build: reason \"$reason\""
grep -qF "$reason; generation 2 keeps serving" "$T/baton.log" ||
	fail "the reason is not the one logged: $reason"

conf --hang-on-start
ctl reload
[ $rc = 1 ] || fail "hanging build: reload exited $rc"
reason=$(sed -n 's/^batonctl: reload: //p' "$T/ctl.out")
[[ $reason =~ ^generation\ 4:\ rolled\ back:\ worker\ [0-9]\ \(pid\ [0-9]+\)\ not\ ready\ after\ 3.000\ s$ ]] ||
	fail "hanging build: reason \"$reason\""
grep -qF "$reason; generation 2 keeps serving" "$T/baton.log" ||
	fail "the reason is not the one logged: $reason"

conf ""
echo "bogus = 1" >>"$T/t.ini"
ctl reload
[ $rc = 1 ] || fail "bad config: reload exited $rc"
reason=$(sed -n 's/^batonctl: reload: //p' "$T/ctl.out")
[[ $reason == "$T/t.ini:12: bogus: "* ]] || fail "bad config: reason \"$reason\""
grep -qF "reload: $reason; keeping the running generation" "$T/baton.log" ||
	fail "the reason is not the one logged: $reason"
pid=$(http_get "$url/pid") || fail "no answer after the failed reloads"
[ "$(proc_env "$pid" BATON_GENERATION)" = 2 ] ||
	fail "generation 2 is not serving after the failed reloads"

# Two reloads at once: the second coalesces and gets the next generation.
conf "--ready-delay 1500"
timeout 60 "$BATONCTL" -S "$sock" reload >"$T/r1.out" 2>&1 &
r1=$!
wait_log "$T/baton.log" 'generation 5: .*starting' 10
timeout 60 "$BATONCTL" -S "$sock" reload >"$T/r2.out" 2>&1 &
r2=$!
wait_exit $r1 40 || fail "first of two reloads: $(cat "$T/r1.out")"
wait_exit $r2 40 || fail "second of two reloads: $(cat "$T/r2.out")"
grep -q 'generation 5 is active' "$T/r1.out" || fail "first: $(cat "$T/r1.out")"
grep -q 'generation 6 is active' "$T/r2.out" ||
	fail "the coalesced reload did not report generation 6: $(cat "$T/r2.out")"
note "coalesced reloads: $(cat "$T/r1.out") / $(cat "$T/r2.out")"
wait_log "$T/baton.log" 'generation 5: draining -> gone' 30

# --- status against /proc, and scale --------------------------------------
# check_status N: status --json lists exactly the master's children, alive,
# N of them in the serving generation, all ready.
check_status()
{
	timeout 20 "$BATONCTL" -S "$sock" status --json >"$T/status.json" ||
		fail "status --json failed"
	python3 - "$T/status.json" "$BATON_PID" "$1" "$(children_of "$BATON_PID" | sort -n | tr '\n' ' ')" <<-'PY' || fail "status does not match /proc"
	import json, os, sys
	st = json.load(open(sys.argv[1]))
	master, want, kids = int(sys.argv[2]), int(sys.argv[3]), sorted(map(int, sys.argv[4].split()))
	assert st["v"] == 1 and st["ok"] is True
	assert st["master"]["pid"] == master, st["master"]
	assert st["master"]["state"] == "serving", st["master"]["state"]
	pids = []
	for g in st["generations"]:
	    for w in g["workers"]:
	        if w["pid"] is not None:
	            pids.append(w["pid"])
	            stat = open("/proc/%d/stat" % w["pid"]).read()
	            ppid = int(stat.rsplit(")", 1)[1].split()[1])
	            assert ppid == master, "pid %d: parent %d" % (w["pid"], ppid)
	            env = open("/proc/%d/environ" % w["pid"], "rb").read().split(b"\0")
	            assert ("BATON_GENERATION=%d" % g["id"]).encode() in env
	cur = [g for g in st["generations"] if g["current"]]
	assert len(cur) == 1
	cur = cur[0]
	assert cur["workers_total"] == want and cur["workers_ready"] == want, cur
	assert len([w for w in cur["workers"] if w["state"] == "ready"]) == want
	assert sorted(pids) == kids, "status %s, /proc %s" % (sorted(pids), kids)
	l = st["listeners"][0]
	assert l["name"] == "http" and l["fd"] >= 0 and l["backlog"] > 0, l
	assert st["last_reload"]["ok"] is True and st["last_reload"]["generation"] == 6
	c = st["counters"]
	assert c["reloads_ok"] == 3 and c["reloads_rolled_back"] == 2 and c["reloads_rejected"] == 1, c
	PY
}
# has_children N / logged N REGEX: for wait_for, which reruns them.
has_children()
{
	test "$(children_of "$BATON_PID" | wc -l)" = "$1"
}
logged()
{
	test "$(count_log "$T/baton.log" "$2")" = "$1"
}
wait_for "generation 6 settled" 20 has_children 2
check_status 2
ctl scale 4
[ $rc = 0 ] || fail "scale 4 exited $rc"
wait_for "4 ready workers" 20 logged 2 \
	'generation 6 worker [23] pid [0-9]+: starting -> ready'
check_status 4
ctl scale -1
[ $rc = 0 ] || fail "scale -1 exited $rc"
wait_for "3 workers" 20 has_children 3
check_status 3
ctl scale +0
ctl scale 0
[ $rc = 2 ] || fail "scale 0 exited $rc, not 2 (usage)"
ctl status
[ $rc = 0 ] || fail "status exited $rc"
grep -q 'Generation 6: active (serving), 3/3 ready' "$T/ctl.out" ||
	fail "human status: $(cat "$T/ctl.out")"
ctl metrics
grep -q '^baton_reloads_total{outcome="rolled_back"} 2$' "$T/ctl.out" ||
	fail "metrics: $(cat "$T/ctl.out")"
grep -q 'generation="6",state="active",ready="yes"} 3$' "$T/ctl.out" ||
	fail "metrics: workers"
note "status matches /proc; scale 2 -> 4 -> 3"

# --- another uid ----------------------------------------------------------
if [ "$EUID" = 0 ]; then
	as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	out=$(timeout 10 "${as_nobody[@]}" "$BATONCTL" -S "$sock" status 2>&1)
	rc=$?
	if [ $rc != 2 ] || [[ $out != *"Permission denied"* ]]; then
		fail "nobody, socket 0600: exit $rc: $out"
	fi
	# Past the file mode, SO_PEERCRED still refuses it.
	chmod 0666 "$sock"
	out=$(timeout 10 "${as_nobody[@]}" "$BATONCTL" -S "$sock" status 2>&1)
	rc=$?
	chmod 0600 "$sock"
	if [ $rc != 2 ] || [[ $out != *"permission denied"* ]]; then
		fail "nobody, socket 0666: exit $rc: $out"
	fi
	wait_log "$T/baton.log" 'control: pid [0-9]+ \(uid 65534\): permission denied' 5
	note "uid 65534 refused by the file mode and by SO_PEERCRED"
else
	note "SKIP (permission part): not root, cannot run as another uid"
	perm_skipped=1
fi

# --- bad input ------------------------------------------------------------
cat >"$T/bad.py" <<'PY'
import json, socket, sys, time
path, what = sys.argv[1], sys.argv[2]
def conn():
    # A blocking connect: a full backlog waits instead of EAGAIN.
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(15)
    return s
def line(s):
    buf = b""
    while b"\n" not in buf:
        d = s.recv(1)
        if not d:
            return None
        buf += d
    return json.loads(buf)
def closed(s):
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
if what == "garbage":
    s = conn()
    for bad in (b"hello\n", b"{\"v\":1\n", b"[]\n", b"{\"v\":1,\"cmd\":\"nope\"}\n"):
        s.sendall(bad)
        r = line(s)
        assert r["ok"] is False and r["v"] == 1 and r["error"], r
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    r = line(s)
    assert r["ok"] is True, r
    print("garbage: 4 errors, then status on the same connection")
elif what == "binary":
    s = conn()
    # Its newlines make several lines: one error each, in order.
    data = bytes(range(256)) * 16 + b"\n"
    s.sendall(data)
    for _ in range(data.count(b"\n")):
        r = line(s)
        assert r["ok"] is False and r["refused"] is True, r
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    r = line(s)
    assert r["ok"] is True, r
    print("binary: %d errors, then status answered" % data.count(b"\n"))
elif what == "silence":
    s = conn()
    s.sendall(b'{"v":1,"cmd":')
    t = time.time()
    r = line(s)
    assert r is None or r["ok"] is False, r
    assert closed(s)
    took = time.time() - t
    assert 8 <= took <= 14, took
    print("silence: dropped after %.1f s" % took)
elif what == "huge":
    s = conn()
    try:
        s.sendall(b"x" * (1 << 20) + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = line(s)
    assert r is None or (r["ok"] is False and "too long" in r["error"]), r
    assert closed(s)
    print("huge: refused and closed")
elif what == "crowd":
    socks = [conn() for _ in range(200)]
    # Well within the idle timeout, so that the accepted ones stay.
    import select
    busy, end = 0, time.time() + 3
    waiting = list(socks)
    while waiting and time.time() < end:
        ready, _, _ = select.select(waiting, [], [], 0.2)
        for s in ready:
            waiting.remove(s)
            r = line(s)
            if r and "busy" in r["error"]:
                busy += 1
    assert busy >= 200 - 64, busy
    s = conn()
    r = line(s)
    assert r is not None and "busy" in r["error"], r
    for s in socks:
        s.close()
    time.sleep(0.5)
    s = conn()
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    r = line(s)
    assert r["ok"] is True, r
    print("crowd: %d of 200 told busy; status answered afterwards" % busy)
PY
# The crowd first: the silent client would free its slot in the middle.
timeout 60 python3 "$T/bad.py" "$sock" crowd >"$T/crowd.out" 2>&1 ||
	fail "bad input crowd: $(cat "$T/crowd.out")"
note "$(cat "$T/crowd.out")"
python3 "$T/bad.py" "$sock" silence >"$T/silence.out" 2>&1 &
silence=$!
for what in garbage binary huge; do
	timeout 60 python3 "$T/bad.py" "$sock" $what >"$T/$what.out" 2>&1 ||
		fail "bad input $what: $(cat "$T/$what.out")"
	note "$(cat "$T/$what.out")"
done
wait_exit $silence 30 || fail "silent client: $(cat "$T/silence.out")"
note "$(cat "$T/silence.out")"
busy_lines=$(count_log "$T/baton.log" 'control: .*busy')
[ "$busy_lines" -le 3 ] || fail "busy logged $busy_lines times (not rate limited)"
ctl status
[ $rc = 0 ] || fail "the master does not answer after the bad input"

# --- baton -s through the control socket --------------------------------
# bsig ARGS...: `baton -c t.ini ARGS` bounded in time; output in
# $T/bsig.out, status in rc.
bsig()
{
	timeout 60 "${BATON_CMD[@]}" -c "$T/t.ini" "$@" >"$T/bsig.out" 2>&1
	rc=$?
	note "baton $* -> $rc: $(head -c 300 "$T/bsig.out" | tr '\n' ' ')"
}
# The scaled count (3) survives reloads: the file still says 2.
conf ""
bsig -s reload
[ $rc = 0 ] || fail "baton -s reload exited $rc"
grep -qx 'baton: -s reload: generation 7 is active' "$T/bsig.out" ||
	fail "baton -s reload: $(cat "$T/bsig.out")"
grep -q 'generation 7: starting -> active' "$T/baton.log" ||
	fail "baton -s reload returned before generation 7 was active"
pid=$(http_get "$url/pid") || fail "no answer after baton -s reload"
[ "$(proc_env "$pid" BATON_GENERATION)" = 7 ] ||
	fail "pid $pid is not of generation 7"

conf --crash-on-start
bsig -s reload
[ $rc = 1 ] || fail "crashing build: baton -s reload exited $rc"
reason=$(sed -n 's/^baton: -s reload: //p' "$T/bsig.out")
[[ $reason =~ ^generation\ 8:\ rolled\ back:\ worker\ [0-9]\ exited\ with\ status\ 1\ before\ it\ was\ ready$ ]] ||
	fail "crashing build: baton -s reload said \"$reason\""
grep -qF "$reason; generation 7 keeps serving" "$T/baton.log" ||
	fail "baton -s reload's reason is not the one logged: $reason"
pid=$(http_get "$url/pid") || fail "no answer after the rollback"
[ "$(proc_env "$pid" BATON_GENERATION)" = 7 ] ||
	fail "generation 7 is not serving after the rollback"

# -n: fire and forget, as the signal was; only for reload.
conf ""
bsig -n -s reload
[ $rc = 0 ] || fail "baton -n -s reload exited $rc"
grep -qx 'baton: -s reload: requested' "$T/bsig.out" ||
	fail "baton -n -s reload: $(cat "$T/bsig.out")"
wait_log "$T/baton.log" 'generation 9: starting -> active' 20
bsig -n -s retire
[ $rc = 1 ] || fail "baton -n -s retire exited $rc, not 1"
grep -q 'retire: ' "$T/baton.log" && fail "-n -s retire reached the master"

# A socket nobody answers on: a connection error, exit 2.
sed "s|^control = .*|control = $T/nobody.sock|" "$T/t.ini" >"$T/other.ini"
timeout 20 "${BATON_CMD[@]}" -c "$T/other.ini" -s reload >"$T/bsig.out" 2>&1
rc=$?
[ $rc = 2 ] || fail "no master on the socket: exit $rc, not 2"
grep -q "^baton: -s reload: .*$T/nobody.sock" "$T/bsig.out" ||
	fail "no master on the socket: $(cat "$T/bsig.out")"

# more / fewer: TTIN and TTOU by name.
wait_log "$T/baton.log" 'generation 7: draining -> gone' 30
wait_for "generation 9 settled with 3 workers" 20 has_children 3
bsig -s more
[ $rc = 0 ] || fail "baton -s more exited $rc"
wait_for "4 workers after -s more" 20 has_children 4
wait_log "$T/baton.log" 'scale: generation 9 now has 4 workers' 10
bsig -s fewer
[ $rc = 0 ] || fail "baton -s fewer exited $rc"
wait_for "3 workers after -s fewer" 20 has_children 3
wait_log "$T/baton.log" 'scale: generation 9 now has 3 workers' 10
note "baton -s reload 0 / 1 with the logged reason / 2 unreachable; more, fewer"

sleep 1
load_stop ctl
assert_no_loss ctl 300
ctl stop
[ $rc = 0 ] || fail "stop exited $rc"
baton_wait_exit 30 || fail "baton did not exit 0 after batonctl stop"
[ -e "$sock" ] && fail "the socket was left behind"
if [ "${perm_skipped:-0}" = 1 ]; then
	pass "all but the other-uid part (SKIPPED: not root)"
fi
pass "reload 0, crash/hang/bad config 1 with the logged reason, 0 lost"
