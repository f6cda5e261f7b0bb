#!/usr/bin/env bash
# Coordinator under N simulated agents (bench/loadgen.cpp). Usage:
#   bench/fleet_bench.sh BUILD_DIR AGENTS [DURATION_S] [HEARTBEAT] [-- COORDINATOR FLAGS...]
# Starts a coordinator on loopback with a fresh store (CURVE on, keys auto-accepted; every
# simulated agent has its own key pair), runs the load generator, prints its report, then the
# coordinator's own histograms over the same measured window (bench/metrics_window.py) and its
# slow-round log lines. FLEET_BENCH_KEEP=DIR keeps the store, log and /metrics pages there;
# COORDINATOR_CPUS / LOADGEN_CPUS (taskset lists, e.g. 0 and 1) pin the two sides apart.
# FLEET_BENCH_WARMUP=S overrides the warm-up before the measured window.
# FLEET_BENCH_SIDE="COMMAND" runs beside the load generator (bench/console_bench.sh: web
# consoles), with EDGENAS_ADMIN, EDGENAS_KEY_DIR and EDGENAS_HTTP_PORT in its environment and
# EDGENAS_WINDOW_START_S and EDGENAS_WINDOW_END_S: the measured window, in seconds from the
# side's start.
set -euo pipefail
build=${1:?usage: fleet_bench.sh BUILD_DIR AGENTS [DURATION_S] [HEARTBEAT] [-- FLAGS...]}
agents=${2:?agents}
duration=${3:-60}
heartbeat=${4:-5s}
shift $(( $# < 4 ? $# : 4 ))
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
work=${FLEET_BENCH_KEEP:-$(mktemp -d)}
mkdir -p "$work"
# Below the ephemeral range (32768-60999), which the load generator's connections fill.
port=$((20000 + RANDOM % 12000))
mport=$((port + 2))
# Runs in the background (&): exec, so $! is the program itself.
pin() { local cpus=$1; shift; if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi; }
pin "${COORDINATOR_CPUS:-}" "$build/coordinator/io/edgenas-coordinator" --listen "tcp://127.0.0.1:$port" --admin "tcp://127.0.0.1:$((port + 1))" \
  --db "$work/coordinator.db" --heartbeat-interval "$heartbeat" --auto-accept --log-level warn \
  --metrics "127.0.0.1:$mport" "$@" 2>"$work/coordinator.log" &
coord=$!
cleanup() {
  kill $coord 2>/dev/null; wait $coord 2>/dev/null
  [ -n "${FLEET_BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -f "$work/coordinator.pub" ] && break; sleep 0.1; done
sleep 0.5
if ! kill -0 $coord 2>/dev/null; then
  echo "fleet_bench: the coordinator did not start:" >&2; cat "$work/coordinator.log" >&2; exit 1
fi
# Every agent enrols a new CURVE key first: larger fleets get longer to settle.
warmup=${FLEET_BENCH_WARMUP:-$(( agents >= 5000 ? (agents / 500 > 30 ? agents / 500 : 30) : 10 ))}
scrape() {  # a failed scrape is reported, the bench goes on
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
    "http://127.0.0.1:$mport/metrics" >"$1" 2>/dev/null || echo "could not read /metrics (port $mport)" >&2
}
pin "${LOADGEN_CPUS:-}" "$build/bench/edgenas-loadgen" --endpoint "tcp://127.0.0.1:$port" --agents "$agents" --duration "$duration" \
  --warmup "$warmup" --coordinator-pid "$coord" --server-key "$work/coordinator.pub" \
  --per-minute "$work/per_minute.csv" &
loadgen=$!
side=""
if [ -n "${FLEET_BENCH_SIDE:-}" ]; then
  EDGENAS_ADMIN="tcp://127.0.0.1:$((port + 1))" EDGENAS_KEY_DIR="$work" EDGENAS_HTTP_PORT="$mport" \
    EDGENAS_WINDOW_START_S=$warmup EDGENAS_WINDOW_END_S=$((warmup + duration)) bash -c "$FLEET_BENCH_SIDE" &
  side=$!
fi
# The page is rendered on the io thread's tick (a quarter heartbeat): scrape just after the
# warm-up and once more after the load generator's last second.
# The whole machine's CPU time, busy and idle (jiffies): with the coordinator's predictor
# trainings beside it, the coordinator's own CPU share says little about how busy the cores were
# (user to steal; guest time is already counted in user).
cpu_ticks() { awk '/^cpu /{t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $5 + $6}' /proc/stat; }
sleep "$warmup"; scrape "$work/metrics.start"; read -r total0 idle0 < <(cpu_ticks)
wait $loadgen
[ -z "$side" ] || wait $side || echo "fleet_bench: the side command failed" >&2
sleep 2; scrape "$work/metrics.end"; read -r total1 idle1 < <(cpu_ticks)
echo "machine busy        $(( 100 * (total1 - total0 - idle1 + idle0) / (total1 - total0 + 1) )) % of $(nproc) cores from the window's start to its end (everything: coordinator, its trainings, load generator, consoles)"
"$build/coordinator/ctl/edgenasctl" --admin "tcp://127.0.0.1:$((port + 1))" --key "$work/admin.key" \
  --server-key "$work/coordinator.pub" status | sed -n '2,3p'
python3 "$here/metrics_window.py" "$work/metrics.start" "$work/metrics.end" || true
[ "$duration" -lt 120 ] || { echo "per minute:"; cat "$work/per_minute.csv"; }
echo "slow io round log lines: $(grep -c 'slow io round' "$work/coordinator.log" || true)"
grep 'slow io round' "$work/coordinator.log" | tail -n 5 || true
