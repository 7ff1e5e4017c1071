#!/bin/bash
# bench/scenarios/hang.sh: a broken deploy: from the first restart on,
# the new build runs but never gets ready (bench/app, --hang-on-start);
# 5 restarts 2.5 s apart under load, baton's ready_timeout 2 s: does the
# old app keep serving, and is the service still up at the end?
#
# Run alone: bench/scenarios/hang.sh, the same as BENCH_ONLY=hang bench/run
# (the features probe, this scenario, its report).  Otherwise sourced by
# bench/run, which runs it with the engine of bench/restarts.sh: this file
# only says what makes the scenario what it is (scen_params there has the
# defaults).

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=hang exec "$(dirname "$0")/../run"
fi

# shellcheck disable=SC2034 # read by scen_params in bench/restarts.sh
hang_params()
{
	WARM_MS=2000 CYCLE_MS=2500 TAIL_MS=3000 MODE=hang
}
