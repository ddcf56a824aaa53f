#include "forge/core/support/paths.h"

#ifndef _WIN32
#include <unistd.h>
#endif

#include <cstdlib>
#include <string>

namespace forge {

std::filesystem::path forge_cache_home() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "forge";
  }
#ifdef _WIN32
  if (const char* local = std::getenv("LOCALAPPDATA"); local != nullptr && *local != '\0') {
    return std::filesystem::path(local) / "forge";
  }
#endif
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "forge";
  }
#ifdef _WIN32
  return std::filesystem::temp_directory_path() / "forge";
#else
  return std::filesystem::path("/tmp") / ("forge-" + std::to_string(::getuid()));
#endif
}

}  // namespace forge
