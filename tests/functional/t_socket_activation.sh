#!/bin/bash
# t_socket_activation: the master takes its listeners from systemd socket
# activation instead of binding them: matched to a [listen] section by
# LISTEN_FDNAMES name, else by address; the very socket systemd bound is the
# one the workers accept on; a passed socket that matches no section is
# closed (logged); a UNIX socket path systemd owns survives the master.  And
# with the real systemd-socket-activate tool: served with no loss.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/systemd.sh"

# --- by name: fakesystemd binds http, admin (UNIX) and an extra one -------
p1=$(pick_port)
p2=$(pick_port)
sock=$T/admin.sock
write_conf "$T/a.ini" <<EOF
[baton]
pidfile = $T/a.pid
[app]
command = $DEMOAPP
workers = 2
ready = notify
ready_timeout = 5s
stop_timeout = 5s
[listen http]
address = 127.0.0.1:$p1
[listen admin]
address = unix:$sock
EOF
fake_start --listen "http=127.0.0.1:$p1" --listen "extra=127.0.0.1:$p2" \
	--listen "admin=unix:$sock" -- "$T/a.ini"
m=$BATON_PID
log_re="baton\\[$m\\]: "
wait_log "$T/baton.log" \
	"$log_re\\[listen http\\]: adopted fd [0-9]+ from systemd \\(127\\.0\\.0\\.1:$p1\\)" 5
wait_log "$T/baton.log" \
	"$log_re\\[listen admin\\]: adopted fd [0-9]+ from systemd \\(unix:$sock\\)" 5
wait_log "$T/baton.log" \
	"${log_re}listener 127\\.0\\.0\\.1:$p2 \\(fd [0-9]+\\) from systemd matches no \\[listen\\] section: closed" 5
grep -qE "$log_re\\[listen [a-z]+\\]: listening on" "$T/baton.log" &&
	fail "baton bound a socket of its own: $(grep -E "${log_re}.*listening on" \
		"$T/baton.log")"
grep -E "$log_re(\\[listen|listener)" "$T/baton.log" | sed 's/^/    /'

# One listening socket on the port, held by fakesystemd, the master and
# every worker (at fd 3): the socket systemd bound, not a copy by address.
ino=$(listen_inodes "$p1")
[ "$(echo "$ino" | wc -w)" = 1 ] || fail "listening sockets on $p1: '$ino'"
holds_inode "$FAKE_PID" "$ino" || fail "fakesystemd does not hold socket:[$ino]"
holds_inode "$m" "$ino" || fail "master $m does not hold socket:[$ino]: $(proc_fds "$m")"
workers=$(worker_pids "$m" | tr '\n' ' ')
[ "$(echo "$workers" | wc -w)" = 2 ] || fail "workers: '$workers'"
for w in $workers; do
	[ "$(fd_of_inode "$w" "$ino")" = 3 ] ||
		fail "worker $w: socket:[$ino] not at fd 3: $(proc_fds "$w")"
done
note "127.0.0.1:$p1 is socket:[$ino] in fakesystemd (fd" \
	"$(fd_of_inode "$FAKE_PID" "$ino")), master $m (fd" \
	"$(fd_of_inode "$m" "$ino")) and workers $workers(fd 3)"
# The extra socket: still fakesystemd's, not the master's nor a worker's.
xino=$(listen_inodes "$p2")
[ "$(echo "$xino" | wc -w)" = 1 ] || fail "listening sockets on $p2: '$xino'"
holds_inode "$FAKE_PID" "$xino" || fail "fakesystemd lost socket:[$xino]"
for p in "$m" $workers; do
	holds_inode "$p" "$xino" && fail "pid $p holds the unmatched socket:[$xino]"
done
note "unmatched 127.0.0.1:$p2 (socket:[$xino]) closed by the master"
pid=$(http_get "http://127.0.0.1:$p1/pid") || fail "http not served"
[ "$(proc_ppid "$pid")" = "$m" ] || fail "http answered by $pid, not a worker"
pid=$(http_get "http://localhost/pid" --unix-socket "$sock") ||
	fail "admin (UNIX) not served"
[ "$(proc_ppid "$pid")" = "$m" ] || fail "admin answered by $pid, not a worker"

# The master exits; the UNIX path is systemd's to remove, not baton's: a
# socket unit keeps listening on it (and the fd store keeps the socket).
kill -QUIT "$m"
wait_exit "$FAKE_PID" 30
rc=$?
[ $rc = 0 ] || fail "fakesystemd exited $rc after baton's QUIT"
[ -S "$sock" ] || fail "baton removed $sock, which systemd passed to it"
note "by name: http and admin adopted, extra closed, $sock kept"

# --- by address: no LISTEN_FDNAMES, then a name no section has ---------
p3=$(pick_port)
write_conf "$T/b.ini" <<EOF
[baton]
pidfile = $T/b.pid
[app]
command = $DEMOAPP
workers = 1
ready = notify
ready_timeout = 5s
stop_timeout = 5s
[listen web]
address = 127.0.0.1:$p3
EOF
# systemd names a socket after its unit unless FileDescriptorName= says
# otherwise: "baton.socket" matches no section, so the address decides.
for how in --no-fdnames --listen=baton.socket=127.0.0.1:$p3; do
	case $how in
	--no-fdnames)
		SD=$T/sd-nonames
		fake_start --no-fdnames --listen "127.0.0.1:$p3" -- "$T/b.ini"
		e=$(proc_env "$BATON_PID" LISTEN_FDNAMES) &&
			fail "fakesystemd passed LISTEN_FDNAMES=$e"
		;;
	*)
		SD=$T/sd-unitname
		fake_start "$how" -- "$T/b.ini"
		;;
	esac
	wait_log "$T/baton.log" \
		"baton\\[$BATON_PID\\]: \\[listen web\\]: adopted fd 3 from systemd \\(127\\.0\\.0\\.1:$p3\\)" 5
	ino=$(listen_inodes "$p3")
	[ "$(echo "$ino" | wc -w)" = 1 ] || fail "listening sockets: '$ino'"
	holds_inode "$BATON_PID" "$ino" || fail "master does not hold the socket"
	pid=$(http_get "http://127.0.0.1:$p3/pid") || fail "not served ($how)"
	[ "$(proc_ppid "$pid")" = "$BATON_PID" ] ||
		fail "answered by $pid, not a worker of $BATON_PID"
	kill -QUIT "$BATON_PID"
	wait_exit "$FAKE_PID" 30 || fail "fakesystemd exited $? ($how)"
	note "by address ($how): adopted socket:[$ino] as [listen web]"
done

# --- the real thing: systemd-socket-activate ---------------------------
command -v systemd-socket-activate >/dev/null ||
	fail "systemd-socket-activate not found (Debian package systemd)"
p4=$(pick_port)
write_conf "$T/c.ini" <<EOF
[baton]
pidfile = $T/c.pid
[app]
command = $DEMOAPP --ready-delay 100
workers = 2
ready = notify
ready_timeout = 5s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$p4
EOF
# It binds, waits for the first connection, then execs baton in its own
# process (LISTEN_PID is that pid): the load's first requests start baton.
systemd-socket-activate -l "127.0.0.1:$p4" --fdname=http \
	"${BATON_CMD[@]}" -c "$T/c.ini" >>"$T/activate.log" 2>&1 &
BATON_PID=$!
track "$BATON_PID"
wait_for "systemd-socket-activate to listen" 10 \
	eval '[ -n "$(listen_inodes "$p4")" ]'
load_start act "http://127.0.0.1:$p4/" -c 50
wait_log "$T/activate.log" "baton\\[$BATON_PID\\]: generation 1: starting -> active" 20
wait_log "$T/activate.log" \
	"baton\\[$BATON_PID\\]: \\[listen http\\]: adopted fd 3 from systemd \\(127\\.0\\.0\\.1:$p4\\)" 5
case $(proc_cmdline "$BATON_PID") in
*baton*) ;;
*) fail "pid $BATON_PID is not baton: $(proc_cmdline "$BATON_PID")" ;;
esac
sleep 3 # the load runs against the activated master
load_stop act
assert_no_loss act 500
baton_signal QUIT
baton_wait_exit 30 || fail "baton (socket-activated) did not exit 0"
grep -E '^(Listening|Communication|Execing)' "$T/activate.log" | sed 's/^/    /'
pass "adopted by name and by address, extra socket closed, UNIX path" \
	"kept; systemd-socket-activate: $(json_get act ok) requests, 0 lost"
