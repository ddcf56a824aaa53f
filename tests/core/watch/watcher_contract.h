#pragma once
// The watcher contract every platform's watcher meets (InotifyWatcher on Linux,
// DirectoryWatcher on Windows): a typed GoogleTest suite, instantiated by
// inotify_watcher_test.cpp and directory_watcher_win32_test.cpp with a Backend that names
// the watcher and the test's temporary directory:
//   struct Backend { using Watcher = ...; using TempDir = ...; };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, WatcherContract, Backend);
// Only what both platforms report the same way is here; each test file keeps the rest.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "forge/core/watch/watch_event.h"

namespace forge::watch::contract {

using namespace std::chrono_literals;

// How long a test waits for events it expects: generous, since CI is a loaded 2-core machine
// (collect returns as soon as `done` holds, so a passing test never waits this long).
inline constexpr auto k_patience = 30s;

inline void write_raw(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// Collects events until `done` says enough or `limit` passes.
template <typename Watcher>
std::vector<WatchEvent> collect(Watcher& watcher, std::chrono::milliseconds limit,
                                const std::function<bool(const std::vector<WatchEvent>&)>& done) {
  std::vector<WatchEvent> all;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto events = watcher.poll(50ms);
    all.insert(all.end(), events.begin(), events.end());
    if (done(all)) break;
  }
  return all;
}

inline std::map<std::string, WatchEvent> by_path(const std::vector<WatchEvent>& events) {
  std::map<std::string, WatchEvent> out;
  for (const auto& event : events) out[event.path] = event;
  return out;
}

inline bool saw(const std::vector<WatchEvent>& events, const std::string& path) {
  return std::any_of(events.begin(), events.end(),
                     [&](const WatchEvent& e) { return e.path == path; });
}

// Property 6 (Event Debouncing and Deduplication) on one burst: writes file `f` `writes`
// times and returns how many events name it: the ones delivered, plus any still pending once
// the first was delivered (drain(): a second event for the same burst would be pending then,
// since every write was read before the first was due). The property: exactly one.
// A burst is rapid when it fits in the debounce window; when the writing thread was
// descheduled for half the window or more (a loaded machine, a sanitizer build), the burst
// was not rapid, the property says nothing about it, and the result is nullopt.
template <typename Backend>
std::optional<long> events_for_one_burst(int writes) {
  constexpr auto k_window = 200ms;
  typename Backend::TempDir dir;
  write_raw(dir.path() / "f", "start");
  typename Backend::Watcher watcher(WatcherOptions{k_window});
  if (!watcher.start(dir.path())) return -1;
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < writes; ++i) write_raw(dir.path() / "f", std::to_string(i));
  if (std::chrono::steady_clock::now() - began >= k_window / 2) return std::nullopt;
  auto events = collect(watcher, k_patience, [](const auto& e) { return saw(e, "f"); });
  std::this_thread::sleep_for(20ms);
  const auto pending = watcher.drain();
  events.insert(events.end(), pending.begin(), pending.end());
  return std::count_if(events.begin(), events.end(),
                       [](const WatchEvent& e) { return e.path == "f"; });
}

// Property 25 (Thread-Safe Watcher Operations)'s exercise: each plan runs on its own thread,
// one start (true) or stop (false) per step, each followed by a poll.
template <typename Watcher>
void run_start_stop_plans(Watcher& watcher, const std::filesystem::path& root,
                          const std::vector<std::vector<bool>>& plans) {
  std::vector<std::thread> threads;
  for (const auto& plan : plans) {
    threads.emplace_back([&watcher, &root, plan] {
      for (bool start : plan) {
        if (start) {
          auto started = watcher.start(root);
          (void)started;  // fails when another thread started it: that is the contract
        } else {
          watcher.stop();
        }
        (void)watcher.poll(0ms);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

template <typename Backend>
class WatcherContract : public ::testing::Test {};
TYPED_TEST_SUITE_P(WatcherContract);

TYPED_TEST_P(WatcherContract, ReportsCreateModifyRemove) {
  typename TypeParam::TempDir dir;
  write_raw(dir.path() / "old", "x");
  typename TypeParam::Watcher watcher;
  ASSERT_TRUE(watcher.start(dir.path()));
  write_raw(dir.path() / "new", "n");
  write_raw(dir.path() / "old", "changed");
  auto events = by_path(
      collect(watcher, k_patience, [](const auto& e) { return saw(e, "new") && saw(e, "old"); }));
  EXPECT_EQ(events["new"].kind, EventKind::created);
  EXPECT_EQ(events["old"].kind, EventKind::modified);
  std::filesystem::remove(dir.path() / "old");
  events = by_path(collect(watcher, k_patience, [](const auto& e) { return saw(e, "old"); }));
  EXPECT_EQ(events["old"].kind, EventKind::removed);
}

TYPED_TEST_P(WatcherContract, RenameInOneDirectoryIsOnePairedEvent) {
  typename TypeParam::TempDir dir;
  std::filesystem::create_directory(dir.path() / "sub");
  write_raw(dir.path() / "sub" / "a", "1");
  typename TypeParam::Watcher watcher;
  ASSERT_TRUE(watcher.start(dir.path()));
  std::filesystem::rename(dir.path() / "sub" / "a", dir.path() / "sub" / "b");
  auto events = collect(watcher, k_patience, [](const auto& e) { return saw(e, "sub/b"); });
  // The renamed file's directory may be reported as modified too; the file is one event.
  std::erase_if(events, [](const WatchEvent& e) { return e.path == "sub"; });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::renamed);
  EXPECT_EQ(events[0].path, "sub/b");
  EXPECT_EQ(events[0].from, "sub/a");
}

TYPED_TEST_P(WatcherContract, FilesInNewDirectoriesAreSeenEvenBeforeTheWatchExists) {
  typename TypeParam::TempDir dir;
  typename TypeParam::Watcher watcher;
  ASSERT_TRUE(watcher.start(dir.path()));
  // Created faster than the watcher can add watches for the new directories.
  std::filesystem::create_directories(dir.path() / "a" / "b" / "c");
  write_raw(dir.path() / "a" / "b" / "c" / "f", "deep");
  auto events =
      by_path(collect(watcher, k_patience, [](const auto& e) { return saw(e, "a/b/c/f"); }));
  ASSERT_TRUE(events.contains("a/b/c/f"));
  EXPECT_EQ(events["a/b/c/f"].kind, EventKind::created);
  EXPECT_EQ(watcher.watch_count(), 4u);                    // root, a, a/b, a/b/c
  write_raw(dir.path() / "a" / "b" / "c" / "f", "later");  // the new directory is watched now
  events = by_path(collect(watcher, k_patience, [](const auto& e) { return saw(e, "a/b/c/f"); }));
  EXPECT_EQ(events["a/b/c/f"].kind, EventKind::modified);
}

TYPED_TEST_P(WatcherContract, SkipsGitDirectories) {
  typename TypeParam::TempDir dir;
  std::filesystem::create_directories(dir.path() / ".git" / "objects");
  typename TypeParam::Watcher watcher;
  ASSERT_TRUE(watcher.start(dir.path()));
  EXPECT_EQ(watcher.watch_count(), 1u);
  write_raw(dir.path() / ".git" / "objects" / "o", "object");
  write_raw(dir.path() / "visible", "v");
  const auto events = collect(watcher, k_patience, [](const auto& e) { return saw(e, "visible"); });
  for (const auto& event : events) EXPECT_FALSE(event.path.starts_with(".git")) << event.path;
}

TYPED_TEST_P(WatcherContract, StartingTwiceOrOnAMissingRootFails) {
  typename TypeParam::TempDir dir;
  typename TypeParam::Watcher watcher;
  EXPECT_FALSE(watcher.start(dir.path() / "absent"));
  ASSERT_TRUE(watcher.start(dir.path()));
  auto again = watcher.start(dir.path());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().category(), ErrorCategory::validation);
}

// `forge scan --since` blocks on its sync cookie: it must not wait for the debounce window.
TYPED_TEST_P(WatcherContract, SyncCookiesAreDeliveredAtOnceWithoutDebounce) {
  typename TypeParam::TempDir dir;
  typename TypeParam::Watcher watcher(WatcherOptions{std::chrono::hours(1)});
  ASSERT_TRUE(watcher.start(dir.path()));
  write_raw(dir.path() / "pending", "debounced for an hour");
  write_raw(dir.path() / ".forge-cookie-1-2", "");
  const auto events = watcher.poll(std::chrono::seconds(5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].path, ".forge-cookie-1-2");
  EXPECT_EQ(events[0].kind, EventKind::created);
  // drain() hands over what is still inside its window.
  const auto drained = watcher.drain();
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained[0].path, "pending");
}

REGISTER_TYPED_TEST_SUITE_P(WatcherContract, ReportsCreateModifyRemove,
                            RenameInOneDirectoryIsOnePairedEvent,
                            FilesInNewDirectoriesAreSeenEvenBeforeTheWatchExists,
                            SkipsGitDirectories, StartingTwiceOrOnAMissingRootFails,
                            SyncCookiesAreDeliveredAtOnceWithoutDebounce);

}  // namespace forge::watch::contract
