#!/bin/bash
# t_shutdown: TERM and QUIT drain the requests in flight and exit 0 (pidfile
# removed, no worker left); INT sends TERM (whatever stop_signal) and KILL
# after 1 s; a second TERM, or an INT during a graceful shutdown, kills at
# once; `baton -s` signals the master through the pidfile.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# threads PID: how many threads PID has (0 when gone).
threads()
{
	local -a t=(/proc/"$1"/task/*)
	[ -e "${t[0]}" ] || { echo 0; return; }
	echo ${#t[@]}
}

# busy_threads PID...: threads beyond demoapp's idle two (main + acceptor
# of its one listener), summed: the connections being served.
busy_threads()
{
	local p n=0
	for p in "$@"; do
		n=$((n + $(threads "$p") - 2))
	done
	echo "$n"
}

# conf NAME COMMAND [EXTRA LINES]: write $T/NAME.ini for port $port.
conf()
{
	write_conf "$T/$1.ini" <<-EOF
	[baton]
	pidfile = $T/baton.pid

	[app]
	command = $2
	workers = 2
	ready_timeout = 20s
	${3:-}

	[listen http]
	address = 127.0.0.1:$port
	EOF
}

# start NAME: a fresh log, baton_start with $T/NAME.ini, record WORKERS.
start()
{
	[ -e "$T/baton.log" ] && mv "$T/baton.log" "$T/baton.log.before-$1"
	baton_start "$T/$1.ini"
	mapfile -t WORKERS < <(worker_pids "$BATON_PID")
	[ ${#WORKERS[@]} = 2 ] || fail "$1: ${#WORKERS[@]} workers: ${WORKERS[*]}"
}

# stopped_cleanly WHAT: the master exited (status checked by the caller),
# no worker is left, the pidfile is gone.
stopped_cleanly()
{
	local p
	for p in "${WORKERS[@]}"; do
		alive "$p" && fail "$1: worker $p outlived the master"
	done
	[ ! -e "$T/baton.pid" ] || fail "$1: pidfile left behind"
	grep -q "master pid $BATON_PID: exiting with status 0" "$T/baton.log" ||
		fail "$1: no 'exiting with status 0' line"
}

# slow_requests N MS: N requests /sleep?ms=MS in the background (tracked),
# status codes in $T/slow.I; waits until the workers have taken them all.
slow_requests()
{
	local i
	SLOW=()
	for i in $(seq 1 "$1"); do
		rm -f "$T/slow.$i"
		curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
			"http://127.0.0.1:$port/sleep?ms=$2" >"$T/slow.$i" 2>&1 &
		SLOW+=($!)
		track $!
	done
	wait_for "the workers to take $1 slow requests" 10 \
		eval '[ "$(busy_threads "${WORKERS[@]}")" -ge '"$1"' ]'
}

# slow_results: every slow request got 200; CODES lists them.
slow_results()
{
	local i p codes=
	for i in "${!SLOW[@]}"; do
		p=${SLOW[$i]}
		wait_exit "$p" 20 || fail "slow request $((i + 1)) failed (curl $?)"
		codes+="$(cat "$T/slow.$((i + 1))") "
	done
	[ "$codes" = "$(printf '200 %.0s' "${SLOW[@]}")" ] ||
		fail "slow requests answered: $codes"
	CODES=${codes% }
}

port=$(pick_port)
DEMO="$DEMOAPP --ready-delay 100"
NOTIFY="ready = notify
stop_timeout = 10s"
# Ignores TERM (an ignored disposition survives exec); QUIT kills it.
STUBBORN="/bin/sh -c 'trap \"\" TERM; exec sleep 1000'"

# --- (a) TERM with 5 slow requests in flight ---------------------------------
conf a "$DEMO" "$NOTIFY"
start a
slow_requests 5 3000
t0=$(now_ms)
baton_signal TERM
wait_log "$T/baton.log" "shutdown: graceful, retiring every generation" 5
baton_wait_exit 20
rc=$?
ms=$(( $(now_ms) - t0 ))
[ $rc = 0 ] || fail "(a) master exited $rc after TERM"
slow_results
stopped_cleanly "(a) TERM"
[ "$ms" -ge 1500 ] || fail "(a) master exited $ms ms after TERM, before the requests ended"
[ "$ms" -lt 10000 ] || fail "(a) TERM took $ms ms"
note "(a) TERM with 5 x 3 s requests in flight: exit 0 after $ms ms; answers: $CODES"

# --- (b) INT: TERM to the workers, KILL after 1 s -----------------------------
# stop_signal QUIT would kill them at once: INT must send TERM regardless.
conf b "$STUBBORN" "ready = delay:200ms
stop_signal = QUIT
stop_timeout = 30s"
start b
t0=$(now_ms)
baton_signal INT
baton_wait_exit 10
rc=$?
ms=$(( $(now_ms) - t0 ))
[ $rc = 0 ] || fail "(b) master exited $rc after INT"
stopped_cleanly "(b) INT"
grep -q "shutdown: fast, retiring every generation" "$T/baton.log" || fail "(b) no fast shutdown line"
for p in "${WORKERS[@]}"; do
	grep -q "pid $p: still running after the stop timeout, sending KILL to its process group" \
		"$T/baton.log" || fail "(b) no KILL logged for worker $p"
	grep -q "pid $p: killed by signal 9 (KILL)" "$T/baton.log" ||
		fail "(b) worker $p did not die of KILL: $(grep "pid $p" "$T/baton.log" | tail -n 2)"
done
[ "$ms" -ge 900 ] || fail "(b) INT: master exited after $ms ms, before the 1 s grace"
[ "$ms" -le 3000 ] || fail "(b) INT: master took $ms ms to exit"
note "(b) INT with TERM-ignoring workers: KILL logged, exit 0 after $ms ms"
grep -E "still running after the stop timeout|killed by signal 9" "$T/baton.log" | sed 's/^/    /'

# --- (c) QUIT: graceful, like TERM ---------------------------------------------
conf c "$DEMO" "$NOTIFY"
start c
slow_requests 2 1500
t0=$(now_ms)
baton_signal QUIT
baton_wait_exit 20
rc=$?
ms=$(( $(now_ms) - t0 ))
[ $rc = 0 ] || fail "(c) master exited $rc after QUIT"
slow_results
stopped_cleanly "(c) QUIT"
grep -q "shutdown: graceful, retiring every generation" "$T/baton.log" || fail "(c) not graceful"
grep -q "killed by signal 9" "$T/baton.log" && fail "(c) a worker was killed during a graceful QUIT"
[ "$ms" -ge 700 ] || fail "(c) QUIT: exit after $ms ms, before the requests ended"
note "(c) QUIT with 2 x 1.5 s requests in flight: exit 0 after $ms ms; answers: $CODES"

# --- (d) a second TERM while the first waits on a TERM-ignoring worker -----------
conf d "$STUBBORN" "ready = delay:200ms
stop_timeout = 30s"
start d
baton_signal TERM
for p in "${WORKERS[@]}"; do
	wait_log "$T/baton.log" "pid $p: ready -> stopping" 5
done
# HUP, WINCH and TTIN are ignored during a shutdown.
baton_signal HUP
wait_log "$T/baton.log" "reload: ignored, shutting down" 5
baton_signal TTIN
wait_log "$T/baton.log" "scale: no generation is serving, ignored" 5
baton_signal WINCH
sleep 0.5   # the workers ignore TERM: the master must still be waiting
alive "$BATON_PID" || fail "(d) master exited during a 30 s stop_timeout"
[ "$(count_log "$T/baton.log" "generation 2")" = 0 ] || fail "(d) HUP during shutdown started a generation"
[ "$(worker_pids "$BATON_PID" | tr '\n' ' ')" = "${WORKERS[*]} " ] ||
	fail "(d) children changed during shutdown: $(worker_pids "$BATON_PID")"
for p in "${WORKERS[@]}"; do
	alive "$p" || fail "(d) worker $p died of an ignored TERM"
done
t0=$(now_ms)
baton_signal TERM
baton_wait_exit 10
rc=$?
ms=$(( $(now_ms) - t0 ))
[ $rc = 0 ] || fail "(d) master exited $rc after the second TERM"
stopped_cleanly "(d) TERM TERM"
grep -q "shutdown: killing every worker now" "$T/baton.log" || fail "(d) no kill line"
[ "$ms" -le 3000 ] || fail "(d) second TERM: master took $ms ms to exit"
note "(d) second TERM: workers killed, master exit 0 after $ms ms"

# --- (d') INT during a graceful QUIT kills at once ----------------------------------
start d
baton_signal QUIT
for p in "${WORKERS[@]}"; do
	wait_log "$T/baton.log" "pid $p: ready -> stopping" 5
done
sleep 0.3
alive "$BATON_PID" || fail "(d') master exited during a 30 s stop_timeout"
t0=$(now_ms)
baton_signal INT
baton_wait_exit 10
rc=$?
ms=$(( $(now_ms) - t0 ))
[ $rc = 0 ] || fail "(d') master exited $rc"
stopped_cleanly "(d') QUIT INT"
grep -q "shutdown: killing every worker now" "$T/baton.log" || fail "(d') no kill line"
[ "$ms" -le 3000 ] || fail "(d') INT after QUIT: master took $ms ms to exit"
note "(d') INT during a graceful QUIT: exit 0 after $ms ms"

# --- (e) baton -s -------------------------------------------------------------------
# bs NAME ARGS...: run `baton ARGS` (bounded), RC and $T/NAME.err.
bs()
{
	local name=$1 p
	shift
	"${BATON_CMD[@]}" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	p=$!
	track $p
	wait_exit $p 10
	RC=$?
}
start c
bs reload -c "$T/c.ini" -s reload
[ $RC = 0 ] || fail "(e) -s reload exited $RC: $(cat "$T/reload.err")"
wait_gen_active 2
wait_log "$T/baton.log" "generation 1: draining -> gone" 20
bs quit -c "$T/c.ini" -s quit
[ $RC = 0 ] || fail "(e) -s quit exited $RC: $(cat "$T/quit.err")"
baton_wait_exit 20 || fail "(e) master did not exit 0 after -s quit"
grep -q "shutdown: graceful" "$T/baton.log" || fail "(e) -s quit was not graceful"
mapfile -t WORKERS < <(sed -nE 's/.*generation 2 worker [0-9] pid ([0-9]+): starting -> ready/\1/p' "$T/baton.log")
stopped_cleanly "(e) -s quit"
note "(e) -s reload: generation 2 active; -s quit: exit 0"

start c
bs stop -c "$T/c.ini" -s stop
[ $RC = 0 ] || fail "(e) -s stop exited $RC: $(cat "$T/stop.err")"
baton_wait_exit 20 || fail "(e) master did not exit 0 after -s stop"
grep -q "shutdown: graceful" "$T/baton.log" || fail "(e) -s stop was not graceful"
stopped_cleanly "(e) -s stop"
dead=$BATON_PID

bs bogus -c "$T/c.ini" -s bogus
[ $RC = 1 ] || fail "(e) -s bogus exited $RC"
grep -q "^baton: -s bogus: unknown signal" "$T/bogus.err" ||
	fail "(e) -s bogus said: $(cat "$T/bogus.err")"
note "(e) -s bogus: $(cat "$T/bogus.err")"

bs missing -c "$T/c.ini" -s reload
[ $RC = 1 ] || fail "(e) -s reload with no master exited $RC"
grep -q "^baton: -s reload: $T/baton.pid: No such file or directory" "$T/missing.err" ||
	fail "(e) -s reload with no pidfile said: $(cat "$T/missing.err")"
note "(e) no pidfile: $(cat "$T/missing.err")"

# A pidfile left behind, naming a live process that is not a master: it must
# be told stale (nobody holds its lock) and never be signalled.
sleep 1000 &
innocent=$!
track $innocent
echo "$innocent" >"$T/baton.pid"
bs stale -c "$T/c.ini" -s reload
[ $RC = 1 ] || fail "(e) -s reload with a stale pidfile exited $RC"
grep -q "^baton: -s reload: $T/baton.pid: stale, pid $innocent no longer runs a master" \
	"$T/stale.err" || fail "(e) stale pidfile: $(cat "$T/stale.err")"
sleep 0.2
alive $innocent || fail "(e) -s reload signalled pid $innocent from a stale pidfile"
note "(e) stale pidfile: $(cat "$T/stale.err")"
echo "$dead" >"$T/baton.pid"
bs stale2 -c "$T/c.ini" -s stop
{ [ $RC = 1 ] && grep -q "stale, pid $dead" "$T/stale2.err"; } ||
	fail "(e) pidfile of the dead master $dead: exit $RC, $(cat "$T/stale2.err")"
rm -f "$T/baton.pid"

sed '/^pidfile/d' "$T/c.ini" >"$T/nopid.ini"
bs nopid -c "$T/nopid.ini" -s reload
{ [ $RC = 1 ] && grep -q "^baton: -s reload: $T/nopid.ini sets no pidfile" "$T/nopid.err"; } ||
	fail "(e) no pidfile configured: exit $RC, $(cat "$T/nopid.err")"
pass
