#pragma once
// The agent's own config file (`forge agent --config FILE`), re-read on SIGHUP:
//
//   {"version": 1,
//    "socket": "/run/user/1000/forge/agent.sock",   // default: default_socket_path()
//    "store_dir": "/var/cache/forge",               // default: the global config's store_dir
//    "workspaces": ["/src/a", "/src/b"],            // watched trees (kept as canonical paths)
//    "max_connections": 64,                         // 1..4096
//    "serve": ["--http-port", "8080"]}              // run `forge serve --dir STORE_DIR ...`
// Unknown keys are errors (a typo must not pass silently). Pure; thread-safe.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "forge/core/support/config.h"
#include "forge/core/support/error.h"

namespace forge::agent {

inline constexpr int k_agent_config_version = 1;

struct AgentConfig {
  std::filesystem::path socket;
  std::filesystem::path store_dir;  // empty: the caller's default
  std::vector<std::filesystem::path> workspaces;
  std::size_t max_connections = 64;  // idle clients beyond this are refused, not queued
  // Present: the agent runs `forge serve --dir <store_dir> <serve_args>` beside itself.
  std::optional<std::vector<std::string>> serve_args;
  // Not in FILE: the global config's "cache" section (its upstream tier: agent_upstream.h).
  support::CacheConfig cache;
};

// $XDG_RUNTIME_DIR/forge/agent.sock, else /tmp/forge-<uid>/agent.sock.
std::filesystem::path default_socket_path();

// Reads and validates FILE; errors name the file and the field. Workspaces must exist.
Result<AgentConfig> load_agent_config(const std::filesystem::path& file);

}  // namespace forge::agent
