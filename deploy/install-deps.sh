#!/usr/bin/env bash
# Installs the Debian 12 packages edgenas needs to build, test and run.
# Idempotent: only missing packages are installed; silent when all are present.
# Nothing is downloaded outside Debian's archive (the web console's front end included).
#   --bench         also what the benchmarks compare against (python3-torch, ~1 GB)
#   --check-fresh   also what `make check-fresh` needs on the host (debootstrap)
#   --arm64         also the arm64 cross-build: Debian's aarch64-linux-gnu compilers, qemu-user,
#                   and a sysroot of Debian 12's arm64 libraries at $EDGENAS_ARM64_SYSROOT
#                   (default /opt/edgenas-sysroot-arm64, ~1.3 GB; remade when its list changes)
# Every package the project needs is in this one list; `make check-fresh` proves it on a
# minimal Debian 12 root.
set -euo pipefail
invocation="$0 $*"

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
  # Login secrets of the web console (random tokens, SHA-256); libzmq3-dev pulls it in too.
  libsodium-dev
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
  # The web console: its bundler and component library (Debian's esbuild and Preact); its
  # tests, a real browser headless, driven through its WebDriver server by tests/browser/
  # webdriver.mjs; the nginx TLS example, tested in a network namespace.
  esbuild node-preact chromium chromium-driver nginx-light curl openssl iproute2
)
# The browser tests and the console benchmark run on node (its fetch: node >= 18): Debian's
# nodejs unless one that new is already installed (NodeSource's, say, under the same name).
node_ok() {
  command -v node >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)' 2>/dev/null
}
node_ok || PACKAGES+=(nodejs)
# The arm64 sysroot: the same libraries, Debian's arm64 builds (cmake/toolchain-arm64.cmake).
# A sysroot, not multiarch: libtorch1.13:arm64 cannot be installed beside libtorch1.13:amd64
# (several of its dependencies are not Multi-Arch: same; apt would remove the amd64 libtorch).
ARM64_SYSROOT_PACKAGES=(
  libc6-dev libstdc++-12-dev
  libtorch-dev libopenblas0-pthread libdnnl-dev
  libonnx-dev libprotobuf-dev libopencv-dnn-dev
  cppzmq-dev libzmq3-dev libmsgpack-cxx-dev libboost-dev libgtest-dev libgmock-dev
  libsqlite3-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libfreetype-dev libpng-dev zlib1g-dev
)
arm64=0
for arg in "$@"; do
  case $arg in
    --bench) PACKAGES+=(python3-torch) ;;
    --check-fresh) PACKAGES+=(debootstrap) ;;
    --arm64) PACKAGES+=(g++-aarch64-linux-gnu qemu-user mmdebstrap) arm64=1 ;;
    *) echo "install-deps: unknown option $arg (--bench, --check-fresh, --arm64)" >&2; exit 2 ;;
  esac
done

need_root() {
  [ "$(id -u)" -eq 0 ] && return
  echo "install-deps: $1" >&2
  echo "install-deps: run as root (or: sudo $invocation)" >&2
  exit 1
}

# Extraction installs no package, so the sysroot's dpkg database is empty; dpkg-shlibdeps needs
# one to name the package (and read the shlibs/symbols files) of each arm64 library an arm64
# binary links. This records every downloaded .deb as installed, its file list rooted at the
# sysroot's final path (dpkg-shlibdeps looks libraries up by the path it found them at; it is
# run with DPKG_ADMINDIR=<sysroot>/var/lib/dpkg by `make packages-arm64`). Then drops the .debs.
record_arm64_packages() {
  local dir=$1 final=$2 db=$1/var/lib/dpkg deb name tmp
  tmp=$(mktemp -d)
  : > "$db/status"
  echo 1 > "$db/info/format"  # multiarch file names: pkg:arm64.list for Multi-Arch: same
  for deb in "$dir"/var/cache/apt/archives/*.deb; do
    name=$(dpkg-deb -f "$deb" Package)
    [ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && name="$name:arm64"
    { dpkg-deb -f "$deb" | sed '/^Package:/a Status: install ok installed'; echo; } >> "$db/status"
    dpkg-deb -c "$deb" | awk -v r="$final" '{p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); if (p != "") print r p}' \
      > "$db/info/$name.list"
    rm -rf "$tmp"/* && dpkg-deb -e "$deb" "$tmp"
    for f in shlibs symbols; do
      if [ -f "$tmp/$f" ]; then cp "$tmp/$f" "$db/info/$name.$f"; fi
    done
  done
  rm -rf "$tmp" "$dir"/var/cache/apt/archives/*.deb
}

# Extracts the arm64 packages (no maintainer scripts: nothing arm64 runs) into a new directory,
# then does what those scripts would have done for linking: absolute symlinks made relative so
# they resolve inside the sysroot, and the BLAS alternatives libtorch loads pointed at
# OpenBLAS's threaded build.
make_arm64_sysroot() {
  local root=${EDGENAS_ARM64_SYSROOT:-/opt/edgenas-sysroot-arm64}
  # The recipe's version too: a sysroot made by an older install-deps is made again.
  local want="recipe 2: ${ARM64_SYSROOT_PACKAGES[*]}"
  [ "$(cat "$root/.edgenas-packages" 2>/dev/null)" = "$want" ] && return
  need_root "the arm64 sysroot $root is missing or out of date"
  local sources=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$f" ] && sources+=("$f")
  done
  echo "install-deps: extracting Debian 12's arm64 libraries into $root (~1.3 GB)"
  rm -rf "$root.new"
  mmdebstrap --quiet --mode=root --variant=extract --arch=arm64 --skip=cleanup/apt/cache \
    --include="$(IFS=,; echo "${ARM64_SYSROOT_PACKAGES[*]}")" bookworm "$root.new" "${sources[@]}"
  local link target
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    [[ $target == /* ]] || continue
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root.new$target")" "$link"
  done < <(find "$root.new" -type l -print0)
  local lib
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    ln -sfn "openblas-pthread/$lib" "$root.new/usr/lib/aarch64-linux-gnu/$lib"
  done
  record_arm64_packages "$root.new" "$root"
  echo "$want" > "$root.new/.edgenas-packages"
  rm -rf "$root" && mv "$root.new" "$root"
  echo "install-deps: arm64 sysroot ready"
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "missing packages: ${missing[*]}"
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # An install can fail on a stale package list; refresh once and retry.
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "install-deps: done"
fi

if [ $arm64 -eq 1 ]; then make_arm64_sysroot; fi
