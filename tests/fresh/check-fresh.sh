#!/usr/bin/env bash
# make check-fresh: proves that deploy/install-deps.sh is enough on a *fresh* Debian 12 machine.
#
# A machine that has been used for a while has packages nobody remembers installing, so a green
# build there proves nothing about a new one. This check builds a minimal Debian 12 root
# (debootstrap --variant=minbase, from the mirror this machine's own apt sources name), clones
# the checkout's HEAD into it, and inside a chroot runs install-deps (every extra too), configures
# every CMake preset and builds a target that links each outside library (for arm64 too: the
# cross-build, a test under qemu, the arm64 package), and drives the browser the console's tests
# use. Each step is timed.
#
# Caches (repeat runs cost minutes, not a full download):
#   $EDGENAS_FRESH_CACHE/bookworm-minbase.tar   the debootstrapped base, refreshed after 30 days
#   $EDGENAS_FRESH_CACHE/archives/              the .deb files apt downloaded (apt's own cache,
#                                               bind-mounted; dpkg still installs every package)
# The root itself is made anew on every run and removed when the check passes.
#
# Root only (debootstrap, chroot, mounts).
# Usage: tests/fresh/check-fresh.sh [--keep] [--full] [--if-changed]
#   --keep        keep the root afterwards (it is kept anyway when a step fails)
#   --full        then run the README's two commands in the root as a new user would, `make demo`
#                 and `make test`, and time them (about an hour on 2 cores; not part of CI)
#   --if-changed  skip the check when it passed on this machine before for the same inputs: the
#                 files that decide what a fresh machine needs (install-deps.sh, CMakePresets,
#                 cmake/, the Makefile, this script, the browser check and its WebDriver
#                 client, the CMakeLists' find_* lines and every
#                 outside #include <...> of the sources), fingerprinted (CI uses this)
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${EDGENAS_FRESH_CACHE:-/var/cache/edgenas-fresh}
work=${EDGENAS_FRESH_ROOT:-/var/tmp/edgenas-fresh}
root="$work/root"
keep=0 full=0 if_changed=0
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    --full) full=1 ;;
    --if-changed) if_changed=1 ;;
    --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-fresh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "check-fresh: $*" >&2; exit 1; }

# What a fresh machine's needs depend on, as one hash: the files that install and find outside
# software, and the set of outside headers the sources include (a new header-only dependency
# changes it without any CMake change).
fingerprint() {  # of the commit the check clones (HEAD), not of uncommitted edits
  (
    cd "$here"
    local f
    for f in deploy/install-deps.sh CMakePresets.json Makefile tests/fresh/check-fresh.sh \
      tests/browser/launch.mjs tests/browser/webdriver.mjs \
      $(git ls-tree --name-only HEAD cmake/); do
      git show "HEAD:$f"
    done | sha256sum
    git grep -h -E '^[[:space:]]*(find_package|pkg_check_modules|find_library|find_path|find_program)\b' \
      HEAD -- '*CMakeLists.txt' | sort -u
    git grep -h '^#include <' HEAD -- '*.cpp' '*.hpp' '*.h' | sort -u
  ) | sha256sum | cut -c1-16
}
stamp="$cache/passed/$(fingerprint)"
if [ $if_changed -eq 1 ] && [ $full -eq 0 ] && [ -f "$stamp" ]; then
  echo "check-fresh: skipped: it passed on this machine for the same dependency inputs" \
    "($(cat "$stamp")); \`make check-fresh\` runs it regardless"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"

t0=$SECONDS
timings=()
current=""
step() {  # step NAME COMMAND...: runs the command, records its time
  local name=$1 start=$SECONDS
  current=$name
  shift
  printf '\ncheck-fresh: == %s\n' "$name"
  "$@"
  timings+=("$(printf '%-46s %5d s' "$name" $((SECONDS - start)))")
}

# The Debian mirror this machine's apt uses: the first URI of a source for the bookworm suite
# (deb822 .sources files first, then the one-line sources.list). No host name is written here.
mirror_from_apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ {u=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") s=1}
         /^$/ {if (u && s) {print u; exit} u=""; s=0}
         END {if (u && s) print u}' "$f" | head -1
  done | head -1 | grep . && return
  awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
    /etc/apt/sources.list 2>/dev/null | head -1 | grep . && return
  die "no bookworm source in /etc/apt/sources.list{,.d}: cannot tell which mirror to use"
}

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
report() {
  printf '  %s\n' "${timings[@]}"
}
on_exit() {
  local rc=$?
  unmount_all
  if [ $rc -ne 0 ]; then
    printf '\ncheck-fresh: FAILED in "%s" after %d s (the root is kept at %s)\n' "$current" \
      $((SECONDS - t0)) "$root"
    report
  fi
}
trap on_exit EXIT
bind() { mkdir -p "$2"; mount --bind "$1" "$2"; mounted+=("$2"); }

make_base() {
  local tarball="$cache/bookworm-minbase.tar"
  if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +30)" ]; then
    echo "cached base: $tarball ($(du -h "$tarball" | cut -f1))"
    return
  fi
  local mirror tmp="$cache/base.tmp"
  mirror=$(mirror_from_apt_sources)
  echo "debootstrap --variant=minbase bookworm from the mirror in this machine's apt sources"
  rm -rf "$tmp" && mkdir -p "$tmp"
  debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $cache/debootstrap.log"
  tar -C "$tmp" -cf "$tarball.new" . && mv "$tarball.new" "$tarball"
  rm -rf "$tmp"
}

make_root() {
  rm -rf "$work" && mkdir -p "$root" "$cache/archives/partial"
  tar -C "$root" -xf "$cache/bookworm-minbase.tar"
  # The same package sources as this machine (its mirror, updates and security), and DNS.
  rm -f "$root/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
  [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # As in any chroot: packages must not start services (there is no init here).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  bind /dev "$root/dev"
  bind /dev/pts "$root/dev/pts"
  bind "$cache/archives" "$root/var/cache/apt/archives"
  # dpkg without its fsyncs: this root is thrown away, and it cuts minutes off every run (it
  # changes how packages are written, not which are installed).
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
  # Keep downloaded .debs for the next run (Debian's docker-clean style hooks would delete them).
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/01keep-debs"
  git clone -q --no-hardlinks "$here" "$root/src/edgenas"
  echo "cloned $(git -C "$here" rev-parse --short HEAD) into the root"
}

# Runs a command inside the root with a clean environment, in the clone.
in_root() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    TERM=dumb chroot "$root" /bin/bash -c "cd /src/edgenas && $*"
}

install_deps() {
  local before after
  before=$(du -sb "$cache/archives" | cut -f1)
  in_root bash deploy/install-deps.sh "$@"
  after=$(du -sb "$cache/archives" | cut -f1)
  echo "apt cache grew by $(((after - before) / 1048576)) MB (0 when the .debs were cached)"
}

# One build target per outside library, so a missing header or library is found (not only a
# missing CMake config): the coordinator (ZeroMQ, msgpack, SQLite, Boost, CLI11, toml++, JSON,
# libsodium, and its web console: Debian's Preact bundled by Debian's esbuild),
# edgenas-search (libtorch, oneDNN, OpenBLAS, FreeType, libpng, zlib), a gtest/gmock test.
build_release() {
  in_root cmake --preset release ">/dev/null"
  in_root cmake --build --preset release -j "$(nproc)" --target edgenas-coordinator edgenas-search \
    edgenas-agent edgenasctl util_test
}
build_asan() {  # gcc's ASan/UBSan runtimes
  in_root cmake --preset asan ">/dev/null"
  in_root cmake --build --preset asan -j "$(nproc)" --target util_test
}
build_fuzz() {  # clang, libFuzzer and its sanitizer runtimes
  in_root cmake --preset fuzz ">/dev/null"
  in_root cmake --build --preset fuzz -j "$(nproc)" --target fuzz_envelope
}
browser_check() {  # the web console's tests: chromium through chromedriver, and no npm anywhere
  in_root node tests/browser/launch.mjs
  in_root "! command -v npm && echo 'no npm in the root: nothing came from the npm registry'"
}
check_bench_extras() {  # the reference the benchmarks compare against
  in_root /usr/bin/python3 -c "'import torch; print(\"python3-torch\", torch.__version__)'"
}
package_check() {  # make packages' tools: CPack's DEB generator runs file, then dpkg-shlibdeps
  in_root file --version ">/dev/null"
  in_root "mkdir -p /tmp/shlibdeps/debian && touch /tmp/shlibdeps/debian/control && cd /tmp/shlibdeps &&" \
    fakeroot dpkg-shlibdeps -O /src/edgenas/build/release/coordinator/io/edgenas-coordinator \
    /src/edgenas/build/release/agent/search/edgenas-search
}

# The arm64 cross-build: Debian's aarch64 compilers against the sysroot install-deps --arm64
# made (every arm64 library the edge side links), and its package's arm64 Depends.
build_arm64() {
  in_root cmake --preset arm64 ">/dev/null"
  in_root cmake --build --preset arm64 -j "$(nproc)" --target edgenas-agent edgenas-search util_test
  in_root qemu-aarch64 -cpu cortex-a72 -L /opt/edgenas-sysroot-arm64 build/arm64/tests/util_test --gtest_brief=1 ">/dev/null"
}
arm64_package_check() {  # what CPack runs for the arm64 package (cmake/cpack-arm64.cmake.in)
  local s=/opt/edgenas-sysroot-arm64
  in_root "mkdir -p /tmp/shlibdeps/debian && touch /tmp/shlibdeps/debian/control && cd /tmp/shlibdeps &&" \
    DEB_HOST_ARCH=arm64 DPKG_ADMINDIR=$s/var/lib/dpkg fakeroot dpkg-shlibdeps -l$s/usr/lib/aarch64-linux-gnu \
    -l$s/lib/aarch64-linux-gnu -l$s/usr/lib/aarch64-linux-gnu/openblas-pthread -O \
    /src/edgenas/build/arm64/agent/io/edgenas-agent /src/edgenas/build/arm64/agent/search/edgenas-search
}

mkdir -p "$cache"
step "minimal Debian 12 base (debootstrap, cached)" make_base
step "fresh root from the base, checkout cloned" make_root
step "deploy/install-deps.sh" install_deps
step "configure + build, preset release" build_release
step "configure + build, preset asan" build_asan
step "configure + build, preset fuzz" build_fuzz
step "a headless browser for the console's tests" browser_check
step "packaging tools (file, dpkg-shlibdeps, fakeroot)" package_check
step "deploy/install-deps.sh --arm64 (cross compilers, qemu, sysroot)" install_deps --arm64
step "configure + build, preset arm64; a test under qemu" build_arm64
step "arm64 package (dpkg-shlibdeps against arm64 libraries)" arm64_package_check
step "deploy/install-deps.sh --bench" install_deps --bench
step "bench extras import" check_bench_extras
if [ $full -eq 1 ]; then
  step "make demo (the first, as a new user runs it)" in_root make demo
  step "make test (the first, as a new user runs it)" in_root make test
fi

unmount_all
if [ $keep -eq 0 ]; then rm -rf "$work"; else echo "root kept at $root"; fi
printf '\ncheck-fresh: passed in %d s\n' $((SECONDS - t0))
report
mkdir -p "$cache/passed"
echo "commit $(git -C "$here" rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)" >"$stamp"
