# edgenas: the two commands a fresh Debian 12 machine needs are `make demo` and `make test`.
# Both install missing Debian packages (deploy/install-deps.sh), configure and build.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps deps-arm64 build build-fuzz build-asan build-arm64 demo test test-asan test-arm64 fuzz format format-check tidy bench packages packages-arm64 check-fresh check-fresh-if-changed clean

all: build

deps:
	@bash deploy/install-deps.sh

build/release/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset release >/dev/null

build: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)

build-fuzz: deps
	@[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# The edge boxes' build: agent, edgenas-search, edgenasctl and their tests for arm64 (Debian's
# cross compilers and a sysroot of Debian's arm64 libraries, docs/OPERATIONS.md "arm64 boxes").
deps-arm64:
	@bash deploy/install-deps.sh --arm64

build-arm64: deps-arm64
	@[ -f build/arm64/build.ninja ] || cmake --preset arm64 >/dev/null
	cmake --build --preset arm64 -j $(JOBS)

build-asan: deps
	@[ -f build/asan/build.ninja ] || cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

# The main job on an embedded default: a coordinator and a few agents on this machine.
demo: build
	@KEEP=$(KEEP) bash deploy/demo.sh build/release

# Debian packages edgenas-agent and edgenas-coordinator (docs/OPERATIONS.md).
packages: build
	cmake --build --preset release --target package

# The arm64 package of the agent (edgenas-agent_*_arm64.deb in build/arm64).
packages-arm64: build-arm64
	cmake --build --preset arm64 --target package

# Every test: unit, integration (real processes over loopback; one with an arm64 agent under
# qemu), fuzz smoke, format check, deployment (packages installed with dpkg, the arm64 package's
# contents, the Ansible role, manifests; root for dpkg), then the arm64 build's unit tests
# under qemu-aarch64.
test: build build-fuzz packages-arm64
	cd build/release && ctest --output-on-failure -j 2 --timeout 600
	cd build/arm64 && ctest --output-on-failure -j 2 --timeout 900

# Only the arm64 parts: its unit tests under qemu, and the x86-64 build's tests of arm64 parts.
test-arm64: build packages-arm64
	cd build/arm64 && ctest --output-on-failure -j 2 --timeout 900
	cd build/release && ctest --output-on-failure -L arm64 --timeout 600

test-asan: build-asan
	cd build/asan && ctest --output-on-failure -j 2 --timeout 900 -LE slow

# Longer fuzzing: FUZZ_SECONDS per target (default 60).
fuzz: build-fuzz
	@bash tests/fuzz/run.sh build/fuzz $${FUZZ_SECONDS:-60}

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@bash tests/format_check.sh

# clang-tidy on every source (about 15 min on 2 cores); `make test` checks the changed ones.
tidy: build
	@bash tests/tidy_check.sh build/release --all

# Proves deploy/install-deps.sh on a fresh minimal Debian 12 root (debootstrap, chroot; root
# only; the base and the downloaded .debs are cached under /var/cache/edgenas-fresh).
check-fresh:
	@bash deploy/install-deps.sh --check-fresh
	@bash tests/fresh/check-fresh.sh

# The same, skipped when it already passed on this machine for the same dependency inputs
# (tests/fresh/check-fresh.sh --if-changed says which): what CI runs.
check-fresh-if-changed:
	@bash deploy/install-deps.sh --check-fresh
	@bash tests/fresh/check-fresh.sh --if-changed

bench: build packages-arm64
	@bash deploy/install-deps.sh --bench
	@bash bench/run_all.sh build/release

clean:
	rm -rf build
