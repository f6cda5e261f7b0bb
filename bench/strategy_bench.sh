#!/usr/bin/env bash
# Search efficiency with the real evaluator: best reward reached against wall-clock time and
# against trials, for random search, regularized evolution and successive halving, each given
# the same budget, on the same data, bounds and T, for several seeds. Writes a table and
# WORK/strategy_efficiency.svg.
# Usage: strategy_bench.sh BUILD [BUDGET] [SEEDS] [WORK_DIR]
set -euo pipefail
build=${1:?usage: strategy_bench.sh BUILD [BUDGET] [SEEDS] [WORK_DIR]}
budget=${2:-3m} seeds=${3:-"1 2 3"}
work=${4:-$(mktemp -d)}
mkdir -p "$work"
search="$build/agent/search/edgenas-search"
[ -f "$work/data/digits/labels.csv" ] ||
  "$build/simulations/meter/edgenas-meter-gen" -o "$work/data" -n 3000 --seed 5 2>/dev/null
cat >"$work/ctx.json" <<'JSON'
{"job": {"tasks": [{"task_id": "meter-ocr", "latency_req_ms": 0.1,
  "rows": [{"device": "cpu", "runtime_ms": 1.0, "energy_j": 0.01, "nodes": 1}]}]},
 "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 8192}],
            "power_w": 15, "power_modelled": true, "window_ms": 5000}}
JSON
for seed in $seeds; do
  echo "{\"layers\": 6, \"filters\": 64, \"kernel\": 5, \"loss\": \"cross_entropy\", \"seed\": $seed}" >"$work/hp$seed.json"
  for s in random evolution sh; do
    [ -f "$work/$s-$seed/results.json" ] && continue
    "$search" run --hparams "$work/hp$seed.json" --context "$work/ctx.json" --data "folder:$work/data/digits" \
      --strategy "$s" --budget "$budget" --final-share 0 --trial-images 4000 --out "$work/$s-$seed" \
      --progress log 2>"$work/$s-$seed.log" >/dev/null
  done
done
/usr/bin/python3 - "$work" "$seeds" <<'PY'
import json, statistics, sys
work, seeds = sys.argv[1], sys.argv[2].split()
strategies = ["random", "evolution", "sh"]
runs = {s: [json.load(open(f"{work}/{s}-{k}/results.json")) for k in seeds] for s in strategies}
budget = max(r["search_s"] for rs in runs.values() for r in rs)
def best_at(r, t=None, n=None):
    best = 0.0
    for i, tr in enumerate(r["all_trials"]):
        if (t is not None and tr["finished_s"] > t) or (n is not None and i >= n):
            break
        if tr["ok"]:
            best = max(best, tr["reward"])
    return best
times = [budget * f for f in (0.25, 0.5, 0.75, 1.0)]
print(f"T = {runs['random'][0]['latency_req_ms']} ms; reward = accuracy, x T/latency above T (MnasNet hard constraint);")
print(f"median over seeds {' '.join(seeds)} of the best reward reached (any fidelity)")
print("| strategy | trials (median) | " + " | ".join(f"at {t:.0f} s" for t in times) + " | after 10 trials | after 30 trials |")
print("|---|---:|" + "---:|" * (len(times) + 2))
for s in strategies:
    rs = runs[s]
    cells = [f"{statistics.median(best_at(r, t=t) for r in rs):.4f}" for t in times]
    cells += [f"{statistics.median(best_at(r, n=n) for r in rs):.4f}" for n in (10, 30)]
    print(f"| {s} | {statistics.median(r['trials'] for r in rs):.0f} | " + " | ".join(cells) + " |")
# SVG: median best reward against time, one line per strategy.
W, H, L, B = 640, 400, 70, 50
lo = min(best_at(r, t=budget * 0.1) for rs in runs.values() for r in rs)
lo = max(0.0, lo - 0.02)
px = lambda t: L + (W - L - 20) * t / budget
py = lambda v: H - B - (H - B - 20) * (v - lo) / max(1e-9, 1 - lo)
svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='12'>",
       "<rect width='100%' height='100%' fill='white'/>",
       f"<line x1='{L}' y1='{H-B}' x2='{W-10}' y2='{H-B}' stroke='black'/><line x1='{L}' y1='20' x2='{L}' y2='{H-B}' stroke='black'/>",
       f"<text x='{W/2}' y='{H-12}' text-anchor='middle'>search time (s)</text>",
       f"<text x='16' y='{H/2}' transform='rotate(-90 16 {H/2})' text-anchor='middle'>best reward (median of seeds)</text>"]
for k in range(6):
    v = lo + (1 - lo) * k / 5
    svg.append(f"<text x='{L-6}' y='{py(v)+4}' text-anchor='end'>{v:.3f}</text>")
    svg.append(f"<text x='{px(budget*k/5)}' y='{H-B+16}' text-anchor='middle'>{budget*k/5:.0f}</text>")
colours = {"random": "#888", "evolution": "#c33", "sh": "#36c"}
for i, s in enumerate(strategies):
    pts = [(t, statistics.median(best_at(r, t=t) for r in runs[s])) for t in [budget * j / 60 for j in range(1, 61)]]
    svg.append(f"<polyline fill='none' stroke='{colours[s]}' stroke-width='2' points='" +
               " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in pts) + "'/>")
    svg.append(f"<text x='{W-150}' y='{H-B-20-16*i}' fill='{colours[s]}'>{s}</text>")
svg.append("</svg>")
open(f"{work}/strategy_efficiency.svg", "w").write("\n".join(svg))
print(f"plot: {work}/strategy_efficiency.svg")
PY
