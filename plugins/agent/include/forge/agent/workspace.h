#pragma once
// Workspace: one watched tree inside the agent — what `forge watch --update-index` does
// (InotifyWatcher + IndexKeeper over the tree's scan index, the index forge scan uses), on a
// thread of its own, plus `since` answers that sync with that thread through the same
// cookie protocol (forge/core/watch/index_sync.h), so an answer includes every change made
// before the request.
//
// Threading: start() spawns the keeper thread; since() may be called from any number of
// threads at once; stop() (also run by the destructor) joins the keeper. A full-scan
// fallback (the keeper is stale) and the keeper's updates are serialized by one mutex.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/support/config.h"
#include "forge/core/watch/index_sync.h"

namespace forge::agent {

class Workspace {
 public:
  // Opens the index (scan::default_index_dir(root)), runs the first full scan, starts
  // watching. Errors: the watcher's (e.g. the inotify watch limit, naming the sysctl), the
  // index's, or the scan's.
  static Result<std::unique_ptr<Workspace>> start(const std::filesystem::path& root,
                                                  const support::IoConfig& io_config);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const std::filesystem::path& root() const { return m_root; }
  // Changes since `cursor` (empty: everything, a fresh instance), current as of the call.
  // `source` is set to "watcher" or "scan" (a walk, when the keeper could not be synced).
  Result<scan::ChangeSet> since(std::string_view cursor, std::string* source = nullptr,
                                const scan::SinceOptions& options = {});
  std::size_t watch_count() const { return m_watcher.watch_count(); }
  bool stale() const { return m_stale.load(std::memory_order_relaxed); }
  void stop();

 private:
  Workspace(std::filesystem::path root, std::unique_ptr<io::PlatformIO> io, scan::FileIndex index);
  void run();
  std::filesystem::path m_root;
  std::unique_ptr<io::PlatformIO> m_io;
  scan::FileIndex m_index;
  scan::Scanner m_scanner;
  watch::IndexKeeper m_keeper;
  watch::InotifyWatcher m_watcher;
  std::mutex m_scan_mutex;  // one scan at a time: the keeper's updates or a fallback walk
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_stale{false};
  std::thread m_thread;
};

}  // namespace forge::agent
