# intercept_lib.sh: helpers for the bind interception tests (t_intercept_*),
# sourced after lib.sh: the static Go server, and /proc checks that a
# worker's descriptor is the master's very socket.

# Under valgrind (make valgrind) the master's forked child runs on
# valgrind's CPU until exec, and valgrind 3.19 does not implement seccomp(2):
# baton then refuses intercept_bind, rightly. Nothing to test there.
if [ "${VALGRIND:-0}" = 1 ]; then
	skip "valgrind cannot run seccomp(2), which intercept_bind needs"
fi

# GOSERVER: tests/tools/goserver built into $BUILD (the Makefile has the
# same rule). Built here when missing or older than its source, so that a
# test run alone works; the Go build cache lives in $BUILD too.
GOSERVER=$BUILD/goserver

goserver_build()
{
	local src=$FT_DIR/../tools/goserver/main.go
	[ -x "$GOSERVER" ] && [ "$GOSERVER" -nt "$src" ] && return 0
	command -v go >/dev/null 2>&1 ||
		fail "go not found: install golang-go (make deps)"
	note "building $GOSERVER"
	(cd "$(dirname "$src")" && GOCACHE=$BUILD/gocache CGO_ENABLED=0 \
		go build -trimpath -o "$GOSERVER" main.go) >"$T/gobuild.log" 2>&1 ||
		{ cat "$T/gobuild.log" >&2; fail "cannot build $GOSERVER"; }
}

# sock_inode PID FD: the inode of the socket at PID's FD ("" if not one).
sock_inode()
{
	local l
	l=$(readlink "/proc/$1/fd/$2" 2>/dev/null) || return 1
	case $l in
	socket:\[*\]) l=${l#socket:[}; echo "${l%]}" ;;
	*) return 1 ;;
	esac
}

# master_inodes PID: the inodes of every socket the master holds.
master_inodes()
{
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in
		socket:\[*\]) l=${l#socket:[}; echo "${l%]}" ;;
		esac
	done
}

# installed_fd GEN WORKER: the fd number the log says generation GEN's
# worker WORKER got the master's socket at ("" if none).
installed_fd()
{
	grep -oE "generation $1 worker $2 pid [0-9]+: bind\(fd [0-9]+," \
		"$T/baton.log" | tail -n 1 | sed -E 's/.*bind\(fd ([0-9]+),/\1/'
}

# installed_pid GEN WORKER: that worker's pid, from the same line.
installed_pid()
{
	grep -oE "generation $1 worker $2 pid [0-9]+: bind\(fd" \
		"$T/baton.log" | tail -n 1 | sed -E 's/.* pid ([0-9]+):.*/\1/'
}

# assert_installed GEN WORKER: /proc shows that worker's fd is a socket of
# the master's (same inode), and it is the one it inherited at fd 3.
assert_installed()
{
	local pid fd ino inh
	pid=$(installed_pid "$1" "$2")
	fd=$(installed_fd "$1" "$2")
	{ [ -n "$pid" ] && [ -n "$fd" ]; } ||
		fail "no interception logged for generation $1 worker $2"
	ino=$(sock_inode "$pid" "$fd") ||
		fail "generation $1 worker $2 pid $pid: fd $fd is not a socket"
	master_inodes "$BATON_PID" | grep -qx "$ino" ||
		fail "generation $1 worker $2 pid $pid: fd $fd is socket" \
		    "$ino, which the master does not hold"
	inh=$(sock_inode "$pid" 3)
	[ "$inh" = "$ino" ] ||
		fail "generation $1 worker $2 pid $pid: fd $fd ($ino) is not" \
		    "the listener at fd 3 ($inh)"
	note "generation $1 worker $2 pid $pid: fd $fd is the master's" \
	    "socket:[$ino]"
}
