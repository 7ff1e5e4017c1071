# lib.sh: helpers sourced by every functional test (bash): temp dir, process
# tracking with orphan detection, ports, waits, load runs and baton control.
#
# A test is a bash script tests/functional/t_NAME.sh that starts with
#	. "$(dirname "$0")/lib.sh"
# and ends with `pass`.  `fail MSG` ends it early; there is no `set -e`, so
# check with `|| fail ...`.  Everything the test starts in the background
# must be `track`ed; cleanup (an EXIT trap) stops it all, and any process
# still carrying this run's FT_TEST_TAG afterwards is an orphan that fails
# the test.  A process that outlives its tracked parent on purpose (the new
# master after USR2 once the old one exits) must be tracked too (pidfile).
# Synchronise on log lines (wait_log), never on bare sleeps, except where the
# sleep *is* the test (load running for a while).

set -u
set -o pipefail

# Paths.  BUILD may be relative to where the tests were launched from.
# FT_DIR is this directory, for tests that keep helper files beside them.
FT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$PWD/$BUILD") ;;
esac
export BUILD
# shellcheck disable=SC2034 # for the tests that source this file
DEMOAPP=$BUILD/demoapp
LOADCHECK=$BUILD/loadcheck
TEST_NAME=$(basename "$0" .sh)

# The /proc helpers (alive, children_of, descendants, …), shared with the
# bench.
# shellcheck source=SCRIPTDIR/../proc.sh
. "$FT_DIR/../proc.sh" || exit 1

# Under valgrind everything is slower: wait_for scales its bounds by this.
if [ "${VALGRIND:-0}" = 1 ]; then
	BATON_CMD=(valgrind --error-exitcode=99 --leak-check=full
		--trace-children=no "$BUILD/baton")
	TIMEOUT_MULT=${TIMEOUT_MULT:-4}
else
	BATON_CMD=("$BUILD/baton")
	TIMEOUT_MULT=${TIMEOUT_MULT:-1}
fi

# Close what we inherited beyond stdio (and is not close-on-exec): whatever
# launched the tests may leak descriptors, and a test counting the fds of a
# worker must only see what baton gave it.
ft_close_inherited_fds()
{
	local f n k v flags
	for f in "/proc/$$/fd/"*; do
		n=${f##*/}
		[ "$n" -gt 2 ] 2>/dev/null || continue
		flags=
		[ -r "/proc/$$/fdinfo/$n" ] || continue
		while read -r k v; do
			if [ "$k" = flags: ]; then
				flags=$v
			fi
		done 2>/dev/null <"/proc/$$/fdinfo/$n"
		[ -n "$flags" ] || continue
		# O_CLOEXEC is 02000000 (octal) on Linux.
		if [ $(( 8#$flags & 8#2000000 )) = 0 ]; then
			eval "exec $n>&-"
		fi
	done
}
ft_close_inherited_fds

# Every process the test starts inherits this; cleanup hunts for it.  The
# runner's FT_RUN_ID prefix lets it sweep up after a test it timed out.
FT_TEST_TAG="${FT_RUN_ID:-solo}.$TEST_NAME.$$.${EPOCHREALTIME/./}"
export FT_TEST_TAG

T=$(mktemp -d "${TMPDIR:-/tmp}/baton-$TEST_NAME.XXXXXX")
TRACKED=()
declare -A LOAD_PIDS=()
BATON_PID=
FT_CLEANED=0
FT_GRACE_MS=5000
FT_PORT_LOCK_DIR=${TMPDIR:-/tmp}/baton-test-ports-$EUID

# --- reporting ----------------------------------------------------------

# fail MSG: print MSG and end the test (exit 1; only ends a subshell when
# called inside $(...) or a pipeline).
fail()
{
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# pass [MSG]: end the test successfully.
pass()
{
	echo "PASS: $TEST_NAME${1:+: $*}"
	exit 0
}

# skip REASON: end the test as skipped, never as passed: exit 77, which
# tests/functional/run counts apart (automake's convention). The
# cleanup runs as after a pass, so nothing is left behind.
skip()
{
	echo "SKIP: $TEST_NAME: $*"
	(cleanup 0)
	trap - EXIT
	exit 77
}

# note MSG: print a figure or a step, so that logs read as a story.
note()
{
	echo "note: $*"
}

# --- time ---------------------------------------------------------------

# now_ms: milliseconds since the epoch (no fork).
now_ms()
{
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# --- processes ----------------------------------------------------------

# track PID...: have cleanup stop these processes (and their descendants).
track()
{
	TRACKED+=("$@")
}

# proc_ppid PID: the parent pid, empty when the process is gone.
proc_ppid()
{
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	rest=${rest#* }
	echo "${rest%% *}"
}

# proc_env PID NAME: the value of NAME in the environment PID was started
# with (non-zero when unset).
proc_env()
{
	local -a env=()
	local e
	mapfile -d '' env 2>/dev/null <"/proc/$1/environ" || return 1
	for e in "${env[@]}"; do
		if [ "${e%%=*}" = "$2" ]; then
			echo "${e#*=}"
			return 0
		fi
	done
	return 1
}

# worker_pids BATON_PID: its direct children (the workers), one per line.
worker_pids()
{
	children_of "$1" | sort -n
}

# proc_fds PID: "FD TARGET" per open fd, e.g. "3 socket:[1234]".
proc_fds()
{
	local f
	for f in /proc/"$1"/fd/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "${f##*/} $(readlink "$f")"
	done | sort -n
}

# wait_exit PID [TIMEOUT_S]: wait (bounded, default 10 s) for a child of
# this shell to exit; returns its exit status, 124 on timeout (still alive),
# 127 when PID is not a child of this shell (use wait_for ... ! alive).
wait_exit()
{
	local pid=$1 limit=$(( ${2:-10} * TIMEOUT_MULT * 1000 )) start
	start=$(now_ms)
	while alive "$pid"; do
		if [ $(( $(now_ms) - start )) -ge "$limit" ]; then
			return 124
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
}

# --- waiting ------------------------------------------------------------

# wait_for DESC TIMEOUT_S CMD...: run CMD every 50 ms until it succeeds;
# fail the test with DESC when TIMEOUT_S (scaled under valgrind) runs out.
wait_for()
{
	local desc=$1 limit=$(( $2 * TIMEOUT_MULT * 1000 )) start
	shift 2
	start=$(now_ms)
	until "$@" >/dev/null 2>&1; do
		if [ $(( $(now_ms) - start )) -ge "$limit" ]; then
			fail "timed out after $((limit / 1000)) s waiting for $desc"
		fi
		sleep 0.05
	done
}

# wait_log FILE REGEX TIMEOUT_S: wait for an extended regex in FILE; on
# timeout show the end of FILE and fail.
wait_log()
{
	local file=$1 re=$2 limit=$(( $3 * TIMEOUT_MULT * 1000 )) start
	start=$(now_ms)
	until grep -qE -- "$re" "$file" 2>/dev/null; do
		if [ $(( $(now_ms) - start )) -ge "$limit" ]; then
			echo "--- last lines of $file:" >&2
			tail -n 30 "$file" >&2 2>/dev/null
			fail "timed out after $((limit / 1000)) s waiting for /$re/ in $file"
		fi
		sleep 0.05
	done
}

# count_log FILE REGEX: how many lines of FILE match (0 if none or no file).
count_log()
{
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# --- ports --------------------------------------------------------------

# pick_port: print a free TCP port of 127.0.0.1 in 20000..32000 (below the
# ephemeral range).  A lock directory per port keeps parallel runs apart;
# the lock is released at cleanup, or reclaimed once its owner is dead.
pick_port()
{
	local port lock owner i
	mkdir -p "$FT_PORT_LOCK_DIR" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12001))
		lock=$FT_PORT_LOCK_DIR/$port
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
			# No SO_REUSEADDR: a port with TIME_WAIT leftovers is not free.
			s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
			s.bind(("127.0.0.1", int(sys.argv[1])))
			EOF
			echo "$lock" >>"$T/.port_locks"
			echo "$port"
			return 0
		fi
		rm -rf "$lock"
	done
	fail "pick_port: no free port found"
}

# --- HTTP ---------------------------------------------------------------

# http_get URL [CURL_ARGS...]: print the body; non-zero on transport errors
# and on HTTP errors (>= 400).  For a UNIX socket pass
# `--unix-socket PATH` in CURL_ARGS (the URL host is then ignored).
http_get()
{
	local url=$1
	shift
	curl -sS --fail --max-time 5 "$@" "$url"
}

# http_status URL [CURL_ARGS...]: print the status code (000: no answer).
http_status()
{
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" ||
		true
}

# --- load ---------------------------------------------------------------

# load_start NAME URL [LOADCHECK_ARGS...]: run loadcheck in the background
# (tracked) with its summary in $T/NAME.json, stdout in $T/NAME.out and
# stderr (a --live tally per second) in $T/NAME.err.  URL may be unix:PATH
# for a UNIX socket.  It runs until load_stop (a -d in LOADCHECK_ARGS
# overrides the 300 s safety bound).  Add --timeline "$T/NAME.csv" for a
# per-request CSV.
load_start()
{
	local name=$1 url=$2
	local -a target
	shift 2
	case $url in
	unix:*) target=(--unix "${url#unix:}") ;;
	*) target=("$url") ;;
	esac
	"$LOADCHECK" -d 300 --live --json "$T/$name.json" "$@" "${target[@]}" \
		>"$T/$name.out" 2>"$T/$name.err" &
	LOAD_PIDS[$name]=$!
	track $!
	note "load $name started (pid $!): loadcheck $* ${target[*]}"
}

# load_stop NAME: SIGINT the load, wait for its summary (bounded: the
# in-flight requests may take up to --timeout), print it.
load_stop()
{
	local name=$1 pid=${LOAD_PIDS[$1]:-} rc
	[ -n "$pid" ] || fail "load_stop: no load named $name"
	kill -INT "$pid" 2>/dev/null
	wait_exit "$pid" 30
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		cat "$T/$name.err" >&2
		fail "load $name: loadcheck exited $rc"
	fi
	[ -s "$T/$name.json" ] || fail "load $name: no summary in $T/$name.json"
	echo "load $name: $(cat "$T/$name.json")"
}

# json_get NAME FIELD: a field of $T/NAME.json (objects print as JSON).
json_get()
{
	python3 - "$T/$1.json" "$2" <<-'EOF'
	import json, sys
	v = json.load(open(sys.argv[1]))[sys.argv[2]]
	print(json.dumps(v) if isinstance(v, (dict, list)) else v)
	EOF
}

# load_summary NAME: one line of the counts that matter, for messages.
load_summary()
{
	python3 - "$T/$1.json" <<-'EOF'
	import json, sys
	j = json.load(open(sys.argv[1]))
	keys = ("requests", "ok", "lost", "refused", "reset", "eof", "timeout",
	        "non2xx", "other", "keepalive_closed", "p99_ms", "max_ms")
	print(" ".join("%s=%s" % (k, j[k]) for k in keys) +
	      (" errors=%s" % json.dumps(j["errors"]) if j["errors"] else ""))
	EOF
}

# assert_no_loss NAME [MIN_OK]: fail when the load lost any request, or
# when fewer than MIN_OK (default 1) requests succeeded at all.
assert_no_loss()
{
	local lost ok
	lost=$(json_get "$1" lost) || fail "load $1: unreadable summary"
	ok=$(json_get "$1" ok)
	if [ "$lost" -gt 0 ]; then
		fail "load $1 lost $lost requests: $(load_summary "$1")"
	fi
	if [ "$ok" -lt "${2:-1}" ]; then
		fail "load $1: only $ok requests succeeded: $(load_summary "$1")"
	fi
	note "load $1: no loss: $(load_summary "$1")"
}

# --- baton --------------------------------------------------------------

# write_conf FILE: write stdin to FILE (use with a here-document).
write_conf()
{
	cat >"$1"
}

# baton_start CONF: run the master in the background (log: $T/baton.log),
# set BATON_PID, and wait (20 s) for its first generation to become active.
baton_start()
{
	local conf=$1 limit=$((20 * TIMEOUT_MULT * 1000)) start
	"${BATON_CMD[@]}" -c "$conf" >>"$T/baton.log" 2>&1 &
	BATON_PID=$!
	track "$BATON_PID"
	note "baton started (pid $BATON_PID)"
	start=$(now_ms)
	until grep -qE 'generation 1: starting -> active' "$T/baton.log"; do
		if ! alive "$BATON_PID"; then
			local rc=0
			wait "$BATON_PID" 2>/dev/null || rc=$?
			echo "--- $T/baton.log:" >&2
			tail -n 30 "$T/baton.log" >&2
			fail "baton exited ($rc) before generation 1 was active"
		fi
		if [ $(( $(now_ms) - start )) -ge "$limit" ]; then
			echo "--- $T/baton.log:" >&2
			tail -n 30 "$T/baton.log" >&2
			fail "baton: generation 1 not active after $((limit / 1000)) s"
		fi
		sleep 0.05
	done
}

# baton_signal SIG: send SIG (HUP, USR2, TERM, …) to the master.
baton_signal()
{
	kill -"$1" "$BATON_PID" || fail "cannot signal baton $BATON_PID"
}

# wait_gen_active N [TIMEOUT_S]: wait for generation N to become active.
wait_gen_active()
{
	wait_log "$T/baton.log" "generation $1: starting -> active" "${2:-30}"
}

# baton_wait_exit [TIMEOUT_S]: wait (default 40 s) for the master to exit;
# returns its status.
baton_wait_exit()
{
	wait_exit "$BATON_PID" "${1:-40}"
}

# await_new_master OLD: after a USR2 to master OLD, wait (10 s) for it to
# log the new master it started; set NEW_MASTER to that pid and track it.
await_new_master()
{
	local pat="baton\\[$1\\]: upgrade: started new master pid [0-9]+"
	wait_log "$T/baton.log" "$pat" 10
	NEW_MASTER=$(grep -oE "$pat" "$T/baton.log" | tail -n 1 |
		awk '{ print $NF }')
	track "$NEW_MASTER"
}

# --- cleanup ------------------------------------------------------------

# Prints "pid cmdline" of every live process whose environment holds our
# tag, except this shell.  Reads /proc with builtins only, so the scan does
# not find itself.
ft_tagged()
{
	proc_tagged FT_TEST_TAG "$FT_TEST_TAG"
}

ft_kill_tree()
{
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null
	done
}

cleanup()
{
	local status=$1 p n start again
	local -a live=() desc=() zombies=() orphans=() stubborn=()
	[ "$FT_CLEANED" = 1 ] && return
	FT_CLEANED=1
	trap - EXIT INT TERM

	for p in "${TRACKED[@]}"; do
		alive "$p" && live+=("$p")
	done
	if [ ${#live[@]} -gt 0 ]; then
		mapfile -t desc < <(descendants "${live[@]}")
	fi

	# Zombies that outlive a second are a supervisor failing to reap.
	for p in "${desc[@]}"; do
		[ "$(proc_state "$p")" = Z ] && zombies+=("$p")
	done
	if [ ${#zombies[@]} -gt 0 ]; then
		sleep 1
		for p in "${zombies[@]}"; do
			if [ "$(proc_state "$p")" = Z ]; then
				echo "ZOMBIE: pid $p (parent $(proc_ppid "$p"))" \
				    "not reaped" >&2
				status=1
			fi
		done
	fi

	# TERM the tracked processes, give them 5 s, then KILL what is left.
	for p in "${live[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	start=$(now_ms)
	while [ $(( $(now_ms) - start )) -lt "$FT_GRACE_MS" ]; do
		again=0
		for p in "${live[@]}"; do
			alive "$p" && again=1
		done
		[ $again = 0 ] && break
		sleep 0.05
	done
	for p in "${live[@]}"; do
		alive "$p" && stubborn+=("$p")
	done
	if [ ${#live[@]} -gt 0 ]; then
		mapfile -t -O ${#desc[@]} desc < <(descendants "${live[@]}")
	fi
	if [ ${#stubborn[@]} -gt 0 ]; then
		echo "cleanup: SIGKILL for pids ${stubborn[*]} (TERM ignored" \
		    "for $((FT_GRACE_MS / 1000)) s)" >&2
	fi
	ft_kill_tree "${stubborn[@]}" "${desc[@]}"
	# Reap our own children; the others are their parents' business.
	for p in "${TRACKED[@]}"; do
		wait "$p" 2>/dev/null
	done

	# Anything still carrying the tag escaped its supervisor.
	for n in 1 2 3 4 5 6 7 8 9 10; do
		mapfile -t orphans < <(ft_tagged)
		[ ${#orphans[@]} -eq 0 ] && break
		# Give processes killed a moment ago time to disappear.
		sleep 0.1
	done
	for p in "${orphans[@]}"; do
		echo "ORPHAN: $p" >&2
		kill -KILL "${p%% *}" 2>/dev/null
		status=1
	done

	if [ -f "$T/.port_locks" ]; then
		while read -r p; do
			rm -rf "$p"
		done <"$T/.port_locks"
	fi
	if [ "$status" = 0 ]; then
		rm -rf "$T"
	else
		echo "test files kept in $T" >&2
	fi
	exit "$status"
}

trap 'cleanup $?' EXIT
# Interrupted (the runner's timeout sends TERM, then KILL 5 s later): hurry.
trap 'echo "interrupted (INT)" >&2; FT_GRACE_MS=2000; cleanup 130' INT
trap 'echo "interrupted (TERM)" >&2; FT_GRACE_MS=2000; cleanup 143' TERM
