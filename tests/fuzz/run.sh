#!/usr/bin/env bash
# Runs every fuzz target for SECONDS over a fresh seed corpus. Usage: run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tests/fuzz"
if [ ! -d "$bin" ]; then
  echo "fuzz targets not built: run 'cmake --preset fuzz && cmake --build --preset fuzz' (make build-fuzz)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/make_corpus.py" "$work/seeds"
status=0
for target in fuzz_envelope fuzz_message_bodies fuzz_json_context fuzz_device_profile fuzz_npu_smi \
              fuzz_agent_config fuzz_search_files fuzz_predictor_model fuzz_idx fuzz_image fuzz_admin_views \
              fuzz_nb201_table fuzz_latency_models fuzz_console_api; do
  [ -x "$bin/$target" ] || { echo "missing fuzz target $target" >&2; status=1; continue; }
  mkdir -p "$work/corpus/$target" "$work/seeds/$target"
  if "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/" "$work/corpus/$target" "$work/seeds/$target" >"$work/$target.log" 2>&1; then
    echo "$target: ok ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$work/$target.log" | awk '{print $2}') runs in ${seconds}s)"
  else
    echo "$target: FAILED" >&2
    tail -40 "$work/$target.log" >&2
    mkdir -p "$here/../../build/fuzz-crashes"
    cp "$work"/crash-* "$work"/leak-* "$work"/oom-* "$here/../../build/fuzz-crashes/" 2>/dev/null || true
    status=1
  fi
done
exit $status
