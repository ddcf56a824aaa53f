#pragma once
// Reading config text into a JSON document, safely for any input: a config file, the value
// of a `--set KEY=VALUE`, or anything else a user or an attacker can put there.
//
// - read_config_file() opens with O_NONBLOCK (a FIFO never blocks), refuses anything but a
//   regular file (fstat after open: /dev/zero, FIFOs, directories) and files larger than
//   k_max_config_file_size, and reads at most the size it saw.
// - parse_config_text() refuses nesting deeper than k_max_config_depth before parsing, so
//   nothing later (validation, printing) recurses deeply; numbers outside a double's range
//   (`1e400`) and malformed JSON are Configuration errors with line and column.
// - quote_json() is what every error message uses to show a value: at most `limit` bytes
//   of it, never the whole of a 100 MB string.
// Errors: Result, never an exception. Thread-safe (no shared state).

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "forge/core/support/error.h"

namespace forge::support {

// A config is a few hundred bytes; a megabyte is a mistake (or an attack), not a config.
inline constexpr std::size_t k_max_config_file_size = 1024 * 1024;
// Config documents are three levels deep; 32 leaves room and keeps every recursion shallow.
inline constexpr std::size_t k_max_config_depth = 32;
// How much of a value an error message quotes.
inline constexpr std::size_t k_max_quoted_bytes = 80;

// Reads and parses the file; the top level must be an object. Errors name the file and
// say what to do: missing, unreadable, not a regular file, too large, too deep, malformed.
Result<nlohmann::json> read_config_file(const std::filesystem::path& file);

// Parses `text` (any bytes) into a document of any type; `origin` names the text in errors
// ("forge.json", "--set io.max_file_handles").
Result<nlohmann::json> parse_config_text(std::string_view text, std::string_view origin);

// Applies one "dotted.key=value" override; the value is parsed as JSON when it parses
// (numbers, true/false, arrays), else taken as a string. A malformed override (no `=`, or a
// document that is not an object) is a Validation error.
Result<void> apply_override(nlohmann::json& document, std::string_view assignment);

// The value as JSON text, cut to about `limit` bytes with "...(N bytes)" when longer.
// Invalid UTF-8 is replaced, never thrown about.
std::string quote_json(const nlohmann::json& value, std::size_t limit = k_max_quoted_bytes);
// Text (a key, a path) cut to about `limit` bytes the same way.
std::string quote_text(std::string_view text, std::size_t limit = k_max_quoted_bytes);

}  // namespace forge::support
