#!/bin/bash
# bench/scenarios/crash.sh: a broken deploy: from the first restart on,
# the new build exits at once (bench/app, --crash-on-start); 5 restarts
# 1.5 s apart under load: does the old app keep serving, and is the service
# still up at the end?
#
# Run alone: bench/scenarios/crash.sh, the same as BENCH_ONLY=crash bench/run
# (the features probe, this scenario, its report).  Otherwise sourced by
# bench/run, which runs it with the engine of bench/restarts.sh: this file
# only says what makes the scenario what it is (scen_params there has the
# defaults).

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=crash exec "$(dirname "$0")/../run"
fi

# shellcheck disable=SC2034 # read by scen_params in bench/restarts.sh
crash_params()
{
	WARM_MS=2000 CYCLE_MS=1500 TAIL_MS=2000 MODE=crash
}
