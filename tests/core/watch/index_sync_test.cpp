#include "forge/core/watch/index_sync.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/test/temp_dir.h"

namespace forge::watch {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<io::PlatformIO> io = io::create_platform_io({}).value();
  scan::FileIndex index = scan::FileIndex::open(dir / "index").value();
  std::filesystem::path root = [this] {
    dir.write_file("tree/a", "1");
    return dir / "tree";
  }();
  scan::Scanner scanner{root, index, *io};
};

TEST(IndexSyncTest, CookieNamesAreRecognisedByTheirLastComponent) {
  EXPECT_TRUE(is_sync_cookie(".forge-cookie-12-34"));
  EXPECT_TRUE(is_sync_cookie("sub/.forge-cookie-1"));
  EXPECT_FALSE(is_sync_cookie(".forge-cookie-1/file"));
  EXPECT_FALSE(is_sync_cookie("a.forge-cookie-1"));
  EXPECT_FALSE(is_sync_cookie(""));
}

TEST(IndexSyncTest, WithoutALiveKeeperSyncFailsAtOnce) {
  Fixture fx;
  EXPECT_FALSE(sync_with_keeper(fx.root, fx.index));  // no pid
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer runs
  ASSERT_TRUE(fx.index.set_meta_value(k_watcher_pid_key, std::to_string(child)));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(sync_with_keeper(fx.root, fx.index));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // did not wait for a cookie
  // Text that is not exactly a positive pid never counts, even around a live pid (ours).
  const std::string live = std::to_string(::getpid());
  for (const std::string& text :
       {std::string("not a pid"), live + "x", " " + live, "-" + live, std::string("0")}) {
    ASSERT_TRUE(fx.index.set_meta_value(k_watcher_pid_key, text));
    EXPECT_FALSE(sync_with_keeper(fx.root, fx.index)) << "'" << text << "'";
  }
  EXPECT_FALSE(std::filesystem::exists(fx.root / ".forge-cookie-0"));
}

// The keeper records a client's cookie only after applying everything before it: a file
// written just before the sync is in the index when the sync returns, and no cookie file
// is left behind.
TEST(IndexSyncTest, ASyncedClientSeesEveryEarlierChangeInTheIndex) {
  Fixture fx;
  InotifyWatcher watcher(WatcherOptions{60'000ms});  // debounce never expires by itself
  ASSERT_TRUE(watcher.start(fx.root));
  IndexKeeper keeper(fx.scanner, fx.index, ::getpid());
  ASSERT_TRUE(keeper.start());
  const auto cursor = fx.scanner.since("").value().cursor;
  fx.dir.write_file("tree/b", "2");
  std::atomic<bool> synced = false;
  std::atomic<bool> done = false;
  std::thread client([&] {
    synced = sync_with_keeper(fx.root, fx.index);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    auto batch = take_batch(watcher, 20ms);
    for (const auto& event : batch.events) EXPECT_FALSE(is_sync_cookie(event.path));
    ASSERT_TRUE(keeper.apply(batch.events, batch.cookie));
  }
  client.join();
  EXPECT_TRUE(synced);
  const auto changes = fx.scanner.since(cursor).value();
  ASSERT_EQ(changes.changes.size(), 1u);
  EXPECT_EQ(changes.changes[0].path, "b");
  for (const auto& entry : std::filesystem::directory_iterator(fx.root)) {
    EXPECT_FALSE(is_sync_cookie(entry.path().string())) << entry.path();
  }
  ASSERT_TRUE(keeper.release());
  EXPECT_FALSE(fx.index.meta_value(k_watcher_pid_key).value().has_value());
}

// Issue 11: a touch and a chmod seen by the watcher (IN_ATTRIB) reach the index as
// stat-only journal entries, which since() reports when asked for them, and only then.
TEST(IndexSyncTest, TheKeeperJournalsTouchOnlyChangesAsStatOnly) {
  Fixture fx;
  fx.dir.write_file("tree/b", "2");
  InotifyWatcher watcher(WatcherOptions{60'000ms});
  ASSERT_TRUE(watcher.start(fx.root));
  IndexKeeper keeper(fx.scanner, fx.index, ::getpid());
  ASSERT_TRUE(keeper.start());
  const auto cursor = fx.scanner.since("").value().cursor;
  timespec times[2] = {{1'500'000'000, 0}, {1'500'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (fx.root / "a").c_str(), times, 0), 0);
  std::filesystem::permissions(fx.root / "b", std::filesystem::perms::owner_all);
  std::atomic<bool> done = false;
  std::thread client([&] {
    EXPECT_TRUE(sync_with_keeper(fx.root, fx.index));
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    auto batch = take_batch(watcher, 20ms);
    ASSERT_TRUE(keeper.apply(batch.events, batch.cookie));
  }
  client.join();
  EXPECT_TRUE(fx.scanner.since(cursor).value().changes.empty());
  const auto touched = fx.scanner.since(cursor, scan::SinceOptions{.stat_only = true}).value();
  ASSERT_EQ(touched.changes.size(), 2u);
  EXPECT_EQ(touched.changes[0].path, "a");
  EXPECT_EQ(touched.changes[1].path, "b");
  for (const auto& change : touched.changes) EXPECT_EQ(change.kind, scan::ChangeKind::stat_only);
  ASSERT_TRUE(keeper.release());
}

// A real update failure (a file-size limit below what the index needs: EFBIG) withdraws
// the claim and records no cookie; a later successful full rescan claims the index again.
TEST(IndexSyncTest, AFailedUpdateWithdrawsTheClaimUntilARescanSucceeds) {
  Fixture fx;
  IndexKeeper keeper(fx.scanner, fx.index, ::getpid());
  ASSERT_TRUE(keeper.start());
  ASSERT_TRUE(fx.index.set_meta_value(k_watcher_cookie_key, "old"));
  std::vector<WatchEvent> events;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = fmt::format("n{:04}", i);
    fx.dir.write_file("tree/" + name, "x");
    events.push_back(WatchEvent{EventKind::created, name, {}, {}, false});
  }
  const auto size = std::filesystem::file_size(fx.dir / "index/data.mdb");
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = size;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const auto failed = keeper.apply(events, ".forge-cookie-new");
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed);
  EXPECT_TRUE(keeper.stale());
  EXPECT_FALSE(fx.index.meta_value(k_watcher_pid_key).value().has_value());
  EXPECT_FALSE(fx.index.meta_value(k_watcher_cookie_key).value().has_value());

  ASSERT_TRUE(keeper.apply({}, ".forge-cookie-next"));  // stale: a full rescan
  EXPECT_FALSE(keeper.stale());
  EXPECT_EQ(fx.index.meta_value(k_watcher_pid_key).value(), std::to_string(::getpid()));
  EXPECT_EQ(fx.index.meta_value(k_watcher_cookie_key).value(), ".forge-cookie-next");
  const auto all = fx.scanner.since("").value();
  EXPECT_EQ(all.changes.size(), 2001u);
}

}  // namespace
}  // namespace forge::watch
