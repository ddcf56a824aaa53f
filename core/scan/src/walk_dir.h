#pragma once
// Internal to the walker (walker.cpp): one directory the walk has open, and what the walk
// asks of it - its names, the lstat of a child, the text of a child file. The platform's
// part of the walk: walk_dir_posix.cpp (an fd: getdents64, statx and openat relative to it)
// and walk_dir_win32.cpp (names and stats in one FileIdBothDirectoryInfo listing).
// Errors are errno-style Errors naming the directory (UTF-8, '/'). Not thread-safe: one
// worker uses a WalkDir at a time; different WalkDirs are independent.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/walker.h"
#include "forge/core/support/error.h"
#ifndef _WIN32
#include "forge/core/support/unique_fd.h"
#endif

namespace forge::scan::detail {

// A name in a directory listing (or a reused one: then c_name is null and id is set).
struct DirName {
  std::string_view name;
  EntryType type = EntryType::file;
  const char* c_name = nullptr;  // the NUL-terminated name (read listings)
  std::size_t id = 0;            // ListingCache::Child::id (reused listings)
};

class WalkDir {
 public:
  // Opens `absolute` without following a symlink at it. `path_only`: only to stat children
  // through (POSIX O_PATH), until make_listable().
  static Result<WalkDir> open(const std::filesystem::path& absolute, bool path_only);
  // Makes a path-only directory listable (reopens it).
  Result<void> make_listable();
  // Appends the names of the directory (without "." and "..") to `names`; they point into
  // `buffer` (NUL-terminated, UTF-8), which is resized as needed and must outlive them.
  Result<void> read_names(std::vector<char>& buffer, std::vector<DirName>& names) const;
  // lstat of the child `name` (NUL-terminated); nullopt when it cannot be taken.
  std::optional<io::FileStat> stat(const char* name) const;
  // The content of the child file `name`; nullopt when it cannot be opened.
  std::optional<std::string> read_file(const char* name) const;

 private:
  std::filesystem::path m_absolute;
#ifdef _WIN32
  // The stats read_names() got with the listing, by the name's c_name (Windows lists a
  // directory's names with their stats in one call; no per-file open is needed).
  mutable std::unordered_map<const char*, io::FileStat> m_listed;
#else
  UniqueFd m_fd;
#endif
};

}  // namespace forge::scan::detail
