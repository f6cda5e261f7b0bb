# Debian packages with CPack: edgenas-agent (the daemon without libtorch, plus edgenas-search)
# and edgenas-coordinator (with edgenasctl and the predictor trainer). Build them with
#   cmake --build build/release --target package      (or: make packages)
# Config in /etc/edgenas, state in /var/lib/edgenas (made by the postinst scripts and systemd's
# StateDirectory), units in /lib/systemd/system.

set(pkg ${PROJECT_SOURCE_DIR}/deploy)

install(FILES ${pkg}/config/agent.toml DESTINATION /etc/edgenas COMPONENT agent)
# Device profiles: the agent's simulated probes and the latency models of devices not on the box.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/simulations/profiles DESTINATION share/edgenas COMPONENT agent)
install(FILES ${pkg}/systemd/edgenas-agent.service DESTINATION /lib/systemd/system COMPONENT agent)
install(FILES ${pkg}/config/coordinator.toml DESTINATION /etc/edgenas COMPONENT coordinator)
install(FILES ${pkg}/systemd/edgenas-coordinator.service DESTINATION /lib/systemd/system
        COMPONENT coordinator)
foreach(c agent coordinator)
  # One copy per package (two packages may not ship the same path).
  install(FILES ${pkg}/debian/common-postinst.sh DESTINATION share/edgenas-${c} COMPONENT ${c})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md ${PROJECT_SOURCE_DIR}/docs/PROTOCOL.md
          DESTINATION share/doc/edgenas-${c} COMPONENT ${c})
endforeach()

# /etc files are conffiles: an upgrade keeps the admin's edits.
file(WRITE ${CMAKE_BINARY_DIR}/deb/agent/conffiles "/etc/edgenas/agent.toml\n")
file(WRITE ${CMAKE_BINARY_DIR}/deb/coordinator/conffiles "/etc/edgenas/coordinator.toml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgenas)
set(CPACK_PACKAGE_VENDOR "edgenas")
set(CPACK_PACKAGE_CONTACT "edgenas maintainers <edgenas@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent coordinator)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Stripped, as Debian ships binaries (the build keeps its debug info): the arm64 agent package
# went from 37 MB to a fraction of it, and it is copied to every box.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/edgenas")

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME edgenas-agent)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "edgenas agent: reports this edge box's Job and Source matrices to the coordinator and runs the NAS (edgenas-search, libtorch) inside the hyperparameters it is given")
# libtorch takes whatever libblas.so.3 is; trainings side by side need a thread-safe one
# (common/ml/threads.hpp).
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser, util-linux, libopenblas0-pthread")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${pkg}/debian/agent/postinst ${pkg}/debian/agent/prerm ${pkg}/debian/agent/postrm
    ${CMAKE_BINARY_DIR}/deb/agent/conffiles)

set(CPACK_DEBIAN_COORDINATOR_PACKAGE_NAME edgenas-coordinator)
set(CPACK_COMPONENT_COORDINATOR_DESCRIPTION
    "edgenas coordinator: pools the fleet's traces, trains the hyperparameter predictor and serves it; with edgenasctl")
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_DEPENDS "adduser, libopenblas0-pthread")
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_CONTROL_EXTRA
    ${pkg}/debian/coordinator/postinst ${pkg}/debian/coordinator/prerm
    ${pkg}/debian/coordinator/postrm ${CMAKE_BINARY_DIR}/deb/coordinator/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The arm64 build (cmake/toolchain-arm64.cmake) packages the agent only, for arm64, with its
# Depends computed by dpkg-shlibdeps against the sysroot's arm64 libraries: the sysroot's dpkg
# database (made by install-deps) names their packages and holds their symbols files.
if(CMAKE_CROSSCOMPILING)
  set(CPACK_COMPONENTS_ALL agent)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      ${CMAKE_SYSROOT}/usr/lib/aarch64-linux-gnu ${CMAKE_SYSROOT}/lib/aarch64-linux-gnu
      ${CMAKE_SYSROOT}/usr/lib/aarch64-linux-gnu/openblas-pthread)
  set(EDGENAS_PACKAGE_ADMINDIR ${CMAKE_SYSROOT}/var/lib/dpkg)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/cpack-arm64.cmake.in ${CMAKE_BINARY_DIR}/cpack-arm64.cmake
                 @ONLY)
  set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/cpack-arm64.cmake)
endif()

include(CPack)
