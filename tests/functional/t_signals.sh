#!/bin/bash
# t_signals: WINCH retires the serving generation while the master keeps its
# sockets (a request waits in the backlog until HUP brings a generation);
# TTIN/TTOU scale the serving generation (never below 1) and the count
# survives a reload until `workers` is edited; USR1 reopens the log file.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# nkids: how many children the master has.
nkids()
{
	worker_pids "$BATON_PID" | wc -l
}

# wait_kids N: until the master has exactly N children.
wait_kids()
{
	wait_for "the master to have $1 children (has $(nkids))" 10 \
		eval '[ "$(nkids)" = '"$1"' ]'
}

# scale SIG LINE: send SIG, wait for one more LINE ("scale: ..." text).
scale()
{
	local n
	SCALE_RE=$2
	n=$(count_log "$T/baton.log" "$SCALE_RE")
	baton_signal "$1"
	wait_for "'$2' after $1" 10 \
		eval '[ "$(count_log "$T/baton.log" "$SCALE_RE")" -gt '"$n"' ]'
}

# conf WORKERS READY_DELAY_MS: write $T/t.ini.
conf()
{
	write_conf "$T/t.ini" <<-EOF
	[baton]
	pidfile = $T/baton.pid
	log = $T/baton.log

	[app]
	command = $DEMOAPP --ready-delay $2
	workers = $1
	ready = notify
	ready_timeout = 20s
	stop_timeout = 10s

	[listen http]
	address = 127.0.0.1:$port
	EOF
}

port=$(pick_port)
url=http://127.0.0.1:$port
conf 2 100
# The master logs to $T/baton.log itself; its stderr (and the workers') is
# another file.
"${BATON_CMD[@]}" -c "$T/t.ini" >>"$T/stderr.log" 2>&1 &
BATON_PID=$!
track $BATON_PID
note "baton started (pid $BATON_PID)"
wait_log "$T/baton.log" "generation 1: starting -> active" 20
grep -q "baton\[" "$T/stderr.log" && fail "the master logged to stderr despite log = $T/baton.log"

# --- WINCH: retire, the master keeps the socket ---------------------------------
baton_signal WINCH
wait_log "$T/baton.log" \
	"retire: retiring generation 1, the master stays; HUP starts a new generation" 5
wait_log "$T/baton.log" "generation 1: draining -> gone" 20
wait_kids 0
alive "$BATON_PID" || fail "the master exited on WINCH"
grep -q "listener .*closed" "$T/baton.log" && fail "WINCH closed a listener"
python3 - "$port" <<'EOF' || fail "connect to the retired port failed"
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
EOF
curl -s -o "$T/waiting.body" -w '%{http_code}' --max-time 20 \
	"$url/env?BATON_GENERATION" >"$T/waiting.code" 2>"$T/waiting.err" &
waiting=$!
track $waiting
t0=$(now_ms)
scale TTIN "scale: no generation is serving, ignored"
sleep 1     # the request must wait: nothing accepts it
alive $waiting || fail "the request to a retired port ended: $(cat "$T/waiting.code")"
[ "$(nkids)" = 0 ] || fail "TTIN with no generation started a worker"
baton_signal HUP
wait_gen_active 2
grep -q "generation 2: ready$" "$T/baton.log" || fail "no 'generation 2: ready' line"
wait_exit $waiting 10 || fail "the waiting request failed: $(cat "$T/waiting.err")"
ms=$(( $(now_ms) - t0 ))
{ [ "$(cat "$T/waiting.code")" = 200 ] && [ "$(cat "$T/waiting.body")" = 2 ]; } ||
	fail "the waiting request got $(cat "$T/waiting.code") '$(cat "$T/waiting.body")'"
note "WINCH: generation 1 gone, the master kept the port; a request waited" \
    "$ms ms and got 200 from generation 2 after HUP"

# --- TTIN / TTOU -------------------------------------------------------------------------
scale TTIN "scale: generation 2 now has 3 workers$"
wait_log "$T/baton.log" "generation 2 worker 2 pid [0-9]+: starting -> ready" 10
wait_kids 3
w2=$(sed -nE 's/.*generation 2 worker 2 pid ([0-9]+): starting -> ready.*/\1/p' "$T/baton.log" | tail -n 1)
[ "$(proc_env "$w2" BATON_WORKER)" = 2 ] || fail "the TTIN worker has BATON_WORKER=$(proc_env "$w2" BATON_WORKER)"
[ "$(count_log "$T/baton.log" "generation 3")" = 0 ] || fail "TTIN started a generation"
note "TTIN: 3 workers (the new one, pid $w2, is worker 2)"

scale TTOU "scale: generation 2 now has 2 workers$"
wait_log "$T/baton.log" "generation 2 worker 2 pid $w2: ready -> stopping" 5
wait_kids 2
scale TTOU "scale: generation 2 now has 1 worker$"
wait_kids 1
w0=$(worker_pids "$BATON_PID")
[ "$(proc_env "$w0" BATON_WORKER)" = 0 ] || fail "TTOU kept worker $(proc_env "$w0" BATON_WORKER), not 0"
scale TTOU "scale: generation 2 now has 1 worker$"
sleep 0.5
[ "$(worker_pids "$BATON_PID")" = "$w0" ] || fail "TTOU at 1 worker changed the workers: $(worker_pids "$BATON_PID")"
grep -q "generation 2 worker 0 pid $w0: ready -> stopping" "$T/baton.log" &&
	fail "TTOU at 1 worker stopped the last one"
[ "$(http_get "$url/pid")" = "$w0" ] || fail "the last worker does not answer"
note "TTOU x2: 1 worker (pid $w0, worker 0); TTOU at 1: still 1"

# --- the scaled count across reloads ----------------------------------------------------
scale TTIN "scale: generation 2 now has 2 workers$"
wait_kids 2
scale TTIN "scale: generation 2 now has 3 workers$"
wait_kids 3
baton_signal HUP
wait_gen_active 3
grep -q "generation 3: starting 3 workers" "$T/baton.log" ||
	fail "the unchanged file did not keep the scaled count: $(grep 'generation 3: starting' "$T/baton.log")"
wait_log "$T/baton.log" "generation 2: draining -> gone" 20
wait_kids 3
note "HUP with workers = 2 unchanged in the file: generation 3 has 3 workers"

conf 4 1000
baton_signal HUP
wait_log "$T/baton.log" "generation 4: starting 4 workers" 10
scale TTIN "scale: ignored while generation 4 is starting; send it again once it is settled"
wait_gen_active 4
wait_log "$T/baton.log" "generation 3: draining -> gone" 20
wait_kids 4
note "HUP with workers = 4 in the file: generation 4 has 4 workers (TTIN while it started: ignored)"
baton_signal HUP
wait_gen_active 5
grep -q "generation 5: starting 4 workers" "$T/baton.log" || fail "generation 5 does not have the file's 4 workers"
wait_log "$T/baton.log" "generation 4: draining -> gone" 20

# --- USR1: reopen the log file -------------------------------------------------------------
mv "$T/baton.log" "$T/baton.log.1"
baton_signal TTOU   # logged to the renamed file, still open
wait_log "$T/baton.log.1" "scale: generation 5 now has 3 workers$" 10
[ ! -e "$T/baton.log" ] || fail "$T/baton.log reappeared before USR1"
baton_signal USR1
wait_log "$T/baton.log" "reopen: log file reopened" 5
grep -q "reopen: log file reopened" "$T/baton.log.1" && fail "the reopen line went to the old file"
[ "$(stat -c %a "$T/baton.log")" = 640 ] || fail "new log mode $(stat -c %a "$T/baton.log"), not 640"
old_lines=$(wc -l <"$T/baton.log.1")
scale TTOU "scale: generation 5 now has 2 workers$"
wait_kids 2
grep -q "generation 5 now has 2 workers" "$T/baton.log.1" && fail "a line after USR1 went to the old file"
[ "$(wc -l <"$T/baton.log.1")" = "$old_lines" ] || fail "the old file still grows"
grep -q "baton\[" "$T/stderr.log" && fail "the master logged to stderr"
note "USR1: new $T/baton.log (mode 640) gets the new lines; the old file stays at $old_lines lines"

baton_signal QUIT
baton_wait_exit 20 || fail "master did not exit 0 on QUIT"
wait_log "$T/baton.log" "master pid $BATON_PID: exiting with status 0" 5

# --- a master whose parent blocked some signals still takes them ----------------------------
# baton(8): "Signals are taken through the event loop".  A parent may exec
# baton with signals blocked (the mask survives exec, as the workers'
# reset shows); the master's HUP and TTIN must still work.
conf 1 100
mv "$T/baton.log" "$T/baton.log.first"
python3 - "${BATON_CMD[@]}" -c "$T/t.ini" >>"$T/stderr.log" 2>&1 <<'EOF' &
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTTIN})
os.execv(sys.argv[1], sys.argv[1:])
EOF
BATON_PID=$!
track $BATON_PID
wait_log "$T/baton.log" "generation 1: starting -> active" 20
blk=$(awk '$1 == "SigBlk:" { print $2 }' "/proc/$BATON_PID/status")
note "master started with HUP and TTIN blocked: SigBlk=$blk"
baton_signal TTIN
wait_log "$T/baton.log" "scale: generation 1 now has 2 workers" 5
baton_signal HUP
wait_log "$T/baton.log" "reload: reading" 5
wait_gen_active 2 10
grep -E "scale:|reload:|generation 2" "$T/baton.log" | sed 's/^/    /' 
baton_signal QUIT
baton_wait_exit 20 || fail "master did not exit 0 on QUIT"
pass
