#!/bin/bash
# t_hup_storm: 100 HUPs within a second. Standard signals coalesce and each
# HUP during a reload only asks for one more: the storm must end with
# exactly one generation of `workers` processes, nothing lost, no zombie,
# and never two reloads at once.
. "$(dirname "$0")/lib.sh"

port=$(pick_port)
write_conf "$T/t.ini" <<EOF
[baton]
pidfile = $T/t.pid
[app]
command = $DEMOAPP --ready-delay 50
workers = 3
ready = notify
ready_timeout = 10s
stop_timeout = 10s
[listen http]
address = 127.0.0.1:$port
EOF
baton_start "$T/t.ini"
load_start storm "http://127.0.0.1:$port/" -c 50 --slow-fraction 0.1 \
	--slow-ms 1500
sleep 1
start=$(now_ms)
for i in $(seq 1 100); do
	kill -HUP "$BATON_PID" || fail "cannot signal baton"
	sleep 0.005
done
note "100 HUPs sent in $(($(now_ms) - start)) ms"

# Settled: the newest generation is active, every older one is gone, and
# exactly `workers` processes are left, all of that newest generation.
settled()
{
	local last
	last=$(grep -oE 'generation [0-9]+: starting [0-9]+ workers' \
		"$T/baton.log" | tail -n 1 | awk '{print $2}' | tr -d :)
	[ -n "$last" ] || return 1
	grep -q "generation $last: starting -> active" "$T/baton.log" || return 1
	[ "$(count_log "$T/baton.log" 'draining -> gone')" = $((last - 1)) ] ||
		return 1
	echo "$last" >"$T/last"
}
wait_for "the storm to settle" 60 settled
sleep 1
last=$(cat "$T/last")
note "the storm made $((last - 1)) reloads"
[ "$last" -ge 2 ] || fail "no reload ran"
[ "$last" -le 101 ] || fail "more reloads ($((last - 1))) than HUPs"

n=0
for pid in $(worker_pids "$BATON_PID"); do
	n=$((n + 1))
	state=$(proc_state "$pid")
	[ "$state" != Z ] || fail "zombie worker $pid"
	gen=$(proc_env "$pid" BATON_GENERATION)
	[ "$gen" = "$last" ] || fail "worker $pid is of generation $gen, not $last"
done
[ "$n" = 3 ] || fail "expected 3 workers, found $n"

# Never two reloads at once: each "starting N workers" follows the
# previous generation's promotion or rollback.
python3 - "$T/baton.log" <<'EOF' || fail "two reloads overlapped"
import re, sys
starting = None
for line in open(sys.argv[1]):
    m = re.search(r"generation (\d+): starting \d+ workers", line)
    if m:
        if starting is not None:
            print("generation %s started while %s was starting"
                  % (m.group(1), starting))
            sys.exit(1)
        starting = m.group(1)
    m = re.search(r"generation (\d+): (starting -> active|rolled back)", line)
    if m and m.group(1) == starting:
        starting = None
EOF
load_stop storm
assert_no_loss storm 500
baton_signal QUIT
baton_wait_exit 30 || fail "baton did not exit 0"

# The master's own state machine told the same story: one chain of
# "master: A -> B" lines, each starting where the last ended, through
# "reload queued" (HUPs during a reload), and never a refused transition.
python3 - "$T/baton.log" <<'EOF' || fail "the master's states do not chain"
import re, sys
state, seen = "starting", set()
for line in open(sys.argv[1]):
    if "impossible transition" in line:
        print(line.strip())
        sys.exit(1)
    m = re.search(r"baton\[\d+\]: master: ([a-z ]+) -> ([a-z ]+)$",
                  line.rstrip("\n"))
    if not m:
        continue
    if m.group(1) != state:
        print("master went %s -> %s while in %s" % (m.group(1), m.group(2),
                                                    state))
        sys.exit(1)
    state = m.group(2)
    seen.add(state)
for want in ("serving", "reloading", "reload queued", "stopping"):
    if want not in seen:
        print("never %s: saw %s" % (want, sorted(seen)))
        sys.exit(1)
if state != "exited":
    print("ended in %s, not exited" % state)
    sys.exit(1)
EOF
pass "100 HUPs -> $((last - 1)) reloads, one generation of 3 left, 0 lost"
