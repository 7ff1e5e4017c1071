#!/bin/bash
# bench/scenarios/steady.sh: the steady app (ready as soon as it runs)
# restarted 5 times under load, 2.5 s apart, by every peer: what each one
# loses, and how latency moves around a restart, when nothing goes wrong.
#
# Run alone: bench/scenarios/steady.sh, the same as BENCH_ONLY=steady bench/run
# (the features probe, this scenario, its report).  Otherwise sourced by
# bench/run, which runs it with the engine of bench/restarts.sh: this file
# only says what makes the scenario what it is (scen_params there has the
# defaults).

# Run directly: let the driver set up the run (paths, budget, features,
# cleanup, report) for this one scenario.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	BENCH_ONLY=steady exec "$(dirname "$0")/../run"
fi

# shellcheck disable=SC2034 # read by scen_params in bench/restarts.sh
steady_params()
{
	WARM_MS=2000 CYCLE_MS=2500 TAIL_MS=2500
}
