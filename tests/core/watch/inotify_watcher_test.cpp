#include "forge/core/watch/inotify_watcher.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/test/temp_dir.h"
#include "watcher_contract.h"

namespace forge::watch {
namespace {

using namespace std::chrono_literals;
using namespace contract;

struct InotifyBackend {
  using Watcher = InotifyWatcher;
  using TempDir = test::TempDir;
};
INSTANTIATE_TYPED_TEST_SUITE_P(Inotify, WatcherContract, InotifyBackend);

bool fd_is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

TEST(InotifyWatcherTest, RenameInsideTheTreeIsOnePairedEvent) {
  test::TempDir dir;
  write_raw(dir / "a", "1");
  std::filesystem::create_directory(dir / "sub");
  InotifyWatcher watcher;
  ASSERT_TRUE(watcher.start(dir.path()));
  std::filesystem::rename(dir / "a", dir / "sub" / "b");
  const auto events = collect(watcher, k_patience, [](const auto& e) { return !e.empty(); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::renamed);
  EXPECT_EQ(events[0].path, "sub/b");
  EXPECT_EQ(events[0].from, "a");
}

// Feature: platform-native-io-hardening, Property 5: Watcher Scalability
TEST(InotifyWatcherProperty, Property5_TenThousandFilesAllWatchedAndAnyChangeDetected) {
  test::TempDir dir;
  for (int d = 0; d < 100; ++d) {
    std::filesystem::create_directory(dir / std::to_string(d));
    for (int f = 0; f < 100; ++f) write_raw(dir / std::to_string(d) / std::to_string(f), "x");
  }
  InotifyWatcher watcher(WatcherOptions{5ms});
  ASSERT_TRUE(watcher.start(dir.path()));
  EXPECT_EQ(watcher.watch_count(), 101u);
  const bool held = rc::check("a change to any one of 10,000 files is detected", [&] {
    const std::string path =
        std::to_string(*rc::gen::inRange(0, 100)) + "/" + std::to_string(*rc::gen::inRange(0, 100));
    write_raw(dir / path, "changed");
    const auto events = collect(watcher, k_patience, [&](const auto& e) {
      return std::any_of(e.begin(), e.end(), [&](const WatchEvent& w) { return w.path == path; });
    });
    RC_ASSERT(by_path(events).contains(path));
  });
  EXPECT_TRUE(held) << "the property failed: see rapidcheck's counterexample above";
}

// Feature: platform-native-io-hardening, Property 6: Event Debouncing and Deduplication
RC_GTEST_PROP(InotifyWatcherProperty, Property6_RapidChangesToOneFileGiveAtMostOneEvent, ()) {
  const auto events = events_for_one_burst<InotifyBackend>(*rc::gen::inRange(1, 50));
  RC_PRE(events.has_value());  // the burst was not rapid: the property does not apply
  RC_ASSERT(*events == 1);
}

// Feature: platform-native-io-hardening, Property 14: Watcher Handle Cleanup
RC_GTEST_PROP(InotifyWatcherProperty, Property14_StopLeavesNoWatchAndNoDescriptor, ()) {
  test::TempDir dir;
  const int dirs = *rc::gen::inRange(0, 30);
  for (int d = 0; d < dirs; ++d) std::filesystem::create_directories(dir / std::to_string(d) / "x");
  InotifyWatcher watcher;
  RC_ASSERT(watcher.start(dir.path()).has_value());
  RC_ASSERT(watcher.watch_count() == static_cast<std::size_t>(1 + 2 * dirs));
  const int fd = watcher.inotify_fd();
  RC_ASSERT(fd_is_open(fd));
  watcher.stop();
  RC_ASSERT(watcher.watch_count() == 0u);
  RC_ASSERT(watcher.inotify_fd() == -1);
  RC_ASSERT(!fd_is_open(fd));
}

// Feature: platform-native-io-hardening, Property 25: Thread-Safe Watcher Operations
RC_GTEST_PROP(InotifyWatcherProperty, Property25_StartAndStopFromManyThreadsStayConsistent, ()) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "a" / "b");
  InotifyWatcher watcher;
  const auto plans = *rc::gen::container<std::vector<std::vector<bool>>>(
      3, rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>()));
  run_start_stop_plans(watcher, dir.path(), plans);
  // Whatever the interleaving, the state is one of the two consistent ones.
  if (watcher.running()) {
    RC_ASSERT(watcher.watch_count() == 3u);
    RC_ASSERT(fd_is_open(watcher.inotify_fd()));
  } else {
    RC_ASSERT(watcher.watch_count() == 0u);
  }
  watcher.stop();
  RC_ASSERT(watcher.watch_count() == 0u);
}

// Overflow must never be silent: shrink the kernel's queue (root only) and flood it.
TEST(InotifyWatcherTest, QueueOverflowAsksForARescanNamingTheSysctl) {
  const char* sysctl = "/proc/sys/fs/inotify/max_queued_events";
  std::string old_value;
  std::ifstream(sysctl) >> old_value;
  if (access(sysctl, W_OK) != 0 || old_value.empty())
    GTEST_SKIP() << "needs root to lower " << sysctl;
  test::TempDir dir;
  InotifyWatcher watcher(WatcherOptions{5ms});
  std::ofstream(sysctl) << 16;  // applies to inotify instances created from now on
  auto started = watcher.start(dir.path());
  std::ofstream(sysctl) << old_value;
  ASSERT_TRUE(started);
  for (int i = 0; i < 3000; ++i)
    write_raw(dir / ("f" + std::to_string(i % 500)), std::to_string(i));
  const auto events = collect(watcher, k_patience, [](const auto& e) {
    return std::any_of(e.begin(), e.end(),
                       [](const WatchEvent& w) { return w.kind == EventKind::rescan_required; });
  });
  const auto rescan = std::find_if(events.begin(), events.end(), [](const WatchEvent& e) {
    return e.kind == EventKind::rescan_required;
  });
  ASSERT_NE(rescan, events.end());
  EXPECT_NE(rescan->reason.find("max_queued_events"), std::string::npos);
}

}  // namespace
}  // namespace forge::watch

namespace forge::watch {
namespace {}  // namespace
}  // namespace forge::watch

namespace forge::watch {
namespace {

// Writes `text` to a /proc file; false on failure.
bool write_proc(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written;
}

// Watch exhaustion must never be silent. The limit is lowered for real, but only inside a
// child in its own user namespace (inotify limits are per user namespace since Linux 5.11),
// so the machine's other watchers are untouched.
TEST(InotifyWatcherTest, WatchLimitExhaustionAsksForARescanNamingTheSysctl) {
  test::TempDir dir;
  for (int d = 0; d < 10; ++d) std::filesystem::create_directory(dir / std::to_string(d));
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    if (unshare(CLONE_NEWUSER) != 0) _exit(77);
    write_proc("/proc/self/setgroups", "deny");
    if (!write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1") ||
        !write_proc("/proc/sys/user/max_inotify_watches", "4")) {
      _exit(77);
    }
    InotifyWatcher watcher;
    if (!watcher.start(dir.path())) _exit(10);
    if (watcher.watch_count() > 4) _exit(11);
    const auto events = watcher.poll(std::chrono::seconds(5));
    for (const auto& event : events) {
      if (event.kind == EventKind::rescan_required &&
          event.reason.find("max_user_watches") != std::string::npos) {
        _exit(0);
      }
    }
    _exit(12);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no user namespaces here";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: start failed, 11: limit not applied, 12: no rescan event";
}

}  // namespace
}  // namespace forge::watch
