# The Windows build (cmake/toolchains/mingw-w64.cmake, preset `windows`): the ported part of
# forge_core and its tests. Included by the top-level CMakeLists.txt instead of the Linux
# dependency set when WIN32. Third-party code comes from Debian only:
# - fmt (header-only), spdlog (header-only), nlohmann_json, xxhash (XXH_INLINE_ALL): the
#   headers of Debian's -dev packages, staged into the build tree one directory at a time so
#   that no other Linux header is ever on the include path;
# - GoogleTest: built from the sources Debian ships in /usr/src/googletest (libgtest-dev).
# SHA-256 is Windows CNG (bcrypt), so OpenSSL is not needed.
find_package(Threads REQUIRED)

set(_forge_staged ${CMAKE_BINARY_DIR}/third_party/include)
file(MAKE_DIRECTORY ${_forge_staged})
foreach(item fmt spdlog nlohmann xxhash.h)
  if(NOT EXISTS /usr/include/${item})
    message(FATAL_ERROR "/usr/include/${item} is missing: run scripts/install-deps.sh "
                        "(libfmt-dev libspdlog-dev nlohmann-json3-dev libxxhash-dev)")
  endif()
  file(CREATE_LINK /usr/include/${item} ${_forge_staged}/${item} SYMBOLIC)
endforeach()
add_library(forge_third_party INTERFACE)
target_include_directories(forge_third_party SYSTEM INTERFACE ${_forge_staged})
target_compile_definitions(forge_third_party INTERFACE FMT_HEADER_ONLY SPDLOG_FMT_EXTERNAL
                                                       XXH_INLINE_ALL)
add_library(fmt::fmt ALIAS forge_third_party)
add_library(spdlog::spdlog ALIAS forge_third_party)
add_library(nlohmann_json::nlohmann_json ALIAS forge_third_party)

# LMDB and zstd: static libraries built from Debian's source packages by
# scripts/build-windows-deps.sh into FORGE_WINDOWS_DEPS (build/windows-deps by default).
set(FORGE_WINDOWS_DEPS "${PROJECT_SOURCE_DIR}/build/windows-deps" CACHE PATH
    "Prefix of the Windows LMDB/zstd build (scripts/build-windows-deps.sh PREFIX)")
foreach(lib lmdb zstd)
  if(NOT EXISTS ${FORGE_WINDOWS_DEPS}/lib/lib${lib}.a)
    message(FATAL_ERROR "${FORGE_WINDOWS_DEPS}/lib/lib${lib}.a is missing: run "
                        "scripts/build-windows-deps.sh ${FORGE_WINDOWS_DEPS}")
  endif()
  add_library(forge_win_${lib} STATIC IMPORTED)
  set_target_properties(forge_win_${lib} PROPERTIES
    IMPORTED_LOCATION ${FORGE_WINDOWS_DEPS}/lib/lib${lib}.a
    INTERFACE_INCLUDE_DIRECTORIES ${FORGE_WINDOWS_DEPS}/include)
endforeach()
add_library(PkgConfig::LMDB ALIAS forge_win_lmdb)
add_library(PkgConfig::ZSTD ALIAS forge_win_zstd)

add_library(forge_settings INTERFACE)
target_compile_features(forge_settings INTERFACE cxx_std_23)
# Windows 10 APIs, wide-character Win32 calls, and no min/max macros; the POSIX names the
# portable sources use come from one force-included header.
target_compile_definitions(forge_settings INTERFACE _WIN32_WINNT=0x0A00 WINVER=0x0A00 UNICODE
                                                    _UNICODE WIN32_LEAN_AND_MEAN NOMINMAX)
target_compile_options(forge_settings INTERFACE
  "SHELL:-include ${PROJECT_SOURCE_DIR}/core/support/include/forge/core/support/posix_compat_win32.h")
add_library(forge_warnings INTERFACE)
target_compile_options(forge_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)

add_library(forge_core STATIC)
target_link_libraries(forge_core
  PUBLIC forge_third_party Threads::Threads forge_settings
  PRIVATE forge_warnings bcrypt PkgConfig::LMDB)
foreach(part support hash io store scan watch)
  add_subdirectory(core/${part})
endforeach()

# The `forge` executable with the commands ported so far (docs/windows.md); the command
# table is cli/main.cpp's, as on Linux. wire_json.cpp is the agent's JSON shape of a change,
# which `forge scan --json` prints; the rest of the agent (a Unix socket server) is not built.
add_library(forge_cli_support STATIC cli/args.cpp)
target_include_directories(forge_cli_support PUBLIC ${PROJECT_SOURCE_DIR}/cli
                                                    ${CMAKE_BINARY_DIR}/cli/generated
                                                    ${PROJECT_SOURCE_DIR}/plugins/agent/include)
configure_file(cli/version.h.in ${CMAKE_BINARY_DIR}/cli/generated/forge/version.h @ONLY)
target_link_libraries(forge_cli_support PUBLIC forge_core PRIVATE forge_warnings)
add_executable(forge
  cli/main.cpp
  cli/hash_command.cpp
  cli/scan_command.cpp
  cli/config_command.cpp
  cli/doctor_command.cpp
  cli/watch_command.cpp
  plugins/agent/src/wire_json.cpp
)
target_link_libraries(forge PRIVATE forge_cli_support forge_core forge_warnings)

if(FORGE_BUILD_TESTS)
  enable_testing()
  if(NOT EXISTS /usr/src/googletest/CMakeLists.txt)
    message(FATAL_ERROR "/usr/src/googletest is missing: run scripts/install-deps.sh (libgtest-dev)")
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(gtest_disable_pthreads ON CACHE BOOL "" FORCE)  # Win32 threads inside gtest
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
  add_subdirectory(tests/windows)
endif()
