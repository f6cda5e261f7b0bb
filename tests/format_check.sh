#!/usr/bin/env bash
# Fails when any tracked C++ file differs from what .clang-format asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find common agent coordinator simulations tests bench -name '*.[ch]pp')
bad=()
for f in $files; do
  [ -f "$f" ] || continue
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "clang-format would change ${#bad[@]} file(s): ${bad[*]}" >&2
  echo "fix with: make format" >&2
  exit 1
fi
echo "format ok: $(echo "$files" | wc -w) files"
