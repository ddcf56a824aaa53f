#pragma once
// The per-platform half of create_platform_io (backend_choice.cpp holds the shared half):
// backend_selector.cpp on Linux, backend_selector_win32.cpp on Windows. Internal header.

#include <memory>

#include "forge/core/io/backend_selector.h"

namespace forge::io::detail {

// Creates the backend `choice` names (uring or automatic: create_platform_io creates a forced
// fallback itself) with a ResourceManager already chosen (never null). A backend this
// platform cannot give is a Dependency error naming why.
Result<std::unique_ptr<PlatformIO>> create_chosen_backend(
    BackendChoice choice, const support::IoConfig& config,
    std::shared_ptr<support::ResourceManager> handles);

}  // namespace forge::io::detail
