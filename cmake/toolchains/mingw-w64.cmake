# Cross-compiles Forge for 64-bit Windows with Debian's mingw-w64 (posix threading model:
# std::thread / std::mutex over winpthreads). Used by the `windows` preset; the binaries run
# here under wine (CMAKE_CROSSCOMPILING_EMULATOR), so ctest runs the Windows tests on Linux.
#   apt-get install g++-mingw-w64-x86-64-posix wine wine64   (scripts/install-deps.sh does)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_forge_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_forge_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_forge_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_forge_mingw}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${_forge_mingw})
# Programs from the host; libraries, headers and packages only from the mingw root, so no
# Linux library or header is ever picked up by accident.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# A self-contained .exe: no libgcc_s / libstdc++ / libwinpthread DLLs to ship or to find.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Debian's wine: /usr/lib/wine/wine64 runs 64-bit binaries (no wine64 on PATH).
find_program(FORGE_WINE NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT FORGE_WINE)
  find_program(FORGE_WINE NAMES wine)
endif()
if(FORGE_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FORGE_WINE})
endif()
