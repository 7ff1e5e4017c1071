#!/bin/bash
# bench/scenarios/accept.sh: the cost of intercept_accept: requests/s,
# latency and CPU per request of the demo app under baton with
# intercept_accept = no and = yes, loaded in turn.  Skipped when this build
# refuses intercept_accept.
#
# Run alone: bench/scenarios/accept.sh, the same as
# BENCH_ONLY=accept bench/run.

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=accept exec "$(dirname "$0")/../run"
fi

# The demo app under baton, 2 workers, its socket passed by LISTEN_FDS,
# with intercept_accept = no and = yes side by side (both started once),
# and the same load on each in turn: no, yes, no, yes...  A new connection
# per request and fast requests only, so every request is one accept(),
# which with yes is a seccomp user notification the master answers.
ACCEPT_ROUNDS=3
ACCEPT_SECS=5
ACCEPT_CLIENTS=50

# sum_ticks PID...: cpu_ticks of them all.
sum_ticks()
{
	local p s=0
	for p in "$@"; do
		s=$((s + $(cpu_ticks "$p")))
	done
	echo "$s"
}

# accept_run DIR MASTER PORT SECONDS: one load of SECONDS on PORT into
# DIR.json (DIR.err), with the CPU ticks of the master and of its workers
# before and after, and the machine's load, in DIR.cpu.
accept_run()
{
	local f=$1 m=$2 url=http://127.0.0.1:$3/ secs=$4 l
	local -a ws
	mapfile -t ws < <(children_of "$m" | sort -n)
	{
		echo "loadavg $(cut -d' ' -f1 /proc/loadavg)"
		echo "workers ${ws[*]}"
		echo "before $(cpu_ticks "$m") $(sum_ticks "${ws[@]}")"
	} >"$f.cpu"
	"$LOADCHECK" -c "$ACCEPT_CLIENTS" -d "$secs" --timeout "$REQ_TIMEOUT" \
		--json "$f.json" "$url" >/dev/null 2>"$f.err" &
	l=$!
	track "$l"
	wait_gone "$l" $((secs * 1000 + REQ_TIMEOUT + 8000)) ||
		stop_tree "$l" INT 3000
	{
		echo "after $(cpu_ticks "$m") $(sum_ticks "${ws[@]}")"
		echo "workers_after $(children_of "$m" | sort -n | tr '\n' ' ')"
	} >>"$f.cpu"
}

# fig_accept: requests/s, latency and CPU per request with intercept_accept
# = no and = yes (only if this build has it); raw data in $OUT/accept.
fig_accept()
{
	local d=$OUT/accept mode r need
	local -A port=() pid=()
	if [ "$(cat "$OUT/features/accept" 2>/dev/null)" != yes ]; then
		note "accept: skipped, baton -t refuses intercept_accept" \
		    "(see $OUT/features/accept.out)"
		return 0
	fi
	# The runs and warm-ups, plus starting and stopping.
	need=$(((2 * ACCEPT_ROUNDS * ACCEPT_SECS + 2) * 1000 + REQ_TIMEOUT +
	    20000))
	if [ "$(budget_left_ms)" -lt "$need" ]; then
		note "accept: skipped, not enough of the time budget left"
		echo "accept all time budget" >>"$OUT/skipped.txt"
		return 0
	fi
	for mode in no yes; do
		mkdir -p "$d/$mode"
		port[$mode]=$(pick_port) || return 0
		cat >"$d/$mode/baton.ini" <<EOF
[baton]
pidfile = $d/$mode/baton.pid
[app]
command = $APP
workers = 2
ready = notify
ready_timeout = 10s
stop_signal = TERM
stop_timeout = 10s
intercept_accept = $mode
[listen http]
address = 127.0.0.1:${port[$mode]}
backlog = 1024
EOF
		"$BATON" -c "$d/$mode/baton.ini" >"$d/$mode/baton.log" 2>&1 &
		pid[$mode]=$!
		track "${pid[$mode]}"
	done
	echo "load $ACCEPT_CLIENTS $ACCEPT_SECS $ACCEPT_ROUNDS" >"$d/params"
	note "accept: intercept_accept = no on port ${port[no]}, = yes on" \
	    "${port[yes]}; $ACCEPT_ROUNDS rounds of ${ACCEPT_SECS} s each"
	for mode in no yes; do
		if ! wait_file_re "$d/$mode/baton.log" \
		    'generation 1: starting -> active' 10000 ||
		    ! wait_http "http://127.0.0.1:${port[$mode]}/" 10000; then
			echo "intercept_accept = $mode: generation 1 not active" \
			    "(see $mode/baton.log)" >>"$d/error"
			note "accept: intercept_accept = $mode did not start"
		fi
	done
	if [ ! -e "$d/error" ]; then
		# A 1 s warm-up of each, not counted.
		for mode in no yes; do
			accept_run "$d/$mode/warmup" "${pid[$mode]}" \
			    "${port[$mode]}" 1
		done
		for r in $(seq 1 "$ACCEPT_ROUNDS"); do
			for mode in no yes; do
				accept_run "$d/$mode/run-$r" "${pid[$mode]}" \
				    "${port[$mode]}" "$ACCEPT_SECS"
			done
		done
	fi
	for mode in no yes; do
		echo "=== bench: load ended" >>"$d/$mode/baton.log"
		stop_tree "${pid[$mode]}" QUIT 15000
	done
	command_once accept "baton -c baton.ini  # command = bench/app," \
	    "workers = 2, ready = notify, intercept_accept = no|yes;" \
	    "loadcheck -c $ACCEPT_CLIENTS -d $ACCEPT_SECS" \
	    "--timeout $REQ_TIMEOUT --json F http://127.0.0.1:PORT/  #" \
	    "$ACCEPT_ROUNDS rounds: no, yes (after a 1 s warm-up of each)"
}
