# install() rules: libforge.so (C API), the static C++ libraries and their headers, the
# executables, the CMake package (find_package(Forge CONFIG)) and forge.pc.
#
# Components (one Debian package each, see cmake/packaging.cmake):
#   bin      forge, forge-serve                                      -> forge
#   runtime  libforge.so.0*                                          -> libforge0
#   dev      headers, static libraries, libforge.so, cmake + pkg-config -> libforge-dev
#
# The package has two export sets so a C consumer never needs the C++ dependencies:
#   ForgeCTargets.cmake    Forge::forge (libforge.so; needs nothing else)
#   ForgeCxxTargets.cmake  Forge::core, Forge::cache (static; need spdlog, fmt, ...),
#                          loaded when those are found (component `cxx` requires it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FORGE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Forge)

# The libraries' folders name their include dirs by source path; an installed target must
# name the install tree instead.
foreach(target forge_core forge_cache)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(relocatable "")
  foreach(dir IN LISTS dirs)
    if(dir MATCHES "^\\$<")
      list(APPEND relocatable "${dir}")
    else()
      list(APPEND relocatable "$<BUILD_INTERFACE:${dir}>")
    endif()
  endforeach()
  list(APPEND relocatable "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${relocatable}")
endforeach()
set_target_properties(forge_core PROPERTIES EXPORT_NAME core)
set_target_properties(forge_cache PROPERTIES EXPORT_NAME cache)

install(TARGETS forge forge-serve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
# The agent's systemd user unit (ExecStart=/usr/bin/forge: right for the packages, which
# install under /usr; tests/capi/deb_agent_probe.sh runs its command in a fresh root).
install(FILES packaging/systemd/forge-agent.service DESTINATION lib/systemd/user COMPONENT bin)

install(TARGETS forge_capi EXPORT ForgeCTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(FILES include/forge/forge.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/forge COMPONENT dev)

# forge_settings / forge_warnings reach consumers only as $<LINK_ONLY:...> of the static
# libraries (they add no link flags), but an export set must contain them.
install(TARGETS forge_core forge_cache forge_settings forge_warnings EXPORT ForgeCxxTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
# `cmake --install --strip` (and cpack, CPACK_STRIP_FILES) strips executables and shared
# libraries only; the static libraries lose their debug info here (about 2/3 of their size).
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    foreach(lib $<TARGET_FILE_NAME:forge_core> $<TARGET_FILE_NAME:forge_cache>)
      execute_process(COMMAND ${CMAKE_STRIP} --strip-debug
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/\${lib}\")
    endforeach()
  endif()" COMPONENT dev)
foreach(dir core/support core/hash core/io core/store core/scan core/watch cache)
  install(DIRECTORY ${dir}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
          FILES_MATCHING PATTERN "*.h")
endforeach()

install(EXPORT ForgeCTargets NAMESPACE Forge:: DESTINATION ${FORGE_CMAKE_DIR} COMPONENT dev)
install(EXPORT ForgeCxxTargets NAMESPACE Forge:: DESTINATION ${FORGE_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/ForgeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ForgeConfig.cmake INSTALL_DESTINATION ${FORGE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ForgeConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ForgeConfig.cmake ${PROJECT_BINARY_DIR}/ForgeConfigVersion.cmake
        DESTINATION ${FORGE_CMAKE_DIR} COMPONENT dev)

# forge.pc finds its prefix relative to itself, so `cmake --install --prefix X` works for
# any X without reconfiguring.
file(RELATIVE_PATH FORGE_PC_TO_PREFIX
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/forge.pc.in ${PROJECT_BINARY_DIR}/forge.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/forge.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)
