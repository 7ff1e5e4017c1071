#!/bin/bash
# t_listeners: listeners across reloads.  A reload that adds a listener binds
# it and keeps the others (the very same sockets, under load, no loss); one
# that removes a listener closes it only once no generation uses it; one
# whose new listener cannot be bound changes nothing (and closes what it had
# bound).  QUIT removes the UNIX socket file and the pidfile.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# tcp_listen_inode PORT: socket inode of 127.0.0.1:PORT in LISTEN state.
tcp_listen_inode()
{
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}

# master_sock NAME: what the master's fd for [listen NAME] is (socket:[N]),
# from the last "listening on" line of the log.
master_sock()
{
	local fd
	fd=$(sed -nE 's/.*\['"listen $1"'\]: listening on .* \(fd ([0-9]+)\)$/\1/p' \
		"$T/baton.log" | tail -n 1)
	[ -n "$fd" ] || return 1
	readlink "/proc/$BATON_PID/fd/$fd"
}

# line_of REGEX: the line number of the first match in the log (empty: none).
line_of()
{
	grep -nE -- "$1" "$T/baton.log" | head -n 1 | cut -d: -f1
}

# curl_rc URL [ARGS...]: curl's exit status (7: could not connect).
curl_rc()
{
	local url=$1
	shift
	curl -s -o /dev/null --max-time 3 "$@" "$url"
	echo $?
}

# conf LISTENERS...: write $T/t.ini with [listen] sections "name=address".
conf()
{
	local l
	{
		cat <<-EOF
		[baton]
		pidfile = $T/baton.pid

		[app]
		command = ${APP:-$DEMOAPP --ready-delay 200}
		workers = 2
		ready = notify
		ready_timeout = 20s
		stop_timeout = 10s
		EOF
		for l in "$@"; do
			printf '\n[listen %s]\naddress = %s\n' "${l%%=*}" "${l#*=}"
		done
	} >"$T/t.ini"
}

pa=$(pick_port)
pb=$(pick_port)
pc=$(pick_port)
pd=$(pick_port)
usock=$T/u.sock
A=http://127.0.0.1:$pa
B=http://127.0.0.1:$pb
U=(--unix-socket "$usock")

# --- generation 1: a (TCP) and u (UNIX) --------------------------------------
conf "a=127.0.0.1:$pa" "u=unix:$usock"
baton_start "$T/t.ini"
sock_a=$(master_sock a) || fail "no fd logged for [listen a]"
ino_a=$(tcp_listen_inode "$pa")
[ "$sock_a" = "socket:[$ino_a]" ] ||
	fail "master's [listen a] fd is $sock_a, port $pa listens on $ino_a"
sock_u=$(master_sock u) || fail "no fd logged for [listen u]"
file_u=$(stat -c %i "$usock") || fail "$usock does not exist"
[ "$(http_get "$A/")" = ok ] || fail "port a not served"
[ "$(http_get http://localhost/ "${U[@]}")" = ok ] || fail "u not served"
[ "$(curl_rc "$B/")" = 7 ] || fail "port b answers before it is configured"
note "generation 1: a=$sock_a (port $pa), u=$sock_u (file inode $file_u)"

load_start la "$A/" -c 10 --slow-fraction 0.05 --slow-ms 300
load_start lu "unix:$usock" -c 5 --slow-fraction 0.05 --slow-ms 300
sleep 1

# --- reload 1: add [listen b] -------------------------------------------------
conf "a=127.0.0.1:$pa" "u=unix:$usock" "b=127.0.0.1:$pb"
baton_signal HUP
wait_gen_active 2
wait_log "$T/baton.log" "generation 1: draining -> gone" 20
[ "$(http_get "$B/env?BATON_GENERATION")" = 2 ] ||
	fail "port b not served by generation 2"
[ "$(http_get "$B/env?LISTEN_FDNAMES")" = a:u:b ] ||
	fail "generation 2 LISTEN_FDNAMES=$(http_get "$B/env?LISTEN_FDNAMES")"
[ "$(master_sock a)" = "$sock_a" ] ||
	fail "[listen a] is now $(master_sock a), was $sock_a: reopened"
[ "$(tcp_listen_inode "$pa")" = "$ino_a" ] ||
	fail "port $pa listens on socket $(tcp_listen_inode "$pa"), was $ino_a"
[ "$(master_sock u)" = "$sock_u" ] || fail "[listen u] was reopened"
[ "$(count_log "$T/baton.log" "\[listen a\]: listening on")" = 1 ] ||
	fail "[listen a] bound more than once"
[ "$(count_log "$T/baton.log" "\[listen b\]: listening on 127\.0\.0\.1:$pb")" = 1 ] ||
	fail "no single 'listening on' line for [listen b]"
sock_b=$(master_sock b)
note "reload 1: b=$sock_b added; a still $sock_a, u still $sock_u"

load_start lb "$B/" -c 10 --slow-fraction 0.05 --slow-ms 300
sleep 1
load_stop la
assert_no_loss la 100

# --- reload 2: remove [listen a] ----------------------------------------------
conf "u=unix:$usock" "b=127.0.0.1:$pb"
baton_signal HUP
wait_gen_active 3
wait_log "$T/baton.log" "generation 2: draining -> gone" 20
wait_log "$T/baton.log" "listener 127\.0\.0\.1:$pa: closed, no longer configured" 5
gone2=$(line_of "generation 2: draining -> gone")
closed_a=$(line_of "listener 127\.0\.0\.1:$pa: closed")
[ "$closed_a" -gt "$gone2" ] ||
	fail "port $pa closed (log line $closed_a) before generation 2 was gone (line $gone2)"
rc=$(curl_rc "$A/")
[ "$rc" = 7 ] || fail "port $pa after its removal: curl exit $rc, not 7 (refused)"
[ -z "$(tcp_listen_inode "$pa")" ] || fail "something still listens on $pa"
[ "$(http_get "$B/env?BATON_GENERATION")" = 3 ] || fail "b not served by generation 3"
[ "$(http_get "$B/env?LISTEN_FDNAMES")" = u:b ] ||
	fail "generation 3 LISTEN_FDNAMES=$(http_get "$B/env?LISTEN_FDNAMES")"
[ "$(http_get http://localhost/env?BATON_GENERATION "${U[@]}")" = 3 ] ||
	fail "u not served by generation 3"
[ "$(stat -c %i "$usock" 2>/dev/null)" = "$file_u" ] ||
	fail "$usock has inode $(stat -c %i "$usock" 2>/dev/null), was $file_u"
{ [ "$(master_sock u)" = "$sock_u" ] && [ "$(master_sock b)" = "$sock_b" ]; } ||
	fail "u or b was reopened by the removal of a"
note "reload 2: port $pa refused (curl exit $rc), u and b kept"
sleep 1
load_stop lu
load_stop lb
assert_no_loss lu 100
assert_no_loss lb 100

# --- reload 3: a new listener that cannot be bound ------------------------------
python3 - "$pc" "$T/holder.ready" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
open(sys.argv[2], "w").close()
time.sleep(300)
EOF
holder=$!
track $holder
wait_for "the python listener on $pc" 5 test -e "$T/holder.ready"
before=$(worker_pids "$BATON_PID" | tr '\n' ' ')
# d is bindable and comes first: the failed reload must close it again.
conf "u=unix:$usock" "b=127.0.0.1:$pb" "d=127.0.0.1:$pd" "c=127.0.0.1:$pc"
baton_signal HUP
wait_log "$T/baton.log" \
	"reload: \[listen c\]: cannot listen on 127\.0\.0\.1:$pc: Address already in use; keeping the running generation" 10
grep -E "reload: \[listen c\]" "$T/baton.log" | sed 's/^/    /'
sleep 0.5
[ "$(count_log "$T/baton.log" "generation 4")" = 0 ] ||
	fail "a generation 4 was started: $(grep 'generation 4' "$T/baton.log")"
after=$(worker_pids "$BATON_PID" | tr '\n' ' ')
[ "$after" = "$before" ] || fail "workers changed: '$before' -> '$after'"
[ -z "$(tcp_listen_inode "$pd")" ] ||
	fail "port $pd, bound by the failed reload, is still listening"
[ "$(curl_rc "http://127.0.0.1:$pd/")" = 7 ] || fail "port $pd answers"
[ "$(http_get "$B/env?BATON_GENERATION")" = 3 ] || fail "b not served after the failed reload"
[ "$(http_get http://localhost/ "${U[@]}")" = ok ] || fail "u not served after the failed reload"
note "reload 3 failed as it should; workers still $after; port $pd closed again"

# --- reload 4: a new listener, but the new generation is rolled back -------------
# The listener it bound goes with it; the kept ones stay.
APP="$DEMOAPP --crash-on-start" conf "u=unix:$usock" "b=127.0.0.1:$pb" "d=127.0.0.1:$pd"
baton_signal HUP
wait_log "$T/baton.log" "generation 4: rolled back: worker [01] exited with status 1 before it was ready; generation 3 keeps serving" 10
wait_log "$T/baton.log" "generation 4: draining -> gone" 10
wait_log "$T/baton.log" "listener 127\.0\.0\.1:$pd: closed, no longer configured" 5
[ -z "$(tcp_listen_inode "$pd")" ] || fail "port $pd of the rolled-back generation still listens"
[ "$(worker_pids "$BATON_PID" | tr '\n' ' ')" = "$after" ] || fail "workers changed by the rollback"
{ [ "$(master_sock b)" = "$sock_b" ] && [ "$(master_sock u)" = "$sock_u" ]; } || fail "the rollback reopened u or b"
[ "$(http_get "$B/env?BATON_GENERATION")" = 3 ] || fail "b not served by generation 3 after the rollback"
[ "$(stat -c %i "$usock" 2>/dev/null)" = "$file_u" ] || fail "$usock changed with the rollback"
note "reload 4 rolled back: port $pd closed again, generation 3 still serving on u and b"

# --- QUIT ----------------------------------------------------------------------
baton_signal QUIT
baton_wait_exit 20
rc=$?
[ $rc = 0 ] || fail "master exited $rc after QUIT"
grep -q "master pid $BATON_PID: exiting with status 0" "$T/baton.log" ||
	fail "no exit line"
[ ! -e "$usock" ] || fail "$usock left behind"
[ ! -e "$T/baton.pid" ] || fail "pidfile left behind"
for p in $after; do
	alive "$p" && fail "worker $p outlived the master"
done
[ "$(curl_rc "$B/")" = 7 ] || fail "port $pb still answers after exit"

# --- a start whose listener cannot be bound -------------------------------------
# u is bound first, then c fails: exit 1, no socket file, no pidfile.
conf "u=unix:$usock" "c=127.0.0.1:$pc"
"${BATON_CMD[@]}" -c "$T/t.ini" >"$T/start.out" 2>"$T/start.err" &
p=$!
track $p
wait_exit $p 10
rc=$?
[ $rc = 1 ] || fail "a start with port $pc in use exited $rc"
grep -q "\[listen c\]: cannot listen on 127\.0\.0\.1:$pc: Address already in use" "$T/start.err" ||
	fail "start with port $pc in use said: $(cat "$T/start.err")"
[ ! -e "$usock" ] || fail "the failed start left $usock"
[ ! -e "$T/baton.pid" ] || fail "the failed start left its pidfile"
grep -q "master pid" "$T/start.err" && fail "a master started without its listener"
note "start with port $pc in use: exit 1: $(grep 'cannot listen' "$T/start.err" | sed 's/.*\]: //')"
pass "a kept then closed, b added, u kept (inode $file_u), failed bind changed nothing"
