#pragma once
// Tree walk for scans: every file, directory and symlink under a root, as root-relative
// paths, honouring .gitignore files and --exclude globs.
//
// - Never follows symlinks; a symlink is an entry of its own (its target is read later).
// - Always skips `.git` and `.forge` directories, and any directory in `skip_dirs`
//   (absolute paths, e.g. the store when it lives inside the root).
// - An unreadable directory is reported in `errors` and the walk goes on.
// - Output order: sorted by path (byte order), so scans are deterministic.
// Blocking; thread-compatible (one walk per call, no shared state).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/error.h"

namespace forge::scan {

// Files named with this prefix are sync cookies between `forge scan --since` and a running
// `forge watch --update-index` (see cli/watch_command.cpp); walks and indexes ignore them.
inline constexpr std::string_view k_sync_cookie_prefix = ".forge-cookie-";

enum class EntryType : std::uint8_t { file = 1, directory = 2, symlink = 3, other = 4 };

struct WalkEntry {
  std::string path;  // relative to the root, '/'-separated, no leading slash
  EntryType type = EntryType::file;
  // lstat of the entry, taken during the walk with statx(dir_fd, name): resolving one name
  // in an open directory is far cheaper than a second walk of the full path later.
  std::optional<io::FileStat> stat;
};

struct WalkOptions {
  std::vector<std::string> excludes;             // --exclude globs
  std::vector<std::filesystem::path> skip_dirs;  // absolute
  bool use_gitignore = true;
  bool stat_entries = true;  // fill WalkEntry::stat
};

struct WalkResult {
  std::vector<WalkEntry> entries;
  std::vector<Error> errors;  // unreadable directories; the walk continued past them
};

Result<WalkResult> walk_tree(const std::filesystem::path& root, const WalkOptions& options);

}  // namespace forge::scan
