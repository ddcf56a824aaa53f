#pragma once
// Reader and appender for Ninja's binary deps log, `.ninja_deps` (version 4, Ninja 1.10+).
//
// Layout (all integers 32-bit, host byte order, which the version doubles as a mark of):
//   "# ninjadeps\n" (12 bytes), version = 4
//   then records, each starting with a u32 size (of the record body, a multiple of 4):
//   - path record (size high bit clear): the path, NUL-padded to a multiple of 4, then a
//     u32 checksum = ~id, where id is the number of path records before it (ids are dense)
//   - deps record (size high bit set): i32 output id, the output's mtime as two u32
//     (low word, high word), then one i32 id per dependency
// A record body is at most k_deps_max_record_size bytes. An output's newest deps record
// wins. Ninja itself truncates a log whose tail is cut off or invalid; Forge instead
// reports it (a Validation error naming the file and offset) and leaves it to Ninja.
//
// Threading: free functions and a value type; callers serialise writers (settle.h's lock).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::ninja {

inline constexpr std::string_view k_deps_signature = "# ninjadeps\n";
inline constexpr std::uint32_t k_deps_version = 4;
inline constexpr std::uint32_t k_deps_max_record_size = (1u << 19) - 1;  // Ninja's limit
static_assert(k_deps_signature.size() % 4 == 0, "records stay 4-byte aligned after the header");

struct DepsRecord {
  std::int64_t mtime = 0;
  std::vector<std::int32_t> deps;  // ids into DepsLog::paths
};

struct DepsLog {
  std::vector<std::string> paths;                     // by id
  std::unordered_map<std::string, std::int32_t> ids;  // path -> id
  std::vector<std::optional<DepsRecord>> records;     // by output id; newest wins
  std::size_t record_count = 0;                       // deps records read (with duplicates)

  // The newest deps record of `output`, or nullptr.
  const DepsRecord* find(const std::string& output) const;
  // The paths of `record`'s dependencies.
  std::vector<std::string> dep_paths(const DepsRecord& record) const;
};

Result<DepsLog> read_deps_log(const std::filesystem::path& path);
// Parses the bytes of a deps log (exposed for tests); `name` is used in messages.
Result<DepsLog> parse_deps_log(std::string_view bytes, std::string_view name);

struct DepsUpdate {
  std::string output;
  std::int64_t mtime = 0;
  std::vector<std::string> deps;
};

// Appends one deps record per update (plus path records for paths the log does not know
// yet, updating `log` to match) in one write(2), creating the file with its header if
// missing. REQUIRES: `log` is what read_deps_log returned for this file (or empty if absent).
Result<void> append_deps_log(const std::filesystem::path& path, DepsLog& log,
                             std::span<const DepsUpdate> updates);

}  // namespace forge::ninja
