#pragma once
// The systemd notification protocol (sd_notify(3)): one datagram with "KEY=VALUE" lines sent
// to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
// namespace). Without $NOTIFY_SOCKET it does nothing and succeeds (not under systemd).
// Thread-safe; does not block (a full socket buffer is an error).

#include <string_view>

#include "forge/core/support/error.h"

namespace forge::agent {

Result<void> sd_notify(std::string_view state);  // e.g. "READY=1", "STOPPING=1"

}  // namespace forge::agent
