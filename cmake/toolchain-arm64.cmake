# Cross-building for the ARM64 edge boxes (Atlas 200 DK, Jetson Nano, Raspberry Pi 4) on an
# x86-64 Debian 12 machine: Debian's aarch64-linux-gnu compilers (g++-aarch64-linux-gnu) and
# a sysroot of Debian 12's arm64 packages that `deploy/install-deps.sh --arm64` extracts
# (mmdebstrap --variant=extract; why a sysroot and not multiarch: docs/ARCHITECTURE.md).
# Test programs run under qemu-aarch64 with the sysroot as their library root.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT EDGENAS_ARM64_SYSROOT)
  if(DEFINED ENV{EDGENAS_ARM64_SYSROOT})
    set(EDGENAS_ARM64_SYSROOT "$ENV{EDGENAS_ARM64_SYSROOT}")
  else()
    set(EDGENAS_ARM64_SYSROOT /opt/edgenas-sysroot-arm64)
  endif()
endif()
set(EDGENAS_ARM64_SYSROOT "${EDGENAS_ARM64_SYSROOT}" CACHE PATH "Debian 12 arm64 sysroot")
if(NOT EXISTS "${EDGENAS_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/libtorch.so")
  message(FATAL_ERROR "no arm64 sysroot at ${EDGENAS_ARM64_SYSROOT}: "
                      "run `bash deploy/install-deps.sh --arm64` (root) to make it")
endif()
set(CMAKE_SYSROOT "${EDGENAS_ARM64_SYSROOT}")

# Programs (protoc, pkg-config) from the build machine; libraries, headers and CMake packages
# only from the sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGENAS_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${EDGENAS_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${EDGENAS_ARM64_SYSROOT}/usr/share/pkgconfig")

# ctest and gtest_discover_tests run the arm64 test programs through this, on an emulated
# Cortex-A72 (the Raspberry Pi 4's core; like the Jetson's A57 and the Atlas's A55 it has no
# SVE). qemu's default CPU has SVE, and there oneDNN's plan computed h-swish wrong
# (docs/ARCHITECTURE.md, "The arm64 build").
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -cpu cortex-a72 -L "${EDGENAS_ARM64_SYSROOT}")
