#!/usr/bin/env bash
# Coordinator under N simulated agents (bench/loadgen.cpp). Usage:
#   bench/fleet_bench.sh BUILD_DIR AGENTS [DURATION_S] [HEARTBEAT]
# Starts a coordinator on loopback with a fresh store (CURVE on, keys auto-accepted; every
# simulated agent has its own key pair), runs the load generator, prints its report.
set -euo pipefail
build=${1:?usage: fleet_bench.sh BUILD_DIR AGENTS [DURATION_S] [HEARTBEAT]}
agents=${2:?agents}
duration=${3:-60}
heartbeat=${4:-5s}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$build/coordinator/io/edgenas-coordinator" --listen "tcp://127.0.0.1:$port" --admin "tcp://127.0.0.1:$((port + 1))" \
  --db "$work/coordinator.db" --heartbeat-interval "$heartbeat" --auto-accept --log-level warn 2>"$work/coordinator.log" &
coord=$!
trap 'kill $coord 2>/dev/null; wait $coord 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -f "$work/coordinator.pub" ] && break; sleep 0.1; done
warmup=$(( agents >= 5000 ? 30 : 10 ))
"$build/bench/edgenas-loadgen" --endpoint "tcp://127.0.0.1:$port" --agents "$agents" --duration "$duration" \
  --warmup "$warmup" --coordinator-pid "$coord" --server-key "$work/coordinator.pub"
"$build/coordinator/ctl/edgenasctl" --admin "tcp://127.0.0.1:$((port + 1))" --key "$work/admin.key" \
  --server-key "$work/coordinator.pub" status | sed -n '2,3p'
