#!/usr/bin/env bash
# libtorch (edgenas-train-bench) against PyTorch in Python (bench/train_bench.py, Debian's
# python3-torch) on the same network, data, batch, optimiser, epochs and thread count,
# alternating in one run. Prints both sides' medians and the ratios docs/BENCHMARKS.md records.
# Usage: torch_vs_pytorch.sh BUILD DATA_SPEC SPEC_JSON [ROUNDS] [EPOCHS] [THREADS]
set -euo pipefail
build=${1:?usage: torch_vs_pytorch.sh BUILD DATA_SPEC SPEC_JSON [ROUNDS] [EPOCHS] [THREADS]}
data=$2 spec=$3 rounds=${4:-3} epochs=${5:-2} threads=${6:-1}
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 -c 'import torch' 2>/dev/null || {
  echo "python3-torch is missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpp=(env OPENBLAS_NUM_THREADS=1 "$build/bench/edgenas-train-bench" --data "$data" --spec "$spec"
     --epochs "$epochs" --threads "$threads")
py=(env OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/train_bench.py" --idx "$work/d" --spec "$spec"
    --epochs "$epochs" --threads "$threads")
"${cpp[@]}" --dump-idx "$work/d" >/dev/null  # writes the same split as IDX for the Python side
for r in $(seq "$rounds"); do
  echo "libtorch $("${cpp[@]}")" | tee -a "$work/runs"
  echo "pytorch $("${py[@]}")" | tee -a "$work/runs"
done
/usr/bin/python3 - "$work/runs" <<'PY'
import json, statistics, sys
runs = {"libtorch": [], "pytorch": []}
for line in open(sys.argv[1]):
    side, js = line.split(" ", 1)
    runs[side].append(json.loads(js))
med = {s: {k: statistics.median(r[k] for r in rs) for k in ("images_per_s", "latency_ms", "validation_accuracy")}
       for s, rs in runs.items()}
for s in ("libtorch", "pytorch"):
    m = med[s]
    print(f"{s:9s} median of {len(runs[s])}: {m['images_per_s']:.0f} images/s, batch-1 latency "
          f"{m['latency_ms']*1000:.1f} us, validation accuracy {m['validation_accuracy']:.4f}")
print(f"training images/s ratio (libtorch/pytorch): {med['libtorch']['images_per_s']/med['pytorch']['images_per_s']:.2f}  (target >= 1.0)")
print(f"batch-1 latency ratio (libtorch/pytorch):   {med['libtorch']['latency_ms']/med['pytorch']['latency_ms']:.2f}  (target <= 0.5)")
if "latency_eager_ms" in runs["libtorch"][0]:
    e = statistics.median(r["latency_eager_ms"] for r in runs["libtorch"])
    print(f"  libtorch eager module (no compile step): {e*1000:.1f} us, ratio {e/med['pytorch']['latency_ms']:.2f}")
PY
