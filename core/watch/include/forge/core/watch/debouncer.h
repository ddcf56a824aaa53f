#pragma once
// Debouncer: the platform-neutral half of a watcher, fed by the platform half (inotify on
// Linux, ReadDirectoryChangesW on Windows) with one call per raw event.
//
// - Per-path debounce (Property 6): a path is ready once its last event is `window` old, so
//   N rapid changes to one file give at most one event. Kinds merge: created then modified
//   -> created; created then removed -> nothing; removed then created -> modified.
// - Rename pairing: moved_from(key) then moved_to(key) within the window is one `renamed`
//   event with `from`; a first half whose second never comes is `removed` once it is
//   `window` old (expire_moves); moved_to without a first half is reported by the caller.
// - Immediate events (rescan_required, sync cookies) skip the debounce.
//
// Not thread-safe: the owning watcher guards it with its mutex. Errors: none (bookkeeping only).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "forge/core/watch/watch_event.h"

namespace forge::watch {

class Debouncer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Debouncer(std::chrono::milliseconds window) : m_window(window) {}

  void clear();  // drops everything pending, the unpaired moves and the immediate events

  // A change to `path`, merged into what is pending for it.
  void note(const std::string& path, EventKind kind, bool is_directory,
            const std::string& from = {});

  // First half of a rename: `path` left; the second half will carry the same `key`.
  void moved_from(std::uint64_t key, const std::string& path, bool is_directory);
  // Second half: when `key` has a first half, drops what is pending for the old path, notes
  // `path` as renamed from it and returns the old path; otherwise nullopt (moved in from
  // outside: the caller reports it).
  std::optional<std::string> moved_to(std::uint64_t key, const std::string& path,
                                      bool is_directory);
  void expire_moves(Clock::time_point now);  // unpaired first halves `window` old -> removed
  void forget_moves();                       // drops unpaired first halves unreported

  void immediate(WatchEvent event);
  bool has_events() const { return !m_pending.empty() || !m_immediate.empty(); }

  // The immediate events and every path whose window has passed, removed from the pending
  // set; `next_due` is set to when the next pending path is due (max() when none is).
  std::vector<WatchEvent> take_due(Clock::time_point now, Clock::time_point& next_due);
  // Everything, whether its window has passed or not.
  std::vector<WatchEvent> take_all();

 private:
  struct Pending {
    EventKind kind;
    std::string from;
    bool is_directory = false;
    Clock::time_point last;
  };
  struct Move {
    std::string path;
    bool is_directory = false;
    Clock::time_point at;
  };

  std::chrono::milliseconds m_window;
  std::map<std::string, Pending> m_pending;
  std::unordered_map<std::uint64_t, Move> m_moves;
  std::vector<WatchEvent> m_immediate;
};

}  // namespace forge::watch
