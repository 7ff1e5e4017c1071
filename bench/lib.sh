# bench/lib.sh: what every scenario of the bench shares (bash): where the
# binaries and the output are, the run's bookkeeping (scenario selection,
# time budget, commands for RESULTS.md, packages, the features of this
# build), and helpers for time, processes, ports, waits and /proc counters.
#
# Sourced once by bench/run, before the scenarios (bench/scenarios/*.sh),
# which all run in that one shell: the budget, the commands already
# recorded and the features probed are shared, as they were when the bench
# was one file.  Sourcing it sets the paths below and defines functions; it
# starts nothing.
#
# Everything bench/run starts in the background is `track`ed; bench_cleanup
# (an EXIT trap) stops it all, process trees included, and then kills any
# process still carrying this run's BENCH_TAG in its environment (a new
# baton master after USR2 is not our child; nginx workers drop the tag but
# are found as descendants of their master).  Nothing here uses pkill.

# --- where things are ---------------------------------------------------
# env: BUILD (default build), BENCH_OUT (default bench/out), BENCH_BUDGET
# (seconds, default 570), BENCH_ONLY (see bench/run).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by bench/run and the scenarios
ROOT=$(dirname "$BENCH_DIR")
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$PWD/$BUILD") ;;
esac
OUT=${BENCH_OUT:-$BENCH_DIR/out}
case $OUT in
/*) ;;
*) OUT=$PWD/$OUT ;;
esac
BUDGET=${BENCH_BUDGET:-570}
ONLY=${BENCH_ONLY:-}
BATON=$BUILD/baton
DEMOAPP=$BUILD/demoapp
# shellcheck disable=SC2034 # used by bench/run and the scenarios
LOADCHECK=$BUILD/loadcheck
APP=$BENCH_DIR/app
export BENCH_DEMOAPP=$DEMOAPP

# The helpers of the overhead and intercept scenarios, built into OUT by
# build_helpers.
# shellcheck disable=SC2034 # used by bench/run and the scenarios
STAMP=$OUT/stamp
# shellcheck disable=SC2034 # used by bench/run and the scenarios
BINDCOST=$OUT/bindcost

# Every loadcheck request's timeout, ms (restarts and accept alike).
# shellcheck disable=SC2034 # used by bench/run and the scenarios
REQ_TIMEOUT=5000

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
	# shellcheck disable=SC2086 # split the fields of /proc/PID/stat
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

# --- /proc counters -------------------------------------------------------

# cpu_ticks PID: user + system time of the process, its threads gone
# included (/proc/PID/stat fields 14 and 15, in USER_HZ ticks); 0 if none.
cpu_ticks()
{
	local stat rest
	if [ -z "$1" ] || ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
		echo 0
		return 0
	fi
	rest=${stat##*) }
	# shellcheck disable=SC2086 # split the fields of /proc/PID/stat
	set -- $rest
	echo $((${12} + ${13}))
}

# rss_kb PID: its resident set size in kB; 0 if gone.
rss_kb()
{
	local k v
	while read -r k v _; do
		[ "$k" = VmRSS: ] && echo "$v" && return 0
	done 2>/dev/null <"/proc/$1/status"
	echo 0
}

# --- the run's bookkeeping ----------------------------------------------

# want NAME: NAME is one of the space-separated BENCH_ONLY names, or
# BENCH_ONLY is empty (everything runs).
want()
{
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# budget_left_ms: what is left of the time budget.
budget_left_ms()
{
	echo $((BUDGET * 1000 - ($(now_ms) - T_START)))
}

# command_once KIND LINE: remember one command line of each kind for
# RESULTS.md (ports and temp paths as they were in this run).
declare -A CMD_SEEN=()
command_once()
{
	local kind=$1
	shift
	[ -n "${CMD_SEEN[$kind]:-}" ] && return 0
	CMD_SEEN[$kind]=1
	printf '%s\t%s\n' "$kind" "$*" >>"$OUT/commands.txt"
}

# have COMMAND: COMMAND is installed.
have()
{
	command -v "$1" >/dev/null 2>&1
}

# baton_conf FILE DIR PORT COMMAND READY_TIMEOUT [EXTRA_BATON_KEYS]: the
# one-worker config every baton of the bench starts from.
baton_conf()
{
	cat >"$1" <<EOF
[baton]
pidfile = $2/baton.pid
${6:-}
[app]
command = $4
workers = 1
ready = notify
ready_timeout = $5
stop_signal = TERM
stop_timeout = 10s

[listen http]
address = 127.0.0.1:$3
backlog = 1024
EOF
}

# build_helpers: bench/stamp.c and bench/bindcost.c into OUT, static when
# the toolchain can (less for the dynamic loader to do before main(), which
# stamp's exec time would include).
build_helpers()
{
	local h
	for h in stamp bindcost; do
		cc -O2 -static -o "$OUT/$h" "$BENCH_DIR/$h.c" 2>/dev/null ||
			cc -O2 -o "$OUT/$h" "$BENCH_DIR/$h.c" || return 1
	done
}

# --- packages ------------------------------------------------------------

BENCH_PKGS="wrk gnuplot-nox libserver-starter-perl nginx-light strace curl \
python3"

missing_pkgs()
{
	local p
	for p in $BENCH_PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || echo "$p"
	done
}

# bench_deps: apt-get the missing packages (root only).  nginx-light's
# postinst would start the system's nginx on port 80 where systemd runs:
# a policy-rc.d that says 101 (the Debian way, as in containers) keeps any
# service from starting during the install; it is removed right after.
bench_deps()
{
	local missing policy=/usr/sbin/policy-rc.d added=0
	missing=$(missing_pkgs | tr '\n' ' ')
	[ -z "${missing// /}" ] && return 0
	if [ "${BENCH_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
		note "missing packages: $missing(not root or BENCH_NO_INSTALL=1:" \
		    "those parts are skipped)"
		return 0
	fi
	note "installing: $missing"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" &&
			added=1
	fi
	apt-get update -qq >/dev/null 2>&1
	# shellcheck disable=SC2086 # one package name a word
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
		>"$OUT/apt.log" 2>&1 || note "apt-get failed: see $OUT/apt.log"
	[ "$added" = 1 ] && rm -f "$policy"
	return 0
}

# --- features: USR2, intercept_bind and intercept_accept in this build ---

# probe_features: what this build can do, as files in OUT/features (for
# report.py) and USR2=yes|no (the restart scenarios run baton-usr2 only
# with yes).  Every run probes, even of one scenario alone.
USR2=no
probe_features()
{
	local d=$OUT/features port m i b
	mkdir -p "$d"
	port=$(pick_port) || return 0
	# intercept_bind: does the config check accept it?
	baton_conf "$d/intercept.ini" "$d" "$port" "$APP" 2s
	sed -i 's/^ready = notify$/intercept_bind = yes/' "$d/intercept.ini"
	if "$BATON" -t -c "$d/intercept.ini" >"$d/intercept.out" 2>&1; then
		echo yes >"$d/intercept"
	else
		echo no >"$d/intercept"
	fi
	# intercept_accept: the same question.
	baton_conf "$d/accept.ini" "$d" "$port" "$APP" 2s
	sed -i '/^ready = notify$/a intercept_accept = yes' "$d/accept.ini"
	if "$BATON" -t -c "$d/accept.ini" >"$d/accept.out" 2>&1; then
		echo yes >"$d/accept"
	else
		echo no >"$d/accept"
	fi
	# USR2: start, USR2, and a PIDFILE.oldbin within 3 s.
	baton_conf "$d/usr2.ini" "$d" "$port" "$APP" 2s \
		"upgrade_retire_old = yes"
	"$BATON" -c "$d/usr2.ini" >"$d/usr2.log" 2>&1 &
	b=$!
	track "$b"
	if ! wait_http "http://127.0.0.1:$port/" 10000; then
		note "features: baton did not start (see $d/usr2.log)"
		stop_tree "$b" KILL 1000
		echo "baton did not start" >"$d/usr2"
		return 0
	fi
	ours "$b" && kill -USR2 "$b"
	for i in $(seq 1 150); do
		[ -e "$d/baton.pid.oldbin" ] && break
		sleep 0.02
	done
	if [ -e "$d/baton.pid.oldbin" ]; then
		USR2=yes
		echo yes >"$d/usr2"
		# Let the upgrade finish: the old master (upgrade_retire_old)
		# exits, the new one stays.
		wait_gone "$b" 10000
		m=$(cat "$d/baton.pid" 2>/dev/null)
		[ -n "$m" ] && ours "$m" && stop_tree "$m" QUIT 10000
	else
		echo no >"$d/usr2"
	fi
	stop_tree "$b" QUIT 10000
	note "features: USR2 upgrade: $USR2;" \
	    "intercept_bind: $(cat "$d/intercept");" \
	    "intercept_accept: $(cat "$d/accept")"
}
