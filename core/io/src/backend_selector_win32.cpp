// The backend selector of the Windows build (backend_selector.cpp is the Linux one): IOCP
// unless the fallback (a thread pool over synchronous ReadFile) is asked for. Choosing
// io_uring is an error naming the reason.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chosen_backend.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/io/iocp_io_win32.h"
#include "forge/core/support/platform.h"

namespace forge::io {
namespace {

Error not_on_windows(std::string_view backend, std::string_view why) {
  return Error(ErrorCategory::dependency,
               fmt::format("the {} I/O backend is not available on Windows: {}", backend, why))
      .with_operation("io.backend")
      .with_backend(backend)
      .with_suggestion(
          "use io.backend = \"auto\" (I/O completion ports) or \"fallback\" (synchronous "
          "reads on a thread pool), or unset FORGE_IO_BACKEND");
}

}  // namespace

const BackendProbe& probe_io_uring() {
  static const BackendProbe k_probe{
      false, fmt::format("io_uring is Linux-only; this is Windows {}, where Forge reads through "
                         "I/O completion ports (iocp)",
                         support::detect_platform().kernel_release)};
  return k_probe;
}

namespace detail {

Result<std::unique_ptr<PlatformIO>> create_chosen_backend(
    BackendChoice choice, const support::IoConfig& config,
    std::shared_ptr<support::ResourceManager> handles) {
  switch (choice) {
    case BackendChoice::uring: return fail(not_on_windows("io_uring", "it is a Linux kernel API"));
    case BackendChoice::automatic:
    default: {
      auto io = create_iocp_io(config, handles);
      if (io) {
        spdlog::debug("io backend: iocp ({})", probe_io_uring().reason);
        return io;
      }
      spdlog::warn("io backend: fallback, IOCP failed: {}", io.error().summary());
      return create_fallback_io(config, std::move(handles));
    }
  }
}

}  // namespace detail

}  // namespace forge::io
