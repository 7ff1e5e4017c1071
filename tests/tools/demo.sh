#!/usr/bin/env bash
# make demo: the bundled demo app under baton, reloaded under load, with a
# live tally of requests ok and lost. Exits 1 if any request was lost.
set -euo pipefail
BUILD=${BUILD:-build}
RELOADS=${RELOADS:-5}
BUILD=$(cd "$BUILD" && pwd)
run=$(mktemp -d /tmp/baton-demo.XXXXXX)
port=$(python3 -c 'import random,socket
for _ in range(100):
    p=random.randint(20000,32000); s=socket.socket()
    try: s.bind(("127.0.0.1",p)); print(p); break
    except OSError: pass
    finally: s.close()')
baton_pid='' load_pid=''
cleanup() {
	if [ -n "$load_pid" ]; then kill -INT "$load_pid" 2>/dev/null || true; fi
	if [ -n "$baton_pid" ]; then kill -QUIT "$baton_pid" 2>/dev/null || true; fi
	for _ in $(seq 100); do
		kill -0 "$baton_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -n "$baton_pid" ]; then kill -KILL "$baton_pid" 2>/dev/null || true; fi
	rm -rf "$run"
}
trap cleanup EXIT INT TERM

sed -e "s|@BUILD@|$BUILD|g" -e "s|@PORT@|$port|g" -e "s|@RUN@|$run|g" \
	conf/demo.ini >"$run/demo.ini"
echo "== baton -c $run/demo.ini (log: $run/baton.log)"
"$BUILD/baton" -c "$run/demo.ini" >"$run/baton.log" 2>&1 &
baton_pid=$!
for _ in $(seq 200); do
	grep -q 'generation 1: starting -> active' "$run/baton.log" && break
	kill -0 "$baton_pid" 2>/dev/null || { cat "$run/baton.log"; exit 1; }
	sleep 0.05
done
grep -q 'generation 1: starting -> active' "$run/baton.log" || {
	cat "$run/baton.log"; echo "baton did not start"; exit 1; }

echo "== load: 50 clients, new connection per request, 10% take 1.5 s"
"$BUILD/loadcheck" -c 50 -d $((RELOADS * 3 + 6)) --slow-fraction 0.1 \
	--slow-ms 1500 --live --json "$run/load.json" \
	"http://127.0.0.1:$port/" >/dev/null &
load_pid=$!
sleep 2
for i in $(seq "$RELOADS"); do
	echo "== reload $i/$RELOADS: kill -HUP $baton_pid"
	kill -HUP "$baton_pid"
	gen=$((i + 1))
	for _ in $(seq 200); do
		grep -q "generation $gen: starting -> active" "$run/baton.log" &&
			break
		sleep 0.05
	done
	sleep 2
done
wait "$load_pid"
load_pid=
echo
echo "== baton log (generations):"
grep -E 'generation [0-9]+: (starting|active|draining) ->' "$run/baton.log" |
	sed 's/^/   /'
echo "== result: $(cat "$run/load.json")"
python3 - "$run/load.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"   {r['requests']} requests, {r['ok']} ok, {r['lost']} lost")
sys.exit(1 if r['lost'] else 0)
PY
