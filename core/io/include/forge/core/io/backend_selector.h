#pragma once
// Chooses the I/O backend: io_uring when the kernel offers it and it works (IOCP on
// Windows), else the thread-pool fallback, which is built on both (Property 2). The probe
// runs once per process and explains itself.
//
// Precedence: FORGE_IO_BACKEND (uring|fallback|auto) over IoConfig::backend. Forcing
// "uring" where it cannot work is a Dependency error naming the reason; "auto" falls back.
// Thread-safe.

#include <memory>
#include <string>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/config.h"
#include "forge/core/support/resource_manager.h"

namespace forge::io {

enum class BackendChoice { automatic, uring, fallback };

struct BackendProbe {
  bool uring_available = false;
  std::string reason;  // why (or why not): "io_uring_setup ok (kernel 6.1)", "EPERM ..."
};

// Probes io_uring once (sysctl kernel.io_uring_disabled, then a real ring setup, which
// fails with ENOSYS on old kernels and EPERM under seccomp/containers). Cached.
const BackendProbe& probe_io_uring();

// Parses "auto" | "uring" | "io_uring" | "fallback" (else a Configuration error).
Result<BackendChoice> parse_backend_choice(std::string_view text);

// The choice after applying FORGE_IO_BACKEND over config.backend.
Result<BackendChoice> effective_backend_choice(const support::IoConfig& config);

// Creates the backend. Owns a ResourceManager(config.max_file_handles) unless one is given
// (share one per process so every backend counts against the same limit).
Result<std::unique_ptr<PlatformIO>> create_platform_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles = nullptr);

// The backends themselves; tests use them directly to run one suite against each.
std::unique_ptr<PlatformIO> create_fallback_io(const support::IoConfig& config,
                                               std::shared_ptr<support::ResourceManager> handles);
// Fails with a Dependency error when io_uring cannot be set up here. With
// `verify == false` (the probe already succeeded) no ring is set up until the first batch:
// a run that hashes nothing never pins the 8 MiB of ring buffers.
Result<std::unique_ptr<PlatformIO>> create_uring_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles,
    bool verify = true);

}  // namespace forge::io
