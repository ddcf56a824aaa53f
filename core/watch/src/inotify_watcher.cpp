#include "forge/core/watch/inotify_watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "forge/core/scan/walker.h"
#include "forge/core/support/metrics.h"

namespace forge::watch {
namespace {

constexpr std::uint32_t k_dir_mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
                                     IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK | IN_DONT_FOLLOW;

}  // namespace

InotifyWatcher::InotifyWatcher(WatcherOptions options)
    : m_options(options), m_events(options.debounce) {}

InotifyWatcher::~InotifyWatcher() {
  stop();
}

Result<void> InotifyWatcher::start(const std::filesystem::path& root) {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (m_fd.valid()) {
    return fail(Error(ErrorCategory::validation, "the watcher is already running")
                    .with_suggestion("stop() it before starting it again"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return fail(Error::from_errno(ec ? ec.value() : ENOTDIR, "watch", root.string()));
  }
  UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    return fail(Error::from_errno(errno, "inotify_init", root.string())
                    .with_suggestion("raise fs.inotify.max_user_instances with sysctl"));
  }
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return fail(Error::from_errno(errno, "eventfd"));
  {
    std::lock_guard lock(m_mutex);
    m_root = root;
    m_fd = std::move(fd);
    m_wake_fd = std::move(wake);
    m_events.clear();
    add_tree("", false);
  }
  m_reader = std::thread([this] { reader_loop(); });
  return ok();
}

void InotifyWatcher::stop() {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (!m_fd.valid()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(m_wake_fd.get(), &one, sizeof one);
  if (m_reader.joinable()) m_reader.join();
  std::lock_guard lock(m_mutex);
  for (const auto& [wd, path] : m_dirs) inotify_rm_watch(m_fd.get(), wd);
  support::Metrics::global().gauge("files_watched").add(-static_cast<std::int64_t>(m_dirs.size()));
  m_dirs.clear();
  m_fd.reset();
  m_wake_fd.reset();
  m_ready.notify_all();
}

bool InotifyWatcher::running() const {
  std::lock_guard lock(m_mutex);
  return m_fd.valid();
}

std::size_t InotifyWatcher::watch_count() const {
  std::lock_guard lock(m_mutex);
  return m_dirs.size();
}

int InotifyWatcher::inotify_fd() const {
  std::lock_guard lock(m_mutex);
  return m_fd.get();
}

void InotifyWatcher::rescan(std::string reason) {
  spdlog::warn("watch: {}: the view may be stale, rescanning", reason);
  m_events.immediate(WatchEvent{EventKind::rescan_required, "", "", std::move(reason), false});
  m_ready.notify_all();
}

void InotifyWatcher::add_tree(const std::string& relative, bool report_contents) {
  const std::filesystem::path absolute = relative.empty() ? m_root : m_root / relative;
  const int wd = inotify_add_watch(m_fd.get(), absolute.c_str(), k_dir_mask);
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
    if (name == "." || name == ".." || skipped_name(name)) continue;
    children.emplace_back(std::string(name), entry->d_type == DT_DIR);
  }
  closedir(dir);
  for (const auto& [name, is_dir] : children) {
    const std::string child = join_relative(relative, name);
    if (report_contents) m_events.note(child, EventKind::created, is_dir);
    if (is_dir) add_tree(child, report_contents);
  }
}

void InotifyWatcher::rewatch_all() {
  const std::unordered_map<int, std::string> old = std::move(m_dirs);
  m_dirs.clear();
  m_events.forget_moves();
  add_tree("", false);
  for (const auto& [wd, path] : old) {
    if (!m_dirs.contains(wd)) inotify_rm_watch(m_fd.get(), wd);  // gone, or no longer in the tree
  }
  support::Metrics::global().gauge("files_watched").add(-static_cast<std::int64_t>(old.size()));
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
  if (name.empty() || skipped_name(name)) return;
  const std::string path = join_relative(dir->second, name);
  const bool is_dir = (mask & IN_ISDIR) != 0;
  if (mask & IN_MOVED_FROM) {
    m_events.moved_from(cookie, path, is_dir);
    return;
  }
  if (mask & IN_MOVED_TO) {
    if (const auto from = m_events.moved_to(cookie, path, is_dir)) {
      if (is_dir) {  // watches under the moved directory keep their inode: fix their paths
        for (auto& [watch, relative] : m_dirs) {
          if (relative == *from)
            relative = path;
          else if (relative.starts_with(*from + "/"))
            relative = path + relative.substr(from->size());
        }
      }
    } else {
      m_events.note(path, EventKind::created, is_dir);
      if (is_dir) add_tree(path, true);
    }
    return;
  }
  if (name.starts_with(scan::k_sync_cookie_prefix)) {
    // A sync cookie is delivered at once, without debounce (its creator is waiting), and
    // only its creation: its close and removal would only restart a debounce window.
    if (mask & IN_CREATE) {
      m_events.immediate(WatchEvent{EventKind::created, path, {}, {}, false});
      m_ready.notify_all();
    }
    return;
  }
  if (mask & IN_CREATE) {
    m_events.note(path, EventKind::created, is_dir);
    if (is_dir) add_tree(path, true);
    return;
  }
  if (mask & IN_DELETE) {
    m_events.note(path, EventKind::removed, is_dir);
    return;
  }
  if (mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB))
    m_events.note(path, EventKind::modified, is_dir);
}

void InotifyWatcher::reader_loop() {
  alignas(inotify_event) char buffer[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{m_fd.get(), POLLIN, 0}, {m_wake_fd.get(), POLLIN, 0}};
    const int ready =
        ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(1, m_options.debounce.count())));
    if (ready < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    std::lock_guard lock(m_mutex);
    if (fds[0].revents & POLLIN) {
      for (;;) {
        const ssize_t n = ::read(m_fd.get(), buffer, sizeof buffer);
        if (n <= 0) break;
        for (char* at = buffer; at < buffer + n;) {
          const auto* event = reinterpret_cast<const inotify_event*>(at);
          handle(event->wd, event->mask, event->cookie,
                 event->len > 0 ? std::string(event->name) : std::string());
          at += sizeof(inotify_event) + event->len;
        }
      }
    }
    m_events.expire_moves(std::chrono::steady_clock::now());
    if (m_events.has_events()) m_ready.notify_all();
  }
}

std::vector<WatchEvent> InotifyWatcher::poll(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(m_mutex);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    auto next_due = std::chrono::steady_clock::time_point::max();
    std::vector<WatchEvent> ready = m_events.take_due(now, next_due);
    if (!ready.empty() || now >= deadline || !m_fd.valid()) return ready;
    m_ready.wait_until(lock, std::min(deadline, next_due));
  }
}

}  // namespace forge::watch

namespace forge::watch {

std::vector<WatchEvent> InotifyWatcher::drain() {
  std::lock_guard lock(m_mutex);
  return m_events.take_all();
}

}  // namespace forge::watch
