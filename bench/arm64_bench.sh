#!/usr/bin/env bash
# The arm64 numbers of docs/BENCHMARKS.md ("The arm64 build"), on this x86-64 machine:
#   - the cross-build's time from a clean build directory (the arm64 preset's targets);
#   - the arm64 agent package's size (.deb and installed);
#   - the arm64 agent's idle RSS under qemu-aarch64 beside the x86-64 agent's, same coordinator
#     settings (an emulated memory figure, an upper bound: qemu's own code and its translation
#     cache are in it; no speed figure is taken under emulation);
#   - the ONNX export's time and fidelity, and OpenCV's DNN module beside edgenas's batch-1
#     inference on x86-64 (edgenas-onnx-bench).
# Usage: bench/arm64_bench.sh X86_BUILD ARM64_BUILD [SYSROOT]
set -euo pipefail
x86=${1:?usage: arm64_bench.sh X86_BUILD ARM64_BUILD [SYSROOT]}
arm=${2:?usage: arm64_bench.sh X86_BUILD ARM64_BUILD [SYSROOT]}
sysroot=${3:-/opt/edgenas-sysroot-arm64}
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d /var/tmp/edgenas-arm64-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

echo "== cross-build from a clean directory (nproc $(nproc))"
cmake -S "$here" -B "$scratch/build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-arm64.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGENAS_ARM64_SYSROOT="$sysroot" >/dev/null
s=$SECONDS
cmake --build "$scratch/build" -j "$(nproc)" >"$scratch/build.log" 2>&1 || { tail -20 "$scratch/build.log"; exit 1; }
echo "cross-build (configure excluded): $((SECONDS - s)) s"
rm -rf "$scratch/build"

echo "== the arm64 package"
deb=$(ls "$arm"/edgenas-agent_*_arm64.deb)
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
for b in edgenas-agent edgenas-search; do
  f=$(find "$arm/agent" -name "$b" -type f | head -1)
  echo "$b: $(du -k "$f" | cut -f1) KiB unstripped, $(aarch64-linux-gnu-strip -o "$scratch/$b" "$f" && du -k "$scratch/$b" | cut -f1) KiB stripped"
done

echo "== idle agent, 60 s at a 5 s heartbeat: x86-64 native, then arm64 under qemu"
bash "$here/bench/agent_footprint.sh" "$x86" 60 5s | sed -n 1,3p
EDGENAS_AGENT="qemu-aarch64 -cpu cortex-a72 -L $sysroot $arm/agent/io/edgenas-agent" EDGENAS_SETTLE_S=15 \
  bash "$here/bench/agent_footprint.sh" "$x86" 60 5s | sed -n 1,3p

echo "== ONNX export and OpenCV DNN vs edgenas, x86-64"
"$x86/bench/edgenas-onnx-bench" --samples 12 --runs 500 --rounds 5
