#pragma once
// Loading and validating the Forge config file (one JSON object; see config.h for the
// fields and their defaults).
//
// Keys are the ForgeConfig field names, nested as the structs are.
// Paths may start with `~/`. Every key is optional and has a default.
// Reading text into a document safely (files, overrides) is config_file.h.
//
// check_config() reports EVERY problem at once (Property 15):
// wrong types, out-of-range values, paths that do not exist, malformed listen addresses
// (`host:port`, `[v6]:port`) and unknown keys with a did-you-mean.
// Overrides (`--set io.max_file_handles=512`) are applied to the JSON before checking, so
// they are validated exactly like the file. Whatever the document holds, issues quote at
// most a bounded part of any value or key (config_file.h's quote_json).
// Thread-compatible; reads the file system (path checks, RLIMIT_NOFILE).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/core/support/config.h"
#include "forge/core/support/config_file.h"
#include "forge/core/support/error.h"

namespace forge::support {

struct ConfigIssue {
  std::string field;       // dotted path: "io.max_file_handles"
  std::string problem;     // what is wrong with the value
  std::string expected;    // the valid range or form
  std::string suggestion;  // what to do
};

// Every problem of the document, in a stable order (by field). Empty: valid.
std::vector<ConfigIssue> check_config(const nlohmann::json& document);

// A Validation error listing (the first of) `issues`.
Error config_error(const std::vector<ConfigIssue>& issues);

// The document's value at a dotted key ("io.backend"), or nullptr.
const nlohmann::json* find_key(const nlohmann::json& document, std::string_view dotted);

// Every key a config may hold, dotted ("io.backend"), in a stable order.
std::vector<std::string> config_keys();

// A listen address: "host:port" or "[v6 address]:port", port 0..65535 (0: any free port).
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(std::string_view address);

// Maps a document that check_config() accepted onto ForgeConfig (defaults for absent keys).
// Fails with a Validation error listing the first issues if the document is invalid.
Result<ForgeConfig> config_from_json(const nlohmann::json& document);

// The effective config as JSON (for `forge config show`).
nlohmann::json config_to_json(const ForgeConfig& config);

// One-line form of an issue, for terminals: "field: problem (expected ...); suggestion".
std::string to_string(const ConfigIssue& issue);

// Levenshtein distance, for did-you-mean; exposed for tests.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace forge::support
