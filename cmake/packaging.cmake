# Debian packages built by CPack from the install() components (cmake/install.cmake):
#   forge         bin      the forge and forge-serve executables
#   libforge0     runtime  libforge.so.0 (the C API)
#   libforge-dev  dev      headers, static libraries, libforge.so, CMake and pkg-config files
# `cpack -G DEB` in the build directory writes them (tests/capi/deb_test.sh checks them with
# lintian). Run-time dependencies come from dpkg-shlibdeps; libforge-dev depends on the -dev
# packages its static libraries and headers need.
set(FORGE_DEB_MAINTAINER "Forge developers <forge-dev@lists.forge-build.org>")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME forge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FORGE_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo objects: lintian rejects unstripped binaries
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL bin runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_BIN_PACKAGE_NAME forge)
set(CPACK_DEBIAN_BIN_PACKAGE_SECTION devel)
# libcurl is loaded at run time when an upstream cache is used (cache/src/libcurl_loader.h),
# so dpkg-shlibdeps cannot see it.
set(CPACK_DEBIAN_BIN_PACKAGE_DEPENDS "libcurl4")
set(CPACK_COMPONENT_BIN_DESCRIPTION
    "content-addressed build cache and change detection engine\n"
    "Forge hashes trees with io_uring, keeps a change index of a source tree\n"
    "in LMDB, and serves a content-addressed store over the Bazel remote cache\n"
    "HTTP and gRPC protocols. This package holds forge and forge-serve.")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libforge0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# A shlibs file (dependents get "libforge0 (>= version)") and an ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/triggers)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "Forge build cache and change detection engine (C API library)\n"
    "libforge is the stable C interface to Forge: batch file hashing through\n"
    "io_uring, change detection over a source tree, and a content-addressed\n"
    "store with an action cache, for build tools in C, Python, Rust or Go.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libforge-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libspdlog-dev, libfmt-dev, nlohmann-json3-dev, libssl-dev, liburing-dev, libxxhash-dev, liblmdb-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Forge build cache and change detection engine (development files)\n"
    "Headers of the C API (forge/forge.h) and of the C++ libraries, the\n"
    "static libraries, the CMake package (find_package(Forge CONFIG)) and\n"
    "forge.pc for pkg-config.")

# Every package carries the copyright file and a changelog, as Debian policy asks.
foreach(pair bin:forge runtime:libforge0 dev:libforge-dev)
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 component)
  list(GET pair 1 FORGE_DEB_PACKAGE)
  set(doc_dir ${PROJECT_BINARY_DIR}/debian/${FORGE_DEB_PACKAGE})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog.in ${doc_dir}/changelog @ONLY)
  execute_process(COMMAND gzip -9nf ${doc_dir}/changelog)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${doc_dir}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${FORGE_DEB_PACKAGE}
          COMPONENT ${component})
endforeach()

include(CPack)
