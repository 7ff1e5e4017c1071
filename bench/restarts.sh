# bench/restarts.sh: the engine of the five restart scenarios (steady,
# slow, crash, hang, keepalive; one file each in bench/scenarios/): start
# a peer, put it under load, restart it 5 times on a schedule, and keep
# what happened in OUT/SCENARIO/PEER for report.py.  A scenario only says
# its schedule, its app and its peers (SCENARIO_params).
#
# Sourced by bench/run after bench/lib.sh (bash).
#
# Peers, all running the same app through bench/app:
#   naive      demoapp --listen, restarted as `systemctl restart` does:
#              TERM, wait for the exit, start again
#   ss         Server::Starter: start_server --signal-on-hup=TERM
#              --interval=1 --kill-old-delay=0 (its defaults, spelled out)
#   ss-tuned   the same with --interval=4, set for the 3 s slow-start app
#              (slow-start scenario only)
#   baton      HUP
#   baton-usr2 USR2 binary upgrade, upgrade_retire_old = yes; only when this
#              build has it (a PIDFILE.oldbin appears after USR2)

# --- the load ------------------------------------------------------------
# 50 connections: the loss harness proper (45 clients, a new connection per
# request, 13% of their requests are /sleep?ms=1500 and so span restarts)
# and a latency probe (5 clients, 40 requests/s each, fast requests only).
# The probe gives the latency figures: paced, so a stall shows as latency
# rather than as fewer samples, and free of the 1.5 s requests.  Together
# they send about 10% slow requests.  Both count every lost request.
H_CLIENTS=45
H_SLOW_FRACTION=0.13
SLOW_MS=1500
P_CLIENTS=5
P_RATE=40
# Restarts per case.
RESTARTS=5

# --- peers ---------------------------------------------------------------
# peer_start PEER DIR PORT APP_ARGS READY_TIMEOUT: start and wait until a
# GET answers; peer_restart PEER DIR (records the instant in DIR/events);
# peer_stop PEER DIR.  PEER_PID is the master (or the app for naive).

PEER_PID=

ss_args()
{
	case $1 in
	ss-tuned) echo "--interval=4 --kill-old-delay=0" ;;
	*) echo "--interval=1 --kill-old-delay=0" ;;
	esac
}

peer_start()
{
	local peer=$1 d=$2 port=$3 args=$4 rt=$5 extra=
	PEER_PID=
	case $peer in
	naive)
		# shellcheck disable=SC2086 # APP_ARGS: options, one word each
		"$APP" --listen "127.0.0.1:$port" $args >>"$d/peer.log" 2>&1 &
		PEER_PID=$!
		command_once naive "bench/app --listen 127.0.0.1:$port $args" \
		    "# restart: kill -TERM; wait; start again"
		;;
	ss | ss-tuned)
		# shellcheck disable=SC2046,SC2086 # options, one word each
		start_server --port="127.0.0.1:$port" --backlog=1024 \
			--signal-on-hup=TERM --signal-on-term=TERM $(ss_args "$peer") \
			-- "$APP" $args >>"$d/peer.log" 2>&1 &
		PEER_PID=$!
		command_once "$peer" "start_server --port=127.0.0.1:$port" \
		    "--backlog=1024 --signal-on-hup=TERM --signal-on-term=TERM" \
		    "$(ss_args "$peer") -- bench/app${args:+ $args}  # restart: kill -HUP"
		;;
	baton | baton-usr2)
		[ "$peer" = baton-usr2 ] && extra="upgrade_retire_old = yes"
		baton_conf "$d/baton.ini" "$d" "$port" "$APP${args:+ $args}" "$rt" \
			"$extra"
		"$BATON" -c "$d/baton.ini" >>"$d/peer.log" 2>&1 &
		PEER_PID=$!
		if [ "$peer" = baton ]; then
			command_once baton "baton -c baton.ini  # restart: kill -HUP;" \
			    "ini: command = bench/app${args:+ $args}, workers = 1," \
			    "ready = notify, ready_timeout = $rt, stop_timeout = 10s," \
			    "backlog = 1024"
		else
			command_once baton-usr2 "baton -c baton.ini  # restart:" \
			    "kill -USR2 \$(cat PIDFILE); upgrade_retire_old = yes"
		fi
		;;
	esac
	track "$PEER_PID"
	wait_http "http://127.0.0.1:$port/" 20000
}

event()
{
	echo "$2 $(now_us)" >>"$1/events"
}

peer_restart()
{
	local peer=$1 d=$2 port=$3 args=$4 m i
	case $peer in
	naive)
		event "$d" restart
		stop_tree "$PEER_PID" TERM 10000
		# shellcheck disable=SC2086 # APP_ARGS: options, one word each
		"$APP" --listen "127.0.0.1:$port" $args >>"$d/peer.log" 2>&1 &
		PEER_PID=$!
		track "$PEER_PID"
		;;
	ss | ss-tuned | baton)
		event "$d" restart
		ours "$PEER_PID" && kill -HUP "$PEER_PID"
		;;
	baton-usr2)
		# The previous upgrade must be over: its old master gone.
		for i in $(seq 1 250); do
			[ -e "$d/baton.pid.oldbin" ] || break
			sleep 0.02
		done
		if [ -e "$d/baton.pid.oldbin" ]; then
			m=$(cat "$d/baton.pid.oldbin" 2>/dev/null)
			note "$d: old master $m still there 5 s after its" \
			    "upgrade: QUIT"
			echo "manual-quit $m" >>"$d/events"
			[ -n "$m" ] && ours "$m" && kill -QUIT "$m"
			for i in $(seq 1 250); do
				[ -e "$d/baton.pid.oldbin" ] || break
				sleep 0.02
			done
		fi
		m=$(cat "$d/baton.pid" 2>/dev/null)
		event "$d" restart
		if [ -n "$m" ] && ours "$m"; then
			echo "$m" >>"$d/masters"
			kill -USR2 "$m"
		fi
		;;
	esac
}

peer_stop()
{
	local peer=$1 d=$2 m
	local -a ms=()
	case $peer in
	naive) stop_tree "$PEER_PID" TERM 10000 ;;
	ss | ss-tuned) stop_tree "$PEER_PID" TERM 15000 ;;
	baton) stop_tree "$PEER_PID" QUIT 15000 ;;
	baton-usr2)
		for m in "$PEER_PID" $(cat "$d/masters" "$d/baton.pid" \
		    "$d/baton.pid.oldbin" 2>/dev/null | sort -u); do
			ours "$m" && ms+=("$m")
		done
		for m in "${ms[@]}"; do
			kill -QUIT "$m" 2>/dev/null
		done
		for m in "${ms[@]}"; do
			wait_gone "$m" 15000 || stop_tree "$m" KILL 1000
		done
		;;
	esac
	PEER_PID=
}

# --- the scenarios -------------------------------------------------------
# scen_params SCEN: WARM_MS CYCLE_MS TAIL_MS APP_ARGS READY_TIMEOUT MODE
# KEEPALIVE PEERS: the defaults below, then what SCEN_params (in
# bench/scenarios/SCEN.sh) sets.  Restart i (1..5) is at WARM + (i-1)*CYCLE
# after the load starts; the load ends TAIL after the last one.

scen_params()
{
	PEERS="naive ss baton baton-usr2"
	APP_ARGS=""
	READY_TIMEOUT=2s
	MODE=""
	KEEPALIVE=""
	"${1}_params"
	DUR_MS=$((WARM_MS + (RESTARTS - 1) * CYCLE_MS + TAIL_MS))
}

# run_case SCEN PEER: PEER through SCEN once, into OUT/SCEN/PEER: start,
# load, the restarts on schedule, whether it is still up, stop.
run_case()
{
	local scen=$1 peer=$2 d=$OUT/$1/$2 port url t0 lh lp i need broken
	scen_params "$scen"
	# The case itself, plus starting (3 s app) and stopping (drains).
	need=$((DUR_MS + REQ_TIMEOUT + 10000))
	if [ "$(budget_left_ms)" -lt "$need" ]; then
		note "$scen/$peer: skipped, not enough of the time budget left"
		echo "$scen $peer time budget" >>"$OUT/skipped.txt"
		return 0
	fi
	mkdir -p "$d"
	echo ok >"$d/mode"
	export BENCH_MODE_FILE=$d/mode
	port=$(pick_port) || return 0
	url=http://127.0.0.1:$port/
	note "$scen/$peer: port $port, $((DUR_MS / 1000)) s of load," \
	    "$RESTARTS restarts"
	t0=$(now_ms)
	if ! peer_start "$peer" "$d" "$port" "$APP_ARGS" "$READY_TIMEOUT"; then
		echo "did not start: see peer.log" >"$d/error"
		note "$scen/$peer: did not start (see $d/peer.log)"
		peer_stop "$peer" "$d"
		return 0
	fi
	{
		echo "start_ms $(($(now_ms) - t0))"
		echo "schedule $WARM_MS $CYCLE_MS $TAIL_MS"
		echo "loadavg $(cut -d' ' -f1 /proc/loadavg)"
	} >>"$d/events"
	t0=$(now_ms)
	event "$d" start-harness
	"$LOADCHECK" -c "$H_CLIENTS" -d "$DUR_MS"e-3 \
		--slow-fraction "$H_SLOW_FRACTION" --slow-ms "$SLOW_MS" \
		--timeout "$REQ_TIMEOUT" ${KEEPALIVE:+"$KEEPALIVE"} --json "$d/harness.json" \
		--timeline "$d/harness.csv" "$url" >/dev/null 2>"$d/harness.err" &
	lh=$!
	track "$lh"
	event "$d" start-probe
	"$LOADCHECK" -c "$P_CLIENTS" --rate "$P_RATE" -d "$DUR_MS"e-3 \
		--timeout "$REQ_TIMEOUT" ${KEEPALIVE:+"$KEEPALIVE"} --json "$d/probe.json" \
		--timeline "$d/probe.csv" "$url" >/dev/null 2>"$d/probe.err" &
	lp=$!
	track "$lp"
	command_once "harness${KEEPALIVE:+-ka}" "loadcheck -c $H_CLIENTS" \
	    "-d SECONDS --slow-fraction $H_SLOW_FRACTION" \
	    "--slow-ms $SLOW_MS --timeout $REQ_TIMEOUT${KEEPALIVE:+ $KEEPALIVE}" \
	    "--json F --timeline F $url"
	command_once "probe${KEEPALIVE:+-ka}" "loadcheck -c $P_CLIENTS" \
	    "--rate $P_RATE -d SECONDS --timeout $REQ_TIMEOUT${KEEPALIVE:+ $KEEPALIVE}" \
	    "--json F --timeline F $url"
	broken=
	if [ -n "$MODE" ]; then
		broken=" (the new build: --$MODE-on-start from the first restart on)"
	fi
	command_once "$scen" "$(printf '%d.%d' $((DUR_MS / 1000)) \
	    $((DUR_MS % 1000 / 100))) s of load; restarts at $(
	    for i in $(seq 1 "$RESTARTS"); do
		printf '%g ' "$((WARM_MS + (i - 1) * CYCLE_MS))e-3"
	    done)s; app: bench/app${APP_ARGS:+ $APP_ARGS}$broken;" \
	    "baton ready_timeout = $READY_TIMEOUT"
	for i in $(seq 1 "$RESTARTS"); do
		sleep_until_ms $((t0 + WARM_MS + (i - 1) * CYCLE_MS))
		if [ "$i" = 1 ] && [ -n "$MODE" ]; then
			echo "$MODE" >"$d/mode"
		fi
		peer_restart "$peer" "$d" "$port" "$APP_ARGS"
	done
	sleep_until_ms $((t0 + DUR_MS))
	wait_gone "$lh" $((REQ_TIMEOUT + 8000)) || stop_tree "$lh" INT 3000
	wait_gone "$lp" $((REQ_TIMEOUT + 8000)) || stop_tree "$lp" INT 3000
	event "$d" end
	# The peer's log up to here is the story of the run; its shutdown
	# follows.
	echo "=== bench: load ended" >>"$d/peer.log"
	# Is the service still up?  One GET, 2 s to answer.
	if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" \
	    = 200 ]; then
		echo yes >"$d/up"
	else
		echo no >"$d/up"
	fi
	[ -n "$PEER_PID" ] && zombies_of "$PEER_PID" >"$d/zombies"
	t0=$(now_ms)
	peer_stop "$peer" "$d"
	echo "stop_ms $(($(now_ms) - t0))" >>"$d/events"
	unset BENCH_MODE_FILE
}

# run_scenario SCEN: run_case for each of SCEN's peers this machine has.
run_scenario()
{
	local scen=$1 peer
	scen_params "$scen"
	for peer in $PEERS; do
		if [ "$peer" = baton-usr2 ] && [ "$USR2" != yes ]; then
			continue
		fi
		case $peer in
		ss | ss-tuned)
			if ! have start_server; then
				mkdir -p "$OUT/$scen/$peer"
				echo "start_server not installed" \
					>"$OUT/$scen/$peer/error"
				continue
			fi
			;;
		esac
		run_case "$scen" "$peer"
	done
}
