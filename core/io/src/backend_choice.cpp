// The backend names a user may configure, and FORGE_IO_BACKEND over the config: the same on
// every platform (backend_selector.cpp / backend_selector_win32.cpp create the backend).
#include <cstdlib>

#include <fmt/format.h>

#include "forge/core/io/backend_selector.h"

namespace forge::io {

Result<BackendChoice> parse_backend_choice(std::string_view text) {
  if (text == "auto" || text.empty()) return BackendChoice::automatic;
  if (text == "uring" || text == "io_uring") return BackendChoice::uring;
  if (text == "fallback") return BackendChoice::fallback;
  return fail(Error(ErrorCategory::configuration, fmt::format("unknown I/O backend '{}'", text))
                  .with_suggestion("use one of: auto, uring, fallback"));
}

Result<BackendChoice> effective_backend_choice(const support::IoConfig& config) {
  if (const char* env = std::getenv("FORGE_IO_BACKEND"); env != nullptr && *env != '\0') {
    auto choice = parse_backend_choice(env);
    if (!choice) return fail(std::move(choice).error().prefixed("FORGE_IO_BACKEND"));
    return choice;
  }
  return parse_backend_choice(config.backend);
}

}  // namespace forge::io
