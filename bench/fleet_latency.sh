#!/usr/bin/env bash
# The fleet's latency models in `edgenas-sim run` (docs/BENCHMARKS.md, "In the simulated
# fleet"): for each scenario and seed, a fleet in which a share of the boxes can measure their
# accelerators (the others predict them with the fleet's models once one serves, else model
# them from FLOPs), beside the same fleet with no box measuring one (all modelled). Prints, per
# run, the searches and the share that met T by how the search saw its target's latency, and
# the latency models serving at the end (held-out error against the FLOPs line's).
# Usage: bench/fleet_latency.sh BUILD_DIR OUT_DIR [AGENTS] [DURATION_S] [SEEDS] [SCENARIOS]
set -euo pipefail
build=${1:?usage: fleet_latency.sh BUILD_DIR OUT_DIR [AGENTS] [DURATION_S] [SEEDS] [SCENARIOS]}
out=${2:?usage: fleet_latency.sh BUILD_DIR OUT_DIR [AGENTS] [DURATION_S] [SEEDS] [SCENARIOS]}
agents=${3:-150}
duration=${4:-120}
seeds=${5:-"1 2 3"}
scenarios=${6:-"meter-day busy-evening"}
here=$(cd "$(dirname "$0")/.." && pwd)
sim="$build/simulations/edgenas-sim"
mkdir -p "$out"
for scenario in $scenarios; do
  for seed in $seeds; do
    for share in 0.25 0; do
      dir="$out/$scenario-seed$seed-share$share"
      rm -rf "$dir"
      "$sim" run --agents "$agents" --duration "${duration}s" --seed "$seed" \
        --scenario "$here/simulations/scenarios/$scenario.toml" --measure-share "$share" \
        --out "$dir" >"$dir.log" 2>&1
      /usr/bin/env python3 - "$dir/summary.json" "$scenario" "$seed" "$share" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
seen = s["latency_seen"]
cells = []
for k in ("accelerator measured", "accelerator predicted", "accelerator modelled"):
    if k in seen:
        cells.append("%s %d searches %.1f %% met T" % (k.split()[1], seen[k]["searches"], 100 * seen[k]["met_T"]))
models = s.get("latency_models")
served = "none"
if isinstance(models, dict):
    served = "v%s: " % models["version"] + ", ".join(
        "%s %.1f %% (FLOPs line %.1f %%)%s" % (k, v["heldout_error_pct"], v["flops_heldout_error_pct"], "" if v["serves"] else " not serving")
        for k, v in models["kinds"].items())
print("%s seed %s share %s: %s | models %s" % (sys.argv[2], sys.argv[3], sys.argv[4], "; ".join(cells), served))
PY
    done
  done
done
