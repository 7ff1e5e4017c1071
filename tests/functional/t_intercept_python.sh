#!/bin/bash
# t_intercept_python: `python3 -m http.server --bind 127.0.0.1 PORT`, which
# binds its own socket and knows nothing of inherited ones, run with
# intercept_bind = yes and ready = listen: 50 HUPs under load. Every
# worker's bind is intercepted and /proc shows its descriptor is the
# master's socket. No connection is ever refused.
#
# http.server cannot stop gracefully: on SIGTERM it dies at once; on SIGINT
# (stop_signal = INT here, the better of the two: it stops accepting first)
# it exits and its daemon handler threads die with the requests they hold,
# and its main thread may accept one more connection it never serves
# (stop_timeout is short: waiting longer would not drain anything). So
# some requests are lost at each retirement by the app itself. The test
# asserts exactly that: every lost request failed while a python worker was
# between its stop signal and its exit, none was refused, none timed out.
# The Go server of t_intercept_go, which drains, loses none.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

port=$(pick_port)
mkdir -p "$T/www"
echo ok >"$T/www/index.html"
write_conf "$T/t.ini" <<EOF2
[baton]
pidfile = $T/t.pid
[app]
command = python3 -m http.server --bind 127.0.0.1 --directory $T/www $port
workers = 2
ready = listen
ready_timeout = 10s
stop_signal = ${STOP_SIGNAL:-INT}
stop_timeout = 5s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
backlog = 1024
EOF2
baton_start "$T/t.ini"
assert_installed 1 0
assert_installed 1 1
# loadcheck's clock starts somewhere between these two instants.
load_t0=$(now_ms)
load_start reload "http://127.0.0.1:$port/" -c 50 --timeline "$T/reload.csv"
load_t1=$(now_ms)
sleep 1
start=$(now_ms)
for i in $(seq 1 50); do
	baton_signal HUP
	wait_gen_active $((i + 1)) 30
	sleep 0.2
done
note "50 reloads took $(($(now_ms) - start)) ms"
sleep 2
load_stop reload
[ "$(count_log "$T/baton.log" 'rolled back')" = 0 ] ||
	fail "a reload was rolled back"
n=$(count_log "$T/baton.log" 'intercepted: installed \[listen http\]')
[ "$n" = 102 ] || fail "expected 102 intercepted binds (51 x 2), saw $n"
assert_installed 51 0
assert_installed 51 1
wait_for "every old generation gone" 30 \
	eval '[ "$(count_log "$T/baton.log" "draining -> gone")" = 50 ]'
summary=$(load_summary reload)
for k in refused timeout non2xx other; do
	[ "$(json_get reload $k)" = 0 ] ||
		fail "$k is not 0: the socket was not always there: $summary"
done
[ "$(json_get reload ok)" -ge 1000 ] || fail "too few requests: $summary"

# Each lost request must have failed while a worker was exiting: between
# the log's "ready -> stopping" and "exited" (or "killed": a KeyboardInterrupt
# that lands inside socketserver's own error handling is swallowed, and
# that worker serves on until stop_timeout's SIGKILL) of one pid, give or
# take 20 ms.
# The timeline counts from loadcheck's start, known only to lie between
# load_t0 and load_t1 (plus its exec): the check passes if one offset in
# that range puts every loss inside a window. The windows cover a small
# part of the run, so losses from any other cause could not all fit.
verdict=$(python3 - "$T/baton.log" "$T/reload.csv" "$load_t0" "$load_t1" <<-'PY'
	import csv, datetime, re, sys
	log, timeline = sys.argv[1], sys.argv[2]
	t0, t1 = int(sys.argv[3]), int(sys.argv[4]) + 200
	stop, win, nexit = {}, [], 0
	# search, not match: python's own output may precede a log line.
	pat = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \[\w+\] "
	                 r"baton\[\d+\]: generation \d+ "
	                 r"worker \d+ pid (\d+): "
	                 r"(ready -> stopping|exited|killed)")
	for line in open(log):
	    m = pat.search(line)
	    if not m:
	        continue
	    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
	    ms = t.timestamp() * 1000
	    if m.group(3) != "ready -> stopping":
	        if m.group(2) in stop:
	            nexit += 1
	            a, b = stop.pop(m.group(2)) - 20, ms + 20
	            # A worker that lingered: its stop and its kill, not the
	            # time it went on serving in between.
	            if b - a > 2000:
	                win += [(a, a + 1000), (b - 1000, b)]
	            else:
	                win.append((a, b))
	    else:
	        stop[m.group(2)] = ms
	ends = [int(r["start_ms"]) + float(r["latency_ms"])
	        for r in csv.DictReader(open(timeline)) if r["outcome"] != "ok"]
	best = (-1, 0)
	for off in range(t0, t1 + 1):
	    n = sum(any(a <= off + e <= b for a, b in win) for e in ends)
	    best = max(best, (n, off - t0))
	    if n == len(ends):
	        break
	busy = sum(b - a for a, b in win) / 1000.0
	print(len(ends), best[0], nexit, best[1], "%.1f" % busy)
	PY
) || fail "cannot read the timeline"
read -r lost inside exits offset busy <<<"$verdict"
note "python http.server: $lost requests lost in 50 reloads, $inside of" \
    "them while one of the $exits retired workers was exiting (windows" \
    "${busy} s of the run in all; loadcheck's clock at +$offset ms)"
[ "$lost" = "$inside" ] ||
	fail "$((lost - inside)) lost requests failed while no worker was" \
	    "exiting: $summary"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "50 reloads, $(json_get reload requests) requests, $lost lost, all" \
    "by http.server's own exit (0 refused)"
