#!/bin/bash
# bench/scenarios/throughput.sh: requests/s and CPU of the app alone, under
# baton, under start_server (wrk, 4 interleaved rounds), and then the idle
# footprint of each master (baton, start_server, nginx): RSS, wakeups and
# system calls over 10 s.
#
# Run alone: bench/scenarios/throughput.sh, the same as
# BENCH_ONLY=throughput bench/run.  In a full run bench/run calls
# fig_servers_start, fig_throughput and fig_footprint_sample, runs the
# overhead and intercept scenarios while the footprint is sampled in the
# background (an idle master's counts do not depend on what else the
# machine runs, and that saves some 20 s of the time budget), then
# fig_servers_stop.

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=throughput exec "$(dirname "$0")/../run"
fi

# nginx_conf DIR PORT: nginx's smallest master + one worker answering 200,
# every path under DIR.
nginx_conf()
{
	cat >"$1/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/nginx.err;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	uwsgi_temp_path $1/tmp;
	scgi_temp_path $1/tmp;
	server { listen 127.0.0.1:$2; return 200 "ok\n"; }
}
EOF
	mkdir -p "$1/tmp"
}

# proc_counters PID: "runs ctxt": timeslices run (schedstat, all threads)
# and context switches (voluntary + involuntary) so far.
proc_counters()
{
	local t runs=0 ctxt=0 c k v
	for t in /proc/"$1"/task/*; do
		read -r _ _ c 2>/dev/null <"$t/schedstat" && runs=$((runs + c))
		while read -r k v; do
			case $k in
			voluntary_ctxt_switches: | nonvoluntary_ctxt_switches:)
				ctxt=$((ctxt + v))
				;;
			esac
		done 2>/dev/null <"$t/status"
	done
	echo "$runs $ctxt"
}

# The servers of the throughput and footprint figures: the app alone
# (twice: the second instance is the control that shows the noise of the
# machine), under baton, under start_server, and nginx for its master.
declare -A FIG_PORT=() FIG_PID=()
fig_servers_start()
{
	local d=$OUT/throughput t
	mkdir -p "$d/baton" "$d/nginx"
	echo ok >"$d/mode"
	export BENCH_MODE_FILE=$d/mode
	for t in alone alone2 baton ss nginx; do
		FIG_PORT[$t]=$(pick_port) || return 1
	done
	"$APP" --listen "127.0.0.1:${FIG_PORT[alone]}" >>"$d/alone.log" 2>&1 &
	FIG_PID[alone]=$!
	"$APP" --listen "127.0.0.1:${FIG_PORT[alone2]}" >>"$d/alone.log" 2>&1 &
	FIG_PID[alone2]=$!
	baton_conf "$d/baton/baton.ini" "$d/baton" "${FIG_PORT[baton]}" "$APP" 2s
	"$BATON" -c "$d/baton/baton.ini" >>"$d/baton/peer.log" 2>&1 &
	FIG_PID[baton]=$!
	if have start_server; then
		start_server --port="127.0.0.1:${FIG_PORT[ss]}" --backlog=1024 \
			--signal-on-hup=TERM -- "$APP" >>"$d/ss.log" 2>&1 &
		FIG_PID[ss]=$!
	fi
	if have nginx; then
		nginx_conf "$d/nginx" "${FIG_PORT[nginx]}"
		nginx -p "$d/nginx" -c "$d/nginx/nginx.conf" \
			>>"$d/nginx/out.log" 2>&1 &
		FIG_PID[nginx]=$!
	fi
	for t in "${!FIG_PID[@]}"; do
		track "${FIG_PID[$t]}"
	done
	for t in "${!FIG_PID[@]}"; do
		wait_http "http://127.0.0.1:${FIG_PORT[$t]}/" 10000 ||
			note "figures: $t did not start"
	done
	unset BENCH_MODE_FILE
	command_once alone "bench/app --listen 127.0.0.1:PORT  # the app alone"
	command_once nginx "nginx -p DIR -c DIR/nginx.conf  # daemon off;" \
	    "master_process on; worker_processes 1; return 200"
}

# fig_throughput: 2 s of wrk on each server, 4 rounds, with the CPU ticks
# of the app and of its master around each, into OUT/throughput.
fig_throughput()
{
	local d=$OUT/throughput r t order app master before
	if ! have wrk; then
		echo "wrk not installed" >"$d/error"
		return 0
	fi
	# Interleaved rounds, the order rotated (a Latin square), so that
	# drift in the machine's load spreads over all the targets.
	for r in 1 2 3 4; do
		case $r in
		1) order="alone baton ss alone2" ;;
		2) order="baton ss alone2 alone" ;;
		3) order="ss alone2 alone baton" ;;
		4) order="alone2 alone baton ss" ;;
		esac
		for t in $order; do
			[ -n "${FIG_PID[$t]:-}" ] || continue
			app=${FIG_PID[$t]}
			master=
			case $t in
			baton | ss)
				master=$app
				app=$(children_of "$master" | head -n 1)
				;;
			esac
			before="$(cpu_ticks "$app") $(cpu_ticks "$master")"
			wrk -t 2 -c 50 -d 2s --timeout 5s \
				"http://127.0.0.1:${FIG_PORT[$t]}/" \
				>"$d/wrk-$t-$r.txt" 2>&1
			echo "$before $(cpu_ticks "$app") $(cpu_ticks "$master")" \
				>"$d/cpu-$t-$r.txt"
		done
	done
	command_once wrk "wrk -t 2 -c 50 -d 2s --timeout 5s" \
	    "http://127.0.0.1:PORT/  # 4 rounds, order rotated"
}

# fig_footprint_sample: in the background, 10 s of /proc counters of each
# idle master, then 10 s of strace -c on each.  An idle master's counts do
# not depend on what else the machine runs, so this goes on while the
# overhead figure runs in the foreground.
FP_SAMPLER=
fig_footprint_sample()
{
	local d=$OUT/throughput
	(
		local t sp
		local -a st=()
		# Let the keep-alive connections of wrk go.
		sleep 2
		for t in baton ss nginx; do
			sp=${FIG_PID[$t]:-}
			if [ -z "$sp" ] || ! alive "$sp"; then
				continue
			fi
			echo "rss_kb $(rss_kb "$sp")" >"$d/fp-$t.txt"
			echo "before $(proc_counters "$sp") $(now_us)" \
				>>"$d/fp-$t.txt"
		done
		sleep 10
		for t in baton ss nginx; do
			[ -f "$d/fp-$t.txt" ] || continue
			echo "after $(proc_counters "${FIG_PID[$t]}") $(now_us)" \
				>>"$d/fp-$t.txt"
		done
		have strace || exit 0
		for t in baton ss nginx; do
			[ -f "$d/fp-$t.txt" ] || continue
			timeout -s INT 10 strace -c -q -p "${FIG_PID[$t]}" \
				-o "$d/strace-$t.txt" 2>/dev/null &
			st+=($!)
		done
		for sp in "${st[@]}"; do
			wait_gone "$sp" 15000 || kill -KILL "$sp" 2>/dev/null
		done
	) &
	FP_SAMPLER=$!
	track "$FP_SAMPLER"
	command_once strace "timeout -s INT 10 strace -c -q -p MASTER_PID"
}

# fig_servers_stop: wait for the footprint sampler, then stop the servers.
fig_servers_stop()
{
	[ -n "$FP_SAMPLER" ] && { wait_gone "$FP_SAMPLER" 30000 ||
		stop_tree "$FP_SAMPLER" TERM 2000; }
	[ -n "${FIG_PID[nginx]:-}" ] && stop_tree "${FIG_PID[nginx]}" QUIT 10000
	[ -n "${FIG_PID[ss]:-}" ] && stop_tree "${FIG_PID[ss]}" TERM 10000
	[ -n "${FIG_PID[baton]:-}" ] && stop_tree "${FIG_PID[baton]}" QUIT 10000
	[ -n "${FIG_PID[alone]:-}" ] && stop_tree "${FIG_PID[alone]}" TERM 10000
	[ -n "${FIG_PID[alone2]:-}" ] &&
		stop_tree "${FIG_PID[alone2]}" TERM 10000
	return 0
}
