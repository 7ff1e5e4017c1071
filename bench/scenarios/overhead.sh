#!/bin/bash
# bench/scenarios/overhead.sh: baton's own cost of a reload with 1, 16, 64
# and 512 workers of bench/stamp (which records when it was exec'd and when
# it said READY=1): how long from the HUP to the workers running, to the
# new generation active, to the old one gone, and what the master holds
# afterwards (children, zombies, RSS, fds).
#
# Run alone: bench/scenarios/overhead.sh, the same as
# BENCH_ONLY=overhead bench/run.

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=overhead exec "$(dirname "$0")/../run"
fi

fig_overhead()
{
	local n d hups g b i limit
	for n in 1 16 64 512; do
		d=$OUT/overhead/$n
		mkdir -p "$d"
		hups=3
		limit=30000
		if [ "$n" = 512 ]; then
			hups=1
			limit=120000
		fi
		cat >"$d/baton.ini" <<EOF
[baton]
pidfile = $d/baton.pid
[app]
command = $STAMP $d/stamps
workers = $n
ready = notify
ready_timeout = 60s
stop_signal = TERM
stop_timeout = 30s
EOF
		note "overhead: $n workers, $hups reloads"
		echo "start $(now_us)" >"$d/events"
		"$BATON" -c "$d/baton.ini" >"$d/baton.log" 2>&1 &
		b=$!
		track "$b"
		if ! wait_file_re "$d/baton.log" \
		    'generation 1: starting -> active' "$limit"; then
			echo "generation 1 not active" >"$d/error"
			stop_tree "$b" INT 10000
			continue
		fi
		echo "active 1 $(now_us)" >>"$d/events"
		for i in $(seq 1 "$hups"); do
			g=$((i + 1))
			echo "hup $g $(now_us)" >>"$d/events"
			ours "$b" && kill -HUP "$b"
			if ! wait_file_re "$d/baton.log" \
			    "generation $i: draining -> gone" "$limit"; then
				echo "generation $i not gone" >>"$d/error"
				break
			fi
		done
		sleep 0.3
		{
			echo "children $(children_of "$b" | wc -l)"
			echo "zombies $(zombies_of "$b" | wc -l)"
			echo "rss_kb $(rss_kb "$b")"
			echo "fds $(find /proc/"$b"/fd -mindepth 1 -maxdepth 1 |
				wc -l)"
		} >>"$d/events"
		echo "quit $(now_us)" >>"$d/events"
		ours "$b" && kill -QUIT "$b"
		wait_gone "$b" "$limit" || stop_tree "$b" KILL 1000
		echo "gone $(now_us)" >>"$d/events"
	done
	command_once overhead "baton -c baton.ini  # command = bench/stamp" \
	    "FILE, workers = 1|16|64|512, ready = notify; kill -HUP"
}
