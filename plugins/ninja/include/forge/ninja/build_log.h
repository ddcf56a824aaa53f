#pragma once
// Reader and appender for Ninja's build log, `.ninja_log` in the build directory.
//
// Format (text): a header line "# ninja log vN", then one line per finished command:
//   START_MS <TAB> END_MS <TAB> MTIME <TAB> OUTPUT <TAB> COMMAND_HASH_HEX <LF>
// START/END are milliseconds since the build started, MTIME is the output's mtime in the
// unit of Ninja's TimeStamp (nanoseconds on Linux since Ninja 1.9), OUTPUT is the canonical
// path, COMMAND_HASH_HEX the hash of the command (murmur_hash.h) in hex. Lines are only ever
// appended; when an output appears more than once the last line wins. v5 is what Ninja
// 1.9-1.11 write (Debian 12: 1.11.1); v6 and v7 (Ninja 1.12+) keep the line layout (v7 hashes
// with rapidhash). Forge reads v5-v7 and appends only to v5 logs.
//
// Errors: a missing file is a FileSystem error with ENOENT; an unknown version or a line
// that does not parse is a Validation error naming the file and the line number (Forge
// then leaves the build to plain Ninja rather than guess).
// Threading: free functions; callers serialise writers (the build-dir lock, settle.h).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>

#include "forge/core/support/error.h"

namespace forge::ninja {

inline constexpr int k_build_log_oldest_version = 5;
inline constexpr int k_build_log_newest_version = 7;
inline constexpr int k_build_log_write_version = 5;  // Ninja 1.11's format, the one we append

struct LogEntry {
  std::string output;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::int64_t mtime = 0;
  std::uint64_t command_hash = 0;
};

struct BuildLog {
  int version = 0;
  std::unordered_map<std::string, LogEntry> entries;  // by output; the newest line wins
  std::size_t lines = 0;                              // entry lines read (with duplicates)

  const LogEntry* find(const std::string& output) const {
    const auto it = entries.find(output);
    return it == entries.end() ? nullptr : &it->second;
  }
};

Result<BuildLog> read_build_log(const std::filesystem::path& path);
// Parses the text of a log (exposed for tests); `name` is used in messages.
Result<BuildLog> parse_build_log(std::string_view text, std::string_view name);

// One line in the v5 layout, with its newline.
std::string format_log_entry(const LogEntry& entry);

// Appends `entries` in one write(2) to a v5 log (creating it with its header if missing).
// REQUIRES: the file, if it exists, was read as version k_build_log_write_version.
Result<void> append_build_log(const std::filesystem::path& path, std::span<const LogEntry> entries);

}  // namespace forge::ninja
