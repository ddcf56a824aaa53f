#pragma once
// SIGHUP as a reload request: the handler only sets a flag (async-signal-safe); the
// controlling thread polls take_reload_request() between its waits.
// Process-wide; thread-safe.

#include "forge/core/support/error.h"

namespace forge::agent {

Result<void> install_reload_handler();
// True once per SIGHUP received since the last call (several coalesce into one).
bool take_reload_request();

}  // namespace forge::agent
