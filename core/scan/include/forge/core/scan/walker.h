#pragma once
// Tree walk for scans: every file, directory and symlink under a root, as root-relative
// paths, honouring .gitignore files and --exclude globs.
//
// - Never follows symlinks; a symlink is an entry of its own (its target is read later).
// - Skips `.git` and `.forge` directories and sync cookies (unless `skip_vcs_entries` is
//   false), and any directory in `skip_dirs` (absolute paths, e.g. the store when it lives
//   inside the root).
// - An unreadable directory is reported in `errors` and the walk goes on.
// - Output order: sorted by path (byte order), so scans are deterministic.
// - With a ListingCache (below), unchanged directories are not read, and entries the cache
//   settles are counted instead of listed.
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
  // Leave out `.git` / `.forge` directories and sync cookies (scans); false lists them like
  // any other entry (`forge hash DIR`).
  bool skip_vcs_entries = true;
};

struct WalkResult {
  std::vector<WalkEntry> entries;
  std::vector<Error> errors;  // unreadable directories; the walk continued past them
  // False when a directory read in this walk holds a .gitignore that is itself ignored:
  // its rules are not visible in the index, so the next walk must not reuse listings.
  bool listings_reusable = true;
  std::size_t listings_reused = 0;  // directories listed from the ListingCache
  std::size_t settled = 0;          // entries left out of `entries`: ListingCache::settle()
};

// The previous walk as recorded in the FileIndex, from which walk_tree reuses a directory's
// listing instead of reading it and matching ignore rules (git's untracked cache). Creating,
// removing or renaming an entry changes its directory's mtime and ctime, so a directory whose
// stat equals the one recorded with its last listing, outside the racy window, still has the
// recorded (already filtered) children. Their own stats are always taken afresh: a write to
// a file does not touch its directory. A .gitignore whose stat changed voids reuse for its
// whole subtree. The caller guarantees that the recorded listings came from a walk with the
// same options and root. Must be safe to call from several threads at once (settle() is
// called at most once per child id, so per-id state needs no lock).
class ListingCache {
 public:
  struct Child {
    std::string_view name;  // valid as long as the cache
    EntryType type = EntryType::file;
    std::size_t id = 0;  // the cache's handle on the child's record, for settle()
  };
  ListingCache() = default;
  ListingCache(const ListingCache&) = delete;
  ListingCache& operator=(const ListingCache&) = delete;
  virtual ~ListingCache() = default;
  // If `dir` (root-relative, not the root) is recorded with exactly `stat`, outside the racy
  // window, appends its recorded children to `out` and returns true.
  virtual bool children(std::string_view dir, const io::FileStat& stat,
                        std::vector<Child>& out) const = 0;
  // True when `path` is recorded with exactly `stat`, outside the racy window.
  virtual bool unchanged(std::string_view path, const io::FileStat& stat) const = 0;
  // True when `path` has a record.
  virtual bool known(std::string_view path) const = 0;
  // For a child of a reused listing, with its fresh stat: true when that stat settles it
  // as unchanged (the cache's owner accounts for it), and the walk leaves it out of
  // WalkResult::entries. Its subdirectories are still walked.
  virtual bool settle(std::size_t id, const io::FileStat& stat) = 0;
};

// `cache`, when given, must outlive the call.
Result<WalkResult> walk_tree(const std::filesystem::path& root, const WalkOptions& options,
                             ListingCache* cache = nullptr);

}  // namespace forge::scan
