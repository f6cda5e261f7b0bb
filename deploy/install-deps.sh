#!/usr/bin/env bash
# Installs the Debian 12 packages edgenas needs to build, test and run.
# Idempotent: only missing packages are installed; silent when all are present.
# Nothing is downloaded outside Debian's archive.
#   --bench         also what the benchmarks compare against (python3-torch, ~1 GB)
#   --check-fresh   also what `make check-fresh` needs on the host (debootstrap)
# Every package the project needs is in this one list; `make check-fresh` proves it on a
# minimal Debian 12 root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format clang-tidy
  # Debian's libtorch calls the system BLAS (the libblas.so.3 alternative). With the reference
  # BLAS a small CNN ran ~5x slower. OpenBLAS's threaded build, not its serial one: trainings
  # run side by side on our threads and the serial build races between them (wrong products;
  # tests/unit/ml BlasIsSafeAcrossThreads). common/ml pins its own threads to one.
  libtorch-dev libopenblas0-pthread
  # oneDNN's headers: the batch-1 inference plan calls the libdnnl.so.2 libtorch runs on.
  libdnnl-dev
  # ONNX export (its protobuf schema and checker), and OpenCV's DNN module, the independent
  # runtime the tests load the exported files with.
  libonnx-dev libprotobuf-dev libopencv-dnn-dev
  cppzmq-dev libzmq3-dev
  libmsgpack-cxx-dev
  libboost-dev
  libgtest-dev libgmock-dev
  libsqlite3-dev sqlite3
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libfreetype-dev libpng-dev zlib1g-dev
  fonts-dseg fonts-dejavu-core
  python3 python3-zmq python3-msgpack
  # Deployment tests: packages (dpkg-dev for CPack's shlibdeps), the Ansible role, manifest
  # and dashboard lint, promtool for the /metrics pages.
  # (file: CPack's DEB generator runs it to find the binaries for dpkg-shlibdeps.)
  dpkg-dev fakeroot file adduser systemd ansible-core python3-apt python3-yaml yamllint prometheus
)
for arg in "$@"; do
  case $arg in
    --bench) PACKAGES+=(python3-torch) ;;
    --check-fresh) PACKAGES+=(debootstrap) ;;
    *) echo "install-deps: unknown option $arg (--bench, --check-fresh)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0)" >&2
  exit 1
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An install can fail on a stale package list; refresh once and retry.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: done"
