#!/bin/bash
# bench/scenarios/keepalive.sh: the steady scenario with keep-alive clients
# (loadcheck --keepalive): connections held across a restart, closed by the
# draining app, are retried and counted apart; only a failed retry is lost.
#
# Run alone: bench/scenarios/keepalive.sh, the same as BENCH_ONLY=keepalive bench/run
# (the features probe, this scenario, its report).  Otherwise sourced by
# bench/run, which runs it with the engine of bench/restarts.sh: this file
# only says what makes the scenario what it is (scen_params there has the
# defaults).

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=keepalive exec "$(dirname "$0")/../run"
fi

# shellcheck disable=SC2034 # read by scen_params in bench/restarts.sh
keepalive_params()
{
	WARM_MS=2000 CYCLE_MS=2500 TAIL_MS=2500 KEEPALIVE=--keepalive
}
