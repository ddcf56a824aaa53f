#include "forge/core/watch/directory_watcher_win32.h"

#include <cstring>
#include <future>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "forge/core/scan/walker.h"

namespace forge::watch {
namespace {

constexpr DWORD k_filter = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_DIR_NAME |
                           FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE |
                           FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_CREATION;

std::string to_utf8(const std::filesystem::path& path) {
  const std::u8string text = path.generic_u8string();
  return std::string(text.begin(), text.end());
}

// Whether any component of a relative '/' path is skipped (.git, .forge).
bool inside_skipped(std::string_view path) {
  for (std::size_t start = 0;;) {
    const std::size_t slash = path.find('/', start);
    if (skipped_name(path.substr(start, slash - start))) return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

std::string_view last_component(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

DirectoryWatcher::DirectoryWatcher(WatcherOptions options, std::size_t buffer_bytes)
    : m_options(options),
      m_buffer_bytes(std::max<std::size_t>(buffer_bytes, 1024)),
      m_events(options.debounce) {}

DirectoryWatcher::~DirectoryWatcher() {
  stop();
}

Result<void> DirectoryWatcher::start(const std::filesystem::path& root) {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (m_dir) {
    return fail(Error(ErrorCategory::validation, "the watcher is already running")
                    .with_suggestion("stop() it before starting it again"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return fail(Error::from_errno(ec ? ec.value() : ENOTDIR, "watch", to_utf8(root)));
  }
  const std::wstring native = std::filesystem::path(root).make_preferred().native();
  UniqueHandle dir(::CreateFileW(
      native.c_str(), FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
      nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED, nullptr));
  if (!dir) {
    return fail(Error(ErrorCategory::file_system,
                      fmt::format("cannot open '{}' to watch it (Win32 error {})", to_utf8(root),
                                  ::GetLastError()))
                    .with_file(to_utf8(root))
                    .with_operation("watch"));
  }
  UniqueHandle io_done(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  UniqueHandle stop_event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!io_done || !stop_event) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("CreateEvent failed (Win32 error {})", ::GetLastError()))
                    .with_operation("watch"));
  }
  {
    std::lock_guard lock(m_mutex);
    m_root = root;
    m_dir = std::move(dir);
    m_io_done = std::move(io_done);
    m_stop = std::move(stop_event);
    m_buffer.assign(m_buffer_bytes / sizeof(DWORD), 0);
    m_events.clear();
    m_dirs.clear();
  }
  // The reader thread issues every read, the first one included: Windows cancels a thread's
  // pending I/O when that thread exits, and the caller of start() may exit any time.
  std::promise<DWORD> first_read;
  std::future<DWORD> issued = first_read.get_future();
  m_reader = std::thread(
      [this, promise = std::move(first_read)]() mutable { reader_loop(std::move(promise)); });
  if (const DWORD error = issued.get(); error != ERROR_SUCCESS) {
    m_reader.join();
    std::lock_guard lock(m_mutex);
    m_dir.reset();
    m_io_done.reset();
    m_stop.reset();
    return fail(Error(ErrorCategory::file_system,
                      fmt::format("ReadDirectoryChangesW on '{}' failed (Win32 error {})",
                                  to_utf8(root), error))
                    .with_file(to_utf8(root))
                    .with_operation("watch")
                    .with_suggestion("watch a directory on a local NTFS or ReFS volume"));
  }
  std::lock_guard lock(m_mutex);
  add_tree("", false);
  return ok();
}

void DirectoryWatcher::stop() {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (!m_dir) return;
  ::SetEvent(m_stop.get());
  if (m_reader.joinable()) m_reader.join();
  std::lock_guard lock(m_mutex);
  m_dir.reset();
  m_io_done.reset();
  m_stop.reset();
  m_dirs.clear();
  m_ready.notify_all();
}

bool DirectoryWatcher::running() const {
  std::lock_guard lock(m_mutex);
  return m_dir.valid();
}

std::size_t DirectoryWatcher::watch_count() const {
  std::lock_guard lock(m_mutex);
  return m_dirs.size();
}

HANDLE DirectoryWatcher::directory_handle() const {
  std::lock_guard lock(m_mutex);
  return m_dir.get();
}

bool DirectoryWatcher::issue_read() {
  m_overlapped = OVERLAPPED{};
  m_overlapped.hEvent = m_io_done.get();
  m_reading = ::ReadDirectoryChangesW(m_dir.get(), m_buffer.data(),
                                      static_cast<DWORD>(m_buffer.size() * sizeof(DWORD)), TRUE,
                                      k_filter, nullptr, &m_overlapped, nullptr) != 0;
  return m_reading;
}

void DirectoryWatcher::rescan(std::string reason) {
  spdlog::warn("watch: {}: the view may be stale, rescanning", reason);
  m_events.immediate(WatchEvent{EventKind::rescan_required, "", "", std::move(reason), false});
  m_ready.notify_all();
}

bool DirectoryWatcher::is_directory_now(const std::string& relative) const {
  const std::wstring native =
      (m_root / std::filesystem::path(std::u8string(relative.begin(), relative.end())))
          .make_preferred()
          .native();
  const DWORD attributes = ::GetFileAttributesW(native.c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0 &&
         (attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0;
}

void DirectoryWatcher::add_tree(const std::string& relative, bool report_contents) {
  m_dirs.insert(relative);
  const std::filesystem::path absolute =
      relative.empty()
          ? m_root
          : m_root / std::filesystem::path(std::u8string(relative.begin(), relative.end()));
  std::error_code ec;
  std::vector<std::pair<std::string, bool>> children;
  for (std::filesystem::directory_iterator it(absolute, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = to_utf8(it->path().filename());
    if (skipped_name(name)) continue;
    std::error_code type_ec;
    children.emplace_back(name, it->is_directory(type_ec) && !it->is_symlink(type_ec));
  }
  for (const auto& [name, is_dir] : children) {
    const std::string child = join_relative(relative, name);
    if (report_contents) m_events.note(child, EventKind::created, is_dir);
    if (is_dir) add_tree(child, report_contents);
  }
}

void DirectoryWatcher::forget_tree(const std::string& relative) {
  m_dirs.erase(relative);
  const std::string prefix = relative + "/";
  for (auto it = m_dirs.lower_bound(prefix); it != m_dirs.end() && it->starts_with(prefix);) {
    it = m_dirs.erase(it);
  }
}

void DirectoryWatcher::handle(DWORD action, const std::string& path) {
  if (path.empty() || inside_skipped(path)) return;
  if (last_component(path).starts_with(scan::k_sync_cookie_prefix)) {
    // Delivered at once, without debounce (its creator is waiting), and only its creation.
    if (action == FILE_ACTION_ADDED) {
      m_events.immediate(WatchEvent{EventKind::created, path, {}, {}, false});
      m_ready.notify_all();
    }
    return;
  }
  switch (action) {
    case FILE_ACTION_ADDED: {
      const bool is_dir = is_directory_now(path);
      m_events.note(path, EventKind::created, is_dir);
      if (is_dir) add_tree(path, true);
      return;
    }
    case FILE_ACTION_REMOVED: {
      const bool is_dir = m_dirs.contains(path);
      if (is_dir) forget_tree(path);
      m_events.note(path, EventKind::removed, is_dir);
      return;
    }
    case FILE_ACTION_MODIFIED:
      // A directory's own change (an entry in it changed) is reported through the entry.
      if (!m_dirs.contains(path)) m_events.note(path, EventKind::modified, false);
      return;
    case FILE_ACTION_RENAMED_OLD_NAME:
      m_events.moved_from(++m_last_old, path, m_dirs.contains(path));
      return;
    case FILE_ACTION_RENAMED_NEW_NAME: {
      const bool is_dir = is_directory_now(path);
      if (const auto from = m_events.moved_to(m_last_old, path, is_dir)) {
        if (m_dirs.contains(*from)) {  // the known directories under it move with it
          std::vector<std::string> moved;
          const std::string prefix = *from + "/";
          for (auto it = m_dirs.lower_bound(*from); it != m_dirs.end(); ++it) {
            if (*it == *from || it->starts_with(prefix))
              moved.push_back(*it);
            else if (*it > prefix)
              break;
          }
          forget_tree(*from);
          for (const auto& old : moved) m_dirs.insert(path + old.substr(from->size()));
        }
        if (is_dir) m_dirs.insert(path);
      } else {
        m_events.note(path, EventKind::created, is_dir);
        if (is_dir) add_tree(path, true);
      }
      return;
    }
    default: return;
  }
}

void DirectoryWatcher::parse(DWORD bytes) {
  const auto* base = reinterpret_cast<const std::byte*>(m_buffer.data());
  constexpr std::size_t k_header = offsetof(FILE_NOTIFY_INFORMATION, FileName);
  for (std::size_t at = 0; at + k_header <= bytes;) {
    // Fields are read with memcpy: wine's records are not always DWORD-aligned.
    DWORD next = 0;
    DWORD action = 0;
    DWORD name_bytes = 0;
    std::memcpy(&next, base + at + offsetof(FILE_NOTIFY_INFORMATION, NextEntryOffset), sizeof next);
    std::memcpy(&action, base + at + offsetof(FILE_NOTIFY_INFORMATION, Action), sizeof action);
    std::memcpy(&name_bytes, base + at + offsetof(FILE_NOTIFY_INFORMATION, FileNameLength),
                sizeof name_bytes);
    if (at + k_header + name_bytes > bytes) break;  // a truncated record: never read past it
    std::wstring name(name_bytes / sizeof(wchar_t), L'\0');
    std::memcpy(name.data(), base + at + k_header, name.size() * sizeof(wchar_t));
    handle(action, to_utf8(std::filesystem::path(name)));
    if (next == 0) break;
    at += next;
  }
}

void DirectoryWatcher::reader_loop(std::promise<DWORD> first_read) {
  {
    std::lock_guard lock(m_mutex);
    const bool issued = issue_read();
    first_read.set_value(issued ? ERROR_SUCCESS : ::GetLastError());
    if (!issued) return;
  }
  const DWORD tick = static_cast<DWORD>(std::max<std::int64_t>(1, m_options.debounce.count()));
  for (;;) {
    const HANDLE waits[2] = {m_stop.get(), m_io_done.get()};
    const DWORD woke = ::WaitForMultipleObjects(m_reading ? 2 : 1, waits, FALSE, tick);
    if (woke == WAIT_OBJECT_0 || woke == WAIT_FAILED) {
      if (m_reading) {
        // The buffer must outlive the read: cancel it (CancelIo: this thread issued it) and
        // wait until it has really ended.
        ::CancelIo(m_dir.get());
        DWORD bytes = 0;
        ::GetOverlappedResult(m_dir.get(), &m_overlapped, &bytes, TRUE);
        m_reading = false;
      }
      return;
    }
    std::lock_guard lock(m_mutex);
    if (woke == WAIT_OBJECT_0 + 1) {
      DWORD bytes = 0;
      const bool done = ::GetOverlappedResult(m_dir.get(), &m_overlapped, &bytes, FALSE) != 0;
      const DWORD error = done ? ERROR_SUCCESS : ::GetLastError();
      m_reading = false;
      if (done && bytes > 0) {
        parse(bytes);
      } else if (done || error == ERROR_NOTIFY_ENUM_DIR) {
        // The change buffer overflowed: every change since the last read is lost, including
        // new directories. Rebuild the known directories before asking for a rescan.
        m_dirs.clear();
        m_events.forget_moves();
        add_tree("", false);
        rescan(fmt::format(
            "the ReadDirectoryChangesW buffer of '{}' overflowed (more changes at once than "
            "{} KiB of records hold)",
            to_utf8(m_root), m_buffer_bytes / 1024));
      } else {
        // The root went away or its volume did: reading again would fail again at once.
        rescan(
            fmt::format("ReadDirectoryChangesW on '{}' failed (Win32 error {}); restart the "
                        "watcher",
                        to_utf8(m_root), error));
        continue;
      }
      if (!issue_read()) {
        rescan(fmt::format("cannot keep watching '{}' (Win32 error {}); restart the watcher",
                           to_utf8(m_root), ::GetLastError()));
      }
    }
    m_events.expire_moves(Debouncer::Clock::now());
    if (m_events.has_events()) m_ready.notify_all();
  }
}

std::vector<WatchEvent> DirectoryWatcher::poll(std::chrono::milliseconds timeout) {
  const auto deadline = Debouncer::Clock::now() + timeout;
  std::unique_lock lock(m_mutex);
  for (;;) {
    const auto now = Debouncer::Clock::now();
    auto next_due = Debouncer::Clock::time_point::max();
    std::vector<WatchEvent> ready = m_events.take_due(now, next_due);
    if (!ready.empty() || now >= deadline || !m_dir) return ready;
    m_ready.wait_until(lock, std::min(deadline, next_due));
  }
}

std::vector<WatchEvent> DirectoryWatcher::drain() {
  std::lock_guard lock(m_mutex);
  return m_events.take_all();
}

}  // namespace forge::watch
