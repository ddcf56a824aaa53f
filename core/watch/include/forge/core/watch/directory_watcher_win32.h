#pragma once
// DirectoryWatcher: recursive, debounced change notification for one tree on Windows: one
// overlapped ReadDirectoryChangesW (bWatchSubtree) on the root, the counterpart of
// InotifyWatcher on Linux with the same events and semantics (watch_event.h, debouncer.h).
//
// - start(root) opens the root and issues the first read before returning: every change
//   after start() is seen. Directories created later are listed and their contents reported
//   as created (a directory moved in from outside the tree reports only itself otherwise).
// - Debounce and kind merging as on Linux (Property 6). A rename is one `renamed` event
//   with `from` when Windows reports it as a RENAMED_OLD_NAME / RENAMED_NEW_NAME pair; a
//   move across directories that Windows reports as REMOVED + ADDED stays removed + created.
//   A directory's own MODIFIED (its children changed) is not reported, as on Linux.
// - `.git` and `.forge` and everything under them are skipped; sync cookies
//   (scan::k_sync_cookie_prefix) are delivered at once on creation.
// - Never a silently stale view: a change buffer overflow (a completion with no records, or
//   ERROR_NOTIFY_ENUM_DIR) and a failed read give a `rescan_required` event; on overflow the
//   set of known directories is first rebuilt from the tree.
// - start/stop are safe from any thread, in any order, any number of times (Property 25).
//   stop() wakes the reader thread, which cancels its read and waits for it, joins it, and closes
//   every handle: afterwards watch_count() == 0 and directory_handle() is null (Property 14).
// - poll() returns the events that are ready, waiting up to `timeout` for the first one;
//   drain() returns every pending event now. Thread-safe.
// - watch_count() is the number of directories under watch (the root included); one handle
//   covers them all.

#ifndef _WIN32
#error "directory_watcher_win32.h is for the Windows build only"
#endif

#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "forge/core/support/error.h"
#include "forge/core/support/unique_handle_win32.h"
#include "forge/core/watch/debouncer.h"
#include "forge/core/watch/watch_event.h"

namespace forge::watch {

class DirectoryWatcher {
 public:
  // 64 KiB: the most ReadDirectoryChangesW accepts over a network share.
  static constexpr std::size_t k_default_buffer_bytes = 64 * 1024;

  // `buffer_bytes` sizes the change records one read holds (and the kernel's buffer between
  // reads); changes beyond it overflow into a rescan_required event.
  explicit DirectoryWatcher(WatcherOptions options = {},
                            std::size_t buffer_bytes = k_default_buffer_bytes);
  ~DirectoryWatcher();
  DirectoryWatcher(const DirectoryWatcher&) = delete;
  DirectoryWatcher& operator=(const DirectoryWatcher&) = delete;

  // Fails if already running, if root is not a directory, or if it cannot be opened or read.
  Result<void> start(const std::filesystem::path& root);
  void stop();  // idempotent
  bool running() const;
  std::size_t watch_count() const;
  HANDLE directory_handle() const;  // null when stopped
  std::vector<WatchEvent> poll(std::chrono::milliseconds timeout);
  std::vector<WatchEvent> drain();

 private:
  // Tests hold m_mutex to stall the reader between two reads, which makes an overflow
  // certain rather than a race with the machine's speed.
  friend struct DirectoryWatcherTestAccess;

  void reader_loop(std::promise<DWORD> first_read);
  bool issue_read();                                                 // REQUIRES m_mutex
  void parse(DWORD bytes);                                           // REQUIRES m_mutex
  void handle(DWORD action, const std::string& path);                // REQUIRES m_mutex
  void add_tree(const std::string& relative, bool report_contents);  // REQUIRES m_mutex
  void forget_tree(const std::string& relative);                     // REQUIRES m_mutex
  void rescan(std::string reason);                                   // REQUIRES m_mutex
  bool is_directory_now(const std::string& relative) const;

  WatcherOptions m_options;
  std::size_t m_buffer_bytes;
  mutable std::mutex m_lifecycle_mutex;  // serialises start/stop
  mutable std::mutex m_mutex;            // guards everything below
  std::condition_variable m_ready;
  std::filesystem::path m_root;
  UniqueHandle m_dir;           // the root, opened for overlapped FILE_LIST_DIRECTORY
  UniqueHandle m_io_done;       // manual-reset event of m_overlapped
  UniqueHandle m_stop;          // manual-reset event that wakes the reader for stop()
  OVERLAPPED m_overlapped{};    // the one read in flight
  bool m_reading = false;       // a read is in flight on m_dir
  std::vector<DWORD> m_buffer;  // DWORD-aligned change records
  std::thread m_reader;
  std::set<std::string> m_dirs;  // relative paths of the directories under watch ("" = root)
  std::uint64_t m_last_old = 0;  // key of the last RENAMED_OLD_NAME
  Debouncer m_events;
};

}  // namespace forge::watch
