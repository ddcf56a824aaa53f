#pragma once
// InotifyWatcher: recursive, debounced change notification for one tree (Linux inotify).
//
// - start(root) watches every directory under root (skipping `.git` and `.forge`) before
//   returning. Directories created later are watched as they appear, and their contents
//   are listed and reported as created, which closes the race between mkdir and the new
//   watch (files created in between would otherwise go unseen).
// - Events are debounced per path by a Debouncer (debouncer.h: Property 6, kind merging).
//   A move inside the tree is one `renamed` event with `from` (inotify's cookie pairs the
//   halves); a move out is `removed`, a move in is `created` (and its subtree is listed).
// - Never a silently stale view: IN_Q_OVERFLOW, and a watch that cannot be added (ENOSPC:
//   fs.inotify.max_user_watches), produce a `rescan_required` event whose `reason` names
//   the sysctl to raise; the consumer must then rescan. On IN_Q_OVERFLOW the watch set is
//   first rebuilt from the tree (directories created during the overflow, whose IN_CREATE
//   was dropped, get watched), so the view after the consumer's rescan is complete again.
// - start/stop are safe from any thread, in any order, any number of times (Property 25):
//   one mutex guards the state machine. stop() wakes and joins the reader thread, removes
//   every watch and closes the inotify descriptor: afterwards watch_count() == 0 and no
//   descriptor is left open (Property 14).
// - poll() returns the events that are ready, waiting up to `timeout` for the first one.
//   Thread-safe.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "forge/core/support/error.h"
#include "forge/core/support/unique_fd.h"
#include "forge/core/watch/debouncer.h"
#include "forge/core/watch/watch_event.h"

namespace forge::watch {

class InotifyWatcher {
 public:
  explicit InotifyWatcher(WatcherOptions options = {});
  ~InotifyWatcher();
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // Fails if already running, if root is not a directory, or if inotify is unavailable
  // (EMFILE: fs.inotify.max_user_instances). A partial watch (ENOSPC) is not a failure:
  // it is reported as a rescan_required event.
  Result<void> start(const std::filesystem::path& root);
  void stop();  // idempotent
  bool running() const;
  std::size_t watch_count() const;
  int inotify_fd() const;  // -1 when stopped
  std::vector<WatchEvent> poll(std::chrono::milliseconds timeout);
  // Every pending event now, debounced or not: for a consumer that must be current up to a
  // point in time (a sync cookie it just saw).
  std::vector<WatchEvent> drain();

 private:
  void reader_loop();
  void handle(int wd, std::uint32_t mask, std::uint32_t cookie, const std::string& name);
  void add_tree(const std::string& relative, bool report_contents);  // REQUIRES m_mutex
  void rescan(std::string reason);                                   // REQUIRES m_mutex
  void rewatch_all();                                                // REQUIRES m_mutex

  WatcherOptions m_options;
  mutable std::mutex m_lifecycle_mutex;  // serialises start/stop
  mutable std::mutex m_mutex;            // guards everything below
  std::condition_variable m_ready;
  std::filesystem::path m_root;
  UniqueFd m_fd;
  UniqueFd m_wake_fd;  // eventfd that wakes the reader thread for stop()
  std::thread m_reader;
  std::unordered_map<int, std::string> m_dirs;  // wd -> relative dir path
  Debouncer m_events;  // debounced changes, rename halves by cookie, immediate events
};

}  // namespace forge::watch
