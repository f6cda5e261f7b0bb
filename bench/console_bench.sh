#!/usr/bin/env bash
# The web console at fleet scale, side by side in one run (docs/BENCHMARKS.md, "Web console"):
# the coordinator under AGENTS simulated agents (bench/fleet_bench.sh) without consoles; again
# with the API calls of CONSOLES fleet pages made without a browser (bench/console_load.mjs:
# what serving them costs the coordinator); and again with CONSOLES fleet pages open in
# headless chromium on the same cores (bench/console_bench.mjs): the HparamRequest latency of
# all three, the pages' first render and the API latency the browsers saw.
# Usage: bench/console_bench.sh BUILD_DIR [AGENTS] [CONSOLES] [DURATION_S]
set -euo pipefail
build=${1:?usage: console_bench.sh BUILD_DIR [AGENTS] [CONSOLES] [DURATION_S]}
agents=${2:-10000}
consoles=${3:-5}
duration=${4:-60}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
# A long warm-up for every run: the consoles open (and their first render is timed) once the
# fleet has registered, and are open, idle but polling, before the measured window starts.
export FLEET_BENCH_WARMUP=${FLEET_BENCH_WARMUP:-75}
echo "== without consoles"
bash "$here/fleet_bench.sh" "$build" "$agents" "$duration"
echo
echo "== with the API calls of $consoles consoles, no browser"
EDGENAS_CTL="$build/coordinator/ctl/edgenasctl" \
FLEET_BENCH_SIDE="node '$here/console_load.mjs' $agents $consoles" \
  bash "$here/fleet_bench.sh" "$build" "$agents" "$duration"
echo
echo "== with $consoles consoles open"
EDGENAS_CTL="$build/coordinator/ctl/edgenasctl" \
FLEET_BENCH_SIDE="node '$here/console_bench.mjs' $agents $consoles $duration" \
  bash "$here/fleet_bench.sh" "$build" "$agents" "$duration"
