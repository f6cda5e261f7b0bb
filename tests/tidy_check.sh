#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over C++ sources; fails on any finding.
#   tests/tidy_check.sh BUILD_DIR            the sources changed on this branch (below)
#   tests/tidy_check.sh BUILD_DIR --all      every source in the build (`make tidy`)
# "Changed": files that differ from the upstream branch when there is one, else from the
# commit before HEAD, plus uncommitted changes. clang-tidy parses each file as the compiler
# does (~10-20 s a file here, most of it in the headers), so `make test` checks what a change
# touched and `make tidy` checks everything.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: tidy_check.sh BUILD_DIR [--all]}
mode=${2:-changed}
db="$build/compile_commands.json"
[ -f "$db" ] || { echo "tidy: no $db (configure the build first)" >&2; exit 2; }
command -v clang-tidy >/dev/null || { echo "tidy: clang-tidy is not installed (deploy/install-deps.sh)" >&2; exit 2; }

# The sources the build compiles, relative to the repository, less those that include libtorch:
# clang 14 cannot compile libtorch 1.13's headers against GCC 12's standard library (c10::IValue
# is incomplete where std::vector needs it), so those files have GCC's warnings only.
in_build=$(python3 -c 'import json,os,sys
root=os.getcwd()
for e in json.load(open(sys.argv[1])):
    f=os.path.relpath(os.path.join(e["directory"], e["file"]), root)
    cmd=e.get("command", " ".join(e.get("arguments", [])))
    if not f.startswith("..") and "torch/csrc/api/include" not in cmd: print(f)' "$db" | sort -u)

case $mode in
  --all) files=$in_build ;;
  changed)
    base=$(git rev-parse -q --verify '@{upstream}' 2>/dev/null || git rev-parse -q --verify HEAD~1 2>/dev/null || true)
    changed=$( { [ -n "$base" ] && git diff --name-only "$base"; git diff --name-only HEAD; git ls-files --others --exclude-standard; } 2>/dev/null | sort -u)
    # A changed header stands for the sources that include it by name.
    files=$(for f in $changed; do
      case $f in
        *.cpp) echo "$f" ;;
        *.hpp) grep -l "#include \"$f\"" $in_build 2>/dev/null | head -3 ;;
      esac
    done | sort -u | grep -Fx -f <(echo "$in_build") || true) ;;
  *) echo "tidy: unknown option $mode (--all)" >&2; exit 2 ;;
esac
if [ -z "$files" ]; then echo "tidy ok: no changed sources"; exit 0; fi

n=$(echo "$files" | wc -l)
echo "tidy: $n file(s)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -Wno-unknown-warning-option: the build's flags are GCC's; clang does not know some of them.
if ! echo "$files" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$log" 2>/dev/null; then
  grep -E "(error|warning):" "$log" | sort -u >&2 || cat "$log" >&2
  echo "tidy: findings above (checks in .clang-tidy; silence a false one with // NOLINT(check) and a reason)" >&2
  exit 1
fi
echo "tidy ok: $n file(s)"
