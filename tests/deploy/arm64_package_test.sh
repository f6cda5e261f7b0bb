#!/usr/bin/env bash
# The arm64 agent package (make packages-arm64): its architecture, its files (arm64 binaries,
# the unit, the profiles, the conffile) and Depends that dpkg-shlibdeps computed against the
# arm64 libraries. It cannot be installed on this x86-64 machine; arm64_test.cpp runs its
# binaries under qemu. Exits 77 (skipped) when there is no arm64 build.
# Usage: arm64_package_test.sh ARM64_BUILD_DIR
set -euo pipefail
build=${1:?usage: arm64_package_test.sh ARM64_BUILD_DIR}
fail() { echo "arm64_package_test: FAIL: $*" >&2; exit 1; }
debs=("$build"/edgenas-agent_*_arm64.deb)
if [ ! -f "${debs[0]}" ]; then
  echo "arm64_package_test: no edgenas-agent_*_arm64.deb in $build (make packages-arm64); skipped"
  exit 77
fi
deb=${debs[0]}
echo "checking $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || fail "Architecture is $(dpkg-deb -f "$deb" Architecture)"
files=$(dpkg-deb -c "$deb")
for f in /usr/bin/edgenas-agent /usr/bin/edgenas-search /lib/systemd/system/edgenas-agent.service \
         /etc/edgenas/agent.toml /usr/share/edgenas/profiles/rpi4.toml; do
  grep -q " \.$f\$" <<<"$files" || fail "$f missing"
done
grep -q '^/etc/edgenas/agent.toml$' <<<"$(dpkg-deb -I "$deb" conffiles)" || fail "agent.toml is not a conffile"
# The binaries are aarch64 ELF files.
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x"
for b in edgenas-agent edgenas-search; do
  file -b "$x/usr/bin/$b" | grep -q 'ARM aarch64' || fail "$b is $(file -b "$x/usr/bin/$b")"
done
# Depends: what the arm64 binaries link, by the arm64 packages' shlibs/symbols (dpkg-shlibdeps),
# plus the thread-safe BLAS and what the maintainer scripts use.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
names=$(sed 's/ *([^)]*)//g; s/, /\n/g' <<<"$depends")  # the package names, one per line
for p in libc6 libstdc++6 libzmq5 libsqlite3-0 libtorch1.13 libonnx1 libprotobuf32 \
         libopenblas0-pthread adduser; do
  grep -qxF "$p" <<<"$names" || fail "Depends lacks $p"
done
# The daemon itself does not link libtorch (only edgenas-search does).
if aarch64-linux-gnu-readelf -d "$x/usr/bin/edgenas-agent" | grep -q 'libtorch'; then
  fail "edgenas-agent links libtorch"
fi
echo "arm64_package_test: ok"
