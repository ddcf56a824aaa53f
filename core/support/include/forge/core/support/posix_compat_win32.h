#pragma once
// Windows (mingw-w64) only: the POSIX names the portable sources use that the mingw CRT lacks.
// Force-included into every translation unit of the Windows build (cmake/windows.cmake), so
// shared sources need no #ifdef for them. Never included on Linux.
//
// The errno values are above the CRT's range (its last is EWOULDBLOCK, 140), so they never
// collide with a real CRT error; the CRT never returns them, only Forge code that names them.
// Declarations and constants only: no state, so nothing to guard between threads.

#ifndef _WIN32
#error "posix_compat_win32.h is for the Windows build only"
#endif

#include <errno.h>
#include <string.h>

#ifndef EDQUOT
#define EDQUOT 201
#endif
#ifndef EHOSTDOWN
#define EHOSTDOWN 202
#endif
#ifndef ELIBBAD
#define ELIBBAD 203
#endif
#ifndef ENOPKG
#define ENOPKG 204
#endif
#ifndef ESTALE
#define ESTALE 205
#endif
#ifndef ESHUTDOWN
#define ESHUTDOWN 206
#endif

#ifdef __cplusplus
// GNU strerror_r (returns the text, which may or may not be in `buf`) over strerror_s.
inline char* strerror_r(int error_number, char* buf, size_t size) {
  if (strerror_s(buf, size, error_number) != 0 && size > 0) buf[0] = '\0';
  return buf;
}
#endif

// Symlinks (reparse points) in FileStat::mode, as lstat would report them.
#include <sys/stat.h>
#ifndef S_IFLNK
#define S_IFLNK 0xA000
#endif
#ifndef S_ISLNK
#define S_ISLNK(mode) (((mode)&S_IFMT) == S_IFLNK)
#endif
