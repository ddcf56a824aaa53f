// The backend names a user may configure, FORGE_IO_BACKEND over the config, and the
// ResourceManager of a new backend: the same on every platform (backend_selector.cpp /
// backend_selector_win32.cpp create the chosen backend).
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chosen_backend.h"
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

Result<std::unique_ptr<PlatformIO>> create_platform_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles) {
  if (!handles) handles = std::make_shared<support::ResourceManager>(config.max_file_handles);
  FORGE_TRY(const BackendChoice choice, effective_backend_choice(config));
  if (choice == BackendChoice::fallback) {  // the same portable backend on every platform
    spdlog::debug("io backend: fallback (forced by configuration)");
    return create_fallback_io(config, std::move(handles));
  }
  return detail::create_chosen_backend(choice, config, std::move(handles));
}

}  // namespace forge::io
