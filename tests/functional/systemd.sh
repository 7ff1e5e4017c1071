# systemd.sh: helpers for the tests of baton under systemd, sourced after
# lib.sh.  tests/tools/fakesystemd plays systemd (NOTIFY_SOCKET, socket
# activation, fd store, MAINPID=, Restart=) and records every message it gets
# in $SD/notify.log; these functions start it and read what it saw.

FAKESYSTEMD=$FT_DIR/../tools/fakesystemd
SD=$T/sd
FAKE_PID=
# Debian's python3 (package python3) directly: a version manager's shim in
# PATH may cost a second a call on a loaded machine, and these helpers run
# in polling loops.
if [ -x /usr/bin/python3 ]; then
	FT_PY=/usr/bin/python3
else
	FT_PY=python3
fi

# fake_start [FAKESYSTEMD_OPTIONS...] -- CONF: run `baton -c CONF` under
# fakesystemd (tracked; baton's output goes to $T/baton.log, fakesystemd's
# own to $T/fake.log), set FAKE_PID and BATON_PID (the main pid it forked),
# and wait (20 s) for generation 1 to become active.
fake_start()
{
	local -a opts=()
	local conf
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ $# -eq 2 ] || fail "fake_start: usage: fake_start [OPTIONS...] -- CONF"
	conf=$2
	# shellcheck disable=SC2153 # BATON_CMD: set by lib.sh, sourced first
	"$FT_PY" "$FAKESYSTEMD" --state "$SD" --output "$T/baton.log" \
		"${opts[@]}" --exec "${BATON_CMD[@]}" -c "$conf" \
		2>>"$T/fake.log" &
	FAKE_PID=$!
	track "$FAKE_PID"
	wait_for "fakesystemd to start the service" 10 test -s "$SD/mainpid"
	BATON_PID=$(<"$SD/mainpid")
	track "$BATON_PID"
	note "fakesystemd pid $FAKE_PID started baton pid $BATON_PID" \
		"(${opts[*]})"
	fake_wait_active "$BATON_PID" 1 20
}

# fake_wait_active PID N TIMEOUT_S: wait for master PID's generation N (a
# number or an ERE) to become active; fail early if fakesystemd dies.
fake_wait_active()
{
	local re="baton\\[$1\\]: generation $2: starting -> active"
	local limit=$(($3 * TIMEOUT_MULT * 1000)) start
	start=$(now_ms)
	until grep -qE -- "$re" "$T/baton.log" 2>/dev/null; do
		if ! alive "$FAKE_PID"; then
			fake_dump
			fail "fakesystemd exited before /$re/"
		fi
		if [ $(($(now_ms) - start)) -ge "$limit" ]; then
			fake_dump
			fail "timed out after $3 s waiting for /$re/"
		fi
		sleep 0.05
	done
}

# fake_dump: the end of every log, for a failure message.
fake_dump()
{
	local f
	for f in "$T/baton.log" "$SD/events.log"; do
		echo "--- last lines of $f:" >&2
		tail -n 25 "$f" >&2 2>/dev/null
	done
	echo "--- messages received by fakesystemd:" >&2
	sd_msgs >&2
}

# fake_mainpid / fake_state: what fakesystemd believes now.
fake_mainpid()
{
	cat "$SD/mainpid" 2>/dev/null
}

fake_state()
{
	cat "$SD/state" 2>/dev/null
}

# sd_msgs: every message fakesystemd received, one per line, as
# "PID|FIELD|FIELD...", e.g. "4242|READY=1|STATUS=started"; a message that
# carried fds ends with "|<N fds>".  Match a field separator with [|].
sd_msgs()
{
	[ -f "$SD/notify.log" ] || return 0
	"$FT_PY" - "$SD/notify.log" <<-'EOF'
	import json, os, sys
	try:
	    for line in open(sys.argv[1]):
	        m = json.loads(line)
	        if m["msg"].startswith("X_TEST_SYNC="):
	            continue
	        out = "%d|%s" % (m["pid"], m["msg"].replace("\n", "|"))
	        if m["fds"]:
	            out += "|<%d fds>" % m["fds"]
	        print(out)
	    sys.stdout.flush()
	except BrokenPipeError:
	    # grep -q has seen enough: not an error (pipefail is on).
	    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
	EOF
}

# sd_wait DESC REGEX TIMEOUT_S: wait until a message matches REGEX (an ERE
# on the sd_msgs form); on timeout show what came and fail.
sd_wait()
{
	local desc=$1 re=$2 limit=$(($3 * TIMEOUT_MULT * 1000)) start
	start=$(now_ms)
	until sd_msgs | grep -qE -- "$re"; do
		if [ $(($(now_ms) - start)) -ge "$limit" ]; then
			fake_dump
			fail "timed out after $3 s waiting for $desc (/$re/)"
		fi
		sleep 0.1
	done
}

# sd_count REGEX: how many messages match.
sd_count()
{
	local n
	n=$(sd_msgs | grep -cE -- "$1") || true
	echo "${n:-0}"
}

# sd_kinds PID: the state changes PID announced, in order, space separated:
# each message's MAINPID/READY/RELOADING/STOPPING fields joined by "+"
# (MAINPID with its value), messages with none of them left out.  E.g.
# "READY RELOADING READY MAINPID=42+READY STOPPING".
sd_kinds()
{
	[ -f "$SD/notify.log" ] || return 0
	"$FT_PY" - "$SD/notify.log" "$1" <<-'EOF'
	import json, sys
	kinds = []
	for line in open(sys.argv[1]):
	    m = json.loads(line)
	    if m["pid"] != int(sys.argv[2]):
	        continue
	    fields = dict(f.partition("=")[::2] for f in m["msg"].split("\n"))
	    k = []
	    if "MAINPID" in fields:
	        k.append("MAINPID=" + fields["MAINPID"])
	    for name in ("READY", "RELOADING", "STOPPING"):
	        if fields.get(name) == "1":
	            k.append(name)
	    if k:
	        kinds.append("+".join(k))
	print(" ".join(kinds))
	EOF
}

# sd_check_reloading PID: every RELOADING=1 from PID carries a
# MONOTONIC_USEC= that is CLOCK_MONOTONIC when it was sent: not after
# fakesystemd received it, and less than a second before.  Prints the
# delays; non-zero (with the reason) when one is wrong or there is none.
sd_check_reloading()
{
	"$FT_PY" - "$SD/notify.log" "$1" <<-'EOF'
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    m = json.loads(line)
	    fields = dict(f.partition("=")[::2] for f in m["msg"].split("\n"))
	    if m["pid"] != int(sys.argv[2]) or fields.get("RELOADING") != "1":
	        continue
	    n += 1
	    v = fields.get("MONOTONIC_USEC", "")
	    if not v.isdigit():
	        sys.exit("RELOADING=1 without a valid MONOTONIC_USEC: %r"
	                 % m["msg"])
	    delay = m["t"] * 1e6 - int(v)
	    # t is rounded to the microsecond: allow that much.
	    if not -1 <= delay < 1e6:
	        sys.exit("MONOTONIC_USEC=%s is %.0f us before its receipt"
	                 % (v, delay))
	    print("MONOTONIC_USEC=%s received %.0f us later" % (v, delay))
	if n == 0:
	    sys.exit("no RELOADING=1 from pid %s" % sys.argv[2])
	EOF
}

# listen_inodes PORT: the inode of every listening TCP socket on
# 127.0.0.1:PORT (one per line), from /proc/net/tcp.
listen_inodes()
{
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}

# holds_inode PID INODE: true when PID has socket:[INODE] open.
holds_inode()
{
	proc_fds "$1" | grep -q " socket:\\[$2\\]\$"
}

# fd_of_inode PID INODE: the fd number(s) under which PID holds it.
fd_of_inode()
{
	proc_fds "$1" | awk -v s="socket:[$2]" '$2 == s { print $1 }'
}

# sd_sync: wait until fakesystemd has logged every message sent so far.  A
# datagram socket is a queue: once our own marker (a message of no meaning
# to systemd, "X_TEST_SYNC=N", left out of the other helpers' checks) is
# logged, whatever was sent before it is too.
SD_SYNC_N=0
sd_sync()
{
	SD_SYNC_N=$((SD_SYNC_N + 1))
	"$FT_PY" - "$SD/notify" "X_TEST_SYNC=$SD_SYNC_N" <<-'EOF' ||
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.sendto(sys.argv[2].encode(), sys.argv[1])
	EOF
		{
			alive "$FAKE_PID" || {
				fake_dump
				fail "fakesystemd has exited: the service" \
					"was stopped (see its events above)"
			}
			fail "sd_sync: cannot send to $SD/notify"
		}
	wait_log "$SD/notify.log" "\"X_TEST_SYNC=$SD_SYNC_N\"" 10
}

# sd_gap_ms OLD NEW: milliseconds from the exit of main pid OLD to the
# first READY=1 of NEW, both as fakesystemd timed them (CLOCK_MONOTONIC):
# how long the service had no ready master.
sd_gap_ms()
{
	"$FT_PY" - "$SD/events.log" "$SD/notify.log" "$1" "$2" <<-'EOF'
	import json, re, sys
	gone = ready = None
	for line in open(sys.argv[1]):
	    m = re.match(r"t=([0-9.]+) main pid %s (exited|killed)" % sys.argv[3],
	                 line)
	    if m and gone is None:
	        gone = float(m.group(1))
	for line in open(sys.argv[2]):
	    m = json.loads(line)
	    if (m["pid"] == int(sys.argv[4]) and ready is None and
	            "READY=1" in m["msg"].split("\n")):
	        ready = m["t"]
	if gone is None or ready is None:
	    sys.exit("no exit of %s or no READY=1 from %s" % tuple(sys.argv[3:5]))
	print(round((ready - gone) * 1000))
	EOF
}
