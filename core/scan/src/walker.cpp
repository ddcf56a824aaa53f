#include "forge/core/scan/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "forge/core/scan/ignore_rules.h"

namespace forge::scan {
namespace {

EntryType type_of(unsigned char d_type, int dir_fd, const char* name) {
  switch (d_type) {
    case DT_REG: return EntryType::file;
    case DT_DIR: return EntryType::directory;
    case DT_LNK: return EntryType::symlink;
    case DT_UNKNOWN: {  // some file systems (XFS without ftype) do not fill d_type
      struct stat st {};
      if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return EntryType::other;
      if (S_ISREG(st.st_mode)) return EntryType::file;
      if (S_ISDIR(st.st_mode)) return EntryType::directory;
      if (S_ISLNK(st.st_mode)) return EntryType::symlink;
      return EntryType::other;
    }
    default: return EntryType::other;
  }
}

class Walker {
 public:
  Walker(const std::filesystem::path& root, const WalkOptions& options)
      : m_root(root), m_options(options) {
    for (const auto& glob : options.excludes) m_rules.add_exclude(glob);
    for (const auto& dir : options.skip_dirs) {
      std::error_code ec;
      const auto canonical = std::filesystem::weakly_canonical(dir, ec);
      m_skip.push_back(ec ? dir.string() : canonical.string());
    }
  }

  void walk_dir(const std::string& relative) {
    const std::filesystem::path absolute = relative.empty() ? m_root : m_root / relative;
    if (std::find(m_skip.begin(), m_skip.end(), absolute.string()) != m_skip.end()) return;
    const int fd = ::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      m_result.errors.push_back(Error::from_errno(errno, "opendir", absolute.string()));
      return;
    }
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) {
      m_result.errors.push_back(Error::from_errno(errno, "opendir", absolute.string()));
      ::close(fd);
      return;
    }
    if (m_options.use_gitignore) {
      const int ignore_fd = openat(fd, ".gitignore", O_RDONLY | O_CLOEXEC);
      if (ignore_fd >= 0) {
        std::string content;
        char buffer[8192];
        ssize_t n;
        while ((n = ::read(ignore_fd, buffer, sizeof buffer)) > 0) content.append(buffer, n);
        ::close(ignore_fd);
        m_rules.add_gitignore(relative, content);
      }
    }
    std::vector<WalkEntry> children;
    while (dirent* entry = readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      const EntryType type = type_of(entry->d_type, fd, entry->d_name);
      if (type == EntryType::directory && (name == ".git" || name == ".forge")) continue;
      std::string child = relative.empty() ? std::string(name) : relative + "/" + std::string(name);
      if (m_rules.is_ignored(child, type == EntryType::directory)) continue;
      WalkEntry walked{std::move(child), type, std::nullopt};
      if (m_options.stat_entries) {
        struct statx stx {};
        if (statx(fd, entry->d_name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS,
                  &stx) == 0) {
          walked.stat = io::to_file_stat(stx);
        }
      }
      children.push_back(std::move(walked));
    }
    closedir(dir);
    for (WalkEntry& child : children) {
      const bool is_dir = child.type == EntryType::directory;
      std::string path = child.path;
      m_result.entries.push_back(std::move(child));
      if (is_dir) walk_dir(path);
    }
  }

  WalkResult take() {
    std::sort(m_result.entries.begin(), m_result.entries.end(),
              [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
    return std::move(m_result);
  }

 private:
  std::filesystem::path m_root;
  const WalkOptions& m_options;
  IgnoreRules m_rules;
  std::vector<std::string> m_skip;
  WalkResult m_result;
};

}  // namespace

Result<WalkResult> walk_tree(const std::filesystem::path& root, const WalkOptions& options) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return fail(Error::from_errno(errno, "stat", root.string()));
  if (!S_ISDIR(st.st_mode)) return fail(Error::from_errno(ENOTDIR, "scan", root.string()));
  Walker walker(root, options);
  walker.walk_dir("");
  return walker.take();
}

}  // namespace forge::scan
