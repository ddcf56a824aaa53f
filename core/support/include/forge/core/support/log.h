#pragma once
// Structured logging over spdlog.
//
// - init_logging() installs the process-wide default logger: JSON lines or a human format
//   on stderr, plus an optional size-rotated file sink (LoggingConfig::file,
//   max_file_size, max_files: Property 20). Safe to call again (replaces the sinks).
// - A JSON line always has "timestamp" (RFC 3339, UTC, milliseconds), "level" and
//   "message", then the structured fields passed with it (Property 16).
// - The level filter (trace < debug < info < warn < error < off) comes from the config,
//   overridden by FORGE_LOG, overridden by the CLI flag (Property 17).
// - OperationTimer logs a warning naming the operation and its duration when it took
//   longer than slow_operation_threshold (Property 19), and records the duration in the
//   metrics histogram "<operation>_duration".
// - install_crash_handler(): a terminate handler and fatal-signal handlers that write a
//   fixed message and a backtrace with async-signal-safe calls only, flush what spdlog
//   can, then re-raise so the exit status still says "killed by signal".
// Thread-safe: every function may be called from any thread after init_logging().

#include <chrono>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <nlohmann/json.hpp>

#include "forge/core/support/config.h"
#include "forge/core/support/error.h"

namespace forge::support {

// Parses "trace" ... "off"; anything else is a Configuration error with the valid names.
Result<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Applies FORGE_LOG (if set and valid) over config.level. Returns the effective config.
LoggingConfig with_environment(LoggingConfig config);

Result<void> init_logging(const LoggingConfig& config);

// Whether a line at `level` would be written: callers that build costly fields (access
// logs) check this first. False before init_logging() installs a logger.
bool log_enabled(spdlog::level::level_enum level);

// Logs `message` at `level` with structured fields (a JSON object; ignored keys: none).
void log(spdlog::level::level_enum level, std::string_view message,
         const nlohmann::json& fields = nlohmann::json::object());
// Logs an Error with its category, code, context and suggestions as fields.
void log_error(const Error& error, spdlog::level::level_enum level = spdlog::level::err);

// Formats one JSON log line (no newline); exposed for tests and for other sinks.
std::string format_json_line(std::chrono::system_clock::time_point time,
                             spdlog::level::level_enum level, std::string_view message,
                             const nlohmann::json& fields);

class OperationTimer {
 public:
  // `threshold` defaults to the threshold given to init_logging().
  explicit OperationTimer(std::string operation, nlohmann::json fields = nlohmann::json::object());
  OperationTimer(std::string operation, std::chrono::nanoseconds threshold,
                 nlohmann::json fields = nlohmann::json::object());
  ~OperationTimer();  // calls finish() if not called yet
  OperationTimer(const OperationTimer&) = delete;
  OperationTimer& operator=(const OperationTimer&) = delete;
  // Records the duration; returns it. Idempotent.
  std::chrono::nanoseconds finish();

 private:
  std::string m_operation;
  std::chrono::nanoseconds m_threshold;
  nlohmann::json m_fields;
  std::chrono::steady_clock::time_point m_start;
  bool m_finished = false;
  std::chrono::nanoseconds m_duration{0};
};

void install_crash_handler();

}  // namespace forge::support
