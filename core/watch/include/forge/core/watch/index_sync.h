#pragma once
// The watcher-sync protocol between `forge watch --update-index` (the keeper) and
// `forge scan --since` (the client), through the scan index's "meta" database and a cookie
// file in the watched tree (Watchman's sync cookie).
//
// - The keeper claims the index by writing its pid under k_watcher_pid_key. A client that
//   finds a live pid creates a cookie file `<root>/<k_sync_cookie_prefix><pid>-<ticks>` and
//   waits until the keeper has written that cookie's name under k_watcher_cookie_key.
//   inotify and ReadDirectoryChangesW deliver events in order, so a keeper that saw the
//   cookie saw every change made before it; it records the name only after the index holds
//   those changes.
// - A failed index update withdraws the claim (pid and cookie erased): from then on clients
//   walk the tree instead of answering from a stale index, until a full rescan succeeds and
//   the keeper claims the index again. If even the withdrawal fails, no cookie is ever
//   recorded and clients time out and walk. Never a stale answer.
//
// Errors: Result<> for index I/O. Threading: an IndexKeeper belongs to one thread; clients
// may sync from any number of processes at once (cookie names are unique).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "forge/core/scan/scanner.h"
#ifdef _WIN32
#include "forge/core/watch/directory_watcher_win32.h"
#else
#include "forge/core/watch/inotify_watcher.h"
#endif

namespace forge::watch {

inline constexpr std::string_view k_watcher_pid_key = "watcher_pid";
inline constexpr std::string_view k_watcher_cookie_key = "watcher_cookie";

// The watcher the keeper reads: inotify on Linux, ReadDirectoryChangesW on Windows.
#ifdef _WIN32
using PlatformWatcher = DirectoryWatcher;
#else
using PlatformWatcher = InotifyWatcher;
#endif

// This process's id, as a keeper records it (getpid / GetCurrentProcessId).
pid_t this_process_id();

// True when the last component of `path` names a sync cookie.
bool is_sync_cookie(std::string_view path);

struct SyncOptions {
  // 2 s: far above a keeper's debounce + one index transaction; past it, walk instead.
  std::chrono::milliseconds timeout{2000};
  std::chrono::microseconds poll_interval{200};
};

// Client side: true when a live keeper owns `index` and has applied every change made
// before this call. False (walk instead) when there is none, it is not current, or it does
// not answer within options.timeout. The cookie file is removed before returning.
bool sync_with_keeper(const std::filesystem::path& root, scan::FileIndex& index,
                      const SyncOptions& options = {});

// Keeper side: the next batch of events, waiting up to `timeout` for the first. When a sync
// cookie is among them, every pending event is taken too, debounced or not (the cookie's
// creator waits for everything before it); cookie events are removed from `events`.
struct Batch {
  std::vector<WatchEvent> events;
  std::string cookie;  // the last cookie created in this batch, "" when none
};
Batch take_batch(PlatformWatcher& watcher, std::chrono::milliseconds timeout);

// Keeper side: applies watcher events to the index and answers sync cookies.
class IndexKeeper {
 public:
  // `scanner` scans the tree `index` describes; both must outlive the keeper.
  IndexKeeper(scan::Scanner& scanner, scan::FileIndex& index, pid_t pid);

  // Brings the index up to date with a full scan, then claims it for `pid`.
  Result<void> start();
  // Erases the claim (on shutdown).
  Result<void> release();

  // One batch of events (sync cookies already removed) and the last cookie seen in it
  // ("" when none). A rescan_required event, or an earlier failure, makes this a full scan;
  // otherwise only the named paths are re-checked. The cookie is recorded only after a
  // successful update; a failure withdraws the claim and is returned.
  Result<void> apply(const std::vector<WatchEvent>& events, const std::string& cookie);

  // True after a failed update, until a full rescan succeeds.
  bool stale() const { return m_stale; }

 private:
  Result<void> claim();
  scan::Scanner& m_scanner;
  scan::FileIndex& m_index;
  pid_t m_pid;
  bool m_stale = true;  // no successful full scan yet
  bool m_claimed = false;
};

}  // namespace forge::watch
