#pragma once
// The files of a directory tree for `forge hash DIR`: every regular file and every symlink
// (of any target) under `root`, found by the parallel tree walker (walker.h).
//
// - Symlinks are listed, never followed into directories; FIFOs, sockets and devices met
//   directly in a directory are left out (a symlink to one is listed: reading it is what
//   reports it). Directories themselves are not listed.
// - No ignore rules: .gitignore files, `.git` and `.forge` directories are listed like any
//   other entry.
// - Paths are `root / relative` (path::operator/), in std::filesystem::path order: compared
//   component by component, so "a/x" comes before "a-b" and "a.c".
// - An unreadable directory is reported in `errors` and the listing goes on past it.
// Blocking; thread-compatible. Fails (ENOTDIR) when root is not a directory.

#include <filesystem>
#include <string_view>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::scan {

struct FileList {
  std::vector<std::filesystem::path> files;
  std::vector<Error> errors;  // directories that could not be listed
};

Result<FileList> list_files(const std::filesystem::path& root);

// std::filesystem::path order for '/'-separated relative paths without empty or "."
// components, without building paths: '/' sorts before every other byte.
bool component_less(std::string_view a, std::string_view b);

}  // namespace forge::scan
