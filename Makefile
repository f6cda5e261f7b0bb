# edgenas: the two commands a fresh Debian 12 machine needs are `make demo` and `make test`.
# Both install missing Debian packages (deploy/install-deps.sh), configure and build.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps build build-fuzz build-asan demo test test-asan fuzz format format-check tidy bench packages check-fresh clean

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

build-asan: deps
	@[ -f build/asan/build.ninja ] || cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

# The main job on an embedded default: a coordinator and a few agents on this machine.
demo: build
	@bash deploy/demo.sh build/release

# Debian packages edgenas-agent and edgenas-coordinator (docs/OPERATIONS.md).
packages: build
	cmake --build --preset release --target package

# Every test: unit, integration (real processes over loopback), fuzz smoke, format check,
# deployment (packages installed with dpkg, the Ansible role, manifests; root for dpkg).
test: build build-fuzz
	cd build/release && ctest --output-on-failure -j 2 --timeout 600

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

bench: build
	@bash deploy/install-deps.sh --bench
	@bash bench/run_all.sh build/release

clean:
	rm -rf build
