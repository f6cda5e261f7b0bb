#!/usr/bin/env bash
# docs/CONFIG.md is the daemons' own account of their settings: the tables come from
# `edgenas-coordinator --config-reference` and `edgenas-agent run --config-reference`, which
# print the one list each daemon reads its config file and flags with.
# Usage: config_reference.sh BUILD_DIR [--write]   (without --write: fail when the file differs)
set -euo pipefail
build=${1:?usage: config_reference.sh BUILD_DIR [--write]}
doc="$(cd "$(dirname "$0")/.." && pwd)/docs/CONFIG.md"
render() {
  cat <<'HEAD'
# Configuration reference

Every key of the two daemons' TOML files, the flag that overrides it (flags win over the file,
the file over the defaults), its type and range, and its default. An unknown section or key, a
value of the wrong type or out of range is an error that names it (`--check-config` on the
coordinator reports it without starting). The tables are printed by the daemons themselves
(`edgenas-coordinator --config-reference`, `edgenas-agent run --config-reference`) from the
list they read their settings with; a test keeps this file equal to their output
(`bash tests/config_reference.sh build/release --write` rewrites it).

## edgenas-coordinator (`/etc/edgenas/coordinator.toml`, `--config FILE`)

HEAD
  "$build/coordinator/io/edgenas-coordinator" --config-reference
  cat <<'MID'

## edgenas-agent (`/etc/edgenas/agent.toml`, `--config FILE`)

The flags are `edgenas-agent run`'s; `--profile FILE` sets `[probes] mode = "simulated"` and
`profile` together. Besides these keys the file may list `[[task]]` tables (`task_id`,
`latency_req_ms`, `rows` of `{device, runtime_ms, energy_j, nodes}`): tasks always in the
box's Job matrix, checked like a task submitted over the local socket.

MID
  "$build/agent/io/edgenas-agent" run --config-reference
}
if [ "${2:-}" = "--write" ]; then
  render >"$doc"
  echo "wrote $doc"
  exit 0
fi
if ! diff -u "$doc" <(render); then
  echo "docs/CONFIG.md differs from what the daemons print: run bash tests/config_reference.sh $build --write" >&2
  exit 1
fi
echo "docs/CONFIG.md matches the daemons' settings"
