#!/bin/bash
# t_worker_env: what a worker is exec'd with.  Descriptors (exactly 0-2 plus
# the listeners at 3, 4, the very sockets the master holds), signal mask and
# dispositions (all default, even when baton's parent ignored signals), the
# socket-passing environment (systemd, Server::Starter, einhorn, BATON_*),
# NOTIFY_SOCKET only with ready = notify, env.NAME and the {fd:}/{addr:}
# placeholders of command.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# notify_socket_owner @NAME: the pid among baton's processes whose fds hold
# the abstract unix socket NAME (matched by inode through /proc/net/unix).
notify_socket_owner()
{
	local inode f
	inode=$(awk -v n="$1" '$8 == n { print $7; exit }' /proc/net/unix)
	[ -n "$inode" ] || return 1
	for f in /proc/"$BATON_PID"/fd/*; do
		if [ "$(readlink "$f")" = "socket:[$inode]" ]; then
			echo "$BATON_PID"
			return 0
		fi
	done
	return 1
}

# env_count PID NAME: how many entries of /proc/PID/environ set NAME.
env_count()
{
	local -a env
	local e n=0
	mapfile -d '' env 2>/dev/null <"/proc/$1/environ"
	for e in "${env[@]}"; do
		[ "${e%%=*}" = "$2" ] && n=$((n + 1))
	done
	echo $n
}

# fd_numbers PID: its open descriptors, ascending, on one line.
fd_numbers()
{
	local f
	local -a n=()
	for f in /proc/"$1"/fd/*; do
		n+=("${f##*/}")
	done
	printf '%s\n' "${n[@]}" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# status_field PID NAME: a field of /proc/PID/status (SigBlk, SigIgn, ...).
status_field()
{
	local k v
	while read -r k v; do
		if [ "$k" = "$2:" ]; then
			echo "$v"
			return 0
		fi
	done <"/proc/$1/status"
	return 1
}

# pgid_of PID: its process group.
pgid_of()
{
	local stat rest
	read -r stat <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086 # split the fields of /proc/PID/stat
	set -- $rest
	echo "$3"
}

# tcp_listen_inode PORT: the socket inode of 127.0.0.1:PORT in LISTEN state.
tcp_listen_inode()
{
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}

# unix_inode PATH: the socket inode of the listening UNIX socket at PATH.
unix_inode()
{
	awk -v p="$1" '$8 == p && $6 == "01" { print $7 }' /proc/net/unix
}

# worker_pid_of LOG GEN INDEX: the pid logged for that worker as ready.
worker_pid_of()
{
	sed -nE "s/.*generation $2 worker $3 pid ([0-9]+): starting -> ready.*/\1/p" \
		"$1" | tail -n 1
}

# start_master LOG CONF [PREFIX...]: run baton as a child of a subshell that
# ignores SIGINT, SIGQUIT and SIGALRM (as a shell script's background job
# does), with PREFIX (e.g. env VAR=...) exec'd in front of it; the pid stays
# the master's.  Waits for generation 1 to be active.
start_master()
{
	local log=$1 conf=$2
	shift 2
	(
		trap '' INT QUIT ALRM
		exec "$@" "${BATON_CMD[@]}" -c "$conf"
	) >>"$log" 2>&1 &
	BATON_PID=$!
	track "$BATON_PID"
	note "baton started (pid $BATON_PID) with $conf"
	wait_log "$log" "generation 1: starting -> active" 20
}

# quit_master LOG: QUIT (which baton's parent ignores), expect exit 0.
quit_master()
{
	local rc
	kill -QUIT "$BATON_PID"
	wait_exit "$BATON_PID" 20
	rc=$?
	[ $rc = 0 ] || fail "master exited $rc after QUIT (log: $1)"
	grep -q "master pid $BATON_PID: exiting with status 0" "$1" ||
		fail "no exit line in $1"
}

# A signal mask of /proc/PID/status as bits: signal N is bit N-1.
SIG_ALRM_BIT=$((1 << 13))
SIG_INT_BIT=$((1 << 1))
SIG_QUIT_BIT=$((1 << 2))

# --- control: what the test's launcher passes on ----------------------------
# A plain program started the way baton is shows the ignored dispositions a
# worker would inherit if baton did not reset them.
(
	trap '' INT QUIT ALRM
	exec sleep 1000
) &
ctl=$!
track $ctl
wait_for "control sleep to exec" 5 eval '[ "$(proc_cmdline '"$ctl"')" = "sleep 1000" ]'
ctl_ign=$(status_field $ctl SigIgn)
note "control child of the launching subshell: SigIgn=$ctl_ign" \
    "SigBlk=$(status_field $ctl SigBlk)"
for b in $SIG_INT_BIT $SIG_QUIT_BIT $SIG_ALRM_BIT; do
	[ $(( 16#$ctl_ign & b )) != 0 ] ||
		fail "setup: the launcher does not ignore signal bit $b ($ctl_ign)"
done
{
	kill -KILL $ctl
	wait_exit $ctl 5
} 2>/dev/null

# --- A: two listeners, /bin/sleep workers, ready = delay --------------------
port=$(pick_port)
sock=$T/app.sock
write_conf "$T/a.ini" <<EOF
[baton]
pidfile = $T/a.pid

[app]
command = /bin/sleep 1000
workers = 2
ready = delay:300ms
stop_signal = TERM
stop_timeout = 5s

[listen http]
address = 127.0.0.1:$port

[listen sock]
address = unix:$sock
EOF
# The master's own environment carries socket-passing variables of some
# outer supervisor: none of them may reach a worker.
start_master "$T/a.log" "$T/a.ini" env NOTIFY_SOCKET="$T/not-ours.sock" \
	LISTEN_FDS=7 LISTEN_PID=1 LISTEN_FDNAMES=outer EINHORN_FD_COUNT=1 \
	EINHORN_FD_0=9 EINHORN_FD_7=9 SERVER_STARTER_PORT=0.0.0.0:1=9 \
	BATON_WORKER=99 BATON_GENERATION=99 BATON_OTHER=x FOO=from-master

m_ign=$(status_field "$BATON_PID" SigIgn)
m_blk=$(status_field "$BATON_PID" SigBlk)
note "master $BATON_PID: SigIgn=$m_ign SigBlk=$m_blk" \
    "SigCgt=$(status_field "$BATON_PID" SigCgt)"
# The master inherited the ignored ALRM (it has no use for it): proof that
# the workers' clean dispositions are baton's doing.
[ $(( 16#$m_ign & SIG_ALRM_BIT )) != 0 ] ||
	fail "setup: the master does not show the inherited SIGALRM ignore"

# Where the master put its listeners, from its log.
m_fd_http=$(sed -nE 's/.*\[listen http\]: listening on 127\.0\.0\.1:'"$port"' \(fd ([0-9]+)\).*/\1/p' "$T/a.log")
m_fd_sock=$(sed -nE 's/.*\[listen sock\]: listening on unix:.* \(fd ([0-9]+)\).*/\1/p' "$T/a.log")
{ [ -n "$m_fd_http" ] && [ -n "$m_fd_sock" ]; } ||
	fail "no 'listening on' lines with fds in the log"
m_sock_http=$(readlink "/proc/$BATON_PID/fd/$m_fd_http")
m_sock_unix=$(readlink "/proc/$BATON_PID/fd/$m_fd_sock")
note "master fds: http=$m_fd_http ($m_sock_http) sock=$m_fd_sock ($m_sock_unix)"
[ "$m_sock_http" = "socket:[$(tcp_listen_inode "$port")]" ] ||
	fail "master fd $m_fd_http is not the listening socket of port $port"
[ "$m_sock_unix" = "socket:[$(unix_inode "$sock")]" ] ||
	fail "master fd $m_fd_sock is not the listening socket at $sock"

mapfile -t kids < <(worker_pids "$BATON_PID")
[ ${#kids[@]} = 2 ] || fail "master has ${#kids[@]} children, not 2: ${kids[*]}"
for i in 0 1; do
	pid=$(worker_pid_of "$T/a.log" 1 $i)
	[ -n "$pid" ] || fail "no ready line for worker $i"
	case " ${kids[*]} " in
	*" $pid "*) ;;
	*) fail "worker $i pid $pid is not a child of the master (${kids[*]})" ;;
	esac
	[ "$(proc_cmdline "$pid")" = "/bin/sleep 1000" ] ||
		fail "worker $i runs '$(proc_cmdline "$pid")'"

	fds=$(fd_numbers "$pid")
	[ "$fds" = "0 1 2 3 4" ] || fail "worker $i pid $pid has fds '$fds'"
	fd3=$(readlink "/proc/$pid/fd/3")
	fd4=$(readlink "/proc/$pid/fd/4")
	[ "$fd3" = "$m_sock_http" ] ||
		fail "worker $i fd 3 is $fd3, not the master's http socket $m_sock_http"
	[ "$fd4" = "$m_sock_unix" ] ||
		fail "worker $i fd 4 is $fd4, not the master's unix socket $m_sock_unix"

	blk=$(status_field "$pid" SigBlk)
	ign=$(status_field "$pid" SigIgn)
	[ "$blk" = 0000000000000000 ] || fail "worker $i SigBlk=$blk"
	[ "$ign" = 0000000000000000 ] || fail "worker $i SigIgn=$ign"
	[ "$(pgid_of "$pid")" = "$pid" ] ||
		fail "worker $i is in process group $(pgid_of "$pid"), not its own"

	want=(
		"LISTEN_PID=$pid"
		"LISTEN_FDS=2"
		"LISTEN_FDNAMES=http:sock"
		"SERVER_STARTER_PORT=127.0.0.1:$port=3;$sock=4"
		"EINHORN_FD_COUNT=2"
		"EINHORN_FD_0=3"
		"EINHORN_FD_1=4"
		"BATON_GENERATION=1"
		"BATON_WORKER=$i"
		"FOO=from-master"
		"PATH=$PATH"
	)
	for kv in "${want[@]}"; do
		got=$(proc_env "$pid" "${kv%%=*}") ||
			fail "worker $i: ${kv%%=*} is not set"
		[ "${kv%%=*}=$got" = "$kv" ] ||
			fail "worker $i: ${kv%%=*}=$got, expected $kv"
		[ "$(env_count "$pid" "${kv%%=*}")" = 1 ] ||
			fail "worker $i: ${kv%%=*} is set $(env_count "$pid" "${kv%%=*}") times"
	done
	# BATON_* of the master's environment is dropped; other variables,
	# lib.sh's FT_TEST_TAG among them, pass (its orphan scan needs it).
	for name in NOTIFY_SOCKET EINHORN_FD_7 BATON_OTHER; do
		if got=$(proc_env "$pid" $name); then
			fail "worker $i has $name=$got (from the master's environment)"
		fi
	done
	[ "$(proc_env "$pid" FT_TEST_TAG)" = "$FT_TEST_TAG" ] ||
		fail "worker $i lacks the master's FT_TEST_TAG"
	note "worker $i pid $pid: fds $fds, fd3 $fd3, fd4 $fd4," \
	    "SigBlk=$blk SigIgn=$ign, pgid $pid," \
	    "LISTEN_FDNAMES=$(proc_env "$pid" LISTEN_FDNAMES)" \
	    "SERVER_STARTER_PORT=$(proc_env "$pid" SERVER_STARTER_PORT)"
done
# Both workers share the one socket: a connection is accepted (queued) on it.
python3 - "$port" <<'EOF' || fail "cannot connect to the shared port"
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
EOF
quit_master "$T/a.log"
[ ! -e "$sock" ] || fail "$sock left behind after QUIT"
[ ! -e "$T/a.pid" ] || fail "pidfile left behind after QUIT"

# --- B: ready = notify, through a wrapper that execs demoapp ----------------
# The wrapper records the descriptors it was exec'd with (leaving out the
# directory it reads them from) and execs demoapp, keeping the pid for the
# READY=1 that baton matches by sender pid.
cat >"$T/wrap.py" <<'PY'
import os, sys
d = "/proc/self/fd"
fds = [f for f in os.listdir(d) if os.path.exists(d + "/" + f)]
with open(sys.argv[1] + ".%d" % os.getpid(), "w") as f:
    f.write(" ".join(sorted(fds, key=int)) + "\n")
os.execv(sys.argv[2], sys.argv[2:])
PY
port=$(pick_port)
write_conf "$T/b.ini" <<EOF
[app]
command = /usr/bin/python3 $T/wrap.py $T/fds $DEMOAPP --ready-delay 100
workers = 2
ready = notify
ready_timeout = 20s
stop_timeout = 5s

[listen http]
address = 127.0.0.1:$port

[listen sock]
address = unix:$sock
EOF
start_master "$T/b.log" "$T/b.ini" env NOTIFY_SOCKET="$T/not-ours.sock"
m_sock_http=$(readlink "/proc/$BATON_PID/fd/$(sed -nE 's/.*\[listen http\]: .* \(fd ([0-9]+)\).*/\1/p' "$T/b.log")")
m_sock_unix=$(readlink "/proc/$BATON_PID/fd/$(sed -nE 's/.*\[listen sock\]: .* \(fd ([0-9]+)\).*/\1/p' "$T/b.log")")
for i in 0 1; do
	pid=$(worker_pid_of "$T/b.log" 1 $i)
	[ -n "$pid" ] || fail "notify: no ready line for worker $i"
	[ -s "$T/fds.$pid" ] || fail "notify: the wrapper of worker $i wrote no fds"
	before=$(cat "$T/fds.$pid")
	[ "$before" = "0 1 2 3 4" ] ||
		fail "notify: worker $i was exec'd with fds '$before'"
	ns=$(proc_env "$pid" NOTIFY_SOCKET) || fail "notify: worker $i has no NOTIFY_SOCKET"
	# An autobound abstract name ("@" and 5 hex digits, chosen by the
	# kernel, so nobody can bind it first), held by the master itself.
	[[ $ns =~ ^@[0-9a-f]{5}$ ]] ||
		fail "notify: worker $i NOTIFY_SOCKET=$ns, not an autobound name"
	[ "$(notify_socket_owner "$ns")" = "$BATON_PID" ] ||
		fail "notify: $ns is not a socket of the master $BATON_PID"
	[ "$(readlink "/proc/$pid/fd/3")" = "$m_sock_http" ] ||
		fail "notify: worker $i fd 3 is not the master's http socket"
	[ "$(readlink "/proc/$pid/fd/4")" = "$m_sock_unix" ] ||
		fail "notify: worker $i fd 4 is not the master's unix socket"
	# After exec, demoapp opens a pipe of its own; no other socket.
	extra=$(proc_fds "$pid" | awk '$1 > 4 && $2 !~ /^pipe:/')
	[ -z "$extra" ] || fail "notify: worker $i has extra descriptors: $extra"
	[ "$(status_field "$pid" SigBlk)" = 0000000000000000 ] ||
		fail "notify: worker $i SigBlk=$(status_field "$pid" SigBlk)"
	note "notify worker $i pid $pid: exec'd with fds $before," \
	    "NOTIFY_SOCKET=$ns, after exec: $(fd_numbers "$pid")"
done
# The app sees the same thing through its own environment.
got=$(http_get "http://127.0.0.1:$port/env?NOTIFY_SOCKET") ||
	fail "GET /env?NOTIFY_SOCKET failed"
[ "$got" = "$ns" ] || fail "/env?NOTIFY_SOCKET = $got, workers had $ns"
got=$(http_get http://localhost/env?LISTEN_FDNAMES --unix-socket "$sock") ||
	fail "GET over the unix socket failed"
[ "$got" = http:sock ] || fail "/env?LISTEN_FDNAMES over unix = $got"
quit_master "$T/b.log"

# --- C: env.NAME and the placeholders of command ----------------------------
port=$(pick_port)
write_conf "$T/c.ini" <<EOF
[app]
command = /bin/sh -c 'echo "\$0|\$1|\$2|\$3|\$FOO|\$BAR" >$T/argv.\$\$; exec sleep 1000'
    {fd:http} {addr:http} --listen=fd://{fd:sock}/x{fd:http} {addr:sock}
workers = 1
ready = delay:200ms
stop_timeout = 5s
env.FOO = bar
env.BAR = "quoted \$HOME {fd:http}"

[listen http]
address = 127.0.0.1:$port

[listen sock]
address = unix:$sock
EOF
start_master "$T/c.log" "$T/c.ini" env FOO=from-master
pid=$(worker_pid_of "$T/c.log" 1 0)
[ -n "$pid" ] || fail "placeholders: no ready line"
wait_for "the wrapper to write its argv" 5 test -s "$T/argv.$pid"
got=$(cat "$T/argv.$pid")
want_argv="3|127.0.0.1:$port|--listen=fd://4/x3|$sock|bar|\"quoted \$HOME {fd:http}\""
[ "$got" = "$want_argv" ] || fail "placeholders: argv '$got', expected '$want_argv'"
[ "$(proc_env "$pid" FOO)" = bar ] || fail "env.FOO: FOO=$(proc_env "$pid" FOO)"
[ "$(env_count "$pid" FOO)" = 1 ] ||
	fail "env.FOO: FOO set $(env_count "$pid" FOO) times"
[ "$(fd_numbers "$pid")" = "0 1 2 3 4" ] ||
	fail "placeholders: worker fds $(fd_numbers "$pid")"
[ "$(status_field "$pid" SigIgn)" = 0000000000000000 ] ||
	fail "placeholders: worker SigIgn=$(status_field "$pid" SigIgn)"
note "placeholders and env: the worker's \$0..\$3|FOO|BAR = $got"
quit_master "$T/c.log"

pass "fds 0-4, default signals, socket-passing env, notify, placeholders"
