#!/bin/bash
# bench/scenarios/slow.sh: an app that needs 3 s before it is ready,
# restarted 5 times under load, 5 s apart: a supervisor that switches to
# the new app before it is ready shows it here, as lost requests or a
# stall.  Its data also draws bench/restarts.png.
#
# Run alone: bench/scenarios/slow.sh, the same as BENCH_ONLY=slow bench/run
# (the features probe, this scenario, its report).  Otherwise sourced by
# bench/run, which runs it with the engine of bench/restarts.sh: this file
# only says what makes the scenario what it is (scen_params there has the
# defaults).

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=slow exec "$(dirname "$0")/../run"
fi

# shellcheck disable=SC2034 # read by scen_params in bench/restarts.sh
slow_params()
{
	WARM_MS=3000 CYCLE_MS=5000 TAIL_MS=4500
	APP_ARGS="--ready-delay 3000"
	READY_TIMEOUT=10s
	# Server::Starter again, its --interval set to fit the 3 s start.
	PEERS="naive ss ss-tuned baton baton-usr2"
}
