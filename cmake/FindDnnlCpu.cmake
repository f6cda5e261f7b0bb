# oneDNN's CPU API (libdnnl-dev) as the imported target DNNL::dnnl.
#
# Not through oneDNN's own CMake config: Debian builds oneDNN with an OpenCL GPU runtime, so
# dnnl-config.cmake demands OpenCL's development files (ocl-icd-opencl-dev, only recommended by
# libdnnl-dev), and configure failed on a fresh machine without them. edgenas calls only the
# CPU engine, whose header and library need nothing of OpenCL.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY NAMES dnnl REQUIRED)
file(STRINGS "${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h" dnnl_version_lines
     REGEX "#define DNNL_VERSION_(MAJOR|MINOR) ")
string(REGEX REPLACE ".*DNNL_VERSION_MAJOR ([0-9]+).*" "\\1" DNNL_VERSION_MAJOR "${dnnl_version_lines}")
string(REGEX REPLACE ".*DNNL_VERSION_MINOR ([0-9]+).*" "\\1" DNNL_VERSION_MINOR "${dnnl_version_lines}")
if("${DNNL_VERSION_MAJOR}.${DNNL_VERSION_MINOR}" VERSION_LESS 2.6)
  message(FATAL_ERROR "oneDNN ${DNNL_VERSION_MAJOR}.${DNNL_VERSION_MINOR} found at ${DNNL_LIBRARY}; "
                      "2.6 or newer is needed (Debian 12's libdnnl-dev)")
endif()
if(NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION "${DNNL_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${DNNL_INCLUDE_DIR}")
endif()
