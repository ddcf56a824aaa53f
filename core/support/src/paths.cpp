#include "forge/core/support/paths.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace forge {

std::filesystem::path forge_cache_home() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "forge";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "forge";
  }
  return std::filesystem::path("/tmp") / ("forge-" + std::to_string(::getuid()));
}

}  // namespace forge
