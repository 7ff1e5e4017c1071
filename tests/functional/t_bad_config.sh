#!/bin/bash
# t_bad_config: configuration errors.  `baton -t` and a start print the first
# error as "baton: FILE:LINE: KEY: REASON" with the right line and exit 1 (a
# start leaves no pidfile); a HUP with a broken file logs "reload: ...;
# keeping the running generation" and changes nothing; once the file is
# fixed, a HUP brings generation 2.
. "$(dirname "$0")/lib.sh"

# --- local helpers (not in lib.sh) -----------------------------------------

# run_baton NAME ARGS...: run baton ARGS (tracked, bounded to 10 s) with its
# stdout in $T/NAME.out and stderr in $T/NAME.err; set RC.
run_baton()
{
	local name=$1 pid
	shift
	"${BATON_CMD[@]}" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	track $pid
	wait_exit $pid 10
	RC=$?
	[ $RC != 124 ] || fail "baton $* still runs after 10 s"
}

# edit SRC DST LINE TEXT: copy SRC to DST with line LINE replaced by TEXT
# (TEXT "" deletes the line; TEXT may hold newlines to insert lines).
edit()
{
	awk -v n="$3" -v t="$4" 'NR == n { if (t != "") print t; next } { print }' \
		"$1" >"$2"
}

# expect_error FILE LINE KEY REASON_FRAGMENT: `baton -t -c FILE` and a start
# with FILE both exit 1 with the one line "baton: FILE:LINE: KEY: ..."
# containing REASON_FRAGMENT; the start leaves no pidfile.
expect_error()
{
	local f=$1 line=$2 key=$3 frag=$4 msg first
	run_baton t -t -c "$f"
	[ $RC = 1 ] || fail "baton -t -c $f exited $RC, not 1 ($(cat "$T/t.err"))"
	[ ! -s "$T/t.out" ] || fail "baton -t wrote to stdout: $(cat "$T/t.out")"
	[ "$(wc -l <"$T/t.err")" = 1 ] ||
		fail "baton -t printed $(wc -l <"$T/t.err") lines: $(cat "$T/t.err")"
	msg=$(cat "$T/t.err")
	case $msg in
	"baton: $f:$line: $key: "*"$frag"*) ;;
	*) fail "baton -t -c $f: '$msg', expected 'baton: $f:$line: $key: ...$frag...'" ;;
	esac
	first=$msg
	run_baton start -c "$f"
	[ $RC = 1 ] || fail "baton -c $f (start) exited $RC, not 1"
	[ "$(cat "$T/start.err")" = "$first" ] ||
		fail "start with $f said '$(cat "$T/start.err")', -t said '$first'"
	[ ! -e "$T/baton.pid" ] || fail "start with $f left a pidfile"
	note "$(basename "$f"): $msg (exit 1, also at start)"
}

port=$(pick_port)
write_conf "$T/good.ini" <<EOF
; t_bad_config: the valid base file, line numbers matter below
[baton]
pidfile = $T/baton.pid

[app]
command = $DEMOAPP --ready-delay 100
workers = 2
ready = notify
stop_timeout = 5s

[listen http]
address = 127.0.0.1:$port
EOF
[ "$(sed -n 7p "$T/good.ini")" = "workers = 2" ] || fail "setup: base file shifted"

# --- baton -t on the valid file -----------------------------------------------
run_baton t -t -c "$T/good.ini"
[ $RC = 0 ] || fail "baton -t on the valid file exited $RC: $(cat "$T/t.err")"
[ "$(cat "$T/t.err")" = "baton: $T/good.ini: configuration is valid" ] ||
	fail "baton -t said '$(cat "$T/t.err")'"
[ ! -e "$T/baton.pid" ] || fail "baton -t wrote a pidfile"
[ -z "$(ss -Hltn "sport = :$port")" ] ||
	fail "baton -t bound port $port"
note "valid file: $(cat "$T/t.err")"

# --- broken files, one error each -----------------------------------------------
edit "$T/good.ini" "$T/key.ini" 7 "wrkers = 2"
expect_error "$T/key.ini" 7 wrkers "unknown key in [app]"

edit "$T/good.ini" "$T/dur.ini" 9 "stop_timeout = 5x"
expect_error "$T/dur.ini" 9 stop_timeout '"5x" is not a duration'

edit "$T/good.ini" "$T/sect.ini" 11 "[lsiten http]"
expect_error "$T/sect.ini" 11 "[lsiten http]" "unknown section"

# Without command the error is about [app], whose header is line 5.
edit "$T/good.ini" "$T/nocmd.ini" 6 ""
expect_error "$T/nocmd.ini" 5 command "missing"

edit "$T/good.ini" "$T/ph.ini" 6 "command = $DEMOAPP --fd {fd:nope}"
expect_error "$T/ph.ini" 6 command "{fd:nope}: no [listen nope] section"

edit "$T/good.ini" "$T/dup.ini" 7 "workers = 2
ready_delay = 0
workers = 3"
expect_error "$T/dup.ini" 9 workers "duplicate key (first set on line 7)"

# Continuation lines, a blank and a comment in between: the line count
# must still be right for an error further down.
edit "$T/good.ini" "$T/cont.ini" 6 "command = $DEMOAPP
    --ready-delay

  ; a comment between continuation lines
    100"
edit "$T/cont.ini" "$T/cont2.ini" 11 "workers = 0"
[ "$(sed -n 11p "$T/cont.ini")" = "workers = 2" ] || fail "setup: cont.ini shifted"
expect_error "$T/cont2.ini" 11 workers "0 is out of range (1..4096)"

# A missing file has no line number.
run_baton t -t -c "$T/nonexistent.ini"
[ $RC = 1 ] || fail "baton -t on a missing file exited $RC"
[ "$(cat "$T/t.err")" = "baton: $T/nonexistent.ini: cannot open: No such file or directory" ] ||
	fail "missing file: '$(cat "$T/t.err")'"

# --- files that are no config: answered at once, without a line ---------------
# expect_file_error FILE REASON: `baton -t -c FILE` and a start exit 1 with
# the one line "baton: FILE: REASON", well within run_baton's 10 s.
expect_file_error()
{
	local f=$1 why=$2 t0 t1
	t0=$(now_ms)
	run_baton t -t -c "$f"
	t1=$(now_ms)
	[ $RC = 1 ] || fail "baton -t -c $f exited $RC, not 1 ($(cat "$T/t.err"))"
	[ "$(cat "$T/t.err")" = "baton: $f: $why" ] ||
		fail "baton -t -c $f: '$(cat "$T/t.err")', expected 'baton: $f: $why'"
	[ $((t1 - t0)) -lt 2000 ] || fail "baton -t -c $f took $((t1 - t0)) ms"
	run_baton start -c "$f"
	[ $RC = 1 ] || fail "baton -c $f (start) exited $RC, not 1"
	[ "$(cat "$T/start.err")" = "baton: $f: $why" ] ||
		fail "start with $f said '$(cat "$T/start.err")'"
	note "$f: $(cat "$T/t.err") (exit 1 in $((t1 - t0)) ms)"
}

# A FIFO with no writer would block open(2); /dev/zero has no end.
mkfifo "$T/fifo.ini"
expect_file_error "$T/fifo.ini" "not a regular file"
expect_file_error /dev/zero "not a regular file"
expect_file_error "$T" "not a regular file"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ';' >"$T/big.ini"
expect_file_error "$T/big.ini" "too large (more than 1048576 bytes)"
# A regular file behind a symlink, as in /etc, is fine.
ln -s "$T/good.ini" "$T/link.ini"
run_baton t -t -c "$T/link.ini"
[ $RC = 0 ] || fail "baton -t through a symlink exited $RC: $(cat "$T/t.err")"

# One endless line: reported at its line, not read forever.
{ head -n 6 "$T/good.ini"; printf 'workers = 2 ; '; head -c 100000 /dev/zero | tr '\0' x; echo; } >"$T/long.ini"
run_baton t -t -c "$T/long.ini"
{ [ $RC = 1 ] && [ "$(cat "$T/t.err")" = "baton: $T/long.ini:7: line too long (max 199 characters)" ]; } ||
	fail "long line: exit $RC, '$(cat "$T/t.err")'"
note "long.ini: $(cat "$T/t.err")"

# --- user and group: names in the file, looked up at -t and at start ----------
edit "$T/good.ini" "$T/user.ini" 3 "pidfile = $T/baton.pid
user = baton-no-such-user-$$"
expect_error "$T/user.ini" 4 user "\"baton-no-such-user-$$\": no such user"
edit "$T/good.ini" "$T/group.ini" 3 "pidfile = $T/baton.pid
group = baton-no-such-group-$$"
expect_error "$T/group.ini" 4 group "\"baton-no-such-group-$$\": no such group"

# --- a running master and a file broken under it --------------------------------
cp "$T/good.ini" "$T/live.ini"
baton_start "$T/live.ini"
before=$(worker_pids "$BATON_PID" | tr '\n' ' ')
[ "$(http_get "http://127.0.0.1:$port/")" = ok ] || fail "not serving"
edit "$T/good.ini" "$T/live.ini" 7 "workers = lots"
baton_signal HUP
wait_log "$T/baton.log" \
	"reload: $T/live\.ini:7: workers: \"lots\" is not a number \(1\.\.4096\); keeping the running generation" 10
grep -E "reload: $T/live" "$T/baton.log" | sed 's/^/    /'
# -s needs a valid file: it refuses, and says why.
run_baton s -c "$T/live.ini" -s reload
[ $RC = 1 ] || fail "baton -s reload with a broken file exited $RC"
grep -q "^baton: $T/live.ini:7: workers: " "$T/s.err" ||
	fail "baton -s with a broken file said '$(cat "$T/s.err")'"
# The file gone altogether: also refused.
mv "$T/live.ini" "$T/live.ini.away"
baton_signal HUP
wait_log "$T/baton.log" \
	"reload: $T/live\.ini: cannot open: No such file or directory; keeping the running generation" 10
mv "$T/live.ini.away" "$T/live.ini"
# An unknown user: the master, as root, looks it up to switch to it, and
# refuses the reload before any generation starts.
if [ "$(id -u)" = 0 ]; then
	edit "$T/good.ini" "$T/live.ini" 3 "pidfile = $T/baton.pid
user = baton-no-such-user-$$"
	baton_signal HUP
	wait_log "$T/baton.log" \
		"reload: $T/live\.ini:4: user: \"baton-no-such-user-$$\": no such user; keeping the running generation" 10
	cp "$T/good.ini" "$T/live.ini"
else
	note "not root: the master looks no user up; that reload is not tried"
fi
sleep 0.5
[ "$(count_log "$T/baton.log" "generation 2")" = 0 ] ||
	fail "a broken file started generation 2: $(grep 'generation 2' "$T/baton.log")"
after=$(worker_pids "$BATON_PID" | tr '\n' ' ')
[ "$after" = "$before" ] || fail "workers changed: '$before' -> '$after'"
[ "$(http_get "http://127.0.0.1:$port/env?BATON_GENERATION")" = 1 ] ||
	fail "generation 1 does not answer after the refused reloads"
note "refused reloads: workers still $after, generation 1 serving"

cp "$T/good.ini" "$T/live.ini"
baton_signal HUP
wait_gen_active 2
wait_log "$T/baton.log" "generation 1: draining -> gone" 20
[ "$(http_get "http://127.0.0.1:$port/env?BATON_GENERATION")" = 2 ] ||
	fail "generation 2 does not answer"
new=$(worker_pids "$BATON_PID" | tr '\n' ' ')
for p in $before; do
	case " $new " in *" $p "*) fail "old worker $p still a child after the reload" ;; esac
done
note "fixed file: generation 2 active, workers $new"
baton_signal TERM
baton_wait_exit 20 || fail "master did not exit 0 on TERM"
[ ! -e "$T/baton.pid" ] || fail "pidfile left behind"

# --- last, checks that fail on known baton bugs (see the report).  Each is
# recorded, so that one bug does not hide the next; the test fails at the end.
BUGS=()

# A documented check (baton.ini(5), ready = delay:DURATION: "which must be
# shorter than ready_timeout").  A delay that cannot fit in ready_timeout
# would roll back every generation at run time.
edit "$T/good.ini" "$T/delay.ini" 8 "ready = delay:2m"
run_baton t -t -c "$T/delay.ini"
note "ready = delay:2m with the default ready_timeout 60s: baton -t exit $RC: $(cat "$T/t.err")"
if [ $RC != 1 ]; then
	BUGS+=("ready = delay:2m, longer than ready_timeout (60s), accepted by baton -t (exit $RC)")
elif ! grep -qE "^baton: $T/delay\.ini:8: ready: " "$T/t.err"; then
	BUGS+=("delay longer than ready_timeout: '$(cat "$T/t.err")'")
fi

# A valid file whose command is not in the workers' PATH: baton -t cannot
# know, the start fails with exit 1 and cleans up.  Its log must end with the
# exit line, and (under ASan) without a leak report.
edit "$T/good.ini" "$T/nopath.ini" 6 "command = no-such-app-$$ --flag"
printf '\n[listen u]\naddress = unix:%s\n' "$T/u.sock" >>"$T/nopath.ini"
run_baton t -t -c "$T/nopath.ini"
[ $RC = 0 ] || fail "baton -t on nopath.ini exited $RC: $(cat "$T/t.err")"
run_baton nopath -c "$T/nopath.ini"
[ $RC = 1 ] || fail "a start whose command is not in PATH exited $RC"
grep -q "generation 1 worker 0: cannot start: no-such-app-$$: command not found in the worker's PATH" \
	"$T/nopath.err" || fail "command not in PATH: $(cat "$T/nopath.err")"
[ ! -e "$T/baton.pid" ] || fail "command not in PATH: pidfile left behind"
[ ! -e "$T/u.sock" ] || fail "command not in PATH: socket file left behind"
last=$(grep 'baton\[' "$T/nopath.err" | tail -n 1)
note "command not in PATH: exit 1; last log line: ${last#*]: }"
case $last in
*"master pid "*": exiting with status 1") ;;
*) BUGS+=("command not in PATH: a line logged after the exit line: '${last#*]: }'") ;;
esac
if grep -q "LeakSanitizer" "$T/nopath.err"; then
	BUGS+=("command not in PATH: LeakSanitizer: $(grep -m1 -A4 '^Direct leak' "$T/nopath.err" | tr '\n' ' ')")
fi

[ ${#BUGS[@]} = 0 ] || fail "$(printf '%s; ' "${BUGS[@]}")"
pass
