#!/bin/bash
# t_respawn: a worker of the serving generation that dies is respawned in its
# slot (same BATON_WORKER) after 1 s, then 2 s while it keeps dying; exit
# status 78 (EX_CONFIG) is not respawned.  The pidfile keeps a second master
# out, and a pidfile that is a symlink is refused.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# ready_pid GEN INDEX: the last pid logged ready for that worker slot.
ready_pid()
{
	sed -nE "s/.*generation $1 worker $2 pid ([0-9]+): starting -> ready.*/\1/p" \
		"$T/baton.log" | tail -n 1
}

# spawns GEN INDEX: how many times that slot was spawned.
spawns()
{
	count_log "$T/baton.log" "generation $1 worker $2 pid [0-9]+: (started|restarted)"
}

# readies GEN INDEX: how many times that slot became ready.
readies()
{
	count_log "$T/baton.log" "generation $1 worker $2 pid [0-9]+: starting -> ready"
}

# kill_and_respawn INDEX DELAY: SIGKILL the ready worker of slot INDEX of
# generation 1; expect "respawning in DELAY s" and a new ready pid in the same
# slot; sets OLD, NEW and MS (kill to the new worker's ready).
kill_and_respawn()
{
	local i=$1 delay=$2 n t0 last
	OLD=$(ready_pid 1 "$i")
	n=$(readies 1 "$i")
	t0=$(now_ms)
	kill -KILL "$OLD"
	wait_log "$T/baton.log" \
		"generation 1 worker $i pid $OLD: killed by signal 9 \(KILL\) while ready" 5
	wait_for "slot $i to be respawned and ready" $((delay + 4)) \
		eval '[ "$(readies 1 '"$i"')" -gt '"$n"' ]'
	MS=$(( $(now_ms) - t0 ))
	NEW=$(ready_pid 1 "$i")
	[ "$NEW" != "$OLD" ] || fail "slot $i: same pid $OLD after the respawn"
	last=$(grep "generation 1 worker $i: respawning in" "$T/baton.log" | tail -n 1)
	case $last in
	*"generation 1 worker $i: respawning in $delay s") ;;
	*) fail "slot $i: latest respawn line '$last', expected 'respawning in $delay s'" ;;
	esac
	[ "$MS" -ge $((delay * 1000 - 100)) ] ||
		fail "slot $i respawned after $MS ms, before its $delay s delay"
	[ "$(proc_env "$NEW" BATON_WORKER)" = "$i" ] ||
		fail "respawned pid $NEW has BATON_WORKER=$(proc_env "$NEW" BATON_WORKER), not $i"
	[ "$(proc_env "$NEW" BATON_GENERATION)" = 1 ] ||
		fail "respawned pid $NEW has BATON_GENERATION=$(proc_env "$NEW" BATON_GENERATION)"
	[ "$(proc_env "$NEW" LISTEN_PID)" = "$NEW" ] ||
		fail "respawned pid $NEW has LISTEN_PID=$(proc_env "$NEW" LISTEN_PID)"
	[ "$(proc_ppid "$NEW")" = "$BATON_PID" ] || fail "respawned pid $NEW is not the master's child"
}

port=$(pick_port)
url=http://127.0.0.1:$port
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/baton.pid

[app]
command = $DEMOAPP --ready-delay 100
workers = 2
ready = notify
ready_timeout = 20s
stop_timeout = 5s

[listen http]
address = 127.0.0.1:$port
EOF

# --- respawn with backoff ------------------------------------------------------------
baton_start "$T/t.ini"
w1=$(ready_pid 1 1)
kill_and_respawn 0 1
note "slot 0: pid $OLD killed, pid $NEW ready $MS ms later (respawning in 1 s)"
[ "$MS" -le 5000 ] || fail "slot 0 took $MS ms to come back after the first kill"
{ [ "$(ready_pid 1 1)" = "$w1" ] && alive "$w1"; } || fail "worker 1 ($w1) was disturbed"
[ "$(http_get "$url/")" = ok ] || fail "not serving after the respawn"

# At once again: the worker lived far less than 60 s, so the delay doubles.
kill_and_respawn 0 2
note "slot 0 again: pid $OLD killed, pid $NEW ready $MS ms later (respawning in 2 s)"
[ "$MS" -le 6000 ] || fail "slot 0 took $MS ms to come back after the second kill"
{ [ "$(ready_pid 1 1)" = "$w1" ] && alive "$w1"; } || fail "worker 1 ($w1) was disturbed"
# The backoff is per slot: slot 1's first death waits 1 s.
kill_and_respawn 1 1
note "slot 1: pid $OLD killed, pid $NEW ready $MS ms later (its own backoff: 1 s)"
mapfile -t kids < <(worker_pids "$BATON_PID")
[ ${#kids[@]} = 2 ] || fail "master has ${#kids[@]} children: ${kids[*]}"
[ "$(count_log "$T/baton.log" "generation 2")" = 0 ] || fail "a respawn started a generation"

# --- a second master with the same pidfile ---------------------------------------------
"${BATON_CMD[@]}" -c "$T/t.ini" >"$T/second.out" 2>"$T/second.err" &
second=$!
track $second
wait_exit $second 10
rc=$?
note "second master: exit $rc: $(cat "$T/second.err")"
[ $rc = 1 ] || fail "a second master with the same pidfile exited $rc, not 1"
grep -q "pidfile $T/baton.pid: already running (pid $BATON_PID)" "$T/second.err" ||
	fail "second master said: $(cat "$T/second.err")"
[ "$(cat "$T/baton.pid")" = "$BATON_PID" ] || fail "pidfile now holds $(cat "$T/baton.pid")"
[ "$(http_get "$url/")" = ok ] || fail "first master not serving after the second one's attempt"
[ "$(count_log "$T/baton.log" "generation 2")" = 0 ] || fail "the first master changed"

baton_signal TERM
baton_wait_exit 20 || fail "master did not exit 0 on TERM"
for p in "${kids[@]}"; do
	alive "$p" && fail "worker $p outlived the master"
done

# --- a pidfile that is a symlink is refused ------------------------------------------------
echo precious >"$T/target"
ln -s "$T/target" "$T/link.pid"
ln -s "$T/nowhere" "$T/dangling.pid"
for link in link dangling; do
	sed "s|^pidfile = .*|pidfile = $T/$link.pid|" "$T/t.ini" >"$T/$link.ini"
	"${BATON_CMD[@]}" -c "$T/$link.ini" >"$T/$link.out" 2>"$T/$link.err" &
	p=$!
	track $p
	wait_exit $p 10
	rc=$?
	note "pidfile symlink ($link): exit $rc: $(cat "$T/$link.err")"
	[ $rc = 1 ] || fail "a symlink pidfile ($link) was accepted: exit $rc"
	grep -q "pidfile $T/$link.pid: is a symlink, refusing" "$T/$link.err" ||
		fail "symlink pidfile ($link): $(cat "$T/$link.err")"
	[ -L "$T/$link.pid" ] || fail "the symlink $T/$link.pid was replaced"
	grep -q "master pid" "$T/$link.err" && fail "a master started with a symlink pidfile"
done
[ "$(cat "$T/target")" = precious ] || fail "the symlink's target was written"
[ ! -e "$T/nowhere" ] || fail "the dangling symlink's target was created"

# --- exit status 78: not respawned ---------------------------------------------------------
# The app refuses its configuration (exit 78) once the marker exists.
write_conf "$T/ex.ini" <<EOF
[baton]
pidfile = $T/baton.pid

[app]
command = /bin/sh -c 'test -e $T/marker && exit 78 || exec $DEMOAPP --ready-delay 100'
workers = 2
ready = notify
ready_timeout = 20s
stop_timeout = 5s

[listen http]
address = 127.0.0.1:$port
EOF
mv "$T/baton.log" "$T/baton.log.1"
baton_start "$T/ex.ini"
e0=$(ready_pid 1 0)
e1=$(ready_pid 1 1)
touch "$T/marker"
t0=$(now_ms)
kill -KILL "$e0"
wait_log "$T/baton.log" "generation 1 worker 0: respawning in 1 s" 5
wait_log "$T/baton.log" \
	"generation 1 worker 0: exit status 78 \(EX_CONFIG\) means a configuration error: not respawning it" 8
note "slot 0 respawned into exit 78 after $(( $(now_ms) - t0 )) ms:" \
    "$(grep 'EX_CONFIG' "$T/baton.log" | sed 's/.*\]: //')"
sleep 2.5   # longer than the next respawn delay (2 s) would be
[ "$(spawns 1 0)" = 2 ] || fail "slot 0 spawned $(spawns 1 0) times, not 2 (once + the respawn that exited 78)"
mapfile -t kids < <(worker_pids "$BATON_PID")
[ "${kids[*]}" = "$e1" ] || fail "children after the exit 78: '${kids[*]}', expected only $e1"
grep -q "generation 1: active -> " "$T/baton.log" && fail "generation 1 left the active state"
[ "$(http_get "$url/pid")" = "$e1" ] || fail "the remaining worker $e1 does not answer"
note "generation 1 runs with 1 worker (pid $e1)"

# The last worker too: nothing accepts, the master stays; a fixed app and a
# HUP bring generation 2.
kill -KILL "$e1"
wait_log "$T/baton.log" "generation 1 worker 1: exit status 78 \(EX_CONFIG\)" 8
wait_log "$T/baton.log" "generation 1: no worker left" 5
alive "$BATON_PID" || fail "the master died with its last worker"
[ "$(worker_pids "$BATON_PID" | wc -l)" = 0 ] || fail "children left: $(worker_pids "$BATON_PID")"
curl -s -o /dev/null --max-time 5 "$url/" &
waiting=$!
track $waiting
sleep 0.5
alive $waiting || fail "a request with no worker left did not wait in the backlog"
rm -f "$T/marker"
baton_signal HUP
wait_gen_active 2
wait_exit $waiting 6 || fail "the request queued with no worker left failed"
[ "$(http_get "$url/env?BATON_GENERATION")" = 2 ] || fail "generation 2 does not answer"
note "no worker left: a queued request waited and was served by generation 2"
baton_signal QUIT
baton_wait_exit 20 || fail "master did not exit 0 on QUIT"
[ ! -e "$T/baton.pid" ] || fail "pidfile left behind"
pass
