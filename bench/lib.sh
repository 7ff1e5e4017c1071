# bench/lib.sh: helpers for bench/run (bash): time, processes, ports, waits.
#
# Everything bench/run starts in the background is `track`ed; bench_cleanup
# (an EXIT trap) stops it all, process trees included, and then kills any
# process still carrying this run's BENCH_TAG in its environment (a new
# baton master after USR2 is not our child; nginx workers drop the tag but
# are found as descendants of their master).  Nothing here uses pkill.

# --- time ---------------------------------------------------------------

# now_us / now_ms: CLOCK_REALTIME, the scale of stamp's and baton's clocks.
now_us()
{
	echo "${EPOCHREALTIME/./}"
}

now_ms()
{
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# sleep_until_ms T: sleep until now_ms >= T (no-op if already past).
sleep_until_ms()
{
	local left=$(($1 - $(now_ms)))
	if [ "$left" -gt 0 ]; then
		sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
	fi
}

# note MSG: progress, on stderr (the tables go to stdout).
note()
{
	local t=${EPOCHREALTIME/./}
	if [ -n "${T_START:-}" ]; then
		printf 'bench: %4ds %s\n' $(((t / 1000 - T_START) / 1000)) "$*" >&2
	else
		echo "bench: $*" >&2
	fi
}

# --- processes ----------------------------------------------------------

# The /proc helpers (alive, children_of, descendants, …), shared with the
# functional tests.
# shellcheck source=SCRIPTDIR/../tests/proc.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/proc.sh" || exit 1

TRACKED=()
declare -A TRACK_START=()
BENCH_TAG="bench.$$.${EPOCHREALTIME/./}"
export BENCH_TAG

# proc_start PID: its start time (clock ticks since boot, /proc/PID/stat
# field 22): with the pid, what tells a process from a later one that got
# the same pid.
proc_start()
{
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo "${20}"
}

# track PID...: remember these processes (pid and start time) for cleanup.
track()
{
	local p st
	for p in "$@"; do
		st=$(proc_start "$p") || continue
		TRACK_START[$p]=$st
		TRACKED+=("$p")
	done
}

# ours PID: PID runs and is ours: the very process we tracked (same start
# time), or one carrying our tag.  Every kill goes through it: on a busy
# machine the pid of a process gone long ago may be someone else's now.
ours()
{
	alive "$1" || return 1
	if [ -n "${TRACK_START[$1]:-}" ] &&
		[ "$(proc_start "$1")" = "${TRACK_START[$1]}" ]; then
		return 0
	fi
	proc_has_env "$1" BENCH_TAG "$BENCH_TAG"
}

# zombies_of PID: its children that are zombies, one per line.
zombies_of()
{
	local c
	for c in $(children_of "$1"); do
		[ "$(proc_state "$c")" = Z ] && echo "$c"
	done
	return 0
}

# wait_gone PID TIMEOUT_MS: wait until PID no longer runs (works for
# non-children too); reaps it when it is our child.  1 on timeout.
wait_gone()
{
	local pid=$1 limit=$2 start
	start=$(now_ms)
	while alive "$pid"; do
		if [ $(($(now_ms) - start)) -ge "$limit" ]; then
			return 1
		fi
		sleep 0.02
	done
	wait "$pid" 2>/dev/null
	return 0
}

# stop_tree PID SIG GRACE_MS: SIG to PID, then SIGKILL to it and to all its
# descendants of the moment if it is still there after GRACE_MS.
stop_tree()
{
	local pid=$1 sig=$2 grace=$3
	local -a desc=()
	ours "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	mapfile -t desc < <(descendants "$pid")
	kill -"$sig" "$pid" 2>/dev/null
	if ! wait_gone "$pid" "$grace"; then
		note "pid $pid ignored SIG$sig for $((grace / 1000)) s: SIGKILL"
		mapfile -t -O ${#desc[@]} desc < <(descendants "$pid")
		kill -KILL "$pid" "${desc[@]}" 2>/dev/null
		wait_gone "$pid" 2000
	fi
	return 0
}

# tagged: "pid cmdline" of every live process with our tag, but us.
tagged()
{
	proc_tagged BENCH_TAG "$BENCH_TAG"
}

BENCH_CLEANED=0
bench_cleanup()
{
	local p n
	local -a live=() desc=() left=()
	[ "$BENCH_CLEANED" = 1 ] && return 0
	BENCH_CLEANED=1
	for p in "${TRACKED[@]}"; do
		ours "$p" && live+=("$p")
	done
	if [ ${#live[@]} -gt 0 ]; then
		mapfile -t desc < <(descendants "${live[@]}")
		note "cleanup: stopping ${live[*]}"
		kill -TERM "${live[@]}" 2>/dev/null
		for n in $(seq 1 100); do
			left=()
			for p in "${live[@]}"; do
				alive "$p" && left+=("$p")
			done
			[ ${#left[@]} -eq 0 ] && break
			sleep 0.05
		done
		mapfile -t -O ${#desc[@]} desc < <(descendants "${live[@]}")
		kill -KILL "${left[@]}" "${desc[@]}" 2>/dev/null
		for p in "${TRACKED[@]}"; do
			wait "$p" 2>/dev/null
		done
	fi
	for n in 1 2 3 4 5 6 7 8 9 10; do
		mapfile -t left < <(tagged)
		[ ${#left[@]} -eq 0 ] && break
		if [ "$n" = 1 ]; then
			for p in "${left[@]}"; do
				note "cleanup: left behind: $p"
			done
		fi
		for p in "${left[@]}"; do
			kill -KILL "${p%% *}" 2>/dev/null
		done
		sleep 0.1
	done
	if [ -f "$OUT/.port_locks" ]; then
		while read -r p; do
			rm -rf "$p"
		done <"$OUT/.port_locks"
		rm -f "$OUT/.port_locks"
	fi
	return 0
}

# --- ports --------------------------------------------------------------

# pick_port: a free TCP port of 127.0.0.1 in 20000..32000, locked in the
# same directory as the functional tests' (tests/functional/lib.sh) so that
# a bench and a test run side by side never take the same port.
BENCH_PORT_LOCK_DIR=${TMPDIR:-/tmp}/baton-test-ports
pick_port()
{
	local port lock owner i
	mkdir -p "$BENCH_PORT_LOCK_DIR" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12001))
		lock=$BENCH_PORT_LOCK_DIR/$port
		if ! mkdir "$lock" 2>/dev/null; then
			owner=$(cat "$lock/owner" 2>/dev/null)
			if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
				rm -rf "$lock"
			fi
			continue
		fi
		echo $$ >"$lock/owner"
		if python3 - "$port" <<-'EOF' 2>/dev/null; then
			import socket, sys
			s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
			s.bind(("127.0.0.1", int(sys.argv[1])))
			EOF
			echo "$lock" >>"$OUT/.port_locks"
			echo "$port"
			return 0
		fi
		rm -rf "$lock"
	done
	note "pick_port: no free port"
	return 1
}

# --- waits --------------------------------------------------------------

# http_ok URL: one GET answered 2xx within a second.
http_ok()
{
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1") ||
		true
	[ "${code:0:1}" = 2 ]
}

# wait_http URL TIMEOUT_MS: until a GET succeeds; 1 on timeout.
wait_http()
{
	local start
	start=$(now_ms)
	until http_ok "$1"; do
		[ $(($(now_ms) - start)) -ge "$2" ] && return 1
		sleep 0.05
	done
	return 0
}

# wait_file_re FILE REGEX TIMEOUT_MS: until REGEX (ERE) is in FILE.
wait_file_re()
{
	local start
	start=$(now_ms)
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		[ $(($(now_ms) - start)) -ge "$3" ] && return 1
		sleep 0.02
	done
	return 0
}
