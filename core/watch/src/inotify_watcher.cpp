#include "forge/core/watch/inotify_watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "forge/core/scan/walker.h"
#include "forge/core/support/metrics.h"

namespace forge::watch {
namespace {

constexpr std::uint32_t k_dir_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
                                     IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK | IN_DONT_FOLLOW;

bool skipped(std::string_view name) {
  return name == ".git" || name == ".forge";
}

std::string join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

// Merges a new event into what is pending for a path.
std::optional<EventKind> merge(EventKind old_kind, EventKind new_kind) {
  if (old_kind == EventKind::created && new_kind == EventKind::removed) return std::nullopt;
  if (old_kind == EventKind::created || old_kind == EventKind::renamed) {
    return new_kind == EventKind::removed ? EventKind::removed : old_kind;
  }
  if (old_kind == EventKind::removed && new_kind == EventKind::created) return EventKind::modified;
  if (new_kind == EventKind::removed) return EventKind::removed;
  return old_kind == EventKind::removed ? EventKind::removed : new_kind;
}

}  // namespace

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::created: return "created";
    case EventKind::modified: return "modified";
    case EventKind::removed: return "removed";
    case EventKind::renamed: return "renamed";
    case EventKind::rescan_required: return "rescan_required";
    default: return "unknown";
  }
}

InotifyWatcher::InotifyWatcher(WatcherOptions options) : m_options(options) {}

InotifyWatcher::~InotifyWatcher() {
  stop();
}

Result<void> InotifyWatcher::start(const std::filesystem::path& root) {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (m_fd >= 0) {
    return fail(Error(ErrorCategory::validation, "the watcher is already running")
                    .with_suggestion("stop() it before starting it again"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return fail(Error::from_errno(ec ? ec.value() : ENOTDIR, "watch", root.string()));
  }
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return fail(Error::from_errno(errno, "inotify_init", root.string())
                    .with_suggestion("raise fs.inotify.max_user_instances with sysctl"));
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const int saved = errno;
    ::close(fd);
    return fail(Error::from_errno(saved, "eventfd"));
  }
  {
    std::lock_guard lock(m_mutex);
    m_root = root;
    m_fd = fd;
    m_wake_fd = wake;
    m_pending.clear();
    m_moves.clear();
    m_immediate.clear();
    add_tree("", false);
  }
  m_reader = std::thread([this] { reader_loop(); });
  return ok();
}

void InotifyWatcher::stop() {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (m_fd < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(m_wake_fd, &one, sizeof one);
  if (m_reader.joinable()) m_reader.join();
  std::lock_guard lock(m_mutex);
  for (const auto& [wd, path] : m_dirs) inotify_rm_watch(m_fd, wd);
  support::Metrics::global().gauge("files_watched").add(-static_cast<std::int64_t>(m_dirs.size()));
  m_dirs.clear();
  ::close(m_fd);
  ::close(m_wake_fd);
  m_fd = m_wake_fd = -1;
  m_ready.notify_all();
}

bool InotifyWatcher::running() const {
  std::lock_guard lock(m_mutex);
  return m_fd >= 0;
}

std::size_t InotifyWatcher::watch_count() const {
  std::lock_guard lock(m_mutex);
  return m_dirs.size();
}

int InotifyWatcher::inotify_fd() const {
  std::lock_guard lock(m_mutex);
  return m_fd;
}

void InotifyWatcher::rescan(std::string reason) {
  spdlog::warn("watch: {}: the view may be stale, rescanning", reason);
  m_immediate.push_back(WatchEvent{EventKind::rescan_required, "", "", std::move(reason), false});
  m_ready.notify_all();
}

void InotifyWatcher::add_tree(const std::string& relative, bool report_contents) {
  const std::filesystem::path absolute = relative.empty() ? m_root : m_root / relative;
  const int wd = inotify_add_watch(m_fd, absolute.c_str(), k_dir_mask);
  if (wd < 0) {
    if (errno == ENOSPC) {
      rescan(
          fmt::format("cannot watch '{}': inotify watch limit reached; raise "
                      "fs.inotify.max_user_watches (sysctl fs.inotify.max_user_watches=N)",
                      absolute.string()));
    } else if (errno != ENOENT && errno != ENOTDIR) {
      rescan(fmt::format("cannot watch '{}': {}", absolute.string(), std::strerror(errno)));
    }
    return;
  }
  // Overwrite: a wd whose IN_IGNORED was lost in an overflow may have been reused.
  if (m_dirs.insert_or_assign(wd, relative).second) {
    support::Metrics::global().gauge("files_watched").add(1);
  }
  DIR* dir = opendir(absolute.c_str());
  if (dir == nullptr) return;
  std::vector<std::pair<std::string, bool>> children;
  while (dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || skipped(name)) continue;
    children.emplace_back(std::string(name), entry->d_type == DT_DIR);
  }
  closedir(dir);
  for (const auto& [name, is_dir] : children) {
    const std::string child = join(relative, name);
    if (report_contents) note(child, EventKind::created, is_dir);
    if (is_dir) add_tree(child, report_contents);
  }
}

void InotifyWatcher::rewatch_all() {
  const std::unordered_map<int, std::string> old = std::move(m_dirs);
  m_dirs.clear();
  m_moves.clear();
  add_tree("", false);
  for (const auto& [wd, path] : old) {
    if (!m_dirs.contains(wd)) inotify_rm_watch(m_fd, wd);  // gone, or no longer in the tree
  }
  support::Metrics::global().gauge("files_watched").add(-static_cast<std::int64_t>(old.size()));
}

void InotifyWatcher::note(const std::string& path, EventKind kind, bool is_directory,
                          const std::string& from) {
  const auto now = std::chrono::steady_clock::now();
  auto it = m_pending.find(path);
  if (it == m_pending.end()) {
    m_pending.emplace(path, Pending{kind, from, is_directory, now});
    return;
  }
  const auto merged = merge(it->second.kind, kind);
  if (!merged) {
    m_pending.erase(it);
    return;
  }
  it->second.kind = *merged;
  if (!from.empty()) it->second.from = from;
  it->second.is_directory = is_directory;
  it->second.last = now;
}

void InotifyWatcher::handle(int wd, std::uint32_t mask, std::uint32_t cookie,
                            const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    // Dropped events include IN_CREATE of new directories and IN_IGNORED of removed ones:
    // rebuild the watch set from the tree before asking for a rescan, so that everything
    // after the rescan's walk is seen again.
    rewatch_all();
    rescan(
        "inotify queue overflowed; raise fs.inotify.max_queued_events (sysctl "
        "fs.inotify.max_queued_events=N)");
    return;
  }
  auto dir = m_dirs.find(wd);
  if (dir == m_dirs.end()) return;
  if (mask & IN_IGNORED) {
    m_dirs.erase(dir);
    support::Metrics::global().gauge("files_watched").add(-1);
    return;
  }
  if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) return;  // reported by the parent's event
  if (name.empty() || skipped(name)) return;
  const std::string path = join(dir->second, name);
  const bool is_dir = (mask & IN_ISDIR) != 0;
  if (mask & IN_MOVED_FROM) {
    m_moves[cookie] = {path,
                       Pending{EventKind::removed, {}, is_dir, std::chrono::steady_clock::now()}};
    return;
  }
  if (mask & IN_MOVED_TO) {
    auto move = m_moves.find(cookie);
    if (move != m_moves.end()) {
      const std::string from = move->second.first;
      m_moves.erase(move);
      m_pending.erase(from);
      note(path, EventKind::renamed, is_dir, from);
      if (is_dir) {  // watches under the moved directory keep their inode: fix their paths
        for (auto& [watch, relative] : m_dirs) {
          if (relative == from)
            relative = path;
          else if (relative.starts_with(from + "/"))
            relative = path + relative.substr(from.size());
        }
      }
    } else {
      note(path, EventKind::created, is_dir);
      if (is_dir) add_tree(path, true);
    }
    return;
  }
  if (name.starts_with(scan::k_sync_cookie_prefix)) {
    // A sync cookie is delivered at once, without debounce (its creator is waiting), and
    // only its creation: its close and removal would only restart a debounce window.
    if (mask & IN_CREATE) {
      m_immediate.push_back(WatchEvent{EventKind::created, path, {}, {}, false});
      m_ready.notify_all();
    }
    return;
  }
  if (mask & IN_CREATE) {
    note(path, EventKind::created, is_dir);
    if (is_dir) add_tree(path, true);
    return;
  }
  if (mask & IN_DELETE) {
    note(path, EventKind::removed, is_dir);
    return;
  }
  if (mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) note(path, EventKind::modified, is_dir);
}

void InotifyWatcher::expire_moves(std::chrono::steady_clock::time_point now) {
  // A MOVED_FROM whose MOVED_TO never came within the window: moved out of the tree.
  for (auto it = m_moves.begin(); it != m_moves.end();) {
    if (now - it->second.second.last >= m_options.debounce) {
      note(it->second.first, EventKind::removed, it->second.second.is_directory);
      it = m_moves.erase(it);
    } else {
      ++it;
    }
  }
}

void InotifyWatcher::reader_loop() {
  alignas(inotify_event) char buffer[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_wake_fd, POLLIN, 0}};
    const int ready =
        ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(1, m_options.debounce.count())));
    if (ready < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    std::lock_guard lock(m_mutex);
    if (fds[0].revents & POLLIN) {
      for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n <= 0) break;
        for (char* at = buffer; at < buffer + n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(at);
          handle(event->wd, event->mask, event->cookie,
                 event->len > 0 ? std::string(event->name) : std::string());
          at += sizeof(inotify_event) + event->len;
        }
      }
    }
    expire_moves(std::chrono::steady_clock::now());
    if (!m_pending.empty() || !m_immediate.empty()) m_ready.notify_all();
  }
}

std::vector<WatchEvent> InotifyWatcher::poll(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(m_mutex);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<WatchEvent> ready = std::move(m_immediate);
    m_immediate.clear();
    auto next_due = std::chrono::steady_clock::time_point::max();
    for (auto it = m_pending.begin(); it != m_pending.end();) {
      const auto due = it->second.last + m_options.debounce;
      if (due <= now) {
        ready.push_back(
            WatchEvent{it->second.kind, it->first, it->second.from, {}, it->second.is_directory});
        it = m_pending.erase(it);
      } else {
        next_due = std::min(next_due, due);
        ++it;
      }
    }
    if (!ready.empty() || now >= deadline || m_fd < 0) return ready;
    m_ready.wait_until(lock, std::min(deadline, next_due));
  }
}

}  // namespace forge::watch

namespace forge::watch {

std::vector<WatchEvent> InotifyWatcher::drain() {
  std::lock_guard lock(m_mutex);
  std::vector<WatchEvent> ready = std::move(m_immediate);
  m_immediate.clear();
  for (const auto& [path, pending] : m_pending) {
    ready.push_back(WatchEvent{pending.kind, path, pending.from, {}, pending.is_directory});
  }
  m_pending.clear();
  return ready;
}

}  // namespace forge::watch
