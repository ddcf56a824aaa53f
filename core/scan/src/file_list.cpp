#include "forge/core/scan/file_list.h"

#include "forge/core/support/path_text.h"

#include <algorithm>

#include "forge/core/scan/walker.h"

namespace forge::scan {

bool component_less(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;  // a's component ended first: it is the shorter one
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

Result<FileList> list_files(const std::filesystem::path& root) {
  WalkOptions options;
  options.use_gitignore = false;
  options.stat_entries = false;  // the hash's own stat decides; a walk stat would be a third
  options.skip_vcs_entries = false;
  FORGE_TRY(WalkResult walked, walk_tree(root, options));
  std::vector<std::string> relative;
  relative.reserve(walked.entries.size());
  for (WalkEntry& entry : walked.entries) {
    if (entry.type == EntryType::file || entry.type == EntryType::symlink) {
      relative.push_back(std::move(entry.path));
    }
  }
  std::sort(relative.begin(), relative.end(), component_less);
  FileList list;
  list.files.reserve(relative.size());
  for (const std::string& path : relative) list.files.push_back(root / path_from_utf8(path));
  list.errors = std::move(walked.errors);
  return list;
}

}  // namespace forge::scan
