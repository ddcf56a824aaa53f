#include "forge/core/scan/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
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
    std::vector<char> names(k_initial_buffer);
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
      std::vector<std::string> subdirs = list(relative, out, names);
      {
        std::lock_guard lock(m_queue_mutex);
        for (auto& dir : subdirs) m_queue.push_back(std::move(dir));
        --m_busy;
      }
      m_queue_ready.notify_all();
    }
  }

  // Lists one directory into `out`; returns its subdirectories to walk. `names` is the
  // worker's getdents64 buffer, reused from directory to directory.
  std::vector<std::string> list(const std::string& relative, WalkResult& out,
                                std::vector<char>& names) {
    std::vector<std::string> subdirs;
    const std::filesystem::path absolute = relative.empty() ? m_root : m_root / relative;
    if (!m_skip.empty() &&
        std::find(m_skip.begin(), m_skip.end(), absolute.string()) != m_skip.end()) {
      return subdirs;
    }
    const int fd = ::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      out.errors.push_back(Error::from_errno(errno, "opendir", absolute.string()));
      return subdirs;
    }
    // Raw getdents64 rather than opendir/readdir: fdopendir costs an fcntl and an fstat per
    // directory, and reading the whole listing first tells whether a .gitignore exists
    // before paying an openat for it.
    std::size_t used = 0;
    for (;;) {
      if (names.size() - used < k_min_read) names.resize(names.size() * 2);
      const ssize_t n = ::getdents64(fd, names.data() + used, names.size() - used);
      if (n < 0) {
        out.errors.push_back(Error::from_errno(errno, "readdir", absolute.string()));
        used = 0;
        break;
      }
      if (n == 0) break;
      used += static_cast<std::size_t>(n);
    }
    auto for_each_name = [&](auto&& fn) {
      for (std::size_t offset = 0; offset < used;) {
        const auto* entry = reinterpret_cast<const dirent64*>(names.data() + offset);
        offset += entry->d_reclen;
        fn(entry);
      }
    };
    if (m_options.use_gitignore) {
      bool has_gitignore = false;
      for_each_name([&](const dirent64* entry) {
        has_gitignore = has_gitignore || std::string_view(entry->d_name) == ".gitignore";
      });
      const int ignore_fd = has_gitignore ? openat(fd, ".gitignore", O_RDONLY | O_CLOEXEC) : -1;
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
    for_each_name([&](const dirent64* entry) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") return;
      const EntryType type = type_of(entry->d_type, fd, entry->d_name);
      if (type == EntryType::directory && (name == ".git" || name == ".forge")) return;
      if (name.starts_with(k_sync_cookie_prefix)) return;
      std::string child;
      child.reserve(relative.size() + 1 + name.size());
      child.append(relative);
      if (!relative.empty()) child.push_back('/');
      child.append(name);
      if (m_rules.is_ignored(child, type == EntryType::directory)) return;
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
    });
    ::close(fd);
    return subdirs;
  }

  // A getdents64 call is given at least this much room: several maximal (255-byte) names,
  // so a call never fails with EINVAL for want of space for one record.
  static constexpr std::size_t k_min_read = 4096;
  // Initial buffer: a directory of ~1000 typical names in one call; grows for larger ones.
  static constexpr std::size_t k_initial_buffer = 32 * 1024;

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
