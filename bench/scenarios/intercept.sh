#!/bin/bash
# bench/scenarios/intercept.sh: the cost of an intercepted bind():
# bench/bindcost does 500 bind()+listen() alone, then as a baton worker
# with intercept_bind = yes, where each is a seccomp user notification the
# master answers.  Skipped when this build refuses intercept_bind.
#
# Run alone: bench/scenarios/intercept.sh, the same as
# BENCH_ONLY=intercept bench/run.

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=intercept exec "$(dirname "$0")/../run"
fi

# fig_intercept: the cost of an intercepted bind: bench/bindcost alone, then
# as a baton worker with intercept_bind = yes (only if this build has it).
fig_intercept()
{
	local d=$OUT/intercept pa pb b
	[ "$(cat "$OUT/features/intercept" 2>/dev/null)" = yes ] || return 0
	mkdir -p "$d"
	pa=$(pick_port) && pb=$(pick_port) || return 0
	note "intercept: 500 binds alone, then under intercept_bind"
	"$BINDCOST" 127.0.0.1 "$pa" 500 "$d/alone.txt" >"$d/alone.log" 2>&1
	cat >"$d/baton.ini" <<EOF
[baton]
pidfile = $d/baton.pid
[app]
command = $BINDCOST 127.0.0.1 $pb 500 $d/intercepted.txt
workers = 1
ready = notify
ready_timeout = 20s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$pb
EOF
	"$BATON" -c "$d/baton.ini" >"$d/baton.log" 2>&1 &
	b=$!
	track "$b"
	wait_file_re "$d/baton.log" 'generation 1: starting -> active' 20000 ||
		echo "generation 1 not active" >"$d/error"
	stop_tree "$b" QUIT 10000
	command_once bindcost "bench/bindcost 127.0.0.1 PORT 500 FILE  # alone," \
	    "then as the worker of: baton with intercept_bind = yes," \
	    "[listen] 127.0.0.1:PORT"
}
