# bench/restarts.gp: latency and lost requests over time around restarts,
# one panel per peer, on the slow-start scenario of bench/run.
#
#   gnuplot -e "dir='bench/out/plot'; out='bench/restarts.png'" bench/restarts.gp
#
# bench/report.py writes DIR/vars.gp (peers, npeers, title1..N) and for
# each peer: PEER.ok (the probe's answered requests: start s, latency ms),
# PEER.harness (the harness's, the same), PEER.lost (start s, class) and
# PEER.restarts (s).

load dir.'/vars.gp'

set terminal pngcairo size 1000, (190 * npeers + 90) font ',9'
set output out

set multiplot layout npeers, 1 \
    title "Slow-start app (3 s before ready) restarted 5 times under load: latency of each request, and lost requests" \
    margins 0.07, 0.98, 0.07, 0.91 spacing 0, 0.045

set logscale y
set yrange [0.1:20000]
set ytics ('0.1 ms' 0.1, '1 ms' 1, '10 ms' 10, '100 ms' 100, '1 s' 1000, '10 s' 10000)
set xrange [0:*]
set autoscale xfixmax
set grid ytics lc rgb '#dddddd'
set tics font ',8'
set title font ',10' offset 0, -0.7

do for [i = 1:npeers] {
	p = word(peers, i)
	set title value('title'.i)
	if (i == 1) {
		set key at screen 0.5, 0.955 center top horizontal samplen 1 width 2 font ',9'
	} else {
		unset key
	}
	if (i == npeers) {
		set xlabel 'seconds since the load started (dashed lines: restarts)'
		set format x '%g'
	} else {
		unset xlabel
		set format x ''
	}
	plot dir.'/'.p.'.restarts' using 1:(0.1):(0):(19999.9) with vectors nohead dt 2 lc rgb '#888888' notitle, \
	     dir.'/'.p.'.harness' using 1:2 with points pt 7 ps 0.2 lc rgb '#b8b8b8' title 'harness request', \
	     dir.'/'.p.'.ok' using 1:2 with points pt 7 ps 0.3 lc rgb '#1f5fbf' title 'fast request (probe)', \
	     dir.'/'.p.'.lost' using 1:(12000) with points pt 2 ps 0.6 lc rgb '#d62728' title 'lost request (at its start)'
}
unset multiplot
