#pragma once
// What every watcher reports (InotifyWatcher on Linux, DirectoryChangesWatcher on Windows):
// the event kinds, one event, and the options they share. Plain values.
// No errors, no shared state: thread-compatible.

#include <chrono>
#include <string>
#include <string_view>

namespace forge::watch {

enum class EventKind { created, modified, removed, renamed, rescan_required };
std::string_view to_string(EventKind kind);

struct WatchEvent {
  EventKind kind = EventKind::modified;
  std::string path;    // relative to the root, '/' separators ("" for rescan_required)
  std::string from;    // renamed: the old relative path
  std::string reason;  // rescan_required: why, and the limit to raise
  bool is_directory = false;
};

struct WatcherOptions {
  // 20 ms: longer than an editor's write-rename-chmod burst, short enough to feel instant.
  std::chrono::milliseconds debounce{20};
};

// Whether a directory entry is never watched or reported: `.git` and `.forge`.
bool skipped_name(std::string_view name);

// `dir/name`, or `name` when dir is the root ("").
std::string join_relative(const std::string& dir, std::string_view name);

}  // namespace forge::watch
