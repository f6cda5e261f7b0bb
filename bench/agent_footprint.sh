#!/usr/bin/env bash
# Idle footprint of one edgenas-agent (real Linux probes) registered with a coordinator:
# RSS and CPU over SECONDS at a HEARTBEAT interval. Usage:
#   bench/agent_footprint.sh BUILD_DIR [SECONDS] [HEARTBEAT]
# EDGENAS_AGENT, when set, is the agent's command instead of BUILD_DIR's (bench/arm64_bench.sh:
# the arm64 agent under qemu-aarch64; the process measured is then qemu with the agent in it).
set -euo pipefail
build=${1:?usage: agent_footprint.sh BUILD_DIR [SECONDS] [HEARTBEAT]}
seconds=${2:-60}
heartbeat=${3:-5s}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$build/coordinator/io/edgenas-coordinator" --listen "tcp://127.0.0.1:$port" --admin "tcp://127.0.0.1:$((port + 1))" \
  --db "$work/c.db" --heartbeat-interval "$heartbeat" --auto-accept --log-level warn 2>"$work/c.log" &
coord=$!
for _ in $(seq 50); do [ -f "$work/coordinator.pub" ] && break; sleep 0.1; done
read -r -a agent_cmd <<<"${EDGENAS_AGENT:-$build/agent/io/edgenas-agent}"
"${agent_cmd[@]}" run --id footprint --coordinator "tcp://127.0.0.1:$port" --state-dir "$work/a" \
  --coordinator-key "$work/coordinator.pub" \
  --log-level warn 2>"$work/a.log" &
agent=$!
trap 'kill $agent $coord 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep "${EDGENAS_SETTLE_S:-5}"  # register and settle
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$agent/status"; }
c0=$(cpu); peak=$(rss)
for _ in $(seq "$seconds"); do
  sleep 1
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
done
c1=$(cpu)
echo "agent RSS            $(awk -v k="$(rss)" 'BEGIN {printf "%.1f MB", k / 1024}') (peak $(awk -v k="$peak" 'BEGIN {printf "%.1f MB", k / 1024}'))"
echo "agent CPU            $(awk -v d=$((c1 - c0)) -v t="$tck" -v s="$seconds" 'BEGIN {printf "%.3f %% of one core", 100 * d / t / s}') over ${seconds} s, heartbeat $heartbeat"
echo "agent threads        $(ls /proc/$agent/task | wc -l)"
"$build/coordinator/ctl/edgenasctl" --admin "tcp://127.0.0.1:$((port + 1))" --key "$work/admin.key" \
  --server-key "$work/coordinator.pub" agents list
