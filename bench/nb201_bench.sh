#!/usr/bin/env bash
# The NAS-Bench-201 world (docs/BENCHMARKS.md, "The NAS-Bench-201 world"): the evaluation on
# several seeds, one after the other, then the profiles' latency model against the measured
# devices. Usage:
#   bench/nb201_bench.sh BUILD_DIR TABLE "SEEDS" WORK_DIR [extra evaluate flags...]
# e.g. bench/nb201_bench.sh build/release ../shared/data/nb201/nb201_latency.csv "1 2 3" /tmp/nb201
# About 80 s per seed on 2 cores.
set -euo pipefail
build=${1:?usage: nb201_bench.sh BUILD_DIR TABLE \"SEEDS\" WORK_DIR [flags]}
table=${2:?table}
seeds=${3:?seeds}
work=${4:?work dir}
shift 4
sim="$build/simulations/edgenas-sim"
[ -x "$sim" ] || { echo "nb201_bench.sh: no $sim (build first)" >&2; exit 2; }
[ -r "$table" ] || { echo "nb201_bench.sh: cannot read $table" >&2; exit 2; }
mkdir -p "$work"
for s in $seeds; do
  echo "### seed $s"
  start=$(date +%s)
  "$sim" evaluate --world "nb201:$table" --dataset cifar10 --out "$work/eval-s$s" --seed "$s" "$@" \
    2>"$work/eval-s$s.log"
  echo "($(( $(date +%s) - start )) s; report: $work/eval-s$s/report.md)"
done
echo "### the profiles' latency model against the measured devices"
"$sim" calibrate --table "$table" --json "$work/calibration.json"
