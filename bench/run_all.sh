#!/usr/bin/env bash
# Produces the numbers in docs/BENCHMARKS.md. Usage: bench/run_all.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
for n in 1000 10000; do
  echo; echo "## coordinator, $n agents, heartbeat 5 s, 60 s measured"
  bash "$here/fleet_bench.sh" "$build" "$n" 60 5s
done
echo; echo "## agent idle footprint, 60 s, heartbeat 5 s"
bash "$here/agent_footprint.sh" "$build" 60 5s | head -3
