#pragma once
// The JSON shapes shared by the agent, its clients and `forge scan --json`: a scan::Change,
// and a per-path error. One definition, so an answer through the agent and one computed
// locally are the same bytes. Pure functions; thread-safe.

#include <nlohmann/json.hpp>

#include "forge/core/scan/scanner.h"
#include "forge/core/support/error.h"

namespace forge::agent {

// {"path", "change", "type", "xxh3"?, "sha256"?, "target"? (symlinks)}
nlohmann::json change_to_json(const scan::Change& change);
// The inverse; Validation error on a malformed entry.
Result<scan::Change> change_from_json(const nlohmann::json& entry);

// {"category", "code", "message"} and back (an unknown category reads as unknown).
nlohmann::json error_to_json(const Error& error);
Error error_from_json(const nlohmann::json& entry);

}  // namespace forge::agent
