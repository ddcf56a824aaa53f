#include "forge/core/io/backend_selector.h"

#include <sys/utsname.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "chosen_backend.h"

namespace forge::io {
namespace {

std::string kernel_release() {
  utsname name{};
  if (uname(&name) != 0) return "unknown";
  return name.release;
}

BackendProbe run_probe() {
  // kernel.io_uring_disabled: 0 enabled, 1 only for io_uring_group, 2 disabled (6.6+).
  std::ifstream sysctl("/proc/sys/kernel/io_uring_disabled");
  int disabled = 0;
  if (sysctl >> disabled && disabled == 2) {
    return {false, "kernel.io_uring_disabled=2: io_uring is switched off by sysctl"};
  }
  support::IoConfig config;
  config.io_uring_queue_depth = 8;
  auto io = create_uring_io(config, std::make_shared<support::ResourceManager>(8));
  if (!io) {
    return {false, fmt::format("io_uring setup failed on kernel {}: {}", kernel_release(),
                               io.error().summary())};
  }
  return {true, fmt::format("io_uring works on kernel {} (ring, registered buffers and direct "
                            "descriptors set up)",
                            kernel_release())};
}

}  // namespace

const BackendProbe& probe_io_uring() {
  static const BackendProbe k_probe = run_probe();
  return k_probe;
}

namespace detail {

Result<std::unique_ptr<PlatformIO>> create_chosen_backend(
    BackendChoice choice, const support::IoConfig& config,
    std::shared_ptr<support::ResourceManager> handles) {
  switch (choice) {
    case BackendChoice::uring: return create_uring_io(config, std::move(handles));
    case BackendChoice::automatic:
    default: {
      const BackendProbe& probe = probe_io_uring();
      if (probe.uring_available) {
        auto io = create_uring_io(config, handles, /*verify=*/false);
        if (io) {
          spdlog::debug("io backend: io_uring ({})", probe.reason);
          return io;
        }
        spdlog::warn("io backend: fallback, io_uring failed: {}", io.error().summary());
      } else {
        spdlog::info("io backend: fallback ({})", probe.reason);
      }
      return create_fallback_io(config, std::move(handles));
    }
  }
}

}  // namespace detail

}  // namespace forge::io
