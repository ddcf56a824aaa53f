#include "forge/core/scan/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <thread>

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

// Directories are a shared work queue for `threads` workers: each lists one directory
// (readdir + statx per entry relative to the open directory) and queues its subdirectories.
// A directory's .gitignore is added before its subdirectories are queued, so a rule is
// always in place before anything below it is matched.
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

  WalkResult run(std::size_t threads) {
    m_queue.push_back("");
    std::vector<std::thread> workers;
    std::vector<WalkResult> partial(threads);
    for (std::size_t t = 1; t < threads; ++t) {
      workers.emplace_back([this, &partial, t] { work(partial[t]); });
    }
    work(partial[0]);
    for (auto& worker : workers) worker.join();
    WalkResult result = std::move(partial[0]);
    for (std::size_t t = 1; t < threads; ++t) {
      std::move(partial[t].entries.begin(), partial[t].entries.end(),
                std::back_inserter(result.entries));
      std::move(partial[t].errors.begin(), partial[t].errors.end(),
                std::back_inserter(result.errors));
    }
    std::sort(result.entries.begin(), result.entries.end(),
              [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
    return result;
  }

 private:
  void work(WalkResult& out) {
    for (;;) {
      std::string relative;
      {
        std::unique_lock lock(m_queue_mutex);
        m_queue_ready.wait(lock, [&] { return !m_queue.empty() || m_busy == 0; });
        if (m_queue.empty()) return;  // nothing queued and nobody can queue more
        relative = std::move(m_queue.front());
        m_queue.pop_front();
        ++m_busy;
      }
      std::vector<std::string> subdirs = list(relative, out);
      {
        std::lock_guard lock(m_queue_mutex);
        for (auto& dir : subdirs) m_queue.push_back(std::move(dir));
        --m_busy;
      }
      m_queue_ready.notify_all();
    }
  }

  // Lists one directory into `out`; returns its subdirectories to walk.
  std::vector<std::string> list(const std::string& relative, WalkResult& out) {
    std::vector<std::string> subdirs;
    const std::filesystem::path absolute = relative.empty() ? m_root : m_root / relative;
    if (std::find(m_skip.begin(), m_skip.end(), absolute.string()) != m_skip.end()) return subdirs;
    const int fd = ::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      out.errors.push_back(Error::from_errno(errno, "opendir", absolute.string()));
      return subdirs;
    }
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) {
      out.errors.push_back(Error::from_errno(errno, "opendir", absolute.string()));
      ::close(fd);
      return subdirs;
    }
    if (m_options.use_gitignore) {
      const int ignore_fd = openat(fd, ".gitignore", O_RDONLY | O_CLOEXEC);
      if (ignore_fd >= 0) {
        std::string content;
        char buffer[8192];
        ssize_t n;
        while ((n = ::read(ignore_fd, buffer, sizeof buffer)) > 0) content.append(buffer, n);
        ::close(ignore_fd);
        std::unique_lock lock(m_rules_mutex);
        m_rules.add_gitignore(relative, content);
      }
    }
    std::shared_lock rules(m_rules_mutex);
    while (dirent* entry = readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      const EntryType type = type_of(entry->d_type, fd, entry->d_name);
      if (type == EntryType::directory && (name == ".git" || name == ".forge")) continue;
      if (name.starts_with(k_sync_cookie_prefix)) continue;
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
      if (type == EntryType::directory) subdirs.push_back(walked.path);
      out.entries.push_back(std::move(walked));
    }
    closedir(dir);
    return subdirs;
  }

  std::filesystem::path m_root;
  const WalkOptions& m_options;
  std::shared_mutex m_rules_mutex;
  IgnoreRules m_rules;  // guarded by m_rules_mutex
  std::vector<std::string> m_skip;
  std::mutex m_queue_mutex;
  std::condition_variable m_queue_ready;
  std::deque<std::string> m_queue;  // guarded by m_queue_mutex
  std::size_t m_busy = 0;           // workers listing a directory; guarded by m_queue_mutex
};

}  // namespace

Result<WalkResult> walk_tree(const std::filesystem::path& root, const WalkOptions& options) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return fail(Error::from_errno(errno, "stat", root.string()));
  if (!S_ISDIR(st.st_mode)) return fail(Error::from_errno(ENOTDIR, "scan", root.string()));
  Walker walker(root, options);
  // Two workers: listing is syscall-bound, and two overlap well on the 2-core target
  // machines; more threads only add contention on the directory queue.
  return walker.run(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2));
}

}  // namespace forge::scan
