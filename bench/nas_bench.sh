#!/usr/bin/env bash
# The NAS on synthetic meter digits, twice side by side: with the hyperparameters the system
# answers for this context (a fresh coordinator serving its warm start, asked with `edgenasctl
# hparams ask`) and with the hand-set ones the first version of this benchmark used. Each: a
# search of BUDGET on this machine, then the held-out checks. Targets (issue): >= 99.5 % digit
# test accuracy, >= 98 % whole-reading accuracy on held-out meter images, median batch-1 CPU
# latency <= 1 ms.
# Usage: nas_bench.sh BUILD [BUDGET] [TRAIN_METERS] [HELDOUT_METERS] [WORK_DIR]
set -euo pipefail
build=${1:?usage: nas_bench.sh BUILD [BUDGET] [TRAIN_METERS] [HELDOUT_METERS] [WORK_DIR]}
budget=${2:-10m} n_train=${3:-10000} n_held=${4:-1000}
work=${5:-$(mktemp -d)}
mkdir -p "$work"
gen="$build/simulations/meter/edgenas-meter-gen"
search="$build/agent/search/edgenas-search"
[ -f "$work/train/digits/labels.csv" ] || "$gen" -o "$work/train" -n "$n_train" --seed 1 2>/dev/null
[ -f "$work/held/meters/readings.csv" ] || "$gen" -o "$work/held" -n "$n_held" --seed 424242 2>/dev/null
samples=$(($(wc -l <"$work/train/digits/labels.csv") - 1))
# T = 1 ms on this machine's CPU, 2 free nodes; the data set as the agent reports it.
cat >"$work/ctx.json" <<JSON
{"job": {"tasks": [{"task_id": "meter-ocr", "latency_req_ms": 1.0,
  "rows": [{"device": "cpu", "runtime_ms": 1.0, "energy_j": 0.01, "nodes": 1}]}]},
 "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 8192}],
            "power_w": 15, "power_modelled": true, "window_ms": 5000},
 "dataset": {"classes": 10, "image_h": 28, "image_w": 28, "channels": 1, "samples": $samples}}
JSON

# The system's answer: a new coordinator (its warm start) on loopback, no exploration.
port=$((30000 + RANDOM % 20000))
coord="$build/coordinator/io/edgenas-coordinator"
rm -rf "$work/coord" && mkdir -p "$work/coord"
"$coord" --listen "tcp://127.0.0.1:$port" --admin "tcp://127.0.0.1:$((port + 1))" \
  --db "$work/coord/c.db" --explore 0 >"$work/coord/log" 2>&1 &
coord_pid=$!
trap 'kill $coord_pid 2>/dev/null || true' EXIT
ctl() { "$build/coordinator/ctl/edgenasctl" --admin "tcp://127.0.0.1:$((port + 1))" \
  --key "$work/coord/admin.key" --server-key "$work/coord/coordinator.pub" "$@"; }
for _ in $(seq 100); do ctl --timeout 200ms status >/dev/null 2>&1 && break; sleep 0.1; done
ctl --json hparams ask "$work/ctx.json" >"$work/answer.json"
kill $coord_pid
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); h=r["hparams"]; h["seed"]=7
json.dump(h, open(sys.argv[2], "w")); print("the system answers (%s): %s" % (r["reason"], json.dumps(h)))' \
  "$work/answer.json" "$work/hp-system.json"
echo '{"layers": 6, "filters": 64, "kernel": 5, "loss": "cross_entropy", "seed": 7}' >"$work/hp-hand.json"

for which in system hand; do
  rm -rf "$work/out-$which"
  start=$(date +%s)
  "$search" run --hparams "$work/hp-$which.json" --context "$work/ctx.json" \
    --data "folder:$work/train/digits" --budget "$budget" --out "$work/out-$which" \
    --progress log 2>"$work/search-$which.log"
  end=$(date +%s)
  "$search" read-meter --json --model "$work/out-$which/best.edgenas" "$work"/held/meters/*.png \
    >"$work/read-$which.json"
  echo "== hyperparameters: $which"
  /usr/bin/python3 - "$work" "$((end - start))" "$which" <<'PY'
import csv, json, sys
work, wall, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = json.load(open(f"{work}/out-{which}/results.json"))
truth = {r["file"]: r["reading"] for r in csv.DictReader(open(f"{work}/held/meters/readings.csv"))}
reads = json.load(open(f"{work}/read-{which}.json"))
ok = sum(r["reading"] == truth[r["file"].split("/")[-1]] for r in reads)
digits = sum(a == b for r in reads for a, b in zip(r["reading"], truth[r["file"].split("/")[-1]]))
b = res["best"]
print(f"search: {res['trials']} trials ({res['strategy']}), {res['search_s']:.0f} s search + final training, "
      f"{wall} s wall clock in all; hparams {res['hparams']}")
print(f"best: {b['key']}, {b['params']} params, {b['flops']} FLOPs, final training: {b['weights']}")
print(f"digit test accuracy (test split, {res['dataset']['test']} digits): {b['test_accuracy']*100:.2f} %  (target >= 99.5 %)")
print(f"whole-reading accuracy ({len(reads)} held-out meter images): {ok/len(reads)*100:.2f} %  (target >= 98 %); "
      f"digits read right: {digits/(6*len(reads))*100:.2f} %")
print(f"median batch-1 latency: {b['cpu_latency_ms']*1000:.0f} us on {b['cpu_threads']} thread(s)  (target <= 1 ms)")
print(f"energy per inference: {b['energy_mj']:.3f} mJ ({'modelled' if b['energy_modelled'] else 'RAPL'})")
print("spec: " + json.dumps(b["spec"]))
json.dump(b["spec"], open(f"{work}/best_spec-{which}.json", "w"))
PY
done
