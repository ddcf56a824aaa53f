#pragma once
// ForgeConfig: every setting Forge reads, with the defaults used when a key is absent.
// Loaded from one JSON file (config_loader.h); CLI flags override the file. The validator
// (config_validator.h) reports every invalid field at once.
//
// JSON keys are the field names below, nested as the structs are:
//   {"project_root": ".", "store_dir": "~/.cache/forge",
//    "io": {"max_file_handles": 1024, ...}, "logging": {...}, "server": {...},
//    "cache": {"max_size": "10G", "upstream": "s3://bucket/prefix", ...}}
// Plain values: thread-compatible. Errors belong to the loader and the validator.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
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

// `forge serve`'s front ends; its flags (--http-port, --raw-prefix, ...) override these.
struct ServerConfig {
  std::vector<std::string> http_listen{"127.0.0.1:8080"};  // "host:port" or "unix:/path"
  std::vector<std::string> grpc_listen{"127.0.0.1:9092"};
  // Raw entries (ccache, Gradle) at any path under this prefix that is not one of Forge's
  // own routes: "/" (every path), "/PREFIX/" or "off".
  std::string raw_prefix = "/";
  std::string instances = "shared";  // "shared" or "isolated" (per-instance namespaces)
  bool read_only = false;            // refuse every write (HTTP 403, gRPC PERMISSION_DENIED)
};

// The local store and the tier behind it, for `forge serve` and `forge cache`; the commands'
// flags (--max-size, --upstream, ...) override these. Sizes are written as byte counts or
// strings with a binary suffix ("10G", "512M").
struct CacheConfig {
  std::optional<std::uint64_t> max_size;       // absent: unbounded, no eviction
  std::optional<std::uint64_t> max_blob_size;  // absent: the store's default (4 GiB)
  // The upstream tier: http(s)://HOST[:PORT][/PREFIX] (Bazel HTTP cache protocol) or
  // s3://BUCKET[/PREFIX]; empty: none.
  std::string upstream;
  std::string upstream_write = "behind";  // "behind" (queued) or "through" (synchronous)
  std::string s3_endpoint;                // http(s)://HOST[:PORT]; empty: AWS for the region
  std::string s3_region;                  // empty: AWS_REGION, AWS_DEFAULT_REGION, us-east-1
};

struct ForgeConfig {
  std::filesystem::path project_root = ".";
  std::filesystem::path store_dir;  // empty: $XDG_CACHE_HOME/forge or ~/.cache/forge
  IoConfig io{};
  LoggingConfig logging{};
  ServerConfig server{};
  CacheConfig cache{};
};

}  // namespace forge::support
