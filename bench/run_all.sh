#!/usr/bin/env bash
# Produces the numbers in docs/BENCHMARKS.md, one section after the other (never two at once:
# the machine has two cores). Usage:
#   bench/run_all.sh BUILD_DIR [SECTION...]     sections: fleet agent nas torch strategy
#                                               predictor sim nb201 arm64 (default: all, in that
#                                               order)
# WORK (env) keeps the data and outputs (default: a fresh temporary directory).
# About 90 minutes for everything on the 2-core machine.
set -euo pipefail
build=${1:-build/release}
shift || true
sections=${*:-fleet agent nas torch strategy predictor sim nb201 arm64}
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), work $work"
has() { [[ " $sections " == *" $1 "* ]]; }

if has fleet; then
  for n in 1000 10000; do
    echo; echo "## coordinator, $n agents, heartbeat 5 s, 60 s measured (CURVE, a key pair per agent)"
    bash "$here/fleet_bench.sh" "$build" "$n" 60 5s
  done
fi
if has agent; then
  echo; echo "## agent idle footprint, 60 s, heartbeat 5 s"
  bash "$here/agent_footprint.sh" "$build" 60 5s | sed -n 1,3p
fi
if has nas; then
  echo; echo "## NAS on synthetic meter digits: 10-minute searches (the system's answer, then hand-set), 10 000 training meters, 1 000 held out"
  bash "$here/nas_bench.sh" "$build" 10m 10000 1000 "$work/nas"
fi
if has torch; then
  echo; echo "## libtorch against PyTorch, the NAS-found network, 5 rounds of 2 epochs, 1 thread"
  spec="$work/nas/best_spec-system.json"
  [ -f "$spec" ] || { echo "run the nas section first (it writes $spec)" >&2; exit 1; }
  bash "$here/torch_vs_pytorch.sh" "$build" "folder:$work/nas/train/digits" "$(cat "$spec")" 5 2 1
fi
if has strategy; then
  echo; echo "## search strategies, 3 minutes each, seeds 1 2"
  bash "$here/strategy_bench.sh" "$build" 3m "1 2" "$work/strategy"
fi
if has predictor; then
  echo; echo "## predictor serving latency"
  "$build/bench/edgenas-predictor-bench"
fi
if has sim; then
  sim="$build/simulations/edgenas-sim"
  echo; echo "## edgenas-sim run: 10 000 simulated agents (atlas/jetson/rpi mix), 120 s"
  "$sim" run --agents 10000 --duration 120s --out "$work/sim-run" --seed 1 2>"$work/sim-run.log"
  echo; echo "## predictor targets compared on the simulated fleet's traces (knn vs outcome)"
  "$build/coordinator/predictor/edgenas-predictor" train --db "$work/sim-run/coordinator.db" \
    --out "$work/targets" --version 1 --budget 2m --compare 2>"$work/targets.log"
  cat "$work/targets/metrics.json"; echo
  echo; echo "## NAS surrogate quality (held-out real trainings)"
  "$sim" surrogate
  echo; echo "## edgenas-sim evaluate: predictor vs default space vs oracle (defaults, seed 1)"
  "$sim" evaluate --out "$work/eval" --seed 1 2>"$work/eval.log"
  echo "report: $work/eval/report.md"
fi
if has nb201; then
  echo; echo "## the NAS-Bench-201 world (measured latencies): seeds 1 2 3, and the latency model's calibration"
  table=${NB201_TABLE:-$here/../../shared/data/nb201/nb201_latency.csv}
  bash "$here/nb201_bench.sh" "$build" "$table" "1 2 3" "$work/nb201"
fi
if has arm64; then
  echo; echo "## the arm64 build: cross-build time, package, idle agent under qemu, ONNX export and OpenCV"
  bash "$here/arm64_bench.sh" "$build" "$(dirname "$build")/arm64"
fi
