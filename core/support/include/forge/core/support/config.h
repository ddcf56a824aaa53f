#pragma once
// ForgeConfig: every setting Forge reads, with the defaults used when a key is absent.
// Loaded from one JSON file (config_loader.h); CLI flags override the file. The validator
// (config_validator.h) reports every invalid field at once.
//
// JSON keys are the field names below, nested as the structs are:
//   {"project_root": ".", "store_dir": "~/.cache/forge",
//    "io": {"max_file_handles": 1024, ...}, "logging": {...}, "server": {...}}

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace forge::support {

struct IoConfig {
  // Bounds open descriptors across all backends (ResourceManager); well under the
  // common 1024 soft RLIMIT_NOFILE minus stdio, sockets and LMDB.
  std::size_t max_file_handles = 1024;
  // Submission queue entries. 256 keeps a few hundred opens/reads in flight, enough to
  // saturate NVMe, while the ring stays small (a few pages).
  std::uint32_t io_uring_queue_depth = 256;
  // "auto", "uring" or "fallback"; FORGE_IO_BACKEND overrides it.
  std::string backend = "auto";
};

enum class LogFormat { json, human };

struct LoggingConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  LogFormat format = LogFormat::human;
  std::filesystem::path file;  // empty: stderr only
  bool to_stderr = true;       // false: the file only (tests, daemons with a log file)
  std::size_t max_file_size = 100ull * 1024 * 1024;  // rotate at 100 MB (Property 20)
  std::size_t max_files = 5;                         // rotated files kept
  // Timed operations slower than this log a warning (Property 19).
  std::chrono::milliseconds slow_operation_threshold{1000};
};

struct ServerConfig {
  std::vector<std::string> http_listen{"127.0.0.1:8080"};  // "host:port" or "unix:/path"
  std::vector<std::string> grpc_listen{"127.0.0.1:9092"};
};

struct ForgeConfig {
  std::filesystem::path project_root = ".";
  std::filesystem::path store_dir;  // empty: $XDG_CACHE_HOME/forge or ~/.cache/forge
  IoConfig io{};
  LoggingConfig logging{};
  ServerConfig server{};
};

}  // namespace forge::support
