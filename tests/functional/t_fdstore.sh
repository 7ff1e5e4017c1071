#!/bin/bash
# t_fdstore: with `fdstore = yes` the master hands every listener to
# systemd's fd store (FDSTORE=1, FDNAME=<section>), so that a crash of the
# master itself refuses no connection: SIGKILL it under load (50 clients, a
# new connection per request) and fakesystemd --restart starts a new master
# with the stored socket, the very same one.  Only the requests in flight in
# the killed master's workers may fail, and only with a reset or an EOF.
# A negative control (fdstore = no) must refuse connections, or this test
# could not tell.  With FT_KILLMODES=1, also what other KillMode= values do
# with the workers of the killed master (printed, not asserted).
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/systemd.sh"

port=$(pick_port)
url=http://127.0.0.1:$port

# crash_run NAME FDSTORE [FAKESYSTEMD_OPTIONS...]: start baton (fdstore =
# FDSTORE) under fakesystemd --restart, load it ($CLIENTS clients, default
# 50, a new connection per request), SIGKILL the master, wait
# for the restarted one, load it 2 s more, stop.  Sets M1, M2, OLD_WORKERS,
# INO1 (the listening socket before) and INO2 (after), GAP_MS (from the
# death of M1 to READY=1 of M2, as fakesystemd saw them), OLD_ALIVE (old
# workers still alive once the new master is ready).
crash_run()
{
	local name=$1 fdstore=$2
	shift 2
	SD=$T/sd-$name
	write_conf "$T/$name.ini" <<-EOF
	[baton]
	pidfile = $T/$name.pid
	fdstore = $fdstore
	[app]
	command = $DEMOAPP --ready-delay 100
	workers = 2
	ready = notify
	ready_timeout = 5s
	stop_timeout = 10s
	[listen http]
	address = 127.0.0.1:$port
	backlog = 1024
	EOF
	fake_start --restart --stop-timeout 20 "$@" -- "$T/$name.ini"
	M1=$BATON_PID
	OLD_WORKERS=$(worker_pids "$M1" | tr '\n' ' ')
	INO1=$(listen_inodes "$port")
	[ "$(echo "$INO1" | wc -w)" = 1 ] || fail "$name: sockets: '$INO1'"
	sd_sync
	load_start "$name" "$url/" -c "${CLIENTS:-50}"
	sleep 1 # the load runs against the first master
	kill -KILL "$M1"
	wait_for "$name: fakesystemd to restart the service" 10 \
		eval '[ "$(cat "$SD/starts")" = 2 ] &&
		[ "$(fake_mainpid)" != "$M1" ]'
	M2=$(fake_mainpid)
	track "$M2"
	sd_wait "$name: READY=1 from the new master $M2" "^${M2}[|]READY=1" 20
	GAP_MS=$(sd_gap_ms "$M1" "$M2") || fail "$name: $GAP_MS"
	OLD_ALIVE=
	for p in $OLD_WORKERS; do
		alive "$p" && OLD_ALIVE+="$p "
	done
	INO2=$(listen_inodes "$port")
	note "$name: master $M1 (workers $OLD_WORKERS) SIGKILLed; master" \
		"$M2 ready $GAP_MS ms later; old workers alive then:" \
		"${OLD_ALIVE:-none}; socket:[$INO1] -> socket:[$INO2]"
	sed -n "/pid $M1 killed/,/started .* start 2/p" "$SD/events.log" |
		sed 's/^/    /'
}

# crash_stop NAME: end the load and the service; print the load's summary.
crash_stop()
{
	sleep 2 # the load runs against the restarted master
	load_stop "$1"
	kill -TERM "$FAKE_PID"
	wait_exit "$FAKE_PID" 30 || fail "$1: fakesystemd exited $?"
	note "$1: $(load_summary "$1")"
}

# --- fdstore = yes, KillMode=mixed (conf/baton.service) ------------------
crash_run store yes
# What the first master stored, and what fakesystemd holds.
sd_msgs | grep -qE "^${M1}[|]FDSTORE=1[|]FDNAME=http[|]<1 fds>\$" ||
	fail "master $M1 did not store http: $(sd_msgs | grep "^$M1")"
grep -qx "http socket:\\[$INO1\\]" "$SD/fdstore" ||
	fail "fd store: $(cat "$SD/fdstore"), want http socket:[$INO1]"
holds_inode "$FAKE_PID" "$INO1" || fail "fakesystemd does not hold the socket"
grep -qE "start 2, LISTEN_FDS=1 \\(http\\)" "$SD/events.log" ||
	fail "restart without the stored fd: $(grep 'start 2' "$SD/events.log")"
wait_log "$T/baton.log" \
	"baton\\[$M2\\]: \\[listen http\\]: adopted fd [0-9]+ from systemd \\(127\\.0\\.0\\.1:$port\\)" 5
[ "$INO2" = "$INO1" ] || fail "the socket changed: [$INO1] -> [$INO2]"
holds_inode "$M2" "$INO1" || fail "new master $M2 does not hold socket:[$INO1]"
# KillMode=mixed: systemd SIGKILLs what is left of the unit when the main
# process dies, before the restart.
[ -z "$OLD_ALIVE" ] || fail "old workers $OLD_ALIVE survived (KillMode=mixed)"
crash_stop store
refused=$(json_get store refused)
[ "$refused" = 0 ] || fail "$refused connections refused with fdstore = yes"
lost=$(json_get store lost)
inflight=$(($(json_get store reset) + $(json_get store eof)))
[ "$lost" = "$inflight" ] ||
	fail "lost requests other than in-flight resets/EOFs: $(load_summary store)"
[ "$lost" -le 50 ] ||
	fail "$lost lost: more than one in flight per client"
[ "$(json_get store ok)" -ge 1000 ] || fail "too few ok: $(load_summary store)"
note "fdstore = yes: 0 refused; $lost in-flight requests of the killed" \
	"workers failed (reset $(json_get store reset), eof $(json_get store eof))"

# --- negative control: fdstore = no --------------------------------------
crash_run nostore no
sd_msgs | grep -qE "^${M1}[|]FDSTORE=1" && fail "stored with fdstore = no"
crash_stop nostore
refused=$(json_get nostore refused)
[ "$refused" -gt 0 ] ||
	fail "fdstore = no refused nothing: this test cannot tell"
note "negative control, fdstore = no: $refused refused"

# --- for the record: other KillMode= values (FT_KILLMODES=1) -----------
# control-group: the old workers get SIGTERM, drain, and the restart waits
# for them; none: they go on serving beside the new master, which cannot
# reach them (here they are stopped by hand).  Printed, not asserted, and
# only on request: it doubles the time of the test.
if [ "${FT_KILLMODES:-0}" = 1 ]; then
	CLIENTS=20
	crash_run cgroup yes --kill-mode control-group
	crash_stop cgroup
	note "KillMode=control-group: refused $(json_get cgroup refused)," \
		"lost $(json_get cgroup lost), new master ready after $GAP_MS ms"
	crash_run none yes --kill-mode none
	answered=0
	for i in $(seq 1 20); do
		pid=$(http_get "$url/pid") || continue
		[ "$(proc_ppid "$pid")" = "$FAKE_PID" ] && answered=$((answered + 1))
	done
	note "KillMode=none: old workers ${OLD_ALIVE:-none} still alive," \
		"answered $answered of 20 requests beside the new master's workers"
	for p in $OLD_ALIVE; do
		kill -TERM "$p" 2>/dev/null
	done
	crash_stop none
	note "KillMode=none: refused $(json_get none refused)," \
		"lost $(json_get none lost)"
fi
pass "fdstore = yes: master SIGKILLed under load, 0 refused, $lost in" \
	"flight lost; fdstore = no: $refused refused"
