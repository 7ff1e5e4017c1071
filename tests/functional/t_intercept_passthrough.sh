#!/bin/bash
# t_intercept_passthrough: under intercept_bind, only a bind() to a
# configured address is served by the master. The Go server also binds
# 127.0.0.1:0 (TCP, the kernel picks the port) and a UDP socket on the very
# address of the TCP listener: both reach the kernel untouched, work, and
# are sockets of the worker's own, not the master's.
. "$(dirname "$0")/lib.sh"
. "$FT_DIR/intercept_lib.sh"

goserver_build
port=$(pick_port)
# One worker: two UDP sockets on one port would collide (no SO_REUSEPORT).
write_conf "$T/t.ini" <<EOF2
[app]
command = $GOSERVER -addr 127.0.0.1:$port -tcp0 -udp-echo 127.0.0.1:$port
ready = listen
ready_timeout = 10s
intercept_bind = yes
[listen http]
address = 127.0.0.1:$port
EOF2
baton_start "$T/t.ini"
assert_installed 1 0
wpid=$(installed_pid 1 0)
info=$(http_get "http://127.0.0.1:$port/info") || fail "no /info"
note "worker says: $info"
get()
{
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' \
		"$info" "$1"
}
masters=$(master_inodes "$BATON_PID")

# Port 0: the kernel's own port, served by the worker alone.
tcp0=$(get tcp0_addr)
{ [ "${tcp0##*:}" != 0 ] && [ "${tcp0##*:}" != "$port" ]; } ||
	fail "port-0 listener got port ${tcp0##*:}"
[ "$(http_get "http://$tcp0/")" = ok ] || fail "nothing answers on $tcp0"
ino=$(sock_inode "$wpid" "$(get tcp0_fd)") || fail "tcp0 fd is no socket"
grep -qx "$ino" <<<"$masters" && fail "the port-0 socket is the master's"

# UDP on the TCP listener's own address: same family, address and port,
# another socket type, so it is not ours to install.
[ "$(get udp_addr)" = "127.0.0.1:$port" ] || fail "udp bound $(get udp_addr)"
echo=$(python3 - "$port" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(5)
	s.sendto(b"ping", ("127.0.0.1", int(sys.argv[1])))
	print(s.recvfrom(64)[0].decode())
	PY
) || fail "no UDP echo"
[ "$echo" = ping ] || fail "UDP echo said '$echo'"
ino=$(sock_inode "$wpid" "$(get udp_fd)") || fail "udp fd is no socket"
grep -qx "$ino" <<<"$masters" && fail "the UDP socket is the master's"

# One bind was installed; Go's own probes ([::1]:0 at start) and these two
# passed through without a word.
n=$(count_log "$T/baton.log" 'intercepted: installed')
[ "$n" = 1 ] || fail "expected one installed bind, saw $n"
[ "$(count_log "$T/baton.log" '\[warn\]')" = 0 ] || fail "warnings logged"
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0 after QUIT"
pass "port 0 ($tcp0) and UDP 127.0.0.1:$port passed through"
